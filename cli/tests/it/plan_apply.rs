//! plan / apply / destroy end to end with posture_data.

use super::support::{Out, posture};

use std::path::Path;

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.hcl"), text).expect("write config");
}

fn ok(o: &Out) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

#[test]
fn create_noop_update_replace_destroy() {
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = |input: &str, trigger: &str| {
        format!(
            "resource \"posture_data\" \"a\" {{\n  input            = \"{input}\"\n  triggers_replace = \"{trigger}\"\n}}\nresource \"posture_data\" \"b\" {{\n  input = posture_data.a.output\n}}\noutput \"b\" {{\n  value = posture_data.b.output\n}}\n"
        )
    };
    write(d.path(), &cfg("one", "t1"));
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        o.stdout
    );
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    ok(&o);
    assert!(
        o.stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("b = \"one\""), "{}", o.stdout);
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("No changes."), "{}", o.stdout);

    write(d.path(), &cfg("two", "t1"));
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stdout
            .contains("# posture_data.a will be updated in place"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("~ input  = \"one\" -> \"two\""),
        "{}",
        o.stdout
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    let o = posture(d.path(), &["output", "b"]);
    assert_eq!(o.stdout.trim(), "\"two\"", "{}", o.stderr);

    write(d.path(), &cfg("two", "t2"));
    let o = posture(d.path(), &["plan"]);
    assert!(
        o.stdout.contains("# posture_data.a must be replaced"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("# forces replacement"), "{}", o.stdout);
    // b follows a's new output.
    assert!(
        o.stdout
            .contains("Plan: 1 to add, 1 to change, 1 to destroy."),
        "{}",
        o.stdout
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));

    let o = posture(d.path(), &["destroy", "--auto-approve"]);
    ok(&o);
    assert!(
        o.stdout.contains("0 added, 0 changed, 2 destroyed"),
        "{}",
        o.stdout
    );
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "", "{}", o.stdout);
}

#[test]
fn saved_plans_apply_once_and_stale_or_foreign_files_are_refused() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "resource \"posture_data\" \"a\" {\n  input = 1\n}\n",
    );
    ok(&posture(d.path(), &["plan", "--out", "p1.json"]));
    ok(&posture(d.path(), &["plan", "--out", "p2.json"]));
    let o = posture(d.path(), &["show", "p1.json"]);
    assert!(
        o.stdout.contains("posture_data.a will be created"),
        "{}",
        o.stdout
    );
    ok(&posture(d.path(), &["apply", "p1.json"]));
    let o = posture(d.path(), &["apply", "p2.json"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("Saved plan is stale"), "{}", o.stderr);
    std::fs::write(d.path().join("junk.json"), "{\"hello\": 1}").expect("write");
    let o = posture(d.path(), &["apply", "junk.json"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("not a posture plan"), "{}", o.stderr);
    std::fs::write(d.path().join("bin.json"), [0u8, 159, 146, 150]).expect("write");
    let o = posture(d.path(), &["apply", "bin.json"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("Failed to load the saved plan"),
        "{}",
        o.stderr
    );
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "posture_data.a");
}

#[test]
fn prevent_destroy_refuses_and_ignore_changes_ignores() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "resource \"posture_data\" \"keep\" {\n  input = \"v1\"\n  lifecycle {\n    prevent_destroy = true\n    ignore_changes  = [input]\n  }\n}\n",
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    write(
        d.path(),
        "resource \"posture_data\" \"keep\" {\n  input = \"v2\"\n  lifecycle {\n    prevent_destroy = true\n    ignore_changes  = [input]\n  }\n}\n",
    );
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "ignored change: {}{}", o.stdout, o.stderr);
    let o = posture(d.path(), &["destroy", "--auto-approve"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("Instance cannot be destroyed"),
        "{}",
        o.stderr
    );
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "posture_data.keep");
}

#[test]
fn target_and_replace() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "resource \"posture_data\" \"base\" {}\nresource \"posture_data\" \"app\" {\n  input = posture_data.base.id\n}\nresource \"posture_data\" \"other\" {}\n",
    );
    let o = posture(
        d.path(),
        &["apply", "--auto-approve", "--target", "posture_data.app"],
    );
    ok(&o);
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(
        o.stdout.trim(),
        "posture_data.app\nposture_data.base",
        "the target and what it needs only"
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    let before = posture(d.path(), &["state", "show", "posture_data.other"]).stdout;
    let o = posture(d.path(), &["plan", "--replace", "posture_data.other"]);
    assert!(
        o.stdout.contains("requested with --replace"),
        "{}",
        o.stdout
    );
    ok(&posture(
        d.path(),
        &["apply", "--auto-approve", "--replace", "posture_data.other"],
    ));
    let after = posture(d.path(), &["state", "show", "posture_data.other"]).stdout;
    assert_ne!(before, after, "a new id after replacement");
}

#[test]
fn json_plan_and_sensitive_values() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "variable \"pw\" {\n  sensitive = true\n  default   = \"hunter2-secret\"\n}\nresource \"posture_data\" \"s\" {\n  input = { user = \"admin\", password = var.pw }\n}\noutput \"pw\" {\n  value     = var.pw\n  sensitive = true\n}\n",
    );
    let o = posture(d.path(), &["plan", "--json"]);
    ok(&o);
    assert!(!o.stdout.contains("hunter2"), "{}", o.stdout);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(j["format_version"], "1.0");
    let rc = &j["resource_changes"][0];
    assert_eq!(rc["address"], "posture_data.s");
    assert_eq!(rc["change"]["actions"][0], "create");
    assert_eq!(
        rc["change"]["after"]["input"]["password"],
        "(sensitive value)"
    );
    assert_eq!(rc["change"]["after"]["input"]["user"], "admin");
    assert_eq!(rc["change"]["after_unknown"]["id"], true);
    assert_eq!(j["output_changes"]["pw"]["sensitive"], true);
    let o = posture(d.path(), &["plan"]);
    assert!(
        o.stdout.contains("password = (sensitive value)"),
        "{}",
        o.stdout
    );
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    ok(&o);
    assert!(
        !o.stdout.contains("hunter2") && !o.stderr.contains("hunter2"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    for args in [
        &["show"][..],
        &["show", "--json"],
        &["state", "show", "posture_data.s"],
        &["output"],
    ] {
        let o = posture(d.path(), args);
        assert!(!o.stdout.contains("hunter2"), "{args:?}: {}", o.stdout);
    }
}

#[test]
fn errors_exit_1_with_detailed_exitcode() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "resource \"posture_data\" \"a\" {\n  input = local.nope\n}\n",
    );
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("Reference to undeclared local value"),
        "{}",
        o.stderr
    );
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "resource \"posture_data\" \"a\" {}\n");
    let o = posture(d.path(), &["apply"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("--auto-approve"), "{}", o.stderr);
    assert_eq!(posture(d.path(), &["state", "list"]).stdout.trim(), "");
}

#[test]
fn replace_triggered_by_replaces_when_the_trigger_changes() {
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = |v: &str| {
        format!(
            "resource \"posture_data\" \"config\" {{\n  input = \"{v}\"\n}}\nresource \"posture_data\" \"app\" {{\n  input = \"app\"\n  lifecycle {{\n    replace_triggered_by = [posture_data.config]\n  }}\n}}\n"
        )
    };
    write(d.path(), &cfg("v1"));
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    write(d.path(), &cfg("v2"));
    let o = posture(d.path(), &["plan"]);
    assert!(
        o.stdout.contains("# posture_data.app must be replaced"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("replace_triggered_by: posture_data.config changes"),
        "{}",
        o.stdout
    );
}

#[test]
fn for_each_keys_must_be_known_but_values_may_wait_for_apply() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "resource \"posture_data\" \"a\" {}\nresource \"posture_data\" \"b\" {\n  for_each = { x = posture_data.a.id }\n  input    = each.value\n}\n",
    );
    let o = posture(d.path(), &["plan"]);
    ok(&o);
    assert!(
        o.stdout.contains("# posture_data.b[\"x\"] will be created"),
        "{}",
        o.stdout
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

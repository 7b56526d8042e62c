//! End-to-end tests of `state`, `output`, `import`, `graph` and
//! `force-unlock`: the real binary in temporary directories, with state made
//! by `posture apply --auto-approve` on small `posture_data` configurations.

use super::support::{Out, posture};

use posture_engine::state::{LocalLocation, LockOptions, StateLocation, read_lock};
use std::path::Path;

/// Runs posture and asserts exit 0.
fn ok(dir: &Path, args: &[&str]) -> Out {
    let o = posture(dir, args);
    assert_eq!(
        o.code, 0,
        "posture {args:?} failed:\n{}\n{}",
        o.stdout, o.stderr
    );
    o
}

/// Runs posture and asserts exit 1.
fn fails(dir: &Path, args: &[&str]) -> Out {
    let o = posture(dir, args);
    assert_eq!(
        o.code, 1,
        "posture {args:?} should fail:\n{}\n{}",
        o.stdout, o.stderr
    );
    o
}

const MAIN: &str = r#"
variable "secret" {
  sensitive = true
  default   = "hunter2-s3cr3t"
}
variable "first" {
  default = "one"
}
resource "posture_data" "a" {
  input = var.first
}
resource "posture_data" "b" {
  count = 2
  input = posture_data.a.output
}
resource "posture_data" "s" {
  input = var.secret
}
output "a" {
  value = posture_data.a.output
}
output "m" {
  value = { x = 1, y = "z" }
}
output "sec" {
  value     = var.secret
  sensitive = true
}
"#;

/// A directory with `MAIN` applied once.
fn applied() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), MAIN).expect("write");
    ok(d.path(), &["apply", "--auto-approve"]);
    d
}

fn list(dir: &Path) -> Vec<String> {
    ok(dir, &["state", "list"])
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

fn pulled(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(dir, &["state", "pull"]).stdout).expect("state pull prints JSON")
}

#[test]
fn state_list_is_sorted_and_filters_by_resource_and_instance() {
    let d = applied();
    assert_eq!(
        list(d.path()),
        [
            "posture_data.a",
            "posture_data.b[0]",
            "posture_data.b[1]",
            "posture_data.s"
        ]
    );
    let o = ok(
        d.path(),
        &["state", "list", "posture_data.b", "posture_data.s"],
    );
    assert_eq!(
        o.stdout,
        "posture_data.b[0]\nposture_data.b[1]\nposture_data.s\n"
    );
    let o = ok(d.path(), &["state", "list", "posture_data.b[1]"]);
    assert_eq!(o.stdout, "posture_data.b[1]\n");
    let o = fails(d.path(), &["state", "list", "posture_data."]);
    assert!(o.stderr.contains("Error: Invalid address"), "{}", o.stderr);
}

#[test]
fn state_show_prints_attributes_and_hides_sensitive_ones() {
    let d = applied();
    let o = ok(d.path(), &["state", "show", "posture_data.a"]);
    assert!(
        o.stdout
            .starts_with("# posture_data.a:\nresource \"posture_data\" \"a\" {"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("input            = \"one\""),
        "{}",
        o.stdout
    );
    let o = ok(d.path(), &["state", "show", "posture_data.s"]);
    assert!(
        o.stdout.contains("input            = (sensitive value)"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("hunter2"), "{}", o.stdout);

    let o = fails(d.path(), &["state", "show", "posture_data.nope"]);
    assert!(
        o.stderr.contains("There is no instance posture_data.nope"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("posture state list"), "{}", o.stderr);
    let o = fails(d.path(), &["state", "show", "posture_data.b"]);
    assert!(
        o.stderr
            .contains("name one of them, e.g. posture_data.b[0]"),
        "{}",
        o.stderr
    );
}

#[test]
fn history_lists_serials_and_show_serial_shows_the_old_snapshot() {
    let d = applied();
    ok(d.path(), &["apply", "--auto-approve", "--var", "first=two"]);
    let o = ok(d.path(), &["state", "history"]);
    let rows: Vec<Vec<&str>> = o
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{}", o.stdout);
    assert_eq!((rows[0][0], rows[0][2], rows[0][4]), ("1", "apply", "4"));
    assert_eq!((rows[1][0], rows[1][2], rows[1][4]), ("2", "apply", "4"));
    assert!(o.stdout.contains("apply: 4 added"), "{}", o.stdout);

    let old = ok(d.path(), &["state", "show", "--serial", "1"]);
    assert!(old.stdout.contains("# snapshot serial 1"), "{}", old.stdout);
    assert!(
        old.stdout.contains("input            = \"one\""),
        "{}",
        old.stdout
    );
    assert!(!old.stdout.contains("\"two\""), "{}", old.stdout);
    assert!(
        !old.stdout.contains("hunter2"),
        "secret leaked:\n{}",
        old.stdout
    );
    assert!(old.stdout.contains("sec = <sensitive>"), "{}", old.stdout);
    let new = ok(d.path(), &["state", "show", "--serial", "2"]);
    assert!(
        new.stdout.contains("input            = \"two\""),
        "{}",
        new.stdout
    );

    let o = fails(d.path(), &["state", "show", "--serial", "9"]);
    assert!(
        o.stderr.contains("no state snapshot with serial 9"),
        "{}",
        o.stderr
    );
}

#[test]
fn state_rm_forgets_instances_and_commits_a_serial() {
    let d = applied();
    let before = pulled(d.path());
    let o = ok(d.path(), &["state", "rm", "posture_data.b"]);
    assert!(
        o.stdout
            .contains("Removed posture_data.b[0]\nRemoved posture_data.b[1]"),
        "{}",
        o.stdout
    );
    assert_eq!(list(d.path()), ["posture_data.a", "posture_data.s"]);
    let after = pulled(d.path());
    assert_eq!(after["serial"], 2);
    // Nothing else changed.
    assert_eq!(
        after["instances"]["posture_data.a"],
        before["instances"]["posture_data.a"]
    );
    assert_eq!(after["outputs"], before["outputs"]);
    let h = ok(d.path(), &["state", "history"]).stdout;
    assert!(
        h.contains("state rm: posture_data.b[0], posture_data.b[1]"),
        "{h}"
    );

    // One missing address: refused whole, nothing removed.
    let o = fails(
        d.path(),
        &["state", "rm", "posture_data.a", "posture_data.zz"],
    );
    assert!(
        o.stderr
            .contains("No instance in the state matches posture_data.zz"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("nothing was removed"), "{}", o.stderr);
    assert_eq!(list(d.path()), ["posture_data.a", "posture_data.s"]);
    assert_eq!(pulled(d.path())["serial"], 2);
}

#[test]
fn state_mv_renames_instances_and_resources_and_refuses_taken_addresses() {
    let d = applied();
    ok(
        d.path(),
        &["state", "mv", "posture_data.a", "posture_data.c"],
    );
    ok(
        d.path(),
        &["state", "mv", "posture_data.b", "posture_data.d"],
    );
    assert_eq!(
        list(d.path()),
        [
            "posture_data.c",
            "posture_data.d[0]",
            "posture_data.d[1]",
            "posture_data.s"
        ]
    );
    let j = pulled(d.path());
    assert_eq!(
        j["instances"]["posture_data.c"]["address"],
        "posture_data.c"
    );
    assert_eq!(
        j["instances"]["posture_data.c"]["attributes"]["input"]["value"],
        "one"
    );
    // Dependencies follow the move.
    assert_eq!(
        j["instances"]["posture_data.d[0]"]["dependencies"],
        serde_json::json!(["posture_data.c"])
    );

    let o = fails(
        d.path(),
        &["state", "mv", "posture_data.c", "posture_data.s"],
    );
    assert!(
        o.stderr
            .contains("there is already a resource instance at posture_data.s"),
        "{}",
        o.stderr
    );
    let o = fails(
        d.path(),
        &["state", "mv", "posture_data.s", "posture_data.d"],
    );
    assert!(o.stderr.contains("posture_data.d[0]"), "{}", o.stderr);
    let o = fails(
        d.path(),
        &["state", "mv", "posture_data.nope", "posture_data.x"],
    );
    assert!(
        o.stderr.contains("There is nothing at posture_data.nope"),
        "{}",
        o.stderr
    );
    let o = fails(
        d.path(),
        &["state", "mv", "posture_data.c", "posture_data.c"],
    );
    assert!(
        o.stderr.contains("give a different destination"),
        "{}",
        o.stderr
    );
    let o = fails(d.path(), &["state", "mv", "posture_data.c", "other_type.c"]);
    assert!(
        o.stderr.contains("resource types don't match"),
        "{}",
        o.stderr
    );
    assert_eq!(
        pulled(d.path())["serial"],
        j["serial"],
        "refusals commit nothing"
    );
}

#[test]
fn state_pull_and_push_check_lineage_and_serial() {
    let d = applied();
    let path = d.path().join("backup.json");
    let mut j = pulled(d.path());
    assert!(
        j.to_string().contains("hunter2-s3cr3t"),
        "pull is the raw state, secrets included"
    );
    let write = |j: &serde_json::Value| std::fs::write(&path, j.to_string()).expect("write");

    write(&j);
    let o = ok(d.path(), &["state", "push", "backup.json"]);
    assert!(o.stdout.contains("nothing changed"), "{}", o.stdout);

    // An edit with the next serial: accepted.
    j["instances"]
        .as_object_mut()
        .expect("instances")
        .remove("posture_data.s");
    j["serial"] = 2.into();
    write(&j);
    ok(d.path(), &["state", "push", "backup.json"]);
    assert_eq!(list(d.path()).len(), 3);

    // A stale serial: refused.
    j["instances"]
        .as_object_mut()
        .expect("instances")
        .remove("posture_data.a");
    j["serial"] = 1.into();
    write(&j);
    let o = fails(d.path(), &["state", "push", "backup.json"]);
    assert!(o.stderr.contains("older than or conflicts"), "{}", o.stderr);
    assert_eq!(list(d.path()).len(), 3);

    // Another lineage: refused, then accepted with --force.
    j["lineage"] = "00000000-0000-4000-8000-000000000000".into();
    j["serial"] = 40.into();
    write(&j);
    let o = fails(d.path(), &["state", "push", "backup.json"]);
    assert!(o.stderr.contains("lineage"), "{}", o.stderr);
    assert!(o.stderr.contains("--force"), "{}", o.stderr);
    ok(d.path(), &["state", "push", "--force", "backup.json"]);
    let now = pulled(d.path());
    assert_eq!(now["lineage"], "00000000-0000-4000-8000-000000000000");
    assert_eq!(now["serial"], 40);
    assert_eq!(list(d.path()).len(), 2);

    let o = fails(d.path(), &["state", "push", "missing.json"]);
    assert!(o.stderr.contains("missing.json"), "{}", o.stderr);
}

#[test]
fn output_prints_text_json_raw_and_hides_sensitive_values_in_lists() {
    let d = applied();
    let o = ok(d.path(), &["output"]);
    assert_eq!(
        o.stdout,
        "a = \"one\"\nm = {\n  \"x\" = 1\n  \"y\" = \"z\"\n}\nsec = <sensitive>\n"
    );
    let o = ok(d.path(), &["output", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(
        j["a"],
        serde_json::json!({"sensitive": false, "type": "string", "value": "one"})
    );
    assert_eq!(
        j["m"]["type"],
        serde_json::json!(["object", {"x": "number", "y": "string"}])
    );
    assert_eq!(j["sec"]["sensitive"], true);
    // By name, a sensitive output is shown, as Terraform does.
    assert_eq!(
        ok(d.path(), &["output", "sec"]).stdout,
        "\"hunter2-s3cr3t\"\n"
    );
    assert_eq!(ok(d.path(), &["output", "a", "--raw"]).stdout, "one");
    assert_eq!(
        ok(d.path(), &["output", "m", "--json"]).stdout,
        "{\n  \"x\": 1,\n  \"y\": \"z\"\n}\n"
    );
    let o = fails(d.path(), &["output", "m", "--raw"]);
    assert!(o.stderr.contains("is object. Use --json"), "{}", o.stderr);
    let o = fails(d.path(), &["output", "nope"]);
    assert!(
        o.stderr.contains("Output \"nope\" not found"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("Outputs in the state: a, m, sec"),
        "{}",
        o.stderr
    );
}

#[test]
fn import_adopts_a_declared_instance_and_plan_then_creates_nothing_for_it() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "resource \"posture_data\" \"imp\" {}\nresource \"posture_data\" \"many\" {\n  count = 1\n}\n",
    )
    .expect("write");
    let o = ok(d.path(), &["import", "posture_data.imp", "abc-123"]);
    assert!(o.stdout.contains("Import successful!"), "{}", o.stdout);
    let show = ok(d.path(), &["state", "show", "posture_data.imp"]).stdout;
    assert!(show.contains("id               = \"abc-123\""), "{show}");
    let plan = ok(d.path(), &["plan"]).stdout;
    assert!(!plan.contains("posture_data.imp will be created"), "{plan}");
    assert!(
        plan.contains("posture_data.many[0] will be created"),
        "{plan}"
    );
    assert!(plan.contains("1 to add"), "{plan}");

    let o = fails(d.path(), &["import", "posture_data.imp", "other"]);
    assert!(
        o.stderr
            .contains("already managing a remote object for posture_data.imp"),
        "{}",
        o.stderr
    );
    let o = fails(d.path(), &["import", "posture_data.many", "x"]);
    assert!(
        o.stderr.contains("posture_data.many[0] (it uses count)"),
        "{}",
        o.stderr
    );
    let o = fails(d.path(), &["import", "posture_data.ghost", "x"]);
    assert!(
        o.stderr
            .contains("Error: Configuration for import target does not exist"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("posture_data.ghost"), "{}", o.stderr);
    assert!(
        o.stderr.contains("resource \"posture_data\" \"ghost\" {"),
        "{}",
        o.stderr
    );
    assert_eq!(list(d.path()), ["posture_data.imp"]);
}

#[test]
fn graph_prints_dependencies_as_dot_and_mermaid() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), MAIN).expect("write");
    let dot = ok(d.path(), &["graph"]).stdout;
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert!(
        dot.contains("\"posture_data.b\" -> \"posture_data.a\""),
        "{dot}"
    );
    assert!(
        !dot.contains("var.first"),
        "resources only by default:\n{dot}"
    );
    assert_eq!(ok(d.path(), &["graph"]).stdout, dot, "deterministic");

    let all = ok(d.path(), &["graph", "--all"]).stdout;
    assert!(all.contains("\"posture_data.a\" -> \"var.first\""), "{all}");
    assert!(all.contains("\"output.sec\" -> \"var.secret\""), "{all}");

    let mm = ok(d.path(), &["graph", "--format", "mermaid"]).stdout;
    assert!(mm.starts_with("flowchart RL\n"), "{mm}");
    let id = |label: &str| {
        mm.lines()
            .find(|l| l.contains(&format!("[\"{label}\"]")))
            .and_then(|l| l.trim().split('[').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no node {label} in:\n{mm}"))
    };
    let edge = format!("{} --> {}", id("posture_data.b"), id("posture_data.a"));
    assert!(mm.lines().any(|l| l.trim() == edge), "no {edge} in:\n{mm}");

    std::fs::write(d.path().join("bad.hcl"), "resource \"posture_data\" {").expect("write");
    fails(d.path(), &["graph"]);
}

#[test]
fn a_held_lock_is_named_waited_for_and_force_unlocked() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "resource \"posture_data\" \"a\" {}\n",
    )
    .expect("write");
    let location = LocalLocation::new(d.path().join(".posture"));
    let held = location
        .open(&LockOptions::new("test-holder"))
        .expect("take the lock");
    let info = held.lock_info().clone();

    let o = fails(d.path(), &["plan"]);
    assert!(o.stderr.contains(&info.who), "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("lock ID {}", info.id)),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("operation: test-holder"), "{}", o.stderr);

    let o = fails(d.path(), &["plan", "--lock-timeout", "1s"]);
    assert!(
        o.stderr.contains(&format!(
            "Waiting for the state lock held by {} (lock id {})",
            info.who, info.id
        )),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("state is locked by"), "{}", o.stderr);

    let o = fails(d.path(), &["force-unlock", &info.id]);
    assert!(o.stderr.contains("Use --force"), "{}", o.stderr);
    let o = fails(d.path(), &["force-unlock", "--force", "not-the-id"]);
    assert!(
        o.stderr.contains("does not match the current lock"),
        "{}",
        o.stderr
    );
    assert!(read_lock(&location.dir).expect("read lock").is_some());

    let o = ok(d.path(), &["force-unlock", "--force", &info.id]);
    assert!(o.stdout.contains("successfully unlocked"), "{}", o.stdout);
    assert!(o.stdout.contains(&info.who), "{}", o.stdout);
    assert!(o.stdout.contains("test-holder"), "{}", o.stdout);
    assert_eq!(read_lock(&location.dir).expect("read lock"), None);
    drop(held);

    let o = fails(d.path(), &["force-unlock", "--force", &info.id]);
    assert!(o.stderr.contains("is not locked"), "{}", o.stderr);
}

#[test]
fn state_list_rm_and_mv_work_on_whole_modules() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join("m")).expect("mkdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "module \"m\" {\n  source = \"./m\"\n}\nresource \"posture_data\" \"top\" {}\n",
    )
    .expect("write");
    std::fs::write(
        d.path().join("m/main.hcl"),
        "resource \"posture_data\" \"x\" {\n  count = 2\n}\n",
    )
    .expect("write");
    ok(d.path(), &["apply", "--auto-approve"]);
    let o = ok(d.path(), &["state", "list", "module.m"]);
    assert_eq!(
        o.stdout,
        "module.m.posture_data.x[0]\nmodule.m.posture_data.x[1]\n"
    );
    let o = fails(d.path(), &["state", "mv", "module.m", "posture_data.y"]);
    assert!(
        o.stderr.contains("a module moves to a module address"),
        "{}",
        o.stderr
    );
    ok(d.path(), &["state", "mv", "module.m", "module.n[\"k\"]"]);
    assert_eq!(
        list(d.path()),
        [
            "module.n[\"k\"].posture_data.x[0]",
            "module.n[\"k\"].posture_data.x[1]",
            "posture_data.top"
        ]
    );
    let o = ok(d.path(), &["state", "rm", "--dry-run", "module.n"]);
    assert!(
        o.stdout
            .contains("Would remove module.n[\"k\"].posture_data.x[1]"),
        "{}",
        o.stdout
    );
    assert_eq!(list(d.path()).len(), 3, "a dry run removes nothing");
    ok(d.path(), &["state", "rm", "module.n"]);
    assert_eq!(list(d.path()), ["posture_data.top"]);
}

#[test]
fn edits_wait_until_an_interrupted_run_is_reconciled() {
    let d = applied();
    let location = LocalLocation::new(d.path().join(".posture"));
    let held = location.open(&LockOptions::new("apply")).expect("lock");
    held.record_intent(posture_engine::state::NewIntent {
        address: "posture_data.a".into(),
        action: posture_engine::state::Action::Update,
        planned: serde_json::json!({ "type": "posture_data" }),
    })
    .expect("intent");
    held.close().expect("close");

    let o = fails(d.path(), &["state", "rm", "posture_data.a"]);
    assert!(
        o.stderr
            .contains("1 operation(s) from an interrupted run are pending"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("posture plan"), "{}", o.stderr);
    assert_eq!(list(d.path()).len(), 4, "nothing removed");
    // A plan reconciles the interrupted operation; then edits go through.
    let o = ok(d.path(), &["plan"]);
    assert!(
        o.stderr.contains("Recovered: posture_data.a"),
        "{}",
        o.stderr
    );
    ok(d.path(), &["state", "rm", "posture_data.s"]);
    assert!(!list(d.path()).contains(&"posture_data.s".to_string()));
}

//! Issue H1 through the binary: targeted destroy, nested ignore_changes,
//! unknown resource types in plan/apply, provider validation.

use super::support::{Out, posture};

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write config");
}

fn ok(o: &Out) {
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
}

fn state_list(dir: &Path) -> String {
    let o = posture(dir, &["state", "list"]);
    ok(&o);
    o.stdout.trim().to_string()
}

/// base ← app ← leaf, plus an unrelated `other`.
const CHAIN: &str = r#"resource "posture_data" "base" {
  input = "zone"
}
resource "posture_data" "app" {
  input = posture_data.base.output
}
resource "posture_data" "leaf" {
  input = posture_data.app.output
}
resource "posture_data" "other" {}
"#;

#[test]
fn targeted_destroy_deletes_dependents_not_dependencies() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.hcl", CHAIN);
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    let o = posture(
        d.path(),
        &["plan", "--destroy", "--target", "posture_data.app"],
    );
    ok(&o);
    assert!(
        o.stdout
            .contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("posture_data.leaf will be destroyed"),
        "{}",
        o.stdout
    );
    assert!(
        !o.stdout.contains("posture_data.base will be destroyed"),
        "{}",
        o.stdout
    );
    let o = posture(
        d.path(),
        &["destroy", "--auto-approve", "--target", "posture_data.app"],
    );
    ok(&o);
    assert_eq!(
        state_list(d.path()),
        "posture_data.base\nposture_data.other",
        "the target and what depends on it are gone; its dependency stays"
    );
}

#[test]
fn targeted_apply_still_includes_dependencies() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.hcl", CHAIN);
    ok(&posture(
        d.path(),
        &["apply", "--auto-approve", "--target", "posture_data.app"],
    ));
    assert_eq!(state_list(d.path()), "posture_data.app\nposture_data.base");
}

#[test]
fn targeted_destroy_of_a_module_and_of_a_counted_resource() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.hcl",
        r#"resource "posture_data" "zone" {
  count = 2
  input = "z${count.index}"
}
module "m" {
  source = "./m"
  zone   = posture_data.zone[0].output
}
resource "posture_data" "after_m" {
  input = module.m.out
}
resource "posture_data" "solo" {}
"#,
    );
    write(
        d.path(),
        "m/main.hcl",
        r#"variable "zone" {}
resource "posture_data" "rec" {
  input = var.zone
}
output "out" {
  value = posture_data.rec.output
}
"#,
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    ok(&posture(
        d.path(),
        &["destroy", "--auto-approve", "--target", "module.m"],
    ));
    assert_eq!(
        state_list(d.path()),
        "posture_data.solo\nposture_data.zone[0]\nposture_data.zone[1]",
        "the module's record and what reads it are gone, the zones stay"
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    ok(&posture(
        d.path(),
        &["destroy", "--auto-approve", "--target", "posture_data.zone"],
    ));
    assert_eq!(state_list(d.path()), "posture_data.solo");
}

#[test]
fn ignore_changes_on_a_nested_key_hides_only_that_key() {
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = |a: &str, b: &str| {
        format!(
            "resource \"posture_data\" \"hpa\" {{\n  input = {{ a = \"{a}\", b = \"{b}\", spec = {{ replicas = 3, image = \"img-{b}\" }} }}\n  lifecycle {{\n    ignore_changes = [input[\"a\"], input.spec.replicas, input.missing.deeper]\n  }}\n}}\noutput \"in\" {{\n  value = posture_data.hpa.output\n}}\n"
        )
    };
    write(d.path(), "main.hcl", &cfg("1", "1"));
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    // Only a changes: ignored, no changes.
    write(d.path(), "main.hcl", &cfg("2", "1"));
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    // b changes too: b changes, a keeps its recorded value.
    write(d.path(), "main.hcl", &cfg("2", "2"));
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        o.stdout
    );
    ok(&posture(d.path(), &["apply", "--auto-approve"]));
    let o = posture(d.path(), &["output", "--json", "in"]);
    ok(&o);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(j["a"], "1", "{j}");
    assert_eq!(j["b"], "2", "{j}");
    assert_eq!(j["spec"]["image"], "img-2", "{j}");
}

#[test]
fn plan_and_apply_skipped_unknown_resource_types_silently() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.hcl",
        "resource \"posture_data\" \"ok\" {}\n\nresource \"posture_dta\" \"x\" {\n  input = 1\n}\n",
    );
    for args in [
        &["validate"][..],
        &["plan"][..],
        &["plan", "--detailed-exitcode"][..],
        &["apply", "--auto-approve"][..],
    ] {
        let o = posture(d.path(), args);
        assert_eq!(o.code, 1, "{args:?}\n{}\n{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("main.hcl:3:1")
                && o.stderr.contains(
                    "No provider supports resource type \"posture_dta\". Did you mean \"posture_data\"?"
                ),
            "{args:?}\n{}",
            o.stderr
        );
        assert!(!o.stdout.contains("No changes"), "{args:?}\n{}", o.stdout);
    }
    assert_eq!(state_list(d.path()), "", "apply changed nothing");
}

#[test]
fn route53_record_without_ttl_passed_validate() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.hcl",
        "resource \"posture_data\" \"ok\" {}\n\nresource \"route53_record\" \"www\" {\n  zone_id = \"Z123\"\n  name    = \"www.example.com\"\n  type    = \"A\"\n  records = [\"192.0.2.10\"]\n}\n",
    );
    for args in [&["validate"][..], &["plan"][..]] {
        let o = posture(d.path(), args);
        assert_eq!(o.code, 1, "{args:?}\n{}\n{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("main.hcl:3:1")
                && o.stderr
                    .contains("route53_record.www: ttl is required unless alias is set"),
            "{args:?}\n{}",
            o.stderr
        );
    }
    let o = posture(d.path(), &["validate", "--json"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(j["valid"], false, "{j}");
    assert_eq!(j["diagnostics"][0]["range"]["start"]["line"], 3, "{j}");
}

#[test]
fn route53_record_without_ttl_in_a_zone_of_the_same_run_passed_validate() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.hcl",
        "resource \"route53_zone\" \"corp\" {\n  name = \"corp.example.com\"\n}\n\nresource \"route53_record\" \"www\" {\n  zone_id = route53_zone.corp.id\n  name    = \"www\"\n  type    = \"A\"\n  records = [\"192.0.2.10\"]\n}\n",
    );
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("main.hcl:5:1")
            && o.stderr
                .contains("route53_record.www: ttl is required unless alias is set"),
        "{}",
        o.stderr
    );
}

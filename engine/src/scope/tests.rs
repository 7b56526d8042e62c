use super::Strictness;
use crate::builtin::Builtins;
use crate::workspace::Workspace;
use std::collections::BTreeMap;

/// Loads `src` as the only file of a fresh directory and evaluates all of
/// it as a plan does; returns the error summaries in order.
fn errors_of(name: &str, src: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("posture-scope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("main.hcl"), src).expect("main.hcl");
    let ws = Workspace::load(&dir, &[], &BTreeMap::new());
    assert!(!ws.diags.has_errors(), "{:?}", ws.diags);
    let ev = ws.evaluation(&Builtins, Strictness::Full).for_plan();
    ev.evaluate_all();
    let _ = std::fs::remove_dir_all(&dir);
    ev.diagnostics()
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

#[test]
fn a_failed_call_also_reported_for_each_unknown_until_apply() {
    let errs = errors_of(
        "cascade",
        r#"
locals {
  bad = toset(split(",", 1 + "x"))
}
resource "posture_data" "a" {
  for_each = local.bad
  input    = each.key
}
resource "posture_data" "b" {
  for_each = local.bad
  input    = each.key
}
resource "posture_data" "c" {
  for_each = toset([for i in range(-1, "z") : tostring(i)])
  input    = each.key
}
resource "posture_data" "d" {
  count = length(local.bad)
  input = "x"
}
"#,
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs[0].starts_with("Invalid operand"), "{errs:#?}");
    assert!(
        errs[1].starts_with("Invalid function argument"),
        "{errs:#?}"
    );
}

#[test]
fn a_for_each_really_unknown_until_apply_is_still_reported() {
    let errs = errors_of(
        "unknown",
        r#"
resource "posture_data" "up" {
  input = "x"
}
resource "posture_data" "down" {
  for_each = toset([posture_data.up.id])
  input    = each.key
}
"#,
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0]
            .contains("\"for_each\" value depends on values that cannot be determined until apply"),
        "{errs:#?}"
    );
}

#[test]
fn timestamp_is_unknown_in_a_plan_evaluation() {
    let errs = errors_of(
        "impure",
        r#"
resource "posture_data" "a" {
  for_each = toset([timestamp()])
  input    = each.key
}
"#,
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].contains("cannot be determined until apply"),
        "{errs:#?}"
    );
}

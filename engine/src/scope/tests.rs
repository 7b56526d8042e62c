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

/// `for_each` is evaluated once and kept: it must still follow a value it
/// read when that value becomes known (set at apply, as a plan sets its
/// planned values), or `each.value` would stay stale.
#[test]
fn a_memoised_for_each_follows_a_new_value_of_what_it_reads() {
    use super::{Expansion, Node};
    use crate::addrs::{InstanceKey, ModuleInstance, ResourceAddr};
    use crate::value::Value;
    let dir = std::env::temp_dir().join(format!("posture-scope-memo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = r#"
resource "posture_data" "up" {
  input = "x"
}
resource "posture_data" "down" {
  for_each = { a = posture_data.up.id }
  input    = each.value
}
"#;
    std::fs::write(dir.join("main.hcl"), src).expect("main.hcl");
    let ws = Workspace::load(&dir, &[], &BTreeMap::new());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!ws.diags.has_errors(), "{:?}", ws.diags);
    let ev = ws.evaluation(&Builtins, Strictness::Full).for_plan();
    let root = ModuleInstance::root();
    let addr = |name: &str| ResourceAddr {
        mode: crate::addrs::Mode::Managed,
        type_name: "posture_data".into(),
        name: name.into(),
    };
    let input_of_down = || {
        let v = ev.get(&Node::Resource(root.clone(), addr("down")));
        v.as_map()
            .and_then(|m| m.get("a"))
            .and_then(Value::as_map)
            .and_then(|m| m.get("input"))
            .cloned()
    };
    let each_value = || match &*ev.resource_expansion(&root, &addr("down")) {
        Expansion::ForEach(m) => m.get("a").cloned(),
        other => panic!("not a for_each expansion: {other:?}"),
    };
    assert!(input_of_down().is_some_and(|v| v.is_unknown()));
    assert!(each_value().is_some_and(|v| v.is_unknown()));

    let applied = Value::Object(BTreeMap::from([
        ("id".to_string(), Value::from("abc")),
        ("input".to_string(), Value::from("x")),
    ]));
    ev.set_instance_value(&root, &addr("up"), InstanceKey::None, applied);
    assert_eq!(input_of_down(), Some(Value::from("abc")));
    assert_eq!(each_value(), Some(Value::from("abc")));
    assert!(!ev.diagnostics().has_errors(), "{:?}", ev.diagnostics());
}

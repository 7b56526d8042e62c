//! Applies larger than one state transaction (H1 #15): the intents and
//! results of a batch are written in chunks, and every instance of every
//! chunk ends up recorded exactly once. Speed itself is measured by
//! bench/run.sh, never asserted here.

use super::support::posture;

#[test]
fn an_apply_spanning_several_state_transactions_records_every_instance_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 2,500 instances: more than two chunks of 1,024 intents, one batch.
    std::fs::write(
        tmp.path().join("main.hcl"),
        r#"
resource "posture_data" "wide" {
  for_each = toset(flatten([
    for i in range(5) : [for j in range(500) : format("k%04d", i * 500 + j)]
  ]))
  input = each.key
}
"#,
    )
    .expect("write config");
    let apply = posture(tmp.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert!(
        apply.stdout.contains("2500 added, 0 changed, 0 destroyed"),
        "{}",
        apply.all()
    );
    let list = posture(tmp.path(), &["state", "list"]);
    assert_eq!(list.code, 0, "{}", list.all());
    let listed: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(listed.len(), 2500, "{}", list.all());
    assert_eq!(listed[0], r#"posture_data.wide["k0000"]"#);
    assert_eq!(listed[2499], r#"posture_data.wide["k2499"]"#);
    let again = posture(tmp.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.all());
    let destroy = posture(tmp.path(), &["destroy", "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    let list = posture(tmp.path(), &["state", "list"]);
    assert_eq!(list.stdout.trim(), "", "{}", list.all());
}

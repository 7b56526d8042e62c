//! Tests of partitioned state on the local backend: keys, routing, locks
//! per partition, refused writes, recovery per partition.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::json;

use super::*;
use crate::state::{
    Action, Backend, InstanceRecord, LocalLocation, LockOptions, NewIntent, Outcome, StateError,
    StateLocation,
};

fn record(address: &str, cluster: Option<&str>) -> InstanceRecord {
    let attributes = match cluster {
        Some(c) => json!({ "cluster": { "name": c }, "v": 1 }),
        None => json!({ "v": 1 }),
    };
    InstanceRecord {
        address: address.into(),
        mode: Default::default(),
        resource_type: "kubernetes_manifest".into(),
        provider: "kubernetes".into(),
        target: None,
        schema_version: 0,
        attributes,
        sensitive_paths: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        deposed: BTreeMap::new(),
    }
}

/// The intent of a create of an object on `cluster`, as apply writes it.
fn create(address: &str, cluster: &str) -> NewIntent {
    NewIntent {
        address: address.into(),
        action: Action::Create,
        planned: json!({ "planned": { "object": { "cluster": { "object": {
            "name": { "string": cluster } } } } } }),
    }
}

fn location(dir: &Path) -> PartitionedLocation {
    PartitionedLocation::new(Box::new(LocalLocation::new(dir)))
}

fn only(names: &[&str]) -> Selection {
    Selection::Only(
        names
            .iter()
            .map(|n| Partition::named(n))
            .collect::<BTreeSet<_>>(),
    )
}

fn apply_one(b: &dyn Backend, address: &str, cluster: &str) {
    let id = b.record_intent(create(address, cluster)).expect("intent");
    b.complete_intent(
        &id,
        Outcome::Upsert(Box::new(record(address, Some(cluster)))),
    )
    .expect("complete");
    b.commit(None, "apply").expect("commit");
}

#[test]
fn keys_are_dns_labels_that_no_cluster_name_turns_into_the_global_key() {
    assert_eq!(Partition::NoCluster.key().as_str(), "global");
    assert_eq!(
        Partition::named("prod-eu").key().as_str(),
        "cluster-prod-eu"
    );
    assert_eq!(Partition::named("_global"), Partition::NoCluster);
    for odd in [
        "global",
        "Prod_EU",
        "a/../b",
        "",
        "x".repeat(80).as_str(),
        "-",
    ] {
        let k = Partition::Cluster(odd.to_string()).key();
        assert!(k.as_str().starts_with("cluster-"), "{odd}: {k}");
        assert!(PartitionKey::parse(k.as_str()).is_some(), "{odd}: {k}");
        assert!(k.as_str().len() <= 63, "{odd}: {k}");
    }
    // Names reduced alike stay apart.
    assert_ne!(
        Partition::named("Prod").key(),
        Partition::named("prod_").key()
    );
    assert_eq!(
        Partition::named("Prod").key().as_str().len(),
        "cluster-prod-".len() + 8
    );
}

#[test]
fn each_cluster_gets_its_own_state_directory_and_load_merges_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".posture");
    let b = location(&dir)
        .open(&LockOptions::new("apply"))
        .expect("open");
    apply_one(b.as_ref(), "k.a", "a");
    apply_one(b.as_ref(), "k.b", "b");
    let id = b
        .record_intent(NewIntent {
            address: "posture_data.x".into(),
            action: Action::Create,
            planned: json!({}),
        })
        .expect("intent");
    b.complete_intent(
        &id,
        Outcome::Upsert(Box::new(record("posture_data.x", None))),
    )
    .expect("complete");
    b.commit(Some(BTreeMap::new()), "apply").expect("commit");
    let merged = b.load().expect("load");
    assert_eq!(
        merged.instances.keys().collect::<Vec<_>>(),
        ["k.a", "k.b", "posture_data.x"]
    );
    b.close().expect("close");
    let keys = LocalLocation::new(&dir).partitions().expect("list");
    let names: Vec<&str> = keys.iter().map(PartitionKey::as_str).collect();
    assert_eq!(names, ["cluster-a", "cluster-b", "global"]);
    for (key, addr) in [
        ("cluster-a", "k.a"),
        ("cluster-b", "k.b"),
        ("global", "posture_data.x"),
    ] {
        let one = LocalLocation::new(dir.join("partitions").join(key))
            .open(&LockOptions::new("test"))
            .expect("open partition");
        let s = one.load().expect("load");
        assert_eq!(s.instances.keys().collect::<Vec<_>>(), [addr], "{key}");
        one.close().expect("close");
    }
}

#[test]
fn a_run_on_one_cluster_does_not_wait_for_another_clusters_lock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".posture");
    let all = location(&dir)
        .open(&LockOptions::new("apply"))
        .expect("open");
    apply_one(all.as_ref(), "k.a", "a");
    apply_one(all.as_ref(), "k.b", "b");
    all.close().expect("close");

    let on_b = location(&dir)
        .select(only(&["b"]))
        .open(&LockOptions::new("apply b"))
        .expect("b");
    let on_a = location(&dir)
        .select(only(&["a"]))
        .open_partitioned(&LockOptions::new("apply a"))
        .expect("a proceeds while b is held");
    // b was locked, so its records are unknown to the run on a.
    assert_eq!(
        on_a.unread()
            .keys()
            .map(PartitionKey::as_str)
            .collect::<Vec<_>>(),
        ["cluster-b"]
    );
    apply_one(&on_a, "k.a2", "a");
    // A second run on b is refused, naming the holder.
    let e = location(&dir)
        .select(only(&["b"]))
        .open(&LockOptions::new("apply b again"))
        .err()
        .expect("b is held");
    let msg = e.to_string();
    assert!(
        msg.contains("partition b") && msg.contains("apply b"),
        "{msg}"
    );
    // A write on b through the run on a is refused before anything is written.
    let e = on_a
        .record_intent(create("k.b2", "b"))
        .expect_err("not held");
    assert!(matches!(e, StateError::PartitionNotHeld { .. }), "{e}");
    assert!(e.to_string().contains("k.b2") && e.to_string().contains("--cluster b"));
    Box::new(on_a).close().expect("close");
    on_b.close().expect("close");
}

#[test]
fn pending_intents_of_each_locked_partition_are_listed_and_completed_there() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".posture");
    let b = location(&dir)
        .open(&LockOptions::new("apply"))
        .expect("open");
    b.record_intent(create("k.a", "a")).expect("intent a");
    b.record_intent(create("k.b", "b")).expect("intent b");
    // Killed here: dropped without completing.
    drop(b);
    let on_a = location(&dir)
        .select(only(&["a"]))
        .open(&LockOptions::new("plan"))
        .expect("open a");
    let pending = on_a.pending_intents().expect("pending");
    assert_eq!(
        pending
            .iter()
            .map(|i| i.address.as_str())
            .collect::<Vec<_>>(),
        ["k.a"]
    );
    on_a.complete_intent(
        &pending[0].id,
        Outcome::Upsert(Box::new(record("k.a", Some("a")))),
    )
    .expect("settled");
    on_a.close().expect("close");
    let all = location(&dir)
        .open(&LockOptions::new("plan"))
        .expect("open");
    let left = all.pending_intents().expect("pending");
    assert_eq!(
        left.iter().map(|i| i.address.as_str()).collect::<Vec<_>>(),
        ["k.b"]
    );
    assert!(all.load().expect("load").instances.contains_key("k.a"));
    all.close().expect("close");
}

#[test]
fn a_rewrite_splits_by_partition_and_refuses_one_not_held() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(".posture");
    let all = location(&dir)
        .open(&LockOptions::new("apply"))
        .expect("open");
    apply_one(all.as_ref(), "k.a", "a");
    apply_one(all.as_ref(), "k.b", "b");
    let mut s = all.load().expect("load");
    s.instances.remove("k.a");
    all.rewrite(&s, "state rm k.a").expect("rewrite");
    assert!(!all.load().expect("load").instances.contains_key("k.a"));
    all.close().expect("close");
    let on_a = location(&dir)
        .select(only(&["a"]))
        .open(&LockOptions::new("state rm"))
        .expect("open");
    let mut s = on_a.load().expect("load");
    s.instances.remove("k.b");
    let e = on_a.rewrite(&s, "state rm k.b").expect_err("b not held");
    assert!(e.to_string().contains("partition b"), "{e}");
    on_a.close().expect("close");
}

/// `init --migrate-state` copies through `adopt_observed`: the refusal was
/// on `adopt` alone, so a migration into partitions fell through to `push`
/// and its message about `state push`.
#[test]
fn a_migration_into_partitions_was_refused_with_the_state_push_message() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = location(&tmp.path().join(".posture"))
        .open(&LockOptions::new("init"))
        .expect("open");
    let current = crate::state::State::new();
    let err = b
        .adopt_observed(Vec::new(), &current, &|_| {})
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("migrating a state into partitions"), "{text}");
    assert!(!text.contains("state push"), "{text}");
    let err = b.adopt(Vec::new(), &current).expect_err("refused");
    assert!(
        err.to_string()
            .contains("migrating a state into partitions")
    );
}

//! The 10,000-instance fixture: reproducible from its generator, and loads,
//! commits and reads back whole through the local backend.

use std::path::PathBuf;

use super::support::large_state::{LARGE_LINEAGE, large_state};
use posture_engine::state::{
    Backend, LocalBackend, LockOptions, OutputValue, decode, encode_compact,
};

fn large_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../state-fixtures/v1/large-10000.json")
}

#[test]
fn the_committed_large_fixture_is_what_the_generator_writes() {
    let committed = std::fs::read_to_string(large_fixture()).expect("fixture readable");
    let generated = encode_compact(&large_state(10_000)) + "\n";
    // Compare lengths first so a mismatch does not print 4 MB.
    assert_eq!(
        committed.len(),
        generated.len(),
        "regenerate with the gen_state_fixture example"
    );
    assert!(
        committed == generated,
        "regenerate with the gen_state_fixture example"
    );
}

#[test]
fn a_ten_thousand_instance_state_pushes_commits_and_loads_back() {
    let text = std::fs::read_to_string(large_fixture()).expect("fixture readable");
    let state = decode(&text, "large-10000.json").expect("valid state");
    assert_eq!(state.instances.len(), 10_000);
    assert_eq!(state.lineage, LARGE_LINEAGE);

    let dir = tempfile::tempdir().expect("tempdir");
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("state push")).expect("open");
    assert_eq!(
        backend
            .push(&text, true)
            .expect("forced push into a new state"),
        1
    );
    // Nothing changed: no new serial.
    assert_eq!(
        backend.commit(None, "apply: no changes").expect("commit"),
        1
    );
    let mut outputs = state.outputs.clone();
    outputs.insert(
        "zone".into(),
        OutputValue {
            value: serde_json::json!("Z0123456789ABC"),
            sensitive: false,
            type_name: "string".into(),
        },
    );
    assert_eq!(
        backend
            .commit(Some(outputs.clone()), "apply: outputs")
            .expect("commit"),
        2
    );
    backend.close().expect("close");

    let reopened = LocalBackend::open(dir.path(), &LockOptions::new("plan")).expect("reopen");
    let loaded = reopened.load().expect("load");
    assert_eq!(loaded.instances, state.instances);
    assert_eq!(loaded.outputs, outputs);
    assert_eq!(loaded.serial, 2);
    assert_eq!(
        reopened.snapshot(1).expect("snapshot 1").instances.len(),
        10_000
    );
    let history: Vec<u64> = reopened
        .history()
        .expect("history")
        .iter()
        .map(|h| h.serial)
        .collect();
    assert_eq!(history, vec![1, 2]);
}

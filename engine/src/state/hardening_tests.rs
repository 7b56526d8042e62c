//! Regression tests of the state hardening: deep records, serials that
//! cannot grow, a database that lost committed history, pushed garbage.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::{
    Action, Backend, InstanceRecord, LocalBackend, LockOptions, MAX_SERIAL, NewIntent, Outcome,
    StateError, encode,
};

fn open(dir: &Path) -> LocalBackend {
    LocalBackend::open(dir, &LockOptions::new("test")).expect("open state")
}

fn nested(depth: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..depth {
        v = if i % 2 == 0 {
            json!([v])
        } else {
            json!({ "k": v })
        };
    }
    v
}

fn record(address: &str, attributes: Value) -> InstanceRecord {
    InstanceRecord {
        address: address.into(),
        mode: Default::default(),
        resource_type: "posture_data".into(),
        provider: "provider.posture".into(),
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

fn apply_one(backend: &LocalBackend, address: &str, attributes: Value) -> u64 {
    let id = backend
        .record_intent(NewIntent {
            address: address.into(),
            action: Action::Create,
            planned: attributes.clone(),
        })
        .expect("intent");
    backend
        .complete_intent(&id, Outcome::Upsert(Box::new(record(address, attributes))))
        .expect("complete");
    backend.commit(None, "apply").expect("commit")
}

#[test]
fn record_nested_past_serde_json_limit_round_trips_through_intent_commit_snapshot_and_push() {
    // The language accepts values 1,000 levels deep; serde_json's default
    // decoder refused 128 and wedged the state for good.
    let dir = tempfile::tempdir().expect("tempdir");
    let deep = nested(1_010);
    let backend = open(dir.path());
    let id = backend
        .record_intent(NewIntent {
            address: "posture_data.x".into(),
            action: Action::Create,
            planned: deep.clone(),
        })
        .expect("intent");
    assert_eq!(
        backend.pending_intents().expect("intents read")[0].planned,
        deep
    );
    backend
        .complete_intent(
            &id,
            Outcome::Upsert(Box::new(record("posture_data.x", deep.clone()))),
        )
        .expect("complete");
    let serial = backend.commit(None, "apply").expect("commit");
    backend.close().expect("close");

    let backend = open(dir.path());
    let state = backend.load().expect("load");
    assert_eq!(state.instances["posture_data.x"].attributes, deep);
    assert_eq!(
        backend.snapshot(serial).expect("snapshot").instances,
        state.instances
    );
    let pulled = backend.pull().expect("pull");
    assert_eq!(backend.push(&pulled, true).expect("push"), serial + 1);
}

#[test]
fn pushed_state_nested_past_the_bound_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let hostile = format!("{{\"format_version\":1,\"x\":{}}}", "[".repeat(200_000));
    let err = backend.push(&hostile, true).expect_err("too deep");
    assert!(matches!(&err, StateError::InvalidPush { .. }), "{err}");
    assert!(
        err.to_string().contains("nested more than 5000 levels"),
        "{err}"
    );
    assert_eq!(backend.load().expect("load").serial, 0);
}

#[test]
fn serial_that_cannot_grow_is_refused_and_never_wraps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    apply_one(&backend, "posture_data.a", json!(1));
    let mut state = backend.load().expect("load");
    let old = encode(&state);
    for serial in [u64::MAX, MAX_SERIAL] {
        state.serial = serial;
        let err = backend
            .push(&encode(&state), true)
            .expect_err("cannot grow");
        assert!(matches!(err, StateError::SerialTooLarge { .. }), "{err}");
    }
    // The last serial that can still grow is accepted; the commit after the
    // bound is refused instead of wrapping to 0.
    state.serial = MAX_SERIAL - 1;
    assert_eq!(
        backend.push(&encode(&state), false).expect("push"),
        MAX_SERIAL - 1
    );
    assert_eq!(apply_one(&backend, "posture_data.b", json!(2)), MAX_SERIAL);
    let id = backend
        .record_intent(NewIntent {
            address: "posture_data.c".into(),
            action: Action::Create,
            planned: json!(3),
        })
        .expect("intent");
    backend
        .complete_intent(
            &id,
            Outcome::Upsert(Box::new(record("posture_data.c", json!(3)))),
        )
        .expect("complete");
    let err = backend.commit(None, "apply").expect_err("cannot grow");
    assert!(matches!(err, StateError::SerialTooLarge { .. }), "{err}");
    assert_eq!(backend.load().expect("load").serial, MAX_SERIAL);
    // History still reads, and the old state cannot come back unforced.
    assert_eq!(
        backend.history().expect("history").last().map(|h| h.serial),
        Some(MAX_SERIAL)
    );
    let err = backend.push(&old, false).expect_err("backwards");
    assert!(matches!(err, StateError::SerialConflict { .. }), "{err}");
    // Forced, it resets the serial: the only way out of an exhausted one.
    assert_eq!(backend.push(&old, true).expect("forced"), 1);
}

#[test]
fn history_reads_serials_whose_key_bytes_are_not_utf8() {
    // Serial 128's big-endian key ends in 0x80: it used to read as corrupt.
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    apply_one(&backend, "posture_data.a", json!(1));
    let mut state = backend.load().expect("load");
    state.serial = 128;
    backend.push(&encode(&state), false).expect("push");
    let serials: Vec<u64> = backend
        .history()
        .expect("history")
        .iter()
        .map(|h| h.serial)
        .collect();
    assert_eq!(serials, [1, 128]);
}

#[test]
fn pushed_garbage_is_an_invalid_push_not_a_corrupt_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let err = backend.push("garbage", false).expect_err("garbage");
    let text = err.to_string();
    assert!(matches!(err, StateError::InvalidPush { .. }), "{text}");
    assert!(text.contains("written by `posture state pull`"), "{text}");
    assert!(
        !text.contains("backup") && !text.contains("state the"),
        "{text}"
    );
}

fn commits(dir: &Path, n: i64) {
    let backend = open(dir);
    for i in 0..n {
        apply_one(
            &backend,
            "posture_data.x",
            json!({ "n": i, "pad": "x".repeat(2_000) }),
        );
    }
    backend.close().expect("close");
}

fn remove_snapshot_files(db: &Path) {
    for e in std::fs::read_dir(db).expect("db dir").flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(e.path()).expect("remove snapshot");
        }
    }
}

#[test]
fn truncated_database_without_seal_or_snapshots_is_refused_not_opened_at_an_older_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    commits(dir.path(), 8);
    let db = dir.path().join("db");
    std::fs::remove_file(dir.path().join("db.seal.json")).expect("remove seal");
    remove_snapshot_files(&db);
    let log = db.join("db");
    let len = std::fs::metadata(&log).expect("log").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .expect("log");
    file.set_len(len.min(6_000)).expect("truncate");
    drop(file);
    let before: Vec<u8> = std::fs::read(&log).expect("log bytes");
    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan"))
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        matches!(err, StateError::HistoryLost { recorded: 8, .. }),
        "{text}"
    );
    assert!(text.contains("but serial 8"), "{text}");
    assert!(
        text.contains("Restore the directory from a backup"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&log).expect("log bytes"),
        before,
        "evidence kept"
    );
}

#[test]
fn lost_history_is_noticed_for_each_combination_of_deleted_records() {
    // (seal deleted, snapshot files deleted): each with a truncated log.
    for (no_seal, no_snaps) in [(false, false), (false, true), (true, false), (true, true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        commits(dir.path(), 8);
        let db = dir.path().join("db");
        if no_seal {
            std::fs::remove_file(dir.path().join("db.seal.json")).expect("remove seal");
        }
        if no_snaps {
            remove_snapshot_files(&db);
        }
        let log = db.join("db");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .expect("log");
        file.set_len(6_000).expect("truncate");
        drop(file);
        match LocalBackend::open(dir.path(), &LockOptions::new("plan")) {
            Ok(b) => {
                let serial = b.load().expect("load").serial;
                assert_eq!(
                    serial, 8,
                    "seal {no_seal} snaps {no_snaps}: opened at {serial}"
                );
            }
            Err(e) => assert!(
                matches!(
                    e,
                    StateError::HistoryLost { .. } | StateError::Corrupt { .. }
                ),
                "seal {no_seal} snaps {no_snaps}: {e}"
            ),
        }
    }
    // The whole database deleted, seal too: the mark still refuses a fresh start.
    let dir = tempfile::tempdir().expect("tempdir");
    commits(dir.path(), 3);
    std::fs::remove_dir_all(dir.path().join("db")).expect("delete db");
    std::fs::remove_file(dir.path().join("db.seal.json")).expect("remove seal");
    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan"))
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("but serial 3 was committed"),
        "{err}"
    );
}

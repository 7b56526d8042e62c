//! Tests of the sled backend: intents, commits, history, pull/push, and
//! damaged databases.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::encoding_tests::fixture;
use super::{
    Action, Backend, InstanceRecord, LocalBackend, LockOptions, NewIntent, Outcome, OutputValue,
    StateError, decode, encode,
};

fn open(dir: &Path) -> LocalBackend {
    LocalBackend::open(dir, &LockOptions::new("test")).expect("open state")
}

fn record(address: &str, value: i64) -> InstanceRecord {
    InstanceRecord {
        address: address.into(),
        mode: Default::default(),
        resource_type: "route53_record".into(),
        provider: "provider.route53".into(),
        target: Some("zone/Z1".into()),
        schema_version: 0,
        attributes: json!({ "ttl": value }),
        sensitive_paths: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        deposed: BTreeMap::new(),
    }
}

fn upsert(address: &str, value: i64) -> Outcome {
    Outcome::Upsert(Box::new(record(address, value)))
}

fn intent(backend: &LocalBackend, address: &str, action: Action) -> super::IntentId {
    backend
        .record_intent(NewIntent {
            address: address.into(),
            action,
            planned: json!({ "name": address }),
        })
        .expect("intent recorded")
}

#[test]
fn a_new_directory_gets_an_empty_state_whose_lineage_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_dir = dir.path().join(".posture");
    let backend = open(&state_dir);
    let state = backend.load().expect("load");
    assert_eq!((state.serial, state.instances.len()), (0, 0));
    assert!(uuid::Uuid::parse_str(&state.lineage).is_ok());
    backend.close().expect("close");
    let again = open(&state_dir).load().expect("load");
    assert_eq!(again.lineage, state.lineage);
}

#[test]
fn completing_intents_updates_records_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let a = intent(&backend, "route53_record.a", Action::Create);
    let b = intent(&backend, "route53_record.b", Action::Create);
    let pending: Vec<String> = backend
        .pending_intents()
        .expect("pending")
        .into_iter()
        .map(|i| i.address)
        .collect();
    assert_eq!(pending.len(), 2);
    assert!(pending.contains(&"route53_record.a".to_string()));

    backend
        .complete_intent(&a, upsert("route53_record.a", 60))
        .expect("complete a");
    backend
        .complete_intent(&b, Outcome::NoChange)
        .expect("complete b");
    assert!(backend.pending_intents().expect("pending").is_empty());
    let state = backend.load().expect("load");
    assert_eq!(
        state.instances.keys().collect::<Vec<_>>(),
        vec!["route53_record.a"]
    );

    let del = intent(&backend, "route53_record.a", Action::Delete);
    backend
        .complete_intent(&del, Outcome::Remove)
        .expect("complete delete");
    assert!(backend.load().expect("load").instances.is_empty());

    let again = backend.complete_intent(&del, Outcome::Remove);
    assert!(matches!(again, Err(StateError::UnknownIntent { .. })));
}

#[test]
fn a_record_for_another_address_is_refused_and_the_intent_stays_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let id = intent(&backend, "route53_record.a", Action::Create);
    let err = backend
        .complete_intent(&id, upsert("route53_record.zzz", 1))
        .expect_err("mismatch");
    assert!(matches!(err, StateError::AddressMismatch { .. }), "{err}");
    assert_eq!(backend.pending_intents().expect("pending").len(), 1);
    assert!(backend.load().expect("load").instances.is_empty());
}

#[test]
fn pending_intents_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let id = intent(&backend, "route53_record.a", Action::Create);
    drop(backend);
    let reopened = open(dir.path());
    let pending = reopened.pending_intents().expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].planned, json!({ "name": "route53_record.a" }));
}

#[test]
fn every_commit_keeps_its_snapshot_and_history_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let a = intent(&backend, "route53_record.a", Action::Create);
    backend
        .complete_intent(&a, upsert("route53_record.a", 60))
        .expect("a");
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "token".to_string(),
        OutputValue {
            value: json!("s3cr3t"),
            sensitive: true,
            type_name: "string".into(),
        },
    );
    assert_eq!(
        backend
            .commit(Some(outputs), "apply: 1 added")
            .expect("commit"),
        1
    );

    let u = intent(&backend, "route53_record.a", Action::Update);
    backend
        .complete_intent(&u, upsert("route53_record.a", 300))
        .expect("u");
    assert_eq!(backend.commit(None, "apply: 1 changed").expect("commit"), 2);

    let history = backend.history().expect("history");
    let summaries: Vec<(u64, &str, usize)> = history
        .iter()
        .map(|h| (h.serial, h.summary.as_str(), h.instances))
        .collect();
    assert_eq!(
        summaries,
        vec![(1, "apply: 1 added", 1), (2, "apply: 1 changed", 1)]
    );
    assert_eq!(history[0].operation, "test");

    let first = backend.snapshot(1).expect("snapshot 1");
    assert_eq!(first.serial, 1);
    assert_eq!(
        first.instances["route53_record.a"].attributes,
        json!({ "ttl": 60 })
    );
    assert!(first.outputs["token"].sensitive);
    let second = backend.snapshot(2).expect("snapshot 2");
    assert_eq!(
        second.instances["route53_record.a"].attributes,
        json!({ "ttl": 300 })
    );
    assert_eq!(second.outputs, first.outputs, "outputs kept when not given");
    assert!(matches!(
        backend.snapshot(3),
        Err(StateError::NoSnapshot { serial: 3 })
    ));
    assert_eq!(backend.load().expect("load").serial, 2);
}

#[test]
fn a_commit_without_changes_keeps_the_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let a = intent(&backend, "route53_record.a", Action::Create);
    backend
        .complete_intent(&a, upsert("route53_record.a", 60))
        .expect("a");
    assert_eq!(backend.commit(None, "apply: 1 added").expect("commit"), 1);
    assert_eq!(
        backend.commit(None, "apply: no changes").expect("commit"),
        1
    );
    // Rewriting an identical record is not a change either.
    let same = intent(&backend, "route53_record.a", Action::Update);
    backend
        .complete_intent(&same, upsert("route53_record.a", 60))
        .expect("same");
    let gone = intent(&backend, "route53_record.zzz", Action::Delete);
    backend
        .complete_intent(&gone, Outcome::Remove)
        .expect("remove absent");
    assert_eq!(
        backend.commit(None, "apply: no changes").expect("commit"),
        1
    );
    assert_eq!(backend.history().expect("history").len(), 1);
    let del = intent(&backend, "route53_record.a", Action::Delete);
    backend
        .complete_intent(&del, Outcome::Remove)
        .expect("remove");
    assert_eq!(
        backend.commit(None, "apply: 1 destroyed").expect("commit"),
        2
    );
    assert!(backend.snapshot(2).expect("snapshot").instances.is_empty());
}

#[test]
fn pull_gives_versioned_json_and_push_checks_lineage_and_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let a = intent(&backend, "route53_record.a", Action::Create);
    backend
        .complete_intent(&a, upsert("route53_record.a", 60))
        .expect("a");
    backend.commit(None, "apply").expect("commit");
    let pulled = decode(&backend.pull().expect("pull"), "pulled").expect("valid JSON state");
    assert_eq!((pulled.format_version, pulled.serial), (1, 1));

    // Same content, same serial: a no-op.
    assert_eq!(backend.push(&encode(&pulled), false).expect("no-op"), 1);
    // Edited without bumping the serial: refused.
    let mut edited = pulled.clone();
    edited
        .instances
        .insert("route53_record.b".into(), record("route53_record.b", 5));
    let err = backend
        .push(&encode(&edited), false)
        .expect_err("same serial");
    assert!(matches!(
        err,
        StateError::SerialConflict {
            current: 1,
            pushed: 1
        }
    ));
    // Bumped: accepted and committed.
    edited.serial = 2;
    assert_eq!(backend.push(&encode(&edited), false).expect("push"), 2);
    assert_eq!(backend.load().expect("load").instances.len(), 2);
    assert_eq!(backend.history().expect("history")[1].summary, "state push");

    // Another lineage: refused, then forced.
    let other = decode(
        &std::fs::read_to_string(fixture("v1/small.json")).expect("fixture"),
        "f",
    )
    .expect("fixture state");
    let err = backend.push(&encode(&other), false).expect_err("lineage");
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
    assert_eq!(backend.push(&encode(&other), true).expect("forced"), 7);
    let now = backend.load().expect("load");
    assert_eq!(
        (now.lineage.as_str(), now.instances.len()),
        (other.lineage.as_str(), 4)
    );
}

#[test]
fn push_is_refused_while_intents_are_pending_or_the_format_is_newer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let mut state = backend.load().expect("load");
    state.serial = 5;
    intent(&backend, "route53_record.a", Action::Create);
    let err = backend.push(&encode(&state), false).expect_err("pending");
    assert!(matches!(err, StateError::PendingIntents { count: 1 }));

    let future = std::fs::read_to_string(fixture("future/format-2.json")).expect("fixture");
    let err = backend.push(&future, true).expect_err("future");
    assert!(matches!(err, StateError::FutureFormat { found: 2, .. }));
    let truncated = std::fs::read_to_string(fixture("corrupt/truncated.json")).expect("fixture");
    let err = backend.push(&truncated, true).expect_err("truncated");
    assert!(matches!(err, StateError::InvalidPush { .. }), "{err}");
    assert_eq!(backend.load().expect("load").serial, 0, "state untouched");
}

/// Every file of a directory tree with its bytes, to prove nothing changed.
fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.insert(path.display().to_string(), bytes);
            }
        }
    }
    out
}

fn populated_state(dir: &Path) {
    let backend = open(dir);
    for i in 0..50 {
        let address = format!("route53_record.r{i}");
        let id = intent(&backend, &address, Action::Create);
        backend
            .complete_intent(&id, upsert(&address, i))
            .expect("complete");
    }
    backend.commit(None, "apply").expect("commit");
    backend.close().expect("close");
}

fn assert_refused_untouched(dir: &Path) {
    let before = tree_bytes(&dir.join("db"));
    let err = LocalBackend::open(dir, &LockOptions::new("plan"))
        .err()
        .expect("refused");
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("left it untouched"), "{err}");
    // Compare without printing megabytes of bytes on failure.
    let after = tree_bytes(&dir.join("db"));
    assert!(after == before, "a damaged database was modified");
    // Refused again on a second try: the evidence is still there.
    let again = LocalBackend::open(dir, &LockOptions::new("plan")).err();
    assert!(
        matches!(again, Some(StateError::Corrupt { .. })),
        "{again:?}"
    );
}

#[test]
fn a_truncated_database_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_state(dir.path());
    let db_file = dir.path().join("db").join("db");
    let len = std::fs::metadata(&db_file).expect("db file").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&db_file)
        .expect("open db file");
    file.set_len(len / 3).expect("truncate");
    drop(file);
    assert_refused_untouched(dir.path());
}

#[test]
fn a_database_with_overwritten_bytes_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_state(dir.path());
    let db_file = dir.path().join("db").join("db");
    let mut bytes = std::fs::read(&db_file).expect("db file");
    for b in bytes.iter_mut().skip(64) {
        *b ^= 0x5a;
    }
    std::fs::write(&db_file, bytes).expect("write damaged");
    assert_refused_untouched(dir.path());
}

#[test]
fn an_emptied_database_directory_is_not_recreated_as_a_fresh_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_state(dir.path());
    std::fs::write(dir.path().join("db").join("db"), b"").expect("empty db file");
    assert_refused_untouched(dir.path());
}

#[test]
fn a_deleted_database_is_not_silently_replaced_by_an_empty_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_state(dir.path());
    std::fs::remove_dir_all(dir.path().join("db")).expect("delete db");
    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan")).err();
    assert!(matches!(&err, Some(StateError::Corrupt { detail, .. }) if detail.contains("missing")));
}

#[test]
fn an_interrupted_recovery_is_reported_instead_of_starting_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    populated_state(dir.path());
    let db = dir.path().join("db");
    let rescue = dir.path().join("db.rescue-interrupted");
    std::fs::rename(&db, &rescue).expect("simulate a kill between remove and rename");
    std::fs::remove_file(dir.path().join("db.seal.json")).expect("no seal either");
    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan")).err();
    assert!(
        matches!(&err, Some(StateError::Corrupt { detail, .. }) if detail.contains("db.rescue-interrupted")),
        "{err:?}"
    );
}

#[test]
fn pending_intents_come_back_in_recording_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let ids: Vec<_> = (0..20)
        .map(|i| intent(&backend, &format!("route53_record.r{i}"), Action::Create))
        .collect();
    let pending: Vec<_> = backend
        .pending_intents()
        .expect("pending")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, ids);
}

#[test]
fn rewrite_commits_an_edit_atomically_with_its_summary_and_refuses_stale_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = open(dir.path());
    let a = intent(&backend, "route53_record.a", Action::Create);
    backend
        .complete_intent(&a, upsert("route53_record.a", 60))
        .expect("a");
    assert_eq!(backend.commit(None, "apply").expect("commit"), 1);

    let mut edit = backend.load().expect("load");
    let rec = edit.instances.remove("route53_record.a").expect("recorded");
    edit.instances.insert(
        "route53_record.b".into(),
        InstanceRecord {
            address: "route53_record.b".into(),
            ..rec
        },
    );
    assert_eq!(
        backend.rewrite(&edit, "state mv: a to b").expect("rewrite"),
        2
    );
    let now = backend.load().expect("load");
    assert_eq!(
        now.instances.keys().collect::<Vec<_>>(),
        vec!["route53_record.b"]
    );
    let history = backend.history().expect("history");
    assert_eq!(history[1].summary, "state mv: a to b");
    assert_eq!(
        backend.snapshot(2).expect("snapshot").instances,
        now.instances
    );

    // Unchanged: nothing committed.
    assert_eq!(backend.rewrite(&now, "nothing").expect("no-op"), 2);
    // Made from an older load: refused, state untouched.
    let err = backend.rewrite(&edit, "stale").expect_err("stale");
    assert!(
        matches!(
            err,
            StateError::SerialConflict {
                current: 2,
                pushed: 1
            }
        ),
        "{err}"
    );
    // Pending intents: refused.
    let mut next = backend.load().expect("load");
    next.instances.clear();
    intent(&backend, "route53_record.c", Action::Create);
    let err = backend.rewrite(&next, "rm").expect_err("pending");
    assert!(
        matches!(err, StateError::PendingIntents { count: 1 }),
        "{err}"
    );
    assert_eq!(backend.load().expect("load").instances.len(), 1);
}

#[test]
fn adopt_copies_every_serial_with_its_history_line_and_refuses_a_state_that_is_not_empty() {
    let (from, to) = (
        tempfile::tempdir().expect("from"),
        tempfile::tempdir().expect("to"),
    );
    let source = open(from.path());
    for value in [60, 120] {
        let i = intent(&source, "route53_record.a", Action::Update);
        source
            .complete_intent(&i, upsert("route53_record.a", value))
            .expect("complete");
        source.commit(None, "apply: 1 changed").expect("commit");
    }
    let current = source.load().expect("load");
    assert_eq!(current.serial, 2);
    let history: Vec<_> = source
        .history()
        .expect("history")
        .into_iter()
        .map(|e| {
            let snap = source.snapshot(e.serial).expect("snapshot");
            (e, snap)
        })
        .collect();

    let target = open(to.path());
    assert!(target.adopts_history());
    assert_eq!(target.adopt(history.clone(), &current).expect("adopt"), 2);
    let copied = target.load().expect("load");
    assert_eq!(
        (copied.lineage.as_str(), copied.serial),
        (current.lineage.as_str(), 2)
    );
    assert_eq!(copied.instances, current.instances);
    assert_eq!(
        target.history().expect("history"),
        source.history().expect("history")
    );
    assert_eq!(
        target.snapshot(1).expect("serial 1").instances,
        source.snapshot(1).expect("serial 1").instances
    );

    let again = target.adopt(history, &current);
    assert!(
        matches!(again, Err(StateError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(
        target.load().expect("load").serial,
        2,
        "nothing overwritten"
    );
}

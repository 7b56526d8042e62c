//! kill -9 safety of the local backend: a child process (this test binary,
//! re-executed with an environment variable) records intents and results and
//! is killed with SIGKILL; a fresh open must show the pending intent, every
//! acknowledged result, and no half-written record.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use posture_engine::state::{
    Action, Backend, InstanceRecord, LocalBackend, LockOptions, NewIntent, Outcome,
};
use serde_json::json;

const CHILD_DIR: &str = "POSTURE_CRASH_TEST_DIR";
const CHILD_PAUSE_AT: &str = "POSTURE_CRASH_TEST_PAUSE_AT";
const CHILD_COMMITS: &str = "POSTURE_CRASH_TEST_COMMITS";
const TOTAL: usize = 100_000;

fn address(i: usize) -> String {
    format!("route53_record.r[\"{i:06}\"]")
}

fn record(i: usize) -> InstanceRecord {
    InstanceRecord {
        address: address(i),
        mode: Default::default(),
        resource_type: "route53_record".into(),
        provider: "provider.route53".into(),
        target: Some("zone/Z1".into()),
        schema_version: 0,
        // Big enough that a torn write would show as a broken record.
        attributes: json!({ "name": format!("r{i}.example.com."), "records": vec![format!("10.0.{}.{}", i / 256 % 256, i % 256); 40] }),
        sensitive_paths: vec![],
        dependencies: vec![],
        create_before_destroy: false,
        tainted: false,
        deposed: BTreeMap::new(),
    }
}

/// The child: create records one by one, printing each acknowledged step;
/// with a pause index, stop after recording that intent and wait to be killed.
fn run_child(dir: &Path, pause_at: Option<usize>, commits: bool) {
    let backend = LocalBackend::open(dir, &LockOptions::new("apply")).expect("child opens state");
    for i in 0..TOTAL {
        let id = backend
            .record_intent(NewIntent {
                address: address(i),
                action: Action::Create,
                planned: json!({ "name": format!("r{i}.example.com.") }),
            })
            .expect("intent");
        println!("CRASH intent {i}");
        if pause_at == Some(i) {
            println!("CRASH paused");
            // Blocks until the parent kills this process.
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            return;
        }
        backend
            .complete_intent(&id, Outcome::Upsert(Box::new(record(i))))
            .expect("complete");
        println!("CRASH done {i}");
        if commits && i % 5 == 4 {
            let serial = backend
                .commit(None, &format!("apply: {} added", i + 1))
                .expect("commit");
            println!("CRASH committed {serial}");
        }
    }
}

fn spawn_child(test_name: &str, dir: &Path, pause_at: Option<usize>, commits: bool) -> Child {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    // The harness names a test by its path in the test binary.
    let exact = format!("it::state_crash::{test_name}");
    cmd.args([exact.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(p) = pause_at {
        cmd.env(CHILD_PAUSE_AT, p.to_string());
    }
    if commits {
        cmd.env(CHILD_COMMITS, "1");
    }
    cmd.spawn().expect("spawn child")
}

/// The child's output, read line by line.
type ChildLines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Reads the child's lines until `stop` is seen; returns the last
/// acknowledged index and the rest of the output.
fn read_until(child: &mut Child, stop: &str) -> (Option<usize>, ChildLines) {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut last_done = None;
    for line in lines.by_ref() {
        let line = line.expect("child output");
        if let Some(i) = line.strip_prefix("CRASH done ") {
            last_done = Some(i.parse::<usize>().expect("index"));
        }
        if line == stop {
            break;
        }
    }
    (last_done, lines)
}

/// After the kill: the last index the child acknowledged before it died.
fn last_acknowledged(mut last: Option<usize>, rest: ChildLines) -> Option<usize> {
    for line in rest.map_while(Result::ok) {
        if let Some(i) = line.strip_prefix("CRASH done ") {
            last = i.parse().ok().or(last);
        }
    }
    last
}

fn kill_9(child: &mut Child) {
    // std's kill sends SIGKILL on Unix: no destructor, no flush, no unlock.
    child.kill().expect("SIGKILL");
    child.wait().expect("reap child");
}

fn child_mode() -> bool {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return false;
    };
    let pause_at = std::env::var(CHILD_PAUSE_AT)
        .ok()
        .and_then(|p| p.parse().ok());
    run_child(
        Path::new(&dir),
        pause_at,
        std::env::var(CHILD_COMMITS).is_ok(),
    );
    true
}

#[test]
fn kill_9_between_intent_and_result_leaves_exactly_that_intent_pending() {
    if child_mode() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_child(
        "kill_9_between_intent_and_result_leaves_exactly_that_intent_pending",
        dir.path(),
        Some(25),
        false,
    );
    let (last_done, _) = read_until(&mut child, "CRASH paused");
    kill_9(&mut child);
    assert_eq!(last_done, Some(24));

    // The dead child's lock is taken over (same host, process gone).
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("plan")).expect("reopen");
    let pending = backend.pending_intents().expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].address, address(25));
    assert_eq!(pending[0].action, Action::Create);
    assert_eq!(pending[0].planned, json!({ "name": "r25.example.com." }));
    let state = backend.load().expect("load");
    let expected: BTreeMap<String, InstanceRecord> =
        (0..25).map(|i| (address(i), record(i))).collect();
    assert_eq!(state.instances, expected);

    // Reconcile: the provider says the object exists, so adopt it.
    backend
        .complete_intent(&pending[0].id, Outcome::Upsert(Box::new(record(25))))
        .expect("reconcile");
    assert!(backend.pending_intents().expect("pending").is_empty());
    assert_eq!(backend.load().expect("load").instances.len(), 26);
}

#[test]
fn kill_9_during_a_stream_of_writes_loses_no_acknowledged_result() {
    if child_mode() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_child(
        "kill_9_during_a_stream_of_writes_loses_no_acknowledged_result",
        dir.path(),
        None,
        false,
    );
    // Kill while the child is busy writing, at whatever step it has reached.
    let (seen, rest) = read_until(&mut child, "CRASH done 200");
    kill_9(&mut child);
    // Results printed before the kill but read after it count too.
    let acknowledged = last_acknowledged(seen, rest).expect("progress");

    let backend = LocalBackend::open(dir.path(), &LockOptions::new("plan")).expect("reopen");
    let state = backend.load().expect("load");
    let pending = backend.pending_intents().expect("pending");
    let n = state.instances.len();
    assert!(
        n > acknowledged,
        "acknowledged result {acknowledged} lost ({n} records)"
    );
    // Records are exactly 0..n, each whole and as written.
    let expected: BTreeMap<String, InstanceRecord> =
        (0..n).map(|i| (address(i), record(i))).collect();
    assert!(
        state.instances == expected,
        "records differ from what was written"
    );
    // At most the one operation in flight is pending, and it is the next one.
    assert!(pending.len() <= 1, "{} pending", pending.len());
    for p in &pending {
        assert_eq!(p.address, address(n));
    }
}

#[test]
fn kill_9_among_commits_keeps_history_snapshots_and_serial_consistent() {
    if child_mode() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_child(
        "kill_9_among_commits_keeps_history_snapshots_and_serial_consistent",
        dir.path(),
        None,
        true,
    );
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut last_commit = 0u64;
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("CRASH committed ") {
            last_commit = n.parse().expect("serial");
            if last_commit == 20 {
                break;
            }
        }
    }
    assert_eq!(last_commit, 20, "the child never reached commit 20");
    kill_9(&mut child);
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("CRASH committed ") {
            last_commit = n.parse().expect("serial");
        }
    }

    let backend = LocalBackend::open(dir.path(), &LockOptions::new("plan")).expect("reopen");
    let state = backend.load().expect("load");
    assert!(
        state.serial >= last_commit,
        "commit {last_commit} lost (serial {})",
        state.serial
    );
    let history = backend.history().expect("history");
    let serials: Vec<u64> = history.iter().map(|h| h.serial).collect();
    assert_eq!(serials, (1..=state.serial).collect::<Vec<_>>());
    for entry in &history {
        let snapshot = backend
            .snapshot(entry.serial)
            .expect("every listed snapshot decodes");
        assert_eq!(snapshot.serial, entry.serial);
        assert_eq!(snapshot.instances.len(), entry.instances);
        // Commit k froze records 0..5k, exactly as written.
        assert_eq!(entry.instances as u64, entry.serial * 5);
        assert!(
            snapshot
                .instances
                .iter()
                .all(|(a, r)| *r == record(parse_index(a)))
        );
    }
}

fn parse_index(address: &str) -> usize {
    address
        .trim_start_matches("route53_record.r[\"")
        .trim_end_matches("\"]")
        .parse()
        .expect("index in address")
}

//! Tests of the state lock: fail fast naming the holder, waiting, stale
//! takeover, force-unlock.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use super::lock::{host_name, pid_namespace, renew_once};
use super::{
    Action, Backend, LocalBackend, LocalLocation, LockInfo, LockOptions, NewIntent, StateError,
    StateLocation, force_unlock, read_lock,
};

fn foreign_lock(host: &str, pid: u32, lease_expires_unix_ms: u64) -> LockInfo {
    LockInfo {
        id: "11111111-2222-4333-8444-555555555555".into(),
        operation: "apply".into(),
        who: format!("alice@{host}"),
        host: host.into(),
        pid,
        pid_namespace: pid_namespace(),
        version: "0.1.0".into(),
        created: "2026-01-01T00:00:00Z".into(),
        lease_expires_unix_ms,
    }
}

fn plant(dir: &std::path::Path, info: &LockInfo) {
    std::fs::write(
        dir.join("lock.json"),
        serde_json::to_string(info).expect("encodes"),
    )
    .expect("write lock.json");
}

#[test]
fn a_second_run_fails_fast_naming_the_holder_and_lock_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("first open");
    let holder = first.lock_info().clone();
    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan"))
        .err()
        .expect("locked");
    match &err {
        StateError::Locked { holder: h } => assert_eq!(**h, holder),
        other => panic!("expected Locked, got {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&holder.id), "{msg}");
    assert!(msg.contains(&holder.who), "{msg}");
    assert!(msg.contains("operation: apply"), "{msg}");
    assert!(
        msg.contains(&format!("posture force-unlock {}", holder.id)),
        "{msg}"
    );
    assert_eq!(read_lock(dir.path()).expect("readable"), Some(holder));
    first.close().expect("close");
    assert_eq!(read_lock(dir.path()).expect("readable"), None);
}

#[test]
fn a_waiting_run_gets_the_lock_once_the_holder_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("first open");
    let first_id = first.lock_info().id.clone();
    let (tx, rx) = mpsc::channel::<String>();
    let path = dir.path().to_path_buf();
    let waiter = std::thread::spawn(move || {
        let options = LockOptions::new("plan")
            .timeout(Duration::from_secs(120))
            .on_wait(move |holder| {
                let _ = tx.send(holder.id.clone());
            });
        LocalBackend::open(&path, &options).map(|b| b.lock_info().operation.clone())
    });
    // The waiter reports whom it waits for; only then is the lock released.
    assert_eq!(rx.recv().expect("waiter started waiting"), first_id);
    first.close().expect("close");
    let got = waiter
        .join()
        .expect("waiter thread")
        .expect("lock obtained after wait");
    assert_eq!(got, "plan");
}

#[test]
fn an_expired_lease_is_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    plant(dir.path(), &foreign_lock("elsewhere.example", 4242, 1_000));
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("takeover");
    let now = read_lock(dir.path()).expect("readable").expect("locked");
    assert_eq!(now.id, backend.lock_info().id);
    assert_ne!(now.id, "11111111-2222-4333-8444-555555555555");
}

#[test]
fn a_live_lease_from_another_host_is_respected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let planted = foreign_lock("elsewhere.example", 4242, u64::MAX);
    plant(dir.path(), &planted);
    let err = LocalBackend::open(dir.path(), &LockOptions::new("apply"))
        .err()
        .expect("locked");
    assert!(matches!(err, StateError::Locked { holder } if *holder == planted));
}

#[cfg(target_os = "linux")]
#[test]
fn a_lock_whose_holder_process_died_on_this_host_is_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("reap child");
    plant(dir.path(), &foreign_lock(&host_name(), dead_pid, u64::MAX));
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("takeover");
    assert_eq!(
        read_lock(dir.path()).expect("readable").map(|l| l.id),
        Some(backend.lock_info().id.clone())
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_dead_pid_from_another_pid_namespace_is_not_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("reap child");
    let mut planted = foreign_lock(&host_name(), dead_pid, u64::MAX);
    planted.pid_namespace = Some("pid:[1]".into());
    plant(dir.path(), &planted);
    let err = LocalBackend::open(dir.path(), &LockOptions::new("apply"))
        .err()
        .expect("locked");
    assert!(matches!(err, StateError::Locked { holder } if *holder == planted));
}

#[test]
fn an_unreadable_lock_file_is_reported_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("lock.json"), "{\"id\": \"trunc").expect("write");
    let err = LocalBackend::open(dir.path(), &LockOptions::new("apply"))
        .err()
        .expect("error");
    assert!(matches!(err, StateError::LockFileCorrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("posture force-unlock damaged-"),
        "{err}"
    );
    let left = std::fs::read_to_string(dir.path().join("lock.json")).expect("still there");
    assert_eq!(left, "{\"id\": \"trunc");
}

#[test]
fn force_unlock_removes_a_lock_file_of_garbage_named_by_its_digest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lock = dir.path().join("lock.json");
    std::fs::write(&lock, b"\xff\xfe garbage \x00\x01").expect("write");
    let err = read_lock(dir.path()).expect_err("damaged");
    let StateError::LockFileCorrupt {
        unlock_id, detail, ..
    } = &err
    else {
        panic!("not LockFileCorrupt: {err}");
    };
    // Not an I/O error: nothing about permissions.
    assert!(detail.contains("not UTF-8"), "{detail}");
    assert!(!err.to_string().contains("may read and write"), "{err}");
    assert!(unlock_id.starts_with("damaged-"), "{unlock_id}");
    // Another id, or a lock rewritten since the id was shown: kept.
    let wrong = force_unlock(dir.path(), "damaged-000000000000").expect_err("wrong id");
    assert!(
        matches!(wrong, StateError::LockFileCorrupt { .. }),
        "{wrong}"
    );
    assert!(lock.exists());
    assert_eq!(force_unlock(dir.path(), unlock_id).expect("removed"), None);
    assert!(!lock.exists());
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("apply"));
    assert!(backend.is_ok(), "{:?}", backend.err());
}

#[test]
fn force_unlock_needs_the_right_id_and_stops_the_old_holder_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("open");
    let id = first.lock_info().id.clone();

    let err = force_unlock(dir.path(), "not-the-id").expect_err("wrong id");
    assert!(matches!(&err, StateError::LockIdMismatch { holder, .. } if holder.id == id));

    let removed = force_unlock(dir.path(), &id).expect("unlocked");
    assert_eq!(removed.map(|r| r.id), Some(id.clone()));
    assert_eq!(read_lock(dir.path()).expect("readable"), None);

    let write = first.record_intent(NewIntent {
        address: "route53_record.a".into(),
        action: Action::Create,
        planned: json!({}),
    });
    assert!(matches!(write, Err(StateError::LockLost { lock_id }) if lock_id == id));

    // The old process still has the database open: a new run gets the lock
    // but is told the database is in use instead of corrupting it.
    let second = LocalBackend::open(dir.path(), &LockOptions::new("apply")).err();
    assert!(
        matches!(second, Some(StateError::DatabaseInUse { .. })),
        "{second:?}"
    );
    drop(first);
    let third = LocalBackend::open(dir.path(), &LockOptions::new("apply"));
    assert!(third.is_ok(), "{:?}", third.err());

    let none = force_unlock(tempfile::tempdir().expect("tempdir").path(), &id).expect_err("none");
    assert!(matches!(none, StateError::NotLocked { .. }));
}

#[test]
fn renewing_extends_only_our_own_lease() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("open");
    let id = backend.lock_info().id.clone();
    let before = read_lock(dir.path()).expect("readable").expect("locked");
    let hour = Duration::from_secs(3600);
    assert!(renew_once(dir.path(), &id, hour).expect("renewed"));
    let after = read_lock(dir.path()).expect("readable").expect("locked");
    assert!(after.lease_expires_unix_ms > before.lease_expires_unix_ms);
    assert_eq!(after.id, before.id);
    assert!(!renew_once(dir.path(), "someone-else", hour).expect("not ours"));
}

#[test]
fn a_location_opens_reports_the_holder_and_force_unlocks_through_the_trait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let location: Box<dyn StateLocation> =
        Box::new(LocalLocation::new(dir.path().join(".posture")));
    assert!(location.describe().starts_with("local state in "));
    assert_eq!(location.lock_holder().expect("readable"), None);
    let backend = location.open(&LockOptions::new("apply")).expect("open");
    let holder = location.lock_holder().expect("readable").expect("held");
    assert_eq!(&holder, backend.lock_info());
    assert_eq!(
        location.force_unlock(&holder.id).expect("unlocked"),
        Some(holder.clone())
    );
    assert_eq!(location.lock_holder().expect("readable"), None);
}

#[test]
fn a_takeover_of_a_holder_that_is_still_alive_is_given_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alive = LocalBackend::open(dir.path(), &LockOptions::new("apply")).expect("open");
    // Its lease looks expired (say its renewal stalled), but it still runs.
    let mut expired = alive.lock_info().clone();
    expired.lease_expires_unix_ms = 1;
    plant(dir.path(), &expired);

    let err = LocalBackend::open(dir.path(), &LockOptions::new("plan")).err();
    assert!(
        matches!(err, Some(StateError::DatabaseInUse { .. })),
        "{err:?}"
    );
    assert_eq!(read_lock(dir.path()).expect("readable"), Some(expired));
    let write = alive.record_intent(NewIntent {
        address: "route53_record.a".into(),
        action: Action::Create,
        planned: json!({}),
    });
    assert!(write.is_ok(), "{:?}", write.err());
}

#[test]
fn lock_info_displays_as_the_familiar_block() {
    let info = foreign_lock("ci-runner-7", 4242, 0);
    assert_eq!(
        info.to_string(),
        "Lock Info:\n  ID:        11111111-2222-4333-8444-555555555555\n  Operation: apply\n  \
         Who:       alice@ci-runner-7\n  PID:       4242\n  Version:   0.1.0\n  \
         Created:   2026-01-01T00:00:00Z"
    );
}

//! `lock_ttl` of the local backend through the `posture` binary: a holder
//! killed with kill -9 on another host (so its pid cannot be checked and
//! only the lease can free the lock) refuses the next run, naming it, until
//! its TTL ran out; then the next apply takes the lock over, recovers, and
//! `state history` names the takeover.
//! The default lease is 2 minutes, which only `force-unlock` shortens; a
//! malformed `lock_ttl` is a configuration error at file:line:col.

#![allow(clippy::unwrap_used)]

use super::support::{Out, TWO_RESOURCES, command, killed, posture};

use posture_engine::state::{LockInfo, read_lock};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

fn dir_with(backend: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let config = format!("posture {{\n  backend \"local\" {{\n{backend}  }}\n}}\n{TWO_RESOURCES}");
    std::fs::write(d.path().join("main.hcl"), config).unwrap();
    d
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// kill -9 of an apply on "another host" once its first batch was answered:
/// `lock.json` and a pending intent stay behind, nobody renews the lease.
fn killed_foreign_holder(dir: &Path) -> LockInfo {
    let mut cmd = command(dir);
    cmd.env("HOSTNAME", "build-runner-7");
    killed(cmd, &["apply", "--auto-approve"], "applied:1");
    read_lock(&dir.join(".posture"))
        .unwrap()
        .expect("the killed run's lock")
}

fn assert_refused_naming(o: &Out, holder: &LockInfo) {
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("state is locked by"), "{}", o.all());
    assert!(o.stderr.contains(&holder.id), "{}", o.all());
    assert!(o.stderr.contains("build-runner-7"), "{}", o.all());
}

#[test]
fn a_killed_holders_local_lock_expires_after_lock_ttl_and_the_next_apply_takes_it_over() {
    let d = dir_with("    lock_ttl = \"3s\"\n");
    let dead = killed_foreign_holder(d.path());
    // The lease is the configured 3 s, not the 2-minute default.
    assert!(
        dead.lease_expires_unix_ms <= now_ms() + 3_000,
        "lease ends {} ms from now",
        dead.lease_expires_unix_ms.saturating_sub(now_ms())
    );
    let o = posture(d.path(), &["plan"]);
    assert_refused_naming(&o, &dead);

    // Polling the lock until the lease ran out is posture's own
    // --lock-timeout; the deadline is far beyond the 3 s TTL.
    let o = posture(
        d.path(),
        &["apply", "--auto-approve", "--lock-timeout", "60s"],
    );
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stderr.contains("Waiting for the state lock held by"),
        "{}",
        o.all()
    );
    assert!(o.stderr.contains("Recovered: "), "{}", o.all());
    assert!(
        now_ms() > dead.lease_expires_unix_ms,
        "taken over before the lease ended"
    );
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
    // The history names the takeover and the dead holder; the lock is released.
    let o = posture(d.path(), &["state", "history"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stdout.contains("lock taken over from"), "{}", o.all());
    assert!(o.stdout.contains("build-runner-7"), "{}", o.all());
    assert!(o.stdout.contains(&dead.id), "{}", o.all());
    assert!(read_lock(&d.path().join(".posture")).unwrap().is_none());
}

#[test]
fn the_default_local_lease_is_two_minutes_and_force_unlock_frees_a_killed_holders_lock() {
    let d = dir_with("");
    let dead = killed_foreign_holder(d.path());
    let left = dead.lease_expires_unix_ms.saturating_sub(now_ms());
    assert!(
        left > 60_000 && left <= 120_000,
        "lease ends {left} ms from now"
    );
    let o = posture(
        d.path(),
        &["apply", "--auto-approve", "--lock-timeout", "2s"],
    );
    assert_refused_naming(&o, &dead);
    let o = posture(d.path(), &["force-unlock", "--force", "not-the-id"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let o = posture(d.path(), &["force-unlock", "--force", &dead.id]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(o.stderr.contains("Recovered: "), "{}", o.all());
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
}

#[test]
fn a_malformed_local_lock_ttl_is_a_configuration_error_at_its_position() {
    for bad in ["\"soon\"", "\"0s\"", "true"] {
        let d = dir_with(&format!("    lock_ttl = {bad}\n"));
        let o = posture(d.path(), &["plan"]);
        assert_eq!(o.code, 1, "{bad}: {}", o.all());
        assert!(
            o.stderr.contains("Invalid backend setting"),
            "{bad}: {}",
            o.all()
        );
        assert!(
            o.stderr
                .contains("The local backend setting lock_ttl must be"),
            "{bad}: {}",
            o.all()
        );
        assert!(o.stderr.contains("main.hcl:3:16"), "{bad}: {}", o.all());
        assert!(
            !d.path().join(".posture").exists(),
            "{bad}: nothing written"
        );
    }
}

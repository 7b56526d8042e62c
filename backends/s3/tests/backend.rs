//! The S3 backend against moto's S3: the lock (refused, released, expired
//! and taken over, force-unlocked, raced), intents across a crash, commits
//! guarded by ETag, history and snapshots.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use posture_engine::state::{
    Action, LockInfo, LockOptions, NewIntent, Outcome, StateError, StateLocation,
};
use serde_json::json;
use support::{Peer, record};

fn intent(address: &str) -> NewIntent {
    NewIntent {
        address: address.into(),
        action: Action::Create,
        planned: json!({ "input": "planned" }),
    }
}

fn opts(op: &str) -> LockOptions {
    LockOptions::new(op)
}

#[test]
fn a_held_lock_refuses_a_second_run_naming_the_holder_and_close_frees_it() {
    let peer = Peer::start();
    let loc = peer.location("team/state.json");
    let a = loc.open(&opts("apply")).unwrap();
    let holder_id = a.lock_info().id.clone();
    let err = peer
        .location("team/state.json")
        .open(&opts("plan"))
        .err()
        .unwrap();
    match &err {
        StateError::Locked { holder } => {
            assert_eq!(holder.id, holder_id);
            assert_eq!(holder.operation, "apply");
        }
        other => panic!("expected Locked, got {other}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("posture force-unlock {holder_id}"))
    );
    assert_eq!(loc.lock_holder().unwrap().unwrap().id, holder_id);
    a.close().unwrap();
    assert!(loc.lock_holder().unwrap().is_none());
    loc.open(&opts("plan")).unwrap().close().unwrap();
}

#[test]
fn the_heartbeat_keeps_a_live_lock_past_its_ttl() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("apply")).unwrap();
    // Waiting twice the 2 s TTL: only the heartbeat keeps the lock from expiring.
    let err = peer
        .location("state.json")
        .open(&opts("plan").timeout(Duration::from_secs(4)))
        .err()
        .unwrap();
    assert!(matches!(err, StateError::Locked { .. }), "{err}");
    a.close().unwrap();
}

#[test]
fn an_expired_lock_is_taken_over_and_the_takeover_is_recorded() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    // A run killed with -9: its lock object stays, its lease long past.
    let mut dead = LockInfo::for_this_process("apply", Duration::from_secs(1));
    dead.lease_expires_unix_ms = 1_000;
    dead.who = "ci@runner-7".into();
    let body = json!({ "lock": dead }).to_string();
    peer.put(&loc, "state.json.lock", &body);
    let b = loc.open(&opts("apply")).unwrap();
    assert_ne!(b.lock_info().id, dead.id);
    let id = b.record_intent(intent("posture_data.a")).unwrap();
    b.complete_intent(&id, record("posture_data.a", "1"))
        .unwrap();
    assert_eq!(b.commit(None, "apply: 1 added").unwrap(), 1);
    let history = b.history().unwrap();
    let last = &history.last().unwrap().summary;
    assert!(last.contains("taken over from ci@runner-7"), "{last}");
    assert!(last.contains(&dead.id), "{last}");
    b.close().unwrap();
}

#[test]
fn two_concurrent_takers_never_both_win() {
    let peer = Peer::start();
    for round in 0..6 {
        let key = format!("race-{round}.json");
        if round % 2 == 1 {
            // Odd rounds race for an expired lock (takeover by If-Match).
            let mut dead = LockInfo::for_this_process("apply", Duration::from_secs(1));
            dead.lease_expires_unix_ms = 1_000;
            let loc = peer.location(&key);
            peer.put(
                &loc,
                &format!("{key}.lock"),
                &json!({ "lock": dead }).to_string(),
            );
        }
        let barrier = Arc::new(Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let loc = peer.location(&key);
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    loc.open(&opts("apply"))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {winners} runs took the lock");
        for r in results {
            match r {
                Ok(b) => b.close().unwrap(),
                Err(e) => assert!(matches!(e, StateError::Locked { .. }), "{e}"),
            }
        }
    }
}

#[test]
fn force_unlock_needs_the_id_and_the_holder_then_writes_nothing() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("apply")).unwrap();
    let id = a.lock_info().id.clone();
    let err = loc.force_unlock("not-the-id").err().unwrap();
    assert!(matches!(err, StateError::LockIdMismatch { .. }), "{err}");
    assert_eq!(loc.force_unlock(&id).unwrap().unwrap().id, id);
    let err = a.record_intent(intent("posture_data.a")).err().unwrap();
    assert!(matches!(err, StateError::LockLost { .. }), "{err}");
    let err = loc.force_unlock(&id).err().unwrap();
    assert!(matches!(err, StateError::NotLocked { .. }), "{err}");
    let b = loc.open(&opts("apply")).unwrap();
    drop(a);
    // The old holder's drop did not remove the new lock.
    assert_eq!(loc.lock_holder().unwrap().unwrap().id, b.lock_info().id);
    b.close().unwrap();
}

#[test]
fn a_damaged_lock_object_is_named_and_force_unlocked_by_its_etag_id() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    peer.put(&loc, "state.json.lock", "{not json");
    let err = loc.open(&opts("apply")).err().unwrap();
    let StateError::LockFileCorrupt { unlock_id, .. } = &err else {
        panic!("expected LockFileCorrupt, got {err}");
    };
    assert!(loc.force_unlock(unlock_id).unwrap().is_none());
    loc.open(&opts("apply")).unwrap().close().unwrap();
}

#[test]
fn intents_survive_a_crash_and_completed_ones_are_not_lost() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("apply")).unwrap();
    let x = a.record_intent(intent("posture_data.x")).unwrap();
    let y = a.record_intent(intent("posture_data.y")).unwrap();
    a.complete_intent(&y, record("posture_data.y", "why"))
        .unwrap();
    // Killed: no commit, no close.
    drop(a);
    let b = loc.open(&opts("apply")).unwrap();
    let pending = b.pending_intents().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, x);
    assert_eq!(pending[0].address, "posture_data.x");
    assert!(b.load().unwrap().instances.contains_key("posture_data.y"));
    b.complete_intent(&x, Outcome::Remove).unwrap();
    assert_eq!(b.commit(None, "apply").unwrap(), 1);
    b.close().unwrap();
    let c = loc.open(&opts("plan")).unwrap();
    assert!(c.pending_intents().unwrap().is_empty());
    let state = c.load().unwrap();
    assert_eq!(state.serial, 1);
    assert_eq!(
        state.instances.keys().collect::<Vec<_>>(),
        ["posture_data.y"]
    );
    // Folded into serial 1: their objects are gone.
    assert!(!peer.keys(&loc).iter().any(|k| k.contains(".intents/")));
    c.close().unwrap();
}

#[test]
fn a_commit_over_a_state_changed_underneath_is_refused() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("apply")).unwrap();
    let id = a.record_intent(intent("posture_data.a")).unwrap();
    a.complete_intent(&id, record("posture_data.a", "1"))
        .unwrap();
    // Someone rewrote the state object behind the lock's back.
    let mut other = a.load().unwrap();
    other.serial = 7;
    other.instances.clear();
    peer.put(&loc, "state.json", &posture_engine::state::encode(&other));
    let err = a.commit(None, "apply").err().unwrap();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    a.close().unwrap();
    let b = loc.open(&opts("plan")).unwrap();
    assert_eq!(b.load().unwrap().serial, 7);
    // The refused run's outcome is not silently dropped: the intent is
    // pending again, so recovery reads posture_data.a back from its provider.
    let pending = b.pending_intents().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].address, "posture_data.a");
    b.close().unwrap();
}

#[test]
fn history_and_snapshots_are_kept_per_serial_and_read_from_another_location() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("apply")).unwrap();
    for (n, v) in ["one", "two"].iter().enumerate() {
        let id = a.record_intent(intent("posture_data.a")).unwrap();
        a.complete_intent(&id, record("posture_data.a", v)).unwrap();
        assert_eq!(a.commit(None, &format!("apply {v}")).unwrap(), n as u64 + 1);
    }
    // Nothing changed: no new serial.
    assert_eq!(a.commit(None, "apply none").unwrap(), 2);
    a.close().unwrap();
    let b = peer
        .location("state.json")
        .open(&opts("state history"))
        .unwrap();
    let h = b.history().unwrap();
    let lines: Vec<_> = h.iter().map(|e| (e.serial, e.summary.as_str())).collect();
    assert_eq!(lines, [(1, "apply one"), (2, "apply two")]);
    let first = b.snapshot(1).unwrap();
    assert_eq!(first.instances["posture_data.a"].attributes["input"], "one");
    assert!(matches!(
        b.snapshot(9),
        Err(StateError::NoSnapshot { serial: 9 })
    ));
    let pulled = b.pull().unwrap();
    assert!(pulled.contains("\"two\""));
    b.close().unwrap();
}

#[test]
fn push_and_rewrite_keep_the_local_backends_rules() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    let a = loc.open(&opts("state push")).unwrap();
    let mut s = a.load().unwrap();
    s.lineage = "5e0f1e57-1a55-4a1e-9c1e-000000000001".into();
    s.serial = 5;
    let err = a
        .push(&posture_engine::state::encode(&s), false)
        .err()
        .unwrap();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
    let mut s = a.load().unwrap();
    if let Outcome::Upsert(r) = record("posture_data.p", "pushed") {
        s.instances.insert("posture_data.p".into(), *r);
    }
    s.serial = 4;
    assert_eq!(
        a.push(&posture_engine::state::encode(&s), false).unwrap(),
        4
    );
    let mut edited = a.load().unwrap();
    edited.instances.clear();
    assert_eq!(a.rewrite(&edited, "state rm posture_data.p").unwrap(), 5);
    let h = a.history().unwrap();
    assert_eq!(h.last().unwrap().summary, "state rm posture_data.p");
    a.close().unwrap();
}

#[test]
fn a_missing_bucket_is_named_with_what_to_do() {
    let peer = Peer::start();
    let mut s = peer.settings("state.json");
    s.bucket = "no-such-bucket".into();
    let err = posture_backend_s3::S3Location::new(s)
        .unwrap()
        .open(&opts("plan"))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("NoSuchBucket"), "{text}");
    assert!(text.contains("create the bucket"), "{text}");
    assert!(text.contains("s3://no-such-bucket/"), "{text}");
}

#[test]
fn workspaces_live_under_the_key_prefix() {
    let peer = Peer::start();
    let mut s = peer.settings("app/state.json");
    s.workspace = "staging".into();
    let loc = posture_backend_s3::S3Location::new(s).unwrap();
    assert_eq!(loc.key(), "env:/staging/app/state.json");
    loc.open(&opts("plan")).unwrap().close().unwrap();
    assert!(
        peer.keys(&loc)
            .contains(&"env:/staging/app/state.json".to_string())
    );
}

#[test]
fn objects_are_written_with_the_server_side_encryption_asked_for() {
    let peer = Peer::start();
    let mut s = peer.settings("state.json");
    s.server_side_encryption = Some("AES256".into());
    let loc = posture_backend_s3::S3Location::new(s).unwrap();
    let a = loc.open(&opts("apply")).unwrap();
    let id = a.record_intent(intent("posture_data.a")).unwrap();
    a.complete_intent(&id, record("posture_data.a", "1"))
        .unwrap();
    a.commit(None, "apply").unwrap();
    a.close().unwrap();
    for key in peer.keys(&loc) {
        let head = peer
            .rt
            .block_on(
                loc.client()
                    .head_object()
                    .bucket(support::BUCKET)
                    .key(&key)
                    .send(),
            )
            .unwrap();
        let sse = head
            .server_side_encryption()
            .map(|s| s.as_str().to_string());
        assert_eq!(sse.as_deref(), Some("AES256"), "{key}");
    }
}

#[test]
fn the_test_peer_refuses_a_second_conditional_create() {
    // The lock's safety rests on this: a peer that accepted it would let
    // two runs hold the lock (docs/backends/s3.md).
    let peer = Peer::start();
    let loc = peer.location("probe.json");
    let put = |body: &str| {
        let req = loc
            .client()
            .put_object()
            .bucket(support::BUCKET)
            .key("probe.json.lock")
            .if_none_match("*")
            .body(body.as_bytes().to_vec().into());
        // The HTTP status, so the test reads as the protocol.
        match peer.rt.block_on(req.send()) {
            Ok(_) => 200,
            Err(e) => e.raw_response().map_or(0, |r| r.status().as_u16()),
        }
    };
    assert_eq!(put("first"), 200);
    assert_eq!(put("second"), 412, "the second create is refused");
}

#[test]
fn a_corrupt_state_object_is_named_and_left_untouched() {
    let peer = Peer::start();
    let loc = peer.location("state.json");
    peer.put(&loc, "state.json", "{\"format_version\": 1, \"lin");
    let err = loc.open(&opts("plan")).err().unwrap();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("s3://posture-state/state.json"),
        "{err}"
    );
    // The lock was released and the object kept as it was.
    assert!(loc.lock_holder().unwrap().is_none());
    let body = peer
        .rt
        .block_on(
            loc.client()
                .get_object()
                .bucket(support::BUCKET)
                .key("state.json")
                .send(),
        )
        .unwrap()
        .body;
    let bytes = peer.rt.block_on(body.collect()).unwrap().into_bytes();
    assert_eq!(&bytes[..], b"{\"format_version\": 1, \"lin");
}

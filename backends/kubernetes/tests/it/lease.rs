//! The Lease lock: refused while held (naming the holder), a dead holder's
//! Lease taken over once its TTL ran out (recorded with the previous
//! holder), force-unlock, and a lost lock stopping writes.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use posture_engine::state::{LockInfo, LockOptions, StateError, StateLocation, encode};

use super::{Peer, state};

impl Peer {
    fn leases(&self) -> Api<Lease> {
        Api::namespaced(self.secrets().into_client(), "default")
    }

    /// Writes the Lease a run killed `ago` after its last heartbeat leaves.
    fn dead_holder(&self, name: &str, ttl_seconds: i32, ago: Duration) -> LockInfo {
        let info = LockInfo::for_this_process("apply", Duration::from_secs(1));
        let renewed = k8s_openapi::jiff::Timestamp::now() - ago;
        let lease: Lease = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": format!("{name}-lock"),
                "annotations": {"posture.dev/lock": serde_json::to_string(&info).unwrap()},
            },
            "spec": {
                "holderIdentity": info.id,
                "leaseDurationSeconds": ttl_seconds,
                "acquireTime": k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(renewed),
                "renewTime": k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(renewed),
            },
        }))
        .unwrap();
        self.rt
            .block_on(self.leases().create(&Default::default(), &lease))
            .unwrap();
        info
    }
}

#[test]
fn a_held_lease_refuses_a_second_run_naming_the_holder_and_is_free_after_close() {
    let peer = Peer::start();
    let loc = peer.location("held");
    let first = loc.open(&LockOptions::new("drift-check")).unwrap();
    let id = first.lock_info().id.clone();
    let Err(StateError::Locked { holder }) = loc.open(&LockOptions::new("apply")) else {
        panic!("a second run got the lock");
    };
    assert_eq!(
        (holder.id.as_str(), holder.operation.as_str()),
        (id.as_str(), "drift-check")
    );
    let text = StateError::Locked { holder }.to_string();
    assert!(text.contains(&id) && text.contains("drift-check"), "{text}");
    assert_eq!(loc.lock_holder().unwrap().unwrap().id, id);
    // The Lease carries the standard fields.
    let lease = peer
        .rt
        .block_on(peer.leases().get(&format!("{}-lock", loc.name())))
        .unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some(id.as_str()));
    assert_eq!(spec.lease_duration_seconds, Some(2));
    assert!(spec.renew_time.is_some() && spec.acquire_time.is_some());
    first.close().unwrap();
    assert!(loc.lock_holder().unwrap().is_none());
    loc.open(&LockOptions::new("apply"))
        .unwrap()
        .close()
        .unwrap();
}

#[test]
fn the_heartbeat_keeps_a_live_holders_lease_past_its_ttl() {
    let peer = Peer::start();
    let loc = peer.location("beat");
    let first = loc.open(&LockOptions::new("apply")).unwrap();
    let mut opts = LockOptions::new("apply");
    // Three TTLs of waiting: without renewals the Lease would have expired.
    opts.timeout = Duration::from_secs(6);
    let Err(StateError::Locked { holder }) = loc.open(&opts) else {
        panic!("the live holder's Lease was taken over");
    };
    assert_eq!(holder.id, first.lock_info().id);
    assert!(first.commit(None, "still mine").is_ok());
}

#[test]
fn a_dead_holders_lease_expires_after_its_ttl_and_the_takeover_is_recorded_with_the_previous_holder()
 {
    let peer = Peer::start();
    let loc = peer.location("dead");
    // Renewed just now, 2 s TTL, never renewed again: its holder died.
    let dead = peer.dead_holder(loc.name(), 2, Duration::ZERO);
    let Err(StateError::Locked { holder }) = loc.open(&LockOptions::new("apply")) else {
        panic!("taken over before the TTL ran out");
    };
    assert_eq!(holder.id, dead.id);
    let mut opts = LockOptions::new("apply");
    opts.timeout = Duration::from_secs(30);
    let started = Instant::now();
    let b = loc.open(&opts).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(b.lock_info().id, dead.id);
    assert_eq!(loc.took_over().unwrap().unwrap().id, dead.id);
    let lineage = b.load().unwrap().lineage;
    b.push(&encode(&state(&lineage, 1, 1, 10, "x")), false)
        .unwrap();
    let line = &b.history().unwrap()[0].summary;
    assert!(line.contains("lock taken over from"), "{line}");
    assert!(line.contains(&dead.id), "{line}");
    b.close().unwrap();
}

#[test]
fn force_unlock_frees_the_lease_and_the_old_holder_may_write_no_more() {
    let peer = Peer::start();
    let loc = peer.location("force");
    let held = loc.open(&LockOptions::new("apply")).unwrap();
    let id = held.lock_info().id.clone();
    assert!(matches!(
        loc.force_unlock("not-the-id"),
        Err(StateError::LockIdMismatch { .. })
    ));
    assert_eq!(loc.force_unlock(&id).unwrap().unwrap().id, id);
    assert!(matches!(
        held.commit(None, "late"),
        Err(StateError::LockLost { .. })
    ));
    let next = loc.open(&LockOptions::new("apply")).unwrap();
    // The old holder's drop does not release the new holder's lock.
    drop(held);
    assert_eq!(loc.lock_holder().unwrap().unwrap().id, next.lock_info().id);
    next.close().unwrap();
}

#[test]
fn of_runs_racing_for_a_free_or_an_expired_lease_exactly_one_wins() {
    let peer = Peer::start();
    let loc = std::sync::Arc::new(peer.location("race-lock"));
    for round in 0..3 {
        if round > 0 {
            // A dead run's Lease, which ran out long ago, replaces the free one.
            let name = format!("{}-lock", loc.name());
            let api = peer.leases();
            let mut l = peer.rt.block_on(api.get(&name)).unwrap();
            let info = LockInfo::for_this_process("apply", Duration::from_secs(1));
            l.metadata.annotations = Some(
                [(
                    "posture.dev/lock".to_string(),
                    serde_json::to_string(&info).unwrap(),
                )]
                .into(),
            );
            let spec = l.spec.as_mut().unwrap();
            let past = k8s_openapi::jiff::Timestamp::now() - Duration::from_secs(60);
            spec.holder_identity = Some(info.id);
            spec.renew_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
                past,
            ));
            peer.rt
                .block_on(api.replace(&name, &Default::default(), &l))
                .unwrap();
        }
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let runs: Vec<_> = (0..6)
            .map(|_| {
                let (loc, barrier) = (loc.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    loc.open(&LockOptions::new("apply"))
                })
            })
            .collect();
        let results: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert_eq!(
            loc.took_over().unwrap().is_some(),
            round > 0,
            "round {round}"
        );
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, StateError::Locked { .. }), "{e}");
            }
        }
        for b in results.into_iter().flatten() {
            b.close().unwrap();
        }
    }
}

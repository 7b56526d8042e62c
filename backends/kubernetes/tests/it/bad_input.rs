//! Bad input gets a clear error naming what to do, and nothing is
//! overwritten: a missing namespace, an unreachable cluster, a corrupted
//! chunk, an index pointing at a missing generation.

use posture_backend_kubernetes::K8sLocation;
use posture_engine::state::{LockOptions, StateLocation, encode};

use super::{Peer, state};

#[test]
fn a_missing_namespace_says_to_create_it() {
    let peer = Peer::start();
    let mut s = peer.settings("x");
    s.namespace = "nope".into();
    let err = K8sLocation::new(s)
        .unwrap()
        .open(&LockOptions::new("apply"))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("kubectl create namespace nope"), "{text}");
}

#[test]
fn an_unreachable_cluster_names_the_server_and_the_settings_to_check() {
    let peer = Peer::start();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    // The sandbox's kubeconfig with its server moved to a closed port.
    let text = std::fs::read_to_string(&peer.kubeconfig).unwrap();
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    std::fs::write(&kc, text.replace(&server, "https://127.0.0.1:1")).unwrap();
    let mut s = peer.settings("x");
    s.kubeconfig = Some(kc.display().to_string());
    let err = K8sLocation::new(s)
        .unwrap()
        .open(&LockOptions::new("apply"))
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("cannot reach the API server at https://127.0.0.1:1"),
        "{text}"
    );
    assert!(text.contains("`context`"), "{text}");
    let mut s = peer.settings("x");
    s.context = Some("nowhere".into());
    let text = K8sLocation::new(s).err().unwrap().to_string();
    assert!(text.contains("no context \"nowhere\""), "{text}");
}

/// A state at serial 1 with its index's resourceVersion.
fn committed(peer: &Peer, suffix: &str) -> (K8sLocation, String) {
    let loc = peer.location(suffix);
    let b = loc.open(&LockOptions::new("apply")).unwrap();
    let lineage = b.load().unwrap().lineage;
    b.push(&encode(&state(&lineage, 1, 3, 100, "x")), false)
        .unwrap();
    b.close().unwrap();
    let rv = peer.objects(loc.name(), "index")[0]
        .metadata
        .resource_version
        .clone()
        .unwrap();
    (loc, rv)
}

fn current_chunk(peer: &Peer, loc: &K8sLocation) -> String {
    let index = &peer.objects(loc.name(), "index")[0];
    let doc: serde_json::Value =
        serde_json::from_slice(&index.data.as_ref().unwrap()["index.json"].0).unwrap();
    doc["pointer"]["chunks"][0].as_str().unwrap().to_string()
}

#[test]
fn a_corrupted_chunk_is_refused_and_nothing_is_overwritten() {
    let peer = Peer::start();
    let (loc, rv) = committed(&peer, "bad-chunk");
    let name = current_chunk(&peer, &loc);
    let api = peer.secrets();
    let mut s = peer.rt.block_on(api.get(&name)).unwrap();
    s.data.as_mut().unwrap().get_mut("chunk").unwrap().0[12] ^= 0xff;
    peer.rt
        .block_on(api.replace(&name, &Default::default(), &s))
        .unwrap();
    let text = loc
        .open(&LockOptions::new("apply"))
        .err()
        .unwrap()
        .to_string();
    assert!(text.contains("SHA-256"), "{text}");
    assert!(text.contains("restore it from a backup"), "{text}");
    assert!(text.contains("generation s1-"), "{text}");
    assert_eq!(
        peer.objects(loc.name(), "index")[0]
            .metadata
            .resource_version,
        Some(rv)
    );
    assert!(
        loc.lock_holder().unwrap().is_none(),
        "the lock was released"
    );
}

#[test]
fn an_index_pointing_at_a_missing_generation_is_refused_and_nothing_is_overwritten() {
    let peer = Peer::start();
    let (loc, rv) = committed(&peer, "gone");
    let name = current_chunk(&peer, &loc);
    peer.rt
        .block_on(peer.secrets().delete(&name, &Default::default()))
        .unwrap();
    let text = loc
        .open(&LockOptions::new("apply"))
        .err()
        .unwrap()
        .to_string();
    assert!(text.contains("the chunk Secret is missing"), "{text}");
    assert!(text.contains("generation s1-"), "{text}");
    assert_eq!(
        peer.objects(loc.name(), "index")[0]
            .metadata
            .resource_version,
        Some(rv)
    );
    assert!(loc.read_committed().is_err());
}

//! State as generations of gzip chunks switched by one index update:
//! chunking above 1 MiB, readers that never see a mix, history kept per
//! serial, generations that never became current collected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use posture_backend_kubernetes::CHUNK_SIZE;
use posture_engine::state::{LockOptions, StateLocation, encode};

use super::{Peer, state, tag_of};

#[test]
fn a_state_over_one_mib_is_stored_in_chunks_of_at_most_one_mib_and_read_back_whole() {
    let peer = Peer::start();
    let loc = peer.location("big");
    let b = loc.open(&LockOptions::new("apply")).unwrap();
    let lineage = b.load().unwrap().lineage;
    // ~3 MiB of hex text: about 1.7 MiB once gzipped, so two chunks or more.
    let big = state(&lineage, 1, 300, 10_000, "one");
    assert_eq!(b.push(&encode(&big), false).unwrap(), 1);
    b.close().unwrap();

    let index = &peer.objects(loc.name(), "index")[0];
    let doc: serde_json::Value =
        serde_json::from_slice(&index.data.as_ref().unwrap()["index.json"].0).unwrap();
    let chunks = doc["pointer"]["chunks"].as_array().unwrap();
    assert!(chunks.len() >= 2, "chunked: {doc}");
    let generation = doc["pointer"]["generation"].as_str().unwrap();
    for s in peer.objects(loc.name(), "chunk") {
        let labels = s.metadata.labels.clone().unwrap();
        if labels["posture.dev/generation"] == generation {
            let len = s.data.as_ref().unwrap()["chunk"].0.len();
            assert!(len <= CHUNK_SIZE, "a chunk of {len} bytes");
        }
    }
    let read = loc.read_committed().unwrap().unwrap();
    assert_eq!(read.instances, big.instances);
    assert_eq!((read.serial, read.lineage), (1, lineage));
}

#[test]
fn a_reader_during_concurrent_commits_sees_the_old_or_the_new_generation_never_a_mix() {
    let peer = Peer::start();
    let loc = Arc::new(peer.location("race"));
    let b = loc.open(&LockOptions::new("apply")).unwrap();
    let lineage = b.load().unwrap().lineage;
    // Each state is several chunks; every instance of one carries its tag.
    let states: Vec<_> = (0..2)
        .map(|i| state(&lineage, 0, 200, 12_000, &format!("tag-{i}")))
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (loc, done, reads) = (loc.clone(), done.clone(), reads.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let s = loc.read_committed().unwrap().unwrap();
                // A mix panics in tag_of; a torn read fails the digest check.
                let t = tag_of(&s);
                assert_eq!(s.instances.len(), if t.is_some() { 200 } else { 0 });
                if seen.last() != Some(&t) {
                    seen.push(t);
                }
                reads.fetch_add(1, Ordering::SeqCst);
            }
            seen
        })
    };
    for round in 0..6u64 {
        let mut s = states[(round % 2) as usize].clone();
        s.serial = round + 1;
        b.push(&encode(&s), false).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.join().unwrap();
    assert!(reads.load(Ordering::SeqCst) > 0);
    assert!(!seen.is_empty());
    // Every switch kept the old generation for history; none was lost.
    assert_eq!(b.history().unwrap().len(), 6);
    assert_eq!(tag_of(&b.snapshot(3).unwrap()).as_deref(), Some("tag-0"));
    assert_eq!(tag_of(&b.snapshot(4).unwrap()).as_deref(), Some("tag-1"));
    b.close().unwrap();
}

#[test]
fn a_generation_that_never_became_current_is_collected_by_the_next_switch_of_its_serial() {
    let peer = Peer::start();
    let loc = peer.location("gc");
    let b = loc.open(&LockOptions::new("apply")).unwrap();
    let lineage = b.load().unwrap().lineage;
    // A writer killed after its chunks and before the switch left these.
    let orphan = peer.objects(loc.name(), "chunk")[0].clone();
    let mut copy = orphan.clone();
    copy.metadata = kube::api::ObjectMeta {
        name: Some(format!("{}-s1-deadbeef-0", loc.name())),
        labels: Some({
            let mut l = orphan.metadata.labels.clone().unwrap();
            l.insert("posture.dev/generation".into(), "s1-deadbeef".into());
            l.insert("posture.dev/serial".into(), "1".into());
            l
        }),
        ..Default::default()
    };
    peer.rt
        .block_on(peer.secrets().create(&Default::default(), &copy))
        .unwrap();
    b.push(&encode(&state(&lineage, 1, 2, 10, "x")), false)
        .unwrap();
    let names: Vec<String> = peer
        .objects(loc.name(), "chunk")
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    assert!(!names.iter().any(|n| n.contains("deadbeef")), "{names:?}");
    // serial 0's generation (history) and serial 1's (current) stay.
    assert_eq!(names.len(), 2, "{names:?}");
    b.close().unwrap();
}

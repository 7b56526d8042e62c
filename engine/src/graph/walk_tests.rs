//! Tests of the parallel walker: ordering, the parallelism bound, failure
//! propagation and cancellation. Synchronisation uses barriers and channels,
//! never sleeps; the only timeout guards against a hang turning into a stuck CI.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Barrier;
use tokio_util::sync::CancellationToken;

use super::{Dag, NodeId, SkipReason, walk};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Start(NodeId),
    End(NodeId),
}

/// A layered graph: `layers` layers of `width` nodes, each node depending on
/// two nodes of the previous layer.
fn layered(layers: usize, width: usize) -> Dag<String> {
    let mut dag = Dag::new();
    let mut prev: Vec<NodeId> = Vec::new();
    for l in 0..layers {
        let layer: Vec<NodeId> = (0..width)
            .map(|w| dag.add_node(format!("n{l}_{w}")))
            .collect();
        if !prev.is_empty() {
            for (w, id) in layer.iter().enumerate() {
                dag.add_dependency(*id, prev[w]);
                dag.add_dependency(*id, prev[(w * 7 + 3) % width]);
            }
        }
        prev = layer;
    }
    dag
}

async fn guard<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("walk hung (deadlock guard, not a timing assertion)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_never_starts_before_its_dependencies_finish() {
    let dag = layered(6, 8);
    let events = Arc::new(Mutex::new(Vec::new()));
    let report = guard(walk(&dag, 4, &CancellationToken::new(), |id, _| {
        let events = Arc::clone(&events);
        async move {
            events.lock().expect("events lock").push(Event::Start(id));
            tokio::task::yield_now().await;
            events.lock().expect("events lock").push(Event::End(id));
            Ok::<(), String>(())
        }
    }))
    .await
    .expect("acyclic");
    assert!(report.is_success());
    assert_eq!(report.succeeded.len(), dag.node_count());
    let events = events.lock().expect("events lock").clone();
    let pos = |e: Event| events.iter().position(|x| *x == e).expect("event recorded");
    for (dependent, dependency) in dag.dependency_pairs() {
        assert!(
            pos(Event::End(dependency)) < pos(Event::Start(dependent)),
            "{dependent} started before {dependency} ended"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallelism_bound_is_reached_and_never_exceeded() {
    const BOUND: usize = 4;
    let mut dag = Dag::new();
    for i in 0..(BOUND * 5) {
        dag.add_node(format!("n{i}"));
    }
    let current = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    // Every group of BOUND jobs must be in flight together to pass the
    // barrier: this proves the bound is reached, the counter that it is not passed.
    let barrier = Arc::new(Barrier::new(BOUND));
    let report = guard(walk(&dag, BOUND, &CancellationToken::new(), |_, _| {
        let (current, max_seen, barrier) = (
            Arc::clone(&current),
            Arc::clone(&max_seen),
            Arc::clone(&barrier),
        );
        async move {
            let now = current.fetch_add(1, Ordering::SeqCst) + 1;
            max_seen.fetch_max(now, Ordering::SeqCst);
            barrier.wait().await;
            current.fetch_sub(1, Ordering::SeqCst);
            Ok::<(), String>(())
        }
    }))
    .await
    .expect("acyclic");
    assert_eq!(report.succeeded.len(), BOUND * 5);
    assert_eq!(max_seen.load(Ordering::SeqCst), BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_skips_exactly_the_transitive_dependents() {
    let mut dag = Dag::new();
    let names = ["a", "b", "c", "d", "e", "f", "g"];
    let id: Vec<NodeId> = names.iter().map(|n| dag.add_node(n.to_string())).collect();
    let (a, b, c, d, e, f, g) = (id[0], id[1], id[2], id[3], id[4], id[5], id[6]);
    dag.add_dependency(b, a);
    dag.add_dependency(c, b);
    dag.add_dependency(d, a);
    dag.add_dependency(f, b);
    dag.add_dependency(f, e);
    dag.add_dependency(g, c);
    dag.add_dependency(g, d);
    let started = Arc::new(Mutex::new(BTreeSet::new()));
    let report = guard(walk(&dag, 3, &CancellationToken::new(), |id, name| {
        let started = Arc::clone(&started);
        let fail = name == "b";
        async move {
            started.lock().expect("started lock").insert(id);
            if fail {
                Err(format!("{id} failed"))
            } else {
                Ok(())
            }
        }
    }))
    .await
    .expect("acyclic");
    let succeeded: BTreeSet<NodeId> = report.succeeded.iter().copied().collect();
    assert_eq!(succeeded, BTreeSet::from([a, d, e]));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, b);
    let failed_dep = SkipReason::DependencyFailed { failed: b };
    assert_eq!(
        report.skipped,
        vec![(c, failed_dep), (f, failed_dep), (g, failed_dep)]
    );
    assert_eq!(
        *started.lock().expect("started lock"),
        BTreeSet::from([a, b, d, e])
    );
    assert!(!report.cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_reported_and_its_dependents_skipped() {
    let mut dag = Dag::new();
    let a = dag.add_node("a".to_string());
    let b = dag.add_node("b".to_string());
    let c = dag.add_node("c".to_string());
    dag.add_dependency(b, a);
    let report = guard(walk(&dag, 2, &CancellationToken::new(), |_, name| {
        let boom = name == "a";
        async move {
            if boom {
                panic!("provider bug");
            }
            Ok::<(), String>(())
        }
    }))
    .await
    .expect("acyclic");
    assert_eq!(report.panicked, vec![(a, "provider bug".to_string())]);
    assert_eq!(
        report.skipped,
        vec![(b, SkipReason::DependencyFailed { failed: a })]
    );
    assert_eq!(report.succeeded, vec![c]);
}

// current_thread: the walker fills its parallelism slots before any job runs,
// so the two in-flight jobs are known exactly.
#[tokio::test(flavor = "current_thread")]
async fn cancel_starts_nothing_new_and_lets_in_flight_jobs_finish() {
    let mut dag = Dag::new();
    let ids: Vec<NodeId> = (0..10).map(|i| dag.add_node(format!("n{i}"))).collect();
    let cancel = CancellationToken::new();
    let barrier = Arc::new(Barrier::new(2));
    let started = Arc::new(Mutex::new(Vec::new()));
    let finished = Arc::new(Mutex::new(Vec::new()));
    let report = guard(walk(&dag, 2, &cancel, |id, _| {
        let (cancel, barrier) = (cancel.clone(), Arc::clone(&barrier));
        let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
        async move {
            started.lock().expect("lock").push(id);
            if id.index() == 0 {
                cancel.cancel();
            }
            // Job 1 cannot finish before job 0 has cancelled.
            barrier.wait().await;
            finished.lock().expect("lock").push(id);
            Ok::<(), String>(())
        }
    }))
    .await
    .expect("acyclic");
    assert!(report.cancelled);
    assert_eq!(*started.lock().expect("lock"), vec![ids[0], ids[1]]);
    assert_eq!(finished.lock().expect("lock").len(), 2);
    let mut succeeded = report.succeeded.clone();
    succeeded.sort();
    assert_eq!(succeeded, vec![ids[0], ids[1]]);
    let expected: Vec<(NodeId, SkipReason)> = ids[2..]
        .iter()
        .map(|id| (*id, SkipReason::Cancelled))
        .collect();
    assert_eq!(report.skipped, expected);
}

#[tokio::test(flavor = "current_thread")]
async fn a_cyclic_graph_is_refused_before_anything_starts() {
    let mut dag = Dag::new();
    let a = dag.add_node("a".to_string());
    let b = dag.add_node("b".to_string());
    dag.add_dependency(a, b);
    dag.add_dependency(b, a);
    let started = Arc::new(AtomicUsize::new(0));
    let err = walk(&dag, 2, &CancellationToken::new(), |_, _| {
        let started = Arc::clone(&started);
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            Ok::<(), String>(())
        }
    })
    .await
    .expect_err("cycle");
    assert_eq!(err.cycles[0].labels, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(started.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_node_walk_completes() {
    let dag = layered(1000, 100);
    let count = Arc::new(AtomicUsize::new(0));
    let report = guard(walk(&dag, 10, &CancellationToken::new(), |_, _| {
        let count = Arc::clone(&count);
        async move {
            count.fetch_add(1, Ordering::Relaxed);
            Ok::<(), String>(())
        }
    }))
    .await
    .expect("acyclic");
    assert_eq!(report.succeeded.len(), 100_000);
    assert_eq!(count.load(Ordering::Relaxed), 100_000);
}

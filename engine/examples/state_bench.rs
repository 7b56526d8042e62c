//! Timing of the state backend and the graph walker at scale. Run with
//! `cargo run --release -p posture-engine --example state_bench`
//! (numbers go to docs/benchmarks.md; tests never assert on time).

#[path = "../tests/it/support/large_state.rs"]
mod large_state;

use std::time::{Duration, Instant};

use posture_engine::graph::{Dag, NodeId, walk};
use posture_engine::state::{
    Action, Backend, LocalBackend, LockOptions, NewIntent, Outcome, encode_compact,
};
use tokio_util::sync::CancellationToken;

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    report(label, start.elapsed());
    out
}

fn report(label: &str, d: Duration) {
    println!("{label:<58} {:>10.1} ms", d.as_secs_f64() * 1000.0);
}

fn bench_state() -> Result<(), Box<dyn std::error::Error>> {
    let state = large_state::large_state(10_000);
    let text = encode_compact(&state);
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join(".posture");

    let backend = LocalBackend::open(&dir, &LockOptions::new("bench"))?;
    time("state: push (bulk load + commit) 10,000 instances", || {
        backend.push(&text, true)
    })?;
    let address = "route53_record.r[\"svc-00005\"]".to_string();
    let id = backend.record_intent(NewIntent {
        address: address.clone(),
        action: Action::Update,
        planned: serde_json::json!({ "ttl": 30 }),
    })?;
    let mut changed = state.instances[&address].clone();
    changed.attributes["ttl"] = serde_json::json!(30);
    backend.complete_intent(&id, Outcome::Upsert(Box::new(changed)))?;
    time(
        "state: commit 10,000 instances, 1 changed (snapshot + history)",
        || backend.commit(None, "bench"),
    )?;
    let loaded = time("state: load 10,000 instances", || backend.load())?;
    assert_eq!(loaded.instances.len(), 10_000);
    time("state: pull (JSON) 10,000 instances", || backend.pull())?;
    time("state: close (flush + seal + unlock)", || backend.close())?;

    let backend = time("state: open after clean close (lock + seal check)", || {
        LocalBackend::open(&dir, &LockOptions::new("bench"))
    })?;
    let per_op = 500;
    let start = Instant::now();
    for i in 0..per_op {
        let address = format!("route53_record.r[\"svc-{:05}\"]", i * 10 + 5);
        let id = backend.record_intent(NewIntent {
            address: address.clone(),
            action: Action::Update,
            planned: serde_json::json!({ "ttl": 60 }),
        })?;
        let mut record = loaded.instances[&address].clone();
        record.attributes["ttl"] = serde_json::json!(60);
        backend.complete_intent(&id, Outcome::Upsert(Box::new(record)))?;
    }
    let elapsed = start.elapsed();
    report(
        &format!("state: record_intent + complete_intent, mean of {per_op}"),
        elapsed / per_op,
    );
    // Simulate a crash: drop nothing cleanly, just remove the seal.
    backend.close()?;
    std::fs::remove_file(dir.join("db.seal.json"))?;
    let backend = time("state: open after a crash (rescue copy + checks)", || {
        LocalBackend::open(&dir, &LockOptions::new("bench"))
    })?;
    let size: u64 = std::fs::read_dir(dir.join("db"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{:<58} {:>10.1} MB",
        "state: database size after 3 commits",
        size as f64 / 1e6
    );
    backend.close()?;
    Ok(())
}

fn bench_graph() -> Result<(), Box<dyn std::error::Error>> {
    let (layers, width) = (1000usize, 100usize);
    let dag = time("graph: build 100,000 nodes, 199,800 edges", || {
        let mut dag = Dag::with_capacity(layers * width, 2 * layers * width);
        let mut prev: Vec<NodeId> = Vec::new();
        for l in 0..layers {
            let layer: Vec<NodeId> = (0..width)
                .map(|w| dag.add_node(format!("kubernetes_manifest.m[\"{l}-{w}\"]")))
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
    });
    time("graph: validate (tarjan_scc) 100,000 nodes", || {
        dag.validate()
    })?;
    time("graph: topological order 100,000 nodes", || {
        dag.topological_order()
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()?;
    let report = time("graph: walk 100,000 no-op nodes, parallelism 10", || {
        rt.block_on(walk(&dag, 10, &CancellationToken::new(), |_, _| async {
            Ok::<(), String>(())
        }))
    })?;
    assert_eq!(report.succeeded.len(), layers * width);
    time("graph: to_dot 100,000 nodes", || dag.to_dot().len());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    bench_state()?;
    bench_graph()
}

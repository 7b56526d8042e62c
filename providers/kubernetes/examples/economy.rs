//! Measures API requests per phase (not a test): three sandbox clusters, 100
//! ConfigMaps in two namespaces on each, created through the provider; then a
//! new run's refresh and no-op plan. Prints the sandbox's per-verb counters.
//!
//! `cargo run -p posture-provider-kubernetes --example economy`

use posture_engine::provider::{ApplyRequest, Operation, PlanRequest, Provider, ReadRequest};
use posture_engine::value::{Type, Value};
use posture_provider_kubernetes::KubernetesProvider;
use std::collections::BTreeMap;

fn cluster(kc: &str, name: &str) -> Value {
    Value::Object(BTreeMap::from([
        ("name".to_string(), Value::from(name)),
        ("kubeconfig".to_string(), Value::from(kc)),
        ("context".to_string(), Value::from(name)),
        (
            "labels".to_string(),
            Value::Map(Type::String, BTreeMap::new()),
        ),
        ("field_manager".to_string(), Value::from("posture")),
    ]))
}

fn config(c: Value, i: usize) -> Value {
    let ns = if i.is_multiple_of(2) {
        "default"
    } else {
        "kube-system"
    };
    let m = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{i}"), "namespace": ns}, "data": {"i": i.to_string()}});
    Value::Object(BTreeMap::from([
        ("cluster".to_string(), c),
        ("manifest".to_string(), Value::from_json(&m)),
        ("force_conflicts".to_string(), Value::Null(Type::Bool)),
        ("delete_timeout".to_string(), Value::Null(Type::String)),
        ("wait".to_string(), Value::NULL),
        ("object".to_string(), Value::Null(Type::Dynamic)),
        ("uid".to_string(), Value::Null(Type::String)),
        ("id".to_string(), Value::Null(Type::String)),
    ]))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names = ["a", "b", "c"];
    let sb = posture_sandbox::start(posture_sandbox::SandboxConfig {
        clusters: names.iter().map(|s| s.to_string()).collect(),
        nodes: 1,
        ..Default::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let kc = dir.path().join("kubeconfig");
    sb.write_kubeconfig(&kc)?;
    let kc = kc.to_string_lossy().to_string();
    let n = 100;
    let report = |phase: &str| {
        for c in names {
            let m = sb.metrics(c).unwrap_or_default();
            let total: u64 = m.values().sum();
            println!("{phase} {c}: total {total} {m:?}");
            if let Some(cl) = sb.cluster(c) {
                cl.reset_metrics();
            }
        }
    };
    let p = KubernetesProvider::new();
    let mut planned = Vec::new();
    for c in names {
        for i in 0..n {
            let r = p
                .plan(PlanRequest {
                    address: format!("kubernetes_manifest.cm[\"{c}-{i}\"]"),
                    type_name: "kubernetes_manifest".into(),
                    prior: Value::NULL,
                    config: config(cluster(&kc, c), i),
                })
                .await?;
            planned.push(r.planned);
        }
    }
    report("plan (create)");
    let reqs = planned
        .into_iter()
        .enumerate()
        .map(|(i, v)| ApplyRequest {
            address: format!("kubernetes_manifest.cm[{i}]"),
            type_name: "kubernetes_manifest".into(),
            operation: Operation::Create,
            prior: Value::NULL,
            planned: v,
            idempotency_token: format!("t{i}"),
        })
        .collect();
    let states: Vec<Value> = p
        .apply(reqs)
        .await
        .into_iter()
        .filter_map(|r| match r {
            posture_engine::provider::ApplyResult::Applied(v) => Some(v),
            posture_engine::provider::ApplyResult::Failed(_)
            | posture_engine::provider::ApplyResult::Tainted { .. }
            | posture_engine::provider::ApplyResult::NotStarted
            | posture_engine::provider::ApplyResult::Abandoned => None,
        })
        .collect();
    report("apply (create)");
    let p2 = KubernetesProvider::new();
    let found = p2
        .read(
            states
                .iter()
                .enumerate()
                .map(|(i, s)| ReadRequest {
                    address: format!("kubernetes_manifest.cm[{i}]"),
                    type_name: "kubernetes_manifest".into(),
                    prior: s.clone(),
                })
                .collect(),
        )
        .await;
    println!("refresh read {} objects", found.len());
    report("refresh (new run)");
    let mut noop = 0;
    for (i, (f, c)) in found
        .into_iter()
        .zip(names.iter().flat_map(|c| (0..n).map(move |i| (*c, i))))
        .enumerate()
    {
        if let posture_engine::provider::ReadResult::Found(prior) = f {
            let r = p2
                .plan(PlanRequest {
                    address: format!("kubernetes_manifest.cm[{i}]"),
                    type_name: "kubernetes_manifest".into(),
                    prior: prior.clone(),
                    config: config(cluster(&kc, c.0), c.1),
                })
                .await?;
            if posture_engine::value::raw_equal(&r.planned, &prior) {
                noop += 1;
            }
        }
    }
    println!("plan after refresh: {noop} no-ops");
    report("plan (no-op, new run)");
    sb.shutdown().await?;
    Ok(())
}

//! Simulated controllers: after a configurable delay, Deployments, DaemonSets and
//! StatefulSets report ready (observedGeneration, ready/available replicas, the
//! Available condition), and chosen custom kinds get `Ready=True`.
//!
//! Writes status only, through `objects::update` like any client; must not change specs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::objects::{self, Part, WriteOpts, key_of};
use crate::registry::ResourceType;
use crate::ssa::managed::now;

/// How often controllers look for work when nothing wakes them.
const POLL: Duration = Duration::from_millis(100);

const MANAGER: &str = "sandbox-controller";

fn wants_ready(rt: &ResourceType, kinds: &[String]) -> bool {
    match rt.kind.as_str() {
        "Deployment" | "DaemonSet" | "StatefulSet" if rt.group == "apps" => true,
        _ => {
            !rt.builtin()
                && kinds
                    .iter()
                    .any(|k| *k == rt.kind || *k == format!("{}.{}", rt.kind, rt.group))
        }
    }
}

fn desired_status(rt: &ResourceType, obj: &Value, nodes: usize) -> Value {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let replicas = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let t = now();
    let mut status = obj
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    status["observedGeneration"] = json!(generation);
    match rt.kind.as_str() {
        "Deployment" => {
            for k in [
                "replicas",
                "updatedReplicas",
                "readyReplicas",
                "availableReplicas",
            ] {
                status[k] = json!(replicas);
            }
            status["conditions"] = json!([
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastUpdateTime": t, "lastTransitionTime": t},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed.", "lastUpdateTime": t, "lastTransitionTime": t},
            ]);
        }
        "StatefulSet" => {
            for k in [
                "replicas",
                "readyReplicas",
                "currentReplicas",
                "updatedReplicas",
                "availableReplicas",
            ] {
                status[k] = json!(replicas);
            }
            status["currentRevision"] = json!(format!("rev-{generation}"));
            status["updateRevision"] = json!(format!("rev-{generation}"));
        }
        "DaemonSet" => {
            let n = nodes.max(1);
            for k in [
                "currentNumberScheduled",
                "desiredNumberScheduled",
                "numberReady",
                "numberAvailable",
                "updatedNumberScheduled",
            ] {
                status[k] = json!(n);
            }
            status["numberMisscheduled"] = json!(0);
        }
        _ => {
            status["conditions"] = json!([{"type": "Ready", "status": "True", "reason": "SandboxReady",
                "message": "marked ready by the posture sandbox", "lastTransitionTime": t, "observedGeneration": generation}]);
        }
    }
    status
}

fn pending(obj: &Value) -> bool {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    obj.pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        != Some(generation)
        && obj.pointer("/metadata/deletionTimestamp").is_none()
}

/// Runs the controllers of one cluster until shutdown.
pub async fn run(cluster: Arc<Cluster>, mut shutdown: watch::Receiver<bool>) {
    // When each pending object (type, ns, name, generation) becomes ready.
    let mut due: HashMap<(String, String, String, String, i64), Instant> = HashMap::new();
    loop {
        tokio::select! {
            _ = cluster.changed.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
        }
        let cfg = cluster.controller_config();
        let mut st = cluster.state();
        let nodes = st.list(&("".into(), "nodes".into()), None).count();
        let types: Vec<ResourceType> = st
            .registry
            .all()
            .into_iter()
            .filter(|t| wants_ready(t, &cfg.ready_kinds))
            .cloned()
            .collect();
        let mut ready_now = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for rt in &types {
            let delay = Duration::from_millis(if rt.builtin() {
                cfg.workload_delay_ms
            } else {
                cfg.ready_delay_ms
            });
            for o in st.list(&key_of(rt), None).filter(|o| pending(o)) {
                let s = |k: &str| {
                    o.pointer(&format!("/metadata/{k}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let g = o
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let id = (
                    rt.group.clone(),
                    rt.plural.clone(),
                    s("namespace"),
                    s("name"),
                    g,
                );
                seen.insert(id.clone());
                let at = *due.entry(id).or_insert_with(|| Instant::now() + delay);
                if at <= Instant::now() {
                    ready_now.push((
                        rt.clone(),
                        s("namespace"),
                        s("name"),
                        desired_status(rt, o, nodes),
                    ));
                }
            }
        }
        due.retain(|k, _| seen.contains(k));
        let wrote = !ready_now.is_empty();
        for (rt, ns, name, status) in ready_now {
            let body = json!({"apiVersion": rt.api_version(&rt.versions[0]), "kind": rt.kind, "metadata": {"name": name}, "status": status});
            // A concurrent delete may have removed the object; then there is nothing to do.
            let _ = objects::update(
                &mut st,
                &rt,
                &ns,
                &name,
                body,
                Part::Status,
                &WriteOpts::internal(MANAGER),
            );
        }
        drop(st);
        if wrote {
            cluster.changed.notify_waiters();
        }
    }
}

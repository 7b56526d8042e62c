//! The harness: a sandbox with several clusters, its kubeconfig in a temp
//! dir, a provider with short backoffs, and helpers that call the provider
//! as the engine does (plan, then apply the planned value; read a batch).

use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, Provider, ReadRequest,
    ReadResult,
};
use posture_engine::value::{Type, Value};
use posture_provider_kubernetes::KubernetesProvider;
use posture_provider_kubernetes::cluster::RetryPolicy;
use posture_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::time::Duration;

/// A running sandbox and its kubeconfig.
pub struct Harness {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    pub kubeconfig: String,
}

impl Harness {
    /// Starts the named clusters (short controller delays).
    pub async fn start(names: &[&str]) -> Harness {
        let mut cfg = SandboxConfig {
            clusters: names.iter().map(|s| s.to_string()).collect(),
            nodes: 1,
            ..Default::default()
        };
        cfg.controllers.workload_delay_ms = 50;
        cfg.controllers.ready_delay_ms = 50;
        let sb = posture_sandbox::start(cfg).await.expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        sb.write_kubeconfig(&path).expect("kubeconfig");
        let kubeconfig = path.to_string_lossy().to_string();
        Harness {
            sb,
            dir,
            kubeconfig,
        }
    }

    /// The `cluster` object a cluster block would evaluate to.
    pub fn cluster(&self, name: &str) -> Value {
        self.cluster_labelled(name, &[])
    }

    /// Same, with labels.
    pub fn cluster_labelled(&self, name: &str, labels: &[(&str, &str)]) -> Value {
        Value::Object(BTreeMap::from([
            ("name".to_string(), Value::from(name)),
            (
                "kubeconfig".to_string(),
                Value::from(self.kubeconfig.as_str()),
            ),
            ("context".to_string(), Value::from(name)),
            (
                "labels".to_string(),
                Value::Map(
                    Type::String,
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::from(*v)))
                        .collect(),
                ),
            ),
            ("field_manager".to_string(), Value::from("posture")),
        ]))
    }

    /// Runs kubectl against one cluster; returns stdout, fails the test on error.
    pub async fn kubectl(&self, cluster: &str, args: &[&str]) -> String {
        let mut full = vec![
            "--kubeconfig".to_string(),
            self.kubeconfig.clone(),
            "--context".to_string(),
            cluster.to_string(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        let out = tokio::process::Command::new("kubectl")
            .args(&full)
            .output()
            .await
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// kubectl get -o json, or None when absent.
    pub async fn get(&self, cluster: &str, kind: &str, ns: Option<&str>, name: &str) -> Option<J> {
        let mut args = vec![
            "--kubeconfig",
            &self.kubeconfig,
            "--context",
            cluster,
            "get",
            kind,
            name,
            "-o",
            "json",
            "--ignore-not-found",
        ];
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        let out = tokio::process::Command::new("kubectl")
            .args(&args)
            .output()
            .await
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout.is_empty() {
            None
        } else {
            Some(serde_json::from_slice(&out.stdout).expect("json"))
        }
    }

    /// Request counters of one cluster, reset afterwards.
    pub fn take_metrics(&self, cluster: &str) -> BTreeMap<String, u64> {
        let m = self.sb.metrics(cluster).unwrap_or_default();
        if let Some(c) = self.sb.cluster(cluster) {
            c.reset_metrics();
        }
        m
    }
}

/// A provider with short backoffs (tests inject faults).
pub fn provider() -> KubernetesProvider {
    KubernetesProvider::with_retry(RetryPolicy {
        attempts: 8,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
    })
}

/// A `kubernetes_manifest` configuration value.
pub fn manifest_config(cluster: Value, manifest: J) -> Value {
    config_with(cluster, manifest, Value::Null(Type::Bool))
}

/// Same, with `force_conflicts`.
pub fn config_with(cluster: Value, manifest: J, force: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("cluster".to_string(), cluster),
        ("manifest".to_string(), Value::from_json(&manifest)),
        ("force_conflicts".to_string(), force),
        ("delete_timeout".to_string(), Value::from("30s")),
        ("wait".to_string(), Value::NULL),
        ("object".to_string(), Value::Null(Type::Dynamic)),
        ("uid".to_string(), Value::Null(Type::String)),
        ("id".to_string(), Value::Null(Type::String)),
    ]))
}

/// A `kubernetes_manifests` configuration value.
pub fn bundle_config(cluster: Value, content: &str) -> Value {
    Value::Object(BTreeMap::from([
        ("cluster".to_string(), cluster),
        ("content".to_string(), Value::from(content)),
        ("force_conflicts".to_string(), Value::Null(Type::Bool)),
        ("delete_timeout".to_string(), Value::from("30s")),
        ("inventory".to_string(), Value::Null(Type::Dynamic)),
        ("objects".to_string(), Value::Null(Type::Dynamic)),
        ("id".to_string(), Value::Null(Type::String)),
    ]))
}

/// Plans one instance.
pub async fn plan(
    p: &KubernetesProvider,
    ty: &str,
    prior: &Value,
    config: &Value,
) -> Result<PlanResponse, String> {
    plan_at(p, &format!("{ty}.test"), ty, prior, config).await
}

/// Plans one instance at an address (as read names it: `TYPE.test[i]`).
pub async fn plan_at(
    p: &KubernetesProvider,
    address: &str,
    ty: &str,
    prior: &Value,
    config: &Value,
) -> Result<PlanResponse, String> {
    p.plan(PlanRequest {
        address: address.to_string(),
        type_name: ty.to_string(),
        prior: prior.clone(),
        config: config.clone(),
    })
    .await
    .map_err(|e| e.message)
}

/// Applies planned values (create/update by prior null-ness) as one batch.
pub async fn apply(
    p: &KubernetesProvider,
    ty: &str,
    items: Vec<(Value, Value)>,
) -> Vec<Result<Value, String>> {
    let reqs = items
        .into_iter()
        .enumerate()
        .map(|(i, (prior, planned))| ApplyRequest {
            address: format!("{ty}.test[{i}]"),
            type_name: ty.to_string(),
            operation: if planned.is_null() {
                Operation::Delete
            } else if prior.is_null() {
                Operation::Create
            } else {
                Operation::Update
            },
            prior,
            planned,
            idempotency_token: format!("tok-{i}"),
        })
        .collect();
    p.apply(reqs)
        .await
        .into_iter()
        .map(|r| match r {
            ApplyResult::Applied(v) => Ok(v),
            ApplyResult::Failed(e) => Err(e.message),
        })
        .collect()
}

/// Plan then apply one instance; returns the new state.
pub async fn converge(p: &KubernetesProvider, ty: &str, prior: &Value, config: &Value) -> Value {
    let pl = plan(p, ty, prior, config).await.expect("plan");
    let mut r = apply(p, ty, vec![(prior.clone(), pl.planned)]).await;
    r.remove(0).expect("apply")
}

/// Reads a batch of states.
pub async fn read(p: &KubernetesProvider, ty: &str, states: &[Value]) -> Vec<ReadResult> {
    p.read(
        states
            .iter()
            .enumerate()
            .map(|(i, s)| ReadRequest {
                address: format!("{ty}.test[{i}]"),
                type_name: ty.to_string(),
                prior: s.clone(),
            })
            .collect(),
    )
    .await
}

/// Reads one state that must be found.
pub async fn read_one(p: &KubernetesProvider, ty: &str, state: &Value) -> Value {
    match read(p, ty, std::slice::from_ref(state)).await.remove(0) {
        ReadResult::Found(v) => v,
        other => panic!("read: {other:?}"),
    }
}

/// The `object` attribute as JSON.
pub fn object_of(v: &Value) -> J {
    v.as_map().expect("object")["object"]
        .clone()
        .unmark_deep()
        .0
        .to_json()
}

/// A ConfigMap manifest.
pub fn configmap(name: &str, ns: &str, data: &[(&str, &str)]) -> J {
    let d: serde_json::Map<String, J> = data
        .iter()
        .map(|(k, v)| (k.to_string(), J::from(*v)))
        .collect();
    serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns}, "data": d})
}

//! The harness: a sandbox with several clusters (or, for the portable
//! tests, the real clusters a developer names), its kubeconfig, a provider
//! with short backoffs, and helpers that call the provider as the engine
//! does (plan, then apply the planned value; read a batch).
//!
//! Real clusters: `POSTURE_TEST_KUBECONFIG=FILE` and
//! `POSTURE_TEST_CONTEXTS=ctx1,ctx2,...` (one context per cluster name a
//! test uses, in order). Portable tests then run there, each in a namespace
//! of its own that is deleted afterwards; tests that need the sandbox's
//! faults or request counters always run on the sandbox. See docs/testing.md.

use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, Provider, ReadRequest,
    ReadResult,
};
use posture_engine::value::{Type, Value};
use posture_provider_kubernetes::KubernetesProvider;
use posture_provider_kubernetes::cluster::RetryPolicy;
use posture_sandbox::{KubeVersion, Sandbox, SandboxConfig};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::time::Duration;

/// The environment variable naming a real kubeconfig for portable tests.
pub const REAL_KUBECONFIG: &str = "POSTURE_TEST_KUBECONFIG";
/// The contexts of that kubeconfig, one per cluster name, comma separated.
pub const REAL_CONTEXTS: &str = "POSTURE_TEST_CONTEXTS";

/// Running clusters and their kubeconfig.
pub struct Harness {
    sandbox: Option<Sandbox>,
    pub dir: tempfile::TempDir,
    pub kubeconfig: String,
    /// Test cluster name → kubeconfig context.
    contexts: BTreeMap<String, String>,
    /// The namespace portable tests work in.
    namespace: String,
}

impl Harness {
    /// Starts the named sandbox clusters (short controller delays), for
    /// tests that need the sandbox itself (faults, counters).
    pub async fn start(names: &[&str]) -> Harness {
        Harness::sandbox(names, &[]).await
    }

    /// Starts sandbox clusters at the given Kubernetes versions (by name;
    /// the others run the sandbox's default).
    pub async fn sandbox(names: &[&str], versions: &[(&str, &str)]) -> Harness {
        let mut cfg = SandboxConfig {
            clusters: names.iter().map(|s| s.to_string()).collect(),
            nodes: 1,
            ..Default::default()
        };
        for (name, v) in versions {
            let v: KubeVersion = v.parse().expect("version");
            cfg.cluster_versions.insert(name.to_string(), v);
        }
        cfg.controllers.workload_delay_ms = 50;
        cfg.controllers.ready_delay_ms = 50;
        let sb = posture_sandbox::start(cfg).await.expect("sandbox");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        sb.write_kubeconfig(&path).expect("kubeconfig");
        let kubeconfig = path.to_string_lossy().to_string();
        Harness {
            sandbox: Some(sb),
            dir,
            kubeconfig,
            contexts: names
                .iter()
                .map(|n| (n.to_string(), n.to_string()))
                .collect(),
            namespace: "default".to_string(),
        }
    }

    /// The clusters for a portable test: the real ones named by
    /// [`REAL_KUBECONFIG`] and [`REAL_CONTEXTS`] when set, else the sandbox.
    /// On real clusters the test gets a fresh namespace on each.
    pub async fn portable(names: &[&str]) -> Harness {
        let Ok(kubeconfig) = std::env::var(REAL_KUBECONFIG) else {
            return Harness::start(names).await;
        };
        let given: Vec<String> = std::env::var(REAL_CONTEXTS)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        assert!(
            given.len() >= names.len(),
            "this test uses {} clusters ({names:?}): set {REAL_CONTEXTS} to that many contexts of {kubeconfig}",
            names.len()
        );
        let suffix: u32 = rand::random();
        let h = Harness {
            sandbox: None,
            dir: tempfile::tempdir().expect("tempdir"),
            kubeconfig,
            contexts: names
                .iter()
                .zip(given)
                .map(|(n, c)| (n.to_string(), c))
                .collect(),
            namespace: format!("posture-it-{suffix:08x}"),
        };
        for n in names {
            h.kubectl(n, &["create", "namespace", &h.namespace]).await;
        }
        h
    }

    /// The namespace this test's objects go in.
    pub fn ns(&self) -> String {
        self.namespace.clone()
    }

    /// The sandbox (tests that inject faults or read counters).
    pub fn sb(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .expect("this test needs the sandbox: start it with Harness::start")
    }

    fn context(&self, cluster: &str) -> String {
        self.contexts
            .get(cluster)
            .cloned()
            .unwrap_or_else(|| cluster.to_string())
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
            ("context".to_string(), Value::from(self.context(name))),
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
            self.context(cluster),
            // The test's namespace (default on the sandbox); a later -n wins.
            "--namespace".to_string(),
            self.namespace.clone(),
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
        let context = self.context(cluster);
        let mut args = vec![
            "--kubeconfig",
            &self.kubeconfig,
            "--context",
            &context,
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
        let m = self.sb().metrics(cluster).unwrap_or_default();
        if let Some(c) = self.sb().cluster(cluster) {
            c.reset_metrics();
        }
        m
    }
}

impl Drop for Harness {
    /// Real clusters: the test's namespace goes, with everything in it.
    fn drop(&mut self) {
        if self.sandbox.is_some() {
            return;
        }
        for context in self.contexts.values() {
            let _ = std::process::Command::new("kubectl")
                .args(["--kubeconfig", &self.kubeconfig, "--context", context])
                .args(["delete", "namespace", &self.namespace, "--wait=false"])
                .args(["--ignore-not-found"])
                .output();
        }
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
            ApplyResult::Tainted { error, .. } => Err(error.message),
            ApplyResult::NotStarted | ApplyResult::Abandoned => Err("not applied".into()),
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

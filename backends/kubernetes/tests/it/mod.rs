//! Test modules by topic, and the sandbox they share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod generations;
mod lease;

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use posture_backend_kubernetes::{K8sLocation, K8sSettings};
use posture_engine::state::{State, decode};
use posture_provider_kubernetes::cluster::ClusterRef;
use posture_sandbox::{Sandbox, SandboxConfig};

/// A sandbox cluster `c1` on its own runtime, and a kubeconfig for it.
pub struct Peer {
    pub rt: tokio::runtime::Runtime,
    _sandbox: Sandbox,
    _dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl Peer {
    pub fn start() -> Peer {
        // Multi-threaded: the API server keeps serving while a test blocks.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cfg = SandboxConfig {
            clusters: vec!["c1".into()],
            nodes: 1,
            ..Default::default()
        };
        let sandbox = rt.block_on(posture_sandbox::start(cfg)).expect("sandbox");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).unwrap();
        Peer {
            rt,
            _sandbox: sandbox,
            _dir: dir,
            kubeconfig,
        }
    }

    /// Settings of the state `suffix` in `default`, with a short TTL.
    pub fn settings(&self, suffix: &str) -> K8sSettings {
        let mut s = K8sSettings::new("default", suffix);
        s.kubeconfig = Some(self.kubeconfig.display().to_string());
        s.context = Some("c1".into());
        s.lock_ttl = Duration::from_secs(2);
        s
    }

    pub fn location(&self, suffix: &str) -> K8sLocation {
        K8sLocation::new(self.settings(suffix)).unwrap()
    }

    /// The test's own client, to look at and damage objects.
    pub fn secrets(&self) -> Api<Secret> {
        let c = ClusterRef {
            name: "c1".into(),
            kubeconfig: Some(self.kubeconfig.display().to_string()),
            context: Some("c1".into()),
            field_manager: "test".into(),
        };
        let (client, _) = self
            .rt
            .block_on(posture_provider_kubernetes::kubeconfig::connect(&c))
            .unwrap();
        Api::namespaced(client, "default")
    }

    /// The Secrets of state `base` with `role`, by name.
    pub fn objects(&self, base: &str, role: &str) -> Vec<Secret> {
        let api = self.secrets();
        let lp = kube::api::ListParams::default()
            .labels(&format!("posture.dev/state={base},posture.dev/role={role}"));
        let mut v = self.rt.block_on(api.list(&lp)).unwrap().items;
        v.sort_by_key(|s| s.metadata.name.clone());
        v
    }
}

/// A state of `lineage` at `serial` with `n` instances whose attributes all
/// carry `tag` and `bytes` of poorly compressible text each.
pub fn state(lineage: &str, serial: u64, n: usize, bytes: usize, tag: &str) -> State {
    let mut instances = serde_json::Map::new();
    for i in 0..n {
        let mut blob = String::with_capacity(bytes + 32);
        while blob.len() < bytes {
            blob.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        let address = format!("posture_data.x[{i}]");
        instances.insert(
            address.clone(),
            serde_json::json!({
                "address": address,
                "resource_type": "posture_data",
                "provider": "posture",
                "attributes": {"tag": tag, "blob": blob},
            }),
        );
    }
    let doc = serde_json::json!({
        "format_version": 1,
        "lineage": lineage,
        "serial": serial,
        "instances": instances,
    });
    decode(&doc.to_string(), "test").unwrap()
}

/// The one tag every instance of `s` carries; panics on a mix.
pub fn tag_of(s: &State) -> Option<String> {
    let mut tags: Vec<String> = s
        .instances
        .values()
        .map(|r| r.attributes["tag"].as_str().unwrap_or_default().to_string())
        .collect();
    tags.dedup();
    assert!(tags.len() <= 1, "a mix of generations: {tags:?}");
    tags.pop()
}

//! A sandbox for one test: the emulated clusters, and a temporary directory
//! holding their kubeconfig and the test's configuration directories.

use std::path::{Path, PathBuf};

use posture_sandbox::{Sandbox, SandboxConfig};

/// A running sandbox; its kubeconfig and directories live as long as it.
pub struct Sandboxed {
    /// The emulated clusters (dropped last: it stops them).
    pub sandbox: Sandbox,
    /// Holds `kubeconfig` and every [`Sandboxed::workdir`].
    pub tmp: tempfile::TempDir,
    /// The kubeconfig naming every cluster as a context.
    pub kubeconfig: PathBuf,
}

impl Sandboxed {
    /// Starts `cfg` and writes its kubeconfig.
    pub async fn start(cfg: SandboxConfig) -> Sandboxed {
        let sandbox = posture_sandbox::start(cfg).await.expect("sandbox");
        let tmp = tempfile::tempdir().expect("tempdir");
        let kubeconfig = tmp.path().join("kubeconfig");
        sandbox.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        Sandboxed {
            sandbox,
            tmp,
            kubeconfig,
        }
    }

    /// Stops the clusters (the directory goes with the value).
    pub async fn shutdown(self) -> Result<(), posture_sandbox::SandboxError> {
        self.sandbox.shutdown().await
    }

    /// A configuration directory `name` holding `main.hcl`.
    pub fn workdir(&self, name: &str, main_hcl: &str) -> PathBuf {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("main.hcl"), main_hcl).expect("main.hcl");
        dir
    }
}

/// One node per cluster, and controllers that make workloads ready at once
/// (tests wait on readiness, never on time).
pub fn quick(clusters: &[&str]) -> SandboxConfig {
    let mut cfg = SandboxConfig {
        clusters: clusters.iter().map(|c| c.to_string()).collect(),
        nodes: 1,
        ..Default::default()
    };
    cfg.controllers.workload_delay_ms = 0;
    cfg.controllers.ready_delay_ms = 0;
    cfg
}

/// Every Secret's data in the `default` namespace of `context`, by
/// `name/key`: what a test scans for a canary.
pub fn secret_data(
    rt: &tokio::runtime::Runtime,
    kubeconfig: &Path,
    context: &str,
) -> Vec<(String, Vec<u8>)> {
    let cluster = posture_provider_kubernetes::cluster::ClusterRef {
        name: "test".into(),
        kubeconfig: Some(kubeconfig.display().to_string()),
        context: Some(context.into()),
        field_manager: "test".into(),
    };
    rt.block_on(async move {
        let (client, _) = posture_provider_kubernetes::kubeconfig::connect(&cluster)
            .await
            .expect("connect");
        let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
            kube::Api::namespaced(client, "default");
        let list = api.list(&Default::default()).await.expect("list Secrets");
        let mut out = Vec::new();
        for s in list.items {
            let name = s.metadata.name.clone().unwrap_or_default();
            for (k, v) in s.data.unwrap_or_default() {
                out.push((format!("{name}/{k}"), v.0));
            }
        }
        out
    })
}

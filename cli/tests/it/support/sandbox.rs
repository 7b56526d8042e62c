//! A sandbox for one test: the emulated clusters, and a temporary directory
//! holding their kubeconfig and the test's configuration directories.

use std::path::PathBuf;

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

//! posture's Kubernetes API sandbox: several emulated clusters, each on its own
//! 127.0.0.1 port over HTTPS, faithful enough for kubectl 1.32 and kube-rs.
//!
//! Start it from Rust with [`start`] (free ports, in-process) or from the CLI with
//! [`run`] and [`SandboxArgs`]. See `docs/sandbox.md` for what it emulates and where it
//! differs from a real API server.
//!
//! **Architecture invariant:** nothing in posture's engine depends on this crate; it is
//! a stand-in for real clusters, used by tests, benchmarks and first tries.

#![deny(missing_docs)]

pub mod admin;
pub mod api;
pub mod cluster;
pub mod controllers;
pub mod crd;
pub mod defaults;
pub mod discovery;
pub mod error;
pub mod kubeconfig;
pub mod list;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod persist;
pub mod proto;
pub mod registry;
pub mod route;
pub mod scale;
pub mod seed;
pub mod server;
pub mod ssa;
pub mod status;
pub mod store;
pub mod tls;
pub mod version;
pub mod watch;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use tokio::task::JoinHandle;

pub use cluster::{ControllerConfig, Faults};
pub use error::SandboxError;
pub use version::KubeVersion;

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct SandboxConfig {
    /// Cluster names (also kubeconfig context names); DNS-1123 labels, each once.
    pub clusters: Vec<String>,
    /// Node objects seeded per cluster (first is the control plane).
    pub nodes: usize,
    /// Where objects are saved so they survive a restart; `None` keeps them in memory.
    pub state_dir: Option<PathBuf>,
    /// Faults every cluster starts with.
    pub faults: Faults,
    /// Controller delays and ready kinds of every cluster.
    pub controllers: ControllerConfig,
    /// Port of the admin endpoint (0 = any free port).
    pub admin_port: u16,
    /// Kubernetes version every cluster emulates; `None` is [`KubeVersion::DEFAULT`].
    pub kubernetes_version: Option<KubeVersion>,
    /// Per-cluster versions overriding `kubernetes_version`; keys must be in `clusters`.
    pub cluster_versions: BTreeMap<String, KubeVersion>,
}

impl SandboxConfig {
    /// The version cluster `name` emulates.
    pub fn version_of(&self, name: &str) -> KubeVersion {
        self.cluster_versions
            .get(name)
            .copied()
            .or(self.kubernetes_version)
            .unwrap_or(KubeVersion::DEFAULT)
    }
}

struct Served {
    cluster: Arc<cluster::Cluster>,
    addr: SocketAddr,
}

/// A running sandbox. Dropping it without [`Sandbox::shutdown`] leaves its tasks to the runtime.
pub struct Sandbox {
    served: Vec<Served>,
    ca_pem: String,
    admin_addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    persisters: Vec<JoinHandle<Result<(), SandboxError>>>,
}

fn check_names(names: &[String]) -> Result<(), SandboxError> {
    if names.is_empty() {
        return Err(SandboxError::NoClusters);
    }
    for (i, n) in names.iter().enumerate() {
        let ok = !n.is_empty()
            && n.len() <= 63
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !n.starts_with('-')
            && !n.ends_with('-');
        if !ok {
            return Err(SandboxError::InvalidClusterName {
                name: n.clone(),
                reason: "not a DNS-1123 label".into(),
            });
        }
        if names[..i].contains(n) {
            return Err(SandboxError::InvalidClusterName {
                name: n.clone(),
                reason: "given twice".into(),
            });
        }
    }
    Ok(())
}

fn token() -> String {
    let b: [u8; 24] = rand::thread_rng().r#gen();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Starts every cluster on a free 127.0.0.1 port, plus the admin endpoint.
///
/// # Errors
/// Invalid cluster names, TLS generation failures, ports that cannot be bound, and
/// unreadable state in `state_dir`.
pub async fn start(cfg: SandboxConfig) -> Result<Sandbox, SandboxError> {
    check_names(&cfg.clusters)?;
    if let Some(name) = cfg
        .cluster_versions
        .keys()
        .find(|n| !cfg.clusters.contains(n))
    {
        return Err(SandboxError::VersionForUnknownCluster {
            name: name.clone(),
            clusters: cfg.clusters.join(","),
        });
    }
    let tls = tls::generate()?;
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    let mut served = Vec::new();
    let mut tasks = Vec::new();
    let mut persisters = Vec::new();
    for name in &cfg.clusters {
        let loaded = match &cfg.state_dir {
            Some(dir) => persist::load(dir, name)?,
            None => None,
        };
        let state = match loaded {
            Some(st) => st,
            None => {
                let mut st = store::State::new();
                seed::namespaces(&mut st);
                seed::nodes(&mut st, name, cfg.nodes);
                st
            }
        };
        let c = Arc::new(
            cluster::Cluster::new(
                name.clone(),
                token(),
                state,
                cfg.faults.clone(),
                cfg.controllers.clone(),
            )
            .with_version(cfg.version_of(name)),
        );
        let (addr, task) =
            server::listen(c.clone(), tls.server_config.clone(), 0, rx.clone()).await?;
        tasks.push(task);
        tasks.push(tokio::spawn(controllers::run(c.clone(), rx.clone())));
        if let Some(dir) = &cfg.state_dir {
            persist::save(dir, &c)?;
            persisters.push(tokio::spawn(persist::run(
                dir.clone(),
                c.clone(),
                rx.clone(),
            )));
        }
        served.push(Served { cluster: c, addr });
    }
    let map: BTreeMap<String, (Arc<cluster::Cluster>, String)> = served
        .iter()
        .map(|s| {
            (
                s.cluster.name.clone(),
                (s.cluster.clone(), format!("https://{}", s.addr)),
            )
        })
        .collect();
    let (admin_addr, admin_task) = admin::listen(Arc::new(map), cfg.admin_port, rx.clone()).await?;
    tasks.push(admin_task);
    Ok(Sandbox {
        served,
        ca_pem: tls.ca_pem,
        admin_addr,
        shutdown,
        tasks,
        persisters,
    })
}

impl Sandbox {
    /// The kubeconfig (YAML) with one context per cluster, named after it.
    pub fn kubeconfig_yaml(&self) -> String {
        let entries: Vec<kubeconfig::KubeconfigEntry<'_>> = self
            .served
            .iter()
            .map(|s| kubeconfig::KubeconfigEntry {
                name: &s.cluster.name,
                server: format!("https://{}", s.addr),
                token: &s.cluster.token,
            })
            .collect();
        kubeconfig::render(&self.ca_pem, &entries)
    }

    /// Writes the kubeconfig to `path` (mode 0600 on Unix: it holds tokens).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SandboxError> {
        let io = |source| SandboxError::Io {
            action: "write kubeconfig",
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(path, self.kubeconfig_yaml()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        Ok(())
    }

    /// `https://127.0.0.1:PORT` of a cluster.
    pub fn cluster_url(&self, name: &str) -> Option<String> {
        self.served
            .iter()
            .find(|s| s.cluster.name == name)
            .map(|s| format!("https://{}", s.addr))
    }

    /// Cluster names, in the order given.
    pub fn cluster_names(&self) -> Vec<String> {
        self.served.iter().map(|s| s.cluster.name.clone()).collect()
    }

    /// A cluster's in-process handle (store, faults, metrics), for tests and benchmarks.
    pub fn cluster(&self, name: &str) -> Option<Arc<cluster::Cluster>> {
        self.served
            .iter()
            .find(|s| s.cluster.name == name)
            .map(|s| s.cluster.clone())
    }

    /// The bearer token of a cluster (for clients other than kubeconfig users).
    pub fn token(&self, name: &str) -> Option<String> {
        self.served
            .iter()
            .find(|s| s.cluster.name == name)
            .map(|s| s.cluster.token.clone())
    }

    /// PEM of the CA that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// `http://127.0.0.1:PORT` of the admin endpoint.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Changes a cluster's faults while running.
    ///
    /// # Errors
    /// [`SandboxError::UnknownCluster`] for a name the sandbox does not serve.
    pub fn set_faults(&self, name: &str, faults: Faults) -> Result<(), SandboxError> {
        let s = self
            .served
            .iter()
            .find(|s| s.cluster.name == name)
            .ok_or_else(|| SandboxError::UnknownCluster(name.into()))?;
        s.cluster.set_faults(faults);
        Ok(())
    }

    /// Request counters of a cluster, by "verb resource".
    pub fn metrics(&self, name: &str) -> Option<BTreeMap<String, u64>> {
        self.served
            .iter()
            .find(|s| s.cluster.name == name)
            .map(|s| s.cluster.metrics())
    }

    /// Stops every listener and controller, saving state one last time.
    ///
    /// # Errors
    /// When the final save to the state directory fails.
    pub async fn shutdown(self) -> Result<(), SandboxError> {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        for p in self.persisters {
            if let Ok(r) = p.await {
                r?;
            }
        }
        Ok(())
    }
}

/// `posture sandbox` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Cluster names, comma separated; each becomes a kubeconfig context.
    #[arg(long, value_delimiter = ',', required = true)]
    pub clusters: Vec<String>,
    /// Where to write the kubeconfig (written once every cluster listens).
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// Directory where objects are kept across restarts.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Node objects to seed per cluster (the first is the control plane).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Milliseconds before Deployments, DaemonSets and StatefulSets report ready.
    #[arg(long, default_value_t = 500)]
    pub workload_delay_ms: u64,
    /// Milliseconds before chosen custom kinds (e.g. ClusterIssuer) get Ready=True.
    #[arg(long, default_value_t = 500)]
    pub ready_delay_ms: u64,
    /// Port of the admin endpoint (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub admin_port: u16,
    /// Kubernetes version every cluster emulates (e.g. 1.23; default 1.32).
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<KubeVersion>,
    /// Version of one cluster, NAME=VERSION (repeatable, or comma separated).
    #[arg(long, value_name = "NAME=VERSION", value_delimiter = ',', value_parser = parse_cluster_version)]
    pub cluster_version: Vec<(String, KubeVersion)>,
}

/// `NAME=VERSION` of `--cluster-version`.
fn parse_cluster_version(s: &str) -> Result<(String, KubeVersion), String> {
    let (name, version) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VERSION (e.g. prod-eu=1.23), got {s:?}"))?;
    let version = version.parse::<KubeVersion>().map_err(|e| e.to_string())?;
    Ok((name.trim().to_string(), version))
}

/// The sandbox is serving: what [`run`] reports once every cluster listens
/// and the kubeconfig is written. The embedder shows it (`posture sandbox`
/// prints it as its ready line); the library prints nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// Each cluster's name and `https://127.0.0.1:PORT` URL, in name order.
    pub clusters: Vec<(String, String)>,
    /// Where the kubeconfig was written.
    pub kubeconfig: PathBuf,
    /// `http://127.0.0.1:PORT` of the admin endpoint.
    pub admin_url: String,
}

/// Runs the sandbox until SIGINT or SIGTERM: writes the kubeconfig once every cluster
/// listens, hands `on_ready` what is serving, then waits.
///
/// # Errors
/// Start-up failures, an unwritable kubeconfig, or a failed final save.
pub async fn run(args: SandboxArgs, on_ready: impl FnOnce(Ready)) -> Result<(), SandboxError> {
    // Handlers first: a signal sent right after the ready report must stop us cleanly.
    let signals = Signals::install()?;
    let controllers = ControllerConfig {
        workload_delay_ms: args.workload_delay_ms,
        ready_delay_ms: args.ready_delay_ms,
        ..ControllerConfig::default()
    };
    let sb = start(SandboxConfig {
        clusters: args.clusters,
        nodes: args.nodes,
        state_dir: args.state_dir,
        faults: Faults::default(),
        controllers,
        admin_port: args.admin_port,
        kubernetes_version: args.kubernetes_version,
        cluster_versions: args.cluster_version.into_iter().collect(),
    })
    .await?;
    sb.write_kubeconfig(&args.kubeconfig)?;
    on_ready(Ready {
        clusters: sb
            .cluster_names()
            .iter()
            .map(|n| (n.clone(), sb.cluster_url(n).unwrap_or_default()))
            .collect(),
        kubeconfig: args.kubeconfig.clone(),
        admin_url: sb.admin_url(),
    });
    signals.wait().await;
    sb.shutdown().await
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), installed before the sandbox starts.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, SandboxError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate()).map_err(SandboxError::Signal)?,
                int: signal(SignalKind::interrupt()).map_err(SandboxError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    /// The print macros, spelled so that this file does not match itself.
    const PRINTS: [&str; 4] = ["println", "eprintln", "print", "eprint"];

    fn prints_in(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| PRINTS.iter().any(|m| l.contains(&format!("{m}!("))))
            .map(|l| l.trim().to_string())
            .collect()
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read src").flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    // Only the CLI prints (ARCHITECTURE.md): `run` printed its ready line
    // itself, so the sandbox wrote to stdout of whatever embedded it.
    #[test]
    fn library_code_never_prints_the_ready_line_or_anything_else() {
        let mut files = Vec::new();
        rust_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 10, "{files:?}");
        let found: Vec<String> = files
            .iter()
            .flat_map(|f| {
                let text = std::fs::read_to_string(f).expect("read");
                prints_in(&text)
                    .into_iter()
                    .map(move |l| format!("{}: {l}", f.display()))
            })
            .collect();
        assert!(found.is_empty(), "{found:#?}");
        let sample = format!("    {}!(\"sandbox ready\");", PRINTS[0]);
        assert_eq!(
            prints_in(&format!("{sample}\n// {sample}")),
            [sample.trim()],
            "the check sees a print, and not in a comment"
        );
    }
}

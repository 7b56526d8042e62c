//! Shared helpers: start a sandbox on free ports with instant controllers, write its
//! kubeconfig into a temporary directory, run the real kubectl against it, and call
//! the API in-process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use posture_sandbox::api::{self, Reply, Request};
use posture_sandbox::cluster::Cluster;
use posture_sandbox::{ControllerConfig, Sandbox, SandboxConfig};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// A running sandbox with its kubeconfig.
pub struct Env {
    #[allow(dead_code)] // kept alive for the test's duration; some tests also use it
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// Output of one kubectl run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "kubectl failed: {}\n{}",
            self.stderr, self.stdout
        );
        self.stdout
    }
}

/// Path of kubectl; the tests fail (not skip) without it.
pub fn kubectl_path() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("kubectl not found on PATH: these tests run the real kubectl 1.32 against the sandbox; install it (e.g. apt-get install kubectl) and re-run"))
}

/// Controller settings that make workloads and ready kinds ready at once.
pub fn instant() -> ControllerConfig {
    ControllerConfig {
        workload_delay_ms: 0,
        ready_delay_ms: 0,
        ..ControllerConfig::default()
    }
}

/// Starts a sandbox with the given clusters and writes its kubeconfig.
pub async fn env(clusters: &[&str]) -> Env {
    env_config(SandboxConfig {
        clusters: clusters.iter().map(|s| s.to_string()).collect(),
        nodes: 3,
        controllers: instant(),
        ..SandboxConfig::default()
    })
    .await
}

/// Starts a sandbox as configured and writes its kubeconfig.
pub async fn env_config(cfg: SandboxConfig) -> Env {
    let sb = posture_sandbox::start(cfg)
        .await
        .expect("sandbox starts on free ports");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    sb.write_kubeconfig(&kubeconfig)
        .expect("kubeconfig written");
    Env {
        sb,
        dir,
        kubeconfig,
    }
}

impl Env {
    /// Runs kubectl with this sandbox's kubeconfig and a private HOME (fresh discovery cache).
    pub async fn kubectl(&self, args: &[&str]) -> Out {
        self.kubectl_stdin(args, None).await
    }

    /// Runs kubectl, feeding `stdin`.
    pub async fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("kubectl runs");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin piped");
            pipe.write_all(input.as_bytes())
                .await
                .expect("stdin written");
            drop(pipe);
        }
        let out = child.wait_with_output().await.expect("kubectl finishes");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A kubectl command ready to spawn.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(kubectl_path());
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Writes a file into the temp dir and returns its path.
    pub fn file(&self, name: &str, content: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("file written");
        p.display().to_string()
    }

    /// The temp dir.
    #[allow(dead_code)]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A cluster for in-process API calls (no sockets).
pub fn cluster() -> Arc<Cluster> {
    let mut st = posture_sandbox::store::State::new();
    posture_sandbox::seed::namespaces(&mut st);
    posture_sandbox::seed::nodes(&mut st, "t", 3);
    Arc::new(Cluster::new(
        "t".into(),
        "tok".into(),
        st,
        Default::default(),
        instant(),
    ))
}

/// One in-process API call: (status code, JSON body).
pub fn call(
    c: &Arc<Cluster>,
    method: &str,
    path_and_query: &str,
    body: &str,
    content_type: &str,
) -> (u16, Value) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut req = Request {
        method: method.into(),
        path: path.into(),
        content_type: content_type.into(),
        accept: "application/json".into(),
        user_agent: "tests/1.0".into(),
        body: bytes::Bytes::from(body.to_string()),
        server_addr: "127.0.0.1:1".into(),
        ..Request::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        req.query.insert(k.into(), v.into());
    }
    let route = posture_sandbox::route::parse(&req.path);
    match api::handle(c, &req, route) {
        Ok(Reply::Json(code, _, bytes)) => {
            (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }
        Ok(Reply::Watch(_)) => (200, Value::String("watch".into())),
        Err(e) => (e.code, e.body()),
    }
}

/// A raw HTTP/1.1 response: (status, lower-cased head, body).
pub type RawResponse = (u16, String, String);

/// One HTTP/1.1 request over TLS to a cluster, trusting the sandbox CA, with no retries
/// (unlike kube-rs and kubectl), so fault answers are seen as sent.
pub async fn https(
    sb: &Sandbox,
    cluster: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<RawResponse> {
    use rustls::pki_types::pem::PemObject;
    use tokio::io::AsyncReadExt;
    let ca =
        rustls::pki_types::CertificateDer::from_pem_slice(sb.ca_pem().as_bytes()).expect("CA PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("CA accepted");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = sb.cluster_url(cluster).expect("cluster served");
    let addr = url.trim_start_matches("https://").to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("server name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await?;
    // A server may answer (413) before the whole body is sent; read the answer anyway.
    let _ = tls.write_all(body).await;
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no status line in {head:?}"),
            )
        })?;
    Ok((code, head.to_lowercase(), body.to_string()))
}

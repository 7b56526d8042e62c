//! `posture sandbox` with `--kubernetes-version` and `--cluster-version`, through the
//! real binary: each cluster reports its own version to the real kubectl, SIGTERM
//! stops it with exit 0, and bad version flags are refused with a clear message.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn posture_sandbox(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_posture"))
        .arg("sandbox")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn posture sandbox")
}

fn kubectl_path() -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("kubectl not found on PATH: this test runs the real kubectl against `posture sandbox`; install it and re-run"))
}

/// A running `posture sandbox` past its ready line, with its kubeconfig.
struct Running {
    child: Child,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    ready: String,
}

/// Starts `posture sandbox` with `args` plus a kubeconfig in a temp dir, and waits
/// for the ready line (printed once every cluster listens and the kubeconfig is
/// written): the only synchronisation needed.
fn start(args: &[&str]) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let kc = kubeconfig.display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--kubeconfig", &kc, "--nodes", "1"]);
    let mut child = posture_sandbox(&all);
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut ready = String::new();
    stdout.read_line(&mut ready).expect("read ready line");
    if !ready.starts_with("sandbox ready: ") {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("no ready line: {ready:?}; stderr: {err}");
    }
    Running {
        child,
        dir,
        kubeconfig,
        ready,
    }
}

impl Running {
    /// Sends SIGTERM and asserts the exit code is 0.
    fn stop(mut self) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let status = self.child.wait().expect("posture exits");
        assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status:?}");
    }

    /// `kubectl --context CTX ARGS...` with this sandbox's kubeconfig: stdout.
    fn kubectl(&self, context: &str, args: &[&str]) -> String {
        let out = Command::new(kubectl_path())
            .args(["--context", context])
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `/version` of a cluster, through kubectl.
    fn server_version(&self, context: &str) -> Value {
        serde_json::from_str(&self.kubectl(context, &["get", "--raw", "/version"]))
            .expect("/version is JSON")
    }
}

#[test]
fn clusters_report_their_versions_then_sigterm_exits_zero() {
    let sb = start(&[
        "--clusters",
        "a,b",
        "--kubernetes-version",
        "1.23",
        "--cluster-version",
        "b=1.30",
    ]);
    assert!(
        sb.ready.contains(" a=https://127.0.0.1:") && sb.ready.contains(" b=https://127.0.0.1:"),
        "{}",
        sb.ready
    );
    for (context, minor) in [("a", "23"), ("b", "30")] {
        let v = sb.server_version(context);
        assert_eq!(v["major"], "1", "{context}: {v}");
        assert_eq!(v["minor"], minor, "{context}: {v}");
        assert_eq!(v["gitVersion"], format!("v1.{minor}.0"), "{context}: {v}");
    }
    sb.stop();
}

/// Each discovery shape (legacy at 1.23, aggregated v2beta1 at 1.27, v2 at 1.32) is
/// enough for kubectl to resolve kinds; versions given comma separated and repeated.
#[test]
fn kubectl_discovers_kinds_at_every_version_given_per_cluster() {
    let sb = start(&[
        "--clusters",
        "old,mid,new",
        "--cluster-version",
        "old=1.23,mid=v1.27.3",
        "--cluster-version",
        "new=1.32",
    ]);
    for (context, minor) in [("old", "23"), ("mid", "27"), ("new", "32")] {
        assert_eq!(sb.server_version(context)["minor"], minor, "{context}");
        let kinds = sb.kubectl(context, &["api-resources", "-o", "name"]);
        for k in [
            "configmaps",
            "deployments.apps",
            "customresourcedefinitions.apiextensions.k8s.io",
        ] {
            assert!(
                kinds.lines().any(|l| l == k),
                "{context}: {k} missing in {kinds}"
            );
        }
        let nodes = sb.kubectl(context, &["get", "nodes", "-o", "name"]);
        assert_eq!(
            nodes,
            format!("node/{context}-control-plane\n"),
            "{context}"
        );
    }
    sb.stop();
}

#[test]
fn a_version_for_an_unknown_cluster_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubeconfig").display().to_string();
    let out = posture_sandbox(&[
        "--clusters",
        "a,b",
        "--cluster-version",
        "c=1.23",
        "--kubeconfig",
        &kc,
    ])
    .wait_with_output()
    .expect("posture exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "--cluster-version names cluster \"c\", which is not one of --clusters (a,b)"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no ready line");
}

#[test]
fn a_malformed_version_is_refused_by_the_flag_parser() {
    for (flag, value) in [
        ("--kubernetes-version", "1.x"),
        ("--cluster-version", "a"),
        ("--cluster-version", "a=two"),
    ] {
        let out = posture_sandbox(&["--clusters", "a", "--kubeconfig", "k", flag, value])
            .wait_with_output()
            .expect("posture exits");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains("invalid Kubernetes version")
                || stderr.contains("expected NAME=VERSION"),
            "{flag} {value}: {stderr}"
        );
    }
}

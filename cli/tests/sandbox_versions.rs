//! `posture sandbox` with `--kubernetes-version` and `--cluster-version`, through the
//! real binary: each cluster reports its own version to the real kubectl, SIGTERM
//! stops it with exit 0, and bad version flags are refused with a clear message.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
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

/// `kubectl --context CTX get --raw /version`, parsed.
fn server_version(kubeconfig: &Path, home: &Path, context: &str) -> Value {
    let out = Command::new(kubectl_path())
        .args(["--context", context, "get", "--raw", "/version"])
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("/version is JSON")
}

#[test]
fn clusters_report_their_versions_then_sigterm_exits_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let kc = kubeconfig.display().to_string();
    let mut child = posture_sandbox(&[
        "--clusters",
        "a,b",
        "--kubernetes-version",
        "1.23",
        "--cluster-version",
        "b=1.30",
        "--kubeconfig",
        &kc,
        "--nodes",
        "1",
    ]);
    // The ready line is printed once every cluster listens and the kubeconfig is
    // written: it is the only synchronisation needed.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut ready = String::new();
    stdout.read_line(&mut ready).expect("read ready line");
    if !ready.starts_with("sandbox ready: ") {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("no ready line: {ready:?}; stderr: {err}");
    }
    assert!(
        ready.contains(" a=https://127.0.0.1:") && ready.contains(" b=https://127.0.0.1:"),
        "{ready}"
    );
    for (context, minor) in [("a", "23"), ("b", "30")] {
        let v = server_version(&kubeconfig, dir.path(), context);
        assert_eq!(v["major"], "1", "{context}: {v}");
        assert_eq!(v["minor"], minor, "{context}: {v}");
        assert_eq!(v["gitVersion"], format!("v1.{minor}.0"), "{context}: {v}");
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = child.wait().expect("posture exits");
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status:?}");
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

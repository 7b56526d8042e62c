//! The Kubernetes provider through the `posture` binary against older
//! servers: examples/k8s, unchanged, on sandbox clusters at the oldest
//! supported version (legacy discovery, no fieldValidation), and a cluster
//! below the supported range refused by name and version.

use super::support::{Sandboxed, quick};
use posture_sandbox::KubeVersion;
use std::path::{Path, PathBuf};
use std::process::Command;

fn posture(dir: &Path, args: &[&str], kubeconfig: &Path) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_posture"))
        .env("POSTURE_VAR_kubeconfig", kubeconfig)
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run posture");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn example_copy(into: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/k8s");
    let dir = into.join("k8s");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for e in std::fs::read_dir(&from).expect("read example") {
        let p = e.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    dir
}

async fn sandbox_at(version: &str) -> Sandboxed {
    let mut cfg = quick(&["mgmt", "prod-eu", "prod-us"]);
    cfg.nodes = 2;
    cfg.kubernetes_version = Some(version.parse::<KubeVersion>().expect("version"));
    Sandboxed::start(cfg).await
}

#[tokio::test(flavor = "multi_thread")]
async fn k8s_example_runs_unchanged_on_the_oldest_supported_version() {
    let sb = sandbox_at("1.23").await;
    let kubeconfig = sb.kubeconfig.clone();
    let dir = example_copy(sb.tmp.path());
    let kc = kubeconfig.clone();
    let d = dir.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        let apply = posture(&d, &["apply", "--auto-approve"], &kc);
        let plan = posture(&d, &["plan", "--detailed-exitcode"], &kc);
        let destroy = posture(&d, &["destroy", "--auto-approve"], &kc);
        (apply, plan, destroy)
    })
    .await
    .expect("join");
    let ((code, out, err), (pcode, pout, perr), (dcode, dout, derr)) = outputs;
    assert_eq!(code, 0, "apply on 1.23: {out}{err}");
    assert!(out.contains("Apply complete!"), "{out}");
    assert_eq!(pcode, 0, "second plan on 1.23 must be empty: {pout}{perr}");
    assert_eq!(dcode, 0, "destroy on 1.23: {dout}{derr}");
    for c in sb.sandbox.cluster_names() {
        let cl = sb.sandbox.cluster(&c).expect("cluster");
        assert!(
            cl.field_validation_seen().is_empty(),
            "{c}: fieldValidation sent to a 1.23 server"
        );
        let m = cl.metrics();
        assert!(
            m.get("get discovery").copied().unwrap_or(0) > 0,
            "{c}: {m:?}"
        );
    }
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_older_than_the_supported_range_fails_the_run_by_name_and_version() {
    let sb = sandbox_at("1.22").await;
    let kubeconfig = sb.kubeconfig.clone();
    let dir = example_copy(sb.tmp.path());
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        posture(&dir, &["plan", "--detailed-exitcode"], &kubeconfig)
    })
    .await
    .expect("join");
    assert_eq!(code, 1, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(
        all.contains("cluster prod-eu at https://127.0.0.1:")
            && all.contains("runs Kubernetes 1.22; posture supports 1.23 and newer"),
        "{all}"
    );
    assert!(!all.contains("No changes"), "{all}");
    sb.shutdown().await.expect("shutdown");
}

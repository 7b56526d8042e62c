//! Every example in examples/ is exercised here.

use super::support::{Sandboxed, quick};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    run_env(dir, args, stdin, &[])
}

fn run_env(
    dir: &Path,
    args: &[&str],
    stdin: &str,
    env: &[(&str, String)],
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posture"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    let o = child.wait_with_output().expect("wait");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn every_example_validates() {
    let mut seen = 0;
    for entry in std::fs::read_dir(examples()).expect("examples/") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        seen += 1;
        let (code, out, err) = run(&dir, &["validate"], "");
        assert_eq!(code, 0, "{}: {err}", dir.display());
        assert!(out.contains("Success!"), "{out}");
    }
    assert!(seen > 0, "no examples found");
}

#[test]
fn fleet_evaluates_per_cluster_values() {
    let dir = examples().join("fleet");
    let (code, out, err) = run(
        &dir,
        &["console"],
        "module.cluster[\"prod-eu\"].owner_id\nsort(keys(posture_data.route_reflectors))\nmodule.cluster.mgmt.fqdn\n",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "\"posture-prod-eu\"");
    assert_eq!(out.matches("prod-").count(), 3, "{out}");
    assert!(out.contains("\"mgmt.example.com\""), "{out}");
}

/// apply, a second plan with nothing to do, destroy: in a copy of the example.
fn lifecycle(example: &str, env: &[(&str, String)]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(example);
    copy_dir(&examples().join(example), &dir);
    let (code, out, err) = run_env(&dir, &["apply", "--auto-approve"], "", env);
    assert_eq!(code, 0, "apply {example}: {out}{err}");
    assert!(out.contains("Apply complete!"), "{out}");
    let (code, out, err) = run_env(&dir, &["plan", "--detailed-exitcode"], "", env);
    assert_eq!(
        code, 0,
        "second plan of {example} must be empty: {out}{err}"
    );
    let (code, out, err) = run_env(&dir, &["destroy", "--auto-approve"], "", env);
    assert_eq!(code, 0, "destroy {example}: {out}{err}");
    let (_, out, _) = run_env(&dir, &["state", "list"], "", env);
    assert_eq!(out.trim(), "", "nothing left in state");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read example") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_owned();
        if p.is_dir() {
            if name != ".posture" {
                copy_dir(&p, &to.join(name));
            }
        } else {
            std::fs::copy(&p, to.join(name)).expect("copy");
        }
    }
}

#[test]
fn fleet_applies_then_has_nothing_to_do_then_destroys() {
    lifecycle("fleet", &[]);
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_applies_against_moto_then_has_nothing_to_do_then_destroys() {
    let moto = posture_provider_route53::testing::MotoServer::start()
        .await
        .expect("moto (run scripts/install-moto.sh)");
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    tokio::task::spawn_blocking(move || lifecycle("dns", &env))
        .await
        .expect("join");
    drop(moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn k8s_applies_to_three_sandbox_clusters_then_has_nothing_to_do_then_destroys() {
    let mut cfg = quick(&["mgmt", "prod-eu", "prod-us"]);
    cfg.nodes = 2;
    let sandbox = Sandboxed::start(cfg).await;
    let kubeconfig = sandbox.kubeconfig.clone();
    let env = [("POSTURE_VAR_kubeconfig", kubeconfig.display().to_string())];
    tokio::task::spawn_blocking(move || lifecycle("k8s", &env))
        .await
        .expect("join");
    sandbox.shutdown().await.expect("sandbox shutdown");
}

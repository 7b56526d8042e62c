//! `run` as the CLI calls it: kubeconfig written once every cluster listens, serving
//! until SIGTERM, then a clean exit that saves state.

use std::time::Duration;

use posture_sandbox::SandboxArgs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_until_sigterm_then_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let state = dir.path().join("state");
    let args = SandboxArgs {
        clusters: vec!["mgmt".into(), "prod-eu".into()],
        kubeconfig: kubeconfig.clone(),
        state_dir: Some(state.clone()),
        nodes: 2,
        workload_delay_ms: 0,
        ready_delay_ms: 0,
        admin_port: 0,
        kubernetes_version: None,
        cluster_version: Vec::new(),
    };
    // Ready is reported as a value (the library prints nothing) once every
    // cluster listens, the kubeconfig is written and the signal handlers are
    // installed.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let running = tokio::spawn(posture_sandbox::run(args, move |r| {
        let _ = tx.send(r);
    }));
    let ready = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("ready within 30 s")
        .expect("ready reported");
    assert_eq!(ready.kubeconfig, kubeconfig);
    assert!(kubeconfig.exists(), "written before ready");
    let names: Vec<&str> = ready.clusters.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mgmt", "prod-eu"]);
    assert!(
        ready
            .clusters
            .iter()
            .all(|(_, u)| u.starts_with("https://127.0.0.1:"))
            && ready.admin_url.starts_with("http://127.0.0.1:"),
        "{ready:?}"
    );
    let out = tokio::process::Command::new(crate::common::kubectl_path())
        .args(["--context", "prod-eu", "get", "nodes", "-o", "name"])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .await
        .expect("kubectl runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "node/prod-eu-control-plane\nnode/prod-eu-worker-1\n"
    );
    let kill = tokio::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .await
        .expect("kill runs");
    assert!(kill.success());
    let result = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("stops after SIGTERM")
        .expect("task");
    assert!(result.is_ok(), "{result:?}");
    assert!(state.join("mgmt.json").exists() && state.join("prod-eu.json").exists());
}

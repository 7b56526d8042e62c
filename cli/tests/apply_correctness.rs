//! Apply correctness through the `posture` binary: a Kubernetes object
//! applied whose wait timed out is recorded tainted and replaced by the next
//! apply (H1 #5); an old object a create_before_destroy replacement could not
//! delete stays in state as a deposed object until a later apply deletes it
//! (H1 #3).

mod support;

use support::posture;

/// A Deployment whose rollout is waited for `timeout`; `wait` false drops the block.
fn deployment(wait: bool) -> String {
    let wait = if wait {
        "  wait {\n    rollout = true\n    timeout = \"1s\"\n  }\n"
    } else {
        ""
    };
    format!(
        "cluster \"a\" {{\n  kubeconfig = \"kubeconfig\"\n  context    = \"a\"\n}}\n\nresource \"kubernetes_manifest\" \"web\" {{\n  cluster  = cluster.a\n  manifest = {{\n    apiVersion = \"apps/v1\"\n    kind       = \"Deployment\"\n    metadata   = {{ name = \"web\", namespace = \"default\" }}\n    spec = {{\n      replicas = 1\n      selector = {{ matchLabels = {{ app = \"web\" }} }}\n      template = {{\n        metadata = {{ labels = {{ app = \"web\" }} }}\n        spec     = {{ containers = [{{ name = \"web\", image = \"nginx:1.27\" }}] }}\n      }}\n    }}\n  }}\n{wait}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_applied_deployment_whose_wait_timed_out_is_recorded_tainted_and_replaced() {
    // Workloads never become ready within the test: the wait must time out.
    let sandbox = posture_sandbox::start(posture_sandbox::SandboxConfig {
        clusters: vec!["a".into()],
        nodes: 1,
        controllers: posture_sandbox::ControllerConfig {
            workload_delay_ms: 3_600_000,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let d = tempfile::tempdir().expect("tempdir");
    sandbox
        .write_kubeconfig(&d.path().join("kubeconfig"))
        .expect("kubeconfig");
    std::fs::write(d.path().join("main.hcl"), deployment(true)).expect("main.hcl");
    let dir = d.path().to_path_buf();
    let run = move |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || posture(&dir, args))
    };

    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("kubernetes_manifest.web")
            && o.stderr.contains(
                "the object exists and is recorded as tainted: the next plan replaces it"
            ),
        "{}",
        o.all()
    );
    let o = run(&["state", "list"]).await.expect("join");
    assert_eq!(o.stdout.trim(), "kubernetes_manifest.web", "{}", o.all());
    let o = run(&["state", "show", "kubernetes_manifest.web"])
        .await
        .expect("join");
    assert!(
        o.stdout.contains("# tainted: the next apply replaces it"),
        "{}",
        o.all()
    );
    let uid = |show: &str| {
        show.lines()
            .find(|l| l.trim_start().starts_with("uid "))
            .map(str::to_string)
    };
    let first_uid = uid(&o.stdout).expect("a uid in state show");

    let o = run(&["plan"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout.contains(
            "  # kubernetes_manifest.web is tainted, so must be replaced\n-/+ resource \"kubernetes_manifest\" \"web\" {"
        ),
        "{}",
        o.all()
    );
    assert!(
        o.stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{}",
        o.all()
    );

    // Without the wait the replacement completes: a new object, untainted.
    std::fs::write(d.path().join("main.hcl"), deployment(false)).expect("main.hcl");
    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("Apply complete! Resources: 1 added, 0 changed, 1 destroyed."),
        "{}",
        o.all()
    );
    let o = run(&["state", "show", "kubernetes_manifest.web"])
        .await
        .expect("join");
    assert!(!o.stdout.contains("tainted"), "{}", o.all());
    assert_ne!(uid(&o.stdout), Some(first_uid), "a new object: {}", o.all());
    let o = run(&["plan"]).await.expect("join");
    assert!(o.stdout.contains("No changes."), "{}", o.all());
    sandbox.shutdown().await.expect("sandbox shutdown");
}

//! Apply correctness through the `posture` binary: a Kubernetes object
//! applied whose wait timed out is recorded tainted and replaced by the next
//! apply (H1 #5); an old object a create_before_destroy replacement could not
//! delete stays in state as a deposed object until a later apply deletes it
//! (H1 #3).

use super::support::posture;

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

/// A ConfigMap replaced create-before-destroy by renaming it; `held` gives
/// it a finalizer, so that its delete (within 1s) cannot complete.
fn config_map(name: &str, held: bool) -> String {
    let finalizers = if held {
        ", finalizers = [\"example.com/hold\"]"
    } else {
        ""
    };
    format!(
        "cluster \"a\" {{\n  kubeconfig = \"kubeconfig\"\n  context    = \"a\"\n}}\n\nresource \"kubernetes_manifest\" \"cm\" {{\n  cluster        = cluster.a\n  delete_timeout = \"1s\"\n  manifest = {{\n    apiVersion = \"v1\"\n    kind       = \"ConfigMap\"\n    metadata   = {{ name = \"{name}\", namespace = \"default\"{finalizers} }}\n    data       = {{ k = \"v\" }}\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn create_before_destroy_whose_delete_fails_keeps_the_old_object_deposed_until_a_later_apply_deletes_it()
 {
    let sandbox = posture_sandbox::start(posture_sandbox::SandboxConfig {
        clusters: vec!["a".into()],
        nodes: 1,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let d = tempfile::tempdir().expect("tempdir");
    let kubeconfig = d.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    std::fs::write(d.path().join("main.hcl"), config_map("old", true)).expect("main.hcl");
    let dir = d.path().to_path_buf();
    let run = move |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || posture(&dir, args))
    };
    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());

    // The new object is made; the old one's delete is held by its finalizer.
    std::fs::write(d.path().join("main.hcl"), config_map("new", false)).expect("main.hcl");
    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("kubernetes_manifest.cm") && o.stderr.contains("finalizers"),
        "{}",
        o.all()
    );
    let o = run(&["plan"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    let head = o
        .stdout
        .lines()
        .find(|l| l.contains("(deposed object "))
        .unwrap_or_default()
        .to_string();
    assert!(
        head.starts_with("  # kubernetes_manifest.cm (deposed object ")
            && head.ends_with(") will be destroyed"),
        "{}",
        o.all()
    );
    assert!(
        o.stdout.contains(&format!(
            "{head}\n  # (left over from a partially-failed replacement of this instance)\n  - resource \"kubernetes_manifest\" \"cm\" {{"
        )),
        "{}",
        o.all()
    );
    assert!(
        o.stdout.contains("name = \"old\"") || o.stdout.contains("\"old\""),
        "the deposed object is the old ConfigMap: {}",
        o.all()
    );
    assert!(
        o.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{}",
        o.all()
    );

    // Once the finalizer is gone, the next apply finishes the replacement.
    let patched = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "--context",
            "a",
            "-n",
            "default",
            "patch",
            "configmap",
            "old",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ])
        .output()
        .expect("kubectl");
    assert!(patched.status.success(), "{patched:?}");
    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."),
        "{}",
        o.all()
    );
    let o = run(&["plan"]).await.expect("join");
    assert!(o.stdout.contains("No changes."), "{}", o.all());
    let o = run(&["state", "show", "kubernetes_manifest.cm"])
        .await
        .expect("join");
    assert!(o.stdout.contains("\"new\""), "{}", o.all());
    sandbox.shutdown().await.expect("sandbox shutdown");
}

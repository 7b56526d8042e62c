//! kill -9 during an in-place update of a `kubernetes_manifest`, through the
//! `posture` binary on a sandbox cluster, at the exact points
//! `POSTURE_TEST_HALT` names. Recovery must leave a state that describes
//! the live object, so that the next plan shows whatever is still to do.
//!
//! An update killed once its intent was durable but before the provider
//! call used to be adopted with the *planned* manifest: the next plan said
//! "No changes." while the cluster still held the old value, for good.

use super::support::{Out, Sandboxed, assert_ok, command, killed, kubectl, output, quick};

use std::path::Path;

/// One ConfigMap whose `data.k` is `value`.
fn config(value: &str) -> String {
    format!(
        r#"
variable "kubeconfig" {{ type = string }}

cluster "c" {{
  kubeconfig = var.kubeconfig
  context    = "c1"
}}

resource "kubernetes_manifest" "cm" {{
  cluster  = cluster.c
  manifest = {{
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = {{ name = "upd-cm", namespace = "default" }}
    data       = {{ k = "{value}" }}
  }}
}}
"#
    )
}

fn recovered(o: &Out) -> Vec<&str> {
    o.stderr
        .lines()
        .filter(|l| l.starts_with("Recovered: "))
        .collect()
}

/// `data.k` of the ConfigMap, by kubectl.
fn live_value(kubeconfig: &Path) -> String {
    kubectl(
        kubeconfig,
        &[
            "--context",
            "c1",
            "-n",
            "default",
            "get",
            "configmap",
            "upd-cm",
            "-o",
            "jsonpath={.data.k}",
        ],
    )
}

/// Applies `old`, then an update to `new` killed at `halt`; returns the
/// workspace's command builder inputs (directory, kubeconfig).
fn update_killed_at(
    sb: &Sandboxed,
    name: &str,
    halt: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir(name, &config("old"));
    let mut c = command(&dir);
    c.env("POSTURE_VAR_kubeconfig", &kc);
    assert_ok(&output(c.args(["apply", "--auto-approve"])), "first apply");
    assert_eq!(live_value(&kc), "old");
    std::fs::write(dir.join("main.hcl"), config("new")).expect("main.hcl");
    let mut c = command(&dir);
    c.env("POSTURE_VAR_kubeconfig", &kc);
    killed(c, &["apply", "--auto-approve"], halt);
    (dir, kc)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_killed_before_the_provider_call_is_not_adopted_with_the_planned_manifest() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let sbr = &sb;
    tokio::task::block_in_place(|| {
        let (dir, kc) = update_killed_at(sbr, "before", "intents:1");
        // The update never reached the cluster.
        assert_eq!(live_value(&kc), "old");
        let k8s = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        let o = output(k8s().args(["plan", "--detailed-exitcode"]));
        assert_eq!(o.code, 2, "the update is still to do\n{}", o.all());
        assert_eq!(
            recovered(&o),
            vec!["Recovered: kubernetes_manifest.cm: adopted the object an interrupted run left"],
            "{}",
            o.all()
        );
        assert!(
            o.stdout
                .contains("kubernetes_manifest.cm will be updated in place"),
            "{}",
            o.all()
        );
        assert!(
            o.stdout
                .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("\"new\""), "{}", o.all());
        let o = output(k8s().args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply after the kill");
        assert!(
            o.stdout
                .contains("Resources: 0 added, 1 changed, 0 destroyed."),
            "{}",
            o.all()
        );
        assert_eq!(live_value(&kc), "new");
        let o = output(k8s().args(["plan", "--detailed-exitcode"]));
        assert_eq!(o.code, 0, "settled\n{}", o.all());
    });
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_killed_after_the_provider_call_is_adopted_as_applied() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let sbr = &sb;
    tokio::task::block_in_place(|| {
        let (dir, kc) = update_killed_at(sbr, "after", "applied:1");
        // The update reached the cluster; only its result was not recorded.
        assert_eq!(live_value(&kc), "new");
        let mut c = command(&dir);
        c.env("POSTURE_VAR_kubeconfig", &kc);
        let o = output(c.args(["plan", "--detailed-exitcode"]));
        assert_eq!(o.code, 0, "nothing left to do\n{}", o.all());
        assert_eq!(
            recovered(&o),
            vec!["Recovered: kubernetes_manifest.cm: adopted the object an interrupted run left"],
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("No changes."), "{}", o.all());
        assert_eq!(live_value(&kc), "new");
    });
    sb.shutdown().await.expect("shutdown");
}

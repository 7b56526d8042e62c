//! A `kubernetes_manifests` bundle that fails midway, through the `posture`
//! binary on a sandbox cluster, checked with kubectl: the failed apply exits
//! 1 naming the bundle's address and the object that failed, and the state
//! records the objects it did apply. The fixed bundle then applies only what
//! is missing (in place, no object recreated), prunes the object dropped
//! before the failure, and destroy deletes every object, those of the failed
//! run included.

use super::support::{Out, Sandboxed, command, output, quick};

use std::path::Path;

const CONFIG: &str = r#"
variable "kubeconfig" { type = string }
cluster "a" {
  kubeconfig = var.kubeconfig
  context    = "a"
}
resource "kubernetes_manifests" "app" {
  cluster = cluster.a
  content = file("bundle.yaml")
}
"#;

/// A ConfigMap document.
fn cm(name: &str, ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata: {{k: v}}\n"
    )
}

/// c1..c5 in `default`, the third in `third_ns`.
fn five(third_ns: &str) -> String {
    ["c1", "c2", "c3", "c4", "c5"]
        .iter()
        .map(|n| cm(n, if *n == "c3" { third_ns } else { "default" }))
        .collect::<Vec<_>>()
        .join("---\n")
}

fn run(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Out {
    output(
        command(dir)
            .env("POSTURE_VAR_kubeconfig", kubeconfig)
            .args(args),
    )
}

/// kubectl get configmap NAME in default: its uid, or None when absent.
fn uid(kubeconfig: &Path, name: &str) -> Option<String> {
    let o = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "a", "-n", "default", "get", "configmap", name])
        .args(["--ignore-not-found", "-o", "jsonpath={.metadata.uid}"])
        .output()
        .expect("run kubectl");
    assert!(
        o.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The bundle's inventory in the state `state pull` prints.
fn inventory(dir: &Path, kubeconfig: &Path) -> Vec<String> {
    let o = run(dir, kubeconfig, &["state", "pull"]);
    assert_eq!(o.code, 0, "state pull\n{}", o.all());
    let state: serde_json::Value = serde_json::from_str(&o.stdout).expect("state is JSON");
    let attrs = &state["instances"]["kubernetes_manifests.app"]["attributes"];
    let inv = attrs["inventory"]
        .get("value")
        .unwrap_or(&attrs["inventory"])
        .as_array()
        .unwrap_or_else(|| panic!("no inventory in {state:#}"));
    let mut ids: Vec<String> = inv
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn bundle_failing_midway_keeps_what_it_applied() {
    let sb = Sandboxed::start(quick(&["a"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CONFIG);
    let id = |name: &str| format!("a/v1/ConfigMap/default/{name}");

    tokio::task::spawn_blocking(move || {
        let bundle = |text: String| std::fs::write(dir.join("bundle.yaml"), text).expect("bundle");
        // Before: c1 and `old`.
        bundle(format!(
            "{}---\n{}",
            cm("c1", "default"),
            cm("old", "default")
        ));
        let o = run(&dir, &kc, &["apply", "--auto-approve"]);
        assert_eq!(o.code, 0, "first apply\n{}", o.all());

        // The third of five in a namespace that does not exist.
        bundle(five("missing"));
        let o = run(&dir, &kc, &["apply", "--auto-approve"]);
        assert_eq!(o.code, 1, "the broken bundle fails\n{}", o.all());
        assert!(
            o.stderr.contains(
                "kubernetes_manifests.app: object a/v1/ConfigMap/missing/c3 failed: cluster a: "
            ),
            "the error names the address and the object\n{}",
            o.all()
        );
        assert!(o.stderr.contains("4 of 5 objects applied"), "{}", o.all());
        assert!(!o.stdout.contains("Apply complete!"), "{}", o.all());
        assert_eq!(
            inventory(&dir, &kc),
            vec![id("c1"), id("c2"), id("c4"), id("c5"), id("old")],
            "the state knows what the failed run applied, and `old`, not pruned yet"
        );
        for name in ["c1", "c2", "c4", "c5", "old"] {
            assert!(uid(&kc, name).is_some(), "{name} is on the cluster");
        }
        let kept: Vec<Option<String>> = ["c1", "c2", "c4", "c5"]
            .iter()
            .map(|n| uid(&kc, n))
            .collect();

        // Fixed: an update in place that adds c3 and prunes `old`.
        bundle(five("default"));
        let o = run(&dir, &kc, &["plan"]);
        assert_eq!(o.code, 0, "plan\n{}", o.all());
        assert!(
            !o.stdout.contains("changed outside of posture"),
            "what the failed run recorded is what the cluster holds\n{}",
            o.all()
        );
        assert!(
            o.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "updated in place, not replaced\n{}",
            o.all()
        );
        assert!(
            o.stdout.contains("prune: a/v1/ConfigMap/default/old"),
            "{}",
            o.all()
        );
        let o = run(&dir, &kc, &["apply", "--auto-approve"]);
        assert_eq!(o.code, 0, "the fixed bundle applies\n{}", o.all());
        assert!(uid(&kc, "c3").is_some(), "c3 created");
        assert!(uid(&kc, "old").is_none(), "old pruned");
        let after: Vec<Option<String>> = ["c1", "c2", "c4", "c5"]
            .iter()
            .map(|n| uid(&kc, n))
            .collect();
        assert_eq!(kept, after, "the objects already applied are not recreated");
        assert_eq!(
            inventory(&dir, &kc),
            ["c1", "c2", "c3", "c4", "c5"].map(id).to_vec()
        );
        let o = run(&dir, &kc, &["plan", "--detailed-exitcode"]);
        assert_eq!(o.code, 0, "nothing left to do\n{}", o.all());

        // Destroy deletes all five, those of the failed run too.
        let o = run(&dir, &kc, &["destroy", "--auto-approve"]);
        assert_eq!(o.code, 0, "destroy\n{}", o.all());
        for name in ["c1", "c2", "c3", "c4", "c5"] {
            assert!(uid(&kc, name).is_none(), "{name} deleted");
        }
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

/// A bundle whose first apply fails midway: the objects it created are
/// recorded in its inventory, and the bundle is not tainted (its inventory
/// says exactly what went), so the next plan updates it in place and the
/// objects already applied keep their uids; destroy deletes them all. It
/// used to be tainted, and the next apply deleted and recreated them all.
#[tokio::test(flavor = "multi_thread")]
async fn bundle_failing_midway_on_its_first_apply_is_updated_in_place_keeping_the_objects_applied()
{
    let sb = Sandboxed::start(quick(&["a"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CONFIG);
    let id = |name: &str| format!("a/v1/ConfigMap/default/{name}");

    tokio::task::spawn_blocking(move || {
        std::fs::write(dir.join("bundle.yaml"), five("missing")).expect("bundle");
        let o = run(&dir, &kc, &["apply", "--auto-approve"]);
        assert_eq!(o.code, 1, "the broken bundle fails\n{}", o.all());
        assert!(
            o.stderr
                .contains("kubernetes_manifests.app: object a/v1/ConfigMap/missing/c3 failed: "),
            "{}",
            o.all()
        );
        assert!(
            !o.stderr.contains("recorded as tainted"),
            "a bundle is not tainted\n{}",
            o.all()
        );
        assert_eq!(
            inventory(&dir, &kc),
            vec![id("c1"), id("c2"), id("c4"), id("c5")]
        );
        let o = run(&dir, &kc, &["state", "show", "kubernetes_manifests.app"]);
        assert_eq!(o.code, 0, "state show\n{}", o.all());
        assert!(!o.stdout.contains("tainted"), "{}", o.all());
        let kept: Vec<Option<String>> = ["c1", "c2", "c4", "c5"]
            .iter()
            .map(|n| uid(&kc, n))
            .collect();
        assert!(kept.iter().all(Option::is_some), "{kept:?}");

        std::fs::write(dir.join("bundle.yaml"), five("default")).expect("bundle");
        let o = run(&dir, &kc, &["plan"]);
        assert_eq!(o.code, 0, "plan\n{}", o.all());
        assert!(
            o.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            "updated in place, not replaced\n{}",
            o.all()
        );
        let o = run(&dir, &kc, &["apply", "--auto-approve"]);
        assert_eq!(o.code, 0, "the fixed bundle applies\n{}", o.all());
        assert!(!o.stdout.contains("must be replaced"), "{}", o.all());
        assert!(uid(&kc, "c3").is_some(), "c3 created");
        let after: Vec<Option<String>> = ["c1", "c2", "c4", "c5"]
            .iter()
            .map(|n| uid(&kc, n))
            .collect();
        assert_eq!(kept, after, "the objects already applied are not recreated");
        assert_eq!(
            inventory(&dir, &kc),
            ["c1", "c2", "c3", "c4", "c5"].map(id).to_vec()
        );
        let o = run(&dir, &kc, &["destroy", "--auto-approve"]);
        assert_eq!(o.code, 0, "destroy\n{}", o.all());
        for name in ["c1", "c2", "c3", "c4", "c5"] {
            assert!(uid(&kc, name).is_none(), "{name} deleted");
        }
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

//! What a person reads in a plan, through the `posture` binary on a sandbox
//! cluster: a one-line change made outside posture to a ConfigMap's
//! `hosts.toml` shows as that line, in the drift section and in the update
//! that undoes it, with the cluster by name and nothing else of the object.

use super::support::{Sandboxed, command, kubectl, output, quick};

const CONFIG: &str = r#"
variable "kubeconfig" { type = string }
cluster "a" {
  kubeconfig = var.kubeconfig
  context    = "a"
}
resource "kubernetes_manifest" "mirror" {
  cluster  = cluster.a
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "registry-mirror", namespace = "default" }
    data = {
      "hosts.toml" = <<-EOT
        server = "https://registry-1.docker.io"

        [host."https://mirror-a.example"]
          capabilities = ["pull", "resolve"]
      EOT
      mirror = "docker.io"
    }
  }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_one_line_drift_of_hosts_toml_reads_as_that_line() {
    let sb = Sandboxed::start(quick(&["a"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CONFIG);
    tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            output(
                command(&dir)
                    .env("POSTURE_VAR_kubeconfig", &kc)
                    .args(args),
            )
        };
        let o = run(&["apply", "--auto-approve"]);
        assert_eq!(o.code, 0, "apply\n{}", o.all());

        // Someone edits the mirror by hand.
        let patch = serde_json::json!({ "data": { "hosts.toml":
            "server = \"https://registry-1.docker.io\"\n\n[host.\"https://mirror-b.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n" } });
        kubectl(
            &kc,
            &[
                "--context",
                "a",
                "-n",
                "default",
                "patch",
                "configmap",
                "registry-mirror",
                "--type",
                "merge",
                "-p",
                &patch.to_string(),
            ],
        );

        let o = run(&["plan", "--detailed-exitcode"]);
        assert_eq!(o.code, 2, "plan\n{}", o.all());
        let text = &o.stdout;
        assert!(text.contains("has changed"), "{text}");
        assert!(text.contains("will be updated in place"), "{text}");
        // The changed line, both ways, and nothing more of the object.
        let removed_a = text
            .lines()
            .filter(|l| l.trim() == "- [host.\"https://mirror-a.example\"]")
            .count();
        let added_a = text
            .lines()
            .filter(|l| l.trim() == "+ [host.\"https://mirror-a.example\"]")
            .count();
        assert_eq!((removed_a, added_a), (1, 1), "{text}");
        assert!(text.contains("~ \"hosts.toml\" = <<-EOT"), "{text}");
        assert!(text.contains("unchanged"), "unchanged parts are counted\n{text}");
        assert!(
            !text.lines().any(|l| l.contains("mirror ") && l.contains("= \"docker.io\"")),
            "the unchanged key is hidden\n{text}"
        );
        // The conflict names who changed the field, and the value it holds.
        assert!(
            text.contains("owned by field manager \"kubectl-patch\" with value \"server"),
            "{text}"
        );
        assert!(!text.contains("see the live object"), "{text}");
        // The cluster by name, never its kubeconfig path.
        assert!(text.contains("cluster"), "{text}");
        assert!(text.contains("= \"a\""), "{text}");
        let kc_path = kc.display().to_string();
        assert!(!text.contains(&kc_path), "{text}");
        assert!(!text.contains("-> {"), "no whole object on one line\n{text}");
    })
    .await
    .expect("test body");
    sb.shutdown().await.expect("shutdown");
}

//! State partitions per cluster (`posture { state_partition = "cluster" }`,
//! docs/backends.md) through the `posture` binary, on two sandbox clusters:
//! a run on cluster a goes on while a halted run holds cluster b's lock, a
//! second run on b is refused naming the holder, the halted run is killed
//! and recovered, a cluster removed from the configuration has its objects
//! destroyed, and the errors of `--cluster` (a dependency on a pending
//! instance of an unselected cluster; an unpartitioned state).

pub(super) use super::support::assert_ok;
use super::support::{Sandboxed, command, kubectl, output, quick};

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A ConfigMap with `value` on each cluster of `clusters`, and a resource on
/// no cluster with an output.
pub(super) fn fleet(clusters: &[&str], value: &str) -> String {
    let list: Vec<String> = clusters.iter().map(|c| format!("{c:?}")).collect();
    format!(
        r#"
posture {{
  state_partition = "cluster"
}}

variable "kubeconfig" {{ type = string }}

cluster "fleet" {{
  for_each   = toset([{}])
  kubeconfig = var.kubeconfig
  context    = each.key
}}

resource "kubernetes_manifest" "cm" {{
  for_each = cluster.fleet
  cluster  = each.value
  manifest = {{
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = {{ name = "part-cm", namespace = "default" }}
    data       = {{ k = "{value}" }}
  }}
}}

resource "posture_data" "global" {{
  input = "g"
}}

output "g" {{
  value = posture_data.global.output
}}
"#,
        list.join(", ")
    )
}

/// `data.k` of the ConfigMap on `context`, or `None` when it does not exist.
pub(super) fn configmap_value(kubeconfig: &Path, context: &str) -> Option<String> {
    let out = kubectl(
        kubeconfig,
        &[
            "--context",
            context,
            "-n",
            "default",
            "get",
            "configmaps",
            "-o",
            "jsonpath={.items[?(@.metadata.name==\"part-cm\")].data.k}",
        ],
    );
    let v = out.trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// Starts `posture ARGS` with `POSTURE_TEST_HALT=halt` and returns it once
/// the hook halted it (its lock held, nothing more written), with its stderr.
pub(super) fn halted(mut cmd: Command, args: &[&str], halt: &str) -> (Child, String) {
    let mut child = cmd
        .args(args)
        .env("POSTURE_TEST_HALT", halt)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start posture");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut seen = String::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("read stderr");
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("POSTURE_TEST_HALT: halted") {
            return (child, seen);
        }
    }
    let st = child.wait().expect("wait");
    panic!("posture ended ({st}) before the hook halted it:\n{seen}");
}

pub(super) fn kill9(mut child: Child) {
    child.kill().expect("kill -9 posture");
    let st = child.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&st),
        Some(9),
        "{st}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_on_different_clusters_never_wait_for_each_other_and_a_killed_one_recovers() {
    let sb = Sandboxed::start(quick(&["a", "b"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", &fleet(&["a", "b"], "v1"));
    tokio::task::spawn_blocking(move || {
        let run = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        let o = output(run().args(["apply", "--auto-approve"]));
        assert_ok(&o, "first apply");
        assert!(o.stdout.contains("Resources: 3 added"), "{}", o.all());
        // One state directory per partition, each with its own lock and database.
        for p in ["cluster-a", "cluster-b", "global"] {
            let d = dir.join(".posture/partitions").join(p);
            assert!(d.join("db").is_dir(), "{p}: {}", d.display());
        }
        let o = output(run().args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "kubernetes_manifest.cm[\"a\"]\nkubernetes_manifest.cm[\"b\"]\nposture_data.global\n",
            "{}",
            o.all()
        );

        std::fs::write(dir.join("main.hcl"), fleet(&["a", "b"], "v2")).expect("main.hcl");
        // A run on b halts once the cluster answered, before recording it,
        // holding b's lock.
        let args = ["apply", "--auto-approve", "--cluster", "b"];
        let (holder, _) = halted(run(), &args, "applied:1");
        assert_eq!(configmap_value(&kc, "b").as_deref(), Some("v2"));

        // The run on a neither waits nor fails.
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "a"]));
        assert_ok(&o, "apply --cluster a while b is held");
        assert!(
            o.stdout
                .contains("Resources: 0 added, 1 changed, 0 destroyed."),
            "{}",
            o.all()
        );
        assert_eq!(configmap_value(&kc, "a").as_deref(), Some("v2"));

        // A second run on b is refused at once, naming the holder.
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "b"]));
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(
            o.stderr.contains("partition b") && o.stderr.contains("state is locked by"),
            "{}",
            o.all()
        );
        assert!(o.stderr.contains("operation: apply"), "{}", o.all());

        // kill -9 the run on b; the next run on b adopts what it applied.
        kill9(holder);
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "b"]));
        assert_ok(&o, "apply --cluster b after the kill");
        assert!(
            o.stderr
                .contains("Recovered: kubernetes_manifest.cm[\"b\"]"),
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("No changes."), "{}", o.all());
        assert_eq!(configmap_value(&kc, "b").as_deref(), Some("v2"));

        // A full run sees everything applied.
        let o = output(run().args(["plan", "--detailed-exitcode"]));
        assert_eq!(o.code, 0, "{}", o.all());

        // Cluster b leaves the configuration: a full apply destroys its object.
        std::fs::write(dir.join("main.hcl"), fleet(&["a"], "v2")).expect("main.hcl");
        let o = output(run().args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply without cluster b");
        assert!(
            o.stdout.contains("0 added, 0 changed, 1 destroyed."),
            "{}",
            o.all()
        );
        assert_eq!(configmap_value(&kc, "b"), None);
        assert_eq!(configmap_value(&kc, "a").as_deref(), Some("v2"));
        let o = output(run().args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "kubernetes_manifest.cm[\"a\"]\nposture_data.global\n",
            "{}",
            o.all()
        );
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

const CROSS: &str = r#"
posture {
  state_partition = "cluster"
}

variable "kubeconfig" { type = string }

cluster "fleet" {
  for_each   = toset(["a", "b"])
  kubeconfig = var.kubeconfig
  context    = each.key
}

resource "kubernetes_manifest" "first" {
  cluster  = cluster.fleet["b"]
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "dep-first", namespace = "default" }
  }
}

resource "kubernetes_manifest" "second" {
  cluster  = cluster.fleet["a"]
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "dep-second", namespace = "default" }
    data       = { from = kubernetes_manifest.first.manifest.metadata.name }
  }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_selected_instance_needing_a_pending_one_on_another_cluster_is_an_error_naming_both() {
    let sb = Sandboxed::start(quick(&["a", "b"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CROSS);
    tokio::task::spawn_blocking(move || {
        let run = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        // A name no instance is on is an error, not an empty plan.
        let o = output(run().args(["plan", "--cluster", "c"]));
        assert_eq!(o.code, 1, "{}", o.all());
        assert!(
            o.stderr.contains("No instance on this cluster"),
            "{}",
            o.all()
        );
        let o = output(run().args(["plan", "--cluster", "a"]));
        assert_eq!(o.code, 1, "{}", o.all());
        for part in [
            "kubernetes_manifest.second (partition a)",
            "kubernetes_manifest.first (partition b)",
            "posture apply --cluster b",
        ] {
            assert!(o.stderr.contains(part), "{part}\n{}", o.all());
        }
        // Once b is applied, a plans without it.
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "b"]));
        assert_ok(&o, "apply --cluster b");
        assert!(o.stdout.contains("1 added"), "{}", o.all());
        let o = output(run().args(["apply", "--auto-approve", "--cluster", "a"]));
        assert_ok(&o, "apply --cluster a");
        assert!(o.stdout.contains("1 added"), "{}", o.all());
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[test]
fn cluster_flag_on_an_unpartitioned_state_is_an_error_saying_what_to_do() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), super::support::TWO_RESOURCES).expect("main.hcl");
    let o = output(command(d.path()).args(["plan", "--cluster", "a"]));
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("--cluster needs a partitioned state"),
        "{}",
        o.all()
    );
    assert!(
        o.stderr.contains("state_partition = \"cluster\""),
        "{}",
        o.all()
    );
    // Nothing was created.
    assert!(!d.path().join(".posture/partitions").exists());
}

#[test]
fn a_bad_state_partition_value_is_an_error_at_its_position() {
    let d = tempfile::tempdir().expect("tempdir");
    let hcl = "posture {\n  state_partition = \"zone\"\n}\n";
    std::fs::write(d.path().join("main.hcl"), hcl).expect("main.hcl");
    let o = output(command(d.path()).arg("validate"));
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("Invalid state_partition"), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:2:21"), "{}", o.all());
}

#[test]
fn turning_partitioning_on_for_an_existing_state_asks_for_init() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), super::support::TWO_RESOURCES).expect("main.hcl");
    assert_ok(&output(command(d.path()).arg("init")), "init");
    assert_ok(
        &output(command(d.path()).args(["apply", "--auto-approve"])),
        "apply",
    );
    let on = format!(
        "posture {{\n  state_partition = \"cluster\"\n}}\n{}",
        super::support::TWO_RESOURCES
    );
    std::fs::write(d.path().join("main.hcl"), on).expect("main.hcl");
    let o = output(command(d.path()).arg("plan"));
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("Backend initialization required"),
        "{}",
        o.all()
    );
    // The split itself is refused, saying what to do; the old state is kept.
    let o = output(command(d.path()).args(["init", "--migrate-state"]));
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(o.stderr.contains("not supported yet"), "{}", o.all());
    assert!(d.path().join(".posture/db").is_dir());
}

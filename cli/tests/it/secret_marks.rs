//! Sensitive values in `kubernetes_manifest`, through the `posture` binary
//! on a sandbox cluster: a sensitive variable in a ConfigMap, a Secret's data
//! copied into another manifest, and an imported Secret. The canaries must
//! appear in no command's output (stdout or stderr) but `state pull` (the raw
//! state, documented so) and `output NAME` (asking for it by name, as in
//! Terraform), in this run and in later runs that read the marks from state.

use super::support::{Sandboxed, quick};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The value of `var.secret`.
const CANARY: &str = "CANARY-7f3a9";
/// The Secret's `stringData.token`, and the base64 form its `data` holds.
const TOKEN: &str = "TOKEN-c41d8e";
const TOKEN_B64: &str = "VE9LRU4tYzQxZDhl";

const CONFIG: &str = r#"
variable "kubeconfig" { type = string }
variable "secret" {
  type      = string
  sensitive = true
}
cluster "c1" {
  kubeconfig = var.kubeconfig
  context    = "c1"
}
resource "kubernetes_manifest" "cm" {
  cluster = cluster.c1
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "cm", namespace = "default" }
    data       = { pw = var.secret, plain = "visible-value" }
  }
}
resource "kubernetes_manifest" "s" {
  cluster = cluster.c1
  manifest = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = { name = "s", namespace = "default" }
    stringData = { token = "TOKEN-c41d8e" }
  }
}
resource "kubernetes_manifest" "copy" {
  cluster = cluster.c1
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "copy", namespace = "default" }
    data       = { copy = kubernetes_manifest.s.object.data.token }
  }
}
output "pw" {
  value     = kubernetes_manifest.cm.object.data.pw
  sensitive = true
}
"#;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn posture(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_posture"))
        .env("POSTURE_VAR_kubeconfig", kubeconfig)
        // Import finds a cluster by its context in the default kubeconfig.
        .env("KUBECONFIG", kubeconfig)
        .env("POSTURE_VAR_secret", CANARY)
        .arg("--chdir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run posture");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&o.stdout).into(),
        err: String::from_utf8_lossy(&o.stderr).into(),
    }
}

/// Runs `args`, expects success, and checks no canary is in stdout or stderr.
fn clean(dir: &Path, kubeconfig: &Path, args: &[&str]) -> String {
    let r = posture(dir, kubeconfig, args);
    assert_eq!(r.code, 0, "posture {args:?}: {}{}", r.out, r.err);
    for c in [CANARY, TOKEN, TOKEN_B64] {
        assert!(
            !r.out.contains(c) && !r.err.contains(c),
            "posture {args:?} shows {c}:\n{}{}",
            r.out,
            r.err
        );
    }
    r.out
}

#[tokio::test(flavor = "multi_thread")]
async fn sensitive_variable_in_manifest_leaks_through_object() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CONFIG);
    tokio::task::spawn_blocking(move || {
        let plan = clean(&dir, &kc, &["plan"]);
        assert!(plan.contains("pw = (sensitive value)"), "{plan}");
        assert!(
            plan.contains("visible-value"),
            "only marked parts hide: {plan}"
        );
        let json = clean(&dir, &kc, &["plan", "--json"]);
        assert!(json.contains("(sensitive value)"), "{json}");
        let saved = dir.join("tfplan");
        clean(&dir, &kc, &["plan", "--out", saved.to_str().expect("path")]);
        clean(&dir, &kc, &["show", saved.to_str().expect("path")]);
        clean(
            &dir,
            &kc,
            &["show", "--json", saved.to_str().expect("path")],
        );
        let applied = clean(&dir, &kc, &["apply", "--auto-approve"]);
        assert!(applied.contains("Apply complete!"), "{applied}");

        // Every later command is a new process: the marks come from state.
        for addr in [
            "kubernetes_manifest.cm",
            "kubernetes_manifest.s",
            "kubernetes_manifest.copy",
        ] {
            let shown = clean(&dir, &kc, &["state", "show", addr]);
            assert!(shown.contains("(sensitive value)"), "{addr}: {shown}");
        }
        let shown = clean(&dir, &kc, &["show"]);
        assert!(shown.contains("visible-value"), "{shown}");
        let json = clean(&dir, &kc, &["show", "--json"]);
        assert!(json.contains("(sensitive value)"), "{json}");
        let outputs = clean(&dir, &kc, &["output"]);
        assert!(outputs.contains("pw = <sensitive>"), "{outputs}");
        let again = clean(&dir, &kc, &["plan", "--detailed-exitcode"]);
        assert!(again.contains("No changes"), "{again}");
        let json = clean(&dir, &kc, &["plan", "--json"]);
        assert!(json.contains("(sensitive value)"), "{json}");
        // The history keeps the marks too.
        clean(&dir, &kc, &["state", "show", "--serial", "1"]);

        // Asked for by name, an output is printed in clear (as Terraform):
        // the value did flow through, the checks above are not vacuous.
        let named = posture(&dir, &kc, &["output", "pw"]);
        assert_eq!(named.out.trim(), format!("\"{CANARY}\""), "{}", named.err);
        // The raw state has the values, and the marks as JSON pointers.
        let pulled = posture(&dir, &kc, &["state", "pull"]);
        assert!(pulled.out.contains(CANARY), "state pull is the raw state");
        let state: serde_json::Value = serde_json::from_str(&pulled.out).expect("state json");
        let paths = |a: &str| state["instances"][a]["sensitive_paths"].to_string();
        assert!(
            paths("kubernetes_manifest.cm").contains("/object/value/data/pw"),
            "{}",
            paths("kubernetes_manifest.cm")
        );
        assert!(
            paths("kubernetes_manifest.copy").contains("/object/value/data/copy"),
            "{}",
            paths("kubernetes_manifest.copy")
        );
        let destroyed = clean(&dir, &kc, &["destroy", "--auto-approve"]);
        assert!(destroyed.contains("3 destroyed"), "{destroyed}");
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn non_sensitive_output_of_a_manifest_secret_is_an_error() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let kc = sb.kubeconfig.clone();
    let config = CONFIG.replace(
        "output \"pw\" {\n  value     = kubernetes_manifest.cm.object.data.pw\n  sensitive = true\n}",
        "output \"pw\" {\n  value = kubernetes_manifest.cm.object.data.pw\n}\noutput \"tok\" {\n  value = kubernetes_manifest.copy.object.data\n}",
    );
    assert_ne!(config, CONFIG, "the output was replaced");
    let dir = sb.workdir("w", &config);
    tokio::task::spawn_blocking(move || {
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let r = posture(&dir, &kc, args);
            assert_eq!(r.code, 1, "{args:?}: {}{}", r.out, r.err);
            let all = format!("{}{}", r.out, r.err);
            assert!(all.contains("Output refers to sensitive values"), "{all}");
            assert!(all.contains("main.hcl:"), "the output is named: {all}");
            for c in [CANARY, TOKEN, TOKEN_B64] {
                assert!(!all.contains(c), "{args:?} shows {c}: {all}");
            }
        }
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_secret_data_stays_hidden_in_every_command() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let kc = sb.kubeconfig.clone();
    // One workspace makes the Secret; another imports it.
    let maker = sb.workdir("maker", CONFIG);
    let importer = sb.workdir(
        "importer",
        r#"
variable "kubeconfig" { type = string }
variable "secret" {
  type      = string
  sensitive = true
}
cluster "c1" {
  kubeconfig = var.kubeconfig
  context    = "c1"
}
resource "kubernetes_manifest" "imp" {
  cluster = cluster.c1
  manifest = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = { name = "s", namespace = "default" }
    stringData = { token = "TOKEN-c41d8e" }
  }
}
"#,
    );
    tokio::task::spawn_blocking(move || {
        clean(&maker, &kc, &["apply", "--auto-approve"]);
        clean(
            &importer,
            &kc,
            &[
                "import",
                "kubernetes_manifest.imp",
                "c1/v1/Secret/default/s",
            ],
        );
        let shown = clean(
            &importer,
            &kc,
            &["state", "show", "kubernetes_manifest.imp"],
        );
        assert!(shown.contains("(sensitive value)"), "{shown}");
        clean(&importer, &kc, &["show"]);
        clean(&importer, &kc, &["show", "--json"]);
        // Refresh reads it again from the cluster.
        clean(&importer, &kc, &["plan"]);
        clean(&importer, &kc, &["apply", "--auto-approve"]);
        clean(
            &importer,
            &kc,
            &["state", "show", "kubernetes_manifest.imp"],
        );
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn state_written_without_marks_keeps_secrets_in_clear_after_no_op_applies() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", CONFIG);
    tokio::task::spawn_blocking(move || {
        clean(&dir, &kc, &["apply", "--auto-approve"]);
        // A state as posture wrote it before marks were kept: no pointers.
        let pulled = posture(&dir, &kc, &["state", "pull"]);
        let mut state: serde_json::Value = serde_json::from_str(&pulled.out).expect("state json");
        for (_, rec) in state["instances"]
            .as_object_mut()
            .expect("instances")
            .iter_mut()
        {
            rec["sensitive_paths"] = serde_json::json!([]);
        }
        let serial = state["serial"].as_u64().expect("serial");
        state["serial"] = serde_json::json!(serial + 1);
        let file = tmp_file(&dir, &state);
        let pushed = posture(&dir, &kc, &["state", "push", file.to_str().expect("path")]);
        assert_eq!(pushed.code, 0, "{}{}", pushed.out, pushed.err);
        let old = posture(&dir, &kc, &["state", "show", "kubernetes_manifest.cm"]);
        assert!(
            old.out.contains(CANARY),
            "the old state shows it: {}",
            old.out
        );
        // The plan updates what gains marks, and shows none of it.
        let r = posture(&dir, &kc, &["plan", "--detailed-exitcode"]);
        assert_eq!(r.code, 2, "an update is planned: {}{}", r.out, r.err);
        for c in [CANARY, TOKEN, TOKEN_B64] {
            assert!(
                !r.out.contains(c) && !r.err.contains(c),
                "{}{}",
                r.out,
                r.err
            );
        }
        clean(&dir, &kc, &["apply", "--auto-approve"]);
        for addr in [
            "kubernetes_manifest.cm",
            "kubernetes_manifest.s",
            "kubernetes_manifest.copy",
        ] {
            clean(&dir, &kc, &["state", "show", addr]);
        }
        clean(&dir, &kc, &["show"]);
        clean(&dir, &kc, &["show", "--json"]);
        let again = clean(&dir, &kc, &["plan", "--detailed-exitcode"]);
        assert!(again.contains("No changes"), "{again}");
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

fn tmp_file(dir: &Path, state: &serde_json::Value) -> PathBuf {
    let p = dir.join("edited.json");
    std::fs::write(&p, serde_json::to_string_pretty(state).expect("json")).expect("write");
    p
}

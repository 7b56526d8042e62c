//! kill -9 during a create_before_destroy replacement, through the
//! `posture` binary, at the exact points `POSTURE_TEST_HALT` names: the
//! next run's recovery must keep exactly one current object and remember
//! the old one as deposed until its delete completes, so nothing is
//! orphaned and the next apply deletes it. posture_data lives only in
//! state, so the same kills on a sandbox cluster check with kubectl that
//! no object is left behind on the cluster.

use super::support::{Out, Sandboxed, command, killed, output, posture, quick};

use std::path::Path;

const CBD: &str = r#"
resource "posture_data" "a" {
  input = "one"
  lifecycle {
    create_before_destroy = true
  }
}
"#;

fn workspace() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), CBD).expect("main.hcl");
    d
}

fn assert_ok(o: &Out, what: &str) {
    assert_eq!(o.code, 0, "{what}\n{}", o.all());
}

/// The record of posture_data.a in `state pull`.
fn record(dir: &Path) -> serde_json::Value {
    let o = posture(dir, &["state", "pull"]);
    assert_ok(&o, "state pull");
    let st: serde_json::Value = serde_json::from_str(&o.stdout).expect("state is JSON");
    st["instances"]["posture_data.a"].clone()
}

/// The id of the record's current object.
fn current_id(rec: &serde_json::Value) -> String {
    rec["attributes"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no current object in {rec:#}"))
        .to_string()
}

/// The ids of the record's deposed objects, by deposed key.
fn deposed_ids(rec: &serde_json::Value) -> Vec<(String, String)> {
    rec["deposed"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, d)| {
                    let id = d["attributes"]["id"].as_str().unwrap_or_default();
                    (k.clone(), id.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn recovered(o: &Out) -> Vec<&str> {
    o.stderr
        .lines()
        .filter(|l| l.starts_with("Recovered: "))
        .collect()
}

/// Applies the configuration, then kills `apply --replace posture_data.a`
/// at `halt`. Returns the id of the object the first apply made.
fn replace_killed_at(dir: &Path, halt: &str) -> String {
    assert_ok(&posture(dir, &["apply", "--auto-approve"]), "first apply");
    let old = current_id(&record(dir));
    killed(
        command(dir),
        &["apply", "--auto-approve", "--replace", "posture_data.a"],
        halt,
    );
    old
}

/// The next apply deletes the deposed object: one current object, `new`.
fn next_apply_deletes_the_deposed_object(dir: &Path, new: &str) {
    let o = posture(dir, &["apply", "--auto-approve"]);
    assert_ok(&o, "apply after the kill");
    assert!(
        o.stdout
            .contains("Resources: 0 added, 0 changed, 1 destroyed."),
        "the deposed object is deleted\n{}",
        o.all()
    );
    let rec = record(dir);
    assert_eq!(current_id(&rec), new, "{rec:#}");
    assert!(deposed_ids(&rec).is_empty(), "{rec:#}");
    let o = posture(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 0, "nothing left to do\n{}", o.all());
}

#[test]
fn a_run_killed_between_create_and_delete_of_a_replacement_keeps_the_old_object_deposed() {
    let d = workspace();
    let dir = d.path();
    // The replacement exists, its result is not recorded yet.
    let old = replace_killed_at(dir, "applied:1");
    let o = output(command(dir).arg("plan"));
    assert_ok(&o, "plan after the kill");
    let lines = recovered(&o);
    assert_eq!(lines.len(), 1, "{}", o.all());
    assert!(
        lines[0].starts_with("Recovered: posture_data.a: adopted the replacement"),
        "{}",
        o.all()
    );
    let rec = record(dir);
    let new = current_id(&rec);
    assert_ne!(new, old, "the replacement is the current object\n{rec:#}");
    let deposed = deposed_ids(&rec);
    assert_eq!(deposed.len(), 1, "the old object is kept\n{rec:#}");
    assert_eq!(deposed[0].1, old, "{rec:#}");
    assert!(
        o.stdout.contains(&format!(
            "posture_data.a (deposed object {}) will be destroyed",
            deposed[0].0
        )),
        "{}",
        o.all()
    );
    next_apply_deletes_the_deposed_object(dir, &new);
}

#[test]
fn a_run_killed_during_the_delete_of_a_deposed_object_keeps_the_new_object_current() {
    // Before the delete's call (intents:2), and after it, before its
    // result is recorded (applied:2).
    for halt in ["intents:2", "applied:2"] {
        let d = workspace();
        let dir = d.path();
        let old = replace_killed_at(dir, halt);
        let before = record(dir);
        let new = current_id(&before);
        assert_ne!(new, old, "{halt}: the replacement was recorded\n{before:#}");
        let o = output(command(dir).arg("plan"));
        assert_ok(&o, "plan after the kill");
        assert_eq!(
            recovered(&o).len(),
            1,
            "{halt}: the delete's intent is settled\n{}",
            o.all()
        );
        let rec = record(dir);
        assert_eq!(
            current_id(&rec),
            new,
            "{halt}: the new object stays current, the deposed one is not adopted\n{rec:#}"
        );
        assert_eq!(
            deposed_ids(&rec)
                .iter()
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>(),
            vec![old],
            "{halt}: {rec:#}"
        );
        next_apply_deletes_the_deposed_object(dir, &new);
    }
}

#[test]
fn state_show_lists_the_deposed_objects_of_a_record_not_only_its_current_one() {
    let d = workspace();
    let dir = d.path();
    let old = replace_killed_at(dir, "applied:1");
    assert_ok(&posture(dir, &["plan"]), "plan settles the killed run");
    let rec = record(dir);
    let new = current_id(&rec);
    let (key, _) = deposed_ids(&rec).pop().expect("a deposed object");
    let o = posture(dir, &["state", "show", "posture_data.a"]);
    assert_ok(&o, "state show");
    let current = o
        .stdout
        .find("# posture_data.a:\n")
        .unwrap_or_else(|| panic!("the current object\n{}", o.all()));
    let deposed = o
        .stdout
        .find(&format!("# posture_data.a: (deposed object {key})\n"))
        .unwrap_or_else(|| panic!("the deposed object, as Terraform heads it\n{}", o.all()));
    assert!(current < deposed, "{}", o.all());
    assert!(o.stdout[current..deposed].contains(&new), "{}", o.all());
    assert!(o.stdout[deposed..].contains(&old), "{}", o.all());
}

/// A ConfigMap named `name` in default, replaced create-before-destroy by
/// renaming it.
fn config_map(name: &str) -> String {
    format!(
        "cluster \"a\" {{\n  kubeconfig = \"../kubeconfig\"\n  context    = \"a\"\n}}\n\nresource \"kubernetes_manifest\" \"cm\" {{\n  cluster = cluster.a\n  manifest = {{\n    apiVersion = \"v1\"\n    kind       = \"ConfigMap\"\n    metadata   = {{ name = \"{name}\", namespace = \"default\" }}\n    data       = {{ k = \"v\" }}\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
    )
}

/// The names of the ConfigMaps in default, as kubectl lists them.
fn config_maps(kubeconfig: &Path) -> Vec<String> {
    let o = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "a", "-n", "default", "get", "configmaps"])
        .args(["-o", "jsonpath={.items[*].metadata.name}"])
        .output()
        .expect("run kubectl");
    assert!(
        o.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .filter(|n| *n != "kube-root-ca.crt")
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_killed_midway_on_a_cluster_leaves_exactly_the_new_object() {
    let sandbox = Sandboxed::start(quick(&["a"])).await;
    let kubeconfig = sandbox.kubeconfig.clone();
    let root = sandbox.tmp.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        // After the create, before its result is recorded; after the
        // delete's intent, before the call; after the delete, before its
        // result is recorded.
        for (n, halt) in ["applied:1", "intents:2", "applied:2"].iter().enumerate() {
            let (old, new) = (format!("old-{n}"), format!("new-{n}"));
            let dir = root.join(format!("w{n}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let main = dir.join("main.hcl");
            std::fs::write(&main, config_map(&old)).expect("main.hcl");
            assert_ok(&posture(&dir, &["apply", "--auto-approve"]), "first apply");
            std::fs::write(&main, config_map(&new)).expect("main.hcl");
            killed(command(&dir), &["apply", "--auto-approve"], halt);

            let o = posture(&dir, &["apply", "--auto-approve"]);
            assert_ok(&o, &format!("{halt}: apply after the kill"));
            assert_eq!(recovered(&o).len(), 1, "{halt}\n{}", o.all());
            assert_eq!(
                config_maps(&kubeconfig),
                vec![new.clone()],
                "{halt}: the old object is deleted, the new one kept\n{}",
                o.all()
            );
            let rec = {
                let o = posture(&dir, &["state", "pull"]);
                assert_ok(&o, "state pull");
                let st: serde_json::Value = serde_json::from_str(&o.stdout).expect("state is JSON");
                st["instances"]["kubernetes_manifest.cm"].clone()
            };
            assert!(deposed_ids(&rec).is_empty(), "{halt}: {rec:#}");
            let o = posture(&dir, &["plan", "--detailed-exitcode"]);
            assert_eq!(o.code, 0, "{halt}: nothing left to do\n{}", o.all());
            assert_ok(&posture(&dir, &["destroy", "--auto-approve"]), "destroy");
            assert!(config_maps(&kubeconfig).is_empty(), "{halt}");
        }
    })
    .await
    .expect("join");
    sandbox.shutdown().await.expect("sandbox shutdown");
}

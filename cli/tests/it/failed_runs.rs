//! Runs that fail in part (a Kubernetes cluster that cannot be read) through
//! the real binary: they exit 1, name what failed, and never print a success
//! line ("No changes.", "Apply complete!").
//!
//! The error of an unreadable cluster names the cluster block, the
//! kubeconfig file, the context and the URL, and says why in words
//! ("no such file", "the file is empty"); `kubeconfig_errors_say_why_in_words`
//! pins each message whole.

use super::support::{Out, posture};

use std::path::Path;

/// The success lines a failed run must never print.
fn assert_no_success_line(o: &Out) {
    for line in ["No changes", "Apply complete!", "matches the configuration"] {
        assert!(
            !o.stdout.contains(line) && !o.stderr.contains(line),
            "a failed run printed {line:?}:\n{}",
            o.all()
        );
    }
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A kubeconfig whose only context, `somewhere`, points at `server`.
fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: somewhere\n  context:\n    cluster: c\n    user: u\ncurrent-context: somewhere\nusers:\n- name: u\n  user:\n    token: t\n"
    )
}

/// The ways a cluster block's cluster cannot be read.
#[derive(Clone, Copy, Debug)]
enum Broken {
    ClosedPort,
    MissingFile,
    EmptyFile,
    InvalidFile,
    UnknownContext,
}

/// Writes a configuration with one Namespace on cluster `lighthouse`,
/// broken as `how`, plus `extra` configuration; returns the closed port its
/// kubeconfig points at.
fn broken_config(dir: &Path, how: Broken, extra: &str) -> u16 {
    let port = closed_port();
    let closed = kubeconfig(&format!("https://127.0.0.1:{port}"));
    let (file_text, context) = match how {
        Broken::ClosedPort => (Some(closed), "somewhere"),
        Broken::MissingFile => (None, "somewhere"),
        Broken::EmptyFile => (Some(String::new()), "somewhere"),
        Broken::InvalidFile => (Some("clusters: [ {".to_string()), "somewhere"),
        Broken::UnknownContext => (Some(closed), "nowhere"),
    };
    if let Some(t) = file_text {
        std::fs::write(dir.join("cfg.yaml"), t).expect("kubeconfig");
    }
    let main = format!(
        "cluster \"lighthouse\" {{\n  kubeconfig = \"cfg.yaml\"\n  context    = \"{context}\"\n}}\n\nresource \"kubernetes_manifest\" \"ns\" {{\n  cluster = cluster.lighthouse\n  manifest = {{\n    apiVersion = \"v1\"\n    kind       = \"Namespace\"\n    metadata   = {{ name = \"beacon\" }}\n  }}\n}}\n{extra}"
    );
    std::fs::write(dir.join("main.hcl"), main).expect("main.hcl");
    port
}

/// The whole error line `plan` prints for `how`.
fn expected_error(how: Broken, dir: &Path, port: u16) -> String {
    let file = dir.join("cfg.yaml");
    let file = file.display();
    let load = |context: &str, why: &str| {
        format!(
            "Error: kubernetes_manifest.ns: cluster lighthouse: cannot load kubeconfig {file} with context \"{context}\": {why}; check the cluster block's kubeconfig and context"
        )
    };
    match how {
        Broken::ClosedPort => format!(
            "Error: kubernetes_manifest.ns: cluster lighthouse at https://127.0.0.1:{port} is unreachable: connection refused (nothing listens there); resources on other clusters go on"
        ),
        Broken::MissingFile => load("somewhere", "no such file"),
        Broken::EmptyFile => load("somewhere", "the file is empty"),
        Broken::InvalidFile => load(
            "somewhere",
            "not valid kubeconfig YAML at line 1, column 13: unclosed bracket '{'",
        ),
        Broken::UnknownContext => load(
            "nowhere",
            "the file has no context \"nowhere\" (it has: somewhere)",
        ),
    }
}

/// Each broken kubeconfig is explained in words, not in kube's messages
/// ("failed to load current context: a", "ServiceError: client error
/// (Connect)"), naming the cluster block, the file, the context or the URL.
#[test]
fn kubeconfig_errors_say_why_in_words() {
    for how in [
        Broken::ClosedPort,
        Broken::MissingFile,
        Broken::EmptyFile,
        Broken::InvalidFile,
        Broken::UnknownContext,
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        let port = broken_config(d.path(), how, "");
        let o = posture(d.path(), &["plan"]);
        assert_eq!(o.code, 1, "{how:?}\n{}", o.all());
        let want = expected_error(how, d.path(), port);
        let got: Vec<&str> = o
            .stderr
            .lines()
            .filter(|l| l.starts_with("Error:"))
            .collect();
        assert_eq!(got, vec![want.as_str()], "{how:?}\n{}", o.all());
        // plan --json carries the same message, without the "Error: addr: ".
        let o = posture(d.path(), &["plan", "--json"]);
        let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("plan --json is JSON");
        let prefix = "Error: kubernetes_manifest.ns: ";
        assert_eq!(
            j["errored_instances"][0]["message"].as_str(),
            want.strip_prefix(prefix),
            "{how:?}: {j:#}"
        );
    }
}

/// plan, plan --detailed-exitcode, plan --json and apply on a broken cluster.
fn every_command_fails(how: Broken) {
    let d = tempfile::tempdir().expect("tempdir");
    broken_config(d.path(), how, "");

    let o = posture(d.path(), &["plan"]);
    assert_eq!(o.code, 1, "{how:?}: plan\n{}", o.all());
    assert_no_success_line(&o);
    assert!(
        o.stdout.contains(
            "Plan incomplete: 1 instance could not be read or planned (errors below); nothing was changed."
        ),
        "{how:?}\n{}",
        o.all()
    );
    assert!(
        o.stderr.contains("Error: kubernetes_manifest.ns: ") && o.stderr.contains("lighthouse"),
        "{how:?}: the error names the address and the cluster\n{}",
        o.all()
    );

    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 1, "{how:?}: plan --detailed-exitcode\n{}", o.all());
    assert_no_success_line(&o);

    let o = posture(d.path(), &["plan", "--json"]);
    assert_eq!(o.code, 1, "{how:?}: plan --json\n{}", o.all());
    assert_no_success_line(&o);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("plan --json is JSON");
    assert_eq!(j["errored"], true, "{how:?}: {j:#}");
    let errs = j["errored_instances"]
        .as_array()
        .expect("errored_instances");
    assert_eq!(errs.len(), 1, "{how:?}: {j:#}");
    assert_eq!(errs[0]["address"], "kubernetes_manifest.ns");
    assert!(
        errs[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("lighthouse")),
        "{how:?}: {j:#}"
    );

    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{how:?}: apply\n{}", o.all());
    assert_no_success_line(&o);
    assert!(o.stderr.contains("lighthouse"), "{how:?}\n{}", o.all());
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "", "{how:?}: nothing was applied");
}

#[test]
fn closed_port_fails_every_command() {
    every_command_fails(Broken::ClosedPort);
}

#[test]
fn missing_kubeconfig_fails_every_command() {
    every_command_fails(Broken::MissingFile);
}

#[test]
fn empty_kubeconfig_fails_every_command() {
    every_command_fails(Broken::EmptyFile);
}

#[test]
fn invalid_kubeconfig_fails_every_command() {
    every_command_fails(Broken::InvalidFile);
}

#[test]
fn unknown_context_fails_every_command() {
    every_command_fails(Broken::UnknownContext);
}

/// The human plan of a partial failure, byte for byte: what could be planned,
/// then the incomplete line where "No changes." / nothing would be.
#[test]
fn partial_failure_plan_text_is_as_committed() {
    let d = tempfile::tempdir().expect("tempdir");
    broken_config(
        d.path(),
        Broken::ClosedPort,
        "\nresource \"posture_data\" \"fine\" {\n  input = \"kept\"\n}\n",
    );
    let o = posture(d.path(), &["plan"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let expected = include_str!("expected/partial_failure_plan.txt");
    assert_eq!(o.stdout, expected, "{}", o.all());

    // A saved plan shows the same, with the errors its last line promises.
    let o = posture(d.path(), &["plan", "--out", "p.json"]);
    assert_eq!(o.code, 1, "{}", o.all());
    let o = posture(d.path(), &["show", "p.json"]);
    assert_eq!(o.stdout, expected, "{}", o.all());
    assert!(
        o.stderr
            .contains("Error: kubernetes_manifest.ns: cluster lighthouse at https://127.0.0.1:")
            && o.stderr.contains("is unreachable"),
        "{}",
        o.all()
    );

    // apply does the rest, then says it is incomplete and what failed.
    let o = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert!(
        o.stdout
            .contains("(errors below); it is left out of the actions above."),
        "{}",
        o.all()
    );
    assert!(
        o.stdout.contains(
            "Apply incomplete. Resources: 1 added, 0 changed, 0 destroyed, 1 failed, 0 skipped.\n  failed:  kubernetes_manifest.ns (could not be read or planned)\n"
        ),
        "{}",
        o.all()
    );
    let o = posture(d.path(), &["state", "list"]);
    assert_eq!(o.stdout.trim(), "posture_data.fine", "{}", o.all());

    // Everything that could be read is up to date: still not "No changes".
    let o = posture(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert_eq!(
        o.stdout,
        "Plan incomplete: 1 instance could not be read or planned (errors below); nothing was changed.\n",
        "{}",
        o.all()
    );
}

/// One sandbox cluster up, one down: the healthy cluster's change is planned
/// and applied, the run still fails and says so; destroy with the healthy
/// cluster gone fails too and leaves its instance in state.
#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_cluster_is_applied_while_a_down_one_fails_the_run() {
    let sandbox = posture_sandbox::start(posture_sandbox::SandboxConfig {
        clusters: vec!["healthy".into()],
        nodes: 1,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let d = tempfile::tempdir().expect("tempdir");
    sandbox
        .write_kubeconfig(&d.path().join("up.yaml"))
        .expect("kubeconfig");
    let down = kubeconfig(&format!("https://127.0.0.1:{}", closed_port()));
    std::fs::write(d.path().join("down.yaml"), down).expect("kubeconfig");
    std::fs::write(
        d.path().join("main.hcl"),
        "cluster \"healthy\" {\n  kubeconfig = \"up.yaml\"\n  context    = \"healthy\"\n}\n\ncluster \"stranded\" {\n  kubeconfig = \"down.yaml\"\n}\n\nresource \"kubernetes_manifest\" \"ns\" {\n  for_each = { healthy = cluster.healthy, stranded = cluster.stranded }\n  cluster  = each.value\n  manifest = {\n    apiVersion = \"v1\"\n    kind       = \"Namespace\"\n    metadata   = { name = \"beacon\" }\n  }\n}\n",
    )
    .expect("main.hcl");
    let dir = d.path().to_path_buf();
    let run = move |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || posture(&dir, args))
    };

    let o = run(&["plan"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert!(
        o.stdout
            .contains("# kubernetes_manifest.ns[\"healthy\"] will be created"),
        "{}",
        o.all()
    );
    assert!(
        o.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy.\n\nPlan incomplete: 1 instance could not be read or planned (errors below); nothing was changed.\n"),
        "{}",
        o.all()
    );
    assert!(
        o.stderr
            .contains("Error: kubernetes_manifest.ns[\"stranded\"]: ")
            && o.stderr.contains("stranded"),
        "{}",
        o.all()
    );
    assert!(!o.stderr.contains("ns[\"healthy\"]"), "{}", o.all());

    let o = run(&["plan", "--detailed-exitcode"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);

    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert!(
        o.stdout.contains("Apply incomplete. Resources: 1 added, 0 changed, 0 destroyed, 1 failed, 0 skipped.\n  failed:  kubernetes_manifest.ns[\"stranded\"] (could not be read or planned)\n"),
        "{}",
        o.all()
    );
    let o = run(&["state", "list"]).await.expect("join");
    assert_eq!(o.stdout.trim(), "kubernetes_manifest.ns[\"healthy\"]");

    // The healthy namespace is read back from the cluster as it was applied.
    let o = run(&["plan"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert!(!o.stdout.contains("ns[\"healthy\"]"), "{}", o.all());
    assert!(
        o.stdout.starts_with("Plan incomplete: 1 instance"),
        "{}",
        o.all()
    );

    // With the healthy cluster gone too, destroy cannot read what it would
    // delete: it fails, names both, and keeps the instance in state.
    sandbox.shutdown().await.expect("sandbox shutdown");
    let o = run(&["destroy", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 1, "{}", o.all());
    assert_no_success_line(&o);
    assert!(
        o.stderr.contains("kubernetes_manifest.ns[\"healthy\"]") && o.stderr.contains("healthy"),
        "{}",
        o.all()
    );
    let o = run(&["state", "list"]).await.expect("join");
    assert_eq!(o.stdout.trim(), "kubernetes_manifest.ns[\"healthy\"]");
}

/// Applied through a good kubeconfig, then the cluster block is pointed at
/// an empty or a missing file: refresh read through the recorded kubeconfig,
/// and plan used to propose an update of `cluster` (exit 0) without ever
/// reading the cluster now named. It is an error for the instance instead,
/// and state keeps the instance as applied.
#[tokio::test(flavor = "multi_thread")]
async fn a_kubeconfig_broken_after_apply_is_an_error_not_an_update() {
    let sandbox = posture_sandbox::start(posture_sandbox::SandboxConfig {
        clusters: vec!["lh".into()],
        nodes: 1,
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let d = tempfile::tempdir().expect("tempdir");
    sandbox
        .write_kubeconfig(&d.path().join("good.yaml"))
        .expect("kubeconfig");
    std::fs::write(d.path().join("empty.yaml"), "").expect("empty kubeconfig");
    let config = |file: &str| {
        format!(
            "cluster \"lighthouse\" {{\n  kubeconfig = \"{file}\"\n  context    = \"lh\"\n}}\n\nresource \"kubernetes_manifest\" \"ns\" {{\n  cluster  = cluster.lighthouse\n  manifest = {{\n    apiVersion = \"v1\"\n    kind       = \"Namespace\"\n    metadata   = {{ name = \"beacon\" }}\n  }}\n}}\n"
        )
    };
    let dir = d.path().to_path_buf();
    let run = move |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || posture(&dir, args))
    };
    std::fs::write(d.path().join("main.hcl"), config("good.yaml")).expect("main.hcl");
    let o = run(&["apply", "--auto-approve"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    let before = run(&["state", "show", "kubernetes_manifest.ns"])
        .await
        .expect("join");
    assert_eq!(before.code, 0, "{}", before.all());

    for (file, why) in [
        ("empty.yaml", "the file is empty"),
        ("missing.yaml", "no such file"),
    ] {
        std::fs::write(d.path().join("main.hcl"), config(file)).expect("main.hcl");
        let want = format!(
            "cluster lighthouse: cannot load kubeconfig {} with context \"lh\": {why}; check the cluster block's kubeconfig and context",
            d.path().join(file).display()
        );
        for args in [
            &["plan"][..],
            &["plan", "--detailed-exitcode"][..],
            &["apply", "--auto-approve"][..],
        ] {
            let o = run(args).await.expect("join");
            assert_eq!(o.code, 1, "{file}: {args:?}\n{}", o.all());
            assert_no_success_line(&o);
            assert!(
                !o.stdout.contains("will be updated"),
                "{file}: {args:?}\n{}",
                o.all()
            );
            assert!(
                o.stdout.contains("1 instance could not be read or planned"),
                "{file}: {args:?}\n{}",
                o.all()
            );
            assert!(
                o.stderr
                    .contains(&format!("Error: kubernetes_manifest.ns: {want}")),
                "{file}: {args:?}\n{}",
                o.all()
            );
        }
        let after = run(&["state", "show", "kubernetes_manifest.ns"])
            .await
            .expect("join");
        assert_eq!(
            after.stdout, before.stdout,
            "{file}: the state is as applied"
        );
    }

    // Back to the good file: nothing to do, the cluster is read again.
    std::fs::write(d.path().join("main.hcl"), config("good.yaml")).expect("main.hcl");
    let o = run(&["plan", "--detailed-exitcode"]).await.expect("join");
    assert_eq!(o.code, 0, "{}", o.all());
    sandbox.shutdown().await.expect("sandbox shutdown");
}

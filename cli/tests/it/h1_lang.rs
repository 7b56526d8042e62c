//! Language behaviour through the real `posture` binary: impure functions
//! during plan, diagnostics derived from earlier errors, and provider
//! errors naming the resource address once.

use std::path::Path;
use std::process::{Command, Stdio};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

fn posture_in(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_posture"));
    cmd.arg("--chdir")
        .arg(dir)
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_ROUTE_53")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run posture");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin.as_bytes()).expect("stdin");
    }
    let o = child.wait_with_output().expect("wait posture");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn posture(dir: &Path, args: &[&str]) -> Out {
    posture_in(dir, args, "", &[])
}

fn is_timestamp(s: &str) -> bool {
    // 2026-12-01T22:21:48Z
    let b = s.as_bytes();
    b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z'
}

#[test]
fn timestamp_and_uuid_returned_real_values_during_plan() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "resource \"posture_data\" \"a\" {\n  input = \"at ${timestamp()}\"\n}\noutput \"t\" { value = timestamp() }\noutput \"u\" { value = uuid() }\n",
    )
    .expect("main.hcl");
    // A template calling timestamp() is unknown in a plan too.
    std::fs::write(d.path().join("t.tpl"), "at ${timestamp()}").expect("t.tpl");
    std::fs::write(
        d.path().join("tpl.hcl"),
        "output \"f\" { value = templatefile(\"t.tpl\", {}) }\n",
    )
    .expect("tpl.hcl");
    let plan = posture(d.path(), &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    for line in [
        "+ f = (known after apply)",
        "+ t = (known after apply)",
        "+ u = (known after apply)",
    ] {
        assert!(plan.stdout.contains(line), "{line}:\n{}", plan.all());
    }
    assert!(
        plan.stdout.contains("+ input  = (known after apply)"),
        "{}",
        plan.all()
    );
    // The console evaluates now, as Terraform's does.
    let console = posture_in(d.path(), &["console"], "timestamp()\n", &[]);
    assert_eq!(console.code, 0, "{}", console.all());
    let shown = console.stdout.trim().trim_matches('"');
    assert!(is_timestamp(shown), "{}", console.all());
    // Apply computes the real values.
    let apply = posture(d.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    let t = apply
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("t = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default();
    assert!(is_timestamp(&t), "{}", apply.all());
    let u = apply
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("u = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default();
    assert_eq!(u.len(), 36, "{}", apply.all());
    assert_eq!(u.matches('-').count(), 4, "{}", apply.all());
    let out = posture(d.path(), &["output", "--raw", "t"]);
    assert_eq!(out.stdout.trim(), t, "{}", out.all());
}

#[test]
fn a_failed_call_also_reported_for_each_unknown_until_apply() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.hcl"),
        "locals {\n  ids = toset(split(\",\", 1 + \"x\"))\n}\nresource \"posture_data\" \"a\" {\n  for_each = local.ids\n  input    = each.key\n}\nresource \"posture_data\" \"b\" {\n  for_each = toset([for i in range(-1, \"z\") : tostring(i)])\n  input    = each.key\n}\n",
    )
    .expect("main.hcl");
    let plan = posture(d.path(), &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    assert!(
        !plan.stderr.contains("cannot be determined until apply"),
        "an error derived from an earlier one was reported:\n{}",
        plan.all()
    );
    let errors: Vec<&str> = plan
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .collect();
    assert_eq!(
        errors,
        ["Error: Invalid operand", "Error: Invalid function argument"],
        "{}",
        plan.all()
    );
    assert!(plan.stderr.contains("main.hcl:2:30"), "{}", plan.all());
    assert!(plan.stderr.contains("main.hcl:9:40"), "{}", plan.all());
}

#[test]
fn conformance_accepted_any_error_summary() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), "locals {}\n").expect("main.hcl");
    for (expr, want) in [
        ("upper(\"a\", \"b\")", "Error: Too many function arguments"),
        ("null + 1", "Error: Operation failed"),
    ] {
        let o = posture_in(d.path(), &["console"], &format!("{expr}\n"), &[]);
        assert_eq!(o.code, 1, "{expr}: {}", o.all());
        assert!(
            o.stderr.lines().any(|l| l == want),
            "{expr}: want {want}\n{}",
            o.all()
        );
    }
}

/// A loopback port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The lines of stdout and stderr that mention `needle`.
fn mentioning<'a>(o: &'a Out, needle: &str) -> Vec<&'a str> {
    o.stdout
        .lines()
        .chain(o.stderr.lines())
        .filter(|l| l.contains(needle) && l.contains("127.0.0.1"))
        .collect()
}

#[test]
fn provider_errors_repeated_the_address() {
    let port = closed_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let route53 = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        route53.path().join("main.hcl"),
        format!(
            "provider \"route53\" {{\n  endpoint    = \"{endpoint}\"\n  access_key  = \"AKIATESTONLY\"\n  secret_key  = \"not-a-secret\"\n  max_retries = 1\n}}\nresource \"route53_zone\" \"apps\" {{\n  name = \"apps.example.com\"\n}}\nresource \"route53_record\" \"www\" {{\n  zone_id = \"Z123\"\n  name    = \"www.apps.example.com\"\n  type    = \"A\"\n  ttl     = 60\n  records = [\"10.0.0.1\"]\n}}\n"
        ),
    )
    .expect("main.hcl");
    // Planning the record reads its zone: a plan-time provider error.
    let plan = posture(route53.path(), &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.all());
    let lines = mentioning(&plan, "route53_record.www");
    assert_eq!(lines.len(), 1, "{}", plan.all());
    assert_eq!(
        lines[0].matches("route53_record.www").count(),
        1,
        "{}",
        plan.all()
    );
    assert!(
        lines[0].starts_with("Error: route53_record.www: "),
        "{}",
        plan.all()
    );
    // Applying the zone alone: the progress line and the error.
    std::fs::write(
        route53.path().join("main.hcl"),
        format!(
            "provider \"route53\" {{\n  endpoint    = \"{endpoint}\"\n  access_key  = \"AKIATESTONLY\"\n  secret_key  = \"not-a-secret\"\n  max_retries = 1\n}}\nresource \"route53_zone\" \"apps\" {{\n  name = \"apps.example.com\"\n}}\n"
        ),
    )
    .expect("main.hcl");
    let apply = posture(route53.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.all());
    let lines = mentioning(&apply, "route53_zone.apps");
    assert!(!lines.is_empty(), "{}", apply.all());
    for l in &lines {
        assert_eq!(
            l.matches("route53_zone.apps").count(),
            1,
            "{l}\n{}",
            apply.all()
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Error: route53_zone.apps: ")),
        "{}",
        apply.all()
    );

    // The Kubernetes provider, on a cluster nothing listens for.
    let k8s = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        k8s.path().join("kc"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: {endpoint}\ncontexts:\n- name: c1\n  context:\n    cluster: c1\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c1\n"
        ),
    )
    .expect("kc");
    std::fs::write(
        k8s.path().join("main.hcl"),
        "cluster \"c1\" {\n  kubeconfig = \"kc\"\n  context    = \"c1\"\n}\nresource \"kubernetes_manifest\" \"cm\" {\n  cluster = cluster.c1\n  manifest = {\n    apiVersion = \"v1\"\n    kind       = \"ConfigMap\"\n    metadata   = { name = \"cm\", namespace = \"default\" }\n    data       = { a = \"b\" }\n  }\n}\n",
    )
    .expect("main.hcl");
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let o = posture(k8s.path(), args);
        assert_eq!(o.code, 1, "{}", o.all());
        let lines = mentioning(&o, "kubernetes_manifest.cm");
        assert!(!lines.is_empty(), "{}", o.all());
        for l in &lines {
            assert_eq!(
                l.matches("kubernetes_manifest.cm").count(),
                1,
                "{l}\n{}",
                o.all()
            );
        }
    }
}

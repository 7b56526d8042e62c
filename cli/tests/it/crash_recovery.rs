//! kill -9 during an apply, through the `posture` binary, for every
//! provider: `posture_data`, Route53 on moto (a default and an aliased
//! configuration) and Kubernetes on the sandbox. The apply is stopped by the
//! test hook `POSTURE_TEST_HALT` at an exact point of the durability
//! protocol (the provider has answered, the intents are pending), then
//! SIGKILLed. The next `plan` and `apply` must succeed, adopt the object
//! the killed run made, and nothing may exist twice on the peer.
//!
//! Recovery used to run before the providers were configured: every later
//! plan and apply of a Route53 workspace failed with "the route53 provider
//! is not configured", for good.

use super::support::{Out, Sandboxed, command, killed, kubectl, output, quick};

use posture_provider_route53::testing::MotoServer;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

/// Runs `posture apply --auto-approve` with `POSTURE_TEST_HALT=halt` until
/// the hook halts it, then kills it with SIGKILL. Returns its stderr.
fn killed_apply(cmd: Command, halt: &str) -> String {
    killed(cmd, &["apply", "--auto-approve"], halt)
}

/// The working state as `posture state pull` prints it.
fn pulled(o: &Out) -> serde_json::Value {
    assert_eq!(o.code, 0, "state pull\n{}", o.all());
    serde_json::from_str(&o.stdout).expect("state is JSON")
}

fn assert_ok(o: &Out, what: &str) {
    assert_eq!(o.code, 0, "{what}\n{}", o.all());
}

fn recovered(o: &Out) -> Vec<&str> {
    o.stderr
        .lines()
        .filter(|l| l.starts_with("Recovered: "))
        .collect()
}

const DATA: &str = r#"
resource "posture_data" "a" {
  input = "one"
}
resource "posture_data" "b" {
  input = posture_data.a.output
}
"#;

fn data_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("main.hcl"), DATA).expect("main.hcl");
    d
}

#[test]
fn recovery_adopts_an_interrupted_posture_data_create_instead_of_forgetting_it() {
    let d = data_dir();
    let dir = d.path();
    killed_apply(command(dir), "applied:1");
    let o = output(command(dir).arg("plan"));
    assert_ok(&o, "plan after the kill");
    assert_eq!(
        recovered(&o),
        vec!["Recovered: posture_data.a: adopted the object an interrupted run left"],
        "{}",
        o.all()
    );
    // Adopted: only b is left to create.
    assert!(
        o.stdout
            .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{}",
        o.all()
    );
    let st = pulled(&output(command(dir).args(["state", "pull"])));
    let a = &st["instances"]["posture_data.a"]["attributes"];
    // The id apply gives it: the operation's token, never null or unknown.
    assert!(a["id"].as_str().is_some_and(|id| !id.is_empty()), "{st:#}");
    assert_eq!(a["output"]["value"], "one", "{st:#}");
    let o = output(command(dir).args(["apply", "--auto-approve"]));
    assert_ok(&o, "apply after the kill");
    assert!(
        o.stdout
            .contains("Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        o.all()
    );
    let o = output(command(dir).args(["state", "list"]));
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
}

#[test]
fn a_saved_plan_made_before_a_killed_run_is_refused_once_recovery_moved_the_state() {
    let d = data_dir();
    let dir = d.path();
    let o = output(command(dir).args(["plan", "--out", "p.json"]));
    assert_ok(&o, "plan --out");
    killed_apply(command(dir), "applied:1");
    let o = output(command(dir).args(["apply", "p.json"]));
    assert_eq!(o.code, 1, "{}", o.all());
    assert_eq!(recovered(&o).len(), 1, "{}", o.all());
    assert!(
        o.stderr.contains("Error: Saved plan is stale"),
        "{}",
        o.all()
    );
    // Nothing was applied from the stale plan: b is still to create.
    let o = output(command(dir).args(["plan", "--detailed-exitcode"]));
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stdout.contains("Plan: 1 to add"), "{}", o.all());
}

#[test]
fn import_settles_an_interrupted_run_before_importing() {
    let d = data_dir();
    let dir = d.path();
    killed_apply(command(dir), "applied:1");
    let o = output(command(dir).args(["import", "posture_data.b", "seed-1"]));
    assert_ok(&o, "import after the kill");
    assert_eq!(recovered(&o).len(), 1, "{}", o.all());
    let o = output(command(dir).args(["state", "list"]));
    assert_eq!(o.stdout, "posture_data.a\nposture_data.b\n", "{}", o.all());
}

#[test]
fn the_test_hook_refuses_a_value_it_does_not_take() {
    let d = data_dir();
    let o = output(
        command(d.path())
            .args(["apply", "--auto-approve"])
            .env("POSTURE_TEST_HALT", "1"),
    );
    assert_eq!(o.code, 1, "{}", o.all());
    assert!(
        o.stderr.contains("Error: Invalid POSTURE_TEST_HALT"),
        "{}",
        o.all()
    );
    let o = output(command(d.path()).args(["state", "list"]));
    assert_eq!(o.stdout, "", "nothing was applied: {}", o.all());
}

// Route53 on moto.

fn provider_block(alias: Option<&str>, endpoint: &str) -> String {
    let alias = alias
        .map(|a| format!("  alias      = \"{a}\"\n"))
        .unwrap_or_default();
    format!(
        "provider \"route53\" {{\n{alias}  endpoint   = \"{endpoint}\"\n  access_key = \"AKIATESTONLY\"\n  secret_key = \"not-a-secret\"\n}}\n\n"
    )
}

/// `posture` with the AWS variables removed: the provider blocks alone
/// choose the endpoint.
fn r53(dir: &Path) -> Command {
    let mut c = command(dir);
    c.env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_ROUTE_53")
        .env_remove("AWS_PROFILE");
    c
}

/// The `<Name>`s of a moto Route53 listing (moto routes on the service
/// named in the Authorization header and checks no signature).
fn names_at(endpoint: &str, path: &str) -> Vec<String> {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to moto");
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATESTONLY/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"
    )
    .expect("request");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("response");
    let mut names: Vec<String> = body
        .split("<Name>")
        .skip(1)
        .filter_map(|x| x.split('<').next())
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

fn zones_at(endpoint: &str) -> Vec<String> {
    names_at(endpoint, "/2013-04-01/hostedzone")
}

/// The TXT records named `host-*` of the zone `address` in state.
fn hosts_at(endpoint: &str, dir: &Path, address: &str) -> Vec<String> {
    let st = pulled(&output(r53(dir).args(["state", "pull"])));
    let id = st["instances"][address]["attributes"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no zone id in {st:#}"))
        .trim_start_matches("/hostedzone/")
        .to_string();
    names_at(endpoint, &format!("/2013-04-01/hostedzone/{id}/rrset"))
        .into_iter()
        .filter(|n| n.starts_with("host-"))
        .collect()
}

const RECORDS: &str = r#"
resource "route53_zone" "z" {
  name = "crash.example"
}

resource "route53_record" "r" {
  count   = 2
  zone_id = route53_zone.z.id
  name    = "host-${count.index}"
  type    = "TXT"
  ttl     = 60
  records = ["index=${count.index}"]
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn recovery_configures_providers_before_reading_route53() {
    let moto = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let endpoint = moto.endpoint();
    tokio::task::spawn_blocking(move || {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path();
        let config = format!("{}{RECORDS}", provider_block(None, &endpoint));
        std::fs::write(dir.join("main.hcl"), config).expect("main.hcl");

        // Killed with the zone's intent durable, before it was sent: the
        // next run finds no zone and forgets the intent.
        killed_apply(r53(dir), "intents:1");
        assert!(zones_at(&endpoint).is_empty());
        let o = output(r53(dir).arg("plan"));
        assert_ok(&o, "plan after the first kill");
        assert_eq!(
            recovered(&o),
            vec!["Recovered: route53_zone.z: an interrupted run left no object; forgot it"],
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("Plan: 3 to add"), "{}", o.all());

        // Killed once the zone exists, before it is recorded.
        killed_apply(r53(dir), "applied:1");
        assert_eq!(zones_at(&endpoint), vec!["crash.example."]);
        let o = output(r53(dir).arg("plan"));
        assert_ok(&o, "plan after the kill");
        assert_eq!(
            recovered(&o),
            vec!["Recovered: route53_zone.z: adopted the object an interrupted run left"],
            "{}",
            o.all()
        );
        assert!(
            o.stdout
                .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
            "{}",
            o.all()
        );
        let o = output(r53(dir).args(["state", "list"]));
        assert_eq!(o.stdout, "route53_zone.z\n", "{}", o.all());

        // Killed again once the record batch reached the zone.
        let stderr = killed_apply(r53(dir), "applied:1");
        assert!(recovered_nothing(&stderr), "{stderr}");
        assert_eq!(
            hosts_at(&endpoint, dir, "route53_zone.z"),
            vec!["host-0.crash.example.", "host-1.crash.example."]
        );
        let o = output(r53(dir).args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply after the second kill");
        assert_eq!(recovered(&o).len(), 2, "{}", o.all());
        assert!(o.stdout.contains("No changes."), "{}", o.all());
        let o = output(r53(dir).args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "route53_record.r[0]\nroute53_record.r[1]\nroute53_zone.z\n",
            "{}",
            o.all()
        );
        // Once each on the peer: one zone, each record once.
        assert_eq!(zones_at(&endpoint), vec!["crash.example."]);
        assert_eq!(
            hosts_at(&endpoint, dir, "route53_zone.z"),
            vec!["host-0.crash.example.", "host-1.crash.example."]
        );
        let o = output(r53(dir).args(["plan", "--detailed-exitcode"]));
        assert_eq!(o.code, 0, "{}", o.all());
    })
    .await
    .expect("join");
    drop(moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_killed_after_the_delete_is_settled_by_the_next_destroy() {
    let moto = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let endpoint = moto.endpoint();
    tokio::task::spawn_blocking(move || {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path();
        let config = format!(
            "{}resource \"route53_zone\" \"z\" {{\n  name = \"gone.example\"\n}}\n",
            provider_block(None, &endpoint)
        );
        std::fs::write(dir.join("main.hcl"), config).expect("main.hcl");
        assert_ok(&output(r53(dir).args(["apply", "--auto-approve"])), "apply");
        // Killed once the zone is deleted, before that is recorded.
        killed(r53(dir), &["destroy", "--auto-approve"], "applied:1");
        assert!(zones_at(&endpoint).is_empty());
        let o = output(r53(dir).args(["destroy", "--auto-approve"]));
        assert_ok(&o, "destroy after the kill");
        assert_eq!(
            recovered(&o),
            vec!["Recovered: route53_zone.z: an interrupted run left no object; forgot it"],
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("No changes."), "{}", o.all());
        let o = output(r53(dir).args(["state", "list"]));
        assert_eq!(o.stdout, "", "{}", o.all());
    })
    .await
    .expect("join");
    drop(moto);
}

fn recovered_nothing(stderr: &str) -> bool {
    !stderr.lines().any(|l| l.starts_with("Recovered: "))
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_reads_an_aliased_route53_zone_through_its_own_configuration() {
    let home = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let eu = MotoServer::start()
        .await
        .expect("moto (scripts/install-moto.sh)");
    let (h, e) = (home.endpoint(), eu.endpoint());
    tokio::task::spawn_blocking(move || {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path();
        let config = format!(
            "{}{}resource \"route53_zone\" \"eu\" {{\n  provider = route53.eu\n  name     = \"eu.example.com\"\n}}\n",
            provider_block(None, &h),
            provider_block(Some("eu"), &e)
        );
        std::fs::write(dir.join("main.hcl"), config).expect("main.hcl");
        killed_apply(r53(dir), "applied:1");
        assert_eq!(zones_at(&e), vec!["eu.example.com."]);
        let o = output(r53(dir).args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply after the kill");
        assert_eq!(
            recovered(&o),
            vec!["Recovered: route53_zone.eu: adopted the object an interrupted run left"],
            "{}",
            o.all()
        );
        assert!(o.stdout.contains("No changes."), "{}", o.all());
        let st = pulled(&output(r53(dir).args(["state", "pull"])));
        assert_eq!(st["instances"]["route53_zone.eu"]["provider"], "route53.eu");
        // Read where it was made; nothing made twice, nothing at home.
        assert_eq!(zones_at(&e), vec!["eu.example.com."]);
        assert!(zones_at(&h).is_empty(), "{:?}", zones_at(&h));
    })
    .await
    .expect("join");
    drop((home, eu));
}

// Kubernetes on the sandbox.

const K8S: &str = r#"
variable "kubeconfig" { type = string }

cluster "c" {
  kubeconfig = var.kubeconfig
  context    = "c1"
}

resource "kubernetes_manifest" "cm" {
  cluster  = cluster.c
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "crash-cm", namespace = "default" }
    data       = { k = "v" }
  }
}

resource "posture_data" "after" {
  input = kubernetes_manifest.cm.uid
}
"#;

/// The ConfigMaps in `default`, by kubectl.
fn configmaps(kubeconfig: &Path) -> Vec<String> {
    kubectl(
        kubeconfig,
        &[
            "--context",
            "c1",
            "-n",
            "default",
            "get",
            "configmaps",
            "-o",
            "name",
        ],
    )
    .lines()
    .filter(|l| l.contains("crash-"))
    .map(str::to_string)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_adopts_an_interrupted_kubernetes_create_on_the_sandbox() {
    let sb = Sandboxed::start(quick(&["c1"])).await;
    let kc = sb.kubeconfig.clone();
    let dir = sb.workdir("w", K8S);
    tokio::task::spawn_blocking(move || {
        let k8s = || {
            let mut c = command(&dir);
            c.env("POSTURE_VAR_kubeconfig", &kc);
            c
        };
        killed_apply(k8s(), "applied:1");
        assert_eq!(configmaps(&kc), vec!["configmap/crash-cm"]);
        let o = output(k8s().arg("plan"));
        assert_ok(&o, "plan after the kill");
        assert_eq!(
            recovered(&o),
            vec!["Recovered: kubernetes_manifest.cm: adopted the object an interrupted run left"],
            "{}",
            o.all()
        );
        assert!(
            o.stdout
                .contains("Plan: 1 to add, 0 to change, 0 to destroy."),
            "{}",
            o.all()
        );
        let o = output(k8s().args(["apply", "--auto-approve"]));
        assert_ok(&o, "apply after the kill");
        assert!(
            o.stdout
                .contains("Resources: 1 added, 0 changed, 0 destroyed."),
            "{}",
            o.all()
        );
        // The adopted object's uid is what its dependent was given.
        let st = pulled(&output(k8s().args(["state", "pull"])));
        let uid = &st["instances"]["kubernetes_manifest.cm"]["attributes"]["uid"];
        assert!(uid.as_str().is_some_and(|u| !u.is_empty()), "{st:#}");
        assert_eq!(
            &st["instances"]["posture_data.after"]["attributes"]["output"]["value"],
            uid
        );
        let o = output(k8s().args(["state", "list"]));
        assert_eq!(
            o.stdout,
            "kubernetes_manifest.cm\nposture_data.after\n",
            "{}",
            o.all()
        );
        let o = output(k8s().args(["state", "show", "kubernetes_manifest.cm"]));
        assert_ok(&o, "state show");
        assert!(o.stdout.contains("crash-cm"), "{}", o.all());
        assert_eq!(configmaps(&kc), vec!["configmap/crash-cm"]);
    })
    .await
    .expect("join");
    sb.shutdown().await.expect("shutdown");
}

#[test]
fn what_recovery_settled_is_reported_even_when_the_plan_then_fails() {
    let d = data_dir();
    let dir = d.path();
    killed_apply(command(dir), "applied:1");
    // Valid to validate (the output is unknown there), an error once
    // planned: recovery has already settled the killed run's intent.
    std::fs::write(
        dir.join("out.hcl"),
        "output \"n\" {\n  value = tonumber(posture_data.a.output)\n}\n",
    )
    .expect("out.hcl");
    let o = output(command(dir).arg("plan"));
    assert_eq!(o.code, 1, "{}", o.all());
    assert_eq!(
        recovered(&o),
        vec!["Recovered: posture_data.a: adopted the object an interrupted run left"],
        "{}",
        o.all()
    );
    assert!(o.stderr.contains("out.hcl:2:"), "{}", o.all());
    // Settled for good: the next run has nothing left to recover.
    std::fs::remove_file(dir.join("out.hcl")).expect("rm out.hcl");
    let o = output(command(dir).arg("plan"));
    assert_ok(&o, "plan after the fix");
    assert!(recovered(&o).is_empty(), "{}", o.all());
}

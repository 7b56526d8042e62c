//! kill -9 in the middle of an apply: the engine-driven apply runs in a
//! child process (`route53-e2e-apply`), the fault proxy lets one request
//! reach moto and then holds its answer, and the child is killed with
//! SIGKILL while it waits. The next run (recovery, plan, apply) must end
//! with exactly one zone and every record once, without duplicate calls.

use super::support::*;
use posture_provider_route53::testing::Fault;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const CONFIG: &str = r#"
resource "route53_zone" "z" {
  name = "crash.example"
}

resource "route53_record" "r" {
  count   = 300
  zone_id = route53_zone.z.id
  name    = "host-${count.index}"
  type    = "TXT"
  ttl     = 60
  records = ["index=${count.index}"]
}
"#;

fn child(dir: &Path, endpoint: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_route53-e2e-apply"));
    c.arg(dir).arg(endpoint).stdin(Stdio::null());
    c
}

/// Runs the child until the held request reaches moto, then kills it.
async fn kill_while_held(h: &Harness, dir: &Path) {
    let mut running = child(dir, &h.proxy.endpoint())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the child apply");
    let held = h.proxy.wait_held(Duration::from_secs(120)).await;
    running.kill().await.expect("SIGKILL the child");
    assert!(held, "the child never sent the request to hold");
}

/// Runs the child to completion; returns its summary line.
async fn finish(h: &Harness, dir: &Path) -> String {
    let out = child(dir, &h.proxy.endpoint())
        .output()
        .await
        .expect("run the child apply");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn only_zone(h: &Harness) -> String {
    let client =
        posture_provider_route53::testing::sdk_client(&h.out_of_band().await).expect("client");
    let zones = client.list_hosted_zones().send().await.expect("list zones");
    assert_eq!(zones.hosted_zones().len(), 1, "{:?}", zones.hosted_zones());
    posture_provider_route53::names::bare_zone_id(zones.hosted_zones()[0].id())
}

#[tokio::test]
async fn killed_while_a_record_batch_was_in_flight() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write config");
    // The batch of 300 records reaches moto; its answer never comes back.
    h.proxy.inject("ChangeResourceRecordSets", Fault::Hold, 1);
    kill_while_held(&h, dir.path()).await;

    h.proxy.reset_counts();
    let summary = finish(&h, dir.path()).await;
    // Recovery adopted all 300 from the zone; nothing was left to apply.
    assert_eq!(summary, "applied 0 failed 0");
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 0);
    let zone = only_zone(&h).await;
    assert_eq!(zone_contents(&h, &zone).await.len(), 2 + 300);
    // And the run after that finds nothing to do either.
    assert_eq!(finish(&h, dir.path()).await, "applied 0 failed 0");
}

#[tokio::test]
async fn killed_while_the_zone_was_being_created() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write config");
    // moto makes the zone; the child dies before hearing of it.
    h.proxy.inject("CreateHostedZone", Fault::Hold, 1);
    kill_while_held(&h, dir.path()).await;

    h.proxy.reset_counts();
    let summary = finish(&h, dir.path()).await;
    // Recovery found the zone by its CallerReference; the records follow.
    assert_eq!(summary, "applied 300 failed 0");
    assert_eq!(
        h.proxy.count("CreateHostedZone").received,
        0,
        "no second zone was asked for"
    );
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 1);
    let zone = only_zone(&h).await;
    assert_eq!(zone_contents(&h, &zone).await.len(), 2 + 300);
}

//! kill -9 in the middle of an apply: the engine-driven apply (a run of
//! the engine's session, in `super::engine::plan_apply`) runs in a child
//! process, this test binary started again with `CHILD` naming the working
//! directory; the fault proxy lets one request reach moto and then holds
//! its answer, and the child is killed with SIGKILL while it waits. The
//! next run (recovery, plan, apply) must end with exactly one zone and
//! every record once, without duplicate calls.

use super::engine::{plan_apply, provider_block};
use super::support::*;
use posture_provider_route53::testing::Fault;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Set in the child: the working directory it applies.
const CHILD: &str = "POSTURE_ROUTE53_CRASH_CHILD_DIR";
/// Starts the line the child reports its run on (the test harness writes
/// on the same stdout).
const SUMMARY: &str = "route53-crash-child: ";

/// In the child (`CHILD` set): applies its directory and reports
/// `applied N failed M`; true when this process is the child.
async fn child_run() -> bool {
    let Ok(dir) = std::env::var(CHILD) else {
        return false;
    };
    let (_, report) = plan_apply(Path::new(&dir)).await;
    println!(
        "\n{SUMMARY}applied {} failed {}",
        report.applied.len(),
        report.failed.len()
    );
    true
}

/// The configuration, talking to moto through the harness's proxy.
fn write_config(h: &Harness, dir: &Path) {
    let config = format!("{CONFIG}{}", provider_block(&h.proxy.endpoint()));
    std::fs::write(dir.join("main.hcl"), config).expect("write config");
}

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

/// This test binary again, running only `test` (the test calling it) as
/// the child.
fn child(dir: &Path, test: &str) -> tokio::process::Command {
    let exe = std::env::current_exe().expect("test binary");
    let mut c = tokio::process::Command::new(exe);
    c.args([
        &format!("it::crash::{test}"),
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, dir)
    .stdin(Stdio::null());
    c
}

/// Runs the child until the held request reaches moto, then kills it.
async fn kill_while_held(h: &Harness, dir: &Path, test: &str) {
    let mut running = child(dir, test)
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
async fn finish(dir: &Path, test: &str) -> String {
    let out = child(dir, test)
        .output()
        .await
        .expect("run the child apply");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(SUMMARY))
        .unwrap_or_else(|| panic!("the child reported no run: {stdout}"))
        .trim()
        .to_string()
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
    const TEST: &str = "killed_while_a_record_batch_was_in_flight";
    if child_run().await {
        return;
    }
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(&h, dir.path());
    // The batch of 300 records reaches moto; its answer never comes back.
    h.proxy.inject("ChangeResourceRecordSets", Fault::Hold, 1);
    kill_while_held(&h, dir.path(), TEST).await;

    h.proxy.reset_counts();
    let summary = finish(dir.path(), TEST).await;
    // Recovery adopted all 300 from the zone; nothing was left to apply.
    assert_eq!(summary, "applied 0 failed 0");
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 0);
    let zone = only_zone(&h).await;
    assert_eq!(zone_contents(&h, &zone).await.len(), 2 + 300);
    // And the run after that finds nothing to do either.
    assert_eq!(finish(dir.path(), TEST).await, "applied 0 failed 0");
}

#[tokio::test]
async fn killed_while_the_zone_was_being_created() {
    const TEST: &str = "killed_while_the_zone_was_being_created";
    if child_run().await {
        return;
    }
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(&h, dir.path());
    // moto makes the zone; the child dies before hearing of it.
    h.proxy.inject("CreateHostedZone", Fault::Hold, 1);
    kill_while_held(&h, dir.path(), TEST).await;

    h.proxy.reset_counts();
    let summary = finish(dir.path(), TEST).await;
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

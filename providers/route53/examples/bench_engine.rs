//! Engine-driven benchmark: N records across Z zones (default 10,000
//! across 5) written as HCL, planned and applied by posture's engine with
//! the Route53 provider against moto behind the fault proxy, at Route53's
//! real rate of 5 requests per second. Then a second run (refresh, plan:
//! all no-ops). Prints calls per operation and wall time for each run.
//!
//! ```text
//! cargo run --release -p posture-provider-route53 --features testing --example bench_engine -- 10000 5
//! ```
//! Needs moto (scripts/install-moto.sh).

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, PlanOptions};
use posture_engine::provider::{Provider, Providers};
use posture_engine::session::Session;
use posture_provider_route53::Route53Provider;
use posture_provider_route53::testing::{FaultProxy, MotoServer};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// One run as `posture apply` does it, through the engine's session.
async fn run(dir: &Path) -> Result<(usize, usize, usize), String> {
    let providers = Providers::new(vec![Arc::new(Route53Provider::new()) as Arc<dyn Provider>]);
    let s = Session::open_dir(dir, providers).map_err(|e| format!("{e:?}"))?;
    let p = s
        .plan(&PlanOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?
        .plan;
    let changes = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .count();
    let opts = ApplyOptions {
        parallelism: 10,
        cancel: Default::default(),
        progress: None,
    };
    let report = s.apply(&p, &opts).await.map_err(|e| format!("{e:?}"))?;
    Ok((changes, report.applied.len(), report.failed.len()))
}

fn report(phase: &str, proxy: &FaultProxy, started: Instant, r: (usize, usize, usize)) {
    let counts: Vec<String> = proxy
        .counts()
        .iter()
        .map(|(op, c)| format!("{op}={}", c.received))
        .collect();
    println!(
        "{phase}: planned {} changes, applied {}, failed {}; {} calls ({}) in {:.1} s",
        r.0,
        r.1,
        r.2,
        proxy.total(),
        counts.join(", "),
        started.elapsed().as_secs_f64()
    );
    proxy.reset_counts();
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let zones: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let moto = MotoServer::start().await.map_err(|e| e.to_string())?;
    let proxy = FaultProxy::start(moto.addr())
        .await
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let endpoint = proxy.endpoint();
    let hcl = format!(
        r#"
provider "route53" {{
  endpoint                = "{endpoint}"
  access_key              = "testing"
  secret_key              = "testing"
  max_requests_per_second = 5
}}

resource "route53_zone" "z" {{
  count = {zones}
  name  = "bench${{count.index}}.example"
}}

resource "route53_record" "r" {{
  count   = {n}
  zone_id = route53_zone.z[count.index % {zones}].id
  name    = "host-${{count.index}}"
  type    = "TXT"
  ttl     = 300
  records = ["index=${{count.index}}"]
}}
"#
    );
    std::fs::write(dir.path().join("main.hcl"), hcl).map_err(|e| e.to_string())?;
    for phase in [
        format!("first run: create {zones} zones and {n} records"),
        format!("second run: refresh and plan {n} records"),
    ] {
        let started = Instant::now();
        let r = run(dir.path()).await?;
        report(&phase, &proxy, started, r);
    }
    Ok(())
}

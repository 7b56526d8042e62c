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

use posture_engine::apply::{ApplyOptions, apply};
use posture_engine::plan::{Action, PlanOptions, graph, plan};
use posture_engine::provider::{Provider, Providers};
use posture_engine::scope::{Evaluation, Strictness};
use posture_engine::state::{Backend, LocalLocation, LockOptions, StateLocation};
use posture_engine::value::Value;
use posture_engine::workspace::Workspace;
use posture_provider_route53::Route53Provider;
use posture_provider_route53::testing::{FaultProxy, MotoServer};
use posture_provider_route53::values::object;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

async fn run(dir: &Path, endpoint: &str) -> Result<(usize, usize, usize), String> {
    let provider = Route53Provider::new();
    provider
        .configure(object(vec![
            ("endpoint", Value::from(endpoint)),
            ("access_key", Value::from("testing").mark_sensitive()),
            ("secret_key", Value::from("testing").mark_sensitive()),
            ("max_requests_per_second", Value::from(5)),
        ]))
        .await
        .map_err(|e| e.message)?;
    let providers = Providers::new(vec![Arc::new(provider) as Arc<dyn Provider>]);
    let ws = Workspace::load(dir, &[], &BTreeMap::new());
    if ws.diags.has_errors() {
        return Err(format!("{:?}", ws.diags));
    }
    let loc = LocalLocation::new(dir.join(".posture"));
    let backend: Arc<dyn Backend> = Arc::from(
        loc.open(&LockOptions::new("apply"))
            .map_err(|e| e.to_string())?,
    );
    let state = backend.load().map_err(|e| e.to_string())?;
    let g = graph::build(&ws.tree).map_err(|e| format!("{e:?}"))?;
    let ev = Evaluation::new(
        &ws.tree,
        &ws.sources,
        &providers,
        ws.raw_vars.clone(),
        Strictness::Full,
    );
    let (p, _) = plan(&ev, &g, &providers, &state, &PlanOptions::default())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let changes = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .count();
    let ev = Evaluation::new(
        &ws.tree,
        &ws.sources,
        &providers,
        ws.raw_vars.clone(),
        Strictness::Full,
    );
    let opts = ApplyOptions {
        parallelism: 10,
        cancel: Default::default(),
        progress: None,
    };
    let report = apply(&ev, &providers, backend, &p, &opts).await;
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
    let hcl = format!(
        r#"
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
        let r = run(dir.path(), &proxy.endpoint()).await?;
        report(&phase, &proxy, started, r);
    }
    Ok(())
}

//! Test helper (feature `testing`): plans and applies the configuration in
//! a directory through posture's engine with the Route53 provider pointed at
//! an endpoint, like `posture apply` will once the CLI registers the
//! provider. The crash tests run it as a child process and kill it with
//! SIGKILL in the middle of its apply.
//!
//! Usage: `route53-e2e-apply DIR ENDPOINT`. Prints `applied N failed M`.

use posture_engine::apply::{ApplyOptions, apply, recover};
use posture_engine::plan::{PlanOptions, graph, plan};
use posture_engine::provider::{Provider, Providers};
use posture_engine::scope::{Evaluation, Strictness};
use posture_engine::state::{Backend, LocalLocation, LockOptions, StateLocation};
use posture_engine::value::Value;
use posture_engine::workspace::Workspace;
use posture_provider_route53::Route53Provider;
use posture_provider_route53::testing::fast_timing;
use posture_provider_route53::values::object;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("route53-e2e-apply: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(endpoint)) = (args.next(), args.next()) else {
        return Err("usage: route53-e2e-apply DIR ENDPOINT".into());
    };
    let dir = PathBuf::from(dir);
    let provider = Route53Provider::with_timing(fast_timing());
    provider
        .configure(object(vec![
            ("endpoint", Value::from(endpoint.as_str())),
            ("access_key", Value::from("testing").mark_sensitive()),
            ("secret_key", Value::from("testing").mark_sensitive()),
            ("max_requests_per_second", Value::from(100)),
        ]))
        .await
        .map_err(|e| e.message)?;
    let providers = Providers::new(vec![Arc::new(provider) as Arc<dyn Provider>]);
    let ws = Workspace::load(&dir, &[], &BTreeMap::new());
    if ws.diags.has_errors() {
        return Err(format!("{:?}", ws.diags));
    }
    let loc = LocalLocation::new(dir.join(".posture"));
    let backend: Arc<dyn Backend> = Arc::from(
        loc.open(&LockOptions::new("apply"))
            .map_err(|e| e.to_string())?,
    );
    // As `posture apply` does: settle what an interrupted run left first.
    recover(backend.clone(), &providers).await?;
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
    Ok(format!(
        "applied {} failed {}",
        report.applied.len(),
        report.failed.len()
    ))
}

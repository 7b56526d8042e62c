//! What commands that touch state share: loading the working directory,
//! the providers, opening the state under its lock, crash recovery.

use crate::output::print_diags;
use posture_engine::config::vars::{RawVar, VarSource};
use posture_engine::provider::Providers;
use posture_engine::state::{Backend, LocalLocation, LockOptions, StateLocation};
use posture_engine::workspace::Workspace;
use std::sync::Arc;
use std::time::Duration;

/// Options for taking the state lock.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LockArgs {
    /// Wait this long for a held state lock (e.g. 30s, 2m); default: fail at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
}

/// Parses `30s`, `2m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use 30s, 2m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "ms" => return Ok(Duration::from_millis(n)),
        _ => return Err(format!("invalid duration {s:?}: use 30s, 2m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}

/// The providers this build of posture has (a fresh set per run: providers
/// cache what they read during one run).
pub fn providers() -> Providers {
    Providers::new(vec![
        Arc::new(posture_provider_route53::Route53Provider::new()),
        Arc::new(posture_provider_kubernetes::KubernetesProvider::new()),
    ])
}

/// Loads the working directory; prints diagnostics and returns exit 1 on errors.
pub fn load(vars: &super::VarArgs) -> Result<Workspace, u8> {
    let ws = Workspace::load(&super::cwd(), &vars.cli_vars(), &super::env());
    if ws.diags.has_errors() {
        print_diags(&ws.diags, &ws.sources);
        return Err(1);
    }
    print_diags(&ws.diags, &ws.sources);
    Ok(ws)
}

/// Replaces the workspace's variables with those a saved plan was made with.
pub fn use_plan_variables(ws: &mut Workspace, vars: &[(String, posture_engine::value::Value)]) {
    ws.raw_vars = vars
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                RawVar {
                    value: v.clone(),
                    source: VarSource::Cli,
                },
            )
        })
        .collect();
}

/// Where state lives: `posture { backend "local" { path } }`, else `.posture/`.
pub fn location(ws: Option<&Workspace>) -> LocalLocation {
    let dir = ws
        .and_then(|w| w.tree.module.settings.backend.as_ref())
        .and_then(|b| b.path.clone())
        .unwrap_or_else(|| posture_engine::state::DEFAULT_STATE_DIR.to_string());
    LocalLocation::new(super::cwd().join(dir))
}

/// Opens the state under its lock for `operation`.
pub fn open_state(
    ws: Option<&Workspace>,
    operation: &str,
    lock: &LockArgs,
) -> Result<Arc<dyn Backend>, u8> {
    let loc = location(ws);
    let mut opts = LockOptions::new(operation);
    if let Some(t) = lock.lock_timeout {
        opts = opts.timeout(t).on_wait(|holder| {
            eprintln!(
                "Waiting for the state lock held by {} (lock id {})...",
                holder.who, holder.id
            );
        });
    }
    match loc.open(&opts) {
        Ok(b) => Ok(Arc::from(b)),
        Err(e) => {
            eprintln!("Error: Failed to open state\n\n{e}\n");
            Err(1)
        }
    }
}

/// Settles what a killed run left unfinished; prints what it did.
pub async fn recover(backend: &Arc<dyn Backend>, providers: &Providers) -> Result<(), u8> {
    match posture_engine::apply::recover(backend.clone(), providers).await {
        Ok(lines) => {
            for l in lines {
                eprintln!("Recovered: {l}");
            }
            Ok(())
        }
        Err(e) => {
            eprintln!(
                "Error: Unfinished operations from an interrupted run\n\n{e}\n\nNothing was planned. Fix the cause (often an unreachable cluster or API) and run again."
            );
            Err(1)
        }
    }
}

/// A tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Values may nest 1,000 levels (scope::MAX_VALUE_DEPTH) and their
        // codecs recurse: tokio's 2 MiB default overflows in a debug build.
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| {
            eprintln!("Error: cannot start the async runtime: {e}");
            1
        })
}

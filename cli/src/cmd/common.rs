//! What commands that touch state share: loading the working directory,
//! the providers, opening the state under its lock, crash recovery.

use crate::output::print_diags;
use posture_engine::config::vars::{RawVar, VarSource};
use posture_engine::provider::Providers;
use posture_engine::state::{Backend, LockOptions, Partition, Selection, StateLocation};
use posture_engine::workspace::Workspace;
use std::sync::Arc;
use std::time::Duration;

pub mod halt;

/// Options for taking the state lock.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LockArgs {
    /// Wait this long for a held state lock (e.g. 30s, 2m); default: fail at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
    /// Lock and change only this cluster's state partition (repeatable;
    /// `_global` names the one of resources on no cluster). Needs
    /// `posture { state_partition = "cluster" }`; see docs/backends.md.
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
}

impl LockArgs {
    /// The partitions `--cluster` selects: all of them without it.
    pub fn selection(&self) -> Selection {
        if self.clusters.is_empty() {
            return Selection::All;
        }
        Selection::Only(self.clusters.iter().map(|c| Partition::named(c)).collect())
    }
}

/// The longest `--lock-timeout` accepted: a deadline this far ahead can
/// always be computed, and nobody waits a week for a lock on purpose.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses `30s`, `2m`, `1h`, `250ms`, or plain seconds, up to
/// [`MAX_LOCK_TIMEOUT`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let invalid = || format!("invalid duration {s:?}: use 30s, 2m or 1h");
    let too_long = || format!("invalid duration {s:?}: the longest lock timeout is 168h (7 days)");
    if num.is_empty() {
        return Err(invalid());
    }
    // All digits: a parse failure can only be a number too large for u64.
    let n: u64 = num.parse().map_err(|_| too_long())?;
    let millis = match unit {
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "ms" => Some(n),
        _ => return Err(invalid()),
    };
    let d = millis.map(Duration::from_millis).ok_or_else(too_long)?;
    if d > MAX_LOCK_TIMEOUT {
        return Err(too_long());
    }
    Ok(d)
}

/// The providers this build of posture has (a fresh set per run: providers
/// cache what they read during one run). Each is built by a factory, so an
/// aliased configuration (`provider "route53" { alias = "eu" }`) gets an
/// instance of its own.
pub fn providers() -> Providers {
    use posture_engine::provider::{Provider, ProviderFactory};
    // Retries and the like are shown as they happen, on stderr.
    fn noticed(p: Arc<dyn Provider>) -> Arc<dyn Provider> {
        p.set_notices(crate::output::notices());
        p
    }
    let factories: Vec<ProviderFactory> = vec![
        Arc::new(|| noticed(Arc::new(posture_provider_route53::Route53Provider::new()))),
        Arc::new(|| {
            noticed(Arc::new(
                posture_provider_kubernetes::KubernetesProvider::new(),
            ))
        }),
    ];
    Providers::from_factories(factories)
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

/// Where state lives: the `posture { backend "..." { } }` block, else
/// `.posture/`; prints the problems and returns exit 1 for bad settings.
pub fn location(ws: Option<&Workspace>) -> Result<Box<dyn StateLocation>, u8> {
    super::backend::location(ws)
}

/// Opens the state under its lock for `operation`.
pub fn open_state(
    ws: Option<&Workspace>,
    operation: &str,
    lock: &LockArgs,
) -> Result<Arc<dyn Backend>, u8> {
    if operation != "init" {
        super::init::require_initialized(ws)?;
    }
    let loc = super::backend::location_selected(ws, lock.selection())?;
    let mut opts = LockOptions::new(operation);
    // The remote backends take their lock_ttl from their own settings.
    if let Some(lease) = super::backend::local_lease(ws)? {
        opts = opts.lease(lease);
    }
    if let Some(t) = lock.lock_timeout {
        opts = opts.timeout(t).on_wait(|holder| {
            eprintln!(
                "Waiting for the state lock held by {} (lock id {})...",
                holder.who, holder.id
            );
        });
    }
    let halt = halt::from_env()?;
    match loc.open(&opts) {
        Ok(b) => Ok(halt::wrap(b, halt)),
        Err(e) => {
            eprintln!("Error: Failed to open state\n\n{e}\n");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_lock_timeout_is_refused_instead_of_overflowing() {
        for s in ["99999999999999999h", "99999999999999999999999s", "169h"] {
            let e = parse_duration(s).unwrap_err();
            assert!(e.contains("the longest lock timeout is 168h"), "{s}: {e}");
        }
        assert_eq!(parse_duration("168h"), Ok(MAX_LOCK_TIMEOUT));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("h").unwrap_err().contains("use 30s"));
        assert!(parse_duration("3d").unwrap_err().contains("use 30s"));
    }
}

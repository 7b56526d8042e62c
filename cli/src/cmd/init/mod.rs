//! `posture init [-migrate-state | -reconfigure]`: checks the configured
//! backend (the bucket is reachable with these credentials, the lock can be
//! taken) and records it in `.posture/backend.json` as the one this working
//! directory is initialized with (`record.rs`). When the `backend` block
//! names another place than the recorded one, `init` stops until told
//! either to copy the state there (`migrate.rs`) or to use the new backend
//! as it is; plan, apply and the state commands refuse meanwhile.

mod migrate;
mod record;

use std::ffi::OsString;
use std::path::Path;

use posture_engine::state::{DEFAULT_STATE_DIR, LockOptions};
use posture_engine::workspace::Workspace;

use super::common::{self, LockArgs};
use crate::output::print_diags;
use record::Recorded;

/// Arguments of `posture init`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Copy the state of the backend this directory was initialized with (or
    /// of `.posture/`) to the configured backend.
    #[arg(long, conflicts_with = "reconfigure")]
    migrate_state: bool,
    /// Use the configured backend as it is, copying nothing.
    #[arg(long)]
    reconfigure: bool,
    #[command(flatten)]
    lock: LockArgs,
}

/// The arguments with Terraform's single-dash `-migrate-state` and
/// `-reconfigure` spelled as the long options they are, so both forms work
/// (a single dash otherwise starts short options, which these are not).
pub fn terraform_flags(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    args.map(|a| match a.to_str() {
        Some("-migrate-state") => "--migrate-state".into(),
        Some("-reconfigure") => "--reconfigure".into(),
        _ => a,
    })
    .collect()
}

/// Whether `.posture/` holds a local state with anything in it: the
/// backend of a directory that was used before `init` recorded any. Read
/// with `ws`'s encryption block: an encrypted local state is one too.
fn local_state_in(cwd: &Path, ws: &Workspace) -> Result<bool, u8> {
    let dir = cwd.join(DEFAULT_STATE_DIR);
    if !dir.join("db").exists() {
        return Ok(false);
    }
    let location = super::backend::location_of(None, &super::backend::print_unplaced, Some(ws))?;
    let read = location.open(&LockOptions::new("init")).and_then(|b| {
        let s = b.load();
        b.close()?;
        s
    });
    match read {
        Ok(s) => Ok(!migrate::is_empty(&s)),
        Err(e) => {
            eprintln!("Error: Failed to read the local state\n\n{e}\n");
            Err(1)
        }
    }
}

/// The backend this directory was initialized with: the record, else the
/// local state in `.posture/` when it holds one, else none.
fn initialized(cwd: &Path, ws: &Workspace) -> Result<Option<Recorded>, u8> {
    match record::read(cwd) {
        Ok(Some(r)) => Ok(Some(r)),
        Ok(None) => Ok(local_state_in(cwd, ws)?.then(Recorded::default_local)),
        Err(e) => {
            eprintln!("Error: Failed to read the initialized backend\n\n{e}.\n");
            Err(1)
        }
    }
}

fn changed_message(old: &Recorded, new: &Recorded) -> String {
    format!(
        "The backend configuration changed since this directory was initialized: it was \
         the {}, it is now the {}. Run `posture init --migrate-state` to copy the state \
         there (keeping its lineage, serial and history), or `posture init --reconfigure` \
         to use the new backend without copying anything.",
        old.describe(),
        new.describe()
    )
}

/// Refuses (exit 1) a run whose `backend` block names another place than
/// the backend this directory was initialized with, as Terraform does.
pub fn require_initialized(ws: Option<&Workspace>) -> Result<(), u8> {
    let Some(ws) = ws else { return Ok(()) };
    let new = Recorded::of(ws);
    let cwd = super::cwd();
    let old = match record::read(&cwd) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: Failed to read the initialized backend\n\n{e}.\n");
            return Err(1);
        }
    };
    // Without a record, a directory whose `.posture/` holds a database used
    // local state; only a backend elsewhere needs the (locking) look inside.
    let local = Recorded::default_local();
    let old = match old {
        None if !new.same_place(&local) && cwd.join(DEFAULT_STATE_DIR).join("db").exists() => {
            local_state_in(&cwd, ws)?.then_some(local)
        }
        other => other,
    };
    match old {
        Some(old) if !old.same_place(&new) => {
            eprintln!(
                "Error: Backend initialization required\n\n{}\n",
                changed_message(&old, &new)
            );
            Err(1)
        }
        _ => Ok(()),
    }
}

fn record(new: &Recorded) -> Result<(), u8> {
    record::write(&super::cwd(), new).map_err(|e| {
        eprintln!("Error: Failed to record the initialized backend\n\n{e}\n");
        1
    })
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    match init(&a) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

fn init(a: &Args) -> Result<(), u8> {
    let ws = Workspace::load(&super::cwd(), &[], &super::env());
    print_diags(&ws.diags, &ws.sources);
    if ws.diags.has_errors() {
        return Err(1);
    }
    let location = common::location(Some(&ws))?;
    let new = Recorded::of(&ws);
    let old = initialized(&super::cwd(), &ws)?.filter(|old| !old.same_place(&new));
    if let Some(old) = old {
        if a.migrate_state {
            let block = old.to_block();
            // The source is read with the configuration's encryption block:
            // a state already encrypted moves with its keys (or fallback).
            let unplaced = &super::backend::print_unplaced;
            let from = super::backend::location_of(Some(&block), unplaced, Some(&ws))?;
            match migrate::migrate(from.as_ref(), location.as_ref(), a.lock.lock_timeout)? {
                migrate::Outcome::NothingToCopy => {
                    println!("The {} holds no state: nothing to copy.", from.describe())
                }
                migrate::Outcome::Copied {
                    lineage,
                    serial,
                    history,
                } => println!(
                    "Copied the state (lineage {lineage}, serial {serial}, {history} serial(s) \
                     of history) from the {} to the {}. The old one was left as it was: \
                     remove it once you have checked `posture state list`.",
                    from.describe(),
                    location.describe()
                ),
            }
        } else if a.reconfigure {
            println!(
                "Reconfigured: the {} is used as it is; nothing was copied from the {}.",
                location.describe(),
                old.describe()
            );
        } else {
            eprintln!(
                "Error: Backend configuration changed\n\n{}\n",
                changed_message(&old, &new)
            );
            return Err(1);
        }
    }
    // Opening checks the backend (reachable, lockable); dropping it releases the lock.
    let backend = common::open_state(Some(&ws), "init", &a.lock)?;
    drop(backend);
    record(&new)?;
    println!("posture has been initialized: {}.", location.describe());
    Ok(())
}

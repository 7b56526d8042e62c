//! `posture init [--migrate-state]`: checks the configured backend (the
//! bucket is reachable with these credentials, the lock can be taken) and,
//! for a remote backend that holds no state yet, copies the local state in
//! `.posture/` to it when asked to (`Backend::adopt`: a Kubernetes backend
//! keeps every serial of the local history, each with its own history line).

use posture_engine::state::{
    DEFAULT_STATE_DIR, HistoryEntry, LocalLocation, LockOptions, State, StateLocation,
};
use posture_engine::workspace::Workspace;

use super::common::{self, LockArgs};
use crate::output::print_diags;

/// Arguments of `posture init`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Copy the local state (`.posture/`) to the configured backend when it holds none yet.
    #[arg(long)]
    migrate_state: bool,
    #[command(flatten)]
    lock: LockArgs,
}

fn is_empty(s: &State) -> bool {
    s.serial == 0 && s.instances.is_empty() && s.outputs.is_empty()
}

/// The local state in `.posture/`, when there is one with anything in it.
fn local_state() -> Result<Option<State>, u8> {
    let dir = super::cwd().join(DEFAULT_STATE_DIR);
    if !dir.exists() {
        return Ok(None);
    }
    let loc = LocalLocation::new(dir);
    let read = loc.open(&LockOptions::new("init")).and_then(|b| {
        let s = b.load();
        b.close()?;
        s
    });
    match read {
        Ok(s) if is_empty(&s) => Ok(None),
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            eprintln!("Error: Failed to read the local state\n\n{e}\n");
            Err(1)
        }
    }
}

/// The local state's history, each serial with its snapshot, oldest first.
fn local_history() -> Result<Vec<(HistoryEntry, State)>, u8> {
    let loc = LocalLocation::new(super::cwd().join(DEFAULT_STATE_DIR));
    let read = loc.open(&LockOptions::new("init")).and_then(|b| {
        let mut out = Vec::new();
        for e in b.history()? {
            let snap = b.snapshot(e.serial)?;
            out.push((e, snap));
        }
        b.close()?;
        Ok(out)
    });
    read.map_err(|e| {
        eprintln!("Error: Failed to read the local state's history\n\n{e}\n");
        1
    })
}

fn not_migrated(local: &State, describe: &str) -> u8 {
    eprintln!(
        "Error: Local state not migrated\n\n{DEFAULT_STATE_DIR}/ holds a state (serial {}, \
         {} instance(s)) and the {describe} holds none. Run `posture init --migrate-state` \
         to copy it there; nothing was copied.\n",
        local.serial,
        local.instances.len()
    );
    1
}

fn migrated(local: &State, serial: u64, describe: &str) {
    println!(
        "Copied the local state (lineage {}, serial {serial}, {} instance(s)) to the \
         {describe}. {DEFAULT_STATE_DIR}/ was left as it was: remove it once you have checked \
         `posture state list`.",
        local.lineage,
        local.instances.len()
    );
}

fn differs(local: &State, current: &State, describe: &str) {
    if local.lineage != current.lineage || local.serial != current.serial {
        eprintln!(
            "Warning: {DEFAULT_STATE_DIR}/ holds another state (serial {}) than the \
             {describe} (serial {}); posture uses the backend's and leaves both as they are.\n",
            local.serial, current.serial
        );
    }
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
    let remote = ws
        .tree
        .module
        .settings
        .backend
        .as_ref()
        .is_some_and(|b| b.kind != "local");
    let backend = common::open_state(Some(&ws), "init", &a.lock)?;
    if remote {
        let current = backend.load().map_err(|e| {
            eprintln!("Error: Failed to read the state\n\n{e}\n");
            1u8
        })?;
        if let Some(local) = local_state()? {
            if is_empty(&current) {
                if !a.migrate_state {
                    return Err(not_migrated(&local, &location.describe()));
                }
                // With its history where the backend keeps one (Kubernetes).
                let history = if backend.adopts_history() {
                    local_history()?
                } else {
                    Vec::new()
                };
                let serial = backend.adopt(history, &local).map_err(|e| {
                    eprintln!("Error: Failed to migrate the state\n\n{e}\n");
                    1u8
                })?;
                migrated(&local, serial, &location.describe());
            } else {
                differs(&local, &current, &location.describe());
            }
        }
    }
    // Dropping the last handle releases the lock.
    drop(backend);
    println!("posture has been initialized: {}.", location.describe());
    Ok(())
}

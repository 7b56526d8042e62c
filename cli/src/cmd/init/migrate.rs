//! `posture init -migrate-state`: copies the state of the backend the
//! directory was initialized with to the one the configuration names now,
//! in any direction between local, s3 and kubernetes.
//!
//! Both are held under their locks for the whole copy. The destination
//! must hold no state, or already the very same state (a rerun after an
//! interruption that came after the copy): anything else is refused, and
//! nothing is overwritten. The copy goes through `Backend::adopt`, with the
//! history where the destination keeps one, and is read back and compared
//! before the caller records the new backend: until then the old one stays
//! the recorded one, so an interrupted migration loses nothing and a rerun
//! finishes it.

use posture_engine::state::{AdoptStep, Backend, HistoryEntry, LockOptions, State, StateLocation};

use crate::cmd::common::halt::{Halt, halt_at};

/// What a migration did.
pub enum Outcome {
    /// The source held no state: nothing to copy.
    NothingToCopy,
    /// Copied (or found already copied by an interrupted run).
    Copied {
        /// The state's lineage.
        lineage: String,
        /// Its serial, the same in both.
        serial: u64,
        /// How many serials of history the destination took.
        history: usize,
    },
}

/// Whether a state holds nothing (a backend's freshly created one).
pub fn is_empty(s: &State) -> bool {
    s.serial == 0 && s.instances.is_empty() && s.outputs.is_empty()
}

fn same(a: &State, b: &State) -> bool {
    a.lineage == b.lineage
        && a.serial == b.serial
        && a.instances == b.instances
        && a.outputs == b.outputs
}

fn open(
    loc: &dyn StateLocation,
    lock_timeout: Option<std::time::Duration>,
) -> Result<Box<dyn Backend>, u8> {
    let mut opts = LockOptions::new("init -migrate-state");
    if let Some(t) = lock_timeout {
        opts = opts.timeout(t);
    }
    loc.open(&opts).map_err(|e| {
        eprintln!("Error: Failed to open {}\n\n{e}\n", loc.describe());
        1
    })
}

fn history_of(b: &dyn Backend, what: &str) -> Result<Vec<(HistoryEntry, State)>, u8> {
    let read = || -> posture_engine::state::Result<Vec<(HistoryEntry, State)>> {
        let mut out = Vec::new();
        for e in b.history()? {
            let snap = b.snapshot(e.serial)?;
            out.push((e, snap));
        }
        Ok(out)
    };
    read().map_err(|e| {
        eprintln!("Error: Failed to read the history of the {what}\n\n{e}\n");
        1
    })
}

/// Copies the state of `from` to `to`; see the module comment.
pub fn migrate(
    from: &dyn StateLocation,
    to: &dyn StateLocation,
    lock_timeout: Option<std::time::Duration>,
) -> Result<Outcome, u8> {
    let (old, new) = (from.describe(), to.describe());
    let src = open(from, lock_timeout)?;
    let dst = open(to, lock_timeout)?;
    let load = |b: &dyn Backend, what: &str| {
        b.load().map_err(|e| {
            eprintln!("Error: Failed to read the {what}\n\n{e}\n");
            1u8
        })
    };
    let current = load(src.as_ref(), &old)?;
    let pending = src.pending_intents().map_err(|e| {
        eprintln!("Error: Failed to read the {old}\n\n{e}\n");
        1u8
    })?;
    if !pending.is_empty() {
        eprintln!(
            "Error: Migration refused\n\nThe {old} has {} pending operation(s) of an \
             interrupted run. Run `posture apply` (or `plan`) with the old backend \
             configuration to recover them first; nothing was copied.\n",
            pending.len()
        );
        return Err(1);
    }
    if is_empty(&current) {
        return Ok(Outcome::NothingToCopy);
    }
    let there = load(dst.as_ref(), &new)?;
    let mut history = 0;
    if is_empty(&there) {
        let h = if dst.adopts_history() {
            history_of(src.as_ref(), &old)?
        } else {
            Vec::new()
        };
        history = h.len();
        let observe = |step| match step {
            AdoptStep::History { done, .. } => halt_at(Halt::MigratedHistory(done)),
            AdoptStep::Current => halt_at(Halt::MigratingCurrent),
        };
        dst.adopt_observed(h, &current, &observe).map_err(|e| {
            eprintln!(
                "Error: Failed to migrate the state\n\n{e}\n\nThe {old} was left as it was \
                 and stays the initialized backend: run `posture init --migrate-state` again.\n"
            );
            1u8
        })?;
    } else if !same(&there, &current) {
        eprintln!(
            "Error: Migration refused\n\nThe {new} already holds another state (lineage {}, \
             serial {}) than the {old} (lineage {}, serial {}). Nothing was copied or \
             overwritten. Run `posture init --reconfigure` to use the new backend's state as \
             it is, or empty it (`posture state pull` it first) and migrate again.\n",
            there.lineage, there.serial, current.lineage, current.serial
        );
        return Err(1);
    }
    // Read back what a new run will see before anyone is pointed at it.
    let copied = load(dst.as_ref(), &new)?;
    if !same(&copied, &current) {
        eprintln!(
            "Error: Migration not verified\n\nThe {new} reads back serial {} (lineage {}) \
             instead of serial {} (lineage {}). The {old} stays the initialized backend.\n",
            copied.serial, copied.lineage, current.serial, current.lineage
        );
        return Err(1);
    }
    halt_at(Halt::Migrated);
    let closed = dst.close().and(src.close());
    closed.map_err(|e| {
        eprintln!("Error: Failed to release the state locks after the copy\n\n{e}\n");
        1u8
    })?;
    Ok(Outcome::Copied {
        lineage: current.lineage,
        serial: current.serial,
        history,
    })
}

//! What every backend decides when it is offered a whole state, by
//! `posture state push` (a file) or by `rewrite` (`state rm`, `state mv`,
//! `import`): the checks and the serial the commit gets. The local, S3 and
//! Kubernetes backends then commit it each their own way; the rules are
//! here once, so that a push refused by one backend is refused by all.

use super::encoding::decode;
use super::error::{Result, StateError};
use super::model::{HistoryEntry, State};

/// The largest serial posture commits or accepts: far beyond any real
/// history, small enough that it can always grow and that JSON tools which
/// read numbers as doubles (jq, JavaScript) read it exactly.
pub const MAX_SERIAL: u64 = (1 << 53) - 1;

/// A state file given to `posture state push`, decoded and checked the same
/// way for every backend.
///
/// # Errors
/// [`StateError::InvalidPush`] for a file that is not a state,
/// [`StateError::SerialTooLarge`] for a serial that could not grow.
pub fn decode_push(json: &str) -> Result<State> {
    let pushed = decode(json, "in the pushed file").map_err(|e| match e {
        StateError::Corrupt { detail, .. } => StateError::InvalidPush { detail },
        other => other,
    })?;
    if pushed.serial >= MAX_SERIAL {
        return Err(StateError::SerialTooLarge {
            serial: pushed.serial,
            max: MAX_SERIAL,
            advice: "nothing was changed: set \"serial\" in the file to the current serial \
                     (`posture state history`) or lower, and push it with --force",
        });
    }
    Ok(pushed)
}

/// The serial after `serial`, or the refusal when it cannot grow (every
/// backend's commit).
///
/// # Errors
/// [`StateError::SerialTooLarge`] at [`MAX_SERIAL`].
pub fn next_serial(serial: u64) -> Result<u64> {
    if serial >= MAX_SERIAL {
        return Err(StateError::SerialTooLarge {
            serial,
            max: MAX_SERIAL,
            advice: "nothing was committed: `posture state pull` the state, set its \"serial\" \
                     lower, and `posture state push --force` it",
        });
    }
    Ok(serial + 1)
}

/// A backend's answer to an offered state.
#[derive(Debug)]
pub enum Offer {
    /// The offered state is the current one: nothing to commit; the serial.
    Unchanged(u64),
    /// Commit this state (its serial already set).
    Commit(State),
}

/// Refuses an adoption (`posture init --migrate-state`) into a state that
/// is not the empty one a backend creates at open: a migration never
/// overwrites. `location` names the destination in the error.
pub fn accept_adopt(current: &State, location: impl FnOnce() -> String) -> Result<()> {
    if current.serial != 0 || !current.instances.is_empty() || !current.outputs.is_empty() {
        return Err(StateError::Conflict {
            location: location(),
            detail: format!(
                "it already holds serial {}: nothing was migrated",
                current.serial
            ),
        });
    }
    Ok(())
}

/// The history a migration hands to [`Backend::adopt`](super::Backend::adopt),
/// split as a backend writes it: the current serial's `state history` line
/// (written with the state, last) and the older serials with their
/// snapshots, oldest first. Serials above `current` are dropped.
pub fn adoption_history(
    history: Vec<(HistoryEntry, State)>,
    current: u64,
) -> (Option<HistoryEntry>, Vec<(HistoryEntry, State)>) {
    let (mut entry, mut older) = (None, Vec::new());
    for (e, snap) in history {
        if e.serial == current {
            entry = Some(e);
        } else if e.serial < current {
            older.push((e, snap));
        }
    }
    (entry, older)
}

/// Decides a `state push` of `pushed` over `current`, with `pending`
/// intents not yet settled. Without `force`: the same lineage, a newer
/// serial (or the same serial and content, which changes nothing), and no
/// pending intent. The serial never goes backwards: a forced push gets the
/// next serial at least, unless the current one cannot grow (only `--force`
/// resets it).
///
/// # Errors
/// [`StateError::LineageMismatch`], [`StateError::SerialConflict`],
/// [`StateError::PendingIntents`], [`StateError::SerialTooLarge`].
pub fn accept_push(current: &State, pushed: State, pending: usize, force: bool) -> Result<Offer> {
    if !force {
        if pushed.lineage != current.lineage {
            return Err(StateError::LineageMismatch {
                current: current.lineage.clone(),
                pushed: pushed.lineage,
            });
        }
        let same = pushed.instances == current.instances && pushed.outputs == current.outputs;
        if pushed.serial == current.serial && same {
            return Ok(Offer::Unchanged(current.serial));
        }
        if pushed.serial <= current.serial {
            return Err(StateError::SerialConflict {
                current: current.serial,
                pushed: pushed.serial,
            });
        }
        if pending > 0 {
            return Err(StateError::PendingIntents { count: pending });
        }
    }
    let serial = match next_serial(current.serial) {
        Ok(next) => pushed.serial.max(next),
        Err(_) if force => pushed.serial,
        Err(e) => return Err(e),
    };
    let mut next = pushed;
    next.serial = serial;
    Ok(Offer::Commit(next))
}

/// Decides a `rewrite` of `current` into `offered` (a copy of it, edited),
/// with `pending` intents not yet settled: the same lineage and serial (no
/// run committed in between), no pending intent; an unchanged state
/// commits nothing.
///
/// # Errors
/// [`StateError::LineageMismatch`], [`StateError::SerialConflict`],
/// [`StateError::PendingIntents`], [`StateError::SerialTooLarge`].
pub fn accept_rewrite(current: &State, offered: &State, pending: usize) -> Result<Offer> {
    if offered.lineage != current.lineage {
        return Err(StateError::LineageMismatch {
            current: current.lineage.clone(),
            pushed: offered.lineage.clone(),
        });
    }
    if offered.serial != current.serial {
        return Err(StateError::SerialConflict {
            current: current.serial,
            pushed: offered.serial,
        });
    }
    if pending > 0 {
        return Err(StateError::PendingIntents { count: pending });
    }
    if offered.instances == current.instances && offered.outputs == current.outputs {
        return Ok(Offer::Unchanged(current.serial));
    }
    let mut next = offered.clone();
    next.serial = next_serial(current.serial)?;
    Ok(Offer::Commit(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::OutputValue;

    fn at(serial: u64) -> State {
        let mut s = State::new();
        s.lineage = "L".into();
        s.serial = serial;
        s
    }

    fn changed(mut s: State) -> State {
        s.outputs.insert(
            "o".into(),
            OutputValue {
                value: serde_json::json!(1),
                sensitive: false,
                type_name: "number".into(),
            },
        );
        s
    }

    fn committed(o: Result<Offer>) -> u64 {
        match o {
            Ok(Offer::Commit(s)) => s.serial,
            other => panic!("expected a commit, got {other:?}"),
        }
    }

    #[test]
    fn a_push_needs_the_lineage_a_newer_serial_and_no_pending_intent() {
        let current = at(5);
        let mut other = changed(at(9));
        other.lineage = "M".into();
        assert!(matches!(
            accept_push(&current, other, 0, false),
            Err(StateError::LineageMismatch { .. })
        ));
        assert!(matches!(
            accept_push(&current, changed(at(5)), 0, false),
            Err(StateError::SerialConflict { .. })
        ));
        assert!(matches!(
            accept_push(&current, changed(at(9)), 2, false),
            Err(StateError::PendingIntents { count: 2 })
        ));
        assert!(matches!(
            accept_push(&current, at(5), 0, false),
            Ok(Offer::Unchanged(5))
        ));
        assert_eq!(
            committed(accept_push(&current, changed(at(9)), 0, false)),
            9
        );
    }

    #[test]
    fn a_forced_push_never_moves_the_serial_backwards() {
        let current = at(5);
        assert_eq!(committed(accept_push(&current, changed(at(2)), 3, true)), 6);
        // Only --force resets a serial that cannot grow.
        let stuck = at(MAX_SERIAL);
        assert_eq!(committed(accept_push(&stuck, changed(at(1)), 0, true)), 1);
        assert!(matches!(
            accept_push(&stuck, changed(at(MAX_SERIAL)), 0, false),
            Err(StateError::SerialConflict { .. })
        ));
    }

    #[test]
    fn a_rewrite_is_refused_after_a_commit_in_between_and_commits_only_a_change() {
        let current = at(5);
        assert!(matches!(
            accept_rewrite(&current, &changed(at(4)), 0),
            Err(StateError::SerialConflict { .. })
        ));
        assert!(matches!(
            accept_rewrite(&current, &changed(at(5)), 1),
            Err(StateError::PendingIntents { count: 1 })
        ));
        assert!(matches!(
            accept_rewrite(&current, &at(5), 0),
            Ok(Offer::Unchanged(5))
        ));
        assert_eq!(committed(accept_rewrite(&current, &changed(at(5)), 0)), 6);
    }
}

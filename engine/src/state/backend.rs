//! The [`Backend`] trait: where state lives, behind which local and future
//! remote stores (Kubernetes Secret + Lease, S3...) look the same to the engine.

use std::collections::BTreeMap;

use super::error::Result;
use super::error::StateError;
use super::lock::LockInfo;
use super::model::{HistoryEntry, Intent, IntentId, NewIntent, Outcome, OutputValue, State};
use super::partition::PartitionKey;

/// How far [`Backend::adopt_observed`] is in a migration's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdoptStep {
    /// `done` of the `of` older serials are written to the destination;
    /// the state there still reads as empty.
    History {
        /// Serials written so far.
        done: usize,
        /// Older serials to write.
        of: usize,
    },
    /// Every older serial is written; the current state is next.
    Current,
}

/// A state store opened under its lock by one run.
///
/// A value of this trait *is* a held lock: it is obtained by taking the lock
/// (e.g. [`LocalBackend::open`](super::LocalBackend::open)) and
/// [`close`](Backend::close) (or drop) releases it. Every write fails with
/// [`StateError::LockLost`](super::StateError::LockLost) once the lock was
/// force-unlocked or taken over.
///
/// # The working state and commits
///
/// Records change one operation at a time ([`Backend::complete_intent`]);
/// that *working state* is what [`Backend::load`] and [`Backend::pull`]
/// return. [`Backend::commit`] freezes it as a snapshot with serial + 1 (at
/// the end of a run, and periodically during long ones). Every committed
/// serial's snapshot is kept.
///
/// # Durability protocol (what makes kill -9 safe)
///
/// 1. Before starting an operation on an object, the engine calls
///    [`Backend::record_intent`]; it returns once the intent is durable.
/// 2. As soon as the provider answers, it calls [`Backend::complete_intent`],
///    which updates the record and drops the intent in one atomic, durable step.
/// 3. At the start of a run, [`Backend::pending_intents`] lists operations a
///    dead run left unfinished. For each, the engine asks the provider to read
///    the real object (found by address, prior record and planned values),
///    and completes the intent with what exists: [`Outcome::Upsert`] adopts an
///    object that was created, [`Outcome::Remove`] forgets one that is gone.
///    Only then does it plan, so nothing is orphaned or created twice.
///
/// Methods are synchronous and may block on a disk flush: call them from
/// `tokio::task::spawn_blocking` inside async code. Implementations are
/// `Send + Sync` so apply tasks can share one: keep it as
/// `Arc<Box<dyn Backend>>` and, at the end, `Arc::into_inner` gives the box
/// back to [`close`](Backend::close). Dropping it instead releases everything
/// too, without reporting errors.
pub trait Backend: Send + Sync {
    /// The lock this run holds.
    fn lock_info(&self) -> &LockInfo;

    /// The working state: every record and output, with the last committed serial.
    ///
    /// # Errors
    /// Corrupt data, or a storage failure.
    fn load(&self) -> Result<State>;

    /// Durably records that an operation is about to start; returns its id.
    ///
    /// # Errors
    /// Lock lost, or a storage failure (then the operation must not start).
    fn record_intent(&self, intent: NewIntent) -> Result<IntentId>;

    /// Durably applies an operation's result and forgets its intent, atomically.
    ///
    /// # Errors
    /// Lock lost, unknown intent, record address differing from the
    /// intent's, or a storage failure (then the intent stays pending).
    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()>;

    /// Records several intents, all durable when it returns (one flush for
    /// the batch where the store allows it).
    ///
    /// # Errors
    /// As [`Backend::record_intent`]; then no operation may start.
    fn record_intents(&self, intents: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        intents.into_iter().map(|i| self.record_intent(i)).collect()
    }

    /// Completes several intents, all durable when it returns.
    ///
    /// # Errors
    /// As [`Backend::complete_intent`]; intents not completed stay pending.
    fn complete_intents(&self, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        for (id, outcome) in done {
            self.complete_intent(&id, outcome)?;
        }
        Ok(())
    }

    /// Intents recorded and never completed, oldest first.
    ///
    /// # Errors
    /// Corrupt data, or a storage failure.
    fn pending_intents(&self) -> Result<Vec<Intent>>;

    /// Commits the working state as a new snapshot with serial + 1 and
    /// returns that serial. `outputs`, when given, replace the stored
    /// outputs first. `summary` is shown by `state history`. When no record
    /// and no output changed since the last commit, nothing is written and
    /// the current serial is returned (a serial marks a change).
    ///
    /// # Errors
    /// Lock lost, or a storage failure (then nothing was committed).
    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64>;

    /// Every committed serial, oldest first.
    ///
    /// # Errors
    /// Corrupt data, or a storage failure.
    fn history(&self) -> Result<Vec<HistoryEntry>>;

    /// The state as committed at `serial`.
    ///
    /// # Errors
    /// [`StateError::NoSnapshot`](super::StateError::NoSnapshot), corrupt data, storage failure.
    fn snapshot(&self, serial: u64) -> Result<State>;

    /// The working state as versioned JSON (`posture state pull`). Like the
    /// state itself it contains sensitive values in clear: write it where the
    /// user asked, never to a log.
    ///
    /// # Errors
    /// As [`Backend::load`].
    fn pull(&self) -> Result<String>;

    /// Replaces the state with a JSON state (`posture state push`) and
    /// commits it; returns the new serial. Without `force` the push is
    /// refused when the lineage differs, when the pushed serial is lower than
    /// the current one (or equal with different content), or when intents
    /// are pending. Pushing the current state again is a no-op.
    ///
    /// # Errors
    /// Decoding errors, the refusals above, lock lost, storage failure.
    fn push(&self, json: &str, force: bool) -> Result<u64>;

    /// Fills this backend's empty state with another backend's (`posture
    /// init --migrate-state`): `history` holds each of its serials with the
    /// snapshot, oldest first, and `current` is its current state; returns
    /// the serial committed. [`Backend::adopt_observed`] without an observer.
    ///
    /// # Errors
    /// A state that is not empty, lock lost, storage failure.
    fn adopt(&self, history: Vec<(HistoryEntry, State)>, current: &State) -> Result<u64> {
        self.adopt_observed(history, current, &|_| {})
    }

    /// [`Backend::adopt`], telling `observe` each step of the copy once it
    /// is written, so that a test hook can stop a migration there. A backend
    /// that keeps a snapshot per serial copies the history too; the default
    /// pushes `current` alone, forced, as the empty state was created with
    /// another lineage, and reports only [`AdoptStep::Current`], before
    /// that one write.
    ///
    /// # Errors
    /// As [`Backend::adopt`].
    fn adopt_observed(
        &self,
        history: Vec<(HistoryEntry, State)>,
        current: &State,
        observe: &dyn Fn(AdoptStep),
    ) -> Result<u64> {
        let _ = history;
        observe(AdoptStep::Current);
        self.push(&super::encoding::encode(current), true)
    }

    /// Whether [`Backend::adopt`] copies the history, so that a migration
    /// reads the old backend's snapshots only for a backend that keeps them.
    fn adopts_history(&self) -> bool {
        false
    }

    /// Replaces every record and output with `state`'s in one atomic commit
    /// (serial + 1) recorded in history with `summary`: the edits of `state
    /// rm`, `state mv` and `import`, made on a [`Backend::load`] of this run.
    /// Refused when `state` has another lineage or serial than the current
    /// state (it was not loaded from it) or when intents are pending. An
    /// unchanged state commits nothing and returns the current serial.
    ///
    /// The default goes through [`Backend::push`] (its history summary is
    /// then `state push`); backends override it to keep `summary`.
    ///
    /// # Errors
    /// The refusals above, lock lost, storage failure.
    fn rewrite(&self, state: &State, summary: &str) -> Result<u64> {
        let _ = summary;
        let current = self.load()?;
        if state.serial != current.serial {
            return Err(StateError::SerialConflict {
                current: current.serial,
                pushed: state.serial,
            });
        }
        if state.instances == current.instances && state.outputs == current.outputs {
            return Ok(current.serial);
        }
        let mut next = state.clone();
        next.serial = current.serial.saturating_add(1);
        self.push(&super::encode(&next), false)
    }

    /// Flushes and releases the lock. Dropping the backend does the same,
    /// ignoring errors.
    ///
    /// # Errors
    /// A storage or I/O failure while flushing or removing the lock.
    fn close(self: Box<Self>) -> Result<()>;
}

/// Where a state lives, before its lock is taken: what the CLI resolves from
/// configuration (`.posture/` by default), so commands like `state list`,
/// `force-unlock` and `apply` work the same on every backend.
pub trait StateLocation: Send + Sync {
    /// A description for messages, e.g. `local state in .posture`.
    fn describe(&self) -> String;

    /// Takes the lock (waiting as `options` says) and opens the state.
    ///
    /// # Errors
    /// [`StateError::Locked`](super::StateError::Locked) naming the holder;
    /// corrupt, future-format or unreachable state.
    fn open(&self, options: &super::LockOptions) -> Result<Box<dyn Backend>>;

    /// Who holds the lock now, without taking it.
    ///
    /// # Errors
    /// An unreadable lock record, or an unreachable store.
    fn lock_holder(&self) -> Result<Option<LockInfo>>;

    /// Every lock held now: [`StateLocation::lock_holder`]'s, or for a
    /// partitioned state each locked partition's, in key order.
    ///
    /// # Errors
    /// As [`StateLocation::lock_holder`].
    fn lock_holders(&self) -> Result<Vec<LockInfo>> {
        Ok(self.lock_holder()?.into_iter().collect())
    }

    /// Removes the lock if its id is `lock_id` (the CLI confirms first
    /// unless `--force`), returning who held it, or `None` for a damaged
    /// lock record (named by the `unlock_id` of its error).
    ///
    /// # Errors
    /// Not locked, another id, or an unreachable store.
    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>>;

    /// The location of partition `key` of a partitioned state kept in this
    /// store (docs/backends.md): an independent state with its own lock,
    /// serial, history and intents. The default: a store that keeps one
    /// state only.
    ///
    /// # Errors
    /// [`StateError::Partitioning`] where partitions are not kept.
    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>> {
        Err(StateError::Partitioning {
            location: self.describe(),
            detail: format!("this backend keeps no state partitions (asked for {key})"),
        })
    }

    /// The partitions that exist in this store, sorted (none for a store
    /// that keeps one state).
    ///
    /// # Errors
    /// An unreachable store.
    fn partitions(&self) -> Result<Vec<PartitionKey>> {
        Ok(Vec::new())
    }
}

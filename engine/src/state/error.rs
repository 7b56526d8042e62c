//! Errors of the state module. Each says what happened and what to do next;
//! none carries attribute or output values (they may be secrets).

use std::path::PathBuf;

use super::lock::LockInfo;

/// Everything that can go wrong reading, writing or locking state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file or directory could not be read or written.
    #[error(
        "cannot access {path}: {source}; check that it exists and that you may read and write it"
    )]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The state (JSON file or database) cannot be decoded. Nothing was overwritten.
    #[error(
        "state {what} is corrupt or truncated ({detail}); posture left it untouched: \
         restore it from a backup or a `posture state pull` copy, then retry"
    )]
    Corrupt {
        /// Which state: a path or a description.
        what: String,
        /// Where and how decoding failed (never a value from the state).
        detail: String,
    },
    /// An encrypted state object cannot be opened (wrong key or
    /// passphrase, damaged, bound to another state), or plaintext was found
    /// where encryption is enforced. Nothing was overwritten.
    #[error("{location}: {detail}")]
    Encryption {
        /// The backend and object, e.g. `s3 state at s3://bucket/key`.
        location: String,
        /// What is wrong and what to do (never a key or a value).
        detail: String,
    },
    /// The state was written by a newer posture.
    #[error(
        "state {what} was written by a newer posture (format {found}); upgrade posture \
         (this one reads format {supported} and older)"
    )]
    FutureFormat {
        /// Which state: a path or a description.
        what: String,
        /// The format version found.
        found: u64,
        /// The newest format this posture reads.
        supported: u64,
    },
    /// Another run holds the lock and the caller chose not to wait (or the wait timed out).
    #[error(
        "state is locked by {} (operation: {}, since {}, lock ID {}); wait for that run to \
         finish, raise the lock timeout, or, if it died, run `posture force-unlock {}`",
        holder.who, holder.operation, holder.created, holder.id, holder.id
    )]
    Locked {
        /// Who holds it.
        holder: Box<LockInfo>,
    },
    /// The lock file exists but is not a lock posture wrote (garbage,
    /// truncated, not UTF-8). Whoever wrote it cannot be known.
    #[error(
        "lock file {path} is damaged ({detail}), so posture cannot tell who holds the lock; \
         if no posture run is active on this state, remove it with \
         `posture force-unlock {unlock_id}`"
    )]
    LockFileCorrupt {
        /// The lock file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
        /// The id `force-unlock` takes to remove this very file: `damaged-`
        /// and a digest of its bytes, so a lock rewritten since is kept.
        unlock_id: String,
    },
    /// This run's lock was removed (force-unlock) or taken over while it was held.
    #[error(
        "the state lock {lock_id} was removed or taken over while this run held it \
         (force-unlock?); nothing more was written: re-run the command"
    )]
    LockLost {
        /// This run's lock id.
        lock_id: String,
    },
    /// force-unlock with no lock present.
    #[error("state at {path} is not locked; nothing to unlock")]
    NotLocked {
        /// The state directory.
        path: PathBuf,
    },
    /// force-unlock with an id that is not the current lock's.
    #[error(
        "lock ID {given} does not match the current lock {} held by {}; check the ID",
        holder.id, holder.who
    )]
    LockIdMismatch {
        /// The id given.
        given: String,
        /// The current holder.
        holder: Box<LockInfo>,
    },
    /// The database is still opened by another process (a run that is
    /// still alive after a force-unlock?).
    #[error(
        "state database {path} is in use by another process; make sure no other posture \
         run is alive on this state, then retry"
    )]
    DatabaseInUse {
        /// The database directory.
        path: PathBuf,
    },
    /// The database failed while reading or writing.
    #[error("state database {path} failed: {detail}; the last completed operation is kept, retry")]
    Database {
        /// The database directory.
        path: PathBuf,
        /// The database's error.
        detail: String,
    },
    /// complete_intent with an id that is not pending.
    #[error("intent {id} is not pending (already completed?); this is a posture bug")]
    UnknownIntent {
        /// The id given.
        id: String,
    },
    /// complete_intent with a record whose address differs from the intent's.
    #[error("intent {id} is for {expected} but the record is for {found}; this is a posture bug")]
    AddressMismatch {
        /// The intent.
        id: String,
        /// The intent's address.
        expected: String,
        /// The record's address.
        found: String,
    },
    /// No snapshot was kept for that serial.
    #[error("no state snapshot with serial {serial}; `posture state history` lists those kept")]
    NoSnapshot {
        /// The serial asked for.
        serial: u64,
    },
    /// push of a state from another lineage.
    #[error(
        "the pushed state has lineage {pushed} but the current state has {current}: it is \
         another state; use --force only if you mean to replace it"
    )]
    LineageMismatch {
        /// The current lineage.
        current: String,
        /// The pushed lineage.
        pushed: String,
    },
    /// push of a state older than the current one, or different at the same serial.
    #[error(
        "the pushed state (serial {pushed}) is older than or conflicts with the current state \
         (serial {current}); pull the current state and reapply your edit, or use --force"
    )]
    SerialConflict {
        /// The current serial.
        current: u64,
        /// The pushed serial.
        pushed: u64,
    },
    /// push of a file that is not a valid posture state.
    #[error(
        "it is not a posture state ({detail}); nothing was changed: push a file written by \
         `posture state pull`"
    )]
    InvalidPush {
        /// Where and how decoding failed (never a value from the file).
        detail: String,
    },
    /// A serial that cannot grow: pushed, or reached by the current state.
    #[error(
        "serial {serial} is too large: posture accepts serials below {max}, so that every \
         later commit can still increase it; {advice}"
    )]
    SerialTooLarge {
        /// The serial found.
        serial: u64,
        /// The largest serial accepted.
        max: u64,
        /// What to do.
        advice: &'static str,
    },
    /// The database holds an older history than a commit recorded outside
    /// it: committed serials were lost (truncated files, an old copy).
    #[error(
        "state {path} holds serial {found} (operation {found_op}) but serial {recorded} \
         (operation {recorded_op}) was committed, as {record} records: the database lost \
         committed history (truncated, or replaced by an older copy). posture left it \
         untouched. Restore the directory from a backup; to continue from the older state \
         on purpose, delete {record} and retry"
    )]
    HistoryLost {
        /// The database directory.
        path: PathBuf,
        /// The serial the database holds.
        found: u64,
        /// The op_seq the database holds.
        found_op: u64,
        /// The serial last committed.
        recorded: u64,
        /// The op_seq last committed.
        recorded_op: u64,
        /// The file that recorded it.
        record: PathBuf,
    },
    /// push while operations are pending reconciliation.
    #[error(
        "{count} operation(s) from an interrupted run are pending; run plan or apply first \
         so posture reconciles them, or use --force"
    )]
    PendingIntents {
        /// How many.
        count: usize,
    },
    /// A remote state store (S3, Kubernetes...) failed or refused a request.
    #[error(
        "state store {location}: {detail}; the last completed step is kept: check the \
         backend settings, the network and your credentials, then retry"
    )]
    Remote {
        /// The store and object, e.g. `s3://bucket/path/state.json`.
        location: String,
        /// What failed, without any state content.
        detail: String,
    },
    /// A conditional write lost: the object changed since this run read it.
    #[error(
        "state {location} was changed by another writer while this run held the lock \
         ({detail}); nothing more was written: re-run the command"
    )]
    Conflict {
        /// The store and object.
        location: String,
        /// What was expected.
        detail: String,
    },
    /// A write to a partition whose lock this run does not hold.
    #[error(
        "{address} is on partition {partition}, whose lock this run does not hold: nothing \
         was written for it; run with `--cluster {partition}` as well, or without --cluster"
    )]
    PartitionNotHeld {
        /// The instance address.
        address: String,
        /// The partition's name (`_global` for resources on no cluster).
        partition: String,
    },
    /// An error of one partition of a partitioned state.
    #[error("partition {partition}: {source}")]
    InPartition {
        /// The partition's name.
        partition: String,
        /// What went wrong there.
        source: Box<StateError>,
    },
    /// A partitioned state asked of a store that keeps one state only, or
    /// an operation a partitioned state does not support.
    #[error("{location}: {detail}")]
    Partitioning {
        /// The state location.
        location: String,
        /// What is not supported and what to do instead.
        detail: String,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// A serde_json error described without echoing any value from the input:
/// messages like `invalid type: string "hunter2", expected u64` quote input.
pub(crate) fn describe_json_error(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    let message = if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let kind = if message.starts_with("invalid type") {
            "invalid type"
        } else {
            "invalid value"
        };
        match message.find(", expected") {
            Some(i) => format!("{kind}{}", &message[i..]),
            None => kind.to_string(),
        }
    } else {
        message.to_string()
    };
    let place = if err.is_eof() {
        "unexpected end of file"
    } else {
        "error"
    };
    format!(
        "{place} at line {} column {}: {message}",
        err.line(),
        err.column()
    )
}

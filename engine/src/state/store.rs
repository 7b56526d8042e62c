//! Opening and checking the sled database of a [`LocalBackend`](super::LocalBackend).
//!
//! Trees: `meta` (format_version, lineage, serial, op_seq as big-endian
//! u64s or text), `instances` (address → record JSON), `outputs` (name →
//! output JSON), `intents` (id → intent JSON, or a group key → the
//! intents of one recorded chunk, see `local/group.rs`), `snapshots` (serial,
//! big-endian → compact state JSON) and `history` (serial → entry JSON).
//!
//! `op_seq` counts write transactions; with the seal (see [`super::seal`])
//! it detects a database that lost committed operations. This module never
//! recreates a database that exists and cannot be read.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::error::{Result, StateError};
use super::model::FORMAT_VERSION;
use super::seal::{
    CommitMark, Rescue, fingerprint, mark_path, read_mark, read_seal, remove_seal, write_seal,
};

/// The open database and its trees.
pub(crate) struct Store {
    pub(crate) path: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
    pub(crate) instances: sled::Tree,
    pub(crate) outputs: sled::Tree,
    pub(crate) intents: sled::Tree,
    pub(crate) snapshots: sled::Tree,
    pub(crate) history: sled::Tree,
    /// The last committed op_seq.
    pub(crate) op_seq: Arc<AtomicU64>,
    /// False once a write or flush failed: then no seal is written on close.
    pub(crate) healthy: Arc<AtomicBool>,
}

/// A rescue copy left next to `db` by an interrupted open, if any.
fn leftover_rescue(db: &Path) -> Option<PathBuf> {
    let parent = db.parent()?;
    let prefix = format!("{}.rescue-", db.file_name()?.to_string_lossy());
    std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
}

/// A storage failure, as an error naming the database.
pub(crate) fn db_err(path: &Path) -> impl Fn(sled::Error) -> StateError + '_ {
    move |e| match e {
        sled::Error::Corruption { .. } => StateError::Corrupt {
            what: path.display().to_string(),
            detail: "the database reports corruption".into(),
        },
        // sled wraps the OS lock failure in its own message.
        sled::Error::Io(io)
            if io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock") =>
        {
            StateError::DatabaseInUse {
                path: path.to_path_buf(),
            }
        }
        other => StateError::Database {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// A failed transaction, as an error naming the database.
pub(crate) fn tx_err(path: &Path, e: TransactionError<StateError>) -> StateError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => db_err(path)(e),
    }
}

/// The result type sled transaction closures return.
pub(crate) type TxResult<T = ()> = std::result::Result<T, ConflictableTransactionError<StateError>>;

impl Store {
    /// Opens the database at `path`, creating it if the directory is empty
    /// or missing. An existing database that fails its checks is restored to
    /// its exact bytes and reported.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        let existed = std::fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if !existed {
            if let Some(rescue) = leftover_rescue(path) {
                return Err(StateError::Corrupt {
                    what: path.display().to_string(),
                    detail: format!(
                        "the database files are missing and a recovery was interrupted; move {} \
                         back to {} and retry",
                        rescue.display(),
                        path.display()
                    ),
                });
            }
            if read_seal(path).is_some() {
                return Err(StateError::Corrupt {
                    what: path.display().to_string(),
                    detail: "the database files are missing but a clean close was recorded: \
                             restore the directory, or delete the seal file to start empty"
                        .into(),
                });
            }
            if let Some(mark) = read_mark(path) {
                return Err(StateError::Corrupt {
                    what: path.display().to_string(),
                    detail: format!(
                        "the database files are missing but serial {} was committed, as {} \
                         records: restore the directory, or delete that file to start empty",
                        mark.serial,
                        mark_path(path).display()
                    ),
                });
            }
            let store = Self::open_unchecked(path)?;
            store.initialise()?;
            return Ok(store);
        }
        let seal = read_seal(path);
        let clean = match &seal {
            Some(s) => fingerprint(path)? == s.files,
            None => false,
        };
        // After a crash or damage, sled's recovery may rewrite the files:
        // keep a copy to put back if the result fails its checks.
        let rescue = if clean {
            None
        } else {
            Some(Rescue::take(path)?)
        };
        let sealed_op_seq = seal.map(|s| s.op_seq).unwrap_or(0);
        let mark = read_mark(path);
        let opened = Self::open_unchecked(path)
            .and_then(|s| s.check(sealed_op_seq, mark.as_ref()).map(|()| s));
        match opened {
            Ok(store) => {
                if let Some(rescue) = rescue {
                    rescue.discard();
                }
                remove_seal(path)?;
                Ok(store)
            }
            // Another process has the files open: they are not ours to touch.
            Err(e @ (StateError::DatabaseInUse { .. } | StateError::Io { .. })) => {
                if let Some(rescue) = rescue {
                    rescue.discard();
                }
                Err(e)
            }
            Err(e) => {
                if let Some(rescue) = rescue {
                    rescue.restore()?;
                }
                Err(e)
            }
        }
    }

    fn open_unchecked(path: &Path) -> Result<Store> {
        let config = sled::Config::new().path(path);
        // sled may panic on some damaged files instead of returning an error.
        let db = match catch_unwind(AssertUnwindSafe(|| config.open())) {
            Ok(result) => result.map_err(db_err(path))?,
            Err(_) => {
                return Err(StateError::Corrupt {
                    what: path.display().to_string(),
                    detail: "the database could not be opened".into(),
                });
            }
        };
        let tree = |name: &str| db.open_tree(name).map_err(db_err(path));
        Ok(Store {
            path: path.to_path_buf(),
            meta: tree("meta")?,
            instances: tree("instances")?,
            outputs: tree("outputs")?,
            intents: tree("intents")?,
            snapshots: tree("snapshots")?,
            history: tree("history")?,
            db,
            op_seq: Arc::new(AtomicU64::new(0)),
            healthy: Arc::new(AtomicBool::new(true)),
        })
    }

    /// Checks an existing database: posture metadata present, a format this
    /// posture reads, and no committed operation lost since the seal.
    fn check(&self, sealed_op_seq: u64, mark: Option<&CommitMark>) -> Result<()> {
        if self
            .meta
            .get("format_version")
            .map_err(db_err(&self.path))?
            .is_none()
        {
            return Err(self.corrupt(
                "the database has no posture metadata (truncated, or not a posture state; if it \
                 holds nothing you need, delete the directory)",
            ));
        }
        let found = self.meta_u64("format_version")?;
        if found > FORMAT_VERSION {
            return Err(StateError::FutureFormat {
                what: self.path.display().to_string(),
                found,
                supported: FORMAT_VERSION,
            });
        }
        let op_seq = self.meta_u64("op_seq")?;
        if op_seq < sealed_op_seq {
            return Err(self.corrupt(&format!(
                "the database lost committed operations: it holds {op_seq} of the \
                 {sealed_op_seq} recorded at the last clean close"
            )));
        }
        if let Some(mark) = mark {
            let serial = self.meta_u64("serial")?;
            if serial < mark.serial || op_seq < mark.op_seq {
                return Err(StateError::HistoryLost {
                    path: self.path.clone(),
                    found: serial,
                    found_op: op_seq,
                    recorded: mark.serial,
                    recorded_op: mark.op_seq,
                    record: mark_path(&self.path),
                });
            }
        }
        self.op_seq.store(op_seq, Ordering::SeqCst);
        Ok(())
    }

    fn initialise(&self) -> Result<()> {
        let lineage = uuid::Uuid::new_v4().to_string();
        self.meta
            .transaction(|meta| {
                meta.insert("lineage", lineage.as_bytes())?;
                meta.insert("serial", &0u64.to_be_bytes())?;
                meta.insert("op_seq", &1u64.to_be_bytes())?;
                // Written last: its presence marks a complete initialisation.
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
                TxResult::Ok(())
            })
            .map_err(|e| tx_err(&self.path, e))?;
        self.op_seq.store(1, Ordering::SeqCst);
        self.flush()
    }

    pub(crate) fn corrupt(&self, detail: &str) -> StateError {
        StateError::Corrupt {
            what: self.path.display().to_string(),
            detail: detail.to_string(),
        }
    }

    /// Makes every write so far durable; a failure disables the seal.
    pub(crate) fn flush(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(|e| {
            self.healthy.store(false, Ordering::SeqCst);
            db_err(&self.path)(e)
        })
    }

    pub(crate) fn meta_u64(&self, key: &str) -> Result<u64> {
        let corrupt = || self.corrupt(&format!("metadata {key} is missing or malformed"));
        let raw = self
            .meta
            .get(key)
            .map_err(db_err(&self.path))?
            .ok_or_else(corrupt)?;
        let bytes: [u8; 8] = raw.as_ref().try_into().map_err(|_| corrupt())?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// The op_seq the next write transaction must store (caller holds the write mutex).
    pub(crate) fn next_op_seq(&self) -> u64 {
        self.op_seq.load(Ordering::SeqCst) + 1
    }

    /// Records that a transaction storing `op_seq` committed.
    pub(crate) fn committed(&self, op_seq: u64) {
        self.op_seq.store(op_seq, Ordering::SeqCst);
    }

    /// The sealer to drop after this store.
    pub(crate) fn sealer(&self) -> Sealer {
        Sealer {
            path: self.path.clone(),
            op_seq: Arc::clone(&self.op_seq),
            healthy: Arc::clone(&self.healthy),
            done: false,
        }
    }
}

/// Writes the seal once the database is closed. Declared after the store in
/// [`LocalBackend`](super::LocalBackend), so it drops after it.
pub(crate) struct Sealer {
    path: PathBuf,
    op_seq: Arc<AtomicU64>,
    healthy: Arc<AtomicBool>,
    done: bool,
}

impl Sealer {
    /// Writes the seal if every write succeeded; the store must be dropped.
    pub(crate) fn seal(&mut self) -> Result<()> {
        if self.done || !self.healthy.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.done = true;
        write_seal(&self.path, self.op_seq.load(Ordering::SeqCst))
    }
}

impl Drop for Sealer {
    fn drop(&mut self) {
        // Without a seal the next open only costs a copy: safe to ignore.
        let _ = self.seal();
    }
}

//! [`LocalBackend`]: state in a sled database under a local directory
//! (default `.posture/` in the working directory).
//!
//! Layout of the directory:
//! - `lock.json`, `lock.guard`: the lock (see [`super::lock`]);
//! - `db/`: the sled database, opened only by the lock holder. Trees:
//!   `meta` (format, lineage, serial), `instances` (address → record JSON),
//!   `outputs` (name → output JSON), `intents` (id → intent JSON),
//!   `snapshots` (serial, big-endian → compact state JSON) and `history`
//!   (serial → entry JSON).
//!
//! Invariants: every write is a single sled transaction followed by a
//! flush; a database that exists but cannot be read is reported, never
//! recreated or overwritten.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, abort};

use super::backend::Backend;
use super::clock::{now_unix_ms, rfc3339};
use super::encoding::{decode, encode, encode_compact};
use super::error::{Result, StateError, describe_json_error};
use super::lock::{HeldLock, LockInfo, LockOptions};
use super::model::{
    FORMAT_VERSION, HistoryEntry, Intent, IntentId, NewIntent, Outcome, OutputValue, State,
};

/// The default state directory, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = ".posture";

/// The open database and its trees. Declared before the lock in
/// [`LocalBackend`] so it is closed before the lock is released.
struct Store {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    instances: sled::Tree,
    outputs: sled::Tree,
    intents: sled::Tree,
    snapshots: sled::Tree,
    history: sled::Tree,
}

/// A local state directory, opened under its lock. See [`Backend`] for the
/// protocol; this type adds opening and the storage details.
pub struct LocalBackend {
    // Field order matters: the database must close before the lock goes.
    store: Store,
    // Serialises compound writes (read, then one transaction) within this process.
    write: Mutex<()>,
    lock: HeldLock,
}

/// A storage failure, as an error naming the database.
fn db_err(path: &Path) -> impl Fn(sled::Error) -> StateError + '_ {
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

fn tx_err(path: &Path, e: TransactionError<StateError>) -> StateError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => db_err(path)(e),
    }
}

impl LocalBackend {
    /// Takes the lock of the state directory `dir` (created if missing) and
    /// opens its database, creating an empty state with a new lineage if the
    /// directory holds none.
    ///
    /// # Errors
    /// [`StateError::Locked`] naming the holder when the lock is held past
    /// `options.timeout`; [`StateError::Corrupt`] / [`StateError::FutureFormat`]
    /// for an unreadable database (left untouched); I/O errors.
    pub fn open(dir: &Path, options: &LockOptions) -> Result<LocalBackend> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = HeldLock::acquire(dir, options)?;
        let store = Store::open(&dir.join("db"))?;
        Ok(LocalBackend {
            store,
            write: Mutex::new(()),
            lock,
        })
    }

    /// The path of the database directory.
    pub fn database_path(&self) -> &Path {
        &self.store.path
    }

    /// Flushes and releases the lock (same as [`Backend::close`] on a box).
    ///
    /// # Errors
    /// A flush or lock-file failure.
    pub fn close(mut self) -> Result<()> {
        self.store.db.flush().map_err(db_err(&self.store.path))?;
        self.lock.release()
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the mutex leaves no half-written data (writes
        // are transactions), so a poisoned mutex is safe to reuse.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flush(&self) -> Result<()> {
        self.store
            .db
            .flush()
            .map(|_| ())
            .map_err(db_err(&self.store.path))
    }

    fn corrupt(&self, detail: String) -> StateError {
        StateError::Corrupt {
            what: self.store.path.display().to_string(),
            detail,
        }
    }

    fn decode_json<T: DeserializeOwned>(&self, tree: &str, key: &[u8], bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| {
            self.corrupt(format!(
                "entry {} of {tree}: {}",
                String::from_utf8_lossy(key),
                describe_json_error(&e)
            ))
        })
    }

    fn read_tree<T: DeserializeOwned>(
        &self,
        name: &str,
        tree: &sled::Tree,
    ) -> Result<Vec<(String, T)>> {
        let mut out = Vec::with_capacity(tree.len());
        for item in tree.iter() {
            let (k, v) = item.map_err(db_err(&self.store.path))?;
            let key = String::from_utf8(k.to_vec())
                .map_err(|_| self.corrupt(format!("a key of {name} is not UTF-8")))?;
            let value = self.decode_json(name, &k, &v)?;
            out.push((key, value));
        }
        Ok(out)
    }

    fn serial(&self) -> Result<u64> {
        self.store.meta_u64("serial")
    }

    fn lineage(&self) -> Result<String> {
        let raw = self
            .store
            .meta
            .get("lineage")
            .map_err(db_err(&self.store.path))?
            .ok_or_else(|| self.corrupt("no lineage in the database".into()))?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.corrupt("lineage is not UTF-8".into()))
    }

    /// The working state; the caller holds the write mutex.
    fn load_unlocked(&self) -> Result<State> {
        Ok(State {
            format_version: FORMAT_VERSION,
            posture_version: env!("CARGO_PKG_VERSION").to_string(),
            lineage: self.lineage()?,
            serial: self.serial()?,
            instances: self
                .read_tree("instances", &self.store.instances)?
                .into_iter()
                .collect(),
            outputs: self
                .read_tree("outputs", &self.store.outputs)?
                .into_iter()
                .collect(),
        })
    }

    fn history_entry(&self, serial: u64, summary: &str, instances: usize) -> HistoryEntry {
        let info = self.lock.info();
        HistoryEntry {
            serial,
            time: rfc3339(now_unix_ms()),
            summary: summary.to_string(),
            operation: info.operation.clone(),
            who: info.who.clone(),
            instances,
        }
    }

    /// Replaces instances and outputs with `state`'s and commits it as
    /// `serial` with `lineage`, in one transaction.
    fn replace_all(&self, state: &State, serial: u64, summary: &str) -> Result<()> {
        let s = &self.store;
        let old_instances: Vec<sled::IVec> = s
            .instances
            .iter()
            .keys()
            .collect::<sled::Result<_>>()
            .map_err(db_err(&s.path))?;
        let old_outputs: Vec<sled::IVec> = s
            .outputs
            .iter()
            .keys()
            .collect::<sled::Result<_>>()
            .map_err(db_err(&s.path))?;
        let mut committed = state.clone();
        committed.serial = serial;
        committed.format_version = FORMAT_VERSION;
        let snapshot = encode_compact(&committed);
        let entry = to_json(&self.history_entry(serial, summary, committed.instances.len()));
        let records: Vec<(String, Vec<u8>)> = committed
            .instances
            .iter()
            .map(|(k, r)| (k.clone(), to_json(r)))
            .collect();
        let outputs: Vec<(String, Vec<u8>)> = committed
            .outputs
            .iter()
            .map(|(k, o)| (k.clone(), to_json(o)))
            .collect();
        (&s.meta, &s.instances, &s.outputs, &s.snapshots, &s.history)
            .transaction(|(meta, inst, outs, snaps, hist)| {
                for k in &old_instances {
                    inst.remove(k)?;
                }
                for k in &old_outputs {
                    outs.remove(k)?;
                }
                for (k, v) in &records {
                    inst.insert(k.as_bytes(), v.as_slice())?;
                }
                for (k, v) in &outputs {
                    outs.insert(k.as_bytes(), v.as_slice())?;
                }
                meta.insert("lineage", committed.lineage.as_bytes())?;
                meta.insert("serial", &serial.to_be_bytes())?;
                snaps.insert(&serial.to_be_bytes(), snapshot.as_bytes())?;
                hist.insert(&serial.to_be_bytes(), entry.as_slice())?;
                Ok::<(), ConflictableTransactionError<StateError>>(())
            })
            .map_err(|e| tx_err(&s.path, e))?;
        self.flush()
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Model types contain only strings, numbers, maps and JSON values.
    serde_json::to_vec(value).unwrap_or_default()
}

impl Store {
    fn open(path: &Path) -> Result<Store> {
        // A non-empty directory means a state existed: it must read back whole.
        let existed = std::fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
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
        let store = Store {
            path: path.to_path_buf(),
            meta: tree("meta")?,
            instances: tree("instances")?,
            outputs: tree("outputs")?,
            intents: tree("intents")?,
            snapshots: tree("snapshots")?,
            history: tree("history")?,
            db,
        };
        match store.meta.get("format_version").map_err(db_err(path))? {
            Some(_) => {
                let found = store.meta_u64("format_version")?;
                if found > FORMAT_VERSION {
                    return Err(StateError::FutureFormat {
                        what: path.display().to_string(),
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
            }
            None if existed => {
                return Err(StateError::Corrupt {
                    what: path.display().to_string(),
                    detail: "the database has no posture metadata (truncated or not a posture \
                             state; if it holds nothing you need, delete the directory)"
                        .into(),
                });
            }
            None => store.initialise()?,
        }
        Ok(store)
    }

    fn initialise(&self) -> Result<()> {
        let lineage = uuid::Uuid::new_v4().to_string();
        self.meta
            .transaction(|meta| {
                meta.insert("lineage", lineage.as_bytes())?;
                meta.insert("serial", &0u64.to_be_bytes())?;
                // Written last: its presence marks a complete initialisation.
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
                Ok::<(), ConflictableTransactionError<StateError>>(())
            })
            .map_err(|e| tx_err(&self.path, e))?;
        self.db.flush().map(|_| ()).map_err(db_err(&self.path))
    }

    fn meta_u64(&self, key: &str) -> Result<u64> {
        let corrupt = || StateError::Corrupt {
            what: self.path.display().to_string(),
            detail: format!("metadata {key} is missing or malformed"),
        };
        let raw = self
            .meta
            .get(key)
            .map_err(db_err(&self.path))?
            .ok_or_else(corrupt)?;
        let bytes: [u8; 8] = raw.as_ref().try_into().map_err(|_| corrupt())?;
        Ok(u64::from_be_bytes(bytes))
    }
}

impl Backend for LocalBackend {
    fn lock_info(&self) -> &LockInfo {
        self.lock.info()
    }

    fn load(&self) -> Result<State> {
        // Hold the write mutex so records and serial come from one moment.
        let _g = self.guard();
        self.load_unlocked()
    }

    fn record_intent(&self, intent: NewIntent) -> Result<IntentId> {
        self.lock.check()?;
        let id = IntentId(uuid::Uuid::new_v4().to_string());
        let record = Intent {
            id: id.clone(),
            address: intent.address,
            action: intent.action,
            planned: intent.planned,
            recorded_at: rfc3339(now_unix_ms()),
            lock_id: self.lock.info().id.clone(),
        };
        {
            let _g = self.guard();
            self.store
                .intents
                .insert(id.0.as_bytes(), to_json(&record))
                .map_err(db_err(&self.store.path))?;
        }
        self.flush()?;
        Ok(id)
    }

    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.lock.check()?;
        let s = &self.store;
        let record = match &outcome {
            Outcome::Upsert(r) => Some((r.address.clone(), to_json(r))),
            _ => None,
        };
        {
            let _g = self.guard();
            (&s.intents, &s.instances)
                .transaction(|(intents, instances)| {
                    let Some(raw) = intents.remove(id.0.as_bytes())? else {
                        return abort(StateError::UnknownIntent { id: id.0.clone() });
                    };
                    let intent: Intent = match serde_json::from_slice(&raw) {
                        Ok(i) => i,
                        Err(e) => {
                            return abort(
                                self.corrupt(format!("intent {id}: {}", describe_json_error(&e))),
                            );
                        }
                    };
                    match (&outcome, &record) {
                        (Outcome::Upsert(_), Some((address, json))) => {
                            if *address != intent.address {
                                return abort(StateError::AddressMismatch {
                                    id: id.0.clone(),
                                    expected: intent.address,
                                    found: address.clone(),
                                });
                            }
                            instances.insert(address.as_bytes(), json.as_slice())?;
                        }
                        (Outcome::Remove, _) => {
                            instances.remove(intent.address.as_bytes())?;
                        }
                        _ => {}
                    }
                    Ok(())
                })
                .map_err(|e| tx_err(&s.path, e))?;
        }
        self.flush()
    }

    fn pending_intents(&self) -> Result<Vec<Intent>> {
        let mut intents: Vec<Intent> = self
            .read_tree("intents", &self.store.intents)?
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        intents.sort_by(|a: &Intent, b: &Intent| {
            a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id))
        });
        Ok(intents)
    }

    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64> {
        self.lock.check()?;
        let _g = self.guard();
        let mut state = self.load_unlocked()?;
        if let Some(outputs) = outputs {
            state.outputs = outputs;
        }
        let serial = self.serial()? + 1;
        self.replace_all(&state, serial, summary)?;
        Ok(serial)
    }

    fn history(&self) -> Result<Vec<HistoryEntry>> {
        Ok(self
            .read_tree::<HistoryEntry>("history", &self.store.history)?
            .into_iter()
            .map(|(_, h)| h)
            .collect())
    }

    fn snapshot(&self, serial: u64) -> Result<State> {
        let raw = self
            .store
            .snapshots
            .get(serial.to_be_bytes())
            .map_err(db_err(&self.store.path))?
            .ok_or(StateError::NoSnapshot { serial })?;
        let text = std::str::from_utf8(&raw)
            .map_err(|_| self.corrupt(format!("snapshot {serial} is not UTF-8")))?;
        decode(
            text,
            &format!("snapshot {serial} in {}", self.store.path.display()),
        )
    }

    fn pull(&self) -> Result<String> {
        self.load().map(|s| encode(&s))
    }

    fn push(&self, json: &str, force: bool) -> Result<u64> {
        self.lock.check()?;
        let pushed = decode(json, "the pushed state")?;
        let _g = self.guard();
        let current = self.load_unlocked()?;
        if !force {
            if pushed.lineage != current.lineage {
                return Err(StateError::LineageMismatch {
                    current: current.lineage,
                    pushed: pushed.lineage,
                });
            }
            let same = pushed.instances == current.instances && pushed.outputs == current.outputs;
            if pushed.serial == current.serial && same {
                return Ok(current.serial);
            }
            if pushed.serial <= current.serial {
                return Err(StateError::SerialConflict {
                    current: current.serial,
                    pushed: pushed.serial,
                });
            }
            let pending = self.store.intents.len();
            if pending > 0 {
                return Err(StateError::PendingIntents { count: pending });
            }
        }
        let serial = pushed.serial.max(current.serial + 1);
        self.replace_all(&pushed, serial, "state push")?;
        Ok(serial)
    }

    fn close(self: Box<Self>) -> Result<()> {
        LocalBackend::close(*self)
    }
}

//! [`LocalBackend`]: state in a sled database under a local directory
//! (default `.posture/` in the working directory).
//!
//! Layout of the directory:
//! - `lock.json`, `lock.guard`: the lock (see [`super::lock`]);
//! - `db/`: the sled database, opened only by the lock holder (see [`super::store`]);
//! - `db.seal.json`: written at each clean close (see [`super::seal`]).
//!
//! Invariants: every write is one sled transaction, then a flush, before the
//! call returns; a database that exists but cannot be read is reported,
//! never recreated or overwritten.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;

use super::backend::{AdoptStep, Backend};
use super::clock::{now_unix_ms, rfc3339};
use super::encoding::{decode, encode, encode_compact};
use super::error::{Result, StateError};
use super::json;
use super::lock::{HeldLock, LockInfo, LockOptions};
use super::model::{
    FORMAT_VERSION, HistoryEntry, InstanceRecord, Intent, IntentId, NewIntent, Outcome,
    OutputValue, State,
};
use super::offer::{Offer, accept_push, accept_rewrite, decode_push, next_serial};
use super::seal::{CommitMark, write_mark};
use super::store::{Sealer, Store, TxResult, db_err, tx_err};

mod group;
mod intents;
mod location;
mod sealing;

pub use location::LocalLocation;
pub use sealing::SealedLocalLocation;

/// The default state directory, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = ".posture";

/// A local state directory, opened under its lock. See [`Backend`] for the
/// protocol; this type adds opening and the storage details.
pub struct LocalBackend {
    // Field order is drop order: database closed, then sealed, then unlocked.
    store: Store,
    sealer: Sealer,
    // Serialises writes (and reads that must see one moment) in this process.
    write: Mutex<()>,
    lock: HeldLock,
    // The stale lock this run took over, named in its first commit's line.
    took_over: Mutex<Option<LockInfo>>,
    /// Encrypts every stored value when set (`sealing.rs`).
    cipher: Option<super::cipher::SharedCipher>,
}

impl LocalBackend {
    /// Commits what [`accept_push`] or [`accept_rewrite`] decided.
    fn commit_offer(&self, offer: Offer, summary: &str) -> Result<u64> {
        let mut committed = match offer {
            Offer::Unchanged(serial) => return Ok(serial),
            Offer::Commit(state) => state,
        };
        committed.format_version = FORMAT_VERSION;
        self.write_commit(CommitWrite {
            lineage: &committed.lineage,
            serial: committed.serial,
            summary,
            snapshot: encode_compact(&committed).into_bytes(),
            instance_count: committed.instances.len(),
            outputs: &committed.outputs,
            instances: Some(&committed.instances),
            entry: None,
            older: &[],
        })?;
        Ok(committed.serial)
    }

    /// Takes the lock of the state directory `dir` (created if missing) and
    /// opens its database, creating an empty state with a new lineage if the
    /// directory holds none.
    ///
    /// # Errors
    /// [`StateError::Locked`] naming the holder when the lock is held past
    /// `options.timeout`; [`StateError::Corrupt`] / [`StateError::FutureFormat`]
    /// for an unreadable database (left byte-for-byte untouched);
    /// [`StateError::DatabaseInUse`]; I/O errors.
    pub fn open(dir: &Path, options: &LockOptions) -> Result<LocalBackend> {
        std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut lock = HeldLock::acquire(dir, options)?;
        let store = match Store::open(&dir.join("db")) {
            Ok(store) => store,
            // The lock looked stale but its holder still has the database
            // open: it is alive, so it keeps its lock.
            Err(e @ StateError::DatabaseInUse { .. }) => {
                let _ = lock.give_back();
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let took_over = Mutex::new(lock.replaced().cloned());
        Ok(LocalBackend {
            sealer: store.sealer(),
            store,
            write: Mutex::new(()),
            lock,
            took_over,
            cipher: None,
        })
    }

    /// The path of the database directory.
    pub fn database_path(&self) -> &Path {
        &self.store.path
    }

    /// Flushes, closes the database, seals it and releases the lock (same as
    /// [`Backend::close`] on a box).
    ///
    /// # Errors
    /// A flush, seal or lock-file failure (the lock is released anyway).
    pub fn close(self) -> Result<()> {
        let LocalBackend {
            store,
            mut sealer,
            write: _,
            mut lock,
            took_over: _,
            cipher: _,
        } = self;
        let flushed = store.flush();
        drop(store);
        let sealed = flushed.and_then(|()| sealer.seal());
        let released = lock.release();
        sealed.and(released)
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the mutex leaves no half-written data (writes
        // are transactions), so a poisoned mutex is safe to reuse.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn decode_json<T: DeserializeOwned>(&self, tree: &str, key: &[u8], bytes: &[u8]) -> Result<T> {
        json::from_slice(bytes).map_err(|e| {
            self.store.corrupt(&format!(
                "entry {} of {tree}: {e}",
                String::from_utf8_lossy(key)
            ))
        })
    }

    fn read_tree<T: DeserializeOwned>(
        &self,
        name: &str,
        tree: &sled::Tree,
    ) -> Result<Vec<(String, T)>> {
        let mut out = Vec::with_capacity(tree.len());
        let lineage = match self.cipher {
            Some(_) => self.lineage()?,
            None => String::new(),
        };
        for item in tree.iter() {
            let (k, v) = item.map_err(db_err(&self.store.path))?;
            let key = String::from_utf8(k.to_vec())
                .map_err(|_| self.store.corrupt(&format!("a key of {name} is not UTF-8")))?;
            let v = self.open_value(&lineage, &format!("{name}/{key}"), None, &v)?;
            let value = self.decode_json(name, &k, &v)?;
            out.push((key, value));
        }
        Ok(out)
    }

    fn lineage(&self) -> Result<String> {
        let raw = self
            .store
            .meta
            .get("lineage")
            .map_err(db_err(&self.store.path))?
            .ok_or_else(|| self.store.corrupt("no lineage in the database"))?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.store.corrupt("lineage is not UTF-8"))
    }

    /// The working state; the caller holds the write mutex.
    fn load_unlocked(&self) -> Result<State> {
        Ok(State {
            format_version: FORMAT_VERSION,
            posture_version: env!("CARGO_PKG_VERSION").to_string(),
            lineage: self.lineage()?,
            serial: self.store.meta_u64("serial")?,
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
        let took_over = self
            .took_over
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let summary = match took_over {
            Some(prev) => format!(
                "{summary} (lock taken over from {} once its holder was gone: {} since {}, \
                 lock ID {})",
                prev.who, prev.operation, prev.created, prev.id
            ),
            None => summary.to_string(),
        };
        HistoryEntry {
            serial,
            time: rfc3339(now_unix_ms()),
            summary,
            operation: info.operation.clone(),
            who: info.who.clone(),
            instances,
        }
    }

    /// The compact JSON of the working state at `serial` with `outputs`,
    /// assembled from the stored record bytes (each already the record's
    /// JSON) instead of decoding and re-encoding 10,000 records. Returns the
    /// text and the instance count; the caller holds the write mutex.
    fn raw_snapshot(
        &self,
        lineage: &str,
        serial: u64,
        outputs: &BTreeMap<String, OutputValue>,
    ) -> Result<(Vec<u8>, usize)> {
        let s = &self.store;
        let mut out = Vec::with_capacity(s.instances.len() * 512 + 256);
        // Same fields, same order as `State`, so `decode` reads it back.
        out.extend_from_slice(b"{\"format_version\":");
        out.extend_from_slice(FORMAT_VERSION.to_string().as_bytes());
        out.extend_from_slice(b",\"posture_version\":");
        out.extend_from_slice(&to_json(&env!("CARGO_PKG_VERSION")));
        out.extend_from_slice(b",\"lineage\":");
        out.extend_from_slice(&to_json(&lineage));
        out.extend_from_slice(b",\"serial\":");
        out.extend_from_slice(serial.to_string().as_bytes());
        out.extend_from_slice(b",\"instances\":{");
        let mut count = 0;
        for item in s.instances.iter() {
            let (k, v) = item.map_err(db_err(&s.path))?;
            let key = std::str::from_utf8(&k)
                .map_err(|_| s.corrupt("a key of instances is not UTF-8"))?;
            if count > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&to_json(&key));
            out.push(b':');
            let v = self.open_value(lineage, &format!("instances/{key}"), None, &v)?;
            out.extend_from_slice(&v);
            count += 1;
        }
        out.extend_from_slice(b"},\"outputs\":");
        out.extend_from_slice(&to_json(outputs));
        out.push(b'}');
        Ok((out, count))
    }

    /// Writes a commit in one transaction: snapshot, history, meta and
    /// outputs, and the instance records when `write.instances` is given (a
    /// push; a commit's records already are the working state). The caller
    /// holds the write mutex.
    fn write_commit(&self, write: CommitWrite<'_>) -> Result<()> {
        let s = &self.store;
        let keys = |tree: &sled::Tree| -> Result<Vec<sled::IVec>> {
            tree.iter()
                .keys()
                .collect::<sled::Result<_>>()
                .map_err(db_err(&s.path))
        };
        let old_instances = match write.instances {
            Some(_) => keys(&s.instances)?,
            None => Vec::new(),
        };
        let old_outputs = keys(&s.outputs)?;
        let serial = write.serial;
        let lineage = write.lineage;
        let entry = match write.entry {
            Some(e) => to_json(e),
            None => to_json(&self.history_entry(serial, write.summary, write.instance_count)),
        };
        let entry = self.seal_value(lineage, &format!("history/{serial}"), serial, entry)?;
        let snapshot = self.seal_value(
            lineage,
            &format!("snapshots/{serial}"),
            serial,
            write.snapshot,
        )?;
        let mut records: Vec<(&String, Vec<u8>)> = Vec::new();
        for (k, r) in write.instances.into_iter().flatten() {
            records.push((
                k,
                self.seal_value(lineage, &format!("instances/{k}"), 0, to_json(r))?,
            ));
        }
        let mut outputs: Vec<(&String, Vec<u8>)> = Vec::new();
        for (k, o) in write.outputs {
            outputs.push((
                k,
                self.seal_value(lineage, &format!("outputs/{k}"), 0, to_json(o))?,
            ));
        }
        let mut older = Vec::with_capacity(write.older.len());
        for (o, snap, line) in write.older {
            let snap = self.seal_value(lineage, &format!("snapshots/{o}"), *o, snap.clone())?;
            let line = self.seal_value(lineage, &format!("history/{o}"), *o, line.clone())?;
            older.push((*o, snap, line));
        }
        let op_seq = s.next_op_seq();
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
                meta.insert("lineage", write.lineage.as_bytes())?;
                meta.insert("serial", &serial.to_be_bytes())?;
                meta.insert("op_seq", &op_seq.to_be_bytes())?;
                meta.remove("dirty")?;
                for (older, snap, line) in &older {
                    snaps.insert(&older.to_be_bytes(), snap.as_slice())?;
                    hist.insert(&older.to_be_bytes(), line.as_slice())?;
                }
                snaps.insert(&serial.to_be_bytes(), snapshot.as_slice())?;
                hist.insert(&serial.to_be_bytes(), entry.as_slice())?;
                TxResult::Ok(())
            })
            .map_err(|e| tx_err(&s.path, e))?;
        s.committed(op_seq);
        s.flush()?;
        // Recorded once durable, outside the database: see `seal`.
        write_mark(&s.path, &CommitMark { serial, op_seq })
    }
}

/// What [`LocalBackend::write_commit`] writes.
struct CommitWrite<'a> {
    lineage: &'a str,
    serial: u64,
    summary: &'a str,
    snapshot: Vec<u8>,
    instance_count: usize,
    outputs: &'a BTreeMap<String, OutputValue>,
    instances: Option<&'a BTreeMap<String, InstanceRecord>>,
    /// The history line to keep instead of a new one (a migration).
    entry: Option<&'a HistoryEntry>,
    /// Older serials' snapshots and history lines, written in the same
    /// transaction (a migration's history).
    older: &'a [(u64, Vec<u8>, Vec<u8>)],
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Model types contain only strings, numbers, maps and JSON values.
    serde_json::to_vec(value).unwrap_or_default()
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
        let id = self.insert_intent(intent)?;
        self.store.flush()?;
        Ok(id)
    }

    fn record_intents(&self, intents: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        self.lock.check()?;
        let ids = self.insert_intents(intents)?;
        // One flush makes the whole batch durable before any call starts.
        self.store.flush()?;
        Ok(ids)
    }

    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.lock.check()?;
        self.apply_outcome(id, outcome)?;
        self.store.flush()
    }

    fn complete_intents(&self, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        self.lock.check()?;
        self.apply_outcomes(done)?;
        // Until this flush a crash leaves the intents pending, which the next
        // run settles by reading: never a lost or doubled object.
        self.store.flush()
    }

    fn pending_intents(&self) -> Result<Vec<Intent>> {
        let mut intents = self.read_pending()?;
        intents.sort_by_key(|i: &Intent| i.seq);
        Ok(intents)
    }

    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64> {
        self.lock.check()?;
        let _g = self.guard();
        let s = &self.store;
        let serial = s.meta_u64("serial")?;
        let current: BTreeMap<String, OutputValue> =
            self.read_tree("outputs", &s.outputs)?.into_iter().collect();
        let dirty = s.meta.contains_key("dirty").map_err(db_err(&s.path))?;
        let outputs_changed = outputs.as_ref().is_some_and(|o| *o != current);
        // Like Terraform, a serial marks a change: nothing new, nothing committed.
        if !dirty && !outputs_changed {
            return Ok(serial);
        }
        let outputs = outputs.unwrap_or(current);
        let lineage = self.lineage()?;
        let serial = next_serial(serial)?;
        let (snapshot, instance_count) = self.raw_snapshot(&lineage, serial, &outputs)?;
        self.write_commit(CommitWrite {
            lineage: &lineage,
            serial,
            summary,
            snapshot,
            instance_count,
            outputs: &outputs,
            instances: None,
            entry: None,
            older: &[],
        })?;
        Ok(serial)
    }

    fn history(&self) -> Result<Vec<HistoryEntry>> {
        // Keys are big-endian serials, not text (serial 128 is not UTF-8).
        let mut out = Vec::with_capacity(self.store.history.len());
        let lineage = self.lineage()?;
        for item in self.store.history.iter() {
            let (k, v) = item.map_err(db_err(&self.store.path))?;
            let serial = <[u8; 8]>::try_from(k.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| self.store.corrupt("a key of history is not a serial"))?;
            let v = self.open_value(&lineage, &format!("history/{serial}"), Some(serial), &v)?;
            out.push(self.decode_json("history", serial.to_string().as_bytes(), &v)?);
        }
        Ok(out)
    }

    fn snapshot(&self, serial: u64) -> Result<State> {
        let raw = self
            .store
            .snapshots
            .get(serial.to_be_bytes())
            .map_err(db_err(&self.store.path))?
            .ok_or(StateError::NoSnapshot { serial })?;
        let lineage = self.lineage()?;
        let raw = self.open_value(&lineage, &format!("snapshots/{serial}"), Some(serial), &raw)?;
        let text = std::str::from_utf8(&raw).map_err(|_| {
            self.store
                .corrupt(&format!("snapshot {serial} is not UTF-8"))
        })?;
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
        let pushed = decode_push(json)?;
        let _g = self.guard();
        let current = self.load_unlocked()?;
        let offer = accept_push(&current, pushed, self.pending_count()?, force)?;
        self.commit_offer(offer, "state push")
    }

    /// The whole history and the current state in one transaction: an
    /// interrupted migration leaves this state empty, and a rerun redoes it.
    /// The history and the state in one transaction: nothing to observe
    /// but the start of that one write.
    fn adopt_observed(
        &self,
        history: Vec<(HistoryEntry, State)>,
        current: &State,
        observe: &dyn Fn(AdoptStep),
    ) -> Result<u64> {
        observe(AdoptStep::Current);
        self.lock.check()?;
        let _g = self.guard();
        let here = self.load_unlocked()?;
        if here.serial != 0 || !here.instances.is_empty() || !here.outputs.is_empty() {
            return Err(StateError::Conflict {
                location: self.store.path.display().to_string(),
                detail: format!(
                    "it already holds serial {}: nothing was migrated",
                    here.serial
                ),
            });
        }
        let mut entry = None;
        let mut older = Vec::new();
        for (e, mut snap) in history {
            if e.serial == current.serial {
                entry = Some(e);
            } else if e.serial < current.serial {
                snap.serial = e.serial;
                snap.format_version = FORMAT_VERSION;
                older.push((e.serial, encode_compact(&snap).into_bytes(), to_json(&e)));
            }
        }
        let mut next = current.clone();
        next.format_version = FORMAT_VERSION;
        self.write_commit(CommitWrite {
            lineage: &next.lineage,
            serial: next.serial,
            summary: "state migrated",
            snapshot: encode_compact(&next).into_bytes(),
            instance_count: next.instances.len(),
            outputs: &next.outputs,
            instances: Some(&next.instances),
            entry: entry.as_ref(),
            older: &older,
        })?;
        Ok(next.serial)
    }

    fn adopts_history(&self) -> bool {
        true
    }

    fn rewrite(&self, state: &State, summary: &str) -> Result<u64> {
        self.lock.check()?;
        let _g = self.guard();
        let current = self.load_unlocked()?;
        let offer = accept_rewrite(&current, state, self.pending_count()?)?;
        self.commit_offer(offer, summary)
    }

    fn close(self: Box<Self>) -> Result<()> {
        LocalBackend::close(*self)
    }
}

//! [`S3Backend`]: an opened S3 state under its lock.
//!
//! Objects, for a state key `K`:
//! - `K`: the current committed state (the JSON of `posture state pull`);
//!   every commit replaces it with `If-Match` on the ETag this run read, so
//!   two writers never interleave even if the lock were broken.
//! - `K.history/<serial>.state.json` and `.entry.json`: each committed
//!   serial's snapshot and its `state history` line.
//! - `K.intents/<seq>-<id>.json`: one per intent. Recording writes it;
//!   completing rewrites it with its outcome, in one PUT, which is what
//!   makes "update the record and forget the intent" atomic. The working
//!   state is `K` plus the outcomes of completed intents based on its serial;
//!   a commit folds them in and deletes their objects. One left completed
//!   on an older serial than `K`'s (a crash or a refused commit in between)
//!   is pending again: recovery reads its object back, which is right
//!   whether or not its outcome reached a commit.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use posture_engine::state::{
    AdoptStep, Backend, Binding, FORMAT_VERSION, HistoryEntry, InstanceRecord, Intent, IntentId,
    LockInfo, NewIntent, Offer, Outcome, OutputValue, State, StateError, accept_adopt, accept_push,
    accept_rewrite, adoption_history, decode, encode, encode_compact, next_serial,
};
use serde::{Deserialize, Serialize};

use crate::lock::HeldLock;
use crate::store::{Cond, Put, Store};

type Result<T> = std::result::Result<T, StateError>;

/// An intent's outcome as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    Upsert(Box<InstanceRecord>),
    Remove,
    NoChange,
}

/// The body of an intent object.
#[derive(Serialize, Deserialize)]
struct IntentDoc {
    intent: Intent,
    /// Set once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<Stored>,
    /// The committed serial the outcome applies on top of.
    #[serde(default)]
    base_serial: u64,
    /// Completion order.
    #[serde(default)]
    done_seq: u64,
}

struct Inner {
    committed: State,
    etag: String,
    working: State,
    pending: BTreeMap<IntentId, (String, Intent)>,
    /// Objects of completed intents, deleted after the next commit.
    completed: Vec<String>,
    next_seq: u64,
    /// The expired lock this run took over, named in its first commit.
    took_over: Option<LockInfo>,
}

/// A state in S3, opened under its lock ([`S3Location::open`](crate::S3Location)).
pub struct S3Backend {
    store: Store,
    key: String,
    lock: HeldLock,
    inner: Mutex<Inner>,
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    // Model types hold only strings, numbers and JSON values.
    serde_json::to_vec(v).unwrap_or_default()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn history_key(key: &str, serial: u64, what: &str) -> String {
    format!("{key}.history/{serial:020}.{what}.json")
}

fn apply(state: &mut State, address: &str, outcome: &Stored) {
    match outcome {
        Stored::Upsert(r) => {
            state.instances.insert(address.to_string(), (**r).clone());
        }
        Stored::Remove => {
            state.instances.remove(address);
        }
        Stored::NoChange => {}
    }
}

impl S3Backend {
    /// Reads the current state and the intents, with the lock held.
    pub(crate) fn open(store: Store, key: String, lock: HeldLock) -> Result<S3Backend> {
        let (committed, etag) = match store.get(&key)? {
            Some(o) => {
                let opened = store.open(&key, o.body)?;
                let text =
                    String::from_utf8(opened.plaintext).map_err(|_| StateError::Corrupt {
                        what: store.url(&key),
                        detail: "not UTF-8".into(),
                    })?;
                let state = decode(&text, &store.url(&key))?;
                if let Some(b) = &opened.binding {
                    b.expect(&store.url(&key), &state.lineage, Some(state.serial))?;
                }
                (state, o.etag)
            }
            None => {
                // Created now, so the lineage is fixed before any plan names it.
                let state = State::new();
                let body = store.seal(
                    &key,
                    Binding::new(&key, &state.lineage, state.serial),
                    encode(&state).into_bytes(),
                )?;
                match store.put(&key, body, Cond::Absent)? {
                    Put::Done(etag) => (state, etag),
                    Put::Refused => {
                        return Err(StateError::Conflict {
                            location: store.url(&key),
                            detail: "another writer created the state while this run \
                                     held the lock"
                                .into(),
                        });
                    }
                }
            }
        };
        let mut working = committed.clone();
        let mut pending = BTreeMap::new();
        let mut done = Vec::new();
        let mut next_seq = 0;
        for k in store.list(&format!("{key}.intents/"))? {
            let Some(o) = store.get(&k)? else { continue };
            let opened = store.open(&k, o.body)?;
            if let Some(b) = &opened.binding {
                b.expect(&store.url(&k), &committed.lineage, None)?;
            }
            let doc: IntentDoc =
                serde_json::from_slice(&opened.plaintext).map_err(|e| StateError::Corrupt {
                    what: store.url(&k),
                    detail: e.to_string(),
                })?;
            next_seq = next_seq.max(doc.intent.seq + 1).max(doc.done_seq + 1);
            match doc.outcome {
                None => {
                    pending.insert(doc.intent.id.clone(), (k, doc.intent));
                }
                // Completed on an older serial and not cleaned up: folded
                // into a commit (cleanup failed) or lost with a refused one.
                // Pending again, recovery reads the object back: right either way.
                Some(_) if doc.base_serial < committed.serial => {
                    pending.insert(doc.intent.id.clone(), (k, doc.intent));
                }
                Some(out) => done.push((doc.done_seq, k, doc.intent.address, out)),
            }
        }
        done.sort_by_key(|d| d.0);
        let mut completed = Vec::new();
        for (_, k, address, out) in done {
            apply(&mut working, &address, &out);
            completed.push(k);
        }
        let took_over = lock.body.took_over.clone();
        Ok(S3Backend {
            store,
            key,
            lock,
            inner: Mutex::new(Inner {
                committed,
                etag,
                working,
                pending,
                completed,
                next_seq,
                took_over,
            }),
        })
    }

    fn guard(&self) -> MutexGuard<'_, Inner> {
        // A panic mid-update leaves objects consistent; the memory copy is rebuilt on open.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn history_entry(&self, serial: u64, summary: &str, instances: usize) -> HistoryEntry {
        let info = self.lock.info();
        HistoryEntry {
            serial,
            time: now_rfc3339(),
            summary: summary.to_string(),
            operation: info.operation.clone(),
            who: info.who.clone(),
            instances,
        }
    }

    /// An intent object's body, sealed to this state's lineage and the
    /// serial it applies on.
    fn sealed_intent(&self, g: &Inner, key: &str, doc: &IntentDoc) -> Result<Vec<u8>> {
        let binding = Binding::new(key, &g.committed.lineage, doc.base_serial);
        self.store.seal(key, binding, to_json(doc))
    }

    /// Writes `next` as the new current state (serial already set).
    fn write_commit(&self, g: &mut Inner, mut next: State, summary: &str) -> Result<u64> {
        next.format_version = FORMAT_VERSION;
        let serial = next.serial;
        let summary = match g.took_over.take() {
            Some(prev) => format!(
                "{summary} (lock taken over from {} after it expired: {} since {}, lock ID {})",
                prev.who, prev.operation, prev.created, prev.id
            ),
            None => summary.to_string(),
        };
        let entry = self.history_entry(serial, &summary, next.instances.len());
        self.write_with_entry(g, next, &entry)
    }

    /// Writes `next` as the new current state with `entry` as its history line.
    fn write_with_entry(&self, g: &mut Inner, next: State, entry: &HistoryEntry) -> Result<u64> {
        let serial = next.serial;
        let body = encode_compact(&next).into_bytes();
        let sealed = |key: &str, body: Vec<u8>| {
            self.store
                .seal(key, Binding::new(key, &next.lineage, serial), body)
        };
        // Snapshot and entry first: a commit that then fails leaves objects
        // above the current serial, which history ignores and the next commit overwrites.
        let snap_key = history_key(&self.key, serial, "state");
        self.store
            .put(&snap_key, sealed(&snap_key, body.clone())?, Cond::Any)?;
        let entry_key = history_key(&self.key, serial, "entry");
        self.store
            .put(&entry_key, sealed(&entry_key, to_json(entry))?, Cond::Any)?;
        let current = sealed(&self.key, body)?;
        let etag = match self
            .store
            .put(&self.key, current, Cond::Matches(g.etag.clone()))?
        {
            Put::Done(e) => e,
            Put::Refused => {
                return Err(StateError::Conflict {
                    location: self.store.url(&self.key),
                    detail: format!(
                        "the state is no longer the serial {} this run read",
                        g.committed.serial
                    ),
                });
            }
        };
        g.etag = etag;
        g.committed = next.clone();
        g.working = next;
        for k in std::mem::take(&mut g.completed) {
            // Left behind on failure: the next open makes it pending, to read back.
            let _ = self.store.delete(&k, None);
        }
        Ok(serial)
    }
}

impl Backend for S3Backend {
    fn lock_info(&self) -> &LockInfo {
        self.lock.info()
    }

    fn load(&self) -> Result<State> {
        Ok(self.guard().working.clone())
    }

    fn record_intent(&self, intent: NewIntent) -> Result<IntentId> {
        self.lock.check()?;
        let mut g = self.guard();
        let id = IntentId(uuid::Uuid::new_v4().to_string());
        let seq = g.next_seq;
        g.next_seq += 1;
        let intent = Intent {
            id: id.clone(),
            address: intent.address,
            action: intent.action,
            planned: intent.planned,
            recorded_at: now_rfc3339(),
            seq,
            lock_id: self.lock.info().id.clone(),
        };
        let key = format!("{}.intents/{seq:020}-{}.json", self.key, id.0);
        let doc = IntentDoc {
            intent,
            outcome: None,
            base_serial: g.committed.serial,
            done_seq: 0,
        };
        let body = self.sealed_intent(&g, &key, &doc)?;
        self.store.put(&key, body, Cond::Any)?;
        g.pending.insert(id.clone(), (key, doc.intent));
        Ok(id)
    }

    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.lock.check()?;
        let mut g = self.guard();
        let Some((key, intent)) = g.pending.get(id).cloned() else {
            return Err(StateError::UnknownIntent { id: id.0.clone() });
        };
        let stored = match outcome {
            Outcome::Upsert(r) => {
                if r.address != intent.address {
                    return Err(StateError::AddressMismatch {
                        id: id.0.clone(),
                        expected: intent.address,
                        found: r.address,
                    });
                }
                Stored::Upsert(r)
            }
            Outcome::Remove => Stored::Remove,
            Outcome::NoChange => Stored::NoChange,
        };
        let done_seq = g.next_seq;
        g.next_seq += 1;
        let address = intent.address.clone();
        let doc = IntentDoc {
            intent,
            outcome: Some(stored),
            base_serial: g.committed.serial,
            done_seq,
        };
        let body = self.sealed_intent(&g, &key, &doc)?;
        self.store.put(&key, body, Cond::Any)?;
        if let Some(out) = &doc.outcome {
            apply(&mut g.working, &address, out);
        }
        g.pending.remove(id);
        g.completed.push(key);
        Ok(())
    }

    fn pending_intents(&self) -> Result<Vec<Intent>> {
        let mut v: Vec<Intent> = self.guard().pending.values().map(|p| p.1.clone()).collect();
        v.sort_by_key(|i| i.seq);
        Ok(v)
    }

    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64> {
        self.lock.check()?;
        let mut g = self.guard();
        if let Some(o) = outputs {
            g.working.outputs = o;
        }
        // A serial marks a change: nothing new, nothing committed.
        if g.working.instances == g.committed.instances && g.working.outputs == g.committed.outputs
        {
            return Ok(g.committed.serial);
        }
        let mut next = g.working.clone();
        next.serial = next_serial(g.committed.serial)?;
        self.write_commit(&mut g, next, summary)
    }

    fn history(&self) -> Result<Vec<HistoryEntry>> {
        let current = self.guard().committed.serial;
        let mut out = Vec::new();
        for k in self.store.list(&format!("{}.history/", self.key))? {
            if !k.ends_with(".entry.json") {
                continue;
            }
            let Some(o) = self.store.get(&k)? else {
                continue;
            };
            let opened = self.store.open(&k, o.body)?;
            let e: HistoryEntry =
                serde_json::from_slice(&opened.plaintext).map_err(|e| StateError::Corrupt {
                    what: self.store.url(&k),
                    detail: e.to_string(),
                })?;
            if e.serial <= current {
                out.push(e);
            }
        }
        out.sort_by_key(|e| e.serial);
        Ok(out)
    }

    fn snapshot(&self, serial: u64) -> Result<State> {
        if serial > self.guard().committed.serial {
            return Err(StateError::NoSnapshot { serial });
        }
        let k = history_key(&self.key, serial, "state");
        let o = self
            .store
            .get(&k)?
            .ok_or(StateError::NoSnapshot { serial })?;
        let opened = self.store.open(&k, o.body)?;
        let text = String::from_utf8(opened.plaintext).map_err(|_| StateError::Corrupt {
            what: self.store.url(&k),
            detail: "not UTF-8".into(),
        })?;
        let state = decode(&text, &self.store.url(&k))?;
        if let Some(b) = &opened.binding {
            let lineage = self.guard().committed.lineage.clone();
            b.expect(&self.store.url(&k), &lineage, Some(serial))?;
        }
        Ok(state)
    }

    fn pull(&self) -> Result<String> {
        self.load().map(|s| encode(&s))
    }

    fn push(&self, json: &str, force: bool) -> Result<u64> {
        self.lock.check()?;
        let pushed = posture_engine::state::decode_push(json)?;
        let mut g = self.guard();
        match accept_push(&g.working, pushed, g.pending.len(), force)? {
            Offer::Unchanged(serial) => Ok(serial),
            Offer::Commit(next) => self.write_commit(&mut g, next, "state push"),
        }
    }

    /// Each older serial's snapshot and line first, then the current state:
    /// until that last write the state stays empty (history ignores serials
    /// above the current one), so an interrupted migration is redone whole.
    fn adopt_observed(
        &self,
        history: Vec<(HistoryEntry, State)>,
        current: &State,
        observe: &dyn Fn(AdoptStep),
    ) -> Result<u64> {
        self.lock.check()?;
        let mut g = self.guard();
        accept_adopt(&g.committed, || self.store.url(&self.key))?;
        let (entry, older) = adoption_history(history, current.serial);
        let of = older.len();
        for (done, (e, mut snap)) in older.into_iter().enumerate() {
            snap.serial = e.serial;
            snap.format_version = FORMAT_VERSION;
            let body = encode_compact(&snap).into_bytes();
            for (what, body) in [("state", body), ("entry", to_json(&e))] {
                let key = history_key(&self.key, e.serial, what);
                let binding = Binding::new(&key, &snap.lineage, e.serial);
                let sealed = self.store.seal(&key, binding, body)?;
                self.store.put(&key, sealed, Cond::Any)?;
            }
            observe(AdoptStep::History { done: done + 1, of });
        }
        observe(AdoptStep::Current);
        let mut next = current.clone();
        next.format_version = FORMAT_VERSION;
        let entry = entry.unwrap_or_else(|| {
            self.history_entry(next.serial, "state migrated", next.instances.len())
        });
        self.write_with_entry(&mut g, next, &entry)
    }

    fn adopts_history(&self) -> bool {
        true
    }

    fn rewrite(&self, state: &State, summary: &str) -> Result<u64> {
        self.lock.check()?;
        let mut g = self.guard();
        match accept_rewrite(&g.working, state, g.pending.len())? {
            Offer::Unchanged(serial) => Ok(serial),
            Offer::Commit(next) => self.write_commit(&mut g, next, summary),
        }
    }

    fn close(mut self: Box<Self>) -> Result<()> {
        self.lock.release()
    }
}

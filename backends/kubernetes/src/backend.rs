//! [`K8sBackend`]: an opened Kubernetes state under its lock.
//!
//! Objects in the namespace, for a base name `B`:
//! - `B` (Secret, role `index`): the current generation's pointer and the
//!   `state history` line of its serial. A commit writes a new generation,
//!   then replaces `B` with the resourceVersion this run read: one
//!   compare-and-swap, so two writers never interleave even if the lock
//!   were broken, and readers switch from one whole generation to the next.
//! - `B-s<serial>-<random>-<n>` (Secrets, role `chunk`): a generation,
//!   gzip in chunks of at most 1 MiB ([`crate::generation`]).
//! - `B-h<serial>` (Secret, role `history`): each committed serial's pointer
//!   and history line, so `state history` and snapshots work as on S3.
//! - `B-i-<uuid>` (Secrets, role `intent`): one per intent, rewritten with
//!   its outcome on completion (one PUT: the atomic "update the record and
//!   forget the intent"), deleted after the commit folding it in. The
//!   rules for intents completed on an older serial are the S3 backend's.
//! - `B-lock` (Lease): the lock ([`crate::lock`]).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use posture_engine::state::{
    AdoptStep, Backend, Binding, FORMAT_VERSION, HistoryEntry, InstanceRecord, Intent, IntentId,
    LockInfo, NewIntent, Offer, Outcome, OutputValue, State, StateError, accept_adopt, accept_push,
    accept_rewrite, adoption_history, encode, next_serial,
};
use serde::{Deserialize, Serialize};

use crate::generation::{self, IndexDoc, Pointer};
use crate::lock::HeldLock;
use crate::store::{self, Store, Write};

type Result<T> = std::result::Result<T, StateError>;

const INTENT_KEY: &str = "intent.json";

/// An intent's outcome as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    Upsert(Box<InstanceRecord>),
    Remove,
    NoChange,
}

/// The body of an intent Secret.
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
    /// The index as this run last read or wrote it.
    index: IndexDoc,
    /// The index Secret's resourceVersion: the precondition of the next switch.
    index_version: String,
    working: State,
    pending: BTreeMap<IntentId, (String, Intent)>,
    /// Secrets of completed intents, deleted after the next commit.
    completed: Vec<String>,
    next_seq: u64,
    /// The expired lock this run took over, named in its first commit.
    took_over: Option<LockInfo>,
}

/// A state in a Kubernetes namespace, opened under its lock
/// ([`K8sLocation::open`](crate::K8sLocation)).
pub struct K8sBackend {
    store: Store,
    base: String,
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

impl K8sBackend {
    /// Writes an intent's Secret, sealed and bound to its name, the
    /// lineage and the serial its outcome applies on: recording and
    /// completing an intent are both this one PUT.
    fn put_intent(&self, name: &str, lineage: &str, doc: &IntentDoc) -> Result<()> {
        let body = self.store.seal(
            name,
            Binding::new(name, lineage, doc.base_serial),
            to_json(doc),
        )?;
        let labels = self.store.labels("intent", &[]);
        let s = Store::secret(name, labels, vec![(INTENT_KEY, body)], None);
        self.store.put_secret(s).map(drop)
    }

    /// Reads the current generation and the intents, with the lock held.
    pub(crate) fn open(store: Store, lock: HeldLock) -> Result<K8sBackend> {
        let base = store.settings.base_name();
        let (committed, index, index_version) = match store.get_secret(&base)? {
            Some(s) => {
                let doc = generation::read_doc(&store, &s)?;
                let state = generation::read(&store, &doc.pointer, &base)?;
                let rv = s.metadata.resource_version.clone().unwrap_or_default();
                (state, doc, rv)
            }
            None => {
                // Created now, so the lineage is fixed before any plan names it.
                let state = State::new();
                let pointer = generation::write(&store, &state)?;
                let doc = IndexDoc {
                    entry: entry(&lock, 0, "created", 0),
                    pointer,
                };
                let secret = generation::doc_secret(&store, &base, "index", &doc, None);
                match store.create_secret(secret)? {
                    Write::Done(s) => {
                        let rv = s.metadata.resource_version.unwrap_or_default();
                        (state, doc, rv)
                    }
                    Write::Refused => {
                        generation::discard(&store, &doc.pointer);
                        return Err(StateError::Conflict {
                            location: store.url(&base),
                            detail: "another writer created the state while this run held \
                                     the lock"
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
        for s in store.list_secrets("intent", "")? {
            let name = s.metadata.name.clone().unwrap_or_default();
            let stored = store::data(&s, INTENT_KEY).ok_or_else(|| StateError::Corrupt {
                what: store.url(&name),
                detail: format!("no `{INTENT_KEY}` key"),
            })?;
            let opened = store.open(&name, &name, stored.to_vec())?;
            if let Some(b) = &opened.binding {
                b.expect(&store.url(&name), &committed.lineage, None)?;
            }
            let doc: IntentDoc =
                serde_json::from_slice(&opened.plaintext).map_err(|e| StateError::Corrupt {
                    what: store.url(&name),
                    detail: e.to_string(),
                })?;
            next_seq = next_seq.max(doc.intent.seq + 1).max(doc.done_seq + 1);
            match doc.outcome {
                None => {
                    pending.insert(doc.intent.id.clone(), (name, doc.intent));
                }
                // Completed on an older serial and not cleaned up: pending
                // again, recovery reads the object back (as on S3).
                Some(_) if doc.base_serial < committed.serial => {
                    pending.insert(doc.intent.id.clone(), (name, doc.intent));
                }
                Some(out) => done.push((doc.done_seq, name, doc.intent.address, out)),
            }
        }
        done.sort_by_key(|d| d.0);
        let mut completed = Vec::new();
        for (_, name, address, out) in done {
            apply(&mut working, &address, &out);
            completed.push(name);
        }
        let took_over = lock.took_over.clone();
        let backend = K8sBackend {
            store,
            base,
            lock,
            inner: Mutex::new(Inner {
                committed,
                index,
                index_version,
                working,
                pending,
                completed,
                next_seq,
                took_over,
            }),
        };
        backend.repair_history();
        Ok(backend)
    }

    fn guard(&self) -> MutexGuard<'_, Inner> {
        // A panic mid-update leaves objects consistent; the memory copy is rebuilt on open.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A run killed between switching the index and writing the serial's
    /// history Secret left the line only in the index: write it now.
    fn repair_history(&self) {
        let doc = self.guard().index.clone();
        if doc.pointer.serial == 0 {
            return;
        }
        let name = generation::history_name(&self.base, doc.pointer.serial);
        if let Ok(None) = self.store.get_secret(&name) {
            let s = generation::doc_secret(&self.store, &name, "history", &doc, None);
            let _ = self.store.create_secret(s);
        }
    }

    /// Writes `next` as a new generation and switches the index to it
    /// (serial already set), recording `entry` as its history line.
    fn switch(&self, g: &mut Inner, mut next: State, entry: HistoryEntry) -> Result<u64> {
        next.format_version = FORMAT_VERSION;
        let serial = next.serial;
        let pointer = generation::write(&self.store, &next)?;
        let doc = IndexDoc { pointer, entry };
        let secret = generation::doc_secret(
            &self.store,
            &self.base,
            "index",
            &doc,
            Some(g.index_version.clone()),
        );
        let stored = match self.store.replace_secret(secret) {
            Ok(Write::Done(s)) => s,
            Ok(Write::Refused) => {
                generation::discard(&self.store, &doc.pointer);
                return Err(StateError::Conflict {
                    location: self.store.url(&self.base),
                    detail: format!(
                        "the index is no longer the serial {} this run read",
                        g.committed.serial
                    ),
                });
            }
            Err(e) => {
                // Unknown whether the switch happened: the chunks stay for
                // the next commit of this serial to collect if it did not.
                return Err(e);
            }
        };
        g.index_version = stored.metadata.resource_version.unwrap_or_default();
        g.index = doc.clone();
        g.committed = next.clone();
        g.working = next;
        // The switch is the commit; what follows is bookkeeping that the
        // next open or commit redoes if it fails.
        let name = generation::history_name(&self.base, serial);
        let h = generation::doc_secret(&self.store, &name, "history", &doc, None);
        let _ = self.store.put_secret(h);
        generation::collect_garbage(&self.store, serial, &doc.pointer.generation);
        for k in std::mem::take(&mut g.completed) {
            // Left behind on failure: the next open makes it pending, to read back.
            let _ = self.store.delete_secret(&k);
        }
        Ok(serial)
    }

    fn write_commit(&self, g: &mut Inner, next: State, summary: &str) -> Result<u64> {
        let summary = match g.took_over.take() {
            Some(prev) => format!(
                "{summary} (lock taken over from {} after it expired: {} since {}, lock ID {})",
                prev.who, prev.operation, prev.created, prev.id
            ),
            None => summary.to_string(),
        };
        let e = entry(&self.lock, next.serial, &summary, next.instances.len());
        self.switch(g, next, e)
    }
}

fn entry(lock: &HeldLock, serial: u64, summary: &str, instances: usize) -> HistoryEntry {
    HistoryEntry {
        serial,
        time: now_rfc3339(),
        summary: summary.to_string(),
        operation: lock.info.operation.clone(),
        who: lock.info.who.clone(),
        instances,
    }
}

/// The pointer a history document names, checked against `serial`.
fn pointer_of(store: &Store, name: &str, serial: u64) -> Result<Option<Pointer>> {
    let Some(s) = store.get_secret(name)? else {
        return Ok(None);
    };
    let doc = generation::read_doc(store, &s)?;
    Ok((doc.pointer.serial == serial).then_some(doc.pointer))
}

impl Backend for K8sBackend {
    /// Fills an empty state with another backend's: every serial of
    /// `history` as its own generation with its original history line, then
    /// `current` as the current state, lineage and serial kept (what
    /// `posture init --migrate-state` does). Refused unless this state is
    /// still the empty one created at open; rerunning after an interruption
    /// rewrites what a first attempt left and finishes.
    ///
    /// # Errors
    /// A non-empty state, a lost lock, storage failures (nothing switched).
    fn adopt_observed(
        &self,
        history: Vec<(HistoryEntry, State)>,
        current: &State,
        observe: &dyn Fn(AdoptStep),
    ) -> Result<u64> {
        self.lock.check()?;
        let mut g = self.guard();
        accept_adopt(&g.committed, || self.store.url(&self.base))?;
        let (current_entry, older) = adoption_history(history, current.serial);
        let of = older.len();
        for (done, (e, mut snap)) in older.into_iter().enumerate() {
            snap.serial = e.serial;
            let pointer = generation::write(&self.store, &snap)?;
            let name = generation::history_name(&self.base, e.serial);
            let keep = pointer.generation.clone();
            let doc = IndexDoc { pointer, entry: e };
            let h = generation::doc_secret(&self.store, &name, "history", &doc, None);
            self.store.put_secret(h)?;
            generation::collect_garbage(&self.store, doc.pointer.serial, &keep);
            observe(AdoptStep::History { done: done + 1, of });
        }
        observe(AdoptStep::Current);
        let e = current_entry.unwrap_or_else(|| {
            entry(
                &self.lock,
                current.serial,
                "state migrated",
                current.instances.len(),
            )
        });
        self.switch(&mut g, current.clone(), e)
    }

    fn adopts_history(&self) -> bool {
        true
    }

    fn lock_info(&self) -> &LockInfo {
        &self.lock.info
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
            lock_id: self.lock.info.id.clone(),
        };
        let name = format!("{}-i-{}", self.base, id.0);
        let doc = IntentDoc {
            intent,
            outcome: None,
            base_serial: g.committed.serial,
            done_seq: 0,
        };
        self.put_intent(&name, &g.committed.lineage, &doc)?;
        g.pending.insert(id.clone(), (name, doc.intent));
        Ok(id)
    }

    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.lock.check()?;
        let mut g = self.guard();
        let Some((name, intent)) = g.pending.get(id).cloned() else {
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
        self.put_intent(&name, &g.committed.lineage, &doc)?;
        if let Some(out) = &doc.outcome {
            apply(&mut g.working, &address, out);
        }
        g.pending.remove(id);
        g.completed.push(name);
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
        let (current, index_entry) = {
            let g = self.guard();
            (g.committed.serial, g.index.entry.clone())
        };
        let mut out = BTreeMap::new();
        for s in self.store.list_secrets("history", "")? {
            let doc = generation::read_doc(&self.store, &s)?;
            if doc.entry.serial <= current && doc.entry.serial > 0 {
                out.insert(doc.entry.serial, doc.entry);
            }
        }
        if current > 0 {
            out.entry(current).or_insert(index_entry);
        }
        Ok(out.into_values().collect())
    }

    fn snapshot(&self, serial: u64) -> Result<State> {
        let (current, committed) = {
            let g = self.guard();
            (g.committed.serial, g.committed.clone())
        };
        if serial > current {
            return Err(StateError::NoSnapshot { serial });
        }
        if serial == current {
            return Ok(committed);
        }
        let name = generation::history_name(&self.base, serial);
        let p = pointer_of(&self.store, &name, serial)?.ok_or(StateError::NoSnapshot { serial })?;
        generation::read(&self.store, &p, &name)
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

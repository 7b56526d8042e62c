//! [`PartitionedBackend`]: the partitions of a state, opened as one
//! [`Backend`]. The selected partitions are locked (in key order, so two
//! runs never wait on each other in a cycle); the others are read once,
//! without keeping their lock. Intents, completions and records go to the
//! partition of their instance; a write for a partition this run does not
//! hold is refused before anything is written.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use super::{Partition, PartitionKey, Selection, codec_cluster};
use crate::state::backend::{AdoptStep, Backend, StateLocation};
use crate::state::encoding::encode;
use crate::state::error::{Result, StateError};
use crate::state::lock::{LockInfo, LockOptions};
use crate::state::model::{
    Action, HistoryEntry, Intent, IntentId, NewIntent, Outcome, OutputValue, State,
};

/// What a run needs to open a partition it meets first mid-run (a cluster
/// new to the state, in a run that selects every partition).
struct Lazy {
    base: Arc<dyn StateLocation>,
    operation: String,
    lease: std::time::Duration,
}

/// A partitioned state opened by one run. See the module docs.
pub struct PartitionedBackend {
    held: RwLock<BTreeMap<PartitionKey, Box<dyn Backend>>>,
    /// Partitions not selected, as read when the run started.
    read_only: BTreeMap<PartitionKey, State>,
    /// Partitions not selected whose lock another run held, so that they
    /// could not be read: their instances are unknown to this run.
    unread: BTreeMap<PartitionKey, LockInfo>,
    /// The partition of every recorded address.
    routes: Mutex<HashMap<String, Partition>>,
    /// Set when every partition is selected: how to open one met mid-run.
    lazy: Option<Lazy>,
    lock: LockInfo,
}

/// The operation named in the lock a run takes to read a partition it does
/// not select.
fn reading(operation: &str) -> String {
    format!("{operation} (reading another cluster's state)")
}

fn in_partition(name: &str) -> impl FnOnce(StateError) -> StateError + '_ {
    move |e| match e {
        e @ (StateError::InPartition { .. } | StateError::PartitionNotHeld { .. }) => e,
        e => StateError::InPartition {
            partition: name.to_string(),
            source: Box::new(e),
        },
    }
}

impl PartitionedBackend {
    /// Opens the partitions of `base`: locks those `selection` names (all
    /// that exist and the no-cluster one for [`Selection::All`]) in key
    /// order, and reads the others without keeping their lock.
    ///
    /// # Errors
    /// A selected partition locked by another run
    /// ([`StateError::InPartition`] around [`StateError::Locked`] naming the
    /// holder; nothing stays locked), or an unreadable partition.
    pub fn open(
        base: Arc<dyn StateLocation>,
        selection: &Selection,
        options: &LockOptions,
    ) -> Result<PartitionedBackend> {
        let existing = base.partitions()?;
        let mut names: BTreeMap<PartitionKey, String> = BTreeMap::new();
        match selection {
            Selection::All => {
                for k in &existing {
                    names.insert(k.clone(), k.to_string());
                }
                let g = Partition::NoCluster;
                names.insert(g.key(), g.to_string());
            }
            Selection::Only(ps) => {
                for p in ps {
                    names.insert(p.key(), p.to_string());
                }
            }
        }
        let mut held = BTreeMap::new();
        for (key, name) in &names {
            let b = base
                .partition(key)
                .and_then(|l| l.open(options))
                .map_err(in_partition(name))?;
            held.insert(key.clone(), b);
        }
        let mut read_only = BTreeMap::new();
        let mut unread = BTreeMap::new();
        for key in existing.iter().filter(|k| !names.contains_key(*k)) {
            let opts = LockOptions::new(reading(&options.operation));
            match base.partition(key).and_then(|l| l.open(&opts)) {
                Ok(b) => {
                    let state = b.load().map_err(in_partition(key.as_str()))?;
                    b.close().map_err(in_partition(key.as_str()))?;
                    read_only.insert(key.clone(), state);
                }
                Err(StateError::Locked { holder }) => {
                    unread.insert(key.clone(), *holder);
                }
                Err(e) => return Err(in_partition(key.as_str())(e)),
            }
        }
        let lock = match held.values().next() {
            Some(b) => b.lock_info().clone(),
            None => LockInfo::for_this_process(&options.operation, options.lease),
        };
        let lazy = (*selection == Selection::All).then(|| Lazy {
            base,
            operation: options.operation.clone(),
            lease: options.lease,
        });
        let b = PartitionedBackend {
            held: RwLock::new(held),
            read_only,
            unread,
            routes: Mutex::new(HashMap::new()),
            lazy,
            lock,
        };
        b.load()?;
        Ok(b)
    }

    /// Partitions not selected whose lock another run held, with who: this
    /// run knows none of their instances.
    pub fn unread(&self) -> &BTreeMap<PartitionKey, LockInfo> {
        &self.unread
    }

    fn held(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PartitionKey, Box<dyn Backend>>> {
        // A panic while holding it leaves the map whole (inserts only).
        self.held.read().unwrap_or_else(|p| p.into_inner())
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Partition>> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes sure partition `p` is held, opening it when this run selects
    /// every partition; refuses a write for `address` otherwise.
    fn ensure_held(&self, p: &Partition, address: &str) -> Result<PartitionKey> {
        let key = p.key();
        if self.held().contains_key(&key) {
            return Ok(key);
        }
        let not_held = || StateError::PartitionNotHeld {
            address: address.to_string(),
            partition: p.to_string(),
        };
        let lazy = self.lazy.as_ref().ok_or_else(not_held)?;
        let opts = LockOptions::new(lazy.operation.clone()).lease(lazy.lease);
        let name = p.to_string();
        let b = lazy
            .base
            .partition(&key)
            .and_then(|l| l.open(&opts))
            .map_err(in_partition(&name))?;
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        held.entry(key.clone()).or_insert(b);
        Ok(key)
    }

    /// The partition an intent's record lives in: the recorded one, else
    /// the planned (or prior) object's cluster.
    fn route(&self, intent: &NewIntent) -> Partition {
        if let Some(p) = self.routes().get(&intent.address) {
            return p.clone();
        }
        let planned = intent.planned.get("planned").and_then(codec_cluster);
        let prior = || intent.planned.get("prior").and_then(codec_cluster);
        match planned.or_else(prior) {
            Some(n) => Partition::Cluster(n),
            None => Partition::NoCluster,
        }
    }

    /// Every partition's working state: held ones now, the others as read.
    fn parts(&self) -> Result<Vec<(PartitionKey, State)>> {
        let mut out = Vec::new();
        for (k, b) in self.held().iter() {
            out.push((k.clone(), b.load().map_err(in_partition(k.as_str()))?));
        }
        for (k, s) in &self.read_only {
            out.push((k.clone(), s.clone()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn split_id(id: &IntentId) -> Result<(PartitionKey, IntentId)> {
        id.0.split_once('/')
            .and_then(|(k, i)| Some((PartitionKey::parse(k)?, IntentId(i.to_string()))))
            .ok_or_else(|| StateError::UnknownIntent { id: id.0.clone() })
    }

    fn complete_in(&self, key: &PartitionKey, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        let held = self.held();
        let b = held.get(key).ok_or_else(|| StateError::UnknownIntent {
            id: format!("{key}/..."),
        })?;
        b.complete_intents(done).map_err(in_partition(key.as_str()))
    }

    /// Completes one intent whose record moved to another partition (its
    /// cluster changed): recorded there first, then removed here, so a
    /// crash in between leaves an intent here that recovery settles.
    fn complete_moved(&self, key: &PartitionKey, inner: IntentId, outcome: Outcome) -> Result<()> {
        let Outcome::Upsert(rec) = outcome else {
            return self.complete_in(key, vec![(inner, outcome)]);
        };
        let target = Partition::of_record(&rec);
        let tkey = self.ensure_held(&target, &rec.address)?;
        {
            let held = self.held();
            let t = held
                .get(&tkey)
                .ok_or_else(|| StateError::PartitionNotHeld {
                    address: rec.address.clone(),
                    partition: target.to_string(),
                })?;
            let id = t.record_intent(NewIntent {
                address: rec.address.clone(),
                action: Action::Update,
                planned: serde_json::json!({ "moved_from": key.as_str() }),
            })?;
            t.complete_intent(&id, Outcome::Upsert(rec.clone()))?;
        }
        self.complete_in(key, vec![(inner, Outcome::Remove)])?;
        self.routes().insert(rec.address.clone(), target);
        Ok(())
    }
}

impl Backend for PartitionedBackend {
    fn lock_info(&self) -> &LockInfo {
        &self.lock
    }

    /// The partitions merged: every record, the no-cluster partition's
    /// outputs and lineage, and as serial the sum of the partitions'
    /// serials (it grows with every commit of any of them, so a saved plan
    /// made before one is stale).
    fn load(&self) -> Result<State> {
        let mut merged = State::new();
        merged.lineage = String::new();
        let mut routes = HashMap::new();
        for (key, s) in self.parts()? {
            merged.serial = merged.serial.saturating_add(s.serial);
            if key.is_no_cluster() {
                merged.outputs = s.outputs;
                merged.lineage = s.lineage;
            } else if merged.lineage.is_empty() {
                merged.lineage = s.lineage.clone();
            }
            for (addr, rec) in s.instances {
                routes.insert(addr.clone(), Partition::of_record(&rec));
                merged.instances.insert(addr, rec);
            }
        }
        *self.routes() = routes;
        Ok(merged)
    }

    fn record_intent(&self, intent: NewIntent) -> Result<IntentId> {
        let p = self.route(&intent);
        let key = self.ensure_held(&p, &intent.address)?;
        let held = self.held();
        let b = held.get(&key).ok_or_else(|| StateError::PartitionNotHeld {
            address: intent.address.clone(),
            partition: p.to_string(),
        })?;
        let id = b
            .record_intent(intent)
            .map_err(in_partition(key.as_str()))?;
        Ok(IntentId(format!("{key}/{id}")))
    }

    fn record_intents(&self, intents: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        // Every partition is checked before anything is recorded.
        let mut by_key: BTreeMap<PartitionKey, Vec<(usize, NewIntent)>> = BTreeMap::new();
        for (i, intent) in intents.into_iter().enumerate() {
            let p = self.route(&intent);
            let key = self.ensure_held(&p, &intent.address)?;
            by_key.entry(key).or_default().push((i, intent));
        }
        let mut ids: Vec<(usize, IntentId)> = Vec::new();
        let held = self.held();
        for (key, batch) in by_key {
            let (idx, batch): (Vec<usize>, Vec<NewIntent>) = batch.into_iter().unzip();
            let b = held.get(&key).ok_or_else(|| StateError::UnknownIntent {
                id: format!("{key}/..."),
            })?;
            let got = b
                .record_intents(batch)
                .map_err(in_partition(key.as_str()))?;
            for (i, id) in idx.into_iter().zip(got) {
                ids.push((i, IntentId(format!("{key}/{id}"))));
            }
        }
        ids.sort_by_key(|(i, _)| *i);
        Ok(ids.into_iter().map(|(_, id)| id).collect())
    }

    fn complete_intent(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.complete_intents(vec![(id.clone(), outcome)])
    }

    fn complete_intents(&self, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        let mut by_key: BTreeMap<PartitionKey, Vec<(IntentId, Outcome)>> = BTreeMap::new();
        let mut moved = Vec::new();
        for (id, outcome) in done {
            let (key, inner) = Self::split_id(&id)?;
            match &outcome {
                Outcome::Upsert(rec) if Partition::of_record(rec).key() != key => {
                    moved.push((key, inner, outcome));
                }
                _ => by_key.entry(key).or_default().push((inner, outcome)),
            }
        }
        for (key, batch) in by_key {
            self.complete_in(&key, batch)?;
        }
        for (key, inner, outcome) in moved {
            self.complete_moved(&key, inner, outcome)?;
        }
        Ok(())
    }

    fn pending_intents(&self) -> Result<Vec<Intent>> {
        let mut out = Vec::new();
        for (key, b) in self.held().iter() {
            for mut i in b.pending_intents().map_err(in_partition(key.as_str()))? {
                i.id = IntentId(format!("{key}/{}", i.id));
                out.push(i);
            }
        }
        out.sort_by(|a, b| (&a.recorded_at, a.seq).cmp(&(&b.recorded_at, b.seq)));
        Ok(out)
    }

    /// Commits every held partition that changed; outputs go to the
    /// no-cluster partition (kept as they are when this run does not hold it).
    fn commit(&self, outputs: Option<BTreeMap<String, OutputValue>>, summary: &str) -> Result<u64> {
        let mut serial: u64 = self.read_only.values().map(|s| s.serial).sum();
        for (key, b) in self.held().iter() {
            let o = if key.is_no_cluster() {
                outputs.clone()
            } else {
                None
            };
            let s = b.commit(o, summary).map_err(in_partition(key.as_str()))?;
            serial = serial.saturating_add(s);
        }
        Ok(serial)
    }

    /// The history of every held partition, oldest first, each line's
    /// summary starting with its partition.
    fn history(&self) -> Result<Vec<HistoryEntry>> {
        let mut out = Vec::new();
        for (key, b) in self.held().iter() {
            for mut e in b.history().map_err(in_partition(key.as_str()))? {
                e.summary = format!("[{key}] {}", e.summary);
                out.push(e);
            }
        }
        out.sort_by(|a, b| a.time.cmp(&b.time));
        Ok(out)
    }

    /// The snapshot at `serial` of the one held partition (select it with
    /// `--cluster`): serials count per partition.
    fn snapshot(&self, serial: u64) -> Result<State> {
        let held = self.held();
        match held.iter().next() {
            Some((key, b)) if held.len() == 1 => {
                b.snapshot(serial).map_err(in_partition(key.as_str()))
            }
            _ => Err(StateError::Partitioning {
                location: "a partitioned state".into(),
                detail: "serials count per partition: select one with --cluster NAME".into(),
            }),
        }
    }

    fn pull(&self) -> Result<String> {
        self.load().map(|s| encode(&s))
    }

    fn push(&self, json: &str, force: bool) -> Result<u64> {
        let _ = (json, force);
        Err(StateError::Partitioning {
            location: "a partitioned state".into(),
            detail: "state push into a partitioned state is not supported yet: edit with \
                     `posture state rm`/`mv`/`import` instead"
                .into(),
        })
    }

    // `init --migrate-state` copies through `adopt_observed` (`adopt` is
    // its plain form): refusing here refuses both.
    fn adopt_observed(
        &self,
        history: Vec<(HistoryEntry, State)>,
        current: &State,
        observe: &dyn Fn(AdoptStep),
    ) -> Result<u64> {
        let _ = (history, current, observe);
        Err(StateError::Partitioning {
            location: "a partitioned state".into(),
            detail: "migrating a state into partitions is not supported yet: keep \
                     state_partition = \"none\" for this state, or start the partitioned \
                     state empty and `posture import` what it manages"
                .into(),
        })
    }

    /// Splits `state` by partition and rewrites each one that changed; a
    /// change to a partition this run does not hold is refused first.
    fn rewrite(&self, state: &State, summary: &str) -> Result<u64> {
        let parts = self.parts()?;
        let current: u64 = parts.iter().map(|(_, s)| s.serial).sum();
        if state.serial != current {
            return Err(StateError::SerialConflict {
                current,
                pushed: state.serial,
            });
        }
        let mut wanted: BTreeMap<PartitionKey, BTreeMap<String, _>> = BTreeMap::new();
        let mut partition_of: BTreeMap<PartitionKey, (Partition, String)> = BTreeMap::new();
        for (addr, rec) in &state.instances {
            let p = Partition::of_record(rec);
            partition_of
                .entry(p.key())
                .or_insert_with(|| (p.clone(), addr.clone()));
            wanted
                .entry(p.key())
                .or_default()
                .insert(addr.clone(), rec.clone());
        }
        let mut plan: Vec<(PartitionKey, State)> = Vec::new();
        let mut keys: Vec<PartitionKey> = parts.iter().map(|(k, _)| k.clone()).collect();
        keys.extend(wanted.keys().cloned());
        keys.sort();
        keys.dedup();
        for key in keys {
            let here = parts
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, s)| s.clone());
            let mut next = here.clone().unwrap_or_default();
            next.instances = wanted.remove(&key).unwrap_or_default();
            if key.is_no_cluster() {
                next.outputs = state.outputs.clone();
            }
            let unchanged = here
                .as_ref()
                .is_some_and(|h| h.instances == next.instances && h.outputs == next.outputs)
                || (here.is_none() && next.instances.is_empty());
            if unchanged {
                continue;
            }
            let (p, addr) = match partition_of.get(&key) {
                Some(x) => x.clone(),
                // Every record of this partition was removed: named by one of them.
                None => match here.iter().flat_map(|h| h.instances.values()).next() {
                    Some(r) => (Partition::of_record(r), r.address.clone()),
                    None => (Partition::NoCluster, String::new()),
                },
            };
            let p = if key.is_no_cluster() {
                Partition::NoCluster
            } else {
                p
            };
            self.ensure_held(&p, &addr)?;
            plan.push((key, next));
        }
        let held = self.held();
        let mut serial: u64 = 0;
        for (key, s) in &parts {
            if !plan.iter().any(|(k, _)| k == key) {
                serial = serial.saturating_add(s.serial);
            }
        }
        for (key, next) in plan {
            let b = held.get(&key).ok_or_else(|| StateError::UnknownIntent {
                id: format!("{key}/..."),
            })?;
            let s = b.rewrite(&fresh_lineage(b.as_ref(), next)?, summary);
            serial = serial.saturating_add(s.map_err(in_partition(key.as_str()))?);
        }
        Ok(serial)
    }

    fn close(self: Box<Self>) -> Result<()> {
        let held = self.held.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut first = Ok(());
        for (key, b) in held {
            let r = b.close().map_err(in_partition(key.as_str()));
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}

/// `next` with the lineage and serial of the partition it is written to (a
/// partition first opened in this run has a state of its own).
fn fresh_lineage(b: &dyn Backend, mut next: State) -> Result<State> {
    let here = b.load()?;
    next.lineage = here.lineage;
    next.serial = here.serial;
    Ok(next)
}

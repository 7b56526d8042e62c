//! Intents of a [`LocalBackend`]: recording them, and completing each with
//! its outcome (the caller flushes).
//!
//! A batch is written in transactions of up to [`CHUNK`] intents, not one
//! per intent: every sled transaction writes the log buffer out (a `pwrite`
//! and a `sync_file_range`) to pin its batch, so one per intent cost four
//! disk writes per instance of an apply. Each intent still completes
//! atomically with its record; a chunk is all or nothing. A chunk of
//! several intents is one key, a group (see [`super::group`]). Ids begin
//! with the `seq` in hex of their chunk's first intent, so they are also
//! recorded in order.

use std::collections::BTreeMap;

use sled::Transactional;
use sled::transaction::{TransactionalTree, abort};

use super::super::clock::{now_unix_ms, rfc3339};
use super::super::error::{Result, StateError};
use super::super::json;
use super::super::model::{Intent, IntentId, NewIntent, Outcome};
use super::super::store::{TxResult, db_err, tx_err};
use super::{LocalBackend, group, to_json};

/// Intents per transaction: large enough that the per-transaction log
/// writes vanish, small enough to keep a transaction's write set (held in
/// memory until it commits) a few megabytes.
pub(super) const CHUNK: usize = 1024;

/// A group's pending members by id (ids sort in the order recorded).
type Members = BTreeMap<String, Vec<u8>>;

/// A record an outcome writes: its JSON and the bytes stored (sealed when
/// encryption is on).
struct Record<'a> {
    address: &'a str,
    json: Vec<u8>,
    /// The sealed bytes stored instead of `json` when encryption is on.
    stored: Option<Vec<u8>>,
}

/// The part of a stored [`Intent`] completing it needs.
#[derive(serde::Deserialize)]
struct IntentAddress {
    address: String,
}

impl LocalBackend {
    /// Records intents in transactions of up to [`CHUNK`], without flushing.
    /// Each gets its own `seq` (the order they were recorded in).
    pub(super) fn insert_intents(&self, intents: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        let mut ids = Vec::with_capacity(intents.len());
        let mut intents = intents.into_iter().peekable();
        while intents.peek().is_some() {
            let chunk: Vec<NewIntent> = intents.by_ref().take(CHUNK).collect();
            ids.extend(self.insert_chunk(chunk)?);
        }
        Ok(ids)
    }

    fn insert_chunk(&self, chunk: Vec<NewIntent>) -> Result<Vec<IntentId>> {
        let _g = self.guard();
        let first = self.store.next_op_seq();
        let recorded_at = rfc3339(now_unix_ms());
        // The seq first: ids sort in the order they were recorded, so a
        // batch appends to the tree and leaves it in that order, instead of
        // touching every leaf as random keys do.
        let single = format!("{first:016x}-{}", uuid::Uuid::new_v4());
        let grouped = chunk.len() > 1;
        let rows: Vec<(IntentId, Vec<u8>)> = chunk
            .into_iter()
            .zip(first..)
            .map(|(intent, seq)| {
                let id = IntentId(if grouped {
                    group::member_id(&single, seq)
                } else {
                    single.clone()
                });
                let json = to_json(&Intent {
                    id: id.clone(),
                    address: intent.address,
                    action: intent.action,
                    planned: intent.planned,
                    recorded_at: recorded_at.clone(),
                    seq,
                    lock_id: self.lock.info().id.clone(),
                });
                (id, json)
            })
            .collect();
        let rows = match self.cipher {
            None => rows,
            Some(_) => {
                let lineage = self.lineage()?;
                let mut sealed = Vec::with_capacity(rows.len());
                for (id, json) in rows {
                    let v = self.seal_value(&lineage, &format!("intents/{}", id.0), 0, json)?;
                    sealed.push((id, v));
                }
                sealed
            }
        };
        let last = first + rows.len() as u64 - 1;
        // A chunk of several is one group under one key (see [`group`]).
        let value = grouped
            .then(|| group::encode(rows.iter().map(|(id, j)| (id.0.as_str(), j.as_slice()))));
        (&self.store.meta, &self.store.intents)
            .transaction(|(meta, intents)| {
                match &value {
                    Some(g) => {
                        intents.insert(single.as_bytes(), g.as_slice())?;
                    }
                    None => {
                        for (id, json) in &rows {
                            intents.insert(id.0.as_bytes(), json.as_slice())?;
                        }
                    }
                }
                meta.insert("op_seq", &last.to_be_bytes())?;
                TxResult::Ok(())
            })
            .map_err(|e| tx_err(&self.store.path, e))?;
        self.store.committed(last);
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }

    /// Every pending intent, groups' members included, in key order.
    pub(super) fn read_pending(&self) -> Result<Vec<Intent>> {
        let mut out = Vec::new();
        let lineage = match self.cipher {
            Some(_) => self.lineage()?,
            None => String::new(),
        };
        let open = |id: &str, v: &[u8]| {
            self.open_value(&lineage, &format!("intents/{id}"), None, v)
                .map(|p| p.into_owned())
        };
        for item in self.store.intents.iter() {
            let (k, v) = item.map_err(db_err(&self.store.path))?;
            if !group::is_group(&v) {
                let plain = open(&String::from_utf8_lossy(&k), &v)?;
                out.push(self.decode_json("intents", &k, &plain)?);
                continue;
            }
            for (id, json) in self.members(&k, &v)? {
                let plain = open(id, json)?;
                out.push(self.decode_json("intents", id.as_bytes(), &plain)?);
            }
        }
        Ok(out)
    }

    /// The members of the group stored under `key`; a group that does not
    /// decode is corruption, named by its key.
    fn members<'v>(&self, key: &[u8], raw: &'v [u8]) -> Result<Vec<(&'v str, &'v [u8])>> {
        group::decode(raw).map_err(|e| {
            let key = String::from_utf8_lossy(key);
            self.store.corrupt(&format!("intents {key}: {e}"))
        })
    }

    /// How many intents are pending, groups' members included. A group that
    /// does not decode is reported as corruption (as [`Self::read_pending`]
    /// does), not counted as one: a count that hid it would let a rewrite
    /// or push go ahead over intents nobody can settle.
    pub(super) fn pending_count(&self) -> Result<usize> {
        let mut n = 0;
        for item in self.store.intents.iter() {
            let (k, v) = item.map_err(db_err(&self.store.path))?;
            n += match group::is_group(&v) {
                true => self.members(&k, &v)?.len(),
                false => 1,
            };
        }
        Ok(n)
    }

    /// Applies outcomes and drops their intents, in transactions of up to
    /// [`CHUNK`], without flushing. When a chunk is refused (an unknown
    /// intent, a record for another address), its outcomes are applied one
    /// by one up to the refused one, so exactly the outcomes before it are
    /// recorded, as when each had its own transaction.
    pub(super) fn apply_outcomes(&self, done: Vec<(IntentId, Outcome)>) -> Result<()> {
        for chunk in done.chunks(CHUNK) {
            match self.apply_chunk(chunk) {
                Ok(()) => {}
                // Refused as a whole: one by one, so that those before the
                // refused one are recorded.
                Err(e) if chunk.len() > 1 && !matches!(e, StateError::Database { .. }) => {
                    for one in chunk {
                        self.apply_chunk(std::slice::from_ref(one))?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Records one intent in one transaction, without flushing.
    pub(super) fn insert_intent(&self, intent: NewIntent) -> Result<IntentId> {
        let mut ids = self.insert_chunk(vec![intent])?;
        ids.pop()
            .ok_or_else(|| self.store.corrupt("an intent was recorded without an id"))
    }

    /// Applies one outcome and drops its intent in one transaction, without flushing.
    pub(super) fn apply_outcome(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        self.apply_chunk(&[(id.clone(), outcome)])
    }

    fn apply_chunk(&self, chunk: &[(IntentId, Outcome)]) -> Result<()> {
        let s = &self.store;
        let _g = self.guard();
        let lineage = match self.cipher {
            Some(_) => self.lineage()?,
            None => String::new(),
        };
        let mut records: Vec<Option<Record<'_>>> = Vec::with_capacity(chunk.len());
        for (_, o) in chunk {
            records.push(match o {
                Outcome::Upsert(r) => {
                    let json = to_json(r);
                    let stored = match self.cipher {
                        Some(_) => {
                            let object = format!("instances/{}", r.address);
                            Some(self.seal_value(&lineage, &object, 0, json.clone())?)
                        }
                        None => None,
                    };
                    Some(Record {
                        address: r.address.as_str(),
                        json,
                        stored,
                    })
                }
                _ => None,
            });
        }
        let last = s.next_op_seq() + chunk.len() as u64 - 1;
        (&s.meta, &s.intents, &s.instances)
            .transaction(|(meta, intents, instances)| {
                let mut dirty = false;
                // Groups touched, read once and written back once (the
                // closure may run again on a conflict: nothing outlives it).
                let mut groups: BTreeMap<String, Members> = BTreeMap::new();
                for ((id, outcome), record) in chunk.iter().zip(&records) {
                    let raw = match group::group_of(&id.0) {
                        None => intents.remove(id.0.as_bytes())?.map(|r| r.to_vec()),
                        Some(key) => self.take_member(intents, &mut groups, key, &id.0)?,
                    };
                    let Some(raw) = raw else {
                        return abort(StateError::UnknownIntent { id: id.0.clone() });
                    };
                    dirty |=
                        self.settle(instances, id, &raw, outcome, record.as_ref(), &lineage)?;
                }
                for (key, members) in &groups {
                    if members.is_empty() {
                        intents.remove(key.as_bytes())?;
                    } else {
                        let value =
                            group::encode(members.iter().map(|(i, j)| (i.as_str(), j.as_slice())));
                        intents.insert(key.as_bytes(), value)?;
                    }
                }
                if dirty {
                    meta.insert("dirty", &[1u8])?;
                }
                meta.insert("op_seq", &last.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e| tx_err(&s.path, e))?;
        s.committed(last);
        Ok(())
    }

    /// Takes the member `id` out of the group `key` (read into `groups` on
    /// first use); its intent JSON, or `None` when it is not pending.
    fn take_member(
        &self,
        intents: &TransactionalTree,
        groups: &mut BTreeMap<String, Members>,
        key: &str,
        id: &str,
    ) -> TxResult<Option<Vec<u8>>> {
        if !groups.contains_key(key) {
            let members = match intents.get(key.as_bytes())? {
                None => Members::new(),
                Some(raw) => match group::decode(&raw) {
                    Ok(m) => m
                        .into_iter()
                        .map(|(i, j)| (i.to_string(), j.to_vec()))
                        .collect::<Members>(),
                    Err(e) => return abort(self.store.corrupt(&format!("intents {key}: {e}"))),
                },
            };
            groups.insert(key.to_string(), members);
        }
        Ok(groups.get_mut(key).and_then(|m| m.remove(id)))
    }

    /// One outcome inside a transaction, its intent (`raw`) already taken
    /// out of the tree; true when it changed a record.
    fn settle(
        &self,
        instances: &TransactionalTree,
        id: &IntentId,
        raw: &[u8],
        outcome: &Outcome,
        record: Option<&Record<'_>>,
        lineage: &str,
    ) -> TxResult<bool> {
        let raw = match self.open_value(lineage, &format!("intents/{}", id.0), None, raw) {
            Ok(r) => r,
            Err(e) => return abort(e),
        };
        // Only the address is checked: decoding the planned values of
        // every intent again was a tenth of a large apply.
        let intent: IntentAddress = match json::from_slice(&raw) {
            Ok(i) => i,
            Err(e) => return abort(self.store.corrupt(&format!("intent {id}: {e}"))),
        };
        match (outcome, record) {
            (Outcome::Upsert(_), Some(rec)) => {
                let address = rec.address;
                if address != intent.address {
                    return abort(StateError::AddressMismatch {
                        id: id.0.clone(),
                        expected: intent.address,
                        found: address.to_string(),
                    });
                }
                let stored = rec.stored.as_deref().unwrap_or(&rec.json);
                let Some(old) = instances.insert(address.as_bytes(), stored)? else {
                    return Ok(true);
                };
                // Compared in clear: sealed bytes differ at every write.
                let object = format!("instances/{address}");
                match self.open_value(lineage, &object, None, &old) {
                    Ok(p) => Ok(*p != *rec.json),
                    Err(e) => abort(e),
                }
            }
            (Outcome::Remove, _) => Ok(instances.remove(intent.address.as_bytes())?.is_some()),
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Action, Backend, InstanceRecord, LockOptions, State};
    use super::*;

    fn open(dir: &std::path::Path) -> LocalBackend {
        LocalBackend::open(dir, &LockOptions::new("test")).expect("open state")
    }

    fn new(address: &str) -> NewIntent {
        NewIntent {
            address: address.into(),
            action: Action::Create,
            planned: serde_json::json!({ "name": address }),
        }
    }

    fn upsert(address: &str) -> Outcome {
        Outcome::Upsert(Box::new(InstanceRecord {
            address: address.into(),
            mode: Default::default(),
            resource_type: "posture_data".into(),
            provider: "posture".into(),
            target: None,
            schema_version: 0,
            attributes: serde_json::json!({ "id": address }),
            sensitive_paths: vec![],
            dependencies: vec![],
            create_before_destroy: false,
            tainted: false,
            deposed: Default::default(),
        }))
    }

    fn addresses(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("posture_data.x[{i}]")).collect()
    }

    fn loaded(b: &LocalBackend) -> State {
        b.load().expect("load")
    }

    #[test]
    fn intent_ids_sort_in_the_order_they_were_recorded() {
        // Random ids spread a batch over the whole intents tree: recording
        // and completing 100,000 of them was most of a large apply.
        let tmp = tempfile::tempdir().expect("tempdir");
        let b = open(tmp.path());
        let first = b.record_intent(new("posture_data.a")).expect("one");
        let batch = b
            .record_intents(addresses(300).iter().map(|a| new(a)).collect())
            .expect("batch");
        let last = b.record_intent(new("posture_data.z")).expect("one");
        let ids: Vec<String> = std::iter::once(first)
            .chain(batch)
            .chain(std::iter::once(last))
            .map(|i| i.0)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let pending: Vec<String> = b
            .pending_intents()
            .expect("pending")
            .into_iter()
            .map(|i| i.id.0)
            .collect();
        assert_eq!(pending, ids);
    }

    #[test]
    fn a_batch_larger_than_one_transaction_records_and_completes_every_intent() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let b = open(tmp.path());
        let addrs = addresses(2 * CHUNK + 5);
        let ids = b
            .record_intents(addrs.iter().map(|a| new(a)).collect())
            .expect("recorded");
        assert_eq!(b.pending_intents().expect("pending").len(), addrs.len());
        let done = ids.into_iter().zip(&addrs).map(|(i, a)| (i, upsert(a)));
        b.complete_intents(done.collect()).expect("completed");
        assert!(b.pending_intents().expect("pending").is_empty());
        assert_eq!(loaded(&b).instances.len(), addrs.len());
        assert_eq!(b.commit(None, "test").expect("commit"), 1);
    }

    #[test]
    fn a_refused_outcome_in_a_batch_records_those_before_it_and_keeps_the_rest_pending() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let b = open(tmp.path());
        let addrs = addresses(5);
        let ids = b
            .record_intents(addrs.iter().map(|a| new(a)).collect())
            .expect("recorded");
        let done: Vec<(IntentId, Outcome)> = ids
            .iter()
            .zip(&addrs)
            .enumerate()
            .map(|(n, (i, a))| {
                let who = if n == 2 { "posture_data.other" } else { a };
                (i.clone(), upsert(who))
            })
            .collect();
        let err = b.complete_intents(done).expect_err("refused");
        assert!(matches!(err, StateError::AddressMismatch { .. }), "{err:?}");
        let recorded: Vec<String> = loaded(&b).instances.into_keys().collect();
        assert_eq!(recorded, addrs[..2].to_vec());
        let pending: Vec<IntentId> = b
            .pending_intents()
            .expect("pending")
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(pending, ids[2..].to_vec());
    }

    #[test]
    fn a_group_completed_in_parts_keeps_exactly_the_rest_pending_across_a_reopen() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let addrs = addresses(10);
        let ids = {
            let b = open(tmp.path());
            let ids = b
                .record_intents(addrs.iter().map(|a| new(a)).collect())
                .expect("recorded");
            assert_eq!(b.store.intents.len(), 1, "one key for the chunk");
            let done = ids[..4]
                .iter()
                .cloned()
                .zip(addrs[..4].iter().map(|a| upsert(a)));
            b.complete_intents(done.collect()).expect("first part");
            b.close().expect("close");
            ids
        };
        let b = open(tmp.path());
        let pending: Vec<IntentId> = b
            .pending_intents()
            .expect("pending")
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(pending, ids[4..].to_vec());
        assert_eq!(b.pending_count().expect("count"), 6);
        // A completed member is not pending any more.
        let again = b.complete_intent(&ids[0], upsert(&addrs[0]));
        assert!(
            matches!(again, Err(StateError::UnknownIntent { .. })),
            "{again:?}"
        );
        for (id, a) in ids[4..].iter().zip(&addrs[4..]) {
            b.complete_intent(id, upsert(a)).expect("one by one");
        }
        assert!(b.pending_intents().expect("pending").is_empty());
        assert_eq!(b.store.intents.len(), 0, "an emptied group is removed");
        assert_eq!(loaded(&b).instances.len(), addrs.len());
    }
    #[test]
    fn pending_count_counted_an_undecodable_intent_group_as_one_instead_of_reporting_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let b = open(tmp.path());
        b.record_intents(addresses(3).iter().map(|a| new(a)).collect())
            .expect("recorded");
        assert_eq!(b.pending_count().expect("count"), 3);
        // Cut the group short: its last member's length points past the end.
        let (key, raw) = b
            .store
            .intents
            .iter()
            .next()
            .expect("one group")
            .expect("read");
        assert!(group::is_group(&raw));
        b.store
            .intents
            .insert(&key, &raw[..raw.len() - 3])
            .expect("damage");
        let counted = b.pending_count();
        let read = b.pending_intents();
        assert!(
            matches!(counted, Err(StateError::Corrupt { .. })),
            "{counted:?}"
        );
        assert!(matches!(read, Err(StateError::Corrupt { .. })), "{read:?}");
        let message = counted.expect_err("corrupt").to_string();
        assert!(message.contains("truncated"), "{message}");
    }
}

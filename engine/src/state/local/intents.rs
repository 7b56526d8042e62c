//! Intents of a [`LocalBackend`]: recording one, and completing it with its
//! outcome, each in one transaction (the caller flushes).

use sled::Transactional;
use sled::transaction::abort;

use super::super::clock::{now_unix_ms, rfc3339};
use super::super::error::{Result, StateError};
use super::super::json;
use super::super::model::{Intent, IntentId, NewIntent, Outcome};
use super::super::store::{TxResult, tx_err};
use super::{LocalBackend, to_json};

impl LocalBackend {
    /// Records one intent in one transaction, without flushing.
    pub(super) fn insert_intent(&self, intent: NewIntent) -> Result<IntentId> {
        let id = IntentId(uuid::Uuid::new_v4().to_string());
        {
            let _g = self.guard();
            let op_seq = self.store.next_op_seq();
            let json = to_json(&Intent {
                id: id.clone(),
                address: intent.address,
                action: intent.action,
                planned: intent.planned,
                recorded_at: rfc3339(now_unix_ms()),
                seq: op_seq,
                lock_id: self.lock.info().id.clone(),
            });
            (&self.store.meta, &self.store.intents)
                .transaction(|(meta, intents)| {
                    intents.insert(id.0.as_bytes(), json.as_slice())?;
                    meta.insert("op_seq", &op_seq.to_be_bytes())?;
                    TxResult::Ok(())
                })
                .map_err(|e| tx_err(&self.store.path, e))?;
            self.store.committed(op_seq);
        }
        Ok(id)
    }

    /// Applies one outcome and drops its intent in one transaction, without flushing.
    pub(super) fn apply_outcome(&self, id: &IntentId, outcome: Outcome) -> Result<()> {
        let s = &self.store;
        let record = match &outcome {
            Outcome::Upsert(r) => Some((r.address.clone(), to_json(r))),
            _ => None,
        };
        {
            let _g = self.guard();
            let op_seq = s.next_op_seq();
            (&s.meta, &s.intents, &s.instances)
                .transaction(|(meta, intents, instances)| {
                    let Some(raw) = intents.remove(id.0.as_bytes())? else {
                        return abort(StateError::UnknownIntent { id: id.0.clone() });
                    };
                    let intent: Intent = match json::from_slice(&raw) {
                        Ok(i) => i,
                        Err(e) => return abort(s.corrupt(&format!("intent {id}: {e}"))),
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
                            let old = instances.insert(address.as_bytes(), json.as_slice())?;
                            if old.as_deref() != Some(json.as_slice()) {
                                meta.insert("dirty", &[1u8])?;
                            }
                        }
                        (Outcome::Remove, _) => {
                            let removed = instances.remove(intent.address.as_bytes())?;
                            if removed.is_some() {
                                meta.insert("dirty", &[1u8])?;
                            }
                        }
                        _ => {}
                    }
                    meta.insert("op_seq", &op_seq.to_be_bytes())?;
                    Ok(())
                })
                .map_err(|e| tx_err(&s.path, e))?;
            s.committed(op_seq);
        }
        Ok(())
    }
}

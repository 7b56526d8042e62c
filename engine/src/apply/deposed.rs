//! Create-before-destroy without orphans: a replacement's create records
//! the new object and keeps the old one in the same record as *deposed*, in
//! one atomic write; only the old object's completed delete removes it. A
//! run killed in between leaves the deposed object in state, and the next
//! plan destroys it. Every operation on an address that holds (or will hold)
//! deposed objects composes its record here, under one lock, so two
//! operations on one address never overwrite each other's part.

use super::ops::OpKind;
use crate::plan::{Action, Plan, ResourceChange};
use crate::state::{DeposedObject, InstanceRecord, Outcome, State};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The records of the addresses that compose, as this run changes them.
pub(super) struct Records {
    /// By address; `None` once the record is removed.
    recs: BTreeMap<String, Option<InstanceRecord>>,
    /// The deposed key a replacement's create gave the old object, by address.
    keys: HashMap<String, String>,
}

/// Shared by the node tasks of one apply.
pub(super) type SharedRecords = Arc<Mutex<Records>>;

impl Records {
    /// The records of the addresses `plan` replaces create-before-destroy
    /// or deletes deposed objects of; `None` when there are none.
    pub fn of(plan: &Plan, state: &State) -> Option<SharedRecords> {
        let recs: BTreeMap<String, Option<InstanceRecord>> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::CreateThenDelete || c.deposed.is_some())
            .map(|c| (c.address.clone(), state.instances.get(&c.address).cloned()))
            .collect();
        (!recs.is_empty()).then(|| {
            Arc::new(Mutex::new(Records {
                recs,
                keys: HashMap::new(),
            }))
        })
    }

    /// The deposed key this run's replacement gave the old object at `address`.
    pub fn key_of(&self, address: &str) -> Option<String> {
        self.keys.get(address).cloned()
    }

    /// True when operations on `address` compose here.
    pub fn composes(&self, address: &str) -> bool {
        self.recs.contains_key(address)
    }

    /// What to record for one operation of `c`: `outcome` is what the
    /// operation alone would record, `applied` whether the provider did it.
    pub fn compose(
        &mut self,
        c: &ResourceChange,
        kind: OpKind,
        applied: bool,
        outcome: Outcome,
    ) -> Outcome {
        if !applied {
            return Outcome::NoChange;
        }
        let current = self.recs.get(&c.address).cloned().flatten();
        let composed = match (&c.deposed, c.action, kind, outcome) {
            // A deposed object deleted: the rest of the record stays.
            (Some(key), _, _, _) => match current {
                Some(mut rec) => {
                    rec.deposed.remove(key);
                    settle(rec)
                }
                None => Outcome::NoChange,
            },
            // The replacement exists: the old object becomes deposed.
            (None, Action::CreateThenDelete, OpKind::Create, Outcome::Upsert(mut new)) => {
                if let Some(old) = current {
                    new.deposed = old.deposed;
                    if !old.attributes.is_null() {
                        let key = new_key();
                        new.deposed.insert(
                            key.clone(),
                            DeposedObject {
                                attributes: old.attributes,
                                sensitive_paths: old.sensitive_paths,
                            },
                        );
                        self.keys.insert(c.address.clone(), key);
                    }
                }
                Outcome::Upsert(new)
            }
            // The old object of this run's replacement is gone.
            (None, Action::CreateThenDelete, OpKind::Delete, _) => {
                match (current, self.keys.remove(&c.address)) {
                    (Some(mut rec), Some(key)) => {
                        rec.deposed.remove(&key);
                        Outcome::Upsert(Box::new(rec))
                    }
                    _ => Outcome::NoChange,
                }
            }
            // Any other operation on the current object keeps the deposed ones.
            (None, _, _, Outcome::Upsert(mut new)) => {
                new.deposed = current.map(|r| r.deposed).unwrap_or_default();
                Outcome::Upsert(new)
            }
            (None, _, _, Outcome::Remove) => match current {
                Some(mut rec) if !rec.deposed.is_empty() => {
                    rec.attributes = serde_json::Value::Null;
                    rec.sensitive_paths.clear();
                    rec.tainted = false;
                    Outcome::Upsert(Box::new(rec))
                }
                _ => Outcome::Remove,
            },
            (None, _, _, Outcome::NoChange) => Outcome::NoChange,
        };
        match &composed {
            Outcome::Upsert(r) => {
                self.recs.insert(c.address.clone(), Some((**r).clone()));
            }
            Outcome::Remove => {
                self.recs.insert(c.address.clone(), None);
            }
            Outcome::NoChange => {}
        }
        composed
    }
}

/// A record left with neither a current nor a deposed object is removed.
fn settle(rec: InstanceRecord) -> Outcome {
    if rec.deposed.is_empty() && rec.attributes.is_null() {
        Outcome::Remove
    } else {
        Outcome::Upsert(Box::new(rec))
    }
}

/// A deposed key: 8 hex digits, as Terraform's.
fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

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
pub(super) fn settle(rec: InstanceRecord) -> Outcome {
    if rec.deposed.is_empty() && rec.attributes.is_null() {
        Outcome::Remove
    } else {
        Outcome::Upsert(Box::new(rec))
    }
}

/// A deposed key: 8 hex digits, as Terraform's.
pub(super) fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use serde_json::json;

    fn rec(attributes: serde_json::Value, deposed: &[(&str, &str)]) -> InstanceRecord {
        InstanceRecord {
            address: "fake_thing.t".into(),
            mode: crate::state::Mode::Managed,
            resource_type: "fake_thing".into(),
            provider: "fake".into(),
            target: None,
            schema_version: 0,
            attributes,
            sensitive_paths: vec![],
            dependencies: vec![],
            create_before_destroy: false,
            tainted: false,
            deposed: deposed
                .iter()
                .map(|(k, id)| {
                    (
                        k.to_string(),
                        DeposedObject {
                            attributes: json!({ "id": id }),
                            sensitive_paths: vec![],
                        },
                    )
                })
                .collect(),
        }
    }

    fn change(action: Action, deposed: Option<&str>) -> ResourceChange {
        ResourceChange {
            address: "fake_thing.t".into(),
            data: false,
            type_name: "fake_thing".into(),
            provider: "fake".into(),
            action,
            reason: None,
            before: Value::NULL,
            after: Value::NULL,
            replace_paths: vec![],
            dependencies: vec![],
            create_before_destroy: false,
            notes: vec![],
            tainted: false,
            deposed: deposed.map(str::to_string),
        }
    }

    fn records(r: InstanceRecord) -> Records {
        Records {
            recs: BTreeMap::from([(r.address.clone(), Some(r))]),
            keys: HashMap::new(),
        }
    }

    fn upserted(o: &Outcome) -> &InstanceRecord {
        match o {
            Outcome::Upsert(r) => r,
            other => panic!("expected an upsert, got {other:?}"),
        }
    }

    #[test]
    fn a_delete_then_create_keeps_the_deposed_objects_of_its_address() {
        let mut rs = records(rec(json!({"id": "b"}), &[("0000000a", "a")]));
        let c = change(Action::DeleteThenCreate, None);
        // The current object is deleted: the record stays for the deposed one.
        let o = rs.compose(&c, OpKind::Delete, true, Outcome::Remove);
        let r = upserted(&o);
        assert!(r.attributes.is_null());
        assert_eq!(r.deposed.len(), 1);
        let o = rs.compose(
            &c,
            OpKind::Create,
            true,
            Outcome::Upsert(Box::new(rec(json!({"id": "c"}), &[]))),
        );
        let r = upserted(&o);
        assert_eq!(r.attributes["id"], "c");
        assert_eq!(r.deposed["0000000a"].attributes["id"], "a");
        // Its deposed object deleted, nothing of the old record is left over.
        let o = rs.compose(
            &change(Action::Delete, Some("0000000a")),
            OpKind::Delete,
            true,
            Outcome::Remove,
        );
        assert!(upserted(&o).deposed.is_empty());
    }

    #[test]
    fn the_last_deposed_object_of_a_record_without_a_current_one_removes_it() {
        let mut rs = records(rec(serde_json::Value::Null, &[("0000000a", "a")]));
        let o = rs.compose(
            &change(Action::Delete, Some("0000000a")),
            OpKind::Delete,
            true,
            Outcome::Remove,
        );
        assert_eq!(o, Outcome::Remove);
    }

    #[test]
    fn a_failed_operation_changes_nothing_and_a_replacement_deposes_the_old_object_once() {
        let mut rs = records(rec(json!({"id": "a"}), &[]));
        let c = change(Action::CreateThenDelete, None);
        assert_eq!(
            rs.compose(&c, OpKind::Create, false, Outcome::NoChange),
            Outcome::NoChange
        );
        let o = rs.compose(
            &c,
            OpKind::Create,
            true,
            Outcome::Upsert(Box::new(rec(json!({"id": "b"}), &[]))),
        );
        let key = rs.key_of("fake_thing.t").expect("a key");
        assert_eq!(upserted(&o).deposed[&key].attributes["id"], "a");
        // The delete fails: the old object stays deposed.
        assert_eq!(
            rs.compose(&c, OpKind::Delete, false, Outcome::NoChange),
            Outcome::NoChange
        );
        let o = rs.compose(&c, OpKind::Delete, true, Outcome::NoChange);
        let r = upserted(&o);
        assert_eq!(r.attributes["id"], "b");
        assert!(r.deposed.is_empty());
    }
}

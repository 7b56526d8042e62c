//! The server-side apply merge: the applied configuration is merged into the live
//! object; fields whose value changes and that another manager owns are conflicts
//! (unless forced); fields the applier owned before and now omits are removed when
//! nobody else owns them; managedFields record the applier's set (operation Apply).
//!
//! Must not validate or store objects (the caller commits the result).

use serde_json::Value;

use super::fieldset::{
    FieldSet, changed_fields, display_path, fields_of, key_element, remove_path,
};
use super::managed::{self, Entry};
use super::schema::{ListType, Schema, Seg};

/// A field another manager owns with a different value: (manager, apiVersion, field).
pub type Conflict = (String, String, String);

/// A field another manager owns with a different value, with what a real server needs
/// to word the conflict: the owner's operation decides whether its apiVersion is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The owning manager's name.
    pub manager: String,
    /// Its managedFields operation: `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion its entry records.
    pub api_version: String,
    /// Its subresource (`status`), if any.
    pub subresource: Option<String>,
    /// The field, as a path (`.data.x`).
    pub field: String,
}

/// Merges `applied` into `live` for `manager`; returns the new object or the conflicts
/// as (manager, apiVersion, field). See [`apply_detailed`] for the owners' operations.
pub fn apply(
    live: &Value,
    applied: &Value,
    manager: &str,
    force: bool,
    schema: &Schema,
) -> Result<Value, Vec<Conflict>> {
    apply_detailed(live, applied, manager, force, schema).map_err(|cs| {
        cs.into_iter()
            .map(|c| (c.manager, c.api_version, c.field))
            .collect()
    })
}

/// Merges `applied` into `live` for `manager`; returns the new object or the conflicts.
pub fn apply_detailed(
    live: &Value,
    applied: &Value,
    manager: &str,
    force: bool,
    schema: &Schema,
) -> Result<Value, Vec<FieldConflict>> {
    let mut entries = managed::read(live);
    let new_set = fields_of(applied, schema);
    let mut merged = live.clone();
    merge_into(&mut merged, applied, schema, &mut Vec::new());
    let changed = changed_fields(live, &merged, schema).intersection(&new_set);

    let mut conflicts = Vec::new();
    // Managers are (name, operation) pairs, as in structured-merge-diff: the applier's
    // own earlier Update entry is another manager and can conflict too.
    for e in entries
        .iter_mut()
        .filter(|e| !(e.manager == manager && e.operation == "Apply"))
    {
        let clash = e.fields.intersection(&changed);
        if clash.is_empty() {
            continue;
        }
        if force {
            e.fields = e.fields.difference(&clash);
        } else {
            for p in clash.paths() {
                conflicts.push(FieldConflict {
                    manager: e.manager.clone(),
                    operation: e.operation.clone(),
                    api_version: e.api_version.clone(),
                    subresource: e.subresource.clone(),
                    field: display_path(&p),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }

    let previous = entries
        .iter()
        .find(|e| e.manager == manager && e.operation == "Apply")
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let removed = previous.difference(&new_set);
    let others: FieldSet = entries
        .iter()
        .filter(|e| !(e.manager == manager && e.operation == "Apply"))
        .fold(FieldSet::default(), |acc, e| acc.union(&e.fields));
    // Deepest paths first so an item's fields go before the item itself.
    let mut paths = removed.paths();
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in paths {
        if !others.contains_prefix(&p) && !new_set.contains_prefix(&p) {
            remove_path(&mut merged, &p);
        }
    }

    let api_version = applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match entries
        .iter_mut()
        .find(|e| e.manager == manager && e.operation == "Apply")
    {
        Some(e) => {
            e.fields = new_set;
            e.time = managed::now();
            e.api_version = api_version;
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version,
            time: managed::now(),
            fields: new_set,
            subresource: None,
        }),
    }
    managed::write(&mut merged, &entries);
    Ok(merged)
}

/// Merges `src` into `dst`: maps field by field, keyed lists item by item, sets as a
/// union, anything else replaced.
pub fn merge_into(dst: &mut Value, src: &Value, schema: &Schema, segs: &mut Vec<Seg>) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                if segs.is_empty() && k == "status" {
                    continue; // status belongs to the status subresource, never to apply
                }
                if segs.len() == 1
                    && segs[0] == Seg::Field("metadata".into())
                    && k == "managedFields"
                {
                    continue;
                }
                segs.push(Seg::Field(k.clone()));
                match d.get_mut(k) {
                    Some(existing) if !v.is_null() => merge_into(existing, v, schema, segs),
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
                segs.pop();
            }
        }
        (d @ Value::Array(_), Value::Array(s)) => match schema.list_type(segs) {
            ListType::Map(keys) => {
                let Value::Array(list) = d else { return };
                segs.push(Seg::Item);
                for item in s {
                    let pe = key_element(item, &keys);
                    let pos = pe.as_ref().and_then(|pe| {
                        list.iter()
                            .position(|it| key_element(it, &keys).as_ref() == Some(pe))
                    });
                    match pos {
                        Some(i) => merge_into(&mut list[i], item, schema, segs),
                        None => list.push(item.clone()),
                    }
                }
                segs.pop();
            }
            ListType::Set => {
                let Value::Array(list) = d else { return };
                for item in s {
                    if !list.contains(item) {
                        list.push(item.clone());
                    }
                }
            }
            ListType::Atomic => *d = src.clone(),
        },
        (d, s) => *d = s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm() -> Schema {
        Schema::builtin("ConfigMap")
    }

    fn base() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}})
    }

    #[test]
    fn second_manager_conflicts_then_force_takes_ownership() {
        let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1"}});
        let live = apply(&base(), &a, "alice", false, &cm()).expect("first apply");
        let b = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "2"}});
        let err = apply(&live, &b, "bob", false, &cm()).expect_err("conflict");
        assert_eq!(
            err,
            vec![("alice".to_string(), "v1".to_string(), ".data.k".to_string())]
        );
        let forced = apply(&live, &b, "bob", true, &cm()).expect("forced");
        assert_eq!(forced["data"]["k"], "2");
        let e = managed::read(&forced);
        assert_eq!(e.len(), 1, "alice lost her only field: {e:?}");
        assert_eq!(e[0].manager, "bob");
    }

    #[test]
    fn same_value_is_shared_without_conflict() {
        let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1"}});
        let live = apply(&base(), &a, "alice", false, &cm()).expect("first");
        let both = apply(&live, &a, "bob", false, &cm()).expect("same value");
        assert_eq!(managed::read(&both).len(), 2);
    }

    #[test]
    fn omitted_field_is_removed_unless_someone_else_owns_it() {
        let a1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1", "j": "2"}});
        let live = apply(&base(), &a1, "alice", false, &cm()).expect("first");
        let shared = apply(
            &live,
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"j": "2"}}),
            "bob",
            false,
            &cm(),
        )
        .expect("bob");
        let a2 =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
        let after = apply(&shared, &a2, "alice", false, &cm()).expect("second");
        assert_eq!(after["data"], json!({"j": "2"}));
    }

    #[test]
    fn own_update_entry_is_another_manager() {
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1"}});
        managed::record_update(None, &mut live, "posture", None, &cm());
        let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "2"}});
        let err = apply_detailed(&live, &a, "posture", false, &cm())
            .expect_err("conflict with own Update entry");
        assert_eq!(
            (err[0].manager.as_str(), err[0].operation.as_str()),
            ("posture", "Update")
        );
        let same = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "1"}});
        let shared = apply(&live, &same, "posture", false, &cm()).expect("same value is shared");
        assert_eq!(managed::read(&shared).len(), 2);
    }

    #[test]
    fn containers_merge_by_name() {
        let s = Schema::builtin("Deployment");
        let live = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        let applied =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "z"}]}}}});
        let out = apply(&live, &applied, "m", false, &s).expect("no owners, no conflict");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "x"}, {"name": "b", "image": "z"}])
        );
    }
}

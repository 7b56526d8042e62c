//! `metadata.managedFields`: reading and writing the per-manager entries, and the
//! ownership rule of non-apply writes (create, update, merge/JSON/strategic patch):
//! the writer takes the fields it changed, others lose them, nobody keeps removed fields.
//!
//! Must not merge objects (see `ssa::apply`).

use serde_json::{Value, json};

use super::fieldset::{FieldSet, changed_fields, fields_of, status_fields};
use super::schema::Schema;

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion the manager used.
    pub api_version: String,
    /// RFC 3339 time of the last change.
    pub time: String,
    /// The owned fields.
    pub fields: FieldSet,
    /// Subresource (`status`), if any.
    pub subresource: Option<String>,
}

/// Reads the entries of an object (malformed entries are dropped).
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            Some(Entry {
                manager: s("manager").unwrap_or_default(),
                operation: s("operation")?,
                api_version: s("apiVersion").unwrap_or_default(),
                time: s("time").unwrap_or_default(),
                fields: FieldSet::from_json(e.get("fieldsV1").unwrap_or(&Value::Null)),
                subresource: s("subresource"),
            })
        })
        .collect()
}

/// Writes entries into an object, dropping empty ones.
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": e.fields.to_json()});
            if let Some(s) = &e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Current time in the format of managedFields and timestamps.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Records a non-apply write by `manager`: it owns what it changed; others lose
/// changed and removed fields. `old` is `None` for a create.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    schema: &Schema,
) {
    let mut entries = old.map(read).unwrap_or_default();
    let (changed, removed) = if subresource == Some("status") {
        let changed = status_fields(old, new, schema);
        let removed = match old {
            Some(o) => status_fields(None, o, schema).difference(&status_fields(None, new, schema)),
            None => FieldSet::default(),
        };
        (changed, removed)
    } else {
        let changed = match old {
            Some(o) => changed_fields(o, new, schema),
            None => fields_of(new, schema),
        };
        let removed = match old {
            Some(o) => fields_of(o, schema).difference(&fields_of(new, schema)),
            None => FieldSet::default(),
        };
        (changed, removed)
    };
    for e in entries.iter_mut() {
        e.fields = e.fields.difference(&changed).difference(&removed);
    }
    if !changed.is_empty() {
        let api_version = new
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match entries.iter_mut().find(|e| {
            e.manager == manager
                && e.operation == "Update"
                && e.subresource.as_deref() == subresource
        }) {
            Some(e) => {
                e.fields = e.fields.union(&changed);
                e.time = now();
                e.api_version = api_version;
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version,
                time: now(),
                fields: changed,
                subresource: subresource.map(str::to_string),
            }),
        }
    }
    write(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_writes_own_status_fields_under_the_subresource() {
        let schema = Schema::builtin("Deployment");
        let old = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let mut new = old.clone();
        new["status"] = json!({"readyReplicas": 1});
        record_update(Some(&old), &mut new, "ctrl", Some("status"), &schema);
        let e = read(&new);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].subresource.as_deref(), Some("status"));
        assert_eq!(
            e[0].fields.to_json(),
            json!({"f:status": {"f:readyReplicas": {}}})
        );
    }

    #[test]
    fn update_takes_changed_fields_from_other_managers() {
        let schema = Schema::builtin("ConfigMap");
        let mut v1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        record_update(None, &mut v1, "alice", None, &schema);
        let mut v2 = v1.clone();
        v2["data"]["b"] = json!("3");
        record_update(Some(&v1), &mut v2, "bob", None, &schema);
        let e = read(&v2);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].manager, "alice");
        assert_eq!(e[0].fields.to_json(), json!({"f:data": {"f:a": {}}}));
        assert_eq!(e[1].manager, "bob");
        assert_eq!(e[1].fields.to_json(), json!({"f:data": {"f:b": {}}}));
    }
}

//! Between engine values and state records: attributes are stored as plain
//! JSON (attributes of type `any` wrapped with their type, as Terraform
//! does), and sensitive parts as JSON pointers so they can be marked again.

use crate::schema::Schema;
use crate::state::InstanceRecord;
use crate::value::{Type, Value, convert};
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

/// JSON attributes and sensitive paths of an object value. Pointers into
/// attributes of type `any` go through their wrapper (`/input/value/...`),
/// so they point at the stored value itself.
pub fn to_state(v: &Value, schema: &Schema) -> (J, Vec<String>) {
    let paths = sensitive_paths(v, schema);
    let (plain, _) = v.clone().unmark_deep();
    let mut out = serde_json::Map::new();
    if let Some(m) = plain.as_map() {
        for (k, val) in m {
            let j = if is_dynamic(schema, k) {
                json!({"value": val.to_json(), "type": val.ty().to_json()})
            } else {
                val.to_json()
            };
            out.insert(k.clone(), j);
        }
    }
    (J::Object(out), paths)
}

fn is_dynamic(schema: &Schema, attr: &str) -> bool {
    schema
        .attributes
        .get(attr)
        .is_some_and(|a| a.ty == Type::Dynamic)
}

/// The JSON pointers (into the stored attributes) of every sensitive part
/// of `v`, and of every attribute the schema declares sensitive.
pub fn sensitive_paths(v: &Value, schema: &Schema) -> Vec<String> {
    let mut paths = Vec::new();
    if v.is_sensitive() {
        // The whole object: every attribute.
        paths.extend(schema.attributes.keys().map(|k| format!("/{}", escape(k))));
    }
    if let Some(m) = v.unmarked().as_map() {
        for (k, val) in m {
            let base = if is_dynamic(schema, k) {
                format!("/{}/value", escape(k))
            } else {
                format!("/{}", escape(k))
            };
            collect_sensitive(val, base, &mut paths);
        }
    }
    for (k, a) in &schema.attributes {
        if a.sensitive {
            paths.push(format!("/{}", escape(k)));
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

fn collect_sensitive(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Sensitive(_) => out.push(if at.is_empty() { "/".into() } else { at }),
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
            for (i, it) in items.iter().enumerate() {
                collect_sensitive(it, format!("{at}/{i}"), out);
            }
        }
        Value::Map(_, m) | Value::Object(m) => {
            for (k, it) in m {
                collect_sensitive(it, format!("{at}/{}", escape(k)), out);
            }
        }
        _ => {}
    }
}

/// The object value of a state record, typed by the schema, with its
/// sensitive parts marked again.
pub fn from_state(rec: &InstanceRecord, schema: &Schema) -> Value {
    let Some(obj) = rec.attributes.as_object() else {
        return Value::NULL;
    };
    let mut m = BTreeMap::new();
    for (k, a) in &schema.attributes {
        let raw = obj.get(k).cloned().unwrap_or(J::Null);
        let v = if a.ty == Type::Dynamic {
            match (raw.get("value"), raw.get("type").and_then(Type::from_json)) {
                (Some(val), Some(t)) => {
                    Value::from_json_typed(val, &t).unwrap_or_else(|_| Value::from_json(val))
                }
                _ => Value::from_json(&raw),
            }
        } else {
            convert::convert(Value::from_json(&raw), &a.ty)
                .unwrap_or_else(|_| Value::from_json(&raw))
        };
        m.insert(k.clone(), v);
    }
    for (k, b) in &schema.blocks {
        let raw = obj.get(k).cloned().unwrap_or(J::Null);
        let t = match b.nesting {
            crate::schema::Nesting::Single => b.block.ty(),
            crate::schema::Nesting::List => Type::List(Box::new(b.block.ty())),
            crate::schema::Nesting::Set => Type::Set(Box::new(b.block.ty())),
        };
        m.insert(
            k.clone(),
            convert::convert(Value::from_json(&raw), &t).unwrap_or(Value::Null(t)),
        );
    }
    let mut v = Value::Object(m);
    for p in &rec.sensitive_paths {
        let mut segs: Vec<&str> = p
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        // Pointers into an `any` attribute pass through its wrapper.
        if segs.len() >= 2
            && segs[1] == "value"
            && is_dynamic(schema, &segs[0].replace("~1", "/").replace("~0", "~"))
        {
            segs.remove(1);
        }
        v = mark_at(v, &segs);
    }
    v
}

fn mark_at(v: Value, path: &[&str]) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return v.mark_sensitive();
    };
    let key = first.replace("~1", "/").replace("~0", "~");
    match v {
        Value::Object(mut m) => {
            if let Some(x) = m.remove(&key) {
                m.insert(key, mark_at(x, rest));
            }
            Value::Object(m)
        }
        Value::Map(t, mut m) => {
            if let Some(x) = m.remove(&key) {
                m.insert(key, mark_at(x, rest));
            }
            Value::Map(t, m)
        }
        Value::List(t, mut items) => {
            if let Some(i) = key.parse::<usize>().ok().filter(|i| *i < items.len()) {
                let x = std::mem::replace(&mut items[i], Value::NULL);
                items[i] = mark_at(x, rest);
            }
            Value::List(t, items)
        }
        Value::Tuple(mut items) => {
            if let Some(i) = key.parse::<usize>().ok().filter(|i| *i < items.len()) {
                let x = std::mem::replace(&mut items[i], Value::NULL);
                items[i] = mark_at(x, rest);
            }
            Value::Tuple(items)
        }
        Value::Sensitive(inner) => mark_at(*inner, path).mark_sensitive(),
        // Set elements have no stable place: the set is marked whole.
        set @ Value::Set(..) => set.mark_sensitive(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::posture_data_schema;

    #[test]
    fn dynamic_attributes_keep_their_types_and_marks() {
        let schema = posture_data_schema();
        let v = Value::Object(BTreeMap::from([
            ("id".to_string(), Value::from("abc")),
            (
                "input".to_string(),
                Value::list_of(vec![Value::from("a"), Value::from("b").mark_sensitive()]),
            ),
            ("output".to_string(), Value::NULL),
            ("triggers_replace".to_string(), Value::NULL),
        ]));
        let (attrs, paths) = to_state(&v, &schema);
        assert_eq!(paths, vec!["/input/value/1".to_string()]);
        assert!(
            !attrs.to_string().contains("(sensitive"),
            "state keeps the real value, marked by path"
        );
        let rec = InstanceRecord {
            address: "posture_data.x".into(),
            mode: Default::default(),
            resource_type: "posture_data".into(),
            provider: "posture".into(),
            target: None,
            schema_version: 0,
            attributes: attrs,
            sensitive_paths: paths,
            dependencies: vec![],
            create_before_destroy: false,
            tainted: false,
            deposed: Default::default(),
        };
        let back = from_state(&rec, &schema);
        let input = &back.as_map().expect("object")["input"];
        assert_eq!(input.ty(), Type::List(Box::new(Type::String)));
        assert!(input.as_seq().expect("list")[1].is_sensitive());
    }
}

//! Field sets in the FieldsV1 format of `metadata.managedFields`: which fields of an
//! object a manager owns, as a tree of path elements (`f:name`, `k:{"name":"x"}`,
//! `v:"a"`, `i:0`), plus the walks that compute them from objects.
//!
//! Knows list types (atomic, map by key, set) from `ssa::schema`; must not decide
//! ownership (see `ssa::apply` and `ssa::managed`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::schema::{ListType, Schema, Seg};

/// A set of field paths, stored as a tree; `member` marks a node that is itself in the set.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldSet {
    /// Whether the path ending here is a member.
    pub member: bool,
    /// Children by encoded path element.
    pub children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// Whether the set has no member at all.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds one path.
    pub fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether the path is a member.
    pub fn contains(&self, path: &[String]) -> bool {
        let mut node = self;
        for pe in path {
            match node.children.get(pe) {
                Some(n) => node = n,
                None => return false,
            }
        }
        node.member
    }

    /// Whether the path or anything below it is a member.
    pub fn contains_prefix(&self, path: &[String]) -> bool {
        let mut node = self;
        for pe in path {
            match node.children.get(pe) {
                Some(n) => node = n,
                None => return false,
            }
        }
        !node.is_empty()
    }

    /// Removes one path (not its descendants); prunes empty nodes.
    pub fn remove(&mut self, path: &[String]) {
        fn rec(node: &mut FieldSet, path: &[String]) {
            match path.split_first() {
                None => node.member = false,
                Some((pe, rest)) => {
                    if let Some(child) = node.children.get_mut(pe) {
                        rec(child, rest);
                        if child.is_empty() {
                            node.children.remove(pe);
                        }
                    }
                }
            }
        }
        rec(self, path);
    }

    /// All member paths, depth first.
    pub fn paths(&self) -> Vec<Vec<String>> {
        fn rec(node: &FieldSet, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            if node.member {
                out.push(prefix.clone());
            }
            for (k, c) in &node.children {
                prefix.push(k.clone());
                rec(c, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        rec(self, &mut Vec::new(), &mut out);
        out
    }

    /// Members of `self` not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for p in self.paths() {
            if !other.contains(&p) {
                out.insert(&p);
            }
        }
        out
    }

    /// Members in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for p in self.paths() {
            if other.contains(&p) {
                out.insert(&p);
            }
        }
        out
    }

    /// Members in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for p in other.paths() {
            out.insert(&p);
        }
        out
    }

    /// The FieldsV1 JSON (`{"f:data":{"f:key":{}}}`).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            if !c.is_empty() {
                m.insert(k.clone(), c.to_json());
            }
        }
        Value::Object(m)
    }

    /// Parses FieldsV1 JSON; unknown shapes are ignored (never fails).
    pub fn from_json(v: &Value) -> FieldSet {
        fn rec(v: &Value) -> FieldSet {
            let mut node = FieldSet::default();
            match v.as_object() {
                Some(m) if m.is_empty() => node.member = true,
                Some(m) => {
                    for (k, c) in m {
                        if k == "." {
                            node.member = true;
                        } else {
                            node.children.insert(k.clone(), rec(c));
                        }
                    }
                }
                None => node.member = true,
            }
            node
        }
        let mut root = rec(v);
        root.member = false; // the root is never a member of itself
        root
    }
}

/// `.spec.containers[name="web"].image` style rendering of a path, for conflict messages.
pub fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// Encodes the key element of a list-map item from its key fields.
pub fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = item.get(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    if m.is_empty() {
        return None;
    }
    // serde_json with preserve_order keeps insertion order; sort for a canonical form.
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let m: Map<String, Value> = entries.into_iter().collect();
    Some(format!("k:{}", Value::Object(m)))
}

/// Finds the index of the list item a path element names.
pub fn find_item(list: &[Value], pe: &str) -> Option<usize> {
    if let Some(k) = pe.strip_prefix("k:") {
        let want: Map<String, Value> = serde_json::from_str(k).ok()?;
        list.iter()
            .position(|it| want.iter().all(|(k, v)| it.get(k) == Some(v)))
    } else if let Some(v) = pe.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        list.iter().position(|it| *it == want)
    } else if let Some(i) = pe.strip_prefix("i:") {
        i.parse::<usize>().ok().filter(|i| *i < list.len())
    } else {
        None
    }
}

/// The value at a path, if present.
pub fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for pe in path {
        cur = if let Some(f) = pe.strip_prefix("f:") {
            cur.as_object()?.get(f)?
        } else {
            let list = cur.as_array()?;
            &list[find_item(list, pe)?]
        };
    }
    Some(cur)
}

/// Removes the value at a path; returns whether something was removed.
pub fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut cur = v;
    for pe in parent {
        let next = if let Some(f) = pe.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else {
            match cur.as_array_mut() {
                Some(list) => match find_item(list, pe) {
                    Some(i) => list.get_mut(i),
                    None => None,
                },
                None => None,
            }
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        cur.as_object_mut().and_then(|m| m.remove(f)).is_some()
    } else if let Some(list) = cur.as_array_mut() {
        match find_item(list, last) {
            Some(i) => {
                list.remove(i);
                true
            }
            None => false,
        }
    } else {
        false
    }
}

/// Top-level and metadata fields the server owns; never part of a manager's set.
fn ignored(path: &[String]) -> bool {
    match path {
        [one] => matches!(one.as_str(), "f:apiVersion" | "f:kind" | "f:status"),
        [m, f] if m == "f:metadata" => matches!(
            f.as_str(),
            "f:name"
                | "f:namespace"
                | "f:uid"
                | "f:resourceVersion"
                | "f:generation"
                | "f:creationTimestamp"
                | "f:managedFields"
                | "f:deletionTimestamp"
                | "f:deletionGracePeriodSeconds"
                | "f:selfLink"
                | "f:generateName"
        ),
        _ => false,
    }
}

/// Every field path an object sets (leaves, list-map items, set items).
pub fn fields_of(obj: &Value, schema: &Schema) -> FieldSet {
    let mut out = FieldSet::default();
    walk(
        obj,
        None,
        schema,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut out,
    );
    out
}

/// Paths of `new` whose value differs from (or is absent in) `old`.
pub fn changed_fields(old: &Value, new: &Value, schema: &Schema) -> FieldSet {
    let mut out = FieldSet::default();
    walk(
        new,
        Some(old),
        schema,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut out,
    );
    out
}

/// Like [`fields_of`] and [`changed_fields`], for the `.status` subtree only (writes
/// through the status subresource). `old` is `None` for all fields of `new`.
pub fn status_fields(old: Option<&Value>, new: &Value, schema: &Schema) -> FieldSet {
    let mut out = FieldSet::default();
    let Some(status) = new.get("status") else {
        return out;
    };
    let mut path = vec!["f:status".to_string()];
    let mut segs = vec![Seg::Field("status".into())];
    walk(status, old, schema, &mut segs, &mut path, &mut out);
    out
}

fn walk(
    v: &Value,
    old: Option<&Value>,
    schema: &Schema,
    segs: &mut Vec<Seg>,
    path: &mut Vec<String>,
    out: &mut FieldSet,
) {
    let differs = |o: Option<&Value>| match old {
        None => true,
        Some(root) => o.is_none() || get_path(root, path) != Some(v),
    };
    match v {
        Value::Object(m) if !m.is_empty() || path.is_empty() => {
            for (k, c) in m {
                path.push(format!("f:{k}"));
                segs.push(Seg::Field(k.clone()));
                if !ignored(path) {
                    walk(c, old, schema, segs, path, out);
                }
                segs.pop();
                path.pop();
            }
        }
        Value::Array(items) => match schema.list_type(segs) {
            ListType::Map(keys) => {
                for it in items {
                    let Some(pe) = key_element(it, &keys) else {
                        continue;
                    };
                    path.push(pe);
                    segs.push(Seg::Item);
                    let existed = old.and_then(|o| get_path(o, path)).is_some();
                    if old.is_none() || !existed {
                        out.insert(path);
                    }
                    if let Value::Object(m) = it {
                        for (k, c) in m {
                            path.push(format!("f:{k}"));
                            segs.push(Seg::Field(k.clone()));
                            walk(c, old, schema, segs, path, out);
                            segs.pop();
                            path.pop();
                        }
                    }
                    segs.pop();
                    path.pop();
                }
            }
            ListType::Set => {
                for it in items {
                    path.push(format!("v:{it}"));
                    let existed = old.and_then(|o| get_path(o, path)).is_some();
                    if old.is_none() || !existed {
                        out.insert(path);
                    }
                    path.pop();
                }
            }
            ListType::Atomic => {
                if differs(old.and_then(|o| get_path(o, path))) {
                    out.insert(path);
                }
            }
        },
        _ => {
            if differs(old.and_then(|o| get_path(o, path))) {
                out.insert(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Schema {
        Schema::builtin("Deployment")
    }

    #[test]
    fn fields_of_uses_merge_keys_and_skips_server_fields() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        let fs = fields_of(&obj, &deploy());
        let j = fs.to_json();
        assert_eq!(
            j,
            json!({"f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        assert_eq!(FieldSet::from_json(&j), fs);
    }

    #[test]
    fn changed_fields_lists_only_differences() {
        let old = json!({"data": {"a": "1", "b": "2"}});
        let new = json!({"data": {"a": "1", "b": "3", "c": "4"}});
        let fs = changed_fields(&old, &new, &Schema::builtin("ConfigMap"));
        assert_eq!(fs.to_json(), json!({"f:data": {"f:b": {}, "f:c": {}}}));
    }

    #[test]
    fn paths_resolve_and_remove_list_items() {
        let mut obj = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x"}]}});
        let p = vec![
            "f:spec".to_string(),
            "f:containers".into(),
            "k:{\"name\":\"b\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(get_path(&obj, &p), Some(&json!("x")));
        assert!(remove_path(&mut obj, &p[..3]));
        assert_eq!(obj, json!({"spec": {"containers": [{"name": "a"}]}}));
        assert_eq!(display_path(&p), ".spec.containers[name=\"b\"].image");
    }
}

//! The non-apply PATCH types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! strategic merge patch (lists of built-in kinds merged by their patch merge key, with
//! the `$patch`, `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList`
//! directives kubectl sends).
//!
//! Must not touch the store: it turns (object, patch) into a new object or an error.

use serde_json::{Map, Value};

use crate::ssa::fieldset::key_element;
use crate::ssa::schema::{ListType, Schema, Seg};
use crate::status::{ApiError, ApiResult};

/// PATCH content types the sandbox understands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// Parses a Content-Type header.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml"
            | "application/apply-patch+json"
            | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// Applies a merge, JSON or strategic patch to `obj`.
pub fn apply_patch(obj: &Value, pt: PatchType, patch: &Value, schema: &Schema) -> ApiResult<Value> {
    match pt {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal the patch into an object",
                ));
            }
            let mut out = obj.clone();
            json_patch::merge(&mut out, patch);
            Ok(out)
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("the JSON patch is invalid: {e}")))?;
            let mut out = obj.clone();
            json_patch::patch(&mut out, &ops).map_err(|e| {
                ApiError::unprocessable(format!(
                    "the server rejected our request due to an error in our request: {e}"
                ))
            })?;
            Ok(out)
        }
        PatchType::Strategic => {
            if !schema.strategic() {
                return Err(ApiError::unsupported_media(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                ));
            }
            let Value::Object(p) = patch else {
                return Err(ApiError::bad_request(
                    "the strategic merge patch must be a JSON object",
                ));
            };
            let mut out = obj.clone();
            strategic_map(&mut out, p, schema, &mut Vec::new())?;
            Ok(out)
        }
        PatchType::Apply => Err(ApiError::internal(
            "apply patches go through server-side apply",
        )),
    }
}

fn strategic_map(
    dst: &mut Value,
    patch: &Map<String, Value>,
    schema: &Schema,
    segs: &mut Vec<Seg>,
) -> ApiResult<()> {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut clean = patch.clone();
        clean.remove("$patch");
        *dst = Value::Object(clean);
        return Ok(());
    }
    if !dst.is_object() {
        *dst = Value::Object(Map::new());
    }
    let Value::Object(d) = dst else { return Ok(()) };
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        d.retain(|k, _| keep.contains(&k.as_str()) || patch.contains_key(k));
    }
    for (k, v) in patch {
        if k.starts_with('$') {
            continue;
        }
        segs.push(Seg::Field(k.clone()));
        match v {
            Value::Null => {
                d.remove(k);
            }
            Value::Object(pm) => {
                let entry = d.entry(k.clone()).or_insert(Value::Null);
                strategic_map(entry, pm, schema, segs)?;
            }
            Value::Array(items) => {
                let lt = schema.list_type(segs);
                let entry = d.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                strategic_list(entry, items, lt, schema, segs)?;
            }
            other => {
                d.insert(k.clone(), other.clone());
            }
        }
        segs.pop();
    }
    // `$deleteFromPrimitiveList/x` names a sibling list to remove values from.
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/")
            && let (Some(Value::Array(list)), Value::Array(del)) = (d.get_mut(field), v)
        {
            list.retain(|x| !del.contains(x));
        }
    }
    Ok(())
}

fn strategic_list(
    dst: &mut Value,
    items: &[Value],
    lt: ListType,
    schema: &Schema,
    segs: &mut Vec<Seg>,
) -> ApiResult<()> {
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *dst = Value::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .cloned()
                .collect(),
        );
        return Ok(());
    }
    match lt {
        ListType::Atomic => *dst = Value::Array(items.to_vec()),
        ListType::Set => {
            if !dst.is_array() {
                *dst = Value::Array(Vec::new());
            }
            if let Value::Array(list) = dst {
                for it in items {
                    if !list.contains(it) {
                        list.push(it.clone());
                    }
                }
            }
        }
        ListType::Map(keys) => {
            if !dst.is_array() {
                *dst = Value::Array(Vec::new());
            }
            let Value::Array(list) = dst else {
                return Ok(());
            };
            segs.push(Seg::Item);
            for it in items {
                let Some(pe) = key_element(it, &keys) else {
                    segs.pop();
                    return Err(ApiError::bad_request(format!(
                        "map: {it} does not contain declared merge key: {}",
                        keys.first().map(String::as_str).unwrap_or_default()
                    )));
                };
                let pos = list
                    .iter()
                    .position(|x| key_element(x, &keys).as_deref() == Some(pe.as_str()));
                let directive = it.get("$patch").and_then(Value::as_str);
                match (pos, directive) {
                    (Some(i), Some("delete")) => {
                        list.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => {
                        if let Value::Object(pm) = it {
                            strategic_map(&mut list[i], pm, schema, segs)?;
                        }
                    }
                    (None, _) => {
                        let mut fresh = Value::Object(Map::new());
                        if let Value::Object(pm) = it {
                            strategic_map(&mut fresh, pm, schema, segs)?;
                        }
                        list.push(fresh);
                    }
                }
            }
            segs.pop();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Schema {
        Schema::builtin("Deployment")
    }

    #[test]
    fn strategic_merges_containers_by_name() {
        let obj = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "3"}, {"name": "c", "image": "4"}]}}}});
        let out = apply_patch(&obj, PatchType::Strategic, &p, &deploy()).expect("patch applies");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "1"}, {"name": "b", "image": "3"}, {"name": "c", "image": "4"}])
        );
    }

    #[test]
    fn strategic_delete_directive_and_null() {
        let obj = json!({"metadata": {"labels": {"x": "1", "y": "2"}}, "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let p = json!({"metadata": {"labels": {"x": null}}, "spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}});
        let out = apply_patch(&obj, PatchType::Strategic, &p, &deploy()).expect("patch applies");
        assert_eq!(out["metadata"]["labels"], json!({"y": "2"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b"}])
        );
    }

    #[test]
    fn merge_patch_replaces_lists_and_json_patch_edits() {
        let obj =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "z"}]}}}});
        let out = apply_patch(&obj, PatchType::Merge, &p, &deploy()).expect("merge");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "z"}])
        );
        let ops = json!([{"op": "replace", "path": "/spec/template/spec/containers/0/name", "value": "q"}]);
        let out = apply_patch(&out, PatchType::Json, &ops, &deploy()).expect("json patch");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["name"],
            "q"
        );
        let bad = json!([{"op": "test", "path": "/nope", "value": 1}]);
        assert_eq!(
            apply_patch(&out, PatchType::Json, &bad, &deploy())
                .expect_err("fails")
                .code,
            422
        );
    }

    #[test]
    fn strategic_refused_for_custom_kinds() {
        let err = apply_patch(
            &json!({}),
            PatchType::Strategic,
            &json!({}),
            &Schema::Custom(None),
        )
        .expect_err("415");
        assert_eq!(err.code, 415);
    }
}

//! The `scale` subresource of Deployments and StatefulSets (`autoscaling/v1` Scale), as
//! `kubectl scale` uses it: GET reads `spec.replicas`, PUT and PATCH write it.
//!
//! Writes go through `objects::update` on the main object, so generation,
//! resourceVersion and managedFields behave as for any spec change.

use serde_json::{Value, json};

use crate::objects::{self, Part, WriteOpts, key_of};
use crate::patch::{PatchType, apply_patch};
use crate::registry::ResourceType;
use crate::ssa::schema::Schema;
use crate::status::{ApiError, ApiResult};
use crate::store::State;

/// Whether a kind serves `/scale`.
pub fn has_scale(rt: &ResourceType) -> bool {
    rt.group == "apps" && matches!(rt.kind.as_str(), "Deployment" | "StatefulSet")
}

/// The Scale view of an object.
pub fn view(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let mut m = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(k) {
            m[k] = v.clone();
        }
    }
    let replicas = obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1));
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let current = obj.pointer("/status/replicas").cloned().unwrap_or(json!(0));
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": m,
           "spec": {"replicas": replicas}, "status": {"replicas": current, "selector": selector}})
}

/// GET of the scale subresource.
pub fn get(st: &State, rt: &ResourceType, ns: &str, name: &str) -> ApiResult<Value> {
    let obj = st
        .get(&key_of(rt), ns, name)
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    Ok(view(obj))
}

/// PUT (`patch` = None, `body` is a Scale) or PATCH of the scale subresource.
pub fn write(
    st: &mut State,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    body: &Value,
    patch: Option<PatchType>,
    opts: &WriteOpts,
) -> ApiResult<Value> {
    let current = st
        .get(&key_of(rt), ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let scale = match patch {
        None => body.clone(),
        Some(PatchType::Apply) => {
            return Err(ApiError::unsupported_media(
                "apply patches of the scale subresource are not supported by the sandbox; patch spec.replicas of the object instead",
            ));
        }
        Some(pt) => apply_patch(&view(&current), pt, body, &Schema::builtin("Scale"))?,
    };
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|r| *r >= 0)
        .ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                name,
                vec![(
                    "spec.replicas".into(),
                    "Invalid value: must be a non-negative integer".into(),
                )],
            )
        })?;
    let mut obj = (*current).clone();
    obj["spec"]["replicas"] = json!(replicas);
    if let Some(rv) = scale.pointer("/metadata/resourceVersion") {
        obj["metadata"]["resourceVersion"] = rv.clone();
    }
    let out = objects::update(st, rt, ns, name, obj, Part::Main, opts)?;
    Ok(view(&out))
}

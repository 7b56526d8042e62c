//! Defaults a real API server fills in on create and update, limited to those clients
//! depend on: Secret `stringData`/`type`, and the replicas, history limits and update
//! strategies of Deployments, StatefulSets and DaemonSets (`kubectl rollout status`
//! refuses workloads without a RollingUpdate strategy).
//!
//! Must only add absent fields, never overwrite what a client sent.

use serde_json::{Value, json};

use crate::registry::ResourceType;

/// Sets `path` (a list of keys under `obj`) to `value` if absent; `obj` must be an object.
fn default_at(obj: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for k in parents {
        if !cur.get(*k).is_some_and(Value::is_object) {
            if cur.get(*k).is_some() {
                return; // a non-object where an object belongs: leave it as the client sent it
            }
            cur[*k] = json!({});
        }
        cur = &mut cur[*k];
    }
    if cur.get(*last).is_none() {
        cur[*last] = value;
    }
}

/// Defaults a real server applies that clients rely on (rollout status reads the
/// update strategies; Secrets always have a type).
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Secret") => {
            // stringData is write-only: merged into data, base64-encoded.
            if let Some(Value::Object(sd)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            {
                for (k, v) in sd {
                    let raw = v.as_str().unwrap_or_default().as_bytes().to_vec();
                    obj["data"][k] = json!(base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        raw
                    ));
                }
            }
            default_at(obj, &["type"], json!("Opaque"));
        }
        ("apps", "Deployment") => {
            default_at(obj, &["spec", "replicas"], json!(1));
            default_at(obj, &["spec", "revisionHistoryLimit"], json!(10));
            default_at(obj, &["spec", "progressDeadlineSeconds"], json!(600));
            default_at(obj, &["spec", "strategy", "type"], json!("RollingUpdate"));
            if obj.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("RollingUpdate") {
                default_at(
                    obj,
                    &["spec", "strategy", "rollingUpdate"],
                    json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
                );
            }
        }
        ("apps", "StatefulSet") => {
            default_at(obj, &["spec", "replicas"], json!(1));
            default_at(obj, &["spec", "revisionHistoryLimit"], json!(10));
            default_at(obj, &["spec", "podManagementPolicy"], json!("OrderedReady"));
            default_at(
                obj,
                &["spec", "updateStrategy", "type"],
                json!("RollingUpdate"),
            );
            if obj
                .pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("RollingUpdate")
            {
                default_at(
                    obj,
                    &["spec", "updateStrategy", "rollingUpdate"],
                    json!({"partition": 0}),
                );
            }
        }
        ("apps", "DaemonSet") => {
            default_at(obj, &["spec", "revisionHistoryLimit"], json!(10));
            default_at(
                obj,
                &["spec", "updateStrategy", "type"],
                json!("RollingUpdate"),
            );
            if obj
                .pointer("/spec/updateStrategy/type")
                .and_then(Value::as_str)
                == Some("RollingUpdate")
            {
                default_at(
                    obj,
                    &["spec", "updateStrategy", "rollingUpdate"],
                    json!({"maxUnavailable": 1, "maxSurge": 0}),
                );
            }
        }
        _ => {}
    }
}

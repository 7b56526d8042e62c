//! `kubernetes_manifest`: engine values in and out of [`crate::object`]'s
//! operations: the planned value, the applied state, import and batch keys.

use crate::KubernetesProvider;
use crate::cluster::ClusterRef;
use crate::error::K8sError;
use crate::manifest::{
    Ident, from_json_marked, mark_secret_fields, parse_id, project, strip_server_fields, to_json,
};
use crate::object::{self, WaitSpec, parse_duration};
use posture_provider_core::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, ProviderError,
};
use posture_provider_core::value::{Type, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::time::Duration;

/// `cluster/apiVersion/kind/namespace` of a configuration or state value.
pub fn batch_key(type_name: &str, value: &Value) -> Option<String> {
    let m = value.as_map()?;
    let cluster = m
        .get("cluster")
        .and_then(Value::as_map)
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    if type_name != crate::MANIFEST {
        return Some(format!("{cluster}/bundle"));
    }
    let manifest = m.get("manifest")?;
    let mm = manifest.as_map()?;
    let s = |k: &str| mm.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
    let ns = mm
        .get("metadata")
        .and_then(Value::as_map)
        .and_then(|md| md.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(format!("{cluster}/{}/{}/{ns}", s("apiVersion"), s("kind")))
}

/// The cluster value for a name not seen in configuration: the context of
/// that name in the kubeconfig kubectl would load (the first file of
/// KUBECONFIG, recorded so later runs find it; else ~/.kube/config).
pub fn default_cluster(name: &str) -> Value {
    let kubeconfig = std::env::var("KUBECONFIG")
        .ok()
        .and_then(|k| std::env::split_paths(&k).next())
        .map(|p| Value::from(p.to_string_lossy().to_string()))
        .unwrap_or(Value::Null(Type::String));
    Value::Object(BTreeMap::from([
        ("name".to_string(), Value::from(name)),
        ("kubeconfig".to_string(), kubeconfig),
        ("context".to_string(), Value::from(name)),
        (
            "labels".to_string(),
            Value::Map(Type::String, BTreeMap::new()),
        ),
        ("field_manager".to_string(), Value::from("posture")),
    ]))
}

pub(crate) fn attr<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.as_map().and_then(|m| m.get(k)).filter(|x| !x.is_null())
}

pub(crate) fn force_of(v: &Value) -> bool {
    attr(v, "force_conflicts")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

pub(crate) fn delete_timeout(v: &Value) -> Duration {
    attr(v, "delete_timeout")
        .and_then(Value::as_str)
        .and_then(parse_duration)
        .unwrap_or(Duration::from_secs(300))
}

fn wait_spec(v: &Value) -> WaitSpec {
    let Some(w) = attr(v, "wait") else {
        return WaitSpec::default();
    };
    let mut spec = WaitSpec {
        rollout: attr(w, "rollout").and_then(Value::as_bool).unwrap_or(false),
        timeout: attr(w, "timeout")
            .and_then(Value::as_str)
            .and_then(parse_duration),
        ..Default::default()
    };
    if let Some(f) = attr(w, "fields").and_then(Value::as_map) {
        for (k, x) in f {
            if let Some(s) = x.as_str() {
                spec.fields.insert(k.clone(), s.to_string());
            }
        }
    }
    for c in attr(w, "condition").and_then(Value::as_seq).unwrap_or(&[]) {
        if let Some(t) = attr(c, "type").and_then(Value::as_str) {
            let s = attr(c, "status").and_then(Value::as_str).unwrap_or("True");
            spec.conditions.push((t.to_string(), s.to_string()));
        }
    }
    spec
}

fn cluster_of(v: &Value, address: &str) -> Result<ClusterRef, ProviderError> {
    attr(v, "cluster")
        .and_then(ClusterRef::from_value)
        .ok_or_else(|| ProviderError::new(format!("{address}: cluster is missing or not known")))
}

fn with(v: &Value, pairs: Vec<(&str, Value)>) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    for (k, x) in pairs {
        m.insert(k.to_string(), x);
    }
    if let Some(man) = m.remove("manifest") {
        let secret = man
            .as_map()
            .and_then(|x| x.get("kind"))
            .and_then(Value::as_str)
            == Some("Secret");
        let man = if secret { mark_secret_fields(man) } else { man };
        // `object` is the server's copy of the manifest's fields: what the
        // configuration marked there is marked here too.
        if let Some(o) = m.remove("object") {
            m.insert("object".to_string(), o.with_marks_of(&man));
        }
        m.insert("manifest".to_string(), man);
    }
    Value::Object(m)
}

/// Plans one `kubernetes_manifest`.
///
/// # Errors
/// A kind neither served nor planned, a malformed manifest, server errors.
pub async fn plan(p: &KubernetesProvider, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
    let at = |e: K8sError| e.at(&r.address);
    if let Some(c) = attr(&r.config, "cluster") {
        p.remember(c);
    }
    let manifest = attr(&r.config, "manifest").map(to_json);
    let cluster = attr(&r.config, "cluster").and_then(ClusterRef::from_value);
    let (Some(Some(manifest)), Some(cluster)) = (manifest, cluster) else {
        // Unknown until apply: the engine re-plans then.
        return Ok(PlanResponse {
            planned: with(
                &r.config,
                vec![
                    ("object", Value::Unknown(Type::Dynamic)),
                    ("uid", Value::Unknown(Type::String)),
                    ("id", Value::Unknown(Type::String)),
                ],
            ),
            requires_replace: Vec::new(),
            notes: Vec::new(),
        });
    };
    let id = Ident::of(&manifest).map_err(at)?;
    let prior_manifest = attr(&r.prior, "manifest").and_then(to_json);
    p.crds.note(&cluster.name, &manifest);
    // Refresh found the applied fields as recorded and the manifest is
    // unchanged: nothing to ask the server (no dry-run per object). Refresh
    // read through the recorded cluster; a cluster block now naming another
    // kubeconfig, context or field manager has not been read, so it is asked.
    let prior_cluster = attr(&r.prior, "cluster").and_then(ClusterRef::from_value);
    if prior_manifest.as_ref() == Some(&manifest)
        && prior_cluster.as_ref() == Some(&cluster)
        && p.is_clean(&r.address)
    {
        let keep = |k: &str| {
            attr(&r.prior, k)
                .cloned()
                .unwrap_or(Value::Null(Type::String))
        };
        return Ok(PlanResponse {
            planned: with(
                &r.config,
                vec![
                    ("object", keep("object")),
                    ("uid", keep("uid")),
                    ("id", keep("id")),
                ],
            ),
            requires_replace: Vec::new(),
            notes: Vec::new(),
        });
    }
    let conn = p.conns.get(&cluster).await.map_err(at)?;
    let op = object::plan(
        &conn,
        p.conns.retry,
        &p.crds,
        &cluster,
        &manifest,
        prior_manifest.as_ref(),
        force_of(&r.config),
    )
    .await
    .map_err(at)?;
    let ns = op.namespace.clone().or(id.namespace.clone());
    let uid = match attr(&r.prior, "uid") {
        Some(u) if op.replace.is_empty() && op.object.is_some() => u.clone(),
        _ => Value::Unknown(Type::String),
    };
    let object = op
        .object
        .as_ref()
        .map(|o| from_json_marked(&with_kind(o, &manifest)))
        .unwrap_or(Value::Unknown(Type::Dynamic));
    Ok(PlanResponse {
        planned: with(
            &r.config,
            vec![
                ("object", object),
                ("uid", uid),
                ("id", Value::from(id.id(&cluster.name, ns.as_deref()))),
            ],
        ),
        requires_replace: op.replace,
        notes: op.notes,
    })
}

/// The projection always carries kind, so Secret marks apply to it.
pub(crate) fn with_kind(o: &J, manifest: &J) -> J {
    let mut o = o.clone();
    if let (Some(obj), Some(k)) = (o.as_object_mut(), manifest.get("kind")) {
        obj.insert("kind".to_string(), k.clone());
    }
    o
}

/// The state after an apply: the value with `object` and `uid` from the live object.
pub fn state_of(v: &Value, live: &J, manifest: &J, cluster: &str, ns: Option<&str>) -> Value {
    let id = Ident::of(manifest).map(|i| i.id(cluster, ns));
    with(
        v,
        vec![
            (
                "object",
                from_json_marked(&with_kind(&project(live, manifest), manifest)),
            ),
            (
                "uid",
                live.pointer("/metadata/uid")
                    .and_then(J::as_str)
                    .map(Value::from)
                    .unwrap_or(Value::Null(Type::String)),
            ),
            (
                "id",
                id.map(Value::from).unwrap_or(Value::Null(Type::String)),
            ),
        ],
    )
}

/// Applies one `kubernetes_manifest` change.
/// An object applied whose wait did not complete answers Tainted: it exists
/// and must be recorded.
pub async fn apply(p: &KubernetesProvider, r: ApplyRequest) -> ApplyResult {
    match apply_inner(p, &r).await {
        Ok((v, None)) => ApplyResult::Applied(v),
        Ok((value, Some(error))) => ApplyResult::Tainted { value, error },
        Err(e) => ApplyResult::Failed(e),
    }
}

/// The object's new value, and why it is not ready when its wait failed.
async fn apply_inner(
    p: &KubernetesProvider,
    r: &ApplyRequest,
) -> Result<(Value, Option<ProviderError>), ProviderError> {
    let at = |e: K8sError| e.at(&r.address);
    let v = if r.operation == Operation::Delete {
        &r.prior
    } else {
        &r.planned
    };
    let cluster = cluster_of(v, &r.address)?;
    let manifest = attr(v, "manifest").and_then(to_json).ok_or_else(|| {
        ProviderError::new(format!("{}: manifest is not known at apply", r.address))
    })?;
    let conn = p.conns.get(&cluster).await.map_err(at)?;
    if r.operation == Operation::Delete {
        object::delete(&conn, p.conns.retry, &manifest, delete_timeout(v))
            .await
            .map_err(at)?;
        return Ok((Value::NULL, None));
    }
    let applied = object::apply_then_wait(
        &conn,
        p.conns.retry,
        &p.crds,
        &cluster,
        &manifest,
        force_of(v),
        &wait_spec(v),
    )
    .await
    .map_err(at)?;
    let value = state_of(
        v,
        &applied.live,
        &manifest,
        &cluster.name,
        applied.ns.as_deref(),
    );
    Ok((value, applied.not_ready.map(at)))
}

/// Imports `CLUSTER/APIVERSION/KIND/[NAMESPACE/]NAME`.
///
/// # Errors
/// A malformed id, an unknown kind, or no such object.
pub async fn import(p: &KubernetesProvider, id: &str) -> Result<Value, ProviderError> {
    let (cname, ident) = parse_id(id).ok_or_else(|| {
        ProviderError::new(format!(
            "import id {id:?} is not CLUSTER/APIVERSION/KIND/[NAMESPACE/]NAME (e.g. prod/apps/v1/Deployment/web/api)"
        ))
    })?;
    let cv = p.cluster_value(&cname);
    let cluster = ClusterRef::from_value(&cv)
        .ok_or_else(|| ProviderError::new(format!("cluster {cname} is not known")))?;
    let at = |e: K8sError| e.at(id);
    let conn = p.conns.get(&cluster).await.map_err(at)?;
    let (k, ns) = object::locate(&conn, p.conns.retry, &ident)
        .await
        .map_err(at)?
        .ok_or_else(|| {
            ProviderError::new(format!(
                "cluster {cname} does not serve {} {}",
                ident.api_version, ident.kind
            ))
        })?;
    let live = conn
        .get(p.conns.retry, &k, ns.as_deref(), &ident.name)
        .await
        .map_err(at)?
        .ok_or_else(|| ProviderError::new(format!("cluster {cname} has no object {id}")))?;
    let manifest = strip_server_fields(&live);
    let base = Value::Object(BTreeMap::from([
        ("cluster".to_string(), cv),
        ("manifest".to_string(), Value::from_json(&manifest)),
        ("force_conflicts".to_string(), Value::Null(Type::Bool)),
        ("delete_timeout".to_string(), Value::Null(Type::String)),
        ("wait".to_string(), Value::NULL),
    ]));
    Ok(state_of(&base, &live, &manifest, &cname, ns.as_deref()))
}

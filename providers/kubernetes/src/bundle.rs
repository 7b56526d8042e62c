//! `kubernetes_manifests`: a multi-document YAML bundle as one resource with
//! an inventory. Apply goes in phases like kapp and Flux: CRDs (waited until
//! Established), then Namespaces, then everything else; objects dropped from
//! the bundle are pruned, deletes go in reverse order.

use crate::KubernetesProvider;
use crate::cluster::ClusterRef;
use crate::error::K8sError;
use crate::manifest::{Ident, from_json_marked, parse_id, project};
use crate::object;
use crate::resource::{attr, force_of};
use posture_provider_core::provider::{
    PlanRequest, PlanResponse, ProviderError, ReadRequest, ReadResult,
};
use posture_provider_core::value::{Type, Value};
use serde::Deserialize;
use serde_json::Value as J;
use std::collections::BTreeMap;

mod apply;
pub use apply::apply;

/// Parses a bundle into objects in apply order (CRDs, Namespaces, the rest;
/// `kind: List` flattened; empty documents skipped).
///
/// # Errors
/// YAML that does not parse, or a document without apiVersion/kind/name.
pub fn parse(content: &str) -> Result<Vec<J>, K8sError> {
    let mut docs = Vec::new();
    for (i, d) in serde_yaml::Deserializer::from_str(content).enumerate() {
        let j = J::deserialize(d)
            .map_err(|e| K8sError::Invalid(format!("bundle document {}: {e}", i + 1)))?;
        if j.is_null() {
            continue;
        }
        if j.get("kind").and_then(J::as_str) == Some("List") {
            docs.extend(
                j.get("items")
                    .and_then(J::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
        } else {
            docs.push(j);
        }
    }
    for d in &docs {
        Ident::of(d)?;
    }
    docs.sort_by_key(phase);
    Ok(docs)
}

pub(crate) fn phase(m: &J) -> u8 {
    match m.get("kind").and_then(J::as_str) {
        Some("CustomResourceDefinition") => 0,
        Some("Namespace") => 1,
        _ => 2,
    }
}

pub(crate) fn ident_id(cluster: &str, m: &J, ns: Option<&str>) -> String {
    Ident::of(m)
        .map(|i| i.id(cluster, ns.or(i.namespace.as_deref())))
        .unwrap_or_default()
}

pub(crate) fn inventory(v: &Value) -> Vec<String> {
    attr(v, "inventory")
        .and_then(Value::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The bundle value with its derived attributes. `from_config` is true when
/// `v` comes straight from the configuration, whose marks are the user's.
pub(crate) fn with(
    v: &Value,
    inv: Vec<String>,
    mut objects: BTreeMap<String, Value>,
    id: Value,
    from_config: bool,
) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    let content = m.get("content").cloned().unwrap_or(Value::NULL);
    let holds_secret = content
        .as_str()
        .is_some_and(|t| parse(t).is_ok_and(|docs| docs.iter().any(crate::manifest::is_secret)));
    // Content the configuration marked (a template of a sensitive value)
    // hides every object made from it. Content holding a Secret is marked
    // below, so later its mark tells nothing: the engine carries the
    // objects' marks from the plan and from state instead.
    if content.is_sensitive() && (from_config || !holds_secret) {
        objects = objects
            .into_iter()
            .map(|(k, o)| (k, o.mark_sensitive()))
            .collect();
    }
    // A bundle holding a Secret has its values in `content`: never shown.
    if holds_secret {
        m.insert("content".to_string(), content.mark_sensitive());
    }
    m.insert(
        "inventory".to_string(),
        Value::List(Type::String, inv.into_iter().map(Value::from).collect()),
    );
    m.insert("objects".to_string(), Value::Object(objects));
    m.insert("id".to_string(), id);
    Value::Object(m)
}

/// Plans a bundle: a dry-run per object; the inventory; prunes as notes.
///
/// # Errors
/// A bundle that does not parse, kinds neither served nor in the bundle.
pub async fn plan(p: &KubernetesProvider, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
    let at = |e: K8sError| e.at(&r.address);
    if let Some(c) = attr(&r.config, "cluster") {
        p.remember(c);
    }
    let content = attr(&r.config, "content").and_then(Value::as_str);
    let cluster = attr(&r.config, "cluster").and_then(ClusterRef::from_value);
    let (Some(content), Some(cluster)) = (content, cluster) else {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        for k in ["inventory", "objects", "id"] {
            m.insert(k.to_string(), Value::Unknown(Type::Dynamic));
        }
        return Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: Vec::new(),
            notes: Vec::new(),
        });
    };
    let docs = parse(content).map_err(at)?;
    let conn = p.conns.get(&cluster).await.map_err(at)?;
    // Every CRD of the bundle first, so its custom resources plan as creates.
    for d in &docs {
        p.crds.note(&cluster.name, d);
    }
    let force = force_of(&r.config);
    let futs = docs
        .iter()
        .map(|d| object::plan(&conn, p.conns.retry, &p.crds, &cluster, d, None, force));
    let plans = futures_util::future::join_all(futs).await;
    let mut inv = Vec::new();
    let mut objects = BTreeMap::new();
    let mut notes = Vec::new();
    for (d, op) in docs.iter().zip(plans) {
        let op = op.map_err(at)?;
        let id = ident_id(&cluster.name, d, op.namespace.as_deref());
        let v = op
            .object
            .map(|o| from_json_marked(&with_kind(&o, d)))
            .unwrap_or(Value::Unknown(Type::Dynamic));
        notes.extend(op.notes);
        objects.insert(id.clone(), v);
        inv.push(id);
    }
    for old in inventory(&r.prior) {
        if !inv.contains(&old) {
            notes.push(format!(
                "prune: {old} is no longer in the bundle and will be deleted"
            ));
        }
    }
    let id = Value::from(format!("{}/bundle", cluster.name));
    Ok(PlanResponse {
        planned: with(&r.config, inv, objects, id, true),
        requires_replace: Vec::new(),
        notes,
    })
}

pub(crate) fn with_kind(o: &J, m: &J) -> J {
    let mut o = o.clone();
    if let (Some(obj), Some(k)) = (o.as_object_mut(), m.get("kind")) {
        obj.insert("kind".to_string(), k.clone());
    }
    o
}

/// The document of the bundle an inventory id names, if any (a namespaced
/// document without a namespace is the id's in `default`).
pub(crate) fn document_of<'a>(docs: &'a [J], id: &str) -> Option<&'a J> {
    let (_, want) = parse_id(id)?;
    docs.iter().find(|d| {
        Ident::of(d).is_ok_and(|i| {
            i.api_version == want.api_version
                && i.kind == want.kind
                && i.name == want.name
                && (i.namespace == want.namespace
                    || (i.namespace.is_none() && want.namespace.as_deref() == Some("default")))
        })
    })
}

pub(crate) fn stub(id: &str) -> Option<J> {
    let (_, i) = parse_id(id)?;
    let mut meta = serde_json::Map::new();
    meta.insert("name".into(), J::from(i.name));
    if let Some(ns) = i.namespace {
        meta.insert("namespace".into(), J::from(ns));
    }
    Some(serde_json::json!({"apiVersion": i.api_version, "kind": i.kind, "metadata": meta}))
}

/// Reads a bundle: the live fields of every inventoried object, batched.
pub async fn read(p: &KubernetesProvider, r: &ReadRequest) -> ReadResult {
    let Some(cluster) = attr(&r.prior, "cluster").and_then(ClusterRef::from_value) else {
        return ReadResult::Failed(ProviderError::new(format!(
            "{}: state has no cluster",
            r.address
        )));
    };
    let docs = attr(&r.prior, "content")
        .and_then(Value::as_str)
        .and_then(|c| parse(c).ok())
        .unwrap_or_default();
    let inv = inventory(&r.prior);
    let recorded = attr(&r.prior, "objects").and_then(Value::as_map);
    // The manifest of each inventoried id. An id the content does not hold
    // (a bundle that stopped before pruning it) is read on the fields
    // recorded for it, so that it shows no drift; a stub when none are.
    let items: Vec<(ClusterRef, J)> = inv
        .iter()
        .filter_map(|id| {
            let m = document_of(&docs, id)
                .cloned()
                .or_else(|| {
                    let o = recorded?.get(id)?.clone().unmark_deep().0.to_json();
                    Ident::of(&o).is_ok().then_some(o)
                })
                .or_else(|| stub(id))?;
            Some((cluster.clone(), m))
        })
        .collect();
    let fetched = crate::read::fetch(p, &items).await;
    let mut objects = BTreeMap::new();
    let mut live_inv = Vec::new();
    for ((_, m), f) in items.iter().zip(fetched) {
        match f {
            Ok(Some((live, ns))) => {
                let id = ident_id(&cluster.name, m, ns.as_deref());
                objects.insert(
                    id.clone(),
                    from_json_marked(&with_kind(&project(&live, m), m)),
                );
                live_inv.push(id);
            }
            Ok(None) => {}
            Err(e) => return ReadResult::Failed(e.at(&r.address)),
        }
    }
    let id = attr(&r.prior, "id")
        .cloned()
        .unwrap_or(Value::Null(Type::String));
    ReadResult::Found(with(&r.prior, live_inv, objects, id, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(content: Value) -> Value {
        Value::Object(BTreeMap::from([("content".to_string(), content)]))
    }

    fn objects() -> BTreeMap<String, Value> {
        BTreeMap::from([(
            "c1/v1/ConfigMap/default/a".to_string(),
            Value::from_json(&serde_json::json!({"data": {"pw": "CANARY"}})),
        )])
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {pw: CANARY}\n";

    fn marked_objects(v: &Value) -> bool {
        attr(v, "objects")
            .and_then(Value::as_map)
            .is_some_and(|m| m.values().all(Value::is_sensitive))
    }

    #[test]
    fn sensitive_bundle_content_leaked_through_objects() {
        let secret = Value::from(CM).mark_sensitive();
        for from_config in [true, false] {
            let v = with(
                &bundle(secret.clone()),
                vec![],
                objects(),
                Value::NULL,
                from_config,
            );
            assert!(marked_objects(&v), "from_config {from_config}");
        }
        let v = with(
            &bundle(Value::from(CM)),
            vec![],
            objects(),
            Value::NULL,
            true,
        );
        assert!(!attr(&v, "objects").is_some_and(Value::contains_sensitive));
    }

    #[test]
    fn content_holding_a_secret_is_hidden_and_marks_its_objects_only_from_config() {
        let text = format!("{CM}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n");
        let v = with(
            &bundle(Value::from(text.as_str())),
            vec![],
            objects(),
            Value::NULL,
            true,
        );
        assert!(attr(&v, "content").is_some_and(Value::is_sensitive));
        assert!(
            !marked_objects(&v),
            "the Secret rule alone marks no ConfigMap"
        );
        // From a plan or state the content's mark may be the Secret rule's:
        // the objects' own marks come from the engine then.
        let v = with(
            &bundle(Value::from(text.as_str()).mark_sensitive()),
            vec![],
            objects(),
            Value::NULL,
            false,
        );
        assert!(!marked_objects(&v));
    }
}

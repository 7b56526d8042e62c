//! Object semantics of a real API server on top of the store: uid, resourceVersion,
//! generation, creationTimestamp, managedFields, name validation, namespaces that must
//! exist, status kept apart from spec, finalizers that hold deletion, namespace cascade,
//! and CRDs that become served.
//!
//! Must not parse HTTP or pick content types (see `api`).

use rand::Rng;
use serde_json::{Value, json};

use crate::registry::{ResKey, ResourceType};
use crate::ssa::managed;
use crate::ssa::schema::Schema;
use crate::status::{ApiError, ApiResult};
use crate::store::State;

/// Who writes and how.
#[derive(Debug, Clone)]
pub struct WriteOpts {
    /// `dryRun=All`: compute, persist nothing.
    pub dry_run: bool,
    /// Field manager for managedFields.
    pub manager: String,
    /// Whether managedFields were already computed (server-side apply).
    pub managed_done: bool,
    /// A sandbox controller writing: may set status on create.
    pub internal: bool,
}

impl WriteOpts {
    /// Options of a sandbox-internal write.
    pub fn internal(manager: &str) -> Self {
        WriteOpts {
            dry_run: false,
            manager: manager.into(),
            managed_done: false,
            internal: true,
        }
    }
}

/// The key of a resource type in the store.
pub fn key_of(rt: &ResourceType) -> ResKey {
    (rt.group.clone(), rt.plural.clone())
}

/// The merge schema of a resource type.
pub fn schema_of(rt: &ResourceType) -> Schema {
    match &rt.schema {
        None => Schema::builtin(&rt.kind),
        Some(per_version) => Schema::Custom(
            rt.versions
                .first()
                .and_then(|v| per_version.get(v))
                .cloned(),
        ),
    }
}

/// The object as seen through `version` (the sandbox stores one version and relabels).
pub fn present(obj: &Value, rt: &ResourceType, version: &str) -> Value {
    let mut v = obj.clone();
    v["apiVersion"] = json!(rt.api_version(version));
    v
}

fn uid() -> String {
    let b: [u8; 16] = rand::thread_rng().r#gen();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A part of a DNS-1123 subdomain between dots: a label of any length.
fn is_subdomain_part(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether a name is valid for the kind (DNS-1123 subdomain, label for some kinds).
pub fn name_error(rt: &ResourceType, name: &str) -> Option<String> {
    if rt.group == "rbac.authorization.k8s.io" {
        // RBAC names only need to be valid path segments (e.g. `system:controller`).
        let bad = name.is_empty()
            || name == "."
            || name == ".."
            || name.contains('/')
            || name.contains('%');
        return bad.then(|| format!("Invalid value: \"{name}\": may not contain '/' or '%'"));
    }
    let label_only = matches!(rt.kind.as_str(), "Namespace" | "Service");
    let ok = if label_only {
        is_label(name)
    } else {
        // As IsDNS1123Subdomain: 253 characters in all; a part between
        // dots is not limited to a label's 63.
        name.len() <= 253 && name.split('.').all(is_subdomain_part)
    };
    if ok {
        return None;
    }
    Some(if label_only {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    } else {
        format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    })
}

fn meta_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get("metadata")?.get(k)?.as_str()
}

fn ns_key() -> ResKey {
    (String::new(), "namespaces".into())
}

/// Checks the namespace of a namespaced write exists and is not terminating.
fn check_namespace(st: &State, ns: &str, creating: bool) -> ApiResult<()> {
    match st.get(&ns_key(), "", ns) {
        None => Err(ApiError::not_found("", "namespaces", ns)),
        Some(n) if creating && n.pointer("/metadata/deletionTimestamp").is_some() => {
            Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            )))
        }
        Some(_) => Ok(()),
    }
}

/// Everything but metadata and status: a change here bumps `generation`.
fn spec_part(v: &Value) -> Value {
    let mut c = v.clone();
    if let Some(m) = c.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    c
}

fn without_volatile(v: &Value) -> Value {
    let mut c = v.clone();
    if let Some(m) = c.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
        m.remove("resourceVersion");
    }
    c
}

fn check_body(rt: &ResourceType, body: &Value) -> ApiResult<()> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON or YAML object",
        ));
    }
    if let Some(kind) = body.get("kind").and_then(Value::as_str)
        && kind != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    if let Some(av) = body.get("apiVersion").and_then(Value::as_str) {
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if group != rt.group {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                rt.api_version(&rt.versions[0])
            )));
        }
    }
    Ok(())
}

/// POST: creates an object.
pub fn create(
    st: &mut State,
    rt: &ResourceType,
    ns: &str,
    mut obj: Value,
    opts: &WriteOpts,
) -> ApiResult<Value> {
    check_body(rt, &obj)?;
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let mut name = meta_str(&obj, "name").unwrap_or_default().to_string();
    if name.is_empty()
        && let Some(prefix) = meta_str(&obj, "generateName")
    {
        let suffix: String = (0..5)
            .map(|_| {
                let c = rand::thread_rng().gen_range(0..36u8);
                (if c < 10 { b'0' + c } else { b'a' + c - 10 }) as char
            })
            .collect();
        name = format!("{prefix}{suffix}");
        obj["metadata"]["name"] = json!(name);
    }
    if name.is_empty() {
        return Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            "",
            vec![(
                "metadata.name".into(),
                "Required value: name or generateName is required".into(),
            )],
        ));
    }
    if rt.namespaced {
        let body_ns = meta_str(&obj, "namespace").unwrap_or_default();
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        obj["metadata"]["namespace"] = json!(ns);
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    if let Some(msg) = name_error(rt, &name) {
        return Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            &name,
            vec![("metadata.name".into(), msg)],
        ));
    }
    if rt.namespaced {
        check_namespace(st, ns, true)?;
    }
    let key = key_of(rt);
    if st.get(&key, ns, &name).is_some() {
        return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
    }
    obj["apiVersion"] = json!(rt.api_version(&rt.versions[0]));
    obj["kind"] = json!(rt.kind);
    let meta = &mut obj["metadata"];
    meta["uid"] = json!(uid());
    meta["creationTimestamp"] = json!(managed::now());
    if let Some(m) = meta.as_object_mut() {
        m.remove("deletionTimestamp");
        m.remove("resourceVersion");
        if !opts.managed_done {
            m.remove("managedFields");
        }
    }
    if rt.has_generation {
        meta["generation"] = json!(1);
    }
    if rt.status_subresource
        && !opts.internal
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    if rt.kind == "Namespace" {
        obj["status"] = json!({"phase": "Active"});
    }
    crate::defaults::apply(rt, &mut obj);
    if rt.kind == "CustomResourceDefinition" {
        crate::crd::prepare(st, &mut obj, &name)?;
    }
    if !opts.managed_done {
        managed::record_update(None, &mut obj, &opts.manager, None, &schema_of(rt));
    }
    if opts.dry_run {
        return Ok(obj);
    }
    let rv = st.next_rv();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    if rt.kind == "CustomResourceDefinition" {
        st.registry.register_crd(&obj);
    }
    st.put("ADDED", &key, ns, &name, obj.clone(), rv);
    Ok(obj)
}

/// Which part of the object a PUT writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part {
    /// The object without status (status kept when the kind has a status subresource).
    Main,
    /// Only `.status`.
    Status,
}

/// PUT (also the commit of every patch): replaces an existing object.
pub fn update(
    st: &mut State,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    body: Value,
    part: Part,
    opts: &WriteOpts,
) -> ApiResult<Value> {
    check_body(rt, &body)?;
    let key = key_of(rt);
    let old = st
        .get(&key, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let body_name = meta_str(&body, "name").unwrap_or(name);
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(rv) = meta_str(&body, "resourceVersion")
        && Some(rv) != meta_str(&old, "resourceVersion")
    {
        return Err(ApiError::conflict(&rt.group, &rt.plural, name));
    }
    let mut new = match part {
        Part::Status => {
            let mut n = (*old).clone();
            n["status"] = body.get("status").cloned().unwrap_or(Value::Null);
            n
        }
        Part::Main => {
            let mut n = body;
            if !n.get("metadata").is_some_and(Value::is_object) {
                n["metadata"] = json!({});
            }
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match old["metadata"].get(k) {
                    Some(v) => n["metadata"][k] = v.clone(),
                    None => {
                        if let Some(m) = n["metadata"].as_object_mut() {
                            m.remove(k);
                        }
                    }
                }
            }
            if !opts.managed_done {
                n["metadata"]["managedFields"] = old["metadata"]
                    .get("managedFields")
                    .cloned()
                    .unwrap_or(json!([]));
            }
            n["metadata"]["name"] = json!(name);
            if rt.namespaced {
                n["metadata"]["namespace"] = json!(ns);
            }
            if rt.status_subresource {
                match old.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            n
        }
    };
    new["apiVersion"] = json!(rt.api_version(&rt.versions[0]));
    new["kind"] = json!(rt.kind);
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    crate::defaults::apply(rt, &mut new);
    if rt.has_generation && part == Part::Main && spec_part(&new) != spec_part(&old) {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        new["metadata"]["generation"] = json!(g + 1);
    }
    if rt.kind == "CustomResourceDefinition" && part == Part::Main {
        crate::crd::prepare(st, &mut new, name)?;
    }
    if without_volatile(&new) == without_volatile(&old) {
        return Ok((*old).clone()); // a no-op write keeps the resourceVersion, as on a real server
    }
    if !opts.managed_done {
        let sub = (part == Part::Status).then_some("status");
        managed::record_update(Some(&old), &mut new, &opts.manager, sub, &schema_of(rt));
    }
    if opts.dry_run {
        return Ok(new);
    }
    let rv = st.next_rv();
    new["metadata"]["resourceVersion"] = json!(rv.to_string());
    let finalizers_empty = new
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if new.pointer("/metadata/deletionTimestamp").is_some()
        && finalizers_empty
        && rt.kind != "Namespace"
    {
        remove_now(st, rt, ns, name, new.clone(), rv);
        return Ok(new);
    }
    if rt.kind == "CustomResourceDefinition" {
        st.registry.register_crd(&new);
    }
    st.put("MODIFIED", &key, ns, name, new.clone(), rv);
    Ok(new)
}

/// DELETE: removes an object, or marks it while finalizers remain.
pub fn delete(
    st: &mut State,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    dry_run: bool,
) -> ApiResult<Value> {
    let key = key_of(rt);
    let old = st
        .get(&key, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        return Ok((*old).clone());
    }
    let has_finalizers = old
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if dry_run {
        return Ok((*old).clone());
    }
    let rv = st.next_rv();
    let mut obj = (*old).clone();
    obj["metadata"]["resourceVersion"] = json!(rv.to_string());
    if has_finalizers || rt.kind == "Namespace" {
        obj["metadata"]["deletionTimestamp"] = json!(managed::now());
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if rt.kind == "Namespace" {
            obj["status"] = json!({"phase": "Terminating"});
        }
        st.put("MODIFIED", &key, ns, name, obj.clone(), rv);
        if rt.kind == "Namespace" {
            cascade_namespace(st, name);
            return Ok(st.get(&key, ns, name).map(|o| (**o).clone()).unwrap_or(obj));
        }
        return Ok(obj);
    }
    remove_now(st, rt, ns, name, obj.clone(), rv);
    Ok(obj)
}

/// Removes an object now, with the side effects of its kind.
fn remove_now(st: &mut State, rt: &ResourceType, ns: &str, name: &str, obj: Value, rv: u64) {
    let key = key_of(rt);
    if rt.kind == "CustomResourceDefinition"
        && let Some(t) = crate::registry::crd_type(&obj)
    {
        let ck = key_of(&t);
        let names: Vec<(String, String)> = st
            .objects
            .get(&ck)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (ons, oname) in names {
            if let Some(o) = st.get(&ck, &ons, &oname).cloned() {
                let rv = st.next_rv();
                let mut o = (*o).clone();
                o["metadata"]["resourceVersion"] = json!(rv.to_string());
                st.remove(&ck, &ons, &oname, o, rv);
            }
        }
        st.registry.unregister(&ck);
    }
    st.remove(&key, ns, name, obj, rv);
    if rt.namespaced {
        finish_namespace(st, ns);
    }
}

/// Deletes everything in a terminating namespace, then the namespace once empty.
fn cascade_namespace(st: &mut State, ns: &str) {
    let types: Vec<ResourceType> = st
        .registry
        .all()
        .into_iter()
        .filter(|t| t.namespaced)
        .cloned()
        .collect();
    for rt in &types {
        let names: Vec<String> = st
            .list(&key_of(rt), Some(ns))
            .filter_map(|o| meta_str(o, "name").map(str::to_string))
            .collect();
        for n in names {
            // Errors cannot happen for objects just listed; finalizers only mark them.
            let _ = delete(st, rt, ns, &n, false);
        }
    }
    finish_namespace(st, ns);
}

/// Removes a terminating namespace once nothing is left in it.
fn finish_namespace(st: &mut State, ns: &str) {
    let Some(nsobj) = st.get(&ns_key(), "", ns).cloned() else {
        return;
    };
    if nsobj.pointer("/metadata/deletionTimestamp").is_none() {
        return;
    }
    if nsobj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
    {
        return;
    }
    let empty = st
        .registry
        .all()
        .into_iter()
        .filter(|t| t.namespaced)
        .all(|t| st.list(&key_of(t), Some(ns)).next().is_none());
    if empty {
        let rv = st.next_rv();
        let mut o = (*nsobj).clone();
        o["metadata"]["resourceVersion"] = json!(rv.to_string());
        st.remove(&ns_key(), "", ns, o, rv);
    }
}

#[cfg(test)]
mod tests {
    use super::name_error;
    use crate::registry::Registry;

    #[test]
    fn secret_names_with_a_part_longer_than_63_characters_were_refused_unlike_a_real_server() {
        let reg = Registry::new();
        let secret = reg.by_kind("", "Secret").expect("Secret is served");
        let long = format!("posture-state-default-fleet-i-{}", "a".repeat(40));
        assert!(long.len() > 63);
        assert_eq!(name_error(secret, &long), None);
        assert!(name_error(secret, &"a".repeat(254)).is_some());
        assert!(name_error(secret, "bad-.name").is_some());
        let ns = reg.by_kind("", "Namespace").expect("Namespace is served");
        assert!(name_error(ns, &long).is_some(), "namespaces stay labels");
    }
}

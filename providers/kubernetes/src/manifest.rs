//! Manifests as JSON: identity, the managed-by label, projection of a live
//! object onto the fields posture applies, immutable fields, Secret marks.
//! Pure functions; no API calls here.

use crate::error::K8sError;
use posture_provider_core::value::Value;
use serde_json::Value as J;
use std::collections::BTreeMap;

/// The label posture sets on every object it manages, so that refresh is one
/// LIST per (cluster, kind, namespace) selected by it. Its value is the field manager.
pub const MANAGED_LABEL: &str = "posture.dev/managed-by";

/// Who an object is: apiVersion, kind, namespace (as written) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ident {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// `metadata.namespace`, when written.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl Ident {
    /// Reads the identity of a manifest.
    ///
    /// # Errors
    /// apiVersion, kind or metadata.name missing.
    pub fn of(m: &J) -> Result<Ident, K8sError> {
        let s = |p: &str| m.pointer(p).and_then(J::as_str).map(str::to_string);
        let missing = |f: &str| {
            K8sError::Invalid(format!(
                "manifest has no {f}; every manifest needs apiVersion, kind and metadata.name"
            ))
        };
        Ok(Ident {
            api_version: s("/apiVersion").ok_or_else(|| missing("apiVersion"))?,
            kind: s("/kind").ok_or_else(|| missing("kind"))?,
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name").ok_or_else(|| missing("metadata.name"))?,
        })
    }

    /// The id recorded in state: `cluster/apiVersion/kind/[namespace/]name`.
    pub fn id(&self, cluster: &str, ns: Option<&str>) -> String {
        match ns {
            Some(ns) => format!(
                "{cluster}/{}/{}/{ns}/{}",
                self.api_version, self.kind, self.name
            ),
            None => format!("{cluster}/{}/{}/{}", self.api_version, self.kind, self.name),
        }
    }
}

/// Parses an import id `CLUSTER/APIVERSION/KIND/[NAMESPACE/]NAME`; the
/// apiVersion has one segment (`v1`) or two (`apps/v1`).
pub fn parse_id(id: &str) -> Option<(String, Ident)> {
    let p: Vec<&str> = id.split('/').collect();
    let is_version = |s: &str| {
        s.strip_prefix('v').is_some_and(|r| {
            r.chars().next().is_some_and(|c| c.is_ascii_digit())
                && r.chars().all(|c| c.is_ascii_alphanumeric())
        })
    };
    if p.len() < 4 || p.iter().any(|s| s.is_empty()) {
        return None;
    }
    let (av, rest) = if is_version(p[1]) {
        (p[1].to_string(), &p[2..])
    } else {
        (format!("{}/{}", p[1], p[2]), &p[3..])
    };
    let (kind, namespace, name) = match rest {
        [k, n] => (k, None, n),
        [k, ns, n] => (k, Some(ns.to_string()), n),
        _ => return None,
    };
    Some((
        p[0].to_string(),
        Ident {
            api_version: av,
            kind: kind.to_string(),
            namespace,
            name: name.to_string(),
        },
    ))
}

/// The manifest with posture's managed-by label added (the body sent by apply).
pub fn with_label(m: &J, field_manager: &str) -> J {
    let mut m = m.clone();
    if let Some(meta) = m.get_mut("metadata").and_then(J::as_object_mut) {
        let labels = meta
            .entry("labels")
            .or_insert_with(|| J::Object(Default::default()));
        if let Some(l) = labels.as_object_mut() {
            l.insert(MANAGED_LABEL.to_string(), J::from(field_manager));
        }
    }
    m
}

/// The fields of `live` that the manifest `shape` sets: maps are followed key
/// by key (so fields other managers add are left out), anything else is taken
/// whole. Secret `stringData` is compared as the `data` it becomes.
pub fn project(live: &J, shape: &J) -> J {
    let mut shape = shape.clone();
    if shape.get("kind").and_then(J::as_str) == Some("Secret")
        && let Some(sd) = shape.as_object_mut().and_then(|o| o.remove("stringData"))
        && let Some(obj) = shape.as_object_mut()
    {
        let data = obj
            .entry("data")
            .or_insert_with(|| J::Object(Default::default()));
        if let (Some(d), Some(sd)) = (data.as_object_mut(), sd.as_object()) {
            for k in sd.keys() {
                d.insert(k.clone(), J::Null);
            }
        }
    }
    project_raw(live, &shape)
}

fn project_raw(live: &J, shape: &J) -> J {
    match (live, shape) {
        (J::Object(l), J::Object(s)) => J::Object(
            s.iter()
                .filter_map(|(k, sv)| l.get(k).map(|lv| (k.clone(), project_raw(lv, sv))))
                .collect(),
        ),
        _ => live.clone(),
    }
}

/// Server-set fields removed from a live object to make an importable manifest.
pub fn strip_server_fields(live: &J) -> J {
    let mut o = live.clone();
    if let Some(obj) = o.as_object_mut() {
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(J::as_object_mut) {
            for k in [
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "managedFields",
                "selfLink",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                meta.remove(k);
            }
            if let Some(l) = meta.get_mut("labels").and_then(J::as_object_mut) {
                l.remove(MANAGED_LABEL);
                if l.is_empty() {
                    meta.remove("labels");
                }
            }
            if meta
                .get("annotations")
                .and_then(J::as_object)
                .is_some_and(|a| a.is_empty())
            {
                meta.remove("annotations");
            }
        }
    }
    o
}

/// Paths whose change cannot be applied in place, by kind (the API server
/// rejects them as immutable), plus identity.
pub fn immutable_paths(kind: &str) -> &'static [&'static str] {
    match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" => &["/spec/selector"],
        "StatefulSet" => &[
            "/spec/selector",
            "/spec/serviceName",
            "/spec/volumeClaimTemplates",
            "/spec/podManagementPolicy",
        ],
        "Service" => &["/spec/clusterIP"],
        "Job" => &["/spec/template", "/spec/selector", "/spec/completions"],
        "PersistentVolumeClaim" => &["/spec/storageClassName", "/spec/accessModes"],
        "RoleBinding" | "ClusterRoleBinding" => &["/roleRef"],
        "CustomResourceDefinition" => &["/spec/scope"],
        _ => &[],
    }
}

/// The paths that force replacement between two manifests (identity and
/// immutable fields), as `manifest.spec.selector` strings.
pub fn replace_paths(prior: &J, next: &J) -> Vec<String> {
    let mut out = Vec::new();
    let kind = next.get("kind").and_then(J::as_str).unwrap_or_default();
    let mut paths = vec![
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
    ];
    paths.extend_from_slice(immutable_paths(kind));
    for p in paths {
        let (a, b) = (prior.pointer(p), next.pointer(p));
        // apiVersion may move between versions of one group without replacement.
        let differs = if p == "/apiVersion" {
            let g = |x: Option<&J>| {
                x.and_then(J::as_str)
                    .map(|s| crate::cluster::split_api_version(s).0.to_string())
            };
            g(a) != g(b)
        } else {
            a != b
        };
        // Service clusterIP unset in the new manifest keeps the allocated one.
        if differs && !(p == "/spec/clusterIP" && b.is_none()) {
            out.push(format!("manifest{}", p.replace('/', ".")));
        }
    }
    out
}

/// JSON of a wholly known engine value (marks dropped); `None` if unknown inside.
pub fn to_json(v: &Value) -> Option<J> {
    if !v.is_wholly_known() {
        return None;
    }
    Some(v.clone().unmark_deep().0.to_json())
}

/// An engine value from JSON, with Secret `data`/`stringData` marked sensitive.
pub fn from_json_marked(j: &J) -> Value {
    let v = Value::from_json(j);
    if j.get("kind").and_then(J::as_str) == Some("Secret") {
        mark_secret_fields(v)
    } else {
        v
    }
}

/// Marks `data` and `stringData` of an object value sensitive.
pub fn mark_secret_fields(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| {
                    if k == "data" || k == "stringData" {
                        (k, x.mark_sensitive())
                    } else {
                        (k, x)
                    }
                })
                .collect::<BTreeMap<_, _>>(),
        ),
        Value::Sensitive(inner) => Value::Sensitive(Box::new(mark_secret_fields(*inner))),
        other => other,
    }
}

/// True when the manifest is a Secret (its values are never printed).
pub fn is_secret(m: &J) -> bool {
    m.get("kind").and_then(J::as_str) == Some("Secret")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn projection_keeps_only_applied_fields() {
        let live = json!({"metadata": {"name": "a", "labels": {"x": "1", "other": "2"}, "resourceVersion": "9"},
                          "spec": {"replicas": 3, "template": {"a": [1, 2]}}, "status": {"ready": 1}});
        let shape = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"template": {"a": [1]}}});
        assert_eq!(
            project(&live, &shape),
            json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"template": {"a": [1, 2]}}})
        );
    }

    #[test]
    fn import_ids_with_and_without_group_and_namespace() {
        let (c, i) = parse_id("prod/apps/v1/Deployment/web/api").expect("id");
        assert_eq!(
            (
                c.as_str(),
                i.api_version.as_str(),
                i.namespace.as_deref(),
                i.name.as_str()
            ),
            ("prod", "apps/v1", Some("web"), "api")
        );
        let (_, i) = parse_id("prod/v1/Namespace/web").expect("id");
        assert_eq!(
            (
                i.api_version.as_str(),
                i.kind.as_str(),
                i.namespace,
                i.name.as_str()
            ),
            ("v1", "Namespace", None, "web")
        );
        assert!(parse_id("prod/v1").is_none());
    }

    fn cluster_and(manifest: Value) -> Value {
        Value::Object(BTreeMap::from([
            (
                "cluster".to_string(),
                crate::resource::default_cluster("c1"),
            ),
            ("manifest".to_string(), manifest),
        ]))
    }

    fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
        path.iter().fold(v, |x, k| &x.as_map().expect("map")[*k])
    }

    #[test]
    fn sensitive_manifest_value_leaked_through_object() {
        let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "cm", "namespace": "default"},
                              "data": {"pw": "CANARY", "plain": "x"}});
        let mut mv = Value::from_json(&manifest);
        if let Value::Object(m) = &mut mv
            && let Some(Value::Object(d)) = m.get_mut("data")
        {
            let pw = d.remove("pw").expect("pw");
            d.insert("pw".into(), pw.mark_sensitive());
        }
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "cm", "namespace": "default", "uid": "u"},
                          "data": {"pw": "CANARY", "plain": "x", "extra": "y"}});
        let v =
            crate::resource::state_of(&cluster_and(mv), &live, &manifest, "c1", Some("default"));
        assert!(at(&v, &["object", "data", "pw"]).is_sensitive());
        assert!(!at(&v, &["object", "data", "plain"]).contains_sensitive());
        assert!(at(&v, &["manifest", "data", "pw"]).is_sensitive());
    }

    #[test]
    fn secret_data_stays_marked_when_read_or_imported() {
        // As import and refresh see it: no configuration marks at all.
        let manifest = json!({"apiVersion": "v1", "kind": "Secret",
                              "metadata": {"name": "s", "namespace": "default"},
                              "data": {"token": "VE9LRU4="}});
        let v = crate::resource::state_of(
            &cluster_and(Value::from_json(&manifest)),
            &manifest,
            &manifest,
            "c1",
            Some("default"),
        );
        assert!(at(&v, &["object", "data"]).is_sensitive());
        assert!(at(&v, &["manifest", "data"]).is_sensitive());
        assert!(!at(&v, &["object", "metadata"]).contains_sensitive());
    }

    #[test]
    fn selector_change_forces_replacement_but_replicas_do_not() {
        let a = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}}}});
        let mut b = a.clone();
        b["spec"]["replicas"] = json!(2);
        assert!(replace_paths(&a, &b).is_empty());
        b["spec"]["selector"]["matchLabels"]["app"] = json!("b");
        assert_eq!(
            replace_paths(&a, &b),
            vec!["manifest.spec.selector".to_string()]
        );
    }
}

//! The resource types a cluster serves: the built-in kinds and those added by CRDs.
//!
//! Knows names, scopes, versions and verbs only; it must not hold objects (see `store`).

use std::collections::BTreeMap;

use serde_json::Value;

/// One served resource (e.g. `deployments` in `apps`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// Served versions, preferred (storage) first.
    pub versions: Vec<String>,
    /// Plural resource name (`deployments`).
    pub plural: String,
    /// Singular name (`deployment`).
    pub singular: String,
    /// Kind (`Deployment`).
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Whether a `status` subresource exists (status kept apart from spec updates).
    pub status_subresource: bool,
    /// Whether `metadata.generation` is maintained.
    pub has_generation: bool,
    /// For CRDs: the openAPIV3Schema per version (to find list types for apply).
    pub schema: Option<Value>,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group, for the given version.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group (as in real error messages).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether this is a built-in (non-CRD) kind.
    pub fn builtin(&self) -> bool {
        self.schema.is_none()
    }
}

/// Storage key of a resource type: (group, plural).
pub type ResKey = (String, String);

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    all: bool,
    status: bool,
    generation: bool,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short: &["ns"],
        all: false,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short: &["cm"],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short: &["svc"],
        all: true,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short: &["sa"],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short: &["no"],
        all: false,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short: &["po"],
        all: true,
        status: true,
        generation: false,
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short: &["ev"],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short: &["deploy"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "daemonsets",
        singular: "daemonset",
        kind: "DaemonSet",
        namespaced: true,
        short: &["ds"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        namespaced: true,
        short: &["sts"],
        all: true,
        status: true,
        generation: true,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
    Builtin {
        group: "apiextensions.k8s.io",
        version: "v1",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        namespaced: false,
        short: &["crd", "crds"],
        all: false,
        status: true,
        generation: true,
    },
    Builtin {
        group: "coordination.k8s.io",
        version: "v1",
        plural: "leases",
        singular: "lease",
        kind: "Lease",
        namespaced: true,
        short: &[],
        all: false,
        status: false,
        generation: false,
    },
];

/// Every resource type one cluster serves, built-ins first, then CRDs by name.
#[derive(Debug, Clone)]
pub struct Registry {
    types: BTreeMap<ResKey, ResourceType>,
    builtin_order: Vec<ResKey>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with the built-in kinds only.
    pub fn new() -> Self {
        let mut types = BTreeMap::new();
        let mut builtin_order = Vec::new();
        for b in BUILTINS {
            let key = (b.group.to_string(), b.plural.to_string());
            builtin_order.push(key.clone());
            types.insert(
                key,
                ResourceType {
                    group: b.group.into(),
                    versions: vec![b.version.into()],
                    plural: b.plural.into(),
                    singular: b.singular.into(),
                    kind: b.kind.into(),
                    namespaced: b.namespaced,
                    short_names: b.short.iter().map(|s| s.to_string()).collect(),
                    categories: if b.all { vec!["all".into()] } else { vec![] },
                    status_subresource: b.status,
                    has_generation: b.generation,
                    schema: None,
                },
            );
        }
        Registry {
            types,
            builtin_order,
        }
    }

    /// Looks a type up by group and plural, checking the version is served.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .get(&(group.to_string(), plural.to_string()))
            .filter(|t| t.versions.iter().any(|v| v == version))
    }

    /// Looks a type up by group and kind.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .values()
            .find(|t| t.group == group && t.kind == kind)
    }

    /// All types: built-ins in their fixed order, then custom ones.
    pub fn all(&self) -> Vec<&ResourceType> {
        let mut out: Vec<&ResourceType> = self
            .builtin_order
            .iter()
            .filter_map(|k| self.types.get(k))
            .collect();
        out.extend(self.types.values().filter(|t| !t.builtin()));
        out
    }

    /// Groups with their versions, in discovery order (core group excluded).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.all() {
            if t.group.is_empty() {
                continue;
            }
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, vs)) => {
                    for v in &t.versions {
                        if !vs.contains(v) {
                            vs.push(v.clone());
                        }
                    }
                }
                None => out.push((t.group.clone(), t.versions.clone())),
            }
        }
        out
    }

    /// Types served at a group/version.
    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<&ResourceType> {
        self.all()
            .into_iter()
            .filter(|t| t.group == group && t.versions.iter().any(|v| v == version))
            .collect()
    }

    /// Adds or replaces the type a CRD defines; returns its key.
    pub fn register_crd(&mut self, crd: &Value) -> Option<ResKey> {
        let t = crd_type(crd)?;
        let key = (t.group.clone(), t.plural.clone());
        if self.types.get(&key).is_some_and(|old| old.builtin()) {
            return None; // a CRD must not shadow a built-in kind
        }
        self.types.insert(key.clone(), t);
        Some(key)
    }

    /// Removes the type of a deleted CRD.
    pub fn unregister(&mut self, key: &ResKey) {
        if self.types.get(key).is_some_and(|t| !t.builtin()) {
            self.types.remove(key);
        }
    }
}

/// The resource type a CRD object describes, if its spec is complete enough.
pub fn crd_type(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let plural = s(names, "plural")?;
    let kind = s(names, "kind")?;
    let group = s(spec, "group")?;
    let mut versions = Vec::new();
    let mut status = false;
    let mut schemas = serde_json::Map::new();
    let mut storage_first = None;
    for v in spec.get("versions")?.as_array()? {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let name = s(v, "name")?;
        if v.pointer("/subresources/status").is_some() {
            status = true;
        }
        if let Some(sc) = v.pointer("/schema/openAPIV3Schema") {
            schemas.insert(name.clone(), sc.clone());
        }
        if v.get("storage").and_then(Value::as_bool) == Some(true) {
            storage_first = Some(name.clone());
        }
        versions.push(name);
    }
    if let Some(st) = storage_first
        && let Some(pos) = versions.iter().position(|v| *v == st)
    {
        let v = versions.remove(pos);
        versions.insert(0, v);
    }
    if versions.is_empty() {
        return None;
    }
    let list = |k: &str| -> Vec<String> {
        names
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(ResourceType {
        singular: s(names, "singular").unwrap_or_else(|| kind.to_lowercase()),
        short_names: list("shortNames"),
        categories: list("categories"),
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        group,
        versions,
        plural,
        kind,
        status_subresource: status,
        has_generation: true,
        schema: Some(Value::Object(schemas)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crd_registers_all_served_versions_storage_first() {
        let mut r = Registry::new();
        let crd = json!({"spec": {"group": "cert-manager.io", "scope": "Cluster",
            "names": {"plural": "clusterissuers", "kind": "ClusterIssuer"},
            "versions": [{"name": "v1beta1", "served": true, "storage": false},
                         {"name": "v1", "served": true, "storage": true},
                         {"name": "v0", "served": false, "storage": false}]}});
        let key = r.register_crd(&crd).expect("complete CRD");
        let t = r
            .find("cert-manager.io", "v1beta1", "clusterissuers")
            .expect("served");
        assert_eq!(t.versions, vec!["v1", "v1beta1"]);
        assert!(!t.namespaced);
        assert!(r.find("cert-manager.io", "v0", "clusterissuers").is_none());
        r.unregister(&key);
        assert!(r.find("cert-manager.io", "v1", "clusterissuers").is_none());
    }

    #[test]
    fn crd_cannot_shadow_builtin() {
        let mut r = Registry::new();
        let crd = json!({"spec": {"group": "", "names": {"plural": "pods", "kind": "Pod"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        assert!(r.register_crd(&crd).is_none());
        assert!(r.find("", "v1", "pods").is_some_and(|t| t.builtin()));
    }
}

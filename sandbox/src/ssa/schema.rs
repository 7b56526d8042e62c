//! How lists of a kind merge: atomic, by key (`containers` by `name`), or as a set
//! (`finalizers`). Built-in kinds use the patch merge keys of the real API; custom
//! kinds use `x-kubernetes-list-type`/`x-kubernetes-list-map-keys` from the CRD schema.
//!
//! Shared by strategic merge patch and server-side apply; must not touch objects.

use serde_json::Value;

/// One step of a path through an object, ignoring which list item.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// A map field.
    Field(String),
    /// Any item of a list.
    Item,
}

/// How a list merges.
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items merged by these key fields.
    Map(Vec<String>),
    /// Scalar items merged as a set.
    Set,
}

/// Merge knowledge for one resource type.
#[derive(Debug, Clone)]
pub enum Schema {
    /// A built-in kind, by kind name.
    Builtin(String),
    /// A custom kind with its openAPIV3Schema (if the CRD gave one).
    Custom(Option<Value>),
}

impl Schema {
    /// Schema of a built-in kind.
    pub fn builtin(kind: &str) -> Schema {
        Schema::Builtin(kind.to_string())
    }

    /// How the list at `segs` merges.
    pub fn list_type(&self, segs: &[Seg]) -> ListType {
        let names: Vec<&str> = segs
            .iter()
            .filter_map(|s| match s {
                Seg::Field(f) => Some(f.as_str()),
                Seg::Item => None,
            })
            .collect();
        if names.first() == Some(&"metadata") {
            return match names.get(1..) {
                Some(["finalizers"]) => ListType::Set,
                Some(["ownerReferences"]) => ListType::Map(vec!["uid".into()]),
                _ => ListType::Atomic,
            };
        }
        match self {
            Schema::Builtin(kind) => builtin_list_type(kind, &names),
            Schema::Custom(Some(schema)) => custom_list_type(schema, segs),
            Schema::Custom(None) => ListType::Atomic,
        }
    }

    /// Whether strategic merge patch is allowed (built-in kinds only, as on a real server).
    pub fn strategic(&self) -> bool {
        matches!(self, Schema::Builtin(_))
    }
}

fn keys(k: &[&str]) -> ListType {
    ListType::Map(k.iter().map(|s| s.to_string()).collect())
}

fn builtin_list_type(kind: &str, names: &[&str]) -> ListType {
    let Some(last) = names.last() else {
        return ListType::Atomic;
    };
    let in_container = names.len() >= 2
        && matches!(
            names[names.len() - 2],
            "containers" | "initContainers" | "ephemeralContainers"
        );
    match *last {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "imagePullSecrets"
        | "readinessGates" => keys(&["name"]),
        "env" if in_container => keys(&["name"]),
        "volumeMounts" => keys(&["mountPath"]),
        "volumeDevices" => keys(&["devicePath"]),
        "ports" if in_container => keys(&["containerPort", "protocol"]),
        "ports" if kind == "Service" => keys(&["port", "protocol"]),
        "hostAliases" => keys(&["ip"]),
        "conditions" => keys(&["type"]),
        "topologySpreadConstraints" => keys(&["topologyKey", "whenUnsatisfiable"]),
        "finalizers" if kind == "Namespace" => ListType::Set,
        "addresses" if kind == "Node" => keys(&["type"]),
        "taints" if kind == "Node" => keys(&["key", "effect"]),
        _ => ListType::Atomic,
    }
}

fn custom_list_type(root: &Value, segs: &[Seg]) -> ListType {
    let mut cur = root;
    for s in segs {
        let next = match s {
            Seg::Field(f) => cur
                .pointer(&format!(
                    "/properties/{}",
                    f.replace('~', "~0").replace('/', "~1")
                ))
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object())),
            Seg::Item => cur.get("items"),
        };
        match next {
            Some(n) => cur = n,
            None => return ListType::Atomic,
        }
    }
    match cur.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => {
            let ks: Vec<String> = cur
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if ks.is_empty() {
                ListType::Atomic
            } else {
                ListType::Map(ks)
            }
        }
        Some("set") => ListType::Set,
        _ => ListType::Atomic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> Seg {
        Seg::Field(s.into())
    }

    #[test]
    fn builtin_keys_follow_the_real_patch_merge_keys() {
        let d = Schema::builtin("Deployment");
        let c = [f("spec"), f("template"), f("spec"), f("containers")];
        assert_eq!(d.list_type(&c), keys(&["name"]));
        let ports = [
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            Seg::Item,
            f("ports"),
        ];
        assert_eq!(d.list_type(&ports), keys(&["containerPort", "protocol"]));
        assert_eq!(
            Schema::builtin("Service").list_type(&[f("spec"), f("ports")]),
            keys(&["port", "protocol"])
        );
        assert_eq!(
            d.list_type(&[f("metadata"), f("finalizers")]),
            ListType::Set
        );
        assert_eq!(
            d.list_type(&[f("spec"), f("template"), f("spec"), f("tolerations")]),
            ListType::Atomic
        );
    }

    #[test]
    fn custom_kinds_read_list_type_extensions() {
        let s = Schema::Custom(Some(json!({"properties": {"spec": {"properties": {
            "peers": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["ip"],
                      "items": {"type": "object"}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set"},
            "args": {"type": "array"}}}}})));
        assert_eq!(s.list_type(&[f("spec"), f("peers")]), keys(&["ip"]));
        assert_eq!(s.list_type(&[f("spec"), f("tags")]), ListType::Set);
        assert_eq!(s.list_type(&[f("spec"), f("args")]), ListType::Atomic);
        assert!(!s.strategic());
    }
}

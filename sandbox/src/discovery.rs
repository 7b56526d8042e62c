//! Discovery documents: /version, /api, /api/v1, /apis, /apis/{group},
//! /apis/{group}/{version}, and aggregated discovery (apidiscovery.k8s.io/v2) that
//! kubectl 1.32 and kube-rs ask for first.
//!
//! Reads the registry only; must not look at objects.

use serde_json::{Value, json};

use crate::registry::{Registry, ResourceType};

/// Content type of an aggregated discovery answer; clients check it before decoding.
pub const AGGREGATED_CT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Whether the Accept header asks for aggregated discovery.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|entry| {
        let params: Vec<&str> = entry.split(';').map(str::trim).collect();
        params.contains(&"as=APIGroupDiscoveryList")
            && params.contains(&"v=v2")
            && params.contains(&"g=apidiscovery.k8s.io")
    })
}

/// `/version`.
pub fn version() -> Value {
    json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0-posture-sandbox", "gitCommit": "0000000000000000000000000000000000000000",
           "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"})
}

/// `/api`.
pub fn core_versions(server: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]})
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(json!({}))})
}

/// `/apis`.
pub fn group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if served.
pub fn group(reg: &Registry, name: &str) -> Option<Value> {
    let (g, vs) = reg.groups().into_iter().find(|(g, _)| g == name)?;
    let mut v = group_json(&g, &vs);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = reg.in_group_version(group, version);
    if types.is_empty() && !(group.is_empty() && version == "v1") {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        resources.push(json!({"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced, "kind": t.kind,
            "verbs": VERBS, "shortNames": t.short_names, "categories": t.categories}));
        if t.status_subresource {
            resources.push(json!({"name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced,
                "kind": t.kind, "verbs": ["get", "patch", "update"]}));
        }
        if crate::scale::has_scale(t) {
            resources.push(json!({"name": format!("{}/scale", t.plural), "singularName": "", "namespaced": t.namespaced,
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn aggregated_resource(t: &ResourceType, version: &str) -> Value {
    let kind = json!({"group": t.group, "version": version, "kind": t.kind});
    let mut r = json!({"resource": t.plural, "responseKind": kind, "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular, "verbs": VERBS});
    if !t.short_names.is_empty() {
        r["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        r["categories"] = json!(t.categories);
    }
    let mut subs = Vec::new();
    if t.status_subresource {
        subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
    }
    if crate::scale::has_scale(t) {
        subs.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"]}));
    }
    if !subs.is_empty() {
        r["subresources"] = Value::Array(subs);
    }
    r
}

/// Aggregated discovery for `/api` (core only) or `/apis` (every group).
pub fn aggregated(reg: &Registry, core: bool) -> Value {
    let mut items = Vec::new();
    if core {
        let resources: Vec<Value> = reg
            .in_group_version("", "v1")
            .iter()
            .map(|t| aggregated_resource(t, "v1"))
            .collect();
        items.push(json!({"metadata": {"creationTimestamp": null}, "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]}));
    } else {
        for (g, vs) in reg.groups() {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = reg
                        .in_group_version(&g, v)
                        .iter()
                        .map(|t| aggregated_resource(t, v))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            items.push(
                json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions}),
            );
        }
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_lists_core_and_groups_with_subresources() {
        let r = Registry::new();
        let core = aggregated(&r, true);
        let pods = core["items"][0]["versions"][0]["resources"]
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["resource"] == "pods")
            .cloned()
            .expect("pods served");
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["subresources"][0]["subresource"], "status");
        let apis = aggregated(&r, false);
        assert!(
            apis["items"]
                .as_array()
                .expect("list")
                .iter()
                .any(|g| g["metadata"]["name"] == "apps")
        );
    }

    #[test]
    fn accept_header_detection() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json, */*"));
        assert!(resource_list(&Registry::new(), "nope.io", "v1").is_none());
    }
}

//! Discovery documents: /version, /api, /api/v1, /apis, /apis/{group},
//! /apis/{group}/{version}, and aggregated discovery (apidiscovery.k8s.io/v2, or
//! v2beta1 on 1.26-1.29 servers) that kubectl 1.32 and kube-rs ask for first. Which
//! shape /api and /apis answer depends on the Accept header and the cluster's version.
//!
//! Reads the registry only; must not look at objects.

use serde_json::{Value, json};

use crate::api::{Reply, Request};
use crate::cluster::Cluster;
use crate::registry::{Registry, ResourceType};
use crate::status::{ApiError, ApiResult};
use crate::version::KubeVersion;

/// Content type of an aggregated discovery answer; clients check it before decoding.
pub const AGGREGATED_CT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Content type of a `v2beta1` aggregated discovery answer (1.26 to 1.29 servers).
pub const AGGREGATED_V2BETA1_CT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// The shape of an `/api` or `/apis` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `APIVersions` (/api) or `APIGroupList` (/apis), which every version serves.
    Legacy,
    /// `APIGroupDiscoveryList` of `apidiscovery.k8s.io/v2beta1` (1.26+).
    AggregatedV2Beta1,
    /// `APIGroupDiscoveryList` of `apidiscovery.k8s.io/v2` (1.30+).
    AggregatedV2,
}

impl Shape {
    /// Content type of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Shape::Legacy => "application/json",
            Shape::AggregatedV2Beta1 => AGGREGATED_V2BETA1_CT,
            Shape::AggregatedV2 => AGGREGATED_CT,
        }
    }
}

/// What one Accept entry asks for, if discovery knows it at all.
fn entry_shape(entry: &str) -> Option<Shape> {
    let mut parts = entry.split(';').map(str::trim);
    let media = parts.next().unwrap_or("").to_ascii_lowercase();
    let (mut g, mut v, mut as_) = (None, None, None);
    for p in parts {
        match p.split_once('=').map(|(k, x)| (k.trim(), x.trim())) {
            Some(("g", x)) => g = Some(x),
            Some(("v", x)) => v = Some(x),
            Some(("as", x)) => as_ = Some(x),
            _ => {} // q= and other parameters do not change the choice
        }
    }
    match (as_, g, v) {
        (None, None, None) => matches!(
            media.as_str(),
            "" | "*/*"
                | "application/*"
                | "application/json"
                | "application/yaml"
                | "application/vnd.kubernetes.protobuf"
        )
        .then_some(Shape::Legacy),
        // Any encoding (JSON or protobuf) of the list is answered in JSON, which
        // clients asking for both accept.
        (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2")) => {
            Some(Shape::AggregatedV2)
        }
        (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2beta1")) => {
            Some(Shape::AggregatedV2Beta1)
        }
        _ => None,
    }
}

/// The shape a server at `version` answers to `accept`: the first entry, in order,
/// it can serve, as the apiserver's content negotiation picks; `None` means 406.
pub fn negotiate(accept: &str, version: KubeVersion) -> Option<Shape> {
    if accept.trim().is_empty() {
        return Some(Shape::Legacy);
    }
    accept.split(',').filter_map(entry_shape).find(|s| match s {
        Shape::Legacy => true,
        Shape::AggregatedV2Beta1 => version.aggregated_v2beta1(),
        Shape::AggregatedV2 => version.aggregated_v2(),
    })
}

/// `/api` (`core`) or `/apis` of a cluster, in the shape its version and the Accept
/// header agree on.
///
/// # Errors
/// 406 NotAcceptable when the Accept header names only shapes the version lacks.
pub fn serve_root(cluster: &Cluster, req: &Request, core: bool) -> ApiResult<Reply> {
    let shape = negotiate(&req.accept, cluster.version).ok_or_else(ApiError::not_acceptable)?;
    let st = cluster.state();
    let reg = &st.registry;
    let body = match (shape, core) {
        (Shape::Legacy, true) => core_versions(&req.server_addr),
        (Shape::Legacy, false) => group_list(reg),
        (Shape::AggregatedV2, _) => aggregated(reg, core),
        (Shape::AggregatedV2Beta1, _) => {
            let mut v = aggregated(reg, core);
            v["apiVersion"] = json!("apidiscovery.k8s.io/v2beta1");
            v
        }
    };
    Ok(Reply::Json(
        200,
        shape.content_type(),
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

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

/// `/version` of a [`KubeVersion::DEFAULT`] cluster.
pub fn version() -> Value {
    version_of(KubeVersion::DEFAULT)
}

/// `/version` of a cluster emulating `v`.
pub fn version_of(v: KubeVersion) -> Value {
    json!({"major": v.major.to_string(), "minor": v.minor.to_string(), "gitVersion": v.git_version(),
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"})
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

    #[test]
    fn negotiation_takes_the_first_entry_the_version_serves() {
        let v = |m| KubeVersion::new(1, m);
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(kubectl, v(32)), Some(Shape::AggregatedV2));
        assert_eq!(negotiate(kubectl, v(27)), Some(Shape::AggregatedV2Beta1));
        assert_eq!(negotiate(kubectl, v(23)), Some(Shape::Legacy));
        let beta_first = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
        assert_eq!(negotiate(beta_first, v(32)), Some(Shape::AggregatedV2Beta1));
        assert_eq!(negotiate(beta_first, v(25)), None);
        assert_eq!(negotiate(AGGREGATED_CT, v(29)), None);
        assert_eq!(
            negotiate("application/json, */*", v(23)),
            Some(Shape::Legacy)
        );
        assert_eq!(negotiate("", v(23)), Some(Shape::Legacy));
        assert_eq!(negotiate("*/*;q=0.8", v(32)), Some(Shape::Legacy));
        assert_eq!(negotiate("text/html", v(32)), None);
        let proto = "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(proto, v(32)), Some(Shape::AggregatedV2));
    }

    #[test]
    fn version_document_reports_the_emulated_version() {
        let d = version_of(KubeVersion::new(1, 23));
        assert_eq!(
            (d["major"].clone(), d["minor"].clone()),
            (json!("1"), json!("23"))
        );
        assert_eq!(d["gitVersion"], "v1.23.0");
        assert_eq!(version()["minor"], "32");
    }
}

//! What one API server serves: its Kubernetes version, checked against the
//! supported range, and its kinds, from aggregated discovery where the
//! server offers it and from legacy discovery (`/api`, `/apis`, one
//! `APIResourceList` per group version) otherwise.
//!
//! The shape is detected from the server's answer, never assumed from its
//! version: servers before 1.26 (and newer ones with the
//! AggregatedDiscoveryEndpoint feature off) answer an aggregated request
//! with the legacy document. On legacy servers only the group versions a
//! run needs are fetched, each once.
//!
//! This module parses documents; requests go through [`crate::cluster::Conn`].

use crate::cluster::Kind;
use kube::discovery::ApiResource;
use serde_json::Value as J;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The Accept header of a discovery request: aggregated v2 (1.30+), then
/// v2beta1 (1.26–1.29), then the legacy document, as kubectl asks.
pub const ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// A server's Kubernetes version (major.minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    /// Major version (1).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KubeVersion {
    /// The oldest supported server: server-side apply is GA since 1.22 and
    /// 1.23 is what DKP 2.3 runs.
    pub const OLDEST: KubeVersion = KubeVersion {
        major: 1,
        minor: 23,
    };

    /// First version with the `fieldValidation` parameter on by default.
    pub const FIELD_VALIDATION: KubeVersion = KubeVersion {
        major: 1,
        minor: 25,
    };

    /// Reads `/version`: `major`/`minor` as strings, where providers add
    /// suffixes (`"23+"` on EKS and GKE); falls back to `gitVersion`.
    pub fn from_info(info: &J) -> Option<KubeVersion> {
        let num = |s: &str| -> Option<u32> {
            let d: String = s.chars().take_while(char::is_ascii_digit).collect();
            d.parse().ok()
        };
        let field = |k: &str| info.get(k).and_then(J::as_str).and_then(num);
        if let (Some(major), Some(minor)) = (field("major"), field("minor")) {
            return Some(KubeVersion { major, minor });
        }
        let git = info.get("gitVersion").and_then(J::as_str)?;
        let mut parts = git.trim_start_matches('v').split('.');
        Some(KubeVersion {
            major: num(parts.next()?)?,
            minor: num(parts.next()?)?,
        })
    }

    /// Whether the server takes `fieldValidation=Strict` (as kubectl's
    /// default `--validate=strict` sends it).
    pub fn has_field_validation(self) -> bool {
        self >= KubeVersion::FIELD_VALIDATION
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How the server answered discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `apidiscovery.k8s.io` v2 or v2beta1: every kind in two documents.
    Aggregated,
    /// `APIGroupList` / `APIVersions`: one document per group version.
    Legacy,
}

/// One cluster's discovery cache for a run.
#[derive(Debug)]
pub struct Catalog {
    /// The server's version.
    pub version: KubeVersion,
    /// The shape of `/apis`.
    pub shape: Shape,
    /// apiVersion → kind → how to address it; `None`: not served.
    served: HashMap<String, Option<HashMap<String, Kind>>>,
    /// Legacy only: the group versions `/api` and `/apis` list, so that an
    /// unlisted one is known unserved without a request.
    listed: HashSet<String>,
    /// Aggregated only: a CRD was established since `/apis` was read.
    reread_apis: bool,
}

/// The answer to "how is apiVersion/kind addressed here?".
#[derive(Debug)]
pub enum Lookup {
    /// Known: served (Some) or not (None).
    Known(Option<Kind>),
    /// Legacy server: this group version's resource list must be fetched.
    Fetch,
    /// Aggregated server: `/apis` must be read again (a CRD was established).
    RereadApis,
}

impl Catalog {
    /// Builds the catalog from `/version`, `/api` and `/apis` as answered to
    /// [`ACCEPT`].
    ///
    /// # Errors
    /// A document that is none of the known shapes (a proxy's page, say).
    pub fn new(version: KubeVersion, api: &J, apis: &J) -> Result<Catalog, String> {
        let mut c = Catalog {
            version,
            shape: Shape::Legacy,
            served: HashMap::new(),
            listed: HashSet::new(),
            reread_apis: false,
        };
        c.absorb_root(api, true)?;
        c.shape = c.absorb_root(apis, false)?;
        Ok(c)
    }

    /// Adds one root document (`/api` when `core`, `/apis` otherwise); returns its shape.
    fn absorb_root(&mut self, doc: &J, core: bool) -> Result<Shape, String> {
        match doc.get("kind").and_then(J::as_str) {
            Some("APIGroupDiscoveryList") => {
                self.absorb_aggregated(doc, core);
                Ok(Shape::Aggregated)
            }
            Some("APIVersions") if core => {
                for v in items(doc, "versions") {
                    if let Some(v) = v.as_str() {
                        self.listed.insert(v.to_string());
                    }
                }
                Ok(Shape::Legacy)
            }
            Some("APIGroupList") if !core => {
                for g in items(doc, "groups") {
                    for v in items(g, "versions") {
                        if let Some(gv) = v.get("groupVersion").and_then(J::as_str) {
                            self.listed.insert(gv.to_string());
                        }
                    }
                }
                Ok(Shape::Legacy)
            }
            other => Err(format!(
                "{} answered with {} instead of a discovery document",
                if core { "/api" } else { "/apis" },
                other.map_or_else(|| "a document without a kind".to_string(), str::to_string)
            )),
        }
    }

    fn absorb_aggregated(&mut self, doc: &J, core: bool) {
        for item in items(doc, "items") {
            let group = if core {
                ""
            } else {
                item.pointer("/metadata/name")
                    .and_then(J::as_str)
                    .unwrap_or_default()
            };
            for v in items(item, "versions") {
                let Some(version) = v.get("version").and_then(J::as_str) else {
                    continue;
                };
                let mut kinds = HashMap::new();
                for r in items(v, "resources") {
                    let plural = r.get("resource").and_then(J::as_str);
                    let kind = r.pointer("/responseKind/kind").and_then(J::as_str);
                    if let (Some(plural), Some(kind)) = (plural, kind) {
                        let namespaced = r.get("scope").and_then(J::as_str) == Some("Namespaced");
                        kinds.insert(
                            kind.to_string(),
                            make_kind(group, version, kind, plural, namespaced),
                        );
                    }
                }
                self.served.insert(api_version(group, version), Some(kinds));
            }
        }
    }

    /// Resolves a kind, or says which document to fetch first.
    pub fn lookup(&self, api_version: &str, kind: &str) -> Lookup {
        if self.reread_apis && api_version.contains('/') {
            return Lookup::RereadApis;
        }
        match self.served.get(api_version) {
            Some(Some(kinds)) => Lookup::Known(kinds.get(kind).cloned()),
            Some(None) => Lookup::Known(None),
            None if self.shape == Shape::Legacy && self.listed.contains(api_version) => {
                Lookup::Fetch
            }
            None => Lookup::Known(None),
        }
    }

    /// Records a fetched `APIResourceList` (`None`: the server answered 404).
    pub fn absorb_resource_list(&mut self, api_version: &str, doc: Option<&J>) {
        let Some(doc) = doc else {
            self.served.insert(api_version.to_string(), None);
            return;
        };
        let (group, version) = crate::cluster::split_api_version(api_version);
        let mut kinds = HashMap::new();
        for r in items(doc, "resources") {
            let name = r.get("name").and_then(J::as_str).unwrap_or_default();
            // `deployments/status` and friends are subresources, not kinds.
            if name.is_empty() || name.contains('/') {
                continue;
            }
            if let Some(kind) = r.get("kind").and_then(J::as_str) {
                let namespaced = r.get("namespaced").and_then(J::as_bool).unwrap_or(false);
                kinds.insert(
                    kind.to_string(),
                    make_kind(group, version, kind, name, namespaced),
                );
            }
        }
        self.served.insert(api_version.to_string(), Some(kinds));
    }

    /// Forgets one group's kinds after a CRD of it was established, so the
    /// next lookup asks again: on a legacy server for the CRD's served
    /// versions only (now listed), on an aggregated one by re-reading `/apis`.
    pub fn forget_group(&mut self, group: &str, versions: &[String]) {
        self.served
            .retain(|gv, _| crate::cluster::split_api_version(gv).0 != group);
        match self.shape {
            Shape::Legacy => self
                .listed
                .extend(versions.iter().map(|v| api_version(group, v))),
            Shape::Aggregated => self.reread_apis = true,
        }
    }

    /// Replaces the groups of an aggregated catalog with a fresh `/apis`.
    ///
    /// # Errors
    /// A document that is not a discovery document.
    pub fn absorb_apis(&mut self, apis: &J) -> Result<(), String> {
        self.served.retain(|gv, _| !gv.contains('/'));
        self.reread_apis = false;
        self.shape = self.absorb_root(apis, false)?;
        Ok(())
    }
}

/// `group/version`, or `version` for the core group.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// The path of a group version's `APIResourceList`.
pub fn resource_list_path(api_version: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    }
}

/// The elements of an array field (none when absent or not an array).
fn items<'a>(v: &'a J, key: &str) -> impl Iterator<Item = &'a J> {
    v.get(key).and_then(J::as_array).into_iter().flatten()
}

fn make_kind(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Kind {
    Kind {
        ar: ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: api_version(group, version),
            kind: kind.to_string(),
            plural: plural.to_string(),
        },
        namespaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(minor: u32) -> KubeVersion {
        KubeVersion { major: 1, minor }
    }

    fn legacy_roots() -> (J, J) {
        let api = json!({"kind": "APIVersions", "versions": ["v1"]});
        let apis = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]}
        ]});
        (api, apis)
    }

    #[test]
    fn versions_with_provider_suffixes_and_git_versions() {
        let eks = json!({"major": "1", "minor": "23+", "gitVersion": "v1.23.17-eks-1"});
        assert_eq!(KubeVersion::from_info(&eks), Some(v(23)));
        let bare = json!({"major": "", "minor": "", "gitVersion": "v1.27.3+k3s1"});
        assert_eq!(KubeVersion::from_info(&bare), Some(v(27)));
        assert_eq!(KubeVersion::from_info(&json!({"kind": "Status"})), None);
        assert!(v(22) < KubeVersion::OLDEST && v(23) >= KubeVersion::OLDEST);
        assert!(!v(24).has_field_validation() && v(25).has_field_validation());
        assert_eq!(v(23).to_string(), "1.23");
    }

    #[test]
    fn legacy_servers_are_read_one_listed_group_version_at_a_time() {
        let (api, apis) = legacy_roots();
        let mut c = Catalog::new(v(23), &api, &apis).expect("catalog");
        assert_eq!(c.shape, Shape::Legacy);
        assert!(matches!(c.lookup("apps/v1", "Deployment"), Lookup::Fetch));
        assert!(matches!(c.lookup("v1", "ConfigMap"), Lookup::Fetch));
        // Not listed: known unserved without a request.
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::Known(None)
        ));
        c.absorb_resource_list(
            "apps/v1",
            Some(
                &json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
                    {"name": "deployments", "kind": "Deployment", "namespaced": true},
                    {"name": "deployments/status", "kind": "Deployment", "namespaced": true},
                    {"name": "deployments/scale", "kind": "Scale", "namespaced": true}
                ]}),
            ),
        );
        let Lookup::Known(Some(k)) = c.lookup("apps/v1", "Deployment") else {
            panic!("Deployment not resolved");
        };
        assert_eq!(
            (k.ar.plural.as_str(), k.ar.group.as_str(), k.namespaced),
            ("deployments", "apps", true)
        );
        assert!(matches!(c.lookup("apps/v1", "Scale"), Lookup::Known(None)));
        c.absorb_resource_list("v1", None);
        assert!(matches!(c.lookup("v1", "ConfigMap"), Lookup::Known(None)));
    }

    #[test]
    fn a_crd_established_on_a_legacy_server_lists_its_group_version() {
        let (api, apis) = legacy_roots();
        let mut c = Catalog::new(v(23), &api, &apis).expect("catalog");
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::Known(None)
        ));
        c.forget_group("example.com", &["v1".to_string()]);
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::Fetch
        ));
    }

    #[test]
    fn aggregated_v2beta1_and_v2_are_read_whole() {
        let core = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2beta1", "items": [
            {"metadata": {}, "versions": [{"version": "v1", "resources": [
                {"resource": "configmaps", "responseKind": {"group": "", "version": "v1", "kind": "ConfigMap"}, "scope": "Namespaced"},
                {"resource": "namespaces", "responseKind": {"group": "", "version": "v1", "kind": "Namespace"}, "scope": "Cluster"}
            ]}]}
        ]});
        let apis = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": [
            {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
                {"resource": "deployments", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "scope": "Namespaced"}
            ]}]}
        ]});
        let mut c = Catalog::new(v(27), &core, &apis).expect("catalog");
        assert_eq!(c.shape, Shape::Aggregated);
        let Lookup::Known(Some(ns)) = c.lookup("v1", "Namespace") else {
            panic!("Namespace not resolved");
        };
        assert!(!ns.namespaced);
        assert!(matches!(
            c.lookup("apps/v1", "Deployment"),
            Lookup::Known(Some(_))
        ));
        // Aggregated: anything absent is unserved, until a CRD is established.
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::Known(None)
        ));
        c.forget_group("example.com", &["v1".to_string()]);
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::RereadApis
        ));
        assert!(matches!(
            c.lookup("v1", "ConfigMap"),
            Lookup::Known(Some(_))
        ));
        c.absorb_apis(&apis).expect("reread");
        assert!(matches!(
            c.lookup("example.com/v1", "Widget"),
            Lookup::Known(None)
        ));
    }

    #[test]
    fn a_page_that_is_no_discovery_document_is_an_error() {
        let err =
            Catalog::new(v(30), &json!({"kind": "Status"}), &json!({})).expect_err("not discovery");
        assert!(err.contains("/api answered with Status"), "{err}");
    }
}

//! Turns a request path into what it addresses: a discovery document, an OpenAPI
//! document, or a resource (collection, object, subresource) of a group/version.
//!
//! Pure string work; must not look at the registry or the store.

/// What a path addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3`.
    OpenApiV3Root,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    OpenApiV3(String, String),
    /// A resource path.
    Resource(ResourcePath),
}

/// A resource path: `/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePath {
    /// API group (empty for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace from the path, if any.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub plural: String,
    /// Object name, if the path names one.
    pub name: Option<String>,
    /// Subresource (`status`), if any.
    pub sub: Option<String>,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parses a path; `None` when it addresses nothing the sandbox serves.
pub fn parse(path: &str) -> Option<Route> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => Some(Route::Health),
        ["api"] => Some(Route::CoreVersions),
        ["api", v] => Some(Route::GroupVersion(String::new(), v.to_string())),
        ["api", v, rest @ ..] => resource("", v, rest),
        ["apis"] => Some(Route::Groups),
        ["apis", g] => Some(Route::Group(g.to_string())),
        ["apis", g, v] => Some(Route::GroupVersion(g.to_string(), v.to_string())),
        ["apis", g, v, rest @ ..] => resource(g, v, rest),
        ["openapi", "v2"] => Some(Route::OpenApiV2),
        ["openapi", "v3"] => Some(Route::OpenApiV3Root),
        ["openapi", "v3", "api", v] => Some(Route::OpenApiV3(String::new(), v.to_string())),
        ["openapi", "v3", "apis", g, v] => Some(Route::OpenApiV3(g.to_string(), v.to_string())),
        _ => None,
    }
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let rp = |namespace: Option<&str>, plural: &str, name: Option<&str>, sub: Option<&str>| {
        Some(Route::Resource(ResourcePath {
            group: group.into(),
            version: version.into(),
            namespace: namespace.map(str::to_string),
            plural: plural.into(),
            name: name.map(str::to_string),
            sub: sub.map(str::to_string),
        }))
    };
    match rest {
        // The namespace object itself and its subresources.
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            rp(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", ns, plural] => rp(Some(ns), plural, None, None),
        ["namespaces", ns, plural, name] => rp(Some(ns), plural, Some(name), None),
        ["namespaces", ns, plural, name, sub] => rp(Some(ns), plural, Some(name), Some(sub)),
        [plural] => rp(None, plural, None, None),
        [plural, name] => rp(None, plural, Some(name), None),
        [plural, name, sub] => rp(None, plural, Some(name), Some(sub)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(p: &str) -> ResourcePath {
        match parse(p) {
            Some(Route::Resource(r)) => r,
            other => panic!("{p} parsed as {other:?}"),
        }
    }

    #[test]
    fn namespaced_cluster_and_namespace_paths() {
        let r = res("/apis/apps/v1/namespaces/d/deployments/web/status");
        assert_eq!(
            (
                r.group.as_str(),
                r.namespace.as_deref(),
                r.plural.as_str(),
                r.name.as_deref(),
                r.sub.as_deref()
            ),
            (
                "apps",
                Some("d"),
                "deployments",
                Some("web"),
                Some("status")
            )
        );
        let n = res("/api/v1/namespaces/d");
        assert_eq!(
            (n.namespace, n.plural.as_str(), n.name.as_deref()),
            (None, "namespaces", Some("d"))
        );
        let s = res("/api/v1/namespaces/d/status");
        assert_eq!(
            (s.name.as_deref(), s.sub.as_deref()),
            (Some("d"), Some("status"))
        );
        let c = res("/api/v1/namespaces/d/configmaps");
        assert_eq!((c.namespace.as_deref(), c.name), (Some("d"), None));
        assert_eq!(parse("/apis/g/v/a/b/c/d/e/f"), None);
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1"),
            Some(Route::OpenApiV3("apps".into(), "v1".into()))
        );
    }
}

//! Writes the kubeconfig that points kubectl and kube-rs at the sandbox: one cluster,
//! user and context per emulated cluster, each context named after its cluster.
//!
//! Must not print tokens anywhere but into the kubeconfig itself.

use base64::Engine;
use serde_json::{Value, json};

/// What the kubeconfig needs to know about one cluster.
pub struct KubeconfigEntry<'a> {
    /// Cluster (and context) name.
    pub name: &'a str,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// Bearer token of this cluster.
    pub token: &'a str,
}

/// Renders a kubeconfig (YAML) with a context per entry; the first is current.
pub fn render(ca_pem: &str, entries: &[KubeconfigEntry<'_>]) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes());
    let clusters: Vec<Value> = entries
        .iter()
        .map(|e| json!({"name": e.name, "cluster": {"server": e.server, "certificate-authority-data": ca}}))
        .collect();
    let users: Vec<Value> = entries
        .iter()
        .map(|e| json!({"name": format!("{}-admin", e.name), "user": {"token": e.token}}))
        .collect();
    let contexts: Vec<Value> = entries
        .iter()
        .map(|e| json!({"name": e.name, "context": {"cluster": e.name, "user": format!("{}-admin", e.name)}}))
        .collect();
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": entries.first().map(|e| e.name).unwrap_or_default(),
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_context_per_cluster_named_after_it() {
        let y = render(
            "PEM",
            &[
                KubeconfigEntry {
                    name: "a",
                    server: "https://127.0.0.1:1".into(),
                    token: "t1",
                },
                KubeconfigEntry {
                    name: "b",
                    server: "https://127.0.0.1:2".into(),
                    token: "t2",
                },
            ],
        );
        let v: Value = serde_yaml::from_str(&y).expect("valid yaml");
        assert_eq!(v["contexts"][1]["name"], "b");
        assert_eq!(v["contexts"][1]["context"]["cluster"], "b");
        assert_eq!(v["users"][0]["user"]["token"], "t1");
        assert_eq!(v["current-context"], "a");
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            "UEVN"
        );
    }
}

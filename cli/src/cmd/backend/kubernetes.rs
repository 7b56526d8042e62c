//! `backend "kubernetes" { ... }`: the settings of a state in a management
//! cluster's namespace, checked at the setting's file:line:col.

use std::collections::BTreeMap;

use posture_backend_kubernetes::K8sSettings;
use posture_engine::config::Backend;

use super::string;
use posture_engine::diag::{Diagnostic, Diagnostics};

/// The settings of a `backend "kubernetes"` block; `None` with diagnostics
/// when a required one is missing or one is malformed. A relative
/// `kubeconfig` is relative to the configuration's directory.
pub fn settings(
    b: &Backend,
    diags: &mut Diagnostics,
    env: &BTreeMap<String, String>,
) -> Option<K8sSettings> {
    let namespace = string(b, "namespace", diags);
    let suffix = string(b, "secret_suffix", diags);
    let name = string(b, "name", diags);
    if namespace.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing backend setting",
                "The kubernetes backend needs namespace = \"...\": the namespace that holds \
                 the state's Secrets and lock Lease.",
            )
            .at(b.span),
        );
    }
    if suffix.is_none() && name.is_none() {
        diags.push(
            Diagnostic::error(
                "Missing backend setting",
                "The kubernetes backend needs secret_suffix = \"...\" (the objects are named \
                 posture-state-<workspace>-<secret_suffix>) or name = \"...\".",
            )
            .at(b.span),
        );
    }
    let mut s = K8sSettings::new(namespace.unwrap_or_default(), suffix.unwrap_or_default());
    s.name = name;
    s.kubeconfig = string(b, "kubeconfig", diags).map(|p| {
        let path = std::path::Path::new(&p);
        if path.is_absolute() {
            p
        } else {
            super::super::cwd().join(path).display().to_string()
        }
    });
    s.context = string(b, "context", diags);
    if let Some(w) = env.get("POSTURE_WORKSPACE").filter(|w| !w.is_empty()) {
        s.workspace = w.clone();
    }
    if let Some(ttl) = super::lock_ttl(b, diags) {
        s.lock_ttl = ttl;
    }
    if !diags.has_errors()
        && let Err(e) = s.check()
    {
        diags.push(Diagnostic::error("Invalid backend setting", e).at(b.span));
    }
    (!diags.has_errors()).then_some(s)
}

//! The provider's typed errors. Every message names the resource address or
//! object, the cluster and the server's own message, and never a Secret value
//! (the API server does not echo Secret data in its errors, and posture never
//! puts object bodies into messages).

use posture_provider_core::provider::ProviderError;

/// What can go wrong talking to a cluster.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// The kubeconfig could not be read or has no such context.
    #[error(
        "cluster {cluster}: cannot load kubeconfig {file} with {context}: {detail}; check the cluster block's kubeconfig and context"
    )]
    Kubeconfig {
        /// Cluster name.
        cluster: String,
        /// The kubeconfig file (or where kubectl would look).
        file: String,
        /// The context asked for.
        context: String,
        /// The loader's message.
        detail: String,
    },
    /// The API server answered with an error status.
    #[error("cluster {cluster}: {what}: {code} {reason}: {message}")]
    Api {
        /// Cluster name.
        cluster: String,
        /// What was being done (`patch apps/v1 Deployment default/web`).
        what: String,
        /// HTTP status code.
        code: u16,
        /// The Status reason (`Conflict`, `NotFound`).
        reason: String,
        /// The server's message.
        message: String,
        /// Server-side apply conflicts, from the Status causes.
        conflicts: Vec<Conflict>,
    },
    /// The cluster could not be reached (after retries).
    #[error(
        "cluster {cluster} at {url} is unreachable: {detail}; resources on other clusters go on"
    )]
    Unreachable {
        /// Cluster name.
        cluster: String,
        /// The API server's URL.
        url: String,
        /// The connection error.
        detail: String,
    },
    /// The server is older than the supported range.
    #[error(
        "cluster {cluster} at {url} runs Kubernetes {version}; posture supports {oldest} and newer (server-side apply and its field ownership as planned here); upgrade the cluster or leave it out of this configuration",
        oldest = crate::discovery::KubeVersion::OLDEST
    )]
    Unsupported {
        /// Cluster name.
        cluster: String,
        /// The API server's URL.
        url: String,
        /// What `/version` reported.
        version: crate::discovery::KubeVersion,
    },
    /// The manifest names a kind the cluster does not serve.
    #[error(
        "cluster {cluster} does not serve {api_version} {kind}, and no CustomResourceDefinition for it is planned in this run (add depends_on on the CRD's resource, or install the CRD first)"
    )]
    NotServed {
        /// Cluster name.
        cluster: String,
        /// apiVersion of the manifest.
        api_version: String,
        /// Kind of the manifest.
        kind: String,
    },
    /// The manifest or settings are invalid.
    #[error("{0}")]
    Invalid(String),
    /// Waiting for a condition ran out of time.
    #[error("cluster {cluster}: {what}: timed out after {seconds}s waiting for {waiting_for}")]
    Timeout {
        /// Cluster name.
        cluster: String,
        /// The object.
        what: String,
        /// The timeout.
        seconds: u64,
        /// What was awaited.
        waiting_for: String,
    },
}

/// One field a server-side apply would take from another field manager, as
/// the server's `FieldManagerConflict` cause states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The field path (`.spec.replicas`, `.spec.containers[name="web"].image`).
    pub field: String,
    /// The field manager that owns it.
    pub manager: String,
}

impl Conflict {
    /// The conflicts among a Status's causes. The manager is the quoted
    /// name that opens the cause's message (`conflict with "kubectl-edit"
    /// using apps/v1`): the server's own per-cause wording, one manager each.
    pub fn from_causes(causes: &[kube::core::response::StatusCause]) -> Vec<Conflict> {
        causes
            .iter()
            .filter(|c| c.reason == "FieldManagerConflict" && !c.field.is_empty())
            .map(|c| Conflict {
                field: c.field.clone(),
                manager: quoted_manager(&c.message).unwrap_or_else(|| c.message.clone()),
            })
            .collect()
    }
}

/// The Go-quoted (`%q`) manager name after `conflict with `.
fn quoted_manager(message: &str) -> Option<String> {
    let rest = message.split_once("conflict with ")?.1.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

impl K8sError {
    /// The HTTP status code, for API errors.
    pub fn code(&self) -> Option<u16> {
        match self {
            K8sError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Converts to the engine's error for the instance at `address`. The
    /// engine prefixes the address itself (read and plan diagnostics, the
    /// apply report), so the message carries the cluster and server parts.
    pub fn at(&self, address: &str) -> ProviderError {
        let _ = address;
        ProviderError {
            message: self.to_string(),
            retryable: matches!(self, K8sError::Unreachable { .. })
                || matches!(self.code(), Some(429 | 500 | 503 | 504)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::StatusCause;

    fn cause(message: &str, field: &str) -> StatusCause {
        StatusCause {
            reason: "FieldManagerConflict".into(),
            message: message.into(),
            field: field.into(),
        }
    }

    #[test]
    fn conflicts_come_from_status_causes_with_update_and_apply_owners() {
        let got = Conflict::from_causes(&[
            cause(
                "conflict with \"kubectl-edit\" using apps/v1",
                ".spec.replicas",
            ),
            cause(
                "conflict with \"helm\"",
                ".spec.template.spec.containers[name=\"web\"].image",
            ),
            cause(
                "conflict with \"odd \\\"name\\\"\" with subresource \"status\"",
                ".status.x",
            ),
            StatusCause {
                reason: "FieldValueInvalid".into(),
                message: "bad".into(),
                field: ".spec".into(),
            },
        ]);
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|c| (c.field.as_str(), c.manager.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (".spec.replicas", "kubectl-edit"),
                (".spec.template.spec.containers[name=\"web\"].image", "helm"),
                (".status.x", "odd \"name\""),
            ]
        );
    }
}

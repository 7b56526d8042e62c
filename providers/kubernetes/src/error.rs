//! The provider's typed errors. Every message names the resource address or
//! object, the cluster and the server's own message, and never a Secret value
//! (the API server does not echo Secret data in its errors, and posture never
//! puts object bodies into messages).

use posture_engine::provider::ProviderError;

/// What can go wrong talking to a cluster.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// The kubeconfig could not be read or has no such context.
    #[error(
        "cluster {cluster}: cannot load kubeconfig ({detail}); check the cluster block's kubeconfig and context"
    )]
    Kubeconfig {
        /// Cluster name.
        cluster: String,
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
    },
    /// The cluster could not be reached (after retries).
    #[error("cluster {cluster} is unreachable: {detail}; resources on other clusters go on")]
    Unreachable {
        /// Cluster name.
        cluster: String,
        /// The connection error.
        detail: String,
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

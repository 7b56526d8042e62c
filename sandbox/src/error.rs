//! Errors the sandbox returns to its embedder (the CLI or a test).
//!
//! Errors about a single API request never come here: those become Kubernetes `Status`
//! bodies in `status.rs`. This module is only for start-up, I/O and shutdown failures.

use std::path::PathBuf;

/// Why the sandbox could not start, persist or stop.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A cluster name was given twice or is not a DNS-1123 label.
    #[error(
        "invalid cluster name {name:?}: {reason}; use lowercase letters, digits and '-' (e.g. prod-eu), each name once"
    )]
    InvalidClusterName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No cluster was asked for.
    #[error("no cluster given; pass at least one name, e.g. --clusters mgmt")]
    NoClusters,
    /// Generating the CA or the serving certificate failed.
    #[error("could not generate the sandbox TLS certificates: {0}")]
    Tls(String),
    /// Binding a loopback port failed.
    #[error("could not listen on 127.0.0.1 for cluster {cluster:?}: {source}")]
    Bind {
        /// The cluster whose listener failed.
        cluster: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing or reading a file (kubeconfig, state) failed.
    #[error("could not {action} {path}: {source}; check the directory exists and is writable")]
    Io {
        /// What was being done ("write kubeconfig", "read state").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A state file exists but is not what the sandbox wrote.
    #[error(
        "state file {path} is not valid sandbox state ({reason}); move it away or pass another --state-dir"
    )]
    BadState {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        reason: String,
    },
    /// A cluster name that the sandbox does not serve.
    #[error("no cluster named {0:?} in this sandbox")]
    UnknownCluster(String),
    /// A per-cluster Kubernetes version names a cluster that is not started.
    #[error(
        "--cluster-version names cluster {name:?}, which is not one of --clusters ({clusters}); give a version only for a cluster the sandbox starts"
    )]
    VersionForUnknownCluster {
        /// The name given with the version.
        name: String,
        /// The clusters asked for, comma separated.
        clusters: String,
    },
    /// Waiting for SIGINT/SIGTERM failed.
    #[error("could not install the signal handler: {0}")]
    Signal(#[source] std::io::Error),
}

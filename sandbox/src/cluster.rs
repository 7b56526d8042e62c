//! One emulated cluster: its token, store, faults, request counters and controller
//! settings. Shared (behind `Arc`) by its listener, its controllers and the admin endpoint.
//!
//! Must not do I/O: listeners live in `server`, persistence in `persist`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::store::State;
use crate::version::KubeVersion;

/// Faults injected into one cluster's API, changeable at run time via the admin endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Extra latency added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0..=1) of requests answered with `error_code`.
    pub error_rate: f64,
    /// 500 or 503 (default 500).
    pub error_code: Option<u16>,
    /// Fraction (0..=1) of requests answered 429 with Retry-After.
    pub throttle_rate: f64,
    /// Retry-After seconds of the 429s (default 1).
    pub retry_after_seconds: Option<u64>,
    /// Fraction (0..=1) of requests whose connection is dropped without an answer.
    pub drop_rate: f64,
    /// Whether the cluster is down: every connection is closed at once.
    pub down: bool,
}

/// Simulated controllers of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ControllerConfig {
    /// Delay before Deployments, DaemonSets and StatefulSets report ready.
    pub workload_delay_ms: u64,
    /// Delay before the chosen custom kinds get `Ready=True`.
    pub ready_delay_ms: u64,
    /// Custom kinds (by `Kind` or `Kind.group`) that get a Ready condition.
    pub ready_kinds: Vec<String>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            workload_delay_ms: 500,
            ready_delay_ms: 500,
            ready_kinds: vec![
                "ClusterIssuer.cert-manager.io".into(),
                "Issuer.cert-manager.io".into(),
                "Certificate.cert-manager.io".into(),
                "BGPPeer.crd.projectcalico.org".into(),
                "MachineDeployment.cluster.x-k8s.io".into(),
                "Cluster.cluster.x-k8s.io".into(),
            ],
        }
    }
}

/// One emulated cluster.
pub struct Cluster {
    /// Cluster (and kubeconfig context) name.
    pub name: String,
    /// Bearer token clients must send.
    pub token: String,
    /// The Kubernetes version it emulates (`/version`, discovery, field validation).
    pub version: KubeVersion,
    state: Mutex<State>,
    faults: Mutex<Faults>,
    metrics: Mutex<BTreeMap<String, u64>>,
    // Apart from `metrics`: tests sum those as request counts.
    field_validation: Mutex<BTreeMap<String, u64>>,
    /// Controller settings.
    pub controllers: Mutex<ControllerConfig>,
    /// Woken after every committed write (controllers, persistence).
    pub changed: Notify,
}

impl Cluster {
    /// A cluster around an existing store, at [`KubeVersion::DEFAULT`].
    pub fn new(
        name: String,
        token: String,
        state: State,
        faults: Faults,
        controllers: ControllerConfig,
    ) -> Self {
        Cluster {
            name,
            token,
            version: KubeVersion::DEFAULT,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            metrics: Mutex::new(BTreeMap::new()),
            field_validation: Mutex::new(BTreeMap::new()),
            controllers: Mutex::new(controllers),
            changed: Notify::new(),
        }
    }

    /// The same cluster emulating another Kubernetes version (before it is shared).
    pub fn with_version(mut self, version: KubeVersion) -> Self {
        self.version = version;
        self
    }

    /// Counts one `fieldValidation` value received on a write, honoured or not.
    pub fn count_field_validation(&self, value: &str) {
        let mut m = self
            .field_validation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *m.entry(value.to_string()).or_insert(0) += 1;
    }

    /// `fieldValidation` values received on writes, by value (`"Strict"`), with counts.
    pub fn field_validation_seen(&self) -> BTreeMap<String, u64> {
        self.field_validation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Locks the store; a poisoned lock is recovered (a panicking request must not
    /// take the cluster down with it).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Current faults.
    pub fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, f: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = f;
    }

    /// Counts one request (`"get pods"`, `"list deployments.apps"`).
    pub fn count(&self, verb: &str, resource: &str) {
        let mut m = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(format!("{verb} {resource}")).or_insert(0) += 1;
    }

    /// Request counters, by "verb resource".
    pub fn metrics(&self) -> BTreeMap<String, u64> {
        self.metrics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Resets the counters (requests and `fieldValidation` values).
    pub fn reset_metrics(&self) {
        self.metrics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.field_validation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The controller settings.
    pub fn controller_config(&self) -> ControllerConfig {
        self.controllers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Workload readiness delay.
    pub fn workload_delay(&self) -> Duration {
        Duration::from_millis(self.controller_config().workload_delay_ms)
    }
}

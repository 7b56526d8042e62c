//! posture's Kubernetes provider: `kubernetes_manifest` (one object) and
//! `kubernetes_manifests` (a bundle with an inventory), applied by
//! server-side apply to the cluster each resource names with `cluster = ...`.
//!
//! Plans come from server-side dry-runs and compare only the fields posture
//! applies; refresh is one LIST per (cluster, kind, namespace) selected by
//! the `posture.dev/managed-by` label. This crate must not print or choose
//! exit codes (the CLI does) and never puts object bodies into messages.

pub mod bundle;
pub mod cluster;
pub mod conflict;
pub mod discovery;
pub mod error;
pub mod kubeconfig;
pub mod manifest;
pub mod object;
pub mod read;
pub mod resource;
pub mod schema;
pub mod wait;

use cluster::{ClusterRef, Conns, RetryPolicy};
use object::PlannedCrds;
use posture_provider_core::provider::{
    ApplyRequest, ApplyResult, Interrupt, PlanRequest, PlanResponse, Provider, ProviderError,
    ProviderSchema, ReadRequest, ReadResult,
};
use posture_provider_core::value::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Resource type of one object.
pub const MANIFEST: &str = "kubernetes_manifest";
/// Resource type of a bundle.
pub const MANIFESTS: &str = "kubernetes_manifests";

/// Objects of one batch applied at once (each may wait for readiness).
const BATCH_IN_FLIGHT: usize = 64;

/// The provider. One value per run: it caches clients and discovery.
#[derive(Default)]
pub struct KubernetesProvider {
    conns: Conns,
    crds: PlannedCrds,
    /// Cluster values seen in configuration, by name (for import).
    seen: Mutex<HashMap<String, Value>>,
    /// Addresses whose refresh found the applied fields as recorded: with an
    /// unchanged manifest their plan is a no-op without a dry-run.
    clean: Mutex<HashSet<String>>,
}

impl KubernetesProvider {
    /// A provider with the default retry policy.
    pub fn new() -> KubernetesProvider {
        KubernetesProvider::default()
    }

    /// A provider with a custom retry policy (tests use short backoffs).
    pub fn with_retry(retry: RetryPolicy) -> KubernetesProvider {
        KubernetesProvider {
            conns: Conns::with_retry(retry),
            ..KubernetesProvider::default()
        }
    }

    /// Requests sent per cluster name so far (retries included).
    pub async fn request_counts(&self) -> HashMap<String, u64> {
        self.conns.request_counts().await
    }

    pub(crate) fn remember(&self, cluster: &Value) {
        if let Some(c) = ClusterRef::from_value(cluster)
            && let Ok(mut m) = self.seen.lock()
        {
            m.insert(c.name, cluster.clone());
        }
    }

    /// Remembers cluster objects for import: one cluster object, or a map,
    /// object, list or tuple of them (`cluster.fleet`).
    pub fn remember_all(&self, v: &Value) {
        if ClusterRef::from_value(v).is_some() {
            self.remember(v);
        } else if let Some(m) = v.as_map() {
            m.values().for_each(|c| self.remember_all(c));
        } else if let Some(s) = v.as_seq() {
            s.iter().for_each(|c| self.remember_all(c));
        }
    }

    pub(crate) fn mark_clean(&self, address: &str, clean: bool) {
        if let Ok(mut s) = self.clean.lock() {
            if clean {
                s.insert(address.to_string());
            } else {
                s.remove(address);
            }
        }
    }

    pub(crate) fn is_clean(&self, address: &str) -> bool {
        self.clean.lock().is_ok_and(|s| s.contains(address))
    }

    pub(crate) fn cluster_value(&self, name: &str) -> Value {
        self.seen
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
            .unwrap_or_else(|| resource::default_cluster(name))
    }
}

#[async_trait::async_trait]
impl Provider for KubernetesProvider {
    fn name(&self) -> &str {
        "kubernetes"
    }

    fn schema(&self) -> ProviderSchema {
        schema::provider_schema()
    }

    async fn configure(&self, settings: Value) -> Result<(), ProviderError> {
        if let Some(c) = resource::attr(&settings, "clusters") {
            self.remember_all(c);
        }
        Ok(())
    }

    fn batch_key(&self, type_name: &str, value: &Value) -> Option<String> {
        resource::batch_key(type_name, value)
    }

    /// A bundle's inventory lists exactly the objects a failed first apply
    /// made: the next plan applies the rest in place. Replacing it would
    /// delete and recreate them (and a CRD's custom resources with it).
    fn taints_incomplete_create(&self, type_name: &str) -> bool {
        type_name != MANIFESTS
    }

    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        read::read(self, requests).await
    }

    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        match r.type_name.as_str() {
            MANIFEST => resource::plan(self, r).await,
            MANIFESTS => bundle::plan(self, r).await,
            t => Err(ProviderError::new(format!("unknown resource type {t}"))),
        }
    }

    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        self.apply_interruptible(requests, Interrupt::new()).await
    }

    async fn apply_interruptible(
        &self,
        requests: Vec<ApplyRequest>,
        interrupt: Interrupt,
    ) -> Vec<ApplyResult> {
        // SSA is per object; the objects of one batch go concurrently, a
        // bounded number at a time, so that an interrupt leaves the rest of
        // a large batch unsent (and a cluster is not sent thousands at once).
        let gate = tokio::sync::Semaphore::new(BATCH_IN_FLIGHT);
        let futs = requests.into_iter().map(|r| {
            let (gate, interrupt) = (&gate, &interrupt);
            async move {
                let permit = tokio::select! {
                    biased;
                    () = interrupt.interrupted() => return ApplyResult::NotStarted,
                    p = gate.acquire() => p,
                };
                if permit.is_err() || interrupt.is_interrupted() {
                    return ApplyResult::NotStarted;
                }
                let work = async {
                    match r.type_name.as_str() {
                        MANIFEST => resource::apply(self, r).await,
                        MANIFESTS => bundle::apply(self, r).await,
                        t => ApplyResult::Failed(ProviderError::new(format!(
                            "unknown resource type {t}"
                        ))),
                    }
                };
                // Abandoned: the request is dropped; the next run reads
                // whether it reached the cluster.
                tokio::select! {
                    biased;
                    res = work => res,
                    () = interrupt.abandoned() => ApplyResult::Abandoned,
                }
            }
        });
        futures_util::future::join_all(futs).await
    }

    async fn import(&self, type_name: &str, id: &str) -> Result<Value, ProviderError> {
        match type_name {
            MANIFEST => resource::import(self, id).await,
            t => Err(ProviderError::new(format!(
                "{t} cannot be imported; import its objects as kubernetes_manifest"
            ))),
        }
    }
}

//! Cluster targets: the `cluster` object a resource names, one cached
//! [`kube::Client`] per (kubeconfig, context), discovery once per cluster per
//! run, and every API call with retries. This module knows nothing of plans or
//! state; it only talks to API servers.

use crate::discovery::{self, Catalog, KubeVersion, Lookup};
use crate::error::{Conflict, K8sError};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use posture_provider_core::value::Value;
use serde_json::Value as J;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The target named by a resource's `cluster` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterRef {
    /// The cluster block's label or for_each key.
    pub name: String,
    /// Kubeconfig file; `None` loads as kubectl does (KUBECONFIG, ~/.kube/config).
    pub kubeconfig: Option<String>,
    /// Context; `None` uses the kubeconfig's current context.
    pub context: Option<String>,
    /// Field manager for server-side apply.
    pub field_manager: String,
}

impl ClusterRef {
    /// Reads the `cluster` object; `None` when it is missing or not yet known.
    pub fn from_value(v: &Value) -> Option<ClusterRef> {
        let m = v.as_map()?;
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        if !v.is_wholly_known() {
            return None;
        }
        Some(ClusterRef {
            name: s("name")?,
            kubeconfig: s("kubeconfig"),
            context: s("context"),
            field_manager: s("field_manager").unwrap_or_else(|| "posture".to_string()),
        })
    }
}

/// One cluster's connection and run-wide caches.
pub struct Conn {
    /// The cluster's name, for messages.
    pub name: String,
    /// The field manager.
    pub field_manager: String,
    /// The API server's URL, for messages.
    pub url: String,
    client: Client,
    catalog: tokio::sync::Mutex<Option<Catalog>>,
    down: AtomicBool,
    /// Requests sent (retries included), for measurements.
    pub requests: AtomicU64,
}

/// Retry policy shared by every call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// First backoff.
    pub base: Duration,
    /// Backoff cap.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`: capped exponential, with jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.cap);
        let jitter = rand::random::<f64>() * exp.as_secs_f64() / 2.0;
        exp.mul_f64(0.5) + Duration::from_secs_f64(jitter)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
        }
    }
}

/// (kubeconfig, context): what identifies a connection.
type ConnKey = (Option<String>, Option<String>);

/// The per-run cache of connections, keyed by (kubeconfig, context).
#[derive(Default)]
pub struct Conns {
    map: tokio::sync::Mutex<HashMap<ConnKey, Arc<Conn>>>,
    /// The retry policy.
    pub retry: RetryPolicy,
}

impl Conns {
    /// An empty cache with the given retry policy.
    pub fn with_retry(retry: RetryPolicy) -> Conns {
        Conns {
            map: Default::default(),
            retry,
        }
    }

    /// The connection for a cluster, made on first use.
    ///
    /// # Errors
    /// The kubeconfig cannot be read or names no such context
    /// ([`crate::kubeconfig::connect`] says which).
    pub async fn get(&self, c: &ClusterRef) -> Result<Arc<Conn>, K8sError> {
        let key = (c.kubeconfig.clone(), c.context.clone());
        let mut map = self.map.lock().await;
        if let Some(conn) = map.get(&key) {
            return Ok(conn.clone());
        }
        let (client, url) = crate::kubeconfig::connect(c).await?;
        let conn = Arc::new(Conn {
            name: c.name.clone(),
            field_manager: c.field_manager.clone(),
            url,
            client,
            catalog: tokio::sync::Mutex::new(None),
            down: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        });
        map.insert(key, conn.clone());
        Ok(conn)
    }
}

/// A resolved kind: how to address it and whether it is namespaced.
#[derive(Debug, Clone)]
pub struct Kind {
    /// The API resource.
    pub ar: ApiResource,
    /// True for namespaced kinds.
    pub namespaced: bool,
}

fn is_retryable(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn is_connection(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_))
}

/// A connection failure in words: the innermost cause (`connection
/// refused`, a DNS or TLS error) rather than the client's wrapping
/// ("ServiceError: client error (Connect)").
fn connection_cause(e: &kube::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        let said = match io.kind() {
            K::ConnectionRefused => Some("connection refused (nothing listens there)"),
            K::ConnectionReset => Some("the connection was reset"),
            K::TimedOut => Some("the connection timed out"),
            K::HostUnreachable | K::NetworkUnreachable => Some("no route to the host"),
            _ => None,
        };
        if let Some(s) = said {
            return s.to_string();
        }
    }
    let text = cause.to_string();
    if text.is_empty() { e.to_string() } else { text }
}

impl Conn {
    /// Runs one API call with capped exponential backoff and jitter: 429
    /// (honouring the server's retry-after), 5xx and connection errors are
    /// retried; other errors are returned at once. A cluster whose
    /// connection fails after every attempt is marked down, and later calls
    /// fail fast so one unreachable cluster does not slow the others.
    pub async fn call<T, F, Fut>(
        &self,
        policy: RetryPolicy,
        what: &str,
        f: F,
    ) -> Result<T, K8sError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        if self.down.load(Ordering::Relaxed) {
            return Err(K8sError::Unreachable {
                cluster: self.name.clone(),
                url: self.url.clone(),
                detail: "an earlier request could not connect".into(),
            });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            match f(self.client.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if is_retryable(&e) && attempt < policy.attempts => {
                    let mut wait = policy.backoff(attempt);
                    if let kube::Error::Api(s) = &e
                        && let Some(d) = &s.details
                        && d.retry_after_seconds > 0
                    {
                        wait = wait.max(Duration::from_secs(u64::from(d.retry_after_seconds)));
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(self.convert(what, e)),
            }
        }
    }

    /// Converts a client error into the provider's, marking the cluster
    /// down on connection failures and keeping conflict causes structured.
    pub fn convert(&self, what: &str, e: kube::Error) -> K8sError {
        if is_connection(&e) {
            self.down.store(true, Ordering::Relaxed);
            return K8sError::Unreachable {
                cluster: self.name.clone(),
                url: self.url.clone(),
                detail: connection_cause(&e),
            };
        }
        match e {
            kube::Error::Api(s) => K8sError::Api {
                cluster: self.name.clone(),
                what: what.to_string(),
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
                conflicts: s
                    .details
                    .as_ref()
                    .map(|d| Conflict::from_causes(&d.causes))
                    .unwrap_or_default(),
            },
            other => K8sError::Api {
                cluster: self.name.clone(),
                what: what.to_string(),
                code: 0,
                reason: "ClientError".into(),
                message: other.to_string(),
                conflicts: Vec::new(),
            },
        }
    }

    /// Whether an earlier request found the cluster unreachable.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Counts one request made outside [`Conn::call`] (a watch).
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// GET of a JSON document with the given Accept header.
    async fn get_json(&self, policy: RetryPolicy, path: &str, accept: &str) -> Result<J, K8sError> {
        let what = format!("GET {path}");
        let text = self
            .call(policy, &what, |c| {
                let req = http::Request::get(path)
                    .header(http::header::ACCEPT, accept)
                    .body(Vec::new());
                async move {
                    match req {
                        Ok(req) => c.request_text(req).await,
                        Err(e) => Err(kube::Error::HttpError(e)),
                    }
                }
            })
            .await?;
        serde_json::from_str(&text).map_err(|e| K8sError::Invalid(format!(
            "cluster {}: {what} at {} did not answer JSON ({e}); is this a Kubernetes API server?",
            self.name, self.url
        )))
    }

    /// `/version`, `/api` and `/apis` at once: one round trip per run.
    async fn probe(&self, policy: RetryPolicy) -> Result<Catalog, K8sError> {
        let (info, api, apis) = tokio::join!(
            self.get_json(policy, "/version", "application/json"),
            self.get_json(policy, "/api", discovery::ACCEPT),
            self.get_json(policy, "/apis", discovery::ACCEPT),
        );
        let info = info?;
        let version = KubeVersion::from_info(&info).ok_or_else(|| {
            K8sError::Invalid(format!(
                "cluster {}: /version at {} names no Kubernetes version",
                self.name, self.url
            ))
        })?;
        Catalog::new(version, &api?, &apis?)
            .map_err(|e| K8sError::Invalid(format!("cluster {} ({}): {e}", self.name, self.url)))
    }

    /// The cluster's version, checked against the supported range; reads
    /// discovery on first use (once per run).
    ///
    /// # Errors
    /// The cluster cannot be reached or is older than [`KubeVersion::OLDEST`].
    pub async fn version(&self, policy: RetryPolicy) -> Result<KubeVersion, K8sError> {
        let mut cat = self.catalog.lock().await;
        self.catalog_in(&mut cat, policy).await.map(|c| c.version)
    }

    async fn catalog_in<'a>(
        &self,
        slot: &'a mut Option<Catalog>,
        policy: RetryPolicy,
    ) -> Result<&'a mut Catalog, K8sError> {
        if slot.is_none() {
            *slot = Some(self.probe(policy).await?);
        }
        let Some(c) = slot.as_mut() else {
            return Err(K8sError::Invalid("discovery cache empty".into()));
        };
        if c.version < KubeVersion::OLDEST {
            return Err(K8sError::Unsupported {
                cluster: self.name.clone(),
                url: self.url.clone(),
                version: c.version,
            });
        }
        Ok(c)
    }

    /// Forgets a group's kinds once a CRD of it is established, so its
    /// custom resources resolve on the next lookup.
    pub async fn forget_group(&self, group: &str, versions: &[String]) {
        if let Some(c) = self.catalog.lock().await.as_mut() {
            c.forget_group(group, versions);
        }
    }

    /// Resolves apiVersion + kind through the run's discovery cache,
    /// fetching a legacy server's group version the first time it is needed.
    ///
    /// # Errors
    /// The cluster cannot be reached or is too old.
    pub async fn resolve(
        &self,
        policy: RetryPolicy,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Kind>, K8sError> {
        let mut slot = self.catalog.lock().await;
        let cat = self.catalog_in(&mut slot, policy).await?;
        loop {
            match cat.lookup(api_version, kind) {
                Lookup::Known(k) => return Ok(k),
                Lookup::Fetch => {
                    let path = discovery::resource_list_path(api_version);
                    let doc = match self.get_json(policy, &path, "application/json").await {
                        Ok(d) => Some(d),
                        Err(e) if e.code() == Some(404) => None,
                        Err(e) => return Err(e),
                    };
                    cat.absorb_resource_list(api_version, doc.as_ref());
                }
                Lookup::RereadApis => {
                    let doc = self.get_json(policy, "/apis", discovery::ACCEPT).await?;
                    cat.absorb_apis(&doc).map_err(|e| {
                        K8sError::Invalid(format!("cluster {} ({}): {e}", self.name, self.url))
                    })?;
                }
            }
        }
    }

    /// An API handle for a kind, in a namespace or cluster-wide.
    pub fn api_for(&self, k: &Kind, ns: Option<&str>) -> Api<DynamicObject> {
        self.api(self.client.clone(), k, ns)
    }

    fn api(&self, client: Client, k: &Kind, ns: Option<&str>) -> Api<DynamicObject> {
        match (k.namespaced, ns) {
            (true, Some(ns)) => Api::namespaced_with(client, ns, &k.ar),
            (true, None) => Api::all_with(client, &k.ar),
            (false, _) => Api::all_with(client, &k.ar),
        }
    }

    /// Server-side apply (or its dry-run) of one object.
    ///
    /// # Errors
    /// The server's error (409 for conflicts without force).
    pub async fn apply(
        &self,
        policy: RetryPolicy,
        k: &Kind,
        ns: Option<&str>,
        body: &J,
        force: bool,
        dry_run: bool,
    ) -> Result<J, K8sError> {
        let name = body
            .pointer("/metadata/name")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_string();
        let what = format!(
            "{}apply {} {}",
            if dry_run { "dry-run " } else { "" },
            k.ar.kind,
            obj_name(ns, &name)
        );
        let mut pp = PatchParams::apply(&self.field_manager);
        // As kubectl's default --validate=strict: unknown or duplicate
        // fields fail the dry-run at plan time instead of being dropped.
        if self.version(policy).await?.has_field_validation() {
            pp = pp.validation_strict();
        }
        if force {
            pp = pp.force();
        }
        if dry_run {
            pp = pp.dry_run();
        }
        let o = self
            .call(policy, &what, |c| {
                let api = self.api(c, k, ns);
                let (pp, name, body) = (pp.clone(), name.clone(), body.clone());
                async move { api.patch(&name, &pp, &Patch::Apply(body)).await }
            })
            .await?;
        serde_json::to_value(o).map_err(|e| K8sError::Invalid(e.to_string()))
    }

    /// GET one object; `None` when it does not exist.
    ///
    /// # Errors
    /// Anything but 404.
    pub async fn get(
        &self,
        policy: RetryPolicy,
        k: &Kind,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Option<J>, K8sError> {
        let what = format!("get {} {}", k.ar.kind, obj_name(ns, name));
        let o = self
            .call(policy, &what, |c| {
                let api = self.api(c, k, ns);
                let name = name.to_string();
                async move { api.get_opt(&name).await }
            })
            .await?;
        o.map(|o| serde_json::to_value(o).map_err(|e| K8sError::Invalid(e.to_string())))
            .transpose()
    }

    /// One LIST of the objects of a kind in a namespace (or cluster-wide)
    /// carrying a label selector; every page.
    ///
    /// # Errors
    /// The server's error.
    pub async fn list(
        &self,
        policy: RetryPolicy,
        k: &Kind,
        ns: Option<&str>,
        selector: &str,
    ) -> Result<Vec<J>, K8sError> {
        let what = format!("list {} in {}", k.ar.kind, ns.unwrap_or("(cluster)"));
        let mut out = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            // Large pages: one request per kind and namespace for up to 5,000 objects.
            let mut lp = ListParams::default().labels(selector).limit(5000);
            if let Some(c) = &cont {
                lp = lp.continue_token(c);
            }
            let page = self
                .call(policy, &what, |c| {
                    let api = self.api(c, k, ns);
                    let lp = lp.clone();
                    async move { api.list(&lp).await }
                })
                .await?;
            cont = page.metadata.continue_.clone().filter(|c| !c.is_empty());
            for o in page.items {
                out.push(serde_json::to_value(o).map_err(|e| K8sError::Invalid(e.to_string()))?);
            }
            if cont.is_none() {
                return Ok(out);
            }
        }
    }

    /// DELETE with background propagation: `Some(uid)` when the object is
    /// still there (finalizers or grace), `None` when it is gone.
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(
        &self,
        policy: RetryPolicy,
        k: &Kind,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Option<String>, K8sError> {
        let what = format!("delete {} {}", k.ar.kind, obj_name(ns, name));
        let r = self
            .call(policy, &what, |c| {
                let api = self.api(c, k, ns);
                let name = name.to_string();
                async move { api.delete(&name, &DeleteParams::background()).await }
            })
            .await;
        match r {
            Ok(either::Either::Left(o)) => Ok(Some(o.metadata.uid.unwrap_or_default())),
            Ok(either::Either::Right(_)) => Ok(None),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `ns/name` or `name`.
pub fn obj_name(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(av: &str) -> (&str, &str) {
    match av.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", av),
    }
}

impl Conns {
    /// Requests sent per cluster so far (retries included).
    pub async fn request_counts(&self) -> HashMap<String, u64> {
        self.map
            .lock()
            .await
            .values()
            .map(|c| (c.name.clone(), c.requests.load(Ordering::Relaxed)))
            .collect()
    }
}

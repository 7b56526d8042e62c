//! The namespace as a blocking store of Secrets and Leases with
//! resourceVersion preconditions: every call runs on the backend's own small
//! tokio runtime, so the engine's synchronous
//! [`Backend`](posture_engine::state::Backend) methods can use it from any
//! thread. Only the typed core/v1 Secret and coordination/v1 Lease APIs are
//! used, which every API server serves without discovery.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use k8s_openapi::ByteString;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use posture_engine::state::{Binding, Opened, SharedCipher, StateError};
use posture_provider_kubernetes::cluster::ClusterRef;

use crate::settings::K8sSettings;

/// The label every object of a state carries: its base name.
pub(crate) const STATE_LABEL: &str = "posture.dev/state";
/// What an object is to the state: `index`, `chunk`, `history`, `intent`.
pub(crate) const ROLE_LABEL: &str = "posture.dev/role";

/// A runtime shut down in the background when dropped: dropping a runtime
/// the normal way panics inside async code, where the CLI may drop us.
pub(crate) struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// What a conditional write can answer besides an error.
pub(crate) enum Write<T> {
    /// Written; the object as stored (its new resourceVersion).
    Done(T),
    /// The precondition did not hold: 409 (stale resourceVersion, or a
    /// create of a name that exists) or 404 (a replace of a deleted object).
    Refused,
}

/// The namespace, its settings and the runtime the client runs on.
#[derive(Clone)]
pub(crate) struct Store {
    rt: Arc<Rt>,
    secrets: Api<Secret>,
    leases: Api<Lease>,
    pub(crate) settings: Arc<K8sSettings>,
    /// The API server's URL, for messages.
    server: String,
    /// Client-side encryption of chunks and intents, when configured.
    pub(crate) cipher: Option<SharedCipher>,
}

impl Store {
    /// Loads the kubeconfig and builds the client; nothing is sent yet.
    pub(crate) fn new(settings: K8sSettings) -> Result<Store, StateError> {
        let location = settings.url(&settings.base_name());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("posture-k8s-state")
            .enable_all()
            .build()
            .map_err(|e| StateError::Remote {
                location: location.clone(),
                detail: format!("cannot start the Kubernetes client runtime: {e}"),
            })?;
        let rt = Arc::new(Rt(Some(rt)));
        let cluster = ClusterRef {
            name: "backend".into(),
            kubeconfig: settings.kubeconfig.clone(),
            context: settings.context.clone(),
            field_manager: "posture-state".into(),
        };
        let (client, server) = run_on(&rt, async move {
            posture_provider_kubernetes::kubeconfig::connect(&cluster).await
        })?
        .map_err(|e| StateError::Remote {
            location: location.clone(),
            detail: format!("{e}; fix `kubeconfig`/`context` in the backend block or KUBECONFIG"),
        })?;
        let ns = settings.namespace.clone();
        Ok(Store {
            rt,
            secrets: Api::namespaced(client.clone(), &ns),
            leases: Api::namespaced(client, &ns),
            settings: Arc::new(settings),
            server,
            cipher: None,
        })
    }

    /// `kubernetes://<context>/<namespace>/<name>` for messages.
    pub(crate) fn url(&self, name: &str) -> String {
        self.settings.url(name)
    }

    /// Runs `fut` on the store's runtime and waits for it.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StateError> {
        run_on(&self.rt, fut)
    }

    /// Spawns a background task on the store's runtime.
    pub(crate) fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.rt.0 {
            rt.spawn(fut);
        }
    }

    /// `body` as stored in Secret `name`: sealed for `binding` when
    /// encryption is on.
    pub(crate) fn seal(
        &self,
        name: &str,
        binding: Binding,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, StateError> {
        match &self.cipher {
            Some(c) => c.seal(&binding, &body).map_err(|e| match e {
                StateError::Encryption { detail, .. } => StateError::Encryption {
                    location: self.describe(name),
                    detail,
                },
                other => other,
            }),
            None => Ok(body),
        }
    }

    /// What was stored for `object` (read from Secret `name`), opened when
    /// encryption is on (plaintext passes unless encryption is enforced).
    pub(crate) fn open(
        &self,
        name: &str,
        object: &str,
        stored: Vec<u8>,
    ) -> Result<Opened, StateError> {
        match &self.cipher {
            Some(c) => c.open(&self.describe(name), object, &stored),
            None => Ok(Opened {
                plaintext: stored,
                binding: None,
            }),
        }
    }

    fn describe(&self, name: &str) -> String {
        format!("the kubernetes state Secret {}", self.url(name))
    }

    /// The labels of an object of this state with `role`, plus `extra`.
    pub(crate) fn labels(&self, role: &str, extra: &[(&str, String)]) -> BTreeMap<String, String> {
        let mut l = BTreeMap::from([
            (STATE_LABEL.to_string(), self.settings.base_name()),
            (ROLE_LABEL.to_string(), role.to_string()),
            (
                "app.kubernetes.io/managed-by".to_string(),
                "posture".to_string(),
            ),
        ]);
        for (k, v) in extra {
            l.insert((*k).to_string(), v.clone());
        }
        // A partition's objects say whose partition they are (listing).
        if let Some(key) = &self.settings.partition {
            let parent = self.settings.parent_base_name();
            l.insert(crate::settings::PARTITION_OF_LABEL.to_string(), parent);
            l.insert(
                crate::settings::PARTITION_LABEL.to_string(),
                key.to_string(),
            );
        }
        l
    }

    /// The partition keys any Secret of a partition of this state carries.
    pub(crate) fn partition_keys(&self) -> Result<Vec<String>, StateError> {
        let selector = format!(
            "{}={}",
            crate::settings::PARTITION_OF_LABEL,
            self.settings.parent_base_name()
        );
        let st = self.clone();
        let items = self.run(async move {
            st.secrets
                .list(&ListParams::default().labels(&selector))
                .await
                .map(|l| l.items)
                .map_err(|e| st.fail(&st.settings.base_name(), "list", &e))
        })??;
        Ok(items
            .iter()
            .filter_map(|s| {
                label(&s.metadata, crate::settings::PARTITION_LABEL).map(str::to_string)
            })
            .collect())
    }

    /// A Secret of this state: `name`, `labels`, one data key per entry.
    pub(crate) fn secret(
        name: &str,
        labels: BTreeMap<String, String>,
        data: Vec<(&str, Vec<u8>)>,
        resource_version: Option<String>,
    ) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(labels),
                resource_version,
                ..ObjectMeta::default()
            },
            type_: Some("posture.dev/state".into()),
            data: Some(
                data.into_iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v)))
                    .collect(),
            ),
            ..Secret::default()
        }
    }

    /// Reads a Secret; `None` when there is none.
    pub(crate) fn get_secret(&self, name: &str) -> Result<Option<Secret>, StateError> {
        let s = self.clone();
        let n = name.to_string();
        self.run(async move { s.get_secret_async(&n).await })?
    }

    pub(crate) async fn get_secret_async(&self, name: &str) -> Result<Option<Secret>, StateError> {
        self.secrets
            .get_opt(name)
            .await
            .map_err(|e| self.fail(name, "read", &e))
    }

    /// Creates a Secret; `Refused` when the name exists.
    pub(crate) fn create_secret(&self, s: Secret) -> Result<Write<Secret>, StateError> {
        let st = self.clone();
        self.run(async move {
            let name = s.metadata.name.clone().unwrap_or_default();
            match st.secrets.create(&PostParams::default(), &s).await {
                Ok(o) => Ok(Write::Done(o)),
                Err(kube::Error::Api(e)) if e.is_already_exists() => Ok(Write::Refused),
                Err(e) => Err(st.fail(&name, "create", &e)),
            }
        })?
    }

    /// Replaces a Secret; with `metadata.resourceVersion` set, only if it
    /// is still that version.
    pub(crate) fn replace_secret(&self, s: Secret) -> Result<Write<Secret>, StateError> {
        let st = self.clone();
        self.run(async move {
            let name = s.metadata.name.clone().unwrap_or_default();
            match st.secrets.replace(&name, &PostParams::default(), &s).await {
                Ok(o) => Ok(Write::Done(o)),
                Err(kube::Error::Api(e)) if e.is_conflict() || e.is_not_found() => {
                    Ok(Write::Refused)
                }
                Err(e) => Err(st.fail(&name, "write", &e)),
            }
        })?
    }

    /// Creates a Secret, or replaces the one of that name unconditionally.
    pub(crate) fn put_secret(&self, s: Secret) -> Result<Secret, StateError> {
        let name = s.metadata.name.clone().unwrap_or_default();
        for _ in 0..3 {
            if let Write::Done(o) = self.create_secret(s.clone())? {
                return Ok(o);
            }
            if let Write::Done(o) = self.replace_secret(s.clone())? {
                return Ok(o);
            }
        }
        Err(StateError::Conflict {
            location: self.url(&name),
            detail: "the Secret was created and deleted repeatedly while this run wrote it".into(),
        })
    }

    /// Deletes a Secret; a missing one is not an error.
    pub(crate) fn delete_secret(&self, name: &str) -> Result<(), StateError> {
        let st = self.clone();
        let n = name.to_string();
        self.run(async move {
            match st.secrets.delete(&n, &DeleteParams::default()).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(e)) if e.is_not_found() => Ok(()),
                Err(e) => Err(st.fail(&n, "delete", &e)),
            }
        })?
    }

    /// The Secrets of this state with `role` matching `extra` selector terms.
    pub(crate) fn list_secrets(&self, role: &str, extra: &str) -> Result<Vec<Secret>, StateError> {
        let mut selector = format!(
            "{STATE_LABEL}={},{ROLE_LABEL}={role}",
            self.settings.base_name()
        );
        if !extra.is_empty() {
            selector = format!("{selector},{extra}");
        }
        let st = self.clone();
        self.run(async move {
            st.secrets
                .list(&ListParams::default().labels(&selector))
                .await
                .map(|l| l.items)
                .map_err(|e| st.fail(&st.settings.base_name(), "list", &e))
        })?
    }

    /// Reads the Lease; `None` when there is none.
    pub(crate) async fn get_lease(&self, name: &str) -> Result<Option<Lease>, StateError> {
        self.leases
            .get_opt(name)
            .await
            .map_err(|e| self.fail(name, "read the lock Lease", &e))
    }

    /// Creates the Lease (`Refused`: another run created it first) or, with
    /// its resourceVersion set, replaces it only if it is still that version.
    pub(crate) async fn write_lease(
        &self,
        lease: Lease,
        create: bool,
    ) -> Result<Write<Lease>, StateError> {
        let name = lease.metadata.name.clone().unwrap_or_default();
        let pp = PostParams::default();
        let answer = if create {
            self.leases.create(&pp, &lease).await
        } else {
            self.leases.replace(&name, &pp, &lease).await
        };
        match answer {
            Ok(o) => Ok(Write::Done(o)),
            Err(kube::Error::Api(e))
                if e.is_conflict() || e.is_already_exists() || (!create && e.is_not_found()) =>
            {
                Ok(Write::Refused)
            }
            Err(e) => Err(self.fail(&name, "write the lock Lease", &e)),
        }
    }

    /// A client failure in words, with what to check for the common ones.
    pub(crate) fn fail(&self, name: &str, what: &str, err: &kube::Error) -> StateError {
        let ns = &self.settings.namespace;
        let detail = match err {
            kube::Error::Api(s) => {
                let hint = if s.is_not_found()
                    && s.details.as_ref().is_some_and(|d| d.kind == "namespaces")
                {
                    format!(
                        "; the namespace {ns:?} does not exist: create it \
                         (kubectl create namespace {ns}) or fix `namespace` in the backend block"
                    )
                } else if s.is_forbidden() || s.code == 401 {
                    format!(
                        "; the kubeconfig's user may not use Secrets and Leases in {ns:?}: \
                         grant get, list, create, update and delete on secrets and \
                         leases.coordination.k8s.io there, or use another context"
                    )
                } else {
                    String::new()
                };
                format!("{what} failed: {} ({}){hint}", s.message, s.code)
            }
            other => format!(
                "{what} failed: cannot reach the API server at {}: {}; check `context` \
                 and `kubeconfig` in the backend block, and that the cluster is up",
                self.server,
                causes(other)
            ),
        };
        StateError::Remote {
            location: self.url(name),
            detail,
        }
    }
}

/// An error and its causes, each said once.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let t = e.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The data value `key` of a Secret, if any.
pub(crate) fn data<'a>(s: &'a Secret, key: &str) -> Option<&'a [u8]> {
    s.data.as_ref()?.get(key).map(|b| b.0.as_slice())
}

/// The label `key` of an object, if any.
pub(crate) fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn run_on<T: Send + 'static>(
    rt: &Rt,
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, StateError> {
    let Some(rt) = &rt.0 else {
        return Err(StateError::Remote {
            location: "kubernetes".into(),
            detail: "the Kubernetes client runtime is shut down".into(),
        });
    };
    // Spawn and wait on a channel rather than block_on: block_on panics when
    // the caller is itself inside a runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| StateError::Remote {
        location: "kubernetes".into(),
        detail: "the Kubernetes client runtime stopped during a request".into(),
    })
}

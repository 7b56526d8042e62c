//! [`K8sLocation`]: a Kubernetes state before its lock is taken.

use posture_engine::state::{
    Backend, LockInfo, LockOptions, PartitionKey, SharedCipher, State, StateError, StateLocation,
};

use crate::backend::K8sBackend;
use crate::generation;
use crate::lock::{self, HeldLock};
use crate::settings::K8sSettings;
use crate::store::Store;

/// Where a Kubernetes state lives: the cluster, the namespace, the index
/// Secret and the lock Lease.
pub struct K8sLocation {
    store: Store,
    base: String,
}

impl K8sLocation {
    /// A location from settings: the kubeconfig is read now, the cluster
    /// is contacted by the first request.
    ///
    /// # Errors
    /// Bad settings, or a kubeconfig that cannot be loaded (naming the file
    /// and context).
    pub fn new(settings: K8sSettings) -> Result<K8sLocation, StateError> {
        settings.check().map_err(|detail| StateError::Remote {
            location: "backend \"kubernetes\"".into(),
            detail,
        })?;
        let base = settings.base_name();
        Ok(K8sLocation {
            store: Store::new(settings)?,
            base,
        })
    }

    /// Encrypts the state's chunks and intents with `cipher`
    /// (docs/encryption.md).
    pub fn with_cipher(mut self, cipher: SharedCipher) -> K8sLocation {
        self.store.cipher = Some(cipher);
        self
    }

    fn lock_name(&self) -> String {
        format!("{}-lock", self.base)
    }

    /// The index Secret's name (every other object's name starts with it).
    pub fn name(&self) -> &str {
        &self.base
    }

    /// Takes the lock and opens the state as its concrete type, for
    /// [`K8sBackend::adopt`] (`posture init --migrate-state`).
    ///
    /// # Errors
    /// As [`StateLocation::open`].
    pub fn open_backend(&self, options: &LockOptions) -> Result<K8sBackend, StateError> {
        let held = HeldLock::acquire(&self.store, &self.lock_name(), options)?;
        // On failure the lock is released as `held` drops.
        K8sBackend::open(self.store.clone(), held)
    }

    /// The expired lock the current holder took over, as its Lease records it.
    ///
    /// # Errors
    /// An unreachable cluster.
    pub fn took_over(&self) -> Result<Option<LockInfo>, StateError> {
        lock::took_over(&self.store, &self.lock_name())
    }

    /// The committed state as a reader without the lock sees it: the
    /// generation the index names when read, whole. `None` before the
    /// first run created the state.
    ///
    /// # Errors
    /// A damaged index or generation, or an unreachable cluster.
    pub fn read_committed(&self) -> Result<Option<State>, StateError> {
        let Some(s) = self.store.get_secret(&self.base)? else {
            return Ok(None);
        };
        let doc = generation::read_doc(&self.store, &s)?;
        generation::read(&self.store, &doc.pointer, &self.base).map(Some)
    }
}

impl StateLocation for K8sLocation {
    fn describe(&self) -> String {
        format!("kubernetes state at {}", self.store.url(&self.base))
    }

    fn open(&self, options: &LockOptions) -> Result<Box<dyn Backend>, StateError> {
        Ok(Box::new(self.open_backend(options)?))
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, StateError> {
        lock::holder(&self.store, &self.lock_name())
    }

    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>, StateError> {
        lock::force_unlock(&self.store, &self.lock_name(), lock_id)
    }

    /// Partition `key`: Secrets and a Lease named `<base>-<key>...`, see
    /// [`K8sSettings::for_partition`].
    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>, StateError> {
        let mut l = K8sLocation::new(self.store.settings.for_partition(key))?;
        l.store.cipher = self.store.cipher.clone();
        Ok(Box::new(l))
    }

    fn partitions(&self) -> Result<Vec<PartitionKey>, StateError> {
        let mut out: Vec<PartitionKey> = self
            .store
            .partition_keys()?
            .iter()
            .filter_map(|k| PartitionKey::parse(k))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

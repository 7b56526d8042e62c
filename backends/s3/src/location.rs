//! [`S3Location`]: an S3 state before its lock is taken.

use posture_engine::state::{
    Backend, LockInfo, LockOptions, PartitionKey, SharedCipher, StateError, StateLocation,
};

use crate::backend::S3Backend;
use crate::lock::{self, HeldLock};
use crate::settings::S3Settings;
use crate::store::Store;

/// Where an S3 state lives: the bucket, the state key and its lock object.
pub struct S3Location {
    store: Store,
    key: String,
}

impl S3Location {
    /// A location from settings. Nothing is contacted yet (credentials and
    /// the bucket are checked by the first request).
    ///
    /// # Errors
    /// The client's runtime could not start, or `bucket`/`key` is empty.
    pub fn new(settings: S3Settings) -> Result<S3Location, StateError> {
        for (name, v) in [("bucket", &settings.bucket), ("key", &settings.key)] {
            if v.trim().is_empty() {
                return Err(StateError::Remote {
                    location: "backend \"s3\"".into(),
                    detail: format!("`{name}` is empty; set it in the backend block"),
                });
            }
        }
        let key = settings.state_key();
        Ok(S3Location {
            store: Store::new(settings)?,
            key,
        })
    }

    /// Encrypts every object of the state but the lock with `cipher`
    /// (docs/encryption.md).
    pub fn with_cipher(mut self, cipher: SharedCipher) -> S3Location {
        self.store.cipher = Some(cipher);
        self
    }

    /// Where the partitions of a partitioned state are: `<key>.partitions/`,
    /// each with the objects of a state of its own (`<key>.partitions/<p>`,
    /// its `.lock`, history and intents), docs/backends.md.
    fn partitions_prefix(&self) -> String {
        format!("{}.partitions/", self.key)
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// The SDK client, for tests and `posture init`'s checks.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        self.store.client()
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.store.settings.bucket
    }

    /// The state object's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl StateLocation for S3Location {
    fn describe(&self) -> String {
        format!("s3 state at {}", self.store.url(&self.key))
    }

    fn open(&self, options: &LockOptions) -> Result<Box<dyn Backend>, StateError> {
        let ttl = self.store.settings.lock_ttl;
        let held = HeldLock::acquire(&self.store, &self.lock_key(), options, ttl)?;
        // On failure the lock is released as `held` drops.
        let backend = S3Backend::open(self.store.clone(), self.key.clone(), held)?;
        Ok(Box::new(backend))
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, StateError> {
        lock::holder(&self.store, &self.lock_key())
    }

    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>, StateError> {
        lock::force_unlock(&self.store, &self.lock_key(), lock_id)
    }

    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>, StateError> {
        Ok(Box::new(S3Location {
            store: self.store.clone(),
            key: format!("{}{key}", self.partitions_prefix()),
        }))
    }

    /// Every partition with any object (its state, lock, history or an
    /// intent: a partition whose first run was killed before its first
    /// commit still has its intents settled).
    fn partitions(&self) -> Result<Vec<PartitionKey>, StateError> {
        let prefix = self.partitions_prefix();
        let mut out: Vec<PartitionKey> = self
            .store
            .list(&prefix)?
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix(&prefix)?;
                let name = rest.split(['.', '/']).next()?;
                PartitionKey::parse(name)
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

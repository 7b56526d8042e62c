//! Encryption of a [`LocalBackend`]'s values (docs/encryption.md): each
//! record, output, intent, snapshot and history line is sealed on its own
//! by the [`StateCipher`](super::super::StateCipher) when one is set, bound
//! to the state's lineage and its key (`instances/<address>`, ...), and
//! snapshots and history lines to their serial too. Keys (addresses,
//! serials) and the `meta` tree (lineage, serial, counters) stay in clear.

use std::borrow::Cow;
use std::path::PathBuf;

use super::super::backend::{Backend, StateLocation};
use super::super::cipher::{Binding, SharedCipher};
use super::super::error::Result;
use super::super::lock::{LockInfo, LockOptions};
use super::super::partition::PartitionKey;
use super::{LocalBackend, LocalLocation};

/// A [`LocalLocation`] whose backend encrypts every value it stores.
pub struct SealedLocalLocation {
    location: LocalLocation,
    cipher: SharedCipher,
}

impl LocalLocation {
    /// This location, with every value encrypted by `cipher`.
    pub fn with_cipher(self, cipher: SharedCipher) -> SealedLocalLocation {
        SealedLocalLocation {
            location: self,
            cipher,
        }
    }
}

impl StateLocation for SealedLocalLocation {
    fn describe(&self) -> String {
        self.location.describe()
    }

    fn open(&self, options: &LockOptions) -> Result<Box<dyn Backend>> {
        let mut b = LocalBackend::open(&self.location.dir, options)?;
        b.cipher = Some(self.cipher.clone());
        Ok(Box::new(b))
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>> {
        self.location.lock_holder()
    }

    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>> {
        self.location.force_unlock(lock_id)
    }

    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>> {
        let dir = super::location::dir(&self.location.dir, key);
        Ok(Box::new(
            LocalLocation::new(dir).with_cipher(self.cipher.clone()),
        ))
    }

    fn partitions(&self) -> Result<Vec<PartitionKey>> {
        super::location::list(&self.location.dir)
    }
}

impl LocalBackend {
    fn where_(&self) -> String {
        format!("the local state in {}", display(&self.store.path))
    }

    /// `value` as stored under `object`: sealed when a cipher is set.
    pub(super) fn seal_value(
        &self,
        lineage: &str,
        object: &str,
        serial: u64,
        value: Vec<u8>,
    ) -> Result<Vec<u8>> {
        match &self.cipher {
            Some(c) => c.seal(&Binding::new(object, lineage, serial), &value),
            None => Ok(value),
        }
    }

    /// What was stored under `object`, opened, its binding checked against
    /// `lineage` (and `serial` when given). Without a cipher, `stored`
    /// itself: no copy on the paths a large apply runs.
    pub(super) fn open_value<'a>(
        &self,
        lineage: &str,
        object: &str,
        serial: Option<u64>,
        stored: &'a [u8],
    ) -> Result<Cow<'a, [u8]>> {
        let Some(c) = &self.cipher else {
            return Ok(Cow::Borrowed(stored));
        };
        let location = format!("{} ({object})", self.where_());
        let opened = c.open(&location, object, stored)?;
        if let Some(b) = &opened.binding {
            b.expect(&location, lineage, serial)?;
        }
        Ok(Cow::Owned(opened.plaintext))
    }
}

fn display(p: &std::path::Path) -> String {
    PathBuf::from(p).display().to_string()
}

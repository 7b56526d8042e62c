//! [`PartitionedLocation`]: a store's partitioned state before it is
//! opened, as the [`StateLocation`] every command uses.

use std::sync::Arc;

use super::{PartitionKey, PartitionedBackend, Selection};
use crate::state::backend::{Backend, StateLocation};
use crate::state::error::{Result, StateError};
use crate::state::lock::{LockInfo, LockOptions};

/// The partitions of the state kept in `base` (docs/backends.md); opening
/// locks those of its [`Selection`].
pub struct PartitionedLocation {
    base: Arc<dyn StateLocation>,
    selection: Selection,
}

impl PartitionedLocation {
    /// Every partition of the state in `base`.
    pub fn new(base: Box<dyn StateLocation>) -> PartitionedLocation {
        PartitionedLocation {
            base: Arc::from(base),
            selection: Selection::All,
        }
    }

    /// Opening locks only the partitions `selection` names.
    pub fn select(mut self, selection: Selection) -> PartitionedLocation {
        self.selection = selection;
        self
    }

    /// Opens the state as [`StateLocation::open`] does, typed.
    ///
    /// # Errors
    /// As [`PartitionedBackend::open`].
    pub fn open_partitioned(&self, options: &LockOptions) -> Result<PartitionedBackend> {
        PartitionedBackend::open(self.base.clone(), &self.selection, options)
    }

    /// Every partition that exists, and the no-cluster one.
    fn keys(&self) -> Result<Vec<PartitionKey>> {
        let mut keys = self.base.partitions()?;
        let global = super::Partition::NoCluster.key();
        if !keys.contains(&global) {
            keys.insert(0, global);
        }
        Ok(keys)
    }
}

impl StateLocation for PartitionedLocation {
    fn describe(&self) -> String {
        format!("{}, partitioned per cluster", self.base.describe())
    }

    fn open(&self, options: &LockOptions) -> Result<Box<dyn Backend>> {
        Ok(Box::new(self.open_partitioned(options)?))
    }

    /// The holder of the first locked partition, in key order.
    fn lock_holder(&self) -> Result<Option<LockInfo>> {
        for key in self.keys()? {
            if let Some(h) = self.base.partition(&key)?.lock_holder()? {
                return Ok(Some(h));
            }
        }
        Ok(None)
    }

    fn lock_holders(&self) -> Result<Vec<LockInfo>> {
        let mut out = Vec::new();
        for key in self.keys()? {
            out.extend(self.base.partition(&key)?.lock_holder()?);
        }
        Ok(out)
    }

    /// Removes the lock `lock_id` from whichever partition holds it.
    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>> {
        let mut seen = Vec::new();
        for key in self.keys()? {
            let loc = self.base.partition(&key)?;
            match loc.lock_holder() {
                Ok(Some(h)) if h.id == lock_id => return loc.force_unlock(lock_id),
                Ok(Some(h)) => seen.push(format!("{} ({key})", h.id)),
                Ok(None) => {}
                // A damaged lock record names its own unlock id.
                Err(StateError::LockFileCorrupt { unlock_id, .. }) if unlock_id == lock_id => {
                    return loc.force_unlock(lock_id);
                }
                Err(e) => return Err(e),
            }
        }
        Err(StateError::Partitioning {
            location: self.describe(),
            detail: if seen.is_empty() {
                format!("no partition is locked, so lock ID {lock_id} holds nothing to unlock")
            } else {
                format!(
                    "no partition is locked with ID {lock_id}; the locks held are {}",
                    seen.join(", ")
                )
            },
        })
    }

    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>> {
        self.base.partition(key)
    }

    fn partitions(&self) -> Result<Vec<PartitionKey>> {
        self.base.partitions()
    }
}

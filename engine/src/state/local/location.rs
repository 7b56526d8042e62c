//! [`LocalLocation`]: a local state directory before its lock is taken,
//! and the partitions of a partitioned state in it (docs/backends.md): each
//! one a state directory of its own under `partitions/<key>/` (its own
//! `lock.json`, database and seal), so runs on different clusters take
//! different lock files.

use std::path::{Path, PathBuf};

use super::super::backend::{Backend, StateLocation};
use super::super::error::{Result, StateError};
use super::super::lock::{LockInfo, LockOptions, force_unlock, read_lock};
use super::super::partition::PartitionKey;
use super::{DEFAULT_STATE_DIR, LocalBackend};

/// A local state directory not yet opened: the [`StateLocation`] of
/// [`LocalBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalLocation {
    /// The state directory (default [`DEFAULT_STATE_DIR`]).
    pub dir: PathBuf,
}

impl LocalLocation {
    /// The state directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalLocation { dir: dir.into() }
    }
}

impl Default for LocalLocation {
    /// `.posture` in the working directory.
    fn default() -> Self {
        LocalLocation::new(DEFAULT_STATE_DIR)
    }
}

impl StateLocation for LocalLocation {
    fn describe(&self) -> String {
        format!("local state in {}", self.dir.display())
    }

    fn open(&self, options: &LockOptions) -> Result<Box<dyn Backend>> {
        Ok(Box::new(LocalBackend::open(&self.dir, options)?))
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>> {
        read_lock(&self.dir)
    }

    fn force_unlock(&self, lock_id: &str) -> Result<Option<LockInfo>> {
        force_unlock(&self.dir, lock_id)
    }

    fn partition(&self, key: &PartitionKey) -> Result<Box<dyn StateLocation>> {
        Ok(Box::new(LocalLocation::new(dir(&self.dir, key))))
    }

    fn partitions(&self) -> Result<Vec<PartitionKey>> {
        list(&self.dir)
    }
}

/// The folder of the partitions under a state directory.
const PARTITIONS: &str = "partitions";

/// The state directory of partition `key` of the state in `dir`.
pub(super) fn dir(dir: &Path, key: &PartitionKey) -> PathBuf {
    dir.join(PARTITIONS).join(key.as_str())
}

/// The partitions under `dir`, sorted; names posture does not write are
/// ignored (a user's stray file is no partition).
pub(super) fn list(dir: &Path) -> Result<Vec<PartitionKey>> {
    let root = dir.join(PARTITIONS);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(StateError::Io { path: root, source }),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| StateError::Io {
            path: root.clone(),
            source,
        })?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
            // Only a directory holding a database is a partition: one whose
            // first open failed before creating it holds no state.
            if let Some(k) = PartitionKey::parse(name).filter(|_| entry.path().join("db").exists())
            {
                out.push(k);
            }
        }
    }
    out.sort();
    Ok(out)
}

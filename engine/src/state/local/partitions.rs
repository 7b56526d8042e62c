//! The partitions of a local state directory (docs/backends.md): each one a
//! state directory of its own under `partitions/<key>/` (its own
//! `lock.json`, database and seal), so runs on different clusters take
//! different lock files.

use std::path::{Path, PathBuf};

use super::super::error::{Result, StateError};
use super::super::partition::PartitionKey;

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

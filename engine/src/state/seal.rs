//! Protection of the database files against sled's own recovery.
//!
//! sled repairs what it reads on open: a damaged or truncated log is cut back
//! to its last valid entry, silently, and the files are rewritten. That is
//! right after a crash (the cut entries were never acknowledged) and wrong
//! after damage (committed operations vanish and the evidence is destroyed).
//!
//! So on every clean close the backend writes a *seal* next to the database:
//! a fingerprint of its files (name, size, modification time) and the count
//! of operations committed (`op_seq`). On open:
//! - seal matches the files: a clean shutdown, open directly (only a stat);
//! - otherwise (crash, damage, or no seal): copy the files aside first, open,
//!   and check that the database has posture metadata and at least the sealed
//!   `op_seq`. If not, the copy is put back byte for byte and the open fails
//!   with [`StateError::Corrupt`]: the damaged state is never overwritten.
//!
//! The seal is gone while the database is open, and a user may delete it.
//! So each commit also leaves a *commit mark* (serial and `op_seq`) that
//! stays: on every open, a database holding less than the mark lost
//! committed history, and the open fails with [`StateError::HistoryLost`]
//! (files put back as above). What each loss leaves to detect it:
//! - database truncated, seal kept: the seal's `op_seq` (and the mark);
//! - seal deleted too, or sled's `snap.*` files deleted: the mark;
//! - database files all gone: the seal or the mark refuses a fresh start.
//!
//! Only deleting the seal, the mark and part of the database together goes
//! unnoticed: nothing posture wrote is left to compare with.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::error::{Result, StateError};

/// One file of the database directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileStamp {
    name: String,
    size: u64,
    modified_ns: u128,
}

/// What a clean close left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Seal {
    pub(crate) files: Vec<FileStamp>,
    pub(crate) op_seq: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn seal_path(db: &Path) -> PathBuf {
    db.with_extension("seal.json")
}

/// Fingerprint of every file under `db`, sorted by relative name.
pub(crate) fn fingerprint(db: &Path) -> Result<Vec<FileStamp>> {
    let mut out = Vec::new();
    let mut stack = vec![db.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let path = entry.path();
            let meta = entry.metadata().map_err(io_err(&path))?;
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let name = path
                .strip_prefix(db)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            out.push(FileStamp {
                name,
                size: meta.len(),
                modified_ns,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The seal of `db`, if any. An unreadable seal counts as none: the files
/// are then protected by a copy, which is the safe side.
pub(crate) fn read_seal(db: &Path) -> Option<Seal> {
    let text = fs::read_to_string(seal_path(db)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the seal after a clean close (tmp file + rename: never half-written).
pub(crate) fn write_seal(db: &Path, op_seq: u64) -> Result<()> {
    let seal = Seal {
        files: fingerprint(db)?,
        op_seq,
    };
    let path = seal_path(db);
    let tmp = db.with_extension("seal.json.tmp");
    let text = serde_json::to_vec(&seal).unwrap_or_default();
    fs::write(&tmp, text).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

/// Removes the seal when the database is opened: until the next clean
/// close, the files may change.
pub(crate) fn remove_seal(db: &Path) -> Result<()> {
    let path = seal_path(db);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&path)(e)),
        _ => Ok(()),
    }
}

/// The last commit, recorded next to the database after each one (unlike
/// the seal, it stays while the database is open). It outlives the loss of
/// the seal and of sled's snapshot files: a database that holds an older
/// serial than this lost committed history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CommitMark {
    pub(crate) serial: u64,
    pub(crate) op_seq: u64,
}

pub(crate) fn mark_path(db: &Path) -> PathBuf {
    db.with_extension("commit.json")
}

/// The last commit recorded, if any; an unreadable record counts as none
/// (it only ever adds a refusal, never permits anything).
pub(crate) fn read_mark(db: &Path) -> Option<CommitMark> {
    let text = fs::read_to_string(mark_path(db)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records a commit that is already durable in the database (tmp file +
/// rename: never half-written).
pub(crate) fn write_mark(db: &Path, mark: &CommitMark) -> Result<()> {
    let path = mark_path(db);
    let tmp = db.with_extension("commit.json.tmp");
    let text = serde_json::to_vec(mark).unwrap_or_default();
    fs::write(&tmp, text).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

/// A copy of the database files taken before an unchecked open.
pub(crate) struct Rescue {
    db: PathBuf,
    copy: PathBuf,
}

impl Rescue {
    /// Copies every file of `db` to a sibling directory.
    pub(crate) fn take(db: &Path) -> Result<Rescue> {
        let copy = db.with_extension(format!("rescue-{}", uuid::Uuid::new_v4()));
        copy_dir(db, &copy)?;
        Ok(Rescue {
            db: db.to_path_buf(),
            copy,
        })
    }

    /// The open checked out: the copy is no longer needed.
    pub(crate) fn discard(self) {
        // A leftover copy wastes space but harms nothing.
        let _ = fs::remove_dir_all(&self.copy);
    }

    /// The open failed its checks: put the original files back. The database
    /// must be closed first.
    pub(crate) fn restore(self) -> Result<()> {
        fs::remove_dir_all(&self.db).map_err(io_err(&self.db))?;
        fs::rename(&self.copy, &self.db).map_err(io_err(&self.db))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(io_err(to))?;
    for entry in fs::read_dir(from).map_err(io_err(from))? {
        let entry = entry.map_err(io_err(from))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if entry.file_type().map_err(io_err(&src))?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(io_err(&src))?;
        }
    }
    Ok(())
}

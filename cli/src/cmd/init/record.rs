//! `.posture/backend.json`: the backend the working directory was last
//! initialized with, as Terraform keeps it in `.terraform/terraform.tfstate`,
//! so that `posture init` sees both the old and the new location when the
//! `backend` block changes, and plan/apply refuse until it ran.
//!
//! Only the kind and the settings that are not credentials are kept
//! (`access_key`, `secret_key` and `token` never are): opening the old
//! backend again takes its credentials from the environment, as any run does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use posture_engine::config::{Backend, BackendSetting};
use posture_engine::diag::{FileId, Span};
use posture_engine::state::DEFAULT_STATE_DIR;
use posture_engine::workspace::Workspace;
use serde::{Deserialize, Serialize};

/// Settings that are credentials: never written to the record.
const SECRET: &[&str] = &["access_key", "secret_key", "token"];

/// Settings that tune a backend without moving its state: a change is no
/// backend change.
const TUNING: &[&str] = &["lock_ttl"];

/// One recorded setting: a string or a boolean, as in the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Setting {
    /// `name = "..."`
    Str(String),
    /// `name = true`
    Bool(bool),
}

/// A backend as recorded: its kind and its non-secret settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// `local`, `s3` or `kubernetes`.
    pub kind: String,
    /// Every setting of the block but the credentials.
    pub settings: BTreeMap<String, Setting>,
}

impl Recorded {
    /// The backend a configuration names: `local` in `.posture` without a
    /// block.
    pub fn of(ws: &Workspace) -> Recorded {
        let mut r = match ws.tree.module.settings.backend.as_ref() {
            Some(b) => Recorded::from_block(b),
            None => Recorded::default_local(),
        };
        // Partitions are another layout of the state: switching is a move.
        if ws.tree.module.settings.state_partition
            == posture_engine::config::StatePartition::Cluster
        {
            let key = crate::cmd::backend::PARTITION_SETTING.to_string();
            r.settings.insert(key, Setting::Str("cluster".into()));
        }
        r
    }

    /// The default: local state in `.posture`.
    pub fn default_local() -> Recorded {
        let mut settings = BTreeMap::new();
        settings.insert("path".into(), Setting::Str(DEFAULT_STATE_DIR.into()));
        Recorded {
            kind: "local".into(),
            settings,
        }
    }

    fn from_block(b: &Backend) -> Recorded {
        let mut settings: BTreeMap<String, Setting> = b
            .settings
            .iter()
            .filter(|(k, _)| !SECRET.contains(&k.as_str()))
            .map(|(k, (v, _))| {
                let v = match v {
                    BackendSetting::Str(s) => Setting::Str(s.clone()),
                    BackendSetting::Bool(b) => Setting::Bool(*b),
                };
                (k.clone(), v)
            })
            .collect();
        if b.kind == "local" {
            settings
                .entry("path".into())
                .or_insert_with(|| Setting::Str(DEFAULT_STATE_DIR.into()));
        }
        Recorded {
            kind: b.kind.clone(),
            settings,
        }
    }

    /// Whether both name the same state (tuning settings aside).
    pub fn same_place(&self, other: &Recorded) -> bool {
        let place = |r: &Recorded| -> BTreeMap<String, Setting> {
            r.settings
                .iter()
                .filter(|(k, _)| !TUNING.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        self.kind == other.kind && place(self) == place(other)
    }

    /// The backend block this record stands for, to open it again. Its
    /// spans point nowhere: problems are printed without a position.
    pub fn to_block(&self) -> Backend {
        let nowhere = Span {
            file: FileId(u32::MAX),
            start: 0,
            end: 0,
        };
        let settings = self
            .settings
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Setting::Str(s) => BackendSetting::Str(s.clone()),
                    Setting::Bool(b) => BackendSetting::Bool(*b),
                };
                (k.clone(), (v, nowhere))
            })
            .collect();
        let path = match self.settings.get("path") {
            Some(Setting::Str(p)) if self.kind == "local" => Some(p.clone()),
            _ => None,
        };
        Backend {
            kind: self.kind.clone(),
            path,
            settings,
            span: nowhere,
        }
    }

    /// A short description for messages: `local state in .posture`,
    /// `s3 bucket "b" key "k"`, `kubernetes namespace "n"`.
    pub fn describe(&self) -> String {
        let get = |k: &str| match self.settings.get(k) {
            Some(Setting::Str(s)) => s.clone(),
            Some(Setting::Bool(b)) => b.to_string(),
            None => String::new(),
        };
        match self.kind.as_str() {
            "local" => format!("local state in {}", get("path")),
            "s3" => format!(
                "s3 backend (bucket {:?}, key {:?})",
                get("bucket"),
                get("key")
            ),
            "kubernetes" => {
                let name = match self.settings.get("name") {
                    Some(_) => get("name"),
                    None => get("secret_suffix"),
                };
                format!(
                    "kubernetes backend (namespace {:?}, {name:?})",
                    get("namespace")
                )
            }
            other => format!("{other} backend"),
        }
    }
}

/// Where the record is: `.posture/backend.json` in the working directory,
/// whatever the backend (as `.terraform/` is Terraform's).
pub fn path(cwd: &Path) -> PathBuf {
    cwd.join(DEFAULT_STATE_DIR).join("backend.json")
}

/// The recorded backend, `None` when `init` never recorded one.
///
/// # Errors
/// An unreadable or damaged record, as a message naming what to do.
pub fn read(cwd: &Path) -> Result<Option<Recorded>, String> {
    let p = path(cwd);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", p.display())),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{} is damaged ({e}); remove it and run `posture init` (with -migrate-state if \
             the backend changed)",
            p.display()
        )
    })
}

/// Records `r` as the initialized backend: written to a temporary file,
/// synced, then renamed, so the record is the old one or the new one.
///
/// # Errors
/// I/O errors, as a message.
pub fn write(cwd: &Path, r: &Recorded) -> Result<(), String> {
    let p = path(cwd);
    let dir = cwd.join(DEFAULT_STATE_DIR);
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", p.display());
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let tmp = dir.join("backend.json.tmp");
    let text = serde_json::to_string_pretty(r).unwrap_or_default();
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp).map_err(fail)?;
        f.write_all(text.as_bytes()).map_err(fail)?;
        f.sync_all().map_err(fail)?;
    }
    std::fs::rename(&tmp, &p).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: &str, pairs: &[(&str, &str)]) -> Recorded {
        Recorded {
            kind: kind.into(),
            settings: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Setting::Str(v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn a_changed_lock_ttl_is_no_backend_change_but_a_changed_key_is() {
        let a = rec("s3", &[("bucket", "b"), ("key", "k"), ("lock_ttl", "2m")]);
        let b = rec("s3", &[("bucket", "b"), ("key", "k"), ("lock_ttl", "5s")]);
        let c = rec("s3", &[("bucket", "b"), ("key", "other")]);
        assert!(a.same_place(&b));
        assert!(!a.same_place(&c));
        assert!(!a.same_place(&Recorded::default_local()));
    }

    #[test]
    fn a_record_survives_a_round_trip_through_its_file() {
        let d = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(d.path()), Ok(None));
        let r = rec("kubernetes", &[("namespace", "n"), ("secret_suffix", "s")]);
        write(d.path(), &r).expect("write");
        assert_eq!(read(d.path()), Ok(Some(r.clone())));
        let block = r.to_block();
        assert_eq!(Recorded::from_block(&block), r);
    }
}

//! Choosing the state location from `posture { backend "..." { } }`: the
//! local directory (the default), an S3 bucket or a Kubernetes namespace
//! (`kubernetes.rs`). Settings problems are diagnostics at the setting's
//! file:line:col.

pub mod kubernetes;

use posture_backend_kubernetes::K8sLocation;
use posture_backend_s3::{S3Location, S3Settings};
use posture_engine::config::{Backend, BackendSetting, StatePartition};
use posture_engine::diag::{Diagnostic, Diagnostics, Span};
use posture_engine::state::{
    LocalLocation, PartitionedLocation, Selection, SharedCipher, StateLocation,
};
use posture_engine::workspace::Workspace;
use std::time::Duration;

use crate::output::print_diags;

/// The state location of `ws` (`.posture/` without a backend block);
/// prints the problems and returns exit 1 when the settings are wrong.
pub fn location(ws: Option<&Workspace>) -> Result<Box<dyn StateLocation>, u8> {
    location_selected(ws, Selection::All)
}

/// [`location`], opening only the partitions `selection` names (`--cluster`)
/// of a partitioned state; exit 1 with what to do when the state is not
/// partitioned.
pub fn location_selected(
    ws: Option<&Workspace>,
    selection: Selection,
) -> Result<Box<dyn StateLocation>, u8> {
    let partitioned =
        ws.is_some_and(|w| w.tree.module.settings.state_partition == StatePartition::Cluster);
    if !partitioned && selection != Selection::All {
        eprintln!(
            "Error: --cluster needs a partitioned state\n\nThis configuration keeps one state for all clusters, so --cluster has nothing to select. Run without --cluster, or set `posture {{ state_partition = \"cluster\" }}` and run `posture init --migrate-state` (docs/backends.md).\n"
        );
        return Err(1);
    }
    let loc = location_unpartitioned(ws)?;
    Ok(if partitioned {
        Box::new(PartitionedLocation::new(loc).select(selection))
    } else {
        loc
    })
}

fn location_unpartitioned(ws: Option<&Workspace>) -> Result<Box<dyn StateLocation>, u8> {
    let backend = ws.and_then(|w| w.tree.module.settings.backend.as_ref());
    let report = |d: &Diagnostics| match ws {
        Some(ws) => print_diags(d, &ws.sources),
        None => print_unplaced(d),
    };
    let cipher = cipher(ws)?;
    location_with(backend, &report, cipher)
}

/// Diagnostics of settings that are not in a file (those `posture init`
/// recorded), without a file:line:col.
pub fn print_unplaced(d: &Diagnostics) {
    for diag in d.iter() {
        eprintln!("Error: {}\n\n{}\n", diag.summary, diag.detail);
    }
}

/// The state location of a backend block (`.posture/` for none), sealed
/// and opened with `ws`'s `encryption` block when it has one (a migration's
/// source is read with the configuration's keys, fallback included);
/// `report` prints the problems, and the result is exit 1 when the settings
/// or the block are wrong.
pub fn location_of(
    backend: Option<&Backend>,
    report: &dyn Fn(&Diagnostics),
    ws: Option<&Workspace>,
) -> Result<Box<dyn StateLocation>, u8> {
    let loc = location_with(backend, report, cipher(ws)?)?;
    // A record of a partitioned state says so in a setting of its own.
    let partitioned = backend.is_some_and(|b| {
        matches!(b.settings.get(PARTITION_SETTING), Some((BackendSetting::Str(v), _)) if v == "cluster")
    });
    Ok(if partitioned {
        Box::new(PartitionedLocation::new(loc))
    } else {
        loc
    })
}

/// The setting `posture init` records for `state_partition = "cluster"`,
/// so that turning partitioning on or off is a backend change.
pub const PARTITION_SETTING: &str = "state_partition";

/// [`location_of`], with every stored value encrypted by `cipher` when
/// given (docs/encryption.md).
fn location_with(
    backend: Option<&Backend>,
    report: &dyn Fn(&Diagnostics),
    cipher: Option<SharedCipher>,
) -> Result<Box<dyn StateLocation>, u8> {
    match backend {
        Some(b) if b.kind == "s3" => {
            let mut diags = Diagnostics::default();
            let settings = s3_settings(b, &mut diags, &super::env());
            if diags.has_errors() {
                report(&diags);
                return Err(1);
            }
            let Some(settings) = settings else {
                return Err(1);
            };
            match S3Location::new(settings) {
                Ok(l) => Ok(match cipher {
                    Some(c) => Box::new(l.with_cipher(c)),
                    None => Box::new(l),
                }),
                Err(e) => {
                    eprintln!("Error: Failed to configure the s3 backend\n\n{e}\n");
                    Err(1)
                }
            }
        }
        Some(b) if b.kind == "kubernetes" => {
            let l = k8s_location(b, report)?;
            Ok(match cipher {
                Some(c) => Box::new(l.with_cipher(c)),
                None => Box::new(l),
            })
        }
        _ => {
            let dir = backend
                .and_then(|b| b.path.clone())
                .unwrap_or_else(|| posture_engine::state::DEFAULT_STATE_DIR.to_string());
            let l = LocalLocation::new(super::cwd().join(dir));
            Ok(match cipher {
                Some(c) => Box::new(l.with_cipher(c)),
                None => Box::new(l),
            })
        }
    }
}

/// The cipher of `posture { encryption { } }` (docs/encryption.md), if
/// any; prints the block's problems and returns exit 1 when it is wrong.
fn cipher(ws: Option<&Workspace>) -> Result<Option<SharedCipher>, u8> {
    let Some(ws) = ws else { return Ok(None) };
    let Some(block) = &ws.tree.module.settings.encryption else {
        return Ok(None);
    };
    match posture_encryption::from_block(block, &super::env()) {
        Ok(c) => Ok(Some(std::sync::Arc::new(c))),
        Err(diags) => {
            print_diags(&diags, &ws.sources);
            Err(1)
        }
    }
}

/// The Kubernetes location of a `backend "kubernetes"` block; prints the
/// problems and returns exit 1 when the settings are wrong.
fn k8s_location(b: &Backend, report: &dyn Fn(&Diagnostics)) -> Result<K8sLocation, u8> {
    let mut diags = Diagnostics::default();
    let settings = kubernetes::settings(b, &mut diags, &super::env());
    if diags.has_errors() {
        report(&diags);
        return Err(1);
    }
    let Some(settings) = settings else {
        return Err(1);
    };
    K8sLocation::new(settings).map_err(|e| {
        eprintln!("Error: Failed to configure the kubernetes backend\n\n{e}\n");
        1
    })
}

pub(super) fn string(b: &Backend, name: &str, diags: &mut Diagnostics) -> Option<String> {
    match b.settings.get(name) {
        Some((BackendSetting::Str(s), _)) => Some(s.clone()),
        Some((BackendSetting::Bool(_), span)) => {
            diags.push(invalid(b, name, "a string", *span));
            None
        }
        None => None,
    }
}

fn boolean(b: &Backend, name: &str, diags: &mut Diagnostics) -> Option<bool> {
    match b.settings.get(name) {
        Some((BackendSetting::Bool(v), _)) => Some(*v),
        Some((BackendSetting::Str(_), span)) => {
            diags.push(invalid(b, name, "true or false", *span));
            None
        }
        None => None,
    }
}

fn invalid(b: &Backend, name: &str, want: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "Invalid backend setting",
        format!("The {} backend setting {name} must be {want}.", b.kind),
    )
    .at(span)
}

/// `lock_ttl = "2m"` of any backend block: how long a lock outlives its
/// last heartbeat. `None` when unset; a diagnostic at the value when it is
/// not a duration of at least one second.
pub fn lock_ttl(b: &Backend, diags: &mut Diagnostics) -> Option<Duration> {
    let t = string(b, "lock_ttl", diags)?;
    match super::common::parse_duration(&t) {
        Ok(d) if d >= Duration::from_secs(1) => Some(d),
        _ => {
            if let Some((_, span)) = b.settings.get("lock_ttl") {
                diags.push(invalid(
                    b,
                    "lock_ttl",
                    "a duration of at least 1s, like \"2m\"",
                    *span,
                ));
            }
            None
        }
    }
}

/// The lock lease of the local state: the `backend "local"` block's
/// `lock_ttl`, else [`LockOptions::new`]'s default (2 minutes). Prints the
/// problem at its file:line:col and returns exit 1 when it is malformed.
pub fn local_lease(ws: Option<&Workspace>) -> Result<Option<Duration>, u8> {
    let Some(ws) = ws else { return Ok(None) };
    let Some(b) = ws
        .tree
        .module
        .settings
        .backend
        .as_ref()
        .filter(|b| b.kind == "local")
    else {
        return Ok(None);
    };
    let mut diags = Diagnostics::default();
    let ttl = lock_ttl(b, &mut diags);
    if diags.has_errors() {
        print_diags(&diags, &ws.sources);
        return Err(1);
    }
    Ok(ttl)
}

/// The S3 settings of a `backend "s3"` block; `None` with diagnostics when
/// a required one is missing or one is malformed.
pub fn s3_settings(
    b: &Backend,
    diags: &mut Diagnostics,
    env: &std::collections::BTreeMap<String, String>,
) -> Option<S3Settings> {
    let missing = |name: &str, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(
                "Missing backend setting",
                format!(
                    "The s3 backend needs {name} = \"...\": the {} of the state object.",
                    if name == "bucket" { "bucket" } else { "key" }
                ),
            )
            .at(b.span),
        );
    };
    let bucket = string(b, "bucket", diags);
    let key = string(b, "key", diags);
    if bucket.is_none() {
        missing("bucket", diags);
    }
    if key.is_none() {
        missing("key", diags);
    }
    let mut s = S3Settings::new(bucket.unwrap_or_default(), key.unwrap_or_default());
    s.region = string(b, "region", diags);
    s.endpoint = string(b, "endpoint", diags);
    s.force_path_style = boolean(b, "force_path_style", diags).unwrap_or(false);
    s.profile = string(b, "profile", diags);
    let access = string(b, "access_key", diags);
    let secret = string(b, "secret_key", diags);
    let token = string(b, "token", diags);
    match (access, secret) {
        (Some(access_key), Some(secret_key)) => {
            s.static_keys = Some(posture_backend_s3::StaticKeys {
                access_key,
                secret_key,
                session_token: token,
            })
        }
        (None, None) => {}
        _ => diags.push(
            Diagnostic::error(
                "Incomplete backend credentials",
                "Set both access_key and secret_key, or neither (to use the AWS credential chain).",
            )
            .at(b.span),
        ),
    }
    if let Some(p) = string(b, "workspace_key_prefix", diags) {
        s.workspace_key_prefix = p;
    }
    if let Some(w) = env.get("POSTURE_WORKSPACE").filter(|w| !w.is_empty()) {
        s.workspace = w.clone();
    }
    s.kms_key_id = string(b, "kms_key_id", diags);
    s.server_side_encryption = string(b, "server_side_encryption", diags);
    if s.server_side_encryption.is_none() {
        if s.kms_key_id.is_some() {
            s.server_side_encryption = Some("aws:kms".into());
        } else if boolean(b, "encrypt", diags) == Some(true) {
            s.server_side_encryption = Some("AES256".into());
        }
    }
    if let Some(ttl) = lock_ttl(b, diags) {
        s.lock_ttl = ttl;
    }
    (!diags.has_errors()).then_some(s)
}

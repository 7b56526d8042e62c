//! `--state-dir`: each cluster's objects saved to `<dir>/<cluster>.json` after changes
//! and loaded at start, so objects survive a restart.
//!
//! Saves whole snapshots (written to a temporary file, then renamed); must not save
//! watch history: watches from before a restart get 410 Expired.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::cluster::Cluster;
use crate::error::SandboxError;
use crate::store::State;

fn file(dir: &Path, cluster: &str) -> PathBuf {
    dir.join(format!("{cluster}.json"))
}

/// Loads a cluster's saved state, if any.
pub fn load(dir: &Path, cluster: &str) -> Result<Option<State>, SandboxError> {
    let path = file(dir, cluster);
    let raw = match std::fs::read(&path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SandboxError::Io {
                action: "read state",
                path,
                source,
            });
        }
    };
    let bad = |reason: String| SandboxError::BadState {
        path: path.clone(),
        reason,
    };
    let v: Value = serde_json::from_slice(&raw).map_err(|e| bad(e.to_string()))?;
    let rv = v
        .get("resourceVersion")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no resourceVersion".into()))?;
    let objects = v
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no objects".into()))?;
    let mut st = State::new();
    // CRDs first, so their kinds are known before their objects.
    for o in objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"))
    {
        st.registry.register_crd(o);
    }
    for o in objects {
        let av = o
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
        let Some(rt) = st.registry.by_kind(group, kind).cloned() else {
            return Err(bad(format!("object of unknown kind {av}/{kind}")));
        };
        let s = |k: &str| {
            o.pointer(&format!("/metadata/{k}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        st.objects
            .entry((rt.group.clone(), rt.plural.clone()))
            .or_default()
            .insert((s("namespace"), s("name")), Arc::new(o.clone()));
    }
    st.rv = rv;
    st.compact();
    Ok(Some(st))
}

/// Writes a cluster's objects now.
pub fn save(dir: &Path, cluster: &Cluster) -> Result<u64, SandboxError> {
    let (rv, objects) = {
        let st = cluster.state();
        let objs: Vec<Arc<Value>> = st
            .objects
            .values()
            .flat_map(|m| m.values().cloned())
            .collect();
        (st.rv, objs)
    };
    let doc = json!({"resourceVersion": rv, "objects": objects.iter().map(|o| o.as_ref()).collect::<Vec<_>>()});
    let path = file(dir, &cluster.name);
    let tmp = path.with_extension("json.tmp");
    let io = |source| SandboxError::Io {
        action: "write state",
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(&tmp, serde_json::to_vec(&doc).unwrap_or_default()).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(rv)
}

/// Saves the cluster whenever its resourceVersion moved, and once more at shutdown.
pub async fn run(
    dir: PathBuf,
    cluster: Arc<Cluster>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), SandboxError> {
    let mut saved = cluster.state().rv;
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => false,
            _ = shutdown.changed() => true,
        };
        let rv = cluster.state().rv;
        if rv != saved {
            saved = save(&dir, &cluster)?;
        }
        if stopping {
            return Ok(());
        }
    }
}

//! One object's life against one cluster: plan by server-side dry-run (with
//! conflicts), apply by server-side apply, readiness waits, delete with
//! finalizers. Shared by `kubernetes_manifest` and `kubernetes_manifests`;
//! it builds no engine values (that is `manifest_resource` and `bundle`).

use crate::cluster::{ClusterRef, Conn, Kind, RetryPolicy};
use crate::error::K8sError;
use crate::manifest::{Ident, is_secret, project, replace_paths, with_label};
use crate::wait::{self, PlannedCrd};
use serde_json::Value as J;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::wait::WaitSpec;

/// CRDs planned in this run, by (cluster, group, kind): their custom
/// resources can be planned before the kind is served, and applied once
/// the CRD is established.
#[derive(Default)]
pub struct PlannedCrds(Mutex<HashMap<(String, String, String), PlannedCrd>>);

/// The CRD a manifest declares, if it is one.
pub fn crd_of(m: &J) -> Option<(String, PlannedCrd)> {
    if m.get("kind").and_then(J::as_str) != Some("CustomResourceDefinition") {
        return None;
    }
    let group = m.pointer("/spec/group").and_then(J::as_str)?;
    let kind = m.pointer("/spec/names/kind").and_then(J::as_str)?;
    let plural = m.pointer("/spec/names/plural").and_then(J::as_str)?;
    let versions = m
        .pointer("/spec/versions")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(J::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(J::as_str).map(str::to_string))
        .collect();
    Some((
        kind.to_string(),
        PlannedCrd {
            name: format!("{plural}.{group}"),
            group: group.to_string(),
            versions,
        },
    ))
}

impl PlannedCrds {
    /// Records a CRD manifest (no-op for other kinds).
    pub fn note(&self, cluster: &str, m: &J) {
        if let Some((kind, crd)) = crd_of(m)
            && let Ok(mut s) = self.0.lock()
        {
            s.insert((cluster.to_string(), crd.group.clone(), kind), crd);
        }
    }

    /// The kind's CRD when it is planned in this run on that cluster.
    pub fn get(&self, cluster: &str, api_version: &str, kind: &str) -> Option<PlannedCrd> {
        let g = crate::cluster::split_api_version(api_version).0;
        self.0.lock().ok().and_then(|s| {
            s.get(&(cluster.to_string(), g.to_string(), kind.to_string()))
                .cloned()
        })
    }

    /// True when the kind's CRD is planned in this run on that cluster.
    pub fn has(&self, cluster: &str, api_version: &str, kind: &str) -> bool {
        self.get(cluster, api_version, kind).is_some()
    }
}

/// What planning one object found.
#[derive(Debug, Default)]
pub struct ObjectPlan {
    /// The applied fields after apply; `None` when only apply can tell
    /// (kind not served yet, namespace created in this run, replacement).
    pub object: Option<J>,
    /// Namespace the object lands in (`None` for cluster-scoped or unknown scope).
    pub namespace: Option<String>,
    /// Paths whose change forces replacement.
    pub replace: Vec<String>,
    /// Conflicts with other field managers, for the plan.
    pub notes: Vec<String>,
}

/// Where an object lands: its kind (if served) and namespace.
pub async fn locate(
    conn: &Conn,
    policy: RetryPolicy,
    id: &Ident,
) -> Result<Option<(Kind, Option<String>)>, K8sError> {
    let Some(k) = conn.resolve(policy, &id.api_version, &id.kind).await? else {
        return Ok(None);
    };
    let ns = if k.namespaced {
        Some(
            id.namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
        )
    } else {
        None
    };
    Ok(Some((k, ns)))
}

/// Plans one object: a dry-run without force to find conflicts, then (when
/// there are some and force is allowed) with force; the result projected on
/// the manifest's fields.
///
/// # Errors
/// A kind neither served nor planned; server errors other than those that
/// mean "only apply can tell".
pub async fn plan(
    conn: &Conn,
    policy: RetryPolicy,
    crds: &PlannedCrds,
    cluster: &ClusterRef,
    manifest: &J,
    prior_manifest: Option<&J>,
    force: bool,
) -> Result<ObjectPlan, K8sError> {
    let id = Ident::of(manifest)?;
    crds.note(&cluster.name, manifest);
    let Some((k, ns)) = locate(conn, policy, &id).await? else {
        if crds.has(&cluster.name, &id.api_version, &id.kind) {
            return Ok(ObjectPlan {
                namespace: id.namespace.clone(),
                notes: vec![format!(
                    "{} {} is served once its CustomResourceDefinition, planned in this run, is established; its server-side details come at apply",
                    id.api_version, id.kind
                )],
                ..Default::default()
            });
        }
        return Err(K8sError::NotServed {
            cluster: cluster.name.clone(),
            api_version: id.api_version,
            kind: id.kind,
        });
    };
    let mut out = ObjectPlan {
        namespace: ns.clone(),
        replace: prior_manifest
            .map(|p| replace_paths(p, manifest))
            .unwrap_or_default(),
        ..Default::default()
    };
    if !out.replace.is_empty() {
        return Ok(out);
    }
    let body = with_label(manifest, &conn.field_manager);
    let first = conn
        .apply(policy, &k, ns.as_deref(), &body, false, true)
        .await;
    let result = match first {
        Ok(r) => r,
        Err(K8sError::Api {
            code: 409,
            conflicts,
            message,
            ..
        }) => {
            let live = conn.get(policy, &k, ns.as_deref(), &id.name).await?;
            out.notes =
                crate::conflict::notes(&conflicts, live.as_ref(), is_secret(manifest), force);
            if out.notes.is_empty() {
                // A 409 without field causes (a stale write, an admission hook).
                out.notes.push(format!("conflict: {message}"));
            }
            if !force {
                return Ok(out);
            }
            conn.apply(policy, &k, ns.as_deref(), &body, true, true)
                .await?
        }
        // The namespace (or another object it needs) is created in this run.
        Err(K8sError::Api { code: 404, .. }) => return Ok(out),
        Err(K8sError::Api {
            code: 422, message, ..
        }) if message.contains("immutable") => {
            out.replace.push("manifest".to_string());
            return Ok(out);
        }
        Err(e) => return Err(e),
    };
    out.object = Some(project(&result, manifest));
    Ok(out)
}

/// Applies one object as [`apply_then_wait`] does; a wait that did not
/// complete is an error too.
///
/// # Errors
/// Server errors (a conflict when `force` is false), timeouts.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    conn: &Conn,
    policy: RetryPolicy,
    crds: &PlannedCrds,
    cluster: &ClusterRef,
    manifest: &J,
    force: bool,
    wait: &WaitSpec,
) -> Result<(J, Option<String>), K8sError> {
    let a = apply_then_wait(conn, policy, crds, cluster, manifest, force, wait).await?;
    match a.not_ready {
        Some(e) => Err(e),
        None => Ok((a.live, a.ns)),
    }
}

/// An object the server accepted.
pub struct Applied {
    /// The live object (as last seen: after the wait when it completed).
    pub live: J,
    /// Its namespace, for namespaced kinds.
    pub ns: Option<String>,
    /// Why the wait after the apply did not complete (a timeout, a lost
    /// watch): the object exists, but is not ready.
    pub not_ready: Option<K8sError>,
}

/// Applies one object (waiting for its CRD when it is planned in this run),
/// then waits for built-in readiness (CRD Established, Namespace Active) and
/// for `wait`.
///
/// # Errors
/// Server errors (a conflict when `force` is false), timeouts before the
/// object was applied. A wait that fails after it is in [`Applied::not_ready`].
#[allow(clippy::too_many_arguments)]
pub async fn apply_then_wait(
    conn: &Conn,
    policy: RetryPolicy,
    crds: &PlannedCrds,
    cluster: &ClusterRef,
    manifest: &J,
    force: bool,
    wait: &WaitSpec,
) -> Result<Applied, K8sError> {
    let id = Ident::of(manifest)?;
    let timeout = wait.timeout.unwrap_or(Duration::from_secs(300));
    let mut located = locate(conn, policy, &id).await?;
    if located.is_none()
        && let Some(crd) = crds.get(&cluster.name, &id.api_version, &id.kind)
    {
        // The CRD is applied in this run: watch it until established, then
        // discover its group again. A server may publish the kind in
        // discovery a moment after the condition, hence a few bounded retries.
        wait::established(conn, policy, &crd, timeout).await?;
        for attempt in 1..=policy.attempts {
            conn.forget_group(&crd.group, &crd.versions).await;
            located = locate(conn, policy, &id).await?;
            if located.is_some() {
                break;
            }
            tokio::time::sleep(policy.backoff(attempt)).await;
        }
    }
    let Some((k, ns)) = located else {
        return Err(K8sError::NotServed {
            cluster: cluster.name.clone(),
            api_version: id.api_version,
            kind: id.kind,
        });
    };
    let body = with_label(manifest, &conn.field_manager);
    let live = conn
        .apply(policy, &k, ns.as_deref(), &body, force, false)
        .await?;
    let mut spec = wait.clone();
    match id.kind.as_str() {
        "CustomResourceDefinition" => spec
            .conditions
            .push(("Established".to_string(), "True".to_string())),
        "Namespace" => {
            spec.fields
                .insert("status.phase".to_string(), "Active".to_string());
        }
        _ => {}
    }
    let (live, not_ready) = if spec.is_empty() {
        (live, None)
    } else {
        match wait::ready(conn, policy, &k, ns.as_deref(), &id.name, &spec, timeout).await {
            Ok(ready) => (ready, None),
            Err(e) => (live, Some(e)),
        }
    };
    if let Some((_, crd)) = crd_of(manifest) {
        conn.forget_group(&crd.group, &crd.versions).await;
    }
    Ok(Applied {
        live,
        ns,
        not_ready,
    })
}

/// Deletes one object and waits until it is gone (finalizers done).
///
/// # Errors
/// Server errors, or finalizers still pending at the timeout.
pub async fn delete(
    conn: &Arc<Conn>,
    policy: RetryPolicy,
    manifest: &J,
    timeout: Duration,
) -> Result<(), K8sError> {
    let id = Ident::of(manifest)?;
    let Some((k, ns)) = locate(conn, policy, &id).await? else {
        // The kind is no longer served (its CRD went first): nothing left.
        return Ok(());
    };
    match conn.delete(policy, &k, ns.as_deref(), &id.name).await? {
        None => Ok(()),
        Some(uid) => wait::gone(conn, policy, &k, ns.as_deref(), &id.name, &uid, timeout).await,
    }
}

/// The longest wait a `timeout` or `delete_timeout` asks for; longer ones
/// are cut to it, so a deadline this far ahead can always be computed.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Parses `300ms`, `30s`, `5m`, `1h`, capped at [`MAX_WAIT`].
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    if num.is_empty() {
        return None;
    }
    let per_unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    // All digits: a number too large for u64 is simply longer than the cap.
    let millis = num
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per_unit_ms))
        .unwrap_or(u64::MAX);
    Some(Duration::from_millis(millis).min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("h"), None);
    }

    #[test]
    fn huge_timeout_is_capped_instead_of_overflowing() {
        assert_eq!(parse_duration("99999999999999999h"), Some(MAX_WAIT));
        assert_eq!(parse_duration("99999999999999999999999s"), Some(MAX_WAIT));
        assert_eq!(parse_duration("25h"), Some(MAX_WAIT));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
    }
}

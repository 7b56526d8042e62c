//! One object's life against one cluster: plan by server-side dry-run (with
//! conflicts), apply by server-side apply, readiness waits, delete with
//! finalizers. Shared by `kubernetes_manifest` and `kubernetes_manifests`;
//! it builds no engine values (that is `manifest_resource` and `bundle`).

use crate::cluster::{ClusterRef, Conn, Kind, RetryPolicy};
use crate::error::K8sError;
use crate::manifest::{Ident, is_secret, project, replace_paths, with_label};
use serde_json::Value as J;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// CRDs planned in this run, by (cluster, group, kind): their custom
/// resources can be planned before the kind is served.
#[derive(Default)]
pub struct PlannedCrds(Mutex<HashSet<(String, String, String)>>);

impl PlannedCrds {
    /// Records a CRD manifest (no-op for other kinds).
    pub fn note(&self, cluster: &str, m: &J) {
        if m.get("kind").and_then(J::as_str) != Some("CustomResourceDefinition") {
            return;
        }
        let g = m.pointer("/spec/group").and_then(J::as_str);
        let k = m.pointer("/spec/names/kind").and_then(J::as_str);
        if let (Some(g), Some(k)) = (g, k)
            && let Ok(mut s) = self.0.lock()
        {
            s.insert((cluster.to_string(), g.to_string(), k.to_string()));
        }
    }

    /// True when the kind's CRD is planned in this run on that cluster.
    pub fn has(&self, cluster: &str, api_version: &str, kind: &str) -> bool {
        let g = crate::cluster::split_api_version(api_version).0;
        self.0
            .lock()
            .is_ok_and(|s| s.contains(&(cluster.to_string(), g.to_string(), kind.to_string())))
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
            code: 409, message, ..
        }) => {
            let live = conn.get(policy, &k, ns.as_deref(), &id.name).await?;
            out.notes = conflict_notes(&message, live.as_ref(), is_secret(manifest), force);
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

/// One note per conflicting field: the field, the manager owning it and its
/// live value (never a Secret's).
pub fn conflict_notes(message: &str, live: Option<&J>, secret: bool, force: bool) -> Vec<String> {
    let mut notes = Vec::new();
    for part in message.split("conflict with \"").skip(1) {
        let Some((manager, rest)) = part.split_once('"') else {
            continue;
        };
        let fields = rest.split_once(':').map(|x| x.1).unwrap_or_default();
        for f in fields
            .split(['\n', ','])
            .map(|f| f.trim().trim_start_matches("- ").trim())
            .filter(|f| f.starts_with('.'))
        {
            let value = if secret {
                "(sensitive value)".to_string()
            } else {
                live.and_then(|l| l.pointer(&f.replace('.', "/")))
                    .map(J::to_string)
                    .unwrap_or_else(|| "(see the live object)".to_string())
            };
            let then = if force {
                "apply takes it back (force_conflicts = true)"
            } else {
                "apply will fail (force_conflicts = false)"
            };
            notes.push(format!(
                "conflict: {f} is owned by field manager \"{manager}\" with value {value}; {then}"
            ));
        }
    }
    notes
}

/// Options of an apply.
#[derive(Debug, Clone, Default)]
pub struct WaitSpec {
    /// Conditions (type, status) to wait for.
    pub conditions: Vec<(String, String)>,
    /// Wait for workload rollout.
    pub rollout: bool,
    /// Dotted paths and expected string values.
    pub fields: BTreeMap<String, String>,
    /// Timeout.
    pub timeout: Option<Duration>,
}

/// Applies one object (waiting for its CRD when it is planned in this run),
/// then waits for built-in readiness (CRD Established, Namespace Active) and
/// for `wait`. Returns the live object.
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
    let id = Ident::of(manifest)?;
    let timeout = wait.timeout.unwrap_or(Duration::from_secs(300));
    let mut located = locate(conn, policy, &id).await?;
    if located.is_none() && crds.has(&cluster.name, &id.api_version, &id.kind) {
        // The CRD is being applied in this run: poll discovery until served.
        let deadline = tokio::time::Instant::now() + timeout;
        while located.is_none() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            conn.invalidate_discovery().await;
            located = locate(conn, policy, &id).await?;
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
    let live = if spec.conditions.is_empty() && spec.fields.is_empty() && !spec.rollout {
        live
    } else {
        wait_ready(conn, policy, &k, ns.as_deref(), &id, &spec, timeout).await?
    };
    if id.kind == "CustomResourceDefinition" {
        conn.invalidate_discovery().await;
    }
    Ok((live, ns))
}

fn ready(live: &J, spec: &WaitSpec, kind: &str) -> bool {
    let conds = live
        .pointer("/status/conditions")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default();
    let cond_ok = spec.conditions.iter().all(|(t, s)| {
        conds.iter().any(|c| {
            c.get("type").and_then(J::as_str) == Some(t)
                && c.get("status").and_then(J::as_str) == Some(s)
        })
    });
    let fields_ok = spec.fields.iter().all(|(p, want)| {
        let ptr = format!("/{}", p.replace('.', "/"));
        match live.pointer(&ptr) {
            Some(J::String(s)) => s == want,
            Some(J::Number(n)) => n.to_string() == *want,
            Some(J::Bool(b)) => b.to_string() == *want,
            Some(_) => false,
            None => false,
        }
    });
    cond_ok && fields_ok && (!spec.rollout || rolled_out(live, kind))
}

fn rolled_out(live: &J, kind: &str) -> bool {
    let n = |p: &str| live.pointer(p).and_then(J::as_i64);
    let observed =
        n("/status/observedGeneration").unwrap_or(0) >= n("/metadata/generation").unwrap_or(0);
    match kind {
        "Deployment" | "StatefulSet" => {
            let want = n("/spec/replicas").unwrap_or(1);
            observed && n("/status/readyReplicas").unwrap_or(0) >= want
        }
        "DaemonSet" => {
            observed
                && n("/status/desiredNumberScheduled").is_some()
                && n("/status/numberReady") == n("/status/desiredNumberScheduled")
        }
        _ => true,
    }
}

async fn wait_ready(
    conn: &Conn,
    policy: RetryPolicy,
    k: &Kind,
    ns: Option<&str>,
    id: &Ident,
    spec: &WaitSpec,
    timeout: Duration,
) -> Result<J, K8sError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(live) = conn.get(policy, k, ns, &id.name).await?
            && ready(&live, spec, &id.kind)
        {
            return Ok(live);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(K8sError::Timeout {
                cluster: conn.name.clone(),
                what: format!("{} {}", id.kind, crate::cluster::obj_name(ns, &id.name)),
                seconds: timeout.as_secs(),
                waiting_for: describe(spec),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn describe(spec: &WaitSpec) -> String {
    let mut parts: Vec<String> = spec
        .conditions
        .iter()
        .map(|(t, s)| format!("condition {t}={s}"))
        .collect();
    parts.extend(spec.fields.iter().map(|(p, v)| format!("{p}={v}")));
    if spec.rollout {
        parts.push("rollout".into());
    }
    parts.join(", ")
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
    if !conn.delete(policy, &k, ns.as_deref(), &id.name).await? {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    while conn
        .get(policy, &k, ns.as_deref(), &id.name)
        .await?
        .is_some()
    {
        if tokio::time::Instant::now() >= deadline {
            return Err(K8sError::Timeout {
                cluster: conn.name.clone(),
                what: format!(
                    "{} {}",
                    id.kind,
                    crate::cluster::obj_name(ns.as_deref(), &id.name)
                ),
                seconds: timeout.as_secs(),
                waiting_for: "deletion (finalizers)".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Parses `300ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n * 60)),
        "h" => Some(Duration::from_secs(n * 3600)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conflict_notes_name_field_manager_and_value() {
        let live = json!({"spec": {"replicas": 5}});
        let n = conflict_notes(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas",
            Some(&live),
            false,
            true,
        );
        assert_eq!(n.len(), 1);
        assert!(
            n[0].contains(".spec.replicas") && n[0].contains("kubectl-edit") && n[0].contains('5'),
            "{n:?}"
        );
        let s = conflict_notes(
            "conflict with \"x\" using v1: .data.password",
            Some(&json!({"data": {"password": "c2VjcmV0"}})),
            true,
            false,
        );
        assert!(
            !s[0].contains("c2VjcmV0") && s[0].contains("(sensitive value)"),
            "{s:?}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("soon"), None);
    }
}

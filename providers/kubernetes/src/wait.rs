//! Waiting on the API server by watch: readiness after an apply (conditions,
//! fields, workload rollout), deletion behind finalizers, and a custom
//! resource's CRD becoming established.
//!
//! Each wait is one kube-runtime watcher on the object (a LIST and a WATCH
//! selected by `metadata.name`), so an answer arrives as soon as the server
//! has it, on every supported server version. Watch errors are retried with
//! the run's backoff; a cluster that keeps failing ends the wait with its
//! error, and a deadline ends it with a timeout naming what was awaited.

use crate::cluster::{Conn, Kind, RetryPolicy, obj_name};
use crate::error::K8sError;
use futures_util::StreamExt;
use kube::runtime::watcher::{self, watch_object};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::pin::pin;
use std::time::Duration;

/// What an apply waits for.
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

impl WaitSpec {
    /// True when there is nothing to wait for.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty() && self.fields.is_empty() && !self.rollout
    }

    /// "condition Ready=True, status.phase=Active, rollout".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .conditions
            .iter()
            .map(|(t, s)| format!("condition {t}={s}"))
            .collect();
        parts.extend(self.fields.iter().map(|(p, v)| format!("{p}={v}")));
        if self.rollout {
            parts.push("rollout".into());
        }
        parts.join(", ")
    }

    /// Whether a live object meets the spec.
    pub fn met_by(&self, live: &J, kind: &str) -> bool {
        let cond_ok = self
            .conditions
            .iter()
            .all(|(t, s)| has_condition(live, t, s));
        let fields_ok = self.fields.iter().all(|(p, want)| {
            let ptr = format!("/{}", p.replace('.', "/"));
            match live.pointer(&ptr) {
                Some(J::String(s)) => s == want,
                Some(J::Number(n)) => n.to_string() == *want,
                Some(J::Bool(b)) => b.to_string() == *want,
                _ => false,
            }
        });
        cond_ok && fields_ok && (!self.rollout || rolled_out(live, kind))
    }
}

fn has_condition(live: &J, ty: &str, status: &str) -> bool {
    live.pointer("/status/conditions")
        .and_then(J::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(J::as_str) == Some(ty)
                    && c.get("status").and_then(J::as_str) == Some(status)
            })
        })
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

/// Watches one object until `done` holds for it (`None`: absent); returns
/// the object as it was then.
///
/// # Errors
/// [`K8sError::Timeout`] at the deadline; the watch's error once it failed
/// `policy.attempts` times in a row.
#[allow(clippy::too_many_arguments)]
pub async fn until(
    conn: &Conn,
    policy: RetryPolicy,
    k: &Kind,
    ns: Option<&str>,
    name: &str,
    timeout: Duration,
    waiting_for: &str,
    done: impl Fn(Option<&J>) -> bool,
) -> Result<Option<J>, K8sError> {
    let what = format!("{} {}", k.ar.kind, obj_name(ns, name));
    let timed_out = || K8sError::Timeout {
        cluster: conn.name.clone(),
        what: what.clone(),
        seconds: timeout.as_secs(),
        waiting_for: waiting_for.to_string(),
    };
    // watch_object: the object (None when absent) after every list and event.
    let mut stream = pin!(watch_object(conn.api_for(k, ns), name));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut failures = 0u32;
    conn.count_request();
    loop {
        let event = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Err(timed_out()),
            Ok(None) => return Err(timed_out()),
            Ok(Some(e)) => e,
        };
        let current = match event {
            Ok(o) => o.and_then(|o| serde_json::to_value(o).ok()),
            Err(e) => {
                failures += 1;
                conn.count_request();
                if failures >= policy.attempts {
                    return Err(watch_error(conn, &what, e));
                }
                // The watcher re-lists or re-watches on its next poll.
                tokio::time::sleep(policy.backoff(failures)).await;
                continue;
            }
        };
        failures = 0;
        if done(current.as_ref()) {
            return Ok(current);
        }
    }
}

fn watch_error(conn: &Conn, what: &str, e: watcher::Error) -> K8sError {
    let what = format!("watch {what}");
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => conn.convert(&what, e),
        watcher::Error::WatchError(s) => conn.convert(&what, kube::Error::Api(s)),
        other => K8sError::Invalid(format!("cluster {}: {what}: {other}", conn.name)),
    }
}

/// Waits until the object meets `spec`; returns it.
///
/// # Errors
/// As [`until`].
pub async fn ready(
    conn: &Conn,
    policy: RetryPolicy,
    k: &Kind,
    ns: Option<&str>,
    name: &str,
    spec: &WaitSpec,
    timeout: Duration,
) -> Result<J, K8sError> {
    let kind = k.ar.kind.clone();
    let found = until(conn, policy, k, ns, name, timeout, &spec.describe(), |o| {
        o.is_some_and(|o| spec.met_by(o, &kind))
    })
    .await?;
    found.ok_or_else(|| K8sError::Invalid(format!("{} {name}: gone while waiting", k.ar.kind)))
}

/// Waits until the object with `uid` is gone (a new object of the same
/// name counts as gone: ours was deleted).
///
/// # Errors
/// As [`until`].
pub async fn gone(
    conn: &Conn,
    policy: RetryPolicy,
    k: &Kind,
    ns: Option<&str>,
    name: &str,
    uid: &str,
    timeout: Duration,
) -> Result<(), K8sError> {
    until(
        conn,
        policy,
        k,
        ns,
        name,
        timeout,
        "deletion (finalizers)",
        |o| o.is_none_or(|o| o.pointer("/metadata/uid").and_then(J::as_str) != Some(uid)),
    )
    .await
    .map(|_| ())
}

/// A CRD planned in the same run as its custom resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCrd {
    /// `plural.group`, the CRD's name.
    pub name: String,
    /// The group it serves.
    pub group: String,
    /// The versions it serves.
    pub versions: Vec<String>,
}

/// The kind of CustomResourceDefinitions (served on every supported version).
pub fn crd_kind() -> Kind {
    Kind {
        ar: kube::discovery::ApiResource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            api_version: "apiextensions.k8s.io/v1".into(),
            kind: "CustomResourceDefinition".into(),
            plural: "customresourcedefinitions".into(),
        },
        namespaced: false,
    }
}

/// Waits until a CRD exists and is Established (its kinds are served).
///
/// # Errors
/// As [`until`].
pub async fn established(
    conn: &Conn,
    policy: RetryPolicy,
    crd: &PlannedCrd,
    timeout: Duration,
) -> Result<(), K8sError> {
    until(
        conn,
        policy,
        &crd_kind(),
        None,
        &crd.name,
        timeout,
        "its CustomResourceDefinition to be established",
        |o| o.is_some_and(|o| has_condition(o, "Established", "True")),
    )
    .await
    .map(|_| ())
}

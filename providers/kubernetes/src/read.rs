//! Refresh: the live objects of many instances with one LIST per (cluster,
//! kind, namespace), selected by posture's managed-by label, and a GET only
//! for objects missing from their list (imported, or labelled by no one).

use crate::KubernetesProvider;
use crate::cluster::ClusterRef;
use crate::error::K8sError;
use crate::manifest::{Ident, MANAGED_LABEL, from_json_marked, project, to_json};
use crate::object::locate;
use crate::resource::{attr, state_of, with_kind};
use posture_provider_core::provider::{RECOVERY_TOKEN, ReadRequest, ReadResult};
use posture_provider_core::value::Value;
use serde_json::Value as J;
use std::collections::BTreeMap;

/// What a fetch found for one object.
pub type Fetched = Result<Option<(J, Option<String>)>, K8sError>;

/// (cluster name, kubeconfig, context, apiVersion, kind, namespace): one LIST each.
type GroupKey = (
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);

/// Fetches the live objects of many (cluster, manifest) pairs, batched.
pub async fn fetch(p: &KubernetesProvider, items: &[(ClusterRef, J)]) -> Vec<Fetched> {
    let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
    let mut out: Vec<Option<Fetched>> = (0..items.len()).map(|_| None).collect();
    for (i, (c, m)) in items.iter().enumerate() {
        match Ident::of(m) {
            Ok(id) => groups
                .entry((
                    c.name.clone(),
                    c.kubeconfig.clone(),
                    c.context.clone(),
                    id.api_version,
                    id.kind,
                    id.namespace,
                ))
                .or_default()
                .push(i),
            Err(e) => out[i] = Some(Err(e)),
        }
    }
    let futs = groups.into_values().map(|idx| async move {
        let res = fetch_group(p, items, &idx).await;
        (idx, res)
    });
    for (idx, res) in futures_util::future::join_all(futs).await {
        match res {
            Ok(found) => {
                for (i, f) in idx.into_iter().zip(found) {
                    out[i] = Some(f);
                }
            }
            Err(e) => {
                for i in idx {
                    out[i] = Some(Err(clone_err(&e)));
                }
            }
        }
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Err(K8sError::Invalid("not read".into()))))
        .collect()
}

fn clone_err(e: &K8sError) -> K8sError {
    match e {
        K8sError::Unreachable {
            cluster,
            url,
            detail,
        } => K8sError::Unreachable {
            cluster: cluster.clone(),
            url: url.clone(),
            detail: detail.clone(),
        },
        other => K8sError::Invalid(other.to_string()),
    }
}

async fn fetch_group(
    p: &KubernetesProvider,
    items: &[(ClusterRef, J)],
    idx: &[usize],
) -> Result<Vec<Fetched>, K8sError> {
    let (cluster, first) = &items[idx[0]];
    let policy = p.conns.retry;
    let conn = p.conns.get(cluster).await?;
    let id = Ident::of(first)?;
    let Some((k, ns)) = locate(&conn, policy, &id).await? else {
        // Kind no longer served (CRD gone): its objects are gone too.
        return Ok(idx.iter().map(|_| Ok(None)).collect());
    };
    let selector = format!("{MANAGED_LABEL}={}", conn.field_manager);
    let listed = conn.list(policy, &k, ns.as_deref(), &selector).await?;
    let by_name: BTreeMap<String, J> = listed
        .into_iter()
        .filter_map(|o| {
            let n = o.pointer("/metadata/name").and_then(J::as_str)?.to_string();
            Some((n, o))
        })
        .collect();
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx {
        let name = Ident::of(&items[i].1).map(|x| x.name).unwrap_or_default();
        let live = match by_name.get(&name) {
            Some(o) => Some(o.clone()),
            None => conn.get(policy, &k, ns.as_deref(), &name).await?,
        };
        out.push(Ok(live.map(|l| (l, ns.clone()))));
    }
    Ok(out)
}

/// [`crate::KubernetesProvider`]'s read.
pub async fn read(p: &KubernetesProvider, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
    let mut results: Vec<Option<ReadResult>> = (0..requests.len()).map(|_| None).collect();
    let mut singles = Vec::new();
    let mut single_idx = Vec::new();
    let mut bundles = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let cluster = attr(&r.prior, "cluster").and_then(ClusterRef::from_value);
        if let Some(c) = attr(&r.prior, "cluster") {
            p.remember(c);
        }
        let Some(cluster) = cluster else {
            results[i] = Some(ReadResult::Failed(
                K8sError::Invalid("state has no cluster".into()).at(&r.address),
            ));
            continue;
        };
        if r.type_name == crate::MANIFESTS {
            bundles.push(i);
            continue;
        }
        match attr(&r.prior, "manifest").and_then(to_json) {
            Some(m) => {
                singles.push((cluster, m));
                single_idx.push(i);
            }
            None => {
                results[i] = Some(ReadResult::Failed(
                    K8sError::Invalid("state has no manifest".into()).at(&r.address),
                ))
            }
        }
    }
    let fetched = fetch(p, &singles).await;
    for ((i, f), (c, m)) in single_idx.into_iter().zip(fetched).zip(&singles) {
        let r = &requests[i];
        results[i] = Some(match f {
            Ok(Some((live, ns))) => {
                let now = state_of(&r.prior, &live, m, &c.name, ns.as_deref());
                let recorded = attr(&r.prior, "object").and_then(to_json);
                let found = attr(&now, "object").and_then(to_json);
                let clean = recorded.is_some() && recorded == found;
                p.mark_clean(&r.address, clean);
                // A recovery read is handed the interrupted operation's
                // planned value: its manifest is not known to be applied.
                // When the live fields are not what the plan expected, the
                // manifest recorded is what is there, so the next plan
                // dry-runs and shows what is still to do.
                if recorded.is_some() && !clean && attr(&r.prior, RECOVERY_TOKEN).is_some() {
                    ReadResult::Found(as_live(now, &live, m))
                } else {
                    ReadResult::Found(now)
                }
            }
            Ok(None) => ReadResult::Gone,
            Err(e) => ReadResult::Failed(e.at(&r.address)),
        });
    }
    for i in bundles {
        results[i] = Some(crate::bundle::read(p, &requests[i]).await);
    }
    settle(results, &requests)
}

/// `state` with its manifest replaced by the live object's values of the
/// manifest's fields: what the cluster holds, not what was planned.
fn as_live(state: Value, live: &J, manifest: &J) -> Value {
    match state {
        Value::Object(mut m) => {
            m.insert(
                "manifest".to_string(),
                from_json_marked(&with_kind(&project(live, manifest), manifest)),
            );
            Value::Object(m)
        }
        other => other,
    }
}

/// One result per request. An instance left without an answer was not read:
/// that is a failure, never Gone (which would plan a second create of an
/// object that exists).
fn settle(results: Vec<Option<ReadResult>>, requests: &[ReadRequest]) -> Vec<ReadResult> {
    results
        .into_iter()
        .zip(requests)
        .map(|(r, req)| {
            r.unwrap_or_else(|| {
                ReadResult::Failed(
                    K8sError::Invalid("the object was not read (no answer was made for it)".into())
                        .at(&req.address),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_left_unanswered_is_a_failed_read_not_gone() {
        let req = |a: &str| ReadRequest {
            address: a.to_string(),
            type_name: "kubernetes_manifest".to_string(),
            prior: Value::NULL,
        };
        let out = settle(
            vec![Some(ReadResult::Gone), None],
            &[req("kubernetes_manifest.a"), req("kubernetes_manifest.b")],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], ReadResult::Gone);
        match &out[1] {
            ReadResult::Failed(e) => assert!(e.message.contains("not read"), "{}", e.message),
            other => panic!("an unanswered instance must not be {other:?}"),
        }
    }
}

//! Applying a bundle: phases in order, then the prune; a bundle that stops
//! midway answers with the inventory of what it applied, so that the next
//! run knows those objects (applies the rest, prunes them when dropped,
//! deletes them on destroy).

use super::{document_of, ident_id, inventory, parse, phase, stub, with, with_kind};
use crate::KubernetesProvider;
use crate::cluster::ClusterRef;
use crate::error::K8sError;
use crate::manifest::{from_json_marked, project};
use crate::object::{self, WaitSpec};
use crate::resource::{attr, delete_timeout, force_of};
use posture_provider_core::provider::{ApplyRequest, ApplyResult, Operation, ProviderError};
use posture_provider_core::value::Value;
use serde_json::Value as J;
use std::collections::BTreeMap;

/// Applies a bundle change (phased create/update with prune, or delete in
/// reverse). A bundle that stops midway still answers with what it applied
/// (see [`Stopped`]), so that no object it made is lost to the state.
pub async fn apply(p: &KubernetesProvider, r: ApplyRequest) -> ApplyResult {
    match apply_inner(p, &r).await {
        Ok(v) => ApplyResult::Applied(v),
        Err(Stopped {
            progress: None,
            error,
        }) => ApplyResult::Failed(error),
        Err(Stopped {
            progress: Some(value),
            error,
        }) => partially_applied(value, error),
    }
}

/// The answer for a bundle that applied some of its objects and then
/// stopped: its value records what is on the cluster now (the inventory the
/// next run plans, prunes and destroys from), and the error fails the
/// instance. The engine records an update so, as it is; a create tainted.
fn partially_applied(value: Value, error: ProviderError) -> ApplyResult {
    ApplyResult::Tainted { value, error }
}

/// Where a bundle's apply stopped.
struct Stopped {
    /// The bundle as it now stands on the cluster, when this run changed
    /// anything: its inventory holds every object applied in this run and
    /// every prior one not pruned yet. `None`: nothing changed.
    progress: Option<Value>,
    /// Which objects failed and why, and how far the apply got.
    error: ProviderError,
}

impl Stopped {
    fn before_any_change(e: &K8sError, address: &str) -> Stopped {
        Stopped {
            progress: None,
            error: e.at(address),
        }
    }
}

/// The objects a bundle holds on a cluster, in the order they were applied.
#[derive(Default)]
struct Held {
    inv: Vec<String>,
    objects: BTreeMap<String, Value>,
}

impl Held {
    fn of(v: &Value) -> Held {
        Held {
            inv: inventory(v),
            objects: attr(v, "objects")
                .and_then(Value::as_map)
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn add(&mut self, id: String, object: Option<Value>) {
        if !self.inv.contains(&id) {
            self.inv.push(id.clone());
        }
        if let Some(o) = object {
            self.objects.insert(id, o);
        }
    }

    /// Keeps the prior objects named by `ids` (still on the cluster).
    fn keep(&mut self, prior: &Held, ids: &[String]) {
        for id in ids {
            self.add(id.clone(), prior.objects.get(id).cloned());
        }
    }
}

/// A delete that stopped at `id`: why, and the ids not deleted (`id` first).
struct DeleteStopped {
    id: String,
    error: K8sError,
    left: Vec<String>,
}

async fn delete_ids(
    p: &KubernetesProvider,
    conn: &std::sync::Arc<crate::cluster::Conn>,
    ids: &[String],
    v: &Value,
) -> Result<(), DeleteStopped> {
    // Reverse of apply order: the rest, then Namespaces, then CRDs.
    let mut stubs: Vec<(&String, J)> = ids.iter().filter_map(|i| Some((i, stub(i)?))).collect();
    stubs.sort_by_key(|(_, s)| std::cmp::Reverse(phase(s)));
    for (n, (id, s)) in stubs.iter().enumerate() {
        if let Err(error) = object::delete(conn, p.conns.retry, s, delete_timeout(v)).await {
            return Err(DeleteStopped {
                id: (*id).clone(),
                error,
                left: stubs[n..].iter().map(|(i, _)| (*i).clone()).collect(),
            });
        }
    }
    Ok(())
}

async fn apply_inner(p: &KubernetesProvider, r: &ApplyRequest) -> Result<Value, Stopped> {
    let fail = |e: K8sError| Stopped::before_any_change(&e, &r.address);
    let v = if r.operation == Operation::Delete {
        &r.prior
    } else {
        &r.planned
    };
    let cluster = attr(v, "cluster")
        .and_then(ClusterRef::from_value)
        .ok_or_else(|| fail(K8sError::Invalid("cluster is not known at apply".into())))?;
    let conn = p.conns.get(&cluster).await.map_err(fail)?;
    let prior = Held::of(&r.prior);
    if r.operation == Operation::Delete {
        // The record stays as it was; the next refresh drops what is gone.
        return match delete_ids(p, &conn, &prior.inv, v).await {
            Ok(()) => Ok(Value::NULL),
            Err(d) => Err(Stopped {
                progress: None,
                error: ProviderError {
                    message: format!(
                        "deleting object {} failed: {}; {} of {} objects deleted",
                        d.id,
                        d.error,
                        prior.inv.len() - d.left.len(),
                        prior.inv.len()
                    ),
                    retryable: d.error.at(&r.address).retryable,
                },
            }),
        };
    }
    let content = attr(v, "content")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(K8sError::Invalid("content is not known at apply".into())))?;
    let docs = parse(content).map_err(fail)?;
    for d in &docs {
        p.crds.note(&cluster.name, d);
    }
    let force = force_of(v);
    let mut held = Held::default();
    let mut failed: Vec<(String, K8sError)> = Vec::new();
    let no_wait = WaitSpec::default();
    for ph in 0..=2u8 {
        let batch: Vec<&J> = docs.iter().filter(|d| phase(d) == ph).collect();
        let futs = batch
            .iter()
            .map(|d| object::apply(&conn, p.conns.retry, &p.crds, &cluster, d, force, &no_wait));
        for (d, res) in batch.iter().zip(futures_util::future::join_all(futs).await) {
            match res {
                Ok((live, ns)) => held.add(
                    ident_id(&cluster.name, d, ns.as_deref()),
                    Some(from_json_marked(&with_kind(&project(&live, d), d))),
                ),
                Err(e) => {
                    let id = ident_id(&cluster.name, d, None);
                    // A CRD or Namespace times out only after it was written
                    // (waiting for Established or Active): it is on the
                    // cluster, so the inventory keeps it.
                    if ph < 2 && matches!(e, K8sError::Timeout { .. }) {
                        held.add(id.clone(), Some(from_json_marked(&with_kind(d, d))));
                    }
                    failed.push((id, e));
                }
            }
        }
        // A later phase needs this one whole (a CRD before its resources).
        if !failed.is_empty() {
            break;
        }
    }
    let bundle_id = Value::from(format!("{}/bundle", cluster.name));
    let dropped: Vec<String> = prior
        .inv
        .iter()
        .filter(|i| !held.inv.contains(i))
        .cloned()
        .collect();
    if !failed.is_empty() {
        return Err(stopped_applying(
            r, v, prior, held, &failed, &dropped, &docs, bundle_id,
        ));
    }
    if let Err(d) = delete_ids(p, &conn, &dropped, v).await {
        // Every object applied; those not pruned yet stay inventoried, so
        // the next apply prunes them.
        let retryable = d.error.at(&r.address).retryable;
        let message = format!(
            "pruning object {} failed: {}; every object of the bundle applied, {} of {} objects dropped from it are still on the cluster and stay in the inventory (the next apply prunes them)",
            d.id,
            d.error,
            d.left.len(),
            dropped.len()
        );
        held.keep(&prior, &d.left);
        return Err(Stopped {
            progress: Some(with(v, held.inv, held.objects, bundle_id, false)),
            error: ProviderError { message, retryable },
        });
    }
    Ok(with(v, held.inv, held.objects, bundle_id, false))
}

/// The answer of a bundle whose objects did not all apply. Nothing is
/// pruned then (a dropped object may stand in for one that failed), so the
/// inventory keeps every prior object besides those applied in this run.
#[allow(clippy::too_many_arguments)]
fn stopped_applying(
    r: &ApplyRequest,
    v: &Value,
    prior: Held,
    mut held: Held,
    failed: &[(String, K8sError)],
    dropped: &[String],
    docs: &[J],
    bundle_id: Value,
) -> Stopped {
    let applied = held.inv.len();
    let mut message = failed
        .iter()
        .map(|(id, e)| format!("object {id} failed: {e}"))
        .collect::<Vec<_>>()
        .join("; ");
    message.push_str(&format!(
        "; {applied} of {} objects applied and recorded in the bundle's inventory",
        docs.len()
    ));
    let to_prune = dropped
        .iter()
        .filter(|id| document_of(docs, id).is_none())
        .count();
    match to_prune {
        0 => {}
        1 => {
            message.push_str("; 1 object dropped from the bundle is pruned once all of it applies")
        }
        n => message.push_str(&format!(
            "; {n} objects dropped from the bundle are pruned once all of it applies"
        )),
    }
    let retryable = failed.iter().any(|(_, e)| e.at(&r.address).retryable);
    held.keep(&prior, dropped);
    Stopped {
        // Nothing applied: the prior record still says what is there.
        progress: (applied > 0).then(|| with(v, held.inv, held.objects, bundle_id, false)),
        error: ProviderError { message, retryable },
    }
}

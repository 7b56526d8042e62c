//! Refresh, the first stage of a plan: every recorded instance read back
//! from its provider in batches of (provider, type, batch key), and what
//! changed outside posture noted as drift.

use super::model::*;
use super::statecodec;
use crate::addrs::Mode;
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{Providers, ReadRequest, ReadResult};
use crate::scope::Evaluation;
use crate::state::State;
use crate::value::{Value, raw_equal};
use std::collections::{BTreeMap, BTreeSet};

/// Recorded instances by (provider, type, batch key), read in one call each.
type ReadGroups = BTreeMap<(String, String, Option<String>), Vec<(String, Value)>>;

/// What refresh found.
#[derive(Default)]
pub(super) struct Refreshed {
    /// Every recorded object as it is now (as recorded when not read).
    pub current: BTreeMap<String, Value>,
    /// Changes made outside posture.
    pub drift: Vec<ResourceChange>,
    /// Instances that could not be read, with why.
    pub unreadable: BTreeMap<String, String>,
    /// Instances read with marks their record lacks (the provider marks a
    /// Secret's data, say, in a state written before marks were kept).
    pub marks_unrecorded: BTreeSet<String>,
}

/// Why every instance of a read call is left out when the provider answered
/// another number of results than it was asked for: which answer belongs to
/// which instance cannot be told, so none is trusted.
pub(crate) fn count_mismatch(provider: &str, answered: usize, asked: usize) -> String {
    format!(
        "the {provider} provider answered {answered} results for {asked} requests, so no answer of this call can be matched to its instance"
    )
}

/// Reads every recorded managed instance (when `refresh` is on) and returns
/// what exists now. Provider problems are diagnostics in `diags`.
pub(super) async fn refresh(
    ev: &Evaluation<'_>,
    providers: &Providers,
    state: &State,
    opts: &super::PlanOptions,
    diags: &mut Diagnostics,
) -> Refreshed {
    let refresh = opts.refresh;
    let mut out = Refreshed::default();
    let mut groups: ReadGroups = BTreeMap::new();
    for (addr, rec) in &state.instances {
        let mode = if rec.mode == crate::state::Mode::Data {
            Mode::Data
        } else {
            Mode::Managed
        };
        let found = providers.for_state(ev.tree(), addr, mode, &rec.resource_type, &rec.provider);
        let (pname, p) = match found {
            Ok(found) => found,
            Err(msg) => {
                diags.push(Diagnostic::error(
                    "Provider missing for recorded resource",
                    format!("{addr} {msg}"),
                ));
                continue;
            }
        };
        let Some(schema) = providers.schema_of(mode, &rec.resource_type) else {
            continue;
        };
        let prior = statecodec::from_state(rec, &schema);
        if prior.is_null() {
            // Only deposed objects are left at this address: no current one.
            continue;
        }
        out.current.insert(addr.clone(), prior.clone());
        // An instance on a cluster this run does not select keeps its record.
        let selected = opts
            .selection
            .selects(&crate::state::Partition::of_record(rec));
        if refresh && mode == Mode::Managed && selected {
            let key = p.batch_key(&rec.resource_type, &prior);
            groups
                .entry((pname.to_string(), rec.resource_type.clone(), key))
                .or_default()
                .push((addr.clone(), prior));
        }
    }
    // Every group is read concurrently (ten at a time: clusters and zones
    // answer in parallel); results are then taken in group order.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(10));
    let mut reads = tokio::task::JoinSet::new();
    let groups: Vec<_> = groups.into_iter().collect();
    for (gi, ((pname, type_name, _), items)) in groups.iter().enumerate() {
        let Some(p) = providers.by_name(pname).cloned() else {
            continue;
        };
        let reqs: Vec<ReadRequest> = items
            .iter()
            .map(|(a, prior)| ReadRequest {
                address: a.clone(),
                type_name: type_name.clone(),
                prior: prior.clone(),
            })
            .collect();
        let gate = gate.clone();
        reads.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (gi, p.read(reqs).await)
        });
    }
    let mut answers: BTreeMap<usize, Vec<ReadResult>> = BTreeMap::new();
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok((gi, results)) => {
                answers.insert(gi, results);
            }
            Err(e) => diags.push(Diagnostic::error(
                "Failed to read resources",
                format!("a refresh task failed: {e}"),
            )),
        }
    }
    for (gi, ((pname, type_name, _), items)) in groups.into_iter().enumerate() {
        let Some(results) = answers.remove(&gi) else {
            continue;
        };
        if results.len() != items.len() {
            let why = count_mismatch(&pname, results.len(), items.len());
            for (addr, _) in items {
                out.unreadable.insert(addr, why.clone());
            }
            continue;
        }
        for ((addr, prior), res) in items.into_iter().zip(results) {
            match res {
                ReadResult::Found(v) => {
                    // What state recorded as sensitive stays so in what was read.
                    let v = v.with_marks_of(&prior);
                    if !prior.marks_cover(&v) {
                        out.marks_unrecorded.insert(addr.clone());
                    }
                    if !raw_equal(&v, &prior) {
                        out.drift.push(super::build::change(
                            &addr,
                            &type_name,
                            &pname,
                            false,
                            Action::Update,
                            prior,
                            v.clone(),
                        ));
                    }
                    out.current.insert(addr, v);
                }
                ReadResult::Gone => {
                    out.drift.push(super::build::change(
                        &addr,
                        &type_name,
                        &pname,
                        false,
                        Action::Delete,
                        prior,
                        Value::NULL,
                    ));
                    out.current.remove(&addr);
                }
                ReadResult::Failed(e) => {
                    // Only this instance is left out (its cluster may be
                    // down): the rest of the run goes on.
                    out.unreadable.insert(addr, e.message);
                }
            }
        }
    }
    out
}

//! Applying a plan: a bounded parallel walk over the planned operations in
//! dependency order (deletes in reverse), batching operations a provider
//! can do in one call, recording an intent before each operation and its
//! result as soon as it ends. A failure skips what depends on it;
//! independent work goes on.
//!
//! Stopping has two levels. An interrupt (the first Ctrl-C or SIGTERM)
//! starts nothing new, not even the rest of a batch a provider is working
//! through, and lets what is in flight finish and be recorded. Abandoning
//! (a second signal) stops waiting for what is in flight: those intents
//! stay pending, and the next run settles them by reading, as after a crash.

mod deposed;
mod node;
mod ops;
mod recover;
mod replan;

pub use recover::recover;

use crate::plan::{Action, Plan, ResourceChange, statecodec};
use crate::provider::{ApplyRequest, Operation, Providers};
use crate::scope::{Evaluation, Node};
use crate::state::{Backend, NewIntent, Outcome, OutputValue};
use crate::value::Value;
use node::{NodeRun, OpResult, TaskOutcome, run_node};
use ops::{OpGraph, OpKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Options of one apply.
#[derive(Clone)]
pub struct ApplyOptions {
    /// How many operations (or batches) run at once.
    pub parallelism: usize,
    /// Cancelled on Ctrl-C or SIGTERM: start nothing new, not even the rest
    /// of a batch (providers get it in [`crate::provider::Provider::apply_interruptible`]).
    pub cancel: CancellationToken,
    /// Called as operations start and end (progress display).
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
}

/// A progress event.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Operations started: addresses and what is done to them.
    Started(Vec<(String, Action)>),
    /// Operations finished, a node's at a time: address, what was done,
    /// error message when it failed. One event per node, not per
    /// operation, so that a display writes a 100,000-operation node at once.
    Finished(Vec<(String, Action, Option<String>)>),
}

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Instances changed, with what was done.
    pub applied: Vec<(String, Action)>,
    /// Instances whose operation failed, with the error.
    pub failed: Vec<(String, String)>,
    /// Instances not touched because something they need failed, or the run
    /// was interrupted (a batch's requests the provider had not started among them).
    pub skipped: Vec<(String, String)>,
    /// Instances whose operation was in flight when the run was abandoned:
    /// their intents stay pending and the next run settles them by reading.
    pub abandoned: Vec<String>,
    /// True when cancelled.
    pub interrupted: bool,
    /// The serial committed at the end.
    pub serial: u64,
    /// Root outputs after apply.
    pub outputs: BTreeMap<String, OutputValue>,
    /// A failure of the state store itself (the run stopped).
    pub state_error: Option<String>,
}

/// The addresses already in [`ApplyReport::skipped`] and
/// [`ApplyReport::abandoned`], so each is listed once in constant time.
#[derive(Default)]
struct Listed {
    skipped: HashSet<String>,
    abandoned: HashSet<String>,
}

impl Listed {
    fn skip(&mut self, report: &mut ApplyReport, address: &str, why: &str) {
        if self.skipped.insert(address.to_string()) {
            report.skipped.push((address.to_string(), why.into()));
        }
    }
}

impl ApplyReport {
    /// (added, changed, destroyed), as "Apply complete! Resources: ..." counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut a, mut c, mut d) = (0, 0, 0);
        for (_, act) in &self.applied {
            match act {
                Action::Create => a += 1,
                Action::Update => c += 1,
                Action::Delete => d += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    a += 1;
                    d += 1;
                }
                _ => {}
            }
        }
        (a, c, d)
    }
}

/// Why an instance was not started because of an interrupt.
const INTERRUPTED: &str = "interrupted before it started";

/// Applies `plan`. `ev` is a fresh evaluation of the same configuration:
/// values planned unknown are computed again from what upstream operations
/// produced.
pub async fn apply(
    ev: &Evaluation<'_>,
    providers: &Providers,
    backend: Arc<dyn Backend>,
    plan: &Plan,
    opts: &ApplyOptions,
) -> ApplyReport {
    apply_or_abandon(
        ev,
        providers,
        backend,
        plan,
        opts,
        &CancellationToken::new(),
    )
    .await
}

/// As [`apply`], and when `abandon` fires (a second Ctrl-C) the provider
/// requests in flight are no longer awaited (dropped, which closes their
/// connections): their intents stay pending for the next run to settle,
/// they are listed in [`ApplyReport::abandoned`], and what finished is
/// recorded and committed. State writes are never cut short. `abandon`
/// implies `opts.cancel`.
pub async fn apply_or_abandon(
    ev: &Evaluation<'_>,
    providers: &Providers,
    backend: Arc<dyn Backend>,
    plan: &Plan,
    opts: &ApplyOptions,
    abandon: &CancellationToken,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    // Sets beside the report's lists: an interrupt can leave 100,000
    // operations not started, and a linear check per address was quadratic.
    let mut listed = Listed::default();
    // What references see before anything runs: the recorded objects.
    for c in &plan.changes {
        if let Ok(a) = crate::addrs::parse_instance(&c.address) {
            let seen = match c.action {
                Action::NoOp | Action::Read | Action::Update => Some(c.after.clone()),
                _ => None,
            };
            if let Some(v) = seen {
                ev.set_instance_value(&a.module, &a.resource, a.key, v);
            }
        }
    }
    if plan.mode == crate::plan::PlanMode::RefreshOnly
        && let Err(e) = accept_drift(&backend, providers, plan).await
    {
        report.state_error = Some(e);
    }
    let records = match records_of(&backend, plan).await {
        Ok(r) => r,
        Err(e) => {
            report.state_error = Some(e);
            None
        }
    };
    let graph = OpGraph::build(plan, providers);
    let n = graph.nodes.len();
    let mut waiting: Vec<usize> = graph.nodes.iter().map(|nd| nd.deps.len()).collect();
    let mut state: Vec<NodeState> = vec![NodeState::Waiting; n];
    let mut ready: std::collections::VecDeque<usize> =
        (0..n).filter(|i| waiting[*i] == 0).collect();
    let mut in_flight: JoinSet<TaskOutcome> = JoinSet::new();
    let parallelism = opts.parallelism.max(1);
    let mut applied_ops: HashMap<usize, Vec<OpKind>> = HashMap::new();
    let mut replanner = replan::Replanner::default();
    loop {
        while in_flight.len() < parallelism
            && !opts.cancel.is_cancelled()
            && !abandon.is_cancelled()
            && report.state_error.is_none()
        {
            let Some(id) = ready.pop_front() else { break };
            state[id] = NodeState::Running;
            let node = &graph.nodes[id];
            let mut reqs = Vec::new();
            let mut replan = Vec::new();
            // Requests that cannot be sent, with why (index into reqs).
            let mut failed_early: Vec<(usize, String)> = Vec::new();
            for &(ci, kind) in &node.ops {
                let c = &plan.changes[ci];
                let (operation, prior) = match kind {
                    OpKind::Delete => (Operation::Delete, c.before.clone()),
                    OpKind::Create => (Operation::Create, Value::NULL),
                    OpKind::Update => (Operation::Update, c.before.clone()),
                };
                let (config, config_error) = if kind == OpKind::Delete || c.after.is_wholly_known()
                {
                    (None, None)
                } else {
                    // Unknowns may be known now that upstream objects exist.
                    replanner.fresh_config(ev, providers, c)
                };
                // What is planned again is replaced by the new plan: no copy.
                let planned = if kind == OpKind::Delete || config.is_some() {
                    Value::NULL
                } else {
                    c.after.clone()
                };
                if let Some(e) = config_error {
                    replan.push(None);
                    reqs.push(ApplyRequest {
                        address: c.address.clone(),
                        type_name: c.type_name.clone(),
                        operation,
                        prior,
                        planned: Value::NULL,
                        idempotency_token: String::new(),
                    });
                    failed_early.push((reqs.len() - 1, e));
                    continue;
                }
                replan.push(config);
                reqs.push(ApplyRequest {
                    address: c.address.clone(),
                    type_name: c.type_name.clone(),
                    operation,
                    prior,
                    planned,
                    idempotency_token: format!("posture-{}", uuid::Uuid::new_v4()),
                });
            }
            if let Some(p) = &opts.progress {
                p(Progress::Started(
                    node.ops
                        .iter()
                        .map(|(ci, _)| {
                            (plan.changes[*ci].address.clone(), plan.changes[*ci].action)
                        })
                        .collect(),
                ));
            }
            let Some(provider) = providers
                .by_name(&plan.changes[node.ops[0].0].provider)
                .cloned()
            else {
                let results = node
                    .ops
                    .iter()
                    .map(|(ci, k)| {
                        (
                            *ci,
                            *k,
                            OpResult::Failed("no provider serves this resource type".to_string()),
                        )
                    })
                    .collect();
                in_flight.spawn(async move {
                    TaskOutcome {
                        node: id,
                        results,
                        state_error: None,
                    }
                });
                continue;
            };
            // Without their values: the requests carry those, and a copy
            // of every object per task doubled apply's peak memory.
            let changes: Vec<ResourceChange> = node
                .ops
                .iter()
                .map(|(ci, _)| without_values(&plan.changes[*ci]))
                .collect();
            let kinds: Vec<(usize, OpKind)> = node.ops.clone();
            let backend = backend.clone();
            let schema = providers.schema_of(
                if changes[0].data {
                    crate::addrs::Mode::Data
                } else {
                    crate::addrs::Mode::Managed
                },
                &changes[0].type_name,
            );
            in_flight.spawn(run_node(NodeRun {
                node: id,
                provider,
                backend,
                schema,
                changes,
                kinds,
                reqs,
                replan,
                failed_early,
                interrupt: crate::provider::Interrupt::from_tokens(
                    opts.cancel.clone(),
                    abandon.clone(),
                ),
                records: records.clone(),
            }));
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let outcome = match joined {
            Ok(o) => o,
            Err(e) => {
                report.state_error = Some(format!("an apply task failed: {e}"));
                continue;
            }
        };
        if let Some(e) = outcome.state_error.clone() {
            report.state_error.get_or_insert(e);
        }
        let id = outcome.node;
        let mut node_failed = false;
        let mut node_cut = false;
        let mut finished = Vec::new();
        for (ci, kind, res) in outcome.results {
            let c = &plan.changes[ci];
            match res {
                OpResult::NotStarted => {
                    node_cut = true;
                    listed.skip(&mut report, &c.address, INTERRUPTED);
                }
                OpResult::Abandoned => {
                    node_cut = true;
                    if listed.abandoned.insert(c.address.clone()) {
                        report.abandoned.push(c.address.clone());
                    }
                }
                OpResult::Applied(v) => {
                    if let Ok(a) = crate::addrs::parse_instance(&c.address) {
                        let seen = if kind == OpKind::Delete && !c.action.is_replace() {
                            Value::NULL
                        } else {
                            v
                        };
                        // A deposed object is not what references see.
                        if c.deposed.is_none() && (kind != OpKind::Delete || !c.action.is_replace())
                        {
                            ev.set_instance_value(&a.module, &a.resource, a.key, seen);
                        }
                    }
                    let all = applied_ops.entry(ci).or_default();
                    all.push(kind);
                    let done = match c.action {
                        Action::DeleteThenCreate | Action::CreateThenDelete => all.len() == 2,
                        _ => true,
                    };
                    if done {
                        report.applied.push((c.address.clone(), c.action));
                    }
                    if opts.progress.is_some() {
                        finished.push((c.address.clone(), c.action, None));
                    }
                }
                OpResult::Failed(e) => {
                    node_failed = true;
                    if opts.progress.is_some() {
                        finished.push((c.address.clone(), c.action, Some(e.clone())));
                    }
                    report.failed.push((c.address.clone(), e));
                }
            }
        }
        if let Some(p) = opts.progress.as_ref().filter(|_| !finished.is_empty()) {
            p(Progress::Finished(finished));
        }
        if node_failed {
            state[id] = NodeState::Failed;
            for d in graph.transitive_dependents(id) {
                if state[d] == NodeState::Waiting {
                    state[d] = NodeState::Skipped;
                    for (ci, _) in &graph.nodes[d].ops {
                        let addr = &plan.changes[*ci].address;
                        listed.skip(&mut report, addr, "a resource it depends on failed");
                    }
                }
            }
        } else if node_cut {
            // Its dependents stay waiting: listed as interrupted below.
            state[id] = NodeState::Interrupted;
        } else {
            state[id] = NodeState::Done;
            for &d in &graph.nodes[id].dependents {
                waiting[d] -= 1;
                if waiting[d] == 0 && state[d] == NodeState::Waiting {
                    ready.push_back(d);
                }
            }
        }
    }
    if opts.cancel.is_cancelled() || abandon.is_cancelled() {
        report.interrupted = true;
    }
    for (id, st) in state.iter().enumerate() {
        if *st == NodeState::Waiting {
            for (ci, _) in &graph.nodes[id].ops {
                let why = if report.interrupted {
                    INTERRUPTED
                } else {
                    "not started"
                };
                listed.skip(&mut report, &plan.changes[*ci].address, why);
            }
        }
    }
    // Outputs from what now exists, then one commit. A destroy leaves no
    // outputs, as in Terraform (and as its plan says): not even those that
    // read no resource.
    let mut outputs = BTreeMap::new();
    let kept = if plan.mode == crate::plan::PlanMode::Destroy {
        None
    } else {
        Some(&ev.tree().module.outputs)
    };
    for (name, o) in kept.into_iter().flatten() {
        let v = ev.get(&Node::Output(
            crate::addrs::ModuleInstance::root(),
            name.clone(),
        ));
        if !v.is_wholly_known() {
            continue;
        }
        let (plain, marked) = v.unmark_deep();
        outputs.insert(
            name.clone(),
            OutputValue {
                value: plain.to_json(),
                sensitive: o.sensitive || marked,
                type_name: plain.ty().to_json().to_string(),
            },
        );
    }
    report.outputs = outputs.clone();
    let summary = {
        let (a, c, d) = report.counts();
        format!(
            "apply: {a} added, {c} changed, {d} destroyed, {} failed",
            report.failed.len()
        )
    };
    let b = backend.clone();
    match tokio::task::spawn_blocking(move || b.commit(Some(outputs), &summary)).await {
        Ok(Ok(serial)) => report.serial = serial,
        Ok(Err(e)) => {
            report.state_error.get_or_insert(e.to_string());
        }
        Err(e) => {
            report.state_error.get_or_insert(e.to_string());
        }
    }
    report
}

/// `c` without its objects and plan notes: what a node's task needs to
/// record intents and results (address, type, provider, action, lifecycle).
fn without_values(c: &ResourceChange) -> ResourceChange {
    ResourceChange {
        address: c.address.clone(),
        data: c.data,
        type_name: c.type_name.clone(),
        provider: c.provider.clone(),
        action: c.action,
        reason: None,
        before: Value::NULL,
        after: Value::NULL,
        replace_paths: Vec::new(),
        dependencies: c.dependencies.clone(),
        create_before_destroy: c.create_before_destroy,
        notes: Vec::new(),
        tainted: c.tainted,
        deposed: c.deposed.clone(),
    }
}

/// The records deposed objects compose in (loaded only when the plan
/// replaces create-before-destroy or deletes deposed objects).
async fn records_of(
    backend: &Arc<dyn Backend>,
    plan: &Plan,
) -> Result<Option<deposed::SharedRecords>, String> {
    let needed = plan
        .changes
        .iter()
        .any(|c| c.action == Action::CreateThenDelete || c.deposed.is_some());
    if !needed {
        return Ok(None);
    }
    let b = backend.clone();
    let state = tokio::task::spawn_blocking(move || b.load())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(deposed::Records::of(plan, &state))
}

/// `--refresh-only`: what changed outside posture goes into state as it is.
async fn accept_drift(
    backend: &Arc<dyn Backend>,
    providers: &Providers,
    plan: &Plan,
) -> Result<(), String> {
    let b = backend.clone();
    let state = tokio::task::spawn_blocking(move || b.load())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    for d in &plan.drift {
        let Some(rec) = state.instances.get(&d.address) else {
            continue;
        };
        let outcome = if d.action == Action::Delete {
            Outcome::Remove
        } else {
            let mode = if d.data {
                crate::addrs::Mode::Data
            } else {
                crate::addrs::Mode::Managed
            };
            let schema = providers.schema_of(mode, &d.type_name).unwrap_or_default();
            let (attributes, sensitive_paths) = statecodec::to_state(&d.after, &schema);
            let mut r = rec.clone();
            r.attributes = attributes;
            r.sensitive_paths = sensitive_paths;
            Outcome::Upsert(Box::new(r))
        };
        let b = backend.clone();
        let intent = NewIntent {
            address: d.address.clone(),
            action: crate::state::Action::Update,
            planned: serde_json::json!({"refresh_only": true}),
        };
        tokio::task::spawn_blocking(move || {
            let id = b.record_intent(intent)?;
            b.complete_intent(&id, outcome)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
    /// Done in part: the provider did not start some of it (interrupted).
    Interrupted,
}

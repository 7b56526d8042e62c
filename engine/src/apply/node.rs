//! One node of the operation graph, run as a task: plan again what became
//! known, record every intent, make one provider call for the batch, and
//! record every answer. Items the provider did not start because the run
//! was interrupted have their intents dropped with nothing changed.

use super::deposed::SharedRecords;
use super::ops::OpKind;
use crate::plan::{Action, ResourceChange, statecodec};
use crate::provider::{ApplyRequest, ApplyResult, Interrupt, PlanRequest, Provider};
use crate::state::{Backend, NewIntent, Outcome};
use crate::value::Value;
use std::sync::Arc;

/// How one operation of a node ended.
#[derive(Debug, Clone)]
pub(super) enum OpResult {
    /// Done: the object's new value (null after a delete).
    Applied(Value),
    /// Failed, with the message for the user.
    Failed(String),
    /// Never started: the run was interrupted first. Nothing changed.
    NotStarted,
    /// In flight when the run was abandoned: its intent stays pending.
    Abandoned,
}

/// What a node's task reports to the coordinator.
pub(super) struct TaskOutcome {
    pub node: usize,
    /// (index into plan.changes, operation, how it ended)
    pub results: Vec<(usize, OpKind, OpResult)>,
    pub state_error: Option<String>,
}

/// Everything a node's task needs, moved into it.
pub(super) struct NodeRun {
    pub node: usize,
    pub provider: Arc<dyn Provider>,
    pub backend: Arc<dyn Backend>,
    pub schema: Option<crate::schema::Schema>,
    pub changes: Vec<ResourceChange>,
    pub kinds: Vec<(usize, OpKind)>,
    pub reqs: Vec<ApplyRequest>,
    /// Configurations to plan again (values unknown at plan time), by request.
    pub replan: Vec<Option<Value>>,
    /// Requests that cannot be sent, with why (index into reqs).
    pub failed_early: Vec<(usize, String)>,
    /// The first Ctrl-C or SIGTERM (start nothing more), the second (stop waiting).
    pub interrupt: Interrupt,
    /// Records of the addresses with deposed objects, shared by the run.
    pub records: Option<SharedRecords>,
}

pub(super) async fn run_node(run: NodeRun) -> TaskOutcome {
    let NodeRun {
        node,
        provider,
        backend,
        schema,
        changes,
        kinds,
        mut reqs,
        replan,
        failed_early,
        interrupt,
        records,
    } = run;
    let mut results: Vec<(usize, OpKind, OpResult)> = Vec::new();
    for (i, e) in &failed_early {
        results.push((kinds[*i].0, kinds[*i].1, OpResult::Failed(e.clone())));
    }
    let schema = schema.unwrap_or_default();
    // Plan again where configuration values are now known.
    let mut live: Vec<usize> = Vec::new();
    for (i, cfg) in replan.into_iter().enumerate() {
        if failed_early.iter().any(|(j, _)| *j == i) {
            continue;
        }
        if interrupt.is_interrupted() {
            results.push((kinds[i].0, kinds[i].1, OpResult::NotStarted));
            continue;
        }
        if let Some(config) = cfg {
            // Only a marked configuration is kept, to mark what is planned.
            let marks = if config.contains_sensitive() {
                config.clone()
            } else {
                Value::NULL
            };
            let r = &reqs[i];
            let planned = provider.plan(PlanRequest {
                address: r.address.clone(),
                type_name: r.type_name.clone(),
                prior: r.prior.clone(),
                config,
            });
            // No intent is recorded yet: a plan cut short changed nothing.
            let planned = tokio::select! {
                p = planned => p,
                () = interrupt.abandoned() => {
                    results.push((kinds[i].0, kinds[i].1, OpResult::NotStarted));
                    continue;
                }
            };
            match planned {
                Ok(p) => reqs[i].planned = p.planned.with_marks_of(&marks),
                Err(e) => {
                    results.push((kinds[i].0, kinds[i].1, OpResult::Failed(e.message)));
                    continue;
                }
            }
        }
        live.push(i);
    }
    if live.is_empty() {
        return TaskOutcome {
            node,
            results,
            state_error: None,
        };
    }
    // The deposed key of a replacement's old object, for its delete's intent.
    let key_of = |c: &ResourceChange, kind: OpKind| match (&records, c.action, kind) {
        (Some(r), Action::CreateThenDelete, OpKind::Delete) => r
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .key_of(&c.address),
        _ => c.deposed.clone(),
    };
    // Every intent is durable before the call. They are built and written
    // [`STATE_CHUNK`] at a time, each chunk flushed: a large batch never
    // holds all its intents' JSON at once. Should a chunk fail, those
    // written stay pending, as after a crash before the call: the next
    // run's recovery reads that nothing happened and forgets them.
    let mut intents = Vec::with_capacity(live.len());
    for part in live.chunks(STATE_CHUNK) {
        let new_intents: Vec<NewIntent> = part
            .iter()
            .map(|&i| {
                let key = key_of(&changes[i], kinds[i].1);
                new_intent(&reqs[i], &changes[i], kinds[i].1, key)
            })
            .collect();
        let b = backend.clone();
        let recorded = tokio::task::spawn_blocking(move || b.record_intents(new_intents)).await;
        match recorded {
            Ok(Ok(ids)) => intents.extend(ids),
            Ok(Err(e)) => return store_failed(node, results, &kinds, &live, &e.to_string()),
            Err(e) => return store_failed(node, results, &kinds, &live, &e.to_string()),
        }
    }
    // The requests move into the call; of each planned value only what
    // carries marks is kept, for the answer and the record (an unmarked
    // value marks nothing: null stands in for it).
    let marks: Vec<Value> = reqs.iter().map(|r| marks_of(&r.planned)).collect();
    let mut sent = vec![false; reqs.len()];
    for &i in &live {
        sent[i] = true;
    }
    let batch: Vec<ApplyRequest> = reqs
        .into_iter()
        .zip(&sent)
        .filter_map(|(r, s)| s.then_some(r))
        .collect();
    let answers = match answers_or_abandon(provider.as_ref(), batch, interrupt).await {
        Some(a) => a,
        None => {
            // The intents stay pending: the next run reads what happened.
            results.extend(
                live.iter()
                    .map(|&i| (kinds[i].0, kinds[i].1, OpResult::Abandoned)),
            );
            return TaskOutcome {
                node,
                results,
                state_error: None,
            };
        }
    };
    if answers.len() != live.len() {
        // Which answer is whose cannot be told: none is recorded, and the
        // intents stay pending so the next run reads what really happened.
        let why = format!(
            "{}; the next run reads the object to settle what happened",
            crate::plan::count_mismatch(provider.name(), answers.len(), live.len())
        );
        results.extend(
            live.iter()
                .map(|&i| (kinds[i].0, kinds[i].1, OpResult::Failed(why.clone()))),
        );
        return TaskOutcome {
            node,
            results,
            state_error: None,
        };
    }
    // What the plan marked stays marked in what the provider returns: in
    // state and in what dependents see.
    let answers: Vec<ApplyResult> = answers
        .into_iter()
        .zip(&live)
        .map(|(a, &i)| match a {
            ApplyResult::Applied(v) => ApplyResult::Applied(v.with_marks_of(&marks[i])),
            ApplyResult::Tainted { value, error } => ApplyResult::Tainted {
                value: value.with_marks_of(&marks[i]),
                error,
            },
            other => other,
        })
        .collect();
    // The results, [`STATE_CHUNK`] at a time: each chunk's records are
    // built, written with one flush and dropped before the next, so a large
    // batch never holds every record's JSON at once. After a chunk fails,
    // the rest are not written: their intents stay pending for recovery.
    let mut store_err: Option<String> = None;
    // Positions in `live` below this one have their results in state.
    let mut recorded = 0;
    for start in (0..live.len()).step_by(STATE_CHUNK) {
        let end = (start + STATE_CHUNK).min(live.len());
        let mut outcomes = Vec::with_capacity(end - start);
        for p in start..end {
            let (i, answer) = (live[p], &answers[p]);
            if matches!(answer, ApplyResult::Abandoned) {
                continue; // stays pending
            }
            let outcome = outcome_of(
                provider.as_ref(),
                &schema,
                &changes[i],
                &marks[i],
                kinds[i].1,
                answer,
            );
            let applied = matches!(
                answer,
                ApplyResult::Applied(_) | ApplyResult::Tainted { .. }
            );
            outcomes.push((
                intents[p].clone(),
                outcome,
                (changes[i].clone(), kinds[i].1, applied),
            ));
        }
        let b = backend.clone();
        let records = records.clone();
        let complete = move || {
            // Records that hold deposed objects are composed and written
            // under one lock, so that two operations on one address never
            // interleave.
            let mut guard = records
                .as_ref()
                .map(|r| r.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            let done = outcomes
                .into_iter()
                .map(|(id, outcome, (c, kind, applied))| match guard.as_mut() {
                    Some(recs) if recs.composes(&c.address) => {
                        (id, recs.compose(&c, kind, applied, outcome))
                    }
                    _ => (id, outcome),
                })
                .collect();
            b.complete_intents(done)
        };
        match tokio::task::spawn_blocking(complete).await {
            Ok(Ok(())) => recorded = end,
            Ok(Err(e)) => store_err = Some(e.to_string()),
            Err(e) => store_err = Some(e.to_string()),
        }
        if store_err.is_some() {
            break;
        }
    }
    for (p, (&i, answer)) in live.iter().zip(answers).enumerate() {
        let (ci, kind) = kinds[i];
        // The state error of this result's chunk, or of one before it.
        let unrecorded = store_err.as_ref().filter(|_| p >= recorded);
        let res = match answer {
            ApplyResult::Applied(v) => match unrecorded {
                None => OpResult::Applied(v),
                Some(e) => {
                    OpResult::Failed(format!("applied, but recording it in state failed: {e}"))
                }
            },
            ApplyResult::Failed(e) => OpResult::Failed(e.message),
            ApplyResult::Tainted { error, .. } => OpResult::Failed(match (unrecorded, kind) {
                (Some(e), _) => format!(
                    "{}; the object exists, but recording it in state failed: {e}",
                    error.message
                ),
                (None, OpKind::Create)
                    if provider.taints_incomplete_create(&changes[i].type_name) =>
                {
                    format!(
                        "{}; the object exists and is recorded as tainted: the next plan replaces it",
                        error.message
                    )
                }
                (None, _) => format!(
                    "{}; the change was made and is recorded as it now is",
                    error.message
                ),
            }),
            ApplyResult::NotStarted => OpResult::NotStarted,
            ApplyResult::Abandoned => OpResult::Abandoned,
        };
        results.push((ci, kind, res));
    }
    TaskOutcome {
        node,
        results,
        state_error: store_err,
    }
}

/// What of a planned value marks the answer and the record: the value
/// when it carries sensitive marks, else null (which marks nothing, and
/// adds no sensitive path beyond the schema's).
fn marks_of(planned: &Value) -> Value {
    if planned.contains_sensitive() {
        planned.clone()
    } else {
        Value::NULL
    }
}

/// The intent of one request: enough for the next run to find the object.
fn new_intent(
    r: &ApplyRequest,
    c: &ResourceChange,
    kind: OpKind,
    deposed: Option<String>,
) -> NewIntent {
    let planned = serde_json::json!({
        "type": c.type_name,
        "provider": c.provider,
        "operation": format!("{kind:?}"),
        "token": r.idempotency_token,
        "prior": crate::value::codec::encode(&r.prior),
        "planned": crate::value::codec::encode(&r.planned),
        "dependencies": c.dependencies,
        "create_before_destroy": c.create_before_destroy,
        // For recovery: the deposed object a delete removes (then the
        // record's current object is another), or a replacement's create
        // (then the record at the address holds the old object).
        "deposed": deposed,
        "replacement": c.action.is_replace(),
    });
    NewIntent {
        address: r.address.clone(),
        action: match kind {
            OpKind::Create => crate::state::Action::Create,
            OpKind::Update => crate::state::Action::Update,
            OpKind::Delete => crate::state::Action::Delete,
        },
        planned,
    }
}

/// What the state records for one answer.
fn outcome_of(
    provider: &dyn Provider,
    schema: &crate::schema::Schema,
    c: &ResourceChange,
    planned: &Value,
    kind: OpKind,
    answer: &ApplyResult,
) -> Outcome {
    match answer {
        ApplyResult::Applied(v) if kind == OpKind::Delete || v.is_null() => {
            // A replacement's create records the instance.
            if c.action == Action::CreateThenDelete && kind == OpKind::Delete {
                Outcome::NoChange
            } else {
                Outcome::Remove
            }
        }
        ApplyResult::Applied(v) => record(provider, schema, c, planned, v, false),
        // Only a create taints: an object updated in place keeps what it
        // was, as in Terraform, and its record the change made.
        ApplyResult::Tainted { value, .. } if kind == OpKind::Delete || value.is_null() => {
            Outcome::NoChange
        }
        // A create taints unless its type records partial progress precisely.
        ApplyResult::Tainted { value, .. } => {
            let taints = kind == OpKind::Create && provider.taints_incomplete_create(&c.type_name);
            record(provider, schema, c, planned, value, taints)
        }
        // Nothing changed: the intent goes, the record stays as it was.
        ApplyResult::Failed(_) | ApplyResult::NotStarted => Outcome::NoChange,
        // Not recorded (the caller skips it); for completeness only.
        ApplyResult::Abandoned => Outcome::NoChange,
    }
}

/// The record of an object as `v` describes it.
fn record(
    provider: &dyn Provider,
    schema: &crate::schema::Schema,
    c: &ResourceChange,
    planned: &Value,
    v: &Value,
    tainted: bool,
) -> Outcome {
    let (attrs, mut sensitive_paths) = statecodec::to_state(v, schema);
    // What the configuration marked stays marked, whatever the provider returned.
    sensitive_paths.extend(statecodec::sensitive_paths(planned, schema));
    sensitive_paths.sort();
    sensitive_paths.dedup();
    Outcome::Upsert(Box::new(crate::state::InstanceRecord {
        address: c.address.clone(),
        mode: crate::state::Mode::Managed,
        resource_type: c.type_name.clone(),
        provider: c.provider.clone(),
        target: provider.batch_key(&c.type_name, v),
        schema_version: 0,
        attributes: attrs,
        sensitive_paths,
        dependencies: c.dependencies.clone(),
        create_before_destroy: c.create_before_destroy,
        tainted,
        deposed: Default::default(),
    }))
}

fn store_failed(
    node: usize,
    mut results: Vec<(usize, OpKind, OpResult)>,
    kinds: &[(usize, OpKind)],
    live: &[usize],
    msg: &str,
) -> TaskOutcome {
    results.extend(live.iter().map(|&i| {
        (
            kinds[i].0,
            kinds[i].1,
            OpResult::Failed(format!("state store: {msg}")),
        )
    }));
    TaskOutcome {
        node,
        results,
        state_error: Some(msg.to_string()),
    }
}

/// Intents, and later results, of one batch written to state per flush:
/// bounds what a 100,000-instance batch holds at once (the JSON of 8,192
/// intents or records is a few megabytes) at 13 flushes per 100,000.
const STATE_CHUNK: usize = 8192;

/// How long a provider that ignores abandoning is still awaited after it.
const ABANDON_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The provider's answers; `None` when the run was abandoned and the
/// provider did not answer within [`ABANDON_GRACE`] (the call is dropped).
async fn answers_or_abandon(
    provider: &dyn Provider,
    batch: Vec<ApplyRequest>,
    interrupt: Interrupt,
) -> Option<Vec<ApplyResult>> {
    let gone = interrupt.clone();
    let call = provider.apply_interruptible(batch, interrupt);
    tokio::pin!(call);
    tokio::select! {
        biased;
        a = &mut call => return Some(a),
        () = gone.abandoned() => {}
    }
    // A provider that honours abandoning answers at once, keeping what it
    // knows; one that does not is dropped after the grace.
    tokio::time::timeout(ABANDON_GRACE, call).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// The requests move into the provider call and only [`marks_of`] is
    /// kept: what the answer and the record are marked with must be what
    /// the whole planned value gave, marked or not.
    #[test]
    fn requests_moved_into_the_call_keep_their_marks_in_the_answer_and_the_record() {
        let schema = crate::builtin::posture_data_schema();
        let answer = object(&[("input", Value::from("a")), ("id", Value::from("x"))]);
        let plain = object(&[("input", Value::from("a"))]);
        let marked = object(&[("input", Value::from("a").mark_sensitive())]);
        for planned in [plain, marked] {
            let kept = marks_of(&planned);
            assert_eq!(
                answer.clone().with_marks_of(&kept).contains_sensitive(),
                planned.contains_sensitive()
            );
            assert_eq!(
                statecodec::sensitive_paths(&kept, &schema),
                statecodec::sensitive_paths(&planned, &schema)
            );
        }
        assert!(marks_of(&object(&[("input", Value::from("a"))])).is_null());
    }
}

#[cfg(test)]
#[path = "node_tests.rs"]
mod chunk_tests;

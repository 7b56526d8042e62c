//! Applying `route53_record` changes: per zone, the requests become
//! changes, pairs that must land together (a replacement, a record moved to
//! a new address) become units, and units are packed into atomic batches.
//! A batch whose answer was lost is verified by re-reading the zone.

use crate::Context;
use crate::batch::{AWS_LIMITS, Unit, pack};
use crate::changes::{SubmitError, submit, wait_in_sync};
use crate::error::Error;
use crate::names::bare_zone_id;
use crate::record::{Record, RecordKey};
use crate::records::record_of;
use crate::snapshot::ZoneSnapshot;
use crate::values::{self as v, entries};
use aws_sdk_route53::types::{Change, ChangeAction};
use posture_provider_core::provider::{
    ApplyRequest, ApplyResult, Interrupt, Operation, ProviderError,
};
use posture_provider_core::value::Value;
use std::collections::{BTreeMap, BTreeSet};

fn change(action: ChangeAction, rec: &Record) -> Result<Change, String> {
    Change::builder()
        .action(action)
        .resource_record_set(rec.to_rrset()?)
        .build()
        .map_err(|e| e.to_string())
}

/// One request made ready to send.
struct Prepared {
    index: usize,
    address: String,
    key: RecordKey,
    result: Value,
    changes: Vec<Change>,
    operation: Operation,
}

/// Applies record changes: per zone, packed into atomic batches. Once
/// `interrupt` fires no further batch is sent: its changes are answered
/// [`ApplyResult::NotStarted`].
pub async fn apply(
    ctx: &Context,
    requests: Vec<(usize, ApplyRequest)>,
    interrupt: &Interrupt,
) -> Vec<(usize, ApplyResult)> {
    let mut out = Vec::new();
    let mut by_zone: BTreeMap<String, Vec<(usize, ApplyRequest)>> = BTreeMap::new();
    for (i, r) in requests {
        let value = if r.operation == Operation::Delete {
            &r.prior
        } else {
            &r.planned
        };
        match v::get_str(value, "zone_id") {
            Some(z) => by_zone.entry(bare_zone_id(&z)).or_default().push((i, r)),
            None => out.push((
                i,
                ApplyResult::Failed(ProviderError::new("zone_id is not known at apply time")),
            )),
        }
    }
    for (zone_id, reqs) in by_zone {
        if interrupt.is_interrupted() {
            out.extend(reqs.into_iter().map(|(i, _)| (i, ApplyResult::NotStarted)));
            continue;
        }
        out.extend(apply_zone(ctx, &zone_id, reqs, interrupt).await);
        ctx.snapshots.invalidate(&zone_id).await;
    }
    out
}

async fn apply_zone(
    ctx: &Context,
    zone_id: &str,
    reqs: Vec<(usize, ApplyRequest)>,
    interrupt: &Interrupt,
) -> Vec<(usize, ApplyResult)> {
    let mut out = Vec::new();
    // Relative names need the zone's name; planned values usually carry
    // `fqdn`, so this scan happens only for zones created in this run.
    let needs_zone = reqs.iter().any(|(_, r)| {
        let val = if r.operation == Operation::Delete {
            &r.prior
        } else {
            &r.planned
        };
        v::get_str(val, "fqdn").is_none()
    });
    let snap = if needs_zone {
        ctx.snapshots.get(&ctx.api, zone_id, false).await.ok()
    } else {
        ctx.snapshots.cached(zone_id).await
    };
    let zone_name = snap.as_ref().map(|s| s.zone_name.clone());
    // Keys this call deletes: a create of one of them is not an adoption
    // (a record moved to a new address deletes and creates the same key).
    let deleted: BTreeSet<RecordKey> = reqs
        .iter()
        .filter(|(_, r)| r.operation == Operation::Delete)
        .filter_map(|(_, r)| record_of(&r.prior, zone_name.as_deref()).ok())
        .map(|rec| rec.key)
        .collect();
    let mut prepared: Vec<Prepared> = Vec::new();
    for (i, r) in reqs {
        match prepare(i, &r, zone_name.as_deref(), snap.as_deref(), &deleted) {
            Ok(Some(p)) => prepared.push(p),
            Ok(None) => {
                // Nothing to send: an identical record adopted, or an update
                // of posture's own settings only.
                let val = finish_value(&r.planned, zone_id, zone_name.as_deref());
                out.push((i, ApplyResult::Applied(val)));
            }
            Err(msg) => out.push((i, ApplyResult::Failed(ProviderError::new(msg)))),
        }
    }
    // A replacement arrives as a Delete and a Create of one address, a
    // moved record as a Delete and a Create of one key: each pair forms one
    // unit (DELETE first), so it lands in one atomic batch.
    let mut units: Vec<Unit<Vec<Prepared>>> = Vec::new();
    let mut by_address: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_key: BTreeMap<RecordKey, usize> = BTreeMap::new();
    prepared.sort_by_key(|p| p.operation != Operation::Delete);
    for p in prepared {
        let found = by_address
            .get(&p.address)
            .or_else(|| by_key.get(&p.key))
            .copied();
        let u = match found {
            Some(u) => u,
            None => {
                units.push(Unit {
                    changes: Vec::new(),
                    tag: Vec::new(),
                });
                units.len() - 1
            }
        };
        by_address.insert(p.address.clone(), u);
        by_key.insert(p.key.clone(), u);
        units[u].changes.extend(p.changes.clone());
        units[u].tag.push(p);
    }
    for u in &mut units {
        u.changes = collapse_same_key(std::mem::take(&mut u.changes));
    }
    let (units, nothing): (Vec<_>, Vec<_>) = units.into_iter().partition(|u| !u.changes.is_empty());
    for p in nothing.into_iter().flat_map(|u| u.tag) {
        out.push((p.index, ApplyResult::Applied(p.result)));
    }
    let (batches, too_big) = pack(units, AWS_LIMITS);
    for u in too_big {
        for p in u.tag {
            out.push((
                p.index,
                ApplyResult::Failed(ProviderError::new(format!(
                    "{} is larger than one Route53 change batch allows (1,000 values, 32,000 characters); split its values",
                    p.key
                ))),
            ));
        }
    }
    // Send every batch first, then wait for them: the waits overlap
    // instead of adding up.
    let mut sent = Vec::new();
    for batch in batches {
        if interrupt.is_interrupted() {
            // Batches are atomic: one not sent changed nothing.
            for p in batch.into_iter().flat_map(|u| u.tag) {
                out.push((p.index, ApplyResult::NotStarted));
            }
            continue;
        }
        let changes: Vec<Change> = batch.iter().flat_map(|u| u.changes.clone()).collect();
        let n = changes.len();
        let res = tokio::select! {
            biased;
            res = submit(&ctx.api, zone_id, changes) => res,
            () = interrupt.abandoned() => {
                // Dropped in flight: the next run reads whether it landed.
                for p in batch.into_iter().flat_map(|u| u.tag) {
                    out.push((p.index, ApplyResult::Abandoned));
                }
                continue;
            }
        };
        sent.push((batch, n, res));
    }
    if ctx.wait_for_sync {
        for (_, _, res) in &sent {
            if let Ok(change_id) = res {
                // The batch is applied either way; a failed wait is not a
                // failed change, nor is one an interrupt cut short.
                tokio::select! {
                    _ = wait_in_sync(&ctx.api, change_id) => {}
                    () = interrupt.interrupted() => {}
                }
            }
        }
    }
    for (batch, n, res) in sent {
        let landed = match &res {
            Err(e) if e.ambiguous => batch_landed(ctx, zone_id, &batch).await,
            _ => false,
        };
        for p in batch.into_iter().flat_map(|u| u.tag) {
            let r = match &res {
                Ok(_) => ApplyResult::Applied(p.result),
                Err(_) if landed => ApplyResult::Applied(p.result),
                Err(SubmitError { error: e, .. }) => ApplyResult::Failed(ProviderError {
                    message: format!(
                        "{}: {e} (the batch of {n} changes in zone {zone_id} was rejected as a whole; none of it was applied)",
                        p.key
                    ),
                    retryable: matches!(e, Error::Aws(a) if a.retryable),
                }),
            };
            out.push((p.index, r));
        }
    }
    out
}

/// A DELETE and a CREATE of the same key in one unit (a record moved to a
/// new address) become one UPSERT, or nothing when the values are equal:
/// the same end state, atomically, and with no window without the record.
fn collapse_same_key(changes: Vec<Change>) -> Vec<Change> {
    let key_of = |c: &Change| c.resource_record_set().map(|r| Record::from_rrset("", r));
    let mut out: Vec<Change> = Vec::new();
    for c in changes {
        let rec = key_of(&c);
        let paired = out.iter().position(|d| {
            *d.action() == ChangeAction::Delete
                && *c.action() != ChangeAction::Delete
                && key_of(d).map(|r| r.key) == rec.as_ref().map(|r| r.key.clone())
        });
        match (paired, rec) {
            (Some(i), Some(new)) => {
                let old = out.remove(i);
                if key_of(&old).as_ref() != Some(&new) {
                    match c.resource_record_set() {
                        Some(rrset) => out.push(
                            Change::builder()
                                .action(ChangeAction::Upsert)
                                .resource_record_set(rrset.clone())
                                .build()
                                .unwrap_or(c),
                        ),
                        None => out.push(c),
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// After an attempt whose answer was lost, whether the zone now holds
/// exactly what the batch was to make (then the batch did land: a retry
/// was refused only because the first attempt had done the work).
async fn batch_landed(ctx: &Context, zone_id: &str, batch: &[Unit<Vec<Prepared>>]) -> bool {
    ctx.snapshots.invalidate(zone_id).await;
    let Ok(snap) = ctx.snapshots.get(&ctx.api, zone_id, true).await else {
        return false;
    };
    batch.iter().flat_map(|u| &u.changes).all(|c| {
        let Some(rrset) = c.resource_record_set() else {
            return false;
        };
        let rec = Record::from_rrset(zone_id, rrset);
        match c.action() {
            ChangeAction::Delete => !snap.records.contains_key(&rec.key),
            _ => snap.records.get(&rec.key) == Some(&rec),
        }
    })
}

/// The planned value with its computed parts filled in.
fn finish_value(planned: &Value, zone_id: &str, zone_name: Option<&str>) -> Value {
    let mut m = entries(planned);
    if let Ok(rec) = record_of(planned, zone_name) {
        m.insert("fqdn".into(), Value::from(rec.key.name.as_str()));
        m.insert("id".into(), Value::from(rec.key.id(zone_id)));
    }
    Value::Object(m)
}

fn prepare(
    index: usize,
    r: &ApplyRequest,
    zone_name: Option<&str>,
    snap: Option<&ZoneSnapshot>,
    deleted: &BTreeSet<RecordKey>,
) -> Result<Option<Prepared>, String> {
    let zone_id = v::get_str(
        if r.operation == Operation::Delete {
            &r.prior
        } else {
            &r.planned
        },
        "zone_id",
    )
    .map(|z| bare_zone_id(&z))
    .unwrap_or_default();
    let (key, changes, result) = match r.operation {
        Operation::Create => {
            if !r.planned.is_wholly_known() {
                return Err("the planned value still has unknown parts at apply time".into());
            }
            let rec = record_of(&r.planned, zone_name)?;
            let problems = rec.problems();
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
            let overwrite = v::get_bool(&r.planned, "allow_overwrite") == Some(true);
            if !overwrite
                && !deleted.contains(&rec.key)
                && snap.and_then(|s| s.records.get(&rec.key)) == Some(&rec)
            {
                return Ok(None);
            }
            let action = if overwrite {
                ChangeAction::Upsert
            } else {
                ChangeAction::Create
            };
            (
                rec.key.clone(),
                vec![change(action, &rec)?],
                finish_value(&r.planned, &zone_id, zone_name),
            )
        }
        Operation::Update => {
            if !r.planned.is_wholly_known() {
                return Err("the planned value still has unknown parts at apply time".into());
            }
            let old = record_of(&r.prior, zone_name)?;
            let new = record_of(&r.planned, zone_name)?;
            let problems = new.problems();
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
            if old == new {
                // Only posture's own settings changed (allow_overwrite).
                return Ok(None);
            }
            let changes = if old.key == new.key {
                vec![change(ChangeAction::Upsert, &new)?]
            } else {
                vec![
                    change(ChangeAction::Delete, &old)?,
                    change(ChangeAction::Create, &new)?,
                ]
            };
            (
                new.key.clone(),
                changes,
                finish_value(&r.planned, &zone_id, zone_name),
            )
        }
        Operation::Delete => {
            let old = record_of(&r.prior, zone_name)?;
            (
                old.key.clone(),
                vec![change(ChangeAction::Delete, &old)?],
                Value::NULL,
            )
        }
    };
    Ok(Some(Prepared {
        index,
        address: r.address.clone(),
        key,
        result,
        changes,
        operation: r.operation,
    }))
}

//! `route53_record`: read from zone snapshots, planned against them (an
//! unmanaged record in the way is an error unless `allow_overwrite`), and
//! applied in packed, atomic change batches per zone.

use crate::Context;
use crate::batch::{AWS_LIMITS, Unit, pack};
use crate::changes::{SubmitError, submit, wait_in_sync};
use crate::error::Error;
use crate::names::{bare_zone_id, canonical_name};
use crate::record::{Record, RecordKey};
use crate::snapshot::ZoneSnapshot;
use crate::values::{self as v, entries};
use aws_sdk_route53::types::{Change, ChangeAction};
use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, ProviderError, ReadRequest,
    ReadResult,
};
use posture_engine::value::{Type, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Checks what can be checked without AWS.
pub fn validate(config: &Value) -> Vec<String> {
    let fields = [
        "zone_id",
        "name",
        "type",
        "ttl",
        "records",
        "alias",
        "set_identifier",
    ];
    if !fields.iter().all(|f| v::is_known(config, f)) {
        return Vec::new();
    }
    let mut cfg = entries(config);
    // The name does not matter for these checks; a placeholder keeps a
    // relative name from needing the zone.
    cfg.insert("name".into(), Value::from("check.invalid"));
    match Record::from_value(&Value::Object(cfg), "invalid") {
        Ok(r) => r.problems(),
        Err(_) => Vec::new(),
    }
}

/// True when every argument is known (the computed `id` and `fqdn` do not count).
fn arguments_known(config: &Value) -> bool {
    entries(config)
        .iter()
        .filter(|(k, _)| k.as_str() != "id" && k.as_str() != "fqdn")
        .all(|(_, x)| x.is_wholly_known())
}

/// The record a value describes, taking its `fqdn` as the name when known
/// (planned and state values carry it), else resolving `name` in the zone.
fn record_of(value: &Value, zone_name: Option<&str>) -> Result<Record, String> {
    if let Some(fqdn) = v::get_str(value, "fqdn") {
        let mut m = entries(value);
        m.insert("name".into(), Value::from(fqdn.as_str()));
        return Record::from_value(&Value::Object(m), &fqdn);
    }
    match zone_name {
        Some(z) => Record::from_value(value, z),
        None => Err("the record's zone name is not known".into()),
    }
}

/// The state value for `remote`, keeping the prior value's spelling
/// wherever it means the same (so that no spurious difference shows).
fn merge_spelling(remote: &Record, prior_rec: Option<&Record>, prior: &Value) -> Value {
    let allow = v::get_bool(prior, "allow_overwrite");
    let mut out = entries(&remote.to_value(allow));
    let Some(p) = prior_rec else {
        return Value::Object(out);
    };
    if p == remote {
        // Unchanged: the prior value is the answer, spelling and all.
        return prior.clone();
    }
    let prior_m = entries(prior);
    let mut keep = vec!["name"];
    if p.records == remote.records {
        keep.push("records");
    }
    if p.alias == remote.alias {
        keep.push("alias");
    }
    if p.zone_id == remote.zone_id {
        keep.push("zone_id");
    }
    if p.key.rtype == remote.key.rtype {
        keep.push("type");
    }
    for k in keep {
        if let Some(x) = prior_m.get(k).filter(|x| !x.is_null()) {
            out.insert(k.to_string(), x.clone());
        }
    }
    Value::Object(out)
}

/// Reads record instances: one scan per zone among them.
pub async fn read(ctx: &Context, requests: Vec<(usize, ReadRequest)>) -> Vec<(usize, ReadResult)> {
    let mut by_zone: BTreeMap<String, Vec<(usize, ReadRequest)>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, r) in requests {
        match v::get_str(&r.prior, "zone_id") {
            Some(z) => by_zone.entry(bare_zone_id(&z)).or_default().push((i, r)),
            None => out.push((
                i,
                ReadResult::Failed(ProviderError::new(format!(
                    "{}: the recorded state has no zone_id; remove it from state and import the record",
                    r.address
                ))),
            )),
        }
    }
    for (zone_id, reqs) in by_zone {
        // The run's snapshot: a scan made earlier in this run (by plan or
        // another read of the zone) is as fresh as this run needs.
        let snap = match ctx.snapshots.get(&ctx.api, &zone_id, false).await {
            Ok(s) => s,
            Err(Error::Aws(e)) if e.is_not_found() => {
                out.extend(reqs.into_iter().map(|(i, _)| (i, ReadResult::Gone)));
                continue;
            }
            Err(e) => {
                out.extend(
                    reqs.into_iter()
                        .map(|(i, r)| (i, ReadResult::Failed(e.for_address(&r.address)))),
                );
                continue;
            }
        };
        for (i, r) in reqs {
            let res = match record_of(&r.prior, Some(&snap.zone_name)) {
                Err(msg) => ReadResult::Failed(ProviderError::new(format!(
                    "{}: the recorded state cannot be read ({msg})",
                    r.address
                ))),
                Ok(prior_rec) => match snap.records.get(&prior_rec.key) {
                    None => ReadResult::Gone,
                    Some(remote) => {
                        ReadResult::Found(merge_spelling(remote, Some(&prior_rec), &r.prior))
                    }
                },
            };
            out.push((i, res));
        }
    }
    out
}

/// Plans one record instance.
pub async fn plan(ctx: &Context, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
    let (config, _) = r.config.clone().unmark_deep();
    let mut planned = entries(&config);
    let prior = r.prior.clone();
    let mut notes = Vec::new();
    let zone_id = v::get_str(&config, "zone_id").map(|z| bare_zone_id(&z));
    let snap = match &zone_id {
        Some(z) => match ctx.snapshots.get(&ctx.api, z, false).await {
            Ok(s) => Some(s),
            // The zone may be created by this same apply (its id then
            // unknown); a known id of a missing zone is the user's to fix.
            Err(e) => return Err(e.for_address(&r.address)),
        },
        None => None,
    };
    let all_known = ["zone_id", "name", "type", "set_identifier"]
        .iter()
        .all(|f| v::is_known(&config, f));
    match (&snap, all_known) {
        (Some(snap), true) => {
            let rec = Record::from_value(&config, &snap.zone_name)
                .map_err(|m| ProviderError::new(format!("{}: {m}", r.address)))?;
            let problems = if arguments_known(&config) {
                rec.problems()
            } else {
                Vec::new()
            };
            if !problems.is_empty() {
                return Err(ProviderError::new(format!(
                    "{}: {}",
                    r.address,
                    problems.join("; ")
                )));
            }
            planned.insert("fqdn".into(), Value::from(rec.key.name.as_str()));
            planned.insert("id".into(), Value::from(rec.key.id(&snap.zone_id)));
            if prior.is_null() {
                check_conflict(&r.address, &rec, &config, snap, &mut notes)?;
            } else {
                keep_prior_spelling(&mut planned, &prior, &rec, &snap.zone_name);
            }
        }
        _ => {
            planned.insert("fqdn".into(), Value::Unknown(Type::String));
            planned.insert("id".into(), Value::Unknown(Type::String));
        }
    }
    Ok(PlanResponse {
        planned: Value::Object(planned),
        requires_replace: Vec::new(),
        notes,
    })
}

/// A new record whose key is already taken in the zone.
fn check_conflict(
    address: &str,
    rec: &Record,
    config: &Value,
    snap: &ZoneSnapshot,
    notes: &mut Vec<String>,
) -> Result<(), ProviderError> {
    let Some(existing) = snap.records.get(&rec.key) else {
        return Ok(());
    };
    if v::get_bool(config, "allow_overwrite") == Some(true) {
        notes.push(format!(
            "{address}: {} already exists in zone {}; allow_overwrite is set, so apply will overwrite it",
            rec.key, snap.zone_id
        ));
        return Ok(());
    }
    if arguments_known(config) && existing == rec {
        // Same values: most likely our own create whose state was lost
        // (a crash after the call); taking it over changes nothing.
        notes.push(format!(
            "{address}: {} already exists in zone {} with the same values; apply will adopt it",
            rec.key, snap.zone_id
        ));
        return Ok(());
    }
    Err(ProviderError::new(format!(
        "{address}: {} already exists in zone {}: import it (posture import {address} {}) or set allow_overwrite = true",
        rec.key,
        snap.zone_id,
        rec.key.id(&snap.zone_id)
    )))
}

/// Where configuration and prior state mean the same, plan the prior's
/// spelling, so that `WWW` against `www.example.com.` is no change.
fn keep_prior_spelling(
    planned: &mut BTreeMap<String, Value>,
    prior: &Value,
    rec: &Record,
    zone_name: &str,
) {
    let Ok(p) = record_of(prior, Some(zone_name)) else {
        return;
    };
    let pm = entries(prior);
    let mut same = Vec::new();
    if p.key.name == rec.key.name {
        same.push("name");
    }
    if p.key.rtype == rec.key.rtype {
        same.push("type");
    }
    if p.zone_id == rec.zone_id {
        same.push("zone_id");
    }
    if p.records == rec.records {
        same.push("records");
    }
    if p.alias == rec.alias && rec.alias.is_some() {
        same.push("alias");
    }
    for k in same {
        if let Some(x) = pm.get(k) {
            planned.insert(k.to_string(), x.clone());
        }
    }
}

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

/// Applies record changes: per zone, packed into atomic batches.
pub async fn apply(
    ctx: &Context,
    requests: Vec<(usize, ApplyRequest)>,
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
                ApplyResult::Failed(ProviderError::new(format!(
                    "{}: zone_id is not known at apply time",
                    r.address
                ))),
            )),
        }
    }
    for (zone_id, reqs) in by_zone {
        out.extend(apply_zone(ctx, &zone_id, reqs).await);
        ctx.snapshots.invalidate(&zone_id).await;
    }
    out
}

async fn apply_zone(
    ctx: &Context,
    zone_id: &str,
    reqs: Vec<(usize, ApplyRequest)>,
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
            Err(msg) => out.push((
                i,
                ApplyResult::Failed(ProviderError::new(format!("{}: {msg}", r.address))),
            )),
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
                    "{}: {} is larger than one Route53 change batch allows (1,000 values, 32,000 characters); split its values",
                    p.address, p.key
                ))),
            ));
        }
    }
    // Send every batch first, then wait for them: the waits overlap
    // instead of adding up.
    let mut sent = Vec::new();
    for batch in batches {
        let changes: Vec<Change> = batch.iter().flat_map(|u| u.changes.clone()).collect();
        let n = changes.len();
        let res = submit(&ctx.api, zone_id, changes).await;
        sent.push((batch, n, res));
    }
    if ctx.wait_for_sync {
        for (_, _, res) in &sent {
            if let Ok(change_id) = res {
                // The batch is applied either way; a failed wait is not a failed change.
                let _ = wait_in_sync(&ctx.api, change_id).await;
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
                        "{}: {}: {e} (the batch of {n} changes in zone {zone_id} was rejected as a whole; none of it was applied)",
                        p.address, p.key
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

/// Imports `ZONEID_name_TYPE[_set_identifier]`.
pub async fn import(ctx: &Context, id: &str) -> Result<Value, ProviderError> {
    let (zone_id, mut key) = RecordKey::parse_id(id).ok_or_else(|| {
        ProviderError::new(format!(
            "route53_record import id {id:?} is not ZONEID_name_TYPE or ZONEID_name_TYPE_SETIDENTIFIER (for example Z123_www.example.com_A)"
        ))
    })?;
    let snap = ctx
        .snapshots
        .get(&ctx.api, &zone_id, false)
        .await
        .map_err(|e| e.for_address(&format!("import {id}")))?;
    key.name = crate::names::fqdn_in_zone(&canonical_name(&key.name), &snap.zone_name);
    match snap.records.get(&key) {
        Some(rec) => Ok(rec.to_value(None)),
        None => Err(ProviderError::new(format!(
            "import {id}: zone {zone_id} has no record {key}; check the name, type and set identifier"
        ))),
    }
}

//! `route53_record`: read from zone snapshots, planned against them (an
//! unmanaged record in the way is an error unless `allow_overwrite`), and
//! imported. Applying lives in `record_apply`.

use crate::Context;
use crate::error::Error;
use crate::names::{bare_zone_id, canonical_name};
use crate::record::{Record, RecordKey};
use crate::snapshot::ZoneSnapshot;
use crate::values::{self as v, entries};
use posture_provider_core::provider::{
    PlanRequest, PlanResponse, ProviderError, ReadRequest, ReadResult,
};
use posture_provider_core::value::{Type, Value};
use std::collections::BTreeMap;

/// Checks what can be checked without AWS.
pub fn validate(config: &Value) -> Vec<String> {
    // zone_id and name take no part in these checks: a record whose zone
    // is created in the same run (zone_id unknown) is still checked.
    let fields = ["type", "ttl", "records", "alias", "set_identifier"];
    if !fields.iter().all(|f| v::is_known(config, f)) {
        return Vec::new();
    }
    let mut cfg = entries(config);
    // The name does not matter for these checks; a placeholder keeps a
    // relative name from needing the zone.
    cfg.insert("name".into(), Value::from("check.invalid"));
    cfg.insert("zone_id".into(), Value::from("ZCHECKINVALID"));
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
pub(crate) fn record_of(value: &Value, zone_name: Option<&str>) -> Result<Record, String> {
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
    let mut prior_m = entries(prior);
    // Crash recovery reads the planned value with the operation's token.
    prior_m.remove(crate::RECOVERY_TOKEN);
    if p == remote {
        // Unchanged: the prior value is the answer, spelling and all, with
        // the computed parts as they are (a planned value may lack them).
        for k in ["id", "fqdn"] {
            if let Some(x) = out.get(k) {
                prior_m.insert(k.to_string(), x.clone());
            }
        }
        return Value::Object(prior_m);
    }
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
                ReadResult::Failed(ProviderError::new(
                    "the recorded state has no zone_id; remove it from state and import the record",
                )),
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
                    "the recorded state cannot be read ({msg})"
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
            let rec = Record::from_value(&config, &snap.zone_name).map_err(ProviderError::new)?;
            let problems = if arguments_known(&config) {
                rec.problems()
            } else {
                Vec::new()
            };
            if !problems.is_empty() {
                return Err(ProviderError::new(problems.join("; ")));
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
            "{} already exists in zone {}; allow_overwrite is set, so apply will overwrite it",
            rec.key, snap.zone_id
        ));
        return Ok(());
    }
    if arguments_known(config) && existing == rec {
        // Same values: most likely our own create whose state was lost
        // (a crash after the call); taking it over changes nothing.
        notes.push(format!(
            "{} already exists in zone {} with the same values; apply will adopt it",
            rec.key, snap.zone_id
        ));
        return Ok(());
    }
    Err(ProviderError::new(format!(
        "{} already exists in zone {}: import it (posture import {address} {}) or set allow_overwrite = true",
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

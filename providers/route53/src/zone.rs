//! `route53_zone`: read, plan, apply and import of hosted zones.
//!
//! Creation is idempotent: the CallerReference is the engine's
//! idempotency token, recorded before the call, and every attempt first
//! looks for a zone made with it and adopts that one. Deleting a zone that
//! holds records fails unless `force_destroy`.

use crate::Context;
use crate::batch::{AWS_LIMITS, Unit, pack};
use crate::changes::{submit, wait_in_sync};
use crate::error::{Error, Result};
use crate::names::{bare_zone_id, canonical_name, wire_name};
use crate::values::{self as v, entries, object, opt_str};
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::types::{
    Change, ChangeAction, HostedZone, HostedZoneConfig, Tag, TagResourceType, Vpc, VpcRegion,
};
use posture_provider_core::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, ProviderError, ReadRequest,
    ReadResult,
};
use posture_provider_core::value::{Type, Value};
use std::collections::BTreeMap;

/// Checks what can be checked without AWS.
pub fn validate(config: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = v::get_str(config, "name")
        && canonical_name(&n).is_empty()
    {
        out.push(format!("name {n:?} is not a domain name (example.com)"));
    }
    out
}

/// A VPC association.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ZoneVpc {
    pub(crate) id: String,
    pub(crate) region: Option<String>,
}

fn vpcs_of(value: &Value) -> Vec<ZoneVpc> {
    v::get(value, "vpc")
        .and_then(Value::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|b| {
                    Some(ZoneVpc {
                        id: v::get_str(b, "vpc_id")?,
                        region: v::get_str(b, "vpc_region"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn vpc_type() -> Type {
    crate::schema::zone()
        .blocks
        .get("vpc")
        .map(|b| b.block.ty())
        .unwrap_or(Type::Dynamic)
}

fn vpc_list(vpcs: &[ZoneVpc]) -> Value {
    Value::List(
        vpc_type(),
        vpcs.iter()
            .map(|x| {
                object(vec![
                    ("vpc_id", Value::from(x.id.as_str())),
                    ("vpc_region", opt_str(x.region.as_deref())),
                ])
            })
            .collect(),
    )
}

/// The zone as AWS has it.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) comment: String,
    pub(crate) private: bool,
    pub(crate) name_servers: Vec<String>,
    pub(crate) vpcs: Vec<ZoneVpc>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) record_count: Option<i64>,
}

pub(crate) async fn get_zone(ctx: &Context, id: &str) -> Result<Remote> {
    let api = &ctx.api;
    let out: GetHostedZoneOutput = api
        .call("GetHostedZone", || {
            api.client.get_hosted_zone().id(id).send()
        })
        .await?;
    let tags = api
        .call("ListTagsForResource", || {
            api.client
                .list_tags_for_resource()
                .resource_type(TagResourceType::Hostedzone)
                .resource_id(bare_zone_id(id))
                .send()
        })
        .await?;
    let hz: Option<&HostedZone> = out.hosted_zone();
    Ok(Remote {
        id: bare_zone_id(hz.map(|h| h.id()).unwrap_or(id)),
        name: canonical_name(hz.map(|h| h.name()).unwrap_or_default()),
        comment: hz
            .and_then(|h| h.config())
            .and_then(|c| c.comment())
            .unwrap_or_default()
            .to_string(),
        private: hz
            .and_then(|h| h.config())
            .map(|c| c.private_zone())
            .unwrap_or(false),
        name_servers: out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default(),
        vpcs: out
            .vpcs()
            .iter()
            .filter_map(|x| {
                Some(ZoneVpc {
                    id: x.vpc_id()?.to_string(),
                    region: x.vpc_region().map(|r| r.as_str().to_string()),
                })
            })
            .collect(),
        tags: tags
            .resource_tag_set()
            .map(|s| {
                s.tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_string(),
                            t.value().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        record_count: hz.and_then(|h| h.resource_record_set_count()),
    })
}

/// The state value of a remote zone, keeping the prior's spelling where it
/// means the same (name case, null against empty comment and tags, VPC
/// regions left to default).
fn state_of(remote: &Remote, prior: &Value) -> Value {
    let pm = entries(prior);
    let name = match v::get_str(prior, "name") {
        Some(n) if canonical_name(&n) == remote.name => Value::from(n),
        _ => Value::from(remote.name.as_str()),
    };
    let comment = match pm.get("comment") {
        Some(c) if c.is_null() && remote.comment.is_empty() => c.clone(),
        _ => Value::from(remote.comment.as_str()),
    };
    let tags = match pm.get("tags") {
        Some(t) if t.is_null() && remote.tags.is_empty() => t.clone(),
        _ => v::string_map(&remote.tags),
    };
    let prior_vpcs = vpcs_of(prior);
    let same_vpcs = {
        let mut a: Vec<&str> = prior_vpcs.iter().map(|x| x.id.as_str()).collect();
        let mut b: Vec<&str> = remote.vpcs.iter().map(|x| x.id.as_str()).collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
            && prior_vpcs.iter().all(|p| {
                p.region.is_none()
                    || remote
                        .vpcs
                        .iter()
                        .any(|r| r.id == p.id && r.region == p.region)
            })
    };
    let vpc = if same_vpcs {
        pm.get("vpc")
            .cloned()
            .unwrap_or_else(|| vpc_list(&remote.vpcs))
    } else {
        vpc_list(&remote.vpcs)
    };
    object(vec![
        ("id", Value::from(remote.id.as_str())),
        ("zone_id", Value::from(remote.id.as_str())),
        ("name", name),
        ("comment", comment),
        ("tags", tags),
        (
            "force_destroy",
            pm.get("force_destroy")
                .cloned()
                .unwrap_or(Value::Null(Type::Bool)),
        ),
        ("vpc", vpc),
        ("name_servers", v::string_list(remote.name_servers.clone())),
    ])
}

/// Reads one zone.
pub async fn read(ctx: &Context, r: &ReadRequest) -> ReadResult {
    let id = match (
        v::get_str(&r.prior, "id"),
        v::get_str(&r.prior, crate::RECOVERY_TOKEN),
        v::get_str(&r.prior, "name"),
    ) {
        (Some(id), _, _) => id,
        // An interrupted create: the zone, if made, carries the token as
        // its CallerReference.
        (None, Some(token), Some(name)) => {
            match find_by_caller_reference(ctx, &canonical_name(&name), &token).await {
                Ok(Some(id)) => id,
                Ok(None) => return ReadResult::Gone,
                Err(e) => return ReadResult::Failed(e.for_address(&r.address)),
            }
        }
        _ => {
            return ReadResult::Failed(ProviderError::new(
                "the recorded state has no id; remove it from state and import the zone",
            ));
        }
    };
    match get_zone(ctx, &id).await {
        Ok(remote) => ReadResult::Found(state_of(&remote, &r.prior)),
        Err(Error::Aws(e)) if e.is_not_found() => ReadResult::Gone,
        Err(e) => ReadResult::Failed(e.for_address(&r.address)),
    }
}

/// Plans one zone.
pub async fn plan(_ctx: &Context, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
    let (config, _) = r.config.clone().unmark_deep();
    let mut planned = entries(&config);
    let pm = entries(&r.prior);
    let mut requires_replace = Vec::new();
    let private = !vpcs_of(&config).is_empty();
    if r.prior.is_null() {
        planned.insert("id".into(), Value::Unknown(Type::String));
        planned.insert("zone_id".into(), Value::Unknown(Type::String));
        planned.insert(
            "name_servers".into(),
            if private && v::is_known(&config, "vpc") {
                v::string_list(Vec::new())
            } else {
                Value::Unknown(Type::List(Box::new(Type::String)))
            },
        );
    } else {
        for k in ["id", "zone_id", "name_servers"] {
            planned.insert(
                k.into(),
                pm.get(k).cloned().unwrap_or(Value::Unknown(Type::String)),
            );
        }
        if let (Some(c), Some(p)) = (v::get_str(&config, "name"), v::get_str(&r.prior, "name"))
            && canonical_name(&c) == canonical_name(&p)
        {
            planned.insert("name".into(), Value::from(p));
        }
        // Null and empty mean the same for comment and tags.
        if v::get_str(&config, "comment").unwrap_or_default()
            == v::get_str(&r.prior, "comment").unwrap_or_default()
            && let Some(p) = pm.get("comment")
        {
            planned.insert("comment".into(), p.clone());
        }
        if v::is_known(&config, "tags")
            && v::get_string_map(&config, "tags") == v::get_string_map(&r.prior, "tags")
            && let Some(p) = pm.get("tags")
        {
            planned.insert("tags".into(), p.clone());
        }
        let was_private = !vpcs_of(&r.prior).is_empty();
        if v::is_known(&config, "vpc") && was_private != private {
            requires_replace.push("vpc".to_string());
        }
    }
    Ok(PlanResponse {
        planned: Value::Object(planned),
        requires_replace,
        notes: Vec::new(),
    })
}

/// Applies one zone change.
pub async fn apply(ctx: &Context, r: &ApplyRequest) -> ApplyResult {
    let res = match r.operation {
        Operation::Create => create(ctx, r).await,
        Operation::Update => match v::get_str(&r.prior, "id") {
            Some(id) => converge(ctx, &id, &r.planned, &r.prior, None).await,
            None => Err(Error::Invalid("the recorded state has no id".into())),
        },
        Operation::Delete => delete(ctx, r).await.map(|()| Value::NULL),
    };
    match res {
        Ok(v) => ApplyResult::Applied(v),
        Err(e) => ApplyResult::Failed(e.for_address(&r.address)),
    }
}

/// A zone made with this CallerReference, if any.
async fn find_by_caller_reference(
    ctx: &Context,
    name: &str,
    caller_ref: &str,
) -> Result<Option<String>> {
    let api = &ctx.api;
    let mut start: Option<(String, Option<String>)> = Some((wire_name(name), None));
    while let Some((dns, zid)) = start.take() {
        let out = api
            .call("ListHostedZonesByName", || {
                api.client
                    .list_hosted_zones_by_name()
                    .dns_name(&dns)
                    .set_hosted_zone_id(zid.clone())
                    .send()
            })
            .await?;
        let mut past = false;
        for hz in out.hosted_zones() {
            if canonical_name(hz.name()) != name {
                past = true;
                continue;
            }
            if hz.caller_reference() == caller_ref {
                return Ok(Some(bare_zone_id(hz.id())));
            }
        }
        if out.is_truncated() && !past {
            start = out
                .next_dns_name()
                .map(|d| (d.to_string(), out.next_hosted_zone_id().map(str::to_string)));
        }
    }
    Ok(None)
}

async fn create(ctx: &Context, r: &ApplyRequest) -> Result<Value> {
    let api = &ctx.api;
    let name = v::get_str(&r.planned, "name")
        .map(|n| canonical_name(&n))
        .ok_or_else(|| Error::Invalid("name is not known at apply time".into()))?;
    let token = r.idempotency_token.as_str();
    if token.is_empty() || token.len() > 128 {
        return Err(Error::Invalid(format!(
            "the idempotency token must be 1 to 128 characters to serve as CallerReference (got {})",
            token.len()
        )));
    }
    let vpcs = vpcs_of(&r.planned);
    let mut attempt = 0;
    let (id, known) = loop {
        attempt += 1;
        // Look first: an earlier attempt (this run's, or a crashed run's)
        // may have made the zone even though its answer never arrived.
        if let Some(id) = find_by_caller_reference(ctx, &name, token).await? {
            break (id, None);
        }
        let mut req = api
            .client
            .create_hosted_zone()
            .name(wire_name(&name))
            .caller_reference(token)
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .set_comment(v::get_str(&r.planned, "comment"))
                    .private_zone(!vpcs.is_empty())
                    .build(),
            );
        if let Some(first) = vpcs.first() {
            req = req.vpc(to_vpc(first, ctx));
        }
        match api.call_once("CreateHostedZone", req.send()).await {
            Ok(out) => {
                let id = bare_zone_id(out.hosted_zone().map(|h| h.id()).unwrap_or_default());
                if ctx.wait_for_sync
                    && let Some(c) = out.change_info()
                {
                    wait_in_sync(api, &crate::names::bare_change_id(c.id())).await?;
                }
                // What was just made is known: no need to read it back.
                let made = Remote {
                    id: id.clone(),
                    name: name.clone(),
                    comment: v::get_str(&r.planned, "comment").unwrap_or_default(),
                    private: !vpcs.is_empty(),
                    name_servers: out
                        .delegation_set()
                        .map(|d| d.name_servers().to_vec())
                        .unwrap_or_default(),
                    vpcs: vpcs
                        .first()
                        .map(|x| filled_region(x, ctx))
                        .into_iter()
                        .collect(),
                    tags: BTreeMap::new(),
                    record_count: out
                        .hosted_zone()
                        .and_then(|h| h.resource_record_set_count()),
                };
                break (id, Some(made));
            }
            // The CallerReference was used: the zone exists; look again.
            Err(e) if e.code == "HostedZoneAlreadyExists" && attempt < api.timing.max_attempts => {}
            Err(mut e) => match api.retry_after("CreateHostedZone", attempt, &mut e) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(e.into()),
            },
        }
    };
    converge(ctx, &id, &r.planned, &Value::NULL, known).await
}

/// The VPC with its region defaulted to the provider's.
fn filled_region(x: &ZoneVpc, ctx: &Context) -> ZoneVpc {
    ZoneVpc {
        id: x.id.clone(),
        region: x
            .region
            .clone()
            .or_else(|| ctx.api.client.config().region().map(|r| r.to_string())),
    }
}

fn to_vpc(x: &ZoneVpc, ctx: &Context) -> Vpc {
    let x = filled_region(x, ctx);
    Vpc::builder()
        .vpc_id(&x.id)
        .set_vpc_region(x.region.as_deref().map(VpcRegion::from))
        .build()
}

/// Brings comment, tags and VPCs of zone `id` to `planned` and returns the
/// resulting state. `known` is the zone as just created (else it is read).
async fn converge(
    ctx: &Context,
    id: &str,
    planned: &Value,
    prior: &Value,
    known: Option<Remote>,
) -> Result<Value> {
    let api = &ctx.api;
    let remote = match known {
        Some(r) => r,
        None => get_zone(ctx, id).await?,
    };
    let want_comment = v::get_str(planned, "comment").unwrap_or_default();
    if want_comment != remote.comment {
        api.call("UpdateHostedZoneComment", || {
            api.client
                .update_hosted_zone_comment()
                .id(id)
                .comment(&want_comment)
                .send()
        })
        .await?;
    }
    let want_tags = v::get_string_map(planned, "tags");
    if want_tags != remote.tags {
        let add: Vec<Tag> = want_tags
            .iter()
            .filter(|(k, val)| remote.tags.get(*k) != Some(*val))
            .map(|(k, val)| Tag::builder().key(k).value(val).build())
            .collect();
        let remove: Vec<String> = remote
            .tags
            .keys()
            .filter(|k| !want_tags.contains_key(*k))
            .cloned()
            .collect();
        api.call("ChangeTagsForResource", || {
            api.client
                .change_tags_for_resource()
                .resource_type(TagResourceType::Hostedzone)
                .resource_id(id)
                .set_add_tags((!add.is_empty()).then(|| add.clone()))
                .set_remove_tag_keys((!remove.is_empty()).then(|| remove.clone()))
                .send()
        })
        .await?;
    }
    let want_vpcs = vpcs_of(planned);
    if remote.private {
        // Associate first: a private zone must keep at least one VPC.
        for x in want_vpcs
            .iter()
            .filter(|w| !remote.vpcs.iter().any(|r| r.id == w.id))
        {
            let vpc = to_vpc(x, ctx);
            api.call("AssociateVPCWithHostedZone", || {
                api.client
                    .associate_vpc_with_hosted_zone()
                    .hosted_zone_id(id)
                    .vpc(vpc.clone())
                    .send()
            })
            .await?;
        }
        for x in remote
            .vpcs
            .iter()
            .filter(|r| !want_vpcs.iter().any(|w| w.id == r.id))
        {
            let vpc = to_vpc(x, ctx);
            api.call("DisassociateVPCFromHostedZone", || {
                api.client
                    .disassociate_vpc_from_hosted_zone()
                    .hosted_zone_id(id)
                    .vpc(vpc.clone())
                    .send()
            })
            .await?;
        }
    }
    // The calls above succeeded, so the zone is now what was asked for.
    let after = Remote {
        comment: want_comment,
        tags: want_tags,
        vpcs: if remote.private {
            want_vpcs.iter().map(|x| filled_region(x, ctx)).collect()
        } else {
            remote.vpcs.clone()
        },
        ..remote
    };
    // Keep the configuration's spelling for what it set.
    let basis = if prior.is_null() { planned } else { prior };
    let mut state = entries(&state_of(&after, basis));
    for k in ["name", "comment", "tags", "vpc", "force_destroy"] {
        if let Some(p) = entries(planned).get(k)
            && p.is_wholly_known()
        {
            state.insert(k.into(), p.clone());
        }
    }
    Ok(Value::Object(state))
}

async fn delete(ctx: &Context, r: &ApplyRequest) -> Result<()> {
    let api = &ctx.api;
    let Some(id) = v::get_str(&r.prior, "id") else {
        return Err(Error::Invalid("the recorded state has no id".into()));
    };
    let snap = match ctx.snapshots.get(api, &id, true).await {
        Ok(s) => s,
        Err(Error::Aws(e)) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let held: Vec<_> = snap
        .records
        .values()
        .filter(|rec| !rec.key.is_apex_default(&snap.zone_name))
        .collect();
    if !held.is_empty() {
        if v::get_bool(&r.prior, "force_destroy") != Some(true) {
            let names: Vec<String> = held.iter().take(3).map(|r| r.key.to_string()).collect();
            return Err(Error::Invalid(format!(
                "zone {} ({id}) holds {} record sets besides its SOA and NS ({}{}); delete them first or set force_destroy = true",
                snap.zone_name,
                held.len(),
                names.join(", "),
                if held.len() > 3 { ", ..." } else { "" }
            )));
        }
        let mut units = Vec::new();
        for rec in held {
            let rrset = rec.to_rrset().map_err(Error::Invalid)?;
            let change = Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(rrset)
                .build()
                .map_err(|e| Error::Invalid(e.to_string()))?;
            units.push(Unit {
                tag: (),
                changes: vec![change],
            });
        }
        let (batches, too_big) = pack(units, AWS_LIMITS);
        if !too_big.is_empty() {
            return Err(Error::Invalid(format!(
                "zone {id} holds a record set too large to delete in one batch"
            )));
        }
        for b in batches {
            let change_id = submit(api, &id, b.into_iter().flat_map(|u| u.changes).collect())
                .await
                .map_err(|e| e.error)?;
            if ctx.wait_for_sync {
                wait_in_sync(api, &change_id).await?;
            }
        }
    }
    ctx.snapshots.invalidate(&id).await;
    match api
        .call("DeleteHostedZone", || {
            api.client.delete_hosted_zone().id(&id).send()
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Imports a zone by id.
pub async fn import(ctx: &Context, id: &str) -> Result<Value, ProviderError> {
    let remote = get_zone(ctx, id)
        .await
        .map_err(|e| e.for_address(&format!("import route53_zone {id}")))?;
    Ok(state_of(&remote, &Value::NULL))
}

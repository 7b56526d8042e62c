//! The `route53_zone` data source: a hosted zone found by id, or by name
//! and privacy (and, for private zones, an associated VPC).

use crate::Context;
use crate::error::{Error, Result};
use crate::names::{bare_zone_id, canonical_name, wire_name};
use crate::values::{self as v, object};
use crate::zone::get_zone;
use posture_provider_core::provider::ProviderError;
use posture_provider_core::value::{Type, Value};

/// The data source: a zone by id, or by name and privacy (and VPC).
pub async fn read_data(ctx: &Context, config: Value) -> Result<Value, ProviderError> {
    let (config, _) = config.unmark_deep();
    let addr = "data.route53_zone";
    let private = v::get_bool(&config, "private_zone").unwrap_or(false);
    let id = match (v::get_str(&config, "zone_id"), v::get_str(&config, "name")) {
        (Some(id), _) => bare_zone_id(&id),
        (None, Some(name)) => find_by_name(
            ctx,
            &canonical_name(&name),
            private,
            v::get_str(&config, "vpc_id").as_deref(),
        )
        .await
        .map_err(|e| e.for_address(addr))?,
        (None, None) => {
            return Err(ProviderError::new("set name or zone_id".to_string()));
        }
    };
    let remote = get_zone(ctx, &id).await.map_err(|e| e.for_address(addr))?;
    Ok(object(vec![
        ("id", Value::from(remote.id.as_str())),
        ("zone_id", Value::from(remote.id.as_str())),
        ("name", Value::from(remote.name.as_str())),
        ("private_zone", Value::Bool(remote.private)),
        (
            "vpc_id",
            v::get(&config, "vpc_id")
                .cloned()
                .unwrap_or(Value::Null(Type::String)),
        ),
        ("comment", Value::from(remote.comment.as_str())),
        ("name_servers", v::string_list(remote.name_servers.clone())),
        ("resource_record_set_count", v::opt_i64(remote.record_count)),
        ("tags", v::string_map(&remote.tags)),
    ]))
}

async fn find_by_name(
    ctx: &Context,
    name: &str,
    private: bool,
    vpc_id: Option<&str>,
) -> Result<String> {
    let api = &ctx.api;
    let mut found = Vec::new();
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
            if hz.config().map(|c| c.private_zone()).unwrap_or(false) == private {
                found.push(bare_zone_id(hz.id()));
            }
        }
        if out.is_truncated() && !past {
            start = out
                .next_dns_name()
                .map(|d| (d.to_string(), out.next_hosted_zone_id().map(str::to_string)));
        }
    }
    if let Some(vpc) = vpc_id {
        let mut with_vpc = Vec::new();
        for id in found {
            if get_zone(ctx, &id).await?.vpcs.iter().any(|x| x.id == vpc) {
                with_vpc.push(id);
            }
        }
        found = with_vpc;
    }
    let kind = if private { "private" } else { "public" };
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Invalid(format!(
            "no {kind} hosted zone named {name}{}; check the name and private_zone",
            vpc_id
                .map(|v| format!(" associated with {v}"))
                .unwrap_or_default()
        ))),
        n => Err(Error::Invalid(format!(
            "{n} {kind} hosted zones are named {name} ({}); give zone_id instead",
            found.join(", ")
        ))),
    }
}

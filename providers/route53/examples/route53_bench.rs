//! Provider-level benchmark against moto behind the fault proxy: N records
//! across Z zones (default 10,000 across 5), created, then refreshed and
//! planned with no change, at Route53's real rate of 5 requests per second.
//! Prints calls per operation and wall time for each phase.
//!
//! ```text
//! cargo run --release -p posture-provider-route53 --features testing --example route53_bench -- 10000 5
//! ```
//! Needs moto (scripts/install-moto.sh). The engine-driven benchmark of
//! issue R1 replaces this once the engine's apply exists.

use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, Provider, ReadRequest, ReadResult,
};
use posture_engine::value::{Type, Value};
use posture_provider_route53::testing::{FaultProxy, MotoServer};
use posture_provider_route53::values::{object, string_set};
use posture_provider_route53::{RECORD, Route53Provider, ZONE};
use std::time::Instant;

fn settings(endpoint: &str) -> Value {
    object(vec![
        ("endpoint", Value::from(endpoint)),
        ("access_key", Value::from("testing").mark_sensitive()),
        ("secret_key", Value::from("testing").mark_sensitive()),
        ("max_requests_per_second", Value::from(5)),
    ])
}

fn record(zone_id: &str, i: usize) -> Value {
    let mut m = posture_provider_route53::values::entries(&object(vec![
        ("zone_id", Value::from(zone_id)),
        ("name", Value::from(format!("host-{i:05}"))),
        ("type", Value::from("A")),
        ("ttl", Value::from(300)),
        (
            "records",
            string_set([format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)]),
        ),
    ]));
    let schema = posture_provider_route53::schema::record();
    for (k, a) in &schema.attributes {
        m.entry(k.clone())
            .or_insert_with(|| Value::Null(a.ty.clone()));
    }
    for (k, b) in &schema.blocks {
        m.entry(k.clone())
            .or_insert_with(|| Value::Null(b.block.ty()));
    }
    m.insert("id".into(), Value::Unknown(Type::String));
    m.insert("fqdn".into(), Value::Unknown(Type::String));
    Value::Object(m)
}

async fn provider(endpoint: &str) -> Result<Route53Provider, String> {
    let p = Route53Provider::new();
    p.configure(settings(endpoint))
        .await
        .map_err(|e| e.message)?;
    Ok(p)
}

fn report(phase: &str, proxy: &FaultProxy, started: Instant) {
    let counts: Vec<String> = proxy
        .counts()
        .iter()
        .map(|(op, c)| format!("{op}={}", c.received))
        .collect();
    println!(
        "{phase}: {} calls ({}) in {:.1} s",
        proxy.total(),
        counts.join(", "),
        started.elapsed().as_secs_f64()
    );
    proxy.reset_counts();
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let zones: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let moto = MotoServer::start().await.map_err(|e| e.to_string())?;
    let proxy = FaultProxy::start(moto.addr())
        .await
        .map_err(|e| e.to_string())?;

    // Zones.
    let started = Instant::now();
    let p = provider(&proxy.endpoint()).await?;
    let mut zone_ids = Vec::new();
    for z in 0..zones {
        let config = object(vec![
            ("name", Value::from(format!("bench{z}.example"))),
            ("comment", Value::Null(Type::String)),
            ("tags", Value::Null(Type::Map(Box::new(Type::String)))),
            ("force_destroy", Value::Bool(true)),
            ("vpc", Value::List(Type::Dynamic, vec![])),
        ]);
        let planned = p
            .plan(PlanRequest {
                address: format!("route53_zone.z[{z}]"),
                type_name: ZONE.into(),
                prior: Value::NULL,
                config,
            })
            .await
            .map_err(|e| e.message)?
            .planned;
        let res = p
            .apply(vec![ApplyRequest {
                address: format!("route53_zone.z[{z}]"),
                type_name: ZONE.into(),
                operation: Operation::Create,
                prior: Value::NULL,
                planned,
                idempotency_token: format!("bench-zone-{z}"),
            }])
            .await;
        match res.into_iter().next() {
            Some(ApplyResult::Applied(v)) => zone_ids
                .push(posture_provider_route53::values::get_str(&v, "id").unwrap_or_default()),
            other => return Err(format!("zone {z}: {other:?}")),
        }
    }
    report(&format!("create {zones} zones"), &proxy, started);

    // Records: plan each, apply per zone in one call (as the engine does).
    let started = Instant::now();
    let p = provider(&proxy.endpoint()).await?;
    let mut states: Vec<Vec<(String, Value)>> = Vec::new();
    for (z, zid) in zone_ids.iter().enumerate() {
        let mut reqs = Vec::new();
        for i in (z..n).step_by(zones) {
            let address = format!("route53_record.r[{i}]");
            let planned = p
                .plan(PlanRequest {
                    address: address.clone(),
                    type_name: RECORD.into(),
                    prior: Value::NULL,
                    config: record(zid, i),
                })
                .await
                .map_err(|e| e.message)?
                .planned;
            reqs.push(ApplyRequest {
                address,
                type_name: RECORD.into(),
                operation: Operation::Create,
                prior: Value::NULL,
                planned,
                idempotency_token: format!("bench-{i}"),
            });
        }
        let addrs: Vec<String> = reqs.iter().map(|r| r.address.clone()).collect();
        let mut zone_states = Vec::new();
        for (a, r) in addrs.into_iter().zip(p.apply(reqs).await) {
            match r {
                ApplyResult::Applied(v) => zone_states.push((a, v)),
                ApplyResult::Failed(e) | ApplyResult::Tainted { error: e, .. } => {
                    return Err(e.message);
                }
                ApplyResult::NotStarted | ApplyResult::Abandoned => {
                    return Err("not applied".into());
                }
            }
        }
        states.push(zone_states);
    }
    report(&format!("create {n} records"), &proxy, started);

    // A new run: refresh every record (one read call per zone), plan each.
    let started = Instant::now();
    let p = provider(&proxy.endpoint()).await?;
    let mut changes = 0;
    for (z, zone_states) in states.iter().enumerate() {
        let reads = p
            .read(
                zone_states
                    .iter()
                    .map(|(a, v)| ReadRequest {
                        address: a.clone(),
                        type_name: RECORD.into(),
                        prior: v.clone(),
                    })
                    .collect(),
            )
            .await;
        for ((a, prior), r) in zone_states.iter().zip(reads) {
            let ReadResult::Found(now) = r else {
                return Err(format!("{a}: {r:?}"));
            };
            let i: usize = a
                .trim_start_matches("route53_record.r[")
                .trim_end_matches(']')
                .parse()
                .map_err(|_| a.clone())?;
            let planned = p
                .plan(PlanRequest {
                    address: a.clone(),
                    type_name: RECORD.into(),
                    prior: now.clone(),
                    config: record(&zone_ids[z], i),
                })
                .await
                .map_err(|e| e.message)?
                .planned;
            if !posture_engine::value::raw_equal(&planned, prior) {
                changes += 1;
            }
        }
    }
    report(
        &format!("no-op plan of {n} records ({changes} changes)"),
        &proxy,
        started,
    );
    Ok(())
}

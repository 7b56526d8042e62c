//! The harness: a moto server, a fault proxy in front of it, and a
//! provider configured against the proxy with test credentials (set on
//! the provider's settings, never in the process environment).

use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, PlanRequest, PlanResponse, Provider, ReadRequest,
    ReadResult,
};
use posture_engine::value::{Type, Value, raw_equal};
use posture_provider_route53::testing::{FaultProxy, MotoServer, fast_timing};
use posture_provider_route53::values::{object, string_set};
use posture_provider_route53::{RECORD, Route53Provider, ZONE};
use std::sync::atomic::{AtomicU64, Ordering};

/// moto, the proxy and a configured provider.
pub struct Harness {
    pub moto: MotoServer,
    pub proxy: FaultProxy,
    pub provider: Route53Provider,
}

static TOKENS: AtomicU64 = AtomicU64::new(1);

/// A fresh idempotency token, as the engine records one before a create.
pub fn token() -> String {
    format!(
        "posture-test-{}-{}",
        std::process::id(),
        TOKENS.fetch_add(1, Ordering::Relaxed)
    )
}

impl Harness {
    /// Starts everything; panics (fails the test) with the install hint
    /// when moto is missing.
    pub async fn start() -> Harness {
        Harness::start_with_rate(100).await
    }

    /// Same, with another client-side request rate.
    pub async fn start_with_rate(rate: i64) -> Harness {
        let moto = match MotoServer::start().await {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        moto.reset().await.expect("reset moto");
        let proxy = FaultProxy::start(moto.addr()).await.expect("start proxy");
        let provider = Route53Provider::with_timing(fast_timing());
        provider
            .configure(settings(&proxy.endpoint(), rate))
            .await
            .expect("configure");
        Harness {
            moto,
            proxy,
            provider,
        }
    }

    /// A second provider on the same endpoint: a new run (fresh caches).
    pub async fn new_run(&self) -> Route53Provider {
        let p = Route53Provider::with_timing(fast_timing());
        p.configure(settings(&self.proxy.endpoint(), 100))
            .await
            .expect("configure");
        p
    }

    /// A provider talking to moto directly, for changes made "out of band".
    pub async fn out_of_band(&self) -> Route53Provider {
        let p = Route53Provider::with_timing(fast_timing());
        p.configure(settings(&self.moto.endpoint(), 1000))
            .await
            .expect("configure");
        p
    }
}

/// Provider settings for tests.
pub fn settings(endpoint: &str, rate: i64) -> Value {
    object(vec![
        ("endpoint", Value::from(endpoint)),
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing").mark_sensitive()),
        ("secret_key", Value::from("testing").mark_sensitive()),
        ("max_requests_per_second", Value::from(rate)),
    ])
}

/// A zone configuration.
pub fn zone_config(name: &str) -> Value {
    object(vec![
        ("name", Value::from(name)),
        ("comment", Value::Null(Type::String)),
        ("tags", Value::Null(Type::Map(Box::new(Type::String)))),
        ("force_destroy", Value::Null(Type::Bool)),
        ("vpc", Value::List(Type::Dynamic, vec![])),
    ])
}

/// A simple record configuration (all attributes, as the engine decodes them).
pub fn record_config(zone_id: &str, name: &str, rtype: &str, ttl: i64, records: &[&str]) -> Value {
    let mut m = posture_provider_route53::values::entries(&object(vec![
        ("zone_id", Value::from(zone_id)),
        ("name", Value::from(name)),
        ("type", Value::from(rtype)),
        ("ttl", Value::from(ttl)),
        ("records", string_set(records.iter().map(|s| s.to_string()))),
    ]));
    for k in ["set_identifier", "health_check_id"] {
        m.insert(k.into(), Value::Null(Type::String));
    }
    for k in ["multivalue_answer_routing_policy", "allow_overwrite"] {
        m.insert(k.into(), Value::Null(Type::Bool));
    }
    for k in [
        "alias",
        "weighted_routing_policy",
        "latency_routing_policy",
        "failover_routing_policy",
        "geolocation_routing_policy",
    ] {
        let ty = posture_provider_route53::schema::record().blocks[k]
            .block
            .ty();
        m.insert(k.into(), Value::Null(ty));
    }
    m.insert("id".into(), Value::Unknown(Type::String));
    m.insert("fqdn".into(), Value::Unknown(Type::String));
    Value::Object(m)
}

/// Sets one attribute of an object value.
pub fn with(v: &Value, key: &str, x: Value) -> Value {
    let mut m = posture_provider_route53::values::entries(v);
    m.insert(key.into(), x);
    Value::Object(m)
}

/// One attribute as a string.
pub fn attr(v: &Value, key: &str) -> String {
    posture_provider_route53::values::get_str(v, key).unwrap_or_else(|| panic!("{key} in {v:?}"))
}

/// Plans one instance.
pub async fn plan(
    p: &dyn Provider,
    address: &str,
    type_name: &str,
    prior: &Value,
    config: &Value,
) -> Result<PlanResponse, String> {
    p.plan(PlanRequest {
        address: address.into(),
        type_name: type_name.into(),
        prior: prior.clone(),
        config: config.clone(),
    })
    .await
    .map_err(|e| e.message)
}

/// What the engine would do with a plan: nothing, create, update.
pub fn operation_for(prior: &Value, planned: &Value) -> Option<Operation> {
    if prior.is_null() {
        Some(Operation::Create)
    } else if raw_equal(prior, planned) {
        None
    } else {
        Some(Operation::Update)
    }
}

/// Plans many instances of one type and applies the changes in ONE apply
/// call, as the engine does for one batch key. Returns the new states
/// (the prior for no-ops) and how many changes were applied.
pub async fn converge(
    p: &dyn Provider,
    type_name: &str,
    items: Vec<(String, Value, Value)>,
) -> Result<Vec<Value>, String> {
    let mut out: Vec<Option<Value>> = vec![None; items.len()];
    let mut reqs = Vec::new();
    let mut idx = Vec::new();
    for (i, (addr, prior, config)) in items.iter().enumerate() {
        let planned = plan(p, addr, type_name, prior, config).await?.planned;
        match operation_for(prior, &planned) {
            None => out[i] = Some(prior.clone()),
            Some(op) => {
                idx.push(i);
                reqs.push(ApplyRequest {
                    address: addr.clone(),
                    type_name: type_name.into(),
                    operation: op,
                    prior: prior.clone(),
                    planned,
                    idempotency_token: token(),
                });
            }
        }
    }
    if !reqs.is_empty() {
        let results = p.apply(reqs).await;
        for (i, r) in idx.into_iter().zip(results) {
            match r {
                ApplyResult::Applied(v) => out[i] = Some(v),
                ApplyResult::Failed(e) | ApplyResult::Tainted { error: e, .. } => {
                    return Err(e.message);
                }
                ApplyResult::NotStarted | ApplyResult::Abandoned => {
                    return Err("not applied".into());
                }
            }
        }
    }
    Ok(out.into_iter().map(|v| v.unwrap_or(Value::NULL)).collect())
}

/// Creates a zone and returns its state.
pub async fn create_zone(p: &dyn Provider, name: &str) -> Value {
    let mut s = converge(
        p,
        ZONE,
        vec![("route53_zone.z".into(), Value::NULL, zone_config(name))],
    )
    .await
    .expect("create zone");
    s.remove(0)
}

/// Reads record states (one call, as the engine does per zone).
pub async fn read_records(p: &dyn Provider, states: &[(String, Value)]) -> Vec<ReadResult> {
    p.read(
        states
            .iter()
            .map(|(a, v)| ReadRequest {
                address: a.clone(),
                type_name: RECORD.into(),
                prior: v.clone(),
            })
            .collect(),
    )
    .await
}

/// Deletes instances in one apply call.
pub async fn delete(
    p: &dyn Provider,
    type_name: &str,
    states: &[(String, Value)],
) -> Vec<ApplyResult> {
    p.apply(
        states
            .iter()
            .map(|(a, v)| ApplyRequest {
                address: a.clone(),
                type_name: type_name.into(),
                operation: Operation::Delete,
                prior: v.clone(),
                planned: Value::NULL,
                idempotency_token: token(),
            })
            .collect(),
    )
    .await
}

/// The records of a zone as moto has them: (name, type, set id) -> values,
/// read through a fresh provider run (import of each would be per record).
pub async fn zone_contents(
    h: &Harness,
    zone_id: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let p = h.out_of_band().await;
    posture_provider_route53::testing::scan_zone(&p, zone_id)
        .await
        .expect("scan")
}

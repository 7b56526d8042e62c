//! `route53_zone` lifecycle, idempotent creation, force_destroy, and the
//! `route53_zone` data source.

use super::support::*;
use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, Provider, ReadRequest, ReadResult,
};
use posture_engine::value::{Type, Value};
use posture_provider_route53::testing::Fault;
use posture_provider_route53::values::{self as v, object, string_map};
use posture_provider_route53::{RECORD, ZONE};
use std::collections::BTreeMap;

async fn read_zone(p: &dyn Provider, state: &Value) -> ReadResult {
    p.read(vec![ReadRequest {
        address: "route53_zone.z".into(),
        type_name: ZONE.into(),
        prior: state.clone(),
    }])
    .await
    .remove(0)
}

async fn zones_named(p: &dyn Provider, name: &str) -> Result<Value, String> {
    p.read_data(ZONE, object(vec![("name", Value::from(name))]))
        .await
        .map_err(|e| e.message)
}

#[tokio::test]
async fn zones_are_created_left_alone_updated_and_deleted() {
    let h = Harness::start().await;
    let tags = BTreeMap::from([("team".to_string(), "dns".to_string())]);
    let config = with(
        &zone_config("Corp.Example."),
        "comment",
        Value::from("first"),
    );
    let config = with(&config, "tags", string_map(&tags));
    let state = converge(
        &h.provider,
        ZONE,
        vec![("route53_zone.z".into(), Value::NULL, config.clone())],
    )
    .await
    .expect("create")
    .remove(0);
    let id = attr(&state, "id");
    assert_eq!(
        attr(&state, "name"),
        "Corp.Example.",
        "the configured spelling is kept"
    );
    assert!(
        !v::get_strings(&state, "name_servers").is_empty(),
        "{state:?}"
    );

    let run = h.new_run().await;
    let ReadResult::Found(now) = read_zone(&run, &state).await else {
        panic!("not found")
    };
    assert_eq!(now, state);
    let p = plan(&run, "route53_zone.z", ZONE, &now, &config)
        .await
        .expect("plan");
    assert_eq!(operation_for(&now, &p.planned), None, "{:?}", p.planned);

    let tags2 = BTreeMap::from([("owner".to_string(), "platform".to_string())]);
    let config2 = with(
        &with(&config, "comment", Value::from("second")),
        "tags",
        string_map(&tags2),
    );
    let updated = converge(
        &run,
        ZONE,
        vec![("route53_zone.z".into(), now.clone(), config2.clone())],
    )
    .await
    .expect("update")
    .remove(0);
    assert_eq!(attr(&updated, "id"), id);
    let ReadResult::Found(after) = read_zone(&h.new_run().await, &updated).await else {
        panic!("gone")
    };
    assert_eq!(v::get_str(&after, "comment").as_deref(), Some("second"));
    assert_eq!(v::get_string_map(&after, "tags"), tags2);

    let res = delete(&run, ZONE, &[("route53_zone.z".into(), after.clone())]).await;
    assert_eq!(res, vec![ApplyResult::Applied(Value::NULL)]);
    assert_eq!(
        read_zone(&h.new_run().await, &after).await,
        ReadResult::Gone
    );
}

#[tokio::test]
async fn a_lost_create_response_or_a_rerun_never_makes_a_second_zone() {
    let h = Harness::start().await;
    // The first CreateHostedZone reaches moto but its answer is lost.
    h.proxy.inject("CreateHostedZone", Fault::LostResponse, 1);
    let token = token();
    let req = ApplyRequest {
        address: "route53_zone.z".into(),
        type_name: ZONE.into(),
        operation: Operation::Create,
        prior: Value::NULL,
        planned: plan(
            &h.provider,
            "route53_zone.z",
            ZONE,
            &Value::NULL,
            &zone_config("once.example"),
        )
        .await
        .expect("plan")
        .planned,
        idempotency_token: token.clone(),
    };
    let first = h.provider.apply(vec![req.clone()]).await.remove(0);
    let ApplyResult::Applied(first) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        h.proxy.count("CreateHostedZone").received,
        1,
        "adopted, not created twice"
    );
    // A crashed run applies the same create again with the recorded token.
    let again = h.new_run().await.apply(vec![req]).await.remove(0);
    let ApplyResult::Applied(again) = again else {
        panic!("{again:?}")
    };
    assert_eq!(attr(&again, "id"), attr(&first, "id"));
    assert_eq!(h.proxy.count("CreateHostedZone").received, 1);
    let found = zones_named(&h.provider, "once.example")
        .await
        .expect("exactly one zone");
    assert_eq!(attr(&found, "id"), attr(&first, "id"));
}

#[tokio::test]
async fn a_zone_holding_records_is_destroyed_only_with_force_destroy() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "full.example").await;
    let zid = attr(&zone, "id");
    converge(
        &h.provider,
        RECORD,
        (0..3)
            .map(|i| {
                (
                    format!("route53_record.r[{i}]"),
                    Value::NULL,
                    record_config(&zid, &format!("h{i}"), "A", 60, &["192.0.2.1"]),
                )
            })
            .collect(),
    )
    .await
    .expect("records");
    let res = delete(
        &h.provider,
        ZONE,
        &[("route53_zone.z".into(), zone.clone())],
    )
    .await;
    let ApplyResult::Failed(e) = &res[0] else {
        panic!("{res:?}")
    };
    // The engine prefixes the address; the provider does not repeat it.
    assert!(!e.message.contains("route53_zone.z"), "{}", e.message);
    assert!(
        e.message.contains("holds 3 record sets") && e.message.contains("force_destroy = true"),
        "{}",
        e.message
    );
    assert!(
        zones_named(&h.provider, "full.example").await.is_ok(),
        "the zone must still exist"
    );

    let forced = with(&zone, "force_destroy", Value::Bool(true));
    let res = delete(&h.provider, ZONE, &[("route53_zone.z".into(), forced)]).await;
    assert_eq!(res, vec![ApplyResult::Applied(Value::NULL)]);
    let err = zones_named(&h.provider, "full.example")
        .await
        .expect_err("gone");
    assert!(
        err.contains("no public hosted zone named full.example"),
        "{err}"
    );
}

#[tokio::test]
async fn the_data_source_finds_public_and_private_zones_by_name() {
    let h = Harness::start().await;
    let public = create_zone(&h.provider, "shared.example").await;
    let vpc = Value::List(
        Type::Dynamic,
        vec![object(vec![
            ("vpc_id", Value::from("vpc-12345678")),
            ("vpc_region", Value::from("us-east-1")),
        ])],
    );
    let private = converge(
        &h.provider,
        ZONE,
        vec![(
            "route53_zone.p".into(),
            Value::NULL,
            with(&zone_config("shared.example"), "vpc", vpc),
        )],
    )
    .await
    .expect("private zone")
    .remove(0);
    assert_ne!(attr(&public, "id"), attr(&private, "id"));

    let found = zones_named(&h.provider, "shared.example.")
        .await
        .expect("public");
    assert_eq!(attr(&found, "id"), attr(&public, "id"));
    assert_eq!(v::get_bool(&found, "private_zone"), Some(false));
    let found = h
        .provider
        .read_data(
            ZONE,
            object(vec![
                ("name", Value::from("SHARED.example")),
                ("private_zone", Value::Bool(true)),
            ]),
        )
        .await
        .expect("private");
    assert_eq!(attr(&found, "id"), attr(&private, "id"));
    let by_id = h
        .provider
        .read_data(
            ZONE,
            object(vec![("zone_id", Value::from(attr(&public, "id")))]),
        )
        .await
        .expect("by id");
    assert_eq!(attr(&by_id, "name"), "shared.example");
    let imported = h
        .provider
        .import(ZONE, &attr(&private, "id"))
        .await
        .expect("import");
    assert_eq!(
        v::get_strings(&imported, "name_servers"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn vpcs_of_a_private_zone_are_associated_and_disassociated() {
    let h = Harness::start().await;
    let vpc = |ids: &[&str]| {
        Value::List(
            Type::Dynamic,
            ids.iter()
                .map(|id| {
                    object(vec![
                        ("vpc_id", Value::from(*id)),
                        ("vpc_region", Value::from("us-east-1")),
                    ])
                })
                .collect(),
        )
    };
    let c1 = with(
        &zone_config("private.example"),
        "vpc",
        vpc(&["vpc-11111111"]),
    );
    let s1 = converge(
        &h.provider,
        ZONE,
        vec![("route53_zone.p".into(), Value::NULL, c1)],
    )
    .await
    .expect("create")
    .remove(0);
    let c2 = with(
        &zone_config("private.example"),
        "vpc",
        vpc(&["vpc-11111111", "vpc-22222222"]),
    );
    converge(
        &h.provider,
        ZONE,
        vec![("route53_zone.p".into(), s1.clone(), c2)],
    )
    .await
    .expect("associate");
    let ReadResult::Found(now) = read_zone(&h.new_run().await, &s1).await else {
        panic!("gone")
    };
    let ids: Vec<String> = v::get(&now, "vpc")
        .and_then(Value::as_seq)
        .map(|s| s.iter().filter_map(|b| v::get_str(b, "vpc_id")).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec!["vpc-11111111", "vpc-22222222"]);
    // Going public would replace the zone.
    let p = plan(
        &h.provider,
        "route53_zone.p",
        ZONE,
        &now,
        &zone_config("private.example"),
    )
    .await
    .expect("plan");
    assert_eq!(p.requires_replace, vec!["vpc".to_string()]);
}

#[tokio::test]
async fn records_of_a_zone_made_by_the_same_apply_are_planned_unknown_then_applied() {
    let h = Harness::start().await;
    // Plan time: the zone does not exist, so the record's zone_id is unknown.
    let zone_plan = plan(
        &h.provider,
        "route53_zone.z",
        ZONE,
        &Value::NULL,
        &zone_config("fresh.example"),
    )
    .await
    .expect("plan zone")
    .planned;
    let rec = record_config("unused", "www", "A", 60, &["192.0.2.1"]);
    let rec = with(&rec, "zone_id", Value::Unknown(Type::String));
    let p = plan(
        &h.provider,
        "route53_record.www",
        RECORD,
        &Value::NULL,
        &rec,
    )
    .await
    .expect("plan record");
    let planned_map = v::entries(&p.planned);
    assert!(planned_map["id"].is_unknown() && planned_map["fqdn"].is_unknown());
    assert_eq!(
        h.provider.batch_key(RECORD, &p.planned).as_deref(),
        Some(posture_provider_route53::UNKNOWN_ZONE_KEY)
    );
    // Apply: the zone first, then the record planned again with the id.
    let zone = h
        .provider
        .apply(vec![ApplyRequest {
            address: "route53_zone.z".into(),
            type_name: ZONE.into(),
            operation: Operation::Create,
            prior: Value::NULL,
            planned: zone_plan,
            idempotency_token: token(),
        }])
        .await
        .remove(0);
    let ApplyResult::Applied(zone) = zone else {
        panic!("{zone:?}")
    };
    let zid = attr(&zone, "id");
    let states = converge(
        &h.provider,
        RECORD,
        vec![(
            "route53_record.www".into(),
            Value::NULL,
            with(&rec, "zone_id", Value::from(zid.as_str())),
        )],
    )
    .await
    .expect("record");
    assert_eq!(attr(&states[0], "fqdn"), "www.fresh.example");
    assert_eq!(
        zone_contents(&h, &zid).await["www.fresh.example A"],
        vec!["192.0.2.1"]
    );
}

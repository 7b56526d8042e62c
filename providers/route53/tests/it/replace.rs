//! Replacing records: a changed name (delete and create of one address)
//! and a record moved to a new address (delete and create of one key),
//! both landing atomically.

use super::support::*;
use posture_engine::provider::{ApplyRequest, ApplyResult, Operation, Provider};
use posture_engine::value::Value;
use posture_provider_route53::RECORD;

#[tokio::test]
async fn a_replacement_deletes_then_creates_in_one_batch() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "replace.example").await;
    let zid = attr(&zone, "id");
    let old = record_config(&zid, "old", "A", 60, &["192.0.2.1"]);
    let state = converge(
        &h.provider,
        RECORD,
        vec![("route53_record.x".into(), Value::NULL, old)],
    )
    .await
    .expect("create")
    .remove(0);
    h.proxy.reset_counts();
    // The name is force_new: the engine sends a Delete and a Create of the
    // same address in one apply call (one batch key, the zone).
    let new = record_config(&zid, "new", "A", 60, &["192.0.2.2"]);
    let planned = plan(&h.provider, "route53_record.x", RECORD, &Value::NULL, &new)
        .await
        .expect("plan")
        .planned;
    let res = h
        .provider
        .apply(vec![
            ApplyRequest {
                address: "route53_record.x".into(),
                type_name: RECORD.into(),
                operation: Operation::Create,
                prior: Value::NULL,
                planned,
                idempotency_token: token(),
            },
            ApplyRequest {
                address: "route53_record.x".into(),
                type_name: RECORD.into(),
                operation: Operation::Delete,
                prior: state,
                planned: Value::NULL,
                idempotency_token: token(),
            },
        ])
        .await;
    assert!(
        matches!(&res[0], ApplyResult::Applied(v) if !v.is_null()),
        "{res:?}"
    );
    assert_eq!(res[1], ApplyResult::Applied(Value::NULL));
    assert_eq!(
        h.proxy.count("ChangeResourceRecordSets").received,
        1,
        "one atomic batch"
    );
    let body = h.proxy.bodies("ChangeResourceRecordSets").join("");
    let (del, cre) = (
        body.find("<Action>DELETE</Action>"),
        body.find("<Action>CREATE</Action>"),
    );
    assert!(
        del.is_some() && cre.is_some() && del < cre,
        "DELETE must precede CREATE: {body}"
    );
    let contents = zone_contents(&h, &zid).await;
    assert!(
        contents.contains_key("new.replace.example A")
            && !contents.contains_key("old.replace.example A")
    );
}

#[tokio::test]
async fn a_record_moved_to_a_new_address_survives() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "moved.example").await;
    let zid = attr(&zone, "id");
    let config = record_config(&zid, "svc", "A", 60, &["192.0.2.7"]);
    let state = converge(
        &h.provider,
        RECORD,
        vec![("route53_record.a".into(), Value::NULL, config.clone())],
    )
    .await
    .expect("create")
    .remove(0);
    // Renamed in configuration without a moved block: the engine deletes
    // route53_record.a and creates route53_record.b, same name and type.
    let run = h.new_run().await;
    h.proxy.reset_counts();
    let p = plan(&run, "route53_record.b", RECORD, &Value::NULL, &config)
        .await
        .expect("plan");
    assert!(p.notes.iter().any(|n| n.contains("adopt")), "{:?}", p.notes);
    let res = run
        .apply(vec![
            ApplyRequest {
                address: "route53_record.a".into(),
                type_name: RECORD.into(),
                operation: Operation::Delete,
                prior: state,
                planned: Value::NULL,
                idempotency_token: token(),
            },
            ApplyRequest {
                address: "route53_record.b".into(),
                type_name: RECORD.into(),
                operation: Operation::Create,
                prior: Value::NULL,
                planned: p.planned,
                idempotency_token: token(),
            },
        ])
        .await;
    assert!(
        res.iter().all(|r| matches!(r, ApplyResult::Applied(_))),
        "{res:?}"
    );
    assert_eq!(
        zone_contents(&h, &zid).await["svc.moved.example A"],
        vec!["192.0.2.7"]
    );
}

//! The engine's crash recovery: after a killed apply it reads each
//! unfinished operation's planned value, with the operation's idempotency
//! token added as `__idempotency_token`, and adopts what is found (the
//! value must then be wholly known) or forgets what is not.

use super::support::*;
use posture_engine::provider::{
    ApplyRequest, ApplyResult, Operation, Provider, ReadRequest, ReadResult,
};
use posture_engine::value::Value;
use posture_provider_route53::{RECORD, RECOVERY_TOKEN, ZONE};

async fn recover_read(
    p: &dyn Provider,
    type_name: &str,
    planned: &Value,
    token: &str,
) -> ReadResult {
    p.read(vec![ReadRequest {
        address: format!("{type_name}.x"),
        type_name: type_name.into(),
        prior: with(planned, RECOVERY_TOKEN, Value::from(token)),
    }])
    .await
    .remove(0)
}

#[tokio::test]
async fn an_interrupted_zone_create_is_found_by_its_token() {
    let h = Harness::start().await;
    let planned = plan(
        &h.provider,
        "route53_zone.x",
        ZONE,
        &Value::NULL,
        &zone_config("crash.example"),
    )
    .await
    .expect("plan")
    .planned;
    let tok = token();
    // The run that made the zone was killed before recording it.
    let made = h
        .provider
        .apply(vec![ApplyRequest {
            address: "route53_zone.x".into(),
            type_name: ZONE.into(),
            operation: Operation::Create,
            prior: Value::NULL,
            planned: planned.clone(),
            idempotency_token: tok.clone(),
        }])
        .await
        .remove(0);
    let ApplyResult::Applied(made) = made else {
        panic!("{made:?}")
    };

    let run = h.new_run().await;
    let ReadResult::Found(found) = recover_read(&run, ZONE, &planned, &tok).await else {
        panic!("the zone made under the token must be found")
    };
    assert!(found.is_wholly_known(), "{found:?}");
    assert_eq!(attr(&found, "id"), attr(&made, "id"));
    assert!(posture_provider_route53::values::get(&found, RECOVERY_TOKEN).is_none());
    // A create that never reached AWS left nothing.
    assert_eq!(
        recover_read(&run, ZONE, &planned, "posture-never-sent").await,
        ReadResult::Gone
    );
}

#[tokio::test]
async fn an_interrupted_record_create_is_adopted_or_forgotten() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "crash.example").await;
    let zid = attr(&zone, "id");
    let config = record_config(&zid, "made", "A", 60, &["192.0.2.1"]);
    let planned = plan(
        &h.provider,
        "route53_record.x",
        RECORD,
        &Value::NULL,
        &config,
    )
    .await
    .expect("plan")
    .planned;
    let state = converge(
        &h.provider,
        RECORD,
        vec![("route53_record.x".into(), Value::NULL, config)],
    )
    .await
    .expect("create")
    .remove(0);

    let run = h.new_run().await;
    let ReadResult::Found(found) = recover_read(&run, RECORD, &planned, "tok-1").await else {
        panic!("the record must be found")
    };
    assert!(found.is_wholly_known(), "{found:?}");
    assert_eq!(
        found, state,
        "adopted exactly as a finished apply would have recorded it"
    );

    let never = record_config(&zid, "never", "A", 60, &["192.0.2.2"]);
    let never = plan(&run, "route53_record.y", RECORD, &Value::NULL, &never)
        .await
        .expect("plan")
        .planned;
    assert_eq!(
        recover_read(&run, RECORD, &never, "tok-2").await,
        ReadResult::Gone
    );
}

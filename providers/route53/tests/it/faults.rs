//! Behaviour under Route53's failures, injected by the fault proxy:
//! throttling, PriorRequestNotComplete, PENDING changes, rejected batches.

use super::support::*;
use posture_engine::provider::{ApplyRequest, ApplyResult, Operation, Provider};
use posture_engine::value::Value;
use posture_provider_route53::RECORD;
use posture_provider_route53::testing::Fault;

fn configs(zid: &str, prefix: &str, n: usize) -> Vec<(String, Value, Value)> {
    (0..n)
        .map(|i| {
            (
                format!("route53_record.{prefix}[{i}]"),
                Value::NULL,
                record_config(
                    zid,
                    &format!("{prefix}{i}"),
                    "A",
                    60,
                    &[&format!("10.0.{}.{}", i / 250, i % 250)],
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn throttling_a_third_of_the_calls_loses_and_duplicates_nothing() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "throttled.example").await;
    let zid = attr(&zone, "id");
    h.proxy.reset_counts();
    h.proxy.throttle_every(3);

    // Create 40, then update 20 and delete 10 of them, all under throttling.
    let created = converge(&h.provider, RECORD, configs(&zid, "h", 40))
        .await
        .expect("create");
    let mut items = Vec::new();
    for (i, state) in created.iter().enumerate().take(20) {
        let c = record_config(&zid, &format!("h{i}"), "A", 120, &["10.9.9.9"]);
        items.push((format!("route53_record.h[{i}]"), state.clone(), c));
    }
    converge(&h.new_run().await, RECORD, items)
        .await
        .expect("update");
    let gone: Vec<(String, Value)> = (30..40)
        .map(|i| (format!("route53_record.h[{i}]"), created[i].clone()))
        .collect();
    let res = delete(&h.provider, RECORD, &gone).await;
    assert!(
        res.iter().all(|r| matches!(r, ApplyResult::Applied(_))),
        "{res:?}"
    );

    let contents = zone_contents(&h, &zid).await;
    for i in 0..40 {
        let key = format!("h{i}.throttled.example A");
        match i {
            0..20 => assert_eq!(contents[&key], vec!["10.9.9.9"], "{key}"),
            20..30 => assert_eq!(contents[&key], vec![format!("10.0.0.{i}")], "{key}"),
            _ => assert!(!contents.contains_key(&key), "{key} should be deleted"),
        }
    }
    let changes = h.proxy.count("ChangeResourceRecordSets");
    assert!(
        h.proxy.counts().values().map(|c| c.injected).sum::<u64>() > 0,
        "no throttling was injected"
    );
    // Three logical batches (create, update, delete); each reached moto once.
    assert_eq!(
        changes.received - changes.injected,
        3,
        "{:?}",
        h.proxy.counts()
    );
}

#[tokio::test]
async fn prior_request_not_complete_and_pending_changes_are_waited_out() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "pending.example").await;
    let zid = attr(&zone, "id");
    h.proxy.reset_counts();
    h.proxy.inject(
        "ChangeResourceRecordSets",
        Fault::PriorRequestNotComplete,
        2,
    );
    h.proxy.pending_polls(3);
    converge(&h.provider, RECORD, configs(&zid, "p", 5))
        .await
        .expect("applied");
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 3);
    assert_eq!(
        h.proxy.count("GetChange").received,
        4,
        "three PENDING answers, then INSYNC"
    );
    assert_eq!(zone_contents(&h, &zid).await.len(), 2 + 5);
}

#[tokio::test]
async fn a_rejected_batch_fails_each_of_its_records_and_leaves_the_rest_applied() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "rejected.example").await;
    let zid = attr(&zone, "id");
    // 1,500 records make two batches (1,000 + 500); the first is rejected.
    let items = configs(&zid, "r", 1500);
    let mut reqs = Vec::new();
    for (addr, prior, config) in &items {
        let planned = plan(&h.provider, addr, RECORD, prior, config)
            .await
            .expect("plan")
            .planned;
        reqs.push(ApplyRequest {
            address: addr.clone(),
            type_name: RECORD.into(),
            operation: Operation::Create,
            prior: Value::NULL,
            planned,
            idempotency_token: token(),
        });
    }
    h.proxy.inject(
        "ChangeResourceRecordSets",
        Fault::InvalidChangeBatch(
            "RRSet with DNS name r7.rejected.example. is not permitted in zone rejected.example."
                .into(),
        ),
        1,
    );
    let results = h.provider.apply(reqs.clone()).await;
    let failed: Vec<&ApplyResult> = results
        .iter()
        .filter(|r| matches!(r, ApplyResult::Failed(_)))
        .collect();
    assert_eq!(failed.len(), 1000);
    for (req, res) in reqs.iter().zip(&results) {
        if let ApplyResult::Failed(e) = res {
            assert!(
                // The engine prefixes the address; the provider does not.
                !e.message.contains(&req.address),
                "{}",
                e.message
            );
            assert!(e.message.contains("InvalidChangeBatch"), "{}", e.message);
            assert!(!e.retryable);
        }
    }
    // What the results say is what the zone holds: state stays consistent.
    let contents = zone_contents(&h, &zid).await;
    for (req, res) in reqs.iter().zip(&results) {
        let i = req
            .address
            .trim_start_matches("route53_record.r[")
            .trim_end_matches(']');
        let present = contents.contains_key(&format!("r{i}.rejected.example A"));
        assert_eq!(
            present,
            matches!(res, ApplyResult::Applied(_)),
            "{}",
            req.address
        );
    }
    // Retrying only the failed ones completes the zone.
    let retry: Vec<ApplyRequest> = reqs
        .into_iter()
        .zip(&results)
        .filter(|(_, r)| matches!(r, ApplyResult::Failed(_)))
        .map(|(q, _)| q)
        .collect();
    let again = h.new_run().await.apply(retry).await;
    assert!(again.iter().all(|r| matches!(r, ApplyResult::Applied(_))));
    assert_eq!(zone_contents(&h, &zid).await.len(), 2 + 1500);
}

#[tokio::test]
async fn endless_throttling_fails_with_the_address_and_the_aws_code() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "stuck.example").await;
    let zid = attr(&zone, "id");
    h.proxy
        .inject("ChangeResourceRecordSets", Fault::Throttling, 1000);
    let err = converge(&h.provider, RECORD, configs(&zid, "s", 1))
        .await
        .expect_err("gives up");
    // The engine prefixes the address (route53_record.s[0]); the provider does not.
    assert!(
        err.starts_with(
            "s0.stuck.example A: ChangeResourceRecordSets failed: Throttling: Rate exceeded"
        ),
        "{err}"
    );
    // Every attempt took a turn: max_attempts of them, no more.
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 12);
}

#[tokio::test]
async fn a_batch_whose_answer_was_lost_is_recognised_as_applied() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "lost.example").await;
    let zid = attr(&zone, "id");
    h.proxy.reset_counts();
    // moto applies the batch, the client hears HTTP 500; the retry is then
    // refused ("already exists") and the zone is re-read to learn the truth.
    h.proxy
        .inject("ChangeResourceRecordSets", Fault::LostResponse, 1);
    let states = converge(&h.provider, RECORD, configs(&zid, "l", 3))
        .await
        .expect("applied");
    assert_eq!(states.len(), 3);
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 2);
    assert_eq!(
        h.proxy.count("ListResourceRecordSets").received,
        2,
        "plan's scan and the verifying re-read"
    );
    assert_eq!(zone_contents(&h, &zid).await.len(), 2 + 3);
}

#[tokio::test]
async fn a_missing_moto_names_the_install_script() {
    let err = posture_provider_route53::testing::MotoServer::start_at(std::path::Path::new(
        "/nonexistent/moto_server",
    ))
    .await
    .expect_err("no such binary");
    assert!(err.to_string().contains("scripts/install-moto.sh"), "{err}");
}

#[tokio::test]
async fn errors_never_carry_credentials() {
    // Nothing listens on port 9 of loopback: every attempt fails to connect.
    let p = posture_provider_route53::Route53Provider::with_timing(
        posture_provider_route53::testing::fast_timing(),
    );
    let settings = posture_provider_route53::values::object(vec![
        ("endpoint", Value::from("http://127.0.0.1:9")),
        (
            "access_key",
            Value::from("AKIAPOSTURESECRETID").mark_sensitive(),
        ),
        (
            "secret_key",
            Value::from("posture-secret-key-value").mark_sensitive(),
        ),
        ("max_retries", Value::from(2)),
    ]);
    p.configure(settings).await.expect("configure");
    let err = p
        .import(posture_provider_route53::ZONE, "Z123")
        .await
        .expect_err("nothing listens");
    assert!(
        err.message.contains("GetHostedZone failed"),
        "{}",
        err.message
    );
    assert!(err.retryable);
    for secret in ["AKIAPOSTURESECRETID", "posture-secret-key-value"] {
        assert!(!err.message.contains(secret), "{}", err.message);
        assert!(
            !format!("{p:?}").contains(secret),
            "Debug output leaks a key"
        );
    }
}

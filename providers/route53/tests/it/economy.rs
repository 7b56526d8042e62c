//! Request economy for one zone of 2,000 records, counted by the fault
//! proxy: a no-op plan (read of every record) takes at most 10 calls and
//! creating them at most 4 ChangeResourceRecordSets calls.
//! Run with `--nocapture` to see the per-operation counts.

use super::support::*;
use posture_engine::provider::{Provider, ReadRequest, ReadResult};
use posture_engine::value::Value;
use posture_provider_route53::RECORD;

#[tokio::test]
async fn two_thousand_records_cost_few_calls() {
    // Route53's real rate: the bucket must not get in the way of economy.
    let h = Harness::start_with_rate(5).await;
    let zone = create_zone(&h.provider, "big.example").await;
    let zid = attr(&zone, "id");
    let items: Vec<(String, Value, Value)> = (0..2000)
        .map(|i| {
            (
                format!("route53_record.r[{i}]"),
                Value::NULL,
                record_config(
                    &zid,
                    &format!("host-{i:04}"),
                    "A",
                    300,
                    &[&format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)],
                ),
            )
        })
        .collect();
    let configs: Vec<Value> = items.iter().map(|i| i.2.clone()).collect();

    // Create: plan all 2,000 (sharing one scan), apply in one call.
    let run = h.new_run().await;
    h.proxy.reset_counts();
    let states = converge(&run, RECORD, items).await.expect("create");
    let create_counts = h.proxy.counts();
    eprintln!(
        "create 2000 records: {create_counts:?} total {}",
        h.proxy.total()
    );
    let changes = h.proxy.count("ChangeResourceRecordSets").received;
    assert!(changes <= 4, "{changes} ChangeResourceRecordSets calls");
    assert_eq!(changes, 2, "1,000 ResourceRecords per batch: two batches");
    assert_eq!(
        h.proxy.count("ListResourceRecordSets").received,
        1,
        "plan shares one scan of the (empty) zone"
    );

    // No-op plan in a new run: one read of all 2,000, then 2,000 plans.
    let run = h.new_run().await;
    h.proxy.reset_counts();
    let read = run
        .read(
            states
                .iter()
                .enumerate()
                .map(|(i, s)| ReadRequest {
                    address: format!("route53_record.r[{i}]"),
                    type_name: RECORD.into(),
                    prior: s.clone(),
                })
                .collect(),
        )
        .await;
    for ((r, config), state) in read.iter().zip(&configs).zip(&states) {
        let ReadResult::Found(now) = r else {
            panic!("{r:?}")
        };
        assert_eq!(now, state);
        let p = plan(&run, "r", RECORD, now, config).await.expect("plan");
        assert_eq!(operation_for(now, &p.planned), None);
    }
    let total = h.proxy.total();
    eprintln!(
        "no-op plan of 2000 records: {:?} total {total}",
        h.proxy.counts()
    );
    assert!(total <= 10, "{total} calls for a no-op plan");
    // 2,002 record sets (with SOA and NS) at 300 per page: 7 pages.
    assert_eq!(h.proxy.count("ListResourceRecordSets").received, 7);
}

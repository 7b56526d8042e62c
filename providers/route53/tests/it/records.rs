//! `route53_record` lifecycle: create, no-op, update, delete; aliases and
//! weighted routing; import; allow_overwrite; drift; spelling.

use super::support::*;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use posture_engine::provider::{Provider, ReadResult};
use posture_engine::value::{Type, Value};
use posture_provider_route53::RECORD;
use posture_provider_route53::testing::sdk_client;
use posture_provider_route53::values::{object, string_set};

/// Writes a record straight to moto, as another tool would.
async fn upsert_out_of_band(
    h: &Harness,
    zone_id: &str,
    name: &str,
    rtype: RrType,
    values: &[&str],
) {
    let client = sdk_client(&h.out_of_band().await).expect("client");
    let rrset = ResourceRecordSet::builder()
        .name(name)
        .r#type(rtype)
        .ttl(300)
        .set_resource_records(Some(
            values
                .iter()
                .map(|v| ResourceRecord::builder().value(*v).build().expect("rr"))
                .collect(),
        ))
        .build()
        .expect("rrset");
    client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(rrset)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("out-of-band upsert");
}

#[tokio::test]
async fn records_are_created_left_alone_updated_and_deleted() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "example.com").await;
    let zid = attr(&zone, "id");
    let www = record_config(&zid, "www", "A", 300, &["192.0.2.1", "192.0.2.2"]);
    let long_txt = "k=".to_string() + &"x".repeat(400);
    let txt = record_config(&zid, "example.com", "TXT", 60, &[&long_txt, "v=spf1 -all"]);
    let states = converge(
        &h.provider,
        RECORD,
        vec![
            ("route53_record.www".into(), Value::NULL, www.clone()),
            ("route53_record.txt".into(), Value::NULL, txt.clone()),
        ],
    )
    .await
    .expect("create");
    assert_eq!(attr(&states[0], "fqdn"), "www.example.com");
    assert_eq!(attr(&states[0], "id"), format!("{zid}_www.example.com_A"));
    let contents = zone_contents(&h, &zid).await;
    assert_eq!(
        contents["www.example.com A"],
        vec!["192.0.2.1", "192.0.2.2"]
    );
    assert_eq!(
        contents["example.com TXT"],
        vec![long_txt.clone(), "v=spf1 -all".to_string()]
    );

    // A new run: read, then plan against what was read: no change.
    let run = h.new_run().await;
    let addrs = [
        ("route53_record.www".to_string(), states[0].clone()),
        ("route53_record.txt".to_string(), states[1].clone()),
    ];
    let read = read_records(&run, &addrs).await;
    let ReadResult::Found(www_now) = &read[0] else {
        panic!("{read:?}")
    };
    let ReadResult::Found(txt_now) = &read[1] else {
        panic!("{read:?}")
    };
    assert_eq!(
        www_now, &states[0],
        "read preserves the configured spelling"
    );
    for (prior, config) in [(www_now, &www), (txt_now, &txt)] {
        let p = plan(&run, "r", RECORD, prior, config).await.expect("plan");
        assert_eq!(
            operation_for(prior, &p.planned),
            None,
            "no-op expected: {:?}",
            p.planned
        );
    }

    // Update: TTL and one value.
    let www2 = with(&www, "ttl", Value::from(60));
    let www2 = with(
        &www2,
        "records",
        string_set(["192.0.2.1".to_string(), "192.0.2.9".to_string()]),
    );
    let updated = converge(
        &run,
        RECORD,
        vec![("route53_record.www".into(), www_now.clone(), www2)],
    )
    .await
    .expect("update");
    let contents = zone_contents(&h, &zid).await;
    assert_eq!(
        contents["www.example.com A"],
        vec!["192.0.2.1", "192.0.2.9"]
    );
    assert_eq!(
        posture_provider_route53::values::get_i64(&updated[0], "ttl"),
        Some(60)
    );

    // Delete both in one call.
    let res = delete(
        &run,
        RECORD,
        &[
            ("route53_record.www".into(), updated[0].clone()),
            ("route53_record.txt".into(), txt_now.clone()),
        ],
    )
    .await;
    assert!(
        res.iter()
            .all(|r| matches!(r, posture_engine::provider::ApplyResult::Applied(v) if v.is_null())),
        "{res:?}"
    );
    let contents = zone_contents(&h, &zid).await;
    assert!(
        !contents.contains_key("www.example.com A") && !contents.contains_key("example.com TXT"),
        "{contents:?}"
    );
    let read = read_records(&h.new_run().await, &addrs).await;
    assert!(read.iter().all(|r| *r == ReadResult::Gone), "{read:?}");
}

fn block(pairs: Vec<(&str, Value)>) -> Value {
    object(pairs)
}

#[tokio::test]
async fn alias_and_weighted_records_round_trip() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "example.org").await;
    let zid = attr(&zone, "id");
    let target = record_config(&zid, "origin", "A", 300, &["198.51.100.7"]);
    let mut alias = record_config(&zid, "www", "A", 0, &[]);
    alias = with(&alias, "ttl", Value::Null(Type::Number));
    alias = with(
        &alias,
        "records",
        Value::Null(Type::Set(Box::new(Type::String))),
    );
    alias = with(
        &alias,
        "alias",
        block(vec![
            ("name", Value::from("origin.example.org")),
            ("zone_id", Value::from(zid.as_str())),
            ("evaluate_target_health", Value::Bool(false)),
        ]),
    );
    let weighted = |id: &str, w: i64, ip: &str| {
        let c = record_config(&zid, "api", "A", 60, &[ip]);
        let c = with(&c, "set_identifier", Value::from(id));
        with(
            &c,
            "weighted_routing_policy",
            block(vec![("weight", Value::from(w))]),
        )
    };
    let items = vec![
        ("route53_record.origin".to_string(), Value::NULL, target),
        ("route53_record.www".to_string(), Value::NULL, alias.clone()),
        (
            "route53_record.api[\"blue\"]".to_string(),
            Value::NULL,
            weighted("blue", 90, "203.0.113.1"),
        ),
        (
            "route53_record.api[\"green\"]".to_string(),
            Value::NULL,
            weighted("green", 10, "203.0.113.2"),
        ),
    ];
    let configs: Vec<Value> = items.iter().map(|i| i.2.clone()).collect();
    let states = converge(&h.provider, RECORD, items).await.expect("create");
    let contents = zone_contents(&h, &zid).await;
    assert_eq!(
        contents["www.example.org A"],
        vec![format!("ALIAS origin.example.org {zid}")]
    );
    assert_eq!(
        contents["api.example.org A (set_identifier blue)"],
        vec!["203.0.113.1"]
    );
    assert_eq!(
        contents["api.example.org A (set_identifier green)"],
        vec!["203.0.113.2"]
    );
    assert_eq!(
        attr(&states[2], "id"),
        format!("{zid}_api.example.org_A_blue")
    );

    let run = h.new_run().await;
    let addrs: Vec<(String, Value)> = states
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("r{i}"), s.clone()))
        .collect();
    let read = read_records(&run, &addrs).await;
    for ((r, config), (_, state)) in read.iter().zip(&configs).zip(&addrs) {
        let ReadResult::Found(now) = r else {
            panic!("{r:?}")
        };
        assert_eq!(now, state);
        let p = plan(&run, "r", RECORD, now, config).await.expect("plan");
        assert_eq!(operation_for(now, &p.planned), None, "{:?}", p.planned);
    }

    // Shift the weights: an in-place update of both weighted records.
    let shifted = converge(
        &run,
        RECORD,
        vec![
            (
                "a".into(),
                states[2].clone(),
                weighted("blue", 50, "203.0.113.1"),
            ),
            (
                "b".into(),
                states[3].clone(),
                weighted("green", 50, "203.0.113.2"),
            ),
        ],
    )
    .await
    .expect("reweigh");
    let read = read_records(&h.new_run().await, &[("a".into(), shifted[0].clone())]).await;
    let ReadResult::Found(now) = &read[0] else {
        panic!("{read:?}")
    };
    let w = posture_provider_route53::values::get(now, "weighted_routing_policy").expect("policy");
    assert_eq!(
        posture_provider_route53::values::get_i64(w, "weight"),
        Some(50)
    );
}

#[tokio::test]
async fn an_unmanaged_record_blocks_a_create_unless_imported_or_overwritten() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "example.net").await;
    let zid = attr(&zone, "id");
    upsert_out_of_band(&h, &zid, "www.example.net.", RrType::A, &["192.0.2.50"]).await;

    let run = h.new_run().await;
    let config = record_config(&zid, "www.example.net", "A", 300, &["192.0.2.60"]);
    let err = plan(&run, "route53_record.www", RECORD, &Value::NULL, &config)
        .await
        .expect_err("conflict");
    assert!(err.contains("route53_record.www"), "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert!(
        err.contains(&format!(
            "posture import route53_record.www {zid}_www.example.net_A"
        )),
        "{err}"
    );
    assert!(err.contains("allow_overwrite"), "{err}");

    // Import it: the imported state planned against a matching config is a no-op.
    let imported = run
        .import(RECORD, &format!("{zid}_www.example.net_A"))
        .await
        .expect("import");
    let same = with(&config, "records", string_set(["192.0.2.50".to_string()]));
    let same = with(&same, "ttl", Value::from(300));
    let p = plan(&run, "route53_record.www", RECORD, &imported, &same)
        .await
        .expect("plan");
    assert_eq!(
        operation_for(&imported, &p.planned),
        None,
        "{:?} vs {:?}",
        imported,
        p.planned
    );
    let missing = run
        .import(RECORD, &format!("{zid}_nope.example.net_A"))
        .await
        .expect_err("missing");
    assert!(
        missing.message.contains("has no record"),
        "{}",
        missing.message
    );

    // Or take it over.
    let over = with(&config, "allow_overwrite", Value::Bool(true));
    let p = plan(&run, "route53_record.www", RECORD, &Value::NULL, &over)
        .await
        .expect("plan");
    assert!(
        p.notes.iter().any(|n| n.contains("overwrite")),
        "{:?}",
        p.notes
    );
    converge(
        &run,
        RECORD,
        vec![("route53_record.www".into(), Value::NULL, over)],
    )
    .await
    .expect("overwrite");
    assert_eq!(
        zone_contents(&h, &zid).await["www.example.net A"],
        vec!["192.0.2.60"]
    );
}

#[tokio::test]
async fn drift_made_out_of_band_is_detected_and_corrected() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "drift.example").await;
    let zid = attr(&zone, "id");
    let config = record_config(&zid, "app", "CNAME", 300, &["lb.example.com"]);
    let state = converge(
        &h.provider,
        RECORD,
        vec![("route53_record.app".into(), Value::NULL, config.clone())],
    )
    .await
    .expect("create")
    .remove(0);
    upsert_out_of_band(
        &h,
        &zid,
        "app.drift.example.",
        RrType::Cname,
        &["evil.example.com"],
    )
    .await;

    let run = h.new_run().await;
    let read = read_records(&run, &[("route53_record.app".into(), state.clone())]).await;
    let ReadResult::Found(now) = &read[0] else {
        panic!("{read:?}")
    };
    assert_eq!(
        posture_provider_route53::values::get_strings(now, "records"),
        vec!["evil.example.com"]
    );
    let p = plan(&run, "route53_record.app", RECORD, now, &config)
        .await
        .expect("plan");
    assert_eq!(
        operation_for(now, &p.planned),
        Some(posture_engine::provider::Operation::Update)
    );
    converge(
        &run,
        RECORD,
        vec![("route53_record.app".into(), now.clone(), config)],
    )
    .await
    .expect("correct");
    assert_eq!(
        zone_contents(&h, &zid).await["app.drift.example CNAME"],
        vec!["lb.example.com"]
    );
}

#[tokio::test]
async fn names_are_normalised_and_txt_values_split() {
    let h = Harness::start().await;
    let zone = create_zone(&h.provider, "names.example").await;
    let zid = attr(&zone, "id");
    let wild = record_config(&zid, "*.Apps.NAMES.example.", "A", 60, &["192.0.2.3"]);
    let long = "a".repeat(300);
    let txt = record_config(&zid, "_acme-challenge", "TXT", 60, &[&long]);
    let states = converge(
        &h.provider,
        RECORD,
        vec![
            ("w".into(), Value::NULL, wild.clone()),
            ("t".into(), Value::NULL, txt.clone()),
        ],
    )
    .await
    .expect("create");
    assert_eq!(attr(&states[0], "fqdn"), "*.apps.names.example");
    // On the wire the TXT value is two quoted strings of 255 and 45.
    let bodies = h.proxy.bodies("ChangeResourceRecordSets").join("\n");
    // (XML-escaped in the request body.)
    let wire = format!(
        "&quot;{}&quot; &quot;{}&quot;",
        "a".repeat(255),
        "a".repeat(45)
    );
    assert!(
        bodies.contains(&wire),
        "TXT not split on the wire: {bodies}"
    );

    let run = h.new_run().await;
    let read = read_records(
        &run,
        &[
            ("w".into(), states[0].clone()),
            ("t".into(), states[1].clone()),
        ],
    )
    .await;
    for (r, config) in read.iter().zip([&wild, &txt]) {
        let ReadResult::Found(now) = r else {
            panic!("{r:?}")
        };
        let p = plan(&run, "r", RECORD, now, config).await.expect("plan");
        assert_eq!(
            operation_for(now, &p.planned),
            None,
            "{now:?} vs {:?}",
            p.planned
        );
    }
    // Import accepts the wildcard in either spelling.
    let imported = run
        .import(RECORD, &format!("{zid}_\\052.apps.names.example_A"))
        .await
        .expect("import escaped wildcard");
    assert_eq!(attr(&imported, "name"), "*.apps.names.example");
}

#[test]
fn validation_reports_what_needs_no_aws() {
    let p = posture_provider_route53::Route53Provider::new();
    let mut c = record_config("Z1", "www", "A", 60, &[]);
    c = with(&c, "ttl", Value::Null(Type::Number));
    let msgs = p.validate(RECORD, &c);
    assert!(
        msgs.iter().any(|m| m.contains("ttl is required")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("records must hold")),
        "{msgs:?}"
    );
    let w = with(
        &record_config("Z1", "www", "A", 60, &["192.0.2.1"]),
        "set_identifier",
        Value::from("a"),
    );
    assert_eq!(
        p.validate(RECORD, &w),
        vec!["set_identifier needs a routing policy".to_string()]
    );
    let ok = record_config("Z1", "www", "A", 60, &["192.0.2.1"]);
    assert!(p.validate(RECORD, &ok).is_empty());
    assert_eq!(p.batch_key(RECORD, &ok), Some("Z1".to_string()));
    assert_eq!(p.batch_key(posture_provider_route53::ZONE, &ok), None);
    let later = with(&ok, "zone_id", Value::Unknown(Type::String));
    assert_eq!(
        p.batch_key(RECORD, &later).as_deref(),
        Some(posture_provider_route53::UNKNOWN_ZONE_KEY)
    );
}

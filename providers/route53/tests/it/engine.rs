//! End to end through posture's engine: HCL configuration planned and
//! applied by the engine's own plan and apply, with this provider against
//! moto. Shows the engine's batching meeting the provider's: all records of
//! a zone made in the same run land in one ChangeResourceRecordSets call,
//! and the next plan is all no-ops after one scan.

use super::support::*;
use posture_engine::apply::{ApplyOptions, ApplyReport};
use posture_engine::plan::{Action, Plan, PlanOptions};
use posture_engine::provider::{Provider, Providers};
use posture_engine::session::Session;
use posture_provider_route53::Route53Provider;
use posture_provider_route53::testing::fast_timing;
use std::path::Path;
use std::sync::Arc;

/// The `provider "route53"` block of a configuration talking to
/// `endpoint`: the session configures the provider from it, as the CLI does.
pub fn provider_block(endpoint: &str) -> String {
    format!(
        r#"
provider "route53" {{
  endpoint                = "{endpoint}"
  region                  = "us-east-1"
  access_key              = "testing"
  secret_key              = "testing"
  max_requests_per_second = 100
}}
"#
    )
}

/// One run through the engine's session (configure, recover, plan, apply)
/// with a fresh provider, as a new `posture apply` would.
pub async fn plan_apply(dir: &Path) -> (Plan, ApplyReport) {
    let provider = Route53Provider::with_timing(fast_timing());
    let providers = Providers::new(vec![Arc::new(provider) as Arc<dyn Provider>]);
    let s = Session::open_dir(dir, providers).expect("open");
    let opts = ApplyOptions {
        parallelism: 10,
        cancel: Default::default(),
        progress: None,
    };
    let (planned, report) = s
        .plan_and_apply(&PlanOptions::default(), &opts)
        .await
        .expect("plan and apply");
    (planned.plan, report)
}

#[tokio::test]
async fn a_zone_and_its_records_through_the_engine() {
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let long = "0123456789".repeat(30);
    let hcl = format!(
        r#"
resource "route53_zone" "z" {{
  name = "E2E.example."
  tags = {{ owner = "posture" }}
}}

resource "route53_record" "r" {{
  count   = 400
  zone_id = route53_zone.z.id
  name    = "host-${{count.index}}"
  type    = "TXT"
  ttl     = 60
  records = ["owner=posture index=${{count.index}}"]
}}

resource "route53_record" "spf" {{
  zone_id = route53_zone.z.id
  name    = "e2e.example"
  type    = "TXT"
  ttl     = 300
  records = ["v=spf1 -all", "{long}"]
}}
"#
    ) + &provider_block(&h.proxy.endpoint());
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");

    h.proxy.reset_counts();
    let (p, report) = plan_apply(dir.path()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        p.changes
            .iter()
            .filter(|c| c.action == Action::Create)
            .count(),
        402
    );
    eprintln!("engine create: {:?}", h.proxy.counts());
    // The zone's records were all planned with an unknown zone id, grouped
    // by the placeholder key, planned again and sent together.
    assert_eq!(
        h.proxy.count("ChangeResourceRecordSets").received,
        1,
        "{:?}",
        h.proxy.counts()
    );
    let zone_id = {
        let c = zone_ids(&h).await;
        assert_eq!(c.len(), 1);
        c[0].clone()
    };
    assert_eq!(zone_contents(&h, &zone_id).await.len(), 2 + 401);

    // A new run: refresh and plan find nothing to do.
    h.proxy.reset_counts();
    let (p, report) = plan_apply(dir.path()).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let changed: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert!(
        p.drift.is_empty(),
        "{:?}",
        p.drift.iter().map(|c| &c.address).collect::<Vec<_>>()
    );
    eprintln!("engine no-op plan: {:?}", h.proxy.counts());
    // One scan of 403 record sets (2 pages) plus the zone's own reads.
    assert_eq!(
        h.proxy.count("ListResourceRecordSets").received,
        2,
        "{:?}",
        h.proxy.counts()
    );
    assert_eq!(h.proxy.count("ChangeResourceRecordSets").received, 0);
}

async fn zone_ids(h: &Harness) -> Vec<String> {
    let p = h.out_of_band().await;
    let client = posture_provider_route53::testing::sdk_client(&p).expect("client");
    let out = client.list_hosted_zones().send().await.expect("list zones");
    out.hosted_zones()
        .iter()
        .map(|z| posture_provider_route53::names::bare_zone_id(z.id()))
        .collect()
}

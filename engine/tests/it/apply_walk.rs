//! Plan and apply through the provider interface with a fake provider:
//! dependency order, batching of one batch key into one call, failures
//! skipping exactly their dependents, the parallelism bound, state after.

use posture_engine::addrs::Mode;
use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{LocalLocation, LockOptions, StateLocation};
use posture_engine::value::{Type, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// `fake_thing`: name, group (the batch key), fail (apply fails), computed id.
#[derive(Default)]
struct Fake {
    /// Changes made "outside posture": what read returns instead of the prior.
    outside: Mutex<BTreeMap<String, Value>>,
    /// Addresses whose object cannot be reached (their cluster is down).
    unreachable: Mutex<std::collections::BTreeSet<String>>,
    /// Every apply call: (address, operation) per request.
    ops: Mutex<Vec<(String, Operation)>>,
    calls: Mutex<Vec<Vec<String>>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    /// When set, every apply call waits here until that many calls are in flight.
    barrier: Option<tokio::sync::Barrier>,
    /// When set, the first apply call cancels it (a Ctrl-C during the run).
    cancel_on_apply: Option<tokio_util::sync::CancellationToken>,
}

fn attr(v: &Value, k: &str) -> Value {
    v.as_map()
        .and_then(|m| m.get(k).cloned())
        .unwrap_or(Value::NULL)
}

#[async_trait::async_trait]
impl Provider for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    fn schema(&self) -> ProviderSchema {
        let s = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), Attribute::required(Type::String, "")),
                ("group".to_string(), Attribute::optional(Type::String, "")),
                ("fail".to_string(), Attribute::optional(Type::Bool, "")),
                ("id".to_string(), Attribute::computed(Type::String, "")),
            ]),
            ..Schema::default()
        };
        ProviderSchema {
            resources: BTreeMap::from([("fake_thing".to_string(), s)]),
            ..Default::default()
        }
    }
    fn batch_key(&self, _t: &str, v: &Value) -> Option<String> {
        attr(v, "group").as_str().map(str::to_string)
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        let outside = self.outside.lock().expect("lock").clone();
        let down = self.unreachable.lock().expect("lock").clone();
        r.into_iter()
            .map(|x| {
                if down.contains(&x.address) {
                    return ReadResult::Failed(ProviderError::new("cluster \"b\" is unreachable"));
                }
                ReadResult::Found(outside.get(&x.address).cloned().unwrap_or(x.prior))
            })
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        let id = if r.prior.is_null() {
            Value::Unknown(Type::String)
        } else {
            attr(&r.prior, "id")
        };
        m.insert("id".into(), id);
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        if let Some(b) = &self.barrier {
            b.wait().await;
        }
        if let Some(c) = &self.cancel_on_apply {
            c.cancel();
        }
        if let Ok(mut c) = self.calls.lock() {
            c.push(reqs.iter().map(|r| r.address.clone()).collect());
        }
        if let Ok(mut o) = self.ops.lock() {
            o.extend(reqs.iter().map(|r| (r.address.clone(), r.operation)));
        }
        let out = reqs
            .into_iter()
            .map(|r| {
                if attr(&r.planned, "fail").as_bool() == Some(true) {
                    return ApplyResult::Failed(ProviderError::new(format!(
                        "{} refused by the fake API",
                        r.address
                    )));
                }
                match r.operation {
                    Operation::Delete => ApplyResult::Applied(Value::NULL),
                    _ => {
                        let mut m = r.planned.as_map().cloned().unwrap_or_default();
                        let name = attr(&r.planned, "name").as_str().unwrap_or("").to_string();
                        m.insert("id".into(), Value::from(format!("id-{name}")));
                        ApplyResult::Applied(Value::Object(m))
                    }
                }
            })
            .collect();
        self.running.fetch_sub(1, Ordering::SeqCst);
        out
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

struct Run {
    dir: tempfile::TempDir,
    fake: Arc<Fake>,
}

impl Run {
    fn new(hcl: &str) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.hcl"), hcl).expect("write");
        Run {
            dir,
            fake: Arc::new(Fake::default()),
        }
    }

    async fn plan_apply(
        &self,
        parallelism: usize,
    ) -> (
        posture_engine::plan::Plan,
        posture_engine::apply::ApplyReport,
    ) {
        self.plan_apply_with(parallelism, PlanOptions::default())
            .await
    }

    async fn plan_apply_with(
        &self,
        parallelism: usize,
        popts: PlanOptions,
    ) -> (
        posture_engine::plan::Plan,
        posture_engine::apply::ApplyReport,
    ) {
        let cancel = self.fake.cancel_on_apply.clone().unwrap_or_default();
        let providers = Providers::new(vec![self.fake.clone() as Arc<dyn Provider>]);
        let s = Session::open_dir(self.dir.path(), providers).expect("open");
        let opts = ApplyOptions {
            parallelism,
            cancel,
            progress: None,
        };
        let (planned, report) = s.plan_and_apply(&popts, &opts).await.expect("run");
        (planned.plan, report)
    }

    fn state_addresses(&self) -> Vec<String> {
        let loc = LocalLocation::new(self.dir.path().join(".posture"));
        let b = loc.open(&LockOptions::new("read")).expect("open");
        b.load().expect("load").instances.keys().cloned().collect()
    }
}

#[tokio::test]
async fn one_batch_key_goes_in_one_call_after_its_dependency() {
    let run = Run::new(
        r#"
resource "fake_thing" "zone" {
  name = "zone"
}
resource "fake_thing" "rec" {
  for_each = toset(["a", "b", "c", "d"])
  name     = "${fake_thing.zone.id}-${each.key}"
  group    = "zone-1"
}
"#,
    );
    let (_, report) = run.plan_apply(10).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let calls = run.fake.calls.lock().expect("lock").clone();
    assert_eq!(
        calls.len(),
        2,
        "the zone, then all records in one call: {calls:?}"
    );
    assert_eq!(calls[0], vec!["fake_thing.zone".to_string()]);
    assert_eq!(calls[1].len(), 4);
    assert_eq!(run.state_addresses().len(), 5);
}

#[tokio::test]
async fn a_failure_skips_exactly_its_dependents() {
    let run = Run::new(
        r#"
resource "fake_thing" "bad" {
  name = "bad"
  fail = true
}
resource "fake_thing" "needs_bad" {
  name = "x-${fake_thing.bad.id}"
}
resource "fake_thing" "needs_needs_bad" {
  name = "y-${fake_thing.needs_bad.id}"
}
resource "fake_thing" "independent" {
  name = "ok"
}
"#,
    );
    let (_, report) = run.plan_apply(10).await;
    let failed: Vec<&str> = report.failed.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(failed, ["fake_thing.bad"]);
    assert!(report.failed[0].1.contains("refused by the fake API"));
    let mut skipped: Vec<&str> = report.skipped.iter().map(|(a, _)| a.as_str()).collect();
    skipped.sort();
    assert_eq!(
        skipped,
        ["fake_thing.needs_bad", "fake_thing.needs_needs_bad"]
    );
    assert_eq!(run.state_addresses(), ["fake_thing.independent"]);
}

#[tokio::test]
async fn parallelism_bounds_the_calls_in_flight() {
    let run = Run::new(
        r#"
resource "fake_thing" "x" {
  count = 12
  name  = "n${count.index}"
}
"#,
    );
    // Each call waits until 3 are in flight: the walk must run 3 at once
    // (or it would never finish), and never more.
    let run = Run {
        fake: Arc::new(Fake {
            barrier: Some(tokio::sync::Barrier::new(3)),
            ..Fake::default()
        }),
        ..run
    };
    let (_, report) = run.plan_apply(3).await;
    assert!(report.failed.is_empty());
    assert_eq!(report.applied.len(), 12);
    assert_eq!(run.fake.max_running.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn second_plan_after_apply_is_empty_and_destroy_order_is_reversed() {
    let hcl = r#"
resource "fake_thing" "a" {
  name = "a"
}
resource "fake_thing" "b" {
  name = "b-${fake_thing.a.id}"
}
"#;
    let run = Run::new(hcl);
    run.plan_apply(10).await;
    let (p, _) = run.plan_apply(10).await;
    assert!(
        p.changes.iter().all(|c| c.action == Action::NoOp),
        "{:?}",
        p.changes
    );
    // Remove everything from the configuration: b must go before a.
    std::fs::write(run.dir.path().join("main.hcl"), "").expect("write");
    let (p, report) = run.plan_apply(10).await;
    assert!(p.changes.iter().all(|c| c.action == Action::Delete));
    assert!(report.failed.is_empty());
    let calls = run.fake.calls.lock().expect("lock").clone();
    let last_two: Vec<String> = calls
        .iter()
        .rev()
        .take(2)
        .rev()
        .flatten()
        .cloned()
        .collect();
    assert_eq!(last_two, ["fake_thing.b", "fake_thing.a"]);
    assert!(run.state_addresses().is_empty());
    let _ = Mode::Managed;
}

#[tokio::test]
async fn create_before_destroy_orders_the_halves_of_a_replacement() {
    let cfg = |name: &str, cbd: bool| {
        format!(
            "resource \"fake_thing\" \"x\" {{\n  name = \"{name}\"\n  lifecycle {{\n    create_before_destroy = {cbd}\n  }}\n}}\n"
        )
    };
    for (cbd, want) in [
        (true, [Operation::Create, Operation::Delete]),
        (false, [Operation::Delete, Operation::Create]),
    ] {
        let run = Run::new(&cfg("one", cbd));
        run.plan_apply(10).await;
        // `--replace` forces the replacement.
        let popts = PlanOptions {
            replace: vec!["fake_thing.x".into()],
            ..PlanOptions::default()
        };
        let (p, report) = run.plan_apply_with(10, popts).await;
        let expected = if cbd {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        assert_eq!(p.changes[0].action, expected);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        let ops: Vec<Operation> = run
            .fake
            .ops
            .lock()
            .expect("lock")
            .iter()
            .skip(1)
            .map(|(_, o)| *o)
            .collect();
        assert_eq!(ops, want, "create_before_destroy = {cbd}");
        assert_eq!(run.state_addresses(), ["fake_thing.x"]);
    }
}

#[tokio::test]
async fn drift_is_corrected_by_apply_or_accepted_by_refresh_only() {
    let run = Run::new("resource \"fake_thing\" \"x\" {\n  name = \"desired\"\n}\n");
    run.plan_apply(10).await;
    let changed = Value::Object(BTreeMap::from([
        ("name".to_string(), Value::from("edited-by-hand")),
        ("group".to_string(), Value::Null(Type::String)),
        ("fail".to_string(), Value::Null(Type::Bool)),
        ("id".to_string(), Value::from("id-desired")),
    ]));
    run.fake
        .outside
        .lock()
        .expect("lock")
        .insert("fake_thing.x".into(), changed.clone());
    // A refresh-only apply accepts the drift into state and changes nothing.
    let popts = PlanOptions {
        mode: posture_engine::plan::PlanMode::RefreshOnly,
        ..PlanOptions::default()
    };
    let (p, report) = run.plan_apply_with(10, popts).await;
    assert_eq!(p.drift.len(), 1);
    assert!(p.changes.iter().all(|c| c.action == Action::NoOp));
    assert!(report.applied.is_empty());
    let loc = LocalLocation::new(run.dir.path().join(".posture"));
    let rec = loc
        .open(&LockOptions::new("read"))
        .expect("open")
        .load()
        .expect("load")
        .instances["fake_thing.x"]
        .clone();
    assert_eq!(rec.attributes["name"], "edited-by-hand");
    // A normal apply corrects it back to the configuration.
    let (p, report) = run.plan_apply(10).await;
    assert_eq!(p.changes[0].action, Action::Update);
    assert_eq!(report.applied.len(), 1);
}

#[tokio::test]
async fn cancel_starts_nothing_new_and_saves_what_was_done() {
    let token = tokio_util::sync::CancellationToken::new();
    let run = Run::new(
        "resource \"fake_thing\" \"x\" {\n  count = 5\n  name  = \"n${count.index}\"\n}\n",
    );
    let run = Run {
        fake: Arc::new(Fake {
            cancel_on_apply: Some(token),
            ..Fake::default()
        }),
        ..run
    };
    let (_, report) = run.plan_apply(1).await;
    assert!(report.interrupted);
    assert_eq!(report.applied.len(), 1, "the call in flight finished");
    assert_eq!(report.skipped.len(), 4);
    assert!(
        report
            .skipped
            .iter()
            .all(|(_, why)| why.contains("interrupted"))
    );
    assert_eq!(run.state_addresses().len(), 1, "what was done is saved");
    assert_eq!(report.serial, 1);
}

#[tokio::test]
async fn an_unreachable_target_fails_only_its_instances() {
    let cfg = |v: &str| {
        format!(
            "resource \"fake_thing\" \"x\" {{\n  for_each = toset([\"a\", \"b\", \"c\"])\n  name     = \"{v}-${{each.key}}\"\n}}\n"
        )
    };
    let run = Run::new(&cfg("v1"));
    run.plan_apply(10).await;
    std::fs::write(run.dir.path().join("main.hcl"), cfg("v2")).expect("write");
    run.fake
        .unreachable
        .lock()
        .expect("lock")
        .insert("fake_thing.x[\"b\"]".into());
    let (p, report) = run.plan_apply(10).await;
    let failed: Vec<&str> = p.failed.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(failed, ["fake_thing.x[\"b\"]"]);
    assert!(p.failed[0].1.contains("unreachable"), "{:?}", p.failed);
    let mut applied: Vec<&str> = report.applied.iter().map(|(a, _)| a.as_str()).collect();
    applied.sort();
    assert_eq!(applied, ["fake_thing.x[\"a\"]", "fake_thing.x[\"c\"]"]);
    assert_eq!(run.state_addresses().len(), 3, "b stays recorded as it was");
}

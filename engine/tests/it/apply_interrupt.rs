//! Interrupting an apply inside a batch, through the provider interface: a
//! fake provider that works through a batch one request at a time. An
//! interrupt must stop the batch where it is (the rest recorded as not
//! started, their intents dropped, nothing left pending); abandoning must
//! keep what finished and leave only the request in flight pending, also
//! for a provider that ignores the signal altogether.

use posture_engine::apply::{ApplyOptions, ApplyReport};
use posture_engine::plan::PlanOptions;
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{LocalLocation, LockOptions, StateLocation};
use posture_engine::value::{Type, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

/// What the fake does when its batch reaches request `at`.
#[derive(Clone, Copy)]
enum Stop {
    /// Fires the first level, then goes on as a provider must.
    Interrupt { at: usize },
    /// Fires the second level while request `at` is in flight.
    Abandon { at: usize },
    /// Fires the second level at `at` and then ignores every signal, hanging.
    AbandonAndHang { at: usize },
}

/// `fake_item` (name, computed id); one batch key for all.
struct Batcher {
    stop: Stop,
    started: AtomicUsize,
    /// The run's tokens, fired from inside the batch as a signal would.
    cancel: CancellationToken,
    abandon: CancellationToken,
}

fn name_of(v: &Value) -> String {
    v.as_map()
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

fn applied(r: &ApplyRequest) -> ApplyResult {
    let mut m = r.planned.as_map().cloned().unwrap_or_default();
    m.insert(
        "id".into(),
        Value::from(format!("id-{}", name_of(&r.planned))),
    );
    ApplyResult::Applied(Value::Object(m))
}

#[async_trait::async_trait]
impl Provider for Batcher {
    fn name(&self) -> &str {
        "fake"
    }
    fn schema(&self) -> ProviderSchema {
        let s = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), Attribute::required(Type::String, "")),
                ("id".to_string(), Attribute::computed(Type::String, "")),
            ]),
            ..Schema::default()
        };
        ProviderSchema {
            resources: BTreeMap::from([("fake_item".to_string(), s)]),
            ..Default::default()
        }
    }
    fn batch_key(&self, _t: &str, _v: &Value) -> Option<String> {
        Some("all".into())
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        // Nothing outside posture: an object exists only once recorded.
        r.into_iter().map(|_| ReadResult::Gone).collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::Unknown(Type::String));
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        self.apply_interruptible(reqs, Interrupt::new()).await
    }
    async fn apply_interruptible(
        &self,
        reqs: Vec<ApplyRequest>,
        interrupt: Interrupt,
    ) -> Vec<ApplyResult> {
        let mut out = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            if interrupt.is_interrupted() {
                out.push(ApplyResult::NotStarted);
                continue;
            }
            self.started.fetch_add(1, Ordering::SeqCst);
            match self.stop {
                Stop::Interrupt { at } if at == i => self.cancel.cancel(),
                Stop::Abandon { at } if at == i => {
                    self.cancel.cancel();
                    self.abandon.cancel();
                    // In flight when abandoned: dropped, answered as such.
                    interrupt.abandoned().await;
                    out.push(ApplyResult::Abandoned);
                    continue;
                }
                Stop::AbandonAndHang { at } if at == i => {
                    self.cancel.cancel();
                    self.abandon.cancel();
                    std::future::pending::<()>().await;
                }
                _ => {}
            }
            out.push(applied(r));
        }
        out
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

const CONFIG: &str = r#"
resource "fake_item" "x" {
  count = 10
  name  = "x${count.index}"
}
resource "fake_item" "after" {
  name = "after-${length(fake_item.x)}"
  depends_on = [fake_item.x]
}
"#;

struct Outcome {
    report: ApplyReport,
    started: usize,
    /// Addresses in state after the run.
    recorded: Vec<String>,
    /// Addresses of intents left pending.
    pending: Vec<String>,
}

async fn run(stop: Stop) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write");
    let (cancel, abandon) = (CancellationToken::new(), CancellationToken::new());
    let fake = Arc::new(Batcher {
        stop,
        started: AtomicUsize::new(0),
        cancel: cancel.clone(),
        abandon: abandon.clone(),
    });
    let providers = Providers::new(vec![fake.clone() as Arc<dyn Provider>]);
    let loc = LocalLocation::new(dir.path().join(".posture"));
    let report = {
        let s = Session::open_dir(dir.path(), providers).expect("open");
        let p = s.plan(&PlanOptions::default()).await.expect("plan").plan;
        let opts = ApplyOptions {
            parallelism: 4,
            cancel,
            progress: None,
        };
        s.apply_or_abandon(&p, &opts, &abandon)
            .await
            .expect("apply")
    };
    // The run's lock is released: the state opens again at once.
    let b = loc.open(&LockOptions::new("read")).expect("reopen");
    let recorded = b.load().expect("load").instances.keys().cloned().collect();
    let pending = b
        .pending_intents()
        .expect("intents")
        .into_iter()
        .map(|i| i.address)
        .collect();
    Outcome {
        report,
        started: fake.started.load(Ordering::SeqCst),
        recorded,
        pending,
    }
}

#[tokio::test]
async fn an_interrupt_inside_a_batch_stops_its_remaining_requests() {
    let o = run(Stop::Interrupt { at: 2 }).await;
    let r = &o.report;
    assert!(r.interrupted);
    assert_eq!(o.started, 3, "nothing after the interrupt was sent");
    assert_eq!(r.applied.len(), 3, "{:?}", r.applied);
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let skipped: Vec<&str> = r.skipped.iter().map(|(a, _)| a.as_str()).collect();
    let mut expected: Vec<String> = (3..10).map(|i| format!("fake_item.x[{i}]")).collect();
    expected.push("fake_item.after".into());
    assert_eq!(skipped, expected);
    assert!(
        r.skipped
            .iter()
            .all(|(_, why)| why == "interrupted before it started")
    );
    assert!(r.abandoned.is_empty());
    assert_eq!(
        o.recorded,
        vec!["fake_item.x[0]", "fake_item.x[1]", "fake_item.x[2]"]
    );
    assert!(
        o.pending.is_empty(),
        "not started is settled: {:?}",
        o.pending
    );
    assert_eq!(r.serial, 1, "what was done is committed");
}

#[tokio::test]
async fn abandoning_keeps_what_finished_and_leaves_only_the_request_in_flight_pending() {
    let o = run(Stop::Abandon { at: 4 }).await;
    let r = &o.report;
    assert!(r.interrupted);
    assert_eq!(r.applied.len(), 4);
    assert_eq!(r.abandoned, vec!["fake_item.x[4]"]);
    assert_eq!(o.pending, vec!["fake_item.x[4]"]);
    assert_eq!(o.recorded.len(), 4);
    assert_eq!(r.skipped.len(), 6, "{:?}", r.skipped);
}

#[tokio::test]
async fn abandoning_a_provider_that_ignores_it_stops_waiting_and_leaves_its_batch_pending() {
    let o = run(Stop::AbandonAndHang { at: 1 }).await;
    let r = &o.report;
    assert!(r.interrupted);
    // The call never answered: the engine cannot tell which finished, so
    // every intent of the batch stays pending for the next run to read.
    assert_eq!(r.abandoned.len(), 10, "{:?}", r.abandoned);
    assert_eq!(o.pending.len(), 10);
    assert!(o.recorded.is_empty());
    assert_eq!(
        r.skipped,
        vec![(
            "fake_item.after".to_string(),
            "interrupted before it started".to_string()
        )]
    );
}

//! The engine–provider contract at its edges, with a fake provider: answers
//! of the wrong length (H1 #4), an apply whose object exists but is not
//! ready (tainted, H1 #5), and create_before_destroy keeping the old object
//! as a deposed record until its delete completes (H1 #3).

use posture_engine::apply::{ApplyOptions, ApplyReport};
use posture_engine::plan::{Action, Plan, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{Backend, LocalLocation, LockOptions, State, StateLocation};
use posture_engine::value::{Type, Value};
use posture_engine::workspace::Workspace;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// `fake_thing`: name (forces replacement), group (the batch key), computed id.
/// Objects live in `world` by id; every create makes a new id.
#[derive(Default)]
struct Fake {
    /// Results added to (positive) or cut from (negative) every read answer.
    read_skew: Mutex<isize>,
    /// The same for apply answers.
    apply_skew: Mutex<isize>,
    /// Names whose create answers Tainted (made, but not ready).
    taint: Mutex<BTreeSet<String>>,
    /// Deletes fail.
    fail_delete: Mutex<bool>,
    world: Mutex<BTreeMap<String, Value>>,
    made: Mutex<usize>,
}

fn attr(v: &Value, k: &str) -> Value {
    v.as_map()
        .and_then(|m| m.get(k).cloned())
        .unwrap_or(Value::NULL)
}

fn skewed<T: Clone>(mut v: Vec<T>, skew: isize, extra: T) -> Vec<T> {
    if skew < 0 {
        v.truncate(v.len().saturating_sub(skew.unsigned_abs()));
    } else {
        v.extend(std::iter::repeat_n(extra, skew.unsigned_abs()));
    }
    v
}

impl Fake {
    fn ids(&self) -> Vec<String> {
        self.world.lock().expect("lock").keys().cloned().collect()
    }
}

#[async_trait::async_trait]
impl Provider for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    fn schema(&self) -> ProviderSchema {
        let mut name = Attribute::required(Type::String, "");
        name.force_new = true;
        let s = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), name),
                ("group".to_string(), Attribute::optional(Type::String, "")),
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
        let world = self.world.lock().expect("lock").clone();
        let out = r
            .into_iter()
            .map(|x| {
                let id = attr(&x.prior, "id");
                match id.as_str().and_then(|i| world.get(i)) {
                    Some(v) => ReadResult::Found(v.clone()),
                    None => ReadResult::Gone,
                }
            })
            .collect();
        let skew = *self.read_skew.lock().expect("lock");
        skewed(out, skew, ReadResult::Gone)
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
        let mut out = Vec::new();
        for r in reqs {
            match r.operation {
                Operation::Delete => {
                    if *self.fail_delete.lock().expect("lock") {
                        out.push(ApplyResult::Failed(ProviderError::new("delete refused")));
                        continue;
                    }
                    let id = attr(&r.prior, "id");
                    if let Some(i) = id.as_str() {
                        self.world.lock().expect("lock").remove(i);
                    }
                    out.push(ApplyResult::Applied(Value::NULL));
                }
                op => {
                    let mut m = r.planned.as_map().cloned().unwrap_or_default();
                    let name = attr(&r.planned, "name").as_str().unwrap_or("").to_string();
                    let id = if op == Operation::Create {
                        let mut made = self.made.lock().expect("lock");
                        *made += 1;
                        format!("{name}-{made}")
                    } else {
                        attr(&r.prior, "id").as_str().unwrap_or("").to_string()
                    };
                    m.insert("id".into(), Value::from(id.clone()));
                    let v = Value::Object(m);
                    self.world.lock().expect("lock").insert(id, v.clone());
                    if self.taint.lock().expect("lock").contains(&name) {
                        out.push(ApplyResult::Tainted {
                            value: v,
                            error: ProviderError::new("timed out waiting for readiness"),
                        });
                    } else {
                        out.push(ApplyResult::Applied(v));
                    }
                }
            }
        }
        let skew = *self.apply_skew.lock().expect("lock");
        skewed(out, skew, ApplyResult::Applied(Value::NULL))
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

    fn config(&self, hcl: &str) {
        std::fs::write(self.dir.path().join("main.hcl"), hcl).expect("write");
    }

    fn backend(&self) -> Arc<dyn Backend> {
        let loc = LocalLocation::new(self.dir.path().join(".posture"));
        Arc::from(loc.open(&LockOptions::new("apply")).expect("open state"))
    }

    fn state(&self) -> State {
        self.backend().load().expect("load")
    }

    fn pending(&self) -> usize {
        self.backend().pending_intents().expect("intents").len()
    }

    /// Plans, and applies when `do_apply`.
    async fn run(&self, do_apply: bool) -> (Plan, Option<ApplyReport>) {
        self.run_on(self.backend(), do_apply).await
    }

    /// As [`Run::run`], on `backend`.
    async fn run_on(
        &self,
        backend: Arc<dyn Backend>,
        do_apply: bool,
    ) -> (Plan, Option<ApplyReport>) {
        let ws = Workspace::load(self.dir.path(), &[], &BTreeMap::new());
        assert!(!ws.diags.has_errors(), "{:?}", ws.diags);
        let providers = Providers::new(vec![self.fake.clone() as Arc<dyn Provider>]);
        // The run a user makes: checks, configure, recover, plan, apply.
        let session = Session::new(ws, providers, backend);
        let p = session
            .plan(&PlanOptions::default())
            .await
            .expect("plan")
            .plan;
        if !do_apply {
            return (p, None);
        }
        let opts = ApplyOptions {
            parallelism: 4,
            cancel: Default::default(),
            progress: None,
        };
        let report = session.apply(&p, &opts).await.expect("apply");
        (p, Some(report))
    }

    async fn plan(&self) -> Plan {
        self.run(false).await.0
    }

    async fn apply(&self) -> ApplyReport {
        self.run(true).await.1.expect("applied")
    }
}

const TWO: &str = "resource \"fake_thing\" \"t\" {\n  count = 2\n  name  = \"t${count.index}\"\n  group = \"g\"\n}\n";

fn addrs(v: &[(String, String)]) -> Vec<&str> {
    v.iter().map(|(a, _)| a.as_str()).collect()
}

#[tokio::test]
async fn a_short_or_long_read_answer_fails_every_instance_of_the_call_instead_of_planning_creates()
{
    for skew in [-1, 1] {
        let r = Run::new(TWO);
        let rep = r.apply().await;
        assert!(rep.failed.is_empty(), "{:?}", rep.failed);
        *r.fake.read_skew.lock().expect("lock") = skew;
        let p = r.plan().await;
        let answered = (2 + skew).to_string();
        assert_eq!(
            addrs(&p.failed),
            ["fake_thing.t[0]", "fake_thing.t[1]"],
            "skew {skew}: {:?}",
            p.failed
        );
        for (_, m) in &p.failed {
            assert!(
                m.contains(&format!(
                    "the fake provider answered {answered} results for 2 requests"
                )),
                "{m}"
            );
        }
        assert!(
            p.changes.iter().all(|c| c.action == Action::NoOp),
            "nothing planned for what was not read: {:?}",
            p.changes
        );
        assert!(p.drift.is_empty(), "{:?}", p.drift);
    }
}

#[tokio::test]
async fn a_short_or_long_apply_answer_fails_every_instance_of_the_batch_by_address() {
    for skew in [-1, 1] {
        let r = Run::new(TWO);
        *r.fake.apply_skew.lock().expect("lock") = skew;
        let rep = r.apply().await;
        let answered = (2 + skew).to_string();
        assert_eq!(
            addrs(&rep.failed),
            ["fake_thing.t[0]", "fake_thing.t[1]"],
            "skew {skew}: {:?}",
            rep.failed
        );
        for (_, m) in &rep.failed {
            assert!(
                m.contains(&format!(
                    "the fake provider answered {answered} results for 2 requests"
                )),
                "{m}"
            );
        }
        assert!(rep.applied.is_empty(), "{:?}", rep.applied);
        assert!(r.state().instances.is_empty());
        // What happened is unknown: the next run reads both objects back.
        assert_eq!(r.pending(), 2);
    }
}

const SLOW: &str = "resource \"fake_thing\" \"t\" {\n  name = \"slow\"\n}\n";

#[tokio::test]
async fn an_apply_made_but_not_ready_is_recorded_tainted_then_replaced_instead_of_lost() {
    let r = Run::new(SLOW);
    r.fake.taint.lock().expect("lock").insert("slow".into());
    let rep = r.apply().await;
    assert_eq!(addrs(&rep.failed), ["fake_thing.t"], "{:?}", rep.failed);
    assert!(
        rep.failed[0].1.contains(
            "timed out waiting for readiness; the object exists and is recorded as tainted: the next plan replaces it"
        ),
        "{}",
        rep.failed[0].1
    );
    let st = r.state();
    let rec = st
        .instances
        .get("fake_thing.t")
        .expect("the object is in state");
    assert!(rec.tainted);
    assert_eq!(rec.attributes["id"], "slow-1");
    assert_eq!(r.pending(), 0);

    let p = r.plan().await;
    let c = &p.changes[0];
    assert_eq!(c.action, Action::DeleteThenCreate);
    assert!(c.tainted);
    assert!(
        posture_engine::plan::render::render_plan(&p).contains(
            "  # fake_thing.t is tainted, so must be replaced\n-/+ resource \"fake_thing\" \"t\" {"
        ),
        "{}",
        posture_engine::plan::render::render_plan(&p)
    );
    assert_eq!(
        p.to_json()["resource_changes"][0]["action_reason"],
        "replace_because_tainted"
    );

    r.fake.taint.lock().expect("lock").clear();
    let rep = r.apply().await;
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(r.fake.ids(), ["slow-2"], "the tainted object was replaced");
    let st = r.state();
    let rec = st.instances.get("fake_thing.t").expect("in state");
    assert!(!rec.tainted);
    assert_eq!(rec.attributes["id"], "slow-2");
    assert!(
        r.plan()
            .await
            .changes
            .iter()
            .all(|c| c.action == Action::NoOp)
    );
}

fn cbd(name: &str) -> String {
    format!(
        "resource \"fake_thing\" \"t\" {{\n  name = \"{name}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
    )
}

/// The deposed keys of `fake_thing.t` and their objects' ids.
fn deposed(st: &State) -> Vec<(String, String)> {
    st.instances
        .get("fake_thing.t")
        .map(|r| {
            r.deposed
                .iter()
                .map(|(k, o)| {
                    (
                        k.clone(),
                        o.attributes["id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// After the replacement's create, the old object is deposed, not
/// forgotten: a plan shows it, and the next apply deletes it.
async fn the_next_apply_destroys_the_deposed_object(r: &Run, key: &str) {
    let p = r.plan().await;
    let c = p
        .changes
        .iter()
        .find(|c| c.deposed.as_deref() == Some(key))
        .expect("the deposed object's delete is planned");
    assert_eq!(c.action, Action::Delete);
    assert_eq!(c.address, "fake_thing.t");
    let shown = posture_engine::plan::render::render_plan(&p);
    assert!(
        shown.contains(&format!(
            "  # fake_thing.t (deposed object {key}) will be destroyed\n  # (left over from a partially-failed replacement of this instance)\n  - resource \"fake_thing\" \"t\" {{"
        )),
        "{shown}"
    );
    assert!(
        shown.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{shown}"
    );
    let json = p.to_json();
    let in_json: Vec<&serde_json::Value> = json["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c.get("deposed").is_some())
        .collect();
    assert_eq!(in_json.len(), 1, "{json}");
    assert_eq!(in_json[0]["deposed"], key);
    assert_eq!(in_json[0]["change"]["actions"][0], "delete");
    let rep = r.apply().await;
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(
        r.fake.ids(),
        ["b-2"],
        "the old object is gone, the new one kept"
    );
    let st = r.state();
    assert!(deposed(&st).is_empty());
    assert_eq!(st.instances["fake_thing.t"].attributes["id"], "b-2");
    assert!(
        r.plan()
            .await
            .changes
            .iter()
            .all(|c| c.action == Action::NoOp)
    );
}

#[tokio::test]
async fn create_before_destroy_whose_delete_fails_keeps_the_old_object_deposed_instead_of_orphaning_it()
 {
    let r = Run::new(&cbd("a"));
    assert!(r.apply().await.failed.is_empty());
    r.config(&cbd("b"));
    *r.fake.fail_delete.lock().expect("lock") = true;
    let rep = r.apply().await;
    assert_eq!(addrs(&rep.failed), ["fake_thing.t"], "{:?}", rep.failed);
    assert_eq!(r.fake.ids(), ["a-1", "b-2"]);
    let st = r.state();
    assert_eq!(st.instances["fake_thing.t"].attributes["id"], "b-2");
    let dep = deposed(&st);
    assert_eq!(dep.len(), 1, "{dep:?}");
    assert_eq!(dep[0].1, "a-1");
    assert_eq!(dep[0].0.len(), 8);
    *r.fake.fail_delete.lock().expect("lock") = false;
    the_next_apply_destroys_the_deposed_object(&r, &dep[0].0).await;
}

/// A backend that fails from the `fail_at`th intent batch on: a run that
/// dies there, after what came before was recorded.
struct DiesAt {
    inner: Box<dyn Backend>,
    batches: std::sync::atomic::AtomicUsize,
    fail_at: usize,
    /// The same for completions (the answer of a call in flight is lost).
    completions: std::sync::atomic::AtomicUsize,
    complete_fail_at: usize,
}

impl Backend for DiesAt {
    fn lock_info(&self) -> &posture_engine::state::LockInfo {
        self.inner.lock_info()
    }
    fn load(&self) -> posture_engine::state::Result<State> {
        self.inner.load()
    }
    fn record_intent(
        &self,
        i: posture_engine::state::NewIntent,
    ) -> posture_engine::state::Result<posture_engine::state::IntentId> {
        self.inner.record_intent(i)
    }
    fn record_intents(
        &self,
        i: Vec<posture_engine::state::NewIntent>,
    ) -> posture_engine::state::Result<Vec<posture_engine::state::IntentId>> {
        let n = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if n >= self.fail_at {
            return Err(posture_engine::state::StateError::LockLost {
                lock_id: "the run died here".into(),
            });
        }
        self.inner.record_intents(i)
    }
    fn complete_intent(
        &self,
        id: &posture_engine::state::IntentId,
        o: posture_engine::state::Outcome,
    ) -> posture_engine::state::Result<()> {
        self.inner.complete_intent(id, o)
    }
    fn complete_intents(
        &self,
        d: Vec<(
            posture_engine::state::IntentId,
            posture_engine::state::Outcome,
        )>,
    ) -> posture_engine::state::Result<()> {
        let n = self
            .completions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if n >= self.complete_fail_at {
            return Err(posture_engine::state::StateError::LockLost {
                lock_id: "the run died here".into(),
            });
        }
        self.inner.complete_intents(d)
    }
    fn pending_intents(&self) -> posture_engine::state::Result<Vec<posture_engine::state::Intent>> {
        self.inner.pending_intents()
    }
    fn commit(
        &self,
        o: Option<BTreeMap<String, posture_engine::state::OutputValue>>,
        s: &str,
    ) -> posture_engine::state::Result<u64> {
        // A dead run commits nothing.
        let _ = (o, s);
        Err(posture_engine::state::StateError::LockLost {
            lock_id: "the run died".into(),
        })
    }
    fn history(&self) -> posture_engine::state::Result<Vec<posture_engine::state::HistoryEntry>> {
        self.inner.history()
    }
    fn snapshot(&self, serial: u64) -> posture_engine::state::Result<State> {
        self.inner.snapshot(serial)
    }
    fn pull(&self) -> posture_engine::state::Result<String> {
        self.inner.pull()
    }
    fn push(&self, json: &str, force: bool) -> posture_engine::state::Result<u64> {
        self.inner.push(json, force)
    }
    fn close(self: Box<Self>) -> posture_engine::state::Result<()> {
        self.inner.close()
    }
}

#[tokio::test]
async fn a_run_that_dies_between_the_create_and_the_delete_of_create_before_destroy_leaves_the_old_object_deposed()
 {
    let r = Run::new(&cbd("a"));
    assert!(r.apply().await.failed.is_empty());
    r.config(&cbd("b"));
    let dying: Arc<dyn Backend> = Arc::new(DiesAt {
        inner: LocalLocation::new(r.dir.path().join(".posture"))
            .open(&LockOptions::new("apply"))
            .expect("open state"),
        batches: Default::default(),
        // The create's intents are recorded; the delete's never are.
        fail_at: 2,
        completions: Default::default(),
        complete_fail_at: usize::MAX,
    });
    let (_, rep) = r.run_on(dying, true).await;
    let rep = rep.expect("applied");
    assert!(rep.state_error.is_some(), "{rep:?}");
    assert_eq!(r.fake.ids(), ["a-1", "b-2"], "the delete never started");
    assert_eq!(
        r.pending(),
        0,
        "the create was recorded, nothing is in flight"
    );
    let st = r.state();
    assert_eq!(st.instances["fake_thing.t"].attributes["id"], "b-2");
    let dep = deposed(&st);
    assert_eq!(dep.len(), 1, "the old object is still tracked: {dep:?}");
    assert_eq!(dep[0].1, "a-1");
    the_next_apply_destroys_the_deposed_object(&r, &dep[0].0).await;
}

#[tokio::test]
async fn a_run_that_dies_during_the_old_objects_delete_leaves_an_intent_naming_its_deposed_key() {
    let r = Run::new(&cbd("a"));
    assert!(r.apply().await.failed.is_empty());
    r.config(&cbd("b"));
    let dying: Arc<dyn Backend> = Arc::new(DiesAt {
        inner: LocalLocation::new(r.dir.path().join(".posture"))
            .open(&LockOptions::new("apply"))
            .expect("open state"),
        batches: Default::default(),
        fail_at: usize::MAX,
        completions: Default::default(),
        // The create is recorded; the delete's answer never is.
        complete_fail_at: 2,
    });
    let (_, rep) = r.run_on(dying, true).await;
    assert!(rep.expect("applied").state_error.is_some());
    let st = r.state();
    let dep = deposed(&st);
    assert_eq!(dep.len(), 1, "{dep:?}");
    let pending = r.backend().pending_intents().expect("intents");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].action, posture_engine::state::Action::Delete);
    // Recovery settles the deposed object, not the record's current one.
    assert_eq!(pending[0].planned["deposed"], dep[0].0.as_str());
}

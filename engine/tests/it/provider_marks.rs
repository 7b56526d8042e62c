//! Sensitive marks through the provider interface: a provider answers with
//! plain data (as one that goes through JSON does), and the engine puts the
//! configuration's marks back on what it planned, applied and read, keeps
//! them in state, and hands them to dependents.

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, Plan, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::state::{LocalLocation, LockOptions, State, StateLocation};
use posture_engine::value::{PathStep, Type, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `plain_thing`: `data` (a map of strings) and a computed `id`; every answer
/// has its marks stripped.
struct Plain;

fn plain(v: Value) -> Value {
    v.unmark_deep().0
}

fn with_id(v: &Value, id: Value) -> Value {
    let mut m = v.as_map().cloned().unwrap_or_default();
    m.insert("id".into(), id);
    plain(Value::Object(m))
}

#[async_trait::async_trait]
impl Provider for Plain {
    fn name(&self) -> &str {
        "plain"
    }
    fn schema(&self) -> ProviderSchema {
        let s = Schema {
            attributes: BTreeMap::from([
                (
                    "data".to_string(),
                    Attribute::optional(Type::Map(Box::new(Type::String)), ""),
                ),
                ("id".to_string(), Attribute::computed(Type::String, "")),
            ]),
            ..Schema::default()
        };
        ProviderSchema {
            resources: BTreeMap::from([("plain_thing".to_string(), s)]),
            ..Default::default()
        }
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        r.into_iter()
            .map(|x| ReadResult::Found(plain(x.prior)))
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let id = match r.prior.as_map().and_then(|m| m.get("id")) {
            Some(id) => id.clone(),
            None => Value::Unknown(Type::String),
        };
        Ok(PlanResponse {
            planned: with_id(&r.config, id),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        reqs.into_iter()
            .map(|r| match r.operation {
                Operation::Delete => ApplyResult::Applied(Value::NULL),
                _ => ApplyResult::Applied(with_id(
                    &r.planned,
                    Value::from(format!("id-{}", r.address)),
                )),
            })
            .collect()
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

const CONFIG: &str = r#"
variable "secret" {
  type      = string
  sensitive = true
  default   = "CANARY-7f3a9"
}
resource "plain_thing" "a" {
  data = { pw = var.secret, plain = "visible" }
}
# Known only after a is applied: planned again at apply time, from a's
# applied value.
resource "plain_thing" "b" {
  data = { copy = plain_thing.a.data.pw, of = plain_thing.a.id }
}
"#;

async fn run(dir: &std::path::Path, do_apply: bool) -> Plan {
    let providers = Providers::new(vec![Arc::new(Plain) as Arc<dyn Provider>]);
    let s = Session::open_dir(dir, providers).expect("open");
    let p = s.plan(&PlanOptions::default()).await.expect("plan").plan;
    if do_apply {
        let opts = ApplyOptions {
            parallelism: 4,
            cancel: Default::default(),
            progress: None,
        };
        let report = s.apply(&p, &opts).await.expect("apply");
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }
    p
}

fn state_of(dir: &std::path::Path) -> State {
    let loc = LocalLocation::new(dir.join(".posture"));
    let b = loc.open(&LockOptions::new("read")).expect("open");
    b.load().expect("load")
}

fn key(k: &str) -> PathStep {
    PathStep::Key(k.to_string())
}

fn after<'a>(p: &'a Plan, addr: &str) -> &'a Value {
    &p.changes
        .iter()
        .find(|c| c.address == addr)
        .expect("change")
        .after
}

#[tokio::test]
async fn plain_provider_answers_drop_the_configuration_marks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write");
    let p = run(dir.path(), true).await;
    // Planned: the mark is back where the configuration had it, and only there.
    assert_eq!(
        after(&p, "plain_thing.a").marked_paths(),
        vec![vec![key("data"), key("pw")]]
    );
    // Applied: recorded in state, for a itself and for b, planned again at
    // apply time from the value a's apply returned.
    let st = state_of(dir.path());
    assert_eq!(
        st.instances["plain_thing.a"].sensitive_paths,
        vec!["/data/pw".to_string()]
    );
    assert_eq!(
        st.instances["plain_thing.b"].sensitive_paths,
        vec!["/data/copy".to_string()]
    );
    assert!(
        !st.instances["plain_thing.b"]
            .sensitive_paths
            .contains(&"/data/of".to_string())
    );
}

#[tokio::test]
async fn refreshed_values_lose_the_marks_state_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write");
    run(dir.path(), true).await;
    // The provider reads a plain value back; the second plan has nothing to
    // do, and what it shows before and after is marked as state recorded.
    let p = run(dir.path(), false).await;
    for c in &p.changes {
        assert_eq!(c.action, Action::NoOp, "{}", c.address);
        assert!(c.before.contains_sensitive(), "{} before", c.address);
        assert!(c.after.contains_sensitive(), "{} after", c.address);
    }
    assert!(p.drift.is_empty(), "marks are no drift: {:?}", p.drift);
}

#[tokio::test]
async fn state_without_marks_stays_a_no_op_with_secrets_in_clear() {
    use posture_engine::state::{Action as StateAction, NewIntent, Outcome};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write");
    run(dir.path(), true).await;
    // The record of `a` as a posture that kept no marks wrote it.
    {
        let loc = LocalLocation::new(dir.path().join(".posture"));
        let b = loc.open(&LockOptions::new("edit")).expect("open");
        let mut rec = b.load().expect("load").instances["plain_thing.a"].clone();
        rec.sensitive_paths.clear();
        let id = b
            .record_intent(NewIntent {
                address: rec.address.clone(),
                action: StateAction::Update,
                planned: serde_json::json!({}),
            })
            .expect("intent");
        b.complete_intent(&id, Outcome::Upsert(Box::new(rec)))
            .expect("complete");
        b.commit(None, "strip marks").expect("commit");
    }
    let p = run(dir.path(), true).await;
    let a = p
        .changes
        .iter()
        .find(|c| c.address == "plain_thing.a")
        .expect("change");
    assert_eq!(
        a.action,
        Action::Update,
        "the marks are written by an update"
    );
    assert!(!a.before.contains_sensitive() && a.after.contains_sensitive());
    assert_eq!(
        state_of(dir.path()).instances["plain_thing.a"].sensitive_paths,
        vec!["/data/pw".to_string()]
    );
    let p = run(dir.path(), false).await;
    assert!(p.changes.iter().all(|c| c.action == Action::NoOp));
}

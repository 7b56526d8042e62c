//! Issue H1 (#9, point 15): at apply, an instance whose planned value is
//! unknown only in computed-only attributes (every `posture_data` create:
//! its `id`) is sent as planned, without evaluating its configuration and
//! asking its provider to plan it a second time; an instance whose
//! configuration was unknown at plan is still planned again with the values
//! upstream applies produced.

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::PlanOptions;
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::Session;
use posture_engine::value::{Type, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `counted_thing`: `name` (required), `id` (computed only); counts plans.
#[derive(Default)]
struct Counted {
    plans: AtomicUsize,
    made: std::sync::Mutex<Vec<String>>,
}

fn name_of(v: &Value) -> String {
    v.as_map()
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

#[async_trait::async_trait]
impl Provider for Counted {
    fn name(&self) -> &str {
        "counted"
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
            resources: BTreeMap::from([("counted_thing".to_string(), s)]),
            ..Default::default()
        }
    }
    async fn read(&self, reqs: Vec<ReadRequest>) -> Vec<ReadResult> {
        reqs.into_iter()
            .map(|r| ReadResult::Found(r.prior))
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        self.plans.fetch_add(1, Ordering::SeqCst);
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        m.insert("id".into(), Value::Unknown(Type::String));
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        reqs.into_iter()
            .map(|r| {
                let n = name_of(&r.planned);
                self.made.lock().expect("made").push(n.clone());
                ApplyResult::Applied(Value::Object(BTreeMap::from([
                    ("name".to_string(), Value::from(n.as_str())),
                    ("id".to_string(), Value::from(format!("id-{n}"))),
                ])))
            })
            .collect()
    }
    async fn import(&self, _: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("no import of {id}")))
    }
}

const CONFIG: &str = r#"
resource "counted_thing" "a" {
  name = "a"
}

resource "counted_thing" "b" {
  name = "b-${counted_thing.a.id}"
}
"#;

#[tokio::test]
async fn apply_planned_again_every_create_whose_only_unknown_is_computed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), CONFIG).expect("write config");
    let counted = Arc::new(Counted::default());
    let providers = Providers::new(vec![counted.clone() as Arc<dyn Provider>]);
    let s = Session::open_dir(dir.path(), providers).expect("open");
    let planned = s.plan(&PlanOptions::default()).await.expect("plan");
    assert_eq!(counted.plans.load(Ordering::SeqCst), 2);
    let report = s
        .apply(
            &planned.plan,
            &ApplyOptions {
                parallelism: 4,
                cancel: Default::default(),
                progress: None,
            },
        )
        .await
        .expect("apply");
    assert_eq!(report.counts().0, 2, "{report:?}");
    // `a` (only `id` unknown) is sent as planned; `b`, whose name was
    // unknown at plan, is planned again with `a`'s id.
    assert_eq!(counted.plans.load(Ordering::SeqCst), 3);
    assert_eq!(
        *counted.made.lock().expect("made"),
        vec!["a".to_string(), "b-id-a".to_string()]
    );
}

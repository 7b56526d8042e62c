//! The engine's one entry point for a run (`session::Session`): a plan and
//! an apply of `posture_data` through it, and each kind of failure coming
//! back as its own typed `RunError`, in the order the steps run (checks,
//! then provider configuration, then recovery, then the plan).

use posture_engine::apply::ApplyOptions;
use posture_engine::plan::{Action, PlanOptions};
use posture_engine::provider::*;
use posture_engine::schema::{Attribute, Schema};
use posture_engine::session::{RunError, Session};
use posture_engine::state::{
    Action as StateAction, LocalLocation, LockOptions, NewIntent, StateError, StateLocation,
};
use posture_engine::value::{Type, Value, codec};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// `keeper_thing`: objects kept in memory, readable only once configured,
/// as a real API is unreachable before its endpoint and keys are known.
#[derive(Default)]
struct Keeper {
    configured: AtomicBool,
    configure_calls: AtomicUsize,
    /// Reads fail whatever happens (an API that is down).
    down: bool,
    objects: std::sync::Mutex<BTreeMap<String, String>>,
}

fn name_of(v: &Value) -> String {
    v.as_map()
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string()
}

fn object(name: &str, id: &str) -> Value {
    Value::Object(BTreeMap::from([
        ("name".to_string(), Value::from(name)),
        ("id".to_string(), Value::from(id)),
    ]))
}

#[async_trait::async_trait]
impl Provider for Keeper {
    fn name(&self) -> &str {
        "keeper"
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
            resources: BTreeMap::from([("keeper_thing".to_string(), s)]),
            ..Default::default()
        }
    }
    async fn configure(&self, _: Value) -> Result<(), ProviderError> {
        self.configure_calls.fetch_add(1, Ordering::SeqCst);
        self.configured.store(true, Ordering::SeqCst);
        Ok(())
    }
    async fn read(&self, reqs: Vec<ReadRequest>) -> Vec<ReadResult> {
        let objects = self.objects.lock().expect("objects");
        reqs.into_iter()
            .map(|r| {
                if self.down {
                    return ReadResult::Failed(ProviderError::new("the API is down"));
                }
                if !self.configured.load(Ordering::SeqCst) {
                    return ReadResult::Failed(ProviderError::new(
                        "the keeper provider is not configured",
                    ));
                }
                let n = name_of(&r.prior);
                match objects.get(&n) {
                    Some(id) => ReadResult::Found(object(&n, id)),
                    None => ReadResult::Gone,
                }
            })
            .collect()
    }
    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut m = r.config.as_map().cloned().unwrap_or_default();
        let id = r
            .prior
            .as_map()
            .and_then(|p| p.get("id").cloned())
            .unwrap_or(Value::Unknown(Type::String));
        m.insert("id".into(), id);
        Ok(PlanResponse {
            planned: Value::Object(m),
            requires_replace: vec![],
            notes: vec![],
        })
    }
    async fn apply(&self, reqs: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        let mut objects = self.objects.lock().expect("objects");
        reqs.into_iter()
            .map(|r| {
                let n = name_of(&r.planned);
                let id = format!("id-{n}");
                objects.insert(n.clone(), id.clone());
                ApplyResult::Applied(object(&n, &id))
            })
            .collect()
    }
    async fn import(&self, _: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("no import of {id}")))
    }
}

fn session(dir: &Path, keeper: &Arc<Keeper>) -> Result<Session, RunError> {
    let providers = Providers::new(vec![keeper.clone() as Arc<dyn Provider>]);
    Session::open_dir(dir, providers)
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        parallelism: 4,
        cancel: Default::default(),
        progress: None,
    }
}

fn dir_with(hcl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), hcl).expect("write config");
    dir
}

/// A run killed while creating `keeper_thing.a`: the object was made, its
/// answer never came back, the intent is pending.
fn killed_mid_create(dir: &Path, keeper: &Keeper) {
    keeper
        .objects
        .lock()
        .expect("objects")
        .insert("a".into(), "id-a".into());
    leave_pending_create(dir);
}

/// Records the intent a run killed while creating `keeper_thing.a` leaves.
fn leave_pending_create(dir: &Path) {
    let b = LocalLocation::new(dir.join(".posture"))
        .open(&LockOptions::new("killed run"))
        .expect("open state");
    b.record_intent(NewIntent {
        address: "keeper_thing.a".into(),
        action: StateAction::Create,
        planned: serde_json::json!({
            "type": "keeper_thing",
            "provider": "keeper",
            "operation": "Create",
            "token": "tok-1",
            "prior": codec::encode(&Value::NULL),
            "planned": codec::encode(&Value::Object(BTreeMap::from([
                ("name".to_string(), Value::from("a")),
                ("id".to_string(), Value::Unknown(Type::String)),
            ]))),
            "dependencies": [],
            "create_before_destroy": false,
        }),
    })
    .expect("intent");
}

const DATA: &str = r#"
resource "posture_data" "base" {
  input = "base"
}

resource "posture_data" "app" {
  input = "app on ${posture_data.base.output}"
}

output "app" {
  value = posture_data.app.output
}
"#;

#[tokio::test]
async fn a_run_plans_and_applies_posture_data_through_one_session() {
    let dir = dir_with(DATA);
    let keeper = Arc::new(Keeper::default());
    let s = session(dir.path(), &keeper).expect("open");
    let planned = s.plan(&PlanOptions::default()).await.expect("plan");
    assert!(s.recovered().is_empty());
    assert!(!planned.warnings.has_errors());
    let creates: Vec<&str> = planned
        .plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(creates, ["posture_data.base", "posture_data.app"]);
    let report = s.apply(&planned.plan, &opts()).await.expect("apply");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.serial, 1);
    assert_eq!(
        report.outputs["app"].value,
        serde_json::json!("app on base")
    );
    // Configured once for the whole run, plan and apply.
    assert_eq!(keeper.configure_calls.load(Ordering::SeqCst), 1);
    drop(s);

    // The next whole run finds nothing to do and commits nothing new.
    let s = session(dir.path(), &keeper).expect("open again");
    let (planned, report) = s
        .plan_and_apply(&PlanOptions::default(), &opts())
        .await
        .expect("run");
    assert!(!planned.plan.has_changes(), "{:?}", planned.plan.changes);
    assert_eq!(planned.plan.serial, 1);
    assert!(report.applied.is_empty(), "{:?}", report.applied);
    assert_eq!(report.serial, 1);
}

#[tokio::test]
async fn an_unknown_resource_type_is_a_diagnostics_error_before_any_provider_is_configured() {
    let dir = dir_with("resource \"posture_dta\" \"x\" {\n  input = 1\n}\n");
    let keeper = Arc::new(Keeper::default());
    let s = session(dir.path(), &keeper).expect("open");
    let Err(RunError::Diagnostics(d)) = s.plan(&PlanOptions::default()).await else {
        panic!("a configuration error is RunError::Diagnostics")
    };
    assert!(d.has_errors());
    assert!(
        d.iter().any(|x| x
            .detail
            .contains("No provider supports resource type \"posture_dta\"")),
        "{d:?}"
    );
    assert_eq!(
        keeper.configure_calls.load(Ordering::SeqCst),
        0,
        "nothing runs against a configuration with errors"
    );
}

#[tokio::test]
async fn recovery_reads_with_providers_already_configured() {
    let dir = dir_with("resource \"keeper_thing\" \"a\" {\n  name = \"a\"\n}\n");
    let keeper = Arc::new(Keeper::default());
    killed_mid_create(dir.path(), &keeper);
    let s = session(dir.path(), &keeper).expect("open");
    let planned = s
        .plan(&PlanOptions::default())
        .await
        .expect("recovery reads the object: the provider was configured first");
    assert_eq!(
        s.recovered(),
        ["keeper_thing.a: adopted the object an interrupted run left"]
    );
    let a = &planned.plan.changes[0];
    assert_eq!(
        (a.address.as_str(), a.action),
        ("keeper_thing.a", Action::NoOp)
    );
}

#[tokio::test]
async fn an_intent_that_cannot_be_read_is_a_recovery_error_and_stays_pending() {
    let dir = dir_with("resource \"keeper_thing\" \"a\" {\n  name = \"a\"\n}\n");
    let keeper = Arc::new(Keeper {
        down: true,
        ..Keeper::default()
    });
    leave_pending_create(dir.path());
    let s = session(dir.path(), &keeper).expect("open");
    let Err(RunError::Recovery(msg)) = s.plan(&PlanOptions::default()).await else {
        panic!("an unsettled intent is RunError::Recovery")
    };
    assert!(
        msg.contains("keeper_thing.a") && msg.contains("the API is down"),
        "{msg}"
    );
    let pending = s.backend().pending_intents().expect("intents");
    assert_eq!(pending.len(), 1, "the intent waits for the next run");
}

#[tokio::test]
async fn a_saved_plan_of_an_older_state_is_a_stale_plan_error() {
    let dir = dir_with(DATA);
    let keeper = Arc::new(Keeper::default());
    let saved = {
        let s = session(dir.path(), &keeper).expect("open");
        s.plan(&PlanOptions::default()).await.expect("plan").plan
    };
    {
        let s = session(dir.path(), &keeper).expect("open");
        let p = s.plan(&PlanOptions::default()).await.expect("plan").plan;
        s.check_saved(&p)
            .await
            .expect("a plan of this state is fresh");
        s.apply(&p, &opts()).await.expect("apply");
    }
    let s = session(dir.path(), &keeper).expect("open");
    match s.check_saved(&saved).await {
        Err(RunError::StalePlan {
            plan_serial: 0,
            state_serial: 1,
            ..
        }) => {}
        other => panic!("expected StalePlan 0 → 1, got {other:?}"),
    }
}

#[tokio::test]
async fn a_held_lock_is_a_state_error_naming_the_holder() {
    let dir = dir_with(DATA);
    let keeper = Arc::new(Keeper::default());
    let _held = session(dir.path(), &keeper).expect("open");
    match session(dir.path(), &keeper) {
        Err(RunError::State(StateError::Locked { holder })) => {
            assert_eq!(holder.operation, "apply");
        }
        Err(other) => panic!("expected a lock error, got {other:?}"),
        Ok(_) => panic!("the state opened twice under one lock"),
    }
}

#[tokio::test]
async fn a_configuration_that_does_not_load_is_a_diagnostics_error() {
    let dir = dir_with("resource \"posture_data\" \"x\" {\n  input = \n}\n");
    let keeper = Arc::new(Keeper::default());
    match session(dir.path(), &keeper) {
        Err(RunError::Diagnostics(d)) => assert!(d.has_errors()),
        Err(other) => panic!("expected diagnostics, got {other:?}"),
        Ok(_) => panic!("a configuration that does not parse opened"),
    }
    assert!(
        !dir.path().join(".posture").exists(),
        "no state is made for a configuration that does not load"
    );
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_recovery_settled_an_interrupted_run() {
    let dir = dir_with("resource \"keeper_thing\" \"a\" {\n  name = \"a\"\n}\n");
    let keeper = Arc::new(Keeper::default());
    let saved = {
        let s = session(dir.path(), &keeper).expect("open");
        s.plan(&PlanOptions::default()).await.expect("plan").plan
    };
    // A run killed mid-create after the plan was saved.
    killed_mid_create(dir.path(), &keeper);
    let s = session(dir.path(), &keeper).expect("open");
    match s.check_saved(&saved).await {
        Err(RunError::RecoveredSincePlan) => {}
        other => panic!("expected RecoveredSincePlan, got {other:?}"),
    }
    assert_eq!(s.recovered().len(), 1, "what was settled is reported");
    assert!(
        s.backend().pending_intents().expect("intents").is_empty(),
        "settled, not left pending"
    );
}

//! Tests of crash recovery: adoption, aliases, and how a settled intent
//! composes with the record at its address (deposed objects, replacements).
use super::*;
use crate::provider::{
    ApplyRequest, ApplyResult, PlanRequest, PlanResponse, ProviderError, ProviderFactory,
    ProviderSchema,
};
use crate::schema::{Attribute, Schema};
use crate::scope::{Evaluation, Strictness};
use crate::state::{LocalLocation, LockOptions, NewIntent, StateLocation};
use crate::value::Type;
use crate::workspace::Workspace;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// `site_thing`s exist in region `eu-west` only; a read answers as
/// `answer` says, from the region the instance was configured with.
struct Site {
    region: Mutex<String>,
    answer: fn(&str, Value) -> Vec<ReadResult>,
}

/// Found in eu-west, echoing the request: `serial` stays unknown.
fn in_eu(region: &str, prior: Value) -> Vec<ReadResult> {
    let Value::Object(mut m) = prior else {
        return vec![ReadResult::Gone];
    };
    if region != "eu-west" {
        return vec![ReadResult::Gone];
    }
    m.insert("made_in".into(), Value::from(region));
    vec![ReadResult::Found(Value::Object(m))]
}

#[async_trait::async_trait]
impl Provider for Site {
    fn name(&self) -> &str {
        "site"
    }
    fn schema(&self) -> ProviderSchema {
        let attr = |t: Type| Attribute::computed(t, "");
        let thing = Schema {
            attributes: BTreeMap::from([
                ("name".to_string(), Attribute::required(Type::String, "")),
                ("made_in".to_string(), attr(Type::String)),
                ("serial".to_string(), attr(Type::Number)),
            ]),
            ..Schema::default()
        };
        let settings = Schema {
            attributes: BTreeMap::from([(
                "region".to_string(),
                Attribute::optional(Type::String, ""),
            )]),
            ..Schema::default()
        };
        ProviderSchema {
            provider: settings,
            resources: BTreeMap::from([("site_thing".to_string(), thing)]),
            ..Default::default()
        }
    }
    async fn configure(&self, settings: Value) -> Result<(), ProviderError> {
        let r = settings.as_map().and_then(|m| m.get("region")).cloned();
        if let (Some(r), Ok(mut g)) = (r.as_ref().and_then(Value::as_str), self.region.lock()) {
            *g = r.to_string();
        }
        Ok(())
    }
    async fn read(&self, r: Vec<ReadRequest>) -> Vec<ReadResult> {
        let region = self.region.lock().map(|g| g.clone()).unwrap_or_default();
        r.into_iter()
            .flat_map(|x| (self.answer)(&region, x.prior))
            .collect()
    }
    async fn plan(&self, _r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Err(ProviderError::new("not planned in these tests"))
    }
    async fn apply(&self, _r: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        Vec::new()
    }
    async fn import(&self, _t: &str, id: &str) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("cannot import {id}")))
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    backend: Arc<dyn Backend>,
    providers: Providers,
}

/// A configured set of providers for `config`, and a state holding
/// the create intent of `site_thing.a` made through `provider`.
async fn fixture(
    config: &str,
    provider: &str,
    answer: fn(&str, Value) -> Vec<ReadResult>,
) -> Fixture {
    let f = configured(config, answer).await;
    let planned = Value::Object(BTreeMap::from([
        ("name".to_string(), Value::from("a")),
        ("made_in".to_string(), Value::Unknown(Type::String)),
        ("serial".to_string(), Value::Unknown(Type::Number)),
    ]));
    f.backend
        .record_intent(NewIntent {
            address: "site_thing.a".into(),
            action: StateAction::Create,
            planned: serde_json::json!({
                "type": "site_thing",
                "provider": provider,
                "operation": "Create",
                "token": "posture-token-1",
                "prior": codec::encode(&Value::NULL),
                "planned": codec::encode(&planned),
                "dependencies": [],
                "create_before_destroy": false,
            }),
        })
        .expect("intent");
    f
}

/// A configured set of providers for `config` and an empty state.
async fn configured(config: &str, answer: fn(&str, Value) -> Vec<ReadResult>) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.hcl"), config).expect("write");
    let f: ProviderFactory = Arc::new(move || {
        Arc::new(Site {
            region: Mutex::new("home".into()),
            answer,
        }) as Arc<dyn Provider>
    });
    let providers = Providers::from_factories(vec![f]);
    let ws = Workspace::load(dir.path(), &[], &BTreeMap::new());
    assert!(!ws.diags.has_errors(), "{:?}", ws.diags);
    let ev = Evaluation::new(
        &ws.tree,
        &ws.sources,
        &providers,
        ws.raw_vars.clone(),
        Strictness::Full,
    );
    providers.configure(&ev).await.expect("configure");
    let loc = LocalLocation::new(dir.path().join(".posture"));
    let backend: Arc<dyn Backend> =
        Arc::from(loc.open(&LockOptions::new("apply")).expect("open state"));
    Fixture {
        dir,
        backend,
        providers,
    }
}

/// The default configuration and `site.eu`, both in eu-west.
const EU: &str = r#"
provider "site" {
  region = "eu-west"
}
provider "site" {
  alias  = "eu"
  region = "eu-west"
}
resource "site_thing" "a" {
  provider = site.eu
  name     = "a"
}
"#;
/// The default configuration in region home, `site.eu` in eu-west.
const HOME: &str = r#"
provider "site" {
  alias  = "eu"
  region = "eu-west"
}
resource "site_thing" "a" {
  provider = site.eu
  name     = "a"
}
"#;

#[tokio::test]
async fn an_object_read_with_unknown_parts_is_adopted_instead_of_forgotten() {
    let f = fixture(EU, "site", in_eu).await;
    let lines = recover(f.backend.clone(), &f.providers)
        .await
        .expect("recover");
    assert_eq!(
        lines,
        vec!["site_thing.a: adopted the object an interrupted run left"]
    );
    assert!(f.backend.pending_intents().expect("pending").is_empty());
    let st = f.backend.load().expect("load");
    let rec = &st.instances["site_thing.a"];
    // What the read found is recorded; what it left unknown is null
    // (state holds no unknowns), and the token is not an attribute.
    assert_eq!(
        rec.attributes,
        serde_json::json!({"name": "a", "made_in": "eu-west", "serial": null})
    );
    assert_eq!(rec.provider, "site");
    drop(f.dir);
}

#[tokio::test]
async fn an_aliased_operation_is_read_through_its_own_configuration_not_the_default() {
    // The default instance (region home) finds nothing; site.eu does.
    let f = fixture(HOME, "site.eu", in_eu).await;
    let lines = recover(f.backend.clone(), &f.providers)
        .await
        .expect("recover");
    assert_eq!(
        lines,
        vec!["site_thing.a: adopted the object an interrupted run left"]
    );
    let st = f.backend.load().expect("load");
    let rec = &st.instances["site_thing.a"];
    assert_eq!(rec.provider, "site.eu");
    assert_eq!(rec.attributes["made_in"], serde_json::json!("eu-west"));
}

#[tokio::test]
async fn an_operation_through_an_undeclared_alias_stays_pending_with_the_reason() {
    let f = fixture(EU, "site.gone", in_eu).await;
    let e = recover(f.backend.clone(), &f.providers)
        .await
        .expect_err("no configuration to read with");
    assert!(
        e.contains("provider configuration site.gone, which the configuration no longer declares"),
        "{e}"
    );
    assert_eq!(f.backend.pending_intents().expect("pending").len(), 1);
}

#[tokio::test]
async fn a_read_without_an_answer_is_not_taken_for_a_gone_object() {
    let f = fixture(EU, "site", |_, _| Vec::new()).await;
    let e = recover(f.backend.clone(), &f.providers)
        .await
        .expect_err("no answer");
    assert!(
        e.contains("cannot tell whether an interrupted operation happened"),
        "{e}"
    );
    assert_eq!(f.backend.pending_intents().expect("pending").len(), 1);
    assert!(f.backend.load().expect("load").instances.is_empty());
}

#[test]
fn unknowns_become_nulls_and_unknown_set_elements_go() {
    let v = Value::Object(BTreeMap::from([
        ("a".to_string(), Value::Unknown(Type::String)),
        (
            "s".to_string(),
            Value::set_of(
                Type::String,
                vec![Value::from("x"), Value::Unknown(Type::String)],
            ),
        ),
        (
            "l".to_string(),
            Value::list_of(vec![Value::Unknown(Type::Number).mark_sensitive()]),
        ),
    ]));
    let k = known_or_null(v);
    assert!(k.is_wholly_known());
    let m = k.as_map().expect("object");
    assert!(m["a"].is_null());
    assert_eq!(m["s"], Value::set_of(Type::String, vec![Value::from("x")]));
    assert!(m["l"].contains_sensitive());
}

// How a settled intent composes with the record at its address.

/// A `site_thing` made in `region`, as state and as the engine holds it.
fn thing(region: &str) -> (serde_json::Value, Value) {
    (
        serde_json::json!({"name": "a", "made_in": region, "serial": null}),
        Value::Object(BTreeMap::from([
            ("name".to_string(), Value::from("a")),
            ("made_in".to_string(), Value::from(region)),
            ("serial".to_string(), Value::Null(Type::Number)),
        ])),
    )
}

/// The record at site_thing.a: `current` (null for none) and these
/// deposed objects, written as a completed operation would write it.
fn put(b: &Arc<dyn Backend>, current: serde_json::Value, deposed: &[(&str, &str)]) {
    let rec = InstanceRecord {
        address: "site_thing.a".into(),
        mode: crate::state::Mode::Managed,
        resource_type: "site_thing".into(),
        provider: "site".into(),
        target: None,
        schema_version: 0,
        attributes: current,
        sensitive_paths: vec![],
        dependencies: vec![],
        create_before_destroy: true,
        tainted: false,
        deposed: deposed
            .iter()
            .map(|(k, region)| {
                (
                    k.to_string(),
                    DeposedObject {
                        attributes: thing(region).0,
                        sensitive_paths: vec![],
                    },
                )
            })
            .collect(),
    };
    let id = b
        .record_intent(NewIntent {
            address: "site_thing.a".into(),
            action: StateAction::Create,
            planned: serde_json::json!({}),
        })
        .expect("intent");
    b.complete_intent(&id, Outcome::Upsert(Box::new(rec)))
        .expect("complete");
}

/// The pending intent of an operation on site_thing.a, as node.rs records it.
fn pending(b: &Arc<dyn Backend>, action: StateAction, prior: &Value, deposed: Option<&str>) {
    let (_, planned) = thing("eu-west");
    let replacement = action == StateAction::Create && deposed.is_none() && !prior.is_null();
    b.record_intent(NewIntent {
        address: "site_thing.a".into(),
        action,
        planned: serde_json::json!({
            "type": "site_thing",
            "provider": "site",
            "operation": format!("{action:?}"),
            "token": "posture-token-2",
            "prior": codec::encode(if replacement { &Value::NULL } else { prior }),
            "planned": codec::encode(if action == StateAction::Delete { &Value::NULL } else { &planned }),
            "dependencies": [],
            "create_before_destroy": true,
            "deposed": deposed,
            "replacement": replacement || deposed.is_some(),
        }),
    })
    .expect("intent");
}

async fn settled(f: &Fixture) -> (Vec<String>, Option<InstanceRecord>) {
    let lines = recover(f.backend.clone(), &f.providers)
        .await
        .expect("recover");
    assert!(f.backend.pending_intents().expect("pending").is_empty());
    let st = f.backend.load().expect("load");
    (lines, st.instances.get("site_thing.a").cloned())
}

fn gone_everywhere(_: &str, _: Value) -> Vec<ReadResult> {
    vec![ReadResult::Gone]
}

#[tokio::test]
async fn a_deposed_object_still_there_stays_deposed_instead_of_replacing_the_current_object() {
    let f = configured(EU, in_eu).await;
    put(&f.backend, thing("eu-west").0, &[("0000000a", "old")]);
    pending(
        &f.backend,
        StateAction::Delete,
        &thing("old").1,
        Some("0000000a"),
    );
    let (lines, rec) = settled(&f).await;
    assert!(lines[0].contains("deposed object 0000000a"), "{lines:?}");
    let rec = rec.expect("the record stays");
    assert_eq!(
        rec.attributes,
        thing("eu-west").0,
        "the new object stays current"
    );
    assert_eq!(rec.deposed["0000000a"].attributes, thing("old").0);
}

#[tokio::test]
async fn a_deposed_object_gone_leaves_its_record_with_the_current_object_only() {
    let f = configured(EU, gone_everywhere).await;
    put(
        &f.backend,
        thing("eu-west").0,
        &[("0000000a", "old"), ("0000000b", "older")],
    );
    pending(
        &f.backend,
        StateAction::Delete,
        &thing("old").1,
        Some("0000000a"),
    );
    let (_, rec) = settled(&f).await;
    let rec = rec.expect("the record stays");
    assert_eq!(
        rec.attributes,
        thing("eu-west").0,
        "the new object stays current"
    );
    assert_eq!(rec.deposed.keys().collect::<Vec<_>>(), vec!["0000000b"]);
}

#[tokio::test]
async fn the_last_deposed_object_gone_of_a_record_without_a_current_one_removes_it() {
    let f = configured(EU, gone_everywhere).await;
    put(&f.backend, serde_json::Value::Null, &[("0000000a", "old")]);
    pending(
        &f.backend,
        StateAction::Delete,
        &thing("old").1,
        Some("0000000a"),
    );
    let (_, rec) = settled(&f).await;
    assert!(rec.is_none(), "{rec:?}");
}

#[tokio::test]
async fn a_replacement_found_is_adopted_and_the_old_object_kept_deposed() {
    let f = configured(EU, in_eu).await;
    put(&f.backend, thing("old").0, &[("0000000b", "older")]);
    pending(&f.backend, StateAction::Create, &thing("old").1, None);
    let (lines, rec) = settled(&f).await;
    assert!(lines[0].contains("kept as deposed object"), "{lines:?}");
    let rec = rec.expect("recorded");
    assert_eq!(
        rec.attributes,
        thing("eu-west").0,
        "the replacement is current"
    );
    assert_eq!(rec.deposed.len(), 2, "{rec:?}");
    assert_eq!(rec.deposed["0000000b"].attributes, thing("older").0);
    let (key, old) = rec
        .deposed
        .iter()
        .find(|(k, _)| *k != "0000000b")
        .expect("the old object is deposed");
    assert_eq!(key.len(), 8);
    assert_eq!(old.attributes, thing("old").0);
}

#[tokio::test]
async fn a_replacement_never_made_keeps_the_old_object_recorded() {
    let f = configured(EU, gone_everywhere).await;
    put(&f.backend, thing("old").0, &[]);
    pending(&f.backend, StateAction::Create, &thing("old").1, None);
    let (_, rec) = settled(&f).await;
    let rec = rec.expect("the old object's record stays");
    assert_eq!(rec.attributes, thing("old").0);
    assert!(rec.deposed.is_empty());
}

#[tokio::test]
async fn an_adopted_object_keeps_the_deposed_objects_of_its_record() {
    let f = configured(EU, in_eu).await;
    put(&f.backend, thing("old").0, &[("0000000a", "older")]);
    pending(&f.backend, StateAction::Update, &thing("old").1, None);
    let (_, rec) = settled(&f).await;
    let rec = rec.expect("recorded");
    assert_eq!(rec.attributes, thing("eu-west").0);
    assert_eq!(rec.deposed["0000000a"].attributes, thing("older").0);
}

#[tokio::test]
async fn a_current_object_gone_keeps_the_record_of_its_deposed_objects() {
    let f = configured(EU, gone_everywhere).await;
    put(&f.backend, thing("old").0, &[("0000000a", "older")]);
    pending(&f.backend, StateAction::Delete, &thing("old").1, None);
    let (_, rec) = settled(&f).await;
    let rec = rec.expect("the record stays for the deposed object");
    assert!(rec.attributes.is_null());
    assert_eq!(rec.deposed["0000000a"].attributes, thing("older").0);
}

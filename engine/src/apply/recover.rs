//! Crash recovery: operations a killed run left unfinished are settled by
//! asking the provider what really exists, before anything is planned.
//!
//! The caller configures the providers first ([`Providers::configure`]):
//! a read needs the provider's settings (a Route53 endpoint and
//! credentials), and an aliased configuration (`route53.eu`) has no
//! instance before it is configured.

use crate::addrs::Mode;
use crate::plan::statecodec;
use crate::provider::{Provider, Providers, ReadRequest, ReadResult};
use crate::state::{Action as StateAction, Backend, InstanceRecord, Intent, Outcome};
use crate::value::{Value, codec};
use std::sync::Arc;

/// The key under which the operation's idempotency token travels in the
/// value handed to the provider's read.
const TOKEN_KEY: &str = "__idempotency_token";

/// Settles every pending intent: the object a create or update left behind
/// is adopted into state, one that is gone is forgotten. Returns what was
/// done, one line per intent, for the user.
///
/// # Errors
/// The state store failed, or a provider could not tell (then the intent
/// stays pending and nothing may be planned: the caller stops).
pub async fn recover(
    backend: Arc<dyn Backend>,
    providers: &Providers,
) -> Result<Vec<String>, String> {
    let b = backend.clone();
    let pending = tokio::task::spawn_blocking(move || b.pending_intents())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for intent in pending {
        let (outcome, line) = settle(&intent, providers).await?;
        lines.push(format!("{}: {line}", intent.address));
        let b = backend.clone();
        let id = intent.id.clone();
        tokio::task::spawn_blocking(move || b.complete_intent(&id, outcome))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok(lines)
}

/// Reads the object one intent was about and decides what state records.
async fn settle(intent: &Intent, providers: &Providers) -> Result<(Outcome, &'static str), String> {
    let j = &intent.planned;
    let type_name = j["type"].as_str().unwrap_or_default().to_string();
    let token = j["token"].as_str().unwrap_or_default().to_string();
    let prior = codec::decode(&j["prior"]).unwrap_or(Value::NULL);
    let planned = codec::decode(&j["planned"]).unwrap_or(Value::NULL);
    let (key, p) = provider_of(providers, intent, &type_name)?;
    let Some(schema) = providers.schema_of(Mode::Managed, &type_name) else {
        return Err(format!(
            "{}: an unfinished operation on type {type_name} has no schema to read it with",
            intent.address
        ));
    };
    // Look for the object as the operation would have left it.
    let delete = intent.action == StateAction::Delete;
    let look_for = if delete {
        prior.clone()
    } else {
        with_token(planned.clone(), &token)
    };
    let found = p
        .read(vec![ReadRequest {
            address: intent.address.clone(),
            type_name: type_name.clone(),
            prior: look_for,
        }])
        .await;
    match found.into_iter().next() {
        Some(ReadResult::Found(v)) => {
            // What the read returns is what exists. Parts it left unknown
            // (echoed from the plan) are not in state as unknown: state holds
            // none; the next plan's refresh and plan compute them.
            let v = known_or_null(without_token(v));
            // The marks the interrupted plan carried are kept.
            let v = v.with_marks_of(if delete { &prior } else { &planned });
            let (attributes, sensitive_paths) = statecodec::to_state(&v, &schema);
            let record = InstanceRecord {
                address: intent.address.clone(),
                mode: crate::state::Mode::Managed,
                resource_type: type_name.clone(),
                provider: key.to_string(),
                target: p.batch_key(&type_name, &v),
                schema_version: 0,
                attributes,
                sensitive_paths,
                dependencies: j["dependencies"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                create_before_destroy: j["create_before_destroy"].as_bool().unwrap_or(false),
                tainted: false,
                deposed: Default::default(),
            };
            Ok((
                Outcome::Upsert(Box::new(record)),
                "adopted the object an interrupted run left",
            ))
        }
        Some(ReadResult::Gone) => Ok((
            Outcome::Remove,
            "an interrupted run left no object; forgot it",
        )),
        Some(ReadResult::Failed(e)) => Err(format!(
            "{}: cannot tell whether an interrupted operation happened: {}",
            intent.address, e.message
        )),
        // No answer is not "gone": forgetting would orphan an object.
        None => Err(format!(
            "{}: cannot tell whether an interrupted operation happened: the {key} provider gave no answer to the read",
            intent.address
        )),
    }
}

/// The configuration the interrupted operation went through (its intent's
/// `provider`: `route53` or `route53.eu`): the object is where it sent it.
fn provider_of<'p>(
    providers: &'p Providers,
    intent: &Intent,
    type_name: &str,
) -> Result<(&'p str, &'p Arc<dyn Provider>), String> {
    let Some(default) = providers.for_type(Mode::Managed, type_name) else {
        return Err(format!(
            "{}: an unfinished operation on type {type_name} needs its provider, which this posture does not have",
            intent.address
        ));
    };
    let recorded = intent.planned["provider"].as_str().unwrap_or(default.0);
    let key = recorded.strip_prefix("provider.").unwrap_or(recorded);
    if !key.contains('.') || crate::config::providers::key_provider(key) != default.0 {
        return Ok(default);
    }
    providers.instance(key).ok_or_else(|| {
        format!(
            "{}: an unfinished operation went through provider configuration {key}, which the configuration no longer declares. Declare provider \"{}\" {{ alias = \"{}\" }} again so that posture can read what happened.",
            intent.address,
            default.0,
            key.split_once('.').map_or("", |(_, a)| a)
        )
    })
}

/// The planned value with the operation's idempotency token, so a provider
/// can find an object created under it.
fn with_token(v: Value, token: &str) -> Value {
    match v {
        Value::Object(mut m) => {
            m.insert(TOKEN_KEY.to_string(), Value::from(token));
            Value::Object(m)
        }
        other => other,
    }
}

/// The token is the engine's, not an attribute: a provider that echoes its
/// request back must not have it recorded.
fn without_token(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            m.remove(TOKEN_KEY);
            Value::Object(m)
        }
        Value::Sensitive(inner) => without_token(*inner).mark_sensitive(),
        other => other,
    }
}

/// Every unknown part as a null of its type, marks kept.
fn known_or_null(v: Value) -> Value {
    match v {
        Value::Unknown(t) => Value::Null(t),
        Value::List(t, items) => Value::List(t, items.into_iter().map(known_or_null).collect()),
        Value::Tuple(items) => Value::Tuple(items.into_iter().map(known_or_null).collect()),
        // An unknown element is not an element that exists.
        Value::Set(t, items) => Value::set_of(
            t,
            items
                .into_iter()
                .filter(|i| !i.is_unknown())
                .map(known_or_null)
                .collect(),
        ),
        Value::Map(t, m) => Value::Map(
            t,
            m.into_iter().map(|(k, v)| (k, known_or_null(v))).collect(),
        ),
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k, known_or_null(v))).collect())
        }
        Value::Sensitive(inner) => known_or_null(*inner).mark_sensitive(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
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
        let planned = Value::Object(BTreeMap::from([
            ("name".to_string(), Value::from("a")),
            ("made_in".to_string(), Value::Unknown(Type::String)),
            ("serial".to_string(), Value::Unknown(Type::Number)),
        ]));
        backend
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
            e.contains(
                "provider configuration site.gone, which the configuration no longer declares"
            ),
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
}

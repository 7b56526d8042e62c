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
use crate::state::{
    Action as StateAction, Backend, DeposedObject, InstanceRecord, Intent, Outcome,
};
use crate::value::{Value, codec};
use std::sync::Arc;

// The key under which the operation's idempotency token travels in the
// value handed to the provider's read.
use crate::provider::RECOVERY_TOKEN as TOKEN_KEY;

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
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    // The records as they stand, kept current as intents settle: an
    // intent's outcome composes with the record at its address (the
    // deposed objects it holds, the old object of a replacement).
    let b = backend.clone();
    let mut records = tokio::task::spawn_blocking(move || b.load())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
        .instances;
    let mut lines = Vec::new();
    for intent in pending {
        let existing = records.get(&intent.address).cloned();
        let (outcome, line) = settle(&intent, providers, existing).await?;
        match &outcome {
            Outcome::Upsert(r) => {
                records.insert(intent.address.clone(), (**r).clone());
            }
            Outcome::Remove => {
                records.remove(&intent.address);
            }
            Outcome::NoChange => {}
        }
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

/// What the intent was doing, as far as recovery composes its record.
enum Op<'a> {
    /// Deleting the deposed object under this key: the record's current
    /// object is another one.
    DeleteDeposed(&'a str),
    /// Creating a create_before_destroy replacement: the record at the
    /// address still holds the old object, which must stay known.
    CreateReplacement,
    /// Anything else: on the record's current object.
    Current,
}

fn op_of(intent: &Intent) -> Op<'_> {
    let j = &intent.planned;
    if let Some(key) = j["deposed"].as_str() {
        return Op::DeleteDeposed(key);
    }
    let cbd = j["create_before_destroy"].as_bool().unwrap_or(false);
    let replacement = j["replacement"].as_bool().unwrap_or(false);
    if intent.action == StateAction::Create && cbd && replacement {
        Op::CreateReplacement
    } else {
        Op::Current
    }
}

/// Reads the object one intent was about and decides what state records,
/// composed with `existing`, the record at its address.
async fn settle(
    intent: &Intent,
    providers: &Providers,
    existing: Option<InstanceRecord>,
) -> Result<(Outcome, String), String> {
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
            Ok(on_found(op_of(intent), record, existing))
        }
        Some(ReadResult::Gone) => Ok(on_gone(op_of(intent), existing)),
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

/// What to record when the object the intent was about exists: `read`.
fn on_found(
    op: Op<'_>,
    mut read: InstanceRecord,
    existing: Option<InstanceRecord>,
) -> (Outcome, String) {
    match op {
        // The deposed object is still there: it stays deposed, and the
        // record's current object (another one) stays current.
        Op::DeleteDeposed(key) => (
            Outcome::NoChange,
            format!(
                "the deposed object {key} an interrupted run was deleting still exists; it stays deposed and the next apply deletes it"
            ),
        ),
        // The replacement exists: it becomes current, and the old object
        // is kept deposed until its delete completes.
        Op::CreateReplacement => {
            let mut line = "adopted the replacement an interrupted run created".to_string();
            if let Some(old) = existing {
                read.deposed = old.deposed;
                if !old.attributes.is_null() {
                    let key = super::deposed::new_key();
                    line = format!(
                        "{line}; the old object is kept as deposed object {key}, which the next apply deletes"
                    );
                    read.deposed.insert(
                        key,
                        DeposedObject {
                            attributes: old.attributes,
                            sensitive_paths: old.sensitive_paths,
                        },
                    );
                }
            }
            (Outcome::Upsert(Box::new(read)), line)
        }
        Op::Current => {
            read.deposed = existing.map(|r| r.deposed).unwrap_or_default();
            (
                Outcome::Upsert(Box::new(read)),
                "adopted the object an interrupted run left".to_string(),
            )
        }
    }
}

/// What to record when the object the intent was about does not exist.
fn on_gone(op: Op<'_>, existing: Option<InstanceRecord>) -> (Outcome, String) {
    match op {
        Op::DeleteDeposed(key) => {
            let outcome = match existing {
                Some(mut rec) if rec.deposed.contains_key(key) => {
                    rec.deposed.remove(key);
                    super::deposed::settle(rec)
                }
                _ => Outcome::NoChange,
            };
            (
                outcome,
                format!("an interrupted run deleted the deposed object {key}; forgot it"),
            )
        }
        // No replacement was made: the record keeps the old object.
        Op::CreateReplacement => (
            Outcome::NoChange,
            "an interrupted run created no replacement; the existing object stays".to_string(),
        ),
        Op::Current => {
            let outcome = match existing {
                // The deposed objects still exist: the record stays for them.
                Some(mut rec) if !rec.deposed.is_empty() => {
                    rec.attributes = serde_json::Value::Null;
                    rec.sensitive_paths.clear();
                    rec.tainted = false;
                    Outcome::Upsert(Box::new(rec))
                }
                _ => Outcome::Remove,
            };
            (
                outcome,
                "an interrupted run left no object; forgot it".to_string(),
            )
        }
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
#[path = "recover_tests.rs"]
mod tests;

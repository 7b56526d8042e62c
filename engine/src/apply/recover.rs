//! Crash recovery: operations a killed run left unfinished are settled by
//! asking the provider what really exists, before anything is planned.

use crate::plan::statecodec;
use crate::provider::{Providers, ReadRequest, ReadResult};
use crate::state::{Action as StateAction, Backend, InstanceRecord, Outcome};
use crate::value::{Value, codec};
use std::sync::Arc;

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
        let j = &intent.planned;
        let type_name = j["type"].as_str().unwrap_or_default().to_string();
        let token = j["token"].as_str().unwrap_or_default().to_string();
        let prior = codec::decode(&j["prior"]).unwrap_or(Value::NULL);
        let planned = codec::decode(&j["planned"]).unwrap_or(Value::NULL);
        let Some((pname, p)) = providers.for_type(crate::addrs::Mode::Managed, &type_name) else {
            return Err(format!(
                "{}: an unfinished operation on type {type_name} needs its provider, which this posture does not have",
                intent.address
            ));
        };
        let Some(schema) = providers.schema_of(crate::addrs::Mode::Managed, &type_name) else {
            continue;
        };
        // Look for the object as the operation would have left it.
        let look_for = if intent.action == StateAction::Delete {
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
        let outcome = match found.into_iter().next() {
            Some(ReadResult::Found(v)) if v.is_wholly_known() => {
                // The marks the interrupted plan carried are kept.
                let v = v.with_marks_of(if intent.action == StateAction::Delete {
                    &prior
                } else {
                    &planned
                });
                let (attributes, sensitive_paths) = statecodec::to_state(&v, &schema);
                lines.push(format!(
                    "{}: adopted the object an interrupted run left",
                    intent.address
                ));
                Outcome::Upsert(Box::new(InstanceRecord {
                    address: intent.address.clone(),
                    mode: crate::state::Mode::Managed,
                    resource_type: type_name.clone(),
                    provider: pname.to_string(),
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
                }))
            }
            Some(ReadResult::Failed(e)) => {
                return Err(format!(
                    "{}: cannot tell whether an interrupted operation happened: {}",
                    intent.address, e.message
                ));
            }
            _ => {
                lines.push(format!(
                    "{}: an interrupted run left no object; forgot it",
                    intent.address
                ));
                Outcome::Remove
            }
        };
        let b = backend.clone();
        let id = intent.id.clone();
        tokio::task::spawn_blocking(move || b.complete_intent(&id, outcome))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok(lines)
}

/// The planned value with the operation's idempotency token, so a provider
/// can find an object created under it.
fn with_token(v: Value, token: &str) -> Value {
    match v {
        Value::Object(mut m) => {
            m.insert("__idempotency_token".to_string(), Value::from(token));
            Value::Object(m)
        }
        other => other,
    }
}

//! `posture_data` through the provider interface, like any other provider.

use super::*;
use crate::value::{Type, Value};
use std::collections::BTreeMap;

/// The built-in provider of `posture_data`.
#[derive(Debug, Default)]
pub struct PostureDataProvider;

#[async_trait::async_trait]
impl Provider for PostureDataProvider {
    fn name(&self) -> &str {
        "posture"
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            resources: BTreeMap::from([(
                "posture_data".to_string(),
                crate::builtin::posture_data_schema(),
            )]),
            ..ProviderSchema::default()
        }
    }

    fn batch_key(&self, _type_name: &str, _value: &Value) -> Option<String> {
        // Instances with the same dependencies apply in one call, so their
        // intents and results are recorded with one flush each.
        Some("posture_data".to_string())
    }

    async fn read(&self, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        // posture_data lives only in state: what was recorded is what exists.
        requests
            .into_iter()
            .map(|r| ReadResult::Found(made_under_token(r.prior)))
            .collect()
    }

    async fn plan(&self, r: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = match r.config.clone().unmark().0 {
            Value::Object(m) => m,
            _ => BTreeMap::new(),
        };
        let prior = r.prior.as_map().cloned().unwrap_or_default();
        let input = planned.get("input").cloned().unwrap_or(Value::NULL);
        let input_changed = prior
            .get("input")
            .is_none_or(|p| !crate::value::raw_equal(p, &input));
        let output = if r.prior.is_null() || input_changed || !input.is_wholly_known() {
            if input.is_wholly_known() {
                input.clone()
            } else {
                Value::Unknown(Type::Dynamic)
            }
        } else {
            prior.get("output").cloned().unwrap_or(Value::NULL)
        };
        planned.insert("output".to_string(), output);
        let id = if r.prior.is_null() {
            Value::Unknown(Type::String)
        } else {
            prior
                .get("id")
                .cloned()
                .unwrap_or(Value::Unknown(Type::String))
        };
        planned.insert("id".to_string(), id);
        Ok(PlanResponse {
            planned: Value::Object(planned),
            requires_replace: Vec::new(),
            notes: Vec::new(),
        })
    }

    async fn apply(&self, requests: Vec<ApplyRequest>) -> Vec<ApplyResult> {
        requests
            .into_iter()
            .map(|r| match r.operation {
                Operation::Delete => ApplyResult::Applied(Value::NULL),
                Operation::Create | Operation::Update => {
                    // The request is ours: its map, not a copy of it.
                    let mut m = match r.planned {
                        Value::Object(m) => m,
                        other => other.as_map().cloned().unwrap_or_default(),
                    };
                    if m.get("id").is_none_or(Value::is_unknown) {
                        // The idempotency token is unique per create: use it as the id.
                        m.insert("id".to_string(), Value::from(r.idempotency_token.clone()));
                    }
                    let input = m.get("input").cloned().unwrap_or(Value::NULL);
                    if m.get("output").is_none_or(|o| !o.is_wholly_known()) {
                        m.insert("output".to_string(), input);
                    }
                    ApplyResult::Applied(Value::Object(m))
                }
            })
            .collect()
    }

    async fn import(&self, _type_name: &str, id: &str) -> Result<Value, ProviderError> {
        Ok(Value::Object(BTreeMap::from([
            ("id".to_string(), Value::from(id)),
            ("input".to_string(), Value::NULL),
            ("output".to_string(), Value::NULL),
            ("triggers_replace".to_string(), Value::NULL),
        ])))
    }
}

/// Recovery reads an interrupted create's planned value with its token
/// (`__idempotency_token`): the object is what apply made of it, with the
/// token as its id.
fn made_under_token(prior: Value) -> Value {
    let Value::Object(mut m) = prior else {
        return prior;
    };
    let Some(token) = m.remove(crate::provider::RECOVERY_TOKEN) else {
        return Value::Object(m);
    };
    if m.get("id").is_none_or(Value::is_unknown) {
        m.insert("id".to_string(), token);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_fills_id_and_output() {
        let p = PostureDataProvider;
        let config = Value::Object(BTreeMap::from([
            ("input".to_string(), Value::from("x")),
            ("triggers_replace".to_string(), Value::NULL),
            ("output".to_string(), Value::Unknown(Type::Dynamic)),
            ("id".to_string(), Value::Unknown(Type::String)),
        ]));
        let plan = p
            .plan(PlanRequest {
                address: "posture_data.a".into(),
                type_name: "posture_data".into(),
                prior: Value::NULL,
                config,
            })
            .await
            .expect("plan");
        assert!(plan.planned.as_map().expect("obj")["id"].is_unknown());
        let res = p
            .apply(vec![ApplyRequest {
                address: "posture_data.a".into(),
                type_name: "posture_data".into(),
                operation: Operation::Create,
                prior: Value::NULL,
                planned: plan.planned,
                idempotency_token: "tok-1".into(),
            }])
            .await;
        let ApplyResult::Applied(v) = &res[0] else {
            panic!("{res:?}")
        };
        assert_eq!(v.as_map().expect("obj")["id"], Value::from("tok-1"));
        assert_eq!(v.as_map().expect("obj")["output"], Value::from("x"));
    }

    #[tokio::test]
    async fn an_interrupted_create_is_read_with_the_id_apply_gives_it() {
        let planned = Value::Object(BTreeMap::from([
            ("input".to_string(), Value::from("x")),
            ("output".to_string(), Value::from("x")),
            ("id".to_string(), Value::Unknown(Type::String)),
            ("__idempotency_token".to_string(), Value::from("tok-1")),
        ]));
        let read = PostureDataProvider
            .read(vec![ReadRequest {
                address: "posture_data.a".into(),
                type_name: "posture_data".into(),
                prior: planned,
            }])
            .await;
        let [ReadResult::Found(v)] = read.as_slice() else {
            panic!("{read:?}")
        };
        let m = v.as_map().expect("obj");
        assert_eq!(m["id"], Value::from("tok-1"));
        assert!(!m.contains_key("__idempotency_token"));
        assert!(v.is_wholly_known());
    }
}

//! Values the plan rendering tests build: objects, string maps, and what a
//! `cluster` block evaluates to.

use crate::value::{Type, Value};

pub(super) fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

pub(super) fn strs(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        Type::String,
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
    )
}

/// `cluster.fleet["NAME"]` of a fleet in one kubeconfig.
pub(super) fn cluster(name: &str) -> Value {
    obj(&[
        ("name", Value::from(name)),
        ("kubeconfig", Value::from("/home/ops/.kube/fleet.yaml")),
        ("context", Value::from(name)),
        ("labels", strs(&[("env", "prod")])),
        ("field_manager", Value::from("posture")),
    ])
}

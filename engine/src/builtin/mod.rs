//! Resource types built into the engine: `posture_data`, the equivalent of
//! Terraform's `terraform_data`, so the language and the plan/apply cycle
//! work end to end without any external provider.

use crate::addrs::Mode;
use crate::schema::{Attribute, Schema, Schemas};
use crate::value::Type;
use std::collections::BTreeMap;

/// The schema of `posture_data`: `input` and `triggers_replace` (any type),
/// computed `output` (mirrors `input` after apply) and `id`.
pub fn posture_data_schema() -> Schema {
    Schema {
        attributes: BTreeMap::from([
            (
                "input".to_string(),
                Attribute::optional(
                    Type::Dynamic,
                    "A value to store; `output` mirrors it after apply.",
                ),
            ),
            (
                "triggers_replace".to_string(),
                Attribute::optional(Type::Dynamic, "A value whose change replaces the resource.")
                    .force_new(),
            ),
            (
                "output".to_string(),
                Attribute::computed(Type::Dynamic, "The value of `input` as of the last apply."),
            ),
            (
                "id".to_string(),
                Attribute::computed(Type::String, "A unique id, set at create."),
            ),
        ]),
        blocks: BTreeMap::new(),
        description: "Stores a value in state and replaces itself when triggers change.",
    }
}

/// The built-in schemas (only `posture_data` for now).
#[derive(Debug, Default, Clone, Copy)]
pub struct Builtins;

impl Schemas for Builtins {
    fn schema(&self, mode: Mode, type_name: &str) -> Option<Schema> {
        (mode == Mode::Managed && type_name == "posture_data").then(posture_data_schema)
    }
    fn type_names(&self, mode: Mode) -> Vec<String> {
        if mode == Mode::Managed {
            vec!["posture_data".into()]
        } else {
            Vec::new()
        }
    }
}

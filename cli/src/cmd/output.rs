//! `posture output [NAME] [--json] [--raw]`: the root outputs recorded in the
//! state by the last apply, as `terraform output` prints them; none after a
//! destroy.
//!
//! Sensitive outputs are hidden (`<sensitive>`) when every output is
//! listed; asking for one by name, or for JSON, prints its value, as
//! Terraform does: those forms are for scripts that need the value. This
//! module reads state only; it never evaluates the configuration.

use super::common::LockArgs;
use posture_engine::state::OutputValue;
use posture_engine::value::{Type, Value, render};
use serde_json::json;

/// Arguments of `posture output`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this output; its value is printed even when it is sensitive.
    name: Option<String>,
    /// Print JSON: every output as {"value", "sensitive", "type"}, or NAME's value alone.
    #[arg(long, conflicts_with = "raw")]
    json: bool,
    /// Print NAME's string, number or bool value as is, without quotes (for shell scripts).
    #[arg(long, requires = "name")]
    raw: bool,
    #[command(flatten)]
    lock: LockArgs,
}

/// The output's type, parsed from the JSON type expression the state keeps.
fn output_type(o: &OutputValue) -> Option<Type> {
    posture_engine::state::decode_json(&o.type_name)
        .ok()
        .and_then(|j| Type::from_json(&j))
}

/// The type as `terraform output -json` writes it (`"string"`, `["map","string"]`).
fn type_json(o: &OutputValue) -> serde_json::Value {
    output_type(o)
        .map(|t| t.to_json())
        .unwrap_or_else(|| Value::from_json(&o.value).ty().to_json())
}

/// The kind of the type for messages: `object`, `list`, `string`...
fn type_kind(o: &OutputValue) -> String {
    match type_json(o) {
        serde_json::Value::Array(parts) => parts
            .first()
            .and_then(|k| k.as_str())
            .unwrap_or("a complex value")
            .to_string(),
        j => j.as_str().unwrap_or("a complex value").to_string(),
    }
}

/// The value decoded with its type, so it renders as `posture console` shows it.
fn decode(o: &OutputValue) -> Value {
    match output_type(o) {
        Some(t) => {
            Value::from_json_typed(&o.value, &t).unwrap_or_else(|_| Value::from_json(&o.value))
        }
        None => Value::from_json(&o.value),
    }
}

/// Runs the command.
pub fn run(a: Args) -> u8 {
    let backend = match super::state::open("output", &a.lock) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let state = match super::state::load(&backend) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let outputs = &state.outputs;
    if let Some(name) = &a.name {
        let Some(o) = outputs.get(name) else {
            eprintln!(
                "Error: Output \"{name}\" not found\n\nThe output {name:?} could not be found in the state. If you recently added it to the configuration, run `posture apply`: outputs are recorded in the state only by an apply, and `posture destroy` removes them all.{}",
                known(outputs)
            );
            return 1;
        };
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&o.value).unwrap_or_default()
            );
            return 0;
        }
        if a.raw {
            return match &o.value {
                serde_json::Value::String(s) => {
                    print!("{s}");
                    0
                }
                serde_json::Value::Number(n) => {
                    print!("{n}");
                    0
                }
                serde_json::Value::Bool(b) => {
                    print!("{b}");
                    0
                }
                serde_json::Value::Null => {
                    eprintln!(
                        "Error: Unsupported value for raw output\n\nThe output {name:?} is null, which --raw cannot print. Use --json to see null values."
                    );
                    1
                }
                _ => {
                    eprintln!(
                        "Error: Unsupported value for raw output\n\nThe --raw option only supports strings, numbers, and boolean values, but output value {name:?} is {}. Use --json for a machine-readable representation of output values that have complex types.",
                        type_kind(o)
                    );
                    1
                }
            };
        }
        // Asked for by name: shown even when sensitive, as Terraform does.
        println!("{}", render(&decode(o)));
        return 0;
    }
    if a.json {
        let doc: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .map(|(k, o)| {
                (
                    k.clone(),
                    json!({ "sensitive": o.sensitive, "type": type_json(o), "value": o.value }),
                )
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(doc)).unwrap_or_default()
        );
        return 0;
    }
    if outputs.is_empty() {
        eprintln!(
            "Warning: No outputs found\n\nThe state has no outputs: they are recorded by `posture apply`, and `posture destroy` removes them all. Declare one with an `output` block in the configuration and run `posture apply` to record it."
        );
        return 0;
    }
    for (k, o) in outputs {
        let shown = if o.sensitive {
            "<sensitive>".to_string()
        } else {
            render(&decode(o))
        };
        println!("{k} = {shown}");
    }
    0
}

fn known(outputs: &std::collections::BTreeMap<String, OutputValue>) -> String {
    if outputs.is_empty() {
        " The state has no outputs yet.".to_string()
    } else {
        format!(
            " Outputs in the state: {}.",
            outputs.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

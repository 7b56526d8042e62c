//! The plan: what apply will do, instance by instance, and its JSON forms
//! (a saved plan file, and the documented `plan --json` document).

use crate::value::{Value, codec};
use serde_json::{Value as J, json};

/// What happens to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Nothing.
    NoOp,
    /// A new object.
    Create,
    /// A data source read.
    Read,
    /// Changed in place.
    Update,
    /// Destroyed, then created again.
    DeleteThenCreate,
    /// Created again, then the old one destroyed (create_before_destroy).
    CreateThenDelete,
    /// Destroyed.
    Delete,
}

impl Action {
    /// Terraform's `actions` array for the JSON plan.
    pub fn json_actions(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Read => vec!["read"],
            Action::Update => vec!["update"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
        }
    }
    fn from_json_actions(a: &[&str]) -> Option<Action> {
        Some(match a {
            ["no-op"] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete", "create"] => Action::DeleteThenCreate,
            ["create", "delete"] => Action::CreateThenDelete,
            ["delete"] => Action::Delete,
            _ => return None,
        })
    }
    /// True for the two kinds of replacement.
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

/// The planned change of one resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// Its address, like `module.app["eu"].posture_data.x[0]`.
    pub address: String,
    /// `managed` or `data`.
    pub data: bool,
    /// Resource type.
    pub type_name: String,
    /// The provider serving it.
    pub provider: String,
    /// What happens.
    pub action: Action,
    /// Why, when it is not obvious ("requested with --replace", "triggers_replace changed").
    pub reason: Option<String>,
    /// The object before (null when absent).
    pub before: Value,
    /// The object after (null when deleted), unknown where only apply knows.
    pub after: Value,
    /// Attribute paths whose change forces replacement.
    pub replace_paths: Vec<String>,
    /// Addresses of the instances it directly depends on.
    pub dependencies: Vec<String>,
    /// The resource's `lifecycle { create_before_destroy }`.
    pub create_before_destroy: bool,
    /// Provider notes (conflicts, warnings).
    pub notes: Vec<String>,
    /// The recorded object is tainted (its apply did not complete): the
    /// reason it is replaced.
    pub tainted: bool,
    /// For the delete of an object a create-before-destroy replacement left
    /// behind (a deposed object of this address): its deposed key.
    pub deposed: Option<String>,
}

/// The change of one root output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputChange {
    /// Output name.
    pub name: String,
    /// Before (null when new).
    pub before: Value,
    /// After (null when removed).
    pub after: Value,
    /// Declared sensitive.
    pub sensitive: bool,
}

/// What kind of plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanMode {
    /// Converge to the configuration.
    Normal,
    /// Destroy everything.
    Destroy,
    /// Only accept what changed outside posture into state.
    RefreshOnly,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The state lineage it was made against.
    pub lineage: String,
    /// The state serial it was made against.
    pub serial: u64,
    /// Normal, destroy or refresh-only.
    pub mode: PlanMode,
    /// Every instance, no-ops included, in dependency order.
    pub changes: Vec<ResourceChange>,
    /// Changes made outside posture, found by refresh.
    pub drift: Vec<ResourceChange>,
    /// Root outputs.
    pub outputs: Vec<OutputChange>,
    /// Root variable values used, to apply a saved plan with the same values.
    pub variables: Vec<(String, Value)>,
    /// Instances that could not be read or planned (an unreachable cluster,
    /// an API error), with why: left out of this plan, the rest goes on.
    pub failed: Vec<(String, String)>,
}

/// Version of the saved plan file format.
pub const PLAN_FILE_VERSION: u64 = 1;
/// Version of the `plan --json` / `show --json` document.
pub const JSON_FORMAT_VERSION: &str = "1.0";

impl Plan {
    /// Counts (add, change, destroy) as "Plan: N to add, N to change, N to destroy."
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut add, mut change, mut destroy) = (0, 0, 0);
        for c in &self.changes {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1;
                }
                Action::NoOp | Action::Read => {}
            }
        }
        (add, change, destroy)
    }

    /// True when applying would change anything (resources or outputs).
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action != Action::NoOp && c.action != Action::Read)
            || self
                .outputs
                .iter()
                .any(|o| !crate::value::raw_equal(&o.before, &o.after) || o.after.is_unknown())
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }

    /// The saved plan file (lossless: unknowns and sensitive marks kept).
    pub fn to_file_json(&self) -> J {
        json!({
            "posture_plan_format": PLAN_FILE_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "mode": match self.mode { PlanMode::Normal => "normal", PlanMode::Destroy => "destroy", PlanMode::RefreshOnly => "refresh-only" },
            "changes": self.changes.iter().map(change_file_json).collect::<Vec<_>>(),
            "drift": self.drift.iter().map(change_file_json).collect::<Vec<_>>(),
            "outputs": self.outputs.iter().map(|o| json!({"name": o.name, "before": codec::encode(&o.before), "after": codec::encode(&o.after), "sensitive": o.sensitive})).collect::<Vec<_>>(),
            "variables": self.variables.iter().map(|(k, v)| json!({"name": k, "value": codec::encode(v)})).collect::<Vec<_>>(),
            "failed": self.failed.iter().map(|(a, m)| json!({"address": a, "message": m})).collect::<Vec<_>>(),
        })
    }

    /// Reads a saved plan file.
    ///
    /// # Errors
    /// A message saying what is wrong with the file.
    pub fn from_file_json(j: &J) -> Result<Plan, String> {
        let v = j
            .get("posture_plan_format")
            .and_then(J::as_u64)
            .ok_or("this file is not a posture plan")?;
        if v > PLAN_FILE_VERSION {
            return Err(format!(
                "the plan was written by a newer posture (plan format {v}); use that version to apply it"
            ));
        }
        let s = |k: &str| {
            j.get(k)
                .and_then(J::as_str)
                .ok_or_else(|| format!("the plan file has no {k}"))
        };
        let mode = match s("mode")? {
            "normal" => PlanMode::Normal,
            "destroy" => PlanMode::Destroy,
            "refresh-only" => PlanMode::RefreshOnly,
            other => return Err(format!("unknown plan mode {other:?}")),
        };
        let list = |k: &str| -> Result<Vec<ResourceChange>, String> {
            j.get(k)
                .and_then(J::as_array)
                .ok_or_else(|| format!("the plan file has no {k}"))?
                .iter()
                .map(change_from_file_json)
                .collect()
        };
        let outputs = j
            .get("outputs")
            .and_then(J::as_array)
            .ok_or("the plan file has no outputs")?
            .iter()
            .map(|o| {
                Ok(OutputChange {
                    name: o["name"].as_str().ok_or("output without name")?.to_string(),
                    before: codec::decode(&o["before"]).ok_or("bad output value")?,
                    after: codec::decode(&o["after"]).ok_or("bad output value")?,
                    sensitive: o["sensitive"].as_bool().unwrap_or(false),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let variables = j
            .get("variables")
            .and_then(J::as_array)
            .ok_or("the plan file has no variables")?
            .iter()
            .map(|o| {
                Ok((
                    o["name"]
                        .as_str()
                        .ok_or("variable without name")?
                        .to_string(),
                    codec::decode(&o["value"]).ok_or("bad variable value")?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Plan {
            lineage: s("lineage")?.to_string(),
            serial: j
                .get("serial")
                .and_then(J::as_u64)
                .ok_or("the plan file has no serial")?,
            mode,
            changes: list("changes")?,
            drift: list("drift")?,
            outputs,
            variables,
            failed: j
                .get("failed")
                .and_then(J::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| {
                            Some((
                                f["address"].as_str()?.to_string(),
                                f["message"].as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The documented `plan --json` document: values with sensitive parts
    /// replaced by `"(sensitive value)"` and unknowns listed in `after_unknown`.
    pub fn to_json(&self) -> J {
        let change = |c: &ResourceChange| {
            let mut j = json!({
                "address": c.address,
                "mode": if c.data { "data" } else { "managed" },
                "type": c.type_name,
                "provider_name": c.provider,
                "change": {
                    "actions": c.action.json_actions(),
                    "before": redacted_json(&c.before),
                    "after": redacted_json(&c.after),
                    "after_unknown": unknown_json(&c.after),
                    "replace_paths": c.replace_paths,
                },
                "action_reason": if c.tainted { Some("replace_because_tainted") } else { c.reason.as_deref() },
            });
            // As Terraform's: present only for a deposed object.
            if let (Some(k), Some(m)) = (&c.deposed, j.as_object_mut()) {
                m.insert("deposed".to_string(), J::from(k.as_str()));
            }
            j
        };
        json!({
            "format_version": JSON_FORMAT_VERSION,
            "posture_version": env!("CARGO_PKG_VERSION"),
            "prior_state": {"lineage": self.lineage, "serial": self.serial},
            "resource_changes": self.changes.iter().map(change).collect::<Vec<_>>(),
            "resource_drift": self.drift.iter().map(change).collect::<Vec<_>>(),
            "output_changes": self.outputs.iter().map(|o| (o.name.clone(), json!({
                "actions": if o.before.is_null() { vec!["create"] } else if o.after.is_null() { vec!["delete"] } else if crate::value::raw_equal(&o.before, &o.after) { vec!["no-op"] } else { vec!["update"] },
                "before": if o.sensitive { J::from("(sensitive value)") } else { redacted_json(&o.before) },
                "after": if o.sensitive { J::from("(sensitive value)") } else { redacted_json(&o.after) },
                "after_unknown": o.after.is_unknown(),
                "sensitive": o.sensitive,
            }))).collect::<serde_json::Map<_, _>>(),
            "summary": {"add": self.counts().0, "change": self.counts().1, "destroy": self.counts().2},
            // Like Terraform's `errored`: the summary above counts only what could be planned.
            "errored": !self.failed.is_empty(),
            "errored_instances": self.failed.iter().map(|(a, m)| json!({"address": a, "message": m})).collect::<Vec<_>>(),
        })
    }
}

/// JSON of a value with sensitive parts replaced by `"(sensitive value)"`
/// and unknowns by null: safe to print.
pub fn redacted_json(v: &Value) -> J {
    match v {
        Value::Sensitive(_) => J::from("(sensitive value)"),
        Value::Unknown(_) | Value::Null(_) => J::Null,
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
            J::Array(items.iter().map(redacted_json).collect())
        }
        Value::Map(_, m) | Value::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), redacted_json(v)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

/// Terraform's `after_unknown`: `true` where a value is unknown, mirroring the structure.
fn unknown_json(v: &Value) -> J {
    match v.unmarked() {
        Value::Unknown(_) => J::Bool(true),
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
            J::Array(items.iter().map(unknown_json).collect())
        }
        Value::Map(_, m) | Value::Object(m) => J::Object(
            m.iter()
                .filter(|(_, v)| !v.is_wholly_known())
                .map(|(k, v)| (k.clone(), unknown_json(v)))
                .collect(),
        ),
        _ => J::Bool(false),
    }
}

fn change_file_json(c: &ResourceChange) -> J {
    json!({
        "address": c.address, "data": c.data, "type": c.type_name, "provider": c.provider,
        "actions": c.action.json_actions(), "reason": c.reason,
        "before": codec::encode(&c.before), "after": codec::encode(&c.after),
        "replace_paths": c.replace_paths, "dependencies": c.dependencies,
        "create_before_destroy": c.create_before_destroy, "notes": c.notes,
        "tainted": c.tainted, "deposed": c.deposed,
    })
}

fn change_from_file_json(j: &J) -> Result<ResourceChange, String> {
    let strs = |k: &str| -> Vec<String> {
        j.get(k)
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let actions = strs("actions");
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    Ok(ResourceChange {
        address: j["address"]
            .as_str()
            .ok_or("change without address")?
            .to_string(),
        data: j["data"].as_bool().unwrap_or(false),
        type_name: j["type"].as_str().ok_or("change without type")?.to_string(),
        provider: j["provider"]
            .as_str()
            .ok_or("change without provider")?
            .to_string(),
        action: Action::from_json_actions(&actions).ok_or("unknown actions")?,
        reason: j["reason"].as_str().map(str::to_string),
        before: codec::decode(&j["before"]).ok_or("bad before value")?,
        after: codec::decode(&j["after"]).ok_or("bad after value")?,
        replace_paths: strs("replace_paths"),
        dependencies: strs("dependencies"),
        create_before_destroy: j["create_before_destroy"].as_bool().unwrap_or(false),
        notes: strs("notes"),
        tainted: j["tainted"].as_bool().unwrap_or(false),
        deposed: j["deposed"].as_str().map(str::to_string),
    })
}

//! A plan as people read it, in Terraform's layout:
//!
//! ```text
//!   # posture_data.x will be updated in place
//!   ~ resource "posture_data" "x" {
//!         id     = "4d1c..."
//!       ~ input  = "a" -> "b"
//!     }
//!
//! Plan: 0 to add, 1 to change, 0 to destroy.
//! ```
//!
//! Sensitive values print as `(sensitive value)`, unknown ones as
//! `(known after apply)`; each instance's attributes are a structured diff
//! (see [`super::diff`]): unchanged ones counted, not shown.
//!
//! A plan with instances that could not be read or planned never ends in
//! "No changes.": it ends in a `Plan incomplete: ...` line instead, because
//! nothing is known about those instances.

use super::diff::{Op, render_attrs};
use super::model::*;
use crate::value::{Value, raw_equal, render::quote};
use std::fmt::Write;

/// Which command shows the plan: only the closing line of an incomplete
/// plan differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownBy {
    /// `plan` or `show`: nothing is applied.
    Plan,
    /// `apply` or `destroy`, before applying what was planned.
    Apply,
}

/// Renders the whole plan for a terminal, as `plan` shows it.
pub fn render_plan(p: &Plan) -> String {
    render_plan_for(p, ShownBy::Plan)
}

/// Renders the whole plan for a terminal, closing as `shown_by` needs.
pub fn render_plan_for(p: &Plan, shown_by: ShownBy) -> String {
    let mut out = render_body(p);
    if let Some(line) = incomplete_line(p, shown_by) {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The closing line of a plan some instances are missing from, if any.
pub fn incomplete_line(p: &Plan, shown_by: ShownBy) -> Option<String> {
    let n = p.failed.len();
    if n == 0 {
        return None;
    }
    let (noun, pronoun) = if n == 1 {
        ("instance", "it is")
    } else {
        ("instances", "they are")
    };
    let tail = if shown_by == ShownBy::Apply && p.has_changes() {
        format!("{pronoun} left out of the actions above")
    } else {
        "nothing was changed".to_string()
    };
    Some(format!(
        "Plan incomplete: {n} {noun} could not be read or planned (errors below); {tail}."
    ))
}

fn render_body(p: &Plan) -> String {
    let mut out = String::new();
    if !p.drift.is_empty() {
        out.push_str("Note: Objects have changed outside of posture\n\nposture detected the following changes made outside of posture since the last \"posture apply\":\n\n");
        for c in &p.drift {
            render_change(&mut out, c, true);
        }
        if p.mode == PlanMode::RefreshOnly {
            out.push_str("This is a refresh-only plan, so posture will not take any actions to undo these. If you apply it, posture will accept these changes into its state.\n\n");
            return out;
        }
    }
    let acting: Vec<&ResourceChange> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if acting.is_empty() {
        let outputs_change = p
            .outputs
            .iter()
            .any(|o| !raw_equal(&o.before, &o.after) || o.after.is_unknown());
        if !outputs_change {
            // With instances missing, "matches the configuration" is unknown.
            if p.failed.is_empty() {
                out.push_str("No changes. Your infrastructure matches the configuration.\n");
            }
            return out;
        }
    } else {
        out.push_str("posture will perform the following actions:\n\n");
        for c in &acting {
            render_change(&mut out, c, false);
        }
        let (a, ch, d) = p.counts();
        let _ = writeln!(out, "Plan: {a} to add, {ch} to change, {d} to destroy.");
    }
    let changed_outputs: Vec<&OutputChange> = p
        .outputs
        .iter()
        .filter(|o| !raw_equal(&o.before, &o.after) || o.after.is_unknown())
        .collect();
    if !changed_outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        for o in changed_outputs {
            let show = |v: &Value| {
                if o.sensitive {
                    "(sensitive value)".to_string()
                } else {
                    inline(v)
                }
            };
            if o.before.is_null() {
                let _ = writeln!(out, "  + {} = {}", o.name, show(&o.after));
            } else if o.after.is_null() {
                let _ = writeln!(out, "  - {} = {} -> null", o.name, show(&o.before));
            } else {
                let _ = writeln!(
                    out,
                    "  ~ {} = {} -> {}",
                    o.name,
                    show(&o.before),
                    show(&o.after)
                );
            }
        }
    }
    out
}

fn headline(c: &ResourceChange, drift: bool) -> (&'static str, String) {
    let a = &c.address;
    if drift {
        return match c.action {
            Action::Delete => ("-", format!("# {a} has been deleted")),
            _ => ("~", format!("# {a} has changed")),
        };
    }
    match c.action {
        Action::Create => ("+", format!("# {a} will be created")),
        Action::Read => ("<=", format!("# {a} will be read during apply")),
        Action::Update => ("~", format!("# {a} will be updated in place")),
        Action::Delete => match &c.deposed {
            Some(k) => ("-", format!("# {a} (deposed object {k}) will be destroyed")),
            None => ("-", format!("# {a} will be destroyed")),
        },
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            let sym = if c.action == Action::DeleteThenCreate {
                "-/+"
            } else {
                "+/-"
            };
            if c.tainted {
                (sym, format!("# {a} is tainted, so must be replaced"))
            } else {
                (sym, format!("# {a} must be replaced"))
            }
        }
        Action::NoOp => (" ", format!("# {a} is unchanged")),
    }
}

fn render_change(out: &mut String, c: &ResourceChange, drift: bool) {
    let (sym, head) = headline(c, drift);
    let _ = writeln!(out, "  {head}");
    if let Some(r) = &c.reason {
        let _ = writeln!(out, "  # ({r})");
    }
    for n in &c.notes {
        let _ = writeln!(out, "  # note: {n}");
    }
    let (kw, name) = split_address(c);
    let _ = writeln!(out, "{:>3} {kw} \"{}\" \"{name}\" {{", sym, c.type_name);
    let op = match c.action {
        Action::Create | Action::Read => Op::Create,
        Action::Delete => Op::Delete,
        _ => Op::Update,
    };
    render_attrs(out, &c.before, &c.after, op, &c.replace_paths, 3);
    out.push_str("    }\n\n");
}

fn split_address(c: &ResourceChange) -> (&'static str, String) {
    let kw = if c.data { "data" } else { "resource" };
    // The name is what follows the type in the address (with any instance key dropped).
    let after_type = c
        .address
        .rsplit_once(&format!("{}.", c.type_name))
        .map(|(_, n)| n)
        .unwrap_or(&c.address);
    let name = after_type
        .split('[')
        .next()
        .unwrap_or(after_type)
        .to_string();
    (kw, name)
}

/// A value on one line, HCL-like: `{ a = 1, b = "x" }`, `["a", "b"]`.
pub fn inline(v: &Value) -> String {
    match v {
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Null(_) => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
            format!(
                "[{}]",
                items.iter().map(inline).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Map(_, m) | Value::Object(m) => {
            if m.is_empty() {
                "{}".into()
            } else {
                format!(
                    "{{ {} }}",
                    m.iter()
                        .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    }
}

/// An object key as HCL writes it: bare when it is an identifier.
pub(super) fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ident { k.to_string() } else { quote(k) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(changes: Vec<ResourceChange>, failed: &[&str]) -> Plan {
        Plan {
            lineage: "l".into(),
            serial: 1,
            mode: PlanMode::Normal,
            changes,
            drift: vec![],
            outputs: vec![],
            variables: vec![],
            failed: failed
                .iter()
                .map(|a| (a.to_string(), "cluster down is unreachable".to_string()))
                .collect(),
        }
    }

    fn create(address: &str) -> ResourceChange {
        ResourceChange {
            address: address.into(),
            data: false,
            type_name: "posture_data".into(),
            provider: "posture".into(),
            action: Action::Create,
            reason: None,
            before: Value::NULL,
            after: Value::Object([("input".to_string(), Value::from("a"))].into()),
            replace_paths: vec![],
            dependencies: vec![],
            create_before_destroy: false,
            notes: vec![],
            tainted: false,
            deposed: None,
        }
    }

    #[test]
    fn a_complete_plan_without_changes_says_no_changes() {
        assert_eq!(
            render_plan(&plan(vec![], &[])),
            "No changes. Your infrastructure matches the configuration.\n"
        );
    }

    #[test]
    fn a_plan_with_only_failures_says_incomplete_and_never_no_changes() {
        let text = render_plan(&plan(vec![], &["posture_data.x"]));
        assert_eq!(
            text,
            "Plan incomplete: 1 instance could not be read or planned (errors below); nothing was changed.\n"
        );
        let text = render_plan_for(&plan(vec![], &["a.b", "a.c"]), ShownBy::Apply);
        assert!(!text.contains("No changes"), "{text}");
        assert!(
            text.contains("2 instances could not be read or planned"),
            "{text}"
        );
        assert!(text.contains("nothing was changed."), "{text}");
    }

    #[test]
    fn a_partial_plan_shows_the_rest_then_the_failures() {
        let p = plan(vec![create("posture_data.ok")], &["posture_data.down"]);
        let text = render_plan(&p);
        assert!(
            text.ends_with(
                "Plan: 1 to add, 0 to change, 0 to destroy.\n\nPlan incomplete: 1 instance could not be read or planned (errors below); nothing was changed.\n"
            ),
            "{text}"
        );
        assert!(text.contains("# posture_data.ok will be created"), "{text}");
        let text = render_plan_for(&p, ShownBy::Apply);
        assert!(
            text.ends_with("(errors below); it is left out of the actions above.\n"),
            "{text}"
        );
    }

    #[test]
    fn a_complete_plan_has_no_incomplete_line() {
        let text = render_plan(&plan(vec![create("posture_data.ok")], &[]));
        assert!(!text.contains("incomplete"), "{text}");
        assert!(incomplete_line(&plan(vec![], &[]), ShownBy::Plan).is_none());
    }
}

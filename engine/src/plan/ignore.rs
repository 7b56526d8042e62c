//! `lifecycle { ignore_changes }`: the recorded value wins at every named
//! path, at any depth (`manifest.spec.replicas`, `input["a"]`, `rules[0]`);
//! every other path changes as configured. A path into a key the
//! configuration or the record lacks is fine: nothing to keep there.

use crate::config::IgnoreChanges;
use crate::value::Value;
use hcl_edit::expr::{Expression, TraversalOperator};

/// One step of an ignored path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// An attribute or map key: `.name`, `["name"]`.
    Key(String),
    /// A list element: `[0]`.
    Index(u64),
}

/// The path an `ignore_changes` entry names, or `None` when it is not a
/// plain traversal. A splat ends the path: what precedes it is kept whole.
pub(crate) fn path_of(e: &Expression) -> Option<Vec<Step>> {
    match e {
        Expression::Variable(v) => Some(vec![Step::Key(v.value().as_str().to_string())]),
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return None;
            };
            let mut path = vec![Step::Key(root.value().as_str().to_string())];
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(id) => {
                        path.push(Step::Key(id.value().as_str().to_string()))
                    }
                    TraversalOperator::LegacyIndex(n) => path.push(Step::Index(*n.value())),
                    TraversalOperator::Index(ix) => match ix {
                        Expression::String(s) => path.push(Step::Key(s.value().to_string())),
                        Expression::Number(n) => match n.value().as_u64() {
                            Some(i) => path.push(Step::Index(i)),
                            None => return Some(path),
                        },
                        _ => return Some(path),
                    },
                    _ => return Some(path),
                }
            }
            Some(path)
        }
        _ => None,
    }
}

/// `config` with the recorded values of `prior` at what `ignore` names.
pub(crate) fn apply(config: Value, prior: &Value, ignore: &IgnoreChanges) -> Value {
    if prior.is_null() {
        return config;
    }
    match ignore {
        IgnoreChanges::None => config,
        IgnoreChanges::All => keep_all(config, prior),
        IgnoreChanges::Paths(paths) => paths
            .iter()
            .filter_map(|p| path_of(&p.expr))
            .fold(config, |c, path| keep_at(c, Some(prior), &path)),
    }
}

/// Every attribute the configuration sets takes its recorded value.
fn keep_all(config: Value, prior: &Value) -> Value {
    let (Value::Object(mut c), Some(p)) = (config, prior.as_map()) else {
        return Value::NULL;
    };
    for (k, v) in p {
        if c.contains_key(k) {
            c.insert(k.clone(), v.clone());
        }
    }
    Value::Object(c)
}

fn key_of(step: &Step) -> String {
    match step {
        Step::Key(k) => k.clone(),
        Step::Index(i) => i.to_string(),
    }
}

/// `config` with `prior`'s value at `path`. A key the record lacks is
/// dropped from the configuration (its addition is ignored); a path the
/// configuration lacks leaves it as it is.
fn keep_at(config: Value, prior: Option<&Value>, path: &[Step]) -> Value {
    let Some((step, rest)) = path.split_first() else {
        return match prior {
            Some(p) => p.clone(),
            None => config,
        };
    };
    match config {
        Value::Sensitive(inner) => Value::Sensitive(Box::new(keep_at(*inner, prior, path))),
        Value::Object(m) => Value::Object(keep_in_map(m, prior, step, rest)),
        Value::Map(t, m) => Value::Map(t, keep_in_map(m, prior, step, rest)),
        Value::List(t, items) => Value::List(t, keep_in_seq(items, prior, step, rest)),
        Value::Tuple(items) => Value::Tuple(keep_in_seq(items, prior, step, rest)),
        other => other,
    }
}

fn keep_in_map(
    mut m: std::collections::BTreeMap<String, Value>,
    prior: Option<&Value>,
    step: &Step,
    rest: &[Step],
) -> std::collections::BTreeMap<String, Value> {
    let k = key_of(step);
    let pm = prior.and_then(Value::as_map);
    let pv = pm.and_then(|pm| pm.get(&k));
    if rest.is_empty() {
        match (pm, pv) {
            (_, Some(pv)) => {
                m.insert(k, pv.clone());
            }
            // Recorded without it: the configuration's addition is ignored.
            (Some(_), None) => {
                m.remove(&k);
            }
            (None, None) => {}
        }
    } else if let Some(cv) = m.remove(&k) {
        m.insert(k, keep_at(cv, pv, rest));
    }
    m
}

fn keep_in_seq(
    mut items: Vec<Value>,
    prior: Option<&Value>,
    step: &Step,
    rest: &[Step],
) -> Vec<Value> {
    let Step::Index(i) = step else {
        return items;
    };
    let Ok(i) = usize::try_from(*i) else {
        return items;
    };
    let pv = prior.and_then(Value::as_seq).and_then(|s| s.get(i));
    if let Some(slot) = items.get_mut(i) {
        let cv = std::mem::replace(slot, Value::NULL);
        *slot = match (rest.is_empty(), pv) {
            (true, Some(pv)) => pv.clone(),
            (true, None) => cv,
            (false, _) => keep_at(cv, pv, rest),
        };
    }
    items
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;

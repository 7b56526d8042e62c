//! The bound on how deeply values may nest.
//!
//! The parser allows 64 nested levels per expression and `jsondecode` /
//! `yamldecode` 1,000, but a chain of locals can nest without end, and every
//! later step (conversion, planning, the state codec, rendering) recurses on
//! the value: past some depth that overflows the stack and aborts. So a
//! variable, local, output or resource instance whose value nests more than
//! [`MAX_VALUE_DEPTH`] levels is an error at its definition. The state
//! decoder reads records far deeper than this (`state::json::MAX_DEPTH`),
//! so anything the language accepts round-trips.

use crate::diag::{Diagnostic, Span};
use crate::value::Value;

/// The deepest nesting of lists, sets, maps, tuples and objects a value of
/// a variable, local, output or resource instance may have.
pub const MAX_VALUE_DEPTH: usize = 1_000;

/// How many collection levels `v` nests (0 for a primitive), counted
/// without recursion so a hostile value cannot overflow the stack here.
/// Stops counting past `limit`.
pub fn value_depth(v: &Value, limit: usize) -> usize {
    let mut max = 0;
    let mut todo: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = todo.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::List(_, xs) | Value::Set(_, xs) | Value::Tuple(xs) => Box::new(xs.iter()),
            Value::Map(_, m) | Value::Object(m) => Box::new(m.values()),
            Value::Sensitive(inner) => {
                todo.push((inner, d));
                continue;
            }
            _ => continue,
        };
        let here = d + 1;
        if here > max {
            max = here;
            if max > limit {
                return max;
            }
        }
        todo.extend(children.map(|c| (c, here)));
    }
    max
}

/// `Some(diagnostic)` at `span` when `v` nests deeper than [`MAX_VALUE_DEPTH`].
pub(crate) fn check(v: &Value, what: &str, span: Option<Span>) -> Option<Diagnostic> {
    if value_depth(v, MAX_VALUE_DEPTH) <= MAX_VALUE_DEPTH {
        return None;
    }
    Some(
        Diagnostic::error(
            "Value nested too deeply",
            format!(
                "The value of {what} nests lists, maps or objects more than {MAX_VALUE_DEPTH} \
                 levels deep; posture supports at most {MAX_VALUE_DEPTH}. Flatten the value, \
                 or encode its deeper parts as a string with jsonencode."
            ),
        )
        .at_opt(span),
    )
}

#[cfg(test)]
mod tests {
    use super::{MAX_VALUE_DEPTH, check, value_depth};
    use crate::value::Value;

    fn nested(depth: usize) -> Value {
        let mut v = Value::from("x");
        for _ in 0..depth {
            v = Value::Tuple(vec![v]);
        }
        v
    }

    #[test]
    fn depth_counts_collections_not_sensitive_marks() {
        assert_eq!(value_depth(&Value::from("x"), 10), 0);
        assert_eq!(value_depth(&nested(3), 10), 3);
        assert_eq!(value_depth(&Value::Sensitive(Box::new(nested(2))), 10), 2);
    }

    #[test]
    fn value_nested_past_the_bound_is_a_diagnostic_not_a_stack_overflow() {
        assert!(check(&nested(MAX_VALUE_DEPTH), "local.x", None).is_none());
        let d = check(&nested(MAX_VALUE_DEPTH + 1), "local.x", None).expect("too deep");
        assert!(format!("{d:?}").contains("local.x"));
        let deep = nested(20_000);
        assert!(check(&deep, "local.x", None).is_some());
        // Dropping a 20,000-level value recurses: do it on a big stack.
        stacker::grow(64 * 1024 * 1024, move || drop(deep));
    }
}

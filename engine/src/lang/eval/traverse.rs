//! Attribute access, indexing and splats.

use super::Evaluator;
use crate::diag::{Diagnostic, Span};
use crate::value::{Type, Value, convert};
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::{Decorated, Span as _};

impl Evaluator<'_> {
    pub(super) fn traversal(&mut self, t: &Traversal, e: &Expression) -> Value {
        if let Expression::Variable(root) = &t.expr {
            let span = self.span_of(e);
            return self.reference(root.value().as_str(), &t.operators, span);
        }
        let base = self.eval(&t.expr);
        self.apply_ops(base, &t.operators)
    }

    /// Applies traversal operators to a value.
    pub(crate) fn apply_ops(
        &mut self,
        mut v: Value,
        ops: &[Decorated<TraversalOperator>],
    ) -> Value {
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            let span = self.span_range(op.span());
            match op.value() {
                TraversalOperator::GetAttr(name) => {
                    v = self.get_attr(v, name.value().as_str(), span);
                }
                TraversalOperator::LegacyIndex(n) => {
                    v = self.index(v, Value::from(*n.value() as i64), span);
                }
                TraversalOperator::Index(ie) => {
                    let key = self.eval(ie);
                    v = self.index(v, key, span);
                }
                TraversalOperator::FullSplat(_) | TraversalOperator::AttrSplat(_) => {
                    let full = matches!(op.value(), TraversalOperator::FullSplat(_));
                    // A full splat applies every following operator to each
                    // element; the legacy attribute splat only the attribute
                    // and legacy-index operators right after it.
                    let end = if full {
                        ops.len()
                    } else {
                        ops[i + 1..]
                            .iter()
                            .position(|o| {
                                !matches!(
                                    o.value(),
                                    TraversalOperator::GetAttr(_)
                                        | TraversalOperator::LegacyIndex(_)
                                )
                            })
                            .map(|p| i + 1 + p)
                            .unwrap_or(ops.len())
                    };
                    let rest = &ops[i + 1..end];
                    v = self.splat(v, rest);
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        v
    }

    fn splat(&mut self, v: Value, rest: &[Decorated<TraversalOperator>]) -> Value {
        let (v, marked) = v.unmark();
        let out = match v {
            Value::Null(_) => Value::Tuple(vec![]),
            Value::Unknown(_) => Value::Unknown(Type::Dynamic),
            Value::Tuple(items) => {
                let vals: Vec<Value> = items.into_iter().map(|x| self.apply_ops(x, rest)).collect();
                Value::Tuple(vals)
            }
            // HCL's SplatExpr: a list or set source gives a list (of the
            // traversed element type when empty), a tuple a tuple.
            Value::List(ety, items) | Value::Set(ety, items) => {
                if items.is_empty() {
                    // The element type traversed; a probe, so its errors
                    // (not its reference errors) are dropped.
                    let before = self.diags.0.len();
                    let ty = self.apply_ops(Value::Unknown(ety), rest).ty();
                    drop(self.held_since(before));
                    return Value::List(ty, vec![]).mark_if(marked);
                }
                let mut vals: Vec<Value> =
                    items.into_iter().map(|x| self.apply_ops(x, rest)).collect();
                match convert::unify_values(&mut vals) {
                    Ok(t) => Value::List(t, vals),
                    Err(_) => Value::Tuple(vals),
                }
            }
            single => {
                // A single value splats as a one-element tuple.
                Value::Tuple(vec![self.apply_ops(single, rest)])
            }
        };
        out.mark_if(marked)
    }

    fn get_attr(&mut self, v: Value, name: &str, span: Span) -> Value {
        let (v, marked) = v.unmark();
        let out = match v {
            Value::Unknown(_) => Value::Unknown(Type::Dynamic),
            Value::Null(_) => {
                return self.error(
                    Diagnostic::error(
                        "Attempt to get attribute from null value",
                        "This value is null, so it does not have any attributes.",
                    ),
                    span,
                );
            }
            Value::Object(mut m) => match m.remove(name) {
                Some(x) => x,
                None => {
                    let hint = crate::diag::suggest(name, m.keys().map(String::as_str))
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    return self.error(
                        Diagnostic::error(
                            "Unsupported attribute",
                            format!(
                                "This object does not have an attribute named \"{name}\".{hint}"
                            ),
                        ),
                        span,
                    );
                }
            },
            Value::Map(_, mut m) => match m.remove(name) {
                Some(x) => x,
                None => {
                    return self.error(
                        Diagnostic::error(
                            "Missing map element",
                            format!("This map does not have an element with the key \"{name}\"."),
                        ),
                        span,
                    );
                }
            },
            Value::List(..) | Value::Tuple(_) | Value::Set(..) => {
                return self.error(
                    Diagnostic::error(
                        "Unsupported attribute",
                        format!("Can't access attributes on a list of objects. Did you mean to access attribute \"{name}\" for a specific element of the list, or across all elements of the list (with [*])?"),
                    ),
                    span,
                );
            }
            other => {
                return self.error(
                    Diagnostic::error(
                        "Unsupported attribute",
                        format!(
                            "Can't access attributes on a primitive-typed value ({}).",
                            other.ty().friendly_name()
                        ),
                    ),
                    span,
                );
            }
        };
        out.mark_if(marked)
    }

    fn index(&mut self, v: Value, key: Value, span: Span) -> Value {
        let (v, vm) = v.unmark();
        let (key, km) = key.unmark();
        let marked = vm || km;
        if v.is_null() {
            return self.error(
                Diagnostic::error(
                    "Attempt to index null value",
                    "This value is null, so it does not have any indices.",
                ),
                span,
            );
        }
        if key.is_null() {
            return self.error(
                Diagnostic::error(
                    "Invalid index",
                    "Can't use a null value as an indexing key.",
                ),
                span,
            );
        }
        if v.is_unknown() || key.is_unknown() {
            let et = match &v {
                Value::Unknown(t) => t.element_type().cloned().unwrap_or(Type::Dynamic),
                other => other.ty().element_type().cloned().unwrap_or(Type::Dynamic),
            };
            return Value::Unknown(et).mark_if(marked);
        }
        let invalid = || {
            Diagnostic::error(
                "Invalid index",
                "The given key does not identify an element in this collection value.",
            )
        };
        let out = match v {
            Value::List(_, items) | Value::Tuple(items) => {
                let idx = match convert::convert(key, &Type::Number) {
                    Ok(Value::Number(n)) => n,
                    _ => {
                        return self.error(
                            Diagnostic::error("Invalid index", "The given key does not identify an element in this collection value: a number is required."),
                            span,
                        );
                    }
                };
                match idx.to_i64() {
                    Some(i) if i >= 0 && (i as usize) < items.len() => {
                        items.into_iter().nth(i as usize).unwrap_or(Value::NULL)
                    }
                    Some(i) if i < 0 => {
                        return self.error(
                            Diagnostic::error("Invalid index", "The given key does not identify an element in this collection value: a negative number is not a valid index for a sequence."),
                            span,
                        );
                    }
                    Some(_) => {
                        return self.error(
                            Diagnostic::error("Invalid index", "The given key does not identify an element in this collection value: the collection has fewer elements than the index."),
                            span,
                        );
                    }
                    None => return self.error(invalid(), span),
                }
            }
            Value::Map(_, mut m) | Value::Object(mut m) => {
                let k = match convert::convert(key, &Type::String) {
                    Ok(Value::String(s)) => s,
                    _ => {
                        return self.error(
                            Diagnostic::error("Invalid index", "The given key does not identify an element in this collection value: string required."),
                            span,
                        );
                    }
                };
                match m.remove(&k) {
                    Some(x) => x,
                    None => {
                        let hint = crate::diag::suggest(&k, m.keys().map(String::as_str))
                            .map(|s| format!(" Did you mean \"{s}\"?"))
                            .unwrap_or_default();
                        return self.error(
                            Diagnostic::error(
                                "Invalid index",
                                format!("The given key does not identify an element in this collection value.{hint}"),
                            ),
                            span,
                        );
                    }
                }
            }
            Value::Set(..) => {
                return self.error(
                    Diagnostic::error(
                        "Invalid index",
                        "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.",
                    ),
                    span,
                );
            }
            other => {
                return self.error(
                    Diagnostic::error(
                        "Invalid index",
                        format!(
                            "This value does not have any indices: it is a {}.",
                            other.ty().friendly_name()
                        ),
                    ),
                    span,
                );
            }
        };
        out.mark_if(marked)
    }
}

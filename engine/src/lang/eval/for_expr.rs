//! `for` expressions: `[for k, v in coll : v if cond]` and the object
//! form with grouping, bounded in the size of what they build.

use super::Evaluator;
use crate::diag::Diagnostic;
use crate::lang::funcs::limits::{MAX_STRING_BYTES, approx_size};
use crate::value::{Type, Value, convert};
use hcl_edit::expr::{Expression, ForExpr};
use std::collections::BTreeMap;

/// The most a `for` expression may build (approximate bytes): four of
/// the longest strings.
const MAX_FOR_BYTES: usize = 4 * MAX_STRING_BYTES;

fn too_large() -> Diagnostic {
    Diagnostic::error(
        "For expression result too large",
        format!(
            "This 'for' expression would build more than {MAX_FOR_BYTES} bytes (256 MiB) of values, the most posture builds in one expression."
        ),
    )
}

impl Evaluator<'_> {
    pub(super) fn for_expr(&mut self, f: &ForExpr, e: &Expression) -> Value {
        let span = self.span_of(e);
        let coll = self.eval(&f.intro.collection_expr);
        let cspan = self.span_of(&f.intro.collection_expr);
        let (coll, marked) = coll.unmark();
        let pairs: Vec<(Value, Value)> = match coll {
            Value::Null(_) => {
                return self.error(
                    Diagnostic::error(
                        "Iteration over null value",
                        "A null value cannot be used as the collection in a 'for' expression.",
                    ),
                    cspan,
                );
            }
            Value::Unknown(_) => return Value::Unknown(Type::Dynamic).mark_if(marked),
            Value::List(_, items) | Value::Tuple(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i as i64), v))
                .collect(),
            Value::Set(_, items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Map(_, m) | Value::Object(m) => {
                m.into_iter().map(|(k, v)| (Value::from(k), v)).collect()
            }
            other => {
                return self.error(
                    Diagnostic::error("Iteration over non-iterable value", format!("A value of type {} cannot be used as the collection in a 'for' expression.", other.ty().friendly_name())),
                    cspan,
                );
            }
        };
        let kname = f
            .intro
            .key_var
            .as_ref()
            .map(|k| k.value().as_str().to_string());
        let vname = f.intro.value_var.value().as_str().to_string();
        let is_object = f.key_expr.is_some();
        let mut tuple = Vec::new();
        let mut obj: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        // Each element is a copy: `[for i in range(1024): local.big]`.
        let mut built = 0usize;
        for (k, v) in pairs {
            let depth = self.bindings.len();
            if let Some(kn) = &kname {
                self.bindings.push((kn.clone(), k));
            }
            self.bindings.push((vname.clone(), v));
            let include = match &f.cond {
                Some(c) => {
                    let cv = self.eval(&c.expr);
                    let cs = self.span_of(&c.expr);
                    match cv.unmarked() {
                        Value::Bool(b) => *b,
                        Value::Unknown(_) => {
                            unknown = true;
                            false
                        }
                        other => match convert::convert(other.clone(), &Type::Bool) {
                            Ok(Value::Bool(b)) => b,
                            _ => {
                                self.error(
                                    Diagnostic::error(
                                        "Invalid 'for' condition",
                                        "The 'if' clause value is invalid: bool required.",
                                    ),
                                    cs,
                                );
                                false
                            }
                        },
                    }
                }
                None => true,
            };
            if include {
                if let Some(ke) = &f.key_expr {
                    let kv = self.eval(ke);
                    let kspan = self.span_of(ke);
                    let vv = self.eval(&f.value_expr);
                    built = built.saturating_add(approx_size(&vv));
                    match kv.unmarked() {
                        Value::Unknown(_) => unknown = true,
                        Value::Null(_) => {
                            self.error(Diagnostic::error("Invalid object key", "Key expression in 'for' expression must not produce a null value."), kspan);
                        }
                        other => match convert::convert(other.clone(), &Type::String) {
                            Ok(Value::String(s)) => {
                                if f.grouping {
                                    groups.entry(s).or_default().push(vv);
                                } else {
                                    match obj.entry(s) {
                                        std::collections::btree_map::Entry::Occupied(e) => {
                                            let msg = format!(
                                                "Two different items produced the key \"{}\" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.",
                                                e.key()
                                            );
                                            self.error(
                                                Diagnostic::error("Duplicate object key", msg),
                                                kspan,
                                            );
                                        }
                                        std::collections::btree_map::Entry::Vacant(e) => {
                                            e.insert(vv);
                                        }
                                    }
                                }
                            }
                            _ => {
                                self.error(Diagnostic::error("Invalid object key", "The key expression produced an invalid result: string required."), kspan);
                            }
                        },
                    }
                } else {
                    let vv = self.eval(&f.value_expr);
                    built = built.saturating_add(approx_size(&vv));
                    tuple.push(vv);
                }
            }
            self.bindings.truncate(depth);
            if built > MAX_FOR_BYTES {
                return self.error(too_large(), span);
            }
        }
        if unknown {
            return Value::Unknown(Type::Dynamic).mark_if(marked);
        }
        let out = if is_object {
            if f.grouping {
                Value::Object(
                    groups
                        .into_iter()
                        .map(|(k, v)| (k, Value::Tuple(v)))
                        .collect(),
                )
            } else {
                Value::Object(obj)
            }
        } else {
            Value::Tuple(tuple)
        };
        out.mark_if(marked)
    }
}

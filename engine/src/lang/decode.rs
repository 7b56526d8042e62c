//! Decoding a block body against a [`Schema`] into an object value. It
//! lives with the language, not with the schemas: it evaluates HCL syntax,
//! and the schemas (in `posture-provider-core`) are data providers declare.

use crate::diag::{Diagnostic, Span, suggest};
use crate::lang::eval::Evaluator;
use crate::schema::{Nesting, Schema};
use crate::value::{Type, Value, convert};
use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body, Structure};
use std::collections::BTreeMap;

/// Evaluates `body` against `schema`: every argument is checked (unknown
/// names, duplicates, required ones missing, values of the wrong type) and
/// nested and `dynamic` blocks are expanded. Computed attributes that are
/// not set become unknown (known after apply). Diagnostics go to the evaluator.
pub fn decode_body(
    ev: &mut Evaluator<'_>,
    body: &Body,
    schema: &Schema,
    block_span: Span,
) -> Value {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let name = a.key.value().as_str();
                let kspan = ev.span_range(a.key.span());
                let Some(attr) = schema.attributes.get(name) else {
                    let names: Vec<&str> = schema.attributes.keys().map(String::as_str).collect();
                    let hint = suggest(name, names)
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    let extra = if schema.blocks.contains_key(name) {
                        format!(" \"{name}\" is a block type here: write {name} {{ ... }}.")
                    } else {
                        String::new()
                    };
                    ev.error(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!(
                                "An argument named \"{name}\" is not expected here.{hint}{extra}"
                            ),
                        ),
                        kspan,
                    );
                    continue;
                };
                if seen.insert(name.to_string(), ()).is_some() {
                    ev.error(
                        Diagnostic::error("Attribute redefined", format!("The argument \"{name}\" was already set. Each argument may be set only once.")),
                        kspan,
                    );
                    continue;
                }
                if attr.computed && !attr.optional && !attr.required {
                    ev.error(
                        Diagnostic::error("Invalid or unknown key", format!("The attribute \"{name}\" is set by the provider and cannot be configured.")),
                        kspan,
                    );
                    continue;
                }
                let v = ev.eval(&a.value);
                let vspan = ev.span_of(&a.value);
                match convert::convert(v, &attr.ty) {
                    Ok(v) => {
                        let v = v.mark_if(attr.sensitive);
                        out.insert(name.to_string(), v);
                    }
                    Err(e) => {
                        ev.error(
                            Diagnostic::error(
                                "Incorrect attribute value type",
                                format!("Inappropriate value for attribute \"{name}\": {e}."),
                            ),
                            vspan,
                        );
                    }
                }
            }
            Structure::Block(b) => {
                let kind = b.ident.value().as_str();
                if kind == "dynamic" {
                    dynamic_block(ev, b, schema, &mut blocks);
                    continue;
                }
                let bspan = ev.span_range(b.ident.span());
                let Some(nb) = schema.blocks.get(kind) else {
                    let names: Vec<&str> = schema.blocks.keys().map(String::as_str).collect();
                    let hint = suggest(kind, names)
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    ev.error(
                        Diagnostic::error(
                            "Unsupported block type",
                            format!("Blocks of type \"{kind}\" are not expected here.{hint}"),
                        ),
                        bspan,
                    );
                    continue;
                };
                let span = ev.span_range(b.span());
                let v = decode_body(ev, &b.body, &nb.block, span);
                blocks.entry(kind.to_string()).or_default().push(v);
            }
        }
    }
    for (name, attr) in &schema.attributes {
        if out.contains_key(name) {
            continue;
        }
        if attr.required {
            ev.error(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument \"{name}\" is required, but no definition was found."),
                ),
                block_span,
            );
            out.insert(name.clone(), Value::Unknown(attr.ty.clone()));
        } else if attr.computed {
            out.insert(
                name.clone(),
                Value::Unknown(attr.ty.clone()).mark_if(attr.sensitive),
            );
        } else {
            out.insert(name.clone(), Value::Null(attr.ty.clone()));
        }
    }
    for (name, nb) in &schema.blocks {
        let items = blocks.remove(name).unwrap_or_default();
        let ety = nb.block.ty();
        let v = match nb.nesting {
            Nesting::Single => {
                if items.len() > 1 {
                    ev.error(
                        Diagnostic::error(
                            "Too many blocks",
                            format!("No more than one \"{name}\" block is allowed."),
                        ),
                        block_span,
                    );
                }
                items.into_iter().next().unwrap_or(Value::Null(ety))
            }
            Nesting::List => Value::List(ety, items),
            Nesting::Set => Value::set_of(ety, items),
        };
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

fn dynamic_block(
    ev: &mut Evaluator<'_>,
    b: &Block,
    schema: &Schema,
    blocks: &mut BTreeMap<String, Vec<Value>>,
) {
    let bspan = ev.span_range(b.ident.span());
    let Some(label) = b.labels.first().map(|l| l.as_str().to_string()) else {
        ev.error(Diagnostic::error("Missing name", "A dynamic block needs the name of the block type it generates, like dynamic \"rule\" { ... }."), bspan);
        return;
    };
    let Some(nb) = schema.blocks.get(&label) else {
        ev.error(
            Diagnostic::error("Unsupported block type", format!("Blocks of type \"{label}\" are not expected here, so a dynamic block cannot generate them.")),
            bspan,
        );
        return;
    };
    let mut for_each = None;
    let mut iterator = label.clone();
    let mut content = None;
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) => {
                match a.key.value().as_str() {
                    "for_each" => for_each = Some(&a.value),
                    "iterator" => {
                        if let hcl_edit::expr::Expression::Variable(v) = &a.value {
                            iterator = v.value().as_str().to_string();
                        } else {
                            let sp = ev.span_of(&a.value);
                            ev.error(
                                Diagnostic::error(
                                    "Invalid iterator",
                                    "The iterator must be a bare name, like iterator = rule.",
                                ),
                                sp,
                            );
                        }
                    }
                    "labels" => {}
                    other => {
                        let sp = ev.span_range(a.key.span());
                        ev.error(Diagnostic::error("Unsupported argument", format!("An argument named \"{other}\" is not expected in a dynamic block.")), sp);
                    }
                }
            }
            Structure::Block(c) if c.ident.value().as_str() == "content" => content = Some(c),
            Structure::Block(c) => {
                let sp = ev.span_range(c.ident.span());
                ev.error(
                    Diagnostic::error(
                        "Unsupported block type",
                        "A dynamic block contains only for_each, iterator and a content block.",
                    ),
                    sp,
                );
            }
        }
    }
    let (Some(fe), Some(content)) = (for_each, content) else {
        ev.error(
            Diagnostic::error(
                "Incomplete dynamic block",
                "A dynamic block needs for_each and a content block.",
            ),
            bspan,
        );
        return;
    };
    let coll = ev.eval(fe);
    let fspan = ev.span_of(fe);
    let (coll, marked) = coll.unmark();
    let pairs: Vec<(Value, Value)> = match coll {
        Value::Unknown(_) => {
            // The number of blocks is not known yet.
            let _ = marked;
            return;
        }
        Value::List(_, items) | Value::Tuple(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i as i64), v))
            .collect(),
        Value::Set(_, items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
        Value::Map(_, m) | Value::Object(m) => {
            m.into_iter().map(|(k, v)| (Value::from(k), v)).collect()
        }
        _ => {
            ev.error(
                Diagnostic::error(
                    "Invalid dynamic for_each value",
                    "Cannot use a value of this type in for_each: a collection is required.",
                ),
                fspan,
            );
            return;
        }
    };
    let cspan = ev.span_range(content.span());
    for (k, v) in pairs {
        let it = Value::Object(BTreeMap::from([
            ("key".to_string(), k),
            ("value".to_string(), v),
        ]));
        ev.bind(&iterator, it);
        let decoded = decode_body(ev, &content.body, &nb.block, cspan);
        ev.unbind();
        blocks.entry(label.clone()).or_default().push(decoded);
    }
    let _ = Type::Dynamic;
}

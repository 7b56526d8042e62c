//! Type constraints as written in `variable` blocks: `list(string)`,
//! `object({ name = string, size = optional(number, 3) })`, `any`.

use crate::diag::{Diagnostic, FileId, Span};
use crate::value::{Type, Value, convert};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// A parsed type constraint, with `optional()` attributes and their defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeConstraint {
    /// A type with no optional attributes inside.
    Plain(Type),
    /// `list(...)`, `set(...)` or `map(...)` of a constraint with optionals.
    Collection(CollectionKind, Box<TypeConstraint>),
    /// `tuple([...])`
    Tuple(Vec<TypeConstraint>),
    /// `object({...})`
    Object(BTreeMap<String, ObjectAttr>),
}

/// The kind of a collection constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionKind {
    /// list
    List,
    /// set
    Set,
    /// map
    Map,
}

/// One attribute of an object constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAttr {
    /// Its constraint.
    pub ty: TypeConstraint,
    /// Declared with `optional(...)`.
    pub optional: bool,
    /// The default given to `optional(T, default)`.
    pub default: Option<Value>,
}

impl TypeConstraint {
    /// The type values are converted to.
    pub fn ty(&self) -> Type {
        match self {
            TypeConstraint::Plain(t) => t.clone(),
            TypeConstraint::Collection(k, e) => {
                let e = Box::new(e.ty());
                match k {
                    CollectionKind::List => Type::List(e),
                    CollectionKind::Set => Type::Set(e),
                    CollectionKind::Map => Type::Map(e),
                }
            }
            TypeConstraint::Tuple(items) => {
                Type::Tuple(items.iter().map(TypeConstraint::ty).collect())
            }
            TypeConstraint::Object(attrs) => {
                Type::Object(attrs.iter().map(|(k, a)| (k.clone(), a.ty.ty())).collect())
            }
        }
    }

    /// Fills in optional attributes (their default, or null) and converts.
    ///
    /// # Errors
    /// The value does not conform to the constraint.
    pub fn apply(&self, v: Value) -> Result<Value, convert::ConvertError> {
        let filled = self.fill_defaults(v);
        convert::convert(filled, &self.ty())
    }

    fn fill_defaults(&self, v: Value) -> Value {
        if let Value::Sensitive(inner) = v {
            return self.fill_defaults(*inner).mark_sensitive();
        }
        match (self, v) {
            (TypeConstraint::Object(attrs), Value::Object(mut m) | Value::Map(_, mut m)) => {
                for (name, attr) in attrs {
                    match m.remove(name) {
                        Some(x) if !x.is_null() => {
                            m.insert(name.clone(), attr.ty.fill_defaults(x));
                        }
                        other => {
                            let filled = if attr.optional {
                                match &attr.default {
                                    Some(d) => attr.ty.fill_defaults(d.clone()),
                                    None => Value::Null(attr.ty.ty()),
                                }
                            } else {
                                match other {
                                    Some(x) => x,
                                    None => continue,
                                }
                            };
                            m.insert(name.clone(), filled);
                        }
                    }
                }
                Value::Object(m)
            }
            (TypeConstraint::Collection(_, e), Value::List(t, items)) => {
                Value::List(t, items.into_iter().map(|x| e.fill_defaults(x)).collect())
            }
            (TypeConstraint::Collection(_, e), Value::Tuple(items)) => {
                Value::Tuple(items.into_iter().map(|x| e.fill_defaults(x)).collect())
            }
            (TypeConstraint::Collection(_, e), Value::Set(t, items)) => {
                Value::Set(t, items.into_iter().map(|x| e.fill_defaults(x)).collect())
            }
            (TypeConstraint::Collection(_, e), Value::Object(m)) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, e.fill_defaults(x)))
                    .collect(),
            ),
            (TypeConstraint::Collection(_, e), Value::Map(t, m)) => Value::Map(
                t,
                m.into_iter()
                    .map(|(k, x)| (k, e.fill_defaults(x)))
                    .collect(),
            ),
            (TypeConstraint::Tuple(ts), Value::Tuple(items)) if ts.len() == items.len() => {
                Value::Tuple(
                    items
                        .into_iter()
                        .zip(ts)
                        .map(|(x, t)| t.fill_defaults(x))
                        .collect(),
                )
            }
            (_, v) => v,
        }
    }
}

fn bad(file: FileId, e: &Expression, detail: &str) -> Diagnostic {
    Diagnostic::error("Invalid type specification", detail.to_string())
        .at(Span::new(file, e.span().unwrap_or(0..0)))
}

/// Parses a type constraint expression. `optional()` is allowed only
/// directly on object attributes; defaults must be constant.
///
/// # Errors
/// A diagnostic at the part of the expression that is not a type.
pub fn parse(file: FileId, src: &str, e: &Expression) -> Result<TypeConstraint, Diagnostic> {
    parse_inner(file, src, e, false).map(|(t, _, _)| t)
}

fn keyword(e: &Expression) -> Option<&str> {
    match e {
        Expression::Variable(v) => Some(v.value().as_str()),
        _ => None,
    }
}

fn parse_inner(
    file: FileId,
    src: &str,
    e: &Expression,
    attr_position: bool,
) -> Result<(TypeConstraint, bool, Option<Value>), Diagnostic> {
    if let Some(k) = keyword(e) {
        let t = match k {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "any" => Type::Dynamic,
            // Bare collection keywords are legacy shorthands for `list(any)`.
            "list" => Type::List(Box::new(Type::Dynamic)),
            "map" => Type::Map(Box::new(Type::Dynamic)),
            "set" => Type::Set(Box::new(Type::Dynamic)),
            other => {
                return Err(bad(
                    file,
                    e,
                    &format!("The keyword \"{other}\" is not a valid type specification."),
                ));
            }
        };
        return Ok((TypeConstraint::Plain(t), false, None));
    }
    let Expression::FuncCall(call) = e else {
        return Err(bad(
            file,
            e,
            "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).",
        ));
    };
    let name = call.name.name.value().as_str();
    let args: Vec<&Expression> = call.args.iter().collect();
    let one = |what: &str| -> Result<&Expression, Diagnostic> {
        match args.as_slice() {
            [a] => Ok(*a),
            _ => Err(bad(
                file,
                e,
                &format!(
                    "The {what} type constructor requires one argument specifying the element type."
                ),
            )),
        }
    };
    match name {
        "list" | "set" | "map" => {
            let kind = match name {
                "list" => CollectionKind::List,
                "set" => CollectionKind::Set,
                _ => CollectionKind::Map,
            };
            let (inner, _, _) = parse_inner(file, src, one(name)?, false)?;
            let c = match inner {
                TypeConstraint::Plain(t) => TypeConstraint::Plain(match kind {
                    CollectionKind::List => Type::List(Box::new(t)),
                    CollectionKind::Set => Type::Set(Box::new(t)),
                    CollectionKind::Map => Type::Map(Box::new(t)),
                }),
                other => TypeConstraint::Collection(kind, Box::new(other)),
            };
            Ok((c, false, None))
        }
        "tuple" => {
            let Expression::Array(items) = one("tuple")? else {
                return Err(bad(
                    file,
                    e,
                    "The tuple type constructor requires a list of element types.",
                ));
            };
            let mut out = Vec::new();
            for it in items.iter() {
                out.push(parse_inner(file, src, it, false)?.0);
            }
            if out.iter().all(|c| matches!(c, TypeConstraint::Plain(_))) {
                let ts = out.iter().map(TypeConstraint::ty).collect();
                return Ok((TypeConstraint::Plain(Type::Tuple(ts)), false, None));
            }
            Ok((TypeConstraint::Tuple(out), false, None))
        }
        "object" => {
            let Expression::Object(obj) = one("object")? else {
                return Err(bad(
                    file,
                    e,
                    "The object type constructor requires an object of attribute types, like object({name=string}).",
                ));
            };
            let mut attrs = BTreeMap::new();
            for (k, v) in obj.iter() {
                let key = match (k, super::source::key_name(src, k)) {
                    (_, Some(name)) => name.to_string(),
                    (ObjectKey::Ident(id), None) => id.value().as_str().to_string(),
                    (ObjectKey::Expression(ke), None) => {
                        return Err(bad(
                            file,
                            ke,
                            "Object constructor map keys must be attribute names.",
                        ));
                    }
                };
                let (ty, optional, default) = parse_inner(file, src, v.expr(), true)?;
                attrs.insert(
                    key,
                    ObjectAttr {
                        ty,
                        optional,
                        default,
                    },
                );
            }
            if attrs
                .values()
                .all(|a| !a.optional && matches!(a.ty, TypeConstraint::Plain(_)))
            {
                let ts = attrs.iter().map(|(k, a)| (k.clone(), a.ty.ty())).collect();
                return Ok((TypeConstraint::Plain(Type::Object(ts)), false, None));
            }
            Ok((TypeConstraint::Object(attrs), false, None))
        }
        "optional" => {
            if !attr_position {
                return Err(bad(
                    file,
                    e,
                    "Keyword \"optional\" is valid only as a modifier for object type attributes.",
                ));
            }
            let (ty, default_expr) = match args.as_slice() {
                [t] => (*t, None),
                [t, d] => (*t, Some(*d)),
                _ => {
                    return Err(bad(
                        file,
                        e,
                        "Optional attribute modifier expects one or two arguments: a type and an optional default value.",
                    ));
                }
            };
            let (tc, _, _) = parse_inner(file, src, ty, false)?;
            let default = match default_expr {
                None => None,
                Some(d) => {
                    let scope = crate::lang::eval::MapScope::default();
                    let mut ev = crate::lang::eval::Evaluator::new(
                        file,
                        src,
                        &scope,
                        std::path::Path::new("."),
                        &crate::lang::funcs::NoTemplates,
                    );
                    let v = ev.eval(d);
                    if let Some(diag) = ev.take_diags().0.into_iter().next() {
                        return Err(diag);
                    }
                    match tc.apply(v) {
                        Ok(v) => Some(v),
                        Err(err) => {
                            return Err(bad(
                                file,
                                d,
                                &format!("Invalid default value for optional attribute: {err}."),
                            ));
                        }
                    }
                }
            };
            Ok((tc, true, default))
        }
        other => Err(bad(
            file,
            e,
            &format!("Keyword \"{other}\" is not a valid type constructor."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(src: &str) -> TypeConstraint {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        parse(FileId(0), src, &e).unwrap()
    }

    #[test]
    fn parses_nested_constraints() {
        assert_eq!(
            tc("map(list(string))").ty().to_string(),
            "map(list(string))"
        );
        assert_eq!(tc("list").ty().to_string(), "list(any)");
        assert_eq!(
            tc("tuple([string, number])").ty().to_string(),
            "tuple([string,number])"
        );
    }

    #[test]
    fn optional_attributes_get_defaults_or_null() {
        let c = tc(
            "list(object({ name = string, size = optional(number, 3), tag = optional(string) }))",
        );
        let v = Value::Tuple(vec![Value::Object(BTreeMap::from([(
            "name".to_string(),
            Value::from("a"),
        )]))]);
        let got = c.apply(v).unwrap();
        let first = &got.as_seq().unwrap()[0];
        let m = first.as_map().unwrap();
        assert_eq!(m["size"], Value::from(3));
        assert_eq!(m["tag"], Value::Null(Type::String));
    }

    #[test]
    fn rejects_non_types() {
        let e = hcl_edit::parser::parse_expr("strng").unwrap();
        let d = parse(FileId(0), "strng", &e).unwrap_err();
        assert!(d.detail.contains("\"strng\""));
        let e = hcl_edit::parser::parse_expr("optional(string)").unwrap();
        assert!(parse(FileId(0), "optional(string)", &e).is_err());
    }
}

//! Type conversion and unification with Terraform's rules: numbers and bools
//! convert to strings and back, tuples to lists and sets, objects to maps,
//! and a type constraint drops object attributes it does not name.

use super::{Number, Type, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Why a value does not convert to a type; `path` is where inside the value
/// (`.a[0]`), empty at the top.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertError {
    /// Where inside the value the mismatch is, like `.tags["env"]`.
    pub path: String,
    /// What was required, in Terraform's words ("string required").
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConvertError {}

fn err(path: &str, message: impl Into<String>) -> ConvertError {
    ConvertError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn required(t: &Type) -> String {
    match t {
        Type::Object(_) => "object required".into(),
        Type::Tuple(_) => "tuple required".into(),
        Type::Number => "a number is required".into(),
        Type::Bool => "a bool is required".into(),
        Type::String => "string required".into(),
        other => format!("{} required", other.friendly_name()),
    }
}

/// Converts `v` to type `ty`.
///
/// ```
/// use posture_provider_core::value::{convert::convert, Type, Value};
/// let v = convert(Value::from(5), &Type::String).unwrap();
/// assert_eq!(v.as_str(), Some("5"));
/// ```
pub fn convert(v: Value, ty: &Type) -> Result<Value, ConvertError> {
    convert_at(v, ty, "")
}

fn convert_at(v: Value, ty: &Type, path: &str) -> Result<Value, ConvertError> {
    if let Value::Sensitive(inner) = v {
        return Ok(convert_at(*inner, ty, path)?.mark_sensitive());
    }
    if matches!(ty, Type::Dynamic) {
        return Ok(v);
    }
    match v {
        Value::Null(_) => return Ok(Value::Null(ty.clone())),
        Value::Unknown(_) => return Ok(Value::Unknown(ty.clone())),
        _ => {}
    }
    match ty {
        Type::Dynamic => Ok(v),
        Type::String => match v {
            Value::String(_) => Ok(v),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(path, required(ty))),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v),
            Value::String(s) => parse_number(&s)
                .map(Value::Number)
                .ok_or_else(|| err(path, "a number is required")),
            _ => Err(err(path, required(ty))),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v),
            Value::String(s) => match s.as_str() {
                // cty also accepts "1" and "0".
                "true" | "1" => Ok(Value::Bool(true)),
                "false" | "0" => Ok(Value::Bool(false)),
                _ => Err(err(path, "a bool is required")),
            },
            _ => Err(err(path, required(ty))),
        },
        Type::List(et) | Type::Set(et) => {
            let items = match v {
                Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => i,
                _ => return Err(err(path, required(ty))),
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(convert_at(item, et, &format!("{path}[{i}]"))?);
            }
            let et = if et.has_dynamic() {
                unify_values(&mut out).map_err(|m| err(path, m))?
            } else {
                (**et).clone()
            };
            Ok(if matches!(ty, Type::Set(_)) {
                Value::set_of(et, out)
            } else {
                Value::List(et, out)
            })
        }
        Type::Map(et) => {
            let entries = match v {
                Value::Map(_, m) | Value::Object(m) => m,
                _ => return Err(err(path, required(ty))),
            };
            let mut out = BTreeMap::new();
            for (k, item) in entries {
                let p = format!("{path}[{k:?}]");
                out.insert(k, convert_at(item, et, &p)?);
            }
            let et = if et.has_dynamic() {
                let mut vals: Vec<Value> = out.values().cloned().collect();
                let t = unify_values(&mut vals).map_err(|m| err(path, m))?;
                for (slot, val) in out.values_mut().zip(vals) {
                    *slot = val;
                }
                t
            } else {
                (**et).clone()
            };
            Ok(Value::Map(et, out))
        }
        Type::Object(attrs) => {
            let mut entries = match v {
                Value::Map(_, m) | Value::Object(m) => m,
                _ => return Err(err(path, required(ty))),
            };
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                let p = format!("{path}.{name}");
                match entries.remove(name) {
                    Some(item) => {
                        out.insert(name.clone(), convert_at(item, at, &p)?);
                    }
                    None => return Err(err(path, format!("attribute \"{name}\" is required"))),
                }
            }
            Ok(Value::Object(out))
        }
        Type::Tuple(types) => {
            let items = match v {
                Value::List(_, i) | Value::Tuple(i) => i,
                _ => return Err(err(path, required(ty))),
            };
            if items.len() != types.len() {
                return Err(err(
                    path,
                    format!("tuple required with {} elements", types.len()),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(types).enumerate() {
                out.push(convert_at(item, t, &format!("{path}[{i}]"))?);
            }
            Ok(Value::Tuple(out))
        }
    }
}

/// Parses a number as Terraform's string-to-number conversion does
/// (decimal with optional exponent; no hex, no surrounding spaces).
pub fn parse_number(s: &str) -> Option<Number> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && s.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse().ok()
}

/// The most specific type every one of `types` converts to, as Terraform
/// unifies the arms of a conditional or the elements of a list.
pub fn unify(types: &[Type]) -> Option<Type> {
    let known: Vec<&Type> = types
        .iter()
        .filter(|t| !matches!(t, Type::Dynamic))
        .collect();
    let Some(first) = known.first() else {
        return Some(Type::Dynamic);
    };
    if known.iter().all(|t| *t == *first) {
        return Some((*first).clone());
    }
    if known.iter().all(|t| t.is_primitive()) {
        // Mixed primitives meet at string, but only when one is a string:
        // bool and number have no common type.
        return known
            .iter()
            .any(|t| **t == Type::String)
            .then_some(Type::String);
    }
    let all_objects = known
        .iter()
        .all(|t| matches!(t, Type::Object(_) | Type::Map(_)));
    if all_objects {
        // Objects with the same attribute names unify attribute-wise;
        // otherwise everything must become a map of one element type.
        let objects: Vec<&BTreeMap<String, Type>> = known
            .iter()
            .filter_map(|t| {
                if let Type::Object(a) = t {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        if objects.len() == known.len() {
            let keys: Vec<_> = objects[0].keys().collect();
            if objects.iter().all(|o| o.keys().collect::<Vec<_>>() == keys) {
                let mut attrs = BTreeMap::new();
                for k in keys {
                    let ts: Vec<Type> = objects.iter().map(|o| o[k].clone()).collect();
                    attrs.insert(k.clone(), unify(&ts)?);
                }
                return Some(Type::Object(attrs));
            }
        }
        let mut elems = Vec::new();
        for t in &known {
            match t {
                Type::Object(a) => elems.extend(a.values().cloned()),
                Type::Map(e) => elems.push((**e).clone()),
                _ => {}
            }
        }
        return Some(Type::Map(Box::new(unify(&elems)?)));
    }
    let all_seqs = known
        .iter()
        .all(|t| matches!(t, Type::Tuple(_) | Type::List(_)));
    if all_seqs {
        let tuples: Vec<&Vec<Type>> = known
            .iter()
            .filter_map(|t| {
                if let Type::Tuple(e) = t {
                    Some(e)
                } else {
                    None
                }
            })
            .collect();
        if tuples.len() == known.len() && tuples.iter().all(|t| t.len() == tuples[0].len()) {
            let mut out = Vec::new();
            for i in 0..tuples[0].len() {
                let ts: Vec<Type> = tuples.iter().map(|t| t[i].clone()).collect();
                out.push(unify(&ts)?);
            }
            return Some(Type::Tuple(out));
        }
        let mut elems = Vec::new();
        for t in &known {
            match t {
                Type::Tuple(e) => elems.extend(e.iter().cloned()),
                Type::List(e) => elems.push((**e).clone()),
                _ => {}
            }
        }
        return Some(Type::List(Box::new(unify(&elems)?)));
    }
    // A collection and a tuple meet at the collection's kind.
    let coll: Vec<&Type> = known
        .iter()
        .copied()
        .filter(|t| matches!(t, Type::List(_) | Type::Set(_) | Type::Map(_)))
        .collect();
    if let Some(c) = coll.first() {
        let same_kind = coll
            .iter()
            .all(|t| std::mem::discriminant(*t) == std::mem::discriminant(*c));
        let others_ok = known.iter().all(|t| {
            matches!(
                t,
                Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Tuple(_) | Type::Object(_)
            )
        });
        if same_kind
            && others_ok
            && known.iter().any(|t| matches!(t, Type::Tuple(_)))
            && !matches!(c, Type::Map(_))
        {
            let mut elems = Vec::new();
            for t in &known {
                match t {
                    Type::Tuple(e) => elems.extend(e.iter().cloned()),
                    other => elems.extend(other.element_type().cloned()),
                }
            }
            let et = Box::new(unify(&elems)?);
            return Some(if matches!(c, Type::Set(_)) {
                Type::Set(et)
            } else {
                Type::List(et)
            });
        }
    }
    let collection = |t: &Type| match t {
        Type::List(e) => Some(("list", (**e).clone())),
        Type::Set(e) => Some(("set", (**e).clone())),
        Type::Map(e) => Some(("map", (**e).clone())),
        _ => None,
    };
    let cols: Vec<_> = known.iter().filter_map(|t| collection(t)).collect();
    if cols.len() == known.len() && cols.iter().all(|c| c.0 == cols[0].0) {
        let et = unify(&cols.iter().map(|c| c.1.clone()).collect::<Vec<_>>())?;
        return Some(match cols[0].0 {
            "list" => Type::List(Box::new(et)),
            "set" => Type::Set(Box::new(et)),
            _ => Type::Map(Box::new(et)),
        });
    }
    None
}

/// Unifies the types of `values` and converts each to the result in place.
pub fn unify_values(values: &mut [Value]) -> Result<Type, String> {
    let types: Vec<Type> = values.iter().map(Value::ty).collect();
    let t = unify(&types).ok_or_else(|| "all elements must have the same type".to_string())?;
    for v in values.iter_mut() {
        let taken = std::mem::replace(v, Value::NULL);
        *v = convert(taken, &t).map_err(|e| e.to_string())?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_convert_both_ways() {
        assert_eq!(
            convert("12".into(), &Type::Number).unwrap(),
            Value::from(12)
        );
        assert_eq!(
            convert(true.into(), &Type::String).unwrap(),
            Value::from("true")
        );
        assert!(convert("yes".into(), &Type::Bool).is_err());
        assert!(convert("0x10".into(), &Type::Number).is_err());
    }

    #[test]
    fn object_constraint_drops_extra_attributes_and_requires_named_ones() {
        let ty = Type::Object(BTreeMap::from([("a".to_string(), Type::Number)]));
        let v = Value::Object(BTreeMap::from([
            ("a".to_string(), Value::from("1")),
            ("b".to_string(), Value::from(true)),
        ]));
        let got = convert(v, &ty).unwrap();
        assert_eq!(
            got,
            Value::Object(BTreeMap::from([("a".to_string(), Value::from(1))]))
        );
        let missing = convert(Value::Object(BTreeMap::new()), &ty).unwrap_err();
        assert_eq!(missing.message, "attribute \"a\" is required");
    }

    #[test]
    fn mixed_primitives_unify_to_string() {
        assert_eq!(unify(&[Type::Number, Type::String]), Some(Type::String));
        let mut vals = vec![Value::from(1), Value::from("a")];
        assert_eq!(unify_values(&mut vals).unwrap(), Type::String);
        assert_eq!(vals[0], Value::from("1"));
    }

    #[test]
    fn nested_error_names_the_path() {
        let ty = Type::List(Box::new(Type::Number));
        let e = convert(Value::Tuple(vec![Value::from(1), Value::from("x")]), &ty).unwrap_err();
        assert_eq!(e.to_string(), "[1]: a number is required");
    }
}

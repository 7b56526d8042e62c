//! Value types, with Terraform's (cty's) type system: primitives, collections
//! (list, set, map: one element type) and structural types (object, tuple).

use std::collections::BTreeMap;
use std::fmt;

/// The type of a [`crate::value::Value`], or a type constraint with `any` in it.
///
/// ```
/// use posture_provider_core::value::Type;
/// let t = Type::List(Box::new(Type::String));
/// assert_eq!(t.to_string(), "list(string)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    /// `any`: not yet decided (cty's DynamicPseudoType).
    Dynamic,
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)`
    Map(Box<Type>),
    /// `object({...})`: attribute types by name.
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// True for `string`, `number` and `bool`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// True when `any` appears anywhere in the type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_dynamic(),
            Type::Object(a) => a.values().any(Type::has_dynamic),
            Type::Tuple(e) => e.iter().any(Type::has_dynamic),
        }
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// A short name of the kind of type, as Terraform's messages use it
    /// ("list of string", "object", "tuple").
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Dynamic => "dynamic".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Object(_) => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }

    /// The type as `terraform output -json` writes it: `"string"`,
    /// `["list","string"]`, `["object",{"a":"number"}]`, `"dynamic"`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        match self {
            Type::Dynamic => J::from("dynamic"),
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(a) => {
                let m: serde_json::Map<String, J> =
                    a.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                json!(["object", m])
            }
            Type::Tuple(e) => json!(["tuple", e.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }

    /// Parses the JSON form written by [`Type::to_json`].
    pub fn from_json(j: &serde_json::Value) -> Option<Type> {
        use serde_json::Value as J;
        match j {
            J::String(s) => match s.as_str() {
                "dynamic" => Some(Type::Dynamic),
                "string" => Some(Type::String),
                "number" => Some(Type::Number),
                "bool" => Some(Type::Bool),
                _ => None,
            },
            J::Array(parts) if parts.len() == 2 => {
                let kind = parts[0].as_str()?;
                match kind {
                    "list" => Some(Type::List(Box::new(Type::from_json(&parts[1])?))),
                    "set" => Some(Type::Set(Box::new(Type::from_json(&parts[1])?))),
                    "map" => Some(Type::Map(Box::new(Type::from_json(&parts[1])?))),
                    "object" => {
                        let mut attrs = BTreeMap::new();
                        for (k, v) in parts[1].as_object()? {
                            attrs.insert(k.clone(), Type::from_json(v)?);
                        }
                        Some(Type::Object(attrs))
                    }
                    "tuple" => parts[1]
                        .as_array()?
                        .iter()
                        .map(Type::from_json)
                        .collect::<Option<Vec<_>>>()
                        .map(Type::Tuple),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    /// Terraform's type-expression syntax: `map(list(string))`, `object({a=number})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Dynamic => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(a) => {
                f.write_str("object({")?;
                for (i, (k, t)) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(e) => {
                f.write_str("tuple([")?;
                for (i, t) in e.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_round_trips() {
        let t = Type::Object(BTreeMap::from([
            ("a".to_string(), Type::List(Box::new(Type::Number))),
            ("b".to_string(), Type::Tuple(vec![Type::String, Type::Bool])),
        ]));
        let j = t.to_json();
        assert_eq!(
            j.to_string(),
            r#"["object",{"a":["list","number"],"b":["tuple",["string","bool"]]}]"#
        );
        assert_eq!(Type::from_json(&j), Some(t));
    }
}

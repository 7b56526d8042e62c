//! The [`Value`] type: what every expression evaluates to.

use super::{Number, Type};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A value of Terraform's type system, possibly null, unknown (known only
/// after apply) or marked sensitive.
///
/// Maps and objects keep their keys sorted, and sets keep their elements
/// sorted and unique, so iteration order is Terraform's everywhere.
///
/// ```
/// use posture_provider_core::value::{Type, Value};
/// let v = Value::list_of(vec![Value::from("a"), Value::from("b")]);
/// assert_eq!(v.ty(), Type::List(Box::new(Type::String)));
/// ```
#[derive(Debug, Clone)]
pub enum Value {
    /// A null of the given type.
    Null(Type),
    /// A value known only after apply.
    Unknown(Type),
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// `list(T)`: the element type, then the elements (all of that type).
    List(Type, Vec<Value>),
    /// `set(T)`: sorted and unique.
    Set(Type, Vec<Value>),
    /// `map(T)`
    Map(Type, BTreeMap<String, Value>),
    /// `tuple([...])`
    Tuple(Vec<Value>),
    /// `object({...})`
    Object(BTreeMap<String, Value>),
    /// A value marked sensitive: shown as `(sensitive value)` everywhere.
    Sensitive(Box<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl Value {
    /// The untyped null literal.
    pub const NULL: Value = Value::Null(Type::Dynamic);

    /// A list whose element type is unified from its elements; the caller
    /// guarantees they already share a type (use `convert::list_from` otherwise).
    pub fn list_of(items: Vec<Value>) -> Value {
        let et = items.first().map(Value::ty).unwrap_or(Type::Dynamic);
        Value::List(et, items)
    }

    /// A set from elements of one type: sorted and deduplicated.
    pub fn set_of(et: Type, mut items: Vec<Value>) -> Value {
        items.sort_by(total_cmp);
        items.dedup_by(|a, b| total_cmp(a, b) == Ordering::Equal);
        Value::Set(et, items)
    }

    /// The value's type (of the inner value, for sensitive ones).
    pub fn ty(&self) -> Type {
        match self {
            Value::Null(t) | Value::Unknown(t) => t.clone(),
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(t, _) => Type::List(Box::new(t.clone())),
            Value::Set(t, _) => Type::Set(Box::new(t.clone())),
            Value::Map(t, _) => Type::Map(Box::new(t.clone())),
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::ty).collect()),
            Value::Object(attrs) => {
                Type::Object(attrs.iter().map(|(k, v)| (k.clone(), v.ty())).collect())
            }
            Value::Sensitive(v) => v.ty(),
        }
    }

    /// True for a null (of any type), looking through a sensitive mark.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null(_) => true,
            Value::Sensitive(v) => v.is_null(),
            _ => false,
        }
    }

    /// True when the value itself is unknown (not looking inside collections).
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::Sensitive(v) => v.is_unknown(),
            _ => false,
        }
    }

    /// True when no unknown value appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(_, v) | Value::Set(_, v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(_, m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Sensitive(v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// True when the value or anything inside it is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(_, v) | Value::Set(_, v) | Value::Tuple(v) => {
                v.iter().any(Value::contains_sensitive)
            }
            Value::Map(_, m) | Value::Object(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// True when this value itself carries the sensitive mark.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// Marks the value sensitive (idempotent).
    pub fn mark_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            v => Value::Sensitive(Box::new(v)),
        }
    }

    /// Marks the value sensitive when `yes`.
    pub fn mark_if(self, yes: bool) -> Value {
        if yes { self.mark_sensitive() } else { self }
    }

    /// Removes the top-level mark: (inner value, was it sensitive).
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(v) => (v.unmark().0, true),
            v => (v, false),
        }
    }

    /// Borrowing form of [`Value::unmark`].
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(v) => v.unmarked(),
            v => v,
        }
    }

    /// Removes every mark inside: (plain value, was anything sensitive).
    pub fn unmark_deep(self) -> (Value, bool) {
        let mut any = false;
        let v = self.strip_marks(&mut any);
        (v, any)
    }

    fn strip_marks(self, any: &mut bool) -> Value {
        match self {
            Value::Sensitive(v) => {
                *any = true;
                v.strip_marks(any)
            }
            Value::List(t, v) => {
                Value::List(t, v.into_iter().map(|x| x.strip_marks(any)).collect())
            }
            Value::Set(t, v) => Value::Set(t, v.into_iter().map(|x| x.strip_marks(any)).collect()),
            Value::Tuple(v) => Value::Tuple(v.into_iter().map(|x| x.strip_marks(any)).collect()),
            Value::Map(t, m) => Value::Map(
                t,
                m.into_iter()
                    .map(|(k, x)| (k, x.strip_marks(any)))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, x.strip_marks(any)))
                    .collect(),
            ),
            v => v,
        }
    }

    /// The elements of a list, set or tuple (after unmarking), else `None`.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(_, v) | Value::Set(_, v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The entries of a map or object (after unmarking), else `None`.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmarked() {
            Value::Map(_, m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unmarked() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The bool, when this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Terraform's `==`: same type (after structural comparison) and value.
    /// Unknown operands make the result unknown.
    pub fn equals(&self, other: &Value) -> Value {
        let (a, b) = (self.unmarked(), other.unmarked());
        if !a.is_wholly_known() || !b.is_wholly_known() {
            return Value::Unknown(Type::Bool);
        }
        Value::Bool(raw_equal(a, b))
    }

    /// Converts to JSON as `terraform output -json` does (objects and maps
    /// to JSON objects, lists, sets and tuples to arrays). Unknown values
    /// become `null`; marks are dropped, so callers redact first.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null(_) | Value::Unknown(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(n),
            Value::String(s) => J::String(s.clone()),
            Value::List(_, v) | Value::Set(_, v) | Value::Tuple(v) => {
                J::Array(v.iter().map(Value::to_json).collect())
            }
            Value::Map(_, m) | Value::Object(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Sensitive(v) => v.to_json(),
        }
    }

    /// Converts JSON to a value as `jsondecode` does: arrays become tuples and
    /// objects become objects.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::NULL,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => n
                .to_string()
                .parse::<Number>()
                .map(Value::Number)
                .unwrap_or(Value::NULL),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::Tuple(a.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts JSON to a value of a known type (used to read state back).
    pub fn from_json_typed(j: &serde_json::Value, ty: &Type) -> Result<Value, String> {
        let v = Value::from_json(j);
        super::convert::convert(v, ty).map_err(|e| e.to_string())
    }
}

fn number_to_json(n: &Number) -> serde_json::Value {
    if let Some(i) = n.to_i64() {
        return serde_json::Value::from(i);
    }
    serde_json::Number::from_f64(n.to_f64())
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// Structural equality with types: `[1] == tolist([1])` is false in
/// Terraform only when the types differ after unification, so callers that
/// need Terraform's `==` use [`Value::equals`].
pub fn raw_equal(a: &Value, b: &Value) -> bool {
    let (a, b) = (a.unmarked(), b.unmarked());
    match (a, b) {
        (Value::Null(_), Value::Null(_)) => true,
        (Value::Null(_), _) | (_, Value::Null(_)) => false,
        _ => a.ty() == b.ty() && total_cmp(a, b) == Ordering::Equal,
    }
}

fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Null(_) => 11,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::List(..) => 4,
        Value::Set(..) => 5,
        Value::Tuple(_) => 6,
        Value::Map(..) => 7,
        Value::Object(_) => 8,
        Value::Unknown(_) => 9,
        Value::Sensitive(_) => 10,
    }
}

/// A total order over values: sets use it to sort their elements, which
/// gives Terraform's order for sets of strings (lexical) and numbers (numeric).
pub fn total_cmp(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (a.unmarked(), b.unmarked());
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::List(_, x), Value::List(_, y))
        | (Value::Set(_, x), Value::Set(_, y))
        | (Value::Tuple(x), Value::Tuple(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = total_cmp(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(_, x), Value::Map(_, y)) | (Value::Object(x), Value::Object(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                let o = k1.cmp(k2).then_with(|| total_cmp(v1, v2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Null(t1), Value::Null(t2)) | (Value::Unknown(t1), Value::Unknown(t2)) => t1.cmp(t2),
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

impl PartialEq for Value {
    /// Exact equality including marks and types (for tests and state).
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Sensitive(a), Value::Sensitive(b)) => a == b,
            (Value::Sensitive(_), _) | (_, Value::Sensitive(_)) => false,
            (Value::Null(a), Value::Null(b)) | (Value::Unknown(a), Value::Unknown(b)) => a == b,
            (Value::List(t1, a), Value::List(t2, b)) | (Value::Set(t1, a), Value::Set(t2, b)) => {
                t1 == t2 && a == b
            }
            (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Map(t1, a), Value::Map(t2, b)) => t1 == t2 && a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_sorted_and_unique() {
        let s = Value::set_of(
            Type::String,
            vec!["b".into(), "a".into(), "b".into(), "A".into()],
        );
        let items: Vec<_> = s
            .as_seq()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(items, ["A", "a", "b"]);
    }

    #[test]
    fn equality_is_unknown_when_an_operand_is() {
        assert_eq!(Value::from(1).equals(&Value::from(1)), Value::Bool(true));
        assert_eq!(Value::from(1).equals(&Value::from("1")), Value::Bool(false));
        assert!(
            Value::Unknown(Type::Number)
                .equals(&Value::from(1))
                .is_unknown()
        );
    }

    #[test]
    fn marks_come_off_deeply() {
        let v = Value::Tuple(vec![Value::from("a").mark_sensitive(), Value::from("b")]);
        assert!(v.contains_sensitive());
        let (plain, any) = v.unmark_deep();
        assert!(any);
        assert!(!plain.contains_sensitive());
    }

    #[test]
    fn json_round_trip() {
        let j: serde_json::Value = serde_json::json!({"a": [1, "x", true, null], "b": {"c": 1.5}});
        assert_eq!(Value::from_json(&j).to_json(), j);
    }
}

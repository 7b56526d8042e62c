//! Small accessors between engine [`Value`]s and Rust types, tolerant of
//! nulls and unknowns (an unknown reads as absent; callers that must know
//! check [`is_known`] first).

use posture_provider_core::value::{Number, Type, Value};
use std::collections::BTreeMap;

/// The attribute `key` of an object value, or `None` when null or missing.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_map().and_then(|m| m.get(key)).filter(|x| !x.is_null())
}

/// A known string attribute.
pub fn get_str(v: &Value, key: &str) -> Option<String> {
    get(v, key).and_then(Value::as_str).map(str::to_string)
}

/// A known integral number attribute.
pub fn get_i64(v: &Value, key: &str) -> Option<i64> {
    get(v, key)
        .and_then(Value::as_number)
        .and_then(Number::to_i64)
}

/// A known bool attribute.
pub fn get_bool(v: &Value, key: &str) -> Option<bool> {
    get(v, key).and_then(Value::as_bool)
}

/// The known strings of a list or set attribute.
pub fn get_strings(v: &Value, key: &str) -> Vec<String> {
    get(v, key)
        .and_then(Value::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A map(string) attribute.
pub fn get_string_map(v: &Value, key: &str) -> BTreeMap<String, String> {
    get(v, key)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// True when the attribute is present and wholly known (null counts as known).
pub fn is_known(v: &Value, key: &str) -> bool {
    v.as_map()
        .and_then(|m| m.get(key))
        .is_none_or(Value::is_wholly_known)
}

/// A string value, or a typed null.
pub fn opt_str(s: Option<&str>) -> Value {
    s.map(Value::from).unwrap_or(Value::Null(Type::String))
}

/// A number value, or a typed null.
pub fn opt_i64(n: Option<i64>) -> Value {
    n.map(Value::from).unwrap_or(Value::Null(Type::Number))
}

/// A bool value, or a typed null.
pub fn opt_bool(b: Option<bool>) -> Value {
    b.map(Value::Bool).unwrap_or(Value::Null(Type::Bool))
}

/// A set of strings.
pub fn string_set(items: impl IntoIterator<Item = String>) -> Value {
    Value::set_of(Type::String, items.into_iter().map(Value::from).collect())
}

/// A list of strings.
pub fn string_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(Type::String, items.into_iter().map(Value::from).collect())
}

/// A map of strings.
pub fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(
        Type::String,
        m.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// An object from pairs.
pub fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The object's entries (empty for anything else).
pub fn entries(v: &Value) -> BTreeMap<String, Value> {
    v.as_map().cloned().unwrap_or_default()
}

//! A lossless JSON encoding of [`Value`]s (types, unknowns, sensitive
//! marks, exact numbers) for saved plans. State uses plain JSON instead.

use super::{Number, Type, Value};
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

/// Encodes a value with everything needed to decode it exactly.
///
/// ```
/// use posture_provider_core::value::{codec, Type, Value};
/// let v = Value::Tuple(vec![Value::Unknown(Type::String), Value::from("x").mark_sensitive()]);
/// assert_eq!(codec::decode(&codec::encode(&v)), Some(v));
/// ```
pub fn encode(v: &Value) -> J {
    match v {
        Value::Null(t) => json!({"null": t.to_json()}),
        Value::Unknown(t) => json!({"unknown": t.to_json()}),
        Value::Bool(b) => json!({"bool": b}),
        Value::Number(n) => json!({"number": n.to_string()}),
        Value::String(s) => json!({"string": s}),
        Value::List(t, items) => {
            json!({"list": t.to_json(), "items": items.iter().map(encode).collect::<Vec<_>>()})
        }
        Value::Set(t, items) => {
            json!({"set": t.to_json(), "items": items.iter().map(encode).collect::<Vec<_>>()})
        }
        Value::Tuple(items) => json!({"tuple": items.iter().map(encode).collect::<Vec<_>>()}),
        Value::Map(t, m) => {
            json!({"map": t.to_json(), "entries": m.iter().map(|(k, v)| (k.clone(), encode(v))).collect::<serde_json::Map<_, _>>()})
        }
        Value::Object(m) => {
            json!({"object": m.iter().map(|(k, v)| (k.clone(), encode(v))).collect::<serde_json::Map<_, _>>()})
        }
        Value::Sensitive(v) => json!({"sensitive": encode(v)}),
    }
}

fn items(j: &J) -> Option<Vec<Value>> {
    j.as_array()?.iter().map(decode).collect()
}

fn entries(j: &J) -> Option<BTreeMap<String, Value>> {
    j.as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), decode(v)?)))
        .collect()
}

/// Decodes what [`encode`] wrote; `None` for anything else.
pub fn decode(j: &J) -> Option<Value> {
    let o = j.as_object()?;
    let ty = |k: &str| o.get(k).and_then(Type::from_json);
    if let Some(t) = ty("null") {
        return Some(Value::Null(t));
    }
    if let Some(t) = ty("unknown") {
        return Some(Value::Unknown(t));
    }
    if let Some(b) = o.get("bool") {
        return b.as_bool().map(Value::Bool);
    }
    if let Some(n) = o.get("number") {
        return n.as_str()?.parse::<Number>().ok().map(Value::Number);
    }
    if let Some(s) = o.get("string") {
        return s.as_str().map(Value::from);
    }
    if let Some(t) = ty("list") {
        return Some(Value::List(t, items(o.get("items")?)?));
    }
    if let Some(t) = ty("set") {
        return Some(Value::Set(t, items(o.get("items")?)?));
    }
    if let Some(t) = o.get("tuple") {
        return Some(Value::Tuple(items(t)?));
    }
    if let Some(t) = ty("map") {
        return Some(Value::Map(t, entries(o.get("entries")?)?));
    }
    if let Some(m) = o.get("object") {
        return Some(Value::Object(entries(m)?));
    }
    if let Some(s) = o.get("sensitive") {
        return Some(decode(s)?.mark_sensitive());
    }
    None
}

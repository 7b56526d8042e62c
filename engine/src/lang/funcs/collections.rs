//! Collection functions: length, keys, values, ...

use super::{FuncCtx, FuncError, Function, Param};
use crate::value::{Type, Value};
use std::collections::BTreeMap;

pub(super) fn register(t: &mut BTreeMap<&'static str, Function>) {
    t.insert(
        "length",
        Function {
            params: vec![Param::new("value", Type::Dynamic)],
            variadic: None,
            ret: Type::Number,
            imp: length,
        },
    );
}

fn length(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let v = &args[0];
    let n = match v {
        Value::String(s) => s.chars().count(),
        Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => i.len(),
        Value::Map(_, m) | Value::Object(m) => m.len(),
        _ => {
            return Err(FuncError::arg(
                0,
                "Invalid value for \"value\" parameter: argument must be a string, a collection type, or a structural type.",
            ));
        }
    };
    Ok(Value::from(n as i64))
}

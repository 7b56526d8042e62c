//! Collection functions over maps, objects and single elements: length,
//! keys, values, lookup, merge, zipmap, transpose, matchkeys, one, alltrue,
//! anytrue, coalesce, coalescelist, compact, contains, index, element.
//! Whole-sequence reshaping (concat, slice, sort, ...) is in `sequences`.

use super::util::{
    Table, arg_err, equal, fail, grapheme_len, is_seq, list, map, num, p, reg, reg_var, seq,
    shallow_unknowns, whole,
};
use super::{FuncCtx, FuncError};
use crate::value::convert::{convert, unify};
use crate::value::{Type, Value};
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    let dy = || Type::Dynamic;
    reg(t, "length", vec![p("value", dy())], Type::Number, length);
    reg(
        t,
        "keys",
        vec![p("inputMap", dy()).unknowns()],
        Type::Dynamic,
        keys,
    );
    reg(t, "values", vec![p("mapping", dy())], Type::Dynamic, values);
    reg_var(
        t,
        "lookup",
        vec![p("inputMap", dy()), p("key", Type::String)],
        p("default", dy()).nullable().unknowns(),
        Type::Dynamic,
        lookup,
    );
    reg_var(
        t,
        "merge",
        vec![],
        p("maps", dy()).nullable(),
        Type::Dynamic,
        merge,
    );
    reg(
        t,
        "zipmap",
        vec![p("keys", list(Type::String)), p("values", dy())],
        Type::Dynamic,
        zipmap,
    );
    let ml = map(list(Type::String));
    reg(t, "transpose", vec![p("values", ml.clone())], ml, transpose);
    let ld = || list(Type::Dynamic);
    reg(
        t,
        "matchkeys",
        vec![p("values", ld()), p("keys", ld()), p("searchset", ld())],
        Type::Dynamic,
        matchkeys,
    );
    reg(t, "one", vec![p("list", dy())], Type::Dynamic, one);
    reg(
        t,
        "alltrue",
        vec![p("list", list(Type::Bool))],
        Type::Bool,
        alltrue,
    );
    reg(
        t,
        "anytrue",
        vec![p("list", list(Type::Bool))],
        Type::Bool,
        anytrue,
    );
    reg_var(
        t,
        "coalesce",
        vec![],
        p("vals", dy()).nullable().unknowns(),
        Type::Dynamic,
        coalesce,
    );
    reg_var(
        t,
        "coalescelist",
        vec![],
        p("vals", dy()).nullable().unknowns(),
        Type::Dynamic,
        coalescelist,
    );
    reg(
        t,
        "compact",
        vec![p("list", list(Type::String))],
        list(Type::String),
        compact,
    );
    reg(
        t,
        "contains",
        vec![p("list", dy()), p("value", dy())],
        Type::Bool,
        contains,
    );
    reg(
        t,
        "index",
        vec![p("list", dy()), p("value", dy())],
        Type::Number,
        index,
    );
    reg(
        t,
        "element",
        vec![p("list", dy()), p("index", Type::Number)],
        Type::Dynamic,
        element,
    );
    super::util::shallow_marks(
        t,
        &[
            "length", "keys", "values", "lookup", "merge", "zipmap", "one", "element",
        ],
    );
    shallow_unknowns(
        t,
        &[
            "length",
            "keys",
            "values",
            "merge",
            "zipmap",
            "one",
            "element",
            "coalesce",
            "coalescelist",
        ],
    );
}

fn length(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let n = match &args[0] {
        Value::String(s) => grapheme_len(s),
        Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => i.len(),
        Value::Map(_, m) | Value::Object(m) => m.len(),
        _ => {
            // cty fails the call, not the argument.
            return Err(fail(
                "argument must be a string, a collection type, or a structural type",
            ));
        }
    };
    Ok(num(n as i64))
}

fn keys(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    match &args[0] {
        // An object's attribute names are in its type, known or not.
        Value::Unknown(Type::Object(attrs)) => Ok(Value::Tuple(
            attrs.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        Value::Unknown(Type::Map(_)) => Ok(Value::Unknown(list(Type::String))),
        Value::Unknown(Type::Dynamic) => Ok(Value::Unknown(Type::Dynamic)),
        Value::Map(_, m) => Ok(Value::List(
            Type::String,
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        Value::Object(m) => Ok(Value::Tuple(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        _ => Err(arg_err(0, "inputMap", "must have map or object type")),
    }
}

fn values(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    match args.into_iter().next() {
        Some(Value::Map(et, m)) => Ok(Value::List(et, m.into_values().collect())),
        Some(Value::Object(m)) => Ok(Value::Tuple(m.into_values().collect())),
        _ => Err(fail("values() requires a map as the first argument")),
    }
}

fn lookup(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if args.len() > 3 {
        return Err(fail(format!(
            "lookup() takes two or three arguments, got {}",
            args.len()
        )));
    }
    let mut it = args.into_iter();
    let (coll, key, default) = (it.next(), it.next(), it.next());
    let key = key.as_ref().and_then(Value::as_str).unwrap_or_default();
    match coll {
        Some(Value::Object(mut m)) => match (m.remove(key), default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(arg_err(
                0,
                "inputMap",
                format!(
                    "the given object has no attribute {}",
                    super::util::quote_go(key)
                ),
            )),
        },
        Some(Value::Map(et, mut m)) => {
            let d = match default {
                Some(d) => Some(convert(d, &et).map_err(|_| {
                    arg_err(
                        2,
                        "default",
                        "the default value must have the same type as the map elements",
                    )
                })?),
                None => None,
            };
            match (m.remove(key), d) {
                (Some(v), _) => Ok(v),
                (None, Some(d)) => Ok(d),
                (None, None) => Err(fail(format!(
                    "lookup failed to find key {}",
                    super::util::quote_go(key)
                ))),
            }
        }
        _ => Err(arg_err(
            0,
            "inputMap",
            "lookup() requires a map as the first argument",
        )),
    }
}

fn merge(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    for a in &args {
        if !matches!(a.ty(), Type::Map(_) | Type::Object(_) | Type::Dynamic) {
            return Err(fail(format!(
                "arguments must be maps or objects, got \"{}\"",
                a.ty().friendly_name()
            )));
        }
    }
    // Same types everywhere keep that type (all maps of T: a map of T);
    // otherwise the result is an object.
    let first = args.first().map(Value::ty);
    let matching = args.iter().all(|a| Some(a.ty()) == first);
    let mut out = BTreeMap::new();
    for a in args {
        match a {
            Value::Map(_, m) | Value::Object(m) => out.extend(m),
            _ => {}
        }
    }
    match first {
        Some(Type::Map(et)) if matching => Ok(Value::Map(*et, out)),
        _ => Ok(Value::Object(out)),
    }
}

fn zipmap(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if !args[0].is_wholly_known() {
        // Unknown keys make the whole result's shape unknown.
        return Ok(Value::Unknown(Type::Dynamic));
    }
    let keys: Vec<String> = seq(&args[0])
        .iter()
        .map(|k| k.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| fail("keys list has null value"))?;
    let (vals, et) = match &args[1] {
        Value::List(et, v) => (v, Some(et.clone())),
        Value::Tuple(v) => (v, None),
        _ => return Err(fail("values argument must be a list or tuple value")),
    };
    if keys.len() != vals.len() {
        return Err(fail(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        )));
    }
    let out: BTreeMap<String, Value> = keys.into_iter().zip(vals.iter().cloned()).collect();
    // Keys cannot carry marks, so a marked key marks the whole result.
    let marked = seq(&args[0]).iter().any(Value::is_sensitive);
    Ok(match et {
        Some(et) => Value::Map(et, out),
        None => Value::Object(out),
    }
    .mark_if(marked))
}

fn transpose(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, l) in args[0].as_map().into_iter().flatten() {
        for v in seq(l) {
            let s = v
                .as_str()
                .ok_or_else(|| fail("input must be a map of lists of strings"))?;
            out.entry(s.to_string())
                .or_default()
                .push(Value::String(k.clone()));
        }
    }
    Ok(Value::Map(
        list(Type::String),
        out.into_iter()
            .map(|(k, v)| (k, Value::List(Type::String, v)))
            .collect(),
    ))
}

fn matchkeys(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let et = match &args[0] {
        Value::List(et, _) => et.clone(),
        _ => Type::Dynamic,
    };
    let kt = unify(&[args[1].ty(), args[2].ty()])
        .ok_or_else(|| fail("keys and searchset must be of the same type"))?;
    let (values, keys, search) = (seq(&args[0]), &args[1], &args[2]);
    if values.len() != seq(keys).len() {
        return Err(fail("length of keys and values should be equal"));
    }
    let keys = convert(keys.clone(), &kt).map_err(|e| fail(e.to_string()))?;
    let search = convert(search.clone(), &kt).map_err(|e| fail(e.to_string()))?;
    let out = seq(&keys)
        .iter()
        .zip(values)
        .filter(|(k, _)| seq(&search).iter().any(|s| equal(k, s)))
        .map(|(_, v)| v.clone())
        .collect();
    Ok(Value::List(et, out))
}

const ONE_MSG: &str = "must be a list, set, or tuple value with either zero or one elements";

fn one(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (items, et) = match &args[0] {
        Value::List(et, i) | Value::Set(et, i) => (i, et.clone()),
        Value::Tuple(i) => (i, Type::Dynamic),
        _ => return Err(arg_err(0, "list", ONE_MSG)),
    };
    match items.as_slice() {
        [] => Ok(Value::Null(et)),
        [v] => Ok(v.clone()),
        _ => Err(arg_err(0, "list", ONE_MSG)),
    }
}

fn alltrue(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    // A null element counts as false.
    Ok(Value::Bool(
        seq(&args[0]).iter().all(|v| v.as_bool() == Some(true)),
    ))
}

fn anytrue(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    Ok(Value::Bool(
        seq(&args[0]).iter().any(|v| v.as_bool() == Some(true)),
    ))
}

fn coalesce(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let types: Vec<Type> = args.iter().map(Value::ty).collect();
    let ty = unify(&types).ok_or_else(|| fail("all arguments must have the same type"))?;
    for a in args {
        let a = convert(a, &ty).map_err(|_| fail("all arguments must have the same type"))?;
        if a.is_unknown() {
            return Ok(Value::Unknown(ty));
        }
        if a.is_null() || (ty == Type::String && a.as_str() == Some("")) {
            continue;
        }
        return Ok(a);
    }
    Err(fail("no non-null, non-empty-string arguments"))
}

fn coalescelist(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err(fail("at least one argument is required"));
    }
    for a in &args {
        if !a.is_unknown() && !matches!(a.ty(), Type::List(_) | Type::Tuple(_)) {
            return Err(fail("coalescelist arguments must be lists or tuples"));
        }
    }
    for a in args {
        if a.is_unknown() {
            // A later argument could still be the first non-empty one.
            return Ok(Value::Unknown(Type::Dynamic));
        }
        if !a.is_null() && !seq(&a).is_empty() {
            return Ok(a);
        }
    }
    Err(fail("no non-null arguments"))
}

fn compact(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let kept = seq(&args[0])
        .iter()
        .filter(|v| !matches!(v.as_str(), None | Some("")))
        .cloned()
        .collect();
    Ok(Value::List(Type::String, kept))
}

fn contains(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if !is_seq(&args[0]) {
        return Err(fail("argument must be list, tuple, or set"));
    }
    Ok(Value::Bool(
        seq(&args[0]).iter().any(|v| equal(v, &args[1])),
    ))
}

fn index(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if !matches!(args[0], Value::List(..) | Value::Tuple(_)) {
        return Err(fail("argument must be a list or tuple"));
    }
    let items = seq(&args[0]);
    if items.is_empty() {
        return Err(fail("cannot search an empty list"));
    }
    items
        .iter()
        .position(|v| equal(v, &args[1]))
        .map(|i| num(i as i64))
        .ok_or_else(|| fail("item not found"))
}

fn element(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if !matches!(args[0], Value::List(..) | Value::Tuple(_)) {
        return Err(fail(format!(
            "cannot read elements from {}",
            args[0].ty().friendly_name()
        )));
    }
    let i = whole(&args[1]).map_err(|e| fail(format!("invalid index: {e}")))?;
    let items = seq(&args[0]);
    if items.is_empty() {
        return Err(fail("cannot use element function with an empty list"));
    }
    // Terraform 1.10+ (cty 1.15) wraps negative indices from the end.
    let i = i.rem_euclid(items.len() as i64) as usize;
    Ok(items[i].clone())
}

#[cfg(test)]
#[path = "collections_tests.rs"]
mod tests;

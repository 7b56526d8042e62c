//! Type conversion and mark functions: tostring, tonumber, tobool, tolist,
//! toset, tomap, sensitive, nonsensitive, issensitive. The `to*` functions
//! pass null through (typed) and word failures as Terraform does.

use super::util::{Table, arg_err, list, map, p, quote_go, set};
use super::{FuncCtx, FuncError, Function};
use crate::value::convert::convert;
use crate::value::{Type, Value};

pub(super) fn register(t: &mut Table) {
    let conv = |t: &mut Table, name: &'static str, ret: Type, imp| {
        t.insert(
            name,
            Function::new(vec![p("v", Type::Dynamic).nullable()], None, ret, imp),
        );
    };
    conv(t, "tostring", Type::String, tostring);
    conv(t, "tonumber", Type::Number, tonumber);
    conv(t, "tobool", Type::Bool, tobool);
    conv(t, "tolist", list(Type::Dynamic), tolist);
    conv(t, "toset", set(Type::Dynamic), toset);
    conv(t, "tomap", map(Type::Dynamic), tomap);
    let to = ["tostring", "tonumber", "tobool", "tolist", "toset", "tomap"];
    super::util::shallow_unknowns(t, &to);
    super::util::shallow_marks(t, &to);
    let marks = |t: &mut Table, name: &'static str, imp| {
        let mut f = Function::new(
            vec![p("value", Type::Dynamic).nullable().unknowns()],
            None,
            Type::Dynamic,
            imp,
        );
        f.sees_marks = true;
        t.insert(name, f);
    };
    marks(t, "sensitive", sensitive);
    marks(t, "nonsensitive", nonsensitive);
    marks(t, "issensitive", issensitive);
}

/// Converts with Terraform's `to*` wording for failures.
fn to(v: Value, want: Type) -> Result<Value, FuncError> {
    let got = v.ty();
    let constraint = match &want {
        Type::List(_) => "list of any single type".to_string(),
        Type::Set(_) => "set of any single type".to_string(),
        Type::Map(_) => "map of any single type".to_string(),
        t => t.friendly_name(),
    };
    // Values that can never convert fail with the type names alone.
    let kind_ok = match (&want, v.unmarked()) {
        (_, Value::Null(_)) => true,
        (Type::String | Type::Number | Type::Bool, x) => {
            matches!(x, Value::String(_) | Value::Number(_) | Value::Bool(_))
                && !(matches!(want, Type::Number) && matches!(x, Value::Bool(_)))
                && !(matches!(want, Type::Bool) && matches!(x, Value::Number(_)))
        }
        (Type::List(_) | Type::Set(_), x) => {
            matches!(x, Value::List(..) | Value::Set(..) | Value::Tuple(_))
        }
        (Type::Map(_), x) => matches!(x, Value::Map(..) | Value::Object(_)),
        _ => true,
    };
    if !kind_ok {
        return Err(arg_err(
            0,
            "v",
            format!("cannot convert {} to {constraint}", got.friendly_name()),
        ));
    }
    convert(v.clone(), &want).map_err(|e| match (v.unmarked(), &want) {
        (Value::String(s), Type::Bool) => arg_err(
            0,
            "v",
            format!(
                "cannot convert {} to bool; only the strings \"true\" or \"false\" are allowed",
                quote_go(s)
            ),
        ),
        (Value::String(s), Type::Number) => arg_err(
            0,
            "v",
            format!(
                "cannot convert {} to number; given string must be a decimal representation of a number",
                quote_go(s)
            ),
        ),
        _ if e.message == "all elements must have the same type" => arg_err(
            0,
            "v",
            format!("cannot convert {} to {constraint}", got.friendly_name()),
        ),
        _ => arg_err(0, "v", e.to_string()),
    })
}

fn first(args: Vec<Value>) -> Value {
    args.into_iter().next().unwrap_or(Value::NULL)
}

fn tostring(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), Type::String)
}

fn tonumber(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), Type::Number)
}

fn tobool(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), Type::Bool)
}

fn tolist(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), list(Type::Dynamic))
}

fn toset(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), set(Type::Dynamic))
}

fn tomap(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    to(first(args), map(Type::Dynamic))
}

fn sensitive(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    Ok(first(args).mark_sensitive())
}

fn nonsensitive(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    // Terraform 1.8+ accepts non-sensitive values here too.
    Ok(first(args).unmark().0)
}

fn issensitive(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let v = first(args);
    if !v.is_wholly_known() && !v.is_sensitive() {
        return Ok(Value::Unknown(Type::Bool));
    }
    Ok(Value::Bool(v.is_sensitive()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::{Type, Value};

    #[test]
    fn conversion_functions_match_terraform() {
        let t = Type::String;
        let nu = Type::Number;
        run(vec![
            (
                "tostring of number",
                "tostring",
                vec![n("1.50")],
                ok(s("1.5")),
            ),
            ("tostring of bool", "tostring", vec![b(true)], ok(s("true"))),
            (
                "tostring of null is typed null",
                "tostring",
                vec![Value::NULL],
                ok(Value::Null(t.clone())),
            ),
            (
                "tostring of tuple",
                "tostring",
                vec![tstrs(&["a"])],
                err("cannot convert tuple to string"),
            ),
            (
                "tonumber of string",
                "tonumber",
                vec![s("12.5")],
                ok(n("12.5")),
            ),
            (
                "tonumber of bad string",
                "tonumber",
                vec![s("no")],
                err(
                    "cannot convert \"no\" to number; given string must be a decimal representation of a number",
                ),
            ),
            (
                "tonumber of bool",
                "tonumber",
                vec![b(true)],
                err("cannot convert bool to number"),
            ),
            ("tobool of string", "tobool", vec![s("false")], ok(b(false))),
            (
                "tobool of bad string",
                "tobool",
                vec![s("yes")],
                err(
                    "cannot convert \"yes\" to bool; only the strings \"true\" or \"false\" are allowed",
                ),
            ),
            (
                "tolist of tuple unifies",
                "tolist",
                vec![tup(vec![s("a"), n("1")])],
                ok(strs(&["a", "1"])),
            ),
            (
                "tolist of string",
                "tolist",
                vec![s("a")],
                err("cannot convert string to list of any single type"),
            ),
            (
                "tolist of mixed structures",
                "tolist",
                vec![tup(vec![s("a"), tstrs(&["b"])])],
                err("cannot convert tuple to list of any single type"),
            ),
            (
                "toset dedupes and sorts",
                "toset",
                vec![tstrs(&["b", "a", "b"])],
                ok(st(t.clone(), vec![s("a"), s("b")])),
            ),
            (
                "toset of mixed is strings",
                "toset",
                vec![tup(vec![s("a"), n("1")])],
                ok(st(t.clone(), vec![s("1"), s("a")])),
            ),
            (
                "tomap of object",
                "tomap",
                vec![obj(vec![("a", n("1")), ("b", s("x"))])],
                ok(mp(t.clone(), vec![("a", s("1")), ("b", s("x"))])),
            ),
            (
                "tomap of numbers",
                "tomap",
                vec![obj(vec![("a", n("1"))])],
                ok(mp(nu.clone(), vec![("a", n("1"))])),
            ),
            (
                "tomap of list",
                "tomap",
                vec![tstrs(&["a"])],
                err("cannot convert tuple to map of any single type"),
            ),
            (
                "sensitive marks",
                "sensitive",
                vec![s("x")],
                ok(s("x").mark_sensitive()),
            ),
            (
                "nonsensitive unmarks",
                "nonsensitive",
                vec![s("x").mark_sensitive()],
                ok(s("x")),
            ),
            (
                "nonsensitive of plain value",
                "nonsensitive",
                vec![s("x")],
                ok(s("x")),
            ),
            (
                "issensitive",
                "issensitive",
                vec![s("x").mark_sensitive()],
                ok(b(true)),
            ),
            (
                "issensitive plain",
                "issensitive",
                vec![s("x")],
                ok(b(false)),
            ),
            (
                "marks pass through other functions",
                "tostring",
                vec![n("1").mark_sensitive()],
                ok(s("1").mark_sensitive()),
            ),
        ]);
    }
}

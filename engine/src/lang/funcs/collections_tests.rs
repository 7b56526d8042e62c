//! Expectations from Terraform's function documentation and cty's stdlib
//! semantics (result types included).

use super::super::testing::*;
use crate::value::{Type, Value};

#[test]
fn collection_functions_match_terraform() {
    let t = Type::String;
    let nu = Type::Number;
    run(vec![
        (
            "length of string counts characters",
            "length",
            vec![s("héllo")],
            ok(n("5")),
        ),
        (
            "length of combining sequence is one",
            "length",
            vec![s("e\u{301}")],
            ok(n("1")),
        ),
        (
            "length of tuple",
            "length",
            vec![tnums(&["1", "2"])],
            ok(n("2")),
        ),
        (
            "length of object",
            "length",
            vec![obj(vec![("a", n("1"))])],
            ok(n("1")),
        ),
        (
            "length of number",
            "length",
            vec![n("1")],
            err("argument must be a string, a collection type"),
        ),
        (
            "keys of object is a tuple",
            "keys",
            vec![obj(vec![("b", n("1")), ("a", n("2"))])],
            ok(tstrs(&["a", "b"])),
        ),
        (
            "keys of map is a list",
            "keys",
            vec![mp(nu.clone(), vec![("x", n("1"))])],
            ok(strs(&["x"])),
        ),
        (
            "keys of list",
            "keys",
            vec![strs(&["a"])],
            err("must have map or object type"),
        ),
        (
            "values of object is a tuple",
            "values",
            vec![obj(vec![("b", s("x")), ("a", n("2"))])],
            ok(tup(vec![n("2"), s("x")])),
        ),
        (
            "values of map is a list",
            "values",
            vec![mp(t.clone(), vec![("b", s("2")), ("a", s("1"))])],
            ok(strs(&["1", "2"])),
        ),
        (
            "lookup hit in object",
            "lookup",
            vec![obj(vec![("a", s("x"))]), s("a")],
            ok(s("x")),
        ),
        (
            "lookup default of another type in object",
            "lookup",
            vec![obj(vec![("a", s("x"))]), s("b"), n("1")],
            ok(n("1")),
        ),
        (
            "lookup default converts to map element type",
            "lookup",
            vec![mp(t.clone(), vec![("a", s("x"))]), s("b"), n("1")],
            ok(s("1")),
        ),
        (
            "lookup incompatible default",
            "lookup",
            vec![mp(nu.clone(), vec![("a", n("1"))]), s("b"), s("z")],
            err("the default value must have the same type as the map elements"),
        ),
        (
            "lookup miss without default in map",
            "lookup",
            vec![mp(t.clone(), vec![]), s("k")],
            err("lookup failed to find key \"k\""),
        ),
        (
            "lookup miss without default in object",
            "lookup",
            vec![obj(vec![]), s("k")],
            err("the given object has no attribute \"k\""),
        ),
        (
            "merge objects gives object",
            "merge",
            vec![
                obj(vec![("a", n("1"))]),
                obj(vec![("a", s("x")), ("b", b(true))]),
            ],
            ok(obj(vec![("a", s("x")), ("b", b(true))])),
        ),
        (
            "merge maps gives map",
            "merge",
            vec![
                mp(t.clone(), vec![("a", s("1"))]),
                mp(t.clone(), vec![("b", s("2"))]),
            ],
            ok(mp(t.clone(), vec![("a", s("1")), ("b", s("2"))])),
        ),
        (
            "merge skips null",
            "merge",
            vec![Value::NULL, obj(vec![("a", n("1"))])],
            ok(obj(vec![("a", n("1"))])),
        ),
        ("merge of nothing", "merge", vec![], ok(obj(vec![]))),
        (
            "merge rejects list",
            "merge",
            vec![strs(&["a"])],
            err("arguments must be maps or objects, got \"list of string\""),
        ),
        (
            "zipmap with list is map",
            "zipmap",
            vec![strs(&["a", "b"]), strs(&["1", "2"])],
            ok(mp(t.clone(), vec![("a", s("1")), ("b", s("2"))])),
        ),
        (
            "zipmap with tuple is object",
            "zipmap",
            vec![tstrs(&["a", "b"]), tup(vec![n("1"), s("x")])],
            ok(obj(vec![("a", n("1")), ("b", s("x"))])),
        ),
        (
            "zipmap length mismatch",
            "zipmap",
            vec![tstrs(&["a"]), tup(vec![])],
            err("number of keys (1) does not match number of values (0)"),
        ),
        (
            "transpose",
            "transpose",
            vec![obj(vec![
                ("a", tstrs(&["1", "2"])),
                ("b", tstrs(&["2", "3"])),
            ])],
            ok(mp(
                lt(t.clone()),
                vec![
                    ("1", strs(&["a"])),
                    ("2", strs(&["a", "b"])),
                    ("3", strs(&["b"])),
                ],
            )),
        ),
        (
            "matchkeys",
            "matchkeys",
            vec![
                tstrs(&["i-1", "i-2", "i-3"]),
                tstrs(&["a", "b", "a"]),
                tstrs(&["a"]),
            ],
            ok(strs(&["i-1", "i-3"])),
        ),
        (
            "matchkeys length mismatch",
            "matchkeys",
            vec![tstrs(&["x"]), tstrs(&[]), tstrs(&["a"])],
            err("length of keys and values should be equal"),
        ),
        (
            "one of empty list is typed null",
            "one",
            vec![lst(nu.clone(), vec![])],
            ok(Value::Null(nu.clone())),
        ),
        (
            "one of empty tuple is null",
            "one",
            vec![tup(vec![])],
            ok(Value::NULL),
        ),
        ("one of single", "one", vec![tstrs(&["a"])], ok(s("a"))),
        (
            "one of two",
            "one",
            vec![tstrs(&["a", "b"])],
            err("must be a list, set, or tuple value with either zero or one elements"),
        ),
        (
            "alltrue of empty",
            "alltrue",
            vec![tup(vec![])],
            ok(b(true)),
        ),
        (
            "alltrue converts strings",
            "alltrue",
            vec![tup(vec![s("true"), b(true)])],
            ok(b(true)),
        ),
        (
            "alltrue false",
            "alltrue",
            vec![tup(vec![b(true), b(false)])],
            ok(b(false)),
        ),
        (
            "anytrue of empty",
            "anytrue",
            vec![tup(vec![])],
            ok(b(false)),
        ),
        (
            "anytrue",
            "anytrue",
            vec![tup(vec![b(false), b(true)])],
            ok(b(true)),
        ),
        (
            "coalesce skips null and empty",
            "coalesce",
            vec![Value::NULL, s(""), s("b")],
            ok(s("b")),
        ),
        (
            "coalesce unifies to string",
            "coalesce",
            vec![n("1"), s("a")],
            ok(s("1")),
        ),
        (
            "coalesce numbers",
            "coalesce",
            vec![Value::Null(nu.clone()), n("2")],
            ok(n("2")),
        ),
        (
            "coalesce nothing usable",
            "coalesce",
            vec![Value::NULL, s("")],
            err("no non-null, non-empty-string arguments"),
        ),
        (
            "coalesce incompatible",
            "coalesce",
            vec![tstrs(&["a"]), s("b")],
            err("all arguments must have the same type"),
        ),
        (
            "coalescelist",
            "coalescelist",
            vec![tup(vec![]), tstrs(&["c"])],
            ok(tstrs(&["c"])),
        ),
        (
            "coalescelist all empty",
            "coalescelist",
            vec![tup(vec![])],
            err("no non-null arguments"),
        ),
        (
            "coalescelist rejects string",
            "coalescelist",
            vec![s("a")],
            err("coalescelist arguments must be lists or tuples"),
        ),
        (
            "compact drops empty and null",
            "compact",
            vec![tup(vec![s("a"), s(""), Value::Null(t.clone()), s("b")])],
            ok(strs(&["a", "b"])),
        ),
        (
            "compact empty result keeps type",
            "compact",
            vec![tup(vec![])],
            ok(strs(&[])),
        ),
        (
            "contains",
            "contains",
            vec![tstrs(&["a", "b"]), s("b")],
            ok(b(true)),
        ),
        (
            "contains compares types",
            "contains",
            vec![tstrs(&["1"]), n("1")],
            ok(b(false)),
        ),
        (
            "contains on string",
            "contains",
            vec![s("abc"), s("a")],
            err("argument must be list, tuple, or set"),
        ),
        (
            "index",
            "index",
            vec![tstrs(&["a", "b", "c"]), s("b")],
            ok(n("1")),
        ),
        (
            "index missing",
            "index",
            vec![tstrs(&["a"]), s("z")],
            err("item not found"),
        ),
        (
            "index empty",
            "index",
            vec![tup(vec![])],
            err("expects 2 argument"),
        ),
        (
            "index of empty list",
            "index",
            vec![tup(vec![]), s("a")],
            err("cannot search an empty list"),
        ),
        (
            "element",
            "element",
            vec![tstrs(&["a", "b", "c"]), n("1")],
            ok(s("b")),
        ),
        (
            "element wraps",
            "element",
            vec![tstrs(&["a", "b", "c"]), n("3")],
            ok(s("a")),
        ),
        (
            "element negative wraps from end",
            "element",
            vec![tstrs(&["a", "b", "c"]), n("-1")],
            ok(s("c")),
        ),
        (
            "element of empty",
            "element",
            vec![tup(vec![]), n("0")],
            err("cannot use element function with an empty list"),
        ),
        (
            "element fractional index",
            "element",
            vec![tstrs(&["a"]), n("0.5")],
            err("invalid index: value must be a whole number"),
        ),
        (
            "element of set",
            "element",
            vec![st(t.clone(), vec![s("a")]), n("0")],
            err("cannot read elements from set of string"),
        ),
    ]);
}

#[test]
fn unknown_values_flow_as_in_terraform() {
    let t = Type::String;
    let unk = |ty: Type| Value::Unknown(ty);
    let attrs = std::collections::BTreeMap::from([
        ("a".to_string(), Type::String),
        ("b".to_string(), Type::Number),
    ]);
    run(vec![
        (
            "length of a tuple with an unknown element is known",
            "length",
            vec![tup(vec![unk(t.clone()), s("x")])],
            ok(n("2")),
        ),
        (
            "length of an unknown list",
            "length",
            vec![unk(lt(t.clone()))],
            ok(unk(Type::Number)),
        ),
        (
            "keys of an unknown object come from its type",
            "keys",
            vec![unk(Type::Object(attrs))],
            ok(tstrs(&["a", "b"])),
        ),
        (
            "concat keeps unknown elements",
            "concat",
            vec![tup(vec![unk(t.clone())]), tstrs(&["b"])],
            ok(tup(vec![unk(t.clone()), s("b")])),
        ),
        (
            "merge keeps unknown values",
            "merge",
            vec![obj(vec![("a", unk(t.clone()))])],
            ok(obj(vec![("a", unk(t.clone()))])),
        ),
        (
            "flatten of an unknown nested list",
            "flatten",
            vec![tup(vec![unk(lt(t.clone()))])],
            ok(unk(Type::Dynamic)),
        ),
        (
            "coalesce stops at the first known value",
            "coalesce",
            vec![s("a"), unk(t.clone())],
            ok(s("a")),
        ),
        (
            "coalesce reaching an unknown",
            "coalesce",
            vec![Value::NULL, unk(t.clone()), s("b")],
            ok(unk(t.clone())),
        ),
        (
            "jsonencode needs everything known",
            "jsonencode",
            vec![tup(vec![unk(t.clone())])],
            ok(unk(t.clone())),
        ),
        (
            "tostring of unknown",
            "tostring",
            vec![unk(Type::Number)],
            ok(unk(t.clone())),
        ),
        (
            "sensitive unknown stays marked",
            "upper",
            vec![unk(t.clone()).mark_sensitive()],
            ok(unk(t.clone()).mark_sensitive()),
        ),
    ]);
}

#[test]
fn marks_stay_on_elements_where_terraform_keeps_them() {
    let secret = || s("pw").mark_sensitive();
    run(vec![
        (
            "merge keeps the mark on the value",
            "merge",
            vec![obj(vec![("a", s("x"))]), obj(vec![("b", secret())])],
            ok(obj(vec![("a", s("x")), ("b", secret())])),
        ),
        (
            "concat keeps the mark on the element",
            "concat",
            vec![tstrs(&["a"]), tup(vec![secret()])],
            ok(tup(vec![s("a"), secret()])),
        ),
        (
            "length of a list holding a secret is not secret",
            "length",
            vec![tup(vec![secret()])],
            ok(n("1")),
        ),
        (
            "length of a secret list is secret",
            "length",
            vec![tup(vec![s("a")]).mark_sensitive()],
            ok(n("1").mark_sensitive()),
        ),
        (
            "lookup returns the marked value",
            "lookup",
            vec![obj(vec![("a", secret()), ("b", s("x"))]), s("b")],
            ok(s("x")),
        ),
        (
            "tolist keeps element marks",
            "tolist",
            vec![tup(vec![secret(), s("b")])],
            ok(lst(Type::String, vec![secret(), s("b")])),
        ),
        (
            "flatten of a marked inner list marks the result",
            "flatten",
            vec![tup(vec![tstrs(&["a"]).mark_sensitive()])],
            ok(tstrs(&["a"]).mark_sensitive()),
        ),
        (
            "zipmap with a marked key marks the result",
            "zipmap",
            vec![tup(vec![secret()]), tstrs(&["v"])],
            ok(obj(vec![("pw", s("v"))]).mark_sensitive()),
        ),
        (
            "jsonencode marks the whole result",
            "jsonencode",
            vec![tup(vec![secret()])],
            ok(s("[\"pw\"]").mark_sensitive()),
        ),
        (
            "upper of a secret",
            "upper",
            vec![secret()],
            ok(s("PW").mark_sensitive()),
        ),
    ]);
}

#[test]
fn argument_conversion_failures_read_as_in_terraform() {
    run(vec![
        (
            "bool where a number is needed",
            "abs",
            vec![b(true)],
            err("Invalid value for \"num\" parameter: number required."),
        ),
        (
            "word where a number is needed",
            "abs",
            vec![s("x")],
            err("Invalid value for \"num\" parameter: a number is required."),
        ),
        (
            "list where a string is needed",
            "upper",
            vec![tstrs(&["a"])],
            err("Invalid value for \"str\" parameter: string required."),
        ),
        (
            "string where a list is needed",
            "join",
            vec![s(","), s("a")],
            err("Invalid value for \"lists\" parameter: list of string required."),
        ),
        (
            "null argument",
            "abs",
            vec![Value::Null(Type::Number)],
            err("Invalid value for \"num\" parameter: argument must not be null."),
        ),
    ]);
}

// A fraction where substr/cidrhost/cidrsubnet need a whole number blamed
// the argument ("Invalid function argument"); cty fails the call. range
// with step 0 said "step must not be zero", Terraform 1.15.5 generates.
#[test]
fn whole_number_and_zero_step_errors_blamed_an_argument() {
    let ctx = super::super::FuncCtx {
        base_dir: std::path::Path::new("."),
        templates: &super::super::NoTemplates,
    };
    let n = |x: &str| Value::Number(x.parse().unwrap_or_else(|_| panic!("{x}")));
    for (func, args, want) in [
        (
            "substr",
            vec![s("hello"), n("1.5"), n("2")],
            "between -9223372036854775808",
        ),
        (
            "substr",
            vec![s("hello"), n("1"), n("2.5")],
            "between -9223372036854775808",
        ),
        ("cidrhost", vec![s("10.0.0.0/8"), n("1.5")], "whole number"),
        (
            "cidrsubnet",
            vec![s("10.0.0.0/8"), n("8"), n("1.5")],
            "whole number",
        ),
        (
            "range",
            vec![n("0"), n("5"), n("0")],
            "more than 1024 values",
        ),
    ] {
        match super::super::call(&ctx, func, args) {
            Err(e) => {
                assert_eq!(e.arg, None, "{func}: {}", e.message);
                assert!(e.message.contains(want), "{func}: {}", e.message);
            }
            Ok(v) => panic!("{func}: {v:?}"),
        }
    }
    let got = super::super::call(&ctx, "range", vec![n("3"), n("3"), n("0")]);
    assert_eq!(got.ok(), Some(Value::List(Type::Number, vec![])));
}

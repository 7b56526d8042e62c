//! Expectations from Terraform's `format` documentation and the Go
//! formatting rules cty delegates to.

use super::super::testing::*;
use crate::value::{Type, Value};

#[test]
fn format_verbs_match_terraform() {
    let f = |fmt: &str, args: Vec<Value>| {
        let mut all = vec![s(fmt)];
        all.extend(args);
        all
    };
    run(vec![
        (
            "%s",
            "format",
            f("Hello, %s!", vec![s("Ander")]),
            ok(s("Hello, Ander!")),
        ),
        (
            "%d",
            "format",
            f("There are %d lights", vec![n("4")]),
            ok(s("There are 4 lights")),
        ),
        (
            "%#v string",
            "format",
            f("%#v", vec![s("hello")]),
            ok(s("\"hello\"")),
        ),
        (
            "%#v object",
            "format",
            f("%#v", vec![obj(vec![("a", n("1"))])]),
            ok(s("{\"a\":1}")),
        ),
        (
            "%v list is JSON",
            "format",
            f("%v", vec![tup(vec![b(true), s("<")])]),
            ok(s("[true,\"\\u003c\"]")),
        ),
        (
            "%v null",
            "format",
            f("%v", vec![Value::NULL]),
            ok(s("null")),
        ),
        ("%v bool", "format", f("%v", vec![b(false)]), ok(s("false"))),
        ("%v number", "format", f("%v", vec![n("1.5")]), ok(s("1.5"))),
        (
            "%v large number uses exponent",
            "format",
            f("%v", vec![n("1000000")]),
            ok(s("1e+06")),
        ),
        (
            "%v below a million is plain",
            "format",
            f("%v", vec![n("123456")]),
            ok(s("123456")),
        ),
        (
            "%v small number",
            "format",
            f("%v", vec![n("0.00001")]),
            ok(s("1e-05")),
        ),
        (
            "%v 0.0001 is plain",
            "format",
            f("%v", vec![n("0.0001")]),
            ok(s("0.0001")),
        ),
        (
            "%.2f",
            "format",
            f("%.2f", vec![n("3.14159")]),
            ok(s("3.14")),
        ),
        (
            "%f default precision",
            "format",
            f("%f", vec![n("1.5")]),
            ok(s("1.500000")),
        ),
        (
            "%5.1f",
            "format",
            f("%5.1f", vec![n("3.14159")]),
            ok(s("  3.1")),
        ),
        (
            "%.0f half to even",
            "format",
            f("%.0f %.0f", vec![n("2.5"), n("3.5")]),
            ok(s("2 4")),
        ),
        (
            "%08.3f negative",
            "format",
            f("%08.3f", vec![n("-3.14159")]),
            ok(s("-003.142")),
        ),
        ("%+.1f", "format", f("%+.1f", vec![n("2")]), ok(s("+2.0"))),
        (
            "%e",
            "format",
            f("%e", vec![n("123456")]),
            ok(s("1.234560e+05")),
        ),
        (
            "%10.3E",
            "format",
            f("%10.3E", vec![n("1234.5678")]),
            ok(s(" 1.235E+03")),
        ),
        (
            "%g",
            "format",
            f("%g %g", vec![n("1000000"), n("0.0001")]),
            ok(s("1e+06 0.0001")),
        ),
        (
            "%.3g",
            "format",
            f("%.3g", vec![n("3.14159")]),
            ok(s("3.14")),
        ),
        (
            "%G small",
            "format",
            f("%G", vec![n("0.0000001")]),
            ok(s("1E-07")),
        ),
        ("%-5d|", "format", f("%-5d|", vec![n("4")]), ok(s("4    |"))),
        (
            "%05d negative",
            "format",
            f("%05d", vec![n("-42")]),
            ok(s("-0042")),
        ),
        (
            "%+d % d",
            "format",
            f("%+d % d", vec![n("5"), n("5")]),
            ok(s("+5  5")),
        ),
        ("%.3d", "format", f("%.3d", vec![n("7")]), ok(s("007"))),
        (
            "%.0d of zero prints nothing",
            "format",
            f("[%3.0d]", vec![n("0")]),
            ok(s("[]")),
        ),
        (
            "%x %X %#x %o %#o %b",
            "format",
            f(
                "%x %X %#x %o %#o %b",
                vec![n("255"), n("255"), n("255"), n("8"), n("8"), n("5")],
            ),
            ok(s("ff FF 0xff 10 010 101")),
        ),
        (
            "%d big",
            "format",
            f("%d", vec![n("123456789012345678901234567890")]),
            ok(s("123456789012345678901234567890")),
        ),
        (
            "%d of string number",
            "format",
            f("%d", vec![s("12")]),
            ok(s("12")),
        ),
        (
            "%s of number and bool",
            "format",
            f("%s %s", vec![n("1.50"), b(true)]),
            ok(s("1.5 true")),
        ),
        (
            "%q",
            "format",
            f("%q", vec![s("a\"b<")]),
            ok(s("\"a\\\"b\\u003c\"")),
        ),
        ("%t", "format", f("%t", vec![s("true")]), ok(s("true"))),
        (
            "%5s",
            "format",
            f("%5s|%-5s|%05s", vec![s("ab"), s("ab"), s("ab")]),
            ok(s("   ab|ab   |000ab")),
        ),
        (
            "%.1s counts characters",
            "format",
            f("%.1s", vec![s("héllo")]),
            ok(s("h")),
        ),
        (
            "%.0s does not truncate",
            "format",
            f("%.0s", vec![s("abc")]),
            ok(s("abc")),
        ),
        ("%%", "format", f("100%%", vec![]), ok(s("100%"))),
        (
            "argument index",
            "format",
            f("%[2]s %[1]s %s", vec![s("a"), s("b")]),
            ok(s("b a b")),
        ),
        (
            "not enough arguments",
            "format",
            f("%s %s", vec![s("a")]),
            err("not enough arguments for \"%s\" at 3: need index 2 but have 1 total"),
        ),
        (
            "no verbs",
            "format",
            f("hi", vec![s("a")]),
            err(
                "Invalid value for \"args\" parameter: too many arguments; no verbs in format string.",
            ),
        ),
        (
            "too many",
            "format",
            f("%s", vec![s("a"), s("b")]),
            err("too many arguments; only 1 used by format string"),
        ),
        (
            "unsupported verb",
            "format",
            f("%012z", vec![n("10")]),
            err("unsupported format verb 'z' in \"%012z\" at offset 0"),
        ),
        (
            "bad character",
            "format",
            f("%☠ x", vec![n("10")]),
            err("unrecognized format character '☠' at offset 1"),
        ),
        (
            "trailing percent",
            "format",
            f("abc %", vec![]),
            err("invalid format string starting at offset 5"),
        ),
        (
            "index after width",
            "format",
            f("%[1]5s", vec![s("a")]),
            err("unrecognized format character '5' at offset 4"),
        ),
        (
            "null",
            "format",
            f("%s", vec![Value::Null(Type::String)]),
            err("unsupported value for \"%s\" at 0: null value cannot be formatted"),
        ),
        (
            "%d of bool",
            "format",
            f("%d bottles", vec![b(true)]),
            err("unsupported value for \"%d\" at 0: number required"),
        ),
        (
            "%d of word",
            "format",
            f("%d", vec![s("x")]),
            err("unsupported value for \"%d\" at 0: a number is required"),
        ),
        (
            "%d of fraction",
            "format",
            f("%d", vec![n("1.5")]),
            err("unsupported value for \"%d\" at 0: an integer is required"),
        ),
        (
            "%t of number",
            "format",
            f("%t", vec![n("1")]),
            err("unsupported value for \"%t\" at 0: bool required"),
        ),
        (
            "%s of list",
            "format",
            f("%s", vec![tstrs(&["a"])]),
            err("unsupported value for \"%s\" at 0: string required"),
        ),
    ]);
}

#[test]
fn formatlist_matches_terraform() {
    run(vec![
        (
            "one list",
            "formatlist",
            vec![s("Hello, %s!"), tstrs(&["Valentina", "Ander"])],
            ok(strs(&["Hello, Valentina!", "Hello, Ander!"])),
        ),
        (
            "list and single value",
            "formatlist",
            vec![
                s("%s, %s!"),
                s("Salutations"),
                tstrs(&["Valentina", "Ander"]),
            ],
            ok(strs(&["Salutations, Valentina!", "Salutations, Ander!"])),
        ),
        (
            "two lists",
            "formatlist",
            vec![s("%s=%d"), tstrs(&["a", "b"]), tnums(&["1", "2"])],
            ok(strs(&["a=1", "b=2"])),
        ),
        (
            "empty list",
            "formatlist",
            vec![s("%s"), tup(vec![])],
            ok(strs(&[])),
        ),
        ("no arguments", "formatlist", vec![s("x")], ok(strs(&["x"]))),
        (
            "only single values",
            "formatlist",
            vec![s("%s"), s("a")],
            ok(strs(&["a"])),
        ),
        (
            "length mismatch",
            "formatlist",
            vec![s("%s%s"), tstrs(&["a"]), tstrs(&["b", "c"])],
            err("argument 2 has length 2, which is inconsistent with argument 1 of length 1"),
        ),
        (
            "iteration error",
            "formatlist",
            vec![s("%d"), tstrs(&["1", "x"])],
            err(
                "error on format iteration 1: unsupported value for \"%d\" at 0: a number is required",
            ),
        ),
    ]);
}

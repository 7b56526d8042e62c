//! Tests of the string functions.

use super::super::testing::*;
use crate::value::Type;

#[test]
fn string_functions_match_terraform() {
    run(vec![
        (
            "join",
            "join",
            vec![s(", "), tstrs(&["a", "b"])],
            ok(s("a, b")),
        ),
        (
            "join several lists",
            "join",
            vec![s("-"), tstrs(&["a"]), tstrs(&["b", "c"])],
            ok(s("a-b-c")),
        ),
        (
            "join numbers",
            "join",
            vec![s(","), tnums(&["1", "2"])],
            ok(s("1,2")),
        ),
        (
            "join needs a list",
            "join",
            vec![s(",")],
            err("at least one list is required"),
        ),
        (
            "split",
            "split",
            vec![s(","), s("a,b,,c")],
            ok(strs(&["a", "b", "", "c"])),
        ),
        (
            "split empty string",
            "split",
            vec![s(","), s("")],
            ok(strs(&[""])),
        ),
        (
            "split on empty separator",
            "split",
            vec![s(""), s("héj")],
            ok(strs(&["h", "é", "j"])),
        ),
        (
            "replace literal",
            "replace",
            vec![s("1 + 2 + 3"), s("+"), s("-")],
            ok(s("1 - 2 - 3")),
        ),
        (
            "replace empty substring",
            "replace",
            vec![s("ab"), s(""), s("-")],
            ok(s("-a-b-")),
        ),
        (
            "replace regex with group",
            "replace",
            vec![s("hello world"), s("/w(or)ld/"), s("[$1]")],
            ok(s("hello [or]")),
        ),
        (
            "replace regex named group",
            "replace",
            vec![s("a1b22"), s("/(?P<d>[0-9]+)/"), s("<${d}>")],
            ok(s("a<1>b<22>")),
        ),
        (
            "replace regex longest name",
            "replace",
            vec![s("ab"), s("/(a)/"), s("$1x")],
            ok(s("b")),
        ),
        (
            "replace single slash is literal",
            "replace",
            vec![s("a/b"), s("/"), s("-")],
            ok(s("a-b")),
        ),
        (
            "replace bad regex",
            "replace",
            vec![s("a"), s("/(/"), s("")],
            err("error parsing regexp"),
        ),
        (
            "trimspace unicode",
            "trimspace",
            vec![s("\u{a0} \t x y\n\u{3000}")],
            ok(s("x y")),
        ),
        (
            "trim cutset",
            "trim",
            vec![s("?!hello?!"), s("!?")],
            ok(s("hello")),
        ),
        (
            "trimprefix once",
            "trimprefix",
            vec![s("hellohello"), s("hello")],
            ok(s("hello")),
        ),
        (
            "trimsuffix",
            "trimsuffix",
            vec![s("hello world"), s(" world")],
            ok(s("hello")),
        ),
        (
            "substr",
            "substr",
            vec![s("hello world"), n("1"), n("4")],
            ok(s("ello")),
        ),
        (
            "substr negative offset",
            "substr",
            vec![s("hello world"), n("-5"), n("-1")],
            ok(s("world")),
        ),
        (
            "substr length past end",
            "substr",
            vec![s("hello"), n("3"), n("10")],
            ok(s("lo")),
        ),
        (
            "substr offset past end",
            "substr",
            vec![s("hello"), n("10"), n("1")],
            ok(s("")),
        ),
        (
            "substr graphemes",
            "substr",
            vec![s("e\u{301}x"), n("0"), n("1")],
            ok(s("e\u{301}")),
        ),
        (
            "substr zero length",
            "substr",
            vec![s("abc"), n("1"), n("0")],
            ok(s("")),
        ),
        (
            "substr fractional",
            "substr",
            vec![s("abc"), n("0.5"), n("1")],
            err("value must be a whole number"),
        ),
        ("upper", "upper", vec![s("héllo ß")], ok(s("HÉLLO ß"))),
        ("lower", "lower", vec![s("HÉLLO İ")], ok(s("héllo i"))),
        (
            "title",
            "title",
            vec![s("hello world-foo_bar o'neil")],
            ok(s("Hello World-Foo_bar O'Neil")),
        ),
        (
            "title unicode",
            "title",
            vec![s("élan vital")],
            ok(s("Élan Vital")),
        ),
        (
            "startswith",
            "startswith",
            vec![s("hello"), s("he")],
            ok(b(true)),
        ),
        (
            "endswith",
            "endswith",
            vec![s("hello"), s("he")],
            ok(b(false)),
        ),
        (
            "strcontains",
            "strcontains",
            vec![s("hello"), s("ll")],
            ok(b(true)),
        ),
        ("chomp", "chomp", vec![s("hello\r\n\n")], ok(s("hello"))),
        ("chomp keeps inner", "chomp", vec![s("a\nb")], ok(s("a\nb"))),
        (
            "indent",
            "indent",
            vec![n("2"), s("a\nb\n")],
            ok(s("a\n  b\n  ")),
        ),
        // Terraform 1.15.5: indent_neg, indent_neg_big, indent_zero.
        (
            "indent negative fails (was no indent)",
            "indent",
            vec![n("-1"), s("a\nb")],
            err("must not be negative"),
        ),
        (
            "indent negative without newline",
            "indent",
            vec![n("-5"), s("a")],
            err("must not be negative"),
        ),
        (
            "indent zero",
            "indent",
            vec![n("0"), s("a\nb")],
            ok(s("a\nb")),
        ),
        (
            "strrev",
            "strrev",
            vec![s("abc e\u{301}")],
            ok(s("e\u{301} cba")),
        ),
        (
            "number converts to string",
            "upper",
            vec![n("1")],
            ok(s("1")),
        ),
        (
            "list is not a string",
            "upper",
            vec![tstrs(&["a"])],
            err("Invalid value for \"str\" parameter: string required"),
        ),
        (
            "null is rejected",
            "upper",
            vec![crate::value::Value::Null(Type::String)],
            err("argument must not be null"),
        ),
    ]);
}

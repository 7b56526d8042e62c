//! Expectations from go-cty-yaml's tests, Terraform's `yamlencode` and
//! `yamldecode` documentation, and libyaml's emitter rules.

use super::super::testing::*;
use crate::value::Value;

#[test]
fn yamlencode_matches_terraform() {
    let long = format!("{} b", "a".repeat(85));
    let long_want = format!("\"{}\n  b\"\n", "a".repeat(85));
    run(vec![
        (
            "flat object",
            "yamlencode",
            vec![obj(vec![("a", s("b")), ("c", s("d"))])],
            ok(s("\"a\": \"b\"\n\"c\": \"d\"\n")),
        ),
        (
            "list under key is not indented",
            "yamlencode",
            vec![obj(vec![
                ("foo", tnums(&["1", "2", "3"])),
                ("bar", s("baz")),
            ])],
            ok(s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")),
        ),
        (
            "object in list",
            "yamlencode",
            vec![obj(vec![
                (
                    "foo",
                    tup(vec![
                        n("1"),
                        obj(vec![("a", s("b")), ("c", s("d"))]),
                        n("3"),
                    ]),
                ),
                ("bar", s("baz")),
            ])],
            ok(s(
                "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n",
            )),
        ),
        (
            "nested object",
            "yamlencode",
            vec![obj(vec![("a", obj(vec![("b", n("1"))]))])],
            ok(s("\"a\":\n  \"b\": 1\n")),
        ),
        (
            "list of lists",
            "yamlencode",
            vec![tup(vec![tnums(&["1", "2"]), tnums(&["3"])])],
            ok(s("- - 1\n  - 2\n- - 3\n")),
        ),
        (
            "empty collections",
            "yamlencode",
            vec![obj(vec![("a", tup(vec![])), ("b", obj(vec![]))])],
            ok(s("\"a\": []\n\"b\": {}\n")),
        ),
        (
            "top-level bool ends the document",
            "yamlencode",
            vec![b(true)],
            ok(s("true\n...\n")),
        ),
        (
            "top-level number",
            "yamlencode",
            vec![n("0")],
            ok(s("0\n...\n")),
        ),
        (
            "top-level null",
            "yamlencode",
            vec![Value::NULL],
            ok(s("null\n...\n")),
        ),
        (
            "top-level string",
            "yamlencode",
            vec![s("hello")],
            ok(s("\"hello\"\n")),
        ),
        ("empty string", "yamlencode", vec![s("")], ok(s("\"\"\n"))),
        (
            "empty object",
            "yamlencode",
            vec![obj(vec![])],
            ok(s("{}\n")),
        ),
        (
            "empty tuple",
            "yamlencode",
            vec![tup(vec![])],
            ok(s("[]\n")),
        ),
        (
            "list",
            "yamlencode",
            vec![tstrs(&["b"])],
            ok(s("- \"b\"\n")),
        ),
        (
            "multi-line value is a literal block",
            "yamlencode",
            vec![obj(vec![("a", s("x\ny"))])],
            ok(s("\"a\": |-\n  x\n  y\n")),
        ),
        (
            "literal keeping one newline",
            "yamlencode",
            vec![obj(vec![("a", s("x\n\ny\n")), ("b", n("1"))])],
            ok(s("\"a\": |\n  x\n\n  y\n\"b\": 1\n")),
        ),
        (
            "literal in a list",
            "yamlencode",
            vec![tstrs(&["x\ny"])],
            ok(s("- |-\n  x\n  y\n")),
        ),
        (
            "top-level literal block",
            "yamlencode",
            vec![s("a\nb")],
            ok(s("|-\n  a\n  b\n")),
        ),
        (
            "tab forces double quotes",
            "yamlencode",
            vec![s("a\tb\nc")],
            ok(s("\"a\\tb\\nc\"\n")),
        ),
        (
            "quotes and backslashes",
            "yamlencode",
            vec![s("say \"hi\" \\o/")],
            ok(s("\"say \\\"hi\\\" \\\\o/\"\n")),
        ),
        (
            "astral characters are escaped",
            "yamlencode",
            vec![s("😀 é")],
            ok(s("\"\\U0001F600 é\"\n")),
        ),
        (
            "long strings fold after column 80",
            "yamlencode",
            vec![s(&long)],
            ok(s(&long_want)),
        ),
        (
            "keys are quoted",
            "yamlencode",
            vec![obj(vec![("key with: colon", b(false))])],
            ok(s("\"key with: colon\": false\n")),
        ),
    ]);
}

#[test]
fn yamldecode_matches_terraform() {
    run(vec![
        (
            "mapping and flow sequence",
            "yamldecode",
            vec![s("hello: world\nlist: [1, 2.5]\n")],
            ok(obj(vec![
                ("hello", s("world")),
                ("list", tnums(&["1", "2.5"])),
            ])),
        ),
        (
            "block sequence",
            "yamldecode",
            vec![s("- a\n- b\n")],
            ok(tstrs(&["a", "b"])),
        ),
        (
            "yaml 1.1 booleans",
            "yamldecode",
            vec![s("[yes, No, on, OFF, true, y]")],
            ok(tup(vec![
                b(true),
                b(false),
                b(true),
                b(false),
                b(true),
                b(true),
            ])),
        ),
        (
            "quoted scalars stay strings",
            "yamldecode",
            vec![s("['yes', \"1\", '~']")],
            ok(tstrs(&["yes", "1", "~"])),
        ),
        (
            "nulls",
            "yamldecode",
            vec![s("[~, null, ]")],
            ok(tup(vec![Value::NULL, Value::NULL])),
        ),
        (
            // Was null; Terraform 1.15.5 fails (conformance yaml_dec_empty).
            "empty input was null, not go-yaml's error",
            "yamldecode",
            vec![s("")],
            err("on line 1, column 1: missing start of document"),
        ),
        (
            "keys resolve then become strings",
            "yamldecode",
            vec![s("on: 1\n2: b\n")],
            ok(obj(vec![("2", s("b")), ("true", n("1"))])),
        ),
        // YAML 1.2 integers as Terraform 1.15.5 reads them (conformance
        // cases yaml_dec_hex*, yaml_dec_octal*, yaml_dec_binary).
        ("hex integer", "yamldecode", vec![s("0x1F")], ok(n("31"))),
        (
            "octal, hex and leading-zero decimal",
            "yamldecode",
            vec![s("[0o17, 0xff, 017]")],
            ok(tnums(&["15", "255", "17"])),
        ),
        (
            "forms that stay strings",
            "yamldecode",
            vec![s("[0b101, 0X10, -0x10, 0o8, 1_000]")],
            ok(tup(vec![
                s("0b101"),
                s("0X10"),
                s("-0x10"),
                s("0o8"),
                s("1_000"),
            ])),
        ),
        (
            "hex beyond int64",
            "yamldecode",
            vec![s("0xFFFFFFFFFFFFFFFFFF")],
            err("as tag:yaml.org,2002:int"),
        ),
        (
            "tagged binary",
            "yamldecode",
            vec![s("!!int 0b1")],
            ok(n("1")),
        ),
        (
            "merge key: entries in order, later ones win",
            "yamldecode",
            vec![s("b: &b {x: 1, z: 0}\nd:\n  x: 2\n  <<: *b\n  z: 3\n")],
            ok(obj(vec![
                ("b", obj(vec![("x", n("1")), ("z", n("0"))])),
                ("d", obj(vec![("x", n("1")), ("z", n("3"))])),
            ])),
        ),
        (
            "merge key with an inline mapping, twice",
            "yamldecode",
            vec![s("d:\n  <<: {a: 1}\n  \"<<\": {c: 2}\n")],
            ok(obj(vec![("d", obj(vec![("a", n("1")), ("c", n("2"))]))])),
        ),
        (
            "merge of a sequence",
            "yamldecode",
            vec![s("b: &b [1]\nd:\n  <<: *b\n")],
            err("cannot merge tuple into mapping"),
        ),
        (
            "decimal forms",
            "yamldecode",
            vec![s("[.5, -1.5e3, +7]")],
            ok(tnums(&["0.5", "-1500", "7"])),
        ),
        (
            "timestamp with offset",
            "yamldecode",
            vec![s("2001-12-14t21:59:43.10-05:00")],
            ok(s("2001-12-14T21:59:43-05:00")),
        ),
        (
            "date only",
            "yamldecode",
            vec![s("2002-12-14")],
            ok(s("2002-12-14T00:00:00Z")),
        ),
        (
            "explicit str tag",
            "yamldecode",
            vec![s("!!str 123")],
            ok(s("123")),
        ),
        (
            "literal block",
            "yamldecode",
            vec![s("a: |\n  x\n  y\n")],
            ok(obj(vec![("a", s("x\ny\n"))])),
        ),
        (
            "anchors and aliases",
            "yamldecode",
            vec![s("a: &x [1]\nb: *x\n")],
            ok(obj(vec![("a", tnums(&["1"])), ("b", tnums(&["1"]))])),
        ),
        (
            "several documents",
            "yamldecode",
            vec![s("a\n---\nb\n")],
            err("only a single document is allowed"),
        ),
        (
            "a lone sign fails as an integer",
            "yamldecode",
            vec![s("element: +")],
            err("cannot parse \"+\" as tag:yaml.org,2002:int"),
        ),
        (
            "bad explicit bool",
            "yamldecode",
            vec![s("!!bool maybe")],
            err("cannot parse \"maybe\" as tag:yaml.org,2002:bool"),
        ),
        (
            "unknown tag",
            "yamldecode",
            vec![s("!foo x")],
            err("unsupported tag \"!foo\""),
        ),
        (
            "null key",
            "yamldecode",
            vec![s("~: 1")],
            err("mapping key cannot be null"),
        ),
        (
            "nan",
            "yamldecode",
            vec![s(".nan")],
            err("floating point NaN is not supported"),
        ),
        ("syntax error", "yamldecode", vec![s("a: [1")], err("line")),
    ]);
}

#[test]
fn deeply_nested_yaml_is_refused_not_fatal() {
    let deep = format!("{}{}", "[".repeat(3000), "]".repeat(3000));
    let ctx = super::super::FuncCtx {
        base_dir: std::path::Path::new("."),
        templates: &super::super::NoTemplates,
    };
    let got = super::super::call(&ctx, "yamldecode", vec![s(&deep)]);
    assert!(got.is_err(), "{got:?}");
}

#[test]
fn yaml_round_trips_through_terraform_forms() {
    let v = obj(vec![
        (
            "list",
            tup(vec![s("x\ny"), n("1"), b(false), obj(vec![("k", s("v"))])]),
        ),
        ("n", n("12.5")),
    ]);
    let ctx = super::super::FuncCtx {
        base_dir: std::path::Path::new("."),
        templates: &super::super::NoTemplates,
    };
    let text = super::super::call(&ctx, "yamlencode", vec![v.clone()]).expect("encode");
    let back = super::super::call(&ctx, "yamldecode", vec![text]).expect("decode");
    assert_eq!(back, v);
}

//! Regular-expression functions: regex, regexall, and the pattern compiler
//! `replace` uses. Terraform uses Go's RE2 syntax; Rust's `regex` crate
//! accepts the same syntax, except that Go's `\d`, `\w` and `\s` are ASCII
//! only, so patterns are rewritten to the ASCII classes before compiling.

use super::util::{Table, arg_err, fail, p, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use regex::Regex;
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(
        t,
        "regex",
        vec![p("pattern", s()), p("string", s())],
        Type::Dynamic,
        regex_fn,
    );
    reg(
        t,
        "regexall",
        vec![p("pattern", s()), p("string", s())],
        Type::Dynamic,
        regexall,
    );
}

/// Rewrites Go's ASCII-only Perl classes to explicit ASCII classes.
fn go_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Compiles a pattern with Go's semantics.
///
/// # Errors
/// The pattern is not valid RE2 syntax.
pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(&go_classes(pattern)).map_err(|e| {
        let detail = e.to_string();
        let last = detail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid pattern")
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        format!("error parsing regexp: {last}: `{pattern}`")
    })
}

/// What a pattern's matches look like: a string without groups, a tuple
/// of strings for unnamed groups, an object for named groups.
enum Shape {
    Whole,
    Tuple(usize),
    Object(Vec<String>),
}

fn shape(re: &Regex) -> Result<Shape, String> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named: Vec<String> = names.iter().flatten().map(|s| s.to_string()).collect();
    let unnamed = names.iter().filter(|n| n.is_none()).count();
    match (unnamed, named.len()) {
        (0, 0) => Ok(Shape::Whole),
        (u, 0) => Ok(Shape::Tuple(u)),
        (0, _) => Ok(Shape::Object(named)),
        _ => Err("invalid regexp pattern: cannot mix both named and unnamed capture groups".into()),
    }
}

fn compile_arg(v: &Value) -> Result<(Regex, Shape), FuncError> {
    let re = compile(v.as_str().unwrap_or_default()).map_err(|e| arg_err(0, "pattern", e))?;
    let sh = shape(&re).map_err(|e| arg_err(0, "pattern", e))?;
    Ok((re, sh))
}

fn shape_type(sh: &Shape) -> Type {
    match sh {
        Shape::Whole => Type::String,
        Shape::Tuple(n) => Type::Tuple(vec![Type::String; *n]),
        Shape::Object(names) => {
            Type::Object(names.iter().map(|n| (n.clone(), Type::String)).collect())
        }
    }
}

fn group(c: &regex::Captures<'_>, i: usize) -> Value {
    c.get(i)
        .map(|m| Value::String(m.as_str().to_string()))
        // A group inside a part that did not take part in the match.
        .unwrap_or(Value::Null(Type::String))
}

fn result(sh: &Shape, c: &regex::Captures<'_>) -> Value {
    match sh {
        Shape::Whole => group(c, 0),
        Shape::Tuple(n) => Value::Tuple((1..=*n).map(|i| group(c, i)).collect()),
        Shape::Object(names) => Value::Object(
            names
                .iter()
                .map(|name| {
                    let v = c
                        .name(name)
                        .map(|m| Value::String(m.as_str().to_string()))
                        .unwrap_or(Value::Null(Type::String));
                    (name.clone(), v)
                })
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn regex_fn(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (re, sh) = compile_arg(&args[0])?;
    let s = args[1].as_str().unwrap_or_default();
    let c = re
        .captures(s)
        .ok_or_else(|| fail("pattern did not match any part of the given string"))?;
    Ok(result(&sh, &c))
}

fn regexall(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (re, sh) = compile_arg(&args[0])?;
    let s = args[1].as_str().unwrap_or_default();
    let items = re.captures_iter(s).map(|c| result(&sh, &c)).collect();
    Ok(Value::List(shape_type(&sh), items))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::Type;

    #[test]
    fn regex_functions_match_terraform() {
        let t = Type::String;
        let pair = Type::Tuple(vec![t.clone(), t.clone()]);
        run(vec![
            (
                "no groups gives the match",
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")],
                ok(s("aaabbbccc")),
            ),
            (
                "unnamed groups give a tuple",
                "regex",
                vec![s("(\\d\\d\\d\\d)-(\\d\\d)"), s("2019-02-01")],
                ok(tstrs(&["2019", "02"])),
            ),
            (
                "named groups give an object",
                "regex",
                vec![
                    s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    s("https://terraform.io/docs/"),
                ],
                ok(obj(vec![
                    ("authority", s("terraform.io")),
                    ("scheme", s("https")),
                ])),
            ),
            (
                "group that did not participate is null",
                "regex",
                vec![s("(a)|(b)"), s("b")],
                ok(tup(vec![crate::value::Value::Null(t.clone()), s("b")])),
            ),
            (
                "no match",
                "regex",
                vec![s("z"), s("abc")],
                err("pattern did not match any part of the given string"),
            ),
            (
                "mixed groups",
                "regex",
                vec![s("(a)(?P<x>b)"), s("ab")],
                err("cannot mix both named and unnamed capture groups"),
            ),
            (
                "\\d is ASCII only",
                "regex",
                vec![s("\\d+"), s("٣3")],
                ok(s("3")),
            ),
            (
                "regexall strings",
                "regexall",
                vec![s("[a-z]+"), s("1234abcd5678efgh9")],
                ok(strs(&["abcd", "efgh"])),
            ),
            (
                "regexall tuples",
                "regexall",
                vec![s("(\\w)=(\\w)"), s("a=1 b=2")],
                ok(lst(
                    pair.clone(),
                    vec![tstrs(&["a", "1"]), tstrs(&["b", "2"])],
                )),
            ),
            (
                "regexall none",
                "regexall",
                vec![s("z"), s("abc")],
                ok(lst(t.clone(), vec![])),
            ),
            (
                "regexall empty matches",
                "regexall",
                vec![s("a*"), s("baaac")],
                ok(strs(&["", "aaa", ""])),
            ),
            (
                "bad pattern",
                "regex",
                vec![s("("), s("x")],
                err("Invalid value for \"pattern\" parameter: error parsing regexp"),
            ),
        ]);
    }
}

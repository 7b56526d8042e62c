//! Errors of calls with a sensitive argument show nothing of it: the four
//! functions found leaking, then every function of the library probed with
//! sensitive canaries in every argument position.

use super::testing::{n, obj, s, tup};
use super::{FuncCtx, FuncError, NoTemplates, call, lookup, names};
use crate::lang::eval::FileTemplates;
use crate::value::{Type, Value};
use std::path::Path;

/// A secret no message could contain by chance, and which no function
/// accepts as a date, a number, a CIDR, base64, JSON or a path.
const CANARY: &str = "Zq9%Wv8#Xk";
/// A sensitive number's digits (integer parameters refuse the fraction).
const NUM_CANARY: &str = "79193.5";

/// Asserts that neither canary, nor any 3-character piece of them, is in
/// the message.
fn assert_hidden(what: &str, e: &FuncError) {
    let chars: Vec<char> = CANARY.chars().collect();
    for w in chars.windows(3) {
        let piece: String = w.iter().collect();
        assert!(
            !e.message.contains(&piece),
            "{what}: {piece:?} of the secret is in {:?}",
            e.message
        );
    }
    assert!(
        !e.message.contains("79193"),
        "{what}: the secret number is in {:?}",
        e.message
    );
}

fn call_with(name: &str, args: Vec<Value>) -> Result<Value, FuncError> {
    let ctx = FuncCtx {
        base_dir: Path::new("."),
        templates: &FileTemplates,
    };
    call(&ctx, name, args)
}

fn secret(v: &str) -> Value {
    s(v).mark_sensitive()
}

/// The error a call with `args` must give: the redacted one, at `at`.
fn assert_redacted(name: &str, args: Vec<Value>, at: usize, piece: &str) {
    let e = call_with(name, args).expect_err("the call fails");
    assert_eq!(
        e.message,
        format!(
            "Invalid value for \"{name}\" argument {}: the argument is sensitive, so its value is not shown.",
            at + 1
        )
    );
    assert_eq!(e.arg, Some(at));
    assert!(!e.message.contains(piece), "{}", e.message);
}

#[test]
fn formatdate_error_shows_no_character_of_a_sensitive_format() {
    // Was: `invalid date format verb "q"`.
    let args = vec![secret("Zq9secretXY"), s("2020-01-01T00:00:00Z")];
    assert_redacted("formatdate", args, 0, "\"q\"");
    // Was: `cannot use "Zq9s" as year`.
    let args = vec![s("YYYY"), secret("Zq9s-01-01T00:00:00Z")];
    assert_redacted("formatdate", args, 1, "Zq9");
}

#[test]
fn uuidv5_error_shows_no_character_of_a_sensitive_namespace() {
    // Was: `(invalid character: found `Z` at 0)`.
    assert_redacted("uuidv5", vec![secret("Zq9secretXY"), s("x")], 0, "`Z`");
}

#[test]
fn format_error_shows_no_offset_into_a_sensitive_format() {
    // Was: `unsupported value for "%d" at 0` and `no verbs in format string`.
    assert_redacted("format", vec![s("%d"), secret("Zq9secretXY")], 1, "at 0");
    assert_redacted("format", vec![secret("Zq9secretXY"), n("1")], 0, "verbs");
    assert_redacted("format", vec![secret("ab%!zcd"), n("1")], 0, "%!z");
}

#[test]
fn templatestring_error_shows_no_fragment_of_a_sensitive_template() {
    // Was: `<templatestring>:1:12: expected `}`` and `no variable named "nope"`.
    let vars = || obj(vec![]);
    assert_redacted(
        "templatestring",
        vec![secret("pass${word1"), vars()],
        0,
        ":12",
    );
    assert_redacted(
        "templatestring",
        vec![secret("abc ${nope.x} def"), vars()],
        0,
        "nope",
    );
    // A sensitive variable the template fails on is hidden too.
    let vars = obj(vec![("v", secret("Zq9secretXY"))]);
    let e = call_with("templatestring", vec![s("${uuidv5(v, \"x\")}"), vars]).unwrap_err();
    assert!(!e.message.contains("Zq9"), "{}", e.message);
}

#[test]
fn errors_of_plain_arguments_keep_their_message() {
    let e = call_with("format", vec![s("%d"), s("x")]).unwrap_err();
    assert!(e.message.contains("%d"), "{}", e.message);
    // A plain argument's own conversion failure is not about the secret.
    let e = call_with("substr", vec![secret("Zq9secretXY"), s("x"), n("1")]).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid value for \"offset\" parameter: a number is required."
    );
}

/// Values an argument may take: sensitive canaries of each kind, and plain
/// fillers so that other arguments can be valid.
fn pool() -> Vec<(bool, Value)> {
    vec![
        (true, secret(CANARY)),
        (true, n(NUM_CANARY).mark_sensitive()),
        (true, tup(vec![secret(CANARY)])),
        (
            true,
            Value::List(Type::String, vec![s(CANARY)]).mark_sensitive(),
        ),
        (true, obj(vec![("k", secret(CANARY))])),
        (true, Value::Bool(true).mark_sensitive()),
        (false, s("x")),
        (false, n("2")),
        (false, tup(vec![])),
        (false, obj(vec![])),
    ]
}

/// Every argument list of `arity` drawn from the pool.
fn combinations(arity: usize) -> Vec<Vec<(bool, Value)>> {
    let mut out = vec![vec![]];
    for _ in 0..arity {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                pool().into_iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v);
                    p
                })
            })
            .collect();
    }
    out
}

#[test]
fn no_function_error_shows_a_piece_of_a_sensitive_argument() {
    // Without parameters there is nothing to mark; `sensitive` and
    // `issensitive` accept anything, and `nonsensitive` of a secret too.
    let never_fail = [
        "timestamp",
        "uuid",
        "sensitive",
        "issensitive",
        "nonsensitive",
        "jsonencode",
        "yamlencode",
    ];
    let ctx = FuncCtx {
        base_dir: Path::new("."),
        templates: &NoTemplates,
    };
    let mut silent = Vec::new();
    for name in names() {
        let f = lookup(name).expect("listed");
        let fixed = f.params.len();
        let arities = if f.variadic.is_some() {
            vec![fixed + 1, fixed + 2]
        } else {
            vec![fixed]
        };
        let mut failed = 0;
        for arity in arities.into_iter().filter(|a| *a > 0 && *a <= 3) {
            for args in combinations(arity) {
                if !args.iter().any(|(secret, _)| *secret) {
                    continue;
                }
                let vals: Vec<Value> = args.into_iter().map(|(_, v)| v).collect();
                let shown = format!("{name}({vals:?})");
                if let Err(e) = call(&ctx, name, vals) {
                    failed += 1;
                    assert_hidden(&shown, &e);
                }
            }
        }
        if failed == 0 && !never_fail.contains(&name) {
            silent.push(name);
        }
    }
    assert!(silent.is_empty(), "never failed with a secret: {silent:?}");
}

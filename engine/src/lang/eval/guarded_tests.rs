//! Conditionals, `&&`/`||` and `try`/`can`: which sub-expression errors
//! count (values from Terraform 1.15.5, see tests/conformance/cases.json,
//! cases cond_guard_*, cmp_and_*, can_undeclared_*).

use super::super::{Evaluator, MapScope};
use crate::diag::{Diagnostics, FileId};
use crate::lang::funcs::NoTemplates;
use crate::value::{Type, Value, render};
use std::collections::BTreeMap;
use std::path::Path;

fn scope() -> MapScope {
    MapScope(BTreeMap::from([(
        "local".to_string(),
        Value::Object(BTreeMap::from([
            ("nul".to_string(), Value::NULL),
            ("later".to_string(), Value::Unknown(Type::Bool)),
            (
                "hosts".to_string(),
                Value::Tuple(vec![Value::from("a"), Value::from("b")]),
            ),
            ("secret".to_string(), Value::from(true).mark_sensitive()),
        ])),
    )]))
}

fn eval(src: &str) -> (Value, Diagnostics) {
    let expr = hcl_edit::parser::parse_expr(src).expect("parse");
    let scope = scope();
    let mut ev = Evaluator::new(FileId(0), src, &scope, Path::new("."), &NoTemplates);
    let v = ev.eval(&expr);
    (v, ev.take_diags())
}

fn ok(src: &str) -> String {
    let (v, d) = eval(src);
    assert!(!d.has_errors(), "{src}: {d:?}");
    render(&v)
}

fn first_error(src: &str) -> String {
    let (_, d) = eval(src);
    assert!(d.has_errors(), "{src} should fail");
    d.0[0].summary.clone()
}

#[test]
fn conditional_with_failing_unchosen_branch_gave_the_branch_error() {
    assert_eq!(
        ok(r#"length(local.hosts) > 5 ? local.hosts[5] : "none""#),
        r#""none""#
    );
    assert_eq!(ok(r#"local.nul == null ? "d" : local.nul.a"#), r#""d""#);
    assert_eq!(
        ok(r#"true ? "ok" : cidrsubnet("10.0.0.0/30", 8, 1)"#),
        r#""ok""#
    );
    assert_eq!(
        ok(r#"[for o in [{a = 1}, {b = 2}] : can(o.b) ? o.b : "none"]"#),
        "[\n  \"none\",\n  \"2\",\n]"
    );
    // The chosen branch's errors still count.
    assert_eq!(
        first_error(r#"true ? local.nul.a : "x""#),
        "Attempt to get attribute from null value"
    );
}

#[test]
fn conditional_still_unifies_both_result_types() {
    // HCL evaluates both branches for the result type, chosen or not.
    assert_eq!(
        first_error(r#"true ? "a" : {x = 1}"#),
        "Inconsistent conditional result types"
    );
    assert_eq!(ok(r#"true ? 1 : "a""#), r#""1""#);
}

#[test]
fn conditional_with_unknown_condition_reports_neither_branch() {
    let (v, d) = eval(r#"local.later ? local.nul.a : "x""#);
    assert!(!d.has_errors(), "{d:?}");
    assert!(v.is_unknown());
}

#[test]
fn logical_operators_did_not_short_circuit() {
    assert_eq!(ok("false && local.nul.a"), "false");
    assert_eq!(ok("local.nul != null && local.nul.a == 1"), "false");
    assert_eq!(ok("true || local.nul.a"), "true");
    // A known controlling right side decides too (HCL's rule).
    assert_eq!(ok("local.nul.a && false"), "false");
    assert_eq!(
        first_error("true && local.nul.a"),
        "Attempt to get attribute from null value"
    );
    // cty's False() is true for null.
    assert_eq!(ok("null && true"), "false");
    assert_eq!(ok("null || true"), "true");
    assert_eq!(first_error("false || null"), "Operation failed");
    assert_eq!(first_error("true && 1"), "Invalid operand");
    // An unknown side decides when the other cannot.
    let (v, d) = eval("local.later && true");
    assert!(!d.has_errors() && v.is_unknown(), "{d:?}");
    assert_eq!(ok("local.later && false"), "false");
    // Marks survive short-circuiting.
    assert_eq!(ok("local.secret || local.nul.a"), "(sensitive value)");
}

#[test]
fn try_and_can_hid_undeclared_references() {
    // MapScope declares only `local`: `nope` is undeclared.
    assert_eq!(first_error("can(nope.x)"), "Unknown variable");
    assert_eq!(first_error(r#"try(nope.x, "x")"#), "Unknown variable");
    // Also after the first success, and in an unchosen branch.
    assert_eq!(first_error(r#"try("a", nope.x)"#), "Unknown variable");
    assert_eq!(first_error(r#"true ? "a" : nope.x"#), "Unknown variable");
    assert_eq!(first_error("false && nope.x"), "Unknown variable");
    // Dynamic failures are still caught.
    assert_eq!(ok("can(local.nul.a)"), "false");
    assert_eq!(ok(r#"try(local.nul.a, "x")"#), r#""x""#);
    assert_eq!(ok("can(local.hosts[1])"), "true");
}

#[test]
fn templatestring_accepted_a_literal_template() {
    // Terraform 1.15.5: templatestring_literal_plain, templatestring_for_literal.
    let (_, d) = eval(r#"templatestring("hello", {})"#);
    assert_eq!(d.0[0].summary, "Invalid function argument");
    assert!(
        d.0[0]
            .detail
            .contains("does not support providing a literal template"),
        "{d:?}"
    );
    let (_, d) = eval(r#"templatestring("%{for x in [1]}a%{endfor}", {})"#);
    assert!(
        d.0[0].detail.contains("to render an inline template"),
        "{d:?}"
    );
    // A reference error inside the literal comes first, as in Terraform.
    assert_eq!(
        first_error(r#"templatestring("hi ${nope.x}", {})"#),
        "Unknown variable"
    );
}

#[test]
fn splat_of_a_list_gave_a_tuple() {
    // Terraform 1.15.5: splat_tolist, splat_tolist_obj, splat_toset.
    let (v, d) = eval(r#"tolist(["a", "b"])[*]"#);
    assert!(!d.has_errors(), "{d:?}");
    assert_eq!(v.ty(), Type::List(Box::new(Type::String)));
    let (v, _) = eval(r#"tolist([{n = "x"}])[*].n"#);
    assert_eq!(v.ty(), Type::List(Box::new(Type::String)));
    let (v, _) = eval(r#"toset(["b", "a"])[*]"#);
    assert_eq!(render(&v), "tolist([\n  \"a\",\n  \"b\",\n])");
    // A tuple stays a tuple; an empty list stays a list, without errors.
    let (v, _) = eval(r#"["a", 1][*]"#);
    assert!(matches!(v, Value::Tuple(_)));
    let (v, d) = eval(r#"tolist([])[*].name"#);
    assert!(!d.has_errors() && matches!(v, Value::List(..)), "{d:?}");
}

use super::*;
use crate::lang::funcs::NoTemplates;
use crate::value::render;

fn eval_with(src: &str, scope: &MapScope) -> (Value, Diagnostics) {
    let expr: Expression = match hcl_edit::parser::parse_expr(src) {
        Ok(e) => e,
        Err(e) => panic!("parse error in {src:?}: {e}"),
    };
    let mut ev = Evaluator::new(FileId(0), src, scope, Path::new("."), &NoTemplates);
    let v = ev.eval(&expr);
    (v, ev.take_diags())
}

fn ok(src: &str) -> String {
    let scope = scope();
    let (v, d) = eval_with(src, &scope);
    assert!(!d.has_errors(), "{src}: {d:?}");
    render(&v)
}

fn err(src: &str) -> String {
    let scope = scope();
    let (_, d) = eval_with(src, &scope);
    assert!(d.has_errors(), "{src} should fail");
    format!("{}: {}", d.0[0].summary, d.0[0].detail)
}

fn scope() -> MapScope {
    let mut m = BTreeMap::new();
    m.insert(
        "local".to_string(),
        Value::Object(BTreeMap::from([
            ("region".to_string(), Value::from("eu-west-1")),
            ("n".to_string(), Value::from(3)),
            (
                "secret".to_string(),
                Value::from("hunter2").mark_sensitive(),
            ),
            ("later".to_string(), Value::Unknown(Type::String)),
            (
                "clusters".to_string(),
                Value::Object(BTreeMap::from([
                    (
                        "prod".to_string(),
                        Value::Object(BTreeMap::from([("env".to_string(), Value::from("prod"))])),
                    ),
                    (
                        "dev".to_string(),
                        Value::Object(BTreeMap::from([("env".to_string(), Value::from("dev"))])),
                    ),
                ])),
            ),
            (
                "list".to_string(),
                Value::Tuple(vec![
                    Value::Object(BTreeMap::from([("name".to_string(), Value::from("a"))])),
                    Value::Object(BTreeMap::from([("name".to_string(), Value::from("b"))])),
                ]),
            ),
        ])),
    );
    MapScope(m)
}

#[test]
fn arithmetic_follows_terraform() {
    assert_eq!(ok("7 / 2"), "3.5");
    assert_eq!(ok("1 + 2 * 3"), "7");
    assert_eq!(ok("-7 % 3"), "-1");
    assert_eq!(ok("0.1 + 0.2"), "0.3");
    assert_eq!(ok("\"2\" * 3"), "6");
    assert_eq!(ok("9007199254740993 + 0"), "9007199254740993");
    assert!(err("1 / 0").contains("divide by zero"));
    assert!(err("\"a\" + 1").contains("a number is required"));
}

#[test]
fn comparison_and_logic() {
    assert_eq!(ok("1 == \"1\""), "false");
    assert_eq!(ok("[1, 2] == [1, 2]"), "true");
    assert_eq!(ok("3 > 2 && !false"), "true");
    assert_eq!(ok("local.later == \"x\""), "(known after apply)");
}

#[test]
fn conditionals_unify_their_arms() {
    assert_eq!(ok("true ? 1 : \"a\""), "\"1\"");
    assert_eq!(ok("local.later == \"\" ? 1 : 2"), "(known after apply)");
    assert!(err("null ? 1 : 2").contains("null"));
}

#[test]
fn templates_interpolate_and_strip() {
    assert_eq!(ok("\"${local.region}-a\""), "\"eu-west-1-a\"");
    assert_eq!(ok("\"${local.n}\""), "3");
    assert_eq!(ok("\"%{ for x in [1, 2] ~} ${x} %{~ endfor }\""), "\"12\"");
    assert_eq!(
        ok("\"%{if local.n > 2}big%{else}small%{endif}\""),
        "\"big\""
    );
    assert_eq!(ok("\"x-${local.later}\""), "(known after apply)");
    assert_eq!(ok("\"pw=${local.secret}\""), "(sensitive value)");
    assert!(err("\"${null}x\"").contains("null"));
}

#[test]
fn for_expressions() {
    assert_eq!(
        ok("[for k, c in local.clusters : k if c.env == \"prod\"]"),
        "[\n  \"prod\",\n]"
    );
    assert_eq!(
        ok("{for k, c in local.clusters : c.env => k}"),
        "{\n  \"dev\"  = \"dev\"\n  \"prod\" = \"prod\"\n}"
    );
    assert_eq!(
        ok("{for x in [\"a\", \"b\", \"a\"] : x => x...}"),
        "{\n  \"a\" = [\n    \"a\",\n    \"a\",\n  ]\n  \"b\" = [\n    \"b\",\n  ]\n}"
    );
    assert!(err("{for x in [\"a\", \"a\"] : x => x}").contains("Duplicate object key"));
}

#[test]
fn splats_and_indexing() {
    assert_eq!(ok("local.list[*].name"), "[\n  \"a\",\n  \"b\",\n]");
    assert_eq!(ok("local.list.*.name[1]"), "\"b\"");
    assert_eq!(ok("local.list[1][\"name\"]"), "\"b\"");
    assert_eq!(ok("null[*]"), "[]");
    assert!(err("local.list[5]").contains("Invalid index"));
    assert!(err("local.clusters.prd").contains("Did you mean \"prod\"?"));
    assert!(err("local.list.name").contains("list of objects"));
}

#[test]
fn unknown_root_suggests_a_name() {
    let scope = scope();
    let (_, d) = eval_with("locl.x", &scope);
    assert!(d.0[0].detail.contains("Did you mean \"local\"?"), "{d:?}");
}

#[test]
fn try_and_can() {
    assert_eq!(ok("try(local.list[9], \"fallback\")"), "\"fallback\"");
    assert_eq!(ok("can(local.clusters.nope)"), "false");
    assert_eq!(ok("can(local.clusters.prod)"), "true");
}

#[test]
fn sensitive_marks_propagate() {
    assert_eq!(ok("local.secret"), "(sensitive value)");
    assert_eq!(
        ok("[local.secret, \"x\"]"),
        "[\n  (sensitive value),\n  \"x\",\n]"
    );
    assert_eq!(ok("length(local.secret)"), "(sensitive value)");
}

#[test]
fn function_errors_point_at_the_argument() {
    let scope = scope();
    let src = "length(1, 2)";
    let (_, d) = eval_with(src, &scope);
    assert!(d.has_errors());
    let (_, d) = eval_with("lenght(\"x\")", &scope);
    assert!(d.0[0].detail.contains("Did you mean \"length\"?"), "{d:?}");
    assert_eq!(d.0[0].span.map(|s| (s.start, s.end)), Some((0, 6)));
}

#[test]
fn a_template_stops_at_the_string_bound() {
    let e = err("\"%{ for i in range(1000) }${format(\"%1000000s\", \"\")}%{ endfor }\"");
    assert!(e.starts_with("Template result too long"), "{e}");
    assert!(e.contains("64 MiB"), "{e}");
}

#[test]
fn a_for_expression_stops_at_its_bound() {
    let e = err("[for i in range(1000) : format(\"%1000000s\", \"\")]");
    assert!(e.starts_with("For expression result too large"), "{e}");
    // Far below the bound it builds as before.
    assert_eq!(
        ok("length([for i in range(1000) : format(\"%1000s\", \"\")])"),
        "1000"
    );
}

#[test]
fn timestamp_and_uuid_returned_real_values_during_plan() {
    let scope = scope();
    for (src, ty) in [("timestamp()", Type::String), ("uuid()", Type::String)] {
        let expr: Expression = hcl_edit::parser::parse_expr(src).expect("parse");
        let mut planning =
            Evaluator::new(FileId(0), src, &scope, Path::new("."), &NoTemplates).pure_only(true);
        assert_eq!(planning.eval(&expr), Value::Unknown(ty), "{src} in a plan");
        assert!(!planning.has_errors());
        // Outside a plan (console, apply) the value is real.
        let mut now = Evaluator::new(FileId(0), src, &scope, Path::new("."), &NoTemplates);
        let v = now.eval(&expr);
        assert!(v.as_str().is_some_and(|s| !s.is_empty()), "{src}: {v:?}");
    }
    // The arguments are still checked while planning.
    let src = "uuid(1)";
    let expr: Expression = hcl_edit::parser::parse_expr(src).expect("parse");
    let mut ev =
        Evaluator::new(FileId(0), src, &scope, Path::new("."), &NoTemplates).pure_only(true);
    ev.eval(&expr);
    assert!(ev.has_errors());
}

#[test]
fn conformance_accepted_any_error_summary() {
    // Summaries as Terraform 1.15.5 gives them (tests/conformance/cases.json).
    for (src, want) in [
        ("null + 1", "Operation failed"),
        ("false || null", "Operation failed"),
        ("upper(\"a\", \"b\")", "Too many function arguments"),
        ("upper()", "Not enough function arguments"),
        ("try()", "Error in function call"),
        ("length(5)", "Error in function call"),
        ("sort([\"a\", null])", "Error in function call"),
        ("jsondecode(\"[1,]\")", "Error in function call"),
        ("jsondecode(\"\")", "Error in function call"),
        ("{(null) = 1}", "Null value as key"),
        ("\"%{if \"yes\"}x%{endif}\"", "Incorrect condition type"),
        (
            "\"%{for s in \"abc\"}${s}%{endfor}\"",
            "Iteration over non-iterable value",
        ),
    ] {
        let e = err(src);
        assert!(e.starts_with(&format!("{want}: ")), "{src}: {e}");
    }
}

use super::*;
use crate::value::raw_equal;

fn path(src: &str) -> Vec<Step> {
    let e = hcl_edit::parser::parse_expr(src).expect("parse");
    path_of(&e).expect("a path")
}

fn obj(items: &[(&str, Value)]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn s(x: &str) -> Value {
    Value::from(x)
}

fn same(a: &Value, b: &Value) {
    assert!(raw_equal(a, b), "{a:?}\n!=\n{b:?}");
}

#[test]
fn paths_parse_at_any_depth() {
    assert_eq!(
        path("manifest.spec.replicas"),
        vec![
            Step::Key("manifest".into()),
            Step::Key("spec".into()),
            Step::Key("replicas".into())
        ]
    );
    assert_eq!(
        path("input[\"a\"][0]"),
        vec![
            Step::Key("input".into()),
            Step::Key("a".into()),
            Step::Index(0)
        ]
    );
    assert_eq!(
        path("rules.0"),
        vec![Step::Key("rules".into()), Step::Index(0)]
    );
    assert_eq!(path("tags[*].x"), vec![Step::Key("tags".into())]);
}

#[test]
fn ignoring_a_nested_key_does_not_hide_its_siblings() {
    let prior = obj(&[("input", obj(&[("a", s("1")), ("b", s("1"))]))]);
    let config = obj(&[("input", obj(&[("a", s("2")), ("b", s("2"))]))]);
    let out = keep_at(config, Some(&prior), &path("input[\"a\"]"));
    same(
        &out,
        &obj(&[("input", obj(&[("a", s("1")), ("b", s("2"))]))]),
    );
}

#[test]
fn deep_path_keeps_the_recorded_replicas_only() {
    let spec = |replicas: i64, image: &str| {
        obj(&[(
            "manifest",
            obj(&[(
                "spec",
                obj(&[("replicas", Value::from(replicas)), ("image", s(image))]),
            )]),
        )])
    };
    let out = keep_at(
        spec(2, "v2"),
        Some(&spec(5, "v1")),
        &path("manifest.spec.replicas"),
    );
    same(&out, &spec(5, "v2"));
}

#[test]
fn a_path_into_a_missing_key_is_fine() {
    let prior = obj(&[("input", obj(&[("a", s("1"))]))]);
    let config = obj(&[("input", obj(&[("a", s("2"))]))]);
    // Neither has input.x.y: nothing changes.
    let out = keep_at(config.clone(), Some(&prior), &path("input.x.y"));
    same(&out, &config);
    // The record lacks input.b: its addition is ignored.
    let config = obj(&[("input", obj(&[("a", s("2")), ("b", s("new"))]))]);
    let out = keep_at(config, Some(&prior), &path("input.b"));
    same(&out, &obj(&[("input", obj(&[("a", s("2"))]))]));
    // The configuration lacks the path: it stays as configured.
    let config = obj(&[("input", Value::NULL)]);
    let out = keep_at(config.clone(), Some(&prior), &path("input.a"));
    same(&out, &config);
}

#[test]
fn list_elements_and_sensitive_values() {
    let prior = obj(&[(
        "rules",
        Value::Tuple(vec![obj(&[("port", Value::from(80))]), s("x")]),
    )]);
    let config = obj(&[(
        "rules",
        Value::Tuple(vec![obj(&[("port", Value::from(81))]), s("y")]),
    )])
    .mark_sensitive();
    let out = keep_at(config, Some(&prior), &path("rules[0].port"));
    assert!(out.is_sensitive());
    same(
        out.unmarked(),
        &obj(&[(
            "rules",
            Value::Tuple(vec![obj(&[("port", Value::from(80))]), s("y")]),
        )]),
    );
}

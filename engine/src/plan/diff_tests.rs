//! Exact text of the structured diff, case by case.

use super::*;
use crate::plan::test_values::{cluster, obj, strs};
use crate::value::Type;

fn s(v: &str) -> Value {
    Value::from(v)
}

fn diff(before: &Value, after: &Value, op: Op, replace: &[&str]) -> String {
    let replace: Vec<String> = replace.iter().map(|r| r.to_string()).collect();
    let mut out = String::new();
    render_attrs(&mut out, before, after, op, &replace, 3);
    out
}

#[test]
fn an_update_hides_unchanged_attributes_and_goes_into_nested_objects() {
    let before = obj(&[
        ("id", s("cm-1")),
        ("replicas", Value::from(2)),
        ("image", s("nginx:1.27")),
        (
            "metadata",
            obj(&[
                ("name", s("web")),
                ("namespace", s("apps")),
                ("labels", strs(&[("app", "web"), ("tier", "front")])),
            ]),
        ),
    ]);
    let after = obj(&[
        ("id", s("cm-1")),
        ("replicas", Value::from(3)),
        ("image", s("nginx:1.27")),
        (
            "metadata",
            obj(&[
                ("name", s("web")),
                ("namespace", s("apps")),
                ("labels", strs(&[("app", "web"), ("tier", "back")])),
            ]),
        ),
    ]);
    assert_eq!(
        diff(&before, &after, Op::Update, &[]),
        r#"        id       = "cm-1"
      ~ metadata = {
          ~ labels = {
              ~ "tier" = "front" -> "back"
                # (1 unchanged element hidden)
            }
            # (2 unchanged attributes hidden)
        }
      ~ replicas = 2 -> 3
        # (1 unchanged attribute hidden)
"#
    );
}

#[test]
fn a_multi_line_string_is_diffed_line_by_line_as_a_heredoc() {
    let before = obj(&[(
        "data",
        strs(&[(
            "hosts.toml",
            "server = \"https://registry-1.docker.io\"\n[host.\"https://mirror.a\"]\n  capabilities = [\"pull\"]\n",
        )]),
    )]);
    let after = obj(&[(
        "data",
        strs(&[(
            "hosts.toml",
            "server = \"https://registry-1.docker.io\"\n[host.\"https://mirror.b\"]\n  capabilities = [\"pull\"]\n",
        )]),
    )]);
    assert_eq!(
        diff(&before, &after, Op::Update, &[]),
        r#"      ~ data = {
          ~ "hosts.toml" = <<-EOT
                server = "https://registry-1.docker.io"
              - [host."https://mirror.a"]
              + [host."https://mirror.b"]
                  capabilities = ["pull"]
              EOT
        }
"#
    );
}

#[test]
fn a_create_shows_every_set_attribute_expanded_and_skips_nulls() {
    let after = obj(&[
        ("cluster", cluster("prod-eu")),
        (
            "manifest",
            obj(&[("kind", s("ConfigMap")), ("data", strs(&[("a", "1")]))]),
        ),
        ("note", Value::Null(Type::String)),
        ("uid", Value::Unknown(Type::String)),
        (
            "ports",
            Value::list_of(vec![Value::from(80), Value::from(443)]),
        ),
    ]);
    assert_eq!(
        diff(&Value::NULL, &after, Op::Create, &[]),
        r#"      + cluster  = "prod-eu"
      + manifest = {
          + data = {
              + "a" = "1"
            }
          + kind = "ConfigMap"
        }
      + ports    = [
          + 80,
          + 443,
        ]
      + uid      = (known after apply)
"#
    );
}

#[test]
fn a_delete_shows_every_attribute_going_to_null() {
    let before = obj(&[("id", s("x")), ("tags", strs(&[("a", "b")]))]);
    assert_eq!(
        diff(&before, &Value::NULL, Op::Delete, &[]),
        r#"      - id   = "x" -> null
      - tags = {
          - "a" = "b" -> null
        } -> null
"#
    );
}

#[test]
fn a_replace_marks_the_attribute_that_forces_it() {
    let before = obj(&[("manifest", obj(&[("spec", obj(&[("selector", s("a"))]))]))]);
    let after = obj(&[("manifest", obj(&[("spec", obj(&[("selector", s("b"))]))]))]);
    assert_eq!(
        diff(&before, &after, Op::Update, &["manifest.spec.selector"]),
        r#"      ~ manifest = {
          ~ spec = {
              ~ selector = "a" -> "b" # forces replacement
            }
        }
"#
    );
}

#[test]
fn a_cluster_is_shown_by_its_name_and_a_move_between_clusters_by_both() {
    let before = obj(&[("cluster", cluster("prod-eu")), ("x", s("1"))]);
    let same = obj(&[("cluster", cluster("prod-eu")), ("x", s("2"))]);
    let moved = obj(&[("cluster", cluster("prod-us")), ("x", s("1"))]);
    let text = diff(&before, &same, Op::Update, &[]);
    assert_eq!(
        text,
        "        cluster = \"prod-eu\"\n      ~ x       = \"1\" -> \"2\"\n"
    );
    assert!(!text.contains("kubeconfig"), "{text}");
    assert_eq!(
        diff(&before, &moved, Op::Update, &[]),
        "      ~ cluster = \"prod-eu\" -> \"prod-us\"\n        # (1 unchanged attribute hidden)\n"
    );
}

#[test]
fn list_elements_align_on_what_is_unchanged_and_objects_replaced_in_place_are_updated() {
    let c = |name: &str, image: &str| obj(&[("name", s(name)), ("image", s(image))]);
    let before = obj(&[(
        "containers",
        Value::list_of(vec![c("a", "a:1"), c("b", "b:1"), c("c", "c:1")]),
    )]);
    let after = obj(&[(
        "containers",
        Value::list_of(vec![
            c("a", "a:1"),
            c("b", "b:2"),
            c("c", "c:1"),
            c("d", "d:1"),
        ]),
    )]);
    assert_eq!(
        diff(&before, &after, Op::Update, &[]),
        r#"      ~ containers = [
            # (1 unchanged element hidden)
          ~ {
              ~ image = "b:1" -> "b:2"
                # (1 unchanged attribute hidden)
            },
            # (1 unchanged element hidden)
          + {
              + image = "d:1"
              + name  = "d"
            },
        ]
"#
    );
}

#[test]
fn sensitive_values_never_show_even_when_they_change() {
    let before = obj(&[(
        "data",
        obj(&[("password", s("canary-old").mark_sensitive())]),
    )]);
    let after = obj(&[(
        "data",
        obj(&[("password", s("canary-new").mark_sensitive())]),
    )]);
    let text = diff(&before, &after, Op::Update, &[]);
    assert!(!text.contains("canary"), "{text}");
    assert_eq!(
        text,
        "      ~ data = {\n          ~ password = (sensitive value)\n        }\n"
    );
}

#[test]
fn a_value_known_only_after_apply_says_so() {
    let before = obj(&[("uid", s("1234"))]);
    let after = obj(&[("uid", Value::Unknown(Type::String))]);
    assert_eq!(
        diff(&before, &after, Op::Update, &[]),
        "      ~ uid = \"1234\" -> (known after apply)\n"
    );
}

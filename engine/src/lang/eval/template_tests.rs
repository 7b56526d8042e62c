//! Heredocs and template strip markers, byte for byte as Terraform renders
//! them. Each expected value is derived from hclsyntax's own steps: the
//! scanner cuts heredoc literals after every line ending, `~` trims only
//! the adjacent token, then `<<-` removes the smallest indentation of the
//! line-leading tokens (see `template_parts.rs`).

use super::super::{Evaluator, MapScope};
use crate::diag::FileId;
use crate::lang::funcs::NoTemplates;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn render(src: &str) -> String {
    let mut vars = BTreeMap::new();
    vars.insert(
        "hosts".to_string(),
        Value::Tuple(vec![Value::from("a.example"), Value::from("b.example")]),
    );
    vars.insert(
        "labels".to_string(),
        Value::Object(BTreeMap::from([
            ("app".to_string(), Value::from("web")),
            ("tier".to_string(), Value::from("front")),
        ])),
    );
    vars.insert("on".to_string(), Value::Bool(true));
    vars.insert("off".to_string(), Value::Bool(false));
    let scope = MapScope(vars);
    let body = hcl_edit::parser::parse_body(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let expr = &body
        .attributes()
        .next()
        .unwrap_or_else(|| panic!("{src:?}: no attribute"))
        .value;
    let mut ev = Evaluator::new(FileId(0), src, &scope, Path::new("."), &NoTemplates);
    let v = ev.eval(expr);
    let d = ev.take_diags();
    assert!(!d.has_errors(), "{src:?}: {d:?}");
    match v {
        Value::String(s) => s,
        other => panic!("{src:?}: not a string: {other:?}"),
    }
}

// `%{~` trims only the indentation of its own line (a token of its own);
// the line ending before it is another token and stays. With that line's
// indentation gone, its line counts as zero indentation: nothing dedents.
#[test]
fn strip_open_marker_keeps_the_newline_before_it() {
    let src = "x = <<-EOT\n    name=app\n    %{~ for i in [1, 2] ~}\n    item${i}\n    %{~ endfor ~}\n    done\n  EOT\n";
    assert_eq!(
        render(src),
        "    name=app\n    item1\n    item2\n    done\n"
    );
}

// `~}` trims only the next token: the rest of its own line, here just the
// line ending. The next line's indentation is another token and stays.
#[test]
fn strip_close_marker_eats_only_its_own_line_ending() {
    let src = "x = <<EOT\n%{ for h in hosts ~}\n    ${h}\n%{ endfor ~}\nEOT\n";
    assert_eq!(render(src), "    a.example\n    b.example\n");
}

// Quoted strings have no raw line endings: a marker trims all the
// whitespace next to it, escaped newlines included.
#[test]
fn strip_markers_in_quoted_strings_trim_all_adjacent_whitespace() {
    assert_eq!(
        render("x = \"a\\n  %{~ if on ~}\\n  b %{~ endif ~}  c\"\n"),
        "abc"
    );
}

// `${`/`%{` at the very start of a line counts as zero indentation.
#[test]
fn flush_line_starting_with_a_sequence_counts_as_zero_indentation() {
    let src = "x = <<-EOT\n    a\n${\"b\"}\n    %{ if on }c%{ endif }\n  EOT\n";
    assert_eq!(render(src), "    a\nb\n    c\n");
}

// The common indentation is measured and removed inside %{for} and %{if}
// bodies too (hcl-edit dedented only the top-level literals).
#[test]
fn flush_dedents_inside_directive_bodies() {
    let src =
        "x = <<-EOT\n    [hosts]\n    %{ for h in hosts }\n    ${h}\n    %{ endfor }\n  EOT\n";
    assert_eq!(render(src), "[hosts]\n\na.example\n\nb.example\n\n");
    let src = "x = <<-EOT\n    a\n    %{ if on }\n      b\n    %{ endif }\n  EOT\n";
    assert_eq!(render(src), "a\n\n  b\n\n");
}

// Whitespace-only lines neither count toward the common indentation nor
// get dedented (HCL leaves them out of both).
#[test]
fn flush_ignores_whitespace_only_lines() {
    let src = "x = <<-EOT\n    a\n\n  \n      \n    b\n  EOT\n";
    assert_eq!(render(src), "a\n\n  \n      \nb\n");
}

// A marker word at the start of a longer line is text, not the end.
#[test]
fn heredoc_line_starting_with_the_marker_word_is_text() {
    assert_eq!(
        render("x = <<EOT\nEOTX\n  EOT2 done\nEOT\n"),
        "EOTX\n  EOT2 done\n"
    );
}

// Escapes in heredocs: only `$${` and `%%{`; backslashes are text.
#[test]
fn heredoc_literals_keep_backslashes_and_unescape_sequences() {
    let src = "x = <<-EOT\n  a\\nb $${x} %%{y}\n  %{ if on }$${z}%{ endif }\n  EOT\n";
    assert_eq!(render(src), "a\\nb ${x} %{y}\n${z}\n");
}

// containerd's hosts.toml, as users template it. The line after `~}` does
// not start a line for `<<-` (the `~}` ate the line ending before it), so
// it keeps its indentation: exactly what Terraform writes.
#[test]
fn idiom_hosts_toml_loop() {
    let src = r#"x = <<-EOT
    server = "https://${"docker.io"}"
    %{ for m in hosts ~}
    [host."https://${m}"]
      capabilities = ["pull", "resolve"]
    %{ endfor ~}
  EOT
"#;
    assert_eq!(
        render(src),
        "server = \"https://docker.io\"\n    [host.\"https://a.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n    [host.\"https://b.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
    );
    // With a blank line after the `for`, every body line starts a line.
    let src = r#"x = <<-EOT
    server = "https://docker.io"
    %{ for m in hosts ~}

    [host."https://${m}"]
      capabilities = ["pull"]
    %{ endfor ~}
  EOT
"#;
    assert_eq!(
        render(src),
        "server = \"https://docker.io\"\n\n[host.\"https://a.example\"]\n  capabilities = [\"pull\"]\n\n[host.\"https://b.example\"]\n  capabilities = [\"pull\"]\n"
    );
}

// A YAML labels loop with `%{~ … ~}`: the stripped indentation of the
// directive lines counts as zero, so no line is dedented.
#[test]
fn idiom_yaml_labels_loop() {
    let src = "x = <<-EOT\n    metadata:\n      labels:\n        %{~ for k, v in labels ~}\n        ${k}: ${v}\n        %{~ endfor ~}\n    spec: {}\n  EOT\n";
    assert_eq!(
        render(src),
        "    metadata:\n      labels:\n        app: web\n        tier: front\n    spec: {}\n"
    );
}

#[test]
fn idiom_if_else_with_strip_markers() {
    let tpl = |c: &str| {
        format!(
            "x = <<-EOT\n    [main]\n    %{{ if {c} ~}}\n    debug = true\n    %{{ else ~}}\n    debug = false\n    %{{ endif ~}}\n    port = 80\n  EOT\n"
        )
    };
    assert_eq!(
        render(&tpl("on")),
        "[main]\n    debug = true\n    port = 80\n"
    );
    assert_eq!(
        render(&tpl("off")),
        "[main]\n    debug = false\n    port = 80\n"
    );
}

#[test]
fn idiom_cloud_init_runcmd_loop() {
    let src = "x = <<-EOT\n    #cloud-config\n    runcmd:\n    %{ for h in hosts ~}\n      - echo ${h}\n    %{ endfor ~}\n    final_message: done\n  EOT\n";
    assert_eq!(
        render(src),
        "#cloud-config\nruncmd:\n      - echo a.example\n      - echo b.example\n    final_message: done\n"
    );
}

// templatefile templates are cut into lines like heredocs (no dedent).
#[test]
fn template_file_strip_markers_work_per_line() {
    let vars = BTreeMap::from([(
        "hosts".to_string(),
        Value::Tuple(vec![Value::from("a"), Value::from("b")]),
    )]);
    let v = super::render_file(
        "%{ for h in hosts ~}\n  - ${h}\n%{ endfor ~}\nend\n",
        Path::new("t.tftpl"),
        &vars,
        false,
    );
    assert_eq!(v, Ok(Value::from("  - a\n  - b\nend\n")));
}

// At the very start of a line, the token before `%{~`/`${~` is the whole
// previous line with its line ending: the marker joins the two lines.
// (Terraform 1.15.5: "aa.exampleb.examplez\n" and "ab    c\n".)
#[test]
fn strip_open_marker_at_line_start_joins_the_previous_line() {
    let src = "x = <<EOT\na\n%{~ for h in hosts ~}\n${h}\n%{~ endfor ~}\nz\nEOT\n";
    assert_eq!(render(src), "aa.exampleb.examplez\n");
    // `a`'s line lost its line ending, so `${~` does not start a line and
    // `c`, after the `~}`, does not either: only `a` is dedented.
    let src = "x = <<-EOT\n    a\n${~ \"b\" ~}\n    c\n  EOT\n";
    assert_eq!(render(src), "ab    c\n");
}

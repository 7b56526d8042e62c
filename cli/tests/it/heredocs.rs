//! Heredocs through the real `posture` binary, byte for byte as Terraform
//! 1.15.5 renders them (the same templates are in the conformance corpus,
//! engine/tests/conformance, whose values Terraform produced), and the
//! parser defects that let a heredoc swallow the configuration after it.

use super::support::{Out, posture};
use std::path::Path;

fn write(dir: &Path, src: &str) {
    std::fs::write(dir.join("main.hcl"), src).expect("write main.hcl");
}

fn applied_output(dir: &Path, name: &str) -> String {
    let o = posture(dir, &["apply", "--auto-approve"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o: Out = posture(dir, &["output", "--raw", name]);
    assert_eq!(o.code, 0, "{}", o.all());
    o.stdout
}

// containerd's hosts.toml as users template it. `~}` eats only the line
// ending of its own line, so the line after it is not a line start for
// `<<-` and keeps its indentation; the other lines lose the common four.
#[test]
fn hosts_toml_loop_with_strip_markers_renders_terraforms_bytes() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        r#"locals {
  mirrors = ["a.example", "b.example"]
}

output "hosts_toml" {
  value = <<-EOT
    server = "https://docker.io"
    %{ for m in local.mirrors ~}
    [host."https://${m}"]
      capabilities = ["pull", "resolve"]
    %{ endfor ~}
  EOT
}

output "labels" {
  value = <<-EOT
    labels:
      %{~ for k, v in { app = "web", tier = "front" } ~}
      ${k}: ${v}
      %{~ endfor ~}
  EOT
}
"#,
    );
    assert_eq!(
        applied_output(d.path(), "hosts_toml"),
        "server = \"https://docker.io\"\n    [host.\"https://a.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n    [host.\"https://b.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
    );
    assert_eq!(
        posture(d.path(), &["output", "--raw", "labels"]).stdout,
        "    labels:\n      app: web\n      tier: front\n"
    );
}

// hcl-edit looked for an empty heredoc's marker only after a line ending,
// so `a` ran on to the next `EOT` and took `b` and the `c` heredoc as its
// text: `posture output` had no `b` and no `c`.
#[test]
fn empty_heredoc_swallowed_the_outputs_after_it() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "output \"a\" {\n  value = <<EOT\nEOT\n}\n\noutput \"b\" {\n  value = \"b\"\n}\n\noutput \"c\" {\n  value = <<-EOT\n    c\n    EOT # text, not the end\n    EOT\n}\n",
    );
    assert_eq!(applied_output(d.path(), "a"), "");
    assert_eq!(posture(d.path(), &["output", "--raw", "b"]).stdout, "b");
    assert_eq!(
        posture(d.path(), &["output", "--raw", "c"]).stdout,
        "c\nEOT # text, not the end\n"
    );
}

// A line holding only the marker inside a %{if} body ends the heredoc for
// Terraform; hcl-edit read it as text and went on. posture refuses the
// file at the heredoc, with its position.
#[test]
fn marker_inside_a_directive_body_is_an_error_at_the_heredoc() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "output \"a\" {\n  value = <<EOT\n%{ if true }\nyes\nEOT\n}\n\noutput \"b\" {\n  value = <<EOT\n%{ endif }\nEOT\n}\n",
    );
    let o = posture(d.path(), &["validate"]);
    assert_ne!(o.code, 0, "{}", o.all());
    assert!(o.stderr.contains("Unsupported heredoc"), "{}", o.all());
    assert!(o.stderr.contains("main.hcl:2:11"), "{}", o.all());
}

const MARKER_TEXT: &str =
    "output \"a\" {\n  value = <<EOT\nx\nEOT # done\nEOT\n}\n\noutput   \"b\" {\n  value = 1\n}\n";

// fmt checked syntax with plain hcl-edit, which ends the heredoc at
// `EOT # done`: a file `validate` accepts was a syntax error to fmt.
#[test]
fn fmt_refused_a_heredoc_line_starting_with_the_marker() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), MARKER_TEXT);
    let o = posture(d.path(), &["validate"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let o = posture(d.path(), &["fmt", "--check"]);
    assert_eq!(o.code, 3, "{}", o.all());
    let o = posture(d.path(), &["fmt"]);
    assert_eq!(o.code, 0, "{}", o.all());
    let got = std::fs::read_to_string(d.path().join("main.hcl")).expect("read main.hcl");
    assert_eq!(got, MARKER_TEXT.replace("output   \"b\"", "output \"b\""));
    // What the loader refuses, fmt refuses at the same heredoc.
    write(
        d.path(),
        "output \"a\" {\n  value = <<EOT\n%{ if true }\nyes\nEOT\n}\n\noutput \"b\" {\n  value = <<EOT\n%{ endif }\nEOT\n}\n",
    );
    let o = posture(d.path(), &["fmt", "--check"]);
    assert_eq!(o.code, 2, "{}", o.all());
    assert!(o.stderr.contains("main.hcl:2:11"), "{}", o.all());
    assert!(o.stderr.contains("Unsupported heredoc"), "{}", o.all());
}

// The console parsed its input with plain hcl-edit and ran an expression
// at the first line without open brackets, so a heredoc could not be typed.
#[test]
fn console_read_heredocs_otherwise_than_the_loader() {
    use super::support::{command, output};
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "locals {\n  n = 1\n}\n");
    let input = d.path().join("console-input.txt");
    std::fs::write(&input, "<<EOT\nx {\nEOT # done\nEOT\n<<EOT\nEOT\n").expect("write input");
    let stdin = std::fs::File::open(&input).expect("open input");
    let o = output(command(d.path()).arg("console").stdin(stdin));
    assert_eq!(o.code, 0, "{}", o.all());
    assert_eq!(
        o.stdout,
        "<<EOT\nx {\nEOT # done\nEOT\n\"\"\n",
        "{}",
        o.all()
    );
}

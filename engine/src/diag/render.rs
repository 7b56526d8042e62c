//! Diagnostics as text (Terraform's layout, with file:line:col and the span
//! underlined) and as JSON (Terraform's `-json` diagnostic shape).

use super::{Diagnostic, Severity, SourceMap};
use serde_json::json;

/// Renders one diagnostic for a terminal:
///
/// ```text
/// Error: Reference to undeclared local value
///
///   on main.hcl:3:11, in output "x":
///    3:   value = local.regin
///                 ^^^^^^^^^^^
///
/// A local value with the name "regin" has not been declared. Did you mean "region"?
/// ```
pub fn render(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut out = String::new();
    out.push_str(match d.severity {
        Severity::Error => "Error: ",
        Severity::Warning => "Warning: ",
    });
    out.push_str(&d.summary);
    out.push('\n');
    if let Some(span) = d.span {
        let start = sources.pos(span.file, span.start);
        let end = sources.pos(span.file, span.end.max(span.start));
        out.push_str(&format!(
            "\n  on {}:{}:{}",
            sources.name(span.file),
            start.line,
            start.column
        ));
        if let Some(ctx) = &d.context {
            out.push_str(&format!(", in {ctx}"));
        }
        out.push_str(":\n");
        let line = sources.line_text(span.file, start.line);
        let gutter = format!("{:>4}: ", start.line);
        out.push_str(&gutter);
        out.push_str(line);
        out.push('\n');
        let line_chars = line.chars().count();
        let from = start.column - 1;
        let to = if end.line == start.line {
            end.column - 1
        } else {
            line_chars
        };
        let width = to.saturating_sub(from).max(1);
        out.push_str(&" ".repeat(gutter.len() + from));
        out.push_str(&"^".repeat(width));
        out.push('\n');
    }
    if !d.detail.is_empty() {
        out.push('\n');
        out.push_str(&d.detail);
        out.push('\n');
    }
    out
}

/// Renders a diagnostic as Terraform's JSON diagnostic object.
pub fn to_json(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let mut v = json!({
        "severity": d.severity,
        "summary": d.summary,
        "detail": d.detail,
    });
    if let Some(span) = d.span {
        let s = sources.pos(span.file, span.start);
        let e = sources.pos(span.file, span.end.max(span.start));
        v["range"] = json!({
            "filename": sources.name(span.file),
            "start": {"line": s.line, "column": s.column, "byte": s.byte},
            "end": {"line": e.line, "column": e.column, "byte": e.byte},
        });
        v["snippet"] = json!({
            "context": d.context,
            "code": sources.line_text(span.file, s.line),
            "start_line": s.line,
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn underlines_the_span_under_its_line() {
        let mut m = SourceMap::default();
        let id = m.add(
            "main.hcl",
            Path::new("main.hcl"),
            Arc::from("locals {\n  a = local.regin\n}\n"),
        );
        let d = Diagnostic::error(
            "Reference to undeclared local value",
            "Did you mean \"region\"?",
        )
        .at(Span::new(id, 15..26))
        .in_context("locals");
        let text = render(&d, &m);
        assert_eq!(
            text,
            "Error: Reference to undeclared local value\n\n  on main.hcl:2:7, in locals:\n   2:   a = local.regin\n            ^^^^^^^^^^^\n\nDid you mean \"region\"?\n"
        );
        let j = to_json(&d, &m);
        assert_eq!(j["range"]["start"]["line"], 2);
        assert_eq!(j["range"]["start"]["column"], 7);
    }
}

//! Heredocs end where hclsyntax's scanner ends them, not where hcl-edit
//! would.
//!
//! hcl-edit (0.10) looks for a heredoc's closing marker only after a line
//! ending inside the body, and not inside `%{if}`/`%{for}` bodies. So a
//! marker on the first content line (an empty heredoc) was not seen: the
//! heredoc ran on to the next line that starts with `EOT`, silently taking
//! the attributes and blocks in between as its text; and a marker inside a
//! directive body was read as text, with the same effect. hclsyntax ends a
//! heredoc at the first line that is the marker and whitespace only,
//! wherever it is; a line such as `EOT # done` is text to it, where
//! hcl-edit ended the heredoc. posture finds those ends first (with the
//! formatter's lexer, which cuts heredocs as hclsyntax's scanner does) and
//! hands hcl-edit a copy of the text of the same length (every offset
//! holds) in which an empty heredoc is written `""` and the marker at the
//! start of such a text line is disguised (the evaluator reads heredoc text
//! from the file, not from the tree). Then it checks that every heredoc in
//! hcl-edit's tree spans exactly what Terraform's would; where one does
//! not (a marker line inside a `%{if}` body), the file is refused at that
//! heredoc with file:line:col rather than read another way.

use crate::diag::Diagnostic;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;
use hcl_edit::visit::{Visit, visit_heredoc_template};
use std::ops::Range;

/// Why a file did not parse.
#[derive(Debug)]
pub(crate) enum Problem {
    /// hcl-edit's syntax error (offsets are those of the file's text).
    Syntax(hcl_edit::parser::Error),
    /// A heredoc Terraform would read differently, and where.
    Heredoc(Box<Diagnostic>, Range<usize>),
}

/// One heredoc as hclsyntax delimits it: from `<<` to the end of its
/// closing marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Heredoc {
    start: usize,
    end: usize,
}

/// Parses a configuration body with heredocs delimited as Terraform does.
///
/// # Errors
/// hcl-edit's syntax error, or a heredoc that is unterminated or that
/// hcl-edit would delimit differently.
pub(crate) fn parse_body(text: &str) -> Result<Body, Problem> {
    parse_with(text, false, crate::config::source::parse_body, |b, v| {
        v.visit_body(b)
    })
}

/// Parses one expression (typed at the console) as [`parse_body`] does.
///
/// # Errors
/// As [`parse_body`].
pub(crate) fn parse_expr(text: &str) -> Result<Expression, Problem> {
    parse_with(text, true, crate::config::source::parse_expr, |e, v| {
        v.visit_expr(e)
    })
}

/// `expr`: the text is one expression, which hcl-edit does not let end in
/// spaces, so an empty heredoc is written `(""   )` there.
fn parse_with<T>(
    text: &str,
    expr: bool,
    parse: impl Fn(&str) -> Result<T, hcl_edit::parser::Error>,
    visit: impl Fn(&T, &mut Spans),
) -> Result<T, Problem> {
    let scan = scan(text)?;
    let tree = if scan.empty.is_empty() && scan.text_lines.is_empty() {
        parse(text)
    } else {
        let mut patched = text.as_bytes().to_vec();
        for d in &scan.empty {
            // `""` and spaces: an empty string of the same byte length.
            patched[d.start..d.end].fill(b' ');
            patched[d.start..d.start + 2].copy_from_slice(b"\"\"");
            if expr {
                // `<<X\nX` has at least five bytes.
                patched[d.start..d.start + 3].copy_from_slice(b"(\"\"");
                patched[d.end - 1] = b')';
            }
        }
        for r in &scan.text_lines {
            // Another identifier character: hcl-edit no longer sees the
            // marker there. The evaluator reads heredoc text from the
            // file itself, so the value is the file's.
            let other = if patched[r.start] == b'_' { b'x' } else { b'_' };
            patched[r.clone()].fill(other);
        }
        // Only whole characters were replaced, by ASCII.
        let patched = String::from_utf8(patched).unwrap_or_else(|_| text.to_string());
        parse(&patched)
    }
    .map_err(Problem::Syntax)?;
    let mut got = Spans::default();
    visit(&tree, &mut got);
    check(text, got, &scan.docs)?;
    Ok(tree)
}

struct Scan {
    /// Heredocs with content, in source order.
    docs: Vec<Heredoc>,
    /// Heredocs whose closing marker is their first line.
    empty: Vec<Heredoc>,
    /// The first character of a marker that starts a body line followed
    /// by more text (`EOT # x`): text to hclsyntax, the end to hcl-edit.
    text_lines: Vec<Range<usize>>,
}

fn scan(text: &str) -> Result<Scan, Problem> {
    use crate::fmt::lexer::{Kind, is_id_continue, lex};
    let mut out = Scan {
        docs: Vec::new(),
        empty: Vec::new(),
        text_lines: Vec::new(),
    };
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut prev_opened = false;
    for t in lex(text) {
        match t.kind {
            Kind::OHeredoc => {
                let marker = t.text.trim_start_matches("<<").trim_start_matches('-');
                open.push((t.start, marker.trim_end().to_string()));
            }
            Kind::CHeredoc => {
                if let Some((start, _)) = open.pop() {
                    let d = Heredoc {
                        start,
                        end: t.start + t.text.len(),
                    };
                    if prev_opened {
                        out.empty.push(d);
                    } else {
                        out.docs.push(d);
                    }
                }
            }
            Kind::StringLit if t.start == 0 || text.as_bytes()[t.start - 1] == b'\n' => {
                if let Some((_, marker)) = open.last() {
                    let body = t.text.trim_start_matches([' ', '\t']);
                    if let Some(after) = body.strip_prefix(marker.as_str())
                        && !after.chars().next().is_some_and(is_id_continue)
                        && let Some(first) = marker.chars().next()
                    {
                        let at = t.start + (t.text.len() - body.len());
                        out.text_lines.push(at..at + first.len_utf8());
                    }
                }
            }
            _ => {}
        }
        prev_opened = t.kind == Kind::OHeredoc;
    }
    if let Some((start, _)) = open.first() {
        let start = *start;
        let marker_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        return Err(Problem::Heredoc(
            Box::new(Diagnostic::error(
                "Unterminated template string",
                "No closing marker was found for the string: a heredoc ends at the first line that holds only its marker.",
            )),
            start..marker_end,
        ));
    }
    out.docs.sort();
    Ok(out)
}

#[derive(Default)]
struct Spans(Vec<Heredoc>);

impl Visit for Spans {
    fn visit_heredoc_template(&mut self, node: &hcl_edit::template::HeredocTemplate) {
        if let Some(r) = node.span() {
            self.0.push(Heredoc {
                start: r.start,
                end: r.end,
            });
        }
        visit_heredoc_template(self, node);
    }
}

/// The first heredoc whose extent differs between hcl-edit and hclsyntax.
fn check(text: &str, mut got: Spans, want: &[Heredoc]) -> Result<(), Problem> {
    got.0.sort();
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    for (i, w) in want.iter().enumerate() {
        if got.0.get(i) == Some(w) {
            continue;
        }
        let marker = text[w.start..w.end].lines().next().unwrap_or("<<EOT");
        let marker = marker.trim_start_matches("<<").trim_start_matches('-');
        let opener = w.start..w.start + text[w.start..].find('\n').unwrap_or(0);
        return Err(Problem::Heredoc(
            Box::new(Diagnostic::error(
                "Unsupported heredoc",
                format!(
                    "Terraform ends this heredoc at line {} (the first line that holds only \"{marker}\"), but posture's parser would read it differently, taking text after that line into the heredoc or cutting it short. Keep the closing marker alone on its line, and do not put a line holding only \"{marker}\" inside a %{{if}} or %{{for}} body.",
                    line(w.end),
                ),
            )),
            opener,
        ));
    }
    if let Some(extra) = got.0.get(want.len()) {
        let opener = extra.start..extra.start + text[extra.start..].find('\n').unwrap_or(0);
        return Err(Problem::Heredoc(
            Box::new(Diagnostic::error(
                "Unsupported heredoc",
                "posture's parser reads a heredoc here that Terraform reads as text of an earlier heredoc.",
            )),
            opener,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(src: &str) -> Vec<(String, String)> {
        let body = parse_body(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
        body.attributes()
            .map(|a| {
                (
                    a.key.as_str().to_string(),
                    a.value.to_string().trim().to_string(),
                )
            })
            .collect()
    }

    fn refused(src: &str) -> (String, Range<usize>) {
        match parse_body(src) {
            Err(Problem::Heredoc(d, at)) => (d.summary.clone(), at),
            other => panic!("{src:?}: expected a heredoc problem, got {other:?}"),
        }
    }

    // hcl-edit took `b` and `c` as the text of `a`.
    #[test]
    fn empty_heredoc_does_not_swallow_what_follows() {
        let src = "a = <<EOT\nEOT\nb = \"x\"\nc = <<EOT\nhello\nEOT\n";
        let got = attrs(src);
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(got[0].1, "\"\"");
        assert_eq!(got[1].1, "\"x\"");
        assert!(got[2].1.starts_with("<<EOT\nhello"), "{got:?}");
        // `<<-` with an indented marker, and CRLF line endings.
        let names = attrs("a = <<-EOT\n    EOT\nb = <<-EOT\n  x\n  EOT\n");
        assert_eq!(names.len(), 2);
        assert_eq!(attrs("a = <<EOT\r\nEOT\r\nb = 1\r\n").len(), 2);
    }

    // hcl-edit ended the heredoc at `EOT # done`; hclsyntax reads on.
    #[test]
    fn line_starting_with_the_marker_and_more_is_text() {
        let src = "a = <<EOT\nx\nEOT # done\nEOT.\ny\nEOT\nb = 1\n";
        let got = attrs(src);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1], ("b".to_string(), "1".to_string()));
        // The tree is hcl-edit's reading of the disguised copy; the value
        // is read from the file.
        assert_eq!(value(src), "x\nEOT # done\nEOT.\ny\n");
        assert_eq!(value("a = <<-EOT\n  EOT\n"), "");
    }

    fn value(src: &str) -> String {
        use crate::lang::eval::{Evaluator, MapScope};
        let body = parse_body(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
        let Some(attr) = body.attributes().next() else {
            panic!("{src:?}: no attribute");
        };
        let scope = MapScope::default();
        let none = crate::lang::funcs::NoTemplates;
        let dir = std::path::Path::new(".");
        let mut ev = Evaluator::new(crate::diag::FileId(0), src, &scope, dir, &none);
        match ev.eval(&attr.value) {
            crate::value::Value::String(s) => s,
            other => panic!("{src:?}: {other:?}"),
        }
    }

    // The console parsed its input with plain hcl-edit.
    #[test]
    fn console_expression_reads_heredocs_as_the_loader() {
        let eval = |src: &str| {
            let e = parse_expr(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
            let scope = crate::lang::eval::MapScope::default();
            let none = crate::lang::funcs::NoTemplates;
            let dir = std::path::Path::new(".");
            let mut ev =
                crate::lang::eval::Evaluator::new(crate::diag::FileId(0), src, &scope, dir, &none);
            ev.eval(&e)
        };
        assert_eq!(eval("<<EOT\nEOT"), crate::value::Value::from(""));
        assert_eq!(eval("<<-EOT\n  EOT"), crate::value::Value::from(""));
        assert_eq!(
            eval("<<EOT\nx\nEOT # done\nEOT"),
            crate::value::Value::from("x\nEOT # done\n")
        );
        assert_eq!(
            eval("[<<EOT\nEOT\n, 1]"),
            eval("[\"\", 1]"),
            "an empty heredoc inside an expression"
        );
        assert!(matches!(
            parse_expr("<<EOT\n%{ if true }\nEOT\n%{ endif }\nEOT"),
            Err(Problem::Heredoc(..))
        ));
    }

    #[test]
    fn marker_inside_a_directive_body_is_refused_at_the_heredoc() {
        let src = "x = 1\na = <<EOT\n%{ if true }\nyes\nEOT\nb = 1\nc = <<EOT\n%{ endif }\nEOT\n";
        let (summary, at) = refused(src);
        assert_eq!(summary, "Unsupported heredoc");
        assert_eq!(&src[at], "<<EOT");
    }

    #[test]
    fn unterminated_heredoc_is_refused_at_its_opener() {
        let src = "a = <<EOT\nx\nEOT # not the end\n";
        let (summary, at) = refused(src);
        assert_eq!(summary, "Unterminated template string");
        assert_eq!(&src[at], "<<EOT");
    }

    #[test]
    fn ordinary_heredocs_parse_unchanged() {
        let src = "a = <<-EOT\n  ${x}\n  %{ for i in y ~}\n  ${i}\n  %{ endfor ~}\n  EOT\nb = \"<<EOT\"\n# <<EOT\nc = 2\n";
        assert_eq!(attrs(src).len(), 3);
    }
}

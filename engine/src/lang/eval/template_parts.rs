//! A template as hclsyntax reads it, before it becomes a tree.
//!
//! hclsyntax first turns a template into a flat list of tokens (literals,
//! interpolations, directive markers) and only then builds the tree
//! (`parseTemplateParts`, `flushHeredocTemplateParts` and `parseRoot` in
//! its `parser_template.go`). Three of its rules live in that flat list:
//! - in a heredoc or a template file the scanner cuts literals after every
//!   line ending, one literal token per line;
//! - a `~` strip marker trims only the literal token right next to it:
//!   `%{~` a line's indentation (the newline before it stays), `~}` the
//!   rest of its own line (usually just its newline);
//! - `<<-` removes the smallest indentation of the line-leading tokens,
//!   measured after stripping and across `%{if}`/`%{for}` bodies: a line
//!   that starts with `${`/`%{` (or whose indentation a `%{~` stripped)
//!   counts as zero, a whitespace-only line does not count, and a line
//!   after a `~}` that ate its line ending does not start a line at all.
//!
//! hcl-edit merges adjacent literals and dedents only the top level, so
//! posture rebuilds HCL's token list from hcl-edit's tree (heredoc literals
//! from their source text, which hcl-edit's dedent has not touched).

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::template::{Directive, Element, Template};

/// Which kind of template: where literals are cut, and whether to dedent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// `"..."`: one token per literal (there are no raw line endings).
    Quoted,
    /// `<<EOT` (`flush: false`) or `<<-EOT` (`flush: true`).
    Heredoc { flush: bool },
    /// A `templatefile` template: lines cut as in a heredoc, no dedent.
    File,
}

/// A template tree whose literals are final (stripped and dedented).
#[derive(Debug)]
pub(super) enum Part<'t> {
    Lit(String),
    Interp(&'t Expression),
    If {
        cond: &'t Expression,
        then: Vec<Part<'t>>,
        els: Vec<Part<'t>>,
    },
    For {
        key: Option<&'t str>,
        value: &'t str,
        coll: &'t Expression,
        body: Vec<Part<'t>>,
    },
}

enum Tok<'t> {
    Lit(String),
    Interp(&'t Expression),
    If(&'t Expression),
    Else,
    EndIf,
    For(Option<&'t str>, &'t str, &'t Expression),
    EndFor,
}

/// One token with its strip markers: `~` before it (`%{~`, `${~`) and after
/// it (`~}`). Literals have neither.
struct Marked<'t> {
    tok: Tok<'t>,
    strip_before: bool,
    strip_after: bool,
}

/// The parts of `t` as HCL reads them. `src` is the text the template's
/// spans point into (used for heredoc literals).
pub(super) fn parts<'t>(t: &'t Template, mode: Mode, src: &str) -> Vec<Part<'t>> {
    let mut toks = Vec::new();
    flatten(t, mode, src, 0, &mut toks);
    strip(&mut toks);
    if mode == (Mode::Heredoc { flush: true }) {
        flush(&mut toks);
    }
    let mut it = toks.into_iter().map(|m| m.tok).peekable();
    build(&mut it)
}

fn flatten<'t>(t: &'t Template, mode: Mode, src: &str, depth: usize, out: &mut Vec<Marked<'t>>) {
    let plain = |tok| Marked {
        tok,
        strip_before: false,
        strip_after: false,
    };
    let marked = |tok, s: hcl_edit::template::Strip| Marked {
        tok,
        strip_before: s.strip_start(),
        strip_after: s.strip_end(),
    };
    for el in t.iter() {
        match el {
            Element::Literal(lit) => {
                let text = literal_text(lit, mode, src, depth);
                if mode == Mode::Quoted {
                    if !text.is_empty() {
                        out.push(plain(Tok::Lit(text)));
                    }
                } else {
                    for line in text.split_inclusive('\n') {
                        out.push(plain(Tok::Lit(line.to_string())));
                    }
                }
            }
            Element::Interpolation(i) => out.push(marked(Tok::Interp(&i.expr), i.strip)),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    let e = &d.if_expr;
                    out.push(marked(Tok::If(&e.cond_expr), e.strip));
                    flatten(&e.template, mode, src, depth + 1, out);
                    if let Some(e) = &d.else_expr {
                        out.push(marked(Tok::Else, e.strip));
                        flatten(&e.template, mode, src, depth + 1, out);
                    }
                    out.push(marked(Tok::EndIf, d.endif_expr.strip));
                }
                Directive::For(d) => {
                    let e = &d.for_expr;
                    let key = e.key_var.as_ref().map(|k| k.value().as_str());
                    let tok = Tok::For(key, e.value_var.value().as_str(), &e.collection_expr);
                    out.push(marked(tok, e.strip));
                    flatten(&e.template, mode, src, depth + 1, out);
                    out.push(marked(Tok::EndFor, d.endfor_expr.strip));
                }
            },
        }
    }
}

/// A literal's value. Heredoc literals come from the source (hcl-edit has
/// already dedented the top-level ones its own way); only `$${` and `%%{`
/// are escapes there. Quoted literals inside directives still hold their
/// backslash escapes (hcl-edit unescapes only the top level).
fn literal_text(lit: &hcl_edit::Spanned<String>, mode: Mode, src: &str, depth: usize) -> String {
    match mode {
        Mode::Heredoc { .. } => match lit.span().and_then(|r| src.get(r)) {
            Some(raw) => raw.replace("$${", "${").replace("%%{", "%{"),
            None => lit.value().clone(),
        },
        Mode::Quoted if depth > 0 => super::unescape(lit.value()),
        _ => lit.value().clone(),
    }
}

/// The `~` markers: each trims only the literal token next to it.
fn strip(toks: &mut [Marked]) {
    let mut ltrim_next = false;
    for i in 0..toks.len() {
        let ltrim = std::mem::replace(&mut ltrim_next, false);
        if let Tok::Lit(s) = &mut toks[i].tok {
            if ltrim {
                *s = s.trim_start().to_string();
            }
            continue;
        }
        if toks[i].strip_before
            && let Some(Marked {
                tok: Tok::Lit(prev),
                ..
            }) = i.checked_sub(1).map(|p| &mut toks[p])
        {
            *prev = prev.trim_end().to_string();
        }
        ltrim_next = toks[i].strip_after;
    }
}

/// `<<-`: removes the smallest indentation of the line-leading literals.
fn flush(toks: &mut [Marked]) {
    let mut min = usize::MAX;
    let mut adjust = Vec::new();
    let mut line_start = true;
    for (i, m) in toks.iter().enumerate() {
        if std::mem::replace(&mut line_start, false) {
            match &m.tok {
                Tok::Lit(s) => {
                    let rest = s.trim_start();
                    // A whitespace-only line does not count.
                    if !(rest.is_empty() && s.ends_with('\n')) {
                        min = min.min(s[..s.len() - rest.len()].chars().count());
                        adjust.push(i);
                    }
                }
                _ => min = 0,
            }
        }
        if let Tok::Lit(s) = &m.tok {
            line_start = s.ends_with('\n');
        }
    }
    for i in adjust {
        if let Tok::Lit(s) = &mut toks[i].tok {
            let cut = s.char_indices().nth(min).map_or(s.len(), |(at, _)| at);
            s.replace_range(..cut, "");
        }
    }
}

/// Rebuilds the tree from the flat tokens (balanced: hcl-edit built them
/// from a tree).
fn build<'t>(it: &mut std::iter::Peekable<impl Iterator<Item = Tok<'t>>>) -> Vec<Part<'t>> {
    let mut out = Vec::new();
    while let Some(tok) = it.next_if(|t| !matches!(t, Tok::Else | Tok::EndIf | Tok::EndFor)) {
        match tok {
            Tok::Lit(s) => {
                if !s.is_empty() {
                    out.push(Part::Lit(s));
                }
            }
            Tok::Interp(e) => out.push(Part::Interp(e)),
            Tok::If(cond) => {
                let then = build(it);
                let els = if it.next_if(|t| matches!(t, Tok::Else)).is_some() {
                    build(it)
                } else {
                    Vec::new()
                };
                it.next_if(|t| matches!(t, Tok::EndIf));
                out.push(Part::If { cond, then, els });
            }
            Tok::For(key, value, coll) => {
                let body = build(it);
                it.next_if(|t| matches!(t, Tok::EndFor));
                out.push(Part::For {
                    key,
                    value,
                    coll,
                    body,
                });
            }
            Tok::Else | Tok::EndIf | Tok::EndFor => {}
        }
    }
    out
}

//! The two rewrites `terraform fmt` makes besides whitespace, applied to the
//! token stream before layout:
//!
//! - a block label written as a bare identifier is quoted:
//!   `resource k8s_namespace web {` becomes `resource "k8s_namespace" "web" {`;
//! - an attribute value that is nothing but one interpolation is unwrapped:
//!   `name = "${var.name}"` becomes `name = var.name` (in HCL a template made
//!   of a single interpolation yields the inner value unchanged, so the
//!   meaning is the same).
//!
//! The syntax tree from hcl-edit says *where* labels and attribute values
//! are; the decisions are made on tokens, as terraform makes them. This
//! module must not touch anything else: nested object values, heredocs and
//! templates with any literal text stay as written.

use super::lexer::{Kind, Token};
use hcl_edit::Span;
use hcl_edit::structure::{BlockLabel, Body, Structure};
use std::collections::{HashMap, HashSet};

/// Where the rewrites may apply, as byte offsets in the parsed source.
#[derive(Debug, Default)]
pub(crate) struct Sites {
    /// Start offsets of block labels written as bare identifiers.
    bare_labels: HashSet<usize>,
    /// Start offset → end offset of every attribute value, in every body.
    values: HashMap<usize, usize>,
}

/// Finds the labels and attribute values of `body` and its nested blocks.
pub(crate) fn sites(body: &Body) -> Sites {
    let mut sites = Sites::default();
    walk(body, &mut sites);
    sites
}

fn walk(body: &Body, sites: &mut Sites) {
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                if let Some(span) = attr.value.span() {
                    sites.values.insert(span.start, span.end);
                }
            }
            Structure::Block(block) => {
                for label in &block.labels {
                    if let BlockLabel::Ident(ident) = label
                        && let Some(span) = ident.span()
                    {
                        sites.bare_labels.insert(span.start);
                    }
                }
                walk(&block.body, sites);
            }
        }
    }
}

/// Applies both rewrites wherever `sites` allows them.
pub(crate) fn rewrite(tokens: Vec<Token>, sites: &Sites) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.kind == Kind::Ident && sites.bare_labels.contains(&t.start) {
            out.push(Token::new(Kind::OQuote, "\"", t.start));
            out.push(Token::new(Kind::QuotedLit, &t.text, t.start));
            out.push(Token::new(Kind::CQuote, "\"", t.start));
            i += 1;
            continue;
        }
        if t.kind == Kind::OQuote
            && let Some(&end) = sites.values.get(&t.start)
        {
            let j = (i..tokens.len())
                .find(|&j| tokens[j].start >= end)
                .unwrap_or(tokens.len());
            if let Some(mut inner) = unwrap_interpolation(&tokens[i..j]) {
                // `"${"${x}"}"` unwraps twice, so that a second run of fmt
                // finds nothing left to do (terraform fmt stops after one).
                while let Some(deeper) = unwrap_interpolation(&inner) {
                    inner = deeper;
                }
                out.extend(inner);
                i = j;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// The expression inside `"${ expr }"`, if `value` is exactly that. Leading
/// and trailing line breaks go; a value still spanning lines is wrapped in
/// parentheses, since a bare line break would end the attribute.
fn unwrap_interpolation(value: &[Token]) -> Option<Vec<Token>> {
    let n = value.len();
    if n < 5
        || value[0].kind != Kind::OQuote
        || value[1].kind != Kind::TemplateInterp
        || value[n - 2].kind != Kind::TemplateSeqEnd
        || value[n - 1].kind != Kind::CQuote
    {
        return None;
    }
    let inner = &value[2..n - 2];
    // Nested quoted strings may hold their own templates; at the top level,
    // any other template part or literal text means this is a real template.
    let mut quotes = 0i32;
    for t in inner {
        match t.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            // A comment would swallow what follows it once unwrapped.
            Kind::Comment => return None,
            Kind::TemplateInterp
            | Kind::TemplateControl
            | Kind::TemplateSeqEnd
            | Kind::QuotedLit
                if quotes == 0 =>
            {
                return None;
            }
            _ => {}
        }
    }
    let first = inner.iter().position(|t| t.kind != Kind::Newline)?;
    let last = inner.iter().rposition(|t| t.kind != Kind::Newline)?;
    let trimmed = &inner[first..=last];
    let multi_line = trimmed.iter().any(|t| t.kind == Kind::Newline);
    if !multi_line || is_one_paren_group(trimmed) {
        return Some(trimmed.to_vec());
    }
    let start = value[0].start;
    let mut wrapped = Vec::with_capacity(trimmed.len() + 2);
    wrapped.push(Token::new(Kind::OParen, "(", start));
    wrapped.extend_from_slice(trimmed);
    wrapped.push(Token::new(Kind::CParen, ")", start));
    Some(wrapped)
}

/// Whether the tokens are `( ... )` with the first parenthesis closed by the
/// last one (not `(a) + (b)`).
fn is_one_paren_group(tokens: &[Token]) -> bool {
    if tokens.first().map(|t| t.kind) != Some(Kind::OParen) {
        return false;
    }
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate() {
        depth += t.bracket_change();
        if depth == 0 {
            return i == tokens.len() - 1;
        }
    }
    false
}

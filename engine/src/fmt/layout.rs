//! hclwrite's formatting rules, applied to a token stream.
//!
//! This is the heart of `posture fmt`. It follows the algorithm of hclwrite's
//! `format` (the code behind `terraform fmt`), in its three passes:
//!
//! 1. **indent**: each line starts at two spaces per open bracket level, where
//!    a line that opens several brackets at once indents the following lines
//!    by one level only (`[[` then `]]`);
//! 2. **spaces**: the gap between two tokens on a line is zero or one space,
//!    decided by [`space_after`] from the token, its predecessor and its
//!    successor;
//! 3. **cells**: the `=` of consecutive single-line attributes, then trailing
//!    comments of consecutive lines, are aligned into one column.
//!
//! It only ever sets the number of spaces before a token: it must not add,
//! drop or reorder tokens, and it must not touch the text of a token.

use super::lexer::{Kind, Token};
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// One source line split into hclwrite's three cells, as token index ranges:
/// `lead` (everything else), `assign` (from a single-line attribute's `=`
/// onwards) and `comment` (a trailing `#`/`//` comment).
#[derive(Debug)]
struct Line {
    lead: Range<usize>,
    assign: Option<Range<usize>>,
    comment: Option<Range<usize>>,
}

/// Sets `spaces_before` of every token to its canonical value.
pub(crate) fn format_tokens(tokens: &mut [Token]) {
    let lines = split_lines(tokens);
    indent(tokens, &lines);
    spaces(tokens, &lines);
    align(tokens, &lines);
}

/// Concatenates the tokens with their spaces. Trailing whitespace inside
/// comments goes too: it is the only trailing whitespace the passes above
/// cannot reach (heredoc bodies keep theirs: that is string content).
pub(crate) fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        out.extend(std::iter::repeat_n(' ', t.spaces_before));
        if t.kind == Kind::Comment {
            out.push_str(&trim_comment(&t.text));
        } else {
            out.push_str(&t.text);
        }
    }
    out
}

/// Removes trailing spaces and tabs from every line of a comment.
pub(crate) fn trim_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.trim_end_matches([' ', '\t']));
    }
    out
}

fn split_lines(tokens: &[Token]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.ends_line() {
            lines.push(cells(tokens, start..i + 1));
            start = i + 1;
        }
    }
    if start < tokens.len() {
        lines.push(cells(tokens, start..tokens.len()));
    }
    lines
}

/// Picks a trailing comment and a single-line assignment out of a line.
fn cells(tokens: &[Token], mut lead: Range<usize>) -> Line {
    let mut comment = None;
    if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
        comment = Some(lead.end - 1..lead.end);
        lead.end -= 1;
    }
    let mut assign = None;
    // Only the first `=` counts, and only when everything after it closes
    // what it opens: `a = {` starts a multi-line value, not an alignable one.
    if let Some(eq) = (lead.start + 1..lead.end).find(|&i| tokens[i].kind == Kind::Equal) {
        let net: i32 = tokens[eq..lead.end].iter().map(Token::bracket_change).sum();
        if net == 0 {
            assign = Some(eq..lead.end);
            lead.end = eq;
        }
    }
    Line {
        lead,
        assign,
        comment,
    }
}

fn indent(tokens: &mut [Token], lines: &[Line]) {
    // Each entry is the number of brackets a line opened; one indent level
    // per entry, however many brackets that line opened.
    let mut stack: Vec<i32> = Vec::new();
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        let first = line.lead.start;
        if tokens[first].kind == Kind::Newline {
            tokens[first].spaces_before = 0;
            continue;
        }
        let mut net = 0;
        for t in &tokens[line.lead.clone()] {
            net += t.bracket_change();
            // A heredoc's body is literal text: its brackets don't count.
            if t.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(assign) = &line.assign {
            net += tokens[assign.clone()]
                .iter()
                .map(Token::bracket_change)
                .sum::<i32>();
        }
        if net > 0 {
            tokens[first].spaces_before = 2 * stack.len();
            stack.push(net);
            continue;
        }
        let mut closed = -net;
        while closed > 0 {
            let Some(top) = stack.last_mut() else { break };
            if closed < *top {
                *top -= closed;
                closed = 0;
            } else {
                closed -= *top;
                stack.pop();
            }
        }
        tokens[first].spaces_before = 2 * stack.len();
    }
}

fn spaces(tokens: &mut [Token], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead.clone());
        if let Some(assign) = &line.assign {
            // The `=` is separated from what it assigns to by at least one
            // space; `align` may widen it.
            tokens[assign.start].spaces_before = 1;
            space_cell(tokens, assign.clone());
        }
    }
}

fn space_cell(tokens: &mut [Token], cell: Range<usize>) {
    for i in cell.start..cell.end.saturating_sub(1) {
        let before = (i > cell.start).then(|| &tokens[i - 1]);
        let space = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces_before = usize::from(space);
    }
}

/// Whether `subject` is followed by a space when `before` precedes it (None
/// at the start of a cell) and `after` follows it. The order of the checks
/// matters: it is hclwrite's.
fn space_after(subject: &Token, before: Option<&Token>, after: &Token) -> bool {
    use Kind::*;
    let (s, a) = (subject.kind, after.kind);
    let is_template_text = |k| matches!(k, QuotedLit | StringLit);
    match () {
        // Never a space before a line ending.
        _ if a == Newline => false,
        // A function call: `f(`, and provider-namespaced `provider::p::f(`.
        _ if s == Ident && a == OParen => false,
        _ if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) => false,
        _ if s == Dot || a == Dot => false,
        _ if a == Comma || a == Ellipsis => false,
        _ if s == Comma => true,
        // Inside templates, spaces are content: never add any.
        _ if is_template_text(s) || s == OQuote || s == OHeredoc => false,
        _ if is_template_text(a) || a == CQuote || a == CHeredoc => false,
        // `for x in [y]`: `in` is a keyword here, not a reference to index.
        _ if s == Ident && subject.text == "in" && before.is_some_and(|b| b.kind == Ident) => true,
        // Indexing: `a[0]`, `f()[0]`, `[1][0]`.
        _ if a == OBrack && (s == Ident || s == Number || subject.bracket_change() < 0) => false,
        _ if s == Bang => false,
        _ if s == Minus => minus_is_binary(before.map(|b| b.kind)),
        // Braces get inner spaces (`{ a = 1 }`), except when empty (`{}`).
        _ if s == OBrace || a == CBrace => !(s == OBrace && a == CBrace),
        // `${ {a = 1} }`: keep an object constructor visible in a template.
        _ if (s == TemplateInterp || s == TemplateControl) && a == OBrace => true,
        _ if s == CBrace && a == TemplateSeqEnd => true,
        _ if s == TemplateSeqEnd && (a == TemplateInterp || a == TemplateControl) => false,
        _ if subject.bracket_change() > 0 => false,
        _ if after.bracket_change() < 0 => false,
        _ => true,
    }
}

/// Guesses whether a `-` is subtraction (spaced) or negation (not spaced)
/// from the token before it, as hclwrite does.
fn minus_is_binary(before: Option<Kind>) -> bool {
    use Kind::*;
    !matches!(
        before,
        None | Some(
            OParen
                | OBrace
                | OBrack
                | Equal
                | Colon
                | Comma
                | Question
                | Plus
                | Star
                | Slash
                | Percent
                | Minus
                | EqualOp
                | NotEqual
                | Gt
                | Gte
                | Lt
                | Lte
                | And
                | Or
                | Bang
        )
    )
}

/// Display width of a run of tokens, counting user-perceived characters.
fn columns(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .map(|t| t.spaces_before + t.text.graphemes(true).count())
        .sum()
}

fn align(tokens: &mut [Token], lines: &[Line]) {
    // `=` first: moving it shifts the trailing comments.
    align_cell(tokens, lines, |l| l.assign.clone(), |l| l.lead.clone());
    align_cell(
        tokens,
        lines,
        |l| l.comment.clone(),
        |l| l.lead.start..l.assign.as_ref().map_or(l.lead.end, |a| a.end),
    );
}

/// Aligns the first token of the cell picked by `cell` across every run of
/// consecutive lines that have that cell, one space past the widest `prefix`.
fn align_cell(
    tokens: &mut [Token],
    lines: &[Line],
    cell: impl Fn(&Line) -> Option<Range<usize>>,
    prefix: impl Fn(&Line) -> Range<usize>,
) {
    let mut i = 0;
    while i < lines.len() {
        if cell(&lines[i]).is_none() {
            i += 1;
            continue;
        }
        let run_end = (i..lines.len())
            .find(|&j| cell(&lines[j]).is_none())
            .unwrap_or(lines.len());
        let run = &lines[i..run_end];
        let widest = run
            .iter()
            .map(|l| columns(&tokens[prefix(l)]))
            .max()
            .unwrap_or(0);
        for l in run {
            let width = columns(&tokens[prefix(l)]);
            if let Some(c) = cell(l) {
                tokens[c.start].spaces_before = widest - width + 1;
            }
        }
        i = run_end;
    }
}

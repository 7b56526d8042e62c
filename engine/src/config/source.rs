//! From a file's bytes to a syntax tree, for every reader of HCL (the
//! loader, variable files, `posture fmt`): text that is not UTF-8 is named
//! at its line and column, a UTF-8 byte order mark is skipped (as HCL does
//! since Terraform 0.12), and number literals too large for a 64-bit float
//! (`1e400`) parse, as Terraform's arbitrary-precision numbers do, and so
//! do object constructors that repeat a key (`dupkeys`).

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::parser::Error;
use hcl_edit::structure::Body;

/// The UTF-8 byte order mark some Windows editors write first.
pub const BOM: char = '\u{feff}';

/// Why a file's bytes are not HCL text, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct BadText {
    /// A printable stand-in for the file, byte for byte as long up to
    /// `offset`, for the diagnostic's excerpt: invalid sequences become
    /// U+FFFD and control characters `?`.
    pub text: String,
    /// Byte offset of the first offending byte.
    pub offset: usize,
    /// Length in `text` of what stands for that byte.
    pub len: usize,
    /// One-based line and column (in characters) of that byte.
    pub line: usize,
    /// See `line`.
    pub column: usize,
    /// A NUL byte: the file is binary rather than in another encoding.
    pub binary: bool,
}

impl BadText {
    /// The diagnostic's summary and detail, worded as Terraform's.
    pub fn summary_and_detail(&self) -> (&'static str, &'static str) {
        if self.binary {
            (
                "Invalid character",
                "This file holds a NUL byte: it is binary, not HCL text. Configuration and variable files must be UTF-8 text.",
            )
        } else {
            (
                "Invalid character encoding",
                "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected in your editor.",
            )
        }
    }
}

/// The text of a configuration file: UTF-8 without NUL bytes, and without
/// a leading byte order mark.
///
/// # Errors
/// [`BadText`] at the first byte that is not valid UTF-8, or the first NUL.
pub fn decode(bytes: Vec<u8>) -> Result<String, BadText> {
    let (bad, binary) = match std::str::from_utf8(&bytes) {
        Ok(s) => match s.find('\0') {
            None => {
                let s = s.strip_prefix(BOM).unwrap_or(s);
                return Ok(s.to_string());
            }
            Some(nul) => (nul, true),
        },
        Err(e) => (e.valid_up_to(), false),
    };
    let valid = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| {
            // ASCII only: the replacement keeps every byte offset.
            if c.is_ascii_control() && c != '\n' && c != '\t' && c != '\r' {
                '?'
            } else {
                c
            }
        })
        .collect();
    let len = text[bad..].chars().next().map_or(0, char::len_utf8);
    Err(BadText {
        text,
        offset: bad,
        len,
        line,
        column,
        binary,
    })
}

/// Parses a configuration body (see the module comment for numbers).
///
/// # Errors
/// The parser's error, at the same offset as in `text`.
pub fn parse_body(text: &str) -> Result<Body, Error> {
    parse_leniently(text, hcl_edit::parser::parse_body)
}

/// Parses one expression (a `--var` value), numbers as [`parse_body`].
///
/// # Errors
/// The parser's error.
pub fn parse_expr(text: &str) -> Result<Expression, Error> {
    parse_leniently(text, hcl_edit::parser::parse_expr)
}

/// `parse` of `text`, or when that fails, of a copy of the same length
/// that hides what hcl-edit refuses and Terraform reads: huge numbers, and
/// repeated object keys (see `dupkeys`).
fn parse_leniently<T>(text: &str, parse: impl Fn(&str) -> Result<T, Error>) -> Result<T, Error> {
    let mut err = match parse(text) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let masked = mask_huge_numbers(text);
    if let Some(m) = &masked {
        match parse(m) {
            Ok(t) => return Ok(t),
            Err(e) => err = e,
        }
    }
    if !super::dupkeys::is_repeated_key(&err) {
        return Err(err);
    }
    let copy = masked.unwrap_or_else(|| text.to_string());
    super::dupkeys::parse_with_repeats(copy, err, parse)
}

/// The name of an object key as `text`, the text the tree was parsed
/// from, writes it: a repeated key is disguised in the tree (see
/// `dupkeys`), never in the text. `None` for a key expression other than
/// an identifier or a quoted string.
pub fn key_name<'a>(text: &'a str, key: &'a ObjectKey) -> Option<&'a str> {
    match key {
        ObjectKey::Ident(id) => {
            let name = id.value().as_str();
            let written = id.span().and_then(|r| text.get(r));
            Some(written.filter(|w| w.len() == name.len()).unwrap_or(name))
        }
        ObjectKey::Expression(e @ Expression::String(s)) => {
            let value = s.value().as_str();
            let written = e
                .span()
                .and_then(|r| text.get(r))
                .and_then(|w| w.strip_prefix('"')?.strip_suffix('"'))
                // Escapes are never disguised: the tree's value is right.
                .filter(|w| w.len() == value.len() && !w.contains(['\\', '$', '%']));
            Some(written.unwrap_or(value))
        }
        ObjectKey::Expression(_) => None,
    }
}

/// hcl-edit refuses number literals that overflow an f64. The evaluator
/// reads every literal from the source text, so the tree may hold any
/// number of the same length: such literals are written as zeros (same
/// length, so every span and error position still holds) in a copy that
/// only the parser sees. `None` when there is no such literal.
fn mask_huge_numbers(text: &str) -> Option<String> {
    let mut masked: Option<String> = None;
    for t in crate::fmt::lexer::lex(text) {
        if t.kind != crate::fmt::lexer::Kind::Number
            || t.text.parse::<f64>().is_ok_and(f64::is_finite)
        {
            continue;
        }
        let zeros: String = t
            .text
            .chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect();
        let end = t.start + t.text.len();
        let m = masked.get_or_insert_with(|| text.to_string());
        if m.is_char_boundary(t.start) && m.is_char_boundary(end) {
            m.replace_range(t.start..end, &zeros);
        }
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_placed_at_its_line_and_column() {
        let e = decode(b"a = 1\nb = \"x\xff\"\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column, e.offset, e.binary), (2, 7, 12, false));
        assert_eq!(&e.text[e.offset..e.offset + e.len], "\u{fffd}");
        assert_eq!(e.summary_and_detail().0, "Invalid character encoding");
    }

    #[test]
    fn binary_is_named_with_printable_excerpt() {
        let e = decode(b"\x1b[31ma = 1\n\0\x01".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column, e.binary), (2, 1, true));
        assert!(!e.text.contains('\u{1b}'), "{:?}", e.text);
        assert_eq!(e.summary_and_detail().0, "Invalid character");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(decode(b"\xef\xbb\xbfa = 1\n".to_vec()).unwrap(), "a = 1\n");
    }

    #[test]
    fn number_literals_beyond_f64_parse() {
        let body = parse_body("a = 1e400\nb = [-1E+400, 2]\nc = \"1e400\"\n").unwrap();
        assert_eq!(body.iter().count(), 3);
        let long = "9".repeat(400);
        assert!(parse_expr(&format!("{{ n = {long} }}")).is_ok());
        // Real mistakes stay errors, at the same place.
        let e = parse_body("a = 1e400 +\n").unwrap_err();
        assert_eq!(e.location().line(), 1);
    }
}

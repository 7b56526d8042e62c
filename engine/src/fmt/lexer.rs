//! Splits HCL source into the token stream that the formatter rearranges.
//!
//! The formatter works like hclwrite: on tokens, not on a syntax tree, and it
//! only ever changes the whitespace *between* tokens. This lexer therefore has
//! one job: cut the source into the same kinds of tokens as hclsyntax's
//! scanner, so that the spacing rules in [`super::layout`] can look at a
//! token and its neighbours. It must not validate the syntax (hcl-edit does
//! that before we get here) and it must never lose or alter a byte of a
//! token: string literals, heredoc bodies and comments come out verbatim.

/// What a token is, mirroring the token types of hclsyntax that the
/// formatting rules care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Number,
    /// `"` opening a quoted template.
    OQuote,
    /// `"` closing a quoted template.
    CQuote,
    /// Literal text inside a quoted template (escapes included, verbatim).
    QuotedLit,
    /// `<<EOT` or `<<-EOT`, including the line ending that follows it.
    OHeredoc,
    /// The closing marker line of a heredoc, leading whitespace included.
    CHeredoc,
    /// Literal text inside a heredoc, up to and including a line ending.
    StringLit,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing an interpolation or a template directive.
    TemplateSeqEnd,
    /// `#`, `//` (including their line ending) or `/* */` comments.
    Comment,
    Newline,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    Comma,
    Dot,
    Ellipsis,
    Colon,
    DoubleColon,
    Question,
    Equal,
    FatArrow,
    EqualOp,
    NotEqual,
    Lt,
    Lte,
    Gt,
    Gte,
    And,
    Or,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// Anything the lexer does not recognise; kept verbatim.
    Other,
}

/// One token: its kind, its exact text, its byte offset in the lexed source
/// (for tokens added by a rewrite: the offset of the token they replace) and
/// the number of spaces the formatter decided to put before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) text: String,
    pub(crate) start: usize,
    pub(crate) spaces_before: usize,
}

impl Token {
    /// A token made by a rewrite rather than read from the source.
    pub(crate) fn new(kind: Kind, text: &str, start: usize) -> Self {
        Token {
            kind,
            text: text.to_string(),
            start,
            spaces_before: 0,
        }
    }
}

impl Token {
    /// How many `{ [ (` or template openers (positive) or closers
    /// (negative) this token contributes, as hclwrite counts them.
    pub(crate) fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace
            | Kind::OBrack
            | Kind::OParen
            | Kind::TemplateControl
            | Kind::TemplateInterp => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    /// Whether the token ends a line: a newline, or a `#`/`//` comment
    /// (those consume their line ending).
    pub(crate) fn ends_line(&self) -> bool {
        match self.kind {
            Kind::Newline => true,
            Kind::Comment => self.text.ends_with('\n'),
            _ => false,
        }
    }
}

/// Where the lexer is: each `{`, `${`, `"` or heredoc pushes one context.
#[derive(Debug)]
enum Ctx {
    /// Inside `{ }` of a block body or object: ordinary expression tokens.
    Brace,
    /// Inside `${ }` or `%{ }`: expression tokens until the closing `}`.
    Interp,
    /// Inside `"..."`.
    Quoted,
    /// Inside a heredoc body; `line_start` is true right after a line ending,
    /// the only place where the closing marker may appear.
    Heredoc { marker: String, line_start: bool },
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    stack: Vec<Ctx>,
    tokens: Vec<Token>,
}

/// Cuts `src` (already normalised to `\n` line endings) into tokens.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        stack: Vec::new(),
        tokens: Vec::new(),
    };
    while lx.pos < src.len() {
        match lx.stack.last() {
            Some(Ctx::Quoted) => lx.quoted(),
            Some(Ctx::Heredoc { .. }) => lx.heredoc(),
            _ => lx.expr(),
        }
    }
    lx.tokens
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn push(&mut self, kind: Kind, len: usize) {
        let text = self.src[self.pos..self.pos + len].to_string();
        self.tokens.push(Token {
            kind,
            text,
            start: self.pos,
            spaces_before: 0,
        });
        self.pos += len;
    }

    /// Opens `${`/`%{` (with an optional `~` strip marker) if one starts here.
    fn template_opener(&mut self) -> bool {
        let rest = self.rest();
        let kind = if rest.starts_with("${") {
            Kind::TemplateInterp
        } else if rest.starts_with("%{") {
            Kind::TemplateControl
        } else {
            return false;
        };
        let len = if rest[2..].starts_with('~') { 3 } else { 2 };
        self.push(kind, len);
        self.stack.push(Ctx::Interp);
        true
    }

    /// Length of the literal text starting here, stopping before a template
    /// opener, before `stop` characters, or after a line ending.
    fn literal_len(&self, backslash_escapes: bool, stop: &[char]) -> usize {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            // `$${` and `%%{` are escaped openers: literal text. Checked at
            // every byte, as hcl-edit does: `$$${x}` is `$` then `$${x}`.
            if bytes[i..].starts_with(b"$${") || bytes[i..].starts_with(b"%%{") {
                i += 3;
                continue;
            }
            if (b == b'$' || b == b'%') && bytes.get(i + 1) == Some(&b'{') {
                break;
            }
            if backslash_escapes && b == b'\\' {
                i += 1;
                // Skip the escaped character whole (it may be multi-byte).
                if let Some(c) = rest[i..].chars().next() {
                    i += c.len_utf8();
                }
                continue;
            }
            if b == b'\n' {
                if !stop.contains(&'\n') {
                    i += 1;
                }
                break;
            }
            if b.is_ascii() && stop.contains(&(b as char)) {
                break;
            }
            i += 1;
        }
        // `i` may sit inside a multi-byte char only if the input ended there,
        // which `str` rules out; clamp defensively anyway.
        while !rest.is_char_boundary(i) {
            i += 1;
        }
        i
    }

    fn quoted(&mut self) {
        if self.rest().starts_with('"') {
            self.push(Kind::CQuote, 1);
            self.stack.pop();
            return;
        }
        if self.template_opener() {
            return;
        }
        let len = self.literal_len(true, &['"', '\n']);
        if len == 0 {
            // A line ending inside quotes is a syntax error the parser has
            // already rejected; leave the string so lexing cannot loop.
            self.stack.pop();
            return;
        }
        self.push(Kind::QuotedLit, len);
    }

    fn heredoc(&mut self) {
        if let Some(Ctx::Heredoc { marker, line_start }) = self.stack.last_mut()
            && *line_start
        {
            *line_start = false;
            let rest = &self.src[self.pos..];
            let line = rest.split('\n').next().unwrap_or(rest);
            let indent = line.len() - line.trim_start().len();
            // As hclsyntax's scanner: a line is the closing marker when it
            // is the marker and whitespace, nothing else (`EOTX` and
            // `EOT # x` are body text), from the very first line on.
            if line.trim() == marker.as_str() {
                let len = indent + marker.len();
                self.push(Kind::CHeredoc, len);
                self.stack.pop();
                return;
            }
        }
        if self.template_opener() {
            return;
        }
        let mut len = self.literal_len(false, &[]);
        if len == 0 {
            // Cannot happen (openers are handled above), but never loop.
            len = self.rest().chars().next().map_or(1, char::len_utf8);
        }
        let text_ends_line = self.src[self.pos..self.pos + len].ends_with('\n');
        self.push(Kind::StringLit, len);
        if let Some(Ctx::Heredoc { line_start, .. }) = self.stack.last_mut() {
            *line_start = text_ends_line;
        }
    }

    fn expr(&mut self) {
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return;
        };
        match c {
            ' ' | '\t' | '\r' => {
                // Whitespace between tokens is recomputed by the formatter.
                self.pos += 1;
            }
            '\n' => self.push(Kind::Newline, 1),
            '#' => self.line_comment(),
            '/' if rest.starts_with("//") => self.line_comment(),
            '/' if rest.starts_with("/*") => {
                let len = rest[2..].find("*/").map_or(rest.len(), |i| i + 4);
                self.push(Kind::Comment, len);
            }
            '"' => {
                self.push(Kind::OQuote, 1);
                self.stack.push(Ctx::Quoted);
            }
            '<' if rest.starts_with("<<") => self.heredoc_open(),
            '{' => {
                self.push(Kind::OBrace, 1);
                self.stack.push(Ctx::Brace);
            }
            '}' => {
                let kind = match self.stack.pop() {
                    Some(Ctx::Interp) => Kind::TemplateSeqEnd,
                    _ => Kind::CBrace,
                };
                self.push(kind, 1);
            }
            '~' if rest.starts_with("~}") && matches!(self.stack.last(), Some(Ctx::Interp)) => {
                self.stack.pop();
                self.push(Kind::TemplateSeqEnd, 2);
            }
            '0'..='9' => {
                let len = number_len(rest);
                self.push(Kind::Number, len);
            }
            c if is_id_start(c) => {
                let len = rest
                    .char_indices()
                    .find(|&(_, ch)| !is_id_continue(ch))
                    .map_or(rest.len(), |(i, _)| i);
                self.push(Kind::Ident, len);
            }
            _ => {
                let (kind, len) = operator(rest);
                self.push(kind, len);
            }
        }
    }

    fn line_comment(&mut self) {
        let rest = self.rest();
        let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        self.push(Kind::Comment, len);
    }

    fn heredoc_open(&mut self) {
        let rest = self.rest();
        let after = &rest[2..];
        let dash = usize::from(after.starts_with('-'));
        let name = &after[dash..];
        let name_len = name
            .char_indices()
            .find(|&(_, ch)| !is_id_continue(ch))
            .map_or(name.len(), |(i, _)| i);
        let eol = if name[name_len..].starts_with("\r\n") {
            2
        } else {
            1
        };
        if name_len == 0 || (eol == 1 && !name[name_len..].starts_with('\n')) {
            // Not a heredoc opener after all: a `<` operator.
            self.push(Kind::Lt, 1);
            return;
        }
        let marker = name[..name_len].to_string();
        self.push(Kind::OHeredoc, 2 + dash + name_len + eol);
        self.stack.push(Ctx::Heredoc {
            marker,
            line_start: true,
        });
    }
}

// Identifier characters as hcl-edit defines them (Unicode XID, plus `_`
// and `-`), so both cut identifiers in the same places.
fn is_id_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

pub(crate) fn is_id_continue(c: char) -> bool {
    c == '-' || unicode_ident::is_xid_continue(c)
}

/// Length of a number literal: digits, an optional fraction and exponent.
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = digits(0);
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1 + digits(i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let exp = digits(i + 1 + sign);
        if exp > 0 {
            i += 1 + sign + exp;
        }
    }
    i
}

/// The operator or punctuation token at the start of `s`, longest first.
fn operator(s: &str) -> (Kind, usize) {
    const MULTI: [(&str, Kind); 9] = [
        ("...", Kind::Ellipsis),
        ("::", Kind::DoubleColon),
        ("==", Kind::EqualOp),
        ("!=", Kind::NotEqual),
        ("<=", Kind::Lte),
        (">=", Kind::Gte),
        ("&&", Kind::And),
        ("||", Kind::Or),
        ("=>", Kind::FatArrow),
    ];
    for (op, kind) in MULTI {
        if s.starts_with(op) {
            return (kind, op.len());
        }
    }
    let c = s.chars().next().unwrap_or(' ');
    let kind = match c {
        '[' => Kind::OBrack,
        ']' => Kind::CBrack,
        '(' => Kind::OParen,
        ')' => Kind::CParen,
        ',' => Kind::Comma,
        '.' => Kind::Dot,
        ':' => Kind::Colon,
        '?' => Kind::Question,
        '=' => Kind::Equal,
        '<' => Kind::Lt,
        '>' => Kind::Gt,
        '!' => Kind::Bang,
        '+' => Kind::Plus,
        '-' => Kind::Minus,
        '*' => Kind::Star,
        '/' => Kind::Slash,
        '%' => Kind::Percent,
        _ => Kind::Other,
    };
    (kind, c.len_utf8().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random strings over the characters that steer the lexer.
    fn tricky_inputs() -> impl Iterator<Item = String> {
        const ALPHABET: [&str; 24] = [
            "$", "%", "{", "}", "\"", "\\", "<<", "EOT", "-", "~", "\n", "#", "/", "*", "é", "🇬🇧",
            " ", "\t", "\r\n", "a", "1", ".", "=", "<<-EOT\n",
        ];
        let mut state: u64 = 7;
        (0..3000).map(move |_| {
            let mut s = String::new();
            for _ in 0..24 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
            }
            s
        })
    }

    #[test]
    fn lexing_any_input_loses_nothing_but_spaces() {
        for src in tricky_inputs() {
            let mut covered = 0;
            for t in lex(&src) {
                assert!(t.start >= covered, "overlap in {src:?}");
                let gap = &src[covered..t.start];
                assert!(
                    gap.chars().all(|c| matches!(c, ' ' | '\t' | '\r')),
                    "lost {gap:?} in {src:?}"
                );
                assert_eq!(&src[t.start..t.start + t.text.len()], t.text);
                covered = t.start + t.text.len();
            }
            let tail = &src[covered..];
            assert!(
                tail.chars().all(|c| matches!(c, ' ' | '\t' | '\r')),
                "lost {tail:?}"
            );
        }
    }

    #[test]
    fn formatting_any_input_never_panics_and_is_idempotent() {
        // Few of these parse (generated HCL is tested in `tests/generated.rs`);
        // the point here is that none of them makes fmt panic.
        for src in tricky_inputs() {
            if let Ok(once) = crate::fmt::format_source(&src) {
                let twice = crate::fmt::format_source(&once);
                assert_eq!(twice.ok().as_ref(), Some(&once), "input {src:?}");
            }
        }
    }

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex(src).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn quoted_template_with_interpolation_and_escapes() {
        use Kind::*;
        let got = kinds(r#"a = "x\"$${y} ${~ b ~}""#);
        let want = vec![
            (Ident, "a"),
            (Equal, "="),
            (OQuote, "\""),
            (QuotedLit, r#"x\"$${y} "#),
            (TemplateInterp, "${~"),
            (Ident, "b"),
            (TemplateSeqEnd, "~}"),
            (CQuote, "\""),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn heredoc_body_and_marker_are_verbatim() {
        use Kind::*;
        let got = kinds("x = <<-EOT\n  a ${b}\n    EOTX\n  EOT\n");
        let want = vec![
            (Ident, "x"),
            (Equal, "="),
            (OHeredoc, "<<-EOT\n"),
            (StringLit, "  a "),
            (TemplateInterp, "${"),
            (Ident, "b"),
            (TemplateSeqEnd, "}"),
            (StringLit, "\n"),
            (StringLit, "    EOTX\n"),
            (CHeredoc, "  EOT"),
            (Newline, "\n"),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    // hclsyntax ends a heredoc at the first line that is the marker and
    // whitespace only, the first content line included; a line that only
    // starts with the marker is text. CRLF files are lexed as well (the
    // heredoc pre-scan of the loader reads raw files).
    #[test]
    fn heredoc_marker_lines_as_hclsyntax_reads_them() {
        use Kind::*;
        let got = kinds("a = <<EOT\nEOT\nb = <<EOT\nEOT # no\nEOT\r\nc = <<-X\r\n X \r\n");
        let want = vec![
            (Ident, "a"),
            (Equal, "="),
            (OHeredoc, "<<EOT\n"),
            (CHeredoc, "EOT"),
            (Newline, "\n"),
            (Ident, "b"),
            (Equal, "="),
            (OHeredoc, "<<EOT\n"),
            (StringLit, "EOT # no\n"),
            (CHeredoc, "EOT"),
            (Newline, "\n"),
            (Ident, "c"),
            (Equal, "="),
            (OHeredoc, "<<-X\r\n"),
            (CHeredoc, " X"),
            (Newline, "\n"),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn operators_numbers_and_comments() {
        use Kind::*;
        let got = kinds("a=>1.5e+3...b::c!=d # hi\n/* x */");
        let want = vec![
            (Ident, "a"),
            (FatArrow, "=>"),
            (Number, "1.5e+3"),
            (Ellipsis, "..."),
            (Ident, "b"),
            (DoubleColon, "::"),
            (Ident, "c"),
            (NotEqual, "!="),
            (Ident, "d"),
            (Comment, "# hi\n"),
            (Comment, "/* x */"),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }
}

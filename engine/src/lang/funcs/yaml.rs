//! `yamlencode` and `yamldecode` as Terraform's go-cty-yaml does them.
//!
//! The encoder reproduces the libyaml emitter's output for the events
//! cty-yaml sends: block style, every string double-quoted (keys too)
//! except multi-line values, which become `|` literal blocks when libyaml
//! allows it; long double-quoted values fold at column 80; plain scalars
//! at the top level end the document with `...`.
//!
//! The decoder is in `yaml_decode`.

use super::util::{Table, fail, p, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    reg(
        t,
        "yamlencode",
        vec![p("value", Type::Dynamic).nullable()],
        Type::String,
        yamlencode,
    );
    reg(
        t,
        "yamldecode",
        vec![p("src", Type::String)],
        Type::Dynamic,
        yamldecode,
    );
}

fn yamlencode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let mut e = Emitter::default();
    e.root(&args[0]);
    Ok(Value::String(e.out))
}

fn yamldecode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    super::yaml_decode::decode(args[0].as_str().unwrap_or_default()).map_err(fail)
}

/// libyaml's preferred line width for folding double-quoted scalars.
const BEST_WIDTH: usize = 80;

#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
    open_ended: bool,
}

/// libyaml's `is_printable` on a character.
fn printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

enum Kind<'a> {
    Scalar,
    Seq(&'a [Value]),
    Map(&'a BTreeMap<String, Value>),
}

fn kind(v: &Value) -> Kind<'_> {
    match v.unmarked() {
        Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => Kind::Seq(i),
        Value::Map(_, m) | Value::Object(m) => Kind::Map(m),
        _ => Kind::Scalar,
    }
}

impl Emitter {
    fn write(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }

    fn newline(&mut self) {
        if self.column > 0 {
            self.write("\n");
        }
    }

    fn indent(&mut self, n: usize) {
        self.newline();
        self.write(&" ".repeat(n));
    }

    fn root(&mut self, v: &Value) {
        match kind(v) {
            Kind::Scalar => {
                if !matches!(v.unmarked(), Value::String(_)) {
                    self.open_ended = true;
                }
                self.scalar(v, 2);
            }
            Kind::Seq([]) => self.write("[]"),
            Kind::Map(m) if m.is_empty() => self.write("{}"),
            Kind::Seq(items) => self.seq(items, 0, false),
            Kind::Map(m) => self.map(m, 0, false),
        }
        self.newline();
        if self.open_ended {
            self.write("...\n");
        }
    }

    fn map(&mut self, m: &BTreeMap<String, Value>, n: usize, inline_first: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if !(i == 0 && inline_first) {
                self.indent(n);
            }
            // libyaml writes keys longer than 128 bytes or spanning lines
            // as complex keys (`? key` then `: value`).
            if k.len() > 128 || k.chars().any(is_break) {
                self.write("? ");
                self.double_quoted(k, n + 2, true);
                self.indent(n);
                self.write(":");
            } else {
                self.double_quoted(k, n + 2, false);
                self.write(":");
            }
            match kind(v) {
                Kind::Scalar => {
                    self.write(" ");
                    self.scalar(v, n + 2);
                }
                Kind::Seq([]) => self.write(" []"),
                Kind::Map(m) if m.is_empty() => self.write(" {}"),
                Kind::Seq(items) => self.seq(items, n, false),
                Kind::Map(m) => self.map(m, n + 2, false),
            }
        }
    }

    fn seq(&mut self, items: &[Value], n: usize, inline_first: bool) {
        for (i, v) in items.iter().enumerate() {
            if !(i == 0 && inline_first) {
                self.indent(n);
            }
            self.write("-");
            match kind(v) {
                Kind::Scalar => {
                    self.write(" ");
                    self.scalar(v, n + 2);
                }
                Kind::Seq([]) => self.write(" []"),
                Kind::Map(m) if m.is_empty() => self.write(" {}"),
                Kind::Seq(inner) => {
                    self.write(" ");
                    self.seq(inner, n + 2, true);
                }
                Kind::Map(m) => {
                    self.write(" ");
                    self.map(m, n + 2, true);
                }
            }
        }
    }

    /// A scalar whose continuation lines are indented by `n`.
    fn scalar(&mut self, v: &Value, n: usize) {
        match v.unmarked() {
            Value::String(s) => {
                if s.contains('\n') && literal_allowed(s) {
                    self.literal(s, n);
                } else {
                    self.double_quoted(s, n, true);
                }
            }
            Value::Number(x) => self.write(&x.to_string()),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            _ => self.write("null"),
        }
    }

    fn double_quoted(&mut self, s: &str, n: usize, allow_breaks: bool) {
        self.write("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".into(),
                    '\u{8}' => "\\b".into(),
                    '\t' => "\\t".into(),
                    '\n' => "\\n".into(),
                    '\u{b}' => "\\v".into(),
                    '\u{c}' => "\\f".into(),
                    '\r' => "\\r".into(),
                    '\u{1b}' => "\\e".into(),
                    '"' => "\\\"".into(),
                    '\\' => "\\\\".into(),
                    '\u{85}' => "\\N".into(),
                    '\u{2028}' => "\\L".into(),
                    '\u{2029}' => "\\P".into(),
                    c if (c as u32) <= 0xFF => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xFFFF => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.write(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write("\n");
                    self.write(&" ".repeat(n));
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                let mut buf = [0u8; 4];
                self.write(c.encode_utf8(&mut buf));
                spaces = false;
            }
        }
        self.write("\"");
    }

    fn literal(&mut self, s: &str, n: usize) {
        // The caller already wrote the separating space.
        self.write("|");
        let first = s.chars().next().unwrap_or(' ');
        if first == ' ' || is_break(first) {
            self.write("2");
        }
        let chars: Vec<char> = s.chars().collect();
        match chars.as_slice() {
            [.., last] if !is_break(*last) => self.write("-"),
            [_] => {
                self.write("+");
                self.open_ended = true;
            }
            [.., prev, _] if is_break(*prev) => {
                self.write("+");
                self.open_ended = true;
            }
            _ => {}
        }
        self.write("\n");
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write("\n");
                breaks = true;
            } else {
                if breaks {
                    self.write(&" ".repeat(n));
                    breaks = false;
                }
                let mut buf = [0u8; 4];
                self.write(c.encode_utf8(&mut buf));
            }
        }
    }
}

/// libyaml allows a literal block unless the string ends in a space, has
/// a space right before a line break, or has characters it must escape.
fn literal_allowed(s: &str) -> bool {
    if s.ends_with(' ') || s.contains(" \n") {
        return false;
    }
    s.chars().all(|c| printable(c) && c != '\u{FEFF}')
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;

//! `yamlencode` and `yamldecode` as Terraform's go-cty-yaml does them.
//!
//! The encoder reproduces the libyaml emitter's output for the events
//! cty-yaml sends: block style, every string double-quoted (keys too)
//! except multi-line values, which become `|` literal blocks when libyaml
//! allows it; long double-quoted values fold at column 80; plain scalars
//! at the top level end the document with `...`.
//!
//! The decoder follows cty-yaml's scalar resolution (YAML 1.1 booleans
//! such as `yes`/`on`, timestamps normalised to RFC 3339, quoted scalars
//! always strings) and builds objects and tuples.

use super::util::{Table, fail, p, quote_go, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Number, Type, Value};
use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

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
    decode(args[0].as_str().unwrap_or_default()).map_err(fail)
}

// ---------------------------------------------------------------- encoder

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

// ---------------------------------------------------------------- decoder

#[derive(Default)]
struct Events {
    list: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.list.push((ev, mark));
    }
}

struct Builder {
    events: Vec<(Event, Marker)>,
    pos: usize,
    anchors: BTreeMap<usize, Value>,
}

fn at(m: &Marker, msg: impl std::fmt::Display) -> String {
    format!("on line {}, column {}: {msg}", m.line(), m.col() + 1)
}

/// Parses a YAML document into a value of its implied type.
fn decode(src: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(src);
    let mut events = Events::default();
    parser.load(&mut events, true).map_err(|e| e.to_string())?;
    let mut b = Builder {
        events: events.list,
        pos: 0,
        anchors: BTreeMap::new(),
    };
    // StreamStart, then DocumentStart or StreamEnd (empty input: null).
    b.pos = 1;
    match b.events.get(b.pos) {
        Some((Event::DocumentStart, _)) => b.pos += 1,
        _ => return Ok(Value::NULL),
    }
    let v = b.node()?;
    match b.events.get(b.pos) {
        Some((Event::DocumentEnd, _)) => b.pos += 1,
        Some((_, m)) => return Err(at(m, "unexpected extra content after value")),
        None => {}
    }
    if let Some((Event::DocumentStart, m)) = b.events.get(b.pos) {
        return Err(at(m, "only a single document is allowed"));
    }
    Ok(v)
}

/// The tag in short `!!name` form.
fn short_tag(tag: &Option<yaml_rust2::parser::Tag>) -> String {
    match tag {
        None => String::new(),
        Some(t) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
            format!("!!{}", t.suffix)
        }
        Some(t) => format!("{}{}", t.handle, t.suffix),
    }
}

impl Builder {
    fn next(&mut self) -> Result<(Event, Marker), String> {
        let e = self
            .events
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "expecting value but found end of stream".to_string())?;
        self.pos += 1;
        Ok(e)
    }

    fn node(&mut self) -> Result<Value, String> {
        let (ev, mark) = self.next()?;
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let mut tag = short_tag(&tag);
                if tag.is_empty() && style != TScalarStyle::Plain {
                    tag = "!!str".into();
                }
                let v = resolve(&tag, &text).map_err(|e| at(&mark, e))?;
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::Alias(id) => self
                .anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| at(&mark, "reference to undefined anchor")),
            Event::SequenceStart(anchor, tag) => {
                let tag = short_tag(&tag);
                if !tag.is_empty() && tag != "!!seq" {
                    return Err(at(&mark, format!("can't interpret sequence as {tag}")));
                }
                let mut items = Vec::new();
                loop {
                    if let Some((Event::SequenceEnd, _)) = self.events.get(self.pos) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.node()?);
                }
                let v = Value::Tuple(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                let tag = short_tag(&tag);
                if !tag.is_empty() && tag != "!!map" {
                    return Err(at(&mark, format!("can't interpret mapping as {tag}")));
                }
                let mut m = BTreeMap::new();
                loop {
                    let (ev, kmark) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => break,
                        Event::Scalar(text, style, _, tag) => {
                            let mut tag = short_tag(&tag);
                            if tag.is_empty() && style != TScalarStyle::Plain {
                                tag = "!!str".into();
                            }
                            let k = resolve(&tag, &text).map_err(|e| at(&kmark, e))?;
                            match k {
                                Value::Null(_) => {
                                    return Err(at(&kmark, "mapping key cannot be null"));
                                }
                                Value::String(s) => s,
                                Value::Number(n) => n.to_string(),
                                Value::Bool(b) => b.to_string(),
                                _ => {
                                    return Err(at(
                                        &kmark,
                                        "only strings are allowed as mapping keys",
                                    ));
                                }
                            }
                        }
                        _ => return Err(at(&kmark, "only strings are allowed as mapping keys")),
                    };
                    let v = self.node()?;
                    m.insert(key, v);
                }
                let v = Value::Object(m);
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                Ok(v)
            }
            Event::DocumentStart => Err(at(&mark, "only a single document is allowed")),
            _ => Err(at(&mark, "expecting value but found end of stream")),
        }
    }
}

fn bool_word(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn null_word(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// A YAML-style decimal: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn yaml_number(s: &str) -> Option<Number> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mant),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !mant_ok || !exp_ok {
        return None;
    }
    let normal = s.strip_prefix('+').unwrap_or(s);
    let normal = normal.replace(".e", "e").replace(".E", "E");
    let normal = normal.strip_suffix('.').unwrap_or(&normal).to_string();
    let normal = if let Some(r) = normal.strip_prefix("-.") {
        format!("-0.{r}")
    } else if let Some(r) = normal.strip_prefix('.') {
        format!("0.{r}")
    } else {
        normal
    };
    normal.parse().ok()
}

/// YAML timestamps as cty-yaml accepts them, printed as RFC 3339.
fn timestamp(s: &str) -> Option<String> {
    let num = |x: &str, max: usize| -> Option<u32> {
        (!x.is_empty() && x.len() <= max && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((&s[i..i + 1], &s[i + 1..]))),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let (y, mo, da) = (d.next()?, d.next()?, d.next()?);
    if y.len() != 4 {
        return None;
    }
    let (y, mo, da) = (num(y, 4)?, num(mo, 2)?, num(da, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let Some((sep, time)) = rest else {
        return Some(format!("{y:04}-{mo:02}-{da:02}T00:00:00Z"));
    };
    let (clock, zone) = if sep == " " {
        (time, "Z".to_string())
    } else if let Some(c) = time.strip_suffix('Z') {
        (c, "Z".to_string())
    } else {
        let i = time.rfind(['+', '-'])?;
        let z = &time[i..];
        let (zh, zm) = z[1..].split_once(':')?;
        if zh.len() != 2 || zm.len() != 2 {
            return None;
        }
        num(zh, 2)?;
        num(zm, 2)?;
        (&time[..i], z.to_string())
    };
    let clock = clock
        .split_once('.')
        .map(|(c, f)| (c, Some(f)))
        .unwrap_or((clock, None));
    if let (_, Some(f)) = clock {
        num(f, 9)?;
    }
    let mut c = clock.0.splitn(3, ':');
    let (h, mi, se) = (num(c.next()?, 2)?, num(c.next()?, 2)?, num(c.next()?, 2)?);
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    // Go prints a zero offset as Z.
    let zone = if zone == "+00:00" || zone == "-00:00" {
        "Z".to_string()
    } else {
        zone
    };
    Some(format!(
        "{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{se:02}{zone}"
    ))
}

/// cty-yaml's `resolveScalar`.
fn resolve(tag: &str, src: &str) -> Result<Value, String> {
    const KNOWN: [&str; 8] = [
        "",
        "!!str",
        "!!bool",
        "!!int",
        "!!float",
        "!!null",
        "!!timestamp",
        "!!binary",
    ];
    if !KNOWN.contains(&tag) {
        return Err(format!("unsupported tag {}", quote_go(tag)));
    }
    let hint = match src.as_bytes().first() {
        None => 'N',
        Some(b'+' | b'-') => 'S',
        Some(b'0'..=b'9') => 'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => 'M',
        Some(b'.') => '.',
        _ => '\0',
    };
    if hint != '\0' && tag != "!!str" && tag != "!!binary" {
        if let Some(b) = bool_word(src) {
            return Ok(Value::Bool(b));
        }
        if null_word(src) {
            return Ok(Value::NULL);
        }
        if matches!(
            src,
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        ) {
            return Err("infinite numbers are not supported".into());
        }
        if matches!(src, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".into());
        }
        match hint {
            '.' => {
                if let Some(n) = yaml_number(src) {
                    return Ok(Value::Number(n));
                }
            }
            'D' | 'S' => {
                if (tag.is_empty() || tag == "!!timestamp")
                    && let Some(t) = timestamp(src)
                {
                    return Ok(Value::String(t));
                }
                if let Some(n) = yaml_number(src) {
                    return Ok(Value::Number(n));
                }
                if let Some(n) = binary_int(src) {
                    return Ok(Value::Number(n));
                }
            }
            _ => {}
        }
    }
    match tag {
        "" | "!!str" => Ok(Value::String(src.to_string())),
        "!!binary" => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(src.replace(['\n', ' '], ""))
                .map(|_| Value::String(src.to_string()))
                .map_err(|_| format!("cannot parse {} as {tag}: not valid base64", quote_go(src)))
        }
        "!!bool" => bool_word(src)
            .map(Value::Bool)
            .ok_or_else(|| format!("cannot parse {} as {tag}", quote_go(src))),
        "!!int" | "!!float" => yaml_number(src)
            .or_else(|| radix_int(src))
            .map(Value::Number)
            .ok_or_else(|| format!("cannot parse {} as {tag}", quote_go(src))),
        "!!null" => Ok(Value::NULL),
        _ => timestamp(src)
            .map(Value::String)
            .ok_or_else(|| format!("cannot parse {} as {tag}", quote_go(src))),
    }
}

fn binary_int(src: &str) -> Option<Number> {
    let (neg, rest) = match src.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, src.strip_prefix('+').unwrap_or(src)),
    };
    let digits = rest.strip_prefix("0b")?;
    let v = i128::from_str_radix(digits, 2).ok()?;
    let v = if neg { -v } else { v };
    v.to_string().parse().ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)` forms: 0x, 0o, 0b and leading-0 octal.
fn radix_int(src: &str) -> Option<Number> {
    let (neg, rest) = match src.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, src.strip_prefix('+').unwrap_or(src)),
    };
    let v = if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
        i128::from_str_radix(o, 8).ok()?
    } else if let Some(b) = rest.strip_prefix("0b").or_else(|| rest.strip_prefix("0B")) {
        i128::from_str_radix(b, 2).ok()?
    } else if rest.len() > 1 && rest.starts_with('0') {
        i128::from_str_radix(&rest[1..], 8).ok()?
    } else {
        return None;
    };
    let v = if neg { -v } else { v };
    v.to_string().parse().ok()
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;

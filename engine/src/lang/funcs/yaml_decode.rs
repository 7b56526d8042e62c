//! `yamldecode`'s reader: go-cty-yaml's scalar resolution (YAML 1.1
//! booleans such as `yes`/`on`, timestamps normalised to RFC 3339, quoted
//! scalars always strings, anchors and aliases) building objects and
//! tuples, one document at most.

use super::util::quote_go;
use crate::value::{Number, Value};
use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

#[derive(Default)]
struct Events {
    list: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.list.push((ev, mark));
    }
}

/// Deeper documents are refused rather than risking the stack.
const MAX_DEPTH: usize = 1000;

/// What a document may build, in approximate bytes of memory: aliases copy
/// their anchor's value, so ten lines of nested aliases can stand for
/// billions of nodes (the "billion laughs").
const MAX_WEIGHT: usize = 4 * super::limits::MAX_STRING_BYTES;

/// The memory of one node besides its scalar's text.
const NODE: usize = std::mem::size_of::<Value>() + 16;

struct Builder {
    events: Vec<(Event, Marker)>,
    pos: usize,
    /// Anchored values and their weight.
    anchors: BTreeMap<usize, (Value, usize)>,
    depth: usize,
    /// The weight built so far.
    weight: usize,
}

fn at(m: &Marker, msg: impl std::fmt::Display) -> String {
    format!("on line {}, column {}: {msg}", m.line(), m.col() + 1)
}

/// Parses a YAML document into a value of its implied type.
pub(super) fn decode(src: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(src);
    let mut events = Events::default();
    parser.load(&mut events, true).map_err(|e| e.to_string())?;
    let mut b = Builder {
        events: events.list,
        pos: 0,
        anchors: BTreeMap::new(),
        depth: 0,
        weight: 0,
    };
    // StreamStart, then DocumentStart or StreamEnd: no document is an
    // error, with go-yaml's words, as in Terraform (`yamldecode("")`).
    b.pos = 1;
    match b.events.get(b.pos) {
        Some((Event::DocumentStart, _)) => b.pos += 1,
        Some((_, m)) => return Err(at(m, "missing start of document")),
        None => return Err("missing start of document".into()),
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
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let mark = self.events.get(self.pos).map(|e| e.1);
            return Err(match mark {
                Some(m) => at(&m, "document is nested too deeply"),
                None => "document is nested too deeply".into(),
            });
        }
        let v = self.node_inner();
        self.depth -= 1;
        v
    }

    /// Adds `w` to the document's weight, failing beyond [`MAX_WEIGHT`].
    fn grow(&mut self, w: usize, mark: &Marker) -> Result<(), String> {
        self.weight = self.weight.saturating_add(w);
        if self.weight > MAX_WEIGHT {
            return Err(at(
                mark,
                format!(
                    "the document expands to more than {} MiB of values (through aliases)",
                    MAX_WEIGHT >> 20
                ),
            ));
        }
        Ok(())
    }

    fn node_inner(&mut self) -> Result<Value, String> {
        let start = self.weight;
        let (ev, mark) = self.next()?;
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let mut tag = short_tag(&tag);
                if tag.is_empty() && style != TScalarStyle::Plain {
                    tag = "!!str".into();
                }
                let v = resolve(&tag, &text).map_err(|e| at(&mark, e))?;
                self.grow(NODE + text.len(), &mark)?;
                if anchor > 0 {
                    self.anchors
                        .insert(anchor, (v.clone(), self.weight - start));
                }
                Ok(v)
            }
            Event::Alias(id) => {
                let w = self
                    .anchors
                    .get(&id)
                    .map(|a| a.1)
                    .ok_or_else(|| at(&mark, "reference to undefined anchor"))?;
                // Checked before the copy is made.
                self.grow(w, &mark)?;
                Ok(self.anchors.get(&id).map_or(Value::NULL, |a| a.0.clone()))
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = short_tag(&tag);
                if !tag.is_empty() && tag != "!!seq" {
                    return Err(at(
                        &mark,
                        format!("can't interpret sequence as {}", long_tag(&tag)),
                    ));
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
                self.grow(NODE, &mark)?;
                if anchor > 0 {
                    self.anchors
                        .insert(anchor, (v.clone(), self.weight - start));
                }
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                let tag = short_tag(&tag);
                if !tag.is_empty() && tag != "!!map" {
                    return Err(at(
                        &mark,
                        format!("can't interpret mapping as {}", long_tag(&tag)),
                    ));
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
                    if key == "<<" {
                        // A merge key (quoted or not, as go-yaml reads it): the
                        // mapping's entries are set in order, later ones win.
                        match v {
                            Value::Object(entries) => m.extend(entries),
                            other => {
                                return Err(at(
                                    &kmark,
                                    format!("cannot merge {} into mapping", merge_kind(&other)),
                                ));
                            }
                        }
                        continue;
                    }
                    m.insert(key, v);
                }
                let v = Value::Object(m);
                self.grow(NODE, &mark)?;
                if anchor > 0 {
                    self.anchors
                        .insert(anchor, (v.clone(), self.weight - start));
                }
                Ok(v)
            }
            Event::DocumentStart => Err(at(&mark, "only a single document is allowed")),
            _ => Err(at(&mark, "expecting value but found end of stream")),
        }
    }
}

/// The type word of go-cty-yaml's "cannot merge X into mapping".
fn merge_kind(v: &Value) -> &'static str {
    match v {
        Value::Tuple(_) => "tuple",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::String(_) => "string",
        _ => "dynamic",
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

/// A tag in the long form go-cty-yaml's messages use.
fn long_tag(tag: &str) -> String {
    match tag.strip_prefix("!!") {
        Some(rest) => format!("tag:yaml.org,2002:{rest}"),
        None => tag.to_string(),
    }
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
        return Err(format!("unsupported tag {}", quote_go(&long_tag(tag))));
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
                // YAML 1.2's core schema: `0x` hex and `0o` octal, unsigned,
                // lower-case prefix (`0b`, `0X`, `-0x1` stay strings).
                if let Some(r) = core_radix_int(src) {
                    return r.map(Value::Number).ok_or_else(|| {
                        format!("cannot parse {} as {}", quote_go(src), long_tag("!!int"))
                    });
                }
                // A lone sign is read as an integer and fails (observed in
                // Terraform and OpenTofu with go-cty-yaml 1.1).
                if tag.is_empty() && (src == "+" || src == "-") {
                    return Err(format!(
                        "cannot parse {} as {}",
                        quote_go(src),
                        long_tag("!!int")
                    ));
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
                .map_err(|_| {
                    format!(
                        "cannot parse {} as {}: not valid base64",
                        quote_go(src),
                        long_tag(tag)
                    )
                })
        }
        "!!bool" => bool_word(src)
            .map(Value::Bool)
            .ok_or_else(|| format!("cannot parse {} as {}", quote_go(src), long_tag(tag))),
        "!!int" | "!!float" => yaml_number(src)
            .or_else(|| radix_int(src))
            .map(Value::Number)
            .ok_or_else(|| format!("cannot parse {} as {}", quote_go(src), long_tag(tag))),
        "!!null" => Ok(Value::NULL),
        _ => timestamp(src)
            .map(Value::String)
            .ok_or_else(|| format!("cannot parse {} as {}", quote_go(src), long_tag(tag))),
    }
}

/// `0x[0-9a-fA-F]+` or `0o[0-7]+`: `None` when `src` is neither, `Some(None)`
/// when it is but does not fit an int64 (go-cty-yaml then fails).
fn core_radix_int(src: &str) -> Option<Option<Number>> {
    let (digits, radix) = if let Some(h) = src.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = src.strip_prefix("0o") {
        (o, 8)
    } else {
        return None;
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(
        i64::from_str_radix(digits, radix)
            .ok()
            .map(Number::from_i64),
    )
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

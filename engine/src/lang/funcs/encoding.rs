//! Encoding functions: jsonencode, jsondecode, base64encode, base64decode,
//! urlencode. JSON is written as Go's encoder writes it (sorted keys, `<`,
//! `>`, `&`, U+2028 and U+2029 escaped, numbers in plain decimal) and read
//! with numbers kept exact.

use super::util::{Table, fail, p, quote_go, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Number, Type, Value};
use base64::Engine as _;
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg(
        t,
        "jsonencode",
        vec![p("val", Type::Dynamic).nullable()],
        s(),
        jsonencode,
    );
    reg(
        t,
        "jsondecode",
        vec![p("str", s())],
        Type::Dynamic,
        jsondecode,
    );
    reg(t, "base64encode", vec![p("str", s())], s(), base64encode);
    reg(t, "base64decode", vec![p("str", s())], s(), base64decode);
    reg(t, "urlencode", vec![p("str", s())], s(), urlencode);
}

/// Appends `s` as a JSON string with Go's escaping.
pub(super) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `v` as compact JSON, as Terraform's `jsonencode` does.
pub(super) fn to_json(out: &mut String, v: &Value) {
    match v.unmarked() {
        Value::Null(_) | Value::Unknown(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => json_string(out, s),
        Value::List(_, items) | Value::Set(_, items) | Value::Tuple(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json(out, item);
            }
            out.push(']');
        }
        Value::Map(_, m) | Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k);
                out.push(':');
                to_json(out, item);
            }
            out.push('}');
        }
        Value::Sensitive(_) => out.push_str("null"),
    }
}

fn jsonencode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let mut out = String::new();
    to_json(&mut out, &args[0]);
    Ok(Value::String(out))
}

/// A JSON reader that keeps numbers exact and builds cty's implied types:
/// arrays become tuples and objects become objects.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        if self.i >= self.s.len() {
            "unexpected end of JSON input".into()
        } else {
            format!("{what} at offset {}", self.i)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 1000 {
            return Err("JSON nesting is too deep".into());
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("")),
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("invalid character, expected object key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("invalid character, expected ':'"));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    // A repeated key: the last one wins, as in Terraform.
                    m.insert(k, v);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return Err(self.err("invalid character after object value")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Tuple(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Tuple(items));
                        }
                        _ => return Err(self.err("invalid character after array element")),
                    }
                }
            }
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::NULL),
            Some(_) => self.number(),
        }
    }

    fn word(&mut self, w: &str, v: Value) -> Result<Value, String> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(self.err("invalid character in literal"))
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let b = r.i;
            while r.i < r.s.len() && r.s[r.i].is_ascii_digit() {
                r.i += 1;
            }
            r.i > b
        };
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.s.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(self.err("invalid character looking for beginning of value"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(self.err("invalid character after decimal point in numeric literal"));
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid character in exponent of numeric literal"));
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        text.parse::<Number>()
            .map(Value::Number)
            .map_err(|_| format!("invalid number {text}"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.err(""));
            };
            self.i += 1;
            match c {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err(""));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.err("invalid character in string escape code")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.err("invalid character in string literal")),
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|t| u32::from_str_radix(t, 16).ok())
            .ok_or_else(|| self.err("invalid character in \\u hexadecimal character escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.i = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }
}

/// Parses JSON text into a value of its implied type.
pub(super) fn from_json(src: &str) -> Result<Value, String> {
    let mut r = Reader {
        s: src.as_bytes(),
        i: 0,
    };
    let v = r.value(0)?;
    r.ws();
    if r.i < r.s.len() {
        return Err(r.err("invalid character after top-level value"));
    }
    Ok(v)
}

fn jsondecode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    // cty fails the call ("Error in function call"), not the argument.
    from_json(args[0].as_str().unwrap_or_default()).map_err(super::util::fail)
}

fn base64encode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let s = args[0].as_str().unwrap_or_default();
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
    ))
}

/// Go's `base64.StdEncoding`: padding required, line breaks ignored,
/// non-zero trailing bits accepted.
fn go_std_decode(s: &str) -> Option<Vec<u8>> {
    let cfg = base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true);
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let cleaned: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    engine.decode(cleaned.as_bytes()).ok()
}

fn base64decode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let s = args[0].as_str().unwrap_or_default();
    let bytes = go_std_decode(s)
        .ok_or_else(|| fail(format!("failed to decode base64 data {}", quote_go(s))))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| fail("the result of decoding the provided string is not valid UTF-8"))
}

fn urlencode(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let s = args[0].as_str().unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::{Type, Value};

    #[test]
    fn encoding_functions_match_terraform() {
        let t = Type::String;
        run(vec![
            (
                "jsonencode object sorts keys",
                "jsonencode",
                vec![obj(vec![
                    ("b", n("1")),
                    ("a", tup(vec![b(true), Value::NULL])),
                ])],
                ok(s(r#"{"a":[true,null],"b":1}"#)),
            ),
            (
                "jsonencode escapes html",
                "jsonencode",
                vec![s("<a href=\"x\">&</a>")],
                ok(s(r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#)),
            ),
            (
                "jsonencode control characters",
                "jsonencode",
                vec![s("a\tb\n\u{1}\u{8}\u{2028}")],
                ok(s(r#""a\tb\n\u0001\b\u2028""#)),
            ),
            (
                "jsonencode numbers plainly",
                "jsonencode",
                vec![tnums(&["1e21", "0.1", "-5"])],
                ok(s("[1000000000000000000000,0.1,-5]")),
            ),
            (
                "jsonencode null",
                "jsonencode",
                vec![Value::NULL],
                ok(s("null")),
            ),
            (
                "jsonencode set",
                "jsonencode",
                vec![st(t.clone(), vec![s("b"), s("a")])],
                ok(s(r#"["a","b"]"#)),
            ),
            (
                "jsondecode object and tuple",
                "jsondecode",
                vec![s(r#"{"a": [1, "x", false, null], "b": {}}"#)],
                ok(obj(vec![
                    ("a", tup(vec![n("1"), s("x"), b(false), Value::NULL])),
                    ("b", obj(vec![])),
                ])),
            ),
            (
                "jsondecode keeps big numbers exact",
                "jsondecode",
                vec![s("12345678901234567890.5")],
                ok(n("12345678901234567890.5")),
            ),
            (
                "jsondecode string escapes",
                "jsondecode",
                vec![s(r#""\u00e9\ud83d\ude00\n""#)],
                ok(s("é😀\n")),
            ),
            (
                "jsondecode null",
                "jsondecode",
                vec![s("null")],
                ok(Value::NULL),
            ),
            (
                "jsondecode trailing garbage",
                "jsondecode",
                vec![s("{} x")],
                err("invalid character after top-level value"),
            ),
            (
                "jsondecode empty",
                "jsondecode",
                vec![s("")],
                err("unexpected end of JSON input"),
            ),
            (
                "base64encode",
                "base64encode",
                vec![s("Hello World")],
                ok(s("SGVsbG8gV29ybGQ=")),
            ),
            (
                "base64decode",
                "base64decode",
                vec![s("SGVsbG8gV29ybGQ=")],
                ok(s("Hello World")),
            ),
            (
                "base64decode unpadded",
                "base64decode",
                vec![s("SGVsbG8")],
                err("failed to decode base64 data \"SGVsbG8\""),
            ),
            (
                "base64decode not utf-8",
                "base64decode",
                vec![s("/w==")],
                err("the result of decoding the provided string is not valid UTF-8"),
            ),
            (
                "base64decode redacts secrets",
                "base64decode",
                vec![s("pw!").mark_sensitive()],
                err("Invalid value for \"base64decode\" argument 1: the argument is sensitive"),
            ),
            (
                "urlencode",
                "urlencode",
                vec![s("Hello World!")],
                ok(s("Hello+World%21")),
            ),
            (
                "urlencode unicode and reserved",
                "urlencode",
                vec![s("é/?a=b~")],
                ok(s("%C3%A9%2F%3Fa%3Db~")),
            ),
        ]);
    }
}

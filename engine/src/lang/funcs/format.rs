//! `format` and `formatlist`: cty's printf-like verbs with its exact
//! grammar (`%` flags width precision `[n]` verb) and messages. Number
//! verbs reproduce Go's `big.Float`/`big.Int` formatting; see `gofmt`.

use super::encoding::{json_string, to_json};
use super::gofmt::{Spec, format_float, format_int, shortest_g};
use super::limits::{MAX_FORMAT_WIDTH, MAX_STRING_BYTES, check_string, string_too_long};
use super::util::{
    Table, arg_err, convert_message, fail, grapheme_len, list, p, quote_go, reg_var,
};
use super::{FuncCtx, FuncError};
use crate::value::convert::convert;
use crate::value::{Type, Value};
use unicode_segmentation::UnicodeSegmentation;

pub(super) fn register(t: &mut Table) {
    let args = || p("args", Type::Dynamic).nullable();
    reg_var(
        t,
        "format",
        vec![p("format", Type::String)],
        args(),
        Type::String,
        format,
    );
    reg_var(
        t,
        "formatlist",
        vec![p("format", Type::String)],
        args(),
        list(Type::String),
        formatlist,
    );
}

/// One parsed `%...` sequence.
#[derive(Default)]
struct Verb {
    raw: String,
    offset: usize,
    arg: usize,
    mode: char,
    spec: Spec,
}

/// A failure: either about an argument (index into the call's arguments)
/// or about the call.
enum FmtError {
    Arg(usize, String),
    Call(String),
}

fn format(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let f = args[0].as_str().unwrap_or_default();
    match format_values(f, &args[1..]) {
        Ok(s) => Ok(Value::String(s)),
        Err(FmtError::Arg(i, m)) => Err(arg_err(i, "args", m)),
        Err(FmtError::Call(m)) => Err(fail(m)),
    }
}

fn formatlist(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let f = args[0].as_str().unwrap_or_default();
    let rest = &args[1..];
    if rest.is_empty() {
        return match format_values(f, rest) {
            Ok(s) => Ok(Value::List(Type::String, vec![Value::String(s)])),
            Err(FmtError::Arg(i, m)) => Err(arg_err(i, "args", m)),
            Err(FmtError::Call(m)) => Err(fail(m)),
        };
    }
    // Sequences are iterated together; everything else repeats.
    let mut len: Option<(usize, usize)> = None;
    for (i, a) in rest.iter().enumerate() {
        if let Some(items) = a.as_seq().filter(|_| !a.is_null()) {
            match len {
                None => len = Some((items.len(), i)),
                Some((l, j)) if l != items.len() => {
                    return Err(arg_err(
                        i + 1,
                        "args",
                        format!(
                            "argument {} has length {}, which is inconsistent with argument {} of length {l}",
                            i + 1,
                            items.len(),
                            j + 1
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let n = len.map(|l| l.0).unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    let mut total = 0usize;
    for it in 0..n {
        let row: Vec<Value> = rest
            .iter()
            .map(|a| match a.as_seq() {
                Some(items) if !a.is_null() => items[it].clone(),
                _ => a.clone(),
            })
            .collect();
        match format_values(f, &row) {
            Ok(s) => {
                total = total.saturating_add(s.len());
                check_string(Some(total))?;
                out.push(Value::String(s));
            }
            Err(FmtError::Arg(_, m) | FmtError::Call(m)) => {
                return Err(fail(format!("error on format iteration {it}: {m}")));
            }
        }
    }
    Ok(Value::List(Type::String, out))
}

/// Formats `args` by `f`; the scanner follows cty's Ragel grammar.
fn format_values(f: &str, args: &[Value]) -> Result<String, FmtError> {
    let mut out = String::new();
    let b = f.as_bytes();
    let mut i = 0;
    let mut next_arg = 1;
    let mut highest = 0;
    while i < b.len() {
        if b[i] != b'%' {
            let c = f[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        if b.get(i + 1) == Some(&b'%') {
            out.push('%');
            i += 2;
            continue;
        }
        let start = i;
        let mut v = Verb {
            arg: next_arg,
            offset: start,
            ..Verb::default()
        };
        i += 1;
        // flags
        while let Some(&c) = b.get(i) {
            match c {
                b'0' => v.spec.zero = true,
                b'#' => v.spec.sharp = true,
                b'-' => v.spec.minus = true,
                b'+' => v.spec.plus = true,
                b' ' => v.spec.space = true,
                _ => break,
            }
            i += 1;
        }
        // width: a number without a leading zero
        if matches!(b.get(i), Some(b'1'..=b'9')) {
            let mut w = 0usize;
            while let Some(d @ b'0'..=b'9') = b.get(i) {
                w = w.saturating_mul(10).saturating_add((d - b'0') as usize);
                i += 1;
            }
            v.spec.width = Some(w);
        }
        // precision: '.' then any digits
        if b.get(i) == Some(&b'.') {
            i += 1;
            let mut pr = 0usize;
            while let Some(d @ b'0'..=b'9') = b.get(i) {
                pr = pr.saturating_mul(10).saturating_add((d - b'0') as usize);
                i += 1;
            }
            v.spec.prec = Some(pr);
        }
        // argument index
        if b.get(i) == Some(&b'[') {
            i += 1;
            if !matches!(b.get(i), Some(b'1'..=b'9')) {
                return Err(bad_char(f, i));
            }
            let mut n = 0usize;
            while let Some(d @ b'0'..=b'9') = b.get(i) {
                n = n.saturating_mul(10).saturating_add((d - b'0') as usize);
                i += 1;
            }
            if b.get(i) != Some(&b']') {
                return Err(bad_char(f, i));
            }
            i += 1;
            v.arg = n;
        }
        match b.get(i) {
            Some(c) if c.is_ascii_alphabetic() => {
                v.mode = *c as char;
                i += 1;
            }
            _ => return Err(bad_char(f, i)),
        }
        v.raw = f[start..i].to_string();
        highest = highest.max(v.arg);
        // Go's fmt refuses these too (%!(BADWIDTH)); padding is allocated.
        if v.spec
            .width
            .max(v.spec.prec)
            .is_some_and(|w| w > MAX_FORMAT_WIDTH)
        {
            return Err(FmtError::Call(format!(
                "the width or precision of {} at offset {start} is larger than {MAX_FORMAT_WIDTH}",
                quote_go(&v.raw)
            )));
        }
        append(&mut out, &v, args).map_err(FmtError::Call)?;
        if out.len() > MAX_STRING_BYTES {
            return Err(FmtError::Call(string_too_long(Some(out.len()))));
        }
        next_arg = v.arg + 1;
    }
    if highest < args.len() {
        let first_bad = highest + 1;
        return Err(FmtError::Arg(
            first_bad,
            if highest == 0 {
                "too many arguments; no verbs in format string".into()
            } else {
                format!("too many arguments; only {highest} used by format string")
            },
        ));
    }
    Ok(out)
}

/// The scanner's error for a character it cannot accept (or the end).
fn bad_char(f: &str, i: usize) -> FmtError {
    match f.get(i..).and_then(|r| r.chars().next()) {
        Some(c) => FmtError::Call(format!("unrecognized format character '{c}' at offset {i}")),
        None => FmtError::Call(format!("invalid format string starting at offset {i}")),
    }
}

fn append(out: &mut String, v: &Verb, args: &[Value]) -> Result<(), String> {
    let Some(arg) = v.arg.checked_sub(1).and_then(|i| args.get(i)) else {
        return Err(format!(
            "not enough arguments for {} at {}: need index {} but have {} total",
            quote_go(&v.raw),
            v.offset,
            v.arg,
            args.len()
        ));
    };
    let unsupported = |m: String| {
        format!(
            "unsupported value for {} at {}: {m}",
            quote_go(&v.raw),
            v.offset
        )
    };
    if v.mode != 'v' && arg.is_null() {
        return Err(unsupported("null value cannot be formatted".into()));
    }
    let to =
        |ty: Type| convert(arg.clone(), &ty).map_err(|_| unsupported(convert_message(arg, &ty)));
    match v.mode {
        'v' => {
            let text = match arg {
                Value::String(s) if !v.spec.sharp => s.clone(),
                Value::Number(n) if !v.spec.sharp => shortest_g(n),
                _ => {
                    let mut j = String::new();
                    to_json(&mut j, arg);
                    j
                }
            };
            out.push_str(&pad(v, text));
        }
        't' => {
            let b = to(Type::Bool)?;
            out.push_str(if b.as_bool() == Some(true) {
                "true"
            } else {
                "false"
            });
        }
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = to(Type::Number)?;
            let n = n
                .as_number()
                .cloned()
                .unwrap_or_else(crate::value::Number::zero);
            if !n.is_integer() {
                return Err(unsupported("an integer is required".into()));
            }
            out.push_str(&format_int(&n, v.mode, &v.spec));
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = to(Type::Number)?;
            let n = n
                .as_number()
                .cloned()
                .unwrap_or_else(crate::value::Number::zero);
            out.push_str(&format_float(&n, v.mode, &v.spec));
        }
        's' | 'q' => {
            let s = to(Type::String)?;
            let mut s = s.as_str().unwrap_or_default().to_string();
            if let Some(p) = v.spec.prec.filter(|p| *p > 0) {
                s = s.graphemes(true).take(p).collect();
            }
            if v.mode == 'q' {
                let mut j = String::new();
                json_string(&mut j, &s);
                s = j;
            }
            out.push_str(&pad(v, s));
        }
        other => {
            return Err(format!(
                "unsupported format verb '{other}' in {} at offset {}",
                quote_go(&v.raw),
                v.offset
            ));
        }
    }
    Ok(())
}

/// cty's own padding for strings and `%v`: widths count grapheme clusters,
/// and the zero flag pads with zeros even on the right.
fn pad(v: &Verb, text: String) -> String {
    let Some(w) = v.spec.width else {
        return text;
    };
    let len = grapheme_len(&text);
    if len >= w {
        return text;
    }
    let pads = (if v.spec.zero { "0" } else { " " }).repeat(w - len);
    if v.spec.minus {
        text + &pads
    } else {
        pads + &text
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;

//! String functions with Go's semantics (Terraform uses Go's `strings`
//! package): join, split, replace, trim*, substr, case mapping, title,
//! startswith, endswith, strcontains, chomp, indent, strrev. Lengths and
//! offsets count grapheme clusters, as Terraform does.

use super::limits::check_string;
use super::util::{Table, arg_err, fail, list, p, reg, reg_var, seq, string_list, whole};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use unicode_segmentation::UnicodeSegmentation;

pub(super) fn register(t: &mut Table) {
    let s = || Type::String;
    reg_var(
        t,
        "join",
        vec![p("separator", s())],
        p("lists", list(s())),
        s(),
        join,
    );
    reg(
        t,
        "split",
        vec![p("separator", s()), p("str", s())],
        list(s()),
        split,
    );
    reg(
        t,
        "replace",
        vec![p("str", s()), p("substr", s()), p("replace", s())],
        s(),
        replace,
    );
    reg(t, "trimspace", vec![p("str", s())], s(), trimspace);
    reg(t, "trim", vec![p("str", s()), p("cutset", s())], s(), trim);
    reg(
        t,
        "trimprefix",
        vec![p("str", s()), p("prefix", s())],
        s(),
        trimprefix,
    );
    reg(
        t,
        "trimsuffix",
        vec![p("str", s()), p("suffix", s())],
        s(),
        trimsuffix,
    );
    reg(
        t,
        "substr",
        vec![
            p("str", s()),
            p("offset", Type::Number),
            p("length", Type::Number),
        ],
        s(),
        substr,
    );
    reg(t, "lower", vec![p("str", s())], s(), lower);
    reg(t, "upper", vec![p("str", s())], s(), upper);
    reg(t, "title", vec![p("str", s())], s(), title);
    reg(
        t,
        "startswith",
        vec![p("str", s()), p("prefix", s())],
        Type::Bool,
        startswith,
    );
    reg(
        t,
        "endswith",
        vec![p("str", s()), p("suffix", s())],
        Type::Bool,
        endswith,
    );
    reg(
        t,
        "strcontains",
        vec![p("str", s()), p("substr", s())],
        Type::Bool,
        strcontains,
    );
    reg(t, "chomp", vec![p("str", s())], s(), chomp);
    reg(
        t,
        "indent",
        vec![p("spaces", Type::Number), p("str", s())],
        s(),
        indent,
    );
    reg(t, "strrev", vec![p("str", s())], s(), strrev);
}

/// The string arguments (the caller converted them already).
fn strs(args: &[Value]) -> Vec<&str> {
    args.iter()
        .map(|a| a.as_str().unwrap_or_default())
        .collect()
}

fn string(s: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(s.into()))
}

fn join(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let sep = args[0].as_str().unwrap_or_default();
    let lists = &args[1..];
    if lists.is_empty() {
        return Err(fail("at least one list is required"));
    }
    let mut parts = Vec::new();
    for (j, l) in lists.iter().enumerate() {
        for (i, v) in seq(l).iter().enumerate() {
            match v.as_str() {
                Some(s) => parts.push(s),
                None if lists.len() > 1 => {
                    return Err(arg_err(
                        j + 1,
                        "lists",
                        format!(
                            "element {i} of list {} is null; cannot concatenate null values",
                            j + 1
                        ),
                    ));
                }
                None => {
                    return Err(arg_err(
                        j + 1,
                        "lists",
                        format!("element {i} is null; cannot concatenate null values"),
                    ));
                }
            }
        }
    }
    let seps = parts.len().saturating_sub(1).checked_mul(sep.len());
    let total = parts
        .iter()
        .try_fold(0usize, |acc, p| acc.checked_add(p.len()));
    check_string(total.zip(seps).and_then(|(t, s)| t.checked_add(s)))?;
    string(parts.join(sep))
}

fn split(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    let (sep, s) = (a[0], a[1]);
    let parts: Vec<String> = if sep.is_empty() {
        // Go splits into single characters (none for an empty string).
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(String::from).collect()
    };
    Ok(string_list(parts))
}

fn replace(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    let (s, sub, rep) = (a[0], a[1], a[2]);
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = super::regexes::compile(&sub[1..sub.len() - 1]).map_err(fail)?;
        return regex_replace(&re, s, rep);
    }
    // Go and Rust put an empty `sub` before every character and at the end.
    let hits = if sub.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(sub).count()
    };
    let kept = s.len() - hits * sub.len();
    check_string(
        hits.checked_mul(rep.len())
            .and_then(|r| r.checked_add(kept)),
    )?;
    string(s.replace(sub, rep))
}

/// `Regex::replace_all`, checking the result's size as it grows (`$1` in
/// `rep` makes it depend on every match).
fn regex_replace(re: &regex::Regex, s: &str, rep: &str) -> Result<Value, FuncError> {
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        caps.expand(rep, &mut out);
        last = m.end();
        check_string(out.len().checked_add(s.len() - last))?;
    }
    out.push_str(&s[last..]);
    string(out)
}

fn trimspace(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    string(strs(&args)[0].trim())
}

fn trim(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    let cut: Vec<char> = a[1].chars().collect();
    string(a[0].trim_matches(|c| cut.contains(&c)))
}

fn trimprefix(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    string(a[0].strip_prefix(a[1]).unwrap_or(a[0]))
}

fn trimsuffix(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    string(a[0].strip_suffix(a[1]).unwrap_or(a[0]))
}

fn substr(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let s = args[0].as_str().unwrap_or_default();
    // gocty's int conversion fails the call, a fraction with its range.
    let int = |v: &Value| {
        whole(v).map_err(|_| {
            fail("value must be a whole number, between -9223372036854775808 and 9223372036854775807")
        })
    };
    let mut offset = int(&args[1])?;
    let length = int(&args[2])?;
    let gs: Vec<&str> = s.graphemes(true).collect();
    let total = gs.len() as i64;
    // A port of cty's algorithm, quirks included: a negative offset counts
    // from the end (and clamps at the start), and length 0 after a negative
    // offset takes the rest of the string.
    if offset < 0 {
        offset += total;
    } else if length == 0 {
        return string("");
    }
    let start = if offset > 0 {
        if offset > total {
            return string("");
        }
        offset as usize
    } else {
        0
    };
    let rest = &gs[start..];
    let take = if length <= 0 {
        rest.len()
    } else {
        (length as usize).min(rest.len())
    };
    string(rest[..take].concat())
}

/// Go's `unicode.ToUpper`: one character to one character (ß stays ß).
fn upper_char(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: one character to one character.
fn lower_char(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `unicode.ToTitle`: the upper case, except for the digraphs that
/// have a distinct title case.
fn title_char(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        c => upper_char(c),
    }
}

fn lower(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    string(strs(&args)[0].chars().map(lower_char).collect::<String>())
}

fn upper(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    string(strs(&args)[0].chars().map(upper_char).collect::<String>())
}

/// Go's `strings.Title` word-boundary rule.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    c.is_whitespace()
}

fn title(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let mut prev = ' ';
    let out: String = strs(&args)[0]
        .chars()
        .map(|c| {
            let o = if is_separator(prev) { title_char(c) } else { c };
            prev = c;
            o
        })
        .collect();
    string(out)
}

fn startswith(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    Ok(Value::Bool(a[0].starts_with(a[1])))
}

fn endswith(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    Ok(Value::Bool(a[0].ends_with(a[1])))
}

fn strcontains(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let a = strs(&args);
    Ok(Value::Bool(a[0].contains(a[1])))
}

fn chomp(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    string(strs(&args)[0].trim_end_matches(['\r', '\n']))
}

fn indent(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let n = whole(&args[0]).map_err(|e| arg_err(0, "spaces", e))?;
    let s = args[1].as_str().unwrap_or_default();
    // Go's strings.Repeat panics on a negative count, and Terraform fails
    // the call ("Error in function call"), with or without newlines.
    if n < 0 {
        return Err(super::util::fail(
            "the number of spaces must not be negative (Go: strings: negative Repeat count)",
        ));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let lines = s.matches('\n').count();
    check_string(lines.checked_mul(n).and_then(|p| p.checked_add(s.len())))?;
    let pad = " ".repeat(if lines == 0 { 0 } else { n });
    string(s.replace('\n', &format!("\n{pad}")))
}

fn strrev(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    string(strs(&args)[0].graphemes(true).rev().collect::<String>())
}

#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;

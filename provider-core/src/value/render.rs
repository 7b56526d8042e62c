//! Renders values as `terraform console` shows them.

use super::Value;

/// Renders `v` as `terraform console` prints it: quoted strings, `tolist([...])`,
/// `toset([...])`, `tomap({...})`, multi-line strings as heredocs,
/// `(sensitive value)` and `(known after apply)`.
///
/// ```
/// use posture_provider_core::value::{render, Value};
/// assert_eq!(render(&Value::from("a\"b")), r#""a\"b""#);
/// ```
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n * 2));
}

/// Quotes a string with HCL escapes, including `$${` and `%%{`.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                q.push(c);
                q.push(c);
            }
            c if (c as u32) < 0x20 => q.push_str(&format!("\\u{:04x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null(_) => out.push_str("null"),
        Value::Unknown(_) => out.push_str("(known after apply)"),
        Value::Sensitive(_) => out.push_str("(sensitive value)"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            if s.contains('\n') && depth == 0 {
                out.push_str("<<EOT\n");
                out.push_str(s);
                if !s.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("EOT");
            } else {
                out.push_str(&quote(s));
            }
        }
        Value::List(_, items) => write_seq(out, "tolist(", items, ")", depth),
        Value::Set(_, items) => write_seq(out, "toset(", items, ")", depth),
        Value::Tuple(items) => write_seq(out, "", items, "", depth),
        Value::Map(_, m) => write_map(out, "tomap(", m, ")", depth),
        Value::Object(m) => write_map(out, "", m, "", depth),
    }
}

fn write_seq(out: &mut String, open: &str, items: &[Value], close: &str, depth: usize) {
    out.push_str(open);
    if items.is_empty() {
        out.push_str("[]");
    } else {
        out.push_str("[\n");
        for item in items {
            indent(out, depth + 1);
            write_value(out, item, depth + 1);
            out.push_str(",\n");
        }
        indent(out, depth);
        out.push(']');
    }
    out.push_str(close);
}

fn write_map(
    out: &mut String,
    open: &str,
    m: &std::collections::BTreeMap<String, Value>,
    close: &str,
    depth: usize,
) {
    out.push_str(open);
    if m.is_empty() {
        out.push_str("{}");
    } else {
        out.push_str("{\n");
        let width = m
            .keys()
            .map(|k| quote(k).chars().count())
            .max()
            .unwrap_or(0);
        for (k, item) in m {
            indent(out, depth + 1);
            let q = quote(k);
            let pad = width - q.chars().count();
            out.push_str(&q);
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(" = ");
            write_value(out, item, depth + 1);
            out.push('\n');
        }
        indent(out, depth);
        out.push('}');
    }
    out.push_str(close);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Type;
    use std::collections::BTreeMap;

    #[test]
    fn renders_like_terraform_console() {
        let obj = Value::Object(BTreeMap::from([
            ("a".to_string(), Value::from(1)),
            ("bb".to_string(), Value::list_of(vec![Value::from("x")])),
            ("s".to_string(), Value::from("p").mark_sensitive()),
        ]));
        assert_eq!(
            render(&obj),
            "{\n  \"a\"  = 1\n  \"bb\" = tolist([\n    \"x\",\n  ])\n  \"s\"  = (sensitive value)\n}"
        );
        assert_eq!(render(&Value::set_of(Type::String, vec![])), "toset([])");
        assert_eq!(render(&Value::from("${x}")), "\"$${x}\"");
    }
}

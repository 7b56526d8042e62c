//! `csvdecode`: RFC 4180 CSV as Go's `encoding/csv` reads it (quoted fields
//! with doubled quotes, blank lines skipped, every row as wide as the
//! header), giving a list of objects whose attributes are the header names.

use super::util::{Table, fail, list, p, quote_go, reg};
use super::{FuncCtx, FuncError};
use crate::value::{Type, Value};
use std::collections::BTreeMap;

pub(super) fn register(t: &mut Table) {
    reg(
        t,
        "csvdecode",
        vec![p("str", Type::String)],
        list(Type::Dynamic),
        csvdecode,
    );
}

/// Reads records; errors name the line as Go's reader does.
fn records(src: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < c.len() {
        // Blank lines are skipped.
        if c[i] == '\n' || (c[i] == '\r' && c.get(i + 1) == Some(&'\n')) {
            i += if c[i] == '\r' { 2 } else { 1 };
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if c.get(i) == Some(&'"') {
                i += 1;
                loop {
                    match c.get(i) {
                        None => {
                            return Err(format!(
                                "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
                            ));
                        }
                        Some('"') if c.get(i + 1) == Some(&'"') => {
                            field.push('"');
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\r') if c.get(i + 1) == Some(&'\n') => {
                            field.push('\n');
                            i += 2;
                            line += 1;
                        }
                        Some(ch) => {
                            if *ch == '\n' {
                                line += 1;
                            }
                            field.push(*ch);
                            i += 1;
                        }
                    }
                }
                match c.get(i) {
                    None | Some(',') | Some('\n') => {}
                    Some('\r') if matches!(c.get(i + 1), Some('\n') | None) => {}
                    Some(_) => {
                        return Err(format!(
                            "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
                        ));
                    }
                }
            } else {
                while let Some(&ch) = c.get(i) {
                    if ch == ','
                        || ch == '\n'
                        || (ch == '\r' && matches!(c.get(i + 1), Some('\n') | None))
                    {
                        break;
                    }
                    if ch == '"' {
                        return Err(format!(
                            "CSV parse error on line {line}: bare \" in non-quoted-field"
                        ));
                    }
                    field.push(ch);
                    i += 1;
                }
            }
            fields.push(field);
            match c.get(i) {
                Some(',') => i += 1,
                Some('\r') => {
                    i += if c.get(i + 1) == Some(&'\n') { 2 } else { 1 };
                    line += 1;
                    break;
                }
                Some('\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        out.push((start_line, fields));
    }
    Ok(out)
}

fn csvdecode(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let rows = records(a[0].as_str().unwrap_or_default()).map_err(fail)?;
    let mut rows = rows.into_iter();
    let Some((_, headers)) = rows.next() else {
        return Err(fail("missing header line"));
    };
    let mut ty = BTreeMap::new();
    for h in &headers {
        if ty.insert(h.clone(), Type::String).is_some() {
            return Err(fail(format!("duplicate column name {}", quote_go(h))));
        }
    }
    let mut out = Vec::new();
    for (line, cols) in rows {
        if cols.len() != headers.len() {
            return Err(fail(format!(
                "CSV parse error on line {line}: wrong number of fields"
            )));
        }
        let obj: BTreeMap<String, Value> = headers
            .iter()
            .cloned()
            .zip(cols.into_iter().map(Value::String))
            .collect();
        out.push(Value::Object(obj));
    }
    Ok(Value::List(Type::Object(ty), out))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::{Type, Value};
    use std::collections::BTreeMap;

    #[test]
    fn csvdecode_matches_terraform() {
        let row_ty = Type::Object(BTreeMap::from([
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::String),
        ]));
        run(vec![
            (
                "rows become objects",
                "csvdecode",
                vec![s("a,b\n1,2\n\"x,\"\"y\"\"\",\n")],
                ok(lst(
                    row_ty.clone(),
                    vec![
                        obj(vec![("a", s("1")), ("b", s("2"))]),
                        obj(vec![("a", s("x,\"y\"")), ("b", s(""))]),
                    ],
                )),
            ),
            (
                "header only",
                "csvdecode",
                vec![s("a,b\n")],
                ok(Value::List(row_ty.clone(), vec![])),
            ),
            (
                "blank lines and CRLF",
                "csvdecode",
                vec![s("a,b\r\n\r\n1,2\r\n")],
                ok(lst(
                    row_ty.clone(),
                    vec![obj(vec![("a", s("1")), ("b", s("2"))])],
                )),
            ),
            (
                "wrong width",
                "csvdecode",
                vec![s("a,b\n1\n")],
                err("CSV parse error on line 2: wrong number of fields"),
            ),
            (
                "bare quote",
                "csvdecode",
                vec![s("a,b\n1,x\"y\n")],
                err("CSV parse error on line 2: bare \" in non-quoted-field"),
            ),
            (
                "empty",
                "csvdecode",
                vec![s("")],
                err("missing header line"),
            ),
            (
                "duplicate header",
                "csvdecode",
                vec![s("a,a\n")],
                err("duplicate column name \"a\""),
            ),
        ]);
    }
}

//! Small helpers shared by the function files: registration shorthands,
//! Terraform-worded errors, integer arguments and Go-compatible quoting.
//! Nothing here knows about any one function.

use super::{FuncError, FuncImpl, Function, Param};
use crate::value::{Number, Type, Value};
use std::collections::BTreeMap;
use unicode_segmentation::UnicodeSegmentation;

/// The registration table every file adds to.
pub(super) type Table = BTreeMap<&'static str, Function>;

/// Registers a function with fixed parameters.
pub(super) fn reg(t: &mut Table, name: &'static str, params: Vec<Param>, ret: Type, imp: FuncImpl) {
    t.insert(name, Function::new(params, None, ret, imp));
}

/// Registers a function with a repeated trailing parameter.
pub(super) fn reg_var(
    t: &mut Table,
    name: &'static str,
    params: Vec<Param>,
    variadic: Param,
    ret: Type,
    imp: FuncImpl,
) {
    t.insert(name, Function::new(params, Some(variadic), ret, imp));
}

/// Lets these functions see nested unknown values (see
/// [`Function::deep_unknowns`]); each handles them itself.
pub(super) fn shallow_unknowns(t: &mut Table, names: &[&str]) {
    for n in names {
        if let Some(f) = t.get_mut(*n) {
            f.deep_unknowns = false;
        }
    }
}

/// Keeps marks on elements inside these functions' arguments (see
/// [`Function::shallow_marks`]); each copes with marked elements.
pub(super) fn shallow_marks(t: &mut Table, names: &[&str]) {
    for n in names {
        if let Some(f) = t.get_mut(*n) {
            f.shallow_marks = true;
        }
    }
}

/// Shorthand for [`Param::new`].
pub(super) const fn p(name: &'static str, ty: Type) -> Param {
    Param::new(name, ty)
}

/// `list(t)`
pub(super) fn list(t: Type) -> Type {
    Type::List(Box::new(t))
}

/// `set(t)`
pub(super) fn set(t: Type) -> Type {
    Type::Set(Box::new(t))
}

/// `map(t)`
pub(super) fn map(t: Type) -> Type {
    Type::Map(Box::new(t))
}

/// An error about argument `i` named `param`, worded as Terraform shows it:
/// `Invalid value for "list" parameter: <msg>.`
pub(super) fn arg_err(i: usize, param: &str, msg: impl AsRef<str>) -> FuncError {
    FuncError::arg(
        i,
        format!("Invalid value for \"{param}\" parameter: {}.", msg.as_ref()),
    )
}

/// A failure of the call as a whole (Terraform: `Call to function "x" failed: <msg>.`).
pub(super) fn fail(msg: impl Into<String>) -> FuncError {
    FuncError::new(msg)
}

/// A number value from an integer.
pub(super) fn num(i: i64) -> Value {
    Value::Number(Number::from_i64(i))
}

/// A list of strings.
pub(super) fn string_list<I: IntoIterator<Item = String>>(items: I) -> Value {
    Value::List(Type::String, items.into_iter().map(Value::String).collect())
}

/// The argument as a whole number, with gocty's error wording.
pub(super) fn whole(v: &Value) -> Result<i64, String> {
    let n = v
        .as_number()
        .ok_or_else(|| "a number is required".to_string())?;
    if !n.is_integer() {
        return Err("value must be a whole number".into());
    }
    n.to_i64().ok_or_else(|| {
        "value must be a whole number, between -9223372036854775808 and 9223372036854775807"
            .to_string()
    })
}

/// The number of grapheme clusters in `s` (Terraform counts characters this way).
pub(super) fn grapheme_len(s: &str) -> usize {
    s.graphemes(true).count()
}

/// Quotes a string as Go's `%q` does (Terraform puts values in messages this way).
pub(super) fn quote_go(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Items of a list, set or tuple (the caller checked the kind).
pub(super) fn seq(v: &Value) -> &[Value] {
    v.as_seq().unwrap_or(&[])
}

/// Whether `v` is a list, set or tuple.
pub(super) fn is_seq(v: &Value) -> bool {
    matches!(
        v.unmarked(),
        Value::List(..) | Value::Set(..) | Value::Tuple(_)
    )
}

/// cty's `Value.Equals` on known values: false across different types.
pub(super) fn equal(a: &Value, b: &Value) -> bool {
    crate::value::raw_equal(a, b)
}

/// A message for a failed conversion of `v` to `ty`, as cty words it.
pub(super) fn convert_message(v: &Value, ty: &Type) -> String {
    match (v.unmarked(), ty) {
        (Value::String(_), Type::Number) => "a number is required".into(),
        (Value::String(_), Type::Bool) => "a bool is required".into(),
        (_, Type::Number) => "number required".into(),
        (_, Type::Bool) => "bool required".into(),
        (_, Type::String) => "string required".into(),
        (_, t) => format!("{} required", t.friendly_name()),
    }
}

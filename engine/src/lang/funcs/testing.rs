//! Table-driven test support for the function files: value constructors
//! and a runner that checks each case's value (with its type) or error.

use super::{FuncCtx, NoTemplates, call};
use crate::value::{Type, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// What a case expects.
pub enum Want {
    /// This exact value, type included.
    Val(Value),
    /// An error whose message contains this text.
    Err(&'static str),
}

/// One row of a table: a label, the function, its arguments, the expectation.
pub type Case = (&'static str, &'static str, Vec<Value>, Want);

/// Runs every case, reporting all failures at once.
pub fn run(cases: Vec<Case>) {
    run_in(Path::new("."), cases);
}

/// Runs every case with `base` as the module directory.
pub fn run_in(base: &Path, cases: Vec<Case>) {
    let ctx = FuncCtx {
        base_dir: base,
        templates: &NoTemplates,
    };
    let mut failures = Vec::new();
    for (label, func, args, want) in cases {
        let got = call(&ctx, func, args);
        match (&got, &want) {
            (Ok(v), Want::Val(w)) if v == w => {}
            (Err(e), Want::Err(w)) if e.message.contains(w) => {}
            _ => failures.push(format!(
                "{label}: {func}(..)\n   got: {}\n  want: {}",
                describe(&got),
                match &want {
                    Want::Val(w) => format!("{w:?}"),
                    Want::Err(w) => format!("error containing {w:?}"),
                }
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn describe(r: &Result<Value, super::FuncError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error {:?}", e.message),
    }
}

/// A string.
pub fn s(x: &str) -> Value {
    Value::from(x)
}

/// A number from its decimal text.
pub fn n(x: &str) -> Value {
    Value::Number(x.parse().expect("test number literal"))
}

/// A bool.
pub fn b(x: bool) -> Value {
    Value::Bool(x)
}

/// A tuple (what `[...]` gives in HCL).
pub fn tup(items: Vec<Value>) -> Value {
    Value::Tuple(items)
}

/// A list of the given element type.
pub fn lst(et: Type, items: Vec<Value>) -> Value {
    Value::List(et, items)
}

/// A set of the given element type.
pub fn st(et: Type, items: Vec<Value>) -> Value {
    Value::set_of(et, items)
}

/// An object (what `{...}` gives in HCL).
pub fn obj(items: Vec<(&str, Value)>) -> Value {
    Value::Object(
        items
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A map of the given element type.
pub fn mp(et: Type, items: Vec<(&str, Value)>) -> Value {
    Value::Map(
        et,
        items
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A list of strings.
pub fn strs(items: &[&str]) -> Value {
    Value::List(Type::String, items.iter().map(|x| s(x)).collect())
}

/// A tuple of strings.
pub fn tstrs(items: &[&str]) -> Value {
    Value::Tuple(items.iter().map(|x| s(x)).collect())
}

/// A list of numbers.
pub fn nums(items: &[&str]) -> Value {
    Value::List(Type::Number, items.iter().map(|x| n(x)).collect())
}

/// A tuple of numbers.
pub fn tnums(items: &[&str]) -> Value {
    Value::Tuple(items.iter().map(|x| n(x)).collect())
}

/// `list(t)`
pub fn lt(t: Type) -> Type {
    Type::List(Box::new(t))
}

/// Expect this value.
pub fn ok(v: Value) -> Want {
    Want::Val(v)
}

/// Expect an error containing this text.
pub fn err(m: &'static str) -> Want {
    Want::Err(m)
}

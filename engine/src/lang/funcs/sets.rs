//! Set functions: setunion, setintersection, setsubtract, setproduct.
//! Arguments convert to sets first, element types unify across arguments
//! (so strings and numbers meet as strings), and results are sets.

use super::util::{Table, arg_err, equal, fail, p, reg, reg_var, set};
use super::{FuncCtx, FuncError};
use crate::value::convert::{convert, unify};
use crate::value::{Type, Value};

pub(super) fn register(t: &mut Table) {
    let sd = || set(Type::Dynamic);
    reg_var(
        t,
        "setunion",
        vec![p("first_set", sd())],
        p("other_sets", sd()),
        sd(),
        setunion,
    );
    reg_var(
        t,
        "setintersection",
        vec![p("first_set", sd())],
        p("other_sets", sd()),
        sd(),
        setintersection,
    );
    reg(
        t,
        "setsubtract",
        vec![p("a", sd()), p("b", sd())],
        sd(),
        setsubtract,
    );
    reg_var(
        t,
        "setproduct",
        vec![],
        p("sets", Type::Dynamic),
        Type::Dynamic,
        setproduct,
    );
    super::util::shallow_marks(t, &["setproduct"]);
}

/// Converts every set to the unified element type; empty sets of unknown
/// element type do not take part in the unification.
fn unified(args: Vec<Value>) -> Result<(Type, Vec<Vec<Value>>), FuncError> {
    let types: Vec<Type> = args
        .iter()
        .filter_map(|a| match a {
            Value::Set(et, items) if items.is_empty() && *et == Type::Dynamic => None,
            Value::Set(et, _) => Some(et.clone()),
            _ => None,
        })
        .collect();
    if types.is_empty() {
        return Ok((
            Type::Dynamic,
            args.into_iter().map(|_| Vec::new()).collect(),
        ));
    }
    let et =
        unify(&types).ok_or_else(|| fail("given sets must all have compatible element types"))?;
    let st = set(et.clone());
    let mut out = Vec::new();
    for a in args {
        match convert(a, &st).map_err(|e| fail(e.to_string()))? {
            Value::Set(_, items) => out.push(items),
            _ => out.push(Vec::new()),
        }
    }
    Ok((et, out))
}

fn setunion(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (et, sets) = unified(args)?;
    Ok(Value::set_of(et, sets.into_iter().flatten().collect()))
}

fn setintersection(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (et, mut sets) = unified(args)?;
    let first = if sets.is_empty() {
        Vec::new()
    } else {
        sets.remove(0)
    };
    let kept = first
        .into_iter()
        .filter(|v| sets.iter().all(|s| s.iter().any(|o| equal(o, v))))
        .collect();
    Ok(Value::set_of(et, kept))
}

fn setsubtract(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (et, sets) = unified(args)?;
    let mut it = sets.into_iter();
    let (a, b) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
    let kept = a
        .into_iter()
        .filter(|v| !b.iter().any(|o| equal(o, v)))
        .collect();
    Ok(Value::set_of(et, kept))
}

fn setproduct(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if args.len() < 2 {
        return Err(fail("at least two arguments are required"));
    }
    let mut all_lists = true;
    let mut elem_types = Vec::new();
    let mut columns = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        match a {
            Value::Set(et, items) => {
                all_lists = false;
                elem_types.push(et);
                columns.push(items);
            }
            Value::List(et, items) => {
                elem_types.push(et);
                columns.push(items);
            }
            Value::Tuple(items) => {
                let types: Vec<Type> = items.iter().map(Value::ty).collect();
                let et = unify(&types)
                    .ok_or_else(|| arg_err(i, "sets", "all elements must be of the same type"))?;
                let mut conv = Vec::new();
                for item in items {
                    conv.push(convert(item, &et).map_err(|e| fail(e.to_string()))?);
                }
                elem_types.push(et);
                columns.push(conv);
            }
            _ => return Err(arg_err(i, "sets", "a set or a list is required")),
        }
    }
    let product = columns
        .iter()
        .try_fold(1usize, |acc, c| acc.checked_mul(c.len()));
    super::limits::check_elements(product)?;
    let tuple_ty = Type::Tuple(elem_types);
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for col in &columns {
        let mut next = Vec::with_capacity(rows.len() * col.len());
        for row in &rows {
            for v in col {
                let mut r = row.clone();
                r.push(v.clone());
                next.push(r);
            }
        }
        rows = next;
    }
    let tuples = rows.into_iter().map(Value::Tuple).collect();
    Ok(if all_lists {
        Value::List(tuple_ty, tuples)
    } else {
        Value::set_of(tuple_ty, tuples)
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::Type;

    #[test]
    fn set_functions_match_terraform() {
        let t = Type::String;
        let pair = Type::Tuple(vec![Type::String, Type::String]);
        run(vec![
            (
                "setunion",
                "setunion",
                vec![tstrs(&["a", "b"]), tstrs(&["b", "c"])],
                ok(st(t.clone(), vec![s("a"), s("b"), s("c")])),
            ),
            (
                "setunion mixed types meet at string",
                "setunion",
                vec![tstrs(&["a"]), tnums(&["1"])],
                ok(st(t.clone(), vec![s("1"), s("a")])),
            ),
            (
                "setunion with empty",
                "setunion",
                vec![tup(vec![]), tstrs(&["x"])],
                ok(st(t.clone(), vec![s("x")])),
            ),
            (
                "setintersection",
                "setintersection",
                vec![tstrs(&["a", "b"]), tstrs(&["b", "c"]), tstrs(&["b", "d"])],
                ok(st(t.clone(), vec![s("b")])),
            ),
            (
                "setsubtract",
                "setsubtract",
                vec![tstrs(&["a", "b", "c"]), tstrs(&["a", "c"])],
                ok(st(t.clone(), vec![s("b")])),
            ),
            (
                "setsubtract incompatible",
                "setsubtract",
                vec![tstrs(&["a"]), tup(vec![tstrs(&["x"])])],
                err("compatible element types"),
            ),
            (
                "setproduct of lists is a list",
                "setproduct",
                vec![tstrs(&["a", "b"]), tstrs(&["x", "y"])],
                ok(lst(
                    pair.clone(),
                    vec![
                        tstrs(&["a", "x"]),
                        tstrs(&["a", "y"]),
                        tstrs(&["b", "x"]),
                        tstrs(&["b", "y"]),
                    ],
                )),
            ),
            (
                "setproduct with a set is a set",
                "setproduct",
                vec![st(t.clone(), vec![s("a")]), tstrs(&["x"])],
                ok(st(pair.clone(), vec![tstrs(&["a", "x"])])),
            ),
            (
                "setproduct needs two",
                "setproduct",
                vec![tstrs(&["a"])],
                err("at least two arguments are required"),
            ),
            (
                "setproduct with empty",
                "setproduct",
                vec![tstrs(&["a"]), strs(&[])],
                ok(lst(pair.clone(), vec![])),
            ),
        ]);
    }
}

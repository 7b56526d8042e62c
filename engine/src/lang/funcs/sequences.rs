//! Sequence functions: concat, flatten, distinct, slice, reverse, sort,
//! range, chunklist. Result types follow cty: lists stay lists, tuples
//! stay tuples, and `flatten` always gives a tuple.

use super::util::{Table, arg_err, fail, list, p, reg, reg_var, seq, whole};
use super::{FuncCtx, FuncError};
use crate::value::convert::{convert, unify};
use crate::value::{Number, Type, Value};

pub(super) fn register(t: &mut Table) {
    let dy = || Type::Dynamic;
    reg_var(t, "concat", vec![], p("seqs", dy()), dy(), concat);
    reg(t, "flatten", vec![p("list", dy())], dy(), flatten);
    reg(t, "distinct", vec![p("list", list(dy()))], dy(), distinct);
    reg(
        t,
        "slice",
        vec![
            p("list", dy()),
            p("start_index", Type::Number),
            p("end_index", Type::Number),
        ],
        dy(),
        slice,
    );
    reg(t, "reverse", vec![p("list", dy())], dy(), reverse);
    reg(
        t,
        "sort",
        vec![p("list", list(Type::String))],
        list(Type::String),
        sort,
    );
    reg_var(
        t,
        "range",
        vec![],
        p("params", Type::Number),
        list(Type::Number),
        range,
    );
    reg(
        t,
        "chunklist",
        vec![p("list", list(dy())), p("size", Type::Number)],
        dy(),
        chunklist,
    );
    let keeps_shape = ["concat", "flatten", "slice", "reverse", "chunklist"];
    super::util::shallow_unknowns(t, &keeps_shape);
    super::util::shallow_marks(t, &keeps_shape);
}

fn concat(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err(fail("at least one argument is required"));
    }
    // All lists with a common element type: the result is a list.
    if args.iter().all(|a| matches!(a, Value::List(..))) {
        let types: Vec<Type> = args.iter().map(Value::ty).collect();
        if let Some(Type::List(et)) = unify(&types) {
            let mut out = Vec::new();
            for a in args {
                if let Value::List(_, items) = a {
                    for item in items {
                        out.push(convert(item, &et).map_err(|e| fail(e.to_string()))?);
                    }
                }
            }
            return Ok(Value::List(*et, out));
        }
    }
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        match a {
            Value::List(_, items) | Value::Tuple(items) => out.extend(items),
            other => {
                return Err(arg_err(
                    i,
                    "seqs",
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        other.ty().friendly_name()
                    ),
                ));
            }
        }
    }
    Ok(Value::Tuple(out))
}

fn flatten(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    /// Flattens into `out`; true when a flattened sequence was marked (its
    /// mark then applies to the whole result, as in cty).
    fn walk(items: Vec<Value>, out: &mut Vec<Value>) -> bool {
        let mut marked = false;
        for v in items {
            let (inner, m) = if super::util::is_seq(&v) {
                v.unmark()
            } else {
                (v, false)
            };
            match inner {
                Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => {
                    marked |= m | walk(i, out);
                }
                v => out.push(v),
            }
        }
        marked
    }
    fn unknown_seq(v: &Value) -> bool {
        match v.unmarked() {
            Value::Unknown(t) => matches!(
                t,
                Type::List(_) | Type::Set(_) | Type::Tuple(_) | Type::Dynamic
            ),
            Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => i.iter().any(unknown_seq),
            _ => false,
        }
    }
    if unknown_seq(&args[0]) {
        // The number of flattened elements is not known yet.
        return Ok(Value::Unknown(Type::Dynamic));
    }
    match args.into_iter().next() {
        Some(Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i)) => {
            let mut out = Vec::new();
            let marked = walk(i, &mut out);
            Ok(Value::Tuple(out).mark_if(marked))
        }
        _ => Err(fail("can only flatten lists, sets and tuples")),
    }
}

fn distinct(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let Some(Value::List(et, items)) = args.into_iter().next() else {
        return Err(fail("distinct requires a list"));
    };
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.iter().any(|o| super::util::equal(o, &v)) {
            out.push(v);
        }
    }
    Ok(Value::List(et, out))
}

fn slice(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let (et, items) = match &args[0] {
        Value::Set(..) => {
            return Err(arg_err(
                0,
                "list",
                "cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important",
            ));
        }
        Value::List(et, i) => (Some(et.clone()), i),
        Value::Tuple(i) => (None, i),
        _ => return Err(arg_err(0, "list", "must be a list or tuple value")),
    };
    let len = items.len() as i64;
    let start = whole(&args[1])
        .map_err(|e| arg_err(1, "start_index", format!("invalid start index: {e}")))?;
    if start < 0 {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be less than zero",
        ));
    }
    if start > len {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be greater than the length of the list",
        ));
    }
    let end =
        whole(&args[2]).map_err(|e| arg_err(2, "end_index", format!("invalid end index: {e}")))?;
    if end < 0 {
        return Err(arg_err(
            2,
            "end_index",
            "end index must not be less than zero",
        ));
    }
    if end > len {
        return Err(arg_err(
            2,
            "end_index",
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be greater than end index",
        ));
    }
    let part = items[start as usize..end as usize].to_vec();
    Ok(match et {
        Some(et) => Value::List(et, part),
        None => Value::Tuple(part),
    })
}

fn reverse(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    match args.into_iter().next() {
        Some(Value::Tuple(mut i)) => {
            i.reverse();
            Ok(Value::Tuple(i))
        }
        // Sets are accepted, as if converted to a list first.
        Some(Value::List(et, mut i) | Value::Set(et, mut i)) => {
            i.reverse();
            Ok(Value::List(et, i))
        }
        Some(other) => Err(arg_err(
            0,
            "list",
            format!(
                "can only reverse list or tuple values, not {}",
                other.ty().friendly_name()
            ),
        )),
        None => Err(fail("missing argument")),
    }
}

fn sort(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let mut strs = Vec::new();
    for (i, v) in seq(&args[0]).iter().enumerate() {
        match v.as_str() {
            Some(s) => strs.push(s.to_string()),
            None => {
                // cty fails the call, not the argument.
                return Err(fail(format!(
                    "given list element {i} is null; a null string cannot be sorted"
                )));
            }
        }
    }
    // Byte-wise order, as Go's sort.Strings.
    strs.sort();
    Ok(super::util::string_list(strs))
}

fn range(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let nums: Vec<Number> = args
        .iter()
        .map(|a| a.as_number().cloned().unwrap_or_else(Number::zero))
        .collect();
    let zero = Number::zero();
    let one = Number::from_i64(1);
    let (start, end, step) = match nums.as_slice() {
        [e] if *e < zero => (zero.clone(), e.clone(), one.neg()),
        [e] => (zero.clone(), e.clone(), one),
        [s, e] if e < s => (s.clone(), e.clone(), one.neg()),
        [s, e] => (s.clone(), e.clone(), one),
        [s, e, st] => (s.clone(), e.clone(), st.clone()),
        _ => return Err(fail("must have one, two, or three arguments")),
    };
    // No check for a zero step, as in Terraform 1.15.5: it counts as
    // positive, so with end > start it fails by generating too many values,
    // with equal bounds it generates none.
    let down = step < zero;
    if down && end > start {
        return Err(arg_err(
            1,
            "params",
            "end must be less than start when step is negative",
        ));
    }
    if !down && end < start {
        return Err(arg_err(
            1,
            "params",
            "end must be greater than start when step is positive",
        ));
    }
    let mut out = Vec::new();
    let mut cur = start;
    while (down && cur > end) || (!down && cur < end) {
        if out.len() >= 1024 {
            return Err(fail(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        out.push(Value::Number(cur.clone()));
        cur = cur.add(&step);
    }
    Ok(Value::List(Type::Number, out))
}

fn chunklist(_: &FuncCtx<'_>, args: Vec<Value>) -> Result<Value, FuncError> {
    let size = whole(&args[1]).map_err(|e| fail(format!("invalid size: {e}")))?;
    if size < 0 {
        return Err(fail("the size argument must be positive"));
    }
    let Value::List(et, items) = &args[0] else {
        return Err(fail("a list is required"));
    };
    let lt = list(et.clone());
    if items.is_empty() {
        return Ok(Value::List(lt, vec![]));
    }
    if size == 0 {
        return Ok(Value::List(lt, vec![args[0].clone()]));
    }
    let chunks = items
        .chunks(size as usize)
        .map(|c| Value::List(et.clone(), c.to_vec()))
        .collect();
    Ok(Value::List(lt, chunks))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::value::{Type, Value};

    #[test]
    fn sequence_functions_match_terraform() {
        let t = Type::String;
        let nu = Type::Number;
        run(vec![
            (
                "concat tuples gives tuple",
                "concat",
                vec![tstrs(&["a"]), tup(vec![n("1")])],
                ok(tup(vec![s("a"), n("1")])),
            ),
            (
                "concat lists gives list",
                "concat",
                vec![strs(&["a"]), nums(&["1"])],
                ok(strs(&["a", "1"])),
            ),
            (
                "concat list and tuple gives tuple",
                "concat",
                vec![strs(&["a"]), tstrs(&["b"])],
                ok(tstrs(&["a", "b"])),
            ),
            (
                "concat rejects set",
                "concat",
                vec![st(t.clone(), vec![s("a")])],
                err("all arguments must be lists or tuples; got set of string"),
            ),
            (
                "concat needs an argument",
                "concat",
                vec![],
                err("at least one argument is required"),
            ),
            (
                "flatten nests into a tuple",
                "flatten",
                vec![tup(vec![
                    tstrs(&["a"]),
                    tup(vec![]),
                    tup(vec![tup(vec![s("b")])]),
                    s("c"),
                ])],
                ok(tstrs(&["a", "b", "c"])),
            ),
            (
                "flatten of list",
                "flatten",
                vec![lst(lt(t.clone()), vec![strs(&["a", "b"])])],
                ok(tstrs(&["a", "b"])),
            ),
            (
                "flatten of string",
                "flatten",
                vec![s("a")],
                err("can only flatten lists, sets and tuples"),
            ),
            (
                "distinct keeps first occurrence",
                "distinct",
                vec![tstrs(&["b", "a", "b", "c", "a"])],
                ok(strs(&["b", "a", "c"])),
            ),
            (
                "distinct unifies",
                "distinct",
                vec![tup(vec![n("1"), s("1")])],
                ok(strs(&["1"])),
            ),
            (
                "slice list",
                "slice",
                vec![strs(&["a", "b", "c", "d"]), n("1"), n("3")],
                ok(strs(&["b", "c"])),
            ),
            (
                "slice tuple",
                "slice",
                vec![tup(vec![s("a"), n("1")]), n("1"), n("2")],
                ok(tup(vec![n("1")])),
            ),
            (
                "slice empty",
                "slice",
                vec![strs(&["a"]), n("1"), n("1")],
                ok(strs(&[])),
            ),
            (
                "slice end too big",
                "slice",
                vec![strs(&["a"]), n("0"), n("2")],
                err("end index must not be greater than the length of the list"),
            ),
            (
                "slice start after end",
                "slice",
                vec![strs(&["a", "b"]), n("2"), n("1")],
                err("start index must not be greater than end index"),
            ),
            (
                "slice negative",
                "slice",
                vec![strs(&["a"]), n("-1"), n("1")],
                err("start index must not be less than zero"),
            ),
            (
                "slice set",
                "slice",
                vec![st(t.clone(), vec![s("a")]), n("0"), n("1")],
                err("cannot slice a set"),
            ),
            (
                "reverse tuple",
                "reverse",
                vec![tup(vec![s("a"), n("1")])],
                ok(tup(vec![n("1"), s("a")])),
            ),
            (
                "reverse set gives list",
                "reverse",
                vec![st(t.clone(), vec![s("a"), s("b")])],
                ok(strs(&["b", "a"])),
            ),
            (
                "reverse string",
                "reverse",
                vec![s("ab")],
                err("can only reverse list or tuple values, not string"),
            ),
            (
                "sort is lexical",
                "sort",
                vec![tstrs(&["e", "d", "a", "x"])],
                ok(strs(&["a", "d", "e", "x"])),
            ),
            (
                "sort numbers as strings",
                "sort",
                vec![tnums(&["10", "9", "1"])],
                ok(strs(&["1", "10", "9"])),
            ),
            (
                "sort null element",
                "sort",
                vec![tup(vec![s("a"), Value::Null(t.clone())])],
                err("given list element 1 is null"),
            ),
            (
                "range(3)",
                "range",
                vec![n("3")],
                ok(nums(&["0", "1", "2"])),
            ),
            (
                "range(1, 4)",
                "range",
                vec![n("1"), n("4")],
                ok(nums(&["1", "2", "3"])),
            ),
            (
                "range(0, 1, 0.25)",
                "range",
                vec![n("0"), n("1"), n("0.25")],
                ok(nums(&["0", "0.25", "0.5", "0.75"])),
            ),
            (
                "range(4, 1) counts down",
                "range",
                vec![n("4"), n("1")],
                ok(nums(&["4", "3", "2"])),
            ),
            (
                "range(-3)",
                "range",
                vec![n("-3")],
                ok(nums(&["0", "-1", "-2"])),
            ),
            (
                "range(0)",
                "range",
                vec![n("0")],
                ok(lst(nu.clone(), vec![])),
            ),
            (
                "range(10, 5, -2)",
                "range",
                vec![n("10"), n("5"), n("-2")],
                ok(nums(&["10", "8", "6"])),
            ),
            (
                "range wrong direction",
                "range",
                vec![n("1"), n("4"), n("-1")],
                err("end must be less than start when step is negative"),
            ),
            (
                "range too long",
                "range",
                vec![n("2000")],
                err("more than 1024 values were generated"),
            ),
            (
                "range no args",
                "range",
                vec![],
                err("must have one, two, or three arguments"),
            ),
            (
                "chunklist",
                "chunklist",
                vec![tstrs(&["a", "b", "c"]), n("2")],
                ok(lst(lt(t.clone()), vec![strs(&["a", "b"]), strs(&["c"])])),
            ),
            (
                "chunklist size 0",
                "chunklist",
                vec![tstrs(&["a", "b"]), n("0")],
                ok(lst(lt(t.clone()), vec![strs(&["a", "b"])])),
            ),
            (
                "chunklist negative",
                "chunklist",
                vec![tstrs(&["a"]), n("-1")],
                err("the size argument must be positive"),
            ),
        ]);
    }
}

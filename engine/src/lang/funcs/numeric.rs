//! Numeric functions: abs, ceil, floor, signum, min, max, sum, parseint
//! (exact, on arbitrary-precision numbers) and log, pow (in float64, as
//! Terraform computes them; `pow` ports Go's `math.Pow` so integer powers
//! round exactly as Terraform's do).

use super::util::{Table, arg_err, fail, num, p, quote_go, reg, reg_var, whole};
use super::{FuncCtx, FuncError};
use crate::value::convert::convert;
use crate::value::{Number, Type, Value};

pub(super) fn register(t: &mut Table) {
    let nu = || Type::Number;
    reg(t, "abs", vec![p("num", nu())], nu(), abs);
    reg(t, "ceil", vec![p("num", nu())], nu(), ceil);
    reg(t, "floor", vec![p("num", nu())], nu(), floor);
    reg(t, "signum", vec![p("num", nu())], nu(), signum);
    reg(t, "log", vec![p("num", nu()), p("base", nu())], nu(), log);
    reg(t, "pow", vec![p("num", nu()), p("power", nu())], nu(), pow);
    reg_var(t, "min", vec![], p("numbers", nu()), nu(), min);
    reg_var(t, "max", vec![], p("numbers", nu()), nu(), max);
    reg(t, "sum", vec![p("list", Type::Dynamic)], nu(), sum);
    reg(
        t,
        "parseint",
        vec![p("number", Type::Dynamic), p("base", nu())],
        nu(),
        parseint,
    );
}

fn n(v: &Value) -> Number {
    v.as_number().cloned().unwrap_or_else(Number::zero)
}

fn number(x: Number) -> Result<Value, FuncError> {
    Ok(Value::Number(x))
}

fn float(f: f64) -> Result<Value, FuncError> {
    go_float(f)
        .map(Value::Number)
        .ok_or_else(|| fail("the result is not a finite number"))
}

/// A float64 result as cty holds it (a 53-bit `big.Float`) and prints it:
/// the shortest decimal that rounds back, except that for a power of two
/// Go's `big.Float` allows half an upper ulp on both sides where Rust's
/// shortest text allows only half the (smaller) lower ulp below:
/// `pow(2, 64)` is 18446744073709550000 in Terraform, not ...552000.
fn go_float(f: f64) -> Option<Number> {
    use bigdecimal::BigDecimal;
    use std::str::FromStr as _;
    let rust = Number::from_f64(f)?;
    let bits = f.to_bits();
    let (mantissa, exponent) = (bits & ((1 << 52) - 1), (bits >> 52) & 0x7ff);
    if f == 0.0 || mantissa != 0 || exponent <= 53 {
        return Some(rust);
    }
    // Exact decimals of 2^k and of half its upper ulp, 2^(k-53).
    let exact = |x: f64| {
        BigDecimal::from_str(&format!("{x:.1100}"))
            .ok()
            .map(|d| d.normalized())
    };
    let x = exact(f.abs())?;
    let half = exact(f.abs() / 9_007_199_254_740_992.0)?;
    let digits = rust.as_decimal().digits();
    for len in 1..digits {
        let candidate = x.with_prec(len);
        if (&candidate - &x).abs() <= half {
            let c = if f < 0.0 { -candidate } else { candidate };
            return Some(Number::new(c.normalized()));
        }
    }
    Some(rust)
}

fn abs(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    number(n(&a[0]).abs())
}

fn ceil(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    number(n(&a[0]).ceil())
}

fn floor(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    number(n(&a[0]).floor())
}

fn signum(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    // cty's signum takes an int64 (num_signum_pos: signum(0.1) fails).
    whole(&a[0]).map_err(fail)?;
    Ok(num(n(&a[0]).signum()))
}

fn log(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    float(n(&a[0]).to_f64().ln() / n(&a[1]).to_f64().ln())
}

fn pow(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    float(go_pow(n(&a[0]).to_f64(), n(&a[1]).to_f64()))
}

/// Go's `math.Pow`: repeated squaring for the integer part of the
/// exponent, `exp(y*ln x)` for the fraction.
fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() || x == 0.0 || x.is_infinite() || y.is_infinite() {
        return x.powf(y);
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let (mut yi, mut yf) = (y.abs().trunc(), y.abs().fract());
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 9.223_372_036_854_776e18 {
        return x.powf(y);
    }
    let mut a1 = 1.0_f64;
    let mut ae: i64 = 0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = (yf * x.ln()).exp();
    }
    let (mut x1, mut xe) = frexp(x);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Splits `x` into a fraction in [0.5, 1) and a power of two.
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (mut x, mut e) = (x, 0_i64);
    if x.abs() < f64::MIN_POSITIVE {
        x *= (1_u64 << 52) as f64;
        e = -52;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, e)
}

/// `frac * 2^exp`, without intermediate overflow.
fn ldexp(frac: f64, exp: i64) -> f64 {
    let mut f = frac;
    let mut e = exp;
    while e > 1000 {
        f *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        f *= 2f64.powi(-1000);
        e += 1000;
    }
    f * 2f64.powi(e as i32)
}

fn min(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    a.iter()
        .map(n)
        .min()
        .map(Value::Number)
        .ok_or_else(|| fail("must pass at least one number"))
}

fn max(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    a.iter()
        .map(n)
        .max()
        .map(Value::Number)
        .ok_or_else(|| fail("must pass at least one number"))
}

fn sum(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let items = match &a[0] {
        Value::List(_, i) | Value::Set(_, i) | Value::Tuple(i) => i,
        Value::Map(_, m) | Value::Object(m) if m.is_empty() => {
            return Err(arg_err(0, "list", "cannot sum an empty list"));
        }
        Value::Map(..) | Value::Object(_) => {
            return Err(arg_err(
                0,
                "list",
                format!(
                    "argument must be list, set, or tuple. Received {}",
                    a[0].ty().friendly_name()
                ),
            ));
        }
        _ => return Err(arg_err(0, "list", "cannot sum noniterable")),
    };
    if items.is_empty() {
        return Err(arg_err(0, "list", "cannot sum an empty list"));
    }
    let mut total = Number::zero();
    for v in items {
        let bad = || {
            arg_err(
                0,
                "list",
                "argument must be list, set, or tuple of number values",
            )
        };
        if v.is_null() {
            return Err(bad());
        }
        let x = convert(v.clone(), &Type::Number).map_err(|_| bad())?;
        total = total.add(&n(&x));
    }
    number(total)
}

/// The value of one digit in Go's `big.Int.SetString` alphabet.
fn digit_value(c: char, base: u32) -> Option<u32> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        // Above base 36 upper case letters are digits 36..61.
        'A'..='Z' if base > 36 => c as u32 - 'A' as u32 + 36,
        'A'..='Z' => c as u32 - 'A' as u32 + 10,
        _ => return None,
    };
    (d < base).then_some(d)
}

fn parseint(_: &FuncCtx<'_>, a: Vec<Value>) -> Result<Value, FuncError> {
    let Value::String(s) = &a[0] else {
        return Err(arg_err(
            0,
            "number",
            format!(
                "first argument must be a string, not {}",
                a[0].ty().friendly_name()
            ),
        ));
    };
    let base = whole(&a[1]).map_err(|e| arg_err(1, "base", e))?;
    if !(2..=62).contains(&base) {
        return Err(arg_err(
            1,
            "base",
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let bad = || {
        arg_err(
            0,
            "number",
            format!("cannot parse {} as a base {base} integer", quote_go(s)),
        )
    };
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s.as_str()),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let b = Number::from_i64(base);
    let mut acc = Number::zero();
    for c in digits.chars() {
        let d = digit_value(c, base as u32).ok_or_else(bad)?;
        acc = acc.mul(&b).add(&Number::from_i64(d as i64));
    }
    number(if neg { acc.neg() } else { acc })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn numeric_functions_match_terraform() {
        run(vec![
            ("abs", "abs", vec![n("-12.4")], ok(n("12.4"))),
            ("ceil", "ceil", vec![n("5.1")], ok(n("6"))),
            ("ceil negative", "ceil", vec![n("-5.1")], ok(n("-5"))),
            ("floor", "floor", vec![n("4.9")], ok(n("4"))),
            ("floor negative", "floor", vec![n("-4.1")], ok(n("-5"))),
            ("signum", "signum", vec![n("-13")], ok(n("-1"))),
            ("signum zero", "signum", vec![n("0")], ok(n("0"))),
            // Terraform 1.15.5: num_signum_pos, arith_big_pow, num_tostring_pow_big.
            (
                "signum of a fraction fails (was its sign)",
                "signum",
                vec![n("0.1")],
                err("value must be a whole number"),
            ),
            (
                "signum beyond int64 fails",
                "signum",
                vec![n("1e30")],
                err("between -9223372036854775808 and 9223372036854775807"),
            ),
            (
                "pow of a power of two prints as Go's big.Float",
                "pow",
                vec![n("2"), n("64")],
                ok(n("18446744073709550000")),
            ),
            (
                "pow 2^10 exact",
                "pow",
                vec![n("2"), n("10")],
                ok(n("1024")),
            ),
            (
                "pow 3^40 shortest",
                "pow",
                vec![n("3"), n("40")],
                ok(n("12157665459056929000")),
            ),
            ("log", "log", vec![n("16"), n("2")], ok(n("4"))),
            (
                "log non-integer",
                "log",
                vec![n("50"), n("10")],
                ok(n("1.6989700043360185")),
            ),
            ("pow", "pow", vec![n("3"), n("2")], ok(n("9"))),
            ("pow zero power", "pow", vec![n("4"), n("0")], ok(n("1"))),
            ("pow fraction", "pow", vec![n("4"), n("0.5")], ok(n("2"))),
            ("pow negative", "pow", vec![n("2"), n("-2")], ok(n("0.25"))),
            (
                "pow is float64",
                "pow",
                vec![n("3"), n("40")],
                ok(n("12157665459056929000")),
            ),
            (
                "pow 1.1 squared",
                "pow",
                vec![n("1.1"), n("2")],
                ok(n("1.2100000000000002")),
            ),
            ("min", "min", vec![n("12"), n("54"), n("3")], ok(n("3"))),
            ("max", "max", vec![n("12"), n("54"), n("3")], ok(n("54"))),
            ("max of strings", "max", vec![s("12"), s("5")], ok(n("12"))),
            (
                "min of nothing",
                "min",
                vec![],
                err("must pass at least one number"),
            ),
            (
                "sum",
                "sum",
                vec![tnums(&["10", "13", "6", "4.5"])],
                ok(n("33.5")),
            ),
            (
                "sum of strings",
                "sum",
                vec![tstrs(&["1", "2"])],
                ok(n("3")),
            ),
            (
                "sum exact decimals",
                "sum",
                vec![tnums(&["0.1", "0.2"])],
                ok(n("0.3")),
            ),
            (
                "sum of empty",
                "sum",
                vec![tup(vec![])],
                err("cannot sum an empty list"),
            ),
            (
                "sum of words",
                "sum",
                vec![tstrs(&["a"])],
                err("argument must be list, set, or tuple of number values"),
            ),
            (
                "sum of string",
                "sum",
                vec![s("1")],
                err("cannot sum noniterable"),
            ),
            (
                "parseint",
                "parseint",
                vec![s("100"), n("10")],
                ok(n("100")),
            ),
            (
                "parseint hex",
                "parseint",
                vec![s("FF"), n("16")],
                ok(n("255")),
            ),
            (
                "parseint negative binary",
                "parseint",
                vec![s("-10"), n("2")],
                ok(n("-2")),
            ),
            (
                "parseint base 62",
                "parseint",
                vec![s("zZ"), n("62")],
                ok(n("2231")),
            ),
            (
                "parseint big",
                "parseint",
                vec![s("ffffffffffffffffffff"), n("16")],
                ok(n("1208925819614629174706175")),
            ),
            (
                "parseint bad digit",
                "parseint",
                vec![s("12"), n("2")],
                err("cannot parse \"12\" as a base 2 integer"),
            ),
            (
                "parseint bad base",
                "parseint",
                vec![s("1"), n("63")],
                err("base must be a whole number between 2 and 62 inclusive"),
            ),
            (
                "parseint number arg",
                "parseint",
                vec![n("1"), n("10")],
                err("first argument must be a string, not number"),
            ),
        ]);
    }
}

//! Numbers with Terraform's arbitrary-precision semantics: `0.1 * 1.5` is
//! `0.15`, integers beyond 2^53 stay exact, and `7 / 2` is `3.5`.

use bigdecimal::{BigDecimal, RoundingMode, Signed, ToPrimitive, Zero};
use std::fmt;
use std::str::FromStr;

mod sign;

/// Significant digits kept by division and other inexact operations.
/// Terraform keeps 512 bits of mantissa (about 154 decimal digits).
pub const PRECISION: u64 = 154;

/// Widest exact result, in decimal digits from the highest to the lowest
/// digit position of the operands. Beyond it an addition would build a
/// gigantic integer (`1e100000000 + 1`), so the result keeps [`PRECISION`]
/// significant digits instead, as Terraform's 512-bit floats do.
pub const EXACT_DIGITS: i64 = 100_000;

/// Longest plain rendering; longer numbers print in exponent form.
const PLAIN_CHARS: i64 = 1_000_000;

/// Position of the least significant digit (`1e5` → 5, `0.25` → -2).
fn low(d: &BigDecimal) -> i64 {
    -d.fractional_digit_count()
}

/// Position just above the most significant digit (`1e5` → 6, `0.25` → 0).
fn top(d: &BigDecimal) -> i64 {
    low(d).saturating_add(i64::try_from(d.digits()).unwrap_or(i64::MAX))
}

/// The span an exact operation on `a` and `b` would compute.
fn span(a: &BigDecimal, b: &BigDecimal) -> i64 {
    top(a).max(top(b)).saturating_sub(low(a).min(low(b)))
}

/// Whole numbers below 10^153 are exact in a 512-bit float (2^512 is
/// about 1.34e154), and so are their sums and products up to that size.
const EXACT_INT_DIGITS: i64 = 153;

/// No fractional digits. Not `BigDecimal::is_integer`, which builds
/// 10^scale (10^100000000 for `1e-100000000`); a normalized number with a
/// positive scale has a nonzero fractional digit.
fn whole(d: &BigDecimal) -> bool {
    low(d) >= 0
}

/// a + b as Terraform adds: exact for whole numbers below [`EXACT_INT_DIGITS`]
/// (no conversion needed), 512-bit binary floats otherwise, and for operands
/// too large to convert (`1e100000000`) the bounded decimal sum.
fn sum(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    // The digit bound is checked before anything is expanded, so a huge
    // exponent never reaches an exact integer sum.
    if whole(a) && whole(b) && top(a).max(top(b)) < EXACT_INT_DIGITS {
        return a + b;
    }
    bin512::sum(a, b).unwrap_or_else(|| significant(bounded_sum(a, b)))
}

/// `d` to [`PRECISION`] significant digits, as a 512-bit float would keep
/// about as many (`1e2000 + 1` is `1e2000`).
fn significant(d: BigDecimal) -> BigDecimal {
    match std::num::NonZeroU64::new(PRECISION) {
        Some(p) if d.digits() > PRECISION => d.with_precision_round(p, RoundingMode::HalfEven),
        _ => d,
    }
}

/// a + b, exact within [`EXACT_DIGITS`], else to [`PRECISION`] digits of the larger.
fn bounded_sum(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    if a.is_zero() || b.is_zero() || span(a, b) <= EXACT_DIGITS {
        return a + b;
    }
    let cut = top(a).max(top(b)).saturating_sub(PRECISION as i64 + 2);
    let round = |x: &BigDecimal| x.with_scale_round(cut.saturating_neg(), RoundingMode::HalfEven);
    round(a) + round(b)
}

/// Go's `big.Float` at cty's 512-bit precision, for the operations that
/// must round as Terraform's do.
mod bin512 {
    use bigdecimal::num_bigint::BigInt;
    use bigdecimal::{BigDecimal, One, RoundingMode, Signed, Zero};
    use std::cmp::Ordering;
    use std::num::NonZeroU64;

    const PREC: u64 = 512;
    /// Operands with exponents beyond this stay on the decimal path (no
    /// 10^100000000 is ever built).
    const MAX_SCALE: i64 = 1_000;

    /// A nonzero float: sign, a 512-bit mantissa and its binary exponent.
    struct Float {
        neg: bool,
        mant: BigInt,
        exp: i64,
    }

    fn pow10(n: i64) -> BigInt {
        BigInt::from(10u8).pow(u32::try_from(n).unwrap_or(0))
    }

    /// num / den * 2^shift rounded half-even to 512 bits (num, den > 0).
    fn round(neg: bool, num: &BigInt, den: &BigInt, shift: i64) -> Float {
        let mut e = i64::try_from(num.bits()).unwrap_or(0)
            - i64::try_from(den.bits()).unwrap_or(0)
            - PREC as i64;
        loop {
            // value = q * 2^(e + shift) with q = num / den / 2^e.
            let (a, b) = if e >= 0 {
                (num.clone(), den << e as usize)
            } else {
                (num << (-e) as usize, den.clone())
            };
            let (q, r) = (&a / &b, &a % &b);
            match q.bits().cmp(&PREC) {
                Ordering::Greater => e += 1,
                Ordering::Less => e -= 1,
                Ordering::Equal => {
                    let mut q = q;
                    match (&r << 1usize).cmp(&b) {
                        Ordering::Greater => q += 1,
                        Ordering::Equal if q.bit(0) => q += 1,
                        _ => {}
                    }
                    if q.bits() > PREC {
                        q >>= 1usize;
                        e += 1;
                    }
                    return Float {
                        neg,
                        mant: q,
                        exp: e + shift,
                    };
                }
            }
        }
    }

    fn from_decimal(d: &BigDecimal) -> Option<Float> {
        let (n, scale) = d.as_bigint_and_exponent();
        if n.is_zero() || scale.abs() > MAX_SCALE || n.bits() > 4 * MAX_SCALE as u64 {
            return None;
        }
        let neg = n.is_negative();
        let n = n.abs();
        Some(if scale <= 0 {
            round(neg, &(n * pow10(-scale)), &BigInt::one(), 0)
        } else {
            round(neg, &n, &pow10(scale), 0)
        })
    }

    /// The exact decimal value of mant * 2^exp.
    fn exact(mant: &BigInt, exp: i64) -> BigDecimal {
        if exp >= 0 {
            BigDecimal::from(mant << exp as usize)
        } else {
            BigDecimal::new(mant * BigInt::from(5u8).pow((-exp) as u32), -exp)
        }
    }

    /// The shortest decimal inside the float's rounding interval (half an
    /// ulp each side, ends included for an even mantissa), nearest first:
    /// `big.Float.Text('f', -1)`.
    fn shortest(f: &Float) -> BigDecimal {
        let x = exact(&f.mant, f.exp);
        let half = exact(&BigInt::one(), f.exp - 1);
        let inclusive = !f.mant.bit(0);
        let inside = |c: &BigDecimal| {
            let d = (c - &x).abs();
            match d.cmp(&half) {
                Ordering::Less => true,
                Ordering::Equal => inclusive,
                Ordering::Greater => false,
            }
        };
        let digits = x.digits();
        let mut out = x.clone();
        for k in 1..digits {
            let Some(k) = NonZeroU64::new(k) else {
                continue;
            };
            let near = x.with_precision_round(k, RoundingMode::HalfEven);
            if inside(&near) {
                out = near;
                break;
            }
            let other = [RoundingMode::Down, RoundingMode::Up]
                .into_iter()
                .map(|m| x.with_precision_round(k, m))
                .find(|c| inside(c));
            if let Some(c) = other {
                out = c;
                break;
            }
        }
        if f.neg { -out } else { out }
    }

    /// Zero as `Some(None)`; `None` when the operand is too large to convert.
    fn operand(d: &BigDecimal) -> Option<Option<Float>> {
        if d.is_zero() {
            return Some(None);
        }
        from_decimal(d).map(Some)
    }

    /// A signed integer times 2^exp, rounded to 512 bits and printed.
    fn rounded(n: BigInt, exp: i64) -> BigDecimal {
        if n.is_zero() {
            return BigDecimal::zero();
        }
        shortest(&round(n.is_negative(), &n.abs(), &BigInt::one(), exp))
    }

    fn signed(f: &Float) -> BigInt {
        if f.neg { -&f.mant } else { f.mant.clone() }
    }

    /// a + b as cty adds: both operands and the sum as 512-bit floats
    /// (`1.1 + 2.2` is 3.3000…0002); `None` keeps the decimal path.
    pub(super) fn sum(a: &BigDecimal, b: &BigDecimal) -> Option<BigDecimal> {
        let (x, y) = match (operand(a)?, operand(b)?) {
            (None, None) => return Some(BigDecimal::zero()),
            (Some(x), None) | (None, Some(x)) => return Some(shortest(&x)),
            (Some(x), Some(y)) => (x, y),
        };
        // Exponents are bounded by MAX_SCALE, so the shift stays a few
        // thousand bits.
        let e = x.exp.min(y.exp);
        let n = (signed(&x) << (x.exp - e) as usize) + (signed(&y) << (y.exp - e) as usize);
        Some(rounded(n, e))
    }

    /// a * b as cty multiplies (512-bit floats); `None` keeps the decimal path.
    pub(super) fn product(a: &BigDecimal, b: &BigDecimal) -> Option<BigDecimal> {
        let (Some(x), Some(y)) = (operand(a)?, operand(b)?) else {
            return Some(BigDecimal::zero());
        };
        Some(rounded(signed(&x) * signed(&y), x.exp + y.exp))
    }

    /// a / b rounded as cty rounds it; `None` where the decimal path is
    /// kept (zero, or operands too large to convert).
    pub(super) fn quotient(a: &BigDecimal, b: &BigDecimal) -> Option<BigDecimal> {
        if a.is_zero() {
            return Some(BigDecimal::zero());
        }
        let (x, y) = (from_decimal(a)?, from_decimal(b)?);
        let q = round(x.neg != y.neg, &x.mant, &y.mant, x.exp - y.exp);
        Some(shortest(&q))
    }
}

/// An arbitrary-precision decimal number.
///
/// ```
/// use posture_provider_core::value::Number;
/// let a: Number = "0.1".parse().unwrap();
/// let b: Number = "1.5".parse().unwrap();
/// assert_eq!(a.mul(&b).to_string(), "0.15");
/// ```
///
/// Zero has a sign, as a binary float's has: `-0`, `0 * -1` and `0 / -2`
/// are negative zero, which equals zero but prints as `-0` (`tostring`,
/// templates, `jsonencode`), as Terraform's big.Float does.
#[derive(Clone)]
pub struct Number(BigDecimal, bool);

impl Number {
    /// Wraps a [`BigDecimal`].
    pub fn new(d: BigDecimal) -> Number {
        Number(d.normalized(), false)
    }
    /// The underlying decimal.
    pub fn as_decimal(&self) -> &BigDecimal {
        &self.0
    }
    /// Zero.
    pub fn zero() -> Number {
        Number(BigDecimal::zero(), false)
    }
    /// From an integer.
    pub fn from_i64(i: i64) -> Number {
        Number(BigDecimal::from(i), false)
    }
    /// From a float; `None` for NaN and infinities.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        // Shortest round-trip text, so 0.1 stays 0.1.
        BigDecimal::from_str(&format!("{f}")).ok().map(Number::new)
    }
    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }
    /// The value as i64 when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        // Anything with more than 19 digits is out of range; checking first
        // spares converting 1e100000000 to an integer.
        if self.is_integer() && top(&self.0) <= 20 {
            self.0.to_i64()
        } else {
            None
        }
    }
    /// The nearest f64.
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }
    /// a + b, rounded as cty rounds it (512-bit binary floats).
    pub fn add(&self, o: &Number) -> Number {
        // Rounding to nearest, only -0 + -0 is -0.
        Number::new(sum(&self.0, &o.0)).zero_signed(self.1 && o.1)
    }
    /// a - b, rounded as [`Number::add`].
    pub fn sub(&self, o: &Number) -> Number {
        let minus_zero = self.1 && o.0.is_zero() && !o.1;
        Number::new(sum(&self.0, &-&o.0)).zero_signed(minus_zero)
    }
    /// a * b, rounded as cty rounds it (512-bit binary floats).
    pub fn mul(&self, o: &Number) -> Number {
        let neg = self.sign_negative() != o.sign_negative();
        self.product(o).zero_signed(neg)
    }
    fn product(&self, o: &Number) -> Number {
        let (a, b) = (&self.0, &o.0);
        // Whole numbers whose product is below 10^153 < 2^512 are exact as
        // floats; skipping the conversion keeps counting loops cheap. The
        // digit bound also keeps 1e100000000 off this path.
        if whole(a) && whole(b) && top(a).saturating_add(top(b)) <= EXACT_INT_DIGITS {
            return Number::new(a * b);
        }
        match bin512::product(a, b) {
            Some(p) => Number::new(p),
            // Operands beyond MAX_SCALE: decimals (only the short
            // mantissas multiply), rounded as a sum is.
            None => Number::new(significant(a * b)),
        }
    }
    /// a / b; `None` when b is zero.
    pub fn div(&self, o: &Number) -> Option<Number> {
        if o.0.is_zero() {
            return None;
        }
        if self.0.is_zero() {
            return Some(Number::zero().zero_signed(self.sign_negative() != o.sign_negative()));
        }
        // As cty divides: both operands and the quotient as 512-bit binary
        // floats, printed as the shortest decimal of the quotient's float
        // (`1 / 3` ends in ...35, as in Terraform).
        if let Some(q) = bin512::quotient(&self.0, &o.0) {
            return Some(Number::new(q));
        }
        let q = (&self.0 / &o.0).with_precision_round(
            std::num::NonZeroU64::new(PRECISION).unwrap_or(std::num::NonZeroU64::MIN),
            RoundingMode::HalfEven,
        );
        Some(Number::new(q))
    }
    /// Terraform's `%`: the remainder of truncated division, sign of the dividend.
    pub fn rem(&self, o: &Number) -> Option<Number> {
        if o.0.is_zero() {
            return None;
        }
        if span(&self.0, &o.0) > EXACT_DIGITS {
            // |a| < |b|: a itself. Otherwise the remainder lies below the
            // dividend's precision, where a 512-bit float has only zeros.
            return Some(if top(&self.0) < top(&o.0) {
                self.clone()
            } else {
                Number::zero()
            });
        }
        Some(Number::new(&self.0 % &o.0))
    }
    /// -a
    pub fn neg(&self) -> Number {
        Number::new(-&self.0).zero_signed(!self.sign_negative())
    }
    /// |a|
    pub fn abs(&self) -> Number {
        Number::new(self.0.abs())
    }
    /// -1, 0 or 1.
    pub fn signum(&self) -> i64 {
        if self.0.is_zero() {
            0
        } else if self.0.is_positive() {
            1
        } else {
            -1
        }
    }
    /// Largest integer ≤ a.
    pub fn floor(&self) -> Number {
        if self.is_integer() {
            return self.clone();
        }
        Number::new(self.0.with_scale_round(0, RoundingMode::Floor))
    }
    /// Smallest integer ≥ a.
    pub fn ceil(&self) -> Number {
        if self.is_integer() {
            return self.clone();
        }
        Number::new(self.0.with_scale_round(0, RoundingMode::Ceiling))
    }
}

impl FromStr for Number {
    type Err = bigdecimal::ParseBigDecimalError;
    fn from_str(s: &str) -> Result<Number, Self::Err> {
        let n = BigDecimal::from_str(s).map(Number::new)?;
        Ok(n.zero_signed(s.trim_start().starts_with('-')))
    }
}

impl fmt::Display for Number {
    /// Plain decimal notation without exponent or trailing zeros, as Terraform prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.normalized();
        if d.is_zero() {
            return f.write_str(if self.1 { "-0" } else { "0" });
        }
        if top(&d).max(low(&d).saturating_neg()) > PLAIN_CHARS {
            // 1e100000000 in plain form is 100 MB of zeros.
            let (digits, scale) = d.as_bigint_and_exponent();
            let mut m = digits.abs().to_string();
            let exp = (m.len() as i64 - 1).saturating_sub(scale);
            if m.len() > 1 {
                m.insert(1, '.');
            }
            let sign = if digits.is_negative() { "-" } else { "" };
            return write!(f, "{sign}{m}e{exp:+}");
        }
        let (digits, scale) = d.as_bigint_and_exponent();
        let neg = digits.is_negative();
        let mut s = digits.abs().to_string();
        if scale <= 0 {
            s.extend(std::iter::repeat_n('0', (-scale) as usize));
        } else {
            let scale = scale as usize;
            if s.len() <= scale {
                let pad = "0".repeat(scale - s.len());
                s = format!("0.{pad}{s}");
            } else {
                s.insert(s.len() - scale, '.');
            }
        }
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&s)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests;

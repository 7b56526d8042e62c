//! Go's number formatting as `format` reaches it: `big.Int` for `%d %b %o
//! %x %X` and `big.Float` for `%e %E %f %g %G`, including flags, width and
//! precision. Terraform's numbers are 512-bit binary floats, so fixed
//! precision output first takes the exact decimal expansion of the nearest
//! 512-bit float, then rounds it half-to-even as Go's `decimal.round` does.

use crate::value::Number;
use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::{Signed, Zero};

/// Flags, width and precision of one verb.
#[derive(Default, Clone)]
pub(super) struct Spec {
    /// `0`
    pub zero: bool,
    /// `#`
    pub sharp: bool,
    /// `-`
    pub minus: bool,
    /// `+`
    pub plus: bool,
    /// ` `
    pub space: bool,
    /// Minimum width.
    pub width: Option<usize>,
    /// Precision.
    pub prec: Option<usize>,
}

/// A decimal `0.mant × 10^exp` with mant digits as ASCII, no trailing zeros.
struct Decimal {
    mant: Vec<u8>,
    exp: i64,
}

impl Decimal {
    fn at(&self, i: i64) -> u8 {
        if i >= 0 && (i as usize) < self.mant.len() {
            self.mant[i as usize]
        } else {
            b'0'
        }
    }

    fn trim(&mut self) {
        while self.mant.last() == Some(&b'0') {
            self.mant.pop();
        }
        if self.mant.is_empty() {
            self.exp = 0;
        }
    }

    /// Rounds to `n` digits, half to even, as Go's `decimal.round`.
    fn round(&mut self, n: i64) {
        if n < 0 || n as usize >= self.mant.len() {
            return;
        }
        let n = n as usize;
        let up = if self.mant[n] == b'5' && n + 1 == self.mant.len() {
            n > 0 && (self.mant[n - 1] - b'0') % 2 == 1
        } else {
            self.mant[n] >= b'5'
        };
        if up {
            let mut k = n;
            while k > 0 && self.mant[k - 1] >= b'9' {
                k -= 1;
            }
            if k == 0 {
                self.mant.clear();
                self.mant.push(b'1');
                self.exp += 1;
                return;
            }
            self.mant[k - 1] += 1;
            self.mant.truncate(k);
        } else {
            self.mant.truncate(n);
            self.trim();
        }
    }
}

/// The decimal digits and exponent of a plain decimal number.
fn decimal_of(m: &BigInt, scale: i64) -> Decimal {
    let digits = m.magnitude().to_string().into_bytes();
    let exp = digits.len() as i64 - scale;
    let mut d = Decimal { mant: digits, exp };
    d.trim();
    d
}

/// The exact decimal value of the 512-bit binary float nearest to `n`.
fn binary512(n: &Number) -> Decimal {
    let (m, scale) = n.as_decimal().as_bigint_and_exponent();
    if m.is_zero() {
        return Decimal {
            mant: Vec::new(),
            exp: 0,
        };
    }
    let m = m.abs();
    let ten = BigInt::from(10);
    let (num, den) = if scale >= 0 {
        (m, num_pow(&ten, scale as u64))
    } else {
        (m * num_pow(&ten, (-scale) as u64), BigInt::from(1))
    };
    // Choose k so that num * 2^k / den has 512 significant bits.
    let mut k = 512 - (num.bits() as i64 - den.bits() as i64);
    let scaled = |k: i64| -> (BigInt, BigInt) {
        if k >= 0 {
            (&num << (k as usize), den.clone())
        } else {
            (num.clone(), &den << ((-k) as usize))
        }
    };
    let (mut a, mut b) = scaled(k);
    let mut q = &a / &b;
    if q.bits() > 512 {
        k -= 1;
        (a, b) = scaled(k);
        q = &a / &b;
    } else if q.bits() < 512 {
        k += 1;
        (a, b) = scaled(k);
        q = &a / &b;
    }
    let r = &a - &q * &b;
    let twice = &r * 2;
    if twice > b || (twice == b && (&q % 2) == BigInt::from(1)) {
        q += 1;
    }
    if k <= 0 {
        let v = q << ((-k) as usize);
        return decimal_of(&v, 0);
    }
    // q / 2^k = q * 5^k / 10^k
    let v = q * num_pow(&BigInt::from(5), k as u64);
    decimal_of(&v, k)
}

fn num_pow(b: &BigInt, e: u64) -> BigInt {
    let mut out = BigInt::from(1);
    let mut base = b.clone();
    let mut e = e;
    while e > 0 {
        if e & 1 == 1 {
            out *= &base;
        }
        base = &base * &base;
        e >>= 1;
    }
    out
}

fn fmt_e(d: &Decimal, prec: i64, upper: bool) -> String {
    let mut s = String::new();
    s.push(d.mant.first().map(|c| *c as char).unwrap_or('0'));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(d.at(i) as char);
        }
    }
    s.push(if upper { 'E' } else { 'e' });
    let exp = if d.mant.is_empty() { 0 } else { d.exp - 1 };
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_f(d: &Decimal, prec: i64) -> String {
    let mut s = String::new();
    if d.exp > 0 {
        for i in 0..d.exp {
            s.push(d.at(i) as char);
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec {
            s.push(d.at(d.exp + i) as char);
        }
    }
    s
}

/// `big.Float.Text('g', -1)`: the shortest digits, in `%e` style when the
/// decimal exponent is below -4 or at least 6 (so 1000000 is `1e+06`).
pub(super) fn shortest_g(n: &Number) -> String {
    let (m, scale) = n.as_decimal().as_bigint_and_exponent();
    let neg = m.sign() == Sign::Minus;
    let d = decimal_of(&m, scale);
    let body = g_body(&d, None, false);
    if neg { format!("-{body}") } else { body }
}

/// The `%g` digits for decimal `d` (already rounded for explicit precision).
fn g_body(d: &Decimal, prec: Option<i64>, upper: bool) -> String {
    let shortest = prec.is_none();
    let mut prec = prec.unwrap_or(d.mant.len() as i64);
    let mut eprec = prec;
    if eprec > d.mant.len() as i64 && d.mant.len() as i64 >= d.exp {
        eprec = d.mant.len() as i64;
    }
    if shortest {
        eprec = 6;
    }
    let exp = d.exp - 1;
    if exp < -4 || exp >= eprec {
        if prec > d.mant.len() as i64 {
            prec = d.mant.len() as i64;
        }
        return fmt_e(d, prec - 1, upper);
    }
    if prec > d.exp {
        prec = d.mant.len() as i64;
    }
    fmt_f(d, (prec - d.exp).max(0))
}

/// Go's `big.Float.Format` for `%e %E %f %g %G`.
pub(super) fn format_float(n: &Number, verb: char, spec: &Spec) -> String {
    let neg = n.signum() < 0;
    let body = match (verb, spec.prec) {
        ('g' | 'G', None) => {
            let (m, scale) = n.as_decimal().as_bigint_and_exponent();
            g_body(&decimal_of(&m, scale), None, verb == 'G')
        }
        (_, prec) => {
            let prec = prec.unwrap_or(6) as i64;
            let mut d = binary512(n);
            match verb {
                'e' | 'E' => {
                    d.round(1 + prec);
                    fmt_e(&d, prec, verb == 'E')
                }
                'f' => {
                    d.round(d.exp + prec);
                    fmt_f(&d, prec)
                }
                _ => {
                    let prec = prec.max(1);
                    d.round(prec);
                    g_body(&d, Some(prec), verb == 'G')
                }
            }
        }
    };
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let len = sign.len() + body.len();
    let padding = spec.width.map(|w| w.saturating_sub(len)).unwrap_or(0);
    if spec.zero && !spec.minus {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if spec.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// Go's `big.Int.Format` for `%d %b %o %x %X`.
pub(super) fn format_int(n: &Number, verb: char, spec: &Spec) -> String {
    let (m, scale) = n.as_decimal().as_bigint_and_exponent();
    let v = if scale <= 0 {
        m * num_pow(&BigInt::from(10), (-scale) as u64)
    } else {
        m / num_pow(&BigInt::from(10), scale as u64)
    };
    let neg = v.sign() == Sign::Minus;
    let mag = v.magnitude();
    let digits = match verb {
        'b' => mag.to_str_radix(2),
        'o' => mag.to_str_radix(8),
        'x' => mag.to_str_radix(16),
        'X' => mag.to_str_radix(16).to_uppercase(),
        _ => mag.to_str_radix(10),
    };
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(p) = spec.prec {
        if digits.len() < p {
            zeros = p - digits.len();
        } else if digits == "0" && p == 0 {
            // Go prints nothing at all, not even padding.
            return String::new();
        }
    }
    let len = sign.len() + prefix.len() + zeros + digits.len();
    let (mut left, mut right) = (0, 0);
    if let Some(w) = spec.width.filter(|w| len < *w) {
        let d = w - len;
        if spec.minus {
            right = d;
        } else if spec.zero && spec.prec.is_none() {
            zeros = d;
        } else {
            left = d;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

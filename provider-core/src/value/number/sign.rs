//! The sign of zero. Terraform computes with binary floats, whose zero has
//! a sign: `-0`, `0 * -1` and `0 / -2` are negative zero, equal to zero but
//! printed `-0` by `tostring`, templates and `jsonencode`. A decimal has no
//! such zero, so [`Number`] carries the sign beside it; equality, order and
//! hashing ignore it, as cty's do.

use super::Number;
use bigdecimal::{Signed, Zero};

// The sign of zero is not part of the value: -0 == 0, as in cty.
impl PartialEq for Number {
    fn eq(&self, o: &Number) -> bool {
        self.0 == o.0
    }
}
impl Eq for Number {}
impl PartialOrd for Number {
    fn partial_cmp(&self, o: &Number) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Number {
    fn cmp(&self, o: &Number) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}
impl std::hash::Hash for Number {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}

impl Number {
    /// True for a negative number and for negative zero.
    pub(super) fn sign_negative(&self) -> bool {
        self.1 || self.0.is_negative()
    }
    /// `self`, negative zero when it is zero and `neg` holds.
    pub(super) fn zero_signed(mut self, neg: bool) -> Number {
        self.1 = neg && self.0.is_zero();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    // Decimals have no negative zero; Terraform's floats print `-0`.
    #[test]
    fn negative_zero_was_plain_zero() {
        let z = Number::zero();
        let m = z.neg();
        assert_eq!(m.to_string(), "-0");
        assert_eq!(m, z);
        assert_eq!(m.neg().to_string(), "0");
        assert_eq!(z.mul(&n("-3")).to_string(), "-0");
        assert_eq!(m.mul(&n("-3")).to_string(), "0");
        assert_eq!(z.div(&n("-2")).map(|q| q.to_string()), Some("-0".into()));
        assert_eq!(m.add(&m).to_string(), "-0");
        assert_eq!(m.add(&z).to_string(), "0");
        assert_eq!(m.sub(&z).to_string(), "-0");
        assert_eq!(n("2").sub(&n("2")).to_string(), "0");
        assert_eq!(m.abs().to_string(), "0");
        assert_eq!(n("-0").to_string(), "-0");
        assert_eq!(n("-0.5").add(&n("0.5")).to_string(), "0");
    }
}

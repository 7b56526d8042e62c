//! Tests of `Number`: parsing, arithmetic, comparison and printing.

use super::*;

fn n(s: &str) -> Number {
    s.parse().unwrap()
}

#[test]
fn decimal_arithmetic_is_exact() {
    assert_eq!(n("0.1").add(&n("0.2")).to_string(), "0.3");
    assert_eq!(n("7").div(&n("2")).unwrap().to_string(), "3.5");
    assert_eq!(
        n("9007199254740993").add(&n("1")).to_string(),
        "9007199254740994"
    );
    assert_eq!(n("1e3").to_string(), "1000");
    assert_eq!(n("-0.5").to_string(), "-0.5");
}

#[test]
fn remainder_takes_the_sign_of_the_dividend() {
    assert_eq!(n("-7").rem(&n("3")).unwrap().to_string(), "-1");
    assert_eq!(n("10").rem(&n("3")).unwrap().to_string(), "1");
    assert!(n("1").rem(&n("0")).is_none());
}

#[test]
fn huge_exponents_do_not_build_huge_integers() {
    // Each of these used to hang (building 10^100000000 exactly).
    let big = n("1e100000000");
    assert_eq!(big.add(&n("1")), big);
    assert_eq!(n("1e-100000000").add(&n("1")).to_string(), "1");
    assert_eq!(big.sub(&n("1")), big);
    assert_eq!(n("1").sub(&big), big.neg());
    assert_eq!(big.rem(&n("3")), Some(Number::zero()));
    assert_eq!(n("3").rem(&big), Some(n("3")));
    assert_eq!(big.floor(), big);
    assert_eq!(big.to_i64(), None);
    assert!(big > n("1") && n("1e-100000000") < n("1"));
    assert_eq!(big.to_string(), "1e+100000000");
    assert_eq!(n("-2.5e-3000000").to_string(), "-2.5e-3000000");
    // Convertible operands round to 512 bits, as in Terraform
    // (conformance arith_add_1e200_one): the 1 is lost.
    assert_eq!(n("1e400").add(&n("1")), n("1e400"));
    // Beyond it, the sum keeps 154 significant digits of the larger:
    // (3e199990 + 1) adds its 3, not its 1.
    let long = n(&format!("3{}1", "0".repeat(199_989)));
    assert_eq!(n("1e200000").add(&long), n("1e200000").add(&n("3e199990")));
}

#[test]
fn division_rounded_to_154_decimal_digits_not_512_bits() {
    // Terraform 1.15.5 (conformance conv_tostring_third and friends).
    let third = format!("0.{}5", "3".repeat(154));
    assert_eq!(n("1").div(&n("3")).map(|q| q.to_string()), Some(third));
    let two = format!("0.{}7", "6".repeat(153));
    assert_eq!(n("2").div(&n("3")).map(|q| q.to_string()), Some(two));
    // Exact quotients stay exact and short.
    assert_eq!(
        n("7").div(&n("2")).map(|q| q.to_string()),
        Some("3.5".into())
    );
    assert_eq!(
        n("-1").div(&n("8")).map(|q| q.to_string()),
        Some("-0.125".into())
    );
    assert_eq!(n("0").div(&n("3")), Some(Number::zero()));
    assert_eq!(
        n("0.3").div(&n("0.1")).map(|q| q.to_string()),
        Some("3".into())
    );
    // Huge operands keep the decimal path.
    assert!(n("1e100000000").div(&n("3")).is_some());
}

#[test]
fn add_sub_mul_rounded_to_512_bit_floats_not_exact_decimals() {
    // Terraform 1.15.5 (conformance arith_add_1_1_2_2 and friends).
    let tail = |head: &str, zeros: usize, last: char| format!("{head}{}{last}", "0".repeat(zeros));
    assert_eq!(n("1.1").add(&n("2.2")).to_string(), tail("3.3", 152, '2'));
    assert_eq!(
        n("3.3").sub(&n("1.1")).to_string(),
        format!("2.1{}8", "9".repeat(152))
    );
    assert_eq!(n("1.1").mul(&n("1.1")).to_string(), tail("1.21", 151, '1'));
    assert_eq!(n("1.1").mul(&n("3")).to_string(), tail("3.3", 152, '2'));
    assert_eq!(n("0.3").sub(&n("0.1")).to_string(), tail("0.2", 153, '2'));
    assert_eq!(
        n("-1.1").mul(&n("2.2")).to_string(),
        tail("-2.42", 151, '3')
    );
    // Where the nearest float's shortest decimal is the exact one.
    assert_eq!(n("0.1").add(&n("0.2")), n("0.3"));
    assert_eq!(n("0.1").mul(&n("3")), n("0.3"));
    let third = n("1").div(&n("3")).unwrap_or_else(Number::zero);
    assert_eq!(third.mul(&n("3")), n("1"));
    assert_eq!(
        n("1e30").add(&n("0.5")).to_string(),
        "1000000000000000000000000000000.5"
    );
    assert_eq!(n("1e200").add(&n("1")), n("1e200"));
    // Operands too large to convert keep 154 significant digits too.
    assert_eq!(n("1e2000").add(&n("1")), n("1e2000"));
    assert_eq!(n("1e2000").sub(&n("1")), n("1e2000"));
    let long = n(&format!("1{}1", "0".repeat(1500)));
    assert_eq!(long.mul(&n("1e2000")), n("1e3501"));
    assert_eq!(n("0").mul(&n("1.1")), Number::zero());
    assert_eq!(n("1.5").sub(&n("1.5")), Number::zero());
}

#[test]
fn integers_above_2_pow_53_stay_exact_through_add_sub_mul() {
    assert_eq!(
        n("9007199254740993").sub(&n("2")).to_string(),
        "9007199254740991"
    );
    assert_eq!(
        n("4294967297").mul(&n("4294967297")).to_string(),
        "18446744082299486209"
    );
    assert_eq!(
        n("123456789012345678901234567890")
            .mul(&n("987654321098765432109876543210"))
            .to_string(),
        "121932631137021795226185032733622923332237463801111263526900"
    );
    // Past the fast path's bound the float path still gives 512 bits.
    let big = format!("1{}1", "0".repeat(100));
    assert_eq!(
        n(&big).mul(&n(&big)).to_string(),
        n(&big).mul(&n(&big)).to_string()
    );
}

#[test]
fn floor_and_ceil() {
    assert_eq!(n("-1.5").floor().to_string(), "-2");
    assert_eq!(n("1.2").ceil().to_string(), "2");
}

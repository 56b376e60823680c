use super::*;

fn bits(s: &str) -> Option<u64> {
    parse_float(s.as_bytes()).map(f64::to_bits)
}

#[test]
fn tile38_accepts_what_go_accepts() {
    // `SET k id POINT <s> 0` answers OK on Tile38 1.37 for each of these.
    for (s, v) in [
        ("nan", f64::NAN),
        ("NaN", f64::NAN),
        ("inf", f64::INFINITY),
        ("+Inf", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("Infinity", f64::INFINITY),
        ("-infinity", f64::NEG_INFINITY),
        ("1e-999", 0.0),
        ("0x1p4", 16.0),
        ("0X1P-2", 0.25),
        ("0x_1p4", 16.0),
        ("0x1.8p1", 3.0),
        ("1_000", 1000.0),
        ("017", 17.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("+5", 5.0),
        ("1E+5", 100000.0),
        ("00.5", 0.5),
        ("+.5e-1", 0.05),
        ("4.9e-324", 5e-324),
        ("1_0.5_5e1_0", 10.55e10),
    ] {
        let got = parse_float(s.as_bytes()).unwrap_or_else(|| panic!("{s} rejected"));
        assert!(
            got.to_bits() == v.to_bits() || (got.is_nan() && v.is_nan()),
            "{s}: {got}"
        );
    }
    assert_eq!(bits("-0"), Some((-0.0f64).to_bits()));
}

#[test]
fn tile38_rejects_what_go_rejects() {
    // `ERR invalid argument '<s>'` on Tile38 1.37.
    for s in [
        "-nan",
        "+nan",
        "infin",
        "infx",
        "1e999",
        "-1e999",
        "0x10",
        "0b101",
        "0o17",
        " 1",
        "1 ",
        ".",
        "e5",
        "1e",
        "",
        "+",
        "-",
        "1.5.5",
        "0x",
        "1e+",
        "١",
        "1__0",
        "_1",
        "1_",
        "1_.5",
        "1._5",
        "0x1p",
        "0x.p1",
        "1.7976931348623159e308",
        "0x1p1024",
        "1e1_",
    ] {
        assert_eq!(parse_float(s.as_bytes()), None, "{s:?} accepted");
    }
}

#[test]
fn range_errors_carry_the_infinity() {
    assert_eq!(
        parse_float_go(b"1e999"),
        Err(FloatError::Range(f64::INFINITY))
    );
    assert_eq!(
        parse_float_go(b"-1e999"),
        Err(FloatError::Range(f64::NEG_INFINITY))
    );
    assert_eq!(
        parse_float_go(b"0x1p1024"),
        Err(FloatError::Range(f64::INFINITY))
    );
    assert_eq!(parse_float_go(b"1e"), Err(FloatError::Syntax));
    assert_eq!(parse_float_go(b"1.7976931348623157e308"), Ok(f64::MAX));
}

#[test]
fn exponents_are_capped_like_go() {
    // Go stops accumulating exponent digits past 10000: the value is 0 or
    // ±Inf either way, and a long mantissa cannot bring it back.
    assert_eq!(parse_float(b"1e100000000000000000000000"), None);
    assert_eq!(parse_float(b"1e-100000000000000000000000"), Some(0.0));
    let long = format!("0.{}1e10001", "0".repeat(10_000));
    assert_eq!(parse_float(long.as_bytes()), Some(1.0));
}

#[test]
fn hex_mantissas_round_to_even() {
    // 2^53 + 1 needs rounding: ties go to the even neighbour.
    assert_eq!(parse_float(b"0x20000000000001p0"), Some(9007199254740992.0));
    assert_eq!(parse_float(b"0x20000000000003p0"), Some(9007199254740996.0));
    // More than 16 hex digits: the dropped non-zero digit breaks the tie.
    assert_eq!(
        parse_float(b"0x20000000000001001p-12"),
        Some(9007199254740994.0)
    );
    assert_eq!(
        parse_float(b"0x20000000000001000p-12"),
        Some(9007199254740992.0)
    );
    assert_eq!(bits("0x1p-1074"), Some(1));
    assert_eq!(bits("0x1p-1075"), Some(0));
    assert_eq!(bits("0x1.8p-1074"), Some(2));
    assert_eq!(parse_float(b"0x1.fffffffffffffp1023"), Some(f64::MAX));
    assert_eq!(
        parse_float(b"-0x0p0").map(f64::to_bits),
        Some((-0.0f64).to_bits())
    );
}

#[test]
fn decimals_match_rust_for_plain_text() {
    for s in [
        "+33.5",
        ".5",
        "-.5",
        "5.",
        "-0",
        "-0.000",
        "007.25",
        "9007199254740993",
        "0.0000000000000000000001",
        "1234567890123456789",
        "12345678901234567890",
        "33.5123",
        "-112.2693",
        "1e308",
        "2.2250738585072011e-308",
        "123456789012345678901234567890",
    ] {
        assert_eq!(parse_float(s.as_bytes()), s.parse().ok(), "{s}");
    }
}

#[test]
fn integers_follow_parse_int_and_parse_uint() {
    assert_eq!(parse_uint(b"5"), Some(5));
    assert_eq!(parse_uint(b"05"), Some(5));
    assert_eq!(parse_uint(b"18446744073709551615"), Some(u64::MAX));
    for s in [
        "",
        "+5",
        "-1",
        "-0",
        "1_0",
        "0x10",
        " 5",
        "5 ",
        "1e3",
        "5.0",
        "18446744073709551616",
    ] {
        assert_eq!(parse_uint(s.as_bytes()), None, "{s:?}");
    }
    assert_eq!(parse_int(b"+5"), Some(5));
    assert_eq!(parse_int(b"-0"), Some(0));
    assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
    assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
    for s in [
        "",
        "+",
        "-",
        "9223372036854775808",
        "-9223372036854775809",
        "1_0",
        "--1",
        "+-1",
    ] {
        assert_eq!(parse_int(s.as_bytes()), None, "{s:?}");
    }
}

proptest::proptest! {
    /// The exact fast path and the full parse give the same bits: decimal
    /// texts of every shape clients send (a few to 20 digits, a point
    /// anywhere, exponents around the fast path's ±22 edge, signs, zeros).
    #[test]
    fn fast_path_decimals_match_the_full_parse(
        neg in proptest::bool::ANY,
        digits in "[0-9]{1,20}",
        point in 0usize..21,
        exp in proptest::option::of(-30i32..30),
    ) {
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        let point = point.min(digits.len());
        s.push_str(&digits[..point]);
        if point < digits.len() {
            if point == 0 {
                s.push('0');
            }
            s.push('.');
            s.push_str(&digits[point..]);
        }
        if let Some(e) = exp {
            s.push_str(&format!("e{e}"));
        }
        let want: f64 = s.parse().unwrap();
        proptest::prop_assert_eq!(parse_float(s.as_bytes()).map(f64::to_bits), Some(want.to_bits()), "{}", s);
    }
}

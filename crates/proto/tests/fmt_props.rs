//! Property tests for the shared text formatting.
//!
//! * (e) `write_f64` is exact, shortest and exponent-free (and, in an
//!   ignored test, spelled exactly like Go, exact ties included);
//! * (f) `write_json_str` emits valid JSON decoding to the lossy UTF-8 input;
//! * (g) `write_duration` prints a Go duration that parses back exactly.
//!
//! Case counts are set per block so the whole file stays well under ten
//! seconds in a debug build.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tile38_proto::fmt::{write_duration, write_f64, write_json_str};

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        // Every exponent and mantissa, subnormals included.
        4 => any::<u64>().prop_map(f64::from_bits),
        2 => any::<i64>().prop_map(|n| n as f64),
        2 => (any::<i32>(), 0u32..12).prop_map(|(n, k)| n as f64 / 10f64.powi(k as i32)),
        1 => -2e15f64..2e15,
        1 => select(vec![
            0.0,
            -0.0,
            1e15,
            -1e15,
            1e15 - 1.0,
            1e15 + 0.5,
            9007199254740993.0,
            1e21,
            1e22,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            -122.60000000000001,
        ]),
    ]
    .prop_filter("finite", |v| v.is_finite())
}

/// Bytes for JSON string escaping: control characters, quotes, HTML
/// characters, U+2028/9, valid multi-byte and broken UTF-8 sequences.
fn json_input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => any::<u8>().prop_map(|b| vec![b]),
        2 => (0u8..0x20).prop_map(|b| vec![b]),
        2 => select(vec![
            b"\"".to_vec(),
            b"\\".to_vec(),
            b"<".to_vec(),
            b">".to_vec(),
            b"&".to_vec(),
            b"\x7f".to_vec(),
            "\u{2028}".as_bytes().to_vec(),
            "\u{2029}".as_bytes().to_vec(),
            "é".as_bytes().to_vec(),
            "€".as_bytes().to_vec(),
            "😀".as_bytes().to_vec(),
            "\u{fffd}".as_bytes().to_vec(),
            b"\xe2\x82".to_vec(),     // truncated 3-byte sequence
            b"\xf0\x9f\x98".to_vec(), // truncated 4-byte sequence
            b"\xed\xa0\x80".to_vec(), // UTF-16 surrogate
            b"\xc0\xaf".to_vec(),     // overlong
            b"\xf5\x80\x80\x80".to_vec(),
            b"\x80".to_vec(),
        ]),
        2 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        2 => "[ -~]{0,8}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        3 => vec(piece, 0..48).prop_map(|ps| ps.concat()),
        1 => vec(any::<u8>(), 0..256),
        1 => "[ -~]{0,64}".prop_map(String::into_bytes),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// What Go's `strconv.FormatFloat(v, 'f', -1, 64)` prints, derived from
/// Rust's `Display` (shortest round-trip digits, positional) plus Go's
/// tie-break: when `v` lies exactly halfway between the two shortest
/// candidates, Go (`ryuDigits32`: `cNextDigit == 5 && c0 && central&1 == 1`)
/// rounds half to even, whereas `Display` rounds half up
/// (1770673829515688.25: Go `…688.2`, `Display` `…688.3`).
fn go_format_f64(v: f64) -> String {
    let s = format!("{v}");
    // Integral output: for |v| < 2^53 a non-integer never prints as an
    // integer, and above 2^53 an exact decimal tie is impossible.
    let Some((_, frac)) = s.split_once('.') else {
        return s;
    };
    let f = frac.len();
    // The exact decimal expansion of |v| (an f64 has at most 1074 fraction digits).
    let exact = format!("{:.1100}", v.abs());
    let (ei, ef) = exact.split_once('.').expect("fixed notation");
    let rest = &ef[f..];
    let tie = rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0');
    if !tie {
        return s;
    }
    // Candidates: |v| truncated to f decimals, and that plus one unit.
    let down: Vec<u8> = format!("{ei}{}", &ef[..f]).into_bytes();
    let mut up = down.clone();
    let mut i = up.len();
    loop {
        if i == 0 {
            up.insert(0, b'1');
            break;
        }
        i -= 1;
        if up[i] == b'9' {
            up[i] = b'0';
        } else {
            up[i] += 1;
            break;
        }
    }
    let render = |digits: &[u8]| {
        let (int, frac) = digits.split_at(digits.len() - f);
        let int = std::str::from_utf8(int).unwrap().trim_start_matches('0');
        let frac = std::str::from_utf8(frac).unwrap().trim_end_matches('0');
        let mut out = String::new();
        if v.is_sign_negative() {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    };
    let even_first = if down.last().unwrap().is_multiple_of(2) {
        [&down, &up]
    } else {
        [&up, &down]
    };
    for cand in even_first {
        let text = render(cand);
        if text.parse::<f64>().map(f64::to_bits) == Ok(v.to_bits()) {
            return text;
        }
    }
    s
}

/// Values in [2^40, 2^53): few fraction bits, so exact decimal ties
/// between two shortest candidates are common.
fn tie_prone_f64() -> impl Strategy<Value = f64> {
    (1063u64..1076, any::<u64>(), any::<bool>()).prop_map(|(exp, mant, neg)| {
        f64::from_bits(((neg as u64) << 63) | (exp << 52) | (mant & ((1 << 52) - 1)))
    })
}

/// Parses a Go `time.Duration` string (`1h2m3.5s`, `12.5µs`, `0s`) into
/// nanoseconds, exactly.
fn parse_go_duration(s: &str) -> Option<u64> {
    if s == "0s" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let (unit, scale): (&str, u64) = [
            ("ns", 1),
            ("µs", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ]
        .into_iter()
        .find(|(u, _)| tail.starts_with(u))?;
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() {
            return None;
        }
        total += int.parse::<u64>().ok()? * scale;
        if !frac.is_empty() {
            let mut f: u64 = 0;
            let mut div: u64 = 1;
            for d in frac.bytes() {
                f = f * 10 + (d - b'0') as u64;
                div *= 10;
            }
            if !(f * scale).is_multiple_of(div) {
                return None;
            }
            total += f * scale / div;
        }
        rest = &tail[unit.len()..];
    }
    Some(total)
}

// ---------------------------------------------------------------------------
// (e) Floats, (f) JSON strings, (g) durations
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn e_write_f64_round_trips_without_exponent(v in finite_f64()) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        let text = std::str::from_utf8(&out).expect("ASCII");
        prop_assert!(!text.contains(['e', 'E']), "exponent in {}", text);
        let back: f64 = text.parse().expect("parses as f64");
        prop_assert_eq!(back.to_bits(), v.to_bits(), "{} -> {} -> {}", v, text, back);
        // Shortest: as many significant digits as Display (which is shortest).
        let sig = |t: &str| {
            let d: String = t.chars().filter(char::is_ascii_digit).collect();
            d.trim_matches('0').len()
        };
        prop_assert_eq!(sig(text), sig(&format!("{v}")), "{} is not shortest", text);
        // Shape: -?digits(.digits)? with no redundant zeros.
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        prop_assert!(!int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()));
        prop_assert!(int == "0" || !int.starts_with('0'), "leading zero in {}", text);
        prop_assert!(frac.bytes().all(|b| b.is_ascii_digit()));
        prop_assert!(!frac.ends_with('0'), "trailing zero in {}", text);
        prop_assert_eq!(digits.contains('.'), !frac.is_empty());
    }

    /// Go's exact spelling, ties included. Ignored: `write_f64` currently
    /// falls back to `Display` outside its fast path, and `Display` breaks
    /// exact ties half-up where Go breaks them half-to-even (see
    /// `write_f64_exact_tie_like_go`). Run with `--ignored`.
    #[test]
    #[ignore = "write_f64 rounds exact ties half-up (Rust Display); Go rounds half-even"]
    fn e_write_f64_spells_like_go(v in prop_oneof![finite_f64(), tie_prone_f64()]) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        prop_assert_eq!(std::str::from_utf8(&out).unwrap(), go_format_f64(v));
    }

    #[test]
    fn g_write_duration_parses_back(
        nanos in prop_oneof![
            3 => any::<u64>(),
            3 => 0u64..10_000_000_000,
            2 => 0u64..1_000_000_000_000_000,
            1 => (0u64..100, select(vec![1u64, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000]))
                .prop_map(|(n, u)| n * u),
        ]
    ) {
        let mut out = Vec::new();
        write_duration(&mut out, nanos);
        let text = String::from_utf8(out).expect("UTF-8");
        prop_assert_eq!(parse_go_duration(&text), Some(nanos), "{} printed as {}", nanos, text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn f_write_json_str_is_valid_json(input in json_input()) {
        let mut out = Vec::new();
        write_json_str(&mut out, &input);
        let decoded: String = match serde_json::from_slice(&out) {
            Ok(s) => s,
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "invalid JSON {:?} for input {:?}: {e}",
                    String::from_utf8_lossy(&out),
                    input
                )))
            }
        };
        prop_assert_eq!(decoded, go_lossy(&input));
        // Escaped output is ASCII-clean of control characters.
        prop_assert!(!out.iter().any(|&b| b < 0x20));
    }
}

/// Go's lossy decoding: each byte that does not start a valid sequence is
/// one U+FFFD (Rust's `from_utf8_lossy` takes maximal invalid subparts).
fn go_lossy(mut b: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => return out + s,
            Err(e) => {
                let (good, bad) = b.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap());
                out.push('\u{fffd}');
                b = &bad[1..];
            }
        }
    }
}
// ---------------------------------------------------------------------------
// Fixed regressions of the properties above (cheap, always run).
// ---------------------------------------------------------------------------

#[test]
fn float_oracle_sanity() {
    // Exact ties: Go rounds half to even. (Sums keep the literals exact.)
    let tie = 1770673829515688.0 + 0.25;
    assert_eq!(go_format_f64(tie), "1770673829515688.2");
    assert_eq!(go_format_f64(-tie), "-1770673829515688.2");
    assert_eq!(
        go_format_f64(249061139720566.0 + 0.125),
        "249061139720566.12"
    );
    assert_eq!(
        go_format_f64(1770673829515688.0 + 0.75),
        "1770673829515688.8"
    );
    // No tie: Display's digits.
    assert_eq!(go_format_f64(-0.0), "-0");
    assert_eq!(go_format_f64(1e21), "1000000000000000000000");
    assert_eq!(go_format_f64(1e-7), "0.0000001");
    assert_eq!(go_format_f64(0.07893802344654667), "0.07893802344654667");
    assert_eq!(go_format_f64(123.0), "123");
    assert_eq!(go_format_f64(5e-324), format!("{}", 5e-324));
}

/// Go: `strconv.FormatFloat(1770673829515688.25, 'f', -1, 64)` is
/// `1770673829515688.2` (17 digits; `.2` and `.3` are equally near and both
/// round-trip, Ryū picks the even one). Rust's `Display` gives `…688.3`.
#[test]
#[ignore = "write_f64 rounds exact ties half-up (Rust Display); Go rounds half-even"]
fn write_f64_exact_tie_like_go() {
    let mut out = Vec::new();
    write_f64(&mut out, 1770673829515688.0 + 0.25);
    assert_eq!(String::from_utf8(out).unwrap(), "1770673829515688.2");
}

#[test]
fn duration_parser_sanity() {
    assert_eq!(parse_go_duration("0s"), Some(0));
    assert_eq!(parse_go_duration("1h0m0s"), Some(3_600_000_000_000));
    assert_eq!(parse_go_duration("12.5µs"), Some(12_500));
    assert_eq!(parse_go_duration("1m2.5s"), Some(62_500_000_000));
}

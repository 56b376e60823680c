//! Text formatting shared by every reply: Go-compatible floats, JSON string
//! escaping, Go `time.Duration` strings for the JSON `elapsed` member, and
//! Go's `strconv.Quote` (MONITOR lines, Go error texts that quote input).
//!
//! Tile38 prints floats with `strconv.FormatFloat(f, 'f', -1, 64)`: shortest
//! round-trip digits and never an exponent. Rust's `Display` for `f64` has the
//! same contract, except that an exact tie between two shortest candidates
//! goes to the even digit in Go ([`write_f64`]); and the non-finite
//! spellings differ.

use std::io::Write as _;

mod tie;
use tie::even_on_tie;

/// Appends `v` the way Go's `FormatFloat(v, 'f', -1, 64)` spells it:
/// `33`, `-112.5`, `0.0000001`, `1000000000000000000000`, `-0`, `NaN`, `+Inf`.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        if v == v.trunc() && v.abs() < 1e15 {
            // Integral values are by far the most common coordinates; itoa-style
            // formatting skips the shortest-digits search.
            if v == 0.0 && v.is_sign_negative() {
                out.extend_from_slice(b"-0");
            } else {
                write_i64(out, v as i64);
            }
        } else if !write_short_decimal(out, v) {
            // Display prints the shortest round-trip digits positionally,
            // choosing the closest among equally short candidates, as Go does;
            // an exact tie between two of them goes up, where Go takes the
            // even digit.
            let start = out.len();
            let _ = write!(out, "{v}");
            even_on_tie(out, start, v);
        }
    } else if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v > 0.0 {
        out.extend_from_slice(b"+Inf");
    } else {
        out.extend_from_slice(b"-Inf");
    }
}

const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Fast path for coordinates with few decimals (`33.5`, `-112.1`): the
/// nearest k-digit decimal, for the smallest k whose value parses back to
/// exactly `v`, is the shortest round-trip form. Division of two exact
/// integers-as-f64 is correctly rounded, like parsing the decimal text.
fn write_short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    let a = v.abs();
    // Below 1e6 a float's spacing is far finer than 1e-9, so two k-digit
    // decimals can never both round-trip and the choice is unambiguous.
    if a >= 1e6 {
        return false;
    }
    for (k, &p) in POW10.iter().enumerate().skip(1) {
        let scaled = a * p;
        if scaled >= 9.0e15 {
            return false;
        }
        let n = scaled.round();
        if n / p == a {
            let n = n as u64;
            let unit = p as u64;
            if v < 0.0 {
                out.push(b'-');
            }
            write_u64(out, n / unit);
            out.push(b'.');
            let frac = n % unit;
            let mut digits = [b'0'; 9];
            let mut f = frac;
            for d in digits[..k].iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            out.extend_from_slice(&digits[..k]);
            return true;
        }
    }
    false
}

/// `f64` as a Go-formatted string.
pub fn f64_string(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, v);
    String::from_utf8(out).expect("float text is ASCII")
}

/// The decimal digits of `n`, written at the end of `buf`.
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut m = n;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Appends a decimal integer.
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(decimal(v.unsigned_abs(), &mut [0u8; 20]));
}

/// Appends a decimal unsigned integer.
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(decimal(v, &mut [0u8; 20]));
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b > 0x7e
}

/// Appends `s` as a quoted JSON string, escaped like Tile38 does: bytes that
/// need no escaping are copied as is; otherwise Go's `encoding/json` rules
/// apply (`\u003c` for `<`, `\b`/`\f`/`\n`...), except that each invalid
/// UTF-8 byte becomes the character U+FFFD itself, not its escape (Tile38
/// 1.37 checked: `PING \xff` in JSON answers `"\u{fffd}"` as UTF-8).
pub fn write_json_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    if !s.iter().any(|&b| needs_escape(b)) {
        out.extend_from_slice(s);
    } else {
        write_json_escaped(out, s);
    }
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_json_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let mut rest = s;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                escape_str(out, text);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                escape_str(out, std::str::from_utf8(good).expect("validated prefix"));
                // One per byte, as Go decodes: a truncated sequence is
                // as many characters as it has bytes.
                out.extend_from_slice("\u{fffd}".as_bytes());
                rest = &bad[1..];
            }
        }
    }
}

fn escape_str(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => unicode_escape(out, c as u32),
            c if (c as u32) < 0x20 => unicode_escape(out, c as u32),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn unicode_escape(out: &mut Vec<u8>, c: u32) {
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((c >> shift) & 0xf) as usize]);
    }
}

/// Appends a duration the way Go's `time.Duration.String()` prints it:
/// `0s`, `850ns`, `12.5µs`, `1.234567ms`, `2.5s`, `1m2.5s`, `1h0m0s`.
pub fn write_duration(out: &mut Vec<u8>, nanos: u64) {
    if nanos == 0 {
        out.extend_from_slice(b"0s");
        return;
    }
    if nanos < 1_000 {
        write_u64(out, nanos);
        out.extend_from_slice(b"ns");
        return;
    }
    if nanos < 1_000_000 {
        write_fraction(out, nanos, 1_000);
        out.extend_from_slice("µs".as_bytes());
        return;
    }
    if nanos < 1_000_000_000 {
        write_fraction(out, nanos, 1_000_000);
        out.extend_from_slice(b"ms");
        return;
    }
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        write_u64(out, h);
        out.push(b'h');
    }
    if h > 0 || m > 0 {
        write_u64(out, m);
        out.push(b'm');
    }
    write_fraction(out, s * 1_000_000_000 + frac, 1_000_000_000);
    out.push(b's');
}

/// `value / unit` with the remainder as a decimal fraction, trailing zeros trimmed.
fn write_fraction(out: &mut Vec<u8>, value: u64, unit: u64) {
    write_u64(out, value / unit);
    let mut frac = value % unit;
    if frac == 0 {
        return;
    }
    let mut digits = unit.trailing_zeros_decimal();
    while frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    out.push(b'.');
    let text = frac.to_string();
    for _ in text.len()..digits {
        out.push(b'0');
    }
    out.extend_from_slice(text.as_bytes());
}

trait DecimalDigits {
    fn trailing_zeros_decimal(self) -> usize;
}

impl DecimalDigits for u64 {
    fn trailing_zeros_decimal(self) -> usize {
        let mut n = self;
        let mut d = 0;
        while n > 1 {
            n /= 10;
            d += 1;
        }
        d
    }
}

/// Go's `strconv.Quote`: printable runes as they are, the usual
/// backslash escapes, other control and non-printable runes as `\xNN`
/// (below 0x80), `\uNNNN` or `\UNNNNNNNN`, bytes that are not UTF-8 as
/// `\xNN`.
pub fn go_quote(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in arg.utf8_chunks() {
        for c in chunk.valid().chars() {
            let escaped = match c {
                '\x07' => "\\a",
                '\x08' => "\\b",
                '\x0c' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\x0b' => "\\v",
                '"' => "\\\"",
                '\\' => "\\\\",
                c if c.is_ascii_control() => {
                    out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes());
                    continue;
                }
                c if !printable(c) => {
                    let esc = match c as u32 {
                        n if n < 0x10000 => format!("\\u{n:04x}"),
                        n => format!("\\U{n:08x}"),
                    };
                    out.extend_from_slice(esc.as_bytes());
                    continue;
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
            };
            out.extend_from_slice(escaped.as_bytes());
        }
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out.push(b'"');
}

/// An approximation of Go's `unicode.IsPrint` for runes above ASCII:
/// controls, separators other than the space, and the non-characters are
/// not printable.
fn printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{00a0}' | '\u{00ad}' | '\u{feff}'
        )
        || matches!(c as u32, 0xfff9..=0xfffb | 0xfffe | 0xffff))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        f64_string(v)
    }

    #[test]
    fn exact_ties_take_the_even_digit_like_go() {
        // A geohash cell edge: exactly halfway between …812 and …813.
        assert_eq!(
            f("-112.045440673828125".parse().unwrap()),
            "-112.04544067382812"
        );
        // Grid edges of 2^-k degrees, against Go's (and Python's) shortest
        // round-half-even digits.
        for (v, go) in [
            (-112.04544067382812_f64, "-112.04544067382812"),
            (33.026275634765625, "33.026275634765625"),
            (-179.99862670898438, "-179.99862670898438"),
        ] {
            assert_eq!(f(v), go);
        }
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(f(33.0), "33");
        assert_eq!(f(-112.1), "-112.1");
        assert_eq!(f(1e-7), "0.0000001");
        assert_eq!(f(1e21), "1000000000000000000000");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(123.45678912345679), "123.45678912345679");
        assert_eq!(
            f(123456789012345678901234567890.0),
            "123456789012345680000000000000"
        );
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(f(-122.60000000000001), "-122.60000000000001");
        assert_eq!(f(1e15), "1000000000000000");
    }

    #[test]
    fn fast_paths_agree_with_shortest_display() {
        // A cheap deterministic generator: coordinates with 1-9 decimals and
        // arbitrary bit patterns.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = if i % 2 == 0 {
                let decimals = (x % 9) as i32 + 1;
                ((x >> 8) % 360_000_000_000) as f64 / 10f64.powi(decimals) - 180.0
            } else {
                f64::from_bits(x)
            };
            if v.is_finite() {
                let (ours, display) = (f(v), format!("{v}"));
                // Display and Go differ only on exact ties (even digit).
                let same_length_even_tie = ours.len() == display.len()
                    && ours.parse::<f64>() == Ok(v)
                    && ours.as_bytes()[..ours.len() - 1] == display.as_bytes()[..ours.len() - 1]
                    && (ours.as_bytes()[ours.len() - 1] - b'0').is_multiple_of(2);
                assert!(
                    ours == display || same_length_even_tie,
                    "{v:?}: {ours} {display}"
                );
            }
        }
    }

    fn dur(n: u64) -> String {
        let mut out = Vec::new();
        write_duration(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(dur(0), "0s");
        assert_eq!(dur(850), "850ns");
        assert_eq!(dur(12_500), "12.5µs");
        assert_eq!(dur(1_000), "1µs");
        assert_eq!(dur(32_443), "32.443µs");
        assert_eq!(dur(1_234_567), "1.234567ms");
        assert_eq!(dur(2_500_000_000), "2.5s");
        assert_eq!(dur(62_500_000_000), "1m2.5s");
        assert_eq!(dur(3_600_000_000_000), "1h0m0s");
        assert_eq!(dur(1_000_001), "1.000001ms");
    }

    fn js(s: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_strings_like_go() {
        assert_eq!(js(b"truck1"), "\"truck1\"");
        assert_eq!(js(b"<html>&amp;"), "\"<html>&amp;\"");
        assert_eq!(js(b"a\"<b"), "\"a\\\"\\u003cb\"");
        assert_eq!(js(b"\x00\x07\x1f\n"), "\"\\u0000\\u0007\\u001f\\n\"");
        assert_eq!(js("ünï".as_bytes()), "\"ünï\"");
        assert_eq!(js(b"a\xffb"), "\"a\u{fffd}b\"");
        assert_eq!(js(b"\xe2\x82<"), "\"\u{fffd}\u{fffd}\\u003c\"");
    }

    #[test]
    fn go_quote_escapes_as_go() {
        let mut out = Vec::new();
        go_quote(b"a\"\\\n\t\x01\x7f\xff\xc2\x85\xc3\xa9", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"\\\\\\n\\t\\x01\\x7f\\xff\\u0085\u{e9}\""
        );
    }
}

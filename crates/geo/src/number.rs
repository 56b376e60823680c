//! The one number parser for command arguments: Go's `strconv.ParseFloat(s,
//! 64)`, `strconv.ParseInt(s, 10, 64)` and `strconv.ParseUint(s, 10, 64)`,
//! which Tile38 calls on every numeric argument (coordinates, BOUNDS,
//! radii, EX seconds, WHERE ranges, field values, LIMIT/CURSOR counts).
//!
//! Go's float grammar differs from Rust's `f64::from_str` in both
//! directions, and the differences are visible to clients (Tile38 1.37,
//! `SET k id POINT <lat> 0`):
//!
//! * accepted by Go only: `_` between digits (`1_000`), hexadecimal
//!   mantissas with a binary exponent (`0x1p4`, `0X1.8P1`, `0x_1p4`);
//! * accepted by Rust only: a signed NaN (`-nan`, `+nan`: Go takes a sign
//!   before `inf`/`infinity` only);
//! * both: `inf`/`infinity`/`nan` in any case, `.5`, `5.`, `+5`, `017`
//!   (decimal), `1e-999` (0, no error), and no surrounding spaces;
//! * out of range (`1e999`, `0x1p1024`): Go returns ±Inf *and* an error,
//!   so Tile38 rejects the argument; [`parse_float_go`] reports both.
//!
//! Decimal values are converted by `f64::from_str` once Go's grammar has
//! been checked (both are correctly rounded, so the bits agree);
//! hexadecimal ones by a port of Go's `atofHex`.
//!
//! The integers follow `ParseInt`/`ParseUint` with base 10: ASCII digits,
//! a sign only for the signed form (`+5` is not a valid LIMIT), no `_`,
//! range-checked.
//!
//! JSON documents (GeoJSON coordinates, JSET values) keep the stricter JSON
//! number grammar in their own scanners: there `0x1p4` or `1_000` is not a
//! number at all but invalid JSON.

#[cfg(test)]
mod tests;

/// Why [`parse_float_go`] failed (Go's `ErrSyntax` / `ErrRange`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FloatError {
    /// Not a number in Go's syntax.
    Syntax,
    /// Well-formed but beyond `f64`: the ±Inf Go returns with the error.
    Range(f64),
}

/// Go's `strconv.ParseFloat(s, 64)`: `None` wherever Go returns an error
/// (syntax or range), which is how Tile38 treats numeric arguments.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    parse_float_go(s).ok()
}

/// Go's `strconv.ParseFloat(s, 64)` with its error kinds.
pub fn parse_float_go(s: &[u8]) -> Result<f64, FloatError> {
    if let Some(v) = plain_decimal(s) {
        return Ok(v);
    }
    if let Some((v, n)) = special(s) {
        return if n == s.len() {
            Ok(v)
        } else {
            Err(FloatError::Syntax)
        };
    }
    let r = read_float(s).ok_or(FloatError::Syntax)?;
    let v = if r.hex {
        atof_hex(r.mantissa, r.exp, r.neg, r.trunc)
    } else if let Some(v) = exact_decimal(&r) {
        v
    } else {
        decimal(s, &r)
    };
    if v.is_infinite() {
        Err(FloatError::Range(v))
    } else {
        Ok(v)
    }
}

/// Go's `strconv.ParseUint(s, 10, 64)`.
pub fn parse_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &c| {
        let d = c.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let n = parse_uint(digits)?;
    if neg {
        0i64.checked_sub_unsigned(n)
    } else {
        i64::try_from(n).ok()
    }
}

/// Go's `special`: `[+-]inf`, `[+-]infinity` and `nan` (no sign), any case;
/// the value and how many bytes it took.
fn special(s: &[u8]) -> Option<(f64, usize)> {
    let (sign, body) = match s.first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        b'n' | b'N' => {
            return (prefix_len_ignore_case(s, b"nan") == 3).then_some((f64::NAN, 3));
        }
        _ => (1.0, s),
    };
    let signed = s.len() - body.len();
    match prefix_len_ignore_case(body, b"infinity") {
        3..=7 => Some((sign * f64::INFINITY, signed + 3)),
        8 => Some((sign * f64::INFINITY, signed + 8)),
        _ => None,
    }
}

fn prefix_len_ignore_case(s: &[u8], word: &[u8]) -> usize {
    s.iter()
        .zip(word)
        .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
        .count()
}

/// What Go's `readFloat` learns from a well-formed number.
#[derive(Default)]
struct Read {
    neg: bool,
    hex: bool,
    underscores: bool,
    /// Hex only: the first 16 digits and whether later non-zero ones were
    /// dropped; the value is `mantissa * 2^exp`.
    mantissa: u64,
    trunc: bool,
    exp: i64,
    /// Decimal only: the exponent as Go accumulates it (capped near 10⁵)
    /// and where the exponent part starts.
    dec_exp: i64,
    exp_at: usize,
}

/// Go's `readFloat`, requiring the whole input to be consumed.
fn read_float(s: &[u8]) -> Option<Read> {
    let mut r = Read::default();
    let mut i = 0;
    match s.first()? {
        b'+' => i += 1,
        b'-' => (r.neg, i) = (true, 1),
        _ => {}
    }
    if i + 2 < s.len() && s[i] == b'0' && s[i + 1].eq_ignore_ascii_case(&b'x') {
        r.hex = true;
        i += 2;
    }
    let (dp, nd_mant) = read_mantissa(s, &mut i, &mut r)?;
    r.exp_at = i;
    let dp = dp + read_exponent(s, &mut i, &mut r)?;
    if r.mantissa != 0 {
        r.exp = dp - nd_mant;
    }
    let ok = i == s.len() && (!r.underscores || underscore_ok(s));
    ok.then_some(r)
}

/// The digits (and `.`, `_`) of a mantissa from `s[*i..]`, into
/// `r.mantissa`: the decimal point's place and the digits kept (both in
/// bits for hex); `None` without a digit.
fn read_mantissa(s: &[u8], i: &mut usize, r: &mut Read) -> Option<(i64, i64)> {
    let (base, max_digits) = if r.hex { (16, 16) } else { (10, 19) };
    let (mut saw_dot, mut saw_digits) = (false, false);
    let (mut nd, mut nd_mant, mut dp) = (0i64, 0i64, 0i64);
    while let Some(&c) = s.get(*i) {
        let digit = match c {
            b'_' => {
                r.underscores = true;
                *i += 1;
                continue;
            }
            b'.' if saw_dot => break,
            b'.' => {
                (saw_dot, dp) = (true, nd);
                *i += 1;
                continue;
            }
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'f' | b'A'..=b'F' if r.hex => u64::from(c.to_ascii_lowercase() - b'a' + 10),
            _ => break,
        };
        *i += 1;
        saw_digits = true;
        if c == b'0' && nd == 0 {
            dp -= 1; // leading zeros
            continue;
        }
        nd += 1;
        if nd_mant < max_digits {
            r.mantissa = r.mantissa * base + digit;
            nd_mant += 1;
        } else if c != b'0' {
            r.trunc = true;
        }
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        dp = nd;
    }
    if r.hex {
        dp *= 4;
        nd_mant *= 4;
    }
    Some((dp, nd_mant))
}

/// The exponent part at `s[*i..]` (`e`, or `p` for hex, in either case),
/// also kept in `r.dec_exp`: its value, 0 without one; `None` when it has
/// no digits or a hex mantissa lacks it.
fn read_exponent(s: &[u8], i: &mut usize, r: &mut Read) -> Option<i64> {
    let exp_char = if r.hex { b'p' } else { b'e' };
    if !s.get(*i).is_some_and(|c| c.eq_ignore_ascii_case(&exp_char)) {
        // A hex mantissa needs its `p` exponent.
        return (!r.hex).then_some(0);
    }
    *i += 1;
    let mut esign = 1;
    match s.get(*i) {
        Some(b'+') => *i += 1,
        Some(b'-') => (esign, *i) = (-1, *i + 1),
        _ => {}
    }
    if !s.get(*i)?.is_ascii_digit() {
        return None;
    }
    let mut e = 0i64;
    while let Some(&c) = s.get(*i).filter(|c| c.is_ascii_digit() || **c == b'_') {
        *i += 1;
        if c == b'_' {
            r.underscores = true;
        } else if e < 10_000 {
            e = e * 10 + i64::from(c - b'0');
        }
    }
    r.dec_exp = e * esign;
    Some(e * esign)
}

/// Go's `underscoreOK`: each `_` sits between digits (a base prefix counts
/// as a digit).
fn underscore_ok(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"+").or(s.strip_prefix(b"-")).unwrap_or(s);
    let mut i = 0;
    let mut saw = b'^';
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        (i, saw, hex) = (2, b'0', s[1].eq_ignore_ascii_case(&b'x'));
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// The powers of ten an `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The text of nearly every coordinate and radius a client sends
/// (`-112.26881`, `33`, `.5`, `5.`): an optional sign, at most 19 digits
/// with at most one `.`, nothing else, and the digits' value below 2⁵³.
/// Then the value is that integer divided by an exact power of ten, one
/// correctly rounded operation, so the bits are those of Go's
/// `ParseFloat` (whose own exact path is the same division) without the
/// grammar walk of [`read_float`]. Anything else (`_`, hex, exponents,
/// `inf`, long mantissas) takes the full parse. A request's floats are
/// parsed before the lock (BOUNDS: four per query, about a tenth of a
/// bounds query's time in the server before this path).
#[inline]
fn plain_decimal(s: &[u8]) -> Option<f64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mut m, mut n, mut frac, mut dot) = (0u64, 0u32, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' if n < 19 => {
                m = m * 10 + u64::from(c - b'0');
                n += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if n == 0 || m >> 53 != 0 || frac >= POW10.len() {
        return None;
    }
    let v = m as f64 / POW10[frac];
    Some(if neg { -v } else { v })
}

/// Go's `atof64exact` (Clinger's fast path): a mantissa of at most 53 bits
/// and a power of ten that is itself exact give the correctly rounded value
/// in one multiplication or division. Plainly written coordinates
/// (`33.46152`) take [`plain_decimal`] before the grammar walk; this serves
/// the other short decimals (`1.5e3`), with the same value the full parse
/// gives (both are correctly rounded), without reading the text again.
fn exact_decimal(r: &Read) -> Option<f64> {
    if r.trunc || r.underscores || r.mantissa >> 53 != 0 {
        return None;
    }
    let m = r.mantissa as f64;
    let v = match r.exp {
        0..=22 => m * POW10[r.exp as usize],
        -22..=-1 => m / POW10[(-r.exp) as usize],
        _ => return None,
    };
    Some(if r.neg { -v } else { v })
}

/// A decimal Go accepted, converted by Rust's (equally exact) parser: the
/// text as is when Rust reads it the same way, else rebuilt without `_`
/// and with Go's capped exponent.
fn decimal(s: &[u8], r: &Read) -> f64 {
    let text = std::str::from_utf8(s).unwrap_or("");
    let capped = r.dec_exp.unsigned_abs() >= 10_000;
    if !r.underscores && !capped {
        return text.parse().unwrap_or(f64::NAN);
    }
    let mantissa: String = text[..r.exp_at].chars().filter(|&c| c != '_').collect();
    format!("{mantissa}e{}", r.dec_exp)
        .parse()
        .unwrap_or(f64::NAN)
}

/// Go's `atofHex` for float64: `mantissa * 2^exp`, rounded to nearest
/// even (`trunc`: non-zero digits were dropped), ±Inf past the range.
fn atof_hex(mut mantissa: u64, exp: i64, neg: bool, trunc: bool) -> f64 {
    const MANT_BITS: u32 = 52;
    const BIAS: i64 = -1023;
    const MAX_EXP: i64 = (1 << 11) + BIAS - 2;
    const MIN_EXP: i64 = BIAS + 1;
    let mut exp = exp + i64::from(MANT_BITS);
    while mantissa != 0 && mantissa >> (MANT_BITS + 2) == 0 {
        mantissa <<= 1;
        exp -= 1;
    }
    if trunc {
        mantissa |= 1;
    }
    while mantissa >> (1 + MANT_BITS + 2) != 0 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    // Denormalise when too small, keeping the sticky bit.
    while mantissa > 1 && exp < MIN_EXP - 2 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    let mut round = mantissa & 3;
    mantissa >>= 2;
    round |= mantissa & 1; // round half to even
    exp += 2;
    if round == 3 {
        mantissa += 1;
        if mantissa == 1 << (1 + MANT_BITS) {
            mantissa >>= 1;
            exp += 1;
        }
    }
    if mantissa >> MANT_BITS == 0 {
        exp = BIAS; // denormal or zero
    }
    let sign = if neg { 1u64 << 63 } else { 0 };
    if exp > MAX_EXP {
        return f64::from_bits(sign | 0x7ff0_0000_0000_0000);
    }
    let bits = (mantissa & ((1 << MANT_BITS) - 1)) | (((exp - BIAS) as u64 & 0x7ff) << MANT_BITS);
    f64::from_bits(sign | bits)
}

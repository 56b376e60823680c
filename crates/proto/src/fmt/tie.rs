//! Go's choice on an exact tie between two shortest decimals: Rust's
//! `Display` rounds such a tie up, Go's `strconv.FormatFloat` keeps the
//! even last digit (`-112.045440673828125` prints `…812` in Go). Rare
//! (a value exactly halfway needs a long exact binary fraction, a grid or
//! geohash edge), so it is checked only for long digit strings, and then
//! with integer arithmetic.

/// Rewrites the digits Display wrote at `out[start..]` for `v` when `v`
/// lies exactly halfway between them and a neighbour of the same length
/// (`-112.045440673828125`, a geohash cell edge): Go's shortest formatting
/// then keeps the even last digit (`…812`), Display the upper one (`…813`).
/// A tie needs `v`'s exact decimal expansion to end one digit further, so
/// only long digit strings are checked.
pub(super) fn even_on_tie(out: &mut [u8], start: usize, v: f64) {
    let text = &out[start..];
    let digits = text.iter().filter(|c| c.is_ascii_digit()).count();
    let Some(&last) = text.last() else { return };
    if digits < 16 || !last.is_ascii_digit() || !text.contains(&b'.') || v.abs() < 1e-10 {
        return;
    }
    let d = last - b'0';
    // Display rounds a tie up, so an odd last digit may have an even
    // neighbour one step down at the same distance.
    if d.is_multiple_of(2) {
        return;
    }
    let alt = d - 1;
    // `v` is the midpoint of `…alt` and `…d` when its exact expansion is
    // `…alt5`.
    let mut mid = text[usize::from(v < 0.0)..].to_vec();
    *mid.last_mut().expect("digits") = b'0' + alt;
    mid.push(b'5');
    if is_exactly(v.abs(), &mid) {
        let end = out.len() - 1;
        out[end] = b'0' + alt;
        debug_assert_eq!(
            std::str::from_utf8(&out[start..])
                .ok()
                .and_then(|t| t.parse::<f64>().ok()),
            Some(v)
        );
    }
}

/// Whether the finite `a > 0` is exactly the decimal `digits` (ASCII
/// digits with one `.`, the last not 0, at most 38 significant: ours have
/// 18), by integers: `a` is `m·2^-n` with `m` odd, whose
/// expansion has exactly `n` decimals, `m·5^n` of them as one integer. (It
/// replaced formatting `a` to 120 places twice: a quarter of a GET's time
/// for coordinates of 16 or more digits ending odd.)
fn is_exactly(a: f64, digits: &[u8]) -> bool {
    let bits = a.to_bits();
    let (exp, frac) = ((bits >> 52) & 0x7ff, bits & ((1 << 52) - 1));
    let (m, e) = match exp {
        0 => (frac, -1074),
        _ => (frac | 1 << 52, exp as i64 - 1075),
    };
    if m == 0 {
        return false;
    }
    let (m, e) = (m >> m.trailing_zeros(), e + i64::from(m.trailing_zeros()));
    let Some(dot) = digits.iter().position(|&c| c == b'.') else {
        return false;
    };
    let places = digits.len() - dot - 1;
    if e >= 0 || e.unsigned_abs() != places as u64 {
        return false;
    }
    let mut scaled = u128::from(m);
    for _ in 0..places {
        let Some(x) = scaled.checked_mul(5) else {
            return false;
        };
        scaled = x;
    }
    let mut written = 0u128;
    for &c in digits.iter().filter(|&&c| c != b'.') {
        let Some(x) = written
            .checked_mul(10)
            .and_then(|x| x.checked_add(u128::from(c - b'0')))
        else {
            return false;
        };
        written = x;
    }
    scaled == written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer test of an exact decimal agrees with formatting the
    /// number to enough places (the way it was done before).
    #[test]
    fn exact_decimals_by_integers() {
        let by_format = |a: f64, digits: &[u8]| {
            let places = digits.len() - digits.iter().position(|&c| c == b'.').unwrap() - 1;
            let long = format!("{:.*}", places.max(1100), a);
            long.as_bytes()[..digits.len()] == *digits
                && long.as_bytes()[digits.len()..].iter().all(|&c| c == b'0')
        };
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let tie: f64 = "112.045440673828125".parse().unwrap();
        let mut cases = vec![(tie, "112.045440673828125".to_string())];
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Grid values (exact short binary fractions) and arbitrary ones.
            let a = match i % 2 {
                0 => (x % (1 << 40)) as f64 / (1u64 << (x % 40)) as f64,
                _ => f64::from_bits(x >> 2),
            };
            if a > 0.0 && a.is_finite() && a < 1e20 {
                let exact = format!("{:.60}", a);
                let trimmed = exact.trim_end_matches('0').to_string();
                cases.push((a, trimmed.clone()));
                cases.push((a, format!("{trimmed}1")));
                cases.push((a, format!("{:.3}", a)));
            }
        }
        let mut hits = 0;
        for (a, digits) in &cases {
            let significant = digits.replace('.', "");
            if !digits.contains('.')
                || digits.ends_with(['.', '0'])
                || significant.trim_start_matches('0').len() > 38
            {
                continue;
            }
            let want = by_format(*a, digits.as_bytes());
            assert_eq!(is_exactly(*a, digits.as_bytes()), want, "{a:?} {digits}");
            hits += usize::from(want);
        }
        assert!(hits > 5_000, "{hits}");
    }
}

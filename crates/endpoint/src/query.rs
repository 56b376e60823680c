//! The Go standard-library pieces Tile38's `parseEndpoint` leans on, on
//! bytes as Go strings are: `url.QueryUnescape`, `url.ParseQuery`,
//! `strconv.ParseUint`, `strings.TrimSpace`, and Tile38's own `queryBool`
//! and `queryInt`.

/// Go's `strconv.ParseUint(s, 10, bits)`: digits only, no sign.
pub fn parse_uint(s: &[u8], bits: u32) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (bits >= 64 || v < (1u64 << bits)).then_some(v)
}

/// Go's `strconv.Atoi`: an optional sign, then digits.
pub fn atoi(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Go's `url.QueryUnescape`: `%XX` escapes and `+` as space.
pub fn unescape(s: &[u8]) -> Option<Vec<u8>> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hi = hex(*s.get(i + 1)?)?;
                let lo = hex(*s.get(i + 2)?)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// `(key, value)` pairs in order, unescaped.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Go's `url.ParseQuery`: `None` on a bad escape or a `;` in a pair (Go
/// reports the error after parsing the rest; Tile38 refuses the URL).
pub fn parse_query(q: &[u8]) -> Option<Pairs> {
    let mut pairs = Vec::new();
    let mut ok = true;
    for part in q.split(|&b| b == b'&') {
        if part.contains(&b';') {
            ok = false;
            continue;
        }
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &part[part.len()..]),
        };
        match (unescape(k), unescape(v)) {
            (Some(k), Some(v)) => pairs.push((k, v)),
            _ => ok = false,
        }
    }
    ok.then_some(pairs)
}

/// The first value given for `key` (what Tile38 reads as `val[0]`).
pub fn first<'a>(pairs: &'a [(Vec<u8>, Vec<u8>)], key: &[u8]) -> Option<&'a [u8]> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// Tile38's `queryBool`: true when it starts with 1-9, `Y`, `y`, `T` or `t`.
pub fn query_bool(s: &[u8]) -> bool {
    matches!(s.first(), Some(b'1'..=b'9' | b'Y' | b'y' | b'T' | b't'))
}

/// Tile38's `queryInt` narrowed to `uint8` as its callers do (Go's
/// conversion keeps the low byte; a bad number is 0).
pub fn query_u8(s: &[u8]) -> u8 {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0) as u8
}

/// Go's `strings.TrimSpace` for ASCII text.
pub fn trim_space(s: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let start = s.iter().position(|b| !space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !space(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// Lossless text for a host, topic or credential: these go to sockets and
/// client libraries that take `&str`.
pub fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_number_and_bool_rules() {
        assert_eq!(parse_uint(b"65535", 16), Some(65535));
        assert_eq!(parse_uint(b"65536", 16), None);
        assert_eq!(parse_uint(b"+1", 16), None);
        assert_eq!(atoi(b"-12"), Some(-12));
        assert_eq!(atoi(b"+12"), Some(12));
        assert_eq!(atoi(b"x"), None);
        assert!(query_bool(b"yes") && query_bool(b"7") && !query_bool(b"0"));
        assert_eq!(query_u8(b"258"), 2);
        assert_eq!(unescape(b"a%2Fb+c"), Some(b"a/b c".to_vec()));
        assert_eq!(
            parse_query(b"a=1&a=2&b"),
            Some(vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"a".to_vec(), b"2".to_vec()),
                (b"b".to_vec(), Vec::new()),
            ])
        );
        assert_eq!(parse_query(b"a=1;b=2"), None);
    }
}

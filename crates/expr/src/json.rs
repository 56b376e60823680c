//! Allocation-free reads of stored JSON text: the members of an object
//! (GeoJSON foreign members, JSON-valued fields) and their values.
//!
//! The texts read here were validated when they were stored, so the scanner
//! only has to find boundaries; it still never indexes out of bounds on any
//! input, and gives `None` when the text is not what it expects.

use std::borrow::Cow;

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The index after the string whose opening quote is at `i`.
fn string_end(s: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index after the JSON value starting at `i`.
fn value_end(s: &[u8], i: usize) -> Option<usize> {
    match *s.get(i)? {
        b'"' => string_end(s, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < s.len() {
                match s[j] {
                    b'"' => {
                        j = string_end(s, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < s.len() && !matches!(s[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The raw value of member `key` (the first one, as GJSON finds it) of the
/// object `obj`. `braced` says whether `obj` includes its `{` `}`; GeoJSON
/// foreign members are stored without them.
pub fn member<'a>(obj: &'a [u8], key: &[u8], braced: bool) -> Option<&'a [u8]> {
    let mut i = skip_ws(obj, 0);
    if braced {
        if obj.get(i) != Some(&b'{') {
            return None;
        }
        i += 1;
    }
    loop {
        i = skip_ws(obj, i);
        if obj.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(obj, i)?;
        let raw_key = &obj[i + 1..key_end - 1];
        i = skip_ws(obj, key_end);
        if obj.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(obj, i + 1);
        let end = value_end(obj, start)?;
        if key_matches(raw_key, key) {
            return Some(&obj[start..end]);
        }
        i = skip_ws(obj, end);
        if obj.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

fn key_matches(raw: &[u8], key: &[u8]) -> bool {
    if raw.contains(&b'\\') {
        unescape(raw) == key
    } else {
        raw == key
    }
}

/// The content of a JSON string literal (with its quotes), unescaped.
pub fn string(raw: &[u8]) -> Cow<'_, [u8]> {
    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
    if inner.contains(&b'\\') {
        Cow::Owned(unescape(inner))
    } else {
        Cow::Borrowed(inner)
    }
}

fn hex4(s: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(s.get(..4)?).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// JSON string unescaping; bad escapes and lone surrogates become U+FFFD
/// (as Go's JSON decoding does).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        let ch = match c {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let Some(hi) = hex4(&s[i..]) else {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                    continue;
                };
                i += 4;
                let mut code = hi;
                if (0xD800..0xDC00).contains(&hi) && s.get(i..i + 2) == Some(b"\\u") {
                    if let Some(lo) = hex4(&s[i + 2..]).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                        code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                char::from_u32(code).unwrap_or('\u{fffd}')
            }
            other => {
                out.push(other);
                continue;
            }
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_values() {
        let m = br#""id":"a","properties":{"speed":50,"name":"x\"y"},"n":[1,{"a":2}],"t":true"#;
        assert_eq!(member(m, b"id", false), Some(&br#""a""#[..]));
        assert_eq!(
            member(m, b"properties", false),
            Some(&br#"{"speed":50,"name":"x\"y"}"#[..])
        );
        assert_eq!(member(m, b"t", false), Some(&b"true"[..]));
        assert_eq!(member(m, b"missing", false), None);
        let p = member(m, b"properties", false).unwrap();
        assert_eq!(member(p, b"speed", true), Some(&b"50"[..]));
        assert_eq!(&*string(member(p, b"name", true).unwrap()), br#"x"y"#);
        assert_eq!(member(b" { \"a\" : 1 } ", b"a", true), Some(&b"1"[..]));
        assert_eq!(member(br#"{"\u0061":1}"#, b"a", true), Some(&b"1"[..]));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(br"a\u00e9\ud83d\ude00\n\/"), "aé😀\n/".as_bytes());
        assert_eq!(unescape(br"\ud800x"), "\u{fffd}x".as_bytes());
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            &b""[..],
            b"{",
            b"\"",
            b"{\"a\"",
            b"{\"a\":",
            b"\"a\":{",
            b"{\"a\":1,",
            b"\\",
        ] {
            let _ = member(s, b"a", true);
            let _ = member(s, b"a", false);
            let _ = string(s);
        }
    }
}

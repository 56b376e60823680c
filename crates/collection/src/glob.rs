//! Tile38's wildcard patterns (tidwall/match): `*` matches any sequence,
//! `?` any one character, `\c` the character `c`; everything else, `[`
//! included, is literal. `KEYS fleet*`, `PDEL fleet truck?`.

/// Whether `s` matches `pattern` as a whole.
pub fn matches(pattern: &[u8], s: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    // Iterative matcher with single backtrack point for the last `*`.
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p + 1, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += char_len(&s[i..]);
                    continue;
                }
                b'\\' if p + 1 < pattern.len() => {
                    if pattern[p + 1] == s[i] {
                        p += 2;
                        i += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[i] {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, si)) => {
                let next = si + char_len(&s[si..]);
                star = Some((sp, next));
                p = sp;
                i = next;
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Byte length of the UTF-8 character at the start of `s` (1 for invalid bytes).
fn char_len(s: &[u8]) -> usize {
    let n = match s.first() {
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xf0 => 4,
        Some(b) if *b >= 0xe0 => 3,
        Some(b) if *b >= 0xc0 => 2,
        _ => 1,
    };
    if n > 1 && std::str::from_utf8(&s[..n.min(s.len())]).is_err() {
        1
    } else {
        n.min(s.len()).max(1)
    }
}

/// The literal prefix before the first wildcard, used to narrow range scans.
pub fn literal_prefix(pattern: &[u8]) -> &[u8] {
    let end = pattern
        .iter()
        .position(|&b| matches!(b, b'*' | b'?' | b'\\'))
        .unwrap_or(pattern.len());
    &pattern[..end]
}

/// Whether the pattern is a plain string (no wildcard at all).
pub fn is_literal(pattern: &[u8]) -> bool {
    literal_prefix(pattern).len() == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn tile38_patterns() {
        assert!(matches(b"*", b""));
        assert!(matches(b"mykey*1", b"mykey11"));
        assert!(matches(b"mykey*1", b"mykey31"));
        assert!(!matches(b"mykey*1", b"mykey310"));
        assert!(matches(b"fleet?", b"fleets"));
        assert!(!matches(b"fleet?", b"fleet"));
        assert!(matches(b"*:*", b"fleet:1"));
        assert!(!matches(b"[fz]*", b"fleet"));
        assert!(matches(b"[fz]*", b"[fz]x"));
        assert!(matches(b"a?", "aé".as_bytes()));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(!matches(b"", b"a"));
        assert!(matches(b"*b", b"myid1b"));
    }
}

//! Tile38's glob patterns: `*` matches any sequence, `?` any one character,
//! `[abc]`, `[a-z]`, `[^…]` a class, `\c` the character `c`.
//! `KEYS fleet*`, `PDEL fleet truck?`, `SCAN fleet MATCH id[2-5]`.
//!
//! Quirk kept from Tile38: a pattern with a `*` or `?` is first narrowed to
//! the keys/ids that start with the text before that wildcard, taken
//! literally ([`literal_prefix`]), so `KEYS [fz]*` finds nothing.

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
                b'[' => {
                    if let Some((hit, end)) = class(&pattern[p..], s[i]) {
                        if hit {
                            p += end;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        // An unterminated class is a literal `[`.
                        p += 1;
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

/// Matches byte `c` against the class at the start of `pat` (`[...]`);
/// returns whether it matched and the class length, or `None` if the class
/// is not terminated.
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(pat.get(i), Some(b'^' | b'!'));
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < pat.len() {
        let mut lo = pat[i];
        if lo == b']' && !first {
            return Some((hit != negated, i + 1));
        }
        first = false;
        if lo == b'\\' && i + 1 < pat.len() {
            i += 1;
            lo = pat[i];
        }
        let mut hi = lo;
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            hi = pat[i + 2];
            i += 2;
        }
        if lo <= c && c <= hi {
            hit = true;
        }
        i += 1;
    }
    None
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

/// The text before the first `*` or `?`, which Tile38 uses (literally, even
/// if it holds a class) to narrow range scans; empty when there is no `*`
/// or `?` at all (then every key/id is tested).
pub fn literal_prefix(pattern: &[u8]) -> &[u8] {
    match pattern.iter().position(|&b| matches!(b, b'*' | b'?')) {
        Some(end) => &pattern[..end],
        None => b"",
    }
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
        assert!(matches(b"[fz]*", b"fleet"));
        assert!(matches(b"id[2-5]", b"id3"));
        assert!(!matches(b"id[2-5]", b"id6"));
        assert!(matches(b"id[^2-5]", b"id6"));
        assert!(matches(b"a[", b"a["));
        assert_eq!(super::literal_prefix(b"[fz]*"), b"[fz]");
        assert_eq!(super::literal_prefix(b"id[2-5]"), b"");
        assert!(matches(b"a?", "aé".as_bytes()));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(!matches(b"", b"a"));
        assert!(matches(b"*b", b"myid1b"));
    }
}

//! PSUBSCRIBE patterns, matched as Tile38 matches them (`tidwall/match`,
//! checked against Tile38 1.37): `*` matches any run of characters, `?`
//! exactly one character, `\c` the character `c`, and everything else
//! itself. There are no character classes (`c[ab]` matches only the
//! channel `c[ab]`: unlike `KEYS`, whose glob is `tile38_collection::glob`),
//! and a trailing `\` matches nothing.
//!
//! Characters are UTF-8 runes decoded as Go decodes them: an invalid byte
//! is one `U+FFFD`, so `?` takes one such byte and any two invalid bytes
//! compare equal (Tile38 alike: pattern `\xe9*` matches channel `\xff`).

/// Go's `utf8.DecodeRune`: the rune at the start of `b` and its length
/// (`U+FFFD`, 1 for an invalid or truncated sequence). `b` is not empty.
fn decode(b: &[u8]) -> (u32, usize) {
    if b[0] < 0x80 {
        return (b[0] as u32, 1);
    }
    let head = &b[..b.len().min(4)];
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    };
    match valid.chars().next() {
        Some(c) => (c as u32, c.len_utf8()),
        None => (0xFFFD, 1),
    }
}

/// One element of a pattern.
#[derive(Clone, Copy, PartialEq)]
enum Token {
    Star,
    Any,
    Char(u32),
    /// A trailing `\`: matches nothing.
    Never,
}

/// The token at the start of `p` (not empty) and its length.
fn token(p: &[u8]) -> (Token, usize) {
    match p[0] {
        b'*' => (Token::Star, 1),
        b'?' => (Token::Any, 1),
        b'\\' if p.len() == 1 => (Token::Never, 1),
        b'\\' => {
            let (c, n) = decode(&p[1..]);
            (Token::Char(c), n + 1)
        }
        _ => {
            let (c, n) = decode(p);
            (Token::Char(c), n)
        }
    }
}

/// Whether channel `s` matches `pattern` as a whole. Iterative, with one
/// backtrack point (the last `*`), so no pattern can make it recurse deep
/// or take more than `O(len(pattern) · len(s))` steps.
pub fn matches(pattern: &[u8], s: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    let (mut p, mut i) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern after it, channel).
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pattern.len() {
            let (tok, plen) = token(&pattern[p..]);
            let (c, clen) = decode(&s[i..]);
            match tok {
                Token::Star => {
                    p += plen;
                    star = Some((p, i));
                    continue;
                }
                Token::Any => {
                    p += plen;
                    i += clen;
                    continue;
                }
                Token::Char(want) if want == c => {
                    p += plen;
                    i += clen;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, si)) => {
                let next = si + decode(&s[si..]).1;
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

#[cfg(test)]
mod tests {
    use super::matches;

    /// Every case here was checked against Tile38 1.37 (PSUBSCRIBE, then
    /// PUBLISH counting the receivers).
    #[test]
    fn as_tile38_matches() {
        let yes: &[(&[u8], &[u8])] = &[
            (b"*", b""),
            (b"*", b"anything"),
            (b"a*", b"a"),
            (b"a*", b"abc"),
            (b"b?", b"bc"),
            (b"c?", "cé".as_bytes()),
            (b"c*", b"c1"),
            (b"*1", b"c1"),
            (b"c\\*", b"c*"),
            (b"c[ab]", b"c[ab]"),
            (b"\\?x", b"?x"),
            (b"a\\b", b"ab"),
            (b"?", b"a"),
            (b"?", b"\xff"),
            (b"??", b"a\\"),
            (b"??", b"ab"),
            (b"\xe9*", b"\xff"),
            (b"\xe9*", b"\xe9abc"),
            (b"x*y?z", b"xAAyBz"),
            (b"*a*b*c*", b"xxaxxbxxcxx"),
        ];
        for (p, s) in yes {
            assert!(matches(p, s), "{:?} should match {:?}", p, s);
        }
        let no: &[(&[u8], &[u8])] = &[
            (b"a*", b"b"),
            (b"b?", b"bcd"),
            (b"b?", b"b"),
            (b"c\\*", b"cx"),
            (b"c[ab]", b"ca"),
            (b"\\?x", b"ax"),
            (b"a\\b", b"a\\b"),
            (b"a\\", b"a\\"),
            (b"a\\", b"a"),
            (b"*\\", b"a"),
            (b"\xe9*", "é".as_bytes()),
            (b"x*y?z", b"xyz"),
            (b"?", b""),
            (b"*a*b*c*", b"xxaxxcxxbxx"),
        ];
        for (p, s) in no {
            assert!(!matches(p, s), "{:?} should not match {:?}", p, s);
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b".to_vec();
        let s = vec![b'a'; 10_000];
        assert!(!matches(&pattern, &s));
    }
}

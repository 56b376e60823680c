//! Tile38's glob patterns: `*` matches any sequence, `?` any one character,
//! `[abc]`, `[a-z]`, `[^…]` a class, `\c` the character `c`.
//! `KEYS fleet*`, `PDEL fleet truck?`, `SCAN fleet MATCH id[2-5]`.
//!
//! Quirk kept from Tile38 (`glob.Parse`'s `Limits`): names are first
//! narrowed by the text before the first `[`, `*` or `?` ([`range`]); a
//! pattern that starts with `?` or `[` gives Tile38 the range
//! `[pattern, pattern]`, so `KEYS ?` finds only a key named `?` and
//! `PDEL k ?` deletes nothing.

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

/// Which names Tile38 tests against a pattern before matching it
/// (`glob.Parse(pattern, false).Limits`).
#[derive(Debug, PartialEq, Eq)]
pub enum Range<'a> {
    /// Every name: an empty pattern, or one starting with `*`.
    All,
    /// The names starting with the text before the first `[`, `*` or `?`
    /// (the whole pattern when it has none).
    Prefix(&'a [u8]),
    /// A pattern starting with `?` or `[`: Tile38's limits are the pattern
    /// itself at both ends, so where the upper limit is inclusive (KEYS,
    /// HOOKS, CHANS) only a name equal to the pattern is tested, and where
    /// it is exclusive (PDEL, SCAN) none is.
    Itself,
}

/// Tile38's narrowing of `pattern` ([`Range`]).
pub fn range(pattern: &[u8]) -> Range<'_> {
    if pattern.is_empty() || pattern[0] == b'*' {
        return Range::All;
    }
    match pattern
        .iter()
        .position(|&b| matches!(b, b'[' | b'*' | b'?'))
    {
        Some(0) => Range::Itself,
        Some(end) => Range::Prefix(&pattern[..end]),
        None => Range::Prefix(pattern),
    }
}

/// A walk over names in order that tests those Tile38 tests with an
/// inclusive upper limit (KEYS, HOOKS, CHANS): from [`Walk::start`] while
/// [`Walk::holds`].
#[derive(Clone, Copy)]
pub struct Walk<'a> {
    start: &'a [u8],
    /// [`Range::Itself`]: only the name equal to the pattern.
    itself: bool,
}

impl<'a> Walk<'a> {
    pub fn new(pattern: &'a [u8]) -> Walk<'a> {
        match range(pattern) {
            Range::All => Walk {
                start: b"",
                itself: false,
            },
            Range::Prefix(p) => Walk {
                start: p,
                itself: false,
            },
            Range::Itself => Walk {
                start: pattern,
                itself: true,
            },
        }
    }

    /// The first name to look at.
    pub fn start(&self) -> &'a [u8] {
        self.start
    }

    /// Whether `name`, met walking up from [`Walk::start`], is still in
    /// range.
    pub fn holds(&self, name: &[u8]) -> bool {
        if self.itself {
            name == self.start
        } else {
            name.starts_with(self.start)
        }
    }
}

/// [`range`] as a prefix for callers that walk names from it; `Itself`
/// (which finds nothing with an exclusive upper limit) and `All` are
/// empty: every name is tested.
pub fn literal_prefix(pattern: &[u8]) -> &[u8] {
    match range(pattern) {
        Range::Prefix(p) => p,
        Range::All | Range::Itself => b"",
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
        use super::{range, Range};
        assert_eq!(range(b"[fz]*"), Range::Itself);
        assert_eq!(range(b"?"), Range::Itself);
        assert_eq!(range(b"id[2-5]"), Range::Prefix(b"id"));
        assert_eq!(range(b"g[h]*"), Range::Prefix(b"g"));
        assert_eq!(range(b"fleet"), Range::Prefix(b"fleet"));
        assert_eq!(range(b"*x"), Range::All);
        assert_eq!(range(b""), Range::All);
        assert!(matches(b"a?", "aé".as_bytes()));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(!matches(b"", b"a"));
        assert!(matches(b"*b", b"myid1b"));
    }
}

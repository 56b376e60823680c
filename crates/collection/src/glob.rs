//! Tile38's glob patterns (its `internal/glob`, Go's `path.Match` without
//! the path separator): `*` matches any sequence, `?` any one character,
//! `[abc]`, `[a-z]`, `[^…]` a class of characters (`!` is no negation: it
//! is a member), `\c` the character `c`. KEYS, PDEL, CONFIG GET, hooks and
//! the MATCH of every search use them: `SCAN fleet MATCH id[2-5]`.
//!
//! A malformed pattern (`[`, `[]a]`, `[a-]`, `a\`) matches nothing, as Go's
//! `ErrBadPattern` does. A `*` skips bytes, not characters, as Go's does,
//! so a class can meet the middle of a character (`*[^é]` matches `é`).
//!
//! Also here: the names Tile38 tests against a pattern before matching it
//! (`glob.Parse`'s limits): [`range`] and [`Walk`] for KEYS, PDEL, HOOKS
//! and CHANS, [`limits`] and [`multi_limits`] for the id (or value) range
//! of a search's MATCH; and `tidwall/match`, the simpler matcher of WHERE
//! expressions' `.match()` ([`simple_matches`]).

/// Go's `utf8.RuneError`.
const RUNE_ERROR: u32 = 0xFFFD;

/// Go's `utf8.DecodeRuneInString`: the character at the start of `s` and
/// its length; `(RuneError, 1)` for an invalid byte, `(RuneError, 0)` at
/// the end.
fn decode(s: &[u8]) -> (u32, usize) {
    let Some(&b) = s.first() else {
        return (RUNE_ERROR, 0);
    };
    if b < 0x80 {
        return (b as u32, 1);
    }
    let n = match b {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match s.get(..n).map(std::str::from_utf8) {
        Some(Ok(c)) => (c.chars().next().map_or(RUNE_ERROR, |c| c as u32), n),
        _ => (RUNE_ERROR, 1),
    }
}

/// A malformed pattern (Go's `ErrBadPattern`): it matches nothing.
struct Bad;

/// Whether `s` matches `pattern` as a whole.
pub fn matches(pattern: &[u8], s: &[u8]) -> bool {
    go_match(pattern, s).unwrap_or(false)
}

/// Go's `path.Match`, chunk by chunk: a chunk is the text up to the next
/// `*`, matched at the first place it fits.
fn go_match(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, Bad> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(true);
        }
        let (t, ok) = match_chunk(chunk, name)?;
        // The last chunk must use up the name.
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            for i in 0..name.len() {
                let (t, ok) = match_chunk(chunk, &name[i + 1..])?;
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Go's `scanChunk`: the leading stars, the chunk up to the next `*`
/// outside a class, and the rest.
fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let [b'*', rest @ ..] = pattern {
        pattern = rest;
        star = true;
    }
    let (mut in_range, mut i) = (false, 0);
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Go's `matchChunk`: what is left of `s` after `chunk`, and whether the
/// chunk matched.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Result<(&'s [u8], bool), Bad> {
    while let Some(&c) = chunk.first() {
        if s.is_empty() {
            return Ok((s, false));
        }
        match c {
            b'[' => {
                let (r, n) = decode(s);
                s = &s[n..];
                let (hit, rest) = class(&chunk[1..], r)?;
                if !hit {
                    return Ok((s, false));
                }
                chunk = rest;
            }
            b'?' => {
                s = &s[decode(s).1..];
                chunk = &chunk[1..];
            }
            _ => {
                let lit = if c == b'\\' {
                    chunk = &chunk[1..];
                    *chunk.first().ok_or(Bad)?
                } else {
                    c
                };
                if lit != s[0] {
                    return Ok((s, false));
                }
                s = &s[1..];
                chunk = &chunk[1..];
            }
        }
    }
    Ok((s, true))
}

/// A class after its `[`, against character `r`: whether it matches and
/// the pattern after the class.
fn class(mut chunk: &[u8], r: u32) -> Result<(bool, &[u8]), Bad> {
    if chunk.is_empty() {
        return Err(Bad);
    }
    let negated = chunk[0] == b'^';
    if negated {
        chunk = &chunk[1..];
    }
    let (mut hit, mut ranges) = (false, 0);
    loop {
        if chunk.first() == Some(&b']') && ranges > 0 {
            return Ok((hit != negated, &chunk[1..]));
        }
        let (lo, rest) = class_char(chunk)?;
        chunk = rest;
        let mut hi = lo;
        if chunk[0] == b'-' {
            (hi, chunk) = class_char(&chunk[1..])?;
        }
        if lo <= r && r <= hi {
            hit = true;
        }
        ranges += 1;
    }
}

/// Go's `getEsc`: one (possibly escaped) character of a class, which must
/// not be `-` or `]` and must leave something after it.
fn class_char(chunk: &[u8]) -> Result<(u32, &[u8]), Bad> {
    let chunk = match chunk {
        [] | [b'-' | b']', ..] => return Err(Bad),
        [b'\\'] => return Err(Bad),
        [b'\\', rest @ ..] => rest,
        _ => chunk,
    };
    let (r, n) = decode(chunk);
    if (r == RUNE_ERROR && n == 1) || chunk.len() == n {
        return Err(Bad);
    }
    Ok((r, &chunk[n..]))
}

/// The range of ids (or string values) a scan with this MATCH visits, as
/// Tile38's `glob.Parse` computes it from the text before the first `[`,
/// `*` or `?`: `None` (everything) for a pattern that starts with `*` or is
/// empty. A pattern that starts with `[` or `?` gives the empty range
/// (pattern, pattern), so it finds nothing, and one without a wildcard the
/// ids that start with it. Ascending, the range is `[start, end)`;
/// descending, `(end, start]`, walked down.
pub fn limits(pattern: &[u8], desc: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let prefix = match range(pattern) {
        Range::All => return None,
        Range::Itself => return Some((pattern.to_vec(), pattern.to_vec())),
        Range::Prefix(p) => p,
    };
    let n = prefix.len();
    let last = prefix[n - 1];
    // The prefix with its last byte one up (or 0x00 appended after 0xFF).
    let above = || {
        let mut a = prefix.to_vec();
        if last == 0xff {
            a.push(0);
        } else {
            a[n - 1] = last + 1;
        }
        a
    };
    if !desc {
        return Some((prefix.to_vec(), above()));
    }
    let mut b = prefix.to_vec();
    if last == 0 {
        while b.last() == Some(&0) {
            match b.len() {
                1 => b.clear(),
                len if b[len - 2] == 0 => {
                    b.pop();
                }
                len => {
                    b[len - 2] -= 1;
                    b[len - 1] = 0xff;
                }
            }
        }
    } else {
        b[n - 1] = last - 1;
    }
    Some((above(), b))
}

/// The range several MATCH patterns share (Tile38's `multiGlobParse`): the
/// widest of their ranges, or everything when any pattern has no range.
pub fn multi_limits(patterns: &[Vec<u8>], desc: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut acc: Option<(Vec<u8>, Vec<u8>)> = None;
    for p in patterns {
        let (start, end) = limits(p, desc)?;
        acc = Some(match acc {
            None => (start, end),
            Some((s, e)) if desc => (s.max(start), e.min(end)),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }
    acc
}

/// `tidwall/match`, the matcher of WHERE expressions' `.match()`: only `*`
/// (any sequence) and `?` (one character), `\c` the character `c`;
/// characters compare as Go decodes them.
pub fn simple_matches(pattern: &[u8], s: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p + 1, i));
            p += 1;
            continue;
        }
        if i == s.len() && p == pattern.len() {
            return true;
        }
        if i < s.len() && p < pattern.len() {
            let (sc, ss) = decode(&s[i..]);
            let (pc, ps) = match pattern[p] {
                b'?' => (sc, 1),
                b'\\' => {
                    let (c, n) = decode(&pattern[p + 1..]);
                    (if n == 0 { u32::MAX } else { c }, n + 1)
                }
                _ => decode(&pattern[p..]),
            };
            if pc == sc {
                p += ps;
                i += ss;
                continue;
            }
        }
        // Back to the last star, which takes one more character.
        match star {
            Some((sp, si)) if si < s.len() => {
                let next = si + decode(&s[si..]).1;
                star = Some((sp, next));
                p = sp;
                i = next;
            }
            _ => return false,
        }
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
mod tests;

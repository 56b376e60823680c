//! The lexical pieces of tidwall/expr: whitespace, identifiers, string
//! literals (with JavaScript escapes), the extent of bracket groups and
//! quoted strings, and the operator "steps" an expression may need.

/// Deepest bracket nesting accepted; deeper expressions never match
/// (tidwall/expr recurses without limit, we keep the stack bounded).
pub const MAX_DEPTH: usize = 64;

/// tidwall/expr's `isspace`.
pub fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// The operator levels, from the loosest. A level is only run when one of
/// its characters occurs somewhere in the expression (tidwall/expr's
/// `steps` mask); skipping one otherwise changes nothing, except that a
/// backtick string only parses when no level had to scan over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Comma,
    Ternary,
    Or,
    And,
    Equality,
    Compare,
    Sum,
    Factor,
    Atom,
}

impl Level {
    pub fn next(self) -> Level {
        match self {
            Level::Comma => Level::Ternary,
            Level::Ternary => Level::Or,
            Level::Or => Level::And,
            Level::And => Level::Equality,
            Level::Equality => Level::Compare,
            Level::Compare => Level::Sum,
            Level::Sum => Level::Factor,
            Level::Factor | Level::Atom => Level::Atom,
        }
    }

    pub fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// The levels the characters of `src` call for.
pub fn steps(src: &[u8]) -> u16 {
    src.iter().fold(0, |acc, c| {
        acc | match c {
            b',' => Level::Comma.bit(),
            b'?' => Level::Ternary.bit() | Level::Or.bit(),
            b':' => Level::Ternary.bit(),
            b'|' => Level::Or.bit(),
            b'&' => Level::And.bit(),
            b'=' => Level::Compare.bit() | Level::Equality.bit(),
            b'!' => Level::Equality.bit(),
            b'<' | b'>' => Level::Compare.bit(),
            b'+' | b'-' => Level::Sum.bit(),
            b'*' | b'/' | b'%' => Level::Factor.bit(),
            _ => 0,
        }
    })
}

pub fn has_step(steps: u16, level: Level) -> bool {
    steps & level.bit() != 0
}

pub fn is_opener(c: u8) -> bool {
    matches!(c, b'(' | b'[' | b'{' | b'"' | b'\'' | b'`')
}

fn close_of(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        other => other,
    }
}

/// Where every bracket group and quoted string of the expression ends,
/// computed once; tidwall/expr re-scans (`squash`) at every level instead.
/// Brackets of all kinds share one depth counter. `squash` never finds the
/// end of a backtick string (it skips every byte above `\`, the backtick
/// included), so neither a backtick string nor a group around one ends here;
/// only the atom parser reads backtick strings.
#[derive(Debug, Default)]
pub struct Groups {
    /// (opener index, index after the group), by opener index.
    ends: Vec<(u32, u32)>,
}

impl Groups {
    /// `None` when the expression is too long or too deeply nested.
    pub fn scan(src: &[u8]) -> Option<Groups> {
        if src.len() >= u32::MAX as usize {
            return None;
        }
        let mut ends = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        // open[..poisoned] contain a backtick: they never end.
        let mut poisoned = 0;
        let mut i = 0;
        while i < src.len() {
            match src[i] {
                q @ (b'"' | b'\'' | b'`') => {
                    let Some(end) = quote_end(src, i) else {
                        break;
                    };
                    if q == b'`' {
                        poisoned = open.len();
                    } else {
                        ends.push((i as u32, end as u32));
                    }
                    i = end;
                    continue;
                }
                b'(' | b'[' | b'{' => {
                    open.push(i);
                    if open.len() > MAX_DEPTH {
                        return None;
                    }
                }
                b')' | b']' | b'}' => {
                    if let Some(o) = open.pop() {
                        if open.len() >= poisoned {
                            ends.push((o as u32, i as u32 + 1));
                        }
                        poisoned = poisoned.min(open.len());
                    }
                }
                _ => {}
            }
            i += 1;
        }
        ends.sort_unstable();
        Some(Groups { ends })
    }

    /// The end of the group opened at `i`, if it closes, with the right
    /// bracket, within `limit` (`readGroup`).
    pub fn end(&self, src: &[u8], i: usize, limit: usize) -> Option<usize> {
        let k = self.ends.binary_search_by_key(&(i as u32), |e| e.0).ok()?;
        let end = self.ends[k].1 as usize;
        (end <= limit && end >= i + 2 && src[end - 1] == close_of(src[i])).then_some(end)
    }
}

/// The index after the string opened at `i`: the first later quote of the
/// same kind preceded by an even number of backslashes.
fn quote_end(src: &[u8], i: usize) -> Option<usize> {
    let q = src[i];
    let mut backslashes = 0;
    for (j, &c) in src.iter().enumerate().skip(i + 1) {
        if c == q && backslashes % 2 == 0 {
            return Some(j + 1);
        }
        backslashes = if c == b'\\' { backslashes + 1 } else { 0 };
    }
    None
}

/// An ASCII identifier `[$_A-Za-z][$_A-Za-z0-9]*` at the start of `s`.
pub fn ident_len(s: &[u8]) -> usize {
    let start = |c: &u8| *c == b'$' || *c == b'_' || c.is_ascii_alphabetic();
    if !s.first().is_some_and(start) {
        return 0;
    }
    1 + s[1..]
        .iter()
        .take_while(|c| start(c) || c.is_ascii_digit())
        .count()
}

fn hex_val(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// A string literal at the start of `s` (`parseString`): its value and the
/// length of its source text. Raw control characters, a bad `\u`/`\x`
/// escape or a missing closing quote make it a syntax error.
pub fn string_literal(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let q = *s.first()?;
    let mut escaped = false;
    let mut i = 1;
    while i < s.len() {
        let c = s[i];
        if c < b' ' {
            return None;
        }
        if c == b'\\' {
            escaped = true;
            i += 1;
            match *s.get(i)? {
                b'u' if s.get(i + 1) == Some(&b'{') => {
                    i += 2;
                    while *s.get(i)? != b'}' {
                        hex_val(s[i])?;
                        i += 1;
                    }
                }
                b'u' => {
                    for _ in 0..4 {
                        i += 1;
                        hex_val(*s.get(i)?)?;
                    }
                }
                b'x' => {
                    for _ in 0..2 {
                        i += 1;
                        hex_val(*s.get(i)?)?;
                    }
                }
                _ => {}
            }
        } else if c == q {
            let body = &s[1..i];
            let value = if escaped {
                unescape(body)
            } else {
                body.to_vec()
            };
            return Some((value, i + 1));
        }
        i += 1;
    }
    None
}

/// The code point of a validated `\u` escape body (`XXXX` or `{X…}`) and
/// the bytes it spans. Like Go's `rune(ParseUint(…))`: overflow saturates
/// and the value is truncated to 32 bits.
fn escape_rune(s: &[u8]) -> (u32, usize) {
    let (digits, len) = if s.first() == Some(&b'{') {
        let close = s.iter().position(|&c| c == b'}').unwrap_or(s.len());
        (&s[1.min(close)..close], (close + 1).min(s.len()))
    } else {
        (&s[..4.min(s.len())], 4.min(s.len()))
    };
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(16)
            .and_then(|v| v.checked_add(u64::from(hex_val(d).unwrap_or(0))))
            .unwrap_or(u64::MAX);
    }
    (v as u32, len)
}

fn push_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{fffd}');
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// `unescapeString` of a body validated by [`string_literal`].
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        i += 1;
        match s[i] {
            b'0' => out.push(0),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'u' => {
                let (mut r, n) = escape_rune(&s[i + 1..]);
                i += n;
                if (0xD800..0xE000).contains(&r) && s.len() >= i + 7 && &s[i + 1..i + 3] == b"\\u" {
                    let (r2, n2) = escape_rune(&s[i + 3..]);
                    i += 2 + n2;
                    // utf16.DecodeRune: a high then a low surrogate, else U+FFFD.
                    r = if (0xD800..0xDC00).contains(&r) && (0xDC00..0xE000).contains(&r2) {
                        0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)
                    } else {
                        0xFFFD
                    };
                }
                push_rune(&mut out, r);
            }
            b'x' => {
                let hi = s.get(i + 1).and_then(|&c| hex_val(c)).unwrap_or(0);
                let lo = s.get(i + 2).and_then(|&c| hex_val(c)).unwrap_or(0);
                push_rune(&mut out, hi * 16 + lo);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

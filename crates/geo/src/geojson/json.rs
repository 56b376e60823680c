//! Byte-level JSON helpers for the GeoJSON parser: a validator with
//! `gjson.Valid` semantics, a skipper and a compactor for text that is already
//! known to be valid, and gjson's string unescaping.
//!
//! Everything here is iterative (no recursion) and bounds-checked, so
//! arbitrarily deep or malformed input can neither overflow the stack nor
//! panic.

use std::borrow::Cow;

/// JSON insignificant whitespace.
pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Index of the first non-whitespace byte at or after `i`.
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Whether `b` is exactly one JSON value with optional surrounding
/// whitespace (RFC 8259 grammar, as `gjson.Valid` checks it). UTF-8 is not
/// checked here. Iterative: any depth is fine.
pub(crate) fn valid(b: &[u8]) -> bool {
    scan_value(b, skip_ws(b, 0)).is_some_and(|end| skip_ws(b, end) == b.len())
}

/// Validates the JSON value starting at `i` (no leading whitespace);
/// returns the index just past it.
pub(super) fn scan_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut stack = Containers::default();
    'value: loop {
        // A value starts at `i`.
        match b.get(i) {
            Some(b'{') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    i = member_key(b, i)?;
                    stack.push(b'{');
                    continue 'value;
                }
            }
            Some(b'[') => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    stack.push(b'[');
                    continue 'value;
                }
            }
            Some(b'"') => i = scan_string(b, i)?,
            Some(b't') => i = literal(b, i, b"true")?,
            Some(b'f') => i = literal(b, i, b"false")?,
            Some(b'n') => i = literal(b, i, b"null")?,
            Some(b'-' | b'0'..=b'9') => i = scan_number(b, i)?,
            _ => return None,
        }
        // A value ended just before `i`: close containers or move on.
        loop {
            let Some(open) = stack.last() else {
                return Some(i);
            };
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => {
                    i = skip_ws(b, i + 1);
                    if open == b'{' {
                        i = member_key(b, i)?;
                    }
                    continue 'value;
                }
                Some(b']') if open == b'[' => {
                    stack.pop();
                    i += 1;
                }
                Some(b'}') if open == b'{' => {
                    stack.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

/// The stack of open containers (`{` or `[`) of [`scan_value`]: a bit per
/// level, the first 64 levels without allocating.
#[derive(Default)]
struct Containers {
    /// Bit `n` set: level `n` (for `n < 64`) is an object.
    inline: u64,
    len: usize,
    /// Levels from 64 on.
    spill: Vec<u8>,
}

impl Containers {
    fn push(&mut self, open: u8) {
        if self.len < 64 {
            let bit = 1u64 << self.len;
            if open == b'{' {
                self.inline |= bit;
            } else {
                self.inline &= !bit;
            }
        } else {
            self.spill.push(open);
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        if self.len > 64 {
            self.spill.pop();
        }
        self.len = self.len.saturating_sub(1);
    }

    fn last(&self) -> Option<u8> {
        let top = self.len.checked_sub(1)?;
        if top < 64 {
            Some(if self.inline & (1u64 << top) != 0 {
                b'{'
            } else {
                b'['
            })
        } else {
            self.spill.last().copied()
        }
    }
}

/// Validates `"key" :` at `i`; returns the index of the member's value.
fn member_key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let j = skip_ws(b, scan_string(b, i)?);
    if b.get(j) != Some(&b':') {
        return None;
    }
    Some(skip_ws(b, j + 1))
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i.checked_add(word.len())?;
    (b.get(i..end)? == word).then_some(end)
}

/// Validates the string starting with the quote at `i`; returns the index
/// just past the closing quote.
pub(super) fn scan_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => match *b.get(j + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                b'u' => {
                    let hex = b.get(j + 2..j + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    j += 6;
                }
                _ => return None,
            },
            c if c < 0x20 => return None,
            _ => j += 1,
        }
    }
}

/// Validates the number starting at `i`; returns the index just past it.
fn scan_number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], mut i: usize| -> Option<usize> {
        if !b.get(i)?.is_ascii_digit() {
            return None;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        Some(i)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = if b.get(i) == Some(&b'0') {
        i + 1
    } else {
        digits(b, i)?
    };
    if b.get(i) == Some(&b'.') {
        i = digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(b, i)?;
    }
    Some(i)
}

/// For a valid JSON string starting with the quote at `i`: the index just
/// past its closing quote (or `b.len()` if unterminated).
pub(super) fn skip_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// For valid JSON: the index just past the value starting at `i`.
pub(super) fn skip_value(b: &[u8], i: usize) -> usize {
    skip_value_with(b, i, |_| None)
}

/// [`skip_value`], stepping over a nested object in one move when
/// `object_end(open)` knows where the object opening at `open` ends.
pub(super) fn skip_value_with(
    b: &[u8],
    i: usize,
    object_end: impl Fn(usize) -> Option<usize>,
) -> usize {
    match b.get(i) {
        None => b.len(),
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' if object_end(j).is_some() => {
                        j = object_end(j).unwrap_or(b.len());
                        if depth == 0 {
                            return j;
                        }
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}') && !is_ws(b[j]) {
                j += 1;
            }
            j
        }
    }
}

/// The containers of JSON text (objects only with `objects_only`) as
/// `(open, end)` pairs in order of `open`, `end` just past the closing
/// bracket (the text's length when unclosed). One pass, strings skipped as
/// [`skip_string`] does; meant for valid text.
pub(crate) fn container_ends(b: &[u8], objects_only: bool) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    // Open containers: their slot in `pairs`, if recorded.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            c @ (b'{' | b'[') => {
                if c == b'{' || !objects_only {
                    open.push(Some(pairs.len()));
                    pairs.push((i, b.len()));
                } else {
                    open.push(None);
                }
            }
            b'}' | b']' => {
                if let Some(Some(slot)) = open.pop() {
                    pairs[slot].1 = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs
}

/// Appends valid JSON text with all insignificant whitespace removed (string
/// contents and number spellings are copied untouched), like
/// `pretty.UglyInPlace`.
pub(super) fn append_compact(out: &mut Vec<u8>, raw: &[u8]) {
    let mut j = 0;
    while j < raw.len() {
        let c = raw[j];
        if c == b'"' {
            let end = skip_string(raw, j).min(raw.len());
            out.extend_from_slice(&raw[j..end]);
            j = end;
        } else {
            if !is_ws(c) {
                out.push(c);
            }
            j += 1;
        }
    }
}

/// The text of the JSON string `raw` (including its quotes), unescaped the
/// way gjson does it: `\uXXXX` pairs are combined, broken surrogates become
/// U+FFFD. Borrowed when there is nothing to unescape.
pub(crate) fn string_text(raw: &str) -> Cow<'_, str> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or("");
    if inner.contains('\\') {
        Cow::Owned(unescape(inner))
    } else {
        Cow::Borrowed(inner)
    }
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            let start = i;
            while i < b.len() && b[i] != b'\\' {
                i += 1;
            }
            // Both ends are ASCII (`\\` or the end), so this is a boundary.
            out.push_str(s.get(start..i).unwrap_or("\u{fffd}"));
            continue;
        }
        let Some(&esc) = b.get(i + 1) else { break };
        i += 2;
        match esc {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let Some(mut r) = hex4(b, i) else { break };
                i += 4;
                if (0xd800..0xe000).contains(&r)
                    && b.get(i) == Some(&b'\\')
                    && b.get(i + 1) == Some(&b'u')
                {
                    // Go's utf16.DecodeRune: a valid pair or U+FFFD; the
                    // second escape is consumed either way.
                    let r2 = hex4(b, i + 2).unwrap_or(0);
                    i += 6;
                    r = if (0xd800..0xdc00).contains(&r) && (0xdc00..0xe000).contains(&r2) {
                        0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00)
                    } else {
                        0xfffd
                    };
                }
                out.push(char::from_u32(r).unwrap_or('\u{fffd}'));
            }
            _ => break,
        }
    }
    out
}

fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v * 16 + char::from(d).to_digit(16)?;
    }
    Some(v)
}

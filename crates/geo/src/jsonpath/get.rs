//! Reading JSON through a GJSON path with a bounded stack: `JGET`, `FGET
//! key id a.b`, and JSON values in WHERE expressions.
//!
//! The `gjson` crate recurses once per path component (each `.` or `|`
//! step calls `get` again, and a matched key descends through
//! `proc_value`), per nested multipath or query bracket, per `*` of a
//! wildcard, and, for the `@valid`/`@flatten` modifiers, per level of the
//! document. A 5,000-component path overflowed the 2 MiB stack of a
//! server thread. Tile38 (Go, growable stacks) answers any depth, so:
//!
//! * the *plain* components of a path (keys, indices, `*`/`?` wildcards,
//!   escapes) are answered however many there are: past [`CHUNK`] of them
//!   they are fed to gjson a chunk at a time, each chunk reading inside the
//!   raw value the previous one found (for plain keys `a.b` reads `b`
//!   inside the value of `a`, so this is the same lookup);
//! * what follows the first special component (modifiers `@`, queries and
//!   counts `#`, multipaths `[…]`/`{…}`; a whole path starting with `..`,
//!   JSON lines) goes to gjson in one call when its nesting estimate is at
//!   most [`MAX_NESTING`], else the read is refused with
//!   [`PathError::TooComplex`];
//! * every path may hold at most [`MAX_WILDCARDS`] runs of `*`: gjson
//!   matches them by backtracking (time grows as a key's length to the
//!   power of the stars), and a path over the limit is refused the same
//!   way.

use super::PathError;

/// Path components per gjson call. The deepest gjson frame chain per
/// component measured ~0.8 KiB (a key matched and descended), so a chunk
/// needs ~200 KiB of a thread's 2 MiB.
pub const CHUNK: usize = 256;

/// Largest nesting estimate of a path gjson gets whole: its separators,
/// plus its deepest bracket, plus (with a modifier) the document's deepest
/// bracket. The costliest gjson frames measured ~1.4 KiB per level.
pub const MAX_NESTING: usize = 256;

/// Most runs of `*` in a path (`**` is one run).
pub const MAX_WILDCARDS: usize = 2;

/// `gjson::get(doc, path)` with the limits above; `Ok` holds gjson's answer
/// (`exists()` false when nothing is there).
pub fn get<'a>(doc: &'a str, path: &'a str) -> Result<gjson::Value<'a>, PathError> {
    let p = path.as_bytes();
    if star_runs(p) > MAX_WILDCARDS {
        return Err(PathError::TooComplex);
    }
    let (comps, plain) = components(p);
    let all_plain = plain == comps.len();
    // Plain components left for the final gjson call.
    let keep = match (all_plain, plain > CHUNK) {
        (true, _) => CHUNK,
        (false, true) => 0,
        (false, false) => plain,
    };
    let mut sub = doc;
    let mut at = 0;
    while plain - at > keep {
        let n = (plain - at - keep).min(CHUNK);
        match read_chunk(sub, p, &comps[at..at + n]) {
            Some(inner) => sub = inner,
            None => return Ok(gjson::Value::default()),
        }
        at += n;
    }
    let rest = &path[comps.get(at).map_or(p.len(), |c| c.0)..];
    if !all_plain {
        let r = rest.as_bytes();
        let mut cost = separators(r).saturating_add(bracket_depth(r, false));
        if r.contains(&b'@') {
            cost = cost.saturating_add(bracket_depth(sub.as_bytes(), true));
        }
        if cost > MAX_NESTING {
            return Err(PathError::TooComplex);
        }
    }
    // Plain keys are walked here, as Go's gjson walks them: the crate can
    // also answer `c.b` in `{"c":{"c":{"b":1}}}` from the inner `c`.
    if all_plain && at == 0 {
        if let Some(v) = super::dups::plain(doc, p, &comps) {
            return Ok(v);
        }
    }
    let found = gjson::get(sub, rest);
    if !found.exists() && at == 0 && plain > 0 {
        let after = &path[comps.get(plain).map_or(p.len(), |c| c.0)..];
        if let Some(v) = super::dups::read_on(doc, p, &comps[..plain], after) {
            return Ok(v);
        }
    }
    Ok(found)
}

/// The spans of the path's components (split at unescaped `.` and `|`)
/// and how many lead before the first special one: starting with one of
/// gjson's `@ # [ {` (or every one when the path starts with `..`, JSON
/// lines).
fn components(p: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut comps = Vec::new();
    let mut plain = p.starts_with(b"..").then_some(0);
    let mut start = 0;
    let mut i = 0;
    while i < p.len() {
        if i == start && plain.is_none() && matches!(p[i], b'@' | b'#' | b'[' | b'{') {
            plain = Some(comps.len());
        }
        match p[i] {
            b'\\' => i += 1,
            b'.' | b'|' => {
                comps.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    comps.push((start, p.len()));
    let plain = plain.unwrap_or(comps.len());
    (comps, plain)
}

/// Reads the plain components `comps` of `p` inside `sub` in one gjson
/// call, joined by `.` (for plain keys `a|b` reads the same as `a.b`, and
/// `.` descends without re-scanning each value as `|` does); the raw
/// value found, as a slice of `sub`.
fn read_chunk<'a>(sub: &'a str, p: &[u8], comps: &[(usize, usize)]) -> Option<&'a str> {
    let (first, last) = (comps.first()?.0, comps.last()?.1);
    let mut text = Vec::with_capacity(last - first);
    for (k, &(s, e)) in comps.iter().enumerate() {
        if k > 0 {
            text.push(b'.');
        }
        text.extend_from_slice(&p[s..e]);
    }
    let text = String::from_utf8(text).ok()?;
    let found = gjson::get(sub, &text);
    if !found.exists() {
        return None;
    }
    // A plain lookup returns a slice of its input: find where.
    let raw = found.json();
    let at = (raw.as_ptr() as usize).wrapping_sub(sub.as_ptr() as usize);
    sub.get(at..at.wrapping_add(raw.len()))
        .filter(|inner| inner.as_ptr() == raw.as_ptr())
}

/// Runs of `*` in the path.
fn star_runs(p: &[u8]) -> usize {
    p.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'*' && (i == 0 || p[i - 1] != b'*'))
        .count()
}

/// Unescaped `.` and `|` in the path.
fn separators(p: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => i += 1,
            b'.' | b'|' => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

/// Deepest nesting of `[`, `{` and `(` (`json`: of `[` and `{` outside
/// JSON strings). Counting is lenient: unbalanced text only counts higher.
fn bracket_depth(p: &[u8], json: bool) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'"' if json => {
                i += 1;
                while i < p.len() && p[i] != b'"' {
                    i += usize::from(p[i] == b'\\') + 1;
                }
            }
            b'\\' if !json => i += 1,
            b'[' | b'{' => depth += 1,
            b'(' if !json => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b')' if !json => depth = depth.saturating_sub(1),
            _ => {}
        }
        max = max.max(depth);
        i += 1;
    }
    max
}

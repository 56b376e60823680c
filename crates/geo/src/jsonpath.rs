//! SJSON-style editing of raw JSON text, for `JSET` and `JDEL`.
//!
//! Tile38 edits object documents with tidwall/sjson v1.2.5 (`SetRaw`, `Set`
//! with a string, `Delete`). This module is a port of its algorithm: the
//! document is never parsed into a tree; the edited value is located by
//! scanning and the new text is spliced in, so everything outside the edited
//! spot (number spellings such as `1.0e10`, whitespace, key order) is kept
//! byte for byte. The quirks are sjson's own:
//!
//! * a missing member is appended before the object's last `}`; a missing
//!   element rebuilds the array compactly, padded with `null`s;
//! * missing intermediate containers are created: an array when the next
//!   path component is all digits (or `-1`), otherwise an object;
//! * an intermediate value that is not a container (a scalar, or an empty or
//!   non-JSON document) is replaced by a fresh container;
//! * a component starting with `:` is always an object key (`:0`).
//!
//! Reading (`JGET`, `FGET a.b`, WHERE on JSON) goes through [`gjson`] with
//! a bounded stack (see [`get`]), reading on past duplicate keys as Go's
//! gjson does (`dups`).

use std::fmt;

use tile38_proto::fmt::write_json_str;

mod dups;
mod get;
mod scan;
mod top;
pub use get::{get, CHUNK, MAX_NESTING, MAX_WILDCARDS};
use scan::{locate, skip_ws, trim, Elements, Ends};
pub use top::parse_top;

/// Why a path cannot be used for editing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is empty (sjson: `path cannot be empty`).
    EmptyPath,
    /// The path cannot be applied: wildcards, modifiers, queries or pipes
    /// (`* ? # @ |`), a non-numeric key for an existing array, or an array
    /// index needing more than [`MAX_PADDING`] `null`s of padding.
    InvalidPath,
    /// A read the stack or the wildcard matcher cannot afford: see [`get`].
    TooComplex,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::EmptyPath => "path cannot be empty",
            PathError::InvalidPath => "invalid path",
            PathError::TooComplex => "path too complex",
        })
    }
}

impl std::error::Error for PathError {}

/// Path components from which an edit of a valid document indexes its
/// containers first ([`scan::Ends`]): shorter paths scan less than that.
const INDEX_FROM: usize = 16;

/// Most levels an edit descends through a document that is not valid JSON
/// (which cannot be indexed, so each level rescans what is below it);
/// deeper, the edit is refused with [`PathError::TooComplex`].
pub const MAX_UNINDEXED_DEPTH: usize = 1024;

/// Most `null`s one edit may add to pad arrays. sjson has no limit; this
/// guards against `JSET key id arr.99999999999 1` exhausting memory.
pub const MAX_PADDING: usize = 1 << 20;

/// `JSET key id path value RAW` (and unflagged numbers, `true`, `false`,
/// `null`): sjson's `SetRaw`, inserting `raw` verbatim at `path`. An empty
/// `doc` (no object yet) behaves as `{}`.
pub fn set_raw(doc: &str, path: &str, raw: &str) -> Result<String, PathError> {
    edit(doc, path, raw.as_bytes(), Mode::Raw)
}

/// `JSET key id path value [STR]`: sjson's `Set` with a string, inserting
/// `value` as a JSON string (escaped like Go's `encoding/json` when needed).
pub fn set_str(doc: &str, path: &str, value: &str) -> Result<String, PathError> {
    edit(doc, path, value.as_bytes(), Mode::Str)
}

/// `JDEL key id path`: sjson's `Delete`, removing the member or element at
/// `path` with its comma. A path that does not exist returns `doc` unchanged
/// (`JDEL` compares the result with the input to report "path not found").
/// A trailing `-1` component deletes the last element of an array.
pub fn delete(doc: &str, path: &str) -> Result<String, PathError> {
    edit(doc, path, b"", Mode::Delete)
}

/// The raw JSON text at `path` read with gjson (so full gjson syntax), or
/// `None` when nothing is there (or the path is refused by [`get`]).
pub fn get_raw(doc: &str, path: &str) -> Option<String> {
    let v = get(doc, path).ok()?;
    v.exists().then(|| v.json().to_string())
}

/// Tile38's `isJSONNumber`: whether `JSET key id path value` (no `RAW`/`STR`)
/// stores `value` raw. Looser than JSON: the integer part may be empty, so
/// `.5` and `-.5e3` qualify; `0123`, `5.`, `1e`, `+5` do not.
pub fn is_json_number(s: &str) -> bool {
    fn digits(b: &[u8]) -> &[u8] {
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        &b[n..]
    }
    let mut b = s.as_bytes();
    if let [b'-', rest @ ..] = b {
        b = rest;
    }
    b = match b {
        [] => return false,
        [b'0', rest @ ..] => rest,
        _ => digits(b),
    };
    if let [b'.', rest @ ..] = b {
        match rest {
            [c, more @ ..] if c.is_ascii_digit() => b = digits(more),
            _ => return false,
        }
    }
    if let [b'e' | b'E', rest @ ..] = b {
        let rest = match rest {
            [b'+' | b'-', more @ ..] => more,
            _ => rest,
        };
        match rest {
            [c, more @ ..] if c.is_ascii_digit() => b = digits(more),
            _ => return false,
        }
    }
    b.is_empty()
}

/// Whether `path` has an append component (`-1`, which sjson turns into
/// a push onto an array; `\-1` too, escapes removed).
pub fn appends(path: &str) -> bool {
    parse_path(path).is_ok_and(|parts| parts.iter().any(Part::is_append))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Raw,
    Str,
    Delete,
}

/// Why an edit stopped: sjson's `errNoChange` (deleting a missing path
/// returns the document as is) or a real error.
enum Stop {
    NoChange,
    Path(PathError),
}

impl From<PathError> for Stop {
    fn from(e: PathError) -> Self {
        Stop::Path(e)
    }
}

/// One path component.
struct Part {
    /// The key with escapes removed.
    key: Vec<u8>,
    /// Written `:key`: never an array index.
    force: bool,
}

impl Part {
    /// sjson's `atoui`: the index this component builds arrays with. All
    /// digits, including the empty string (index 0); saturates on overflow.
    fn build_index(&self) -> Option<usize> {
        if self.force || !self.key.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(self.key.iter().fold(0usize, |n, &c| {
            n.saturating_mul(10).saturating_add(usize::from(c - b'0'))
        }))
    }

    /// gjson's lookup index into an existing array (non-empty digits).
    fn lookup_index(&self) -> Option<usize> {
        if self.key.is_empty() || !self.key.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(&self.key).ok()?.parse().ok()
    }

    /// `-1`: append to an array.
    fn is_append(&self) -> bool {
        !self.force && self.key == b"-1"
    }
}

/// Splits an sjson path: `.` separates, `\` escapes the next byte, a leading
/// `:` forces a key; `* ? # @ |` make a "complex" path, refused here.
fn parse_path(path: &str) -> Result<Vec<Part>, PathError> {
    if path.is_empty() {
        return Err(PathError::EmptyPath);
    }
    let b = path.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        let force = b.get(i) == Some(&b':');
        i += usize::from(force);
        let mut key = Vec::new();
        let mut more = false;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    more = true;
                    i += 1;
                    break;
                }
                b'*' | b'?' | b'#' | b'@' | b'|' => return Err(PathError::InvalidPath),
                b'\\' => {
                    i += 1;
                    if let Some(&c) = b.get(i) {
                        key.push(c);
                    }
                }
                c => key.push(c),
            }
            i += 1;
        }
        parts.push(Part { key, force });
        if !more {
            return Ok(parts);
        }
    }
}

struct Edit<'v> {
    value: &'v [u8],
    mode: Mode,
    padding_left: usize,
}

fn edit(doc: &str, path: &str, value: &[u8], mode: Mode) -> Result<String, PathError> {
    let parts = parse_path(path)?;
    let mut ed = Edit {
        value,
        mode,
        padding_left: MAX_PADDING,
    };
    let mut buf = Vec::with_capacity(doc.len() + value.len() + path.len() + 8);
    let b = doc.as_bytes();
    let ends = (parts.len() >= INDEX_FROM && crate::geojson::json::valid(b)).then(|| Ends::new(b));
    match ed.splice(&mut buf, b, &parts, ends.as_ref()) {
        // Cuts fall on ASCII bytes, so the text stays UTF-8; never panic anyway.
        Ok(()) => Ok(String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
        Err(Stop::NoChange) => Ok(doc.to_string()),
        Err(Stop::Path(e)) => Err(e),
    }
}

impl Edit<'_> {
    /// sjson's `appendRawPaths`, iterative: descend through existing values,
    /// copying the text around each one, then edit or build at the end.
    fn splice(
        &mut self,
        buf: &mut Vec<u8>,
        doc: &[u8],
        parts: &[Part],
        ends: Option<&Ends>,
    ) -> Result<(), Stop> {
        let mut tails: Vec<&[u8]> = Vec::new();
        let mut j = doc;
        let mut k = 0;
        loop {
            match locate(j, &parts[k], self.mode == Mode::Delete, ends) {
                Some(_) if ends.is_none() && k >= MAX_UNINDEXED_DEPTH => {
                    return Err(PathError::TooComplex.into());
                }
                Some((s, e)) if k + 1 < parts.len() => {
                    buf.extend_from_slice(&j[..s]);
                    tails.push(&j[e..]);
                    j = &j[s..e];
                    k += 1;
                }
                Some((s, e)) => {
                    buf.extend_from_slice(&j[..s]);
                    let mut rest = e;
                    if self.mode == Mode::Delete {
                        if delete_tail_item(buf) {
                            let t = skip_ws(j, e);
                            if j.get(t) == Some(&b',') {
                                rest = t + 1;
                            }
                        }
                    } else {
                        self.value(buf);
                    }
                    buf.extend_from_slice(&j[rest..]);
                    break;
                }
                None if self.mode == Mode::Delete => return Err(Stop::NoChange),
                None => {
                    self.add_missing(buf, j, &parts[k..])?;
                    break;
                }
            }
        }
        for tail in tails.iter().rev() {
            buf.extend_from_slice(tail);
        }
        Ok(())
    }

    /// `parts[0]` is not in `j`: add it (and everything below it).
    fn add_missing(&mut self, buf: &mut Vec<u8>, j: &[u8], parts: &[Part]) -> Result<(), Stop> {
        let index = parts[0].build_index();
        let mut start = skip_ws(j, 0);
        let mut j = j;
        if !matches!(j.get(start), Some(b'{' | b'[')) {
            j = if index.is_some() { b"[]" } else { b"{}" };
            start = 0;
        }
        let raw = &j[start..];
        let after = skip_ws(raw, 1);
        let comma = after < raw.len() && raw[after] != b'}' && raw[after] != b']';
        if raw[0] == b'{' {
            let end = raw.iter().rposition(|&c| c == b'}').unwrap_or(0);
            buf.extend_from_slice(&raw[..end]);
            if comma {
                buf.push(b',');
            }
            self.build(buf, false, parts)?;
            buf.push(b'}');
            return Ok(());
        }
        let Some(n) = index else {
            if !parts[0].is_append() {
                return Err(PathError::InvalidPath.into());
            }
            let trimmed = trim(raw);
            buf.extend_from_slice(trimmed.strip_suffix(b"]").unwrap_or(trimmed));
            if comma {
                buf.push(b',');
            }
            self.build(buf, true, parts)?;
            buf.push(b']');
            return Ok(());
        };
        let elems: Vec<(usize, usize)> = Elements::new(raw, 0).collect();
        let pad = n.saturating_sub(elems.len());
        self.take_padding(pad)?;
        buf.push(b'[');
        for (i, &(s, e)) in elems.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(&raw[s..e]);
        }
        if elems.is_empty() {
            buf.extend(b"null,".repeat(pad));
        } else {
            buf.extend(b",null".repeat(pad));
            if comma {
                buf.push(b',');
            }
        }
        self.build(buf, true, parts)?;
        buf.push(b']');
        Ok(())
    }

    /// sjson's `appendBuild`: writes `parts` as new nested containers holding
    /// the value, starting inside an array (no key) or an object.
    fn build(&mut self, buf: &mut Vec<u8>, mut array: bool, parts: &[Part]) -> Result<(), Stop> {
        let mut closers = Vec::new();
        for (k, part) in parts.iter().enumerate() {
            if !array {
                append_string(buf, &part.key);
                buf.push(b':');
            }
            let Some(next) = parts.get(k + 1) else {
                self.value(buf);
                break;
            };
            let index = next.build_index();
            array = index.is_some() || next.is_append();
            if array {
                let n = index.unwrap_or(0);
                self.take_padding(n)?;
                buf.push(b'[');
                buf.extend(b"null,".repeat(n));
                closers.push(b']');
            } else {
                buf.push(b'{');
                closers.push(b'}');
            }
        }
        buf.extend(closers.iter().rev());
        Ok(())
    }

    fn value(&self, buf: &mut Vec<u8>) {
        match self.mode {
            Mode::Str => append_string(buf, self.value),
            Mode::Raw | Mode::Delete => buf.extend_from_slice(self.value),
        }
    }

    fn take_padding(&mut self, n: usize) -> Result<(), PathError> {
        self.padding_left = self
            .padding_left
            .checked_sub(n)
            .ok_or(PathError::InvalidPath)?;
        Ok(())
    }
}

/// sjson's `appendStringify`: plain quotes unless Go's `json.Marshal` is needed.
fn append_string(buf: &mut Vec<u8>, s: &[u8]) {
    if s.iter()
        .any(|&c| !(b' '..=0x7f).contains(&c) || c == b'"' || c == b'\\')
    {
        write_json_str(buf, s);
    } else {
        buf.push(b'"');
        buf.extend_from_slice(s);
        buf.push(b'"');
    }
}

/// sjson's `deleteTailItem`: `buf` ends just before the value being deleted;
/// drop its key and the comma before it. Returns true when there was no
/// comma before (first item), so the comma after must go instead.
fn delete_tail_item(buf: &mut Vec<u8>) -> bool {
    let mut i = buf.len() as isize - 1;
    while i >= 0 {
        match buf[i as usize] {
            b'[' => return true,
            b',' => {
                buf.truncate(i as usize);
                return false;
            }
            b':' => {
                // Back over the key string, then to the `{` or `,` before it.
                i -= 1;
                while i >= 0 && buf[i as usize] != b'"' {
                    i -= 1;
                }
                i -= 1;
                while i >= 0 {
                    if buf[i as usize] == b'"' {
                        i -= 1;
                        if i >= 0 && buf[i as usize] == b'\\' {
                            i -= 2;
                            continue;
                        }
                        while i >= 0 {
                            match buf[i as usize] {
                                b'{' => {
                                    buf.truncate(i as usize + 1);
                                    return true;
                                }
                                b',' => {
                                    buf.truncate(i as usize);
                                    return false;
                                }
                                _ => i -= 1,
                            }
                        }
                    }
                    i -= 1;
                }
                return false;
            }
            _ => {}
        }
        i -= 1;
    }
    false
}

#[cfg(test)]
mod tests;

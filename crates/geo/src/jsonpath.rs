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
//! Reading (and `JGET`) goes through [`gjson`]; see [`get_raw`].

use std::fmt;

use tile38_proto::fmt::write_json_str;

/// Why a path cannot be used for editing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is empty (sjson: `path cannot be empty`).
    EmptyPath,
    /// The path cannot be applied: wildcards, modifiers, queries or pipes
    /// (`* ? # @ |`), a non-numeric key for an existing array, or an array
    /// index needing more than [`MAX_PADDING`] `null`s of padding.
    InvalidPath,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::EmptyPath => "path cannot be empty",
            PathError::InvalidPath => "invalid path",
        })
    }
}

impl std::error::Error for PathError {}

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
/// `None` when nothing is there. Used by `JDEL`/`JGET` to test existence.
pub fn get_raw(doc: &str, path: &str) -> Option<String> {
    let v = gjson::get(doc, path);
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
    match ed.splice(&mut buf, doc.as_bytes(), &parts) {
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
    fn splice(&mut self, buf: &mut Vec<u8>, doc: &[u8], parts: &[Part]) -> Result<(), Stop> {
        let mut tails: Vec<&[u8]> = Vec::new();
        let mut j = doc;
        let mut k = 0;
        loop {
            match locate(j, &parts[k], self.mode == Mode::Delete) {
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

/// Where `part` is in the container `j` (gjson's lookup of one component):
/// the value's byte span. Scalars and non-JSON text contain nothing.
fn locate(j: &[u8], part: &Part, del: bool) -> Option<(usize, usize)> {
    let open = skip_ws(j, 0);
    match j.get(open)? {
        b'{' => find_key(j, open, &part.key),
        b'[' => {
            if del && part.is_append() {
                if let Some(last) = Elements::new(j, open).last() {
                    return Some(last);
                }
            }
            Elements::new(j, open).nth(part.lookup_index()?)
        }
        _ => None,
    }
}

/// The value of the first member named `key` in the object opening at `open`.
fn find_key(j: &[u8], open: usize, key: &[u8]) -> Option<(usize, usize)> {
    let mut i = open + 1;
    loop {
        i = skip_ws(j, i);
        if j.get(i) != Some(&b'"') {
            return None;
        }
        let (i0, key_end) = (i, string_end(j, i));
        let name = &j[i + 1..key_end.saturating_sub(1).max(i + 1)];
        i = skip_ws(j, key_end);
        if j.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(j, i + 1);
        let end = value_end(j, i);
        if end == i {
            return None;
        }
        // Escaped keys are decoded by gjson, as sjson's lookup does.
        let matched = if name.contains(&b'\\') {
            std::str::from_utf8(&j[i0..key_end])
                .is_ok_and(|quoted| gjson::parse(quoted).str().as_bytes() == key)
        } else {
            name == key
        };
        if matched {
            return Some((i, end));
        }
        i = skip_ws(j, end);
        if j.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// Spans of the elements of the array opening at `open`.
struct Elements<'a> {
    j: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Elements<'a> {
    fn new(j: &'a [u8], open: usize) -> Self {
        Elements {
            j,
            i: open + 1,
            done: false,
        }
    }
}

impl Iterator for Elements<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.done {
            return None;
        }
        let start = skip_ws(self.j, self.i);
        let end = value_end(self.j, start);
        let after = skip_ws(self.j, end);
        self.done = self.j.get(after) != Some(&b',');
        self.i = after + 1;
        if end == start {
            self.done = true;
            return None;
        }
        Some((start, end))
    }
}

fn skip_ws(j: &[u8], mut i: usize) -> usize {
    while i < j.len() && j[i] <= b' ' {
        i += 1;
    }
    i
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [c, rest @ ..] = s {
        if *c > b' ' {
            break;
        }
        s = rest;
    }
    while let [rest @ .., c] = s {
        if *c > b' ' {
            break;
        }
        s = rest;
    }
    s
}

/// End (exclusive) of the string whose opening quote is at `i`; the text's
/// end when unterminated.
fn string_end(j: &[u8], i: usize) -> usize {
    let mut k = i + 1;
    while k < j.len() {
        match j[k] {
            b'\\' => k += 2,
            b'"' => return k + 1,
            _ => k += 1,
        }
    }
    j.len()
}

/// End (exclusive) of the value starting at `i`; `i` itself when there is
/// none. Lenient like gjson: brackets are only counted, scalars run to the
/// next delimiter, unterminated values run to the end.
fn value_end(j: &[u8], i: usize) -> usize {
    match j.get(i) {
        None => i,
        Some(b'"') => string_end(j, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut k = i;
            while k < j.len() {
                match j[k] {
                    b'"' => {
                        k = string_end(j, k);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return k + 1;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            j.len()
        }
        Some(_) => {
            let mut k = i;
            while k < j.len() && j[k] > b' ' && !matches!(j[k], b',' | b'}' | b']') {
                k += 1;
            }
            k
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(doc: &str, path: &str, v: &str) -> String {
        set_str(doc, path, v).unwrap()
    }
    fn r(doc: &str, path: &str, v: &str) -> String {
        set_raw(doc, path, v).unwrap()
    }
    fn d(doc: &str, path: &str) -> String {
        delete(doc, path).unwrap()
    }

    #[test]
    fn set_string_members() {
        let doc = s("", "hello", "world");
        assert_eq!(doc, r#"{"hello":"world"}"#);
        let doc = s(&doc, "hello", "planet");
        assert_eq!(doc, r#"{"hello":"planet"}"#);
        let doc = s(&doc, "user.name.last", "tom");
        assert_eq!(doc, r#"{"hello":"planet","user":{"name":{"last":"tom"}}}"#);
        let doc = s(&doc, "user.name.first", "andrew");
        let want = r#"{"hello":"planet","user":{"name":{"last":"tom","first":"andrew"}}}"#;
        assert_eq!(doc, want);
        assert_eq!(
            d(&doc, "user.name.last"),
            r#"{"hello":"planet","user":{"name":{"first":"andrew"}}}"#
        );
    }

    #[test]
    fn append_tags() {
        let doc = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]},"properties":{}}"#;
        let doc = s(doc, "properties.tags.-1", "southwest");
        assert_eq!(
            doc,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[-115,44]},"properties":{"tags":["southwest"]}}"#
        );
        let doc = s(&doc, "properties.tags.-1", "united states");
        let doc = s(&doc, "properties.tags.-1", "hot");
        assert!(doc.ends_with(r#""properties":{"tags":["southwest","united states","hot"]}}"#));
    }

    #[test]
    fn arrays() {
        let doc = r#"{"type":"Point","coordinates":[-115,33]}"#;
        assert_eq!(
            r(doc, "coordinates.1", "44"),
            r#"{"type":"Point","coordinates":[-115,44]}"#
        );
        assert_eq!(s(r#"["a","b"]"#, "4", "x"), r#"["a","b",null,null,"x"]"#);
        assert_eq!(
            s(r#"{"a":["a","b"]}"#, "a.2", "x"),
            r#"{"a":["a","b","x"]}"#
        );
        assert_eq!(s(r#"{"a":[]}"#, "a.2", "x"), r#"{"a":[null,null,"x"]}"#);
        assert_eq!(r(r#"{"a":[ ]}"#, "a.-1", "1"), r#"{"a":[ 1]}"#);
        assert_eq!(r("", "a.2.b", "1"), r#"{"a":[null,null,{"b":1}]}"#);
        assert_eq!(r("", "a.-1.-1", "1"), r#"{"a":[[1]]}"#);
        assert_eq!(r("", "0", "1"), "[1]");
        // A numeric component is a key in an object; `:` forces a key.
        assert_eq!(r(r#"{"a":{}}"#, "a.0", "1"), r#"{"a":{"0":1}}"#);
        assert_eq!(r("", "a.:0", "1"), r#"{"a":{"0":1}}"#);
        assert_eq!(r(r#"{"-1":2}"#, "-1", "1"), r#"{"-1":1}"#);
        // Elements with spaces are re-joined compactly when padding (sjson).
        assert_eq!(r("[1, 2]", "3", "9"), "[1,2,null,9]");
        assert_eq!(set_raw("[1]", "x", "2"), Err(PathError::InvalidPath));
    }

    #[test]
    fn raw_values_verbatim() {
        assert_eq!(r("", "hello", ".5"), r#"{"hello":.5}"#);
        assert_eq!(r("{}", "hello", ".5"), r#"{"hello":.5}"#);
        assert_eq!(r("", "hello", "1.0e10"), r#"{"hello":1.0e10}"#);
        let doc = r("", "a.b.c", "1");
        assert_eq!(doc, r#"{"a":{"b":{"c":1}}}"#);
        assert_eq!(
            r(&doc, "a.list", "[1,2,3]"),
            r#"{"a":{"b":{"c":1},"list":[1,2,3]}}"#
        );
        assert_eq!(r("", "a.list", "[1,2,3]"), r#"{"a":{"list":[1,2,3]}}"#);
        assert_eq!(r("", "a\\.b", "1"), r#"{"a.b":1}"#);
        let doc = r(&r(&r("", "t", "true"), "f", "false"), "n", "null");
        assert_eq!(doc, r#"{"t":true,"f":false,"n":null}"#);
        // Untouched text keeps its spelling and whitespace.
        let doc = "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 2 ] }";
        assert_eq!(
            r(doc, "y.1", "3"),
            "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 3 ] }"
        );
        assert_eq!(
            r(doc, "z", "3"),
            "{ \"x\" : 1.0e10 ,\n \"y\": [ .5, 2 ] ,\"z\":3}"
        );
    }

    #[test]
    fn string_escaping() {
        assert_eq!(s("", "a", "x\"y"), r#"{"a":"x\"y"}"#);
        assert_eq!(s("", "a", "<b>"), r#"{"a":"<b>"}"#);
        assert_eq!(s("", "a", "<\n"), r#"{"a":"\u003c\n"}"#);
        assert_eq!(s("", "a", "é"), r#"{"a":"é"}"#);
        assert_eq!(s("", "k\"", "1"), r#"{"k\"":"1"}"#);
    }

    #[test]
    fn scalars_become_containers() {
        assert_eq!(r(r#"{"a":5}"#, "a.b", "1"), r#"{"a":{"b":1}}"#);
        assert_eq!(r(r#"{"a":"s"}"#, "a.1", "1"), r#"{"a":[null,1]}"#);
        assert_eq!(r("5", "a", "1"), r#"{"a":1}"#);
        assert_eq!(r("  \n", "a", "1"), r#"{"a":1}"#);
        assert_eq!(r("nonsense", "a", "1"), r#"{"a":1}"#);
    }

    #[test]
    fn deletes() {
        let doc = r#"{"a":1,"b":2,"c":3}"#;
        assert_eq!(d(doc, "a"), r#"{"b":2,"c":3}"#);
        assert_eq!(d(doc, "b"), r#"{"a":1,"c":3}"#);
        assert_eq!(d(doc, "c"), r#"{"a":1,"b":2}"#);
        assert_eq!(d(r#"{"a":1}"#, "a"), "{}");
        assert_eq!(d(r#"{ "a" : 1 , "b":2}"#, "a"), r#"{ "b":2}"#);
        assert_eq!(d(r#"{"a\"x":1,"b":2}"#, "b"), r#"{"a\"x":1}"#);
        assert_eq!(d(r#"{"a\u002eb":1}"#, "a\\.b"), "{}");
        let arr = r#"{"a":[1,[2],{"x":3}]}"#;
        assert_eq!(d(arr, "a.0"), r#"{"a":[[2],{"x":3}]}"#);
        assert_eq!(d(arr, "a.1"), r#"{"a":[1,{"x":3}]}"#);
        assert_eq!(d(arr, "a.2"), r#"{"a":[1,[2]]}"#);
        assert_eq!(d(arr, "a.-1"), r#"{"a":[1,[2]]}"#);
        assert_eq!(d(arr, "a.2.x"), r#"{"a":[1,[2],{}]}"#);
        assert_eq!(d("[5]", "0"), "[]");
        for missing in ["z", "a.3", "a.0.q", "a.x", "a.-1.y", "a.1.0.0"] {
            assert_eq!(d(arr, missing), arr, "{missing}");
        }
        assert_eq!(d("", "a"), "");
        assert_eq!(d("[]", "-1"), "[]");
    }

    #[test]
    fn odd_paths() {
        // An empty component is index 0 when building, key "" in objects.
        assert_eq!(r("", "a.", "1"), r#"{"a":[1]}"#);
        assert_eq!(r(r#"{"":2}"#, ".", "1"), r#"{"":[1]}"#);
        assert_eq!(r("", ".a", "1"), r#"[{"a":1}]"#);
        assert_eq!(r("{}", ".a", "1"), r#"{"":{"a":1}}"#);
        assert_eq!(r("", "a\\b", "1"), r#"{"ab":1}"#);
        assert_eq!(r("", "a\\\\b", "1"), r#"{"a\\b":1}"#);
        // Deep paths are handled without recursion.
        let path = vec!["k"; 2000].join(".");
        let doc = r("", &path, "1");
        assert_eq!(
            doc,
            format!("{}1{}", r#"{"k":"#.repeat(2000), "}".repeat(2000))
        );
        assert_eq!(r(&doc, &path, "2"), doc.replace('1', "2"));
        assert_eq!(
            d(&doc, &path),
            format!("{}{{}}{}", r#"{"k":"#.repeat(1999), "}".repeat(1999))
        );
    }

    #[test]
    fn path_errors() {
        assert_eq!(set_raw("{}", "", "1"), Err(PathError::EmptyPath));
        assert_eq!(delete("{}", ""), Err(PathError::EmptyPath));
        for p in ["a.*", "a?", "#", "a.#.b", "@this", "a|b"] {
            assert_eq!(set_str("{}", p, "x"), Err(PathError::InvalidPath), "{p}");
            assert_eq!(delete("{}", p), Err(PathError::InvalidPath), "{p}");
        }
        assert_eq!(r("", "a\\*", "1"), r#"{"a*":1}"#);
        assert_eq!(
            set_raw("", "a.99999999999999999999999", "1"),
            Err(PathError::InvalidPath)
        );
        assert_eq!(set_raw("[]", "2000000", "1"), Err(PathError::InvalidPath));
        assert_eq!(PathError::EmptyPath.to_string(), "path cannot be empty");
    }

    #[test]
    fn get_raw_wraps_gjson() {
        let doc = r#"{"a":{"b":[1, 2.50]}}"#;
        assert_eq!(get_raw(doc, "a.b.1").as_deref(), Some("2.50"));
        assert_eq!(get_raw(doc, "a.b"), Some("[1, 2.50]".to_string()));
        assert_eq!(get_raw(doc, "a.c"), None);
    }

    #[test]
    fn json_numbers() {
        for yes in [
            "0", "3.14", "1.0e10", "-5", ".5", "-0", "1E+5", "2e-3", "-.5",
        ] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in [
            "0123", "5.", "1e", "abc", "", "-", "+5", "1.e5", "1e+", "5 ", "0x1",
        ] {
            assert!(!is_json_number(no), "{no}");
        }
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn json() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                Just("1".to_string()),
                Just("-2.5e3".to_string()),
                Just("null".to_string()),
                Just("\"s\"".to_string()),
                Just("\"a\\\"\"".to_string()),
            ];
            leaf.prop_recursive(4, 24, 4, |inner| {
                let ws = prop_oneof![Just(""), Just(" "), Just("\n ")];
                prop_oneof![
                    prop::collection::vec((inner.clone(), ws.clone()), 0..4).prop_map(|v| {
                        let items: Vec<String> =
                            v.into_iter().map(|(x, w)| format!("{w}{x}")).collect();
                        format!("[{}]", items.join(","))
                    }),
                    prop::collection::vec(("[abc0-2]", inner, ws), 0..4).prop_map(|v| {
                        let items: Vec<String> = v
                            .into_iter()
                            .map(|(k, x, w)| format!("{w}\"{k}\":{w}{x}"))
                            .collect();
                        format!("{{{}}}", items.join(","))
                    }),
                ]
            })
        }

        proptest! {
            #[test]
            fn never_panics(doc in "[ {}\\[\\]\",:a-c0-9\\\\.-]{0,24}", path in "[a-c0-9.:\\\\*#-]{0,10}") {
                let _ = set_raw(&doc, &path, "1");
                let _ = set_str(&doc, &path, "x\"");
                let _ = delete(&doc, &path);
                let _ = is_json_number(&doc);
            }

            #[test]
            fn set_then_get(doc in json(), path in "[abc0-2]{1,2}(\\.[abc0-2]{1,2}){0,3}", v in "[a-z<]{0,5}") {
                // sjson refuses non-numeric keys for existing arrays.
                let Ok(out) = set_str(&doc, &path, &v) else {
                    prop_assert!(set_raw(&doc, &path, "1").is_err());
                    return Ok(());
                };
                prop_assert!(gjson::valid(&out), "{}", out);
                let got = gjson::get(&out, &path);
                prop_assert_eq!(got.str(), v.as_str());
                let out = set_raw(&doc, &path, "[1, 2.50]").unwrap();
                let got = get_raw(&out, &path);
                prop_assert_eq!(got.as_deref(), Some("[1, 2.50]"));
                let gone = delete(&out, &path).unwrap();
                prop_assert!(gjson::valid(&gone), "{}", gone);
                prop_assert_eq!(delete(&doc, "zz").unwrap(), doc);
            }

            #[test]
            fn delete_existing(doc in json(), path in "[abc0-2](\\.[abc0-2]){0,3}") {
                let out = delete(&doc, &path).unwrap();
                prop_assert!(gjson::valid(&out), "{}", out);
                prop_assert_eq!(out == doc, get_raw(&doc, &path).is_none());
            }
        }
    }
}

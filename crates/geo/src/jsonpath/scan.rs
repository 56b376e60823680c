//! Scanning raw JSON text the way gjson does: where a path component's
//! value is, and where values, strings and whitespace end.

use super::Part;
use crate::geojson::json::container_ends;

/// Where each container of a valid document ends. Descending a path finds
/// the end of the value matched at every level; scanning for it made an
/// edit at depth `n` cost `n` passes over the document (a 20,000-deep JSET
/// took seconds). With the index a container is stepped over in O(log n).
pub(super) struct Ends<'d> {
    doc: &'d [u8],
    pairs: Vec<(usize, usize)>,
}

impl<'d> Ends<'d> {
    /// Indexes `doc`, which must be valid JSON (then the lenient scanning
    /// below and the index agree on every container).
    pub(super) fn new(doc: &'d [u8]) -> Self {
        Ends {
            doc,
            pairs: container_ends(doc, false),
        }
    }

    /// [`value_end`] of the container at `j[i]`, when `j` is part of the
    /// indexed document.
    fn end(&self, j: &[u8], i: usize) -> Option<usize> {
        let off = (j.as_ptr() as usize).checked_sub(self.doc.as_ptr() as usize)?;
        if off.checked_add(j.len())? > self.doc.len() {
            return None;
        }
        let k = self.pairs.binary_search_by_key(&(off + i), |p| p.0).ok()?;
        let end = self.pairs[k].1.checked_sub(off)?;
        (end <= j.len()).then_some(end)
    }
}

/// [`value_end`], through the index when there is one.
fn value_end_in(j: &[u8], i: usize, ends: Option<&Ends>) -> usize {
    match (ends, j.get(i)) {
        (Some(e), Some(b'{' | b'[')) => e.end(j, i).unwrap_or_else(|| value_end(j, i)),
        _ => value_end(j, i),
    }
}

/// Where `part` is in the container `j` (gjson's lookup of one component):
/// the value's byte span. Scalars and non-JSON text contain nothing.
pub(super) fn locate(
    j: &[u8],
    part: &Part,
    del: bool,
    ends: Option<&Ends>,
) -> Option<(usize, usize)> {
    let open = skip_ws(j, 0);
    match j.get(open)? {
        b'{' => find_key(j, open, &part.key, ends),
        b'[' => {
            if del && part.is_append() {
                if let Some(last) = Elements::indexed(j, open, ends).last() {
                    return Some(last);
                }
            }
            Elements::indexed(j, open, ends).nth(part.lookup_index()?)
        }
        _ => None,
    }
}

/// The value of the first member named `key` in the object opening at `open`.
fn find_key(j: &[u8], open: usize, key: &[u8], ends: Option<&Ends>) -> Option<(usize, usize)> {
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
        let end = value_end_in(j, i, ends);
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
pub(super) struct Elements<'a> {
    j: &'a [u8],
    i: usize,
    done: bool,
    ends: Option<&'a Ends<'a>>,
}

impl<'a> Elements<'a> {
    pub(super) fn new(j: &'a [u8], open: usize) -> Self {
        Elements::indexed(j, open, None)
    }

    fn indexed(j: &'a [u8], open: usize, ends: Option<&'a Ends<'a>>) -> Self {
        Elements {
            j,
            i: open + 1,
            done: false,
            ends,
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
        let end = value_end_in(self.j, start, self.ends);
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

pub(super) fn skip_ws(j: &[u8], mut i: usize) -> usize {
    while i < j.len() && j[i] <= b' ' {
        i += 1;
    }
    i
}

pub(super) fn trim(mut s: &[u8]) -> &[u8] {
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
pub(super) fn string_end(j: &[u8], i: usize) -> usize {
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
pub(super) fn value_end(j: &[u8], i: usize) -> usize {
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

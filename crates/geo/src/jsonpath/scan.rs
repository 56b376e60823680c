//! Scanning raw JSON text the way gjson does: where a path component's
//! value is, and where values, strings and whitespace end.

use super::Part;

/// Where `part` is in the container `j` (gjson's lookup of one component):
/// the value's byte span. Scalars and non-JSON text contain nothing.
pub(super) fn locate(j: &[u8], part: &Part, del: bool) -> Option<(usize, usize)> {
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
pub(super) fn find_key(j: &[u8], open: usize, key: &[u8]) -> Option<(usize, usize)> {
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
pub(super) struct Elements<'a> {
    j: &'a [u8],
    i: usize,
    done: bool,
}

impl<'a> Elements<'a> {
    pub(super) fn new(j: &'a [u8], open: usize) -> Self {
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

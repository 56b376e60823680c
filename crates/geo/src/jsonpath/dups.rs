//! Go's gjson reads on past a duplicate key: when a member's value does not
//! hold the rest of the path, `parseObject` goes on to a later member of
//! the same name (`{"a":{"b":1},"a":{"c":2}}` answers `a.c` with `2`), and
//! Tile38's JGET, FGET and WHERE read JSON with it. The gjson crate stops
//! at the first member. So when the crate finds nothing, the path's plain
//! leading keys are walked again here, every same-named member in document
//! order, and the first walk that reaches a value (with the rest of the
//! path applied to it by the crate) is the answer. Each member is visited
//! at most once per walk, so the retry costs at most another scan.

/// Reads `comps` (plain components of `p`) inside `doc` trying every
/// member of each name, then `rest` (the path after them) in what they
/// reach; `None` when no member leads anywhere.
pub(super) fn read_on<'a>(
    doc: &'a str,
    p: &[u8],
    comps: &[(usize, usize)],
    rest: &'a str,
) -> Option<gjson::Value<'a>> {
    let Some((&(s, e), more)) = comps.split_first() else {
        let found = if rest.is_empty() {
            gjson::parse(doc)
        } else {
            gjson::get(doc, rest)
        };
        return found.exists().then_some(found);
    };
    let key = unescape(&p[s..e])?;
    let parent = gjson::parse(doc);
    let mut answer = None;
    match parent.kind() {
        gjson::Kind::Object => parent.each(|k, v| {
            if k.str() == key {
                answer = within(doc, v.json()).and_then(|raw| read_on(raw, p, more, rest));
            }
            answer.is_none()
        }),
        gjson::Kind::Array => {
            let index: usize = key.parse().ok()?;
            let element = parent.array().into_iter().nth(index)?;
            answer = within(doc, element.json()).and_then(|raw| read_on(raw, p, more, rest));
        }
        _ => {}
    }
    answer
}

/// A path of plain keys only (no wildcard, no empty key), walked here as
/// Go's gjson walks it, found or not; `None` leaves the path to the crate.
pub(super) fn plain<'a>(
    doc: &'a str,
    p: &[u8],
    comps: &[(usize, usize)],
) -> Option<gjson::Value<'a>> {
    let walkable = |&(s, e): &(usize, usize)| e > s && unescape(&p[s..e]).is_some();
    if p.is_empty() || !comps.iter().all(walkable) {
        return None;
    }
    Some(read_on(doc, p, comps, "").unwrap_or_default())
}

/// A component as a key: escapes removed; `None` for a wildcard (`*`,
/// `?`), which this walk does not match.
fn unescape(c: &[u8]) -> Option<String> {
    let mut key = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            b'\\' if i + 1 < c.len() => {
                key.push(c[i + 1]);
                i += 1;
            }
            b'*' | b'?' => return None,
            b => key.push(b),
        }
        i += 1;
    }
    String::from_utf8(key).ok()
}

/// `raw` (a value gjson found in `doc`) as a slice of `doc`.
fn within<'a>(doc: &'a str, raw: &str) -> Option<&'a str> {
    let at = (raw.as_ptr() as usize).wrapping_sub(doc.as_ptr() as usize);
    doc.get(at..at.wrapping_add(raw.len()))
        .filter(|inner| inner.as_ptr() == raw.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::super::get;

    #[test]
    fn reads_on_into_later_members_of_the_same_name() {
        for (doc, path, want) in [
            (r#"{"a":{"b":1},"a":{"c":2}}"#, "a.c", "2"),
            (r#"{"a":{"b":1},"a":{"c":2}}"#, "a.b", "1"),
            (r#"{"a":1,"a":{"c":2}}"#, "a.c", "2"),
            (r#"{"a":{"b":{"x":1}},"a":{"b":{"y":2}}}"#, "a.b.y", "2"),
            (r#"{"a":{"b":{"x":1},"b":{"y":2}}}"#, "a.b.y", "2"),
            (r#"{"a":{"b":1},"a":{"c":[5,6]}}"#, "a.c.1", "6"),
            (r#"{"a":{"b":1},"a":{"c":2}}"#, "a.c|@this", "2"),
            (r#"{"a":{"b":1},"a":{"c":[1,2,3]}}"#, "a.c.#", "3"),
            (r#"{"a.b":{"x":1},"a.b":{"c":2}}"#, r"a\.b.c", "2"),
            (r#"{"c":{"c":{"b":1}}}"#, "c.c.b", "1"),
        ] {
            assert_eq!(get(doc, path).unwrap().json(), want, "{doc} {path}");
        }
        for (doc, path) in [
            (r#"{"a":{"b":1},"a":{"c":2}}"#, "a.d"),
            (r#"{"a":{"b":1},"a":{"c":2}}"#, "b.c"),
            (r#"[{"a":1},{"b":2}]"#, "0.b"),
            // the gjson crate answers 1 here; Go's gjson (Tile38) nil
            (r#"{"c":{"c":{"b":1}}}"#, "c.b"),
        ] {
            assert!(!get(doc, path).unwrap().exists(), "{doc} {path}");
        }
    }
}

//! How replies are shown: the redis-cli-like rendering of RESP replies
//! (`1) "fleet"`, `(integer) 0`, `(nil)`, `(error) ERR …`), the JSON text
//! inside a JSON-mode reply (optionally indented), and whether a reply is
//! an error (RESP `-…` or JSON `"ok":false`), which decides the exit status.

use crate::reply::Value;

/// Whether a reply reports success, or the server's error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error(String),
}

/// The JSON document carried by a JSON-mode reply: on a RESP connection
/// Tile38 wraps every JSON reply in a bulk string.
pub fn json_text(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Bulk(Some(b)) | Value::Simple(b) if b.first() == Some(&b'{') => Some(b),
        _ => None,
    }
}

/// Classifies a reply: a RESP error, or a JSON object with `"ok":false`.
pub fn outcome(v: &Value) -> Outcome {
    if let Value::Error(e) = v {
        return Outcome::Error(String::from_utf8_lossy(e).into_owned());
    }
    let Some(text) = json_text(v) else {
        return Outcome::Ok;
    };
    match serde_json::from_slice::<serde_json::Value>(text) {
        Ok(doc) => match doc.get("ok") {
            Some(serde_json::Value::Bool(false)) => Outcome::Error(
                doc.get("err")
                    .and_then(|e| e.as_str())
                    .unwrap_or("unknown error")
                    .to_string(),
            ),
            _ => Outcome::Ok,
        },
        // Tile38 writes some replies that are not valid JSON (`OUTPUT`'s
        // unquoted elapsed); `ok` always comes first, so the prefix decides.
        Err(_) if text.starts_with(br#"{"ok":false"#) => {
            Outcome::Error(String::from_utf8_lossy(text).into_owned())
        }
        Err(_) => Outcome::Ok,
    }
}

/// redis-cli-style rendering as Tile38's cli does it: bulk strings in double
/// quotes (inner quotes not escaped), nested arrays indented so that
/// continuation lines align under the first element.
pub fn term_resp(v: &Value) -> String {
    term_value(v, 0).trim().to_string()
}

fn term_value(v: &Value, spaces: usize) -> String {
    match v {
        Value::Simple(s) => String::from_utf8_lossy(s).into_owned(),
        Value::Error(e) => format!("(error) {}", String::from_utf8_lossy(e)),
        Value::Int(n) => format!("(integer) {n}"),
        Value::Bulk(None) => "(nil)".into(),
        Value::Bulk(Some(b)) => format!("\"{}\"", String::from_utf8_lossy(b)),
        Value::Array(None) => "(empty list or set)".into(),
        Value::Array(Some(items)) if items.is_empty() => "(empty list or set)".into(),
        Value::Array(Some(items)) => {
            let inner = spaces + items.len().to_string().len() + 2;
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&" ".repeat(spaces));
                }
                let text = term_value(item, inner);
                out.push_str(&format!("{}) {}\n", i + 1, text.trim()));
            }
            out
        }
    }
}

/// Indents a JSON document by two spaces per level; arrays of scalars stay
/// on one line (`[-112, 33]`). Works on the text, not a parsed tree, so
/// numbers keep their exact digits, member order is kept and Tile38's
/// not-quite-JSON replies still come out readable.
pub fn pretty_json(text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    // Inside a one-line array: where it ends.
    let mut flat_until: Option<usize> = None;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => i = copy_string(&chars, i, &mut out),
            '[' if flat_until.is_none() && chars.get(i + 1) != Some(&']') => {
                out.push('[');
                match flat_array_end(&chars, i) {
                    Some(end) => flat_until = Some(end),
                    None => {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.get(i + 1) == Some(&close) {
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            ']' if flat_until == Some(i) => {
                flat_until = None;
                out.push(']');
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' if flat_until.is_some() => out.push_str(", "),
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Copies the string literal starting at `start`; returns the index of its
/// closing quote.
fn copy_string(chars: &[char], start: usize, out: &mut String) -> usize {
    out.push('"');
    let mut i = start + 1;
    while i < chars.len() {
        out.push(chars[i]);
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 1;
            }
            '"' => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index of the `]` closing the array at `start` when the array holds
/// only scalars (no nested array or object).
fn flat_array_end(chars: &[char], start: usize) -> Option<usize> {
    let mut in_string = false;
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if in_string => i += 1,
            '"' => in_string = !in_string,
            '[' | '{' if !in_string => return None,
            ']' if !in_string => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Some(s.as_bytes().to_vec()))
    }

    fn arr(items: Vec<Value>) -> Value {
        Value::Array(Some(items))
    }

    #[test]
    fn scan_reply_renders_like_tile38_cli() {
        let v = arr(vec![
            Value::Int(0),
            arr(vec![arr(vec![
                bulk("truck1"),
                bulk(r#"{"type":"Point","coordinates":[-112,33]}"#),
                arr(vec![bulk("speed"), bulk("10")]),
            ])]),
        ]);
        let want = "1) (integer) 0\n\
                    2) 1) 1) \"truck1\"\n      \
                    2) \"{\"type\":\"Point\",\"coordinates\":[-112,33]}\"\n      \
                    3) 1) \"speed\"\n         \
                    2) \"10\"";
        assert_eq!(term_resp(&v), want);
    }

    #[test]
    fn scalars_render() {
        assert_eq!(term_resp(&Value::Simple(b"PONG".to_vec())), "PONG");
        assert_eq!(term_resp(&Value::Bulk(None)), "(nil)");
        assert_eq!(term_resp(&Value::Int(-1)), "(integer) -1");
        assert_eq!(
            term_resp(&Value::Error(b"ERR unknown command 'BADCMD'".to_vec())),
            "(error) ERR unknown command 'BADCMD'"
        );
        assert_eq!(term_resp(&arr(vec![])), "(empty list or set)");
        assert_eq!(term_resp(&arr(vec![bulk("fleet")])), "1) \"fleet\"");
    }

    #[test]
    fn ten_items_widen_the_indent() {
        let items = (0..10)
            .map(|i| arr(vec![bulk(&i.to_string()), bulk("x")]))
            .collect();
        let text = term_resp(&arr(items));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1) 1) \"0\"");
        assert_eq!(lines[1], "    2) \"x\"");
        assert_eq!(lines[18], "10) 1) \"9\"");
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            outcome(&bulk(r#"{"ok":true,"elapsed":"1µs"}"#)),
            Outcome::Ok
        );
        assert_eq!(
            outcome(&bulk(
                r#"{"ok":false,"err":"id not found","elapsed":"1µs"}"#
            )),
            Outcome::Error("id not found".into())
        );
        assert_eq!(
            outcome(&bulk(r#"{"ok":true,"output":"json","elapsed":1.2µs}"#)),
            Outcome::Ok
        );
        assert!(matches!(
            outcome(&bulk(r#"{"ok":false,"err":"x","elapsed":1µs}"#)),
            Outcome::Error(_)
        ));
        assert_eq!(
            outcome(&Value::Error(b"ERR x".to_vec())),
            Outcome::Error("ERR x".into())
        );
        assert_eq!(outcome(&Value::Bulk(None)), Outcome::Ok);
    }

    #[test]
    fn pretty_keeps_digits_order_and_strings() {
        let text = r#"{"ok":true,"object":{"type":"Point","coordinates":[-112.50,33]},"s":"a,{b}:\"c\"","e":[],"o":{},"l":[[1,"]"],{"x":[]}],"elapsed":"3µs"}"#;
        let want = r#"{
  "ok": true,
  "object": {
    "type": "Point",
    "coordinates": [-112.50, 33]
  },
  "s": "a,{b}:\"c\"",
  "e": [],
  "o": {},
  "l": [
    [1, "]"],
    {
      "x": []
    }
  ],
  "elapsed": "3µs"
}"#;
        assert_eq!(pretty_json(text), want);
        let round: serde_json::Value = serde_json::from_str(&pretty_json(text)).unwrap();
        assert_eq!(
            round,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }
}

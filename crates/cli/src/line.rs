//! Splitting a typed line into arguments, e.g.
//! `SET fleet q STRING "hello world"` → `SET`,`fleet`,`q`,`STRING`,`hello world`
//! and `SET fleet j OBJECT {"type": "Point", "coordinates": [1, 2]}` → … `OBJECT`,
//! `{"type": "Point", "coordinates": [1, 2]}`.
//!
//! The rules are the server's telnet rules (tokens separated by blanks; a
//! token wrapped in `"` or `'` may hold blanks and the escapes `\n`, `\r`,
//! `\t`, `\x` → `x`), so a line means what it would mean typed into telnet or
//! Tile38's own cli, plus two that Tile38's cli gets wrong or crashes on:
//! an unquoted token starting with `{` runs to its matching `}` (JSON strings
//! and nesting respected, blanks included) and quotes inside a bare token
//! are literal.

/// Why a line could not be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    UnbalancedQuotes,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
        }
    }
}

/// Splits `line` into arguments.
pub fn split(line: &str) -> Result<Vec<String>, LineError> {
    let chars: Vec<char> = line.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let (arg, next) = quoted(&chars, i)?;
            args.push(arg);
            i = next;
        } else {
            let mut end = if c == '{' { json_end(&chars, i) } else { i };
            while end < chars.len() && !chars[end].is_whitespace() {
                end += 1;
            }
            args.push(chars[i..end].iter().collect());
            i = end;
        }
    }
    Ok(args)
}

/// A quoted token starting at `start`; returns it and the index after it.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), LineError> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(match chars[i + 1] {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    other => other,
                });
                i += 2;
            }
            c if c == quote => {
                if chars.get(i + 1).is_some_and(|c| !c.is_whitespace()) {
                    return Err(LineError::UnbalancedQuotes);
                }
                return Ok((out, i + 1));
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(LineError::UnbalancedQuotes)
}

/// Index just past the `}` matching the `{` at `start`, or the end of the
/// line when it never closes (the server then reports the bad JSON).
fn json_end(chars: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '\\' if in_string => i += 1,
            '"' => in_string = !in_string,
            '{' | '[' if !in_string => depth += 1,
            '}' | ']' if !in_string => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn blanks_and_quotes() {
        assert_eq!(ok("   ping   "), ["ping"]);
        assert_eq!(ok("GET\tfleet  truck1"), ["GET", "fleet", "truck1"]);
        assert_eq!(
            ok(r#"SET fleet q STRING "hello world""#),
            ["SET", "fleet", "q", "STRING", "hello world"]
        );
        assert_eq!(ok("ECHO 'a b'"), ["ECHO", "a b"]);
        assert_eq!(ok(r#"ECHO "a\"b\n" ''"#), ["ECHO", "a\"b\n", ""]);
        assert_eq!(ok(r#""GET" fleet truck1"#), ["GET", "fleet", "truck1"]);
        assert_eq!(ok(""), Vec::<String>::new());
    }

    #[test]
    fn json_tokens_keep_their_blanks() {
        assert_eq!(
            ok(r#"SET fleet j OBJECT {"type": "Point", "coordinates": [1, 2]}"#),
            [
                "SET",
                "fleet",
                "j",
                "OBJECT",
                r#"{"type": "Point", "coordinates": [1, 2]}"#
            ]
        );
        assert_eq!(
            ok(r#"JSET k id f {"a": "} {", "b": [1, {"c": 2}]} RAW"#),
            [
                "JSET",
                "k",
                "id",
                "f",
                r#"{"a": "} {", "b": [1, {"c": 2}]}"#,
                "RAW"
            ]
        );
        assert_eq!(ok(r#"SET k i OBJECT {"a": 1"#)[4], r#"{"a": 1"#);
    }

    #[test]
    fn bare_tokens_keep_inner_quotes() {
        assert_eq!(ok(r#"WHERE x'y a"b"#), ["WHERE", "x'y", r#"a"b"#]);
    }

    #[test]
    fn unbalanced() {
        assert_eq!(split(r#"SET a "b"#), Err(LineError::UnbalancedQuotes));
        assert_eq!(split(r#"SET a "b"c"#), Err(LineError::UnbalancedQuotes));
    }
}

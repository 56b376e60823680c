//! Reading one server reply off the wire: `+OK`, `-ERR …`, `:1`, `$n` bulk
//! strings (with `$-1` for nil) and `*n` arrays, nested. The raw bytes are
//! kept next to the parsed value because `--raw` prints them unchanged.

use std::io::{self, BufRead};

/// A parsed RESP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+text`
    Simple(Vec<u8>),
    /// `-text`
    Error(Vec<u8>),
    /// `:n`
    Int(i64),
    /// `$n` … or `$-1` (None).
    Bulk(Option<Vec<u8>>),
    /// `*n` … or `*-1` (None).
    Array(Option<Vec<Value>>),
}

/// One reply: the bytes as received and what they mean.
#[derive(Clone, Debug)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub value: Value,
}

/// Bulk strings beyond this are refused rather than allocated: no Tile38
/// reply comes near it, a corrupt length would.
const MAX_BULK: usize = 1 << 30;
/// Deeper nesting than any Tile38 reply has; bounds the recursion.
const MAX_DEPTH: usize = 64;

/// Reads exactly one reply. EOF before the first byte is
/// `ErrorKind::UnexpectedEof`, so callers can tell a closed connection.
pub fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let mut raw = Vec::new();
    let value = read_value(r, &mut raw, 0)?;
    Ok(Reply { raw, value })
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("invalid reply: {what}"))
}

fn read_value(r: &mut impl BufRead, raw: &mut Vec<u8>, depth: usize) -> io::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid("nested too deep"));
    }
    let start = raw.len();
    if r.read_until(b'\n', raw)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut line = &raw[start..];
    line = line.strip_suffix(b"\n").unwrap_or(line);
    line = line.strip_suffix(b"\r").unwrap_or(line);
    let (kind, body) = match line.split_first() {
        Some((k, b)) => (*k, b.to_vec()),
        None => return Err(invalid("empty line")),
    };
    let len = || -> io::Result<i64> {
        std::str::from_utf8(&body)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| invalid("bad length"))
    };
    Ok(match kind {
        b'+' => Value::Simple(body),
        b'-' => Value::Error(body),
        b':' => Value::Int(len()?),
        b'$' => match usize::try_from(len()?) {
            Err(_) => Value::Bulk(None),
            Ok(n) if n > MAX_BULK => return Err(invalid("bulk string too long")),
            Ok(n) => {
                let at = raw.len();
                raw.resize(at + n + 2, 0);
                r.read_exact(&mut raw[at..])?;
                if &raw[at + n..] != b"\r\n" {
                    return Err(invalid("bulk string not terminated by CRLF"));
                }
                Value::Bulk(Some(raw[at..at + n].to_vec()))
            }
        },
        b'*' => match usize::try_from(len()?) {
            Err(_) => Value::Array(None),
            Ok(n) => {
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(read_value(r, raw, depth + 1)?);
                }
                Value::Array(Some(items))
            }
        },
        // Not RESP (a server speaking some other framing): show the line.
        _ => Value::Simple(line.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> io::Result<Reply> {
        read_reply(&mut &bytes[..])
    }

    #[test]
    fn scalars() {
        assert_eq!(
            parse(b"+OK\r\n").unwrap().value,
            Value::Simple(b"OK".to_vec())
        );
        assert_eq!(
            parse(b"-ERR nope\r\n").unwrap().value,
            Value::Error(b"ERR nope".to_vec())
        );
        assert_eq!(parse(b":-1\r\n").unwrap().value, Value::Int(-1));
        assert_eq!(parse(b"$-1\r\n").unwrap().value, Value::Bulk(None));
        assert_eq!(
            parse(b"$5\r\na\r\nbc\r\n").unwrap().value,
            Value::Bulk(Some(b"a\r\nbc".to_vec()))
        );
    }

    #[test]
    fn nested_arrays_keep_raw_bytes() {
        let bytes = b"*2\r\n:0\r\n*1\r\n$2\r\nid\r\n+after\r\n";
        let mut r = &bytes[..];
        let reply = read_reply(&mut r).unwrap();
        assert_eq!(reply.raw, b"*2\r\n:0\r\n*1\r\n$2\r\nid\r\n");
        assert_eq!(
            reply.value,
            Value::Array(Some(vec![
                Value::Int(0),
                Value::Array(Some(vec![Value::Bulk(Some(b"id".to_vec()))]))
            ]))
        );
        assert_eq!(r, b"+after\r\n");
    }

    #[test]
    fn malformed_and_truncated() {
        assert_eq!(parse(b"").unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        assert!(parse(b"$3\r\nab").is_err());
        assert!(parse(b"$2\r\nabcd\r\n").is_err());
        assert!(parse(b"$x\r\n").is_err());
        assert!(parse(b"$99999999999\r\n").is_err());
        let deep = "*1\r\n".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}

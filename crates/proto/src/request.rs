//! Splitting a connection's input buffer into commands.
//!
//! Every message is classified by its first bytes, as Tile38 does:
//! `G`/`P`/`O` + a request line ending in ` HTTP/x.y\r\n` → HTTP;
//! `*` → RESP array; `$` → native `$<n> <payload>\r\n`; anything else → a
//! telnet line (`SET fleet truck1 POINT 33 -112\r\n`).

use crate::args::Args;
use crate::http::{self, HttpRequest};

/// How a message was framed; decides the default output mode and the reply
/// framing (RESP for RESP/telnet, JSON for the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Resp,
    Telnet,
    Native,
    Http,
    WebSocket,
}

/// Size limits enforced while framing, so a client cannot make the server
/// buffer without bound or allocate a huge argument vector.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest RESP bulk string (`$n`), and largest native/HTTP payload.
    pub max_bulk: usize,
    /// Largest RESP array (`*n`).
    pub max_args: usize,
    /// Longest telnet line / HTTP head.
    pub max_inline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: 512 * 1024 * 1024,
            max_args: 1024 * 1024,
            max_inline: 64 * 1024 * 1024,
        }
    }
}

/// A protocol error: the stream cannot be re-framed, the connection closes
/// after the error is reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    UnbalancedQuotes,
    InvalidMessage,
    TooBigInline,
    /// A malformed HTTP request: Tile38 closes without any reply.
    BadHttp,
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtoError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtoError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtoError::ExpectedDollar(b) => write!(f, "expected '$', got '{}'", *b as char),
            ProtoError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtoError::InvalidMessage => f.write_str("invalid message"),
            ProtoError::TooBigInline => f.write_str("too big inline request"),
            ProtoError::BadHttp => f.write_str("invalid http request"),
        }
    }
}

impl std::error::Error for ProtoError {}

/// One complete message taken from the buffer.
#[derive(Debug)]
pub struct Frame {
    pub framing: Framing,
    /// Bytes of the buffer this message used.
    pub consumed: usize,
    /// HTTP details (auth header, WebSocket upgrade, CORS pre-flight).
    pub http: Option<HttpRequest>,
}

/// Parses the next message of `buf` into `args` (cleared first).
///
/// `Ok(None)`: more bytes are needed. A frame with empty `args` (`*0\r\n`, an
/// empty telnet line) is complete but carries no command.
pub fn parse_next(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
) -> Result<Option<Frame>, ProtoError> {
    args.clear();
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if matches!(first, b'G' | b'P' | b'O') {
        let Some(end) = find_crlf(buf) else {
            return if buf.len() > limits.max_inline {
                Err(ProtoError::TooBigInline)
            } else {
                Ok(None)
            };
        };
        let line = &buf[..end + 2];
        if line.len() > 11 && &line[line.len() - 11..line.len() - 5] == b" HTTP/" {
            return http::parse_request(buf, args, limits);
        }
    }
    match first {
        b'*' => parse_resp(buf, args, limits),
        b'$' => parse_native(buf, args, limits),
        _ => parse_telnet(buf, args, limits),
    }
}

/// Position of the first `\n` that is preceded by `\r` (index of the `\r`).
fn find_crlf(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr(b'\n', &buf[from..]) {
        let at = from + i;
        if at > 0 && buf[at - 1] == b'\r' {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

#[inline]
pub(crate) fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Reads a `\r\n`-terminated line starting at `pos`; returns (line, next pos).
#[inline]
fn read_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = &buf[pos..];
    let i = memchr(b'\n', rest)?;
    if i == 0 || rest[i - 1] != b'\r' {
        // A bare LF inside a RESP header is malformed; treat the whole line
        // as the header so that the number parse fails.
        return Some((&rest[..i], pos + i + 1));
    }
    Some((&rest[..i - 1], pos + i + 1))
}

#[inline]
fn parse_len(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b - b'0') as i64;
    }
    Some(if neg { -n } else { n })
}

fn parse_resp(buf: &[u8], args: &mut Args, limits: &Limits) -> Result<Option<Frame>, ProtoError> {
    let Some((line, mut pos)) = read_line(buf, 1) else {
        return if buf.len() > 32 {
            Err(ProtoError::InvalidMultibulkLength)
        } else {
            Ok(None)
        };
    };
    let count = match parse_len(line) {
        Some(n) if n >= 0 && n as usize <= limits.max_args => n as usize,
        _ => return Err(ProtoError::InvalidMultibulkLength),
    };
    for _ in 0..count {
        let Some(&b) = buf.get(pos) else {
            return Ok(None);
        };
        if b != b'$' {
            return Err(ProtoError::ExpectedDollar(b));
        }
        let Some((line, next)) = read_line(buf, pos + 1) else {
            return if buf.len() - pos > 32 {
                Err(ProtoError::InvalidBulkLength)
            } else {
                Ok(None)
            };
        };
        let len = match parse_len(line) {
            Some(n) if n >= 0 && n as usize <= limits.max_bulk => n as usize,
            _ => return Err(ProtoError::InvalidBulkLength),
        };
        if buf.len() < next + len + 2 {
            return Ok(None);
        }
        if &buf[next + len..next + len + 2] != b"\r\n" {
            return Err(ProtoError::InvalidBulkLength);
        }
        args.push(&buf[next..next + len]);
        pos = next + len + 2;
    }
    Ok(Some(Frame {
        framing: Framing::Resp,
        consumed: pos,
        http: None,
    }))
}

fn parse_native(buf: &[u8], args: &mut Args, limits: &Limits) -> Result<Option<Frame>, ProtoError> {
    let mut i = 1;
    let mut n: usize = 0;
    loop {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        match b {
            b'0'..=b'9' if i <= 12 => n = n * 10 + (b - b'0') as usize,
            b' ' if i > 1 => break,
            _ => return Err(ProtoError::InvalidMessage),
        }
        i += 1;
    }
    if n > limits.max_bulk {
        return Err(ProtoError::InvalidMessage);
    }
    let start = i + 1;
    if buf.len() < start + n + 2 {
        return Ok(None);
    }
    if &buf[start + n..start + n + 2] != b"\r\n" {
        return Err(ProtoError::InvalidMessage);
    }
    tokenize_native(&buf[start..start + n], args);
    Ok(Some(Frame {
        framing: Framing::Native,
        consumed: start + n + 2,
        http: None,
    }))
}

/// Tile38's native/HTTP tokeniser: split on single spaces (empty tokens
/// dropped); a token starting with `{` takes the rest of the line (GeoJSON);
/// after `SET … STRING` a `"quoted rest"` is one argument.
pub fn tokenize_native(payload: &[u8], args: &mut Args) {
    let mut rest = payload;
    while !rest.is_empty() {
        if rest[0] == b' ' {
            rest = &rest[1..];
            continue;
        }
        if rest[0] == b'{' {
            args.push(rest);
            return;
        }
        if rest.len() >= 2
            && rest[0] == b'"'
            && rest[rest.len() - 1] == b'"'
            && args.len() >= 2
            && args.get(0).eq_ignore_ascii_case(b"set")
            && args.get(args.len() - 1).eq_ignore_ascii_case(b"string")
        {
            args.push(&rest[1..rest.len() - 1]);
            return;
        }
        let end = memchr(b' ', rest).unwrap_or(rest.len());
        args.push(&rest[..end]);
        rest = &rest[end..];
    }
}

fn parse_telnet(buf: &[u8], args: &mut Args, limits: &Limits) -> Result<Option<Frame>, ProtoError> {
    let Some(nl) = memchr(b'\n', buf) else {
        return if buf.len() > limits.max_inline {
            Err(ProtoError::TooBigInline)
        } else {
            Ok(None)
        };
    };
    if nl > limits.max_inline {
        return Err(ProtoError::TooBigInline);
    }
    let line = if nl > 0 && buf[nl - 1] == b'\r' {
        &buf[..nl - 1]
    } else {
        &buf[..nl]
    };
    tokenize_telnet(line, args)?;
    Ok(Some(Frame {
        framing: Framing::Telnet,
        consumed: nl + 1,
        http: None,
    }))
}

/// redcon's inline tokeniser: spaces separate tokens; a token may be wrapped
/// in `"` or `'` (with `\n`, `\r`, `\t` and `\x` escapes inside); a quote must
/// start a token and the closing quote must end it.
fn tokenize_telnet(line: &[u8], args: &mut Args) -> Result<(), ProtoError> {
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b' ' {
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let quote = c;
            i += 1;
            args.push_empty();
            let mut closed = false;
            while i < line.len() {
                let c = line[i];
                if c == b'\\' && i + 1 < line.len() {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    };
                    args.extend_last(&[e]);
                    i += 2;
                    continue;
                }
                if c == quote {
                    closed = true;
                    i += 1;
                    break;
                }
                args.extend_last(&[c]);
                i += 1;
            }
            if !closed || (i < line.len() && line[i] != b' ') {
                return Err(ProtoError::UnbalancedQuotes);
            }
            continue;
        }
        let start = i;
        while i < line.len() && line[i] != b' ' {
            if line[i] == b'"' || line[i] == b'\'' {
                return Err(ProtoError::UnbalancedQuotes);
            }
            i += 1;
        }
        args.push(&line[start..i]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Option<(Framing, usize, Vec<String>)>, ProtoError> {
        let mut args = Args::new();
        Ok(parse_next(buf, &mut args, &Limits::default())?
            .map(|f| (f.framing, f.consumed, args.to_strings())))
    }

    #[test]
    fn resp_arrays() {
        let (k, n, a) = parse(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(
            (k, n, a),
            (
                Framing::Resp,
                22,
                vec!["ECHO".to_string(), "hi".to_string()]
            )
        );
        assert_eq!(parse(b"*2\r\n$4\r\nECHO\r\n$2\r\nh").unwrap(), None);
        assert_eq!(parse(b"*0\r\n").unwrap().unwrap().2.len(), 0);
        assert_eq!(parse(b"*x\r\n"), Err(ProtoError::InvalidMultibulkLength));
        assert_eq!(parse(b"*-1\r\n"), Err(ProtoError::InvalidMultibulkLength));
        assert_eq!(
            parse(b"*1\r\n$x\r\nPING\r\n"),
            Err(ProtoError::InvalidBulkLength)
        );
        assert_eq!(
            parse(b"*1\r\n+PING\r\n"),
            Err(ProtoError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            ProtoError::ExpectedDollar(b'+').to_string(),
            "Protocol error: expected '$', got '+'"
        );
    }

    #[test]
    fn telnet_lines() {
        let (k, _, a) = parse(b"SET k \"a b\" STRING 'x y'\r\n").unwrap().unwrap();
        assert_eq!(k, Framing::Telnet);
        assert_eq!(a, vec!["SET", "k", "a b", "STRING", "x y"]);
        assert_eq!(
            parse(b"ECHO    spaced   \r\n").unwrap().unwrap().2,
            vec!["ECHO", "spaced"]
        );
        assert_eq!(
            parse(b"PING \"unbalanced\r\n"),
            Err(ProtoError::UnbalancedQuotes)
        );
        assert_eq!(parse(b"\"\" a\r\n").unwrap().unwrap().2, vec!["", "a"]);
        assert_eq!(parse(b"\r\n").unwrap().unwrap().2.len(), 0);
        assert_eq!(
            parse(b"\"a\\tb\\\"\"\n").unwrap().unwrap().2,
            vec!["a\tb\""]
        );
    }

    #[test]
    fn g_p_o_lines_need_crlf() {
        assert_eq!(parse(b"PING\n").unwrap(), None);
        assert_eq!(parse(b"PING\r\n").unwrap().unwrap().2, vec!["PING"]);
        assert_eq!(
            parse(b"GET fleet truck1\r\n").unwrap().unwrap().0,
            Framing::Telnet
        );
    }

    #[test]
    fn native_messages() {
        let (k, n, a) = parse(b"$17 SET k i POINT 1 2\r\n$7 GET k i\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((k, n), (Framing::Native, 23));
        assert_eq!(a, vec!["SET", "k", "i", "POINT", "1", "2"]);
        let mut args = Args::new();
        tokenize_native(b"SET k i OBJECT {\"type\": \"Point\"}", &mut args);
        assert_eq!(args.get(4), b"{\"type\": \"Point\"}");
        args.clear();
        tokenize_native(b"set k i string \"a b\"", &mut args);
        assert_eq!(args.get(4), b"a b");
        assert_eq!(parse(b"$x SET\r\n"), Err(ProtoError::InvalidMessage));
    }
}

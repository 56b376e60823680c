//! Splitting a connection's input buffer into commands.
//!
//! Every message is classified by its first bytes, as Tile38 does:
//! `G`/`P`/`O` + a request line ending in ` HTTP/x.y\r\n` → HTTP;
//! `*` → RESP array; `$` → native `$<n> <payload>\r\n`; anything else → a
//! telnet line (`SET fleet truck1 POINT 33 -112\r\n`).
//!
//! A message that arrives in pieces is not scanned again from its first
//! byte on every read: [`parse_resume`] keeps in a [`Progress`] how far the
//! scan of the incomplete message got (bytes of a line without its end, the
//! RESP elements already read, the length an HTTP request needs), so a
//! 32 MiB line read 64 KiB at a time costs one pass, not 512.

use crate::args::Args;
use crate::http::{self, HttpRequest};

mod tokenize;
pub use tokenize::tokenize_native;
use tokenize::tokenize_telnet;

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
    /// A malformed HTTP request: Tile38's `invalid HTTP request`.
    BadHttp,
    /// A `Content-Length` or `Sec-WebSocket-Version` header that Go's
    /// `strconv.ParseUint` refuses: Tile38 answers with that error's text.
    BadHeaderNumber {
        value: Vec<u8>,
        out_of_range: bool,
    },
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redcon = match self {
            ProtoError::InvalidMultibulkLength => "invalid multibulk length",
            ProtoError::InvalidBulkLength => "invalid bulk length",
            ProtoError::ExpectedDollar(b) => {
                return write!(f, "Protocol error: expected '$', got '{}'", *b as char)
            }
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtoError::InvalidMessage => "invalid message",
            ProtoError::TooBigInline => "too big inline request",
            // Tile38's own errors, not redcon's: no `Protocol error: `.
            ProtoError::BadHttp => return f.write_str("invalid HTTP request"),
            ProtoError::BadHeaderNumber {
                value,
                out_of_range,
            } => {
                let why = match out_of_range {
                    true => "value out of range",
                    false => "invalid syntax",
                };
                let mut quoted = Vec::new();
                crate::fmt::go_quote(value, &mut quoted);
                let quoted = String::from_utf8_lossy(&quoted);
                return write!(f, "strconv.ParseUint: parsing {quoted}: {why}");
            }
        };
        write!(f, "Protocol error: {redcon}")
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
/// empty telnet line) is complete but carries no command. Stateless: a
/// caller that retries as bytes arrive should use [`parse_resume`].
pub fn parse_next(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
) -> Result<Option<Frame>, ProtoError> {
    let mut progress = Progress::default();
    let res = parse_resume(buf, args, limits, &mut progress);
    if matches!(progress.stage, Stage::Resp { .. }) {
        // Give the incomplete array's argument storage back to the caller.
        std::mem::swap(args, &mut progress.partial);
        args.clear();
    }
    res
}

/// How far the scan of an incomplete message got (see [`parse_resume`]).
#[derive(Debug, Default)]
pub struct Progress {
    stage: Stage,
    /// The elements of an incomplete RESP array read so far.
    partial: Args,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// Nothing of the next message has been looked at.
    #[default]
    Start,
    /// A line (telnet, or a `G`/`P`/`O` request line) whose first `n`
    /// bytes hold no line end.
    Line(usize),
    /// An HTTP head whose end (`\r\n\r\n`) does not start before byte `n`.
    HttpHead(usize),
    /// An HTTP request of `total` bytes whose head ends at `head_end`.
    HttpBody { head_end: usize, total: usize },
    /// A RESP array of `count` elements: the first `done` are in
    /// `Progress::partial`, the next one starts at byte `pos`.
    Resp {
        count: usize,
        done: usize,
        pos: usize,
    },
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Whether part of a message has been scanned (more bytes are awaited).
    pub fn in_message(&self) -> bool {
        self.stage != Stage::Start
    }
}

/// [`parse_next`] for a buffer that grows between calls: the scan of an
/// incomplete message resumes where the previous call stopped.
///
/// Contract: after an `Ok(None)`, the next call gets the same bytes (the
/// same message first) with more appended. `progress` starts afresh after a
/// frame or an error, so the caller may drop the consumed bytes then.
pub fn parse_resume(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
    progress: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    args.clear();
    let res = dispatch(buf, args, limits, progress);
    if !matches!(res, Ok(None)) {
        progress.stage = Stage::Start;
        progress.partial.clear();
    }
    res
}

fn dispatch(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
    p: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    match p.stage {
        Stage::HttpHead(from) => return parse_http(buf, from, args, limits, p),
        Stage::HttpBody { total, .. } if buf.len() < total => return Ok(None),
        Stage::HttpBody { head_end, .. } => return http_request(buf, head_end, args, limits, p),
        _ => {}
    }
    if matches!(first, b'G' | b'P' | b'O') {
        let from = match p.stage {
            Stage::Line(n) => n.min(buf.len()),
            _ => 0,
        };
        let Some(end) = find_crlf(buf, from) else {
            p.stage = Stage::Line(buf.len());
            return if buf.len() > limits.max_inline {
                Err(ProtoError::TooBigInline)
            } else {
                Ok(None)
            };
        };
        let line = &buf[..end + 2];
        if line.len() > 11 && &line[line.len() - 11..line.len() - 5] == b" HTTP/" {
            // The head's end cannot start before the first line end.
            return parse_http(buf, end, args, limits, p);
        }
        // A telnet line after all: its first `\n` may be a bare one the
        // CRLF search went past, so the line scan starts at 0 (once: a line
        // end is buffered).
        p.stage = Stage::Start;
    }
    match first {
        b'*' => parse_resp(buf, args, limits, p),
        b'$' => parse_native(buf, args, limits),
        _ => parse_telnet(buf, args, limits, p),
    }
}

/// An HTTP request whose head's end does not start before `from`.
fn parse_http(
    buf: &[u8],
    from: usize,
    args: &mut Args,
    limits: &Limits,
    p: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    let Some(head_end) = find_head_end(buf, from) else {
        // An end may start in the last three bytes and finish later.
        p.stage = Stage::HttpHead(buf.len().saturating_sub(3).max(from));
        return if buf.len() > limits.max_inline {
            Err(ProtoError::TooBigInline)
        } else {
            Ok(None)
        };
    };
    http_request(buf, head_end, args, limits, p)
}

fn http_request(
    buf: &[u8],
    head_end: usize,
    args: &mut Args,
    limits: &Limits,
    p: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    match http::parse_request(buf, head_end, args, limits)? {
        Ok(frame) => Ok(Some(frame)),
        Err(total) => {
            p.stage = Stage::HttpBody { head_end, total };
            Ok(None)
        }
    }
}

/// Where the first `\r\n\r\n` at or after `from` starts.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = memchr(b'\n', buf.get(at + 3..)?) {
        let nl = at + 3 + i;
        if &buf[nl - 3..nl] == b"\r\n\r" {
            return Some(nl - 3);
        }
        at = nl - 2;
    }
    None
}

/// Position of the first `\n` at or after `from` that is preceded by `\r`
/// (index of the `\r`).
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut from = from;
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

fn parse_resp(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
    p: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    let (count, mut done, mut pos) = match p.stage {
        Stage::Resp { count, done, pos } => {
            std::mem::swap(args, &mut p.partial);
            (count, done, pos)
        }
        _ => {
            let Some((line, pos)) = read_line(buf, 1) else {
                return if buf.len() > 32 {
                    Err(ProtoError::InvalidMultibulkLength)
                } else {
                    Ok(None)
                };
            };
            match parse_len(line) {
                Some(n) if n >= 0 && n as usize <= limits.max_args => (n as usize, 0, pos),
                _ => return Err(ProtoError::InvalidMultibulkLength),
            }
        }
    };
    while done < count {
        let Some(next) = resp_bulk(buf, pos, args, limits)? else {
            p.stage = Stage::Resp { count, done, pos };
            std::mem::swap(args, &mut p.partial);
            return Ok(None);
        };
        pos = next;
        done += 1;
    }
    Ok(Some(Frame {
        framing: Framing::Resp,
        consumed: pos,
        http: None,
    }))
}

/// One `$len\r\nbytes\r\n` element at `pos`, pushed to `args`; returns
/// where the next element starts.
#[inline]
fn resp_bulk(
    buf: &[u8],
    pos: usize,
    args: &mut Args,
    limits: &Limits,
) -> Result<Option<usize>, ProtoError> {
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
    Ok(Some(next + len + 2))
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

fn parse_telnet(
    buf: &[u8],
    args: &mut Args,
    limits: &Limits,
    p: &mut Progress,
) -> Result<Option<Frame>, ProtoError> {
    let from = match p.stage {
        // Clamped: a caller breaking the contract gets a rescan, not a panic.
        Stage::Line(n) => n.min(buf.len()),
        _ => 0,
    };
    let Some(nl) = memchr(b'\n', &buf[from..]).map(|i| from + i) else {
        p.stage = Stage::Line(buf.len());
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

#[cfg(test)]
mod tests;

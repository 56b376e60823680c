//! HTTP and WebSocket on the Tile38 port.
//!
//! `GET /SET+fleet+truck1+POINT+33+-112 HTTP/1.1` runs `SET fleet truck1 POINT
//! 33 -112`; `POST /` carries the command in the body (appended to the decoded
//! path text). A `GET` with `Upgrade: websocket` takes the command from the
//! path too and gets its reply as one text frame.

use crate::args::Args;
use crate::request::{tokenize_native, Frame, Framing, Limits, ProtoError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Options,
}

/// What the server needs from an HTTP request besides the command.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// `Authorization` header value, trimmed: Tile38 takes it as the raw password.
    pub authorization: Option<Vec<u8>>,
    /// `Sec-WebSocket-Key` of a valid upgrade request.
    pub websocket_key: Option<Vec<u8>>,
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Parses one HTTP request (head + `Content-Length` body) into `args`;
/// `head_end` is where the head's closing `\r\n\r\n` starts (found by the
/// caller, which resumes that search across reads). `Ok(Err(n))`: the
/// request is `n` bytes long and not all of them are buffered yet.
pub(crate) fn parse_request(
    buf: &[u8],
    head_end: usize,
    args: &mut Args,
    limits: &Limits,
) -> Result<Result<Frame, usize>, ProtoError> {
    let head = &buf[..head_end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let (method, path) = request_line(lines.next().unwrap_or_default())?;
    if method == Method::Options {
        // Tile38 answers a pre-flight before it looks at the path or the
        // headers.
        return Ok(Ok(Frame {
            framing: Framing::Http,
            consumed: head_end + 4,
            http: Some(Headers::default().into_request(method)),
        }));
    }
    let headers = Headers::parse(lines)?;
    let content_length = headers.content_length;
    if content_length > limits.max_bulk {
        return Err(ProtoError::BadHttp);
    }
    let body_start = head_end + 4;
    if buf.len() < body_start + content_length {
        return Ok(Err(body_start + content_length));
    }
    let mut text = query_unescape(&path[1..]).ok_or(ProtoError::BadHttp)?;
    text.extend_from_slice(&buf[body_start..body_start + content_length]);
    tokenize_native(&text, args);
    if args.is_empty() {
        // No command (`GET /`, `POST /` without a body).
        return Err(ProtoError::BadHttp);
    }
    let http = headers.into_request(method);
    let framing = if http.websocket_key.is_some() {
        Framing::WebSocket
    } else {
        Framing::Http
    };
    Ok(Ok(Frame {
        framing,
        consumed: body_start + content_length,
        http: Some(http),
    }))
}

/// The method and path (starting with `/`) of a request line.
fn request_line(line: &[u8]) -> Result<(Method, &[u8]), ProtoError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(path), Some(_proto), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProtoError::BadHttp);
    };
    let method = match method {
        b"GET" => Method::Get,
        b"POST" => Method::Post,
        b"OPTIONS" => Method::Options,
        _ => return Err(ProtoError::BadHttp),
    };
    if method != Method::Options && !path.starts_with(b"/") {
        return Err(ProtoError::BadHttp);
    }
    Ok((method, path))
}

/// The headers the server reads (the last of a repeated one wins).
#[derive(Default)]
struct Headers {
    content_length: usize,
    authorization: Option<Vec<u8>>,
    upgrade: bool,
    ws_version: u64,
    ws_key: Option<Vec<u8>>,
}

impl Headers {
    /// Reads the header `lines` (a line without `:` is skipped); a
    /// `Content-Length` or `Sec-WebSocket-Version` that is not a number is
    /// an error, as Tile38 reads them (Go's `ParseUint`).
    fn parse<'a>(lines: impl Iterator<Item = &'a [u8]>) -> Result<Headers, ProtoError> {
        let mut h = Headers::default();
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (trim(&line[..colon]), trim(&line[colon + 1..]));
            if name.eq_ignore_ascii_case(b"content-length") {
                h.content_length = usize::try_from(parse_uint(value)?).unwrap_or(usize::MAX);
            } else if name.eq_ignore_ascii_case(b"authorization") {
                h.authorization = Some(value.to_vec());
            } else if name.eq_ignore_ascii_case(b"upgrade") {
                h.upgrade = value.eq_ignore_ascii_case(b"websocket");
            } else if name.eq_ignore_ascii_case(b"sec-websocket-version") {
                h.ws_version = parse_uint(value)?;
            } else if name.eq_ignore_ascii_case(b"sec-websocket-key") {
                h.ws_key = Some(value.to_vec());
            }
        }
        Ok(h)
    }

    /// What the server keeps of a request with these headers: the
    /// `Sec-WebSocket-Key` only of a valid upgrade request (`Upgrade:
    /// websocket`, version 13 or later and a key; GET or POST alike, as
    /// Tile38 does not look at the method).
    fn into_request(self, method: Method) -> HttpRequest {
        let keyed = self.ws_key.as_ref().is_some_and(|k| !k.is_empty());
        let upgrade = keyed && self.upgrade && self.ws_version >= 13;
        HttpRequest {
            method,
            authorization: self.authorization,
            websocket_key: self.ws_key.filter(|_| upgrade),
        }
    }
}

/// Go's `strconv.ParseUint(value, 10, 64)`: digits only; the first
/// character that is not one, or the first digit that overflows, is the
/// error.
fn parse_uint(value: &[u8]) -> Result<u64, ProtoError> {
    let error = |out_of_range| ProtoError::BadHeaderNumber {
        value: value.to_vec(),
        out_of_range,
    };
    if value.is_empty() {
        return Err(error(false));
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return Err(error(false));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| error(true))?;
    }
    Ok(n)
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape fails.
pub fn query_unescape(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let hi = hex(*s.get(i + 1)?)?;
                let lo = hex(*s.get(i + 2)?)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// The HTTP response head Tile38 sends before a JSON body (`body_len`
/// excludes the trailing `\r\n` that follows the body and is counted).
pub fn response_head(out: &mut Vec<u8>, status: &str, body_len: usize) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(
        b"\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ",
    );
    crate::fmt::write_u64(out, body_len as u64 + 2);
    out.extend_from_slice(b"\r\nAccess-Control-Allow-Origin: *\r\n\r\n");
}

/// Reply to `OPTIONS` (CORS pre-flight).
pub const CORS_PREFLIGHT: &[u8] = b"HTTP/1.1 204 No Content\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: *, Authorization\r\nAccess-Control-Allow-Methods: POST, GET, OPTIONS\r\n\r\n";

/// What Tile38 writes when a request yields an empty command name.
pub const BAD_REQUEST: &[u8] = b"HTTP/1.1 500 Bad Request\r\nConnection: close\r\n\r\n";

/// Appends the head of an unmasked, final WebSocket text frame.
pub fn ws_text_frame_head(out: &mut Vec<u8>, len: usize) {
    out.push(0x81);
    if len < 126 {
        out.push(len as u8);
    } else if len <= u16::MAX as usize {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The `101 Switching Protocols` head; `accept` is
/// base64(sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
pub fn ws_upgrade_head(out: &mut Vec<u8>, accept: &str) {
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// The GUID appended to `Sec-WebSocket-Key` before hashing.
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::parse_next;

    fn parse(buf: &[u8]) -> Option<(Frame, Vec<String>)> {
        let mut args = Args::new();
        parse_next(buf, &mut args, &Limits::default())
            .unwrap()
            .map(|f| (f, args.to_strings()))
    }

    #[test]
    fn get_path_is_the_command() {
        let (f, a) =
            parse(b"GET /SET+fleet+truck1+POINT+33+-112 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(f.framing, Framing::Http);
        assert_eq!(a, vec!["SET", "fleet", "truck1", "POINT", "33", "-112"]);
        let (_, a) = parse(b"GET /WHERE+f+%2Binf HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(a, vec!["WHERE", "f", "+inf"]);
    }

    #[test]
    fn post_body_is_appended() {
        let raw = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nPING";
        let (f, a) = parse(raw).unwrap();
        assert_eq!((f.consumed, a), (raw.len(), vec!["PING".to_string()]));
        assert!(parse(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nPING").is_none());
    }

    #[test]
    fn websocket_upgrade_and_auth() {
        let raw = b"GET /PING HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: abc\r\nAuthorization:  pw \r\n\r\n";
        let (f, _) = parse(raw).unwrap();
        assert_eq!(f.framing, Framing::WebSocket);
        let http = f.http.unwrap();
        assert_eq!(http.authorization.as_deref(), Some(&b"pw"[..]));
        assert_eq!(http.websocket_key.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn bad_requests() {
        let mut args = Args::new();
        assert_eq!(
            parse_next(b"PUT /x HTTP/1.1\r\n\r\n", &mut args, &Limits::default()).unwrap_err(),
            ProtoError::BadHttp
        );
        assert_eq!(query_unescape(b"a%zz"), None);
    }
}

//! A minimal RESP client for talking to a leader: commands go out as RESP
//! arrays with lower-case names (as Tile38's follower sends them), replies
//! come back as [`Value`]s. With `leader-tls yes` the socket is wrapped in
//! TLS ([`Dial`]) before the first command.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tile38_engine::config::TlsProps;
use tile38_proto::resp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long dialing and each handshake reply may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Idle time before TCP keepalive probes, and between them (3 unanswered
/// probes end the connection: a dead leader is noticed in about 20 s).
const KEEPALIVE: Duration = Duration::from_secs(5);

/// A RESP reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Value>),
}

impl Value {
    pub fn is_ok(&self) -> bool {
        matches!(self, Value::Simple(s) if s.eq_ignore_ascii_case(b"ok"))
    }

    pub fn text(&self) -> String {
        match self {
            Value::Simple(s) | Value::Error(s) | Value::Bulk(Some(s)) => {
                String::from_utf8_lossy(s).into_owned()
            }
            Value::Int(n) => n.to_string(),
            Value::Bulk(None) => String::new(),
            Value::Array(_) => "array".into(),
        }
    }
}

/// Deepest array nesting accepted in a reply (a leader's replies nest at
/// most once; a broken or hostile peer must not exhaust the stack).
const MAX_DEPTH: usize = 4;
/// Largest bulk string and array accepted in a reply.
const MAX_BULK: i64 = 512 << 20;
const MAX_ARRAY: i64 = 1 << 20;

/// Parses one reply from the front of `buf`: `Ok(None)` = incomplete.
pub fn parse_value(buf: &[u8]) -> Result<Option<(Value, usize)>, String> {
    parse_nested(buf, 0)
}

fn parse_nested(buf: &[u8], depth: usize) -> Result<Option<(Value, usize)>, String> {
    fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
        let end = 1 + buf[1..].windows(2).position(|w| w == b"\r\n")?;
        Some((&buf[1..end], end + 2))
    }
    fn int(s: &[u8]) -> Result<i64, String> {
        std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "invalid reply".to_string())
    }
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    if !b"+-:$*".contains(&kind) || depth > MAX_DEPTH {
        return Err("invalid reply".into());
    }
    let Some((head, used)) = line(buf) else {
        return Ok(None);
    };
    Ok(Some(match kind {
        b'+' => (Value::Simple(head.to_vec()), used),
        b'-' => (Value::Error(head.to_vec()), used),
        b':' => (Value::Int(int(head)?), used),
        b'$' => {
            let n = int(head)?;
            if n < 0 {
                return Ok(Some((Value::Bulk(None), used)));
            }
            if n > MAX_BULK {
                return Err("invalid reply".into());
            }
            let end = used + n as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            (Value::Bulk(Some(buf[used..end].to_vec())), end + 2)
        }
        b'*' => {
            let n = int(head)?;
            if n > MAX_ARRAY {
                return Err("invalid reply".into());
            }
            let mut items = Vec::new();
            let mut at = used;
            for _ in 0..n.max(0) {
                match parse_nested(&buf[at..], depth + 1)? {
                    Some((v, u)) => {
                        items.push(v);
                        at += u;
                    }
                    None => return Ok(None),
                }
            }
            (Value::Array(items), at)
        }
        _ => return Err("invalid reply".into()),
    }))
}

/// The leader link's byte stream: TCP, or TLS over TCP.
pub trait LeaderStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> LeaderStream for S {}

/// A connection to the leader.
pub struct LeaderConn {
    pub stream: Box<dyn LeaderStream>,
    pub buf: BytesMut,
}

/// How to reach the leader: `leaderauth`, and the TLS settings when
/// `leader-tls` is on. Built at each attempt, so changed settings and
/// replaced certificate files take effect at the next reconnect.
#[derive(Clone)]
pub struct Dial {
    pub auth: String,
    tls: Option<tokio_rustls::TlsConnector>,
    server_name: String,
}

impl Dial {
    /// From the current settings; an error names the setting at fault.
    pub fn new(auth: &str, tls: &TlsProps) -> Result<Dial, String> {
        Ok(Dial {
            auth: auth.to_string(),
            tls: crate::tls::connector(tls)?,
            server_name: tls.leader_server_name.clone(),
        })
    }

    /// Wraps `tcp` in TLS when the link is TLS, checking the leader's
    /// certificate against `host` (or `leader-tls-server-name`).
    async fn wrap(
        &self,
        tcp: TcpStream,
        host: &str,
        addr: &str,
    ) -> Result<Box<dyn LeaderStream>, String> {
        let Some(connector) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = match self.server_name.as_str() {
            "" => host,
            n => n,
        };
        let name = tile38_tls::server_name(name)?;
        match tokio::time::timeout(TIMEOUT, connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Ok(Box::new(s)),
            Ok(Err(e)) => Err(format!("tls handshake with {addr}: {e}")),
            Err(_) => Err(format!("tls handshake with {addr}: i/o timeout")),
        }
    }
}

/// Go's wording for dial errors, which Tile38 returns after `cannot follow: `.
fn dial_error(addr: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_string(),
        _ => e.to_string(),
    };
    format!("dial tcp {addr}: {why}")
}

impl LeaderConn {
    /// Dials `host:port` (over TLS if `dial` says so) and authenticates
    /// with `leaderauth` when it is set.
    pub async fn connect(host: &str, port: u16, dial: &Dial) -> Result<LeaderConn, String> {
        let addr = format!("{host}:{port}");
        let stream = match tokio::time::timeout(TIMEOUT, TcpStream::connect(&addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(dial_error(&addr, &e)),
            Err(_) => return Err(format!("dial tcp {addr}: i/o timeout")),
        };
        let _ = stream.set_nodelay(true);
        // An idle stream carries nothing: without probes, a leader whose
        // host vanished (reset, partition) would never be noticed.
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(
            &socket2::TcpKeepalive::new()
                .with_time(KEEPALIVE)
                .with_interval(KEEPALIVE)
                .with_retries(3),
        );
        let mut conn = LeaderConn {
            stream: dial.wrap(stream, host, &addr).await?,
            buf: BytesMut::with_capacity(64 * 1024),
        };
        if !dial.auth.is_empty() {
            let v = conn.command(&[b"auth", dial.auth.as_bytes()]).await?;
            if !v.is_ok() {
                return Err(v.text());
            }
        }
        Ok(conn)
    }

    /// Sends one command and reads its reply.
    pub async fn command(&mut self, args: &[&[u8]]) -> Result<Value, String> {
        let mut out = Vec::new();
        resp::command(&mut out, args.iter().copied());
        tokio::time::timeout(TIMEOUT, self.stream.write_all(&out))
            .await
            .map_err(|_| "i/o timeout".to_string())?
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(TIMEOUT, self.read_value())
            .await
            .map_err(|_| "i/o timeout".to_string())?
    }

    async fn read_value(&mut self) -> Result<Value, String> {
        loop {
            if let Some((v, used)) = parse_value(&self.buf)? {
                self.buf.advance(used);
                return Ok(v);
            }
            if self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("EOF".into());
            }
        }
    }

    /// `SERVER` as a map (the leader must answer in RESP).
    pub async fn server_info(&mut self) -> Result<Vec<(String, String)>, String> {
        match self.command(&[b"server"]).await? {
            Value::Array(items) => Ok(items
                .chunks(2)
                .filter_map(|kv| match kv {
                    [k, v] => Some((k.text(), v.text())),
                    _ => None,
                })
                .collect()),
            Value::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
            _ => Err("invalid server response".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replies() {
        let (v, n) = parse_value(b"*2\r\n$2\r\nid\r\n:5\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(n, 16);
        assert_eq!(
            v,
            Value::Array(vec![Value::Bulk(Some(b"id".to_vec())), Value::Int(5)])
        );
        assert_eq!(parse_value(b"$5\r\nab").unwrap(), None);
        assert!(parse_value(b"+OK\r\n").unwrap().unwrap().0.is_ok());
        assert!(parse_value(b"?\r\n").is_err());
        // A broken or hostile peer: no panic, no deep recursion, no huge
        // allocation.
        assert!(parse_value(b"\r\n+OK\r\n").is_err());
        assert_eq!(parse_value(b"+").unwrap(), None);
        assert_eq!(parse_value(b"+\r").unwrap(), None);
        assert_eq!(parse_value(b"+\r\n").unwrap().unwrap().1, 3);
        assert!(parse_value(&b"*1\r\n".repeat(200_000)).is_err());
        assert!(parse_value(b"$99999999999\r\n").is_err());
        assert!(parse_value(b"*99999999999\r\n").is_err());
    }
}

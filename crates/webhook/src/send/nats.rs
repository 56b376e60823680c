//! `nats://host:port/subject` endpoints: a core NATS publish, as Tile38's
//! `nats.go` does (`conn.Publish(topic, msg)` with `user`/`pass` or
//! `token`).
//!
//! The client protocol is a handful of text lines (`INFO`, `CONNECT`,
//! `PUB`, `PING`/`PONG`, `-ERR`), so it is spoken here directly rather
//! than through async-nats, which would add its JetStream, key and
//! WebSocket machinery to every build for one `PUB`. Each publish is
//! followed by a `PING`, and success is the server's `PONG`: core NATS
//! has no per-message ack, and the round trip proves the server read the
//! `PUB` (an `-ERR`, e.g. a permissions violation, arrives before it).
//! `tls=` and `jetstream=` endpoints are not delivered: they fail with a
//! clear error (no server to test them against here).

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::SendError;
use crate::endpoint::Nats;

pub(crate) struct NatsConn {
    ep: Nats,
    conn: Option<BufReader<TcpStream>>,
}

/// `s` as a JSON string.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl NatsConn {
    pub fn new(ep: Nats) -> NatsConn {
        NatsConn { ep, conn: None }
    }

    fn connect_line(&self) -> String {
        let mut opts = String::from(
            r#"{"verbose":false,"pedantic":false,"name":"tile38","lang":"rust","version":"1","protocol":0"#,
        );
        if !self.ep.user.is_empty() || !self.ep.pass.is_empty() {
            opts.push_str(&format!(
                r#","user":{},"pass":{}"#,
                json_str(&self.ep.user),
                json_str(&self.ep.pass)
            ));
        }
        if !self.ep.token.is_empty() {
            opts.push_str(&format!(r#","auth_token":{}"#, json_str(&self.ep.token)));
        }
        format!("CONNECT {opts}}}\r\nPING\r\n")
    }

    async fn connect(&mut self) -> Result<(), SendError> {
        if self.ep.tls || self.ep.jetstream {
            return Err(SendError::Failed(
                "nats tls/jetstream endpoints are not delivered by this build".into(),
            ));
        }
        let stream = TcpStream::connect((self.ep.host.as_str(), self.ep.port)).await?;
        stream.set_nodelay(true)?;
        let mut conn = BufReader::new(stream);
        let mut line = String::new();
        conn.read_line(&mut line).await?;
        if !line.starts_with("INFO ") {
            return Err(SendError::Failed(format!(
                "not a NATS server: {}",
                line.trim_end()
            )));
        }
        if line.contains(r#""tls_required":true"#) {
            return Err(SendError::Failed("server requires TLS".into()));
        }
        conn.get_mut()
            .write_all(self.connect_line().as_bytes())
            .await?;
        wait_pong(&mut conn).await?;
        self.conn = Some(conn);
        Ok(())
    }

    pub async fn send(&mut self, msg: &[u8]) -> Result<(), SendError> {
        if self.conn.is_none() {
            self.connect().await?;
        }
        let conn = self.conn.as_mut().unwrap();
        let mut out = format!("PUB {} {}\r\n", self.ep.subject, msg.len()).into_bytes();
        out.extend_from_slice(msg);
        out.extend_from_slice(b"\r\nPING\r\n");
        conn.get_mut().write_all(&out).await?;
        wait_pong(conn).await
    }

    pub fn reset(&mut self) {
        self.conn = None;
    }
}

/// Reads server lines up to our `PONG`, answering the server's `PING`s.
async fn wait_pong(conn: &mut BufReader<TcpStream>) -> Result<(), SendError> {
    let mut line = String::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(SendError::Failed("connection closed".into()));
        }
        match line.trim_end() {
            "PONG" => return Ok(()),
            "PING" => conn.get_mut().write_all(b"PONG\r\n").await?,
            l if l.starts_with("-ERR") => return Err(SendError::Failed(l.to_string())),
            _ => {} // +OK, INFO updates
        }
    }
}

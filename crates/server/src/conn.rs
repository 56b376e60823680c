//! One client connection: read, frame every complete message in the buffer,
//! execute, append all replies, flush the AOF, write once.
//!
//! Output mode per message: the connection's sticky mode (set by its first
//! command or by `OUTPUT`), else the server's `-o`, else the framing's
//! default (RESP for RESP/telnet, JSON for native/HTTP/WebSocket).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use tile38_proto::fmt::{write_duration, write_json_str, write_u64};
use tile38_proto::{http, parse_next, resp, Args, Framing, Limits, ProtoError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cmd;
use crate::error::Error;
use crate::reply::Reply;
use crate::server::{ClientInfo, Server};

/// Per-connection state visible to commands.
pub struct ConnState {
    /// Sticky output mode (`Some(true)` = JSON).
    pub output: Option<bool>,
    pub authed: bool,
    pub client: Arc<ClientInfo>,
    /// The write lock kept across one batch's consecutive writes.
    pub lock: crate::server::BatchLock,
    /// Whether this batch journaled a write (its replies may have to wait
    /// for the fsync).
    pub wrote: bool,
    /// `AOF pos` turned this connection into a replication stream from
    /// that offset of that AOF generation (after the pending replies are
    /// sent).
    pub takeover: Option<(u64, u64)>,
}

impl ConnState {
    /// A fresh connection's state (also for driving commands in-process:
    /// benches, fuzzing).
    pub fn new(client: Arc<ClientInfo>) -> ConnState {
        ConnState {
            output: None,
            authed: false,
            client,
            lock: Default::default(),
            wrote: false,
            takeover: None,
        }
    }
}

const DENIED: &[u8] = b"-DENIED Tile38 is running in protected mode because protected mode is enabled, no bind address was specified, no authentication password is requested to clients. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Tile38 you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Tile38 from the same host the server is running, however MAKE SURE Tile38 is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Tile38 configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

fn is_protected(server: &Server, addr: &SocketAddr) -> bool {
    let host = server.opts.host.as_str();
    let bound_loopback =
        host.is_empty() || host == "127.0.0.1" || host == "localhost" || host == "::1";
    let props = server.config.props();
    server.opts.protected_mode
        && bound_loopback
        && props.protected_mode
        && props.requirepass.is_empty()
        && !addr.ip().is_loopback()
}

/// Serves one accepted connection until it closes.
pub async fn serve(server: Arc<Server>, mut stream: TcpStream, addr: SocketAddr) {
    if is_protected(&server, &addr) {
        let _ = stream.write_all(DENIED).await;
        return;
    }
    let _ = stream.set_nodelay(true);
    let keepalive = server.config.props().keepalive;
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
    }
    let client = server.register_client(addr);
    let mut conn = Conn {
        server: server.clone(),
        state: ConnState::new(client.clone()),
        args: Args::new(),
        reply: Reply::default(),
        scratch: Vec::new(),
        out: Vec::with_capacity(16 * 1024),
        last_was_resp: false,
        commands: 0,
        timer: Default::default(),
    };
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let limits = Limits::default();
    loop {
        let read = tokio::select! {
            r = stream.read_buf(&mut inbuf) => r,
            _ = client.kill.notified() => break,
        };
        if !matches!(read, Ok(n) if n > 0) {
            break;
        }
        let close = conn.process(&mut inbuf, &limits);
        conn.state.lock.release();
        conn.finish_batch();
        let wrote = std::mem::take(&mut conn.state.wrote);
        if let Some(target) = server.durability_target().filter(|_| wrote) {
            // `appendfsync always`: replies wait for their records' fsync
            // (one fsync covers every connection's records of that moment).
            let mut durable = server.durable.subscribe();
            if durable.wait_for(|d| *d >= target).await.is_err() {
                break;
            }
        }
        if !conn.out.is_empty() {
            if stream.write_all(&conn.out).await.is_err() {
                break;
            }
            conn.out.clear();
            if conn.out.capacity() > 1 << 20 {
                conn.out.shrink_to(16 * 1024);
            }
        }
        if let Some(from) = conn.state.takeover.take() {
            // Anything the follower sent after `AOF` ends the stream.
            if inbuf.is_empty() {
                crate::repl::leader::stream(server.clone(), stream, client.clone(), from).await;
            }
            server.unregister_client(client.id);
            return;
        }
        if close || client.killed.load(Ordering::Acquire) {
            break;
        }
        if inbuf.capacity() > 1 << 20 && inbuf.is_empty() {
            inbuf = BytesMut::with_capacity(16 * 1024);
        }
    }
    let _ = stream.shutdown().await;
    server.unregister_client(client.id);
}

pub(crate) struct Conn {
    server: Arc<Server>,
    state: ConnState,
    args: Args,
    reply: Reply,
    scratch: Vec<u8>,
    out: Vec<u8>,
    /// Whether the last processed message was RESP/telnet framed (decides
    /// whether a protocol error is reported before closing).
    last_was_resp: bool,
    commands: u64,
    /// This batch's command timings (`--metrics-addr`).
    timer: crate::metrics::CmdTimer,
}

impl Conn {
    /// Executes every complete message in `inbuf`; returns whether to close.
    fn process(&mut self, inbuf: &mut BytesMut, limits: &Limits) -> bool {
        loop {
            match parse_next(inbuf, &mut self.args, limits) {
                Ok(None) => return false,
                Ok(Some(frame)) => {
                    inbuf.advance(frame.consumed);
                    match frame.framing {
                        Framing::Http | Framing::WebSocket => {
                            crate::http::respond(self, frame);
                            return true;
                        }
                        Framing::Resp | Framing::Telnet => self.last_was_resp = true,
                        Framing::Native => self.last_was_resp = false,
                    }
                    if self.args.is_empty() {
                        continue;
                    }
                    if self.args.get(0).is_empty() {
                        self.out.extend_from_slice(http::BAD_REQUEST);
                        continue;
                    }
                    if self.run(frame.framing) {
                        return true;
                    }
                }
                Err(e) => {
                    self.protocol_error(&e);
                    return true;
                }
            }
        }
    }

    fn protocol_error(&mut self, e: &ProtoError) {
        if *e == ProtoError::BadHttp || !self.last_was_resp {
            return;
        }
        if self.mode(Framing::Resp) {
            let mut json = b"{\"ok\":false,\"err\":".to_vec();
            write_json_str(&mut json, e.to_string().as_bytes());
            json.push(b'}');
            resp::bulk(&mut self.out, &json);
        } else {
            resp::error(&mut self.out, e.to_string().as_bytes());
        }
    }

    /// The output mode (`true` = JSON) for a message of this framing.
    fn mode(&self, framing: Framing) -> bool {
        self.state
            .output
            .or(self.server.opts.output_json)
            .unwrap_or(matches!(
                framing,
                Framing::Native | Framing::Http | Framing::WebSocket
            ))
    }

    /// Runs `self.args` and appends the framed reply; returns whether to close.
    fn run(&mut self, framing: Framing) -> bool {
        let json = self.mode(framing);
        self.commands += 1;
        if self.args.get(0).eq_ignore_ascii_case(b"quit") {
            if !json {
                resp::ok(&mut self.out);
            }
            return true;
        }
        // The clock is only read for JSON replies, which report `elapsed`.
        let started = json.then(Instant::now);
        let res = self.execute(json);
        self.state.output = Some(self.reply.json);
        if res.is_ok() && !self.reply.json {
            self.out.extend_from_slice(&self.reply.buf);
            return self.reply.close;
        }
        let body = self.render(res, started.unwrap_or_else(Instant::now));
        match framing {
            Framing::Native => {
                self.out.push(b'$');
                write_u64(&mut self.out, body.len() as u64);
                self.out.push(b' ');
                self.out.extend_from_slice(&body);
                self.out.extend_from_slice(b"\r\n");
            }
            _ if self.reply.json && !self.reply.raw => resp::bulk(&mut self.out, &body),
            _ => self.out.extend_from_slice(&body),
        }
        self.scratch = body;
        self.reply.close
    }

    /// Executes the command in `self.args` into `self.reply`.
    pub(crate) fn execute(&mut self, json: bool) -> Result<(), (Error, bool)> {
        self.execute_via(json, cmd::Via::Stream)
    }

    /// [`Conn::execute`] for a request that arrived `via` HTTP.
    pub(crate) fn execute_via(&mut self, json: bool, via: cmd::Via) -> Result<(), (Error, bool)> {
        self.reply.reset(json);
        let is_timeout = self.args.get(0).eq_ignore_ascii_case(b"timeout");
        let timing = self
            .timer
            .begin(self.server.metrics.enabled(), self.args.get(0));
        let res = cmd::execute_via(
            &self.server,
            &mut self.state,
            &mut self.args,
            &mut self.reply,
            via,
        );
        self.timer.end(timing);
        res.map_err(|e| (e, is_timeout))
    }

    /// The reply bytes: RESP value, or the JSON text (unframed).
    pub(crate) fn render(&mut self, res: Result<(), (Error, bool)>, started: Instant) -> Vec<u8> {
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        let r = &self.reply;
        match res {
            Ok(()) if !r.json || r.raw => body.extend_from_slice(&r.buf),
            Ok(()) => {
                body.extend_from_slice(b"{\"ok\":true");
                body.extend_from_slice(&r.buf);
                body.extend_from_slice(b",\"elapsed\":");
                write_elapsed(&mut body, started, !r.elapsed_unquoted);
                body.push(b'}');
            }
            Err((e, timeout)) if !r.json => {
                let word = if timeout {
                    b"timeout".to_vec()
                } else {
                    self.args.get(0).to_vec()
                };
                body.push(b'-');
                body.extend(
                    e.resp_text(&word)
                        .iter()
                        .map(|&b| if b < 0x20 { b' ' } else { b }),
                );
                body.extend_from_slice(b"\r\n");
                self.reply.raw = true;
                self.reply.failed = true;
            }
            Err((e, _)) => {
                body.extend_from_slice(b"{\"ok\":false,\"err\":");
                write_json_str(&mut body, e.message().as_bytes());
                body.extend_from_slice(b",\"elapsed\":");
                write_elapsed(&mut body, started, true);
                body.push(b'}');
                self.reply.raw = false;
                self.reply.failed = true;
            }
        }
        body
    }

    /// Per-batch bookkeeping: counters are published once per batch.
    fn finish_batch(&mut self) {
        self.timer
            .flush(&self.server.metrics.durations, self.state.client.id);
        if self.commands > 0 {
            self.server
                .stats
                .total_commands
                .fetch_add(self.commands, Ordering::Relaxed);
            self.state
                .client
                .last_active_ms
                .store(self.server.millis_since_start(), Ordering::Relaxed);
            self.commands = 0;
        }
    }
}

fn write_elapsed(out: &mut Vec<u8>, started: Instant, quoted: bool) {
    if quoted {
        out.push(b'"');
    }
    write_duration(out, started.elapsed().as_nanos() as u64);
    if quoted {
        out.push(b'"');
    }
}

/// Accessors used by the HTTP/WebSocket responder.
impl Conn {
    pub(crate) fn server(&self) -> &Arc<Server> {
        &self.server
    }
    pub(crate) fn args_ref(&self) -> &Args {
        &self.args
    }
    pub(crate) fn out_mut(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
    pub(crate) fn reply_ref(&self) -> &Reply {
        &self.reply
    }
    pub(crate) fn reset_reply(&mut self, json: bool) {
        self.reply.reset(json);
    }
    pub(crate) fn count_command(&mut self) {
        self.commands += 1;
    }
}

//! One client connection: read, frame every complete message in the buffer,
//! execute, append all replies, flush the AOF, write once.
//!
//! Output mode per message: the connection's sticky mode (set by its first
//! command or by `OUTPUT`), else the server's `-o`, else the framing's
//! default (RESP for RESP/telnet, JSON for native/HTTP/WebSocket).
//!
//! Memory per connection stays bounded whatever the client does:
//!
//! * Replies: once [`OUTPUT_PAUSE`] bytes of replies are waiting, the
//!   connection stops executing its pipelined commands, writes what is
//!   pending (waiting for a client that does not read, as Redis and Tile38
//!   do) and only then goes on. A single reply is always sent whole.
//! * Input: the socket is read only when the buffer holds no complete
//!   message, so a client pipelining faster than it reads leaves its
//!   commands in the kernel's buffers, not ours. A message arriving in
//!   pieces is scanned once ([`tile38_proto::request::parse_resume`]).
//!
//! Connections that cannot be paused (pub/sub, live geofences) are held to
//! `client-output-buffer-limit` instead: see `tile38_engine::output_limit`
//! and `conn/subscriber.rs`, which serves a connection once it subscribed.
//!
//! A protocol error is answered (`-Protocol error: …`, or its JSON form)
//! before the connection closes only when the last command run on it was
//! RESP- or telnet-framed, as Tile38 does: a first message that cannot be
//! framed closes the connection without a reply (Tile38 1.37 alike).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use tile38_proto::fmt::{write_duration, write_json_str, write_u64};
use tile38_proto::request::{parse_resume, Progress};
use tile38_proto::{http, resp, Args, Framing, Limits, ProtoError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::tls::ClientStream;

use crate::server::Server;

mod access;
mod protected;
use protected::{is_protected, DENIED};
mod ahead;
mod closing;
mod live;
mod lockwait;
use closing::{has_input, linger};
mod subscriber;
mod wait;
use tile38_engine::cmd;
use tile38_engine::error::Error;
use tile38_engine::reply::Reply;
pub(crate) use wait::Via as WaitVia;

/// Per-connection state visible to commands: the engine's session.
pub type ConnState = tile38_engine::Session;

/// Serves one accepted connection until it closes.
pub async fn serve(server: Arc<Server>, mut stream: impl ClientStream, addr: SocketAddr) {
    if is_protected(&server, &addr) {
        let _ = stream.write_all(DENIED).await;
        return;
    }
    let _ = stream.tcp().set_nodelay(true);
    let keepalive = server.config.props().keepalive;
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive));
        let _ = socket2::SockRef::from(stream.tcp()).set_tcp_keepalive(&ka);
    }
    let client = server.register_client(addr);
    let killed = crate::server::kill_notify(&client);
    let mut conn = Conn::new(server.clone(), client.clone());
    let mut inbuf = BytesMut::with_capacity(16 * 1024);
    let limits = Limits::default();
    let mut step = Step::NeedInput;
    // Killed (CLIENT KILL, shutdown) while it had commands in hand or
    // coming.
    let mut killed_busy = false;
    loop {
        if step == Step::NeedInput {
            let read = tokio::select! {
                r = stream.read_buf(&mut inbuf) => r,
                _ = killed.notified() => {
                    // Input it had not read yet would turn the close into
                    // a reset.
                    killed_busy = has_input(stream.tcp());
                    break;
                }
            };
            if !matches!(read, Ok(n) if n > 0) {
                break;
            }
        }
        step = conn.process(&mut inbuf, &limits);
        // Never held across an await.
        conn.end_batch_lock().await;
        conn.finish_batch();
        if !conn.flush(&mut stream).await {
            break;
        }
        if conn.waiting.is_some() && !conn.finish_wait(&mut stream, &killed, &mut step).await {
            break;
        }
        if let Some(from) = conn.state.takeover.take() {
            // Anything the follower sent after `AOF` ends the stream.
            if inbuf.is_empty() {
                crate::repl::leader::stream(server.clone(), stream, client.clone(), from).await;
            }
            server.unregister_client(client.id);
            return;
        }
        if step == Step::LockWait {
            conn.wait_write_lock().await;
            step = Step::Paused;
        }
        if conn.state.subscription.is_some() {
            conn.serve_subscribed(&mut stream, &mut inbuf, &killed)
                .await;
            break;
        }
        if conn.is_live() {
            conn.serve_live(&mut stream, &mut inbuf, &killed).await;
            break;
        }
        if client.killed.load(Ordering::Acquire) {
            killed_busy = true;
            break;
        }
        if step == Step::Close {
            break;
        }
        conn.shrink_buffers(&mut inbuf);
    }
    // Killed right after the write lock it waited for: not kept below.
    conn.release_lock();
    let _ = stream.shutdown().await;
    if killed_busy {
        linger(&mut stream).await;
    }
    server.unregister_client(client.id);
}

/// Unsent reply bytes past which a connection executes no more of its
/// pipelined commands until they are written (backpressure).
///
/// 1 MiB: far above a normal pipelined batch (`redis-benchmark -P 16`
/// replies take a few hundred bytes, 16 searches with COUNT or a page of
/// 100 objects tens of KiB), so the usual "execute everything read, write
/// once" is unchanged, while a client that never reads costs at most this
/// plus one reply (plus the kernel's socket buffers, about 4 MiB at most
/// on Linux) instead of everything it asked for. Writing in chunks of at
/// least 1 MiB costs one syscall per MiB, nothing next to producing it.
pub const OUTPUT_PAUSE: usize = 1 << 20;

/// Buffers whose capacity grew past this (one big reply) are given back
/// once written, so an idle connection keeps only a small buffer.
const KEEP_CAPACITY: usize = 1 << 20;

/// Why [`Conn::process`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Every complete message was executed: read more.
    NeedInput,
    /// [`OUTPUT_PAUSE`] reached: write, then execute the rest of the buffer.
    Paused,
    /// Write what is pending, then close.
    Close,
    /// The next command is a write and another connection holds the write
    /// lock: write what is pending, wait for the lock without blocking the
    /// thread (`conn/lockwait.rs`), then run it.
    LockWait,
}

pub(crate) struct Conn {
    server: Arc<Server>,
    state: ConnState,
    args: Args,
    /// How far the scan of an incomplete message in the input got.
    progress: Progress,
    reply: Reply,
    scratch: Vec<u8>,
    /// The command's first argument as sent: Tile38 names the command in
    /// `wrong number of arguments for '<cmd>'` by it, read before `TIMEOUT`
    /// or a two-word command (`CONFIG GET`) rewrites the arguments.
    word: Vec<u8>,
    out: Vec<u8>,
    /// Whether the last processed message was RESP/telnet framed (decides
    /// whether a protocol error is reported before closing).
    last_was_resp: bool,
    commands: u64,
    /// This batch's command timings (`--metrics-addr`).
    timer: crate::metrics::CmdTimer,
    /// Wakes the connection when its subscriber outbox has bytes
    /// (subscription mode only).
    wake: Option<Arc<tokio::sync::Notify>>,
    /// The connection went live with a fence (`conn/live.rs`).
    live: Option<live::Live>,
    /// A `WAIT` to finish before anything else runs (`conn/wait.rs`).
    waiting: Option<wait::Parked>,
    /// A framed command left for after [`Step::LockWait`], with its framing.
    pending: Option<Framing>,
    /// This connection took the write lock in `conn/lockwait.rs`.
    signals_release: bool,
    /// This batch's updates were looked up ahead (`conn/ahead.rs`).
    looked_ahead: bool,
    ahead: tile38_engine::ahead::Ahead,
    ahead_args: Args,
}

impl Conn {
    fn new(server: Arc<Server>, client: Arc<tile38_engine::ClientInfo>) -> Conn {
        Conn {
            server,
            state: ConnState::new(client),
            args: Args::new(),
            progress: Progress::new(),
            reply: Reply::default(),
            scratch: Vec::new(),
            word: Vec::new(),
            out: Vec::with_capacity(16 * 1024),
            last_was_resp: false,
            commands: 0,
            timer: Default::default(),
            wake: None,
            live: None,
            waiting: None,
            pending: None,
            signals_release: false,
            looked_ahead: false,
            ahead: Default::default(),
            ahead_args: Args::new(),
        }
    }

    /// Executes the complete messages in `inbuf` until it holds no more, the
    /// pending replies reach [`OUTPUT_PAUSE`], or the connection must close.
    fn process(&mut self, inbuf: &mut BytesMut, limits: &Limits) -> Step {
        if let Some(framing) = self.pending.take() {
            if let Some(step) = self.run_framed(framing) {
                return step;
            }
        }
        loop {
            if self.out.len() >= OUTPUT_PAUSE {
                return Step::Paused;
            }
            // CLIENT KILL, server shutdown: nothing more is executed.
            if self.state.client.killed.load(Ordering::Relaxed) {
                return Step::Close;
            }
            let frame = match parse_resume(inbuf, &mut self.args, limits, &mut self.progress) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Step::NeedInput,
                Err(e) => {
                    self.protocol_error(&e);
                    return Step::Close;
                }
            };
            inbuf.advance(frame.consumed);
            if matches!(frame.framing, Framing::Http | Framing::WebSocket) {
                crate::http::respond(self, frame);
                if self.state.subscription.is_some() || self.is_live() {
                    return Step::NeedInput;
                }
                return Step::Close;
            }
            if self.args.is_empty() {
                continue;
            }
            if self.args.get(0).is_empty() {
                self.out.extend_from_slice(http::BAD_REQUEST);
                if let Err(e) = self.drop_batch(inbuf, limits) {
                    self.protocol_error(&e);
                    return Step::Close;
                }
                continue;
            }
            // Tile38 answers a protocol error only after a command of
            // these framings (empty messages do not count).
            self.last_was_resp = frame.framing != Framing::Native;
            if !self.write_lock_ready() {
                self.pending = Some(frame.framing);
                return Step::LockWait;
            }
            self.look_ahead(inbuf, limits);
            if let Some(step) = self.run_framed(frame.framing) {
                return step;
            }
        }
    }

    /// Runs the framed command in `args`: the step to stop at, if any.
    fn run_framed(&mut self, framing: Framing) -> Option<Step> {
        let closes = self.run(framing);
        self.note_lock_held();
        if closes {
            return Some(Step::Close);
        }
        let leaves = self.state.takeover.is_some()
            || self.state.subscription.is_some()
            || self.is_live()
            || self.waiting.is_some();
        leaves.then_some(Step::NeedInput)
    }

    /// After an empty command name Tile38 stops executing the batch it
    /// read it with (`break` out of its message loop): the complete
    /// messages that arrived with it are dropped unanswered; an incomplete
    /// one stays for the next read, and a protocol error still ends the
    /// connection.
    fn drop_batch(&mut self, inbuf: &mut BytesMut, limits: &Limits) -> Result<(), ProtoError> {
        while let Some(frame) = parse_resume(inbuf, &mut self.args, limits, &mut self.progress)? {
            inbuf.advance(frame.consumed);
        }
        Ok(())
    }

    /// Sends the pending replies: after the fsync of this batch's writes
    /// under `appendfsync always`, then in one write. Returns `false` when
    /// the connection is gone.
    async fn flush(&mut self, stream: &mut impl ClientStream) -> bool {
        let wrote = std::mem::take(&mut self.state.wrote);
        if let Some(target) = self.server.durability_target().filter(|_| wrote) {
            // One fsync covers every connection's records of that moment.
            let mut durable = self.server.durable.subscribe();
            if durable.wait_for(|d| *d >= target).await.is_err() {
                return false;
            }
        }
        if self.out.is_empty() {
            return true;
        }
        if stream.write_all(&self.out).await.is_err() {
            return false;
        }
        self.out.clear();
        for buf in [&mut self.out, &mut self.reply.buf, &mut self.scratch] {
            if buf.capacity() > KEEP_CAPACITY {
                *buf = Vec::with_capacity(16 * 1024);
            }
        }
        true
    }

    fn protocol_error(&mut self, e: &ProtoError) {
        if !self.last_was_resp {
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
    pub(crate) fn mode(&self, framing: Framing) -> bool {
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
        if self.park_wait(res.is_ok(), WaitVia::Stream(framing), started) {
            return false;
        }
        if self.subscribing(res.is_ok()) {
            let started = started.unwrap_or_else(Instant::now);
            self.enter_subscription(subscriber::transport(framing), json, started);
            return false;
        }
        if let Some(fence) = self.take_live(res.is_ok()) {
            self.go_live(fence, subscriber::transport(framing), json);
            return false;
        }
        if self.monitoring(res.is_ok()) {
            self.go_monitor();
            return false;
        }
        self.append_reply(res, framing, started)
    }

    /// Frames the reply to the command just run into the output; returns
    /// whether to close.
    fn append_reply(
        &mut self,
        res: Result<(), Error>,
        framing: Framing,
        started: Option<Instant>,
    ) -> bool {
        if res.is_ok() && !self.reply.json && framing != Framing::Native {
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
    pub(crate) fn execute(&mut self, json: bool) -> Result<(), Error> {
        self.execute_via(json, cmd::Via::Stream)
    }

    /// [`Conn::execute`] for a request that arrived `via` HTTP.
    pub(crate) fn execute_via(&mut self, json: bool, via: cmd::Via) -> Result<(), Error> {
        self.reply.reset(json);
        self.word.clear();
        self.word.extend_from_slice(self.args.get(0));
        let timing = self
            .timer
            .begin(self.server.metrics.enabled(), self.args.get(0));
        let res = self
            .state
            .execute_via(&self.server, &mut self.args, &mut self.reply, via);
        self.timer.end(timing);
        res
    }

    /// The reply bytes: RESP value, or the JSON text (unframed).
    pub(crate) fn render(&mut self, res: Result<(), Error>, started: Instant) -> Vec<u8> {
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
            Err(e) if !r.json => {
                body.push(b'-');
                body.extend(
                    e.resp_text(&self.word)
                        .iter()
                        .map(|&b| if b < 0x20 { b' ' } else { b }),
                );
                body.extend_from_slice(b"\r\n");
                self.reply.raw = true;
                self.reply.failed = true;
            }
            Err(e) => {
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

    /// After a big message went through: its buffers go back.
    fn shrink_buffers(&mut self, inbuf: &mut BytesMut) {
        if inbuf.capacity() > KEEP_CAPACITY && inbuf.is_empty() {
            *inbuf = BytesMut::with_capacity(16 * 1024);
            self.args = Args::new();
            self.progress = Progress::new();
        }
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

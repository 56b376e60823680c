//! Running one test: every client connects and runs the preamble before
//! the clock starts; then each writes `-P` requests at once and reads as
//! many replies, on a tokio runtime (one thread by default, like
//! redis-benchmark, so the generator takes little of the machine).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::{reply, Enc};
use crate::workloads::{Rng, State, Test};
use crate::Opts;

/// A connection's byte stream: TCP, or TLS over TCP (`--tls`).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// A connection with its read buffer.
pub struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    /// Start of unread data in `buf`.
    pos: usize,
}

/// Tallies of replies read.
#[derive(Default, Clone, Debug)]
pub struct Replies {
    pub errors: u64,
    /// The first error reply's text.
    pub first_error: Option<String>,
}

/// The message of an error reply: `-ERR …` without its dash, or the
/// JSON body of a bulk reply.
fn error_text(reply: &[u8]) -> String {
    let text = match reply.first() {
        Some(b'-') => &reply[1..],
        _ => reply
            .iter()
            .position(|&b| b == b'\n')
            .map_or(reply, |i| &reply[i + 1..]),
    };
    String::from_utf8_lossy(text).trim_end().to_string()
}

/// Wraps `tcp` in TLS with `--tls` (or any of its options), completing
/// the handshake before the clock starts.
async fn secure(o: &Opts, tcp: TcpStream) -> Result<Box<dyn Stream>, String> {
    if !(o.tls || o.insecure || o.cacert.is_some() || o.cert.is_some()) {
        return Ok(Box::new(tcp));
    }
    let files = tile38_tls::ClientFiles {
        ca: o.cacert.clone(),
        cert: o.cert.clone(),
        key: o.key.clone(),
        insecure: o.insecure,
    };
    let config = tile38_tls::client_config(&files)?;
    let name = tile38_tls::server_name(&o.host)?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map(|s| Box::new(s) as Box<dyn Stream>)
        .map_err(|e| format!("tls handshake with {}:{}: {e}", o.host, o.port))
}

impl Conn {
    pub async fn connect(o: &Opts) -> Result<Conn, String> {
        let stream = TcpStream::connect((o.host.as_str(), o.port))
            .await
            .map_err(|e| format!("dial tcp {}:{}: {e}", o.host, o.port))?;
        stream.set_nodelay(true).ok();
        Ok(Conn {
            stream: secure(o, stream).await?,
            buf: Vec::with_capacity(64 * 1024),
            pos: 0,
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads `n` complete replies, counting error replies into `tally`;
    /// returns the last reply's bytes' start (for the preamble's checks).
    pub async fn read(&mut self, n: usize, tally: &mut Replies) -> Result<Vec<u8>, String> {
        let mut last = Vec::new();
        let mut got = 0;
        while got < n {
            match reply(&self.buf[self.pos..])? {
                Some(r) => {
                    let bytes = &self.buf[self.pos..self.pos + r.len];
                    if r.error {
                        tally.errors += 1;
                        if tally.first_error.is_none() {
                            tally.first_error = Some(error_text(bytes));
                        }
                    }
                    if got + 1 == n {
                        last = bytes[..bytes.len().min(64)].to_vec();
                    }
                    self.pos += r.len;
                    got += 1;
                }
                None => {
                    if self.pos > 0 {
                        self.buf.drain(..self.pos);
                        self.pos = 0;
                    }
                    self.buf.reserve(16 * 1024);
                    let read = self.stream.read_buf(&mut self.buf).await;
                    if read.map_err(|e| e.to_string())? == 0 {
                        return Err("connection closed by the server".into());
                    }
                }
            }
        }
        Ok(last)
    }

    /// Tile38's preamble: inline `CONFIG GET requirepass`; `AUTH` when the
    /// server wants a password and `-a` gave one; `output json` for `--json`.
    pub async fn prepare(&mut self, o: &Opts) -> Result<(), String> {
        let mut tally = Replies::default();
        self.send(b"CONFIG GET requirepass\r\n").await?;
        self.read(1, &mut tally).await?;
        match (&o.auth, tally.errors > 0) {
            (Some(pw), true) => {
                let mut req = Vec::new();
                Enc(&mut req).array(2).bulk(b"AUTH").bulk(pw.as_bytes());
                self.send(&req).await?;
                let last = self.read(1, &mut tally).await?;
                if !last.starts_with(b"+OK") {
                    return Err("invalid auth".into());
                }
            }
            (None, false) => {}
            _ => return Err("invalid auth".into()),
        }
        if o.json {
            self.send(b"output json\r\n").await?;
            self.read(1, &mut tally).await?;
        }
        Ok(())
    }
}

/// What one test measured.
pub struct Outcome {
    pub elapsed: Duration,
    pub requests: u64,
    pub payload_bytes: u64,
    /// (batch round trip in ns, requests in the batch).
    pub batches: Vec<(u64, u32)>,
    pub replies: Replies,
}

struct ClientResult {
    batches: Vec<(u64, u32)>,
    payload: u64,
    replies: Replies,
}

async fn client(
    mut conn: Conn,
    test: Test,
    mut st: State,
    share: u64,
    pipeline: u64,
    done: Arc<AtomicU64>,
) -> Result<ClientResult, String> {
    let mut r = ClientResult {
        batches: Vec::with_capacity((share / pipeline + 1) as usize),
        payload: 0,
        replies: Replies::default(),
    };
    let mut out = Vec::with_capacity(4096);
    let mut left = share;
    while left > 0 {
        let k = left.min(pipeline);
        out.clear();
        for _ in 0..k {
            test.write(&mut st, &mut out);
        }
        r.payload += out.len() as u64;
        let t0 = Instant::now();
        conn.send(&out).await?;
        conn.read(k as usize, &mut r.replies).await?;
        r.batches.push((t0.elapsed().as_nanos() as u64, k as u32));
        left -= k;
        done.fetch_add(k, Ordering::Relaxed);
    }
    Ok(r)
}

/// Runs one test; `progress` is called about five times a second with
/// the requests done so far and the time since the start.
pub async fn run_test(
    o: &Opts,
    test: Test,
    seed: u64,
    mut progress: impl FnMut(u64, Duration),
) -> Result<Outcome, String> {
    if let Some(setup) = test.setup() {
        let mut conn = Conn::connect(o).await?;
        conn.prepare(o).await?;
        conn.send(&setup).await?;
        conn.read(1, &mut Replies::default()).await?;
    }
    let clients = o.clients.max(1) as u64;
    let total = o.requests as u64;
    let mut conns = Vec::with_capacity(clients as usize);
    for _ in 0..clients {
        let mut c = Conn::connect(o).await?;
        c.prepare(o).await?;
        conns.push(c);
    }
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut first_id = test.id_block * total;
    for (c, conn) in conns.into_iter().enumerate() {
        let share = total / clients + u64::from((c as u64) < total % clients);
        let st = State {
            rng: Rng::new(seed ^ ((c as u64 + 1) * 7919)),
            next_id: first_id,
            rect: None,
        };
        first_id += share;
        let pipeline = o.pipeline.max(1) as u64;
        tasks.spawn(client(conn, test, st, share, pipeline, done.clone()));
    }
    let mut out = Outcome {
        elapsed: Duration::ZERO,
        requests: 0,
        payload_bytes: 0,
        batches: Vec::new(),
        replies: Replies::default(),
    };
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                let r = joined.map_err(|e| e.to_string())??;
                out.requests += r.batches.iter().map(|b| u64::from(b.1)).sum::<u64>();
                out.batches.extend(r.batches);
                out.payload_bytes += r.payload;
                out.replies.errors += r.replies.errors;
                if out.replies.first_error.is_none() {
                    out.replies.first_error = r.replies.first_error;
                }
            }
            _ = tick.tick() => progress(done.load(Ordering::Relaxed), start.elapsed()),
        }
    }
    out.elapsed = start.elapsed();
    Ok(out)
}

/// `--preload N`: SETs `N` random points with one field, pipelined on
/// one connection, before the tests.
pub async fn preload(o: &Opts) -> Result<(), String> {
    let mut conn = Conn::connect(o).await?;
    conn.prepare(o).await?;
    let mut rng = Rng::new(o.seed.wrapping_add(12345));
    let mut out = Vec::new();
    let mut tally = Replies::default();
    let mut i = 0u64;
    while i < o.preload as u64 {
        out.clear();
        let k = (o.preload as u64 - i).min(1000);
        for j in i..i + k {
            let (lat, lon) = rng.point();
            let mut id = b"pre:".to_vec();
            crate::wire::push_u64(&mut id, j);
            let mut speed = Vec::new();
            crate::wire::push_u64(&mut speed, j % 100);
            let mut e = Enc(&mut out);
            e.array(9)
                .bulk(b"SET")
                .bulk(crate::workloads::KEY)
                .bulk(&id);
            e.bulk(b"FIELD").bulk(b"speed").bulk(&speed).bulk(b"POINT");
            e.fixed(lat, 5).fixed(lon, 5);
        }
        conn.send(&out).await?;
        conn.read(k as usize, &mut tally).await?;
        i += k;
    }
    match tally.first_error {
        Some(e) => Err(format!("preload: {} errors, e.g. {e}", tally.errors)),
        None => Ok(()),
    }
}

//! The connection to the server: connect, `AUTH` when a password is given,
//! `output json|resp`, then one request → one reply.
//!
//! Requests go out as RESP arrays (`*3\r\n$3\r\nGET\r\n…`), not as the
//! telnet lines Tile38's cli writes. Both are answered identically — Tile38
//! treats telnet lines as a RESP connection, so the `output json` handshake
//! and every reply have the same bytes either way — but an array carries each
//! argument verbatim: no re-quoting of shell words, no cutting JSON at its
//! first space, no escaping rules for `"`, `'` or `\`. The same request works
//! against a real Tile38 and this server.
//!
//! With `--tls` the socket is wrapped in TLS (rustls) and the handshake
//! completed before the first request, so a refused certificate is
//! reported as a connection error naming its reason.

use std::io::{self, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use tile38_tls::rustls::{ClientConfig, ClientConnection, StreamOwned};
use tile38_tls::ClientFiles;

use crate::opts::Mode;
use crate::render::{outcome, Outcome};
use crate::reply::{read_reply, Reply};

/// How long one connection attempt may take (a probe must not hang).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request produced no reply.
#[derive(Debug)]
pub enum Failure {
    /// No connection: the message to print (exit status 2).
    Connect(String),
    /// The server answered the handshake with an error (protected mode's
    /// `DENIED`, for one): shown like a reply (exit status 1).
    Refused(Reply),
}

/// The connection's byte stream: TCP, or TLS over TCP.
pub trait Duplex: Read + Write + Send {}
impl<S: Read + Write + Send> Duplex for S {}

type Conn = BufReader<Box<dyn Duplex>>;

/// How to reach the server over TLS: the configuration and the name its
/// certificate must carry (the host).
#[derive(Clone)]
struct Tls {
    config: Arc<ClientConfig>,
    host: String,
}

/// A client that (re)connects on demand.
pub struct Client {
    addr: String,
    password: Option<String>,
    mode: Mode,
    tls: Option<Tls>,
    conn: Option<Conn>,
}

impl Client {
    pub fn new(addr: String, password: Option<String>, mode: Mode) -> Client {
        Client {
            addr,
            password,
            mode,
            tls: None,
            conn: None,
        }
    }

    /// Connects over TLS from now on (`--tls`), checking the server's
    /// certificate against `host`; errors are the settings' (a missing
    /// CA file).
    pub fn use_tls(&mut self, files: &ClientFiles, host: &str) -> Result<(), String> {
        let config = tile38_tls::client_config(files)?;
        tile38_tls::server_name(host)?;
        self.tls = Some(Tls {
            config,
            host: host.to_string(),
        });
        Ok(())
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Records an `OUTPUT` switch the server accepted, so that reconnects
    /// ask for the same mode.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Opens the connection and runs the handshake.
    pub fn connect(&mut self) -> Result<(), Failure> {
        self.conn = None;
        let stream = open(&self.addr).map_err(|e| Failure::Connect(self.refused(&e)))?;
        let _ = stream.set_nodelay(true);
        let stream = self
            .secure(stream)
            .map_err(|e| Failure::Connect(self.refused(&e)))?;
        let mut conn = BufReader::new(stream);
        let lost = |e: io::Error| Failure::Connect(self.refused(&e));
        if let Some(pw) = &self.password {
            let reply = exchange(&mut conn, &[b"AUTH".as_slice(), pw.as_bytes()]).map_err(lost)?;
            if let Outcome::Error(e) = outcome(&reply.value) {
                // Not fatal: with no password configured the server says
                // `invalid password` yet serves everything.
                eprintln!("AUTH failed: {e}");
            }
        }
        let reply = exchange(
            &mut conn,
            &[b"output".as_slice(), self.mode.name().as_bytes()],
        )
        .map_err(lost)?;
        if matches!(outcome(&reply.value), Outcome::Error(_)) {
            return Err(Failure::Refused(reply));
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// Wraps the socket in TLS when asked to, completing the handshake.
    fn secure(&self, mut tcp: TcpStream) -> io::Result<Box<dyn Duplex>> {
        let Some(tls) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = tile38_tls::server_name(&tls.host).map_err(io::Error::other)?;
        let mut conn = ClientConnection::new(tls.config.clone(), name).map_err(io::Error::other)?;
        // The handshake must not hang on a server that never answers.
        tcp.set_read_timeout(Some(CONNECT_TIMEOUT))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        tcp.set_read_timeout(None)?;
        Ok(Box::new(StreamOwned::new(conn, tcp)))
    }

    /// Sends one command and reads its reply, connecting first if needed.
    /// A connection that turns out to be closed (server restart, idle
    /// timeout) is reopened once and the command resent, as Tile38's cli
    /// does.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, Failure> {
        let fresh = !self.is_connected();
        if fresh {
            self.connect()?;
        }
        match self.try_call(args) {
            Ok(r) => Ok(r),
            Err(e) if fresh => Err(Failure::Connect(self.lost(&e))),
            Err(_) => {
                self.connect()?;
                self.try_call(args)
                    .map_err(|e| Failure::Connect(self.lost(&e)))
            }
        }
    }

    fn try_call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        let conn = self.conn.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        let result = exchange(conn, args);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// Reads the next pushed message (live geofences, SUBSCRIBE).
    pub fn next_message(&mut self) -> io::Result<Reply> {
        let conn = self.conn.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        read_reply(conn)
    }

    /// Copies everything the server sends until it closes (`AOF pos`).
    pub fn copy_stream(&mut self, out: &mut impl Write) -> io::Result<()> {
        let conn = self.conn.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        let mut buf = [0u8; 65536];
        loop {
            match conn.read(&mut buf)? {
                0 => return Ok(()),
                n => {
                    out.write_all(&buf[..n])?;
                    out.flush()?;
                }
            }
        }
    }

    /// `Could not connect to Tile38 at 127.0.0.1:9851: Connection refused`
    pub fn refused(&self, e: &io::Error) -> String {
        format!(
            "Could not connect to Tile38 at {}: {}",
            self.addr,
            reason(e)
        )
    }

    fn lost(&self, e: &io::Error) -> String {
        format!("Connection to Tile38 at {} lost: {}", self.addr, reason(e))
    }
}

fn open(addr: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address found");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn exchange<A: AsRef<[u8]>>(conn: &mut Conn, args: &[A]) -> io::Result<Reply> {
    let mut req = Vec::new();
    tile38_proto::resp::command(&mut req, args.iter().map(|a| a.as_ref()));
    conn.get_mut().write_all(&req)?;
    read_reply(conn)
}

/// The OS error text without Rust's ` (os error N)` suffix.
fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        io::ErrorKind::UnexpectedEof => "server closed the connection".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

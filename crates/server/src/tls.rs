//! TLS on the client port and on the follower's link to its leader.
//!
//! * Client port: a TLS connection is accepted like a plain one, its
//!   handshake run in the connection's own task under
//!   [`HANDSHAKE_TIMEOUT`] (a client that never finishes its handshake
//!   costs a task, never the accept loop or another client), then served
//!   by the same [`crate::conn::serve`] as a plain socket: RESP, telnet,
//!   HTTP (https) and WebSocket (wss) alike. Each new connection takes the
//!   configuration [`Reloading`] has built from the `tls-*` settings now
//!   in force, so a certificate replaced on disk is served without a
//!   restart. A failed handshake is logged with the peer and rustls's
//!   reason; the client gets the TLS alert (`unknown ca`, `certificate
//!   required`, …).
//! * Leader link: with `leader-tls yes` the follower wraps its TCP stream
//!   ([`connector`]); the handshake and stream inside are Tile38's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tile38_engine::config::TlsProps;
use tile38_tls::reload::Reloading;
use tile38_tls::{ClientAuth, ClientFiles, ServerFiles};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::server::Server;

/// How long a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client connection's byte stream: a TCP socket, or TLS over one.
/// `tcp` reaches the socket underneath for its options and for peeking.
pub trait ClientStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn tcp(&self) -> &TcpStream;
}

impl ClientStream for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl ClientStream for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// The server side of the `tls-*` settings.
pub fn server_files(t: &TlsProps) -> ServerFiles {
    let path = |s: &str| (!s.is_empty()).then(|| s.into());
    ServerFiles {
        cert: t.cert_file.clone().into(),
        key: t.key_file.clone().into(),
        ca: path(&t.ca_cert_file),
        auth: ClientAuth::parse(&t.auth_clients).unwrap_or(ClientAuth::No),
        protocols: t.protocols.clone(),
    }
}

/// The TLS configuration of the client port, checked at startup.
pub fn acceptor(t: &TlsProps) -> Result<Arc<Reloading>, String> {
    if t.cert_file.is_empty() || t.key_file.is_empty() {
        return Err("tls-port needs tls-cert-file and tls-key-file".into());
    }
    Reloading::new(server_files(t))
        .map(Arc::new)
        .map_err(|e| format!("tls: {e}"))
}

/// Runs the handshake of an accepted TLS connection, then serves it.
pub async fn serve(server: Arc<Server>, tls: Arc<Reloading>, tcp: TcpStream, addr: SocketAddr) {
    if let Some(stream) = handshake(&server, &tls, tcp, addr).await {
        crate::conn::serve(server, stream, addr).await;
    }
}

/// The server side of a TLS handshake with the configuration now in
/// force, limited to [`HANDSHAKE_TIMEOUT`]; a failure is logged and the
/// connection closed.
pub async fn handshake(
    server: &Server,
    tls: &Reloading,
    tcp: TcpStream,
    addr: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let config = tls.get(&server_files(&server.config.props().tls));
    let accept = tokio_rustls::TlsAcceptor::from(config)
        .accept(tcp)
        .into_fallible();
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(stream)) => return Some(stream),
        Ok(Err((e, tcp))) => {
            tracing::warn!("tls: handshake with {addr} failed: {e}");
            close_after_alert(tcp).await;
        }
        Err(_) => tracing::warn!("tls: handshake with {addr} timed out"),
    }
    None
}

/// Closes a connection whose handshake failed so that the client reads
/// the alert rustls sent (`certificate required`, `unknown ca`): with
/// TLS 1.3 a client may already have sent its first command, and closing
/// with that unread would reset the connection, losing the alert. So:
/// end the sending side, then read and drop input until the client
/// closes, for at most a second.
async fn close_after_alert(mut tcp: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// What a follower needs to dial its leader over TLS, from the
/// `leader-tls*` settings; `None` when `leader-tls` is off. The files are
/// read again at every dial, so replaced ones take effect at the next
/// reconnect.
pub fn connector(t: &TlsProps) -> Result<Option<tokio_rustls::TlsConnector>, String> {
    if !t.leader {
        return Ok(None);
    }
    let path = |s: &str| (!s.is_empty()).then(|| s.into());
    let files = ClientFiles {
        ca: path(&t.leader_ca_cert_file),
        cert: path(&t.leader_cert_file),
        key: path(&t.leader_key_file),
        insecure: false,
    };
    let config = tile38_tls::client_config(&files).map_err(|e| format!("leader-tls: {e}"))?;
    Ok(Some(tokio_rustls::TlsConnector::from(config)))
}

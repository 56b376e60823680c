//! How a connection that is killed (CLIENT KILL, shutdown) while its
//! client is still sending closes: without a reset that would lose the
//! client its last replies.

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::tls::ClientStream;

/// How long a killed connection that still had input coming keeps reading
/// it after its last reply.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether the client has sent bytes not read yet (the socket is
/// non-blocking: no wait).
pub(super) fn has_input(stream: &TcpStream) -> bool {
    let mut byte = [std::mem::MaybeUninit::uninit()];
    matches!(socket2::SockRef::from(stream).peek(&mut byte), Ok(n) if n > 0)
}

/// Reads and drops input until the client closes or [`LINGER`] passes:
/// closing a socket with unread input makes the kernel send a reset, and
/// a client that gets it may lose the last replies it had not read yet.
pub(super) async fn linger(stream: &mut impl ClientStream) {
    let mut sink = vec![0u8; 64 * 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

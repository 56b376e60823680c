//! What several benches share: an in-process server, as a connection sees
//! it, without sockets and without an AOF.

use std::net::{Ipv4Addr, SocketAddr};

use tile38_server::conn::ConnState;
use tile38_server::server::Server;

/// A server with an in-memory configuration and one registered client.
pub fn in_process_server() -> (Server, ConnState) {
    let server = Server::in_process();
    let client = server.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, 1)));
    let conn = ConnState::new(client);
    (server, conn)
}

//! What several benches share: an in-process server, as a connection sees
//! it, without sockets and without an AOF.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use tile38_server::config::Config;
use tile38_server::conn::ConnState;
use tile38_server::server::{Options, Server};

/// A server with an in-memory configuration and one registered client.
pub fn in_process_server() -> (Server, ConnState) {
    let opts = Options {
        host: "127.0.0.1".into(),
        port: 0,
        dir: PathBuf::from("/nonexistent-tile38-bench"),
        output_json: None,
        http_transport: true,
        protected_mode: false,
        appendonly: false,
        appendfilename: None,
        http_500_errors: false,
    };
    let config = Config::load(None).expect("in-memory config");
    let server = Server::new(opts, config, None);
    let client = server.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, 1)));
    let conn = ConnState {
        output: None,
        authed: false,
        client,
        lock: Default::default(),
        wrote: false,
    };
    (server, conn)
}

//! Protected mode: a connection from outside the loopback interface to a
//! server bound to it with no password is answered Tile38's `DENIED`
//! text and closed.

use std::net::SocketAddr;

use crate::server::Server;

pub(super) const DENIED: &[u8] = b"-DENIED Tile38 is running in protected mode because protected mode is enabled, no bind address was specified, no authentication password is requested to clients. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Tile38 you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Tile38 from the same host the server is running, however MAKE SURE Tile38 is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Tile38 configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

pub(super) fn is_protected(server: &Server, addr: &SocketAddr) -> bool {
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

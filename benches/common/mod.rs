//! What several benches share: an in-process server, as a connection sees
//! it, without sockets and without an AOF.

use tile38_engine::{Engine, Session};

/// An engine with an in-memory configuration and one registered client.
pub fn in_process_server() -> (Engine, Session) {
    let engine = Engine::in_process();
    let session = Session::local(&engine, 1);
    (engine, session)
}

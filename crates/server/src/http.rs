//! Answers an HTTP request or WebSocket upgrade on the main port: one
//! command per connection, then close (except SUBSCRIBE and PSUBSCRIBE,
//! after which the connection stays a subscriber). The command passes the
//! same gates as on any other transport (`cmd::gate`), the
//! `Authorization` header standing for an AUTH.
//!
//! As in Tile38 (`handleInputCommand` and its connection loop):
//!
//! * the reply is JSON unless the connection's output is RESP already (a
//!   RESP command sent before the request on the same connection): then
//!   the body is the RESP reply;
//! * `QUIT` closes at once: no response, or `+OK` in RESP output;
//! * a lone argument is cut at its `?` (a query string) only after the
//!   command was named by all of it, so `/PING?x=1` is `unknown command
//!   'PING'`;
//! * a WebSocket upgrade is answered before the command runs.

use std::time::Instant;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tile38_engine::error::Error;
use tile38_engine::pubsub::Transport;
use tile38_proto::http::{self as wire, Method};
use tile38_proto::{Args, Frame, Framing};

use crate::conn::Conn as Connection;

/// Writes the response for `frame` (whose command is in the connection's
/// args) into the connection's output buffer.
pub(crate) fn respond(conn: &mut Connection, frame: Frame) {
    let server = conn.server().clone();
    if !server.opts.http_transport {
        return;
    }
    let Some(req) = frame.http else {
        return;
    };
    if req.method == Method::Options {
        conn.out_mut().extend_from_slice(wire::CORS_PREFLIGHT);
        return;
    }
    let transport = match req.websocket_key.as_deref() {
        Some(key) => {
            wire::ws_upgrade_head(conn.out_mut(), &ws_accept(key));
            Transport::WebSocket
        }
        None => Transport::Http,
    };
    if conn.args_ref().get(0).is_empty() {
        conn.out_mut().extend_from_slice(wire::BAD_REQUEST);
        return;
    }
    let json = conn.mode(Framing::Http);
    if conn.args_ref().get(0).eq_ignore_ascii_case(b"quit") {
        if !json {
            conn.out_mut().extend_from_slice(b"+OK\r\n");
        }
        return;
    }
    conn.count_command();
    conn.reset_reply(json);
    let started = Instant::now();
    let unqueried = query_cut(conn.args_ref());
    // The header's password goes through the gates every transport shares.
    let res = conn.execute_via(
        json,
        tile38_engine::cmd::Via::Http(req.authorization.as_deref()),
    );
    let res = match (res, unqueried) {
        (Err(Error::UnknownCommand(_)), Some(name)) => Err(Error::UnknownCommand(name)),
        (res, _) => res,
    };
    if conn.subscribing(res.is_ok()) {
        conn.enter_subscription(transport, json, started);
        return;
    }
    if let Some(fence) = conn.take_live(res.is_ok()) {
        conn.go_live(fence, transport, json);
        return;
    }
    if conn.monitoring(res.is_ok()) {
        // Tile38 writes the monitor's `+OK` and lines raw, on any transport.
        conn.go_monitor();
        return;
    }
    let via = crate::conn::WaitVia::Http(transport);
    if conn.park_wait(res.is_ok(), via, Some(started)) {
        return;
    }
    let is_healthz = conn.args_ref().get(0).eq_ignore_ascii_case(b"healthz");
    let body = conn.render(res, started);
    write_body(conn, transport, json, is_healthz, &body);
}

/// Writes the rendered reply `body` as the HTTP response or WebSocket
/// message (also for a `WAIT` that finished later, `conn/wait.rs`).
pub(crate) fn write_body(
    conn: &mut Connection,
    transport: Transport,
    json: bool,
    is_healthz: bool,
    body: &[u8],
) {
    let http_500_errors = conn.server().opts.http_500_errors;
    // Tile38 reads `ok` from the body: a RESP body has none.
    let failed = conn.reply_ref().failed || !json;
    let out = conn.out_mut();
    if transport == Transport::WebSocket {
        wire::ws_text_frame_head(out, body.len());
        out.extend_from_slice(body);
        return;
    }
    let status = if failed && (is_healthz || http_500_errors) {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    wire::response_head(out, status, body.len());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

/// The text before the `?` of a request's lone argument, if it has one.
fn query_cut(args: &Args) -> Option<Vec<u8>> {
    if args.len() != 1 {
        return None;
    }
    let arg = args.get(0);
    let at = arg.iter().position(|&b| b == b'?')?;
    Some(arg[..at].to_vec())
}

/// `Sec-WebSocket-Accept` for `key`.
fn ws_accept(key: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(key);
    hasher.update(wire::WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}

//! Answers an HTTP request or WebSocket upgrade on the main port: one
//! command per connection, JSON reply, then close (except SUBSCRIBE and
//! PSUBSCRIBE, after which the connection stays a subscriber). The command passes the
//! same gates as on any other transport (`cmd::gate`), the
//! `Authorization` header standing for an AUTH.

use std::time::Instant;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tile38_engine::pubsub::Transport;
use tile38_proto::http::{self as wire, Method};
use tile38_proto::Frame;

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
    if conn.args_ref().is_empty() {
        return;
    }
    if conn.args_ref().get(0).is_empty() {
        conn.out_mut().extend_from_slice(wire::BAD_REQUEST);
        return;
    }
    conn.count_command();
    let json = server.opts.output_json.unwrap_or(true);
    conn.reset_reply(json);
    let started = Instant::now();
    // The header's password goes through the gates every transport shares.
    let res = conn.execute_via(
        json,
        tile38_engine::cmd::Via::Http(req.authorization.as_deref()),
    );
    if conn.subscribing(res.is_ok()) {
        subscribe(conn, req.websocket_key.as_deref(), json, started);
        return;
    }
    if let Some(fence) = conn.take_live(res.is_ok()) {
        let transport = upgrade(conn, req.websocket_key.as_deref());
        conn.go_live(fence, transport, json);
        return;
    }
    let is_healthz = conn.args_ref().get(0).eq_ignore_ascii_case(b"healthz");
    let body = conn.render(res, started);
    let failed = conn.reply_ref().failed;
    let out = conn.out_mut();
    if let Some(key) = req.websocket_key {
        wire::ws_upgrade_head(out, &ws_accept(&key));
        wire::ws_text_frame_head(out, body.len());
        out.extend_from_slice(&body);
        return;
    }
    let status = if failed && (is_healthz || server.opts.http_500_errors) {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    wire::response_head(out, status, body.len());
    out.extend_from_slice(&body);
    out.extend_from_slice(b"\r\n");
}

/// `Sec-WebSocket-Accept` for `key`.
fn ws_accept(key: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(key);
    hasher.update(wire::WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}

/// A SUBSCRIBE or PSUBSCRIBE over HTTP. Tile38 keeps the connection as a
/// subscriber: a WebSocket one gets the upgrade and then a text frame per
/// confirmation and message (JSON always); a plain HTTP one is counted by
/// PUBLISH but sent nothing at all.
fn subscribe(conn: &mut Connection, websocket_key: Option<&[u8]>, json: bool, started: Instant) {
    let transport = upgrade(conn, websocket_key);
    conn.enter_subscription(transport, json, started);
}

/// A connection that stays open after its command (a subscription or a
/// live fence): a WebSocket one gets the upgrade; a plain HTTP one stays
/// silent.
fn upgrade(conn: &mut Connection, websocket_key: Option<&[u8]>) -> Transport {
    match websocket_key {
        Some(key) => {
            wire::ws_upgrade_head(conn.out_mut(), &ws_accept(key));
            Transport::WebSocket
        }
        None => Transport::Http,
    }
}

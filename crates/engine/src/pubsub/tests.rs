//! The registry, subscription mode and outbox driven in-process, without
//! sockets: what a subscriber's connection would write, byte for byte.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tile38_proto::Args;

use super::{After, Outbox, Transport, Wire};
use crate::reply::Reply;
use crate::{Engine, Session};

fn args(words: &[&str]) -> Args {
    let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
    Args::from_slices(&words)
}

/// A subscribed session and what wakes it.
struct Sub {
    session: Session,
    outbox: Arc<Outbox>,
    wakes: Arc<AtomicUsize>,
}

impl Sub {
    /// Sends `cmd` (a SUBSCRIBE or PSUBSCRIBE) on a fresh session the way
    /// a connection does: through the table, then into subscription mode.
    fn new(engine: &Engine, wire: Wire, cmd: &[&str]) -> Sub {
        let mut session = Session::local(engine, 5000);
        let mut a = args(cmd);
        let mut out = Reply::new(wire.json);
        session.execute(engine, &mut a, &mut out).unwrap();
        assert!(session.subscribing && out.buf.is_empty());
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let outbox = Outbox::new(session.client.clone(), wire, move || {
            w.fetch_add(1, Ordering::Relaxed);
        });
        let after = session.enter_subscription(engine, outbox.clone(), &a, Instant::now());
        assert_eq!(after, After::Stay);
        Sub {
            session,
            outbox,
            wakes,
        }
    }

    fn send(&mut self, engine: &Engine, cmd: &[&str]) -> After {
        let sub = self.session.subscription.as_mut().unwrap();
        sub.execute(engine, &args(cmd), Instant::now())
    }

    /// Everything queued since the last call, as text.
    fn take(&self) -> String {
        let mut buf = Vec::new();
        self.outbox.take(&mut buf);
        self.outbox.written();
        String::from_utf8_lossy(&buf).into_owned()
    }
}

fn resp() -> Wire {
    Wire::new(Transport::Resp, false)
}

/// Replaces every `"elapsed":"…"` value with `E`.
fn masked(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("\"elapsed\":\"") {
        let value = at + "\"elapsed\":\"".len();
        out.push_str(&rest[..value]);
        out.push('E');
        let end = rest[value..].find('"').unwrap();
        rest = &rest[value + end..];
    }
    out + rest
}

#[test]
fn subscribe_publish_unsubscribe_in_resp() {
    let engine = Engine::in_process();
    let mut s = Sub::new(&engine, resp(), &["SUBSCRIBE", "a", "a", "b"]);
    assert_eq!(
        s.take(),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n\
         *3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    );
    assert_eq!(engine.publish(b"a", b"hi"), 1);
    assert_eq!(engine.publish(b"c", b"hi"), 0);
    assert_eq!(s.take(), "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
    assert!(s.wakes.load(Ordering::Relaxed) > 0);
    s.send(&engine, &["unsubscribe", "b", "nothere"]);
    s.send(&engine, &["UNSUBSCRIBE"]);
    assert_eq!(
        s.take(),
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$7\r\nnothere\r\n:1\r\n\
         -ERR wrong number of arguments for 'unsubscribe' command\r\n"
    );
    assert_eq!(engine.publish(b"b", b"x"), 0);
    s.send(&engine, &["PING"]);
    s.send(&engine, &["ping", "x", "y"]);
    s.send(&engine, &["GET", "k", "i"]);
    assert_eq!(
        s.take(),
        "*2\r\n$4\r\nPONG\r\n$0\r\n\r\n*2\r\n$4\r\nPONG\r\n$1\r\nx\r\n\
         -ERR only (P)SUBSCRIBE / (P)UNSUBSCRIBE / PING / QUIT allowed in this context\r\n"
    );
    assert_eq!(s.send(&engine, &["Quit"]), After::Close);
    assert_eq!(s.take(), "+OK\r\n");
    s.session.subscription.take().unwrap().close(&engine);
    assert_eq!(engine.pubsub.counts(), (0, 0));
    assert_eq!(engine.publish(b"a", b"hi"), 0);
}

#[test]
fn patterns_count_once_per_match_after_the_channel() {
    let engine = Engine::in_process();
    let mut s = Sub::new(&engine, resp(), &["SUBSCRIBE", "c1"]);
    s.send(&engine, &["PSUBSCRIBE", "c*", "*1"]);
    s.take();
    assert_eq!(engine.publish(b"c1", b"m"), 3);
    assert_eq!(
        s.take(),
        "*3\r\n$7\r\nmessage\r\n$2\r\nc1\r\n$1\r\nm\r\n\
         *4\r\n$8\r\npmessage\r\n$2\r\n*1\r\n$2\r\nc1\r\n$1\r\nm\r\n\
         *4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nc1\r\n$1\r\nm\r\n"
    );
    let other = Sub::new(&engine, resp(), &["PSUBSCRIBE", "c?"]);
    assert_eq!(engine.publish(b"cx", b"m"), 2);
    assert_eq!(engine.stats.total_messages_sent.load(Ordering::Relaxed), 5);
    s.send(&engine, &["PUNSUBSCRIBE", "c*", "*1"]);
    assert!(s
        .take()
        .ends_with("*3\r\n$12\r\npunsubscribe\r\n$2\r\n*1\r\n:1\r\n"));
    assert_eq!(engine.publish(b"cx", b"m"), 1);
    drop(other);
}

#[test]
fn json_mode_frames_on_each_transport() {
    let engine = Engine::in_process();
    let mut s = Sub::new(
        &engine,
        Wire::new(Transport::Resp, true),
        &["SUBSCRIBE", "ch"],
    );
    let confirmation = masked(&s.take());
    assert!(confirmation.starts_with('$'));
    assert!(confirmation.ends_with(
        "\r\n{\"ok\":true,\"command\":\"subscribe\",\"channel\":\"ch\",\"num\":1,\"elapsed\":\"E\"}\r\n"
    ));
    for (msg, sent) in [
        ("hello", "\"hello\""),
        ("{\"a\":1}", "{\"a\":1}"),
        ("12", "12"),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("", "\"\""),
        // Tile38 1.37 alike: escaped only when some byte must be.
        ("<&>", "\"<&>\""),
        ("é<", "\"é\\u003c\""),
    ] {
        engine.publish(b"ch", msg.as_bytes());
        assert_eq!(s.take(), format!("${}\r\n{sent}\r\n", sent.len()));
    }
    s.send(&engine, &["PING", "x"]);
    s.send(&engine, &["SUBSCRIBE"]);
    s.send(&engine, &["QUIT"]);
    let text = masked(&s.take());
    assert!(text.contains("{\"ok\":true,\"ping\":\"x\",\"elapsed\":\"E\"}"));
    assert!(
        text.contains("{\"ok\":false,\"err\":\"invalid number of arguments\",\"elapsed\":\"E\"}")
    );
    assert!(text.ends_with("{\"ok\":true,\"elapsed\":\"E\"}\r\n"));

    let native = Sub::new(
        &engine,
        Wire::new(Transport::Native, true),
        &["SUBSCRIBE", "n"],
    );
    let text = native.take();
    let (len, body) = text[1..].split_once(' ').unwrap();
    assert_eq!(len.parse::<usize>().unwrap() + 2, body.len());
    assert_eq!(
        masked(body),
        "{\"ok\":true,\"command\":\"subscribe\",\"channel\":\"n\",\"num\":1,\"elapsed\":\"E\"}\r\n"
    );
    engine.publish(b"n", b"hi there");
    assert_eq!(native.take(), "$10 \"hi there\"\r\n");

    let ws = Sub::new(
        &engine,
        Wire::new(Transport::WebSocket, false),
        &["SUBSCRIBE", "w"],
    );
    assert!(ws.outbox.wire().json);
    let mut frame = Vec::new();
    ws.outbox.take(&mut frame);
    assert_eq!(frame[..2], [0x81, frame.len() as u8 - 2]);
    engine.publish(b"w", b"hi");
    ws.outbox.take(&mut frame);
    assert_eq!(frame, b"\x81\x04\"hi\"");

    let http = Sub::new(
        &engine,
        Wire::new(Transport::Http, true),
        &["SUBSCRIBE", "h"],
    );
    assert_eq!(engine.publish(b"h", b"hi"), 1);
    assert_eq!(http.take(), "");
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected_past_the_limit() {
    let engine = Engine::in_process();
    engine
        .config
        .set("client-output-buffer-limit", "pubsub 1000 0 0")
        .unwrap();
    let slow = Sub::new(&engine, resp(), &["SUBSCRIBE", "ch"]);
    let fast = Sub::new(&engine, resp(), &["SUBSCRIBE", "ch"]);
    let payload = [b'x'; 100];
    let mut sent = 0;
    for _ in 0..20 {
        sent += engine.publish(b"ch", &payload);
        fast.take();
        fast.outbox.written();
    }
    // The slow one took about 1000 bytes' worth, then no more.
    assert!((20 + 5..20 + 9).contains(&sent), "{sent}");
    assert!(slow.outbox.is_closed());
    assert!(slow.session.client.killed.load(Ordering::Acquire));
    assert_eq!(slow.outbox.pending(), 0);
    assert_eq!(
        engine
            .stats
            .output_limit_disconnects
            .load(Ordering::Relaxed),
        1
    );
    assert!(!fast.outbox.is_closed());
    // Bytes being written still count.
    let mut buf = Vec::new();
    engine.publish(b"ch", &payload);
    fast.outbox.take(&mut buf);
    assert_eq!(fast.outbox.pending(), buf.len());
}

#[test]
fn publish_replies_and_arity() {
    let engine = Engine::in_process();
    let mut session = Session::local(&engine, 5001);
    let mut out = Reply::new(false);
    session
        .execute(&engine, &mut args(&["PUBLISH", "a", "b"]), &mut out)
        .unwrap();
    assert_eq!(out.buf, b":0\r\n");
    let mut out = Reply::new(true);
    session
        .execute(&engine, &mut args(&["publish", "a", "b"]), &mut out)
        .unwrap();
    assert_eq!(out.buf, b",\"published\":0");
    for bad in [
        &["PUBLISH", "a"][..],
        &["PUBLISH", "a", "b", "c"],
        &["SUBSCRIBE"],
        &["PSUBSCRIBE"],
    ] {
        let res = session.execute(&engine, &mut args(bad), &mut Reply::new(false));
        assert_eq!(res, Err(crate::Error::Arity));
    }
    for unknown in ["UNSUBSCRIBE", "punsubscribe"] {
        let res = session.execute(&engine, &mut args(&[unknown, "a"]), &mut Reply::new(false));
        assert_eq!(res, Err(crate::Error::UnknownCommand(unknown.into())));
    }
    assert!(!session.subscribing);
}

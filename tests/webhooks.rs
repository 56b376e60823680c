//! Webhook delivery on the real server (issue 15, items 5 and 6): a hook
//! whose HTTP endpoint is down at first receives every event, in order,
//! once the endpoint comes up, also when the server restarted in between
//! (the queue is on disk under `<dir>/webhooks`, the hook comes back from
//! the AOF); SERVER's `pending_events` counts the waiting events, and
//! `/metrics` has the per-hook delivery families.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use tile38::{resp_strings, temp_dir, wait_until, Resp, TestServer};

type Bodies = Arc<Mutex<Vec<Json>>>;

/// A port nobody listens on (yet).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The port of a receiver that is not up yet, kept: bound but not
/// listening, so a connection to it is refused as to a closed port, while
/// no other socket can take the port meanwhile (a port only looked up
/// and bound seconds later was taken by a concurrent test's connection).
struct Reserved(socket2::Socket, u16);

fn reserve() -> Reserved {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    Reserved(s, port)
}

/// An HTTP receiver on the reserved port answering 200 to every POST and
/// keeping its JSON body.
fn receiver(port: Reserved) -> Bodies {
    port.0.listen(128).expect("listen");
    let listener: TcpListener = port.0.into();
    let bodies = Bodies::default();
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || serve(stream, &kept));
        }
    });
    bodies
}

/// One connection's requests (keep-alive), until it closes.
fn serve(stream: TcpStream, bodies: &Mutex<Vec<Json>>) {
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    loop {
        let mut len = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).expect("a JSON event"));
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        if out.write_all(reply).is_err() {
            return;
        }
    }
}

/// The `/metrics` text of the listener on `port`.
fn metrics(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("metrics listener");
    let req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    s.write_all(req.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

/// SERVER's `pending_events`.
fn pending(c: &mut Resp) -> i64 {
    let fields = resp_strings(&c.cmd(&["SERVER"]));
    let i = fields.iter().position(|f| f == "pending_events").unwrap();
    fields[i + 1].parse().unwrap()
}

/// Moves `id` into the fence: its `enter` and `inside` events.
fn enter(c: &mut Resp, id: &str) {
    let reply = c.cmd(&["SET", "fleet", id, "POINT", "33", "-115"]);
    assert_eq!(reply, b"+OK\r\n");
}

#[test]
fn events_wait_for_a_down_endpoint_across_a_restart() {
    let reserved = reserve();
    let port = reserved.1;
    let dir = temp_dir("webhooks");
    let srv = TestServer::start_in(&dir, &[]);
    let mut c = srv.resp();
    let hook =
        format!("SETHOOK h http://127.0.0.1:{port}/ev NEARBY fleet FENCE POINT 33 -115 10000");
    let words: Vec<&str> = hook.split(' ').collect();
    assert_eq!(c.cmd(&words), b":1\r\n");
    enter(&mut c, "a");
    enter(&mut c, "b");
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 4));
    assert!(srv.terminate().success());

    let mport = free_port();
    let srv = TestServer::start_in(&dir, &["--metrics-addr", &format!("127.0.0.1:{mport}")]);
    let mut c = srv.resp();
    assert_eq!(pending(&mut c), 4, "the queue survives the restart");
    enter(&mut c, "c");
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 6));

    let bodies = receiver(reserved);
    let all = || {
        let b = bodies.lock().unwrap();
        let mut seen: Vec<(String, String)> = Vec::new();
        for e in b.iter() {
            let key = (
                e["id"].as_str().unwrap().to_string(),
                e["detect"].as_str().unwrap().to_string(),
            );
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    };
    assert!(
        wait_until(Duration::from_secs(30), || all().len() == 6),
        "received {:?}",
        all()
    );
    let ids: Vec<String> = all().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["a", "a", "b", "b", "c", "c"], "in order");
    for e in bodies.lock().unwrap().iter() {
        assert_eq!(e["hook"], "h");
        assert_eq!(e["key"], "fleet");
    }
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 0));
    let text = metrics(mport);
    assert!(
        text.contains("\ntile38_hook_queue_depth{hook=\"h\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("\ntile38_hook_deliveries_total{hook=\"h\"} "),
        "{text}"
    );
    assert!(
        text.contains("\ntile38_hook_last_latency_seconds{hook=\"h\"} "),
        "{text}"
    );
    assert!(text.contains("\ntile38_pending_events 0\n"), "{text}");
    assert!(srv.terminate().success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// DELHOOK stops the hook's delivery (its stats go from `/metrics`) while
/// its queued events stay counted until they expire, as Tile38 keeps them;
/// a new SETHOOK of the same name takes the queue back and delivers it.
#[test]
fn delhook_stops_delivery_and_keeps_the_queue() {
    let reserved = reserve();
    let port = reserved.1;
    let mport = free_port();
    let srv = TestServer::start(&["--metrics-addr", &format!("127.0.0.1:{mport}")]);
    let mut c = srv.resp();
    let hook =
        format!("SETHOOK h http://127.0.0.1:{port}/ev NEARBY fleet FENCE POINT 33 -115 10000");
    let words: Vec<&str> = hook.split(' ').collect();
    assert_eq!(c.cmd(&words), b":1\r\n");
    enter(&mut c, "a");
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 2));
    assert!(metrics(mport).contains("\ntile38_hook_queue_depth{hook=\"h\"} 2\n"));
    assert_eq!(c.cmd(&["DELHOOK", "h"]), b":1\r\n");
    let text = metrics(mport);
    assert!(!text.contains("{hook=\"h\"}"), "{text}");
    assert!(text.contains("\ntile38_pending_events 2\n"), "{text}");
    assert_eq!(pending(&mut c), 2);

    let bodies = receiver(reserved);
    assert_eq!(c.cmd(&words), b":1\r\n");
    enter(&mut c, "b");
    let ids = || -> Vec<String> {
        let b = bodies.lock().unwrap();
        b.iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(30), || ids().len() >= 4),
        "received {:?}",
        ids()
    );
    assert_eq!(ids()[..4], ["a", "a", "b", "b"], "the old queue first");
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 0));
    assert!(srv.terminate().success());
}

/// A SETHOOK that changes the endpoints sends the queued events to the new
/// ones, with no new event needed.
#[test]
fn a_replaced_hook_delivers_its_queue_to_the_new_endpoint() {
    let (down, up) = (free_port(), reserve());
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let hook = |port: u16| {
        format!("SETHOOK h http://127.0.0.1:{port}/ev NEARBY fleet FENCE POINT 33 -115 10000")
    };
    let sethook = |c: &mut Resp, line: &str| c.cmd(&line.split(' ').collect::<Vec<_>>());
    assert_eq!(sethook(&mut c, &hook(down)), b":1\r\n");
    enter(&mut c, "a");
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 2));
    let up_port = up.1;
    let bodies = receiver(up);
    assert_eq!(sethook(&mut c, &hook(up_port)), b":1\r\n");
    let count = || bodies.lock().unwrap().len();
    assert!(wait_until(Duration::from_secs(30), || count() >= 2));
    assert!(wait_until(Duration::from_secs(5), || pending(&mut c) == 0));
    assert!(srv.terminate().success());
}

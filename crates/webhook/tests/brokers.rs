//! Delivery to real brokers started here: redis-server, nats-server,
//! mosquitto and rabbitmq-server from Debian (`scripts/test.sh` installs
//! them; without them a test says SKIPPED, and fails under CI), and a gRPC
//! server speaking Tile38's `hservice.HookService/Send` over h2.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{
    config, epmd_running, event, events, free_port, have, open, poll, spawn_server, temp_dir,
    ProcTree,
};
use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const LIMIT: Duration = Duration::from_secs(30);

type Got = Arc<Mutex<Vec<String>>>;

fn redis_server(port: u16) -> Command {
    let mut c = Command::new("redis-server");
    c.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    c
}

/// Subscribes to `channel` on a thread; returns once subscribed.
fn redis_subscriber(port: u16, channel: &str) -> Got {
    let got: Got = Arc::default();
    let sink = got.clone();
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut con = client.get_connection().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let channel = channel.to_string();
    std::thread::spawn(move || {
        let mut ps = con.as_pubsub();
        ps.subscribe(&channel).unwrap();
        tx.send(()).unwrap();
        while let Ok(msg) = ps.get_message() {
            sink.lock().push(msg.get_payload::<String>().unwrap());
        }
    });
    rx.recv().unwrap();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_publish_in_order_and_reconnect() {
    if !have("redis-server") {
        return;
    }
    let port = free_port();
    let server = spawn_server(&mut redis_server(port), port, LIMIT).await;
    let got = redis_subscriber(port, "geo events");
    let wh = open(config(&temp_dir("redis")));
    wh.set_hook(b"h", &[format!("redis://127.0.0.1:{port}/geo%20events")])
        .unwrap();
    for i in 0..50 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("50 redis messages", LIMIT, || got.lock().len() == 50).await;
    assert_eq!(*got.lock(), events(0..50));

    // The kept connection breaks with the server; the next send reconnects.
    drop(server);
    let _server = spawn_server(&mut redis_server(port), port, LIMIT).await;
    let got = redis_subscriber(port, "geo events");
    for i in 50..60 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("10 more redis messages", LIMIT, || got.lock().len() == 10).await;
    assert_eq!(*got.lock(), events(50..60));
}

/// A raw NATS subscriber (the protocol is text lines).
async fn nats_subscriber(port: u16, subject: &str) -> Got {
    let got: Got = Arc::default();
    let sock = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut r = BufReader::new(sock);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("INFO"));
    let sub = format!("CONNECT {{\"verbose\":false}}\r\nSUB {subject} 1\r\nPING\r\n");
    r.get_mut().write_all(sub.as_bytes()).await.unwrap();
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line.trim_end() == "PONG" {
            break;
        }
    }
    let sink = got.clone();
    tokio::spawn(async move {
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap() == 0 {
                return;
            }
            if line.starts_with("PING") {
                r.get_mut().write_all(b"PONG\r\n").await.unwrap();
            } else if let Some(head) = line.strip_prefix("MSG ") {
                let n: usize = head.split_whitespace().last().unwrap().parse().unwrap();
                let mut payload = vec![0u8; n + 2];
                r.read_exact(&mut payload).await.unwrap();
                sink.lock()
                    .push(String::from_utf8_lossy(&payload[..n]).into_owned());
            }
        }
    });
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_publish_in_order() {
    if !have("nats-server") {
        return;
    }
    let port = free_port();
    let mut cmd = Command::new("nats-server");
    cmd.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
    let _server = spawn_server(&mut cmd, port, LIMIT).await;
    let got = nats_subscriber(port, "tile38.events").await;
    let wh = open(config(&temp_dir("nats")));
    wh.set_hook(b"h", &[format!("nats://127.0.0.1:{port}/tile38.events")])
        .unwrap();
    for i in 0..50 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("50 nats messages", LIMIT, || got.lock().len() == 50).await;
    assert_eq!(*got.lock(), events(0..50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_publish_qos1_in_order() {
    if !have("mosquitto") {
        return;
    }
    let port = free_port();
    let mut cmd = Command::new("mosquitto");
    cmd.args(["-p", &port.to_string()]);
    let _server = spawn_server(&mut cmd, port, LIMIT).await;
    let opts = rumqttc::MqttOptions::new("test-sub", "127.0.0.1", port);
    let (sub, mut ev) = rumqttc::AsyncClient::new(opts, 64);
    sub.subscribe("fleet/events", rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    let got: Got = Arc::default();
    let (sink, (tx, rx)) = (got.clone(), tokio::sync::oneshot::channel());
    let mut tx = Some(tx);
    tokio::spawn(async move {
        while let Ok(e) = ev.poll().await {
            match e {
                rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) => {
                    let _ = tx.take().unwrap().send(());
                }
                rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) => {
                    sink.lock()
                        .push(String::from_utf8_lossy(&p.payload).into_owned());
                }
                _ => {}
            }
        }
    });
    rx.await.unwrap();
    let wh = open(config(&temp_dir("mqtt")));
    let url = format!("mqtt://127.0.0.1:{port}/fleet/events?qos=1");
    wh.set_hook(b"h", &[url]).unwrap();
    for i in 0..30 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("30 mqtt messages", LIMIT, || got.lock().len() == 30).await;
    assert_eq!(*got.lock(), events(0..30));
    drop(sub);
}

/// rabbitmq-server on `port` with its state under `dir`.
fn rabbitmq(port: u16, dir: &std::path::Path) -> Command {
    std::fs::write(dir.join("enabled_plugins"), "[].").unwrap();
    let mut c = Command::new("/usr/lib/rabbitmq/bin/rabbitmq-server");
    c.current_dir(dir)
        .env("HOME", dir)
        .env("RABBITMQ_NODE_PORT", port.to_string())
        .env("RABBITMQ_DIST_PORT", free_port().to_string())
        .env("RABBITMQ_NODENAME", format!("t38-webhook-{port}@localhost"))
        .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
        .env("RABBITMQ_LOG_BASE", dir.join("log"))
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
        .env("RABBITMQ_CONFIG_FILES", dir.join("none"));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_declares_and_publishes_in_order() {
    if !have("rabbitmq-server") {
        return;
    }
    let port = free_port();
    let dir = temp_dir("rabbitmq");
    let stop_epmd = !epmd_running();
    let proc = spawn_server(&mut rabbitmq(port, &dir), port, Duration::from_secs(60)).await;
    let _server = ProcTree { proc, stop_epmd };
    let wh = open(config(&temp_dir("amqp")));
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/fences?route=geo");
    wh.set_hook(b"h", &[url]).unwrap();
    for i in 0..20 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("20 amqp deliveries", Duration::from_secs(60), || {
        wh.hook_stats(b"h").unwrap().delivered == 20
    })
    .await;
    let uri = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let conn = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let mut got = Vec::new();
    while let Some(m) = ch
        .basic_get(
            "fences".into(),
            lapin::options::BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
    {
        let ct = m.delivery.properties.content_type().clone();
        assert_eq!(
            ct.map(|c| c.to_string()),
            Some("application/json".to_string())
        );
        assert_eq!(m.delivery.routing_key.as_str(), "geo");
        got.push(String::from_utf8_lossy(&m.delivery.data).into_owned());
    }
    assert_eq!(got, events(0..20));
}

/// A gRPC server for Tile38's `hservice.HookService/Send` (on h2): records
/// each `MessageRequest.value` and replies `ok = reply_ok`.
async fn grpc_server(reply_ok: bool) -> (u16, Got) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got: Got = Arc::default();
    let sink = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(sock).await.unwrap();
                while let Some(Ok((req, respond))) = conn.accept().await {
                    tokio::spawn(grpc_call(req, respond, sink.clone(), reply_ok));
                }
            });
        }
    });
    (port, got)
}

async fn grpc_call(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    sink: Got,
    reply_ok: bool,
) {
    assert_eq!(req.uri().path(), "/hservice.HookService/Send");
    assert_eq!(req.headers()["content-type"], "application/grpc");
    let mut body = req.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    // [0][len u32][0x0a, varint len, value]
    assert_eq!(data[0], 0);
    assert_eq!(data[5], 0x0a);
    let (mut len, mut i) = (0usize, 6);
    for shift in (0..).step_by(7) {
        len |= ((data[i] & 0x7f) as usize) << shift;
        i += 1;
        if data[i - 1] & 0x80 == 0 {
            break;
        }
    }
    sink.lock()
        .push(String::from_utf8_lossy(&data[i..i + len]).into_owned());
    let resp = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let mut send = respond.send_response(resp, false).unwrap();
    let reply: &'static [u8] = if reply_ok {
        &[0, 0, 0, 0, 2, 0x08, 0x01]
    } else {
        &[0, 0, 0, 0, 0]
    };
    send.send_data(Bytes::from_static(reply), false).unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    send.send_trailers(trailers).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_send_in_order_and_ok_false_fails_over() {
    let (port, got) = grpc_server(true).await;
    let (bad_port, bad_got) = grpc_server(false).await;
    let wh = open(config(&temp_dir("grpc")));
    let urls = [
        format!("grpc://127.0.0.1:{bad_port}"),
        format!("grpc://127.0.0.1:{port}"),
    ];
    wh.set_hook(b"h", &urls).unwrap();
    for i in 0..30 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("30 grpc calls", LIMIT, || got.lock().len() == 30).await;
    assert_eq!(*got.lock(), events(0..30));
    assert_eq!(*bad_got.lock(), events(0..30));
}

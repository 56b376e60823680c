//! Real message brokers for the delivery tests, started as child processes
//! on ephemeral loopback ports (redis-server, nats-server, mosquitto and
//! rabbitmq-server from Debian; `scripts/test.sh` installs them), a gRPC
//! server speaking Tile38's `hservice.HookService/Send` over h2, and a
//! subscriber for each that records the payloads it receives.
//!
//! Shared by this crate's tests (`common/mod.rs`) and the root package's
//! `tests/webhook_endpoints.rs` (through `#[path]`): it uses no
//! `tile38_webhook` item.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The payloads a subscriber received, in arrival order.
pub type Got = Arc<Mutex<Vec<String>>>;

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process ids under `pid` (children first found, then theirs).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let path = format!("/proc/{p}/task/{p}/children");
        let kids = std::fs::read_to_string(path).unwrap_or_default();
        for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
            out.push(k);
            todo.push(k);
        }
    }
    out
}

/// A server started through a wrapper script (rabbitmq-server runs the
/// Erlang VM as a child that outlives a killed script): dropping it kills
/// the script's descendants too, and the `epmd` daemon the VM started if
/// none ran before.
pub struct ProcTree {
    pub proc: Proc,
    pub stop_epmd: bool,
}

impl Drop for ProcTree {
    fn drop(&mut self) {
        let pids = descendants(self.proc.0.id());
        for pid in &pids {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        // epmd refuses to stop while a node is registered: wait until the
        // VM is gone (or a zombie).
        let gone = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |s| s.contains(") Z "))
        };
        let start = Instant::now();
        while !pids.iter().all(gone) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // It refuses too until it noticed the node's connection closed:
        // ask again until it is gone.
        let start = Instant::now();
        while self.stop_epmd && epmd_running() && start.elapsed() < Duration::from_secs(5) {
            let _ = Command::new("epmd")
                .arg("-kill")
                .stdout(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether an `epmd` daemon answers.
pub fn epmd_running() -> bool {
    Command::new("epmd")
        .arg("-names")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `bin` is installed. When it is not: in CI (where
/// `scripts/test.sh` installs it) that is a failure; elsewhere the test
/// says loudly that it is skipped.
pub fn have(bin: &str) -> bool {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {bin} || test -x /usr/sbin/{bin}"),
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{bin} is not installed (scripts/test.sh installs it)"
        );
        eprintln!("SKIPPED: {bin} is not installed; run scripts/test.sh to install it");
    }
    found
}

/// Starts `cmd` and waits until its port accepts connections.
pub async fn spawn_server(cmd: &mut Command, port: u16, limit: Duration) -> Proc {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "{cmd:?} did not listen on {port} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proc
}

/// `bin` on a free port (`cmd` makes its command line for a port), once
/// it listens within `limit`, and the port; `None` when `bin` is not
/// installed (see [`have`]).
async fn start(bin: &str, cmd: impl Fn(u16) -> Command, limit: Duration) -> Option<(Proc, u16)> {
    if !have(bin) {
        return None;
    }
    let port = free_port();
    Some((spawn_server(&mut cmd(port), port, limit).await, port))
}

/// redis-server on a free port (see [`start`]).
pub async fn start_redis() -> Option<(Proc, u16)> {
    start("redis-server", redis_server, Duration::from_secs(30)).await
}

/// The redis-server command for `port`.
pub fn redis_server(port: u16) -> Command {
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
pub fn redis_subscriber(port: u16, channel: &str) -> Got {
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

/// nats-server on a free port (see [`start`]).
pub async fn start_nats() -> Option<(Proc, u16)> {
    let cmd = |port: u16| {
        let mut c = Command::new("nats-server");
        c.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
        c
    };
    start("nats-server", cmd, Duration::from_secs(30)).await
}

/// A raw NATS subscriber (the protocol is text lines).
pub async fn nats_subscriber(port: u16, subject: &str) -> Got {
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

/// mosquitto on a free port (see [`start`]).
pub async fn start_mosquitto() -> Option<(Proc, u16)> {
    let cmd = |port: u16| {
        let mut c = Command::new("mosquitto");
        c.args(["-p", &port.to_string()]);
        c
    };
    start("mosquitto", cmd, Duration::from_secs(30)).await
}

/// An MQTT client subscribed (QoS 1) to `topic`; returns once the broker
/// acknowledged the subscription. Keep the client to stay subscribed.
pub async fn mqtt_subscriber(port: u16, topic: &str) -> (rumqttc::AsyncClient, Got) {
    let opts = rumqttc::MqttOptions::new(format!("sub-{port}"), "127.0.0.1", port);
    let (sub, mut ev) = rumqttc::AsyncClient::new(opts, 64);
    sub.subscribe(topic, rumqttc::QoS::AtLeastOnce)
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
    (sub, got)
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

/// rabbitmq-server on a free port with its state under `dir` (an empty
/// directory), once it listens: the broker (every process of it) and its
/// AMQP port; `None` when it is not installed.
pub async fn start_rabbitmq(dir: &std::path::Path) -> Option<(ProcTree, u16)> {
    let stop_epmd = !epmd_running();
    let cmd = |port| rabbitmq(port, dir);
    let (proc, port) = start("rabbitmq-server", cmd, Duration::from_secs(60)).await?;
    Some((ProcTree { proc, stop_epmd }, port))
}

/// Takes every message waiting in `queue` of the broker on `port`.
pub async fn amqp_take_all(port: u16, queue: &str) -> Vec<lapin::message::BasicGetMessage> {
    let uri = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let conn = lapin::Connection::connect(&uri, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    let mut got = Vec::new();
    let opts = lapin::options::BasicGetOptions { no_ack: true };
    while let Some(m) = ch.basic_get(queue.into(), opts).await.unwrap() {
        got.push(m);
    }
    got
}

/// A gRPC server for Tile38's `hservice.HookService/Send` (on h2): records
/// each `MessageRequest.value` and replies `ok = reply_ok`.
pub async fn grpc_server(reply_ok: bool) -> (u16, Got) {
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

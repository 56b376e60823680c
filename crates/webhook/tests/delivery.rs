//! Delivery against a real HTTP server started here: order, Tile38's
//! request shape, failover, an endpoint that comes up late, a restart
//! while it is down, isolation from a dead endpoint, the overflow bound,
//! local and unsupported endpoints.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::brokers::free_port;
use common::receiver::Receiver;
use common::{config, event, events, open, poll, temp_dir};
use parking_lot::Mutex;
use tile38_webhook::Webhooks;

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_order_with_tile38_request_shape() {
    let recv = Receiver::start(0).await;
    let wh = open(config(&temp_dir("order")));
    wh.set_hook(b"h", &[recv.url("/hook?x=1")]).unwrap();
    for i in 0..300 {
        assert!(wh.enqueue(b"h", event(i).as_bytes()));
    }
    poll("300 deliveries", LIMIT, || recv.count("/hook?x=1") == 300).await;
    assert_eq!(recv.bodies("/hook?x=1"), events(0..300));
    let req = &recv.requests()[0];
    let names: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Host",
            "User-Agent",
            "Content-Length",
            "Content-Type",
            "Accept-Encoding"
        ]
    );
    let value = |n: &str| req.headers.iter().find(|(h, _)| h == n).unwrap().1.clone();
    assert_eq!(value("Host"), format!("127.0.0.1:{}", recv.port));
    assert_eq!(value("User-Agent"), "Go-http-client/1.1");
    assert_eq!(value("Content-Type"), "application/json");
    assert_eq!(value("Accept-Encoding"), "gzip");
    poll("queue drained", LIMIT, || wh.pending_events() == 0).await;
    let s = wh.hook_stats(b"h").unwrap();
    assert_eq!((s.enqueued, s.delivered, s.queue_depth), (300, 300, 0));
    assert!(s.last_latency.is_some());
    assert!(!wh.enqueue(b"nohook", b"x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_to_the_second_endpoint() {
    let recv = Receiver::start(0).await;
    recv.set_status("/fail", 500);
    let wh = open(config(&temp_dir("failover")));
    wh.set_hook(b"h", &[recv.url("/fail"), recv.url("/second")])
        .unwrap();
    for i in 0..20 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("20 at /second", LIMIT, || recv.count("/second") == 20).await;
    assert_eq!(recv.bodies("/second"), events(0..20));
    // Every event was tried at the first endpoint first.
    assert_eq!(recv.bodies("/fail"), events(0..20));
    assert_eq!(wh.hook_stats(b"h").unwrap().failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_down_at_first_gets_everything_once_up() {
    let port = free_port();
    let wh = open(config(&temp_dir("late")));
    let url = format!("http://127.0.0.1:{port}/late");
    wh.set_hook(b"h", &[url]).unwrap();
    for i in 0..50 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("a failed round", LIMIT, || {
        wh.hook_stats(b"h").unwrap().failures >= 2
    })
    .await;
    assert_eq!(wh.pending_events(), 50);
    assert!(wh.hook_stats(b"h").unwrap().last_error.is_some());
    let recv = Receiver::start(port).await;
    poll("50 deliveries", LIMIT, || recv.count("/late") == 50).await;
    assert_eq!(recv.bodies("/late"), events(0..50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_the_endpoint_is_down_delivers_each_event_once() {
    let dir = temp_dir("restart");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/r");
    let wh = open(config(&dir));
    wh.set_hook(b"h", std::slice::from_ref(&url)).unwrap();
    for i in 0..200 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("a failed round", LIMIT, || {
        wh.hook_stats(b"h").unwrap().failures >= 1
    })
    .await;
    drop(wh);

    let wh = open(config(&dir));
    // Before the hook is set again its queue waits, counted as pending.
    assert_eq!(wh.pending_events(), 200);
    wh.set_hook(b"h", &[url]).unwrap();
    let recv = Receiver::start(port).await;
    poll("200 deliveries", LIMIT, || recv.count("/r") == 200).await;
    poll("queue drained", LIMIT, || wh.pending_events() == 0).await;
    // More events after the restart continue the sequence.
    wh.enqueue(b"h", event(200).as_bytes());
    poll("201 deliveries", LIMIT, || recv.count("/r") == 201).await;
    // The endpoint has it, but the worker may not have heard the answer
    // yet: a shutdown then sends it again (at least once, by design).
    // Nothing in flight: a clean stop repeats nothing.
    poll("queue drained", LIMIT, || wh.pending_events() == 0).await;
    drop(wh);

    // A third start finds nothing left to send.
    let wh = open(config(&dir));
    assert_eq!(wh.pending_events(), 0);
    wh.set_hook(b"h", &[recv.url("/r")]).unwrap();
    wh.enqueue(b"h", event(201).as_bytes());
    poll("202 deliveries", LIMIT, || recv.count("/r") == 202).await;
    assert_eq!(recv.bodies("/r"), events(0..202));
}

/// Accepts connections and never answers: the worst endpoint (each
/// attempt waits for the timeout).
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_slows_neither_enqueue_nor_other_hooks() {
    let (hole, _task) = black_hole().await;
    let recv = Receiver::start(0).await;
    // A long timeout: the live hook must finish while the dead hook's first
    // attempt still hangs, which shows it never waited for it.
    let mut cfg = config(&temp_dir("isolation"));
    cfg.timeout = Duration::from_secs(15);
    let wh = open(cfg);
    wh.set_hook(b"dead", &[format!("http://127.0.0.1:{hole}/x")])
        .unwrap();
    wh.set_hook(b"live", &[recv.url("/live")]).unwrap();
    let start = Instant::now();
    for i in 0..10_000 {
        wh.enqueue(b"dead", event(i).as_bytes());
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "10k enqueues took {took:?}");
    for i in 0..100 {
        wh.enqueue(b"live", event(i).as_bytes());
    }
    poll("100 live deliveries", LIMIT, || recv.count("/live") == 100).await;
    let dead = wh.hook_stats(b"dead").unwrap();
    assert_eq!(
        dead.failures, 0,
        "the dead hook's first attempt ended first"
    );
    assert_eq!(recv.bodies("/live"), events(0..100));
    assert_eq!(dead.queue_depth, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_drops_the_oldest_and_the_bound_survives_a_restart() {
    let dir = temp_dir("overflow");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/o");
    let mut cfg = config(&dir);
    cfg.max_events = 100;
    let wh = open(cfg.clone());
    wh.set_hook(b"h", std::slice::from_ref(&url)).unwrap();
    for i in 0..1000 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    let s = wh.hook_stats(b"h").unwrap();
    assert_eq!((s.queue_depth, s.dropped), (100, 900));
    drop(wh);

    let wh = open(cfg.clone());
    assert_eq!(wh.pending_events(), 100);
    wh.set_hook(b"h", &[url]).unwrap();
    let recv = Receiver::start(port).await;
    poll("100 deliveries", LIMIT, || recv.count("/o") == 100).await;
    assert_eq!(recv.bodies("/o"), events(900..1000));

    // The byte bound too.
    let mut cfg = config(&temp_dir("overflow-bytes"));
    cfg.max_bytes = 10 * event(0).len();
    let wh = open(cfg);
    wh.set_hook(b"b", &[format!("http://127.0.0.1:{}/b", free_port())])
        .unwrap();
    for i in 0..10 {
        wh.enqueue(b"b", event(i).as_bytes());
    }
    wh.enqueue(b"b", event(10).as_bytes());
    let s = wh.hook_stats(b"b").unwrap();
    assert!(
        s.queue_bytes <= 10 * event(0).len() as u64 && s.dropped >= 1,
        "{s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_expire_after_the_ttl() {
    let mut cfg = config(&temp_dir("ttl"));
    cfg.ttl = Duration::from_millis(300);
    let wh = open(cfg);
    wh.set_hook(b"h", &[format!("http://127.0.0.1:{}/t", free_port())])
        .unwrap();
    for i in 0..10 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("expiry", LIMIT, || {
        wh.hook_stats(b"h").unwrap().expired == 10
    })
    .await;
    assert_eq!(wh.pending_events(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_and_unsupported_endpoints() {
    type Published = Vec<(Vec<u8>, Vec<u8>)>;
    let got: Arc<Mutex<Published>> = Arc::default();
    let sink = got.clone();
    let publish = move |ch: &[u8], msg: &[u8]| sink.lock().push((ch.to_vec(), msg.to_vec()));
    let wh = Webhooks::open(config(&temp_dir("local")), Arc::new(publish)).unwrap();
    wh.set_hook(b"l", &["local://chan"]).unwrap();
    let recv = Receiver::start(0).await;
    wh.set_hook(
        b"k",
        &[
            "kafka://127.0.0.1:1/topic".to_string(),
            recv.url("/after-kafka"),
        ],
    )
    .unwrap();
    for i in 0..5 {
        wh.enqueue(b"l", event(i).as_bytes());
        wh.enqueue(b"k", event(i).as_bytes());
    }
    poll("5 local messages", LIMIT, || got.lock().len() == 5).await;
    let want: Published = (0..5)
        .map(|i| (b"chan".to_vec(), event(i).into_bytes()))
        .collect();
    assert_eq!(*got.lock(), want);
    poll("5 after kafka", LIMIT, || recv.count("/after-kafka") == 5).await;
    assert_eq!(wh.hook_stats(b"k").unwrap().unsupported, 5);
    assert!(wh.set_hook(b"bad", &["kafka://h"]).is_err());
    assert!(wh.hook_stats(b"bad").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_hook_keeps_its_queue_for_a_recreation() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/d");
    let wh = open(config(&temp_dir("delhook")));
    wh.set_hook(b"h", std::slice::from_ref(&url)).unwrap();
    for i in 0..10 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    assert!(wh.del_hook(b"h"));
    assert!(!wh.enqueue(b"h", b"lost"));
    assert_eq!(wh.pending_events(), 10);
    let recv = Receiver::start(port).await;
    wh.set_hook(b"h", &[url]).unwrap();
    poll("10 deliveries", LIMIT, || recv.count("/d") == 10).await;
    assert_eq!(recv.bodies("/d"), events(0..10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_ca() {
    let dir = temp_dir("tls");
    let (tls, ca) = common::receiver::tls_setup(&dir);
    let recv = Receiver::start_tls(tls).await;
    let mut cfg = config(&dir.join("queues"));
    cfg.ca_file = Some(ca);
    let wh = open(cfg);
    wh.set_hook(b"h", &[format!("https://localhost:{}/secure", recv.port)])
        .unwrap();
    for i in 0..10 {
        wh.enqueue(b"h", event(i).as_bytes());
    }
    poll("10 https deliveries", LIMIT, || recv.count("/secure") == 10).await;
    assert_eq!(recv.bodies("/secure"), events(0..10));

    // Without the CA the certificate is refused: nothing is delivered.
    let wh = open(config(&temp_dir("tls-untrusted")));
    wh.set_hook(
        b"u",
        &[format!("https://localhost:{}/untrusted", recv.port)],
    )
    .unwrap();
    wh.enqueue(b"u", b"{}");
    poll("a failed round", LIMIT, || {
        wh.hook_stats(b"u").unwrap().failures >= 1
    })
    .await;
    let err = wh.hook_stats(b"u").unwrap().last_error.unwrap();
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(recv.count("/untrusted"), 0);
}

//! Delivery to real brokers started here: redis-server, nats-server,
//! mosquitto and rabbitmq-server from Debian (`scripts/test.sh` installs
//! them; without them a test says SKIPPED, and fails under CI), and a gRPC
//! server speaking Tile38's `hservice.HookService/Send` over h2 (all in
//! `common/brokers.rs`).

mod common;

use std::time::Duration;

use common::brokers::{
    amqp_take_all, grpc_server, mqtt_subscriber, nats_subscriber, redis_server, redis_subscriber,
    spawn_server, start_mosquitto, start_nats, start_rabbitmq, start_redis,
};
use common::{config, event, events, open, poll, temp_dir};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_publish_in_order_and_reconnect() {
    let Some((server, port)) = start_redis().await else {
        return;
    };
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_publish_in_order() {
    let Some((_server, port)) = start_nats().await else {
        return;
    };
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
    let Some((_server, port)) = start_mosquitto().await else {
        return;
    };
    let (sub, got) = mqtt_subscriber(port, "fleet/events").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_declares_and_publishes_in_order() {
    let Some((_server, port)) = start_rabbitmq(&temp_dir("rabbitmq")).await else {
        return;
    };
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
    let mut got = Vec::new();
    for m in amqp_take_all(port, "fences").await {
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

//! The URLs SETHOOK accepts and refuses (Tile38 1.37's `parseEndpoint`),
//! then the parts and defaults delivery uses.

use super::*;

#[test]
fn accepted() {
    for url in [
        "http://127.0.0.1:1/endpoint",
        "https://example.com/x?y=%zz",
        "grpc://localhost:3333",
        "redis://localhost:6379/channel",
        "disque://localhost:7711/queue?replicate=2",
        "kafka://10.0.0.1:9092,10.0.0.2/topic?auth=none",
        "amqp://guest:guest@localhost:5672/queue",
        "amqps://guest:guest@localhost:5672/ns/queue/?route=x",
        "mqtt://localhost:1883/a/b?qos=1&retained=1",
        "sqs://us-east-1:123456789/queue",
        "https://sqs.eu-central-1.amazonaws.com/123456789/q",
        "pubsub://project:topic",
        "nats://localhost:4222/topic",
        "local://ch",
        "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b;EntityPath=c",
        "cf-queue://account/queue?token=t",
    ] {
        assert!(parse(url.as_bytes()).is_ok(), "{url}");
    }
}

#[test]
fn refused() {
    for url in [
        "",
        "bogus://x",
        "HTTP://x",
        "http:/x",
        "http://",
        "http:///path",
        "grpc://h:p",
        "grpc://h:1:2",
        "redis://h:70000",
        "redis://h/%zz",
        "disque://h",
        "disque://h/q?replicate=300",
        "kafka://h",
        "kafka://h,/t",
        "kafka://h/t?a=%z",
        "kafka://h/t?a;b",
        "amqp://h",
        "amqp://h/",
        "mqtt://h",
        "mqtt://h/t?retained=2",
        "mqtt://h/t?qos=-1",
        "sqs://region/queue",
        "sqs://r:q",
        "https://sqs.x.amazonaws.com/1/q?a=%",
        "pubsub://project",
        "nats://host/topic",
        "Endpoint=sb://x;a=b",
        "cf-queue://account",
        "cf-queue://account/queue",
        "cf-queue://account/queue?token=",
    ] {
        assert!(parse(url.as_bytes()).is_err(), "{url}");
    }
}

fn p(url: &str) -> Endpoint {
    parse(url.as_bytes()).unwrap()
}

#[test]
fn parts_and_defaults() {
    assert_eq!(
        p("redis://h/a%20b?x"),
        Endpoint::Redis {
            host: "h".into(),
            port: 6379,
            channel: b"a b".to_vec()
        }
    );
    assert_eq!(
        p("grpc://h"),
        Endpoint::Grpc {
            host: "h".into(),
            port: 80
        }
    );
    assert_eq!(
        p("local://ch/x"),
        Endpoint::Local {
            channel: b"ch".to_vec()
        }
    );
    assert_eq!(
        p("http://h:1/p?q=1"),
        Endpoint::Http {
            url: "http://h:1/p?q=1".into()
        }
    );
    assert_eq!(p("https://sqs.r.amazonaws.com/1/q").kind(), "sqs");
    assert_eq!(p("kafka://h/t").kind(), "kafka");
    let Endpoint::Mqtt(m) = p("mqtt://h/a/b%2Fc?qos=2&retained=1") else {
        panic!()
    };
    assert_eq!(
        (m.host.as_str(), m.port, m.topic.as_str(), m.qos, m.retained),
        ("h", 1883, "a/b/c", 2, true)
    );
    let Endpoint::Nats(n) = p("nats://h:x/s?user=u&pass=p&jetstream=true") else {
        panic!()
    };
    assert_eq!(
        (
            n.port,
            n.subject.as_str(),
            n.user.as_str(),
            n.pass.as_str(),
            n.jetstream
        ),
        (4222, "s", "u", "p", true)
    );
    let Endpoint::Nats(n) = p("nats://h:99999/s") else {
        panic!()
    };
    assert_eq!(n.port, 0);
}

/// An AMQP endpoint's uri, queue, route and exchange kind.
fn amqp_names(a: &Amqp) -> (&str, &str, &str, &str) {
    (
        a.uri.as_str(),
        a.queue.as_str(),
        a.route.as_str(),
        a.kind.as_str(),
    )
}

#[test]
fn amqp_namespace_and_options() {
    let Endpoint::Amqp(a) = p("amqp://u:p@h:5672/q") else {
        panic!()
    };
    assert_eq!(amqp_names(&a), ("u:p@h:5672", "q", "tile38", "direct"));
    assert!(a.durable && !a.tls && a.delivery_mode == 1);
    let Endpoint::Amqp(a) =
        p("amqps://h/ns/q?route=r&type=topic&durable=0&delivery_mode=2&priority=3&route=x")
    else {
        panic!()
    };
    assert_eq!(amqp_names(&a), ("h/ns", "q", "r", "topic"));
    assert!(!a.durable && a.tls && a.delivery_mode == 2 && a.priority == 3);
    // `host/queue/` keeps the queue and no namespace.
    let Endpoint::Amqp(a) = p("amqp://h/q/") else {
        panic!()
    };
    assert_eq!((a.uri.as_str(), a.queue.as_str()), ("h", "q"));
}

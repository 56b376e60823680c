//! Sending one message to one endpoint. HTTP(S) and gRPC go through
//! shared pooled clients; Redis, NATS, MQTT and AMQP keep one connection
//! per endpoint URL, shared by every hook naming that URL (Tile38's
//! endpoint `Manager` caches connections by URL the same way, and MQTT
//! needs it: every connection uses the client id `tile38`, and a broker
//! drops the older of two connections with one id). A connection unused
//! for 30 s is re-made before its next use, as Tile38 expires its cached
//! connections after 30 s idle. Each kind is behind a cargo feature; with
//! it off its endpoints count as unsupported.

#[cfg(feature = "amqp")]
mod amqp;
#[cfg(feature = "grpc")]
mod grpc;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "mqtt")]
mod mqtt;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "redis")]
mod redis;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::endpoint::Endpoint;
use crate::worker::Ctx;
use crate::Config;

/// Why a send did not deliver.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The endpoint kind is not delivered by this build.
    Unsupported(&'static str),
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for SendError {
    fn from(e: E) -> SendError {
        SendError::Failed(e.to_string())
    }
}

/// An error with its sources (hyper's top-level errors say little:
/// "client error (Connect)").
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> SendError {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    SendError::Failed(text)
}

/// A connection idle this long is re-made before use (Tile38: 30 s).
const IDLE: Duration = Duration::from_secs(30);

/// One kept connection.
enum Conn {
    #[cfg(feature = "redis")]
    Redis(redis::RedisConn),
    #[cfg(feature = "nats")]
    Nats(nats::NatsConn),
    // Boxed: rumqttc's event loop is large and the cache holds one per URL.
    #[cfg(feature = "mqtt")]
    Mqtt(Box<mqtt::MqttConn>),
    #[cfg(feature = "amqp")]
    Amqp(amqp::AmqpConn),
}

impl Conn {
    /// The connection for a connection-keeping endpoint, `None` for the
    /// others (or when its feature is off).
    fn new(endpoint: &Endpoint) -> Option<Conn> {
        match endpoint {
            #[cfg(feature = "redis")]
            Endpoint::Redis {
                host,
                port,
                channel,
            } => Some(Conn::Redis(redis::RedisConn::new(host, *port, channel))),
            #[cfg(feature = "nats")]
            Endpoint::Nats(n) => Some(Conn::Nats(nats::NatsConn::new(n.clone()))),
            #[cfg(feature = "mqtt")]
            Endpoint::Mqtt(m) => Some(Conn::Mqtt(Box::new(mqtt::MqttConn::new(m.clone())))),
            #[cfg(feature = "amqp")]
            Endpoint::Amqp(a) => Some(Conn::Amqp(amqp::AmqpConn::new(a.clone()))),
            _ => None,
        }
    }

    async fn send(&mut self, msg: &Bytes) -> Result<(), SendError> {
        match self {
            #[cfg(feature = "redis")]
            Conn::Redis(c) => c.send(msg).await,
            #[cfg(feature = "nats")]
            Conn::Nats(c) => c.send(msg).await,
            #[cfg(feature = "mqtt")]
            Conn::Mqtt(c) => c.send(msg).await,
            #[cfg(feature = "amqp")]
            Conn::Amqp(c) => c.send(msg).await,
        }
    }

    /// Drops the connection (the next send reconnects).
    fn reset(&mut self) {
        match self {
            #[cfg(feature = "redis")]
            Conn::Redis(c) => c.reset(),
            #[cfg(feature = "nats")]
            Conn::Nats(c) => c.reset(),
            #[cfg(feature = "mqtt")]
            Conn::Mqtt(c) => c.reset(),
            #[cfg(feature = "amqp")]
            Conn::Amqp(c) => c.reset(),
        }
    }
}

struct Cached {
    conn: Conn,
    last_used: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The pooled clients and the connection cache, shared by every hook.
pub(crate) struct Clients {
    #[cfg(feature = "http")]
    http: http::HttpClient,
    #[cfg(feature = "grpc")]
    grpc: grpc::GrpcClient,
    conns: parking_lot::Mutex<HashMap<Vec<u8>, Slot>>,
}

impl Clients {
    pub fn new(config: &Config) -> std::io::Result<Clients> {
        let _ = config;
        Ok(Clients {
            #[cfg(feature = "http")]
            http: http::HttpClient::new(config.ca_file.as_deref())?,
            #[cfg(feature = "grpc")]
            grpc: grpc::GrpcClient::new(),
            conns: parking_lot::Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, url: &[u8]) -> Slot {
        self.conns.lock().entry(url.to_vec()).or_default().clone()
    }
}

/// One endpoint of one hook.
pub(crate) struct Target {
    pub url: Vec<u8>,
    endpoint: Endpoint,
    /// The "not delivered by this build" line was logged.
    pub warned: bool,
}

impl Target {
    pub fn new(url: Vec<u8>, endpoint: Endpoint) -> Target {
        Target {
            url,
            endpoint,
            warned: false,
        }
    }

    /// One attempt, bounded by the configured timeout.
    pub async fn send(&mut self, ctx: &Ctx, msg: &Bytes) -> Result<(), SendError> {
        let timeout = ctx.timeout;
        let timed = |r: Result<Result<(), SendError>, _>| match r {
            Ok(r) => r,
            Err(_) => Err(SendError::Failed(format!("timed out after {timeout:?}"))),
        };
        match &self.endpoint {
            Endpoint::Local { channel } => {
                ctx.local.publish(channel, msg);
                Ok(())
            }
            #[cfg(feature = "http")]
            Endpoint::Http { url } => {
                timed(tokio::time::timeout(timeout, ctx.clients.http.post(url, msg)).await)
            }
            #[cfg(feature = "grpc")]
            Endpoint::Grpc { host, port } => {
                timed(tokio::time::timeout(timeout, ctx.clients.grpc.send(host, *port, msg)).await)
            }
            Endpoint::Unsupported { kind } => Err(SendError::Unsupported(kind)),
            other => match Conn::new(other) {
                Some(conn) => self.send_kept(ctx, conn, msg).await,
                None => Err(SendError::Unsupported(other.kind())),
            },
        }
    }

    /// A send on the URL's kept connection (made with `fresh` when there
    /// is none or it idled out). The lock is taken outside the timeout so
    /// a send cut short by it always resets the connection.
    async fn send_kept(&self, ctx: &Ctx, fresh: Conn, msg: &Bytes) -> Result<(), SendError> {
        let slot = ctx.clients.slot(&self.url);
        let mut guard = slot.lock().await;
        if guard.as_ref().is_none_or(|c| c.last_used.elapsed() >= IDLE) {
            *guard = Some(Cached {
                conn: fresh,
                last_used: Instant::now(),
            });
        }
        let cached = guard.as_mut().unwrap();
        cached.last_used = Instant::now();
        let r = match tokio::time::timeout(ctx.timeout, cached.conn.send(msg)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Failed(format!(
                "timed out after {:?}",
                ctx.timeout
            ))),
        };
        if r.is_err() {
            cached.conn.reset();
        }
        r
    }
}

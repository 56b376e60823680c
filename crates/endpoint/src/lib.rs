//! Endpoint URLs cut into the parts delivery needs: a port of Tile38's
//! `endpoint.parseEndpoint` (`internal/endpoint/endpoint.go`), with the same
//! refusals and defaults (spec §9.1).
//!
//! ```text
//! http://… https://… grpc://host[:80] redis://host[:6379][/channel]
//! disque://host[:7711]/queue[?replicate=n] kafka://broker[,broker…]/topic[?…]
//! amqp(s)://[user:pass@]host[:port]/[vhost/]queue[?route=&type=&durable=…]
//! mqtt://host[:1883]/topic[/…][?qos=n&retained=0|1&cacert=&cert=&key=]
//! nats://host:port[/subject][?user=&pass=&token=&tls=&jetstream=…]
//! sqs://region:queueid/queue[?…] (or https://sqs.<region>.amazonaws.com/…)
//! pubsub://project:topic[?…] local://channel cf-queue://account/queue?token=…
//! Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…
//! ```
//!
//! Tile38 works on Go strings (bytes), so this does too; splits and
//! prefixes are byte-exact and case-sensitive like Go's `strings` calls.
//! One grammar for both users: the engine's SETHOOK asks only for the
//! verdict ([`is_valid`]: every refusal answers `invalid argument
//! '<url>'`), the webhook delivery crate for the parts. No I/O, no
//! dependencies.

mod kinds;
mod query;

pub use query::trim_space;

pub use kinds::{Amqp, Mqtt, Nats};
use query::{first, parse_uint, text, unescape, Pairs};

/// One endpoint of a hook, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `local://channel`: published by the server to its own subscribers
    /// (through the queue, like Tile38), not sent anywhere.
    Local {
        channel: Vec<u8>,
    },
    /// `http(s)://…`: POST to the URL as given, query included.
    Http {
        url: String,
    },
    /// `grpc://host[:port]`: `HookService.Send`, plaintext HTTP/2.
    Grpc {
        host: String,
        port: u16,
    },
    /// `redis://host[:port]/channel`: `PUBLISH channel message`.
    Redis {
        host: String,
        port: u16,
        channel: Vec<u8>,
    },
    Mqtt(Mqtt),
    Amqp(Amqp),
    Nats(Nats),
    /// Accepted (SETHOOK validates it) but not delivered by this build:
    /// Disque, Kafka, SQS, Google Pub/Sub, Azure Event Hub, Cloudflare
    /// Queues. `kind` names the scheme for logs and stats.
    Unsupported {
        kind: &'static str,
    },
}

impl Endpoint {
    /// The scheme's name, for logs and stats.
    pub fn kind(&self) -> &'static str {
        match self {
            Endpoint::Local { .. } => "local",
            Endpoint::Http { .. } => "http",
            Endpoint::Grpc { .. } => "grpc",
            Endpoint::Redis { .. } => "redis",
            Endpoint::Mqtt(_) => "mqtt",
            Endpoint::Amqp(_) => "amqp",
            Endpoint::Nats(_) => "nats",
            Endpoint::Unsupported { kind } => kind,
        }
    }
}

/// Why a URL is refused (SETHOOK answers `invalid argument '<url>'` for
/// any of them; the text is for logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidEndpoint(pub &'static str);

impl std::fmt::Display for InvalidEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidEndpoint {}

pub(crate) type Result<T> = std::result::Result<T, InvalidEndpoint>;

pub(crate) fn bad<T>(why: &'static str) -> Result<T> {
    Err(InvalidEndpoint(why))
}

/// Scheme prefixes in Tile38's order (the first match wins).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Local,
    Http,
    Disque,
    Grpc,
    Redis,
    Kafka,
    Amqp,
    Mqtt,
    PubSub,
    Sqs,
    Nats,
    EventHub,
    CfQueue,
}

const SCHEMES: [(&[u8], Scheme); 15] = [
    (b"local:", Scheme::Local),
    (b"http:", Scheme::Http),
    (b"https:", Scheme::Http),
    (b"disque:", Scheme::Disque),
    (b"grpc:", Scheme::Grpc),
    (b"redis:", Scheme::Redis),
    (b"kafka:", Scheme::Kafka),
    (b"amqp:", Scheme::Amqp),
    (b"amqps:", Scheme::Amqp),
    (b"mqtt:", Scheme::Mqtt),
    (b"pubsub:", Scheme::PubSub),
    (b"sqs:", Scheme::Sqs),
    (b"nats:", Scheme::Nats),
    (b"Endpoint=", Scheme::EventHub),
    (b"cf-queue:", Scheme::CfQueue),
];

/// A URL cut as Tile38 cuts it: the path parts after `//` (the host
/// first) and the query.
pub(crate) struct Parts<'a> {
    pub url: &'a [u8],
    /// `strings.Split(rest, "/")` of the part before the first `?`.
    pub sp: Vec<&'a [u8]>,
    pub query: Option<&'a [u8]>,
}

impl<'a> Parts<'a> {
    pub fn host(&self) -> &'a [u8] {
        self.sp[0]
    }

    pub fn query_pairs(&self) -> Result<Pairs> {
        match self.query {
            Some(q) => query::parse_query(q).ok_or(InvalidEndpoint("invalid query")),
            None => Ok(Vec::new()),
        }
    }

    /// The unescaped path part `i` (empty when missing).
    pub fn path_part(&self, i: usize) -> Result<Vec<u8>> {
        match self.sp.get(i) {
            Some(p) => unescape(p).ok_or(InvalidEndpoint("invalid path escape")),
            None => Ok(Vec::new()),
        }
    }
}

pub(crate) fn split(s: &[u8], sep: u8) -> Vec<&[u8]> {
    s.split(|&b| b == sep).collect()
}

/// `host` or `host:port` (a 16-bit port), `default` when none is given.
pub(crate) fn host_port(host: &[u8], default: u16) -> Result<(String, u16)> {
    match split(host, b':').as_slice() {
        [h] => Ok((text(h), default)),
        [h, port] => match parse_uint(port, 16) {
            Some(p) => Ok((text(h), p as u16)),
            None => bad("invalid port"),
        },
        _ => bad("invalid host"),
    }
}

/// Parses one endpoint URL as Tile38's SETHOOK does.
pub fn parse(url: &[u8]) -> Result<Endpoint> {
    let mut scheme = SCHEMES
        .iter()
        .find(|(prefix, _)| url.starts_with(prefix))
        .map(|(_, p)| *p)
        .ok_or(InvalidEndpoint("unknown scheme"))?;
    let plain_sqs = scheme == Scheme::Http
        && url.starts_with(b"https://sqs.")
        && url.windows(15).any(|w| w == b".amazonaws.com/");
    if plain_sqs {
        scheme = Scheme::Sqs;
    }
    // Everything after the first ':' (the whole text when there is none).
    let rest = match url.iter().position(|&b| b == b':') {
        Some(i) => &url[i + 1..],
        None => url,
    };
    let rest = rest
        .strip_prefix(b"//")
        .ok_or(InvalidEndpoint("missing the two slashes"))?;
    // Go: `strings.Split(s, "?")`; only the text up to a second '?' counts.
    let sqp = split(rest, b'?');
    let p = Parts {
        url,
        sp: split(sqp[0], b'/'),
        query: sqp.get(1).copied(),
    };
    if p.host().is_empty() {
        return bad("missing host");
    }
    by_scheme(scheme, plain_sqs, &p)
}

/// `parseEndpoint`'s per-scheme checks and fields.
fn by_scheme(scheme: Scheme, plain_sqs: bool, p: &Parts) -> Result<Endpoint> {
    let host = p.host();
    Ok(match scheme {
        Scheme::Local => Endpoint::Local {
            channel: host.to_vec(),
        },
        Scheme::Http => Endpoint::Http { url: text(p.url) },
        Scheme::Grpc => {
            let (host, port) = host_port(host, 80)?;
            Endpoint::Grpc { host, port }
        }
        Scheme::Redis => {
            let (host, port) = host_port(host, 6379)?;
            let channel = p.path_part(1)?;
            Endpoint::Redis {
                host,
                port,
                channel,
            }
        }
        Scheme::Disque => {
            host_port(host, 7711)?;
            let queue = p.path_part(1)?;
            if let Some(r) = first(&p.query_pairs()?, b"replicate") {
                parse_uint(r, 8).ok_or(InvalidEndpoint("invalid replicate"))?;
            }
            non_empty(&queue, "missing disque queue name")?;
            Endpoint::Unsupported { kind: "disque" }
        }
        Scheme::Kafka => kinds::check_kafka(p)?,
        Scheme::Mqtt => Endpoint::Mqtt(kinds::mqtt(p)?),
        Scheme::Amqp => Endpoint::Amqp(kinds::amqp(p)?),
        Scheme::Nats => Endpoint::Nats(kinds::nats(p)?),
        Scheme::Sqs => kinds::check_sqs(p, plain_sqs)?,
        Scheme::PubSub => {
            if split(host, b':').len() != 2 {
                return bad("invalid pubsub url");
            }
            p.query_pairs()?;
            Endpoint::Unsupported { kind: "pubsub" }
        }
        Scheme::EventHub => kinds::check_event_hub(p.url)?,
        Scheme::CfQueue => kinds::check_cf_queue(p)?,
    })
}

pub(crate) fn non_empty(s: &[u8], why: &'static str) -> Result<()> {
    if s.is_empty() {
        bad(why)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// Whether SETHOOK accepts `url` (Tile38 refuses the hook otherwise).
pub fn is_valid(url: &[u8]) -> bool {
    parse(url).is_ok()
}

//! The schemes with options (MQTT, AMQP, NATS) and the checks of the
//! schemes this build accepts but does not deliver to; each follows its
//! block of Tile38's `parseEndpoint`, defaults included.

use super::query::{atoi, first, parse_uint, query_bool, query_u8, text, trim_space, unescape};
use super::{bad, host_port, non_empty, split, Endpoint, InvalidEndpoint, Parts, Result};

/// `mqtt://host[:1883]/topic/parts?qos=&retained=&cacert=&cert=&key=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mqtt {
    pub host: String,
    pub port: u16,
    /// The unescaped path parts joined with `/`.
    pub topic: String,
    pub qos: u8,
    pub retained: bool,
    /// TLS files; Tile38 connects over TLS when any is set.
    pub ca_cert: String,
    pub cert: String,
    pub key: String,
}

/// `amqp(s)://[user:pass@]host[:port]/[vhost/]queue?…` with Tile38's
/// defaults: type `direct`, durable, route `tile38`, transient delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amqp {
    /// What follows `//` up to the queue: credentials, host, port and the
    /// vhost when one is given (Tile38 dials `amqp(s)://<uri>`).
    pub uri: String,
    pub tls: bool,
    /// The queue, which also names the exchange.
    pub queue: String,
    pub route: String,
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub no_wait: bool,
    pub mandatory: bool,
    pub immediate: bool,
    /// 1 transient (Tile38's default), 2 persistent.
    pub delivery_mode: u8,
    pub priority: u8,
}

/// `nats://host:port[/subject]?user=&pass=&token=&tls=&jetstream=…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nats {
    pub host: String,
    /// Tile38 uses 4222 when the port does not parse (`strconv.Atoi`); a
    /// parsed one out of range is kept as 0, which cannot be dialled.
    pub port: u16,
    pub subject: String,
    pub user: String,
    pub pass: String,
    pub token: String,
    pub tls: bool,
    pub jetstream: bool,
    /// `credential=`, `tlscert=`, `tlskey=`: files Tile38 would load.
    pub credential: String,
    pub tls_cert: String,
    pub tls_key: String,
}

pub(super) fn mqtt(p: &Parts) -> Result<Mqtt> {
    let (host, port) = host_port(p.host(), 1883)?;
    let mut topic = Vec::new();
    for (n, part) in p.sp.iter().enumerate().skip(1) {
        if n > 1 {
            topic.push(b'/');
        }
        topic.extend(unescape(part).ok_or(InvalidEndpoint("invalid MQTT topic name"))?);
    }
    let pairs = p.query_pairs()?;
    let mut m = Mqtt {
        host,
        port,
        topic: text(&topic),
        qos: 0,
        retained: false,
        ca_cert: String::new(),
        cert: String::new(),
        key: String::new(),
    };
    if let Some(q) = first(&pairs, b"qos") {
        m.qos = parse_uint(q, 8).ok_or(InvalidEndpoint("invalid MQTT qos value"))? as u8;
    }
    if let Some(r) = first(&pairs, b"retained") {
        match parse_uint(r, 8) {
            Some(0) => {}
            Some(1) => m.retained = true,
            _ => return bad("invalid MQTT retained value"),
        }
    }
    let get = |k: &[u8]| first(&pairs, k).map(text).unwrap_or_default();
    m.ca_cert = get(b"cacert");
    m.cert = get(b"cert");
    m.key = get(b"key");
    non_empty(&topic, "missing MQTT topic name")?;
    Ok(m)
}

pub(super) fn amqp(p: &Parts) -> Result<Amqp> {
    let mut uri = text(p.host());
    // `host/namespace/queue` (but not `host/queue/`): the namespace joins
    // the URI as the vhost and the queue is the part after it.
    let queue = match p.sp.get(2) {
        Some(q) if !q.is_empty() => {
            uri.push('/');
            uri.push_str(&text(p.sp[1]));
            unescape(q)
        }
        _ => Some(p.path_part(1)?),
    }
    .ok_or(InvalidEndpoint("invalid AMQP queue name"))?;
    let mut a = Amqp {
        uri,
        tls: p.url.starts_with(b"amqps:"),
        queue: text(&queue),
        route: String::new(),
        kind: "direct".into(),
        durable: true,
        auto_delete: false,
        internal: false,
        no_wait: false,
        mandatory: false,
        immediate: false,
        delivery_mode: 1,
        priority: 0,
    };
    amqp_options(&mut a, &p.query_pairs()?);
    non_empty(&queue, "missing AMQP queue name")?;
    if a.route.is_empty() {
        a.route = "tile38".into();
    }
    Ok(a)
}

fn amqp_options(a: &mut Amqp, pairs: &[(Vec<u8>, Vec<u8>)]) {
    // Go ranges over a map of first values; the order does not matter as
    // each key sets its own field.
    let mut seen: Vec<&[u8]> = Vec::new();
    for (k, v) in pairs {
        if seen.contains(&k.as_slice()) {
            continue;
        }
        seen.push(k);
        match k.as_slice() {
            b"route" => a.route = text(v),
            b"type" => a.kind = text(v),
            b"durable" => a.durable = query_bool(v),
            b"internal" => a.internal = query_bool(v),
            b"no_wait" => a.no_wait = query_bool(v),
            b"auto_delete" => a.auto_delete = query_bool(v),
            b"immediate" => a.immediate = query_bool(v),
            b"mandatory" => a.mandatory = query_bool(v),
            b"delivery_mode" => a.delivery_mode = query_u8(v),
            b"priority" => a.priority = query_u8(v),
            _ => {}
        }
    }
}

pub(super) fn nats(p: &Parts) -> Result<Nats> {
    let hp = split(p.host(), b':');
    if hp.len() != 2 {
        return bad("invalid NATS url");
    }
    let port = match atoi(hp[1]) {
        None => 4222,
        Some(n) => u16::try_from(n).unwrap_or(0),
    };
    let subject = p.path_part(1)?;
    let pairs = p.query_pairs()?;
    let get = |k: &[u8]| first(&pairs, k).map(text).unwrap_or_default();
    let flag = |k: &[u8]| first(&pairs, k).is_some_and(query_bool);
    Ok(Nats {
        host: text(hp[0]),
        port,
        subject: text(&subject),
        user: get(b"user"),
        pass: get(b"pass"),
        token: get(b"token"),
        tls: flag(b"tls"),
        jetstream: flag(b"jetstream"),
        credential: get(b"credential"),
        tls_cert: get(b"tlscert"),
        tls_key: get(b"tlskey"),
    })
}

pub(super) fn check_kafka(p: &Parts) -> Result<Endpoint> {
    for broker in split(p.host(), b',') {
        let broker = trim_space(broker);
        non_empty(broker, "invalid kafka url")?;
        host_port(broker, 9092)?;
    }
    non_empty(&p.path_part(1)?, "missing kafka topic name")?;
    p.query_pairs()?;
    Ok(Endpoint::Unsupported { kind: "kafka" })
}

pub(super) fn check_sqs(p: &Parts, plain: bool) -> Result<Endpoint> {
    if !plain && (split(p.host(), b':').len() != 2 || p.path_part(1)?.is_empty()) {
        return bad("invalid SQS url");
    }
    p.query_pairs()?;
    Ok(Endpoint::Unsupported { kind: "sqs" })
}

pub(super) fn check_event_hub(url: &[u8]) -> Result<Endpoint> {
    let dp = split(url, b';');
    let name_is = |part: &[u8], want: &[u8]| split(part, b'=')[0] == want;
    let ok = dp.len() == 4
        && name_is(dp[1], b"SharedAccessKeyName")
        && name_is(dp[2], b"SharedAccessKey")
        && name_is(dp[3], b"EntityPath");
    if !ok {
        return bad("malformed EventHub connection string");
    }
    Ok(Endpoint::Unsupported { kind: "eventhub" })
}

pub(super) fn check_cf_queue(p: &Parts) -> Result<Endpoint> {
    if p.sp.len() < 2 || p.sp[1].is_empty() {
        return bad("invalid CF Queue url");
    }
    if first(&p.query_pairs()?, b"token").is_none_or(<[u8]>::is_empty) {
        return bad("missing CF Queue API token");
    }
    Ok(Endpoint::Unsupported { kind: "cf-queue" })
}

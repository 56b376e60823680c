//! Which webhook endpoint URLs `SETHOOK` accepts: a port of Tile38's
//! `endpoint.parseEndpoint` checks (`internal/endpoint/endpoint.go`). Only
//! the verdict matters (every refusal answers `invalid argument '<url>'`),
//! so nothing is kept of the parsed parts.
//!
//! ```text
//! http://… https://… grpc://host[:port] redis://host[:port][/channel]
//! disque://host[:port]/queue[?replicate=n] kafka://broker[,broker…]/topic[?…]
//! amqp(s)://…/[namespace/]queue[?…] mqtt://host[:port]/topic[/…][?qos=n&retained=0|1]
//! sqs://region:queueid/queue[?…] (or https://sqs.<region>.amazonaws.com/…)
//! pubsub://project:topic[?…] nats://host:port[/topic][?…] local://channel
//! Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…;EntityPath=…
//! cf-queue://account/queue?token=…
//! ```
//!
//! Tile38 works on Go strings (bytes), so this does too; splits and
//! prefixes are byte-exact and case-sensitive like Go's `strings` calls.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Local,
    Http,
    PlainSqs,
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

/// Scheme prefixes in Tile38's order (the first match wins).
const SCHEMES: [(&[u8], Proto); 15] = [
    (b"local:", Proto::Local),
    (b"http:", Proto::Http),
    (b"https:", Proto::Http),
    (b"disque:", Proto::Disque),
    (b"grpc:", Proto::Grpc),
    (b"redis:", Proto::Redis),
    (b"kafka:", Proto::Kafka),
    (b"amqp:", Proto::Amqp),
    (b"amqps:", Proto::Amqp),
    (b"mqtt:", Proto::Mqtt),
    (b"pubsub:", Proto::PubSub),
    (b"sqs:", Proto::Sqs),
    (b"nats:", Proto::Nats),
    (b"Endpoint=", Proto::EventHub),
    (b"cf-queue:", Proto::CfQueue),
];

/// Whether Tile38 would accept `url` as a hook endpoint.
pub fn is_valid(url: &[u8]) -> bool {
    check(url).is_some()
}

fn split(s: &[u8], sep: u8) -> Vec<&[u8]> {
    s.split(|&b| b == sep).collect()
}

fn find(s: &[u8], needle: &[u8]) -> bool {
    s.windows(needle.len()).any(|w| w == needle)
}

/// Go's `strconv.ParseUint(s, 10, bits)`: digits only, no sign.
fn parse_uint(s: &[u8], bits: u32) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (bits >= 64 || v < (1u64 << bits)).then_some(v)
}

/// `host` or `host:port` with a 16-bit port.
fn host_port(host: &[u8]) -> Option<()> {
    match split(host, b':').as_slice() {
        [_] => Some(()),
        [_, port] => parse_uint(port, 16).map(|_| ()),
        _ => None,
    }
}

/// Go's `url.QueryUnescape`: `%XX` escapes and `+` as space.
pub fn unescape(s: &[u8]) -> Option<Vec<u8>> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let hi = hex(*s.get(i + 1)?)?;
                let lo = hex(*s.get(i + 2)?)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Go's `url.ParseQuery`: `(key, value)` pairs in order, `None` on a bad
/// escape or a `;` in a pair (Go reports the error after parsing the rest).
fn parse_query(q: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut pairs = Vec::new();
    let mut ok = true;
    for part in q.split(|&b| b == b'&') {
        if part.contains(&b';') {
            ok = false;
            continue;
        }
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &part[part.len()..]),
        };
        match (unescape(k), unescape(v)) {
            (Some(k), Some(v)) => pairs.push((k, v)),
            _ => ok = false,
        }
    }
    ok.then_some(pairs)
}

/// The first value given for `key` (what Tile38 reads as `val[0]`).
fn first<'a>(pairs: &'a [(Vec<u8>, Vec<u8>)], key: &[u8]) -> Option<&'a [u8]> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// A URL cut as Tile38 cuts it: the path parts after `//` (the host
/// first) and the query.
struct Parts<'a> {
    url: &'a [u8],
    /// `strings.Split(rest, "/")` of the part before the first `?`.
    sp: Vec<&'a [u8]>,
    query: Option<&'a [u8]>,
}

impl<'a> Parts<'a> {
    fn host(&self) -> &'a [u8] {
        self.sp[0]
    }

    fn query_pairs(&self) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        match self.query {
            Some(q) => parse_query(q),
            None => Some(Vec::new()),
        }
    }

    /// The unescaped path part `i` (empty when missing).
    fn path_part(&self, i: usize) -> Option<Vec<u8>> {
        match self.sp.get(i) {
            Some(p) => unescape(p),
            None => Some(Vec::new()),
        }
    }
}

/// `Some(())` when valid; each `?` is one of Tile38's refusals.
fn check(url: &[u8]) -> Option<()> {
    let mut proto = SCHEMES
        .iter()
        .find(|(prefix, _)| url.starts_with(prefix))
        .map(|(_, p)| *p)?;
    if proto == Proto::Http && url.starts_with(b"https://sqs.") && find(url, b".amazonaws.com/") {
        proto = Proto::PlainSqs;
    }
    // Everything after the first ':' (the whole text when there is none).
    let rest = match url.iter().position(|&b| b == b':') {
        Some(i) => &url[i + 1..],
        None => url,
    };
    let rest = rest.strip_prefix(b"//")?;
    // Go: `strings.Split(s, "?")`; only the text up to a second '?' counts.
    let sqp = split(rest, b'?');
    let parts = Parts {
        url,
        sp: split(sqp[0], b'/'),
        query: sqp.get(1).copied(),
    };
    if parts.host().is_empty() {
        return None;
    }
    check_proto(proto, &parts)
}

/// The checks of one scheme (`parseEndpoint`'s switch).
fn check_proto(proto: Proto, p: &Parts) -> Option<()> {
    let host = p.host();
    match proto {
        Proto::Local | Proto::Http => {}
        Proto::Grpc => host_port(host)?,
        Proto::Redis => {
            host_port(host)?;
            p.path_part(1)?;
        }
        Proto::Disque => {
            host_port(host)?;
            let queue = p.path_part(1)?;
            if let Some(r) = first(&p.query_pairs()?, b"replicate") {
                parse_uint(r, 8)?;
            }
            non_empty(&queue)?;
        }
        Proto::Kafka => check_kafka(p)?,
        Proto::Mqtt => check_mqtt(p)?,
        Proto::Sqs => {
            if split(host, b':').len() != 2 || p.path_part(1)?.is_empty() {
                return None;
            }
            p.query_pairs()?;
        }
        Proto::PlainSqs => {
            p.query_pairs()?;
        }
        Proto::PubSub => {
            if split(host, b':').len() != 2 {
                return None;
            }
            p.query_pairs()?;
        }
        Proto::Amqp => {
            // `host/namespace/queue` names the queue after the namespace.
            let queue = match p.sp.get(2) {
                Some(q) if !q.is_empty() => unescape(q)?,
                _ => p.path_part(1)?,
            };
            p.query_pairs()?;
            non_empty(&queue)?;
        }
        Proto::Nats => {
            if split(host, b':').len() != 2 {
                return None;
            }
            p.path_part(1)?;
            p.query_pairs()?;
        }
        Proto::EventHub => check_event_hub(p.url)?,
        Proto::CfQueue => {
            if p.sp.len() < 2 || p.sp[1].is_empty() {
                return None;
            }
            if first(&p.query_pairs()?, b"token").is_none_or(<[u8]>::is_empty) {
                return None;
            }
        }
    }
    Some(())
}

fn non_empty(s: &[u8]) -> Option<()> {
    (!s.is_empty()).then_some(())
}

fn check_kafka(p: &Parts) -> Option<()> {
    for broker in split(p.host(), b',') {
        let broker = trim_space(broker);
        non_empty(broker)?;
        host_port(broker)?;
    }
    non_empty(&p.path_part(1)?)?;
    p.query_pairs()?;
    Some(())
}

fn check_mqtt(p: &Parts) -> Option<()> {
    host_port(p.host())?;
    let mut topic = Vec::new();
    for (n, part) in p.sp.iter().enumerate().skip(1) {
        if n > 1 {
            topic.push(b'/');
        }
        topic.extend(unescape(part)?);
    }
    let pairs = p.query_pairs()?;
    if let Some(q) = first(&pairs, b"qos") {
        parse_uint(q, 8)?;
    }
    if let Some(r) = first(&pairs, b"retained") {
        if parse_uint(r, 8)? > 1 {
            return None;
        }
    }
    non_empty(&topic)
}

fn check_event_hub(url: &[u8]) -> Option<()> {
    let dp = split(url, b';');
    let name_is = |part: &[u8], want: &[u8]| split(part, b'=')[0] == want;
    let ok = dp.len() == 4
        && name_is(dp[1], b"SharedAccessKeyName")
        && name_is(dp[2], b"SharedAccessKey")
        && name_is(dp[3], b"EntityPath");
    ok.then_some(())
}

/// Go's `strings.TrimSpace` for ASCII text.
pub fn trim_space(s: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let start = s.iter().position(|b| !space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !space(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::is_valid;

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
            assert!(is_valid(url.as_bytes()), "{url}");
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
            assert!(!is_valid(url.as_bytes()), "{url}");
        }
    }
}

//! Input strategies for `framing_props.rs`: bytes biased towards what
//! drives the framing state machines, protocol-looking fragments, long
//! seeded inputs, limits, and commands to encode.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tile38_proto::Limits;

/// Bytes that drive the framing state machines.
const SPECIAL: &[u8] = b"*$\r\n0123456789 \"'\\-+%{}GPOTHS";

pub fn biased_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => any::<u8>(),
        5 => select(SPECIAL),
    ]
}

/// Fragments that look like real protocol elements.
const SNIPPETS: &[&[u8]] = &[
    b"*",
    b"$",
    b"\r\n",
    b"\n",
    b"\r",
    b"*1\r\n",
    b"*2\r\n",
    b"*0\r\n",
    b"*-1\r\n",
    b"$0\r\n\r\n",
    b"$3\r\n",
    b"$4\r\nPING\r\n",
    b"$-1\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n",
    b"$12 ",
    b"$5 PING\r\n",
    b"$4 ",
    b"GET / HTTP/1.1\r\n",
    b"GET /PING HTTP/1.1\r\n",
    b"GET /SET+fleet+truck1+POINT+33+-112 HTTP/1.1\r\n",
    b"POST / HTTP/1.1\r\n",
    b"OPTIONS / HTTP/1.1\r\n",
    b"PUT / HTTP/1.1\r\n",
    b"GET /%zz HTTP/1.1\r\n",
    b" HTTP/1.1\r\n",
    b"Content-Length: 4\r\n",
    b"Content-Length: ",
    b"Content-Length: 99999999999999999999\r\n",
    b"Upgrade: websocket\r\n",
    b"Sec-WebSocket-Version: 13\r\n",
    b"Sec-WebSocket-Key: abc\r\n",
    b"Authorization: pw\r\n",
    b"\r\n\r\n",
    b"PING\r\n",
    b"SET k i STRING \"a b\"\r\n",
    b"\"",
    b"'",
    b"\\",
    b"\\x",
    b"{\"type\":\"Point\"}",
    b"%",
    b"%2B",
    b"+",
    b"999999999999999999999",
    b"-",
];

fn chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(SNIPPETS).prop_map(<[u8]>::to_vec),
        2 => vec(biased_byte(), 0..24),
        1 => any::<u32>().prop_map(|n| n.to_string().into_bytes()),
        1 => (0u32..64).prop_map(|n| n.to_string().into_bytes()),
    ]
}

/// `len` pseudo-random bytes from `seed` (xorshift): long inputs without
/// one proptest value tree per byte, which is what makes debug runs slow.
/// `bias` in 0..=8: how often (in eighths) a byte is drawn from
/// [`SPECIAL`]; with a 1-in-64 chance a whole [`SNIPPETS`] entry is inserted.
fn seeded_bytes(seed: u64, len: usize, bias: u8) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let r = next();
        if r % 64 == 0 {
            out.extend_from_slice(SNIPPETS[(r >> 8) as usize % SNIPPETS.len()]);
        } else if ((r >> 8) % 8) < bias as u64 {
            out.push(SPECIAL[(r >> 16) as usize % SPECIAL.len()]);
        } else {
            out.push((r >> 24) as u8);
        }
    }
    out.truncate(len);
    out
}

/// Arbitrary input for the parser: uniform bytes, biased bytes, or a
/// concatenation of protocol-looking fragments. Short inputs shrink well;
/// long ones (up to 4 KiB) come from a seed.
pub fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..256),
        2 => vec(biased_byte(), 0..256),
        4 => vec(chunk(), 0..48).prop_map(|cs| cs.concat()),
        3 => (any::<u64>(), 0usize..4096, 0u8..=8)
            .prop_map(|(seed, len, bias)| seeded_bytes(seed, len, bias)),
    ]
}

/// Default limits most of the time; tiny ones to reach the limit branches.
pub fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        3 => Just(Limits::default()),
        1 => (0usize..64, 0usize..8, 0usize..64).prop_map(|(max_bulk, max_args, max_inline)| {
            Limits { max_bulk, max_args, max_inline }
        }),
    ]
}

/// One argument: often short, with CRLF, quotes, spaces and non-UTF-8.
fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(biased_byte(), 0..24),
        2 => vec(any::<u8>(), 0..64),
        1 => Just(Vec::new()),
        1 => Just(b"\r\n".to_vec()),
        1 => (any::<u64>(), 0usize..600, 0u8..=8)
            .prop_map(|(seed, len, bias)| seeded_bytes(seed, len, bias)),
    ]
}

pub fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(arg(), 1..20)
}

/// Smaller commands for the quadratic every-split-point checks.
pub fn small_command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(biased_byte(), 0..12), 1..6)
}

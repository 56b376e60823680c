//! Property tests for the wire framing and the shared text formatting.
//!
//! * (a) `parse_next` never panics on arbitrary (and adversarially biased)
//!   bytes, always makes progress, and gives the same frames however the
//!   stream is chunked, also when `parse_resume` carries its progress
//!   across the chunks;
//! * (b) RESP command encoding round-trips through `parse_next`, alone and
//!   pipelined;
//! * (c) every strict prefix of a valid stream asks for more bytes instead of
//!   failing, whatever the split point;
//! * (d) telnet lines round-trip (bare tokens and quoted/escaped tokens);
//! * (e) `write_f64` is exact, shortest and exponent-free (and, in an
//!   ignored test, spelled exactly like Go, exact ties included);
//! * (f) `write_json_str` emits valid JSON decoding to the lossy UTF-8 input;
//! * (g) `write_duration` prints a Go duration that parses back exactly.
//!
//! Case counts are set per block so the whole file stays well under ten
//! seconds in a debug build.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tile38_proto::fmt::{write_duration, write_f64, write_json_str};
use tile38_proto::request::{parse_resume, Progress};
use tile38_proto::{parse_next, resp, Args, Frame, Framing, Limits, ProtoError};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// (method, authorization, websocket key) of an HTTP frame.
type HttpInfo = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// Everything observable about one parsed frame.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed {
    framing: Framing,
    consumed: usize,
    args: Vec<Vec<u8>>,
    http: Option<HttpInfo>,
}

/// How a connection loop over a buffer stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    /// `Ok(None)` with this many bytes consumed so far.
    NeedMore(usize),
    /// A protocol error after this many bytes were consumed.
    Error(ProtoError, usize),
}

/// Parses one frame of `buf`, checking the universal invariants.
fn parse_one(buf: &[u8], args: &mut Args, limits: &Limits) -> Result<Option<Parsed>, ProtoError> {
    let Some(frame) = parse_next(buf, args, limits)? else {
        return Ok(None);
    };
    assert!(frame.consumed > 0, "frame consumed 0 bytes of {buf:?}");
    assert!(
        frame.consumed <= buf.len(),
        "frame consumed {} of {} bytes",
        frame.consumed,
        buf.len()
    );
    Ok(Some(parsed(frame, args)))
}

/// What is observable of `frame`, whose arguments are in `args`.
fn parsed(frame: Frame, args: &Args) -> Parsed {
    Parsed {
        framing: frame.framing,
        consumed: frame.consumed,
        args: args.iter().map(<[u8]>::to_vec).collect(),
        http: frame
            .http
            .map(|h| (format!("{:?}", h.method), h.authorization, h.websocket_key)),
    }
}

/// Random cut points of a buffer of `len` bytes, sorted, ending at `len`.
fn sorted_cuts(cuts: &[prop::sample::Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

/// A connection loop: parses frames from `buf[start..]` until more bytes are
/// needed or an error occurs.
fn drain_from(buf: &[u8], start: usize, limits: &Limits) -> (Vec<Parsed>, End) {
    let mut args = Args::new();
    let mut pos = start;
    let mut frames = Vec::new();
    loop {
        match parse_one(&buf[pos..], &mut args, limits) {
            Ok(Some(p)) => {
                pos += p.consumed;
                frames.push(p);
            }
            Ok(None) => return (frames, End::NeedMore(pos)),
            Err(e) => return (frames, End::Error(e, pos)),
        }
        // `consumed > 0` is asserted in parse_one, so this terminates.
        assert!(frames.len() <= buf.len());
    }
}

fn drain(buf: &[u8], limits: &Limits) -> (Vec<Parsed>, End) {
    drain_from(buf, 0, limits)
}

fn encode(cmd: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    resp::command(&mut out, cmd.iter().map(Vec::as_slice));
    out
}

fn encode_all(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
    cmds.iter().flat_map(|c| encode(c)).collect()
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Bytes that drive the framing state machines.
const SPECIAL: &[u8] = b"*$\r\n0123456789 \"'\\-+%{}GPOTHS";

fn biased_byte() -> impl Strategy<Value = u8> {
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
fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => vec(any::<u8>(), 0..256),
        2 => vec(biased_byte(), 0..256),
        4 => vec(chunk(), 0..48).prop_map(|cs| cs.concat()),
        3 => (any::<u64>(), 0usize..4096, 0u8..=8)
            .prop_map(|(seed, len, bias)| seeded_bytes(seed, len, bias)),
    ]
}

/// Default limits most of the time; tiny ones to reach the limit branches.
fn limits() -> impl Strategy<Value = Limits> {
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

fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(arg(), 1..20)
}

/// Smaller commands for the quadratic every-split-point checks.
fn small_command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(biased_byte(), 0..12), 1..6)
}

/// Printable, non-space, non-quote bytes: a telnet token needing no quoting.
fn safe_token() -> impl Strategy<Value = Vec<u8>> {
    let safe: Vec<u8> = (0x21u8..=0x7e)
        .filter(|b| !matches!(b, b'"' | b'\''))
        .collect();
    vec(select(safe), 1..16)
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        // Every exponent and mantissa, subnormals included.
        4 => any::<u64>().prop_map(f64::from_bits),
        2 => any::<i64>().prop_map(|n| n as f64),
        2 => (any::<i32>(), 0u32..12).prop_map(|(n, k)| n as f64 / 10f64.powi(k as i32)),
        1 => -2e15f64..2e15,
        1 => select(vec![
            0.0,
            -0.0,
            1e15,
            -1e15,
            1e15 - 1.0,
            1e15 + 0.5,
            9007199254740993.0,
            1e21,
            1e22,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            -122.60000000000001,
        ]),
    ]
    .prop_filter("finite", |v| v.is_finite())
}

/// Bytes for JSON string escaping: control characters, quotes, HTML
/// characters, U+2028/9, valid multi-byte and broken UTF-8 sequences.
fn json_input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => any::<u8>().prop_map(|b| vec![b]),
        2 => (0u8..0x20).prop_map(|b| vec![b]),
        2 => select(vec![
            b"\"".to_vec(),
            b"\\".to_vec(),
            b"<".to_vec(),
            b">".to_vec(),
            b"&".to_vec(),
            b"\x7f".to_vec(),
            "\u{2028}".as_bytes().to_vec(),
            "\u{2029}".as_bytes().to_vec(),
            "é".as_bytes().to_vec(),
            "€".as_bytes().to_vec(),
            "😀".as_bytes().to_vec(),
            "\u{fffd}".as_bytes().to_vec(),
            b"\xe2\x82".to_vec(),     // truncated 3-byte sequence
            b"\xf0\x9f\x98".to_vec(), // truncated 4-byte sequence
            b"\xed\xa0\x80".to_vec(), // UTF-16 surrogate
            b"\xc0\xaf".to_vec(),     // overlong
            b"\xf5\x80\x80\x80".to_vec(),
            b"\x80".to_vec(),
        ]),
        2 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        2 => "[ -~]{0,8}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        3 => vec(piece, 0..48).prop_map(|ps| ps.concat()),
        1 => vec(any::<u8>(), 0..256),
        1 => "[ -~]{0,64}".prop_map(String::into_bytes),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// What Go's `strconv.FormatFloat(v, 'f', -1, 64)` prints, derived from
/// Rust's `Display` (shortest round-trip digits, positional) plus Go's
/// tie-break: when `v` lies exactly halfway between the two shortest
/// candidates, Go (`ryuDigits32`: `cNextDigit == 5 && c0 && central&1 == 1`)
/// rounds half to even, whereas `Display` rounds half up
/// (1770673829515688.25: Go `…688.2`, `Display` `…688.3`).
fn go_format_f64(v: f64) -> String {
    let s = format!("{v}");
    // Integral output: for |v| < 2^53 a non-integer never prints as an
    // integer, and above 2^53 an exact decimal tie is impossible.
    let Some((_, frac)) = s.split_once('.') else {
        return s;
    };
    let f = frac.len();
    // The exact decimal expansion of |v| (an f64 has at most 1074 fraction digits).
    let exact = format!("{:.1100}", v.abs());
    let (ei, ef) = exact.split_once('.').expect("fixed notation");
    let rest = &ef[f..];
    let tie = rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0');
    if !tie {
        return s;
    }
    // Candidates: |v| truncated to f decimals, and that plus one unit.
    let down: Vec<u8> = format!("{ei}{}", &ef[..f]).into_bytes();
    let mut up = down.clone();
    let mut i = up.len();
    loop {
        if i == 0 {
            up.insert(0, b'1');
            break;
        }
        i -= 1;
        if up[i] == b'9' {
            up[i] = b'0';
        } else {
            up[i] += 1;
            break;
        }
    }
    let render = |digits: &[u8]| {
        let (int, frac) = digits.split_at(digits.len() - f);
        let int = std::str::from_utf8(int).unwrap().trim_start_matches('0');
        let frac = std::str::from_utf8(frac).unwrap().trim_end_matches('0');
        let mut out = String::new();
        if v.is_sign_negative() {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    };
    let even_first = if down.last().unwrap().is_multiple_of(2) {
        [&down, &up]
    } else {
        [&up, &down]
    };
    for cand in even_first {
        let text = render(cand);
        if text.parse::<f64>().map(f64::to_bits) == Ok(v.to_bits()) {
            return text;
        }
    }
    s
}

/// Values in [2^40, 2^53): few fraction bits, so exact decimal ties
/// between two shortest candidates are common.
fn tie_prone_f64() -> impl Strategy<Value = f64> {
    (1063u64..1076, any::<u64>(), any::<bool>()).prop_map(|(exp, mant, neg)| {
        f64::from_bits(((neg as u64) << 63) | (exp << 52) | (mant & ((1 << 52) - 1)))
    })
}

/// Parses a Go `time.Duration` string (`1h2m3.5s`, `12.5µs`, `0s`) into
/// nanoseconds, exactly.
fn parse_go_duration(s: &str) -> Option<u64> {
    if s == "0s" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let (unit, scale): (&str, u64) = [
            ("ns", 1),
            ("µs", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ]
        .into_iter()
        .find(|(u, _)| tail.starts_with(u))?;
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() {
            return None;
        }
        total += int.parse::<u64>().ok()? * scale;
        if !frac.is_empty() {
            let mut f: u64 = 0;
            let mut div: u64 = 1;
            for d in frac.bytes() {
                f = f * 10 + (d - b'0') as u64;
                div *= 10;
            }
            if !(f * scale).is_multiple_of(div) {
                return None;
            }
            total += f * scale / div;
        }
        rest = &tail[unit.len()..];
    }
    Some(total)
}

// ---------------------------------------------------------------------------
// (a) No panics, progress, chunking independence
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `parse_next` never panics; a frame always consumes `1..=len` bytes.
    #[test]
    fn a_parse_next_never_panics(buf in hostile_input(), limits in limits()) {
        let (frames, end) = drain(&buf, &limits);
        let used: usize = frames.iter().map(|f| f.consumed).sum();
        match end {
            End::NeedMore(at) | End::Error(_, at) => prop_assert_eq!(at, used),
        }
        prop_assert!(used <= buf.len());
    }

    /// Same as above, starting with an HTTP request line so the HTTP head
    /// parser sees arbitrary headers and bodies.
    #[test]
    fn a_http_prefixed_input_never_panics(
        line in select(vec![
            &b"GET / HTTP/1.1\r\n"[..],
            b"GET /PING HTTP/1.1\r\n",
            b"POST / HTTP/1.1\r\n",
            b"OPTIONS / HTTP/1.0\r\n",
            b"GET /a+b%2 HTTP/1.1\r\n",
            b"POST /SET+k+i+STRING+ HTTP/1.1\r\n",
        ]),
        rest in hostile_input(),
        limits in limits(),
    ) {
        let buf = [line, &rest].concat();
        drain(&buf, &limits);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Receiving the bytes in arbitrary chunks (a real socket) yields the
    /// same frames and the same final state as receiving them all at once.
    ///
    /// Default limits only: with a small `max_inline` the result can depend
    /// on chunking (`PING\n` + 100 bytes without CRLF + `\r\n` with
    /// `max_inline = 64` is a PING frame when read at once, but
    /// `TooBigInline` when the first read ends before the CRLF, because a
    /// G/P/O line waits for a CRLF in case it is an HTTP request line).
    #[test]
    fn a_chunking_does_not_change_frames(
        buf in hostile_input(),
        cuts in vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let limits = Limits::default();
        let whole = drain(&buf, &limits);
        let mut frames = Vec::new();
        let mut pos = 0;
        let mut end = End::NeedMore(0);
        for cut in sorted_cuts(&cuts, buf.len()) {
            let (mut got, e) = drain_from(&buf[..cut], pos, &limits);
            frames.append(&mut got);
            end = e.clone();
            match e {
                End::NeedMore(at) => pos = at,
                End::Error(..) => break,
            }
        }
        prop_assert_eq!(&frames, &whole.0);
        prop_assert_eq!(end, whole.1);
    }

    /// The same stream fed in arbitrary pieces to `parse_resume`, its
    /// `Progress` carried from read to read as a connection does (the scan
    /// of an incomplete message resumes instead of restarting), yields the
    /// same frames and the same final state as `parse_next` on all of it.
    #[test]
    fn a_resumed_chunks_give_the_same_frames(
        buf in hostile_input(),
        cuts in vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let limits = Limits::default();
        let whole = drain(&buf, &limits);
        let cuts = sorted_cuts(&cuts, buf.len());
        prop_assert_eq!(drain_resumed(&buf, &cuts, &limits), whole);
    }
}

/// A connection loop over `buf` received up to each of `cuts` in turn,
/// with one `Progress` carried across reads.
fn drain_resumed(buf: &[u8], cuts: &[usize], limits: &Limits) -> (Vec<Parsed>, End) {
    let mut args = Args::new();
    let mut progress = Progress::new();
    let mut frames = Vec::new();
    let mut pos = 0;
    for &cut in cuts {
        loop {
            match parse_resume(&buf[pos..cut], &mut args, limits, &mut progress) {
                Ok(Some(f)) => {
                    assert!(f.consumed > 0 && f.consumed <= cut - pos);
                    pos += f.consumed;
                    frames.push(parsed(f, &args));
                }
                Ok(None) => break,
                Err(e) => return (frames, End::Error(e, pos)),
            }
        }
    }
    (frames, End::NeedMore(pos))
}

// ---------------------------------------------------------------------------
// (b) RESP encode → parse round trip
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn b_resp_command_round_trips(
        cmd in command(),
        trailing in vec(biased_byte(), 0..16),
    ) {
        let enc = encode(&cmd);
        let mut args = Args::new();
        let frame = parse_next(&enc, &mut args, &Limits::default())
            .expect("valid encoding must parse")
            .expect("complete encoding must yield a frame");
        prop_assert_eq!(frame.framing, Framing::Resp);
        prop_assert_eq!(frame.consumed, enc.len());
        prop_assert!(frame.http.is_none());
        let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &cmd);

        // Whatever follows the command is left alone.
        let mut more = enc.clone();
        more.extend_from_slice(&trailing);
        let frame = parse_next(&more, &mut args, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(frame.consumed, enc.len());
        let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &cmd);

        // Limits are inclusive: exactly-at-the-limit commands still parse.
        let tight = Limits {
            max_bulk: cmd.iter().map(Vec::len).max().unwrap_or(0),
            max_args: cmd.len(),
            max_inline: 0,
        };
        let frame = parse_next(&enc, &mut args, &tight).unwrap().unwrap();
        prop_assert_eq!(frame.consumed, enc.len());
    }

    #[test]
    fn b_resp_pipeline_round_trips(cmds in vec(command(), 1..6)) {
        let enc = encode_all(&cmds);
        let (frames, end) = drain(&enc, &Limits::default());
        prop_assert_eq!(end, End::NeedMore(enc.len()));
        prop_assert_eq!(frames.len(), cmds.len());
        for (f, c) in frames.iter().zip(&cmds) {
            prop_assert_eq!(f.framing, Framing::Resp);
            prop_assert_eq!(f.consumed, encode(c).len());
            prop_assert_eq!(&f.args, c);
        }
    }
}

// ---------------------------------------------------------------------------
// (c) Incremental parsing: prefixes of a valid stream never fail
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every strict prefix of one encoded command is `Ok(None)`; the whole
    /// is the command.
    #[test]
    fn c_every_strict_prefix_needs_more(cmd in command()) {
        let enc = encode(&cmd);
        let mut args = Args::new();
        for k in 0..enc.len() {
            match parse_next(&enc[..k], &mut args, &Limits::default()) {
                Ok(None) => {}
                other => prop_assert!(
                    false,
                    "prefix {}/{} of {:?} gave {:?}",
                    k,
                    enc.len(),
                    String::from_utf8_lossy(&enc),
                    other.map(|f| f.map(|f| f.consumed))
                ),
            }
        }
        let frame = parse_next(&enc, &mut args, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(frame.consumed, enc.len());
        let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &cmd);
    }

    /// A pipeline received as `buf[..k]` then the whole, for every `k`:
    /// the first read yields some leading commands and then `Ok(None)`
    /// (never an error); the second yields the rest, all in order.
    #[test]
    fn c_pipeline_split_at_every_boundary(cmds in vec(small_command(), 1..5)) {
        let enc = encode_all(&cmds);
        let limits = Limits::default();
        for k in 0..=enc.len() {
            let (first, end) = drain(&enc[..k], &limits);
            let End::NeedMore(pos) = end else {
                return Err(TestCaseError::fail(format!(
                    "prefix {k}/{} errored: {end:?}", enc.len()
                )));
            };
            prop_assert!(first.len() <= cmds.len());
            let (second, end) = drain_from(&enc, pos, &limits);
            prop_assert_eq!(end, End::NeedMore(enc.len()));
            let all: Vec<&Vec<Vec<u8>>> =
                first.iter().chain(&second).map(|f| &f.args).collect();
            let want: Vec<&Vec<Vec<u8>>> = cmds.iter().collect();
            prop_assert_eq!(all, want);
        }
    }

    /// Byte-at-a-time delivery yields every command, each exactly once.
    #[test]
    fn c_byte_at_a_time(cmds in vec(command(), 1..4)) {
        let enc = encode_all(&cmds);
        let limits = Limits::default();
        let mut pos = 0;
        let mut got = Vec::new();
        for avail in 0..=enc.len() {
            let (mut frames, end) = drain_from(&enc[..avail], pos, &limits);
            got.append(&mut frames);
            match end {
                End::NeedMore(at) => pos = at,
                End::Error(e, at) => prop_assert!(false, "error {:?} at {} of {}", e, at, avail),
            }
        }
        prop_assert_eq!(pos, enc.len());
        let got: Vec<Vec<Vec<u8>>> = got.into_iter().map(|f| f.args).collect();
        prop_assert_eq!(got, cmds);
    }
}

// ---------------------------------------------------------------------------
// (d) Telnet lines
// ---------------------------------------------------------------------------

/// Whether a CRLF-terminated line would be taken for an HTTP request line.
fn looks_like_http(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'G' | b'P' | b'O'))
        && line.len() > 11
        && &line[line.len() - 11..line.len() - 5] == b" HTTP/"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `args.join(" ") + "\r\n"` parses back to `args` (and `"\n"` alone
    /// terminates the line too, except for lines starting with G/P/O).
    #[test]
    fn d_telnet_line_round_trips(
        toks in vec(safe_token(), 1..20),
        spaces in vec(1usize..4, 20),
        lead in 0usize..3,
        trail in 0usize..3,
    ) {
        // A leading `*` or `$` selects RESP / native framing instead.
        prop_assume!(!matches!(toks[0][0], b'*' | b'$'));
        let mut line = toks.join(&b" "[..]);
        line.extend_from_slice(b"\r\n");
        prop_assume!(!looks_like_http(&line));

        let mut args = Args::new();
        let frame = parse_next(&line, &mut args, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(frame.framing, Framing::Telnet);
        prop_assert_eq!(frame.consumed, line.len());
        let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &toks);

        // Extra spaces between, before and after tokens change nothing.
        let mut spaced = vec![b' '; lead];
        for (i, t) in toks.iter().enumerate() {
            if i > 0 {
                spaced.extend(std::iter::repeat_n(b' ', spaces[i]));
            }
            spaced.extend_from_slice(t);
        }
        spaced.extend(std::iter::repeat_n(b' ', trail));
        spaced.extend_from_slice(b"\r\n");
        if lead > 0 || !looks_like_http(&spaced) {
            let frame = parse_next(&spaced, &mut args, &Limits::default()).unwrap().unwrap();
            prop_assert_eq!(frame.consumed, spaced.len());
            let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&got, &toks);
        }

        // Bare LF terminates a telnet line, unless it starts with G/P/O
        // (those wait for a CRLF in case the line is an HTTP request line).
        let mut lf = toks.join(&b" "[..]);
        lf.push(b'\n');
        let r = parse_next(&lf, &mut args, &Limits::default()).unwrap();
        if matches!(toks[0][0], b'G' | b'P' | b'O') {
            prop_assert!(r.is_none());
        } else {
            prop_assert_eq!(r.unwrap().consumed, lf.len());
            let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&got, &toks);
        }
    }

    /// Arbitrary bytes survive telnet quoting: `"..."`/`'...'` with `\\`,
    /// `\<quote>`, `\n` and `\r` escapes.
    #[test]
    fn d_telnet_quoted_round_trips(
        toks in vec(vec(any::<u8>(), 0..24), 1..12),
        quote in select(vec![b'"', b'\'']),
    ) {
        let mut line = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            line.push(quote);
            for &b in t {
                match b {
                    b'\\' => line.extend_from_slice(b"\\\\"),
                    b'\n' => line.extend_from_slice(b"\\n"),
                    b'\r' => line.extend_from_slice(b"\\r"),
                    b if b == quote => line.extend_from_slice(&[b'\\', quote]),
                    b => line.push(b),
                }
            }
            line.push(quote);
        }
        line.extend_from_slice(b"\r\n");
        let mut args = Args::new();
        let frame = parse_next(&line, &mut args, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(frame.framing, Framing::Telnet);
        prop_assert_eq!(frame.consumed, line.len());
        let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &toks);
    }
}

// ---------------------------------------------------------------------------
// (e) Floats, (f) JSON strings, (g) durations
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn e_write_f64_round_trips_without_exponent(v in finite_f64()) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        let text = std::str::from_utf8(&out).expect("ASCII");
        prop_assert!(!text.contains(['e', 'E']), "exponent in {}", text);
        let back: f64 = text.parse().expect("parses as f64");
        prop_assert_eq!(back.to_bits(), v.to_bits(), "{} -> {} -> {}", v, text, back);
        // Shortest: as many significant digits as Display (which is shortest).
        let sig = |t: &str| {
            let d: String = t.chars().filter(char::is_ascii_digit).collect();
            d.trim_matches('0').len()
        };
        prop_assert_eq!(sig(text), sig(&format!("{v}")), "{} is not shortest", text);
        // Shape: -?digits(.digits)? with no redundant zeros.
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        prop_assert!(!int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()));
        prop_assert!(int == "0" || !int.starts_with('0'), "leading zero in {}", text);
        prop_assert!(frac.bytes().all(|b| b.is_ascii_digit()));
        prop_assert!(!frac.ends_with('0'), "trailing zero in {}", text);
        prop_assert_eq!(digits.contains('.'), !frac.is_empty());
    }

    /// Go's exact spelling, ties included. Ignored: `write_f64` currently
    /// falls back to `Display` outside its fast path, and `Display` breaks
    /// exact ties half-up where Go breaks them half-to-even (see
    /// `write_f64_exact_tie_like_go`). Run with `--ignored`.
    #[test]
    #[ignore = "write_f64 rounds exact ties half-up (Rust Display); Go rounds half-even"]
    fn e_write_f64_spells_like_go(v in prop_oneof![finite_f64(), tie_prone_f64()]) {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        prop_assert_eq!(std::str::from_utf8(&out).unwrap(), go_format_f64(v));
    }

    #[test]
    fn g_write_duration_parses_back(
        nanos in prop_oneof![
            3 => any::<u64>(),
            3 => 0u64..10_000_000_000,
            2 => 0u64..1_000_000_000_000_000,
            1 => (0u64..100, select(vec![1u64, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000]))
                .prop_map(|(n, u)| n * u),
        ]
    ) {
        let mut out = Vec::new();
        write_duration(&mut out, nanos);
        let text = String::from_utf8(out).expect("UTF-8");
        prop_assert_eq!(parse_go_duration(&text), Some(nanos), "{} printed as {}", nanos, text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn f_write_json_str_is_valid_json(input in json_input()) {
        let mut out = Vec::new();
        write_json_str(&mut out, &input);
        let decoded: String = match serde_json::from_slice(&out) {
            Ok(s) => s,
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "invalid JSON {:?} for input {:?}: {e}",
                    String::from_utf8_lossy(&out),
                    input
                )))
            }
        };
        prop_assert_eq!(decoded, go_lossy(&input));
        // Escaped output is ASCII-clean of control characters.
        prop_assert!(!out.iter().any(|&b| b < 0x20));
    }
}

/// Go's lossy decoding: each byte that does not start a valid sequence is
/// one U+FFFD (Rust's `from_utf8_lossy` takes maximal invalid subparts).
fn go_lossy(mut b: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => return out + s,
            Err(e) => {
                let (good, bad) = b.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap());
                out.push('\u{fffd}');
                b = &bad[1..];
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed regressions of the properties above (cheap, always run).
// ---------------------------------------------------------------------------

#[test]
fn float_oracle_sanity() {
    // Exact ties: Go rounds half to even. (Sums keep the literals exact.)
    let tie = 1770673829515688.0 + 0.25;
    assert_eq!(go_format_f64(tie), "1770673829515688.2");
    assert_eq!(go_format_f64(-tie), "-1770673829515688.2");
    assert_eq!(
        go_format_f64(249061139720566.0 + 0.125),
        "249061139720566.12"
    );
    assert_eq!(
        go_format_f64(1770673829515688.0 + 0.75),
        "1770673829515688.8"
    );
    // No tie: Display's digits.
    assert_eq!(go_format_f64(-0.0), "-0");
    assert_eq!(go_format_f64(1e21), "1000000000000000000000");
    assert_eq!(go_format_f64(1e-7), "0.0000001");
    assert_eq!(go_format_f64(0.07893802344654667), "0.07893802344654667");
    assert_eq!(go_format_f64(123.0), "123");
    assert_eq!(go_format_f64(5e-324), format!("{}", 5e-324));
}

/// Go: `strconv.FormatFloat(1770673829515688.25, 'f', -1, 64)` is
/// `1770673829515688.2` (17 digits; `.2` and `.3` are equally near and both
/// round-trip, Ryū picks the even one). Rust's `Display` gives `…688.3`.
#[test]
#[ignore = "write_f64 rounds exact ties half-up (Rust Display); Go rounds half-even"]
fn write_f64_exact_tie_like_go() {
    let mut out = Vec::new();
    write_f64(&mut out, 1770673829515688.0 + 0.25);
    assert_eq!(String::from_utf8(out).unwrap(), "1770673829515688.2");
}

#[test]
fn duration_parser_sanity() {
    assert_eq!(parse_go_duration("0s"), Some(0));
    assert_eq!(parse_go_duration("1h0m0s"), Some(3_600_000_000_000));
    assert_eq!(parse_go_duration("12.5µs"), Some(12_500));
    assert_eq!(parse_go_duration("1m2.5s"), Some(62_500_000_000));
}

#[test]
fn http_request_with_bare_lf_line_before_it() {
    // Must not panic: a G/P/O line ending in a bare LF is followed by an
    // HTTP request line; the first CRLF decides.
    let mut args = Args::new();
    let _ = parse_next(
        b"GET x\nGET / HTTP/1.1\r\n\r\n",
        &mut args,
        &Limits::default(),
    );
}

//! `parse_next` over arbitrary bytes, as a connection loop does.
//!
//! Checks, besides "no panic":
//! * every frame consumes `1..=remaining` bytes;
//! * the same stream delivered in two reads (split at an input-derived point)
//!   yields the same frames and the same final state as one read;
//! * so does the stream delivered in small input-derived pieces to
//!   `parse_resume`, its `Progress` carried from read to read;
//! * every frame's arguments survive `resp::command` → `parse_next`;
//! * the same loop with tiny `Limits` (to reach the limit branches);
//! * `tokenize_native` and `query_unescape` on the raw input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tile38_proto::request::{parse_resume, tokenize_native, Progress};
use tile38_proto::{http, parse_next, resp, Args, Frame, Framing, Limits, ProtoError};

/// (method, authorization, websocket key) of an HTTP frame.
type HttpInfo = (String, Option<Vec<u8>>, Option<Vec<u8>>);

#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    framing: Framing,
    consumed: usize,
    args: Vec<Vec<u8>>,
    http: Option<HttpInfo>,
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    NeedMore(usize),
    Error(ProtoError, usize),
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

/// Parses frames from `buf[start..]` until more bytes are needed or an error.
fn drain_from(buf: &[u8], start: usize, limits: &Limits, out: &mut Vec<Parsed>) -> End {
    let mut args = Args::new();
    let mut pos = start;
    loop {
        let rest = &buf[pos..];
        match parse_next(rest, &mut args, limits) {
            Ok(Some(frame)) => {
                assert!(frame.consumed > 0, "frame consumed 0 bytes");
                assert!(
                    frame.consumed <= rest.len(),
                    "frame consumed {} of {} bytes",
                    frame.consumed,
                    rest.len()
                );
                pos += frame.consumed;
                out.push(parsed(frame, &args));
            }
            Ok(None) => return End::NeedMore(pos),
            Err(e) => return End::Error(e, pos),
        }
    }
}

/// Parses `buf` received `step` bytes at a time, resuming incomplete
/// messages with one `Progress`, as a connection does.
fn drain_resumed(buf: &[u8], step: usize, limits: &Limits, out: &mut Vec<Parsed>) -> End {
    let mut args = Args::new();
    let mut progress = Progress::new();
    let (mut pos, mut end) = (0, 0);
    while end < buf.len() {
        end = (end + step).min(buf.len());
        loop {
            match parse_resume(&buf[pos..end], &mut args, limits, &mut progress) {
                Ok(Some(frame)) => {
                    pos += frame.consumed;
                    out.push(parsed(frame, &args));
                }
                Ok(None) => break,
                Err(e) => return End::Error(e, pos),
            }
        }
    }
    End::NeedMore(pos)
}

fn check_round_trip(frames: &[Parsed]) {
    let mut enc = Vec::new();
    let mut args = Args::new();
    for f in frames {
        if f.args.is_empty() {
            continue;
        }
        enc.clear();
        resp::command(&mut enc, f.args.iter().map(Vec::as_slice));
        let frame = parse_next(&enc, &mut args, &Limits::default())
            .expect("re-encoded command must parse")
            .expect("re-encoded command must be complete");
        assert_eq!(frame.consumed, enc.len());
        assert!(args.iter().eq(f.args.iter().map(Vec::as_slice)));
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();

    // One read.
    let mut whole = Vec::new();
    let whole_end = drain_from(data, 0, &limits, &mut whole);
    check_round_trip(&whole);

    // Two reads, split at an input-derived point.
    let split = if data.is_empty() {
        0
    } else {
        let h = data
            .iter()
            .fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b as usize));
        h % (data.len() + 1)
    };
    let mut chunked = Vec::new();
    let mut end = drain_from(&data[..split], 0, &limits, &mut chunked);
    if let End::NeedMore(pos) = end {
        end = drain_from(data, pos, &limits, &mut chunked);
    }
    assert_eq!(chunked, whole, "frames differ when split at {split}");
    assert_eq!(end, whole_end, "final state differs when split at {split}");

    // Small pieces, the scan of each incomplete message resumed.
    let step = 1 + data.first().map_or(0, |&b| b as usize % 16);
    let mut resumed = Vec::new();
    let end = drain_resumed(data, step, &limits, &mut resumed);
    assert_eq!(resumed, whole, "frames differ when resumed in pieces of {step}");
    assert_eq!(end, whole_end, "final state differs when resumed in pieces of {step}");

    // Tiny limits reach the TooBigInline / length-limit branches.
    let tiny = Limits {
        max_bulk: 16,
        max_args: 4,
        max_inline: 32,
    };
    let mut small = Vec::new();
    drain_from(data, 0, &tiny, &mut small);

    // The native/HTTP tokeniser and URL decoding on raw bytes.
    let mut args = Args::new();
    tokenize_native(data, &mut args);
    let _ = http::query_unescape(data);
});

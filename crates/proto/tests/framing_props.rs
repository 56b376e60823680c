//! Property tests for the wire framing.
//!
//! * (a) `parse_next` never panics on arbitrary (and adversarially biased)
//!   bytes, always makes progress, and gives the same frames however the
//!   stream is chunked, also when `parse_resume` carries its progress
//!   across the chunks;
//! * (b) RESP command encoding round-trips through `parse_next`, alone and
//!   pipelined;
//! * (c) every strict prefix of a valid stream asks for more bytes instead of
//!   failing, whatever the split point.
//!
//! Telnet lines (d) are in `telnet_props.rs`; the text formatting (e, f,
//! g) in `fmt_props.rs`. Case counts are set per block so the whole file
//! stays well under ten seconds in a debug build.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tile38_proto::request::{parse_resume, Progress};
use tile38_proto::{parse_next, resp, Args, Frame, Framing, Limits, ProtoError};

mod common {
    pub mod framing;
}
use common::framing::{biased_byte, command, hostile_input, limits, small_command};

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
// Fixed regressions of the properties above (cheap, always run).
// ---------------------------------------------------------------------------
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

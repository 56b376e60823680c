//! Unit tests of the framing: one case per message kind and error, and the
//! resumed scan of messages that arrive in pieces.

use super::*;

fn parse(buf: &[u8]) -> Result<Option<(Framing, usize, Vec<String>)>, ProtoError> {
    let mut args = Args::new();
    Ok(parse_next(buf, &mut args, &Limits::default())?
        .map(|f| (f.framing, f.consumed, args.to_strings())))
}

#[test]
fn resp_arrays() {
    let (k, n, a) = parse(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nrest")
        .unwrap()
        .unwrap();
    assert_eq!(
        (k, n, a),
        (
            Framing::Resp,
            22,
            vec!["ECHO".to_string(), "hi".to_string()]
        )
    );
    assert_eq!(parse(b"*2\r\n$4\r\nECHO\r\n$2\r\nh").unwrap(), None);
    assert_eq!(parse(b"*0\r\n").unwrap().unwrap().2.len(), 0);
    assert_eq!(parse(b"*x\r\n"), Err(ProtoError::InvalidMultibulkLength));
    assert_eq!(parse(b"*-1\r\n"), Err(ProtoError::InvalidMultibulkLength));
    assert_eq!(
        parse(b"*1\r\n$x\r\nPING\r\n"),
        Err(ProtoError::InvalidBulkLength)
    );
    assert_eq!(
        parse(b"*1\r\n+PING\r\n"),
        Err(ProtoError::ExpectedDollar(b'+'))
    );
    assert_eq!(
        ProtoError::ExpectedDollar(b'+').to_string(),
        "Protocol error: expected '$', got '+'"
    );
}

#[test]
fn telnet_lines() {
    let (k, _, a) = parse(b"SET k \"a b\" STRING 'x y'\r\n").unwrap().unwrap();
    assert_eq!(k, Framing::Telnet);
    assert_eq!(a, vec!["SET", "k", "a b", "STRING", "x y"]);
    assert_eq!(
        parse(b"ECHO    spaced   \r\n").unwrap().unwrap().2,
        vec!["ECHO", "spaced"]
    );
    assert_eq!(
        parse(b"PING \"unbalanced\r\n"),
        Err(ProtoError::UnbalancedQuotes)
    );
    assert_eq!(parse(b"\"\" a\r\n").unwrap().unwrap().2, vec!["", "a"]);
    assert_eq!(parse(b"\r\n").unwrap().unwrap().2.len(), 0);
    assert_eq!(
        parse(b"\"a\\tb\\\"\"\n").unwrap().unwrap().2,
        vec!["a\tb\""]
    );
}

#[test]
fn g_p_o_lines_need_crlf() {
    assert_eq!(parse(b"PING\n").unwrap(), None);
    assert_eq!(parse(b"PING\r\n").unwrap().unwrap().2, vec!["PING"]);
    assert_eq!(
        parse(b"GET fleet truck1\r\n").unwrap().unwrap().0,
        Framing::Telnet
    );
}

#[test]
fn native_messages() {
    let (k, n, a) = parse(b"$17 SET k i POINT 1 2\r\n$7 GET k i\r\n")
        .unwrap()
        .unwrap();
    assert_eq!((k, n), (Framing::Native, 23));
    assert_eq!(a, vec!["SET", "k", "i", "POINT", "1", "2"]);
    let mut args = Args::new();
    tokenize_native(b"SET k i OBJECT {\"type\": \"Point\"}", &mut args);
    assert_eq!(args.get(4), b"{\"type\": \"Point\"}");
    args.clear();
    tokenize_native(b"set k i string \"a b\"", &mut args);
    assert_eq!(args.get(4), b"a b");
    assert_eq!(parse(b"$x SET\r\n"), Err(ProtoError::InvalidMessage));
}

/// Feeds `stream` in pieces of `step` bytes, as a connection does, and
/// returns the arguments of every frame.
fn feed(stream: &[u8], step: usize, limits: &Limits) -> Result<Vec<Vec<String>>, ProtoError> {
    let mut args = Args::new();
    let mut progress = Progress::new();
    let mut frames = Vec::new();
    let (mut start, mut end) = (0, 0);
    while end < stream.len() {
        end = (end + step).min(stream.len());
        while let Some(f) = parse_resume(&stream[start..end], &mut args, limits, &mut progress)? {
            start += f.consumed;
            frames.push(args.to_strings());
        }
    }
    Ok(frames)
}

#[test]
fn resumed_messages_match_whole_ones() {
    let long = "x".repeat(5000);
    let stream = format!(
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n{long}\r\nECHO {long}\r\n\
         GET /ECHO+{long} HTTP/1.1\r\nA: b\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nECHO body\
         $8 ECHO nat\r\nPING\nxx\r\n",
        long.len()
    );
    let whole = feed(stream.as_bytes(), stream.len(), &Limits::default()).unwrap();
    assert_eq!(whole.len(), 7);
    assert_eq!(
        whole[5],
        vec!["PING"],
        "a bare LF ends a P… line that is not HTTP"
    );
    for step in [1, 2, 3, 7, 64, 1000] {
        assert_eq!(
            feed(stream.as_bytes(), step, &Limits::default()).unwrap(),
            whole
        );
    }
}

#[test]
fn resumed_scans_keep_the_limits() {
    let tiny = Limits {
        max_bulk: 16,
        max_args: 4,
        max_inline: 32,
    };
    let line = "A".repeat(40);
    assert_eq!(
        feed(line.as_bytes(), 5, &tiny),
        Err(ProtoError::TooBigInline)
    );
    let head = format!("GET / HTTP/1.1\r\nX: {line}");
    assert_eq!(
        feed(head.as_bytes(), 5, &tiny),
        Err(ProtoError::TooBigInline)
    );
    assert_eq!(
        feed(b"*5\r\n", 1, &tiny),
        Err(ProtoError::InvalidMultibulkLength)
    );
    assert_eq!(
        feed(b"*2\r\n$1\r\na\r\n+x\r\n", 1, &tiny),
        Err(ProtoError::ExpectedDollar(b'+'))
    );
}

#[test]
fn progress_is_reported_and_reset() {
    let mut args = Args::new();
    let mut p = Progress::new();
    let limits = Limits::default();
    let buf = b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
    assert!(parse_resume(&buf[..16], &mut args, &limits, &mut p)
        .unwrap()
        .is_none());
    assert!(p.in_message());
    let f = parse_resume(buf, &mut args, &limits, &mut p)
        .unwrap()
        .unwrap();
    assert_eq!(
        (f.consumed, args.to_strings()),
        (buf.len(), vec!["ECHO".into(), "hi".into()])
    );
    assert!(!p.in_message());
    // The stateless form hands the partial array's storage back, cleared.
    assert!(parse_next(&buf[..16], &mut args, &limits)
        .unwrap()
        .is_none());
    assert!(args.is_empty());
}

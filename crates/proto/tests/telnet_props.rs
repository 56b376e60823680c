//! Property tests for telnet lines (d): bare tokens joined by spaces
//! round-trip through `parse_next` whatever the spacing, a bare LF ends a
//! line unless it may be an HTTP request line, and quoted/escaped tokens
//! carry arbitrary bytes.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tile38_proto::{parse_next, Args, Framing, Limits};

/// Printable, non-space, non-quote bytes: a telnet token needing no quoting.
fn safe_token() -> impl Strategy<Value = Vec<u8>> {
    let safe: Vec<u8> = (0x21u8..=0x7e)
        .filter(|b| !matches!(b, b'"' | b'\''))
        .collect();
    vec(select(safe), 1..16)
}

/// Whether a CRLF-terminated line would be taken for an HTTP request line.
fn looks_like_http(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'G' | b'P' | b'O'))
        && line.len() > 11
        && &line[line.len() - 11..line.len() - 5] == b" HTTP/"
}

/// `line` parses (into `args`) as one telnet frame, all of it, of `toks`.
fn one_telnet_frame(line: &[u8], args: &mut Args, toks: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let frame = parse_next(line, args, &Limits::default()).unwrap().unwrap();
    prop_assert_eq!(frame.framing, Framing::Telnet);
    prop_assert_eq!(frame.consumed, line.len());
    let got: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
    prop_assert_eq!(&got[..], toks);
    Ok(())
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
        one_telnet_frame(&line, &mut args, &toks)?;

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
        one_telnet_frame(&line, &mut args, &toks)?;
    }
}

//! How a load ends on a damaged file: a framing error is reported without
//! reading the rest of the file, a zero-filled tail is cut, and a record
//! running past the end is cut only when no complete record follows it.

use std::path::{Path, PathBuf};

use tile38_proto::resp;

use super::*;

fn tmp(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tile38-aof-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// `n` records `SET k id<i> <value>`.
fn records(n: usize, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let id = format!("id{i}");
        resp::command(
            &mut out,
            [&b"SET"[..], b"k", id.as_bytes(), value].into_iter(),
        );
    }
    out
}

/// How a load of `data` ended: `(commands, bytes, truncated)` or the
/// error, and the file afterwards.
type Outcome = (Result<(u64, u64, u64), String>, Vec<u8>);

/// Loads `data` with both loaders (each from the same bytes) and checks
/// they end alike.
fn load_both(path: &Path, data: &[u8]) -> Outcome {
    let outcome = |r: Result<LoadStats, LoadError>| {
        let r = r
            .map(|s| (s.commands, s.bytes, s.truncated))
            .map_err(|e| e.to_string());
        (r, std::fs::read(path).unwrap())
    };
    std::fs::write(path, data).unwrap();
    let plain = outcome(load(path, |_| Ok(())));
    std::fs::write(path, data).unwrap();
    let piped = outcome(load_pipelined(path, |_| (), |_, ()| Ok(())));
    assert_eq!(plain.0, piped.0);
    assert!(plain.1 == piped.1, "both loaders leave the same file");
    plain
}

#[test]
fn a_framing_error_is_reported_without_reading_the_rest() {
    let path = tmp("early-error");
    let mut data = b"*2\r\n+3\r\nDEL\r\n".to_vec();
    data.extend(records(200_000, &[b'v'; 100]));
    assert!(data.len() > 4 * CHUNK, "the file spans several chunks");
    std::fs::write(&path, &data).unwrap();
    let mut framer = Framer::new(Window::open(&path).unwrap());
    let err = framer.next(&mut Args::new()).unwrap_err().to_string();
    assert_eq!(
        err,
        "Protocol error: expected '$', got '+' (at byte offset 0)"
    );
    assert!(
        framer.win.buf.len() <= CHUNK,
        "{} bytes held",
        framer.win.buf.len()
    );
    assert_eq!(framer.win.base + framer.win.filled as u64, CHUNK as u64);
    // Past the first chunk too, the window does not grow.
    let good = records(60_000, &[b'v'; 100]);
    let mut data = good.clone();
    data.extend_from_slice(b"*1\r\n$x\r\n");
    data.extend(records(100_000, &[b'v'; 100]));
    std::fs::write(&path, &data).unwrap();
    let mut framer = Framer::new(Window::open(&path).unwrap());
    let mut args = Args::new();
    let err = loop {
        match framer.next(&mut args) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the bad record must stop the load"),
            Err(e) => break e.to_string(),
        }
    };
    let at = good.len();
    assert!(err.ends_with(&format!("(at byte offset {at})")), "{err}");
    assert!(
        framer.win.buf.len() <= 2 * CHUNK,
        "{} bytes held",
        framer.win.buf.len()
    );
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Err(err));
    assert!(file == data, "the file is left as it was");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_zero_filled_tail_is_cut() {
    let path = tmp("zero-tail");
    let good = records(3, b"v");
    let len = good.len() as u64;
    // After the last record.
    let mut data = good.clone();
    data.extend_from_slice(&[0; 10_000]);
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Ok((3, len, 10_000)));
    assert!(file == good);
    // Longer than a chunk.
    let mut data = good.clone();
    data.resize(good.len() + 2 * CHUNK + 7, 0);
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Ok((3, len, 2 * CHUNK as u64 + 7)));
    assert!(file == good);
    // Zeros from inside a record on (a crash between extending the file
    // and writing its pages): that record is torn.
    let mut data = good.clone();
    data.extend_from_slice(b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nid");
    data.extend_from_slice(&[0; 4096]);
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Ok((3, len, data.len() as u64 - len)));
    assert!(file == good);
    // Zeros between the last record and a torn one go with the torn one.
    let mut data = good.clone();
    data.extend_from_slice(&[0; 100]);
    data.extend_from_slice(b"*4\r\n$3\r\nSET");
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Ok((3, len, 111)));
    assert!(file == good);
    // Nothing but zeros.
    let (r, file) = load_both(&path, &[0; 5000]);
    assert_eq!(r, Ok((0, 0, 5000)));
    assert!(file.is_empty());
    // Zeros in the middle are skipped and stay.
    let mut data = good.clone();
    data.extend_from_slice(&[0; 100]);
    data.extend(records(2, b"w"));
    let (r, file) = load_both(&path, &data);
    assert_eq!(r, Ok((5, data.len() as u64, 0)));
    assert!(file == data);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_record_running_past_the_end_is_cut_only_when_nothing_follows_it() {
    let path = tmp("torn-or-corrupt");
    let good = records(3, b"v");
    let at = good.len();
    // A corrupted bulk length claims more bytes than the file has, but
    // complete records follow: refused, nothing cut.
    let mut data = good.clone();
    data.extend_from_slice(b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$90000000\r\nid3\r\n$1\r\nv\r\n");
    data.extend(records(5, b"w"));
    let (r, file) = load_both(&path, &data);
    let err = r.unwrap_err();
    assert!(err.starts_with("Protocol error: "), "{err}");
    assert!(err.ends_with(&format!("(at byte offset {at})")), "{err}");
    assert!(file == data, "nothing is cut");
    // The same with the records after it longer than a chunk.
    data.extend(records(60_000, &[b'w'; 100]));
    let (r, file) = load_both(&path, &data);
    let err = r.unwrap_err();
    assert!(err.ends_with(&format!("(at byte offset {at})")), "{err}");
    assert!(file == data);
    // A torn record, even one holding stray `*`, `$` and lines, is cut.
    for tail in [
        &b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1"[..],
        b"*3\r\n$3\r\nSET\r\n$40\r\n*1\r\n$4\r\n",
        b"*3\r\n$3\r\nSET\r\n$40\r\n*2\r\n$4\r\nPING\r\n$",
        b"*9\r\n$3\r\n**2\r\n$2\r\n*\r\r\n$999\r\nab",
    ] {
        let mut data = good.clone();
        data.extend_from_slice(tail);
        let (r, file) = load_both(&path, &data);
        assert_eq!(r, Ok((3, at as u64, tail.len() as u64)));
        assert!(file == good);
    }
    // The rule's limit: a torn record whose data holds a whole RESP record
    // is taken for corruption, and the file is left to the operator.
    let mut data = good.clone();
    data.extend_from_slice(
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nid\r\n$6\r\nSTRING\r\n$40\r\n*1\r\n$4\r\nPING\r\n",
    );
    let (r, file) = load_both(&path, &data);
    let err = r.unwrap_err();
    let next = at + data[at..].windows(4).position(|w| w == b"*1\r\n").unwrap();
    assert!(
        err.contains(&format!("starts after it at byte offset {next}")),
        "{err}"
    );
    assert!(file == data);
    std::fs::remove_file(&path).unwrap();
}

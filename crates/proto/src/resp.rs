//! RESP2 encoding: replies (`+OK`, `:1`, `$5\r\nhello`, `*2`, `$-1`, `-ERR …`)
//! and commands (`*3\r\n$3\r\nDEL\r\n…`, the AOF record format).

use crate::fmt::{write_f64, write_i64, write_u64};

pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

pub fn int(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    write_i64(out, n);
    out.extend_from_slice(b"\r\n");
}

pub fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'$');
    write_u64(out, s.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// A float as a bulk string (Tile38 never sends RESP doubles).
pub fn bulk_f64(out: &mut Vec<u8>, v: f64) {
    // Format in place, then slide the short number right to make room for
    // the `$n\r\n` header: no temporary allocation.
    let start = out.len();
    write_f64(out, v);
    let n = out.len() - start;
    let mut head = [0u8; 24];
    let mut h = 0;
    head[h] = b'$';
    h += 1;
    for &d in crate::fmt::decimal(n as u64, &mut [0u8; 20]) {
        head[h] = d;
        h += 1;
    }
    head[h..h + 2].copy_from_slice(b"\r\n");
    h += 2;
    out.splice(start..start, head[..h].iter().copied());
    out.extend_from_slice(b"\r\n");
}

pub fn bulk_i64(out: &mut Vec<u8>, v: i64) {
    let mut tmp = Vec::with_capacity(20);
    write_i64(&mut tmp, v);
    bulk(out, &tmp);
}

pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

pub fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    write_u64(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

/// An error line; control characters become spaces so the line stays framed.
pub fn error(out: &mut Vec<u8>, msg: &[u8]) {
    out.push(b'-');
    out.extend(msg.iter().map(|&b| if b < 0x20 { b' ' } else { b }));
    out.extend_from_slice(b"\r\n");
}

/// Encodes a command as a RESP array of bulk strings.
pub fn command<'a>(out: &mut Vec<u8>, args: impl ExactSizeIterator<Item = &'a [u8]>) {
    array(out, args.len());
    for a in args {
        bulk(out, a);
    }
}

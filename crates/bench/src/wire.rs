//! RESP on the benchmark's side: requests encoded straight into the batch
//! buffer (no per-argument `String`s, coordinates formatted with integer
//! arithmetic), and replies measured in place without copying them.

use tile38_proto::fmt::decimal;

/// Appends RESP arrays to a buffer.
pub struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    pub fn array(&mut self, n: usize) -> &mut Self {
        self.0.push(b'*');
        push_u64(self.0, n as u64);
        self.0.extend_from_slice(b"\r\n");
        self
    }

    pub fn bulk(&mut self, s: &[u8]) -> &mut Self {
        self.0.push(b'$');
        push_u64(self.0, s.len() as u64);
        self.0.extend_from_slice(b"\r\n");
        self.0.extend_from_slice(s);
        self.0.extend_from_slice(b"\r\n");
        self
    }

    /// `v` with exactly `decimals` decimals, as Go's `FormatFloat(v, 'f', d)`.
    pub fn fixed(&mut self, v: f64, decimals: u32) -> &mut Self {
        let mut buf = [0u8; 48];
        let n = fmt_fixed(&mut buf, v, decimals);
        self.bulk(&buf[..n])
    }

    /// `id:<n>`.
    pub fn id(&mut self, n: u64) -> &mut Self {
        let mut buf = [0u8; 23];
        buf[..3].copy_from_slice(b"id:");
        let mut digits = [0u8; 20];
        let d = decimal(n, &mut digits);
        buf[3..3 + d.len()].copy_from_slice(d);
        let len = 3 + d.len();
        self.bulk(&buf[..len])
    }
}

pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(decimal(n, &mut [0u8; 20]));
}

/// Fixed-point formatting without `format!` (the generator writes several
/// coordinates per request and must stay far cheaper than the server);
/// returns the length written. `decimals` is at most 9.
pub fn fmt_fixed(buf: &mut [u8; 48], v: f64, decimals: u32) -> usize {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round() as u64;
    let mut n = 0;
    if v < 0.0 && scaled != 0 {
        buf[0] = b'-';
        n = 1;
    }
    let mut digits = [0u8; 20];
    let int = decimal(scaled / scale, &mut digits);
    buf[n..n + int.len()].copy_from_slice(int);
    n += int.len();
    if decimals > 0 {
        buf[n] = b'.';
        n += 1;
        let mut frac = scaled % scale;
        for i in (0..decimals as usize).rev() {
            buf[n + i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        n += decimals as usize;
    }
    n
}

/// One complete reply at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub len: usize,
    /// An error reply: RESP `-ERR …`, or in JSON mode `{"ok":false,…}`.
    pub error: bool,
}

fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let end = buf.iter().position(|&b| b == b'\n')?;
    let text = &buf[..end];
    Some((text.strip_suffix(b"\r").unwrap_or(text), end + 1))
}

fn number(text: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("invalid server response: {}", String::from_utf8_lossy(text)))
}

/// Measures the reply at the start of `buf`: `Ok(None)` while incomplete.
pub fn reply(buf: &[u8]) -> Result<Option<Reply>, String> {
    let Some((text, head)) = line(buf) else {
        return Ok(None);
    };
    let Some((&kind, rest)) = text.split_first() else {
        return Err("invalid server response: empty line".into());
    };
    match kind {
        b'+' | b':' => Ok(Some(Reply {
            len: head,
            error: false,
        })),
        b'-' => Ok(Some(Reply {
            len: head,
            error: true,
        })),
        b'$' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Some(Reply {
                    len: head,
                    error: false,
                }));
            }
            let len = head + n as usize + 2;
            if buf.len() < len {
                return Ok(None);
            }
            let body = &buf[head..len - 2];
            Ok(Some(Reply {
                len,
                error: body.starts_with(b"{\"ok\":false"),
            }))
        }
        b'*' => {
            let mut len = head;
            for _ in 0..number(rest)?.max(0) {
                match reply(&buf[len..])? {
                    Some(r) => len += r.len,
                    None => return Ok(None),
                }
            }
            Ok(Some(Reply { len, error: false }))
        }
        _ => Err(format!(
            "invalid server response: {}",
            String::from_utf8_lossy(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut buf = [0u8; 48];
        let n = fmt_fixed(&mut buf, v, d);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn coordinates_as_go_formats_them() {
        assert_eq!(fixed(31.2358, 5), "31.23580");
        assert_eq!(fixed(-8.61435, 5), "-8.61435");
        assert_eq!(fixed(-0.000001, 5), "0.00000");
        assert_eq!(fixed(-179.886611, 6), "-179.886611");
        assert_eq!(fixed(4.5954, 5), "4.59540");
        assert_eq!(fixed(1000.0, 0), "1000");
    }

    #[test]
    fn requests_are_resp_arrays() {
        let mut buf = Vec::new();
        Enc(&mut buf)
            .array(3)
            .bulk(b"GET")
            .id(12)
            .fixed(-52.561651, 5);
        assert_eq!(
            buf,
            b"*3\r\n$3\r\nGET\r\n$5\r\nid:12\r\n$9\r\n-52.56165\r\n"
        );
    }

    #[test]
    fn replies_measured_in_place() {
        let r = |b: &[u8]| reply(b).unwrap();
        assert_eq!(
            r(b"+OK\r\n+PONG"),
            Some(Reply {
                len: 5,
                error: false
            })
        );
        assert_eq!(
            r(b"-ERR x\r\n"),
            Some(Reply {
                len: 8,
                error: true
            })
        );
        assert_eq!(
            r(b"$-1\r\n"),
            Some(Reply {
                len: 5,
                error: false
            })
        );
        assert_eq!(r(b"$3\r\nabc"), None);
        let arr = b"*2\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n:5\r\n";
        assert_eq!(r(arr).map(|x| x.len), Some(arr.len()));
        assert_eq!(r(&arr[..arr.len() - 1]), None);
        let json = b"$25\r\n{\"ok\":false,\"err\":\"nope\"}\r\n";
        assert_eq!(
            r(json),
            Some(Reply {
                len: 32,
                error: true
            })
        );
        assert!(reply(b"?\r\n").is_err());
    }
}

//! The reply checks (disable with `T38FUZZ_NO_REPLY_CHECK=1`): a
//! successful RESP-mode reply is exactly one well-formed RESP value; a
//! successful JSON-mode reply is valid JSON once wrapped as `conn.rs`
//! wraps it (until a fuzzed `JSET` succeeds).

use tile38_engine::reply::Reply;

/// Length of the one RESP value at the start of `b`, if well formed.
fn resp_value(b: &[u8], depth: usize) -> Option<usize> {
    fn line(b: &[u8]) -> Option<(&[u8], usize)> {
        let i = b.iter().position(|&c| c == b'\n')?;
        (i >= 1 && b[i - 1] == b'\r').then(|| (&b[..i - 1], i + 1))
    }
    fn int(s: &[u8]) -> Option<i64> {
        std::str::from_utf8(s).ok()?.parse().ok()
    }
    if depth > 64 {
        return None;
    }
    let (&kind, rest) = b.split_first()?;
    let (text, mut n) = line(rest)?;
    n += 1;
    match kind {
        b'+' | b'-' => (!text.contains(&b'\r')).then_some(n),
        b':' => int(text).map(|_| n),
        b'$' => match int(text)? {
            -1 => Some(n),
            len if len >= 0 => {
                let len = len as usize;
                (b.get(n + len..n + len + 2)? == b"\r\n").then_some(n + len + 2)
            }
            _ => None,
        },
        b'*' => match int(text)? {
            -1 => Some(n),
            count if count >= 0 => {
                for _ in 0..count {
                    n += resp_value(&b[n..], depth + 1)?;
                }
                Some(n)
            }
            _ => None,
        },
        _ => None,
    }
}

pub struct Checks {
    pub enabled: bool,
    /// A fuzzed JSET succeeded: documents may hold non-JSON text now.
    pub docs_tainted: bool,
    /// `T38FUZZ_TRACE=1`: print every command and its reply.
    pub trace: bool,
}

pub fn check_reply(reply: &Reply, checks: &Checks, shown: impl Fn() -> Vec<String>) {
    if !checks.enabled || reply.raw {
        return;
    }
    if !reply.json {
        let n = resp_value(&reply.buf, 0);
        assert_eq!(
            n,
            Some(reply.buf.len()),
            "{:?}: RESP reply is not exactly one value: {:?}",
            shown(),
            String::from_utf8_lossy(&reply.buf)
        );
    } else if !checks.docs_tainted {
        let mut body = b"{\"ok\":true".to_vec();
        body.extend_from_slice(&reply.buf);
        body.extend_from_slice(b",\"elapsed\":\"1s\"}");
        match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
            Ok(_) => {}
            // serde_json stops at 128 levels; stored JSON may nest deeper.
            Err(e) if e.to_string().contains("recursion limit") => {}
            Err(e) => panic!(
                "{:?}: JSON reply is invalid ({e}): {}",
                shown(),
                String::from_utf8_lossy(&body)
            ),
        }
    }
}

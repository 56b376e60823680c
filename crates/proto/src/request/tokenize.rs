//! The tokenisers that split one complete message's text into arguments:
//! Tile38's native/HTTP one and redcon's inline (telnet) one.

use super::memchr;
use super::ProtoError;
use crate::args::Args;

/// Tile38's native/HTTP tokeniser: split on single spaces (empty tokens
/// dropped); a token starting with `{` takes the rest of the line (GeoJSON);
/// after `SET … STRING` a `"quoted rest"` is one argument.
pub fn tokenize_native(payload: &[u8], args: &mut Args) {
    let mut rest = payload;
    while !rest.is_empty() {
        if rest[0] == b' ' {
            rest = &rest[1..];
            continue;
        }
        if rest[0] == b'{' {
            args.push(rest);
            return;
        }
        if rest.len() >= 2
            && rest[0] == b'"'
            && rest[rest.len() - 1] == b'"'
            && args.len() >= 2
            && args.get(0).eq_ignore_ascii_case(b"set")
            && args.get(args.len() - 1).eq_ignore_ascii_case(b"string")
        {
            args.push(&rest[1..rest.len() - 1]);
            return;
        }
        let end = memchr(b' ', rest).unwrap_or(rest.len());
        args.push(&rest[..end]);
        rest = &rest[end..];
    }
}

/// redcon's inline tokeniser: spaces separate tokens; a token may be wrapped
/// in `"` or `'` (with `\n`, `\r`, `\t` and `\x` escapes inside); a quote must
/// start a token and the closing quote must end it.
pub(super) fn tokenize_telnet(line: &[u8], args: &mut Args) -> Result<(), ProtoError> {
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b' ' {
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let quote = c;
            i += 1;
            args.push_empty();
            let mut closed = false;
            while i < line.len() {
                let c = line[i];
                if c == b'\\' && i + 1 < line.len() {
                    let e = match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    };
                    args.extend_last(&[e]);
                    i += 2;
                    continue;
                }
                if c == quote {
                    closed = true;
                    i += 1;
                    break;
                }
                args.extend_last(&[c]);
                i += 1;
            }
            if !closed || (i < line.len() && line[i] != b' ') {
                return Err(ProtoError::UnbalancedQuotes);
            }
            continue;
        }
        let start = i;
        while i < line.len() && line[i] != b' ' {
            if line[i] == b'"' || line[i] == b'\'' {
                return Err(ProtoError::UnbalancedQuotes);
            }
            i += 1;
        }
        args.push(&line[start..i]);
    }
    Ok(())
}

//! One data change as the fences see it, and the form Tile38's
//! `commandDetails` gives it (`crud.go`, `json.go:cmdJset`,
//! `expire.go`): FSET, EXPIRE and PERSIST carry no previous object, DEL
//! carries the deleted one as *the* object.

use tile38_collection::Item;

use crate::fence::Command;

/// One change, as the engine's journal seam hands it over: under the
/// write lock, after the database was updated, in execution order.
///
/// | command | `old` | `new` |
/// |---|---|---|
/// | `Set` (SET, JSET/JDEL on a spatial object) | the replaced object, if any | the stored object |
/// | `Fset`, `Expire`, `Persist` (only when they changed something) | ignored | the stored object |
/// | `Del` (DEL, each PDEL child, expiry) | the deleted object | `None` |
/// | `Drop` (only when the key existed) | `None` | `None` |
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub command: Command,
    pub key: &'a [u8],
    /// The object id (empty for `Drop`).
    pub id: &'a [u8],
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
    /// The command's time in unix nanoseconds: one per command, shared by
    /// all PDEL children.
    pub time: i64,
}

/// `commandDetails` as `fenceMatch` reads it.
#[derive(Clone, Copy)]
pub(crate) struct Details<'a> {
    pub command: Command,
    pub key: &'a [u8],
    pub id: &'a [u8],
    /// `d.obj`: the new object, or the deleted one.
    pub obj: Option<&'a Item>,
    /// `d.old`: the previous object of a SET only.
    pub old: Option<&'a Item>,
}

impl<'a> Details<'a> {
    pub fn of(c: &Change<'a>) -> Details<'a> {
        let (obj, old) = match c.command {
            Command::Set => (c.new, c.old),
            // crud.go sets no `old` for these: they are evaluated as if
            // the object had just appeared (enter + new group inside).
            Command::Fset | Command::Expire | Command::Persist => (c.new, None),
            Command::Del => (c.old.or(c.new), None),
            Command::Drop => (None, None),
        };
        Details {
            command: c.command,
            key: c.key,
            id: c.id,
            obj,
            old,
        }
    }
}

/// Appends `"<RFC 3339 time>"` as Go's `time.RFC3339Nano` prints a UTC
/// time (`fence.go:appendJSONTimeFormat`): up to nine fraction digits
/// with trailing zeros removed, no dot when the fraction is zero, `Z`.
pub(crate) fn write_time(out: &mut Vec<u8>, unix_nanos: i64) {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000) as u32;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, v: i64| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    out.push(b'"');
    if (0..10_000).contains(&y) {
        two(out, y / 100);
        two(out, y % 100);
    } else {
        // Outside Go's four-digit years; never a real command's time.
        out.extend_from_slice(y.to_string().as_bytes());
    }
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, sod / 3600);
    out.push(b':');
    two(out, sod / 60 % 60);
    out.push(b':');
    two(out, sod % 60);
    if nanos > 0 {
        let mut digits = [0u8; 9];
        let mut n = nanos;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let len = 9 - digits.iter().rev().take_while(|&&d| d == b'0').count();
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
    out.extend_from_slice(b"Z\"");
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(n: i64) -> String {
        let mut out = Vec::new();
        write_time(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc3339_nano_like_go() {
        assert_eq!(time(0), "\"1970-01-01T00:00:00Z\"");
        assert_eq!(
            time(1_796_499_334_942_857_155),
            "\"2026-12-05T19:35:34.942857155Z\""
        );
        assert_eq!(
            time(1_796_499_334_500_000_000),
            "\"2026-12-05T19:35:34.5Z\""
        );
        assert_eq!(
            time(951_782_400_000_000_010),
            "\"2000-02-29T00:00:00.00000001Z\""
        );
        assert_eq!(time(-1), "\"1969-12-31T23:59:59.999999999Z\"");
    }
}

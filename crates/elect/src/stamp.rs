//! The position stamp kept across a restart (issue 20): which epoch a
//! member's data counts in ([`crate::Position`]), written beside the AOF
//! when it rises, so that a member stopped and started again ranks with
//! the data it has instead of below every member that streamed since.
//!
//! A stale stamp is unsafe when it claims an epoch for bytes that are not
//! that epoch's: an AOF cut by a resync (the follower's resume search drops
//! a divergent tail) and grown again from another history, or rewritten
//! (AOFSHRINK), or replaced from a backup. So the stamp names the exact
//! file and bytes it vouches for: the AOF's file identity (device and
//! inode: a rewrite renames a new file into place, a restore writes a new
//! one), `size` (the AOF's length when it was written, then a prefix of
//! the AOF of the leader of `epoch`) and the MD5 of `[0, size)`. At start
//! ([`judge`]) it counts only if the AOF is the same file, at least `size`
//! long, and its first `size` bytes have that digest: the file was then
//! only appended to, or cut and grown again with the same first `size`
//! bytes, since. The member's position is (`epoch`, its AOF length).
//! Bytes appended after the stamp belong to `epoch` or to a later leader
//! the member followed (the true position then has a higher epoch: the
//! claim only understates it). Anything else is refused and the member
//! starts at epoch 0, as without the file. The I/O (file, digest, when to write) is
//! the server's (`server/src/elect/stamp.rs`); this module is the format
//! and the rule.

/// The file's name, in the AOF's directory.
pub const FILE_NAME: &str = "elect-position";

const MAGIC: &str = "tile38-elect-position 1";

/// What the file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The epoch of the leader whose AOF `[0, size)` was a prefix of.
    pub epoch: u64,
    /// How many AOF bytes the stamp vouches for.
    pub size: u64,
    /// MD5 (lower-case hex) of the AOF's `[0, size)` when written.
    pub digest: String,
    /// The AOF file's (device, inode) when written.
    pub file: (u64, u64),
}

impl Stamp {
    /// One line: `tile38-elect-position 1 epoch=E size=S md5=HEX
    /// file=DEV:INODE`.
    pub fn encode(&self) -> String {
        let (dev, ino) = self.file;
        format!(
            "{MAGIC} epoch={} size={} md5={} file={dev}:{ino}\n",
            self.epoch, self.size, self.digest
        )
    }

    /// Reads [`Stamp::encode`]'s line; anything else is an error.
    pub fn parse(text: &str) -> Result<Stamp, String> {
        let rest = text
            .trim_end_matches('\n')
            .strip_prefix(MAGIC)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or("not a position stamp")?;
        let mut fields = rest.split(' ');
        let mut next = |key: &str| {
            fields
                .next()
                .and_then(|f| f.strip_prefix(key))
                .ok_or_else(|| format!("position stamp: no {key}"))
        };
        let number = |v: &str, what: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("position stamp: bad {what} {v:?}"))
        };
        let epoch = number(next("epoch=")?, "epoch")?;
        let size = number(next("size=")?, "size")?;
        let digest = next("md5=")?.to_string();
        let (dev, ino) = next("file=")?
            .split_once(':')
            .ok_or("position stamp: bad file")?;
        let file = (number(dev, "device")?, number(ino, "inode")?);
        let hex = digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex || next("").is_ok() {
            return Err("position stamp: bad md5 or trailing fields".into());
        }
        Ok(Stamp {
            epoch,
            size,
            digest,
            file,
        })
    }
}

/// The rule at start: the epoch a restarted member's position counts in,
/// given its AOF's file identity and length now and the digest of its
/// first `n` bytes (`None`: unreadable). `Err` says why the stamp does not
/// count.
pub fn judge(
    stamp: &Stamp,
    (file, aof_size): ((u64, u64), u64),
    digest_of_prefix: impl FnOnce(u64) -> Option<String>,
) -> Result<u64, String> {
    if file != stamp.file {
        return Err("the AOF is another file than the stamp's (rewritten or replaced)".into());
    }
    if aof_size < stamp.size {
        return Err(format!(
            "the AOF has {aof_size} bytes, fewer than the {} the stamp vouches for",
            stamp.size
        ));
    }
    match digest_of_prefix(stamp.size) {
        Some(d) if d == stamp.digest => Ok(stamp.epoch),
        Some(_) => Err(format!(
            "the AOF's first {} bytes changed since the stamp (cut, rewritten or replaced)",
            stamp.size
        )),
        None => Err("the AOF could not be read".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            epoch: 7,
            size: 1234,
            digest: "0123456789abcdef0123456789abcdef".into(),
            file: (64769, 1234567),
        }
    }

    #[test]
    fn round_trips_and_refuses_what_it_did_not_write() {
        let s = stamp();
        assert_eq!(Stamp::parse(&s.encode()), Ok(s.clone()));
        let line = s.encode();
        for bad in [
            "",
            "tile38-elect-position 2 epoch=1 size=1 md5=0123456789abcdef0123456789abcdef file=1:2",
            &line.replace("file=64769:1234567", "file=64769"),
            &line.replace("epoch=7", "epoch=-7"),
            &line.replace("size=1234", "size="),
            &line.replace("md5=0", "md5=g"),
            &line.replace("md5=", "md5=00"),
            &line.replace('\n', " x\n"),
        ] {
            assert!(Stamp::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts_only_for_the_bytes_it_names() {
        let s = stamp();
        let same = |n: u64| (n == 1234).then(|| s.digest.clone());
        let f = s.file;
        assert_eq!(judge(&s, (f, 1234), same), Ok(7));
        assert_eq!(judge(&s, (f, 9999), same), Ok(7));
        assert!(judge(&s, (f, 1233), same)
            .unwrap_err()
            .contains("fewer than"));
        let other = |_| Some("ffffffffffffffffffffffffffffffff".to_string());
        assert!(judge(&s, (f, 9999), other).unwrap_err().contains("changed"));
        assert!(judge(&s, (f, 9999), |_| None).is_err());
        assert!(judge(&s, ((1, 2), 9999), same)
            .unwrap_err()
            .contains("another file"));
    }
}

//! One hook's queue on disk: append-only segment files of checksummed
//! records plus a cursor file naming the last sequence done with
//! (delivered, dropped or expired). Tile38 keeps the same thing in
//! `queue.db` (buntdb: `hook:log:<seq>` keys with a 30 s TTL); a log per
//! hook lets a slow hook's backlog be read and trimmed without touching the
//! others.
//!
//! ```text
//! <dir>/name                  the hook's name (directory names are hashes)
//! <dir>/cursor                two 16-byte slots: seq u64, crc32 u32, magic u32
//! <dir>/<first seq:020>.seg   "T38WHQ1\n" then records:
//!     len u32 | crc32(seq, queued_ms, payload) u32 | seq u64 | queued_ms u64 | payload
//! ```
//!
//! All integers little-endian. The cursor is written in place to
//! alternating slots, so a torn write leaves the previous slot readable;
//! reading takes the highest valid slot. A torn or corrupt record ends its
//! segment (the last segment is truncated there, as the AOF does).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::Event;

pub(crate) const MAGIC: &[u8; 8] = b"T38WHQ1\n";
const CURSOR_MAGIC: u32 = 0x5133_3854;
pub(crate) const HEADER: usize = 24;

/// Appends one record to `out`.
pub(crate) fn encode(out: &mut Vec<u8>, seq: u64, queued_ms: u64, payload: &[u8]) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&queued_ms.to_le_bytes());
    crc.update(payload);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&queued_ms.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Reads one record; `None` at a clean end, a torn tail or a bad checksum.
fn decode(r: &mut impl Read) -> Option<Event> {
    let mut h = [0u8; HEADER];
    r.read_exact(&mut h).ok()?;
    let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().unwrap());
    let (len, crc, seq, queued_ms) = (u32_at(0), u32_at(4), u64_at(8), u64_at(16));
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).ok()?;
    let mut sum = crc32fast::Hasher::new();
    sum.update(&h[8..24]);
    sum.update(&payload);
    (sum.finalize() == crc).then(|| Event {
        seq,
        queued_ms,
        payload: Bytes::from(payload),
    })
}

/// A segment file: where it is, and the sequences it holds.
#[derive(Debug)]
pub(crate) struct Segment {
    pub path: PathBuf,
    pub last: u64,
}

pub(crate) fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.seg"))
}

/// Creates a segment for records starting at `first`.
pub(crate) fn create_segment(dir: &Path, first: u64) -> io::Result<File> {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(segment_path(dir, first))?;
    f.write_all(MAGIC)?;
    Ok(f)
}

/// What a queue directory held.
pub(crate) struct Recovered {
    pub cursor: u64,
    /// Records after the cursor, in sequence order.
    pub events: Vec<Event>,
    /// Segments still holding records after the cursor.
    pub segments: Vec<Segment>,
    /// The highest sequence seen (cursor included).
    pub last_seq: u64,
}

/// Reads a queue directory back; segments wholly at or before the cursor
/// are deleted.
pub(crate) fn recover(dir: &Path) -> io::Result<Recovered> {
    let cursor = read_cursor(&dir.join("cursor"))?;
    let mut firsts: Vec<u64> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_suffix(".seg").and_then(|n| n.parse().ok()) {
            firsts.push(n);
        }
    }
    firsts.sort_unstable();
    let mut out = Recovered {
        cursor,
        events: Vec::new(),
        segments: Vec::new(),
        last_seq: cursor,
    };
    for (i, &first) in firsts.iter().enumerate() {
        let path = segment_path(dir, first);
        let is_last = i + 1 == firsts.len();
        let last = read_segment(&path, is_last, cursor, &mut out.events)?;
        out.last_seq = out.last_seq.max(last.unwrap_or(0));
        match last {
            Some(last) if last > cursor => out.segments.push(Segment { path, last }),
            _ => fs::remove_file(&path)?,
        }
    }
    Ok(out)
}

/// Pushes the records after `cursor` of one segment to `events`; returns
/// its last sequence. A bad tail is cut off the last segment (it is the
/// one being appended to when the process stopped) and skipped elsewhere.
fn read_segment(
    path: &Path,
    is_last: bool,
    cursor: u64,
    events: &mut Vec<Event>,
) -> io::Result<Option<u64>> {
    let mut r = BufReader::new(File::open(path)?);
    let mut magic = [0u8; 8];
    if r.read_exact(&mut magic).is_err() || &magic != MAGIC {
        tracing::warn!(path = %path.display(), "webhook queue: not a segment file, ignored");
        return Ok(None);
    }
    let mut good = MAGIC.len() as u64;
    let mut last = None;
    while let Some(ev) = decode(&mut r) {
        good += (HEADER + ev.payload.len()) as u64;
        last = Some(ev.seq);
        if ev.seq > cursor && events.last().is_none_or(|l| l.seq < ev.seq) {
            events.push(ev);
        }
    }
    let len = r.get_ref().metadata()?.len();
    if good < len {
        tracing::warn!(path = %path.display(), at = good, len, "webhook queue: torn or corrupt record, rest of segment dropped");
        if is_last {
            OpenOptions::new().write(true).open(path)?.set_len(good)?;
        }
    }
    Ok(last)
}

/// The highest valid cursor slot, 0 when there is none.
pub(crate) fn read_cursor(path: &Path) -> io::Result<u64> {
    let mut buf = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut buf)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let slot = |s: &[u8]| -> Option<u64> {
        let seq = u64::from_le_bytes(s.get(0..8)?.try_into().ok()?);
        let crc = u32::from_le_bytes(s.get(8..12)?.try_into().ok()?);
        let magic = u32::from_le_bytes(s.get(12..16)?.try_into().ok()?);
        (magic == CURSOR_MAGIC && crc == crc32fast::hash(&seq.to_le_bytes())).then_some(seq)
    };
    let a = slot(buf.get(0..16).unwrap_or(&[]));
    let b = slot(buf.get(16..32).unwrap_or(&[]));
    Ok(a.unwrap_or(0).max(b.unwrap_or(0)))
}

/// The cursor file, written in place to alternating slots.
pub(crate) struct CursorFile {
    file: File,
    next_slot: u64,
}

impl CursorFile {
    pub fn open(path: &Path) -> io::Result<CursorFile> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)?;
        Ok(CursorFile { file, next_slot: 0 })
    }

    pub fn write(&mut self, seq: u64) -> io::Result<()> {
        let mut slot = [0u8; 16];
        slot[0..8].copy_from_slice(&seq.to_le_bytes());
        slot[8..12].copy_from_slice(&crc32fast::hash(&seq.to_le_bytes()).to_le_bytes());
        slot[12..16].copy_from_slice(&CURSOR_MAGIC.to_le_bytes());
        self.file.write_all_at(&slot, self.next_slot * 16)?;
        self.next_slot ^= 1;
        Ok(())
    }

    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("t38-webhook-log-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn payloads(r: &Recovered) -> Vec<(u64, Vec<u8>)> {
        r.events
            .iter()
            .map(|e| (e.seq, e.payload.to_vec()))
            .collect()
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_rest_recovered() {
        let d = dir("torn");
        let mut f = create_segment(&d, 1).unwrap();
        let mut buf = Vec::new();
        for seq in 1..=3 {
            encode(&mut buf, seq, 1000 + seq, format!("m{seq}").as_bytes());
        }
        let good = (MAGIC.len() + buf.len()) as u64;
        let mut torn = Vec::new();
        encode(&mut torn, 4, 1004, b"m4");
        buf.extend_from_slice(&torn[..torn.len() - 1]);
        f.write_all(&buf).unwrap();
        drop(f);
        let r = recover(&d).unwrap();
        assert_eq!(
            payloads(&r),
            [
                (1, b"m1".to_vec()),
                (2, b"m2".to_vec()),
                (3, b"m3".to_vec())
            ]
        );
        assert_eq!((r.cursor, r.last_seq, r.segments.len()), (0, 3, 1));
        assert_eq!(fs::metadata(segment_path(&d, 1)).unwrap().len(), good);
        assert_eq!(r.events[2].queued_ms, 1003);
    }

    #[test]
    fn a_corrupt_record_ends_its_segment_and_the_cursor_skips_done_ones() {
        let d = dir("corrupt");
        let mut buf = Vec::new();
        for seq in 1..=3 {
            encode(&mut buf, seq, 0, b"x");
        }
        // Flip a payload byte of record 3.
        let last = buf.len() - 1;
        buf[last] ^= 1;
        create_segment(&d, 1).unwrap().write_all(&buf).unwrap();
        let mut later = Vec::new();
        encode(&mut later, 4, 0, b"y");
        create_segment(&d, 4).unwrap().write_all(&later).unwrap();
        let mut c = CursorFile::open(&d.join("cursor")).unwrap();
        c.write(1).unwrap();
        let r = recover(&d).unwrap();
        assert_eq!(payloads(&r), [(2, b"x".to_vec()), (4, b"y".to_vec())]);
        // Done with everything in the first segment: it is deleted.
        c.write(2).unwrap();
        let r = recover(&d).unwrap();
        assert_eq!(payloads(&r), [(4, b"y".to_vec())]);
        assert!(!segment_path(&d, 1).exists());
    }

    #[test]
    fn the_cursor_survives_a_torn_slot() {
        let d = dir("cursor");
        let path = d.join("cursor");
        assert_eq!(read_cursor(&path).unwrap(), 0);
        let mut c = CursorFile::open(&path).unwrap();
        c.write(7).unwrap();
        c.write(9).unwrap();
        assert_eq!(read_cursor(&path).unwrap(), 9);
        // Tear the newest slot (slot 1 holds 9): the older one still reads.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[0xff, 0xff], 16).unwrap();
        assert_eq!(read_cursor(&path).unwrap(), 7);
    }
}

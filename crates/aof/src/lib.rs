//! The append-only file (AOF), in Tile38's format: a concatenation of RESP
//! arrays, one per logged write, holding the client's verbatim arguments.
//!
//! * [`Aof::append`] buffers a record and returns the file offset where it
//!   ends. A writer thread moves the buffer to the file, coalescing the
//!   records of every connection into one `write(2)` (Tile38 issues one per
//!   client batch).
//! * [`Fsync`] is the durability policy (`appendfsync`): with `everysec`
//!   (default) and `no` the writer waits about a millisecond to gather
//!   records, so a crash of the process loses at most that millisecond, and
//!   `everysec` fsyncs once a second ([`Aof::sync`], called in the
//!   background and at shutdown). With `always` the writer fsyncs after
//!   every write and reports how much of what was appended is on disk
//!   ([`Aof::durable`] against [`Aof::appended`], and the notifier set with
//!   [`Aof::on_durable`]) so the server can hold replies until their records
//!   are on disk: group commit, one fsync for every record that arrived
//!   while the previous one ran. These count bytes appended since open, not
//!   file offsets: a rewrite replaces the file (offsets shrink), and a reply
//!   waiting on an offset of the old file would wait for the new one to
//!   grow that far.
//! * A write that fails (disk full) keeps the records queued in order and
//!   puts the AOF in an error state ([`Aof::write_error`]) until a retry
//!   succeeds: see `writer`.
//! * [`load`] / [`load_pipelined`] replay a file with the network framing
//!   parser (RESP, native and plain-text lines are all accepted) and
//!   truncate a torn tail or a zero-filled one (a record running past the
//!   end is cut only when no complete record follows it: otherwise it is
//!   corruption, and loading stops with its offset).
//! * [`Aof::md5`] serves `AOFMD5 pos size` for followers.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

mod load;
mod rewrite;
mod writer;

pub use load::{load, load_pipelined, LoadError, LoadStats};
pub use rewrite::Rewrite;

use md5::{Digest, Md5};
use parking_lot::{Condvar, Mutex};
use tile38_proto::resp;

/// An open AOF; dropping it stops the writer thread after a final flush.
pub struct Aof {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// `appendfsync`: when the AOF is fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// After every write, before the replies (group commit).
    Always,
    /// Once a second (Tile38's and Redis's default).
    EverySec,
    /// Never explicitly; the kernel writes back when it likes.
    No,
}

impl Fsync {
    /// Parses `always`, `everysec`, `no` (any case).
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }

    fn from_u8(v: u8) -> Fsync {
        match v {
            0 => Fsync::Always,
            2 => Fsync::No,
            _ => Fsync::EverySec,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Fsync::Always => 0,
            Fsync::EverySec => 1,
            Fsync::No => 2,
        }
    }
}

type Notifier = Box<dyn Fn(u64) + Send + Sync>;

struct Shared {
    path: PathBuf,
    policy: AtomicU8,
    /// A rewrite is running: appended records also go to `side`.
    capturing: AtomicBool,
    side: Mutex<Option<Vec<u8>>>,
    /// Bytes appended through this handle since it was opened (monotonic,
    /// whatever happens to the file).
    appended: AtomicU64,
    /// How many of `appended` are known to be on disk (advanced by fsyncs
    /// and by a rewrite's fsynced file).
    durable: AtomicU64,
    on_durable: Mutex<Option<Notifier>>,
    /// Bytes in the file (written, maybe not fsynced): what `AOF pos`
    /// streams may read.
    written: AtomicU64,
    on_written: Mutex<Option<Notifier>>,
    /// Bumped whenever the file's bytes are replaced (rewrite, truncation):
    /// readers holding offsets into the old bytes must start over.
    generation: AtomicU64,
    /// Records appended but not yet written to the file.
    pending: Mutex<Vec<u8>>,
    /// Signals the writer that `pending` became non-empty.
    wake: Condvar,
    /// Serialises file writes so that records reach the file in append order.
    file: Mutex<File>,
    /// File size including pending bytes (Tile38's `aof_size`).
    size: AtomicU64,
    dirty: AtomicBool,
    /// The writer is to fsync once whatever the policy (the policy changed:
    /// replies may wait under the old one).
    sync_asked: AtomicBool,
    stop: AtomicBool,
    /// Whether the file can be written (`writer`).
    health: writer::Health,
    /// The file may end in part of a record that a failed write left and
    /// that could not be cut off yet (under the `file` lock).
    torn: AtomicBool,
}

impl Shared {
    /// Records that the first `seq` appended bytes are on disk (or will
    /// never be written: nobody may wait for them).
    fn mark_durable(&self, seq: u64) {
        if self.durable.fetch_max(seq, Ordering::AcqRel) < seq {
            // Sent under the lock, and the latest value rather than `seq`:
            // two threads marking at once must not send the counter
            // backwards.
            if let Some(notify) = &*self.on_durable.lock() {
                notify(self.durable.load(Ordering::Acquire));
            }
        }
    }

    /// Counts `n` bytes just added to `pending` (call under its lock);
    /// returns the file offset where they end.
    fn count_appended(&self, n: usize) -> u64 {
        self.appended.fetch_add(n as u64, Ordering::AcqRel);
        self.size.fetch_add(n as u64, Ordering::AcqRel) + n as u64
    }

    fn notify_written(&self, end: u64) {
        if let Some(notify) = &*self.on_written.lock() {
            notify(end);
        }
    }

    fn policy(&self) -> Fsync {
        Fsync::from_u8(self.policy.load(Ordering::Acquire))
    }
}

impl Aof {
    /// Opens (creating, mode 0600) the AOF for appending and starts its
    /// writer thread.
    pub fn open(path: &Path) -> io::Result<Aof> {
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        let size = file.metadata()?.len();
        // A rewrite that never finished (crash): the AOF itself is intact.
        let _ = std::fs::remove_file(rewrite::shrink_path(path));
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            policy: AtomicU8::new(Fsync::EverySec.to_u8()),
            capturing: AtomicBool::new(false),
            side: Mutex::new(None),
            appended: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            on_durable: Mutex::new(None),
            written: AtomicU64::new(size),
            on_written: Mutex::new(None),
            generation: AtomicU64::new(0),
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            wake: Condvar::new(),
            file: Mutex::new(file),
            size: AtomicU64::new(size),
            dirty: AtomicBool::new(false),
            sync_asked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            health: Default::default(),
            torn: AtomicBool::new(false),
        });
        let s = shared.clone();
        let writer = std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || s.writer_loop())?;
        Ok(Aof {
            shared,
            writer: Some(writer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Current size, including buffered records.
    pub fn size(&self) -> u64 {
        self.shared.size.load(Ordering::Acquire)
    }

    /// Buffers one record (`*3\r\n$3\r\ndel\r\n…`); returns the file
    /// offset where it ends.
    pub fn append<'a>(&self, args: impl ExactSizeIterator<Item = &'a [u8]>) -> u64 {
        let mut pending = self.shared.pending.lock();
        let before = pending.len();
        resp::command(&mut pending, args);
        if self.shared.capturing.load(Ordering::Acquire) {
            if let Some(side) = &mut *self.shared.side.lock() {
                side.extend_from_slice(&pending[before..]);
            }
        }
        let end = self.shared.count_appended(pending.len() - before);
        if before == 0 {
            self.shared.wake.notify_one();
        }
        end
    }

    /// Buffers bytes that are already complete records (a follower mirrors
    /// its leader's AOF byte for byte); returns the offset where they end.
    pub fn append_raw(&self, records: &[u8]) -> u64 {
        let mut pending = self.shared.pending.lock();
        let before = pending.len();
        pending.extend_from_slice(records);
        if self.shared.capturing.load(Ordering::Acquire) {
            if let Some(side) = &mut *self.shared.side.lock() {
                side.extend_from_slice(records);
            }
        }
        let end = self.shared.count_appended(records.len());
        if before == 0 && !records.is_empty() {
            self.shared.wake.notify_one();
        }
        end
    }

    /// Cuts the file to `len` bytes (a follower dropping history its leader
    /// no longer has). Buffered records are dropped, and `len` is capped to
    /// the bytes already in the file.
    pub fn truncate(&self, len: u64) -> io::Result<()> {
        let sh = &self.shared;
        let file = sh.file.lock();
        {
            let mut pending = sh.pending.lock();
            pending.clear();
            // Not into part of a record a failed write left.
            let len = len
                .min(file.metadata()?.len())
                .min(sh.written.load(Ordering::Acquire));
            file.set_len(len)?;
            sh.torn.store(false, Ordering::Release);
            file.sync_all()?;
            sh.size.store(len, Ordering::Release);
            sh.written.store(len, Ordering::Release);
            sh.generation.fetch_add(1, Ordering::AcqRel);
            // The dropped pending records will never be written.
            sh.mark_durable(sh.appended.load(Ordering::Acquire));
        }
        drop(file);
        sh.notify_written(self.size());
        Ok(())
    }

    /// Bytes in the file (written, not necessarily fsynced).
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Acquire)
    }

    /// Changes whenever the file's bytes are replaced (AOFSHRINK,
    /// [`Aof::truncate`]); offsets taken before are meaningless after.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// A read handle on the file with the [`Aof::generation`] its bytes
    /// belong to (taken together: a rewrite renames the new file into
    /// place before it bumps the generation, both under the file lock).
    pub fn reader(&self) -> io::Result<(File, u64)> {
        let _file = self.shared.file.lock();
        Ok((File::open(&self.shared.path)?, self.generation()))
    }

    /// Calls `notify(offset)` (from the writer thread) whenever records
    /// reach the file, and after the file was replaced.
    pub fn on_written(&self, notify: impl Fn(u64) + Send + Sync + 'static) {
        *self.shared.on_written.lock() = Some(Box::new(notify));
    }

    /// Re-reads the file size after the file was cut behind this handle's
    /// back (loading truncates a torn tail); call before appending.
    pub fn reread_size(&self) -> io::Result<()> {
        let len = self.shared.file.lock().metadata()?.len();
        let _pending = self.shared.pending.lock();
        self.shared.size.store(len, Ordering::Release);
        self.shared.written.store(len, Ordering::Release);
        Ok(())
    }

    /// Writes buffered records to the file now (no fsync).
    pub fn flush(&self) -> io::Result<()> {
        self.shared.flush().map(drop)
    }

    /// Flushes and fsyncs.
    pub fn sync(&self) -> io::Result<()> {
        self.shared.sync()
    }

    /// While the file cannot be written (disk full, I/O error): the OS
    /// error text (`No space left on device`). The records already
    /// appended stay queued and are written as soon as the writer's retry
    /// succeeds; writes should be refused meanwhile.
    pub fn write_error(&self) -> Option<String> {
        self.shared.health.error()
    }

    /// Failed write or fsync attempts since open (retries included).
    pub fn write_errors(&self) -> u64 {
        self.shared.health.errors()
    }

    pub fn fsync_policy(&self) -> Fsync {
        self.shared.policy()
    }

    /// Changes the policy (`CONFIG SET appendfsync`).
    /// Replies waiting under the old policy are released by one fsync.
    pub fn set_fsync_policy(&self, policy: Fsync) {
        let sh = &self.shared;
        // Under the writer's lock, so that it cannot miss the wake-up
        // between checking for work and waiting.
        let _pending = sh.pending.lock();
        sh.policy.store(policy.to_u8(), Ordering::Release);
        sh.sync_asked.store(true, Ordering::Release);
        sh.wake.notify_one();
    }

    /// Bytes appended through this handle since it was opened (not a file
    /// offset: it never goes back, even when a rewrite shrinks the file).
    pub fn appended(&self) -> u64 {
        self.shared.appended.load(Ordering::Acquire)
    }

    /// How many of the [`Aof::appended`] bytes are known to be on disk.
    pub fn durable(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Calls `notify(durable)` (from the writer thread, or from the thread
    /// finishing a rewrite) whenever [`Aof::durable`] advances.
    pub fn on_durable(&self, notify: impl Fn(u64) + Send + Sync + 'static) {
        *self.shared.on_durable.lock() = Some(Box::new(notify));
    }

    /// MD5 (lower-case hex) of bytes `[pos, pos+size)`; `None` past the end
    /// (`AOFMD5` then answers `EOF`).
    pub fn md5(&self, pos: u64, size: u64) -> io::Result<Option<String>> {
        self.flush()?;
        let total = self.size();
        if pos.checked_add(size).is_none_or(|end| end > total) || (size == 0 && pos >= total) {
            return Ok(None);
        }
        let mut f = File::open(self.path())?;
        f.seek(SeekFrom::Start(pos))?;
        let mut hasher = Md5::new();
        let mut left = size;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = left.min(buf.len() as u64) as usize;
            let n = f.read(&mut buf[..want])?;
            if n == 0 {
                return Ok(None);
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(Some(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        ))
    }
}

impl Drop for Aof {
    fn drop(&mut self) {
        {
            let _pending = self.shared.pending.lock();
            self.shared.stop.store(true, Ordering::Release);
            self.shared.wake.notify_one();
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Err(e) = self.shared.sync() {
            let lost = self.shared.pending.lock().len();
            tracing::error!("AOF: {lost} bytes of records not written at close: {e}");
        }
    }
}

#[cfg(test)]
mod tests;

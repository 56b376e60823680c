//! The append-only file (AOF), in Tile38's format: a concatenation of RESP
//! arrays, one per logged write, holding the client's verbatim arguments.
//!
//! * [`Aof::append`] buffers a record. A writer thread moves the buffer to
//!   the file within about a millisecond, coalescing the records of every
//!   connection into one `write(2)` (Tile38 issues one per client batch); so
//!   a crash of the process loses at most the last millisecond of writes.
//!   [`Aof::flush`] writes synchronously; [`Aof::sync`] also fsyncs (once a
//!   second in the background, and at shutdown).
//! * [`load`] replays a file with the network framing parser (RESP, native
//!   and plain-text lines are all accepted) and truncates a torn tail.
//! * [`Aof::md5`] serves `AOFMD5 pos size` for followers.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use md5::{Digest, Md5};
use parking_lot::{Condvar, Mutex};
use tile38_proto::{parse_next, resp, Args, Limits};

/// An open AOF; dropping it stops the writer thread after a final flush.
pub struct Aof {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    path: PathBuf,
    /// Records appended but not yet written to the file.
    pending: Mutex<Vec<u8>>,
    /// Signals the writer that `pending` became non-empty.
    wake: Condvar,
    /// Serialises file writes so that records reach the file in append order.
    file: Mutex<File>,
    /// File size including pending bytes (Tile38's `aof_size`).
    size: AtomicU64,
    dirty: AtomicBool,
    stop: AtomicBool,
}

/// How long the writer waits after a wake-up so that one `write(2)` carries
/// the records of many clients.
const COALESCE: Duration = Duration::from_millis(1);

/// Why loading stopped.
#[derive(Debug)]
pub enum LoadError {
    Io(io::Error),
    /// A record could not be framed (`Protocol error: …`) or a command failed;
    /// `offset` is the byte offset of the record.
    Command {
        offset: u64,
        message: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Command { offset, message } => {
                write!(f, "{message} (at byte offset {offset})")
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> Self {
        LoadError::Io(e)
    }
}

/// Summary of a load.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    pub commands: u64,
    pub bytes: u64,
    /// Bytes of an incomplete final record that were cut off.
    pub truncated: u64,
}

/// Replays the AOF at `path` (missing file = empty), calling `apply` for each
/// command in order. A torn final record is truncated from the file with a
/// warning; any other framing error or an `apply` error stops the load.
pub fn load(
    path: &Path,
    mut apply: impl FnMut(&Args) -> Result<(), String>,
) -> Result<LoadStats, LoadError> {
    let mut data = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut data)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LoadStats::default()),
        Err(e) => return Err(e.into()),
    }
    let limits = Limits::default();
    let mut args = Args::new();
    let mut pos = 0usize;
    let mut stats = LoadStats::default();
    while pos < data.len() {
        if data[pos] == 0 {
            // Zero-filled tails (preallocation, crashes) are skipped, as Tile38 does.
            pos += 1;
            continue;
        }
        match parse_next(&data[pos..], &mut args, &limits) {
            Ok(Some(frame)) => {
                if !args.is_empty() {
                    apply(&args).map_err(|message| LoadError::Command {
                        offset: pos as u64,
                        message,
                    })?;
                    stats.commands += 1;
                }
                pos += frame.consumed;
            }
            Ok(None) => {
                let cut = data.len() - pos;
                tracing::warn!("Truncating {cut} bytes due to an incomplete command");
                OpenOptions::new()
                    .write(true)
                    .open(path)?
                    .set_len(pos as u64)?;
                stats.truncated = cut as u64;
                break;
            }
            Err(e) => {
                return Err(LoadError::Command {
                    offset: pos as u64,
                    message: e.to_string(),
                });
            }
        }
    }
    stats.bytes = pos as u64;
    Ok(stats)
}

impl Shared {
    fn flush(&self) -> io::Result<()> {
        let mut file = self.file.lock();
        let batch = {
            let mut pending = self.pending.lock();
            if pending.is_empty() {
                return Ok(());
            }
            std::mem::replace(&mut *pending, Vec::with_capacity(64 * 1024))
        };
        file.write_all(&batch)?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    fn writer_loop(&self) {
        loop {
            {
                let mut pending = self.pending.lock();
                while pending.is_empty() && !self.stop.load(Ordering::Acquire) {
                    self.wake.wait(&mut pending);
                }
            }
            if self.stop.load(Ordering::Acquire) {
                let _ = self.flush();
                return;
            }
            std::thread::sleep(COALESCE);
            if let Err(e) = self.flush() {
                tracing::error!("aof write: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
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
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            pending: Mutex::new(Vec::with_capacity(64 * 1024)),
            wake: Condvar::new(),
            file: Mutex::new(file),
            size: AtomicU64::new(size),
            dirty: AtomicBool::new(false),
            stop: AtomicBool::new(false),
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

    /// Buffers one record (`*3\r\n$3\r\ndel\r\n…`).
    pub fn append<'a>(&self, args: impl ExactSizeIterator<Item = &'a [u8]>) {
        let mut pending = self.shared.pending.lock();
        let before = pending.len();
        resp::command(&mut pending, args);
        self.shared
            .size
            .fetch_add((pending.len() - before) as u64, Ordering::AcqRel);
        if before == 0 {
            self.shared.wake.notify_one();
        }
    }

    /// Writes buffered records to the file now (no fsync).
    pub fn flush(&self) -> io::Result<()> {
        self.shared.flush()
    }

    /// Flushes and fsyncs.
    pub fn sync(&self) -> io::Result<()> {
        self.shared.flush()?;
        if self.shared.dirty.swap(false, Ordering::AcqRel) {
            self.shared.file.lock().sync_data()?;
        }
        Ok(())
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
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tile38-aof-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn append_flush_load_roundtrip() {
        let path = tmp("roundtrip");
        let aof = Aof::open(&path).unwrap();
        aof.append([&b"SET"[..], b"fleet", b"truck1", b"POINT", b"33", b"-112"].into_iter());
        aof.append([&b"del"[..], b"fleet", b"truck1"].into_iter());
        aof.flush().unwrap();
        assert_eq!(aof.size(), std::fs::metadata(&path).unwrap().len());
        let mut seen = Vec::new();
        let stats = load(&path, |a| {
            seen.push(a.to_strings().join(" "));
            Ok(())
        })
        .unwrap();
        assert_eq!(stats.commands, 2);
        assert_eq!(seen, ["SET fleet truck1 POINT 33 -112", "del fleet truck1"]);
        assert_eq!(
            aof.md5(0, 0).unwrap().as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(aof.md5(0, 1 << 40).unwrap(), None);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn torn_tail_is_truncated_and_text_lines_load() {
        let path = tmp("torn");
        std::fs::write(&path, b"set fleet truck point 10 10\r\n*2\r\n$3\r\nDEL").unwrap();
        let stats = load(&path, |_| Ok(())).unwrap();
        assert_eq!((stats.commands, stats.truncated), (1, 11));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 29);
        std::fs::write(&path, b"asdfasdf\r\n").unwrap();
        let err = load(&path, |a| {
            Err(format!("unknown command '{}'", a.to_strings()[0]))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown command 'asdfasdf' (at byte offset 0)"
        );
        std::fs::remove_file(&path).unwrap();
    }
}

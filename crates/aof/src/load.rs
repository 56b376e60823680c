//! Replaying an AOF at startup: the file is read in chunks and its records
//! framed with the network parser (RESP, native and plain-text lines are
//! all accepted). Files over 64 MiB log their progress. How a load ends:
//!
//! * Zero bytes that end the file (a crash on some filesystems leaves a file
//!   extended with zeros) are cut off with a warning once everything before
//!   them applied, so that new records follow the last one and a follower
//!   streaming the file never meets them. Zeros met at a record boundary
//!   before other records are skipped, as Tile38 does.
//! * A torn final record (one that the end of the file, or of its data
//!   before a zero-filled tail, leaves incomplete) is cut off too, unless a
//!   complete RESP record starts somewhere after its start: then its length
//!   was corrupted, not torn, and cutting would drop valid records.
//! * Any other framing error, or a failed command, stops the load at that
//!   record's offset and leaves the file as it was. A framing error is
//!   reported as soon as it is met: more bytes never mend one, so the window
//!   only grows for an incomplete record.
//!
//! * [`load`]: frames and applies on the calling thread.
//! * [`load_pipelined`]: frames and `prepare`s on a second thread, batches
//!   ahead of `apply` on the calling thread, so that parsing and applying
//!   overlap on two cores.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::mpsc;

use tile38_proto::{parse_next, Args, Limits};

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
    /// Bytes cut off the end of the file: the zeros that ended it and/or
    /// an incomplete final record.
    pub truncated: u64,
}

/// Large files report progress every 64 MiB.
const PROGRESS: u64 = 64 << 20;

/// Bytes read from the file at a time.
const CHUNK: usize = 4 << 20;

/// The file up to its zero-filled tail, read a chunk at a time into a
/// window that starts at the record being framed.
struct Window {
    /// Limited to the bytes before the zero-filled tail.
    file: Option<io::Take<File>>,
    buf: Vec<u8>,
    /// Bytes of `buf` holding file data.
    filled: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// Size of the file when it was opened.
    size: u64,
    /// Set when every byte before the zero-filled tail was read.
    eof: bool,
}

impl Window {
    /// The file at `path`; a missing file is empty.
    fn open(path: &Path) -> Result<Window, LoadError> {
        let (file, size) = match File::open(path) {
            Ok(mut f) => {
                let size = f.metadata()?.len();
                let data = zero_tail_start(&mut f, size)?;
                (Some(f.take(data)), size)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, 0),
            Err(e) => return Err(e.into()),
        };
        Ok(Window {
            eof: file.is_none(),
            file,
            buf: Vec::new(),
            filled: 0,
            base: 0,
            size,
        })
    }

    /// Drops the bytes before `from` (the window then starts there) and
    /// reads more after the rest (the window grows for a record longer than
    /// it); false at the end of the file.
    fn refill(&mut self, from: usize) -> io::Result<bool> {
        let Some(file) = &mut self.file else {
            return Ok(false);
        };
        self.buf.copy_within(from..self.filled, 0);
        self.base += from as u64;
        self.filled -= from;
        if self.buf.len() < self.filled + CHUNK {
            self.buf.resize(self.filled + CHUNK, 0);
        }
        let before = self.filled;
        while self.filled < self.buf.len() {
            match file.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.filled > before)
    }
}

/// Where the zero bytes that end the file start (`size` when it ends
/// otherwise), read backwards from the end; leaves `file` at its start.
fn zero_tail_start(file: &mut File, size: u64) -> io::Result<u64> {
    let mut buf = vec![0; 64 << 10];
    let mut end = size;
    while end > 0 {
        let n = end.min(buf.len() as u64) as usize;
        file.seek(SeekFrom::Start(end - n as u64))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(last) = buf[..n].iter().rposition(|&b| b != 0) {
            end = end - n as u64 + last as u64 + 1;
            break;
        }
        end -= n as u64;
    }
    file.rewind()?;
    Ok(end)
}

/// Where the first complete RESP record (`*<n>\r\n$…`, with arguments)
/// starts in `data` after its first byte, if any. Runs only on an
/// incomplete final record, which `data` starts with.
fn complete_record_after(data: &[u8], limits: &Limits) -> Option<usize> {
    let mut args = Args::new();
    let mut from = 1;
    while let Some(i) = data[from..].iter().position(|&b| b == b'*') {
        let at = from + i;
        from = at + 1;
        let digits = data[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0
            && data[from + digits..].starts_with(b"\r\n$")
            && matches!(parse_next(&data[at..], &mut args, limits), Ok(Some(_)))
            && !args.is_empty()
        {
            return Some(at);
        }
    }
    None
}

/// Walks the records of a file.
struct Framer {
    win: Window,
    /// Where the next record starts in the window.
    pos: usize,
    limits: Limits,
    commands: u64,
    next_report: u64,
    /// File offset after the last complete record: only zeros and a torn
    /// record may follow it when the file ends.
    valid: u64,
    /// The rest of the file is an incomplete record.
    torn: bool,
}

impl Framer {
    fn new(win: Window) -> Self {
        Framer {
            win,
            pos: 0,
            limits: Limits::default(),
            commands: 0,
            next_report: PROGRESS,
            valid: 0,
            torn: false,
        }
    }

    /// Frames the next command into `args`; returns its file offset, or
    /// `None` at the end of the file or at a torn tail. The window grows
    /// only while a record is incomplete: a framing error is final.
    fn next(&mut self, args: &mut Args) -> Result<Option<u64>, LoadError> {
        loop {
            if self.pos == self.win.filled {
                let more = self.win.refill(self.pos)?;
                self.pos = 0;
                if !more {
                    return Ok(None);
                }
            }
            let at = self.win.base + self.pos as u64;
            if at >= self.next_report {
                self.next_report += PROGRESS;
                tracing::info!(
                    "Loading AOF: {:.0}% ({} of {} bytes, {} commands)",
                    at as f64 * 100.0 / self.win.size as f64,
                    at,
                    self.win.size,
                    self.commands
                );
            }
            let data = &self.win.buf[self.pos..self.win.filled];
            if data[0] == 0 {
                // Zeros before more records (a crash, preallocation) are
                // skipped, as Tile38 does.
                self.pos += data.iter().position(|&b| b != 0).unwrap_or(data.len());
                continue;
            }
            match parse_next(data, args, &self.limits) {
                Ok(Some(frame)) => {
                    self.pos += frame.consumed;
                    self.valid = self.win.base + self.pos as u64;
                    if !args.is_empty() {
                        self.commands += 1;
                        return Ok(Some(at));
                    }
                }
                Ok(None) if !self.win.eof => {
                    self.win.refill(self.pos)?;
                    self.pos = 0;
                }
                Ok(None) => {
                    // The window holds the rest of the file's data.
                    if let Some(next) = complete_record_after(data, &self.limits) {
                        return Err(LoadError::Command {
                            offset: at,
                            message: format!(
                                "Protocol error: the record runs past the end of the file, \
                                 yet a complete record starts after it at byte offset {}",
                                at + next as u64
                            ),
                        });
                    }
                    self.torn = true;
                    return Ok(None);
                }
                Err(e) => {
                    return Err(LoadError::Command {
                        offset: at,
                        message: e.to_string(),
                    })
                }
            }
        }
    }

    /// Where framing ended.
    fn end(&self) -> End {
        End {
            commands: self.commands,
            valid: self.valid,
            size: self.win.size,
            torn: self.torn,
        }
    }
}

/// Where framing ended: after `commands` commands, the first `valid` bytes
/// of a file of `size` bytes hold them; the rest is zeros and, when
/// `torn`, an incomplete record.
struct End {
    commands: u64,
    valid: u64,
    size: u64,
    torn: bool,
}

impl End {
    /// Once every command applied: cuts a torn record or zero-filled tail
    /// off the file.
    fn finish(&self, path: &Path) -> Result<LoadStats, LoadError> {
        let cut = self.size.saturating_sub(self.valid);
        if cut > 0 {
            if self.torn {
                tracing::warn!("Truncating {cut} bytes due to an incomplete command");
            } else {
                tracing::warn!("Truncating {cut} zero bytes at the end of the file");
            }
            OpenOptions::new()
                .write(true)
                .open(path)?
                .set_len(self.valid)?;
        }
        Ok(LoadStats {
            commands: self.commands,
            bytes: self.valid,
            truncated: cut,
        })
    }
}

/// Replays the AOF at `path` (missing file = empty), calling `apply` for each
/// command in order. A torn final record and a zero-filled tail are
/// truncated from the file with a warning; any other framing error or an
/// `apply` error stops the load (see the module docs).
pub fn load(
    path: &Path,
    mut apply: impl FnMut(&Args) -> Result<(), String>,
) -> Result<LoadStats, LoadError> {
    let mut framer = Framer::new(Window::open(path)?);
    let mut args = Args::new();
    while let Some(offset) = framer.next(&mut args)? {
        apply(&args).map_err(|message| LoadError::Command { offset, message })?;
    }
    framer.end().finish(path)
}

/// Records a batch carries between the threads of [`load_pipelined`].
const BATCH: usize = 1024;
/// Batches framed ahead of the one being applied.
const AHEAD: usize = 4;

/// Framed records `(offset, args, prepared)`; the first `len` are live, the
/// rest keep their buffers for reuse.
struct Batch<T> {
    items: Vec<(u64, Args, Option<T>)>,
    len: usize,
}

/// Like [`load`] with the same outcome, in two stages: a second thread
/// frames each command and runs `prepare` on it (work that needs no
/// state, such as parsing arguments), batches ahead of `apply`, which gets
/// each command with what `prepare` made of it, in file order, on the
/// calling thread.
pub fn load_pipelined<T: Send>(
    path: &Path,
    mut prepare: impl FnMut(&Args) -> T + Send,
    mut apply: impl FnMut(&Args, T) -> Result<(), String>,
) -> Result<LoadStats, LoadError> {
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Batch<T>, LoadError>>(AHEAD);
        let (empty_tx, empty_rx) = mpsc::channel::<Batch<T>>();
        // The file is read there too, a chunk at a time.
        let framing = std::thread::Builder::new()
            .name("aof-load".into())
            .spawn_scoped(scope, move || {
                let mut framer = match Window::open(path) {
                    Ok(win) => Framer::new(win),
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return None;
                    }
                };
                loop {
                    let mut batch = empty_rx.try_recv().unwrap_or(Batch {
                        items: Vec::with_capacity(BATCH),
                        len: 0,
                    });
                    batch.len = 0;
                    let mut failed = None;
                    while batch.len < BATCH {
                        if batch.items.len() == batch.len {
                            batch.items.push((0, Args::new(), None));
                        }
                        let item = &mut batch.items[batch.len];
                        match framer.next(&mut item.1) {
                            Ok(Some(offset)) => {
                                item.0 = offset;
                                item.2 = Some(prepare(&item.1));
                                batch.len += 1;
                            }
                            Ok(None) => break,
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    let last = batch.len < BATCH;
                    // A send fails only when the applying side stopped.
                    if full_tx.send(Ok(batch)).is_err() {
                        return None;
                    }
                    if let Some(e) = failed {
                        let _ = full_tx.send(Err(e));
                        return None;
                    }
                    if last {
                        return Some(framer.end());
                    }
                }
            })?;
        for batch in full_rx.iter() {
            let mut batch = batch?;
            for (offset, args, prepared) in &mut batch.items[..batch.len] {
                let prepared = prepared.take().expect("prepared by the framing thread");
                apply(args, prepared).map_err(|message| LoadError::Command {
                    offset: *offset,
                    message,
                })?;
            }
            let _ = empty_tx.send(batch);
        }
        match framing.join() {
            Ok(Some(end)) => end.finish(path),
            // The framing thread sent its error, which was returned above.
            Ok(None) => Err(io::Error::other("AOF framing stopped early").into()),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests;

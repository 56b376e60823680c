//! Replaying an AOF at startup: the file is read whole and its records
//! framed with the network parser (RESP, native and plain-text lines are
//! all accepted). `0x00` bytes at a record boundary are skipped (zero-filled
//! tails), a torn final record is cut off the file with a warning once
//! everything before it applied, any other framing error or a failed
//! command stops the load at that record's offset, leaving the file as it
//! was. Files over 64 MiB log their progress.
//!
//! * [`load`]: frames and applies on the calling thread.
//! * [`load_pipelined`]: frames and `prepare`s on a second thread, batches
//!   ahead of `apply` on the calling thread, so that parsing and applying
//!   overlap on two cores.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
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
    /// Bytes of an incomplete final record that were cut off.
    pub truncated: u64,
}

/// Large files report progress every 64 MiB.
const PROGRESS: usize = 64 << 20;

/// Walks the records of a file image.
struct Framer<'a> {
    data: &'a [u8],
    pos: usize,
    limits: Limits,
    commands: u64,
    next_report: usize,
    /// The rest of the image is an incomplete record.
    torn: bool,
}

impl<'a> Framer<'a> {
    fn new(data: &'a [u8]) -> Self {
        Framer {
            data,
            pos: 0,
            limits: Limits::default(),
            commands: 0,
            next_report: PROGRESS,
            torn: false,
        }
    }

    /// Frames the next command into `args`; returns its offset, or `None`
    /// at the end of the image or at a torn tail.
    fn next(&mut self, args: &mut Args) -> Result<Option<u64>, LoadError> {
        let data = self.data;
        while self.pos < data.len() && !self.torn {
            let pos = self.pos;
            if pos >= self.next_report {
                self.next_report += PROGRESS;
                tracing::info!(
                    "Loading AOF: {:.0}% ({} of {} bytes, {} commands)",
                    pos as f64 * 100.0 / data.len() as f64,
                    pos,
                    data.len(),
                    self.commands
                );
            }
            if data[pos] == 0 {
                // Zero-filled tails (preallocation, crashes) are skipped, as Tile38 does.
                self.pos += 1;
                continue;
            }
            match parse_next(&data[pos..], args, &self.limits) {
                Ok(Some(frame)) => {
                    self.pos += frame.consumed;
                    if !args.is_empty() {
                        self.commands += 1;
                        return Ok(Some(pos as u64));
                    }
                }
                Ok(None) => self.torn = true,
                Err(e) => {
                    return Err(LoadError::Command {
                        offset: pos as u64,
                        message: e.to_string(),
                    })
                }
            }
        }
        Ok(None)
    }

    /// Where framing ended.
    fn end(&self) -> End {
        End {
            commands: self.commands,
            pos: self.pos,
            torn: self.torn.then_some(self.data.len() - self.pos),
        }
    }
}

/// Where framing ended: after `commands` commands at byte `pos`, with
/// `torn` bytes of an incomplete record after it.
struct End {
    commands: u64,
    pos: usize,
    torn: Option<usize>,
}

impl End {
    /// Once every command applied: cuts a torn tail off the file.
    fn finish(&self, path: &Path) -> Result<LoadStats, LoadError> {
        let mut stats = LoadStats {
            commands: self.commands,
            bytes: self.pos as u64,
            truncated: 0,
        };
        if let Some(cut) = self.torn {
            tracing::warn!("Truncating {cut} bytes due to an incomplete command");
            OpenOptions::new()
                .write(true)
                .open(path)?
                .set_len(self.pos as u64)?;
            stats.truncated = cut as u64;
        }
        Ok(stats)
    }
}

/// The whole file; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<Vec<u8>>, LoadError> {
    let mut data = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut data)?;
            Ok(Some(data))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Replays the AOF at `path` (missing file = empty), calling `apply` for each
/// command in order. A torn final record is truncated from the file with a
/// warning; any other framing error or an `apply` error stops the load.
pub fn load(
    path: &Path,
    mut apply: impl FnMut(&Args) -> Result<(), String>,
) -> Result<LoadStats, LoadError> {
    let Some(data) = read(path)? else {
        return Ok(LoadStats::default());
    };
    let mut framer = Framer::new(&data);
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
        // The file is read there too: applying starts with the first batch.
        let framing = std::thread::Builder::new()
            .name("aof-load".into())
            .spawn_scoped(scope, move || {
                let data = match read(path) {
                    Ok(Some(data)) => data,
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return None;
                    }
                };
                let mut framer = Framer::new(&data);
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

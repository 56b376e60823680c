//! Rewriting the AOF while writes go on (`AOFSHRINK`): the caller writes a
//! minimal command set into `<aof>-shrink`; meanwhile every appended record
//! is also kept in a side log; at the end, with appends held off by the
//! caller, the side log follows the new records, the new file is fsynced
//! and renamed over the AOF in one atomic step, and appending continues on
//! it. A crash at any point leaves either the old file or the complete new
//! one; a stale `-shrink` file is removed when the AOF is opened.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use tile38_proto::resp;

use crate::Aof;

/// The `-shrink` file being written.
pub struct Rewrite {
    path: PathBuf,
    out: BufWriter<File>,
    buf: Vec<u8>,
}

impl Rewrite {
    /// Appends one record to the new file.
    pub fn write<'a>(&mut self, args: impl ExactSizeIterator<Item = &'a [u8]>) -> io::Result<()> {
        self.buf.clear();
        resp::command(&mut self.buf, args);
        self.out.write_all(&self.buf)
    }
}

/// Path of the rewrite's temporary file.
pub(crate) fn shrink_path(aof: &std::path::Path) -> PathBuf {
    let mut p = aof.as_os_str().to_owned();
    p.push("-shrink");
    PathBuf::from(p)
}

impl Aof {
    /// Starts a rewrite: creates `<aof>-shrink` and starts the side log.
    pub fn begin_rewrite(&self) -> io::Result<Rewrite> {
        let path = shrink_path(&self.shared.path);
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            // The AOF's own mode: it holds every object.
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&path)?;
        *self.shared.side.lock() = Some(Vec::new());
        self.shared.capturing.store(true, Ordering::Release);
        Ok(Rewrite {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            buf: Vec::new(),
        })
    }

    /// Gives up a rewrite (its file is removed, the AOF is untouched).
    pub fn abort_rewrite(&self, rw: Rewrite) {
        let path = rw.path.clone();
        drop(rw);
        self.give_up(&path);
    }

    /// Stops the side log and removes the rewrite's file at `path`.
    fn give_up(&self, path: &Path) {
        self.shared.capturing.store(false, Ordering::Release);
        *self.shared.side.lock() = None;
        let _ = std::fs::remove_file(path);
    }

    /// Completes a rewrite. The caller must hold off appends (the server
    /// holds its database write lock): the side log is appended, the new
    /// file fsynced and renamed over the AOF, and appends continue on it.
    /// Returns the new size. On error the AOF is left as it was, holding
    /// every record, and the rewrite is given up.
    pub fn finish_rewrite(&self, rw: Rewrite) -> io::Result<u64> {
        let path = rw.path.clone();
        self.try_finish_rewrite(rw)
            .inspect_err(|_| self.give_up(&path))
    }

    fn try_finish_rewrite(&self, mut rw: Rewrite) -> io::Result<u64> {
        let sh = &self.shared;
        let mut file = sh.file.lock();
        // Held until the swap: records not yet written stay queued for the
        // old file until the new one, which holds them, replaces it (those
        // appended before the rewrite began are in the walk's output, the
        // later ones in the side log). So the swap needs no write to the
        // old file, and a rewrite can succeed while it cannot be written.
        let mut pending = sh.pending.lock();
        sh.capturing.store(false, Ordering::Release);
        let side = sh.side.lock().take().unwrap_or_default();
        rw.out.write_all(&side)?;
        let new = rw.out.into_inner().map_err(|e| e.into_error())?;
        new.sync_all()?;
        let len = new.metadata()?.len();
        drop(new);
        // Opened before the rename: nothing may fail after it, or appends
        // would go on into the old file, which no longer has a name.
        let reopened = OpenOptions::new().read(true).append(true).open(&rw.path)?;
        std::fs::rename(&rw.path, &sh.path)?;
        sync_dir(&sh.path);
        *file = reopened;
        pending.clear();
        sh.size.store(len, Ordering::Release);
        sh.written.store(len, Ordering::Release);
        sh.dirty.store(false, Ordering::Release);
        sh.torn.store(false, Ordering::Release);
        sh.generation.fetch_add(1, Ordering::AcqRel);
        drop(pending);
        drop(file);
        // Every record appended so far is in the fsynced new file.
        sh.mark_durable(sh.appended.load(Ordering::Acquire));
        sh.notify_written(len);
        Ok(len)
    }
}

/// Fsyncs the directory holding `path`, so that a rename in it survives a
/// power loss.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!("fsync of {}: {e}", dir.display());
    }
}

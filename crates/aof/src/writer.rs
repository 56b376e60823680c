//! Moving appended records to the file, and what happens when that fails.
//!
//! The writer thread (and any thread calling [`crate::Aof::flush`] or
//! [`crate::Aof::sync`]) takes the whole pending buffer and writes it at the end
//! of the file. A write can fail (`No space left on device`, `Input/output
//! error`, quota); then:
//!
//! * the file keeps the complete records that made it (a full disk usually
//!   takes part of a batch), the partial record after them is cut off, and
//!   every record not in the file goes back to the front of the queue, in
//!   order. Keeping what fits is what lets a freed megabyte drain a queue
//!   bigger than a megabyte; cutting or requeueing a whole batch never
//!   progresses once the queue outgrows the free space (the data loss of
//!   issue 13: writes acknowledged after space was freed were gone after a
//!   restart);
//! * the AOF enters its error state ([`crate::Aof::write_error`]): the server
//!   refuses new writes with Redis's `MISCONF Errors writing to the AOF
//!   file: …` (Redis's behaviour for `appendonly yes`; Tile38 1.37 logs and
//!   answers `+OK`), so the queue holds only the writes in flight at the
//!   moment of failure. One log line at the transition, one when it ends,
//!   and a counter of failed attempts ([`crate::Aof::write_errors`]);
//! * the writer retries with a full write + fsync, after 100 ms, doubling
//!   to 1 s. The first attempt that succeeds ends the error state; replies
//!   held by `appendfsync always` are then released by the fsync.
//!
//! A failed fsync is handled the same way (error state, retried). Linux may
//! report an fsync error once and then drop the dirty pages, so a later
//! fsync that succeeds does not prove that every byte reached the disk: the
//! retry is what Redis does, not a guarantee.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tile38_proto::{parse_next, Args, Limits};

use crate::{Fsync, Shared};

/// How long the writer waits after a wake-up so that one `write(2)` carries
/// the records of many clients.
const COALESCE: Duration = Duration::from_millis(1);

/// First and longest wait between attempts while the file cannot be written.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(1);

/// Whether the file can be written, and why not.
#[derive(Default)]
pub(crate) struct Health {
    failing: AtomicBool,
    /// OS error text of the last failure (set before `failing`).
    error: Mutex<Option<String>>,
    /// Failed write or fsync attempts since open.
    errors: AtomicU64,
}

impl Health {
    /// The OS error text while the file cannot be written.
    pub(crate) fn error(&self) -> Option<String> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        let text = self.error.lock().clone();
        Some(text.unwrap_or_else(|| "unknown error".into()))
    }

    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    /// Counts a failed attempt; logs the transition into the error state.
    fn failed(&self, e: &io::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let text = os_text(e);
        // Text and flag change together (under the lock), for `error`.
        let mut error = self.error.lock();
        *error = Some(text.clone());
        if !self.failing.swap(true, Ordering::AcqRel) {
            tracing::error!(
                "AOF cannot be written: {text}; refusing writes (MISCONF) and retrying until it can"
            );
        }
    }

    /// A full write and fsync succeeded; logs the end of the error state.
    fn recovered(&self) {
        let mut error = self.error.lock();
        if self.failing.swap(false, Ordering::AcqRel) {
            *error = None;
            tracing::info!(
                "AOF writable again: accepting writes ({} failed attempts since start)",
                self.errors()
            );
        }
    }
}

/// An io error's text without Rust's ` (os error N)` suffix, as Redis
/// prints `strerror`: `No space left on device`.
fn os_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rsplit_once(" (os error ") {
        Some((text, _)) => text.to_string(),
        None => s,
    }
}

/// Writes `batch` at the end of `file`; on failure returns how many of its
/// bytes are complete records now in the file, with the error.
fn write_records(file: &mut File, batch: &[u8]) -> Result<(), (usize, io::Error)> {
    let mut done = 0;
    while done < batch.len() {
        match file.write(&batch[done..]) {
            Ok(0) => {
                return Err((
                    record_prefix(&batch[..done]),
                    io::ErrorKind::WriteZero.into(),
                ))
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((record_prefix(&batch[..done]), e)),
        }
    }
    Ok(())
}

/// Length of the longest prefix of `bytes` made of complete records (and
/// the zero runs a follower mirrors from its leader).
fn record_prefix(bytes: &[u8]) -> usize {
    let (mut args, limits) = (Args::new(), Limits::default());
    let mut pos = 0;
    while pos < bytes.len() {
        if bytes[pos] == 0 {
            pos += bytes[pos..].iter().take_while(|&&b| b == 0).count();
            continue;
        }
        match parse_next(&bytes[pos..], &mut args, &limits) {
            Ok(Some(frame)) => pos += frame.consumed,
            _ => break,
        }
    }
    pos
}

impl Shared {
    /// Writes the pending records; returns the file offset written up to
    /// and the [`Shared::appended`] count that covers.
    pub(crate) fn flush(&self) -> io::Result<(u64, u64)> {
        let mut file = self.file.lock();
        let before = self.written.load(Ordering::Acquire);
        let result = self.flush_locked(&mut file);
        drop(file);
        let now = self.written.load(Ordering::Acquire);
        if now != before {
            self.notify_written(now);
        }
        if let Err(e) = &result {
            self.health.failed(e);
            // The writer may be idle: it is the one that retries.
            let _pending = self.pending.lock();
            self.wake.notify_one();
        }
        result
    }

    /// [`Shared::flush`] with the file lock held by the caller.
    fn flush_locked(&self, file: &mut File) -> io::Result<(u64, u64)> {
        let written = self.written.load(Ordering::Acquire);
        if self.torn.load(Ordering::Acquire) {
            // A failed write left part of a record that could not be cut.
            file.set_len(written)?;
            self.torn.store(false, Ordering::Release);
        }
        let (batch, end, seq) = {
            let mut pending = self.pending.lock();
            // Appends bump `size` and `appended` under this lock: they
            // count exactly the bytes written so far plus `pending`.
            let end = self.size.load(Ordering::Acquire);
            let seq = self.appended.load(Ordering::Acquire);
            if pending.is_empty() {
                return Ok((end, seq));
            }
            let batch = std::mem::replace(&mut *pending, Vec::with_capacity(64 * 1024));
            (batch, end, seq)
        };
        self.dirty.store(true, Ordering::Release);
        let Err((kept, e)) = write_records(file, &batch) else {
            self.written.store(end, Ordering::Release);
            return Ok((end, seq));
        };
        // The file keeps whole records only, so that the records written
        // after them follow a complete one.
        let cut = written + kept as u64;
        if file.set_len(cut).is_err() {
            self.torn.store(true, Ordering::Release);
        }
        self.written.store(cut, Ordering::Release);
        // The rest goes back to the front of the queue, for the next attempt.
        let mut pending = self.pending.lock();
        let mut rest = batch;
        rest.drain(..kept);
        rest.extend_from_slice(&pending);
        *pending = rest;
        Err(e)
    }

    /// Flushes and fsyncs; marks everything written so far durable. The
    /// one success that ends the error state.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let (_, seq) = self.flush()?;
        if self.dirty.swap(false, Ordering::AcqRel) {
            if let Err(e) = self.file.lock().sync_data() {
                self.dirty.store(true, Ordering::Release);
                self.health.failed(&e);
                return Err(e);
            }
        }
        self.health.recovered();
        self.mark_durable(seq);
        Ok(())
    }

    /// Whether the writer has something to do: records to write, a sync
    /// asked for, a failure to retry, or (under `always`) records some
    /// other thread wrote without fsyncing them (the expiry sweep's and
    /// `AOFMD5`'s flushes), which replies may be waiting on. Call under the
    /// `pending` lock.
    fn has_work(&self, pending: &[u8]) -> bool {
        !pending.is_empty()
            || self.stop.load(Ordering::Acquire)
            || self.sync_asked.load(Ordering::Acquire)
            || self.health.failing()
            || (self.policy() == Fsync::Always
                && self.durable.load(Ordering::Acquire) < self.appended.load(Ordering::Acquire))
    }

    pub(crate) fn writer_loop(&self) {
        let mut retry = Duration::ZERO;
        loop {
            {
                let mut pending = self.pending.lock();
                while !self.has_work(&pending) {
                    self.wake.wait(&mut pending);
                }
                if !retry.is_zero() && !self.stop.load(Ordering::Acquire) {
                    // Woken early by a shutdown or a policy change.
                    self.wake.wait_for(&mut pending, retry);
                }
            }
            if self.stop.load(Ordering::Acquire) {
                let _ = self.flush();
                return;
            }
            let asked = self.sync_asked.swap(false, Ordering::AcqRel);
            let result = if asked || self.policy() == Fsync::Always || self.health.failing() {
                // No extra wait: records arriving during the fsync form the
                // next group. A retry fsyncs too: only that ends the error.
                self.sync()
            } else {
                std::thread::sleep(COALESCE);
                self.flush().map(drop)
            };
            retry = match result {
                Ok(()) => Duration::ZERO,
                Err(_) => (retry * 2).clamp(RETRY_FIRST, RETRY_MAX),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_prefix_stops_before_a_partial_record() {
        let mut b = Vec::new();
        tile38_proto::resp::command(&mut b, [&b"SET"[..], b"k", b"a"].into_iter());
        let one = b.len();
        b.extend_from_slice(&[0, 0]);
        tile38_proto::resp::command(&mut b, [&b"SET"[..], b"k", b"b"].into_iter());
        let two = b.len();
        assert_eq!(record_prefix(&b), two);
        assert_eq!(record_prefix(&b[..two - 1]), one + 2);
        assert_eq!(record_prefix(&b[..one - 1]), 0);
        assert_eq!(record_prefix(&b[..one]), one);
    }

    #[test]
    fn os_text_drops_the_error_number() {
        let e = io::Error::from_raw_os_error(libc_enospc());
        assert_eq!(os_text(&e), "No space left on device");
        assert_eq!(os_text(&io::Error::other("boom")), "boom");
    }

    fn libc_enospc() -> i32 {
        28
    }
}

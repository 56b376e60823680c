//! Waiting for the database write lock without blocking a worker thread.
//!
//! Writes are serialized by the database's write lock, which a connection
//! keeps across the consecutive writes of one pipelined batch
//! (`tile38_engine::session::BatchLock`). Blocking on it parks the whole
//! worker thread: on a small machine, where the clients share the cores
//! with us, that thread could have been reading, framing and answering
//! other connections meanwhile, and parking then waking it costs two
//! context switches a batch. Measured with the oracle's `tile38-benchmark
//! -t SET -P 16` on 2 cores, a quarter of the server's time went to
//! `futex` waits and task switches, and one worker thread alone wrote 1.4×
//! faster than two blocking ones (`benches/README.md`, sixth session).
//! Go's Tile38 does not pay this: a goroutine waiting for its `RWMutex`
//! parks in user space.
//!
//! So before a write that would take the lock, a connection tries it
//! without blocking. When another connection holds it for writing (or
//! others already wait), this connection writes its pending replies and
//! queues on [`Server::write_released`], which every connection that
//! releases the lock it held for a batch signals, waking the longest
//! waiting. The releasing connection then yields once before writing its
//! replies: the woken waiter usually lands on the same worker, behind it,
//! and would otherwise wait out a socket write and read while the lock
//! idles (SET rows at P16: +15 % point, +3 % rect, −6 % line, +19 %
//! string, medians of 16 alternating runs; `benches/README.md`, eighth
//! session). Queued connections go first: letting a newcomer take a lock
//! that was just freed starved waiters (with 50 clients, 6 % of waits ran
//! out of patience and blocked anyway). A lock held by anything else
//! (readers, the expiry sweep, a rewrite's swap, a write that took it
//! blocking) is not signalled (`Server::write_lock_signals` tells which):
//! a write blocks on it as before, those holds being brief; a waiter also
//! tries again every [`RETRY`] (the sweep may take the lock between a
//! signal and its waiter), and after [`PATIENCE`] it blocks as before. No
//! command is reordered: the connection runs nothing else meanwhile.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Conn;

/// How long a connection waits for a release signal before blocking on
/// the lock as before (a holder that does not signal).
const PATIENCE: Duration = Duration::from_millis(20);

/// How often a waiting connection tries the lock without a signal.
const RETRY: Duration = Duration::from_millis(1);

impl Conn {
    /// Whether the framed command can run now without blocking on a lock
    /// a writer holds: true for anything but a write whose lock another
    /// connection holds for a batch (taking it when free).
    pub(super) fn write_lock_ready(&mut self) -> bool {
        let server = &self.server;
        let queued = server.write_waiters.load(Ordering::Acquire) > 0;
        // Free or read-held, nobody queued: the command runs now. A write
        // takes a free lock here rather than in the engine, so that it is
        // signalled from its first command on: a write on the other worker
        // meanwhile waits for the signal instead of blocking its thread on
        // the lock (at P1, where each batch is one SET, parking_lot's spin
        // gave the core away: 0.4 `sched_yield` a SET and 20 µs of server
        // CPU a SET against 8 a GET; `benches/README.md`, twelfth session).
        if !queued && !server.db.is_locked_exclusive() {
            if self.state.takes_write_lock(&self.args) {
                // Read-held: the write blocks on the readers as before.
                self.take_lock();
            }
            return true;
        }
        if !self.state.takes_write_lock(&self.args) {
            return true;
        }
        // Connections already waiting go first: one taking a free lock
        // past them could starve them.
        if queued {
            return false;
        }
        if self.take_lock() {
            return true;
        }
        // Worth waiting for only when a connection holds it for a batch
        // (it signals its release); anything else (readers, the expiry
        // sweep, a rewrite's swap) is brief, and the write blocks on it.
        !self.server.write_lock_signals.load(Ordering::Acquire)
    }

    /// Takes the write lock if it is free, promising to signal its release.
    fn take_lock(&mut self) -> bool {
        let took = self.state.lock.try_take(&self.server.db);
        self.note_lock_held();
        took
    }

    /// After a command: a write lock it took blocking (not through
    /// [`Conn::write_lock_ready`]) is signalled too, or the writers behind
    /// it would block on it, and on each other after it.
    pub(super) fn note_lock_held(&mut self) {
        if !self.signals_release && self.state.lock.held().is_some() {
            self.signals_release = true;
            self.server
                .write_lock_signals
                .store(true, Ordering::Release);
        }
    }

    /// At the end of a batch: releases the write lock, and when that woke
    /// a waiter, yields once before the replies are written. The waiter
    /// may be queued behind this task on this worker: it takes the lock
    /// now instead of after this connection's socket write and read, while
    /// the lock idles.
    pub(super) async fn end_batch_lock(&mut self) {
        if self.release_lock() {
            tokio::task::yield_now().await;
        }
    }

    /// Releases the batch's lock, if held, and wakes a connection waiting
    /// for the write lock: whether one was waiting after a write hold.
    pub(super) fn release_lock(&mut self) -> bool {
        let held = self.state.lock.held().is_some();
        self.looked_ahead = false;
        // Cleared even if the engine gave the lock back mid-batch (a large
        // command's parse, a connection command): the waiters it made
        // wait are woken here.
        let signals = std::mem::take(&mut self.signals_release);
        if signals {
            self.server
                .write_lock_signals
                .store(false, Ordering::Release);
        }
        let shared = self.state.lock.holds_shared();
        self.state.lock.release();
        if held || signals {
            self.server.write_released.notify_one();
            return self.server.write_waiters.load(Ordering::Acquire) > 0;
        }
        // A batch of reads may have been what a waiter's last try met.
        if shared && self.server.write_waiters.load(Ordering::Acquire) > 0 {
            self.server.write_released.notify_one();
        }
        false
    }

    /// Waits until this connection holds the write lock, or [`PATIENCE`]
    /// passed.
    pub(super) async fn wait_write_lock(&mut self) {
        let server = self.server.clone();
        server.write_waiters.fetch_add(1, Ordering::AcqRel);
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let released = server.write_released.notified();
            tokio::pin!(released);
            // Registered before trying, so a release in between wakes it.
            released.as_mut().enable();
            if self.take_lock() {
                break;
            }
            // Tried again now and then: a holder that took the lock after
            // the last signal (the expiry sweep) does not signal.
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            let _ = tokio::time::timeout_at(deadline.min(now + RETRY), released).await;
        }
        server.write_waiters.fetch_sub(1, Ordering::AcqRel);
        if self.state.lock.held().is_some() {
            // The next in line, once this connection releases the lock.
            return;
        }
        // Gave up: the command blocks on the lock, as before; wake the next
        // waiter now rather than after this one's patience.
        server.write_released.notify_one();
    }
}

/// A connection that ends while it holds the lock (killed right after it
/// got it) hands it on like any other release.
impl Drop for Conn {
    fn drop(&mut self) {
        let _ = self.release_lock();
    }
}

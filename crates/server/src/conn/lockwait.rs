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
//! waiting. Queued connections go first: letting a newcomer take a lock
//! that was just freed starved waiters (with 50 clients, 6 % of waits ran
//! out of patience and blocked anyway). Locks held by anything else
//! (readers, background tasks, a write too big to parse under the lock)
//! are not signalled: readers are brief, so a write blocks on them as
//! before, and a wait gives up after [`PATIENCE`], the command then
//! blocking as before too. No command is reordered: the connection runs
//! nothing else meanwhile.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Conn;

/// How long a connection waits for a release signal before blocking on
/// the lock as before (a holder that does not signal).
const PATIENCE: Duration = Duration::from_millis(20);

impl Conn {
    /// Whether the framed command can run now without blocking on a lock
    /// a writer holds: true for anything but a write whose lock another
    /// connection holds for writing (taking it when free).
    pub(super) fn write_lock_ready(&mut self) -> bool {
        if !self.state.takes_write_lock(&self.args) {
            return true;
        }
        let db = &self.server.db;
        // Connections already waiting go first: one taking a free lock
        // past them could starve them.
        if self.server.write_waiters.load(Ordering::Acquire) > 0 {
            return false;
        }
        self.state.lock.try_take(db) || !db.is_locked_exclusive()
    }

    /// Releases the batch's write lock, if held, and wakes a connection
    /// waiting for it.
    pub(super) fn release_lock(&mut self) {
        if self.state.lock.held().is_some() {
            self.state.lock.release();
            self.server.write_released.notify_one();
        }
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
            if self.state.lock.try_take(&server.db) {
                break;
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                break;
            }
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
        self.release_lock();
    }
}

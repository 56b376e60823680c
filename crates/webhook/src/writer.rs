//! The queue writer thread: moves each queue's unwritten records to its
//! segment file and its cursor to the cursor file, fsyncs on an interval
//! (Tile38's `queue.db` is a buntdb file synced every second), and removes
//! deleted hooks' queues once they are spent. A thread of its own, like the
//! AOF writer, so neither the write path nor the delivery tasks ever wait
//! on the disk.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::queue::HookQueue;
use crate::system::Shared;

/// The longest a record or cursor waits before it is written (the thread
/// is also woken by the first record of each batch).
const PASS: Duration = Duration::from_millis(50);
/// How often deleted hooks' spent queues are looked for.
const CLEANUP: Duration = Duration::from_secs(1);

pub(crate) fn spawn(shared: Arc<Shared>) -> io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("webhook-queue".into())
        .spawn(move || run(&shared))
}

fn run(shared: &Shared) {
    let mut next_sync = Instant::now() + shared.config.fsync_interval;
    let mut next_cleanup = Instant::now() + CLEANUP;
    let mut errors = ErrorLog::default();
    loop {
        let stop = shared.stop.load(Ordering::Acquire);
        let queues = shared.queues();
        for q in &queues {
            errors.check(q, persist(q));
        }
        let now = Instant::now();
        if stop || now >= next_sync {
            for q in &queues {
                errors.check(q, q.files.lock().sync());
            }
            next_sync = now + shared.config.fsync_interval;
        }
        if stop {
            return;
        }
        if now >= next_cleanup {
            shared.drop_spent();
            next_cleanup = now + CLEANUP;
        }
        std::thread::park_timeout(PASS);
    }
}

fn persist(q: &HookQueue) -> io::Result<()> {
    let mut files = q.files.lock();
    let (buf, last_seq, done) = q.take_unwritten();
    files.persist(&buf, last_seq, done)
}

/// Logs write errors at most once a minute: a full disk must not flood
/// the log. The events stay in memory and are still delivered; only
/// their persistence is lost.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
}

impl ErrorLog {
    fn check(&mut self, q: &HookQueue, r: io::Result<()>) {
        let Err(e) = r else { return };
        if self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60))
        {
            tracing::error!(
                hook = %String::from_utf8_lossy(&q.name),
                error = %e,
                "webhook queue: cannot write to disk; events are kept in memory only"
            );
            self.last = Some(Instant::now());
        }
    }
}

//! Background work: the 100 ms expiry sweep, the once-a-second AOF fsync,
//! and the periodic `maxmemory` check.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::time::Duration;
use tile38_aof::Fsync;

use crate::server::{now_nanos, Server};
use tile38_engine::journal::{Edit, Op, What};
use tile38_engine::refusal::used_memory;

/// Most objects one sweep deletes, so the write lock is never held long.
const SWEEP_BATCH: usize = 10_000;

/// Deletes objects whose deadline passed, journaling each as the `del key
/// id` Tile38 logs (an internal change: see `tile38_engine::journal`).
pub fn sweep_expired(server: &Server) -> usize {
    let now = now_nanos();
    let mut db = server.db.write();
    let mut victims: Vec<(Vec<u8>, Vec<tile38_collection::Id>)> = Vec::new();
    let mut total = 0;
    for (key, col) in db.iter_mut() {
        let ids = col.expired(now);
        if ids.is_empty() {
            continue;
        }
        total += ids.len();
        victims.push((key.to_vec(), ids));
        if total >= SWEEP_BATCH {
            break;
        }
    }
    for (key, ids) in &victims {
        for id in ids {
            // Each deletion is journaled before the next is made: a
            // subscriber sees the database as of its own change.
            let Some(old) = db.get_mut(key).and_then(|col| col.delete(id)) else {
                continue;
            };
            db.drop_if_empty(key);
            let edit = Edit {
                id,
                op: Op::Deleted(old),
            };
            let what = What::Objects(std::slice::from_ref(&edit));
            server.journal_internal(&db, "del", &[b"del", key, id], key, what);
        }
    }
    drop(db);
    if total > 0 {
        server
            .stats
            .expired_keys
            .fetch_add(total as u64, Ordering::Relaxed);
        if let Some(aof) = &server.aof {
            let _ = aof.flush();
        }
    }
    total
}

/// Takes `maxmemory` over (startup, `CONFIG SET`) and sets the OOM flag
/// when the heap exceeds it. Writes check the heap themselves
/// (`crate::gate`); this keeps the flag right between writes.
pub fn check_memory(server: &Server) {
    let max = server.config.props().maxmemory;
    server.memory_limit.store(max, Ordering::Relaxed);
    let over = max > 0 && used_memory() > max;
    server.oom.store(over, Ordering::Relaxed);
}

/// Returns freed heap memory to the OS (`GC`, `autogc`).
pub fn release_memory() {
    // SAFETY: malloc_trim only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Spawns the periodic tasks on the current runtime.
pub fn spawn(server: Arc<Server>) {
    tokio::spawn(crate::shrink::task(server.clone()));
    tokio::spawn(crate::hugepages::task(server.clone()));
    let s = server.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if !s.loading.load(Ordering::Acquire) {
                let s2 = s.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    sweep_expired(&s2);
                    tile38_engine::cmd::hooks::sweep_expired(&s2)
                })
                .await;
            }
        }
    });
    let s = server.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            // `everysec` only: `always` syncs in the writer, `no` leaves it
            // to the kernel. The fsync blocks, so it runs off the runtime.
            if s.aof
                .as_ref()
                .is_some_and(|a| a.fsync_policy() == Fsync::EverySec)
            {
                // A failure is logged by the AOF once, when it begins.
                let s = s.clone();
                let _ = tokio::task::spawn_blocking(move || s.aof.as_ref().map(|a| a.sync())).await;
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(4));
        let mut since_gc = 0u64;
        loop {
            tick.tick().await;
            check_memory(&server);
            let autogc = server.config.props().autogc;
            since_gc += 4;
            if autogc > 0 && since_gc >= autogc {
                release_memory();
                since_gc = 0;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tile38_collection::{Database, SetCond};
    use tile38_engine::journal::{Change, ChangeSink, Origin};
    use tile38_geo::Value;

    use super::*;

    /// What a subscriber heard: command, origin, record, and per edit
    /// whether there was an object before and after.
    type Heard = (&'static str, Origin, Vec<Vec<u8>>, Vec<(bool, bool)>);

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Heard>>);

    impl ChangeSink for Recorder {
        fn on_change(&self, db: &Database, change: &Change) {
            let edits = change.edits().iter().map(|e| {
                let after = change.after(db, e.id);
                (e.before(after).is_some(), after.is_some())
            });
            self.0.lock().unwrap().push((
                change.command,
                change.origin,
                change.record.words().map(<[u8]>::to_vec).collect(),
                edits.collect(),
            ));
        }
    }

    /// An expired object's deletion goes through the journal as the
    /// `del key id` Tile38 logs, with the object it removed.
    #[test]
    fn the_expiry_sweep_journals_each_deletion() {
        let server = Server::in_process();
        let recorder = Arc::new(Recorder::default());
        server.subscribe(recorder.clone());
        {
            let mut db = server.db.write();
            let col = db.get_or_create(b"fleet");
            for (id, at) in [(&b"gone"[..], Some(1)), (b"kept", None)] {
                let point = Value::Point {
                    x: 1.0,
                    y: 2.0,
                    z: 0.0,
                };
                col.set(id, point, vec![], at, SetCond::Always);
            }
        }
        assert_eq!(sweep_expired(&server), 1);
        let record = vec![b"del".to_vec(), b"fleet".to_vec(), b"gone".to_vec()];
        let heard = recorder.0.lock().unwrap().clone();
        assert_eq!(
            heard,
            [("del", Origin::Internal, record, vec![(true, false)])]
        );
    }
}

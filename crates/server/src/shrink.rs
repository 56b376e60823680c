//! `AOFSHRINK` and the automatic AOF rewrite.
//!
//! The rewrite runs on a blocking thread while clients keep writing: it
//! walks keys and ids in order under short read-lock holds (8 keys or 32
//! ids at a time) and writes one command per object, in Tile38's shrink
//! format, which Tile38 itself loads:
//!
//! ```text
//! set <key> <id> [field <name> <json value>]… [ex <seconds left>] object <geojson>|string <text>
//! ```
//!
//! then one `sethook`/`setchan` per webhook and channel definition.
//! Records appended meanwhile are replayed after it (the AOF keeps a side
//! log), so the only pause is the final swap under the write lock.
//!
//! Replaying the side log over the walk's output reproduces a write that
//! ends in the same state when applied again over a later state (`set`,
//! `del`, `fset`, `drop`, `flushdb`, …), but not two kinds: a rename (the
//! walk lists keys once, so `rename zoo alpha` made while it runs can leave
//! `zoo` gone when the walk reaches it and `alpha` never visited, and the
//! replayed rename has nothing to move) and a JSET appending to an array
//! (replayed over a walk that saw it, it appends twice). Their changes say
//! so ([`Change::idempotent`](tile38_engine::journal::Change::idempotent)),
//! and the journal [invalidates](tile38_engine::engine::ShrinkState::invalidate)
//! a running rewrite for them, which is
//! abandoned at its end (the AOF untouched) and done again, up to
//! [`ATTEMPTS`] times; the automatic trigger tries again later.
//!
//! The automatic rewrite starts when the AOF has grown by
//! `auto-aof-rewrite-percentage` % over its size after the last rewrite (or
//! at startup) and is at least `auto-aof-rewrite-min-size`, as in Redis.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tile38_aof::Rewrite;
use tile38_collection::{Collection, Id, Item};
use tile38_geo::Value;

use crate::server::{now_nanos, Server};

/// Rewrites tried in a row when writes keep invalidating them.
pub const ATTEMPTS: u32 = 3;

/// The background task: starts a rewrite on request or when [`due`].
pub async fn task(server: Arc<Server>) {
    if let Some(aof) = &server.aof {
        server.shrink.base_size.store(aof.size(), Ordering::Release);
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = server.shrink_request.notified() => {
                start(&server);
            }
            _ = tick.tick() => {
                if due(&server) {
                    tracing::info!("AOF grew past auto-aof-rewrite-percentage: rewriting");
                    start(&server);
                }
            }
        }
    }
}

/// Starts a rewrite in the background unless one is running or the AOF is
/// off; returns whether one was started.
pub fn start(server: &Arc<Server>) -> bool {
    if server.repl.following() {
        // A follower's AOF mirrors its leader's bytes (that is how it
        // resumes after a restart); a rewrite would force a full resync.
        tracing::info!("AOF rewrite skipped: following a leader");
        return false;
    }
    if server.aof.is_none() || server.shrink.running.swap(true, Ordering::AcqRel) {
        return false;
    }
    let s = server.clone();
    std::thread::Builder::new()
        .name("aof-shrink".into())
        .spawn(move || {
            let started = Instant::now();
            let mut outcome = run(&s);
            for _ in 1..ATTEMPTS {
                if !matches!(outcome, Ok(None)) {
                    break;
                }
                tracing::info!("AOF rewrite abandoned: a write it cannot reproduce was made meanwhile; retrying");
                outcome = run(&s);
            }
            if let Ok(Some(size)) = outcome {
                s.shrink.base_size.store(size, Ordering::Release);
                s.shrink
                    .last_secs
                    .store(started.elapsed().as_secs(), Ordering::Release);
                s.shrink.count.fetch_add(1, Ordering::AcqRel);
            }
            // Cleared before the outcome is logged: whoever reads the log
            // line finds the rewrite over (INFO, SERVER).
            s.shrink.running.store(false, Ordering::Release);
            match outcome {
                Ok(Some(size)) => tracing::info!(
                    "AOF rewritten: {size} bytes in {:.2}s",
                    started.elapsed().as_secs_f64()
                ),
                Ok(None) => tracing::warn!(
                    "AOF rewrite abandoned {ATTEMPTS} times (writes it cannot reproduce); giving up"
                ),
                Err(e) => tracing::error!("AOF rewrite failed: {e}"),
            }
        })
        .is_ok_and(|_| true)
}

/// Whether the AOF has grown enough for an automatic rewrite.
pub fn due(server: &Server) -> bool {
    let Some(aof) = server.aof.as_ref().filter(|_| !server.repl.following()) else {
        return false;
    };
    let props = server.config.props();
    let (pct, min) = (
        props.auto_aof_rewrite_percentage,
        props.auto_aof_rewrite_min_size,
    );
    drop(props);
    let size = aof.size();
    let base = server.shrink.base_size.load(Ordering::Acquire).max(1);
    pct > 0 && size >= min && size >= base.saturating_add(base / 100 * pct)
}

/// One rewrite: the new size, or `None` when it was invalidated.
fn run(server: &Server) -> std::io::Result<Option<u64>> {
    let aof = server.aof.as_ref().expect("checked by start");
    // Under the write lock, an invalidating write lands either before the
    // side log starts (the walk sees its result; the flag is cleared) or
    // after (it is captured and sets the flag, which the finish sees).
    let mut rw = {
        let _hold = server.db.write();
        server.shrink.begin();
        aof.begin_rewrite()?
    };
    let walked = write_objects(server, &mut rw);
    let _hold = server.db.write();
    if server.repl.following() {
        // FOLLOW came meanwhile: the AOF is now its leader's copy.
        aof.abort_rewrite(rw);
        return Err(std::io::Error::other("the server now follows a leader"));
    }
    if walked.is_err() || server.shrink.invalidated() {
        aof.abort_rewrite(rw);
        return walked.map(|()| None);
    }
    aof.finish_rewrite(rw).map(Some)
}

fn write_objects(server: &Server, rw: &mut Rewrite) -> std::io::Result<()> {
    let keys: Vec<Vec<u8>> = {
        let db = server.db.read();
        db.iter().map(|(k, _)| k.to_vec()).collect()
    };
    let mut keys = keys;
    keys.sort();
    let mut records: Vec<Vec<Vec<u8>>> = Vec::new();
    for key in &keys {
        let mut after: Option<Id> = None;
        loop {
            records.clear();
            {
                let db = server.db.read();
                let Some(col) = db.get(key) else { break };
                let now = now_nanos();
                for (id, item) in batch_after(col, after.as_ref()) {
                    records.push(record(key, id, item, now));
                    after = Some(id.clone());
                }
            }
            for r in &records {
                rw.write(r.iter().map(Vec::as_slice))?;
            }
            if records.len() < BATCH {
                break;
            }
        }
    }
    for r in tile38_engine::cmd::hooks::shrink_records(server) {
        rw.write(r.iter().map(Vec::as_slice))?;
    }
    Ok(())
}

const BATCH: usize = 32;

fn batch_after<'a>(
    col: &'a Collection,
    after: Option<&Id>,
) -> impl Iterator<Item = (&'a Id, &'a Item)> {
    let skip = after.cloned();
    col.range(after.map(|a| a.as_bytes()), false)
        .skip_while(move |(id, _)| skip.as_ref().is_some_and(|s| *id == s))
        .take(BATCH)
}

/// `set key id [field name value]… [ex secs] object json | string text`.
fn record(key: &[u8], id: &Id, item: &Item, now: i64) -> Vec<Vec<u8>> {
    let mut r: Vec<Vec<u8>> = vec![b"set".to_vec(), key.to_vec(), id.to_vec()];
    for (name, value) in item.fields.iter() {
        let mut v = Vec::new();
        value.write_json(&mut v);
        r.extend([b"field".to_vec(), name.to_vec(), v]);
    }
    if let Some(at) = item.deadline() {
        // Tenths of a second left, rounded down, at least 0.1 (Tile38).
        let tenths = (at.saturating_sub(now) / 100_000_000).max(1);
        r.extend([
            b"ex".to_vec(),
            format!("{}", tenths as f64 / 10.0).into_bytes(),
        ]);
    }
    match &item.value {
        Value::String(s) => r.extend([b"string".to_vec(), s.to_vec()]),
        v => r.extend([b"object".to_vec(), v.to_text()]),
    }
    r
}

//! One hook's queue: the undelivered events in memory, in sequence order,
//! bounded in count and bytes, each dropped when its TTL runs out; the
//! records not yet on disk; the counters its stats report.
//!
//! Tile38 (`hooks.go`, `aof.go:queueHooks`) stores every message with a
//! 30 s TTL, and its hook task takes them in sequence order and puts them
//! back, order kept, when every endpoint fails. Here the delivery worker
//! looks at the front event ([`HookQueue::front`]) and removes it only once
//! it is delivered ([`HookQueue::delivered`]), which is the same order with
//! no put-back.
//!
//! Overflow (Tile38 has no bound but the TTL): pushing past `max_events`
//! or `max_bytes` drops the *oldest* events, counted in `dropped`, with one
//! warning per hook per second at most. The newest events are the ones a
//! consumer catching up wants, and dropping at the front keeps the queue a
//! contiguous sequence range, so the disk cursor stays a single number.
//!
//! [`HookQueue::push`] is the write path's call: it runs under the
//! database lock, so it only takes this queue's mutex for a memcpy into the
//! unwritten buffer and the event list; the writer thread (`writer.rs`)
//! moves the buffer to disk.

pub(crate) mod files;
pub(crate) mod log;

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::stats::HookStats;

/// One queued message.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub seq: u64,
    /// Unix milliseconds when it was queued (wall clock: it must mean the
    /// same after a restart).
    pub queued_ms: u64,
    pub payload: Bytes,
}

/// The bounds a queue keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_events: usize,
    pub max_bytes: usize,
    /// 0: events never expire.
    pub ttl_ms: u64,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Default)]
struct State {
    events: VecDeque<Event>,
    bytes: usize,
    next_seq: u64,
    /// Encoded records the writer has not taken yet.
    unwritten: Vec<u8>,
    /// Every sequence up to this one is done with (delivered, dropped or
    /// expired): the disk cursor.
    done: u64,
    stats: HookStats,
    /// When the last overflow warning was logged, and drops since.
    drop_logged: Option<Instant>,
    drops_unlogged: u64,
}

/// One hook's queue, shared by the write path, its delivery worker and the
/// writer thread.
pub(crate) struct HookQueue {
    pub name: Vec<u8>,
    limits: Limits,
    state: Mutex<State>,
    /// Wakes the delivery worker when an event arrives.
    pub wake: Notify,
    /// The files on disk; only the writer thread locks it.
    pub files: Mutex<files::Files>,
}

impl HookQueue {
    /// A queue holding `recovered` (events after the cursor, in order).
    pub fn new(
        name: Vec<u8>,
        limits: Limits,
        files: files::Files,
        recovered: Vec<Event>,
        last_seq: u64,
        cursor: u64,
    ) -> HookQueue {
        let mut st = State {
            next_seq: last_seq.max(cursor) + 1,
            done: cursor,
            ..State::default()
        };
        st.stats.name = name.clone();
        for ev in recovered {
            st.bytes += ev.payload.len();
            st.events.push_back(ev);
        }
        let q = HookQueue {
            name,
            limits,
            state: Mutex::new(st),
            wake: Notify::new(),
            files: Mutex::new(files),
        };
        let mut st = q.state.lock();
        q.expire_front(&mut st, now_ms());
        q.enforce_bounds(&mut st);
        drop(st);
        q
    }

    /// Queues `payload`; returns whether the unwritten buffer was empty
    /// (the caller then wakes the writer, once per batch).
    pub fn push(&self, payload: &[u8]) -> bool {
        let now = now_ms();
        let mut st = self.state.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        let first = st.unwritten.is_empty();
        log::encode(&mut st.unwritten, seq, now, payload);
        st.bytes += payload.len();
        st.stats.enqueued += 1;
        st.events.push_back(Event {
            seq,
            queued_ms: now,
            payload: Bytes::copy_from_slice(payload),
        });
        self.enforce_bounds(&mut st);
        drop(st);
        self.wake.notify_one();
        first
    }

    fn enforce_bounds(&self, st: &mut State) {
        let mut dropped = 0;
        while st.events.len() > self.limits.max_events || st.bytes > self.limits.max_bytes {
            let Some(ev) = st.events.pop_front() else {
                break;
            };
            st.bytes -= ev.payload.len();
            st.done = st.done.max(ev.seq);
            dropped += 1;
        }
        if dropped == 0 {
            return;
        }
        st.stats.dropped += dropped;
        st.drops_unlogged += dropped;
        if st
            .drop_logged
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                hook = %String::from_utf8_lossy(&self.name),
                dropped = st.drops_unlogged,
                max_events = self.limits.max_events,
                max_bytes = self.limits.max_bytes,
                "webhook queue full: oldest events dropped"
            );
            st.drop_logged = Some(Instant::now());
            st.drops_unlogged = 0;
        }
    }

    /// Drops expired events at the front.
    fn expire_front(&self, st: &mut State, now: u64) {
        if self.limits.ttl_ms == 0 {
            return;
        }
        while let Some(ev) = st.events.front() {
            if now < ev.queued_ms.saturating_add(self.limits.ttl_ms) {
                break;
            }
            let ev = st.events.pop_front().unwrap();
            st.bytes -= ev.payload.len();
            st.done = st.done.max(ev.seq);
            st.stats.expired += 1;
        }
    }

    /// The oldest live event (expired ones are dropped first).
    pub fn front(&self) -> Option<Event> {
        let mut st = self.state.lock();
        self.expire_front(&mut st, now_ms());
        st.events.front().cloned()
    }

    /// `seq` was delivered in `latency`.
    pub fn delivered(&self, seq: u64, latency: Duration) {
        let mut st = self.state.lock();
        if st.events.front().is_some_and(|e| e.seq == seq) {
            let ev = st.events.pop_front().unwrap();
            st.bytes -= ev.payload.len();
        }
        st.done = st.done.max(seq);
        st.stats.delivered += 1;
        st.stats.last_latency = Some(latency);
    }

    /// Every endpoint failed for the front event.
    pub fn failed(&self, error: String) {
        let mut st = self.state.lock();
        st.stats.failures += 1;
        st.stats.last_error = Some(error);
    }

    /// An attempt went to an endpoint kind this build does not deliver to.
    pub fn unsupported(&self) {
        self.state.lock().stats.unsupported += 1;
    }

    /// Takes what the writer must persist: the unwritten records, the
    /// last sequence among them, and the cursor.
    pub fn take_unwritten(&self) -> (Vec<u8>, u64, u64) {
        let mut st = self.state.lock();
        let buf = std::mem::take(&mut st.unwritten);
        (buf, st.next_seq - 1, st.done)
    }

    /// Whether nothing is left to deliver or persist (a deleted hook's
    /// queue can then go). Drops expired events first.
    pub fn is_spent(&self) -> bool {
        let mut st = self.state.lock();
        self.expire_front(&mut st, now_ms());
        st.events.is_empty() && st.unwritten.is_empty()
    }

    pub fn depth(&self) -> u64 {
        self.state.lock().events.len() as u64
    }

    pub fn stats(&self) -> HookStats {
        let st = self.state.lock();
        let mut s = st.stats.clone();
        s.queue_depth = st.events.len() as u64;
        s.queue_bytes = st.bytes as u64;
        s
    }
}

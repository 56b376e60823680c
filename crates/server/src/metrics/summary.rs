//! `tile38_cmd_duration_seconds`: per-command timings kept as Go's client
//! keeps a summary — quantiles 0.5/0.9/0.95/0.99 over a sliding 10-minute
//! window in 5 age buckets, `_sum` and `_count` since start.
//!
//! Recording stays off the command path's critical section: a connection
//! buffers its batch's timings ([`CmdTimer`]) and hands them over once per
//! batch to one of [`SHARDS`] buffers picked by client id, so connections
//! rarely meet on a lock. Buffers are folded into the sketches (DDSketch,
//! 1 % relative error) when one fills up and at every scrape.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sketches_ddsketch::{Config, DDSketch};

/// The quantiles Tile38 reports.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];
const SHARDS: usize = 16;
/// A shard's buffer is folded into the sketches at this many samples.
const FOLD_AT: usize = 4096;
const AGE_BUCKETS: usize = 5;
/// Go's default `MaxAge` (10 minutes) split into `AGE_BUCKETS`.
const BUCKET_AGE: Duration = Duration::from_secs(120);
/// Distinct `cmd` label values kept; later names count under [`OTHER`].
/// Unknown command names come from clients: without a bound, a client
/// sending random words would grow the registry forever.
const MAX_LABELS: usize = 256;
pub const OTHER: &str = "_other";
/// Longest label value kept from an unknown command name.
const MAX_LABEL_LEN: usize = 64;

/// A `cmd` label value: the table's name for known commands (no
/// allocation), the lower-cased word for unknown ones.
pub type Label = Cow<'static, str>;

/// The `cmd` label of a command word, as Tile38 labels it (lower case).
pub fn label(name: &[u8]) -> Label {
    if let Some(spec) = tile38_engine::cmd::lookup(name) {
        return Cow::Borrowed(spec.name);
    }
    let mut s = String::from_utf8_lossy(name).to_lowercase();
    if s.len() > MAX_LABEL_LEN {
        let mut end = MAX_LABEL_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    Cow::Owned(s)
}

/// One connection's timings of the current batch.
#[derive(Default)]
pub struct CmdTimer {
    pending: Vec<(Label, u64)>,
    /// When the batch's previous command ended: the next one is timed from
    /// there (its framing included), one clock read per command, not two.
    last_end: Option<Instant>,
}

/// A command being timed (see [`CmdTimer::begin`]).
pub struct Running(Label, Instant);

impl CmdTimer {
    /// Starts timing the command `name`; `None` (and no clock read) while
    /// metrics are off.
    #[inline]
    pub fn begin(&mut self, enabled: bool, name: &[u8]) -> Option<Running> {
        enabled.then(|| Running(label(name), self.last_end.unwrap_or_else(Instant::now)))
    }

    #[inline]
    pub fn end(&mut self, running: Option<Running>) {
        if let Some(Running(label, started)) = running {
            let now = Instant::now();
            let nanos = now.duration_since(started).as_nanos().min(u64::MAX as u128) as u64;
            self.pending.push((label, nanos));
            self.last_end = Some(now);
        }
    }

    /// Hands the batch's timings over (once per batch).
    pub fn flush(&mut self, durations: &Durations, client_id: u64) {
        self.last_end = None;
        if !self.pending.is_empty() {
            durations.record(client_id, &mut self.pending);
        }
    }
}

/// Quantiles of the last 8–10 minutes: observations go into the newest of
/// five sketches; every two minutes the oldest is dropped.
struct Window {
    buckets: [DDSketch; AGE_BUCKETS],
    head: usize,
    head_since: Instant,
}

impl Window {
    fn new(now: Instant) -> Window {
        Window {
            buckets: std::array::from_fn(|_| DDSketch::new(Config::defaults())),
            head: 0,
            head_since: now,
        }
    }

    fn rotate(&mut self, now: Instant) {
        if now.duration_since(self.head_since) >= BUCKET_AGE * AGE_BUCKETS as u32 {
            *self = Window::new(now);
            return;
        }
        while now.duration_since(self.head_since) >= BUCKET_AGE {
            self.head = (self.head + 1) % AGE_BUCKETS;
            self.buckets[self.head] = DDSketch::new(Config::defaults());
            self.head_since += BUCKET_AGE;
        }
    }

    fn quantiles(&self) -> [Option<f64>; 4] {
        let mut all = DDSketch::new(Config::defaults());
        for b in &self.buckets {
            // Same configuration everywhere: merging cannot fail.
            let _ = all.merge(b);
        }
        // The sketch answers with a bucket's midpoint; within the observed
        // range, so that a lone observation reads back exactly.
        let (lo, hi) = (all.min().unwrap_or(0.0), all.max().unwrap_or(0.0));
        QUANTILES.map(|q| all.quantile(q).ok().flatten().map(|v| v.clamp(lo, hi)))
    }
}

struct Series {
    count: u64,
    sum_nanos: u128,
    window: Window,
}

/// What a scrape reports for one `cmd` label.
pub struct SeriesSnapshot {
    pub label: String,
    pub count: u64,
    pub sum_seconds: f64,
    /// `None`: no observation in the window (printed as `NaN`, as Go does).
    pub quantiles: [Option<f64>; 4],
}

pub struct Durations {
    shards: [Mutex<Vec<(Label, u64)>>; SHARDS],
    series: Mutex<BTreeMap<Label, Series>>,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            shards: std::array::from_fn(|_| Mutex::new(Vec::new())),
            series: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Durations {
    /// Moves `samples` (emptied) into the client's shard.
    pub fn record(&self, client_id: u64, samples: &mut Vec<(Label, u64)>) {
        let full = {
            let mut shard = self.shards[(client_id % SHARDS as u64) as usize].lock();
            shard.append(samples);
            (shard.len() >= FOLD_AT).then(|| std::mem::take(&mut *shard))
        };
        if let Some(full) = full {
            self.fold(full);
        }
    }

    fn fold(&self, samples: Vec<(Label, u64)>) {
        let now = Instant::now();
        let mut series = self.series.lock();
        // Batches are mostly one command repeated: one map lookup per run
        // of equal labels.
        let mut rest = &samples[..];
        while let Some((label, _)) = rest.first() {
            let run = rest.iter().take_while(|(l, _)| l == label).count();
            let key = if series.len() < MAX_LABELS || series.contains_key(label) {
                label.clone()
            } else {
                Cow::Borrowed(OTHER)
            };
            let s = series.entry(key).or_insert_with(|| Series {
                count: 0,
                sum_nanos: 0,
                window: Window::new(now),
            });
            s.window.rotate(now);
            let sketch = &mut s.window.buckets[s.window.head];
            for &(_, nanos) in &rest[..run] {
                s.sum_nanos += u128::from(nanos);
                sketch.add(nanos as f64 / 1e9);
            }
            s.count += run as u64;
            rest = &rest[run..];
        }
    }

    /// Every label's figures, sorted by label, after folding the shards.
    pub fn snapshot(&self) -> Vec<SeriesSnapshot> {
        for shard in &self.shards {
            let taken = std::mem::take(&mut *shard.lock());
            if !taken.is_empty() {
                self.fold(taken);
            }
        }
        let now = Instant::now();
        let mut series = self.series.lock();
        series
            .iter_mut()
            .map(|(label, s)| {
                s.window.rotate(now);
                SeriesSnapshot {
                    label: label.to_string(),
                    count: s.count,
                    sum_seconds: s.sum_nanos as f64 / 1e9,
                    quantiles: s.window.quantiles(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sums_and_quantiles() {
        let d = Durations::default();
        let mut batch: Vec<(Label, u64)> = (1..=100)
            .map(|i| (Cow::Borrowed("set"), i * 1_000))
            .collect();
        d.record(3, &mut batch);
        assert!(batch.is_empty());
        d.record(4, &mut vec![(label(b"PING"), 500)]);
        let snap = d.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!((snap[0].label.as_str(), snap[0].count), ("ping", 1));
        let set = &snap[1];
        assert_eq!((set.label.as_str(), set.count), ("set", 100));
        assert!((set.sum_seconds - 5050e-6).abs() < 1e-12);
        let p50 = set.quantiles[0].unwrap();
        let p99 = set.quantiles[3].unwrap();
        assert!((p50 - 50e-6).abs() / 50e-6 < 0.03, "{p50}");
        assert!((p99 - 99e-6).abs() / 99e-6 < 0.03, "{p99}");
    }

    #[test]
    fn unknown_names_are_lowercased_and_bounded() {
        assert_eq!(label(b"BadCmd"), "badcmd");
        assert_eq!(label(&[b'X'; 300]).len(), MAX_LABEL_LEN);
        let d = Durations::default();
        let mut batch: Vec<(Label, u64)> = (0..MAX_LABELS + 10)
            .map(|i| (Cow::Owned(format!("w{i}")), 1))
            .collect();
        d.record(0, &mut batch);
        let snap = d.snapshot();
        assert_eq!(snap.len(), MAX_LABELS + 1);
        let other = snap.iter().find(|s| s.label == OTHER).unwrap();
        assert_eq!(other.count, 10);
    }

    #[test]
    fn old_observations_leave_the_window() {
        let t0 = Instant::now();
        let mut w = Window::new(t0);
        w.buckets[w.head].add(1.0);
        w.rotate(t0 + BUCKET_AGE * 4);
        let p50 = w.quantiles()[0].expect("still in the window");
        assert!((p50 - 1.0).abs() < 0.02);
        w.rotate(t0 + BUCKET_AGE * 5);
        assert!(w.quantiles()[0].is_none());
    }
}

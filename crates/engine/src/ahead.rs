//! Looking ahead at a pipelined batch of updates.
//!
//! A connection keeps the write lock across the consecutive writes of one
//! batch (`session::BatchLock`). Applied one after another, each update of
//! an existing id waits for its own chain of cache misses: the id table's
//! probe, the object, its page in the spatial index. Once the lock is
//! held, the transport hands the batch's framed commands to an [`Ahead`],
//! which notes the ids the `SET`, `FSET` and `DEL` commands name
//! ([`Ahead::note`]) and looks them all up first ([`Ahead::prefetch`]):
//! the misses of the different ids overlap, and each update then finds
//! its lines in the cache. Measured on `pair.py`'s moving SET point row at
//! pipeline 16: server CPU a request 3.50 → 3.12 µs, throughput 1.12×
//! (`benches/README.md`, sixteenth session). Tile38 has nothing of the
//! kind; the replies, their order and every effect are the same with or
//! without it: only the cache is touched.

use std::ops::Range;

use tile38_collection::{Database, AHEAD};
use tile38_proto::Args;

/// The ids of a batch's updates, in runs of one key each.
#[derive(Default)]
pub struct Ahead {
    /// The ids, one after another.
    ids: Vec<u8>,
    /// Where each id ends in `ids`.
    ends: Vec<usize>,
    /// The runs' keys, one after another.
    keys: Vec<u8>,
    runs: Vec<Run>,
}

/// Consecutive updates of one key: its bytes in `Ahead::keys`, and the
/// end of its ids in `Ahead::ends`.
struct Run {
    key: Range<usize>,
    ids_end: usize,
}

impl Ahead {
    /// Starts a new batch.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.ends.clear();
        self.keys.clear();
        self.runs.clear();
    }

    /// Notes a framed command; `false` when it is not an update of one id
    /// or enough are noted (the caller stops looking).
    pub fn note(&mut self, args: &Args) -> bool {
        if self.ends.len() >= AHEAD || args.len() < 3 || !is_update(args.get(0)) {
            return false;
        }
        let key = args.get(1);
        if (self.runs.last()).is_none_or(|r| &self.keys[r.key.clone()] != key) {
            let from = self.keys.len();
            self.keys.extend_from_slice(key);
            let (key, ids_end) = (from..self.keys.len(), self.ends.len());
            self.runs.push(Run { key, ids_end });
        }
        self.ids.extend_from_slice(args.get(2));
        self.ends.push(self.ids.len());
        if let Some(run) = self.runs.last_mut() {
            run.ids_end = self.ends.len();
        }
        true
    }

    /// The `i`th noted id.
    fn id(&self, i: usize) -> &[u8] {
        let from = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        &self.ids[from..self.ends[i]]
    }

    /// Each run's key and ids.
    fn runs(&self) -> impl Iterator<Item = (&[u8], impl Iterator<Item = &[u8]>)> {
        let starts = std::iter::once(0).chain(self.runs.iter().map(|r| r.ids_end));
        self.runs.iter().zip(starts).map(|(r, from)| {
            let ids = (from..r.ids_end).map(|i| self.id(i));
            (&self.keys[r.key.clone()], ids)
        })
    }

    /// Looks every noted id up in its key's collection, if there is one,
    /// and starts bringing its object's index page towards the cache.
    pub fn prefetch(&self, db: &Database) {
        for (key, ids) in self.runs() {
            if let Some(col) = db.get(key) {
                col.prefetch_updates(ids);
            }
        }
    }
}

/// Whether a command of this name updates the one id its second argument
/// names in the key its first names.
fn is_update(name: &[u8]) -> bool {
    [&b"set"[..], b"fset", b"del"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noted(cmds: &[&[&str]]) -> Vec<(String, Vec<String>)> {
        let mut a = Ahead::default();
        for c in cmds {
            if !a.note(&Args::from_slices(c)) {
                break;
            }
        }
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        a.runs()
            .map(|(k, ids)| (s(k), ids.map(s).collect()))
            .collect()
    }

    #[test]
    fn runs_of_one_key_until_something_else() {
        let got = noted(&[
            &["SET", "fleet", "a", "POINT", "1", "2"],
            &["set", "fleet", "b", "STRING", "x"],
            &["FSET", "trucks", "c", "speed", "1"],
            &["DEL", "fleet", "d"],
            &["GET", "fleet", "e"],
            &["SET", "fleet", "f", "POINT", "1", "2"],
        ]);
        let run =
            |k: &str, ids: &[&str]| (k.to_string(), ids.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            got,
            vec![
                run("fleet", &["a", "b"]),
                run("trucks", &["c"]),
                run("fleet", &["d"])
            ]
        );
        assert!(noted(&[&["SET", "fleet"]]).is_empty());
        let many: Vec<Vec<String>> = (0..AHEAD + 5)
            .map(|i| vec!["SET".into(), "k".into(), i.to_string()])
            .collect();
        let many: Vec<Vec<&str>> = many
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        let many: Vec<&[&str]> = many.iter().map(Vec::as_slice).collect();
        assert_eq!(noted(&many)[0].1.len(), AHEAD);
    }
}

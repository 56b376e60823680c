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

/// The keys and ids of a batch's updates, in the order noted.
#[derive(Default)]
pub struct Ahead {
    /// The noted keys and ids, one after another.
    bytes: Vec<u8>,
    /// Per noted command: where its key and its id are in `bytes`.
    noted: Vec<(Range<usize>, Range<usize>)>,
}

impl Ahead {
    /// Starts a new batch.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.noted.clear();
    }

    /// Notes a framed command; `false` when it is not an update of one id
    /// or enough are noted (the caller stops looking).
    pub fn note(&mut self, args: &Args) -> bool {
        if self.noted.len() >= AHEAD || args.len() < 3 || !is_update(args.get(0)) {
            return false;
        }
        let mut push = |b: &[u8]| {
            let from = self.bytes.len();
            self.bytes.extend_from_slice(b);
            from..self.bytes.len()
        };
        let (key, id) = (push(args.get(1)), push(args.get(2)));
        self.noted.push((key, id));
        true
    }

    /// Each run of consecutive updates of one key: the key and the ids.
    fn runs(&self) -> impl Iterator<Item = (&[u8], impl Iterator<Item = &[u8]>)> {
        let at = |r: &Range<usize>| &self.bytes[r.clone()];
        (self.noted.chunk_by(move |a, b| at(&a.0) == at(&b.0)))
            .map(move |run| (at(&run[0].0), run.iter().map(move |(_, id)| at(id))))
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

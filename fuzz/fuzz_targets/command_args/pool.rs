//! The fixture between inputs ([`Pool`]): built once, lent to each
//! input's fresh server, then taken back and repaired: keys the input
//! created are dropped, a fixture key a write changed (or may have) is
//! replaced by a fresh copy of its pristine collection, the hooks are
//! rebuilt if a hook command changed them. A key or the hooks changing
//! with no command to explain it is a panic.

use std::net::{Ipv4Addr, SocketAddr};

use tile38_collection::{Collection, Database, SetCond};
use tile38_geo::Rect;
use tile38_proto::Args;
use tile38_engine::cmd::{self, hooks::Hooks};
use tile38_engine::Session as ConnState;
use tile38_engine::reply::Reply;
use tile38_engine::Engine as Server;

use crate::dirty::Dirty;
use crate::fixture::{fixture_hooks, fixture_keys, Cmd};
use crate::NAMES;

/// A fixture key's state as far as the harness checks it.
#[derive(Debug, PartialEq)]
struct Print {
    len: usize,
    points: usize,
    strings: usize,
    weight: usize,
    spatial: usize,
    bounds: Option<Rect>,
    /// Σ per-object write sequence: every write of an object gives it a
    /// sequence number above all earlier ones, so any set, FSET, EXPIRE or
    /// delete changes this sum or `len`.
    seqs: u64,
}

impl Print {
    /// The checks that need no walk over the objects.
    fn cheap(col: &Collection) -> Print {
        Print {
            len: col.len(),
            points: col.num_points(),
            strings: col.num_strings(),
            weight: col.weight(),
            spatial: col.spatial_len(),
            bounds: None,
            seqs: 0,
        }
    }

    fn full(col: &Collection) -> Print {
        Print {
            bounds: col.bounds(),
            seqs: col.range(None, false).map(|(_, item)| item.seq).sum(),
            ..Print::cheap(col)
        }
    }
}

/// Everything observable about a collection, for `T38FUZZ_CHECK_REPAIR=1`:
/// objects with fields, deadlines and sequence numbers in id order, and the
/// ids in spatial index order (the order of search results).
fn deep_print(col: &Collection) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, item) in col.range(None, false) {
        out.extend_from_slice(id);
        out.push(0);
        out.extend_from_slice(&item.value.to_text());
        for (n, v) in item.fields.iter() {
            out.extend_from_slice(n);
            out.push(b'=');
            out.extend_from_slice(&v.raw_bytes());
            out.push(b',');
        }
        out.extend_from_slice(format!(";{:?};{}\n", item.deadline(), item.seq).as_bytes());
    }
    let world = Rect::new(
        tile38_geo::Position::new(-1e300, -1e300),
        tile38_geo::Position::new(1e300, 1e300),
    );
    for (id, _) in col.intersecting(world) {
        out.extend_from_slice(id);
        out.push(b' ');
    }
    out
}

/// The hook definitions as AOFSHRINK writes them, without the seconds
/// left of an `EX` (they change as time passes).
fn hook_print(server: &Server) -> Vec<Vec<Vec<u8>>> {
    let mut records = cmd::hooks::shrink_records(server);
    for r in &mut records {
        if let Some(i) = r.iter().position(|w| w.as_slice() == b"ex") {
            r[i + 1].clear();
        }
    }
    records
}

/// A copy of `src` built the way an AOF load builds a collection (objects
/// in write order, indexes deferred, then packed in one go). Every copy of
/// the same source is identical, and no command is parsed.
fn copy(src: &Collection) -> Collection {
    let mut items: Vec<_> = src.range(None, false).collect();
    items.sort_by_key(|(_, item)| item.seq);
    let mut tmp = Database::new();
    tmp.defer_indexes();
    let col = tmp.get_or_create(b"k");
    for (id, item) in items {
        let fields = item
            .fields
            .iter()
            .map(|(n, v)| (Box::<[u8]>::from(n), v.clone()))
            .collect();
        col.set(
            id,
            item.value.clone(),
            fields,
            item.deadline(),
            SetCond::Always,
        );
    }
    tmp.build_indexes();
    tmp.remove(b"k").expect("just built")
}

struct Fixture {
    key: &'static str,
    /// Built once by the fixture commands; never handed out.
    pristine: Collection,
    cheap: Print,
    full: Print,
}

/// The fixture between inputs, and how to repair it.
pub struct Pool {
    /// The fixture database.
    db: Database,
    /// The fixture hooks and channels.
    hooks: Hooks,
    keys: Vec<Fixture>,
    hook_cmds: Vec<Cmd>,
    /// How many hooks and channels the fixture has.
    hook_count: usize,
    /// Builds the fixture hooks (never runs a fuzzed command).
    scratch: Server,
    scratch_conn: ConnState,
    stats: Option<Stats>,
    /// `T38FUZZ_CHECK_REPAIR=1`: compare every repaired key in full with a
    /// fresh copy (slow; to test the harness).
    check_repair: bool,
}

/// `T38FUZZ_STATS=1`: how often the fixture is repaired (printed every
/// 10,000 inputs that use it).
#[derive(Default, Debug)]
struct Stats {
    inputs: u64,
    /// Per key: copies made after a write that reported a change.
    rebuilt_written: Vec<u64>,
    /// Per key: copies made because the key changed though no write
    /// reported a change to it (FLUSHDB, a write reporting no change that
    /// still touched the key, such as an FSET of equal values).
    rebuilt_changed: Vec<u64>,
    hooks_rebuilt: u64,
}

pub fn new_conn(server: &Server, port: u16) -> ConnState {
    ConnState::new(server.register_client(SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
}

/// Runs `cmds` on `server`; every one must succeed.
fn run_fixture(server: &Server, conn: &mut ConnState, cmds: &[Cmd]) {
    let mut args = Args::new();
    for c in cmds {
        args.clear();
        for a in c {
            args.push(a);
        }
        let mut reply = Reply::new(false);
        if let Err(e) = conn.execute(server, &mut args, &mut reply) {
            panic!("fixture command {:?} failed: {}", args, e.message());
        }
    }
    conn.lock.release();
}

impl Pool {
    pub fn new() -> Pool {
        // Rebuilding a key frees and allocates the same few hundred KB;
        // without this, glibc returns the memory to the system each time
        // and page faults take it back (GC still trims on demand).
        // SAFETY: plain glibc tuning calls, made before the fuzzing starts.
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
        for name in NAMES {
            assert!(
                *name == "TIMEOUT" || cmd::lookup(name.as_bytes()).is_some(),
                "{name} is not in the command table"
            );
        }
        let scratch = Server::in_process();
        let mut scratch_conn = new_conn(&scratch, 2);
        let mut db = Database::new();
        let mut keys = Vec::new();
        for (key, cmds) in fixture_keys() {
            run_fixture(&scratch, &mut scratch_conn, &cmds);
            let mut built = scratch.db.write();
            let pristine = built.remove(key.as_bytes()).expect("fixture key built");
            assert!(
                built.is_empty(),
                "fixture commands only write their own key"
            );
            drop(built);
            let live = copy(&pristine);
            let (cheap, full) = (Print::cheap(&live), Print::full(&live));
            db.insert(key.as_bytes(), live);
            keys.push(Fixture {
                key,
                pristine,
                cheap,
                full,
            });
        }
        let stats = std::env::var_os("T38FUZZ_STATS").map(|_| Stats {
            rebuilt_written: vec![0; keys.len()],
            rebuilt_changed: vec![0; keys.len()],
            ..Stats::default()
        });
        let mut pool = Pool {
            db,
            hooks: Hooks::default(),
            keys,
            hook_cmds: fixture_hooks(),
            hook_count: 0,
            scratch,
            scratch_conn,
            stats,
            check_repair: std::env::var_os("T38FUZZ_CHECK_REPAIR").is_some(),
        };
        pool.build_hooks();
        pool.hook_count = cmd::hooks::count(&pool.scratch);
        assert_eq!(pool.hook_count, pool.hook_cmds.len());
        pool.hooks = std::mem::take(&mut *pool.scratch.hooks.lock());
        pool
    }

    /// Sets the fixture hooks on the scratch server (whose database is the
    /// fixture meanwhile: a fence's `GET key id` is looked up).
    fn build_hooks(&mut self) {
        std::mem::swap(&mut *self.scratch.db.write(), &mut self.db);
        *self.scratch.hooks.lock() = Hooks::default();
        run_fixture(&self.scratch, &mut self.scratch_conn, &self.hook_cmds);
        std::mem::swap(&mut *self.scratch.db.write(), &mut self.db);
    }

    pub fn key_index(&self, arg: &[u8]) -> Option<usize> {
        if !(4..=5).contains(&arg.len()) {
            return None;
        }
        self.keys.iter().position(|f| f.key.as_bytes() == arg)
    }

    /// Moves the fixture into a fresh server.
    pub fn lend(&mut self, server: &Server) {
        std::mem::swap(&mut *server.db.write(), &mut self.db);
        std::mem::swap(&mut *server.hooks.lock(), &mut self.hooks);
    }

    /// Takes the fixture back from `server` after an input and repairs it.
    pub fn restore(&mut self, server: &Server, dirty: &Dirty) {
        let mut db = std::mem::take(&mut *server.db.write());
        let stray: Vec<Vec<u8>> = db
            .iter()
            .map(|(k, _)| k.to_vec())
            .filter(|k| self.key_index(k).is_none())
            .collect();
        for k in stray {
            db.remove(&k);
        }
        for (i, f) in self.keys.iter().enumerate() {
            let bit = 1u64 << i;
            let written = dirty.all || dirty.written & bit != 0;
            let same = !written
                && db.get(f.key.as_bytes()).is_some_and(|col| {
                    Print::cheap(col) == f.cheap
                        && (dirty.named & bit == 0 || Print::full(col) == f.full)
                });
            if same {
                continue;
            }
            // A key no write named can only have changed through a bug
            // (or FLUSHDB, which names no key).
            assert!(
                dirty.named & bit != 0 || dirty.flushed,
                "fixture key {} changed though no write named it",
                f.key
            );
            db.insert(f.key.as_bytes(), copy(&f.pristine));
            if let Some(s) = &mut self.stats {
                if written {
                    s.rebuilt_written[i] += 1;
                } else {
                    s.rebuilt_changed[i] += 1;
                }
            }
        }
        if self.check_repair {
            for f in &self.keys {
                let now = db.get(f.key.as_bytes()).map(deep_print);
                assert!(
                    now == Some(deep_print(&copy(&f.pristine))),
                    "fixture key {} not restored",
                    f.key
                );
            }
        }
        self.db = db;
        if dirty.hooks {
            self.build_hooks();
            self.hooks = std::mem::take(&mut *self.scratch.hooks.lock());
            if let Some(s) = &mut self.stats {
                s.hooks_rebuilt += 1;
            }
        } else {
            assert_eq!(
                cmd::hooks::count(server),
                self.hook_count,
                "the fixture hooks changed though no hook command reported a change"
            );
            if self.check_repair {
                let now = hook_print(server);
                self.build_hooks();
                assert_eq!(now, hook_print(&self.scratch), "fixture hooks not restored");
            }
            self.hooks = std::mem::take(&mut *server.hooks.lock());
        }
        if let Some(s) = &mut self.stats {
            s.inputs += 1;
            if s.inputs % 10_000 == 0 {
                eprintln!("T38FUZZ_STATS {s:?}");
            }
        }
    }
}

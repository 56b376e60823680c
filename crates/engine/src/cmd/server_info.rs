//! Engine introspection: `SERVER [EXT]` and `INFO [section …]` (the
//! replication parts come from [`super::repl`]).

use std::sync::atomic::Ordering;

use tile38_geo::number;
use tile38_proto::Args;

use super::{ReadCommand, ReadCx};
use crate::cursor::Cursor;
use crate::engine::{rss_bytes, thread_count, Engine};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::VERSION;

/// A SERVER/INFO value: RESP prints it as text, JSON with its type.
pub enum Val {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Int(n) => n.to_string(),
            Val::Float(f) => tile38_proto::fmt::f64_string(*f),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.clone(),
        }
    }

    fn write_json(&self, out: &mut Reply) {
        match self {
            Val::Int(n) => out.json_i64(*n),
            Val::Float(f) => out.json_f64(*f),
            Val::Bool(b) => out.push(if *b { b"true" } else { b"false" }),
            Val::Str(s) => out.json_str(s.as_bytes()),
        }
    }
}

/// Writes a key-sorted map: RESP flat `[k v …]`, JSON `,"<member>":{…}`.
pub(super) fn write_map(out: &mut Reply, member: &str, mut map: Vec<(&str, Val)>) {
    map.sort_by(|a, b| a.0.cmp(b.0));
    if out.json {
        out.key(member);
        out.push(b"{");
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                out.push(b",");
            }
            out.json_str(k.as_bytes());
            out.push(b":");
            v.write_json(out);
        }
        out.push(b"}");
    } else {
        out.resp_array(map.len() * 2);
        for (k, v) in &map {
            out.resp_bulk(k.as_bytes());
            out.resp_bulk(v.text().as_bytes());
        }
    }
}

/// Heap figures from the allocator (glibc `mallinfo2`).
pub struct Heap {
    pub alloc: u64,
    pub sys: u64,
    pub idle: u64,
    pub mmapped: u64,
}

pub fn heap() -> Heap {
    // SAFETY: mallinfo2 only reads allocator statistics.
    let m = unsafe { libc::mallinfo2() };
    Heap {
        alloc: (m.uordblks + m.hblkhd) as u64,
        sys: (m.arena + m.hblkhd) as u64,
        idle: m.fordblks as u64,
        mmapped: m.hblkhd as u64,
    }
}

struct Totals {
    collections: usize,
    objects: usize,
    points: usize,
    strings: usize,
    weight: usize,
}

fn totals(cx: &ReadCx) -> Totals {
    let mut t = Totals {
        collections: cx.db.len(),
        objects: 0,
        points: 0,
        strings: 0,
        weight: 0,
    };
    for (_, c) in cx.db.iter() {
        t.objects += c.len();
        t.points += c.num_points();
        t.strings += c.num_strings();
        t.weight += c.weight();
    }
    t
}

pub struct ServerCmd {
    ext: bool,
}

impl ReadCommand<'_> for ServerCmd {
    fn parse(args: &Args) -> Result<Self> {
        // Tile38 reads every argument: each must be `EXT` (any number of
        // times, any case); the first that is not is `invalid argument`.
        let mut ext = false;
        for a in Cursor::new(args).rest() {
            if !a.eq_ignore_ascii_case(b"ext") {
                return Err(Error::invalid_arg(a));
            }
            ext = true;
        }
        Ok(ServerCmd { ext })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let s = cx.engine;
        let t = totals(cx);
        let h = heap();
        let props = s.config.props();
        let avg = if t.points > 0 {
            h.alloc as i64 / t.points as i64
        } else {
            0
        };
        let id = s.config.identity().server_id;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
        let map = if !self.ext {
            let mut map = vec![
                ("aof_size", Val::Int(s.aof_size() as i64)),
                ("avg_item_size", Val::Int(avg)),
                ("cpus", Val::Int(cpus)),
                ("heap_released", Val::Int(0)),
                ("heap_size", Val::Int(h.alloc as i64)),
                ("http_transport", Val::Bool(s.opts.http_transport)),
                ("id", Val::Str(id)),
                ("in_memory_size", Val::Int(t.weight as i64)),
                ("max_heap_size", Val::Int(props.maxmemory as i64)),
                ("mem_alloc", Val::Int(h.alloc as i64)),
                ("num_collections", Val::Int(t.collections as i64)),
                ("num_hooks", Val::Int(super::hooks::count(s) as i64)),
                ("num_objects", Val::Int(t.objects as i64)),
                ("num_points", Val::Int(t.points as i64)),
                ("num_strings", Val::Int(t.strings as i64)),
                (
                    "pending_events",
                    Val::Int(s.runtime().pending_events() as i64),
                ),
                ("pid", Val::Int(std::process::id() as i64)),
                (
                    "pointer_size",
                    Val::Int(std::mem::size_of::<usize>() as i64),
                ),
                ("read_only", Val::Bool(s.config.read_only())),
                ("threads", Val::Int(thread_count() as i64)),
                ("version", Val::Str(VERSION.into())),
            ];
            if let Some(t) = s.repl.target() {
                // Tile38 inserts these in sorted key order.
                map.insert(2, ("caught_up", Val::Bool(s.repl.caught_up())));
                map.insert(3, ("caught_up_once", Val::Bool(s.repl.caught_up_once())));
                map.insert(5, ("following", Val::Str(t.to_string())));
            }
            map
        } else {
            ext_map(s, &t, &h, id, cpus)
        };
        write_map(out, "stats", with_elect(s, map, self.ext));
        Ok(())
    }
}

/// Under `--elect` (only then): the election's state, epoch and holder
/// (`tile38_elect_*` in `SERVER EXT`).
fn with_elect(
    s: &Engine,
    mut map: Vec<(&'static str, Val)>,
    ext: bool,
) -> Vec<(&'static str, Val)> {
    if let Some(e) = s.elect.shown() {
        let names = if ext {
            [
                "tile38_elect_epoch",
                "tile38_elect_holder",
                "tile38_elect_state",
            ]
        } else {
            ["elect_epoch", "elect_holder", "elect_state"]
        };
        map.push((names[0], Val::Int(e.epoch as i64)));
        map.push((names[1], Val::Str(e.holder)));
        map.push((names[2], Val::Str(e.state.into())));
    }
    map
}

/// `SERVER EXT`. Go runtime figures map to their nearest native analogue
/// (tasks, OS threads, allocator statistics); figures with no analogue in a
/// non-garbage-collected process (GC timings, lookups) are 0.
fn ext_map(s: &Engine, t: &Totals, h: &Heap, id: String, cpus: i64) -> Vec<(&'static str, Val)> {
    let mut map = ext_runtime(s, t, h, cpus);
    map.extend(ext_tile38(s, t, h, id));
    map
}

/// The Go runtime's members of `SERVER EXT` (`alloc_bytes` … `sys_cpus`).
fn ext_runtime(s: &Engine, t: &Totals, h: &Heap, cpus: i64) -> Vec<(&'static str, Val)> {
    let clients = s.stats.connected_clients.load(Ordering::Relaxed) as i64;
    let rss = rss_bytes() as i64;
    vec![
        ("alloc_bytes", Val::Int(h.alloc as i64)),
        ("alloc_bytes_total", Val::Int(h.alloc as i64)),
        ("buck_hash_sys_bytes", Val::Int(0)),
        ("frees_total", Val::Int(0)),
        ("gc_cpu_fraction", Val::Float(0.0)),
        ("gc_sys_bytes", Val::Int(0)),
        ("go_goroutines", Val::Int(clients + 3)),
        ("go_threads", Val::Int(thread_count() as i64)),
        (
            "go_version",
            Val::Str(format!("rust-{}", env!("CARGO_PKG_RUST_VERSION"))),
        ),
        ("heap_alloc_bytes", Val::Int(h.alloc as i64)),
        ("heap_idle_bytes", Val::Int(h.idle as i64)),
        ("heap_inuse_bytes", Val::Int(h.alloc as i64)),
        ("heap_objects", Val::Int(t.objects as i64)),
        ("heap_released_bytes", Val::Int(0)),
        ("heap_sys_bytes", Val::Int(h.sys as i64)),
        ("last_gc_time_seconds", Val::Float(0.0)),
        ("lookups_total", Val::Int(0)),
        ("mallocs_total", Val::Int(0)),
        ("mcache_inuse_bytes", Val::Int(0)),
        ("mcache_sys_bytes", Val::Int(0)),
        ("mspan_inuse_bytes", Val::Int(0)),
        ("mspan_sys_bytes", Val::Int(h.mmapped as i64)),
        ("next_gc_bytes", Val::Int(0)),
        ("other_sys_bytes", Val::Int((rss - h.sys as i64).max(0))),
        ("stack_inuse_bytes", Val::Int(0)),
        ("stack_sys_bytes", Val::Int(0)),
        ("sys_bytes", Val::Int(rss)),
        ("sys_cpus", Val::Int(cpus)),
    ]
}

/// Tile38's own members of `SERVER EXT` (`tile38_*`).
fn ext_tile38(s: &Engine, t: &Totals, h: &Heap, id: String) -> Vec<(&'static str, Val)> {
    let st = &s.stats;
    let clients = st.connected_clients.load(Ordering::Relaxed) as i64;
    let aof = s.aof.is_some();
    vec![
        ("tile38_aof_current_rewrite_time_sec", Val::Int(0)),
        ("tile38_aof_enabled", Val::Bool(aof)),
        ("tile38_aof_last_rewrite_time_sec", Val::Int(0)),
        (
            "tile38_aof_rewrite_in_progress",
            Val::Bool(s.shrink.running.load(Ordering::Relaxed)),
        ),
        ("tile38_aof_size", Val::Int(s.aof_size() as i64)),
        (
            "tile38_avg_point_size",
            Val::Int(if t.points > 0 {
                h.alloc as i64 / t.points as i64
            } else {
                0
            }),
        ),
        ("tile38_cluster_enabled", Val::Bool(false)),
        ("tile38_connected_clients", Val::Int(clients)),
        // Tile38's `len(s.aofconnM)`: followers streaming the AOF, as
        // INFO's `connected_slaves`.
        (
            "tile38_connected_slaves",
            Val::Int(s.repl.snapshot(s.aof_size()).streaming as i64),
        ),
        (
            "tile38_expired_keys",
            Val::Int(st.expired_keys.load(Ordering::Relaxed) as i64),
        ),
        ("tile38_http_transport", Val::Bool(s.opts.http_transport)),
        ("tile38_id", Val::Str(id)),
        ("tile38_in_memory_size", Val::Int(t.weight as i64)),
        (
            "tile38_max_heap_size",
            Val::Int(s.config.props().maxmemory as i64),
        ),
        ("tile38_num_collections", Val::Int(t.collections as i64)),
        ("tile38_num_hook_groups", Val::Int(0)),
        ("tile38_num_hooks", Val::Int(super::hooks::count(s) as i64)),
        ("tile38_num_object_groups", Val::Int(0)),
        ("tile38_num_objects", Val::Int(t.objects as i64)),
        ("tile38_num_points", Val::Int(t.points as i64)),
        ("tile38_num_strings", Val::Int(t.strings as i64)),
        ("tile38_pid", Val::Int(std::process::id() as i64)),
        (
            "tile38_pointer_size",
            Val::Int(std::mem::size_of::<usize>() as i64),
        ),
        ("tile38_read_only", Val::Bool(s.config.read_only())),
        (
            "tile38_total_commands_processed",
            Val::Int(st.total_commands.load(Ordering::Relaxed) as i64),
        ),
        (
            "tile38_total_connections_received",
            Val::Int(st.total_connections.load(Ordering::Relaxed) as i64),
        ),
        (
            "tile38_total_messages_sent",
            Val::Int(st.total_messages_sent.load(Ordering::Relaxed) as i64),
        ),
        (
            "tile38_type",
            Val::Str(
                if s.repl.following() {
                    "follower"
                } else {
                    "leader"
                }
                .into(),
            ),
        ),
        (
            "tile38_uptime_in_seconds",
            Val::Float(s.started.elapsed().as_secs_f64()),
        ),
        ("tile38_version", Val::Str(VERSION.into())),
    ]
}

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];

pub struct Info {
    sections: Vec<&'static str>,
}

impl ReadCommand<'_> for Info {
    fn parse(args: &Args) -> Result<Self> {
        let wanted: Vec<Vec<u8>> = Cursor::new(args)
            .rest()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        let all = wanted.is_empty() || wanted.iter().any(|w| w == b"all" || w == b"default");
        let sections = SECTIONS
            .iter()
            .copied()
            .filter(|s| all || wanted.iter().any(|w| w == s.as_bytes()))
            .collect();
        Ok(Info { sections })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let text = info_text(cx.engine, &self.sections);
        if out.json {
            let mut map: Vec<(&str, Val)> = Vec::new();
            for line in text.split("\r\n") {
                if let Some((k, v)) = line.split_once(':') {
                    if !line.starts_with('#') {
                        map.push((k, info_value(v)));
                    }
                }
            }
            write_map(out, "info", map);
        } else {
            out.resp_bulk(text.as_bytes());
        }
        Ok(())
    }
}

/// The JSON type of an INFO value, as Tile38 types it: Go's `ParseInt`,
/// then `ParseFloat` (the shared [`number`] parser; only finite values, as
/// JSON has no NaN), then `ParseBool`, else a string.
fn info_value(v: &str) -> Val {
    if let Some(n) = number::parse_int(v.as_bytes()) {
        Val::Int(n)
    } else if let Some(f) = number::parse_float(v.as_bytes()).filter(|f| f.is_finite()) {
        Val::Float(f)
    } else if let Some(b) = go_parse_bool(v) {
        Val::Bool(b)
    } else {
        Val::Str(v.to_string())
    }
}

/// Go's `strconv.ParseBool`.
fn go_parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// CPU seconds (user, system) of this process, in whole seconds as
/// Tile38 reports them: it adds `float64(Usec/1000000)`, an integer
/// division that is always 0, so INFO shows `N.00` (clients that read the
/// figures as integers depend on it).
fn cpu_times() -> (f64, f64) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we pass.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| (t.tv_sec + t.tv_usec / 1_000_000) as f64;
    (secs(ru.ru_utime), secs(ru.ru_stime))
}

/// The Redis-style INFO text for the chosen sections.
pub fn info_text(s: &Engine, sections: &[&str]) -> String {
    let mut text = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            text.push_str("\r\n");
        }
        let Some(lines) = info_section(s, section) else {
            continue;
        };
        text.push_str("# ");
        let mut title = section.to_string();
        if let Some(f) = title.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        if *section == "cpu" {
            title = "CPU".into();
        }
        text.push_str(&title);
        text.push_str("\r\n");
        for (k, v) in lines {
            text.push_str(&k);
            text.push(':');
            text.push_str(&v);
            text.push_str("\r\n");
        }
    }
    text
}

/// The `name:value` lines of one INFO section (`None`: no such section).
fn info_section(s: &Engine, section: &str) -> Option<Vec<(String, String)>> {
    let st = &s.stats;
    let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed).to_string();
    let lines: Vec<(&str, String)> = match section {
        "server" => vec![
            ("tile38_version", VERSION.into()),
            ("redis_version", VERSION.into()),
            (
                "uptime_in_seconds",
                s.started.elapsed().as_secs().to_string(),
            ),
        ],
        "clients" => vec![("connected_clients", count(&st.connected_clients))],
        "memory" => vec![("used_memory", heap().alloc.to_string())],
        "persistence" => vec![
            ("aof_enabled", u8::from(s.aof.is_some()).to_string()),
            (
                "aof_rewrite_in_progress",
                u8::from(s.shrink.running.load(Ordering::Relaxed)).to_string(),
            ),
            ("aof_last_rewrite_time_sec", "0".into()),
            ("aof_current_rewrite_time_sec", "0".into()),
        ],
        "stats" => vec![
            ("total_connections_received", count(&st.total_connections)),
            ("total_commands_processed", count(&st.total_commands)),
            ("total_messages_sent", count(&st.total_messages_sent)),
            ("expired_keys", count(&st.expired_keys)),
        ],
        "replication" => return Some(super::repl::info_lines(s)),
        "cpu" => {
            let (user, sys) = cpu_times();
            vec![
                ("used_cpu_sys", format!("{sys:.2}")),
                ("used_cpu_user", format!("{user:.2}")),
                ("used_cpu_sys_children", "0.00".into()),
                ("used_cpu_user_children", "0.00".into()),
            ]
        }
        "cluster" => vec![("cluster_enabled", "0".into())],
        _ => return None,
    };
    Some(lines.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

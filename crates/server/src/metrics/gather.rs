//! What a scrape reports, read from the server's state at scrape time:
//! Tile38's 23 `tile38_*` families (names, types, labels and help texts as
//! Tile38 1.37 prints them) and the extras that Tile38 lacks (replication
//! offset and lag, streaming followers and their acks, AOF rewrite,
//! `process_*`).

use std::sync::atomic::Ordering;

use super::summary::QUANTILES;
use super::text::{go_float, Family, Kind};
use crate::server::{rss_bytes, Server};
use crate::VERSION;

fn per_collection(server: &Server) -> Vec<Family> {
    let mut objects = Family::new(
        "tile38_collection_objects",
        "Total number of objects per collection",
        Kind::Gauge,
    );
    let mut points = Family::new(
        "tile38_collection_points",
        "Total number of points per collection",
        Kind::Gauge,
    );
    let mut strings = Family::new(
        "tile38_collection_strings",
        "Total number of strings per collection",
        Kind::Gauge,
    );
    let mut weight = Family::new(
        "tile38_collection_weight_bytes",
        "Total weight of collection in bytes",
        Kind::Gauge,
    );
    let (mut total_points, mut total_weight) = (0usize, 0usize);
    let db = server.db.read();
    let count = db.len();
    for (key, col) in db.iter() {
        let col_label = || vec![("col", String::from_utf8_lossy(key).into_owned())];
        objects.push(col_label(), col.len() as f64);
        points.push(col_label(), col.num_points() as f64);
        strings.push(col_label(), col.num_strings() as f64);
        weight.push(col_label(), col.weight() as f64);
        total_points += col.num_points();
        total_weight += col.weight();
    }
    drop(db);
    let heap = tile38_engine::cmd::server_heap_alloc();
    let avg_item = if total_points > 0 {
        heap / total_points as u64
    } else {
        0
    };
    let totals = [
        (
            "tile38_collections",
            "Total number of collections",
            count as f64,
        ),
        ("tile38_in_memory_size_bytes", "", total_weight as f64),
        ("tile38_heap_size_bytes", "", heap as f64),
        ("tile38_avg_item_size_bytes", "", avg_item as f64),
    ];
    let mut families = vec![objects, points, strings, weight];
    families.extend(
        totals
            .into_iter()
            .map(|(name, help, v)| Family::single(name, help, Kind::Gauge, v)),
    );
    families
}

fn cmd_durations(server: &Server) -> Family {
    let mut f = Family::new("tile38_cmd_duration_seconds", "", Kind::Summary);
    for s in server.metrics.durations.snapshot() {
        for (q, v) in QUANTILES.iter().zip(s.quantiles) {
            let mut qs = String::new();
            go_float(*q, &mut qs);
            f.push(
                vec![("cmd", s.label.clone()), ("quantile", qs)],
                v.unwrap_or(f64::NAN),
            );
        }
        for (suffix, value) in [("_sum", s.sum_seconds), ("_count", s.count as f64)] {
            f.samples.push(super::text::Sample {
                suffix,
                labels: vec![("cmd", s.label.clone())],
                value,
            });
        }
    }
    f
}

fn replication(server: &Server) -> Vec<Family> {
    let snap = server.repl.snapshot(server.aof_size());
    let mut info = Family::new("tile38_replication_info", "Replication info", Kind::Gauge);
    let mut families = Vec::new();
    let labels = match &snap.following {
        Some(target) => {
            for (name, help, v) in [
                (
                    "tile38_replication_offset_bytes",
                    "Leader AOF offset this follower has applied",
                    snap.offset as f64,
                ),
                (
                    "tile38_replication_lag_bytes",
                    "Bytes of the leader's AOF this follower has not applied yet",
                    snap.lag_bytes as f64,
                ),
                (
                    "tile38_replication_lag_seconds",
                    "Seconds this follower is behind its leader",
                    snap.lag_seconds,
                ),
            ] {
                families.push(Family::single(name, help, Kind::Gauge, v));
            }
            [
                snap.caught_up.to_string(),
                snap.caught_up_once.to_string(),
                target.to_string(),
                "follower".to_string(),
            ]
        }
        None => {
            families.extend(follower_acks(server, &snap));
            [String::new(), String::new(), String::new(), "leader".into()]
        }
    };
    let [caught_up, caught_up_once, following, role] = labels;
    info.push(
        vec![
            ("caught_up", caught_up),
            ("caught_up_once", caught_up_once),
            ("following", following),
            ("role", role),
        ],
        1.0,
    );
    families.push(info);
    families.push(Family::single(
        "tile38_connected_slaves",
        "Followers streaming this server's AOF",
        Kind::Gauge,
        snap.streaming as f64,
    ));
    families
}

/// A leader's view of its followers' acks (`REPLCONF ack`, ours only):
/// each acking follower's acked offset and ack age, and how many count
/// for `min-followers-to-write` (acked within `min-followers-max-lag`).
fn follower_acks(server: &Server, snap: &tile38_repl::Snapshot) -> [Family; 3] {
    let mut offset = Family::new(
        "tile38_follower_ack_offset_bytes",
        "Leader AOF offset each follower acknowledged having applied and written",
        Kind::Gauge,
    );
    let mut age = Family::new(
        "tile38_follower_ack_age_seconds",
        "Seconds since each follower's last acknowledgement",
        Kind::Gauge,
    );
    for f in snap.followers.iter().filter(|f| f.streaming) {
        if let Some((off, secs)) = f.ack {
            let label = || vec![("follower", format!("{}:{}", f.ip, f.port))];
            offset.push(label(), off as f64);
            age.push(label(), secs);
        }
    }
    let lag = std::time::Duration::from_secs(server.config.props().followers.max_lag);
    let good = server.repl.good_followers(lag, std::time::Instant::now());
    let good = Family::single(
        "tile38_good_followers",
        "Streaming followers that acknowledged within min-followers-max-lag",
        Kind::Gauge,
        good as f64,
    );
    [offset, age, good]
}

/// Open file descriptors of this process (`/proc/self/fd`).
fn open_fds() -> f64 {
    std::fs::read_dir("/proc/self/fd").map_or(0.0, |d| d.count() as f64)
}

/// Whether the AOF can be written: while it cannot, writes are refused
/// with `MISCONF` (`crate::gate`).
fn aof_health(server: &Server) -> [Family; 2] {
    let aof = server.aof.as_ref();
    [
        Family::single(
            "tile38_aof_write_errors_total",
            "Failed AOF write or fsync attempts, retries included",
            Kind::Counter,
            aof.map_or(0, |a| a.write_errors()) as f64,
        ),
        Family::single(
            "tile38_aof_writable",
            "Whether the AOF can be written (0: writes are refused with MISCONF)",
            Kind::Gauge,
            f64::from(u8::from(aof.is_none_or(|a| a.write_error().is_none()))),
        ),
    ]
}

/// A gauge: name, help text and value.
type Gauge = (&'static str, &'static str, f64);

/// Tile38's gauges read from the server's counters and configuration.
fn server_gauges(server: &Server) -> [Gauge; 12] {
    let st = &server.stats;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    [
        ("tile38_aof_size_bytes", "", server.aof_size() as f64),
        ("tile38_connected_clients", "", load(&st.connected_clients)),
        (
            "tile38_connections_received_total",
            "",
            load(&st.total_connections),
        ),
        ("tile38_expired_keys_total", "", load(&st.expired_keys)),
        (
            "tile38_hooks",
            "",
            tile38_engine::cmd::hooks::count(server) as f64,
        ),
        (
            "tile38_memory_max_heap_size_bytes",
            "",
            server.config.props().maxmemory as f64,
        ),
        // A process without a garbage collector returns nothing to reap.
        ("tile38_memory_reap_released_bytes", "", 0.0),
        (
            "tile38_messages_sent_total",
            "",
            load(&st.total_messages_sent),
        ),
        ("tile38_num_cpus", "", cpus as f64),
        ("tile38_pid", "", std::process::id() as f64),
        (
            "tile38_pointer_size_bytes",
            "",
            std::mem::size_of::<usize>() as f64,
        ),
        ("tile38_start_time_seconds", "", server.start_unix.floor()),
    ]
}

/// Gauges Tile38 lacks: the AOF rewrite, and Prometheus' `process_*`.
fn extra_gauges(server: &Server) -> [Gauge; 5] {
    [
        (
            "tile38_aof_rewrite_in_progress",
            "Whether an AOF rewrite (AOFSHRINK) is running",
            f64::from(u8::from(server.shrink.running.load(Ordering::Relaxed))),
        ),
        (
            "tile38_aof_rewrite_duration_seconds",
            "Duration of the last AOF rewrite in whole seconds",
            server.shrink.last_secs.load(Ordering::Relaxed) as f64,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            open_fds(),
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            rss_bytes() as f64,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            server.start_unix,
        ),
    ]
}

/// Every family of a scrape.
pub fn families(server: &Server) -> Vec<Family> {
    let mut families = per_collection(server);
    families.push(cmd_durations(server));
    families.extend(replication(server));
    families.extend(aof_health(server));
    families.extend(super::conn::families(&server.metrics.conn, &server.stats));
    families.extend(super::hooks::families(server));
    families.extend(super::elect::families(server));
    families.extend(
        server_gauges(server)
            .into_iter()
            .chain(extra_gauges(server))
            .map(|(name, help, v)| Family::single(name, help, Kind::Gauge, v)),
    );
    let mut info = Family::new("tile38_server_info", "Server info", Kind::Gauge);
    info.push(
        vec![
            ("id", server.config.identity().server_id),
            ("version", VERSION.to_string()),
        ],
        1.0,
    );
    families.push(info);
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Server {
        Server::in_process()
    }

    #[test]
    fn a_follower_reports_its_leader_offset_and_lag() {
        let s = server();
        let text = crate::metrics::scrape(&s);
        assert!(text.contains(
            "tile38_replication_info{caught_up=\"\",caught_up_once=\"\",following=\"\",role=\"leader\"} 1\n"
        ));
        assert!(!text.contains("tile38_replication_lag_bytes"));

        s.repl.set_target(Some(tile38_repl::Target {
            host: "127.0.0.1".into(),
            port: 37851,
        }));
        s.repl.connected(100, 150);
        s.repl.mark_caught_up();
        let text = crate::metrics::scrape(&s);
        assert!(text.contains(
            "tile38_replication_info{caught_up=\"true\",caught_up_once=\"true\",\
             following=\"127.0.0.1:37851\",role=\"follower\"} 1\n"
        ));
        assert!(
            text.contains("\ntile38_replication_offset_bytes 100\n"),
            "{text}"
        );
        assert!(
            text.contains("\ntile38_replication_lag_bytes 50\n"),
            "{text}"
        );
        assert!(text.contains("\n# TYPE tile38_replication_lag_seconds gauge\n"));
        assert!(text.contains("\ntile38_connected_slaves 0\n"));
    }

    #[test]
    fn a_leader_counts_its_streaming_followers() {
        let s = server();
        s.repl.announce(7, "127.0.0.1", Some("9852"), None);
        assert!(crate::metrics::scrape(&s).contains("\ntile38_connected_slaves 0\n"));
        let _progress = s.repl.start_stream(7, "127.0.0.1");
        assert!(crate::metrics::scrape(&s).contains("\ntile38_connected_slaves 1\n"));
    }
}

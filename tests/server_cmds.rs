//! Server/introspection commands: SERVER (42-element RESP map, live
//! counters), SERVER EXT (116 elements), INFO (all sections and a subset),
//! ROLE, HEALTHZ, STATS, BOUNDS, and CONFIG GET/SET including maxmemory
//! units and the OOM write refusal. CLIENT, AUTH and TIMEOUT are in
//! `server_conn_cmds.rs`.

use serde_json::{json, Value};
use std::time::Duration;

use tile38::{resp_strings, wait_until, Resp, TestServer};

#[rustfmt::skip]
const SERVER_KEYS: [&str; 21] = [
    "aof_size", "avg_item_size", "cpus", "heap_released", "heap_size", "http_transport", "id",
    "in_memory_size", "max_heap_size", "mem_alloc", "num_collections", "num_hooks", "num_objects",
    "num_points", "num_strings", "pending_events", "pid", "pointer_size", "read_only", "threads",
    "version",
];

#[rustfmt::skip]
const SERVER_EXT_KEYS: [&str; 58] = [
    "alloc_bytes", "alloc_bytes_total", "buck_hash_sys_bytes", "frees_total", "gc_cpu_fraction",
    "gc_sys_bytes", "go_goroutines", "go_threads", "go_version", "heap_alloc_bytes",
    "heap_idle_bytes", "heap_inuse_bytes", "heap_objects", "heap_released_bytes", "heap_sys_bytes",
    "last_gc_time_seconds", "lookups_total", "mallocs_total", "mcache_inuse_bytes",
    "mcache_sys_bytes", "mspan_inuse_bytes", "mspan_sys_bytes", "next_gc_bytes", "other_sys_bytes",
    "stack_inuse_bytes", "stack_sys_bytes", "sys_bytes", "sys_cpus",
    "tile38_aof_current_rewrite_time_sec", "tile38_aof_enabled", "tile38_aof_last_rewrite_time_sec",
    "tile38_aof_rewrite_in_progress", "tile38_aof_size", "tile38_avg_point_size",
    "tile38_cluster_enabled", "tile38_connected_clients", "tile38_connected_slaves",
    "tile38_expired_keys", "tile38_http_transport", "tile38_id", "tile38_in_memory_size",
    "tile38_max_heap_size", "tile38_num_collections", "tile38_num_hook_groups", "tile38_num_hooks",
    "tile38_num_object_groups", "tile38_num_objects", "tile38_num_points", "tile38_num_strings",
    "tile38_pid", "tile38_pointer_size", "tile38_read_only", "tile38_total_commands_processed",
    "tile38_total_connections_received", "tile38_total_messages_sent", "tile38_type",
    "tile38_uptime_in_seconds", "tile38_version",
];

/// Runs a command whose RESP reply is a flat array of bulk strings and
/// returns it as (key, value) pairs, checking the element count.
fn flat_map(c: &mut Resp, args: &[&str], count: usize) -> Vec<(String, String)> {
    let raw = c.cmd(args);
    assert!(
        raw.starts_with(format!("*{count}\r\n").as_bytes()),
        "{args:?}: {}",
        String::from_utf8_lossy(&raw)
    );
    let items = resp_strings(&raw);
    assert_eq!(items.len(), count);
    items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect()
}

fn get<'a>(map: &'a [(String, String)], key: &str) -> &'a str {
    map.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("missing {key}"))
}

fn json_cmd(c: &mut Resp, args: &[&str]) -> Value {
    let raw = String::from_utf8(c.cmd(args)).unwrap();
    let body = raw
        .split_once("\r\n")
        .expect("bulk")
        .1
        .trim_end_matches("\r\n");
    let mut v: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{args:?}: {e}: {raw}"));
    v.as_object_mut()
        .unwrap()
        .remove("elapsed")
        .expect("elapsed");
    v
}

/// Asserts the AOF file reaches `size` bytes (the background writer may
/// trail acknowledged writes by a few milliseconds).
fn assert_aof_file_len(srv: &TestServer, size: &str) {
    let path = srv.dir.join("appendonly.aof");
    let len = || std::fs::metadata(&path).unwrap().len().to_string();
    assert!(
        wait_until(Duration::from_secs(2), || len() == size),
        "file {} vs aof_size {size}",
        len()
    );
}

fn write_sample(c: &mut Resp) {
    assert_eq!(c.cmd(&["SET", "a", "x", "POINT", "1", "2"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SET", "a", "y", "STRING", "hello"]), b"+OK\r\n");
    let line = r#"{"type":"LineString","coordinates":[[1,1],[2,2]]}"#;
    assert_eq!(c.cmd(&["SET", "b", "z", "OBJECT", line]), b"+OK\r\n");
}

#[test]
fn server_basic_stats() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let m = flat_map(&mut c, &["SERVER"], 42);
    assert_eq!(
        m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        SERVER_KEYS
    );
    assert_eq!(get(&m, "pid"), srv.pid().to_string());
    assert_eq!(get(&m, "version"), "1.37.0");
    assert_eq!(get(&m, "http_transport"), "true");
    assert_eq!(get(&m, "read_only"), "false");
    assert_eq!(get(&m, "pointer_size"), "8");
    assert_eq!(get(&m, "max_heap_size"), "0");
    assert_eq!(get(&m, "num_objects"), "0");
    let id = get(&m, "id");
    assert!(
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{id}"
    );
    assert!(get(&m, "cpus").parse::<u32>().unwrap() >= 1);
    assert!(get(&m, "mem_alloc").parse::<u64>().unwrap() > 0);

    write_sample(&mut c);
    let m = flat_map(&mut c, &["SERVER"], 42);
    for (k, v) in [
        ("num_collections", "2"),
        ("num_objects", "3"),
        ("num_points", "3"),
        ("num_strings", "1"),
    ] {
        assert_eq!(get(&m, k), v, "{k}");
    }
    assert_eq!(get(&m, "in_memory_size"), "56");
    assert!(get(&m, "avg_item_size").parse::<u64>().unwrap() > 0);
    assert_aof_file_len(&srv, get(&m, "aof_size"));

    // JSON: the same members, sorted, with native types.
    assert!(c.cmd_str(&["OUTPUT", "json"]).contains(r#""ok":true"#));
    let v = json_cmd(&mut c, &["SERVER"]);
    let stats = v["stats"].as_object().unwrap();
    assert_eq!(
        stats.keys().map(String::as_str).collect::<Vec<_>>(),
        SERVER_KEYS
    );
    assert_eq!(stats["num_objects"], json!(3));
    assert_eq!(stats["read_only"], json!(false));
    assert_eq!(stats["version"], json!("1.37.0"));
    assert_eq!(stats["id"], json!(id));
}

#[test]
fn server_ext_stats() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    write_sample(&mut c);
    let m = flat_map(&mut c, &["SERVER", "ext"], 116);
    assert_eq!(
        m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        SERVER_EXT_KEYS
    );
    assert_eq!(get(&m, "tile38_type"), "leader");
    assert_eq!(get(&m, "tile38_pid"), srv.pid().to_string());
    assert_eq!(get(&m, "tile38_num_objects"), "3");
    assert_eq!(get(&m, "tile38_num_collections"), "2");
    assert_eq!(get(&m, "tile38_aof_enabled"), "true");
    assert_eq!(get(&m, "tile38_cluster_enabled"), "false");
    assert!(get(&m, "tile38_connected_clients").parse::<u32>().unwrap() >= 1);
    assert!(get(&m, "sys_cpus").parse::<u32>().unwrap() >= 1);
    assert!(get(&m, "tile38_uptime_in_seconds").parse::<f64>().unwrap() >= 0.0);
    assert!(
        get(&m, "tile38_total_commands_processed")
            .parse::<u64>()
            .unwrap()
            >= 3
    );
    let _ = flat_map(&mut c, &["SERVER", "EXT"], 116);
    assert_eq!(
        c.cmd(&["SERVER", "ett"]),
        b"-ERR invalid argument 'ett'\r\n"
    );
}

/// Splits INFO text into (section title, lines).
fn info_sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.split("\r\n") {
        if let Some(title) = line.strip_prefix("# ") {
            out.push((title.to_string(), vec![]));
        } else if !line.is_empty() {
            out.last_mut()
                .expect("line before first section")
                .1
                .push(line.to_string());
        }
    }
    out
}

fn bulk_text(raw: &[u8]) -> String {
    let s = String::from_utf8(raw.to_vec()).unwrap();
    let (len, rest) = s.split_once("\r\n").unwrap();
    let n: usize = len[1..].parse().unwrap();
    assert_eq!(rest.len(), n + 2, "bulk length");
    rest[..n].to_string()
}

/// INFO's sections, in the order it prints them.
#[rustfmt::skip]
const INFO_SECTIONS: [&str; 8] = [
    "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Cluster",
];

/// `INFO` (also `all`, `default`, `ALL`): every section in order, with
/// its keys.
fn assert_all_sections(c: &mut Resp) {
    let text = bulk_text(&c.cmd(&["INFO"]));
    assert!(text.starts_with(
        "# Server\r\ntile38_version:1.37.0\r\nredis_version:1.37.0\r\nuptime_in_seconds:"
    ));
    assert!(
        text.ends_with("\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"),
        "{text:?}"
    );
    let sections = info_sections(&text);
    let titles: Vec<&str> = sections.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, INFO_SECTIONS);
    let keys: Vec<Vec<&str>> = sections
        .iter()
        .map(|(_, ls)| ls.iter().map(|l| l.split(':').next().unwrap()).collect())
        .collect();
    assert_eq!(keys[1], ["connected_clients"]);
    assert_eq!(
        keys[3],
        [
            "aof_enabled",
            "aof_rewrite_in_progress",
            "aof_last_rewrite_time_sec",
            "aof_current_rewrite_time_sec"
        ]
    );
    assert_eq!(
        keys[4],
        [
            "total_connections_received",
            "total_commands_processed",
            "total_messages_sent",
            "expired_keys"
        ]
    );
    assert_eq!(sections[5].1, ["role:master", "connected_slaves:0"]);
    assert_eq!(sections[3].1[0], "aof_enabled:1");
    for arg in ["all", "default", "ALL"] {
        let again = info_sections(&bulk_text(&c.cmd(&["INFO", arg])));
        assert_eq!(
            again.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
            titles,
            "INFO {arg}"
        );
    }
}

/// A subset, in the fixed section order whatever the request order.
fn assert_cpu_and_clients(c: &mut Resp) {
    let text = bulk_text(&c.cmd(&["INFO", "cpu", "clients"]));
    let sections = info_sections(&text);
    assert_eq!(
        sections[0],
        (
            "Clients".to_string(),
            vec!["connected_clients:1".to_string()]
        )
    );
    assert_eq!(sections[1].0, "CPU");
    let cpu_keys: Vec<&str> = sections[1]
        .1
        .iter()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        cpu_keys,
        [
            "used_cpu_sys",
            "used_cpu_user",
            "used_cpu_sys_children",
            "used_cpu_user_children"
        ]
    );
    for l in &sections[1].1 {
        // Whole seconds, `%.2f`: Tile38 adds `Usec/1000000` (always 0).
        let v = l.split(':').nth(1).unwrap();
        let whole = v.strip_suffix(".00").expect("whole seconds");
        assert!(whole.parse::<u64>().is_ok(), "%.2f value: {l}");
    }
    assert_eq!(sections.len(), 2);
    assert!(
        text.starts_with("# Clients\r\n") && text.ends_with("\r\n") && !text.ends_with("\r\n\r\n")
    );
}

#[test]
fn info_all_and_selected_sections() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_all_sections(&mut c);
    assert_cpu_and_clients(&mut c);
    assert_eq!(c.cmd(&["INFO", "nosuch"]), b"$0\r\n\r\n");

    // Clients are counted live.
    let others: Vec<_> = (0..3).map(|_| srv.resp()).collect();
    assert!(wait_until(Duration::from_secs(5), || {
        bulk_text(&c.cmd(&["INFO", "clients"])) == "# Clients\r\nconnected_clients:4\r\n"
    }));
    drop(others);
    assert!(wait_until(Duration::from_secs(5), || {
        bulk_text(&c.cmd(&["INFO", "clients"])) == "# Clients\r\nconnected_clients:1\r\n"
    }));

    // JSON: typed values, sorted keys.
    c.cmd(&["OUTPUT", "json"]);
    let v = json_cmd(&mut c, &["INFO", "replication", "persistence"]);
    assert_eq!(
        v.to_string(),
        r#"{"ok":true,"info":{"aof_current_rewrite_time_sec":0,"aof_enabled":1,"aof_last_rewrite_time_sec":0,"aof_rewrite_in_progress":0,"connected_slaves":0,"role":"master"}}"#
    );
}

#[test]
fn role_and_healthz() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    write_sample(&mut c);
    let aof_len: u64 = get(&flat_map(&mut c, &["SERVER"], 42), "aof_size")
        .parse()
        .unwrap();
    assert_aof_file_len(&srv, &aof_len.to_string());
    assert_eq!(
        c.cmd_str(&["ROLE"]),
        format!("*3\r\n$6\r\nmaster\r\n:{aof_len}\r\n*0\r\n")
    );
    assert_eq!(c.cmd(&["HEALTHZ"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["HEALTHZ", "arg"]),
        b"-ERR wrong number of arguments for 'healthz' command\r\n"
    );
    c.cmd(&["OUTPUT", "json"]);
    let want = json!({"ok": true, "role": {"role": "master", "offset": aof_len, "slaves": []}});
    assert_eq!(json_cmd(&mut c, &["ROLE"]), want);
    assert_eq!(json_cmd(&mut c, &["HEALTHZ"]), json!({"ok": true}));
}

#[test]
fn stats_per_key() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    write_sample(&mut c);
    let want = "*3\r\n*8\r\n$14\r\nin_memory_size\r\n$2\r\n23\r\n$11\r\nnum_objects\r\n$1\r\n2\r\n$10\r\nnum_points\r\n$1\r\n1\r\n\
                $11\r\nnum_strings\r\n$1\r\n1\r\n$-1\r\n*8\r\n$14\r\nin_memory_size\r\n$2\r\n33\r\n$11\r\nnum_objects\r\n\
                $1\r\n1\r\n$10\r\nnum_points\r\n$1\r\n2\r\n$11\r\nnum_strings\r\n$1\r\n0\r\n";
    assert_eq!(c.cmd_str(&["STATS", "a", "nope", "b"]), want);
    assert_eq!(
        c.cmd(&["STATS"]),
        b"-ERR wrong number of arguments for 'stats' command\r\n"
    );
    c.cmd(&["OUTPUT", "json"]);
    let want = json!({"ok": true, "stats": [{"in_memory_size": 23, "num_objects": 2, "num_points": 1, "num_strings": 1}, null]});
    assert_eq!(json_cmd(&mut c, &["STATS", "a", "nope"]), want);
}

#[test]
fn bounds_of_a_key() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_eq!(c.cmd(&["SET", "m", "a", "POINT", "33", "-115"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["SET", "m", "b", "POINT", "34", "-112"]), b"+OK\r\n");
    // RESP: lon first.
    assert_eq!(
        c.cmd_str(&["BOUNDS", "m"]),
        "*2\r\n*2\r\n$4\r\n-115\r\n$2\r\n33\r\n*2\r\n$4\r\n-112\r\n$2\r\n34\r\n"
    );
    assert_eq!(c.cmd(&["BOUNDS", "nada"]), b"$-1\r\n");
    assert_eq!(
        c.cmd(&["BOUNDS", "m", "x"]),
        b"-ERR wrong number of arguments for 'bounds' command\r\n"
    );
    c.cmd(&["OUTPUT", "json"]);
    assert_eq!(
        json_cmd(&mut c, &["BOUNDS", "m"]).to_string(),
        r#"{"ok":true,"bounds":{"type":"Polygon","coordinates":[[[-115,33],[-112,33],[-112,34],[-115,34],[-115,33]]]}}"#
    );
    assert_eq!(
        json_cmd(&mut c, &["BOUNDS", "nada"]),
        json!({"ok": false, "err": "key not found"})
    );
}

#[test]
fn config_get_and_set() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let all = flat_map(&mut c, &["CONFIG", "GET", "*"], 20);
    let want = [
        ("autogc", "0"),
        ("keepalive", "300"),
        ("leaderauth", ""),
        ("logconfig", ""),
        ("maxmemory", ""),
        ("protected-mode", "yes"),
        ("replica-priority", ""),
        ("replica_announce_ip", ""),
        ("replica_announce_port", "0"),
        ("requirepass", ""),
    ];
    assert_eq!(all, want.map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "max*"]),
        b"*2\r\n$9\r\nmaxmemory\r\n$0\r\n\r\n"
    );
    for (set, shown) in [
        ("10mb", "10mb"),
        ("2GB", "2gb"),
        ("1024kb", "1mb"),
        ("1500", "1kb"),
        ("1000", "1000"),
        ("0", ""),
    ] {
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", set]), b"+OK\r\n");
        let got = flat_map(&mut c, &["CONFIG", "GET", "maxmemory"], 2);
        assert_eq!(got[0].1, shown, "CONFIG SET maxmemory {set}");
    }
    let errors: &[(&[&str], &str)] = &[
        (
            &["CONFIG", "SET", "maxmemory", "lots"],
            "-ERR Invalid argument 'lots' for CONFIG SET 'maxmemory'\r\n",
        ),
        (
            &["CONFIG", "SET", "nosuch", "1"],
            "-ERR Unsupported CONFIG parameter: nosuch\r\n",
        ),
        (
            &["CONFIG", "SET", "maxmemory"],
            "-ERR wrong number of arguments for 'config' command\r\n",
        ),
        (
            &["CONFIG", "GET"],
            "-ERR wrong number of arguments for 'config' command\r\n",
        ),
        (&["CONFIG"], "-ERR unknown command 'CONFIG'\r\n"),
        (
            &["CONFIG", "BOGUS"],
            "-ERR unknown command 'CONFIG BOGUS'\r\n",
        ),
    ];
    for (args, want) in errors {
        assert_eq!(c.cmd_str(args), *want, "{args:?}");
    }
}

#[test]
fn maxmemory_refuses_set_and_fset_when_exceeded() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    assert_eq!(
        c.cmd(&["SET", "fleet", "t1", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), b"+OK\r\n");
    let oom = "-OOM command not allowed when used memory > 'maxmemory'\r\n";
    assert_eq!(c.cmd_str(&["SET", "fleet", "t2", "POINT", "1", "2"]), oom);
    assert_eq!(c.cmd_str(&["FSET", "fleet", "t1", "speed", "10"]), oom);
    let m = flat_map(&mut c, &["SERVER"], 42);
    assert_eq!(get(&m, "max_heap_size"), "1");
    // Reads and other writes still work.
    assert_eq!(
        c.cmd(&["GET", "fleet", "t1", "POINT"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(c.cmd(&["DEL", "fleet", "t1"]), b":1\r\n");
    // The redis crate sees the OOM code.
    let e = redis::cmd("SET")
        .arg("fleet")
        .arg("t3")
        .arg("POINT")
        .arg(1)
        .arg(2)
        .query::<String>(&mut srv.redis())
        .unwrap_err();
    assert_eq!(e.code(), Some("OOM"), "{e}");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["SET", "fleet", "t2", "POINT", "1", "2"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["FSET", "fleet", "t2", "speed", "10"]), b":1\r\n");
}

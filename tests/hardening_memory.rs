//! `maxmemory` holds under a burst of writes (issue 13, item 7e): the
//! server checks its live heap before every SET/FSET/JSET, so pipelined
//! writes of largish objects get Tile38's OOM error once the limit is
//! reached, and its memory never gets far past it (it used to check every
//! 4 s, and a burst ran hundreds of megabytes over). Reads and DEL go on;
//! once data is deleted, writes work again.

use tile38::probe::rss;
use tile38::{resp_cmd, TestServer};

const OOM: &[u8] = b"-OOM command not allowed when used memory > 'maxmemory'\r\n";
const LIMIT: u64 = 40 << 20;

#[test]
fn maxmemory_refuses_the_write_that_crosses_it() {
    let srv = TestServer::start(&[]);
    let mut c = srv.resp();
    let base = rss(srv.pid());
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "40mb"]), b"+OK\r\n");
    let value = "x".repeat(10_000);
    let (mut acked, mut refused, mut peak) = (0u64, 0u64, 0u64);
    // Batches of 100 pipelined SETs (1 MB), up to 200 MB, and 10 more
    // batches once refusals began.
    let mut after_first = 0;
    for b in 0..200 {
        let batch: Vec<u8> = (0..100)
            .flat_map(|i| resp_cmd(&["SET", "fleet", &format!("id{b}-{i}"), "STRING", &value]))
            .collect();
        c.send(&batch);
        for _ in 0..100 {
            match c.read().as_slice() {
                b"+OK\r\n" => acked += 1,
                r if r == OOM => refused += 1,
                r => panic!("SET: {}", String::from_utf8_lossy(r)),
            }
        }
        peak = peak.max(rss(srv.pid()));
        if refused > 0 {
            after_first += 1;
            if after_first > 10 {
                break;
            }
        }
    }
    assert!(refused > 0, "{acked} SETs of 10 kB and no OOM");
    // A string is held twice (the object and the value-ordered index).
    let stored = acked * 10_000;
    assert!(
        stored > LIMIT / 4 && stored < LIMIT / 2,
        "{stored} bytes stored"
    );
    eprintln!(
        "{acked} SETs stored, {refused} refused; RSS {} MB at start, peak {} MB",
        base >> 20,
        peak >> 20
    );
    assert!(
        peak < base + LIMIT + (16 << 20),
        "RSS peaked at {} MB (at start {} MB, limit 40 MB)",
        peak >> 20,
        base >> 20
    );

    // Well over a lower limit: FSET and JSET are refused too (at the
    // limit, freed request buffers can make room for a small write);
    // reads, DEL and EXPIRE go on.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "10mb"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["FSET", "fleet", "id0-0", "speed", "1"]), OOM);
    assert_eq!(c.cmd(&["JSET", "fleet", "j", "a", "1"]), OOM);
    assert!(c
        .cmd_str(&["GET", "fleet", "id0-0"])
        .starts_with("$10000\r\n"));
    assert_eq!(c.cmd(&["DEL", "fleet", "id0-0"]), b":1\r\n");
    assert_eq!(c.cmd(&["EXPIRE", "fleet", "id0-1", "100"]), b":1\r\n");

    // Deleting data makes room again.
    assert_eq!(c.cmd(&["DROP", "fleet"]), b":1\r\n");
    assert_eq!(
        c.cmd(&["SET", "fleet", "after", "STRING", &value]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["FSET", "fleet", "after", "speed", "1"]), b":1\r\n");
}

//! The heap goes onto huge pages once it is built (issue 18,
//! `crates/server/src/hugepages.rs`), contents intact, and
//! `TILE38_HUGEPAGES=no` leaves it alone. Where the kernel cannot collapse
//! memory (before Linux 6.1, THP `never`), the server must still serve the
//! same data, and that is what is checked there.

use std::time::Duration;

use tile38::{resp_cmd, wait_until, TestServer};

/// The server's anonymous memory on huge pages, in KiB.
fn huge_kib(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Where point `n` of [`fill`] is: positions repeat every 61 030 points.
fn at(n: usize) -> (String, String) {
    let (lat, lon) = ((n % 170) as f64 - 85.0, (n % 359) as f64 - 179.5);
    (lat.to_string(), lon.to_string())
}

/// 200 000 points in `fleet`, pipelined (some 60 MB of heap).
fn fill(srv: &TestServer) {
    let mut c = srv.resp();
    for b in 0..200 {
        let batch: Vec<u8> = (0..1000)
            .flat_map(|i| {
                let n = b * 1000 + i;
                let (lat, lon) = at(n);
                resp_cmd(&["SET", "fleet", &format!("t{n}"), "POINT", &lat, &lon])
            })
            .collect();
        c.send(&batch);
        for _ in 0..1000 {
            assert_eq!(c.read(), b"+OK\r\n");
        }
    }
}

#[test]
fn the_heap_is_collapsed_and_the_data_kept() {
    let off = TestServer::start_with_env(&[("TILE38_HUGEPAGES", "no")], &[]);
    fill(&off);
    let on = TestServer::start(&[]);
    fill(&on);
    let mut c = on.resp();
    if tile38_server::hugepages::supported() {
        let got = wait_until(Duration::from_secs(60), || huge_kib(on.pid()) >= 16 << 10);
        assert!(got, "{} KiB on huge pages", huge_kib(on.pid()));
        let (with, without) = (huge_kib(on.pid()), huge_kib(off.pid()));
        assert!(without < with / 2, "{without} KiB without, {with} KiB with");
    } else {
        eprintln!("this kernel does not collapse memory: the data is checked alone");
    }
    assert_eq!(c.cmd(&["SCAN", "fleet", "COUNT"]), b":200000\r\n");
    for n in [0, 77_777, 199_999] {
        let (lat, lon) = at(n);
        let point = c.cmd_str(&["GET", "fleet", &format!("t{n}"), "POINT"]);
        let want = format!(
            "*2\r\n${}\r\n{lat}\r\n${}\r\n{lon}\r\n",
            lat.len(),
            lon.len()
        );
        assert_eq!(point, want, "t{n}");
        // The nearest object to a point is one of the points there.
        let near = tile38::resp_strings(
            &c.cmd(&["NEARBY", "fleet", "LIMIT", "1", "IDS", "POINT", &lat, &lon]),
        );
        let id: usize = near
            .last()
            .and_then(|s| s.strip_prefix('t')?.parse().ok())
            .expect("one id");
        assert_eq!(at(id), at(n), "{near:?}");
    }
}

//! The chaos suite's clients and checks (`failover_chaos.rs`): writer
//! threads that send pipelined SETs with unique ids to whichever member
//! leads (asking each member's INFO), recording every acknowledged write
//! with the member, its incarnation and the system-wide monotonic times
//! it was sent and acknowledged; and the lead intervals each member logged
//! (`elect: lead start|end epoch=E mono_ns=N`).

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tile38::{read_resp, resp_cmd};

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock the servers log with.
pub fn mono_ns() -> u128 {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: writes into a local struct; CLOCK_MONOTONIC is 1 on Linux.
    unsafe { clock_gettime(1, &mut ts) };
    ts.sec as u128 * 1_000_000_000 + ts.nsec as u128
}

/// Where each member slot listens now: (port, incarnation); port 0 while
/// it is down.
pub type Ports = Arc<Mutex<Vec<(u16, u32)>>>;

/// One acknowledged write.
#[derive(Clone, Debug)]
pub struct Ack {
    pub id: String,
    pub slot: usize,
    pub incarnation: u32,
    pub sent: u128,
    pub acked: u128,
}

/// A member's lead interval (`end` = `u128::MAX` until known).
#[derive(Clone, Debug)]
pub struct Lead {
    pub slot: usize,
    pub incarnation: u32,
    pub epoch: u64,
    pub start: u128,
    pub end: u128,
}

/// The lead intervals in one incarnation's log; an interval still open
/// ends at `died` (the kill or exit time).
pub fn leads(logs: &[String], slot: usize, incarnation: u32, died: u128) -> Vec<Lead> {
    let mut out: Vec<Lead> = Vec::new();
    for line in logs {
        let Some(rest) = line.split("elect: lead ").nth(1) else {
            continue;
        };
        let num = |key: &str| -> u128 {
            let v = rest.split(key).nth(1).unwrap_or("0");
            v.split_whitespace()
                .next()
                .unwrap_or("0")
                .parse()
                .unwrap_or(0)
        };
        let (epoch, at) = (num("epoch=") as u64, num("mono_ns="));
        if rest.starts_with("start") {
            out.push(Lead {
                slot,
                incarnation,
                epoch,
                start: at,
                end: u128::MAX,
            });
        } else if let Some(open) = out.iter_mut().rev().find(|l| l.epoch == epoch) {
            open.end = open.end.min(at);
        }
    }
    for l in &mut out {
        l.end = l.end.min(died);
    }
    out
}

/// (a): lead intervals of different members never overlap, and every
/// acknowledged write's [sent, acked] meets a lead interval of the
/// incarnation that acknowledged it.
pub fn check_one_leader(leads: &[Lead], acks: &[Ack]) -> Result<(), String> {
    for (i, a) in leads.iter().enumerate() {
        for b in &leads[i + 1..] {
            let same = a.slot == b.slot && a.incarnation == b.incarnation;
            if !same && a.start < b.end && b.start < a.end {
                return Err(format!("overlapping leads: {a:?} and {b:?}"));
            }
        }
    }
    for w in acks {
        let ok = leads.iter().any(|l| {
            l.slot == w.slot
                && l.incarnation == w.incarnation
                && l.start <= w.acked
                && w.sent <= l.end
        });
        if !ok {
            return Err(format!("write acknowledged outside a lead: {w:?}"));
        }
    }
    Ok(())
}

/// The slot leading now, per INFO, with its port and incarnation.
fn find_leader(ports: &Ports) -> Option<(usize, u16, u32)> {
    let now = ports.lock().unwrap().clone();
    for (slot, (port, inc)) in now.into_iter().enumerate() {
        if port == 0 {
            continue;
        }
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        s.set_read_timeout(Some(Duration::from_secs(2))).ok();
        if s.write_all(&resp_cmd(&["INFO", "replication"])).is_err() {
            continue;
        }
        let Ok(info) = read_resp(&mut BufReader::new(s)) else {
            continue;
        };
        if String::from_utf8_lossy(&info).contains("elect_state:leader") {
            return Some((slot, port, inc));
        }
    }
    None
}

/// A writer thread's loop: batches of `batch` SETs (plus `WAIT wait 2000`
/// when `wait` > 0: acknowledged only once that many followers have the
/// batch) to the current leader until `stop`; returns its acks.
pub fn writer(
    name: usize,
    ports: Ports,
    stop: Arc<AtomicBool>,
    batch: usize,
    wait: u64,
) -> Vec<Ack> {
    let mut acks = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let Some((slot, port, incarnation)) = find_leader(&ports) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        while !stop.load(Ordering::Relaxed) {
            let ids: Vec<String> = (0..batch)
                .map(|k| format!("w{name}-{}", n + k as u64))
                .collect();
            n += batch as u64;
            let mut req = Vec::new();
            for id in &ids {
                req.extend(resp_cmd(&["SET", "chaos", id, "POINT", "33", "-112"]));
            }
            if wait > 0 {
                req.extend(resp_cmd(&["WAIT", &wait.to_string(), "2000"]));
            }
            let sent = mono_ns();
            if w.write_all(&req).is_err() {
                break;
            }
            let mut ok = Vec::new();
            let mut broken = false;
            for id in &ids {
                match read_resp(&mut r) {
                    Ok(rep) if rep.starts_with(b"+OK") => ok.push(id.clone()),
                    Ok(_) => {}
                    Err(_) => broken = true,
                }
                if broken {
                    break;
                }
            }
            let waited = wait == 0 || (!broken && waited_for(&mut r, wait));
            let acked = mono_ns();
            if waited {
                acks.extend(ok.iter().map(|id| Ack {
                    id: id.clone(),
                    slot,
                    incarnation,
                    sent,
                    acked,
                }));
            }
            if broken || ok.len() < ids.len() {
                break;
            }
            // Pacing, not waiting: at most ~5000 writes/s per writer, so a
            // long run's data set stays in memory.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    acks
}

/// Whether the `WAIT` reply next on `r` counts at least `n` followers.
fn waited_for(r: &mut impl std::io::BufRead, n: u64) -> bool {
    let Ok(rep) = read_resp(r) else { return false };
    let text = String::from_utf8_lossy(&rep);
    text.strip_prefix(':')
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|got| got >= n)
}

//! MONITOR: the connections that asked to see every command the server
//! runs, and the line each gets per command, as Tile38's `monitor.go`
//! writes it: `+<unix seconds, 6 decimals> [0 <client addr>] "arg" …`,
//! each argument quoted as Go's `strconv.Quote` does.
//!
//! What is shown (`sendMonitor`): every command a client ran, including
//! those that failed, except when it failed for its arity or as an unknown
//! command, and except PING, ECHO, CONFIG, AUTH, FOLLOW, SLAVEOF, REPLCONF, AOF,
//! AOFMD5, CLIENT and MONITOR. Commands refused by a gate (AUTH, LOADING,
//! follower, READONLY) never ran and are not shown; nor are those a
//! follower applies from its leader, which have no client. A command a
//! script calls is shown with the address `lua`. The lines go
//! to each monitor's outbox (`crate::pubsub::Outbox`), raw, whatever the
//! monitor's output mode.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tile38_proto::fmt::go_quote;
use tile38_proto::Args;

use crate::engine::Engine;
use crate::error::Error;
use crate::output_limit::OutputLimits;
use crate::pubsub::Outbox;

/// The monitoring connections' outboxes.
#[derive(Default)]
pub struct Monitors {
    outboxes: Mutex<Vec<Arc<Outbox>>>,
    /// How many there are, read without the lock on every command.
    count: AtomicUsize,
}

/// The commands Tile38 never shows (by their table name).
const HIDDEN: &[&str] = &[
    // Tile38 answers these before it reaches its MONITOR call.
    "ping",
    "echo",
    "config get",
    "config set",
    "config rewrite",
    "auth",
    "follow",
    "slaveof",
    "replconf",
    "aof",
    "aofmd5",
    "client",
    "monitor",
];

impl Monitors {
    pub fn add(&self, outbox: Arc<Outbox>) {
        let mut list = self.outboxes.lock();
        list.push(outbox);
        self.count.store(list.len(), Ordering::Release);
    }

    pub fn remove(&self, outbox: &Arc<Outbox>) {
        let mut list = self.outboxes.lock();
        list.retain(|o| !Arc::ptr_eq(o, outbox));
        self.count.store(list.len(), Ordering::Release);
    }

    /// Shows the command `args` (its table name `name`, `None` when
    /// unknown) that the client at `addr` ran with outcome `res`.
    pub fn command(
        &self,
        engine: &Engine,
        name: Option<&str>,
        args: &Args,
        addr: &dyn std::fmt::Display,
        res: Result<(), &Error>,
    ) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let Some(name) = name else {
            return;
        };
        if HIDDEN.contains(&name) || matches!(res, Err(Error::Arity | Error::UnknownCommand(_))) {
            return;
        }
        let line = line(args, &addr.to_string(), SystemTime::now());
        let limits = OutputLimits::current(engine);
        for outbox in self.outboxes.lock().iter() {
            outbox.send(engine, &limits, &line, false);
        }
    }
}

/// One monitor line for `args` run by `addr` at `at`.
pub fn line(args: &Args, addr: &str, at: SystemTime) -> Vec<u8> {
    let nanos = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut out = format!("+{:.6} [0 {addr}]", nanos as f64 / 1e9).into_bytes();
    for arg in args.iter() {
        out.push(b' ');
        go_quote(arg, &mut out);
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lines_are_tile38s() {
        let args = Args::from_slices(&["SET", "k", "a b", "\"q\"\n", "é", "\u{7f}"]);
        let at = UNIX_EPOCH + Duration::from_nanos(1_796_522_410_089_521_123);
        let line = line(&args, "127.0.0.1:42810", at);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "+1796522410.089521 [0 127.0.0.1:42810] \"SET\" \"k\" \"a b\" \"\\\"q\\\"\\n\" \"é\" \"\\x7f\"\r\n"
        );
    }
}

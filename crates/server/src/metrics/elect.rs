//! Automatic failover families (issue 20; only under `--elect`), read from
//! the elector's `Status` at scrape time: elections this member won,
//! changes of holder it saw, time it saw no holder, the holder's epoch and
//! whether this member leads.

use super::text::{Family, Kind};
use crate::server::Server;

/// The election families of a scrape (none without `--elect`).
pub fn families(server: &Server) -> Vec<Family> {
    let Some(handle) = server.elector.get() else {
        return Vec::new();
    };
    let st = handle.elector.status();
    let leads = server.elect.shown().is_some_and(|s| s.state == "leader");
    [
        (
            "tile38_elections_won_total",
            "Times this member took the leader lock",
            Kind::Counter,
            st.elections_won as f64,
        ),
        (
            "tile38_failovers_total",
            "Changes of leader lock holder this member saw",
            Kind::Counter,
            st.failovers_observed as f64,
        ),
        (
            "tile38_leaderless_seconds_total",
            "Time this member saw no leader lock holder",
            Kind::Counter,
            st.leaderless_ms as f64 / 1000.0,
        ),
        (
            "tile38_elect_epoch",
            "Epoch of the current leader lock holder",
            Kind::Gauge,
            st.epoch as f64,
        ),
        (
            "tile38_elect_leader",
            "Whether this member is the elected leader",
            Kind::Gauge,
            f64::from(u8::from(leads)),
        ),
    ]
    .into_iter()
    .map(|(name, help, kind, v)| Family::single(name, help, kind, v))
    .collect()
}

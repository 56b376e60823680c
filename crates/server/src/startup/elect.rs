//! `--elect URL`, `--advertise host:port`, `--failover-lease-duration
//! SECONDS` (default 10) and `--failover-max-lag BYTES` (default 1 MiB):
//! automatic failover (issue 20, `server/src/elect.rs`). Checked before
//! anything starts, so a bad URL or timing stops the server with a clear
//! message; off unless `--elect` is given.

use std::time::Duration;

use clap::Args;
use tile38_elect::{ElectUrl, Settings};

/// The long flags Go's one-dash spelling also accepts.
pub const LONG: &[&str] = &[
    "elect",
    "advertise",
    "failover-lease-duration",
    "failover-max-lag",
];

#[derive(Args, Debug, Default)]
pub struct ElectFlags {
    /// Elect the leader through a lock: `etcd://host:port[,host:port…]/NAME`
    /// or `kubernetes://NAMESPACE/LEASE-NAME` (off by default).
    #[arg(long = "elect")]
    elect: Option<String>,
    /// The address the other members follow when this one leads
    /// (`host:port`; port 0: the listening port).
    #[arg(long = "advertise")]
    advertise: Option<String>,
    /// How long the leader lock outlives its last renewal, in seconds.
    #[arg(long = "failover-lease-duration", default_value = "10")]
    lease: String,
    /// The most replication lag (bytes) a member may have to take the lock.
    #[arg(long = "failover-max-lag", default_value_t = 1 << 20)]
    failover_max_lag: u64,
}

/// What `--elect` asks for, checked.
#[derive(Debug)]
pub struct Plan {
    pub url: ElectUrl,
    pub settings: Settings,
}

impl ElectFlags {
    /// `None` without `--elect`; an error for a bad URL, a missing
    /// `--advertise`, a bad lease, or `--follow` alongside.
    pub fn plan(&self, follow: bool) -> Result<Option<Plan>, String> {
        let Some(url) = &self.elect else {
            return Ok(None);
        };
        let url = ElectUrl::parse(url).map_err(|e| format!("--elect: {e}"))?;
        if follow {
            return Err(
                "--follow cannot be used with --elect (the elector picks the leader)".into(),
            );
        }
        let advertise = self
            .advertise
            .as_deref()
            .ok_or("--elect needs --advertise host:port (the address the others follow)")?;
        let lease = self
            .lease
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 1.0 && *s <= 86_400.0)
            .ok_or_else(|| {
                format!(
                    "--failover-lease-duration must be seconds from 1 to 86400, got '{}'",
                    self.lease
                )
            })?;
        let mut settings = Settings::new(advertise);
        settings.lease = Duration::from_secs_f64(lease);
        settings.max_lag = self.failover_max_lag;
        // Checked now with a stand-in port and id: the real ones are known
        // once the listener is bound and the config loaded.
        let mut check = settings.clone();
        check.advertise = with_port(advertise, 1);
        check.member_id = "check".into();
        check
            .timing()
            .map_err(|e| format!("--advertise/--failover-*: {e}"))?;
        Ok(Some(Plan { url, settings }))
    }
}

/// `host:0` → `host:port` (the listening port, known after the bind).
pub fn with_port(advertise: &str, port: u16) -> String {
    match advertise.strip_suffix(":0") {
        Some(host) => format!("{host}:{port}"),
        None => advertise.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(elect: &str, advertise: Option<&str>, lease: &str) -> ElectFlags {
        ElectFlags {
            elect: Some(elect.into()),
            advertise: advertise.map(Into::into),
            lease: lease.into(),
            failover_max_lag: 1 << 20,
        }
    }

    #[test]
    fn checks_everything_up_front() {
        let ok = flags("etcd://127.0.0.1:2379/t", Some("10.0.0.1:0"), "2.5");
        let plan = ok.plan(false).unwrap().unwrap();
        assert_eq!(plan.settings.lease, Duration::from_millis(2500));
        assert!(ok.plan(true).unwrap_err().contains("--follow"));
        let bad = |f: ElectFlags| f.plan(false).unwrap_err();
        assert!(bad(flags("zk://x:1/a", Some("h:1"), "10")).starts_with("--elect: elect url"));
        assert!(bad(flags("etcd://h:1/a", None, "10")).contains("--advertise"));
        assert!(bad(flags("etcd://h:1/a", Some("nope"), "10")).contains("advertise"));
        assert!(bad(flags("etcd://h:1/a", Some("h:1"), "0.5")).contains("lease-duration"));
        assert!(ElectFlags::default().plan(true).unwrap().is_none());
        assert_eq!(with_port("h:0", 7), "h:7");
        assert_eq!(with_port("h:9", 7), "h:9");
    }
}

//! `--min-followers-to-write N` and `--min-followers-max-lag S`: the
//! CONFIG properties of the same names (`tile38_engine::config`'s
//! `followers`), applied over the config file and the environment
//! (`TILE38_CONFIG_MIN_FOLLOWERS_TO_WRITE`, …) through `Config::set`, so
//! a value is checked in one place and `CONFIG GET` shows it.

use clap::Args;
use tile38_engine::config::Config;

/// The flags (both optional; see `docs/replication.md`).
#[derive(Args, Debug, Default)]
pub struct FollowerFlags {
    /// Refuse writes unless this many followers acknowledged recently
    /// (default 0: off).
    #[arg(long = "min-followers-to-write")]
    min_to_write: Option<String>,
    /// How recent (seconds) that acknowledgement must be (default 10).
    #[arg(long = "min-followers-max-lag")]
    max_lag: Option<String>,
}

impl FollowerFlags {
    /// Sets the properties given as flags.
    pub fn apply(&self, config: &Config) -> Result<(), String> {
        let flags = [
            ("min-followers-to-write", &self.min_to_write),
            ("min-followers-max-lag", &self.max_lag),
        ];
        super::env::apply_flags(config, &flags)
    }
}

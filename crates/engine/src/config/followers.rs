//! `min-followers-to-write N` and `min-followers-max-lag S`: Redis's
//! `min-replicas-to-write` / `min-replicas-max-lag` under Tile38's word
//! for replicas. With N > 0 a leader refuses client writes unless at least
//! N followers acknowledged within the last S seconds
//! (`crate::refusal`, `docs/replication.md`).
//!
//! Tile38 has neither, so they are extra properties ([`super::EXTRA_PROPERTIES`]):
//! readable and settable by their exact name, absent from `CONFIG GET *`,
//! written to the config file by `CONFIG REWRITE` when not the default.

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// Their names.
pub const FOLLOWER_PROPERTIES: [&str; 2] = ["min-followers-max-lag", "min-followers-to-write"];

#[derive(Clone, Debug, PartialEq)]
pub struct FollowerProps {
    /// Followers that must have acked recently for a write to run (0: off).
    pub min_to_write: u64,
    /// How recent (seconds) their last ack must be.
    pub max_lag: u64,
}

impl Default for FollowerProps {
    fn default() -> Self {
        FollowerProps {
            min_to_write: 0,
            max_lag: 10,
        }
    }
}

impl FollowerProps {
    /// The `CONFIG GET` text; `None` for a name that is not one of these.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "min-followers-to-write" => self.min_to_write.to_string(),
            "min-followers-max-lag" => self.max_lag.to_string(),
            _ => return None,
        })
    }

    /// `CONFIG SET`; `None` for a name that is not one of these. Values
    /// are Go's `ParseUint` (`+5` and `-1` are refused).
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<()>> {
        let field = match name {
            "min-followers-to-write" => &mut self.min_to_write,
            "min-followers-max-lag" => &mut self.max_lag,
            _ => return None,
        };
        Some(match tile38_geo::number::parse_uint(value.as_bytes()) {
            Some(n) => {
                *field = n;
                Ok(())
            }
            None => Err(Error::Message(format!(
                "Invalid argument '{value}' for CONFIG SET '{name}'"
            ))),
        })
    }

    /// Non-default settings as config-file members.
    pub fn to_file(&self, put: &mut impl FnMut(&str, Json)) {
        let default = FollowerProps::default();
        super::mem::put_changed(
            &FOLLOWER_PROPERTIES,
            |n| self.get(n),
            |n| default.get(n),
            put,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_file() {
        let mut p = FollowerProps::default();
        assert_eq!(p.get("min-followers-max-lag").as_deref(), Some("10"));
        assert!(p.set("min-followers-to-write", "2").unwrap().is_ok());
        assert!(p.set("min-followers-to-write", "-1").unwrap().is_err());
        assert!(p.set("min-followers-max-lag", "x").unwrap().is_err());
        assert!(p.set("maxmemory", "1").is_none());
        assert_eq!(p.get("min-followers-to-write").as_deref(), Some("2"));
        let mut out = Vec::new();
        p.to_file(&mut |k, v| out.push((k.to_string(), v)));
        assert_eq!(
            out,
            [("min-followers-to-write".into(), serde_json::json!("2"))]
        );
    }
}

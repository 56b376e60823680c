//! The TLS settings (Redis's names where Redis has one): the TLS client
//! port and its certificate, and the follower's TLS dial to its leader.
//!
//! Tile38 has no TLS, so these are extra properties: readable and
//! settable by their exact name, absent from `CONFIG GET *`. The engine
//! only stores and validates them; the server reads them when it binds
//! the TLS port (`tls-port`, at startup), on each new TLS connection (the
//! certificate files, reloaded when they change) and on each dial to the
//! leader (`leader-tls*`), and `metrics-tls` when the metrics endpoint
//! starts.

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// The TLS property names.
pub const TLS_PROPERTIES: &[&str] = &[
    "leader-tls",
    "leader-tls-ca-cert-file",
    "leader-tls-cert-file",
    "leader-tls-key-file",
    "leader-tls-server-name",
    "metrics-tls",
    "tls-auth-clients",
    "tls-ca-cert-file",
    "tls-cert-file",
    "tls-key-file",
    "tls-port",
    "tls-protocols",
];

#[derive(Clone, Debug, PartialEq, Default)]
pub struct TlsProps {
    /// The TLS client port (0: none). Read at startup; equal to the plain
    /// port, that one port speaks TLS only.
    pub port: u16,
    pub cert_file: String,
    pub key_file: String,
    /// Verifies client certificates (`tls-auth-clients yes|optional`).
    pub ca_cert_file: String,
    /// `no` (default), `optional` or `yes`.
    pub auth_clients: String,
    /// `TLSv1.2`, `TLSv1.3` or both (empty: both).
    pub protocols: String,
    /// The follower dials its leader over TLS.
    pub leader: bool,
    /// The CA the leader's certificate must chain to (empty: public roots).
    pub leader_ca_cert_file: String,
    /// The follower's own certificate, for a leader that requires one.
    pub leader_cert_file: String,
    pub leader_key_file: String,
    /// The name the leader's certificate must carry (empty: the host
    /// followed).
    pub leader_server_name: String,
    /// `--metrics-addr` serves https with the client port's certificate
    /// (read at startup).
    pub metrics: bool,
}

fn yes_no(v: bool) -> String {
    if v { "yes" } else { "no" }.into()
}

impl TlsProps {
    /// The `CONFIG GET` text; `None` for a name that is not TLS's.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "tls-port" => self.port.to_string(),
            "tls-cert-file" => self.cert_file.clone(),
            "tls-key-file" => self.key_file.clone(),
            "tls-ca-cert-file" => self.ca_cert_file.clone(),
            "tls-auth-clients" if self.auth_clients.is_empty() => "no".into(),
            "tls-auth-clients" => self.auth_clients.clone(),
            "tls-protocols" => self.protocols.clone(),
            "leader-tls" => yes_no(self.leader),
            "leader-tls-ca-cert-file" => self.leader_ca_cert_file.clone(),
            "leader-tls-cert-file" => self.leader_cert_file.clone(),
            "leader-tls-key-file" => self.leader_key_file.clone(),
            "leader-tls-server-name" => self.leader_server_name.clone(),
            "metrics-tls" => yes_no(self.metrics),
            _ => return None,
        })
    }

    /// `CONFIG SET`; `None` for a name that is not TLS's.
    pub fn set(&mut self, name: &str, value: &str) -> Option<Result<()>> {
        let invalid = || {
            Error::Message(format!(
                "Invalid argument '{value}' for CONFIG SET '{name}'"
            ))
        };
        let lower = value.to_ascii_lowercase();
        let text = value.to_string();
        match name {
            "tls-port" => match value.parse() {
                Ok(p) => self.port = p,
                Err(_) => return Some(Err(invalid())),
            },
            "tls-cert-file" => self.cert_file = text,
            "tls-key-file" => self.key_file = text,
            "tls-ca-cert-file" => self.ca_cert_file = text,
            "tls-auth-clients" => match lower.as_str() {
                "yes" | "no" | "optional" => self.auth_clients = lower,
                _ => return Some(Err(invalid())),
            },
            "tls-protocols" => {
                let known = |w: &str| matches!(w, "tlsv1.2" | "tlsv1.3");
                if !lower.split([' ', ',']).filter(|w| !w.is_empty()).all(known) {
                    return Some(Err(invalid()));
                }
                self.protocols = text;
            }
            "leader-tls" | "metrics-tls" => {
                let on = match lower.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Some(Err(invalid())),
                };
                *if name == "leader-tls" {
                    &mut self.leader
                } else {
                    &mut self.metrics
                } = on;
            }
            "leader-tls-ca-cert-file" => self.leader_ca_cert_file = text,
            "leader-tls-cert-file" => self.leader_cert_file = text,
            "leader-tls-key-file" => self.leader_key_file = text,
            "leader-tls-server-name" => self.leader_server_name = text,
            _ => return None,
        }
        Some(Ok(()))
    }

    /// Non-default settings as config-file members.
    pub fn to_file(&self, put: &mut impl FnMut(&str, Json)) {
        let default = TlsProps::default();
        super::mem::put_changed(TLS_PROPERTIES, |n| self.get(n), |n| default.get(n), put);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_validate_and_round_trip() {
        let mut t = TlsProps::default();
        assert_eq!(t.get("tls-auth-clients").as_deref(), Some("no"));
        assert_eq!(t.get("leader-tls").as_deref(), Some("no"));
        assert!(t.get("requirepass").is_none());
        assert!(t.set("requirepass", "x").is_none());
        for (name, bad) in [
            ("tls-port", "70000"),
            ("tls-auth-clients", "maybe"),
            ("tls-protocols", "TLSv1.1"),
            ("leader-tls", "on"),
        ] {
            let e = t.set(name, bad).unwrap().unwrap_err();
            assert_eq!(
                e.message(),
                format!("Invalid argument '{bad}' for CONFIG SET '{name}'")
            );
        }
        t.set("tls-auth-clients", "YES").unwrap().unwrap();
        t.set("tls-protocols", "TLSv1.2 TLSv1.3").unwrap().unwrap();
        t.set("leader-tls", "yes").unwrap().unwrap();
        assert_eq!(t.get("tls-auth-clients").as_deref(), Some("yes"));
        let mut members = Vec::new();
        t.to_file(&mut |k, v| members.push((k.to_string(), v)));
        let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["leader-tls", "tls-auth-clients", "tls-protocols"]);
    }
}

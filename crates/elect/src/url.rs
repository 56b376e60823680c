//! `--elect` URLs: `etcd://host:port[,host:port…]/NAME` (the lock is the
//! etcd key `NAME`) and `kubernetes://NAMESPACE/LEASE-NAME` (a
//! `coordination.k8s.io/v1` Lease). Errors are the text the server prints.

use std::fmt;

/// Where the lock lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElectUrl {
    /// etcd v3: client endpoints (`host:port`, tried in order) and the key.
    Etcd { endpoints: Vec<String>, key: String },
    /// A Kubernetes Lease in a namespace.
    Kubernetes { namespace: String, lease: String },
}

impl ElectUrl {
    /// Parses an `--elect` value.
    pub fn parse(s: &str) -> Result<ElectUrl, String> {
        if let Some(rest) = s.strip_prefix("etcd://") {
            let (hosts, key) = rest
                .split_once('/')
                .ok_or_else(|| format!("elect url {s:?}: missing /NAME after the endpoints"))?;
            if key.is_empty() {
                return Err(format!("elect url {s:?}: empty lock name"));
            }
            let mut endpoints = Vec::new();
            for host in hosts.split(',') {
                check_host_port(host).map_err(|e| format!("elect url {s:?}: {e}"))?;
                endpoints.push(host.to_string());
            }
            return Ok(ElectUrl::Etcd {
                endpoints,
                key: key.to_string(),
            });
        }
        if let Some(rest) = s.strip_prefix("kubernetes://") {
            let (namespace, lease) = rest.split_once('/').ok_or_else(|| {
                format!("elect url {s:?}: expected kubernetes://NAMESPACE/LEASE-NAME")
            })?;
            for (what, name) in [("namespace", namespace), ("lease name", lease)] {
                if !is_dns_name(name) {
                    return Err(format!(
                        "elect url {s:?}: {what} {name:?} is not a DNS-1123 name"
                    ));
                }
            }
            return Ok(ElectUrl::Kubernetes {
                namespace: namespace.to_string(),
                lease: lease.to_string(),
            });
        }
        Err(format!(
            "elect url {s:?}: expected etcd://host:port[,host:port...]/NAME or kubernetes://NAMESPACE/LEASE-NAME"
        ))
    }
}

impl fmt::Display for ElectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElectUrl::Etcd { endpoints, key } => write!(f, "etcd://{}/{key}", endpoints.join(",")),
            ElectUrl::Kubernetes { namespace, lease } => {
                write!(f, "kubernetes://{namespace}/{lease}")
            }
        }
    }
}

/// `host:port` with a non-empty host and a port in 1..=65535 (`[v6]:port`
/// accepted).
pub fn check_host_port(s: &str) -> Result<(), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} is not host:port"))?;
    if host.is_empty() || host.contains(['/', ' ', ',']) {
        return Err(format!("{s:?}: bad host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("{s:?}: bad port")),
    }
}

/// A DNS-1123 label or subdomain (what Kubernetes accepts as a namespace
/// or object name): lower-case alphanumerics, `-` and `.`, alphanumeric at
/// both ends, at most 253 characters.
fn is_dns_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 253
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        assert_eq!(
            ElectUrl::parse("etcd://127.0.0.1:2379,e2:2379/tile38-leader").unwrap(),
            ElectUrl::Etcd {
                endpoints: vec!["127.0.0.1:2379".into(), "e2:2379".into()],
                key: "tile38-leader".into()
            }
        );
        assert_eq!(
            ElectUrl::parse("kubernetes://db/tile38").unwrap(),
            ElectUrl::Kubernetes {
                namespace: "db".into(),
                lease: "tile38".into()
            }
        );
        let u = "etcd://[::1]:2379/a/b";
        assert_eq!(ElectUrl::parse(u).unwrap().to_string(), u);
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "",
            "etcd://",
            "etcd://host/x",
            "etcd://h:0/x",
            "etcd://h:2379/",
            "etcd://h:2379",
            "etcd://h:1,/x",
            "kubernetes://ns",
            "kubernetes://NS/x",
            "kubernetes://ns/",
            "zk://h:1/x",
        ] {
            assert!(ElectUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

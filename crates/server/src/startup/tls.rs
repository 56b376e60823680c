//! The TLS flags (`--tls-port 9852 --tls-cert-file …`, Redis's names) and
//! the TLS listener they start.
//!
//! Every flag is the CONFIG property of the same name, applied over the
//! config file and the environment (`TILE38_CONFIG_TLS_PORT`, …) through
//! `Config::set`, so its value is checked in one place and `CONFIG GET`
//! shows it. `tls-port` beside `-p` adds a TLS port; equal to `-p`, the
//! one port speaks TLS only.

use std::sync::Arc;

use clap::Args;
use tile38_engine::config::Config;
use tile38_tls::reload::Reloading;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::listen::{accept_loop, Connections};
use crate::server::Server;

/// The TLS settings as flags (all optional; see `docs/tls.md`). Field
/// names differ from the main flags' (clap ids must be unique).
#[derive(Args, Debug, Default)]
pub struct TlsFlags {
    /// TLS client port (0: none; equal to -p: that port speaks TLS only).
    #[arg(long = "tls-port")]
    tls_port: Option<String>,
    /// Certificate chain (PEM) served on the TLS port.
    #[arg(long = "tls-cert-file")]
    tls_cert_file: Option<String>,
    /// Private key (PEM) of the certificate.
    #[arg(long = "tls-key-file")]
    tls_key_file: Option<String>,
    /// CA (PEM) that client certificates must chain to.
    #[arg(long = "tls-ca-cert-file")]
    tls_ca_cert_file: Option<String>,
    /// Mutual TLS: yes, optional or no (default no).
    #[arg(long = "tls-auth-clients")]
    tls_auth_clients: Option<String>,
    /// Protocol versions: "TLSv1.2 TLSv1.3" (default both).
    #[arg(long = "tls-protocols")]
    tls_protocols: Option<String>,
    /// Follow the leader over TLS: yes or no.
    #[arg(long = "leader-tls")]
    tls_leader: Option<String>,
    /// CA (PEM) the leader's certificate must chain to.
    #[arg(long = "leader-tls-ca-cert-file")]
    tls_leader_ca_cert_file: Option<String>,
    /// Certificate (PEM) this follower presents to its leader.
    #[arg(long = "leader-tls-cert-file")]
    tls_leader_cert_file: Option<String>,
    /// Key (PEM) of the follower's certificate.
    #[arg(long = "leader-tls-key-file")]
    tls_leader_key_file: Option<String>,
    /// Name the leader's certificate must carry (default: the host).
    #[arg(long = "leader-tls-server-name")]
    tls_leader_server_name: Option<String>,
    /// Serve --metrics-addr over https with the TLS certificate: yes or no.
    #[arg(long = "metrics-tls")]
    tls_metrics: Option<String>,
}

impl TlsFlags {
    /// Sets the properties given as flags.
    pub fn apply(&self, config: &Config) -> Result<(), String> {
        let flags = [
            ("tls-port", &self.tls_port),
            ("tls-cert-file", &self.tls_cert_file),
            ("tls-key-file", &self.tls_key_file),
            ("tls-ca-cert-file", &self.tls_ca_cert_file),
            ("tls-auth-clients", &self.tls_auth_clients),
            ("tls-protocols", &self.tls_protocols),
            ("leader-tls", &self.tls_leader),
            ("leader-tls-ca-cert-file", &self.tls_leader_ca_cert_file),
            ("leader-tls-cert-file", &self.tls_leader_cert_file),
            ("leader-tls-key-file", &self.tls_leader_key_file),
            ("leader-tls-server-name", &self.tls_leader_server_name),
            ("metrics-tls", &self.tls_metrics),
        ];
        super::env::apply_flags(config, &flags)
    }
}

/// The client port's TLS, once the settings are known: the configuration
/// (checked now: a bad certificate stops the start) and the listener of a
/// TLS port beside the plain one.
pub struct TlsPort {
    pub acceptor: Arc<Reloading>,
    /// `None`: the plain port itself speaks TLS.
    pub listener: Option<TcpListener>,
    pub port: u16,
}

/// Sets up `tls-port`, if it is set; `plain` is the main port.
pub fn bind(config: &Config, host: &str, plain: u16) -> Result<Option<TlsPort>, String> {
    let props = config.props();
    let t = &props.tls;
    if t.port == 0 {
        return Ok(None);
    }
    let acceptor = crate::tls::acceptor(t)?;
    let listener = if t.port == plain {
        None
    } else {
        let l = super::listen::bind(host, t.port, props.tcp_backlog)
            .map_err(|e| format!("tls-port {}: {e}", t.port))?;
        Some(l)
    };
    Ok(Some(TlsPort {
        acceptor,
        listener,
        port: t.port,
    }))
}

/// The metrics endpoint's TLS with `metrics-tls yes`: the client port's
/// configuration, or one of its own when there is no TLS port.
pub fn metrics(config: &Config, port: Option<&TlsPort>) -> Result<Option<Arc<Reloading>>, String> {
    let props = config.props();
    if !props.tls.metrics {
        return Ok(None);
    }
    match port {
        Some(p) => Ok(Some(p.acceptor.clone())),
        None => crate::tls::acceptor(&props.tls).map(Some),
    }
}

/// Starts the accept loops: the plain port's (TLS itself when `tls-port`
/// equals it) and the TLS port's beside it.
pub fn accept_loops(
    server: &Arc<Server>,
    listener: TcpListener,
    tls: Option<TlsPort>,
    conns: &Connections,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let (main_tls, beside) = match tls {
        Some(TlsPort {
            acceptor,
            listener: None,
            ..
        }) => (Some(acceptor), None),
        Some(TlsPort {
            acceptor,
            listener: Some(l),
            ..
        }) => (None, Some((l, acceptor))),
        None => (None, None),
    };
    let spawn = |l, tls| {
        let loop_ = accept_loop(server.clone(), l, tls, conns.clone(), stop.clone());
        tokio::spawn(loop_)
    };
    let mut loops = vec![spawn(listener, main_tls)];
    if let Some((l, acceptor)) = beside {
        loops.push(spawn(l, Some(acceptor)));
    }
    loops
}

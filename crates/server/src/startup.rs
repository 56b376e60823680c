//! `tile38-server [-p port] [-h host] [-d dir] [-o json|resp] [-q] [-v] [-vv]
//! [--appendonly yes|no] [--appendfilename path] [--http-transport yes|no]
//! [--protected-mode yes|no] [--pidfile path] [--tcp-backlog n]
//! [--tls-port n --tls-cert-file f --tls-key-file f …]
//! [--min-followers-to-write n --min-followers-max-lag s]
//! [--elect url --advertise host:port --failover-lease-duration s
//! --failover-max-lag bytes] [--version] [--help]`
//!
//! Tile38's flags: `-h` is the host (help is `--help`), long flags take one
//! or two dashes, yes/no values; `--tcp-backlog` and the TLS flags
//! (`startup/tls.rs`) are Redis's settings.
//!
//! Startup raises the open-file soft limit to the hard one (as Go, hence
//! Tile38, does). Shutdown on SIGTERM/SIGINT/SIGQUIT (SIGHUP without
//! `--nohup`): the listener closes, connections finish the command they
//! are executing, send their replies and close (up to
//! [`listen::DRAIN_TIMEOUT`]; a second signal cuts that short), then the
//! AOF is flushed and fsynced, the pid file removed, the runtime stopped,
//! and only then the data-dir lock released. Exit status as Tile38's: 0
//! for SIGTERM, 2 SIGINT, 3 SIGQUIT, 1 SIGHUP.

mod elect;
mod env;
mod followers;
mod listen;
mod tls;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use clap::{ArgAction, Parser};

use crate::server::Server;
use tile38_engine::config::{Config, FOLLOWER_PROPERTIES, TLS_PROPERTIES};
use tile38_engine::Options;

#[derive(Parser, Debug)]
#[command(
    name = "tile38-server",
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Flags {
    /// The listening port.
    #[arg(short = 'p', default_value_t = 9851)]
    port: u16,
    /// The listening host (default: all interfaces).
    #[arg(short = 'h', default_value = "")]
    host: String,
    /// The data directory.
    #[arg(short = 'd', default_value = "data")]
    dir: PathBuf,
    /// Force the initial output mode of every connection: json or resp.
    #[arg(short = 'o')]
    output: Option<String>,
    /// Log format: text or json.
    #[arg(short = 'l', default_value = "text", value_parser = ["text", "json"])]
    log: String,
    /// Log format, long form of `-l` (wins over it): text or json.
    #[arg(long = "log-format", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Quiet logging (errors only).
    #[arg(short = 'q', action = ArgAction::SetTrue)]
    quiet: bool,
    /// Verbose logging; -vv for very verbose.
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// Append-only file: yes or no.
    #[arg(long = "appendonly", default_value = "yes")]
    appendonly: String,
    /// AOF path (default <dir>/appendonly.aof).
    #[arg(long = "appendfilename")]
    appendfilename: Option<PathBuf>,
    /// Webhook queue path (accepted for compatibility).
    #[arg(long = "queuefilename")]
    queuefilename: Option<PathBuf>,
    /// HTTP and WebSocket on the main port: yes or no.
    #[arg(long = "http-transport", default_value = "yes")]
    http_transport: String,
    /// Refuse non-loopback clients without a password: yes or no.
    #[arg(long = "protected-mode", default_value = "no")]
    protected_mode: String,
    /// Write the process id to this file.
    #[arg(long = "pidfile")]
    pidfile: Option<PathBuf>,
    /// Ignore SIGHUP.
    #[arg(long = "nohup", action = ArgAction::SetTrue)]
    nohup: bool,
    /// Accepted for compatibility, ignored.
    #[arg(long = "spinlock", action = ArgAction::SetTrue)]
    spinlock: bool,
    /// Accepted for compatibility, ignored.
    #[arg(long = "dev", action = ArgAction::SetTrue)]
    dev: bool,
    /// Accepted for compatibility, ignored.
    #[arg(long = "threads")]
    threads: Option<String>,
    /// Accepted for compatibility, ignored.
    #[arg(long = "evio")]
    evio: Option<String>,
    /// Serve Prometheus metrics at http://<addr>/metrics (e.g. `:4321`).
    #[arg(long = "metrics-addr")]
    metrics_addr: Option<String>,
    /// Follow this leader (`host:port`) from startup, as `FOLLOW host port`
    /// would; retried with backoff until the leader answers.
    #[arg(long = "follow")]
    follow: Option<String>,
    /// Listen backlog (default: the `tcp-backlog` property, 4096).
    #[arg(long = "tcp-backlog")]
    tcp_backlog: Option<u32>,
    /// Print the version and exit.
    #[arg(long = "version", action = ArgAction::SetTrue)]
    version: bool,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    tls: tls::TlsFlags,
    #[command(flatten)]
    followers: followers::FollowerFlags,
    #[command(flatten)]
    elect: elect::ElectFlags,
}

const LONG_FLAGS: &[&str] = &[
    "appendonly",
    "appendfilename",
    "queuefilename",
    "http-transport",
    "protected-mode",
    "pidfile",
    "nohup",
    "spinlock",
    "dev",
    "threads",
    "evio",
    "version",
    "help",
    "follow",
    "tcp-backlog",
];

/// Go's flag package accepts `-name` for long flags; clap wants `--name`.
fn normalize_args(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| {
        let name = a
            .strip_prefix('-')
            .filter(|r| !r.starts_with('-'))
            .map(|r| r.split('=').next().unwrap_or(r));
        match name {
            Some(n) if LONG_FLAGS.contains(&n) || TLS_PROPERTIES.contains(&n) => format!("-{a}"),
            Some(n) if FOLLOWER_PROPERTIES.contains(&n) || elect::LONG.contains(&n) => {
                format!("-{a}")
            }
            _ => a,
        }
    })
    .collect()
}

fn yes_no(name: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "1" | "true" => Ok(true),
        "no" | "0" | "false" => Ok(false),
        _ => Err(format!("{name} must be 'yes' or 'no'")),
    }
}

fn init_logging(flags: &Flags) {
    let level = if flags.quiet {
        "error"
    } else {
        match flags.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("TILE38_LOG").unwrap_or_else(|_| level.into());
    // Colours only for a person watching; files and log collectors get
    // plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let format = flags.log_format.as_deref().unwrap_or(&flags.log);
    if format == "json" {
        // One object per line with `message` at the top level, the shape
        // log shippers index without configuration.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.init();
    }
}

/// Entry point of `tile38-server`; returns the process exit code.
pub fn run_cli() -> i32 {
    let mut flags = match Flags::try_parse_from(normalize_args(std::env::args())) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    if flags.version {
        println!(
            "tile38-server version {} (tile38-rs {})",
            crate::VERSION,
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    let checked = options(&flags).and_then(|o| Ok((o, flags.elect.plan(flags.follow.is_some())?)));
    let (opts, elect) = match checked {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    init_logging(&flags);
    raise_nofile_limit();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return 1;
        }
    };
    let startup = Startup {
        pidfile: flags.pidfile.clone(),
        nohup: flags.nohup,
        metrics_addr: flags.metrics_addr.clone(),
        tcp_backlog: flags.tcp_backlog,
        tls: std::mem::take(&mut flags.tls),
        followers: std::mem::take(&mut flags.followers),
        elect,
    };
    let (code, lock) = match rt.block_on(run(opts, startup)) {
        Ok(done) => done,
        Err(e) => {
            tracing::error!("{e}");
            (1, None)
        }
    };
    // The follow loop and background tasks end with the runtime; an idle
    // replication link must not keep the process (and its data dir) alive.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    // Only now may another server open the data dir: nothing of this one
    // writes to it any more.
    drop(lock);
    code
}

/// Go raises the open-file soft limit to the hard one at startup, so
/// Tile38 serves as many connections as the hard limit allows; so do we.
fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let old = lim.rlim_cur;
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                tracing::debug!("open file limit raised from {old} to {}", lim.rlim_max);
            }
        }
    }
}

/// Startup settings that are neither [`Options`] nor CONFIG properties.
struct Startup {
    pidfile: Option<PathBuf>,
    nohup: bool,
    metrics_addr: Option<String>,
    /// `--tcp-backlog`, over the `tcp-backlog` property.
    tcp_backlog: Option<u32>,
    /// `--tls-*`, `--leader-tls*`, over their properties.
    tls: tls::TlsFlags,
    /// `--min-followers-*`, over their properties.
    followers: followers::FollowerFlags,
    /// `--elect` and its settings (`server/src/elect.rs`).
    elect: Option<elect::Plan>,
}

/// `--follow host:port` (the port after the last colon, so IPv6 works).
fn parse_follow(v: &str) -> Result<(String, u16), String> {
    let bad = || format!("--follow must be host:port, got '{v}'");
    let (host, port) = v.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_lowercase(), port.parse().map_err(|_| bad())?))
}

/// Creates the data dir (mode 0700) and locks it
/// ([`lock_data_dir`]).
fn open_data_dir(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    lock_data_dir(dir)
}

/// Holds an exclusive lock on `<dir>/tile38.lock` for the life of the
/// process: a second server on the same data dir refuses to start.
fn lock_data_dir(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("tile38.lock"))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(std::io::Error::other(format!(
            "data directory {} is in use by another tile38-server",
            dir.display()
        )));
    }
    Ok(f)
}

fn options(flags: &Flags) -> Result<Options, String> {
    let output_json = match flags.output.as_deref() {
        None => None,
        Some(o) if o.eq_ignore_ascii_case("json") => Some(true),
        Some(o) if o.eq_ignore_ascii_case("resp") => Some(false),
        Some(_) => return Err("output must be 'json' or 'resp'".into()),
    };
    Ok(Options {
        host: flags.host.clone(),
        port: flags.port,
        dir: flags.dir.clone(),
        output_json,
        http_transport: yes_no("http-transport", &flags.http_transport)?,
        protected_mode: yes_no("protected-mode", &flags.protected_mode)?,
        appendonly: yes_no("appendonly", &flags.appendonly)?,
        appendfilename: flags.appendfilename.clone(),
        follow: flags.follow.as_deref().map(parse_follow).transpose()?,
        http_500_errors: std::env::var("T38HTTP500ERRORS")
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")),
    })
}

/// Whether there is nothing to load (no AOF, or an empty one: a fresh
/// server). Then loading is done before the listener accepts: Tile38 is
/// through it in microseconds, and a client that writes as soon as PING
/// answers must not get `LOADING` (our loading threads took 3 ms, and 19 of
/// 20 such writes were refused). A real AOF loads while clients get
/// `LOADING`, as in Tile38.
fn nothing_to_load(server: &Server, aof_path: &std::path::Path) -> bool {
    server.aof.is_none() || std::fs::metadata(aof_path).map_or(true, |m| m.len() == 0)
}

/// Loads the AOF and starts the hooks' delivery; then writes are served.
async fn load(
    server: &Arc<Server>,
    aof_path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    crate::load::load_at_startup(server, aof_path).await?;
    crate::hooks::start(server)?;
    server.loading.store(false, Ordering::Release);
    Ok(())
}

async fn run(
    opts: Options,
    mut startup: Startup,
) -> Result<(i32, Option<std::fs::File>), Box<dyn std::error::Error>> {
    // Handlers first: a SIGTERM at any point after start must shut down cleanly.
    let mut signals = Signals::install()?;
    tracing::info!(
        "Server started, Tile38 version {} (tile38-rs {})",
        crate::VERSION,
        env!("CARGO_PKG_VERSION")
    );
    let lock = open_data_dir(&opts.dir)?;
    let config = load_config(&opts, &startup)?;
    let aof_path = opts
        .appendfilename
        .clone()
        .unwrap_or_else(|| opts.dir.join("appendonly.aof"));
    let aof = if opts.appendonly {
        Some(tile38_aof::Aof::open(&aof_path)?)
    } else {
        None
    };
    let host = if opts.host.is_empty() {
        "0.0.0.0".to_string()
    } else {
        opts.host.clone()
    };
    let listener = listen::bind(&host, opts.port, config.props().tcp_backlog)?;
    let tls_port = tls::bind(&config, &host, opts.port)?;
    let mut opts = opts;
    // `-p 0` lets the OS pick; the real port is what gets logged and reported.
    opts.port = listener.local_addr()?.port();
    let server = Server::new(opts, config, aof).into_arc();
    if let Some(p) = &startup.pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))?;
    }

    let instant = nothing_to_load(&server, &aof_path);
    if instant {
        load(&server, &aof_path).await?;
    } else {
        server.loading.store(true, Ordering::Release);
    }
    let conns = listen::Connections::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tls_at = tls_port.as_ref().map(|t| t.port);
    let metrics_tls = tls::metrics(&server.config, tls_port.as_ref())?;
    let accepting = tls::accept_loops(&server, listener, tls_port, &conns, stopped);
    if let Some(addr) = &startup.metrics_addr {
        crate::metrics::listen(server.clone(), addr, metrics_tls).await?;
    }
    if !instant {
        load(&server, &aof_path).await?;
    }
    crate::background::spawn(server.clone());
    let plan = startup.elect.take().map(|mut p| {
        p.settings.advertise = elect::with_port(&p.settings.advertise, server.opts.port);
        (p.url, p.settings)
    });
    crate::elect::take_role(&server, plan).await?;
    if let Some(port) = tls_at {
        tracing::info!("Ready to accept TLS connections at {host}:{port}");
    }
    tracing::info!("Ready to accept connections at {host}:{}", server.opts.port);

    let code = signals.wait(startup.nohup).await;
    tracing::info!("Shutting down");
    // A leader hands the lock over first (a follower takes over at once).
    crate::elect::shutdown(&server).await;
    let _ = stop.send(true);
    // The listeners are closed once their loops have returned.
    for accepting in accepting {
        let _ = accepting.await;
    }
    tokio::select! {
        _ = conns.drain(&server) => {}
        _ = signals.wait(startup.nohup) => tracing::warn!("Second signal: not waiting for connections"),
    }
    finish(&server, &startup)?;
    Ok((code, Some(lock)))
}

/// The config file, with the environment and the flags that set
/// properties applied over it.
fn load_config(opts: &Options, startup: &Startup) -> Result<Config, Box<dyn std::error::Error>> {
    let config = Config::load(Some(&opts.dir.join("config")))?;
    env::apply_env(&config)?;
    if let Some(n) = startup.tcp_backlog {
        config
            .set("tcp-backlog", &n.to_string())
            .map_err(|e| format!("--tcp-backlog: {}", e.message()))?;
    }
    startup.tls.apply(&config)?;
    startup.followers.apply(&config)?;
    if let Some((host, port)) = &opts.follow {
        config.set_follow(Some((host, *port)))?;
    }
    Ok(config)
}

/// The last steps of a shutdown, once no connection executes commands.
fn finish(server: &Server, startup: &Startup) -> std::io::Result<()> {
    // Every acknowledged write is in the file and on disk before exit.
    if let Some(aof) = &server.aof {
        aof.sync()?;
    }
    if let Some(w) = server.webhooks.get() {
        w.shutdown();
    }
    if let Some(p) = &startup.pidfile {
        let _ = std::fs::remove_file(p);
    }
    tracing::info!("Bye");
    Ok(())
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for a terminating signal; returns Tile38's exit code for it.
    async fn wait(&mut self, nohup: bool) -> i32 {
        loop {
            tokio::select! {
                _ = self.term.recv() => return 0,
                _ = self.int.recv() => return 2,
                _ = self.quit.recv() => return 3,
                _ = self.hup.recv() => if !nohup { return 1 },
            }
        }
    }
}

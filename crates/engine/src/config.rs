//! Engine configuration properties (`CONFIG GET/SET/REWRITE`) and the
//! `config` file in the data directory.
//!
//! The file is JSON, tab-indented, keys sorted, mode 0600. It holds the
//! server id, the follow target, `read_only`, and the properties as of the
//! last load or `CONFIG REWRITE` (defaults omitted). `CONFIG SET` changes the
//! live values only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use serde_json::{json, Map, Value as Json};

use tile38_aof::Fsync;

use crate::output_limit::OutputLimits;

use crate::error::{Error, Result};

mod followers;
mod mem;
mod tls;
pub use followers::{FollowerProps, FOLLOWER_PROPERTIES};
use mem::parse_uint_error;
pub use mem::{format_mem_size, parse_mem_size};
pub use tls::{TlsProps, TLS_PROPERTIES};

/// Properties of ours that Tile38 lacks: readable and settable by their
/// exact name, kept out of pattern listings (`CONFIG GET *`) so that replies
/// Tile38 clients know stay as they were.
pub const EXTRA_PROPERTIES: &[&str] = &[
    "appendfsync",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "client-output-buffer-limit",
    "lua-memory-limit",
    "lua-time-limit",
    "min-followers-max-lag",
    "min-followers-to-write",
    "tcp-backlog",
];

/// The property names `CONFIG GET` knows, sorted.
pub const PROPERTIES: &[&str] = &[
    "autogc",
    "keepalive",
    "leaderauth",
    "logconfig",
    "maxmemory",
    "protected-mode",
    "replica-priority",
    "replica_announce_ip",
    "replica_announce_port",
    "requirepass",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Props {
    pub requirepass: String,
    pub leaderauth: String,
    pub protected_mode: bool,
    pub maxmemory: u64,
    pub autogc: u64,
    pub keepalive: u64,
    pub logconfig: String,
    /// `-1` = unset.
    pub replica_priority: i64,
    pub replica_announce_ip: String,
    pub replica_announce_port: u64,
    /// `appendfsync always|everysec|no`.
    pub appendfsync: Fsync,
    /// Automatic rewrite when the AOF grew by this many percent since the
    /// last rewrite (0 = never), …
    pub auto_aof_rewrite_percentage: u64,
    /// … and is at least this big (bytes).
    pub auto_aof_rewrite_min_size: u64,
    /// Redis's `client-output-buffer-limit` for the `pubsub` class
    /// (`pubsub <hard> <soft> <soft seconds>`), applied at once.
    pub client_output_buffer_limit: OutputLimits,
    /// The listen backlog (Redis's `tcp-backlog`); `--tcp-backlog` wins
    /// over it. Read at startup: a change takes effect at the next start.
    pub tcp_backlog: u32,
    /// Milliseconds one script (EVAL…, one WHEREEVAL call) may run before
    /// it is stopped with `timeout` (0: no limit, as Tile38).
    pub lua_time_limit: u64,
    /// Bytes one Lua interpreter may allocate (0: no cap).
    pub lua_memory_limit: u64,
    /// The TLS client port and the follower's TLS dial (`config/tls.rs`).
    pub tls: TlsProps,
    /// `min-followers-to-write`, `min-followers-max-lag` (`config/followers.rs`).
    pub followers: FollowerProps,
}

/// Tile38's listen backlog (Go's default on Linux: somaxconn, 4096 here).
pub const DEFAULT_TCP_BACKLOG: u32 = 4096;

impl Default for Props {
    fn default() -> Self {
        Props {
            requirepass: String::new(),
            leaderauth: String::new(),
            protected_mode: true,
            maxmemory: 0,
            autogc: 0,
            keepalive: 300,
            logconfig: String::new(),
            replica_priority: -1,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            appendfsync: Fsync::EverySec,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            client_output_buffer_limit: OutputLimits::default(),
            tcp_backlog: DEFAULT_TCP_BACKLOG,
            lua_time_limit: 5000,
            lua_memory_limit: 64 << 20,
            tls: TlsProps::default(),
            followers: FollowerProps::default(),
        }
    }
}

impl Props {
    /// The `CONFIG GET` text of a property.
    pub fn get(&self, name: &str) -> String {
        match name {
            "requirepass" => self.requirepass.clone(),
            "leaderauth" => self.leaderauth.clone(),
            "protected-mode" => if self.protected_mode { "yes" } else { "no" }.into(),
            "maxmemory" => format_mem_size(self.maxmemory),
            "autogc" => self.autogc.to_string(),
            "keepalive" => self.keepalive.to_string(),
            "logconfig" => self.logconfig.clone(),
            "replica-priority" if self.replica_priority < 0 => String::new(),
            "replica-priority" => self.replica_priority.to_string(),
            "replica_announce_ip" => self.replica_announce_ip.clone(),
            "replica_announce_port" => self.replica_announce_port.to_string(),
            "appendfsync" => self.appendfsync.as_str().into(),
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage.to_string(),
            "auto-aof-rewrite-min-size" => format_mem_size(self.auto_aof_rewrite_min_size),
            "client-output-buffer-limit" => self.client_output_buffer_limit.text(),
            "tcp-backlog" => self.tcp_backlog.to_string(),
            "lua-time-limit" => self.lua_time_limit.to_string(),
            "lua-memory-limit" => format_mem_size(self.lua_memory_limit),
            _ => self
                .tls
                .get(name)
                .or_else(|| self.followers.get(name))
                .unwrap_or_default(),
        }
    }

    /// `CONFIG SET name value`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let invalid = || {
            Error::Message(format!(
                "Invalid argument '{value}' for CONFIG SET '{name}'"
            ))
        };
        // Go's `ParseUint`, as Tile38 reads its numbers: `+5` is refused.
        let unsigned = |v: &str| tile38_geo::number::parse_uint(v.as_bytes());
        match name {
            "requirepass" => self.requirepass = value.into(),
            "leaderauth" => self.leaderauth = value.into(),
            "protected-mode" => {
                self.protected_mode = match value.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(invalid()),
                }
            }
            "maxmemory" => self.maxmemory = parse_mem_size(value).ok_or_else(invalid)?,
            "autogc" => {
                self.autogc = if value.is_empty() {
                    0
                } else {
                    unsigned(value).ok_or_else(|| parse_uint_error(value))?
                }
            }
            "keepalive" => {
                self.keepalive = if value.is_empty() {
                    300
                } else {
                    unsigned(value).ok_or_else(invalid)?
                }
            }
            "logconfig" => self.logconfig = value.into(),
            "replica-priority" => {
                self.replica_priority = value
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(invalid)?
            }
            "replica_announce_ip" => self.replica_announce_ip = value.into(),
            "appendfsync" => self.appendfsync = Fsync::parse(value).ok_or_else(invalid)?,
            "auto-aof-rewrite-percentage" => {
                self.auto_aof_rewrite_percentage = unsigned(value).ok_or_else(invalid)?
            }
            "auto-aof-rewrite-min-size" => {
                self.auto_aof_rewrite_min_size = parse_mem_size(value).ok_or_else(invalid)?
            }
            "client-output-buffer-limit" => {
                self.client_output_buffer_limit = OutputLimits::parse(value).ok_or_else(invalid)?
            }
            "tcp-backlog" => {
                // `listen(2)` takes an int; the kernel caps it at somaxconn.
                self.tcp_backlog = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=i32::MAX as u32).contains(n))
                    .ok_or_else(invalid)?
            }
            "lua-time-limit" => self.lua_time_limit = unsigned(value).ok_or_else(invalid)?,
            "lua-memory-limit" => {
                self.lua_memory_limit = parse_mem_size(value).ok_or_else(invalid)?
            }
            "replica_announce_port" => {
                self.replica_announce_port = if value.is_empty() {
                    0
                } else {
                    unsigned(value).ok_or_else(invalid)?
                }
            }
            _ => {
                let other = self.tls.set(name, value);
                return other
                    .or_else(|| self.followers.set(name, value))
                    .unwrap_or_else(|| {
                        Err(Error::Message(format!(
                            "Unsupported CONFIG parameter: {name}"
                        )))
                    });
            }
        }
        Ok(())
    }

    /// Non-default properties as config-file members.
    fn to_file(&self, out: &mut Map<String, Json>) {
        let d = Props::default();
        let mut put = |k: &str, v: Json| {
            out.insert(k.to_string(), v);
        };
        self.tls.to_file(&mut put);
        self.followers.to_file(&mut put);
        if !self.requirepass.is_empty() {
            put("requirepass", json!(self.requirepass));
        }
        if !self.leaderauth.is_empty() {
            put("leaderauth", json!(self.leaderauth));
        }
        if self.protected_mode != d.protected_mode {
            put("protected-mode", json!("no"));
        }
        if self.maxmemory as i64 > 0 {
            put("maxmemory", json!(format_mem_size(self.maxmemory)));
        }
        if self.autogc != 0 {
            put("autogc", json!(self.autogc.to_string()));
        }
        if self.keepalive != d.keepalive {
            put("keepalive", json!(self.keepalive.to_string()));
        }
        if !self.logconfig.is_empty() {
            let v = serde_json::from_str(&self.logconfig).unwrap_or(json!(self.logconfig));
            put("logconfig", v);
        }
        if self.replica_priority >= 0 {
            put("replica-priority", json!(self.replica_priority));
        }
        if !self.replica_announce_ip.is_empty() {
            put("replica_announce_ip", json!(self.replica_announce_ip));
        }
        if self.appendfsync != d.appendfsync {
            put("appendfsync", json!(self.appendfsync.as_str()));
        }
        if self.auto_aof_rewrite_percentage != d.auto_aof_rewrite_percentage {
            put(
                "auto-aof-rewrite-percentage",
                json!(self.auto_aof_rewrite_percentage.to_string()),
            );
        }
        if self.auto_aof_rewrite_min_size != d.auto_aof_rewrite_min_size {
            put(
                "auto-aof-rewrite-min-size",
                json!(format_mem_size(self.auto_aof_rewrite_min_size)),
            );
        }
        if self.client_output_buffer_limit != d.client_output_buffer_limit {
            put(
                "client-output-buffer-limit",
                json!(self.client_output_buffer_limit.text()),
            );
        }
        if self.tcp_backlog != d.tcp_backlog {
            put("tcp-backlog", json!(self.tcp_backlog.to_string()));
        }
        if self.lua_time_limit != d.lua_time_limit {
            put("lua-time-limit", json!(self.lua_time_limit.to_string()));
        }
        if self.lua_memory_limit != d.lua_memory_limit {
            put(
                "lua-memory-limit",
                json!(format_mem_size(self.lua_memory_limit)),
            );
        }
        if self.replica_announce_port != 0 {
            put(
                "replica_announce_port",
                json!(self.replica_announce_port.to_string()),
            );
        }
    }

    /// Reads properties leniently from a config-file object.
    fn from_file(obj: &Map<String, Json>) -> Props {
        let mut p = Props::default();
        let text = |k: &str| match obj.get(k) {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            Some(Json::Object(_)) | Some(Json::Array(_)) => obj.get(k).map(|v| v.to_string()),
            _ => None,
        };
        for name in PROPERTIES
            .iter()
            .chain(EXTRA_PROPERTIES)
            .chain(TLS_PROPERTIES)
        {
            if let Some(v) = text(name) {
                let _ = p.set(name, &v);
            }
        }
        p
    }
}

/// What the config file holds besides the properties.
#[derive(Clone, Debug, Default)]
pub struct Identity {
    pub server_id: String,
    pub follow_host: String,
    pub follow_port: u16,
    pub read_only: bool,
}

/// Live configuration plus the persisted snapshot written to the file.
pub struct Config {
    path: Option<PathBuf>,
    /// Mirrors of hot flags, read on every command without locking.
    has_password: std::sync::atomic::AtomicBool,
    read_only: std::sync::atomic::AtomicBool,
    min_followers: std::sync::atomic::AtomicU64,
    live: RwLock<Props>,
    persisted: RwLock<Props>,
    identity: RwLock<Identity>,
}

fn random_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Config {
    /// Loads `<dir>/config` (missing = defaults), generating a server id, and
    /// rewrites the file as Tile38 does at every start. `path = None` keeps
    /// the configuration in memory only.
    pub fn load(path: Option<&Path>) -> std::io::Result<Config> {
        let mut props = Props::default();
        let mut identity = Identity::default();
        if let Some(p) = path {
            match std::fs::read(p) {
                Ok(data) => {
                    let obj: Map<String, Json> = serde_json::from_slice(&data).map_err(|e| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("config file {}: {e}", p.display()),
                        )
                    })?;
                    props = Props::from_file(&obj);
                    identity.server_id = obj
                        .get("server_id")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .into();
                    identity.follow_host = obj
                        .get("follow_host")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .into();
                    identity.follow_port =
                        obj.get("follow_port").and_then(Json::as_u64).unwrap_or(0) as u16;
                    identity.read_only = obj
                        .get("read_only")
                        .and_then(Json::as_bool)
                        .unwrap_or(false);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if identity.server_id.is_empty() {
            identity.server_id = random_id();
        }
        let cfg = Config {
            path: path.map(Path::to_path_buf),
            has_password: (!props.requirepass.is_empty()).into(),
            read_only: identity.read_only.into(),
            min_followers: props.followers.min_to_write.into(),
            live: RwLock::new(props.clone()),
            persisted: RwLock::new(props),
            identity: RwLock::new(identity),
        };
        cfg.write_file()?;
        Ok(cfg)
    }

    pub fn props(&self) -> parking_lot::RwLockReadGuard<'_, Props> {
        self.live.read()
    }

    pub fn identity(&self) -> Identity {
        self.identity.read().clone()
    }

    pub fn read_only(&self) -> bool {
        self.read_only.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `min-followers-to-write` (read by every write's gate).
    pub fn min_followers_to_write(&self) -> u64 {
        self.min_followers
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `requirepass` is set (clients must AUTH).
    pub fn has_password(&self) -> bool {
        self.has_password.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `CONFIG SET`.
    pub fn set(&self, name: &str, value: &str) -> Result<()> {
        let mut live = self.live.write();
        live.set(name, value)?;
        self.has_password.store(
            !live.requirepass.is_empty(),
            std::sync::atomic::Ordering::Relaxed,
        );
        let min = live.followers.min_to_write;
        self.min_followers
            .store(min, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// `CONFIG REWRITE`.
    pub fn rewrite(&self) -> std::io::Result<()> {
        *self.persisted.write() = self.live.read().clone();
        self.write_file()
    }

    /// `FOLLOW host port` / `FOLLOW no one`, persisted at once.
    pub fn set_follow(&self, target: Option<(&str, u16)>) -> std::io::Result<()> {
        {
            let mut id = self.identity.write();
            let (host, port) = target.unwrap_or(("", 0));
            id.follow_host = host.to_string();
            id.follow_port = port;
        }
        self.write_file()
    }

    /// `READONLY yes|no`, persisted at once.
    pub fn set_read_only(&self, on: bool) -> std::io::Result<()> {
        self.identity.write().read_only = on;
        self.read_only
            .store(on, std::sync::atomic::Ordering::Relaxed);
        self.write_file()
    }

    fn write_file(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut obj = Map::new();
        self.persisted.read().to_file(&mut obj);
        let id = self.identity.read();
        obj.insert("server_id".into(), json!(id.server_id));
        if !id.follow_host.is_empty() {
            obj.insert("follow_host".into(), json!(id.follow_host));
            obj.insert("follow_port".into(), json!(id.follow_port));
        }
        if id.read_only {
            obj.insert("read_only".into(), json!(true));
        }
        let sorted: BTreeMap<_, _> = obj.into_iter().collect();
        let mut text = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
        serde::Serialize::serialize(&sorted, &mut ser).map_err(std::io::Error::other)?;
        text.push(b'\n');
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &text)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests;

//! CONFIG properties from the environment (`TILE38_CONFIG_<NAME>`, and
//! Tile38's `TILE38_REQUIREPASS` / `TILE38_LEADERAUTH`), applied at startup
//! over the config file.

use tile38_engine::config::Config;

/// Sets the properties given as command-line flags (`--name value`), each
/// through CONFIG SET's checks; an error names the flag.
pub fn apply_flags(config: &Config, flags: &[(&str, &Option<String>)]) -> Result<(), String> {
    for &(name, value) in flags {
        if let Some(v) = value {
            config
                .set(name, v)
                .map_err(|e| format!("--{name}: {}", e.message()))?;
        }
    }
    Ok(())
}

/// Settings from the environment, applied over the config file without
/// being written to it (secrets from a Kubernetes Secret stay out of the
/// data dir unless `CONFIG REWRITE`): `TILE38_REQUIREPASS`,
/// `TILE38_LEADERAUTH`, and `TILE38_CONFIG_<NAME>` for any CONFIG property
/// (`TILE38_CONFIG_MAXMEMORY=1gb`; `_` may stand for `-`).
pub fn apply_env(config: &Config) -> Result<(), String> {
    for (key, value) in std::env::vars() {
        let name = match key.as_str() {
            "TILE38_REQUIREPASS" => "requirepass".to_string(),
            "TILE38_LEADERAUTH" => "leaderauth".to_string(),
            k => match k.strip_prefix("TILE38_CONFIG_") {
                Some(n) => n.to_ascii_lowercase(),
                None => continue,
            },
        };
        let dashed = name.replace('_', "-");
        config
            .set(&name, &value)
            .or_else(|_| config.set(&dashed, &value))
            .map_err(|e| format!("{key}: {}", e.message()))?;
    }
    Ok(())
}

//! `CONFIG GET pattern`, `CONFIG SET parameter [value]`, `CONFIG REWRITE`:
//! three commands of the table, whose names have two words (Tile38's
//! `config get`, `config set`, `config rewrite`; see [`super::resolve`]).

use tile38_collection::glob;
use tile38_proto::Args;

use super::server_info::{write_map, Val};
use super::{ConnCommand, ConnCx};
use crate::config::{EXTRA_PROPERTIES, PROPERTIES, TLS_PROPERTIES};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// `CONFIG GET pattern`.
pub struct ConfigGet(Vec<u8>);

/// `CONFIG SET parameter [value]`.
pub struct ConfigSet(String, String);

/// `CONFIG REWRITE`.
pub struct ConfigRewrite;

// The table's `config get`, `config set` and `config rewrite`: the
// subcommand is part of the name ([`super::resolve`]), so each parse
// starts at the command's own arguments.
impl ConnCommand<'_> for ConfigGet {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        Ok(ConfigGet(c.next()?.to_vec()))
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let pattern = self.0;
        let props = cx.engine.config.props();
        // Sorted by name, as Tile38's map replies are.
        let found = PROPERTIES
            .iter()
            .filter(|n| glob::matches(&pattern, n.as_bytes()))
            .chain(
                EXTRA_PROPERTIES
                    .iter()
                    .chain(TLS_PROPERTIES)
                    .filter(|n| n.as_bytes() == pattern),
            )
            .map(|n| (*n, Val::Str(props.get(n))))
            .collect();
        write_map(out, "properties", found);
        Ok(())
    }
}

impl ConnCommand<'_> for ConfigSet {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
        match (c.next(), c.next(), c.finish()) {
            (Ok(name @ b"requirepass"), Err(_), _) => Ok(ConfigSet(text(name), String::new())),
            (Ok(name), Ok(value), Ok(())) => Ok(ConfigSet(text(name), text(value))),
            _ => Err(Error::Arity),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let ConfigSet(name, value) = self;
        cx.engine.config.set(&name, &value)?;
        crate::script::refresh_filter_limits(cx.engine);
        if name == "maxmemory" {
            cx.engine.check_memory();
        }
        if name == "appendfsync" {
            cx.engine.apply_fsync_policy();
        }
        out.ok();
        Ok(())
    }
}

impl ConnCommand<'_> for ConfigRewrite {
    fn parse(args: &Args) -> Result<Self> {
        Cursor::new(args).finish()?;
        Ok(ConfigRewrite)
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        cx.engine
            .config
            .rewrite()
            .map_err(|e| Error::Message(e.to_string()))?;
        out.ok();
        Ok(())
    }
}

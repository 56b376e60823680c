//! `CONFIG GET pattern`, `CONFIG SET parameter [value]`, `CONFIG REWRITE`.

use tile38_collection::glob;
use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::config::{EXTRA_PROPERTIES, PROPERTIES};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub enum ConfigCmd {
    Get(Vec<u8>),
    Set(String, String),
    Rewrite,
}

impl ConnCommand<'_> for ConfigCmd {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        // Tile38 names the command and its subcommand as sent.
        let name = c.command();
        let Ok(sub) = c.next() else {
            return Err(Error::UnknownCommand(name.to_vec()));
        };
        let text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
        if sub.eq_ignore_ascii_case(b"get") {
            c.exactly(1)?;
            Ok(ConfigCmd::Get(c.next()?.to_vec()))
        } else if sub.eq_ignore_ascii_case(b"set") {
            match (c.next(), c.next(), c.finish()) {
                (Ok(name @ b"requirepass"), Err(_), _) => {
                    Ok(ConfigCmd::Set(text(name), String::new()))
                }
                (Ok(name), Ok(value), Ok(())) => Ok(ConfigCmd::Set(text(name), text(value))),
                _ => Err(Error::Arity),
            }
        } else if sub.eq_ignore_ascii_case(b"rewrite") {
            c.finish()?;
            Ok(ConfigCmd::Rewrite)
        } else {
            Err(Error::UnknownCommand([name, sub].join(&b' ')))
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        match self {
            ConfigCmd::Get(pattern) => {
                let props = cx.engine.config.props();
                let found: Vec<(&str, String)> = PROPERTIES
                    .iter()
                    .filter(|n| glob::matches(&pattern, n.as_bytes()))
                    .chain(EXTRA_PROPERTIES.iter().filter(|n| n.as_bytes() == pattern))
                    .map(|n| (*n, props.get(n)))
                    .collect();
                if out.json {
                    out.key("properties");
                    out.push(b"{");
                    for (i, (n, v)) in found.iter().enumerate() {
                        if i > 0 {
                            out.push(b",");
                        }
                        out.json_str(n.as_bytes());
                        out.push(b":");
                        out.json_str(v.as_bytes());
                    }
                    out.push(b"}");
                } else {
                    out.resp_array(found.len() * 2);
                    for (n, v) in &found {
                        out.resp_bulk(n.as_bytes());
                        out.resp_bulk(v.as_bytes());
                    }
                }
            }
            ConfigCmd::Set(name, value) => {
                cx.engine.config.set(&name, &value)?;
                crate::script::refresh_filter_limits(cx.engine);
                if name == "maxmemory" {
                    cx.engine.check_memory();
                }
                if name == "appendfsync" {
                    cx.engine.apply_fsync_policy();
                }
                out.ok();
            }
            ConfigCmd::Rewrite => {
                cx.engine
                    .config
                    .rewrite()
                    .map_err(|e| Error::Message(e.to_string()))?;
                out.ok();
            }
        }
        Ok(())
    }
}

//! `CONFIG GET pattern`, `CONFIG SET parameter [value]`, `CONFIG REWRITE`.

use tile38_collection::glob;
use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::config::{EXTRA_PROPERTIES, PROPERTIES};
use crate::error::{Error, Result};
use crate::reply::Reply;

pub enum ConfigCmd {
    Get(Vec<u8>),
    Set(String, String),
    Rewrite,
}

impl ConnCommand<'_> for ConfigCmd {
    fn parse(args: &Args) -> Result<Self> {
        let unknown = || {
            let words: Vec<&[u8]> = args.iter().take(2).collect();
            Error::UnknownCommand(words.join(&b' '))
        };
        if args.len() < 2 {
            return Err(unknown());
        }
        let sub = args.get(1);
        let text = |i: usize| String::from_utf8_lossy(args.get(i)).into_owned();
        if sub.eq_ignore_ascii_case(b"get") {
            if args.len() != 3 {
                return Err(Error::Arity);
            }
            Ok(ConfigCmd::Get(args.get(2).to_vec()))
        } else if sub.eq_ignore_ascii_case(b"set") {
            match args.len() {
                3 if args.get(2) == b"requirepass" => Ok(ConfigCmd::Set(text(2), String::new())),
                4 => Ok(ConfigCmd::Set(text(2), text(3))),
                _ => Err(Error::Arity),
            }
        } else if sub.eq_ignore_ascii_case(b"rewrite") {
            if args.len() != 2 {
                return Err(Error::Arity);
            }
            Ok(ConfigCmd::Rewrite)
        } else {
            Err(unknown())
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

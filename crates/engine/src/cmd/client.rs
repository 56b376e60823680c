//! `CLIENT LIST | GETNAME | SETNAME name | KILL addr | KILL ADDR addr | KILL ID id`.

use std::sync::atomic::Ordering;

use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub enum Client {
    List,
    GetName,
    SetName(Vec<u8>),
    KillAddr(Vec<u8>),
    KillId(Vec<u8>),
}

const SYNTAX: &str = "Syntax error, try CLIENT (LIST | KILL | GETNAME | SETNAME)";

impl ConnCommand<'_> for Client {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let sub = c.next()?.to_ascii_lowercase();
        let rest: Vec<&[u8]> = c.rest().collect();
        match (sub.as_slice(), rest.as_slice()) {
            (b"list", []) => Ok(Client::List),
            (b"getname", []) => Ok(Client::GetName),
            (b"setname", [name]) => Ok(Client::SetName(name.to_vec())),
            (b"list" | b"getname" | b"setname", _) => Err(Error::Arity),
            (b"kill", [kind])
                if [&b"id"[..], b"addr"]
                    .iter()
                    .any(|k| kind.eq_ignore_ascii_case(k)) =>
            {
                Err(Error::Arity)
            }
            (b"kill", [addr]) => Ok(Client::KillAddr(addr.to_vec())),
            (b"kill", [kind, value]) => match kind.to_ascii_lowercase().as_slice() {
                b"addr" => Ok(Client::KillAddr(value.to_vec())),
                b"id" => Ok(Client::KillId(value.to_vec())),
                _ => Err(Error::Message("No such client".into())),
            },
            (b"kill", _) => Err(Error::Arity),
            _ => Err(Error::Message(SYNTAX.into())),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let server = cx.engine;
        match self {
            Client::List => {
                let now = server.millis_since_start();
                let clients: Vec<_> = server.clients.lock().values().cloned().collect();
                if out.json {
                    out.key("list");
                    out.push(b"[");
                    for (i, c) in clients.iter().enumerate() {
                        if i > 0 {
                            out.push(b",");
                        }
                        let idle =
                            now.saturating_sub(c.last_active_ms.load(Ordering::Relaxed)) / 1000;
                        out.push(b"{\"addr\":");
                        out.json_str(c.addr.to_string().as_bytes());
                        out.push(b",\"age\":");
                        out.json_i64(c.created.elapsed().as_secs() as i64);
                        out.push(b",\"id\":");
                        out.json_i64(c.id as i64);
                        out.push(b",\"idle\":");
                        out.json_i64(idle as i64);
                        out.push(b",\"name\":");
                        let name = c.name.lock().clone();
                        out.json_str(&name);
                        out.push(b"}");
                    }
                    out.push(b"]");
                } else {
                    let mut text = Vec::new();
                    for c in &clients {
                        let idle =
                            now.saturating_sub(c.last_active_ms.load(Ordering::Relaxed)) / 1000;
                        text.extend_from_slice(
                            format!("id={} addr={} name=", c.id, c.addr).as_bytes(),
                        );
                        text.extend_from_slice(&c.name.lock());
                        text.extend_from_slice(
                            format!(" age={} idle={}\n", c.created.elapsed().as_secs(), idle)
                                .as_bytes(),
                        );
                    }
                    out.resp_bulk(&text);
                }
            }
            Client::GetName => {
                let name = cx.conn.client.name.lock().clone();
                if out.json {
                    out.key("name");
                    out.json_str(&name);
                } else {
                    out.resp_bulk(&name);
                }
            }
            Client::SetName(name) => {
                if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
                    return Err(Error::Message(
                        "Client names cannot contain spaces, newlines or special characters."
                            .into(),
                    ));
                }
                *cx.conn.client.name.lock() = name;
                out.ok();
            }
            Client::KillAddr(addr) => kill(
                server,
                |c| c.addr.to_string().as_bytes() == addr.as_slice(),
                out,
            )?,
            Client::KillId(id) => {
                let id: Option<u64> = std::str::from_utf8(&id).ok().and_then(|s| s.parse().ok());
                kill(server, |c| Some(c.id) == id, out)?
            }
        }
        Ok(())
    }
}

fn kill(
    server: &crate::engine::Engine,
    pred: impl Fn(&crate::clients::ClientInfo) -> bool,
    out: &mut Reply,
) -> Result<()> {
    let target = server.clients.lock().values().find(|c| pred(c)).cloned();
    let Some(c) = target else {
        return Err(Error::Message("No such client".into()));
    };
    c.kill();
    out.ok();
    Ok(())
}

//! Session commands a connection sends about itself: `PING [msg]`,
//! `ECHO [msg]`, `OUTPUT [json|resp]`, `AUTH password`, `MONITOR` (which
//! the connection then serves: `crate::monitor`). (The `TIMEOUT
//! seconds CMD …` prefix is unwrapped by [`super::gate`].)

use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct Ping(Option<Vec<u8>>);

impl ConnCommand<'_> for Ping {
    fn parse(args: &Args) -> Result<Self> {
        Ok(Ping(Cursor::new(args).next().ok().map(<[u8]>::to_vec)))
    }

    fn apply(self, _: &mut ConnCx, out: &mut Reply) -> Result<()> {
        match (&self.0, out.json) {
            (Some(m), false) => out.resp_bulk(m),
            (None, false) => out.resp_simple(b"PONG"),
            (m, true) => {
                out.key("ping");
                out.json_str(m.as_deref().unwrap_or(b"pong"));
            }
        }
        Ok(())
    }
}

pub struct Echo(Option<Vec<u8>>);

impl ConnCommand<'_> for Echo {
    fn parse(args: &Args) -> Result<Self> {
        Ok(Echo(Cursor::new(args).next().ok().map(<[u8]>::to_vec)))
    }

    fn apply(self, _: &mut ConnCx, out: &mut Reply) -> Result<()> {
        match (&self.0, out.json) {
            (Some(m), false) => out.resp_bulk(m),
            // Tile38 answers a bare ECHO like PING; clients may rely on it.
            (None, false) => out.resp_simple(b"PONG"),
            (m, true) => {
                out.key("echo");
                out.json_str(m.as_deref().unwrap_or(b"pong"));
            }
        }
        Ok(())
    }
}

pub struct Output(Option<bool>);

impl ConnCommand<'_> for Output {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        if c.remaining() > 1 {
            return Err(Error::Arity);
        }
        match c.next() {
            Err(_) => Ok(Output(None)),
            Ok(a) if a.eq_ignore_ascii_case(b"json") => Ok(Output(Some(true))),
            Ok(a) if a.eq_ignore_ascii_case(b"resp") => Ok(Output(Some(false))),
            Ok(a) => Err(Error::invalid_arg(a)),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        match self.0 {
            Some(json) => {
                cx.conn.output = Some(json);
                out.json = json;
                out.ok();
            }
            None if out.json => {
                // Tile38 prints this elapsed unquoted (invalid JSON); clients
                // that parse it expect exactly that text, so keep it.
                out.key("output");
                out.json_str(b"json");
                out.elapsed_unquoted = true;
            }
            None => out.resp_bulk(b"resp"),
        }
        Ok(())
    }
}

pub struct Auth(Vec<u8>);

impl ConnCommand<'_> for Auth {
    fn parse(args: &Args) -> Result<Self> {
        Ok(Auth(Cursor::new(args).next().unwrap_or_default().to_vec()))
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        let pass = cx.engine.config.props().requirepass.clone();
        if pass.is_empty() || pass.as_bytes() != self.0.trim_ascii() {
            return Err(Error::InvalidPassword);
        }
        cx.conn.authed = true;
        out.ok();
        Ok(())
    }
}

/// `MONITOR`: no arguments; the connection answers `+OK` and turns into a
/// monitor once the command returns ([`crate::session::Session::monitoring`]).
pub struct Monitor;

impl ConnCommand<'_> for Monitor {
    fn parse(args: &Args) -> Result<Self> {
        Cursor::new(args).finish()?;
        Ok(Monitor)
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        cx.conn.monitoring = true;
        // The connection writes `+OK` itself, in every output mode.
        out.raw = true;
        Ok(())
    }
}

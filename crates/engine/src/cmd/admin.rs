//! Engine administration commands: `READONLY yes|no`, `GC`, `AOFSHRINK`
//! (Tile38's `cmdReadOnly`, `GC`, `AOFSHRINK`; no database lock).

use tile38_proto::Args;

use super::{ConnCommand, ConnCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;

pub struct ReadOnly(bool);

impl ConnCommand<'_> for ReadOnly {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        c.exactly(1)?;
        match c.next()? {
            b"yes" => Ok(ReadOnly(true)),
            b"no" => Ok(ReadOnly(false)),
            other => Err(Error::invalid_arg(other)),
        }
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        cx.engine
            .config
            .set_read_only(self.0)
            .map_err(|e| Error::Message(e.to_string()))?;
        out.ok();
        Ok(())
    }
}

/// `GC`: Tile38 forces a Go GC; we return freed heap pages to the OS.
pub struct Gc;

impl ConnCommand<'_> for Gc {
    fn parse(_: &Args) -> Result<Self> {
        Ok(Gc)
    }

    fn apply(self, _: &mut ConnCx, out: &mut Reply) -> Result<()> {
        crate::refusal::release_memory();
        out.ok();
        Ok(())
    }
}

/// `AOFSHRINK`: rewrites the AOF in the background; `OK` at once (also when
/// a rewrite is already running or the AOF is off, as Tile38).
pub struct AofShrink;

impl ConnCommand<'_> for AofShrink {
    fn parse(_: &Args) -> Result<Self> {
        Ok(AofShrink)
    }

    fn apply(self, cx: &mut ConnCx, out: &mut Reply) -> Result<()> {
        cx.engine.runtime().request_shrink();
        out.ok();
        Ok(())
    }
}

//! A fence command (`NEARBY|WITHIN|INTERSECTS key … <area>`, as SETCHAN,
//! SETHOOK and live connections give it) turned into a
//! [`tile38_geofence::Fence`] by the engine's own conversion
//! ([`tile38_engine::fence::parse`], [`FenceCmd::build`](tile38_engine::fence::FenceCmd::build)),
//! the one SETCHAN/SETHOOK and live connections use.

use tile38_engine::cmd::ReadCx;
use tile38_engine::Engine;
use tile38_geofence::{Fence, Target};

/// Builds the fence of `words` (command word first) for a live connection
/// or a definition without META.
pub fn fence(
    engine: &Engine,
    target: Target,
    name: &[u8],
    words: &[&[u8]],
) -> Result<Fence, String> {
    fence_with_metas(engine, target, name, words, Vec::new())
}

/// Builds the fence of `words` (command word first) for `target`/`name`;
/// `GET` areas are looked up now, as Tile38 copies them.
pub fn fence_with_metas(
    engine: &Engine,
    target: Target,
    name: &[u8],
    words: &[&[u8]],
    metas: Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<Fence, String> {
    let cmd = tile38_engine::fence::parse(words).map_err(|e| e.message())?;
    let db = engine.db.read();
    let cx = ReadCx {
        db: &db,
        engine,
        deadline: None,
    };
    cmd.build(&cx, target, name, metas).map_err(|e| e.message())
}

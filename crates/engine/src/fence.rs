//! Geofencing in the engine: the fence commands as parsed ([`FenceCmd`]),
//! turned into [`tile38_geofence::Fence`]s ([`FenceCmd::build`]), and the
//! server's set of fences ([`Fences`], `Engine::fences`) that every write
//! is evaluated against, with delivery of the events (`sink`).
//!
//! Tile38 1.37 behaviour followed (see `docs/design/geofencing.md`):
//! SETCHAN/SETHOOK define a fence per name, replaced by a new definition
//! and removed with it (DELCHAN, PDELHOOK, EX expiry, FLUSHDB); a live
//! `NEARBY|WITHIN|INTERSECTS … FENCE` connection adds a fence for as long
//! as it stays open. Channel events are published at once (before the
//! writing command's reply), hook events go to the runtime's [`HookSink`],
//! live events to the connection's outbox. A follower evaluates live
//! fences only: the leader streams its channel messages, and hooks never
//! fire on followers (spec §2 `AOF pos`; `crate::pubsub` forwards).

mod heard;
mod parse;
mod sink;
mod state;

use std::sync::Arc;

use tile38_geo::predicate::Area;
use tile38_geo::Position;
use tile38_geofence::{Fence, FenceSpec, Output, Region, Roam, Target};
use tile38_proto::Args;

pub use parse::parse;
pub use state::{Fences, HookSink, NoHooks};

use crate::cmd::output::Form;
use crate::cmd::ReadCx;
use crate::cursor::Cursor;
use crate::error::Result;
use crate::reply::Reply;
use crate::search::areas::SearchArea;
use crate::search::opts::{Output as SearchOutput, SearchOpts};

/// A parsed fence command: everything [`FenceCmd::build`] needs, kept
/// from the parse (no lock was held) until the fence is made (under the
/// database lock, which `GET` areas need).
#[derive(Debug)]
pub struct FenceCmd {
    /// Shared with the fence's WHERE filter, which outlives the command.
    pub opts: Arc<SearchOpts>,
    pub region: RegionCmd,
}

/// The area part of a fence command.
#[derive(Debug)]
pub enum RegionCmd {
    /// `NEARBY … POINT lat lon [meters]`.
    Point {
        lat: f64,
        lon: f64,
        meters: f64,
    },
    /// `NEARBY … ROAM key id meters [SCAN pattern]`.
    Roam(Roam),
    Within(SearchArea),
    Intersects(SearchArea),
}

impl FenceCmd {
    /// The key the fence watches.
    pub fn key(&self) -> &[u8] {
        &self.opts.key
    }

    /// The fence for `target`/`name` (empty for live fences). A `GET key
    /// id` area is looked up now: Tile38 copies it when the fence is set
    /// and fails on a missing object.
    pub fn build(
        &self,
        cx: &ReadCx,
        target: Target,
        name: &[u8],
        metas: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Fence> {
        let o = &self.opts;
        let region = match &self.region {
            RegionCmd::Point { lat, lon, meters } => Region::Nearby(Area::Circle {
                center: Position::new(*lon, *lat),
                meters: *meters,
            }),
            RegionCmd::Roam(r) => Region::Roam(r.clone()),
            RegionCmd::Within(a) => Region::Within(a.resolve(cx)?),
            RegionCmd::Intersects(a) => Region::Intersects(a.resolve(cx)?),
        };
        let mut spec = FenceSpec::new(target, name, &o.key, region);
        spec.detect = o.detect;
        spec.commands = o.commands;
        spec.nodwell = o.nodwell;
        spec.output = output(o.output);
        spec.matches = o.matches.clone();
        spec.nofields = o.nofields;
        spec.distance = o.distance;
        spec.metas = metas;
        if o.has_field_filters() {
            let opts = self.opts.clone();
            spec.filter = Some(Box::new(
                move |id: &[u8], item: &tile38_collection::Item| opts.fields_pass(id, item),
            ));
        }
        Ok(Fence::new(spec))
    }
}

/// A `NEARBY|WITHIN|INTERSECTS` command (`args`) with the FENCE option:
/// its fence command; `None` for a plain search (which parses itself,
/// errors included). Cheap unless a word is `FENCE`.
pub fn live(args: &Args) -> Result<Option<Box<FenceCmd>>> {
    if !args
        .iter()
        .skip(2)
        .any(|w| w.eq_ignore_ascii_case(b"fence"))
    {
        return Ok(None);
    }
    let name = args.get(0).to_ascii_uppercase();
    let name = std::str::from_utf8(&name).unwrap_or("NEARBY");
    match SearchOpts::parse(&mut Cursor::new(args), name) {
        Ok(o) if o.fence => {}
        _ => return Ok(None),
    }
    let words: Vec<&[u8]> = args.iter().collect();
    parse(&words).map(|f| Some(Box::new(f)))
}

/// The live fence command `cmd` succeeded: its fence, for the runtime to
/// register with the connection ([`Reply::live`]).
pub fn go_live(cmd: &FenceCmd, cx: &ReadCx, out: &mut Reply) -> Result<()> {
    let fence = cmd.build(cx, Target::Live, b"", Vec::new())?;
    out.live = Some(Box::new(fence));
    Ok(())
}

/// The search output keyword as the event payload form.
fn output(o: SearchOutput) -> Output {
    match o {
        SearchOutput::Count => Output::Count,
        SearchOutput::Ids => Output::Ids,
        SearchOutput::Form(Form::Object) => Output::Objects,
        SearchOutput::Form(Form::Point) => Output::Points,
        SearchOutput::Form(Form::Bounds) => Output::Bounds,
        SearchOutput::Form(Form::Hash(p)) => Output::Hashes(p as u8),
    }
}

//! A fence command (`NEARBY|WITHIN|INTERSECTS key … <area>`, as SETCHAN,
//! SETHOOK and live connections give it) turned into a
//! [`tile38_geofence::Fence`] with the engine's own parsers
//! ([`SearchOpts::parse`], [`SearchArea::parse`]). This is the conversion
//! the engine's SETCHAN/SETHOOK/live paths need; it lives here until they
//! build fences themselves.

use tile38_engine::cmd::output::Form;
use tile38_engine::cmd::ReadCx;
use tile38_engine::cursor::{float as parse_f64, Cursor};
use tile38_engine::search::areas::SearchArea;
use tile38_engine::search::opts::{Output as SearchOutput, SearchOpts};
use tile38_engine::{Engine, Error};
use tile38_geo::predicate::Area;
use tile38_geo::Position;
use tile38_geofence::{CommandSet, DetectSet, Fence, FenceSpec, Output, Region, Roam, Target};
use tile38_proto::Args;

/// The options of `args` and the index of the first argument after them.
fn opts_at(args: &Args, name: &str) -> Result<(SearchOpts, usize), Error> {
    let mut c = Cursor::new(args);
    let o = SearchOpts::parse(&mut c, name)?;
    Ok((o, args.len() - c.remaining()))
}

/// A cursor at argument `i` of `args`.
fn cursor_at(args: &Args, i: usize) -> Cursor<'_> {
    let mut c = Cursor::new(args);
    for _ in 1..i {
        let _ = c.next();
    }
    c
}

/// Parses the options with FENCE switched on (it may be left out or
/// repeated), as `cmd::hooks::fence` does.
fn parse_opts(words: &[&[u8]], name: &str) -> Result<(Args, SearchOpts, usize), Error> {
    let given = Args::from_slices(words);
    if words.len() < 2 {
        return opts_at(&given, name).map(|(o, i)| (given, o, i));
    }
    let mut with_fence = Args::from_slices(&words[..2]);
    with_fence.push(b"FENCE");
    for w in &words[2..] {
        with_fence.push(w);
    }
    match opts_at(&with_fence, name) {
        Ok((o, i)) => Ok((with_fence, o, i)),
        Err(Error::Duplicate(d)) if d == "FENCE" => {
            opts_at(&given, name).map(|(o, i)| (given, o, i))
        }
        Err(e) => Err(e),
    }
}

/// DETECT, COMMANDS and NODWELL, which `SearchOpts` checks but does not
/// keep: read again from the option tokens `args[2..end]`.
fn lists(args: &Args, end: usize, spec: &mut FenceSpec) {
    let mut i = 2;
    while i < end {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"detect") && i + 1 < end {
            spec.detect = DetectSet::parse_list(args.get(i + 1));
            i += 1;
        } else if a.eq_ignore_ascii_case(b"commands") && i + 1 < end {
            spec.commands = Some(CommandSet::parse_list(args.get(i + 1)));
            i += 1;
        } else if a.eq_ignore_ascii_case(b"nodwell") {
            spec.nodwell = true;
        }
        i += 1;
    }
}

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

fn word(args: &Args, i: usize) -> Result<&[u8], String> {
    (i < args.len())
        .then(|| args.get(i))
        .ok_or_else(|| "invalid number of arguments".to_string())
}

/// NEARBY's `POINT lat lon [meters]` or `ROAM key id meters [SCAN pat]`.
fn nearby(args: &Args, i: usize) -> Result<Region, String> {
    let num =
        |k: usize| -> Result<f64, String> { parse_f64(word(args, k)?).map_err(|e| e.message()) };
    let typ = word(args, i)?;
    if typ.eq_ignore_ascii_case(b"roam") {
        let scan = (i + 5 < args.len() && args.get(i + 4).eq_ignore_ascii_case(b"scan"))
            .then(|| args.get(i + 5).to_vec());
        return Ok(Region::Roam(Roam {
            key: word(args, i + 1)?.to_vec(),
            id: word(args, i + 2)?.to_vec(),
            meters: num(i + 3)?,
            scan,
        }));
    }
    if !typ.eq_ignore_ascii_case(b"point") {
        return Err(format!(
            "invalid argument '{}'",
            String::from_utf8_lossy(typ)
        ));
    }
    let (lat, lon) = (num(i + 1)?, num(i + 2)?);
    let meters = if i + 3 < args.len() && !args.get(i + 3).is_empty() {
        num(i + 3)?
    } else {
        0.0
    };
    let center = Position::new(lon, lat);
    Ok(Region::Nearby(Area::Circle { center, meters }))
}

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
    let cmd = match words.first().map(|w| w.to_ascii_lowercase()) {
        Some(w) if w == b"nearby" => "NEARBY",
        Some(w) if w == b"within" => "WITHIN",
        Some(w) if w == b"intersects" => "INTERSECTS",
        _ => return Err("not a fence command".into()),
    };
    let (args, opts, mut i) = parse_opts(words, cmd).map_err(|e| e.message())?;
    let mut out = output(opts.output);
    let region = if cmd == "NEARBY" {
        nearby(&args, i)?
    } else {
        // `WITHIN k BOUNDS 1 2 3 4`: BOUNDS was the area, not the output.
        if opts.output == SearchOutput::Form(Form::Bounds) && parse_f64(word(&args, i)?).is_ok() {
            i -= 1;
            out = Output::Objects;
        }
        let area = SearchArea::parse(&mut cursor_at(&args, i), opts.clip, opts.buffer)
            .map_err(|e| e.message())?;
        let db = engine.db.read();
        let cx = ReadCx {
            db: &db,
            engine,
            deadline: None,
        };
        let area = area.resolve(&cx).map_err(|e| e.message())?;
        match cmd {
            "WITHIN" => Region::Within(area),
            _ => Region::Intersects(area),
        }
    };
    let key = opts.key.clone();
    let mut spec = FenceSpec::new(target, name, &key, region);
    lists(&args, i, &mut spec);
    spec.output = out;
    spec.matches = opts.matches.clone();
    spec.nofields = opts.nofields;
    spec.distance = opts.distance;
    spec.metas = metas;
    if opts.has_field_filters() {
        spec.filter = Some(Box::new(
            move |id: &[u8], item: &tile38_collection::Item| opts.fields_pass(id, item),
        ));
    }
    Ok(Fence::new(spec))
}

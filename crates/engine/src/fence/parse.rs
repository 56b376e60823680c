//! The search command a hook, channel or live connection watches,
//! validated as Tile38's `cmdSearchArgs(fromFenceCmd=true, …)` does:
//!
//! ```text
//! NEARBY key [options] [FENCE] [output] POINT lat lon [meters] | ROAM key id meters [SCAN pattern]
//! WITHIN|INTERSECTS key [options] [FENCE] [output] <area>      [CLIPBY …]…
//! ```
//!
//! The options and areas are parsed by the search commands' own parsers
//! ([`SearchOpts::parse`], [`SearchArea::parse`]); this module only adds
//! what differs for a fence: FENCE is implied (so it may be left out, and
//! CURSOR is refused), NEARBY may ROAM, and NEARBY takes CLIPBY too. What
//! it parses is kept ([`FenceCmd`]) for [`FenceCmd::build`].

use std::sync::Arc;

use tile38_geofence::Roam;
use tile38_proto::Args;

use super::{FenceCmd, RegionCmd};
use crate::cmd::output::Form;
use crate::cursor::{float, not_negative, Cursor};
use crate::error::{Error, Result};
use crate::search::areas::{parse_clipby, SearchArea};
use crate::search::opts::{Output, SearchOpts};

/// Parses `words` (the command word first) as a fence.
pub fn parse(words: &[&[u8]]) -> Result<FenceCmd> {
    let Some(cmd) = words.first() else {
        return Err(Error::Arity);
    };
    let name = match cmd.to_ascii_lowercase().as_slice() {
        b"nearby" => "NEARBY",
        b"within" => "WITHIN",
        b"intersects" => "INTERSECTS",
        _ => return Err(Error::invalid_arg(cmd)),
    };
    let (given, with_fence) = (Args::from_slices(words), with_fence(words));
    let mut c = Cursor::new(&with_fence);
    let mut opts = match SearchOpts::parse(&mut c, name) {
        Ok(o) => o,
        // The words have their own FENCE: parsed as given.
        Err(Error::Duplicate(d)) if d == "FENCE" => {
            c = Cursor::new(&given);
            SearchOpts::parse(&mut c, name)?
        }
        Err(e) => return Err(e),
    };
    let Some(first) = c.peek().filter(|t| !t.is_empty()) else {
        return Err(Error::Arity);
    };
    if name == "NEARBY" {
        let region = nearby_area(&mut c)?;
        parse_clipby(&mut c)?;
        return Ok(FenceCmd {
            opts: Arc::new(opts),
            region,
        });
    }
    // `WITHIN k BOUNDS 1 2 3 4`: BOUNDS was the area, not the output.
    if opts.output == Output::Form(Form::Bounds) && float(first).is_ok() {
        opts.output = Output::Form(Form::Object);
        c.back();
    }
    let area = SearchArea::parse(&mut c, opts.clip, opts.buffer)?;
    let region = if name == "WITHIN" {
        RegionCmd::Within(area)
    } else {
        RegionCmd::Intersects(area)
    };
    Ok(FenceCmd {
        opts: Arc::new(opts),
        region,
    })
}

/// The words with FENCE put right after the key: `SearchOpts` knows FENCE
/// only as a keyword, and a fence implies it. (Fewer than two words are
/// left as they are: there is no key to put it after.)
fn with_fence(words: &[&[u8]]) -> Args {
    let mut args = Args::new();
    for (k, w) in words.iter().enumerate() {
        args.push(w);
        if k == 1 {
            args.push(b"FENCE");
        }
    }
    args
}

/// NEARBY's area, from its type word on.
fn nearby_area(c: &mut Cursor<'_>) -> Result<RegionCmd> {
    let typ = c.next()?;
    if typ.eq_ignore_ascii_case(b"point") {
        let (lat, lon) = (c.token()?, c.token()?);
        let (lat, lon) = (float(lat)?, float(lon)?);
        let mut meters = 0.0;
        // The radius is optional; an empty word counts as none (Tile38).
        if !c.is_empty() {
            let m = c.next()?;
            if !m.is_empty() {
                meters = not_negative(m)?;
            }
        }
        Ok(RegionCmd::Point { lat, lon, meters })
    } else if typ.eq_ignore_ascii_case(b"roam") {
        let (key, id) = (c.token()?.to_vec(), c.token()?.to_vec());
        let meters = float(c.token()?)?;
        let mut scan = None;
        if !c.is_empty() {
            let word = c.next()?;
            if !word.eq_ignore_ascii_case(b"scan") {
                return Err(Error::invalid_arg(word));
            }
            scan = Some(c.token()?.to_vec());
        }
        Ok(RegionCmd::Roam(Roam {
            key,
            id,
            meters,
            scan,
        }))
    } else {
        Err(Error::invalid_arg(typ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(s: &str) -> Result<FenceCmd> {
        let words: Vec<&[u8]> = s.split(' ').map(str::as_bytes).collect();
        parse(&words)
    }

    fn err(s: &str) -> String {
        fence(s).expect_err(s).message()
    }

    #[test]
    fn fence_keyword_is_optional() {
        assert_eq!(
            fence("NEARBY fleet POINT 1 2 3")
                .unwrap()
                .opts
                .key
                .as_bytes(),
            b"fleet"
        );
        assert!(fence("nearby fleet FENCE POINT 1 2").is_ok());
        assert!(fence("INTERSECTS k BOUNDS 0 0 1 1").is_ok());
        assert!(fence("WITHIN k FENCE DETECT enter,exit BOUNDS 0 0 1 1").is_ok());
        assert!(fence("WITHIN k DETECT inside CIRCLE 1 2 3").is_ok());
    }

    #[test]
    fn tile38_errors() {
        assert_eq!(err("SCAN fleet"), "invalid argument 'SCAN'");
        assert_eq!(err("NEARBY"), "invalid number of arguments");
        assert_eq!(err("NEARBY fleet"), "invalid number of arguments");
        assert_eq!(err("NEARBY fleet FENCE"), "invalid number of arguments");
        assert_eq!(err("NEARBY fleet BOUNDS 1 2 3 4"), "invalid argument '1'");
        assert_eq!(
            err("NEARBY fleet CURSOR 1 POINT 1 2"),
            "CURSOR is not allowed when FENCE is specified"
        );
        assert_eq!(err("NEARBY fleet POINT 1 x"), "invalid argument 'x'");
        assert_eq!(err("NEARBY fleet POINT 1 2 -5"), "invalid argument '-5'");
        assert_eq!(
            err("NEARBY fleet POINT 1 2 5 X"),
            "invalid number of arguments"
        );
        assert_eq!(
            err("WITHIN k FENCE CIRCLE 1 2"),
            "invalid number of arguments"
        );
        assert_eq!(err("WITHIN k FENCE NOPE 1"), "invalid argument 'NOPE'");
        assert_eq!(
            err("WITHIN k BOUNDS 0 0 1 1 CLIPBY CIRCLE 1 2 3"),
            "invalid argument 'cannot clipby circle'"
        );
        assert_eq!(
            err("WITHIN k DETECT bogus BOUNDS 0 0 1 1"),
            "invalid argument 'bogus'"
        );
    }

    #[test]
    fn nearby_roam_and_clipby() {
        assert!(fence("NEARBY fleet FENCE ROAM fleet * 100").is_ok());
        assert!(fence("NEARBY fleet FENCE ROAM fleet * 100 SCAN truck*").is_ok());
        assert_eq!(
            err("NEARBY fleet FENCE ROAM fleet * 100 CLIPBY"),
            "invalid argument 'CLIPBY'"
        );
        assert_eq!(
            err("NEARBY fleet ROAM fleet *"),
            "invalid number of arguments"
        );
        assert!(fence("NEARBY fleet POINT 1 2 3 CLIPBY BOUNDS 0 0 1 1").is_ok());
    }

    #[test]
    fn get_area_is_left_for_apply() {
        let f = fence("WITHIN fleet FENCE GET fleet truck1").unwrap();
        assert!(matches!(f.region, RegionCmd::Within(a) if a.spec.is_get()));
    }
}

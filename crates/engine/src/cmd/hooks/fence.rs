//! The search command a hook or channel watches, validated as Tile38's
//! `cmdSearchArgs(fromFenceCmd=true, …)` does:
//!
//! ```text
//! NEARBY key [options] [FENCE] [output] POINT lat lon [meters] | ROAM key id meters [SCAN pattern]
//! WITHIN|INTERSECTS key [options] [FENCE] [output] <area>      [CLIPBY …]…
//! ```
//!
//! The options and areas are parsed by the search commands' own parsers
//! ([`SearchOpts::parse`], [`SearchArea::parse`]); this module only adds
//! what differs for a fence: FENCE is implied (so it may be left out, and
//! CURSOR is refused), NEARBY may ROAM, and NEARBY takes CLIPBY too.

use tile38_proto::Args;

use crate::cmd::output::Form;
use crate::cmd::set::parse_f64;
use crate::error::{Error, Result};
use crate::search::areas::{parse_rect, SearchArea};
use crate::search::opts::{parse_not_negative, Output, SearchOpts};

/// A validated fence command.
#[derive(Debug)]
pub struct Fence {
    /// The key the fence watches (what RENAME checks).
    pub key: Vec<u8>,
    /// WITHIN/INTERSECTS: the area, whose `GET key id` must still be looked
    /// up when the hook is set (Tile38 fails SETHOOK on a missing object).
    pub area: Option<SearchArea>,
}

/// `args[i]` if present and non-empty, else an arity error.
fn token(args: &Args, i: usize) -> Result<&[u8]> {
    match (i < args.len()).then(|| args.get(i)) {
        Some(t) if !t.is_empty() => Ok(t),
        _ => Err(Error::Arity),
    }
}

/// Parses `words` (the command word first) as a fence.
pub fn parse(words: &[&[u8]]) -> Result<Fence> {
    let Some(cmd) = words.first() else {
        return Err(Error::Arity);
    };
    let name = match cmd.to_ascii_lowercase().as_slice() {
        b"nearby" => "NEARBY",
        b"within" => "WITHIN",
        b"intersects" => "INTERSECTS",
        _ => return Err(Error::invalid_arg(cmd)),
    };
    let (args, opts, i) = parse_opts(words, name)?;
    if i >= args.len() || args.get(i).is_empty() {
        return Err(Error::Arity);
    }
    if name == "NEARBY" {
        let next = nearby_area(&args, i)?;
        clipby(&args, next)?;
        return Ok(Fence {
            key: opts.key,
            area: None,
        });
    }
    let mut i = i;
    // `WITHIN k BOUNDS 1 2 3 4`: BOUNDS was the area, not the output.
    if opts.output == Output::Form(Form::Bounds) && parse_f64(args.get(i)).is_ok() {
        i -= 1;
    }
    let area = SearchArea::parse(&args, i, opts.clip, opts.buffer)?;
    Ok(Fence {
        key: opts.key,
        area: Some(area),
    })
}

/// The search options with FENCE switched on. `SearchOpts` knows FENCE only
/// as a keyword, so one is put right after the key; when the words have
/// their own FENCE that reads as a duplicate, and they are parsed as given.
/// Returns the arguments parsed and the index of the area's type word.
fn parse_opts(words: &[&[u8]], name: &str) -> Result<(Args, SearchOpts, usize)> {
    let given = Args::from_slices(words);
    if words.len() < 2 {
        return SearchOpts::parse(&given, name).map(|(o, i)| (given, o, i));
    }
    let mut with_fence = Args::from_slices(&words[..2]);
    with_fence.push(b"FENCE");
    for w in &words[2..] {
        with_fence.push(w);
    }
    match SearchOpts::parse(&with_fence, name) {
        Ok((o, i)) => Ok((with_fence, o, i)),
        Err(Error::Duplicate(d)) if d == "FENCE" => {
            SearchOpts::parse(&given, name).map(|(o, i)| (given, o, i))
        }
        Err(e) => Err(e),
    }
}

/// NEARBY's area at `args[i]`; returns the index after it.
fn nearby_area(args: &Args, i: usize) -> Result<usize> {
    let typ = args.get(i);
    if typ.eq_ignore_ascii_case(b"point") {
        let (lat, lon) = (token(args, i + 1)?, token(args, i + 2)?);
        parse_f64(lat)?;
        parse_f64(lon)?;
        // The radius is optional; an empty word counts as none (Tile38).
        let mut next = i + 3;
        if next < args.len() {
            let m = args.get(next);
            if !m.is_empty() {
                parse_not_negative(m)?;
            }
            next += 1;
        }
        Ok(next)
    } else if typ.eq_ignore_ascii_case(b"roam") {
        token(args, i + 1)?;
        token(args, i + 2)?;
        parse_f64(token(args, i + 3)?)?;
        let next = i + 4;
        if next < args.len() {
            let word = args.get(next);
            if !word.eq_ignore_ascii_case(b"scan") {
                return Err(Error::invalid_arg(word));
            }
            token(args, next + 1)?;
            return Ok(next + 2);
        }
        Ok(next)
    } else {
        Err(Error::invalid_arg(typ))
    }
}

/// The `CLIPBY BOUNDS|HASH|TILE|QUADKEY …` clauses that may end any fence.
fn clipby(args: &Args, mut i: usize) -> Result<()> {
    while i < args.len() {
        if !token(args, i)?.eq_ignore_ascii_case(b"clipby") {
            return Err(Error::Arity);
        }
        let typ = token(args, i + 1)?;
        let cannot = || {
            let word = String::from_utf8_lossy(typ).to_ascii_lowercase();
            Error::InvalidArg(format!("cannot clipby {word}").into_bytes())
        };
        let (_, next) = parse_rect(args, typ, i + 2, true)?.ok_or_else(cannot)?;
        i = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence(s: &str) -> Result<Fence> {
        let words: Vec<&[u8]> = s.split(' ').map(str::as_bytes).collect();
        parse(&words)
    }

    fn err(s: &str) -> String {
        fence(s).expect_err(s).message()
    }

    #[test]
    fn fence_keyword_is_optional() {
        assert_eq!(fence("NEARBY fleet POINT 1 2 3").unwrap().key, b"fleet");
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
        assert!(f.area.is_some_and(|a| a.spec.is_get()));
    }
}

//! The options shared by SCAN, SEARCH, NEARBY, WITHIN and INTERSECTS:
//!
//! ```text
//! [CURSOR start] [LIMIT count] [MATCH pattern]… [ASC|DESC] [WHERE …]… [WHEREIN …]…
//! [NOFIELDS] [DISTANCE] [SPARSE n] [BUFFER meters] [CLIP] [FENCE] [DETECT list]
//! [COMMANDS list] [NODWELL]  [COUNT|IDS|OBJECTS|POINTS|BOUNDS|(HASHES precision)]
//! ```
//!
//! Parsed in Tile38's order (`parseSearchScanBaseTokens`): keywords in any
//! order, then the conflict checks, then the output keyword, and only then
//! the numeric values of CURSOR, HASHES, LIMIT and SPARSE — so which error a
//! malformed command gets matches Tile38. Those values are Go unsigned
//! integers (`+5` is refused); none of them sizes an allocation: LIMIT and
//! CURSOR only bound the paging loop. Also the paging loop every search
//! runs its candidates through.

use tile38_collection::{glob, Item};
use tile38_proto::Args;

use super::filter::{Where, WhereIn};
use super::results::{Hit, Page};
use crate::cmd::output::Form;
use crate::cmd::set::parse_f64;
use crate::cmd::ReadCx;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// What a search returns per item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Count,
    Ids,
    Form(Form),
}

/// Options shared by SCAN, SEARCH, NEARBY, WITHIN and INTERSECTS.
#[derive(Debug)]
pub struct SearchOpts {
    pub key: Vec<u8>,
    pub cursor: u64,
    pub limit: Option<u64>,
    pub matches: Vec<Vec<u8>>,
    pub desc: Option<bool>,
    pub nofields: bool,
    pub output: Output,
    pub wheres: Vec<Where>,
    pub whereins: Vec<WhereIn>,
    /// `DISTANCE`: append each result's distance (NEARBY).
    pub distance: bool,
    /// `SPARSE n`: 1..16 levels of quadrant splitting.
    pub sparse: Option<u8>,
    /// `BUFFER meters`: grow the area before searching.
    pub buffer: Option<f64>,
    /// `CLIP`: clip each returned object to the area (INTERSECTS).
    pub clip: bool,
    pub fence: bool,
}

/// Go's `strconv.ParseUint(s, 10, 64)`, which Tile38 reads every client
/// count with: digits only (no sign, no space), at most `u64::MAX`.
pub fn parse_go_uint(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// A Go float that Tile38 refuses only when `< 0` (radii, seconds): NaN
/// passes, as it does there.
pub fn parse_not_negative(arg: &[u8]) -> Result<f64> {
    match parse_f64(arg) {
        Ok(v) if v.is_nan() || v >= 0.0 => Ok(v),
        _ => Err(Error::invalid_arg(arg)),
    }
}

fn parse_u64(arg: &[u8]) -> Result<u64> {
    parse_go_uint(arg).ok_or_else(|| Error::invalid_arg(arg))
}

const DETECT_KINDS: [&str; 5] = ["inside", "outside", "enter", "exit", "cross"];

/// Checks a `DETECT`/`COMMANDS` list: comma-separated, no repeats; DETECT
/// only knows the five detect kinds.
fn check_list(list: &[u8], detect: bool) -> Result<()> {
    let text = String::from_utf8_lossy(list);
    let mut seen: Vec<String> = Vec::new();
    for s in text.split(',') {
        let part = s.trim().to_ascii_lowercase();
        if detect && !DETECT_KINDS.contains(&part.as_str()) {
            return Err(Error::invalid_arg(list));
        }
        if seen.contains(&part) {
            return Err(Error::Duplicate(s.to_string()));
        }
        seen.push(part);
    }
    Ok(())
}

impl SearchOpts {
    /// Parses `key` and the options; returns the index of the first token
    /// after the output keyword (for the spatial commands: the area).
    pub fn parse(args: &Args, cmd: &str) -> Result<(SearchOpts, usize)> {
        let spatial = !matches!(cmd, "SCAN" | "SEARCH");
        if args.len() < 2 || args.get(1).is_empty() {
            return Err(Error::Arity);
        }
        let mut o = SearchOpts {
            key: args.get(1).to_vec(),
            cursor: 0,
            limit: None,
            matches: Vec::new(),
            desc: None,
            nofields: false,
            output: Output::Form(Form::Object),
            wheres: Vec::new(),
            whereins: Vec::new(),
            distance: false,
            sparse: None,
            buffer: None,
            clip: false,
            fence: false,
        };
        // A keyword's value: present and non-empty, else an arity error.
        let value = |i: usize| match (i < args.len()).then(|| args.get(i)) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(Error::Arity),
        };
        let dup =
            |word: &[u8]| Error::Duplicate(String::from_utf8_lossy(word).to_ascii_uppercase());
        let mut cursor: Option<&[u8]> = None;
        let mut limit: Option<&[u8]> = None;
        let mut sparse: Option<&[u8]> = None;
        let (mut asc, mut detect, mut commands, mut nodwell) = (false, false, false, false);
        let mut i = 2;
        while i < args.len() {
            let a = args.get(i);
            let kw = |k: &[u8]| a.eq_ignore_ascii_case(k);
            if kw(b"cursor") || kw(b"limit") || kw(b"sparse") {
                let slot = if kw(b"cursor") {
                    &mut cursor
                } else if kw(b"limit") {
                    &mut limit
                } else {
                    &mut sparse
                };
                if slot.is_some() {
                    return Err(dup(a));
                }
                *slot = Some(value(i + 1)?);
                i += 2;
            } else if kw(b"where") {
                let (w, next) = Where::parse(args, i + 1)?;
                o.wheres.push(w);
                i = next;
            } else if kw(b"wherein") {
                let (w, next) = WhereIn::parse(args, i + 1)?;
                o.whereins.push(w);
                i = next;
            } else if kw(b"match") {
                o.matches.push(value(i + 1)?.to_vec());
                i += 2;
            } else if kw(b"asc") || kw(b"desc") || kw(b"nodwell") {
                if o.desc == Some(true) || asc {
                    return Err(dup(a));
                }
                if kw(b"desc") {
                    o.desc = Some(true);
                } else if kw(b"asc") {
                    asc = true;
                } else {
                    nodwell = true;
                }
                i += 1;
            } else if kw(b"nofields") || kw(b"distance") || kw(b"clip") || kw(b"fence") {
                let flag = if kw(b"nofields") {
                    &mut o.nofields
                } else if kw(b"distance") {
                    &mut o.distance
                } else if kw(b"clip") {
                    &mut o.clip
                } else {
                    &mut o.fence
                };
                if *flag {
                    return Err(dup(a));
                }
                *flag = true;
                i += 1;
            } else if kw(b"detect") || kw(b"commands") {
                let seen = if kw(b"detect") {
                    &mut detect
                } else {
                    &mut commands
                };
                if *seen {
                    return Err(dup(a));
                }
                *seen = true;
                check_list(value(i + 1)?, kw(b"detect"))?;
                i += 2;
            } else if kw(b"buffer") {
                let v = value(i + 1)?;
                let meters = parse_f64(v)
                    .ok()
                    .filter(|m| m.is_finite() && *m >= 0.0)
                    .ok_or_else(|| Error::invalid_arg(v))?;
                o.buffer = Some(meters);
                i += 2;
            } else {
                break;
            }
        }
        let _ = nodwell;
        let upper = cmd.to_ascii_uppercase();
        let refuse = |what: &str| Err(Error::Message(what.to_string()));
        if !spatial {
            if sparse.is_some() {
                return refuse(&format!("SPARSE is not allowed for {upper}"));
            }
            if o.fence {
                return refuse(&format!("FENCE is not allowed for {upper}"));
            }
        } else if o.desc.is_some() {
            return refuse(&format!("DESC is not allowed for {upper}"));
        } else if asc {
            return refuse(&format!("ASC is not allowed for {upper}"));
        }
        if sparse.is_some() && limit.is_some() {
            return refuse("LIMIT is not allowed when SPARSE is specified");
        }
        if cursor.is_some() && sparse.is_some() {
            return refuse("CURSOR is not allowed when SPARSE is specified");
        }
        if cursor.is_some() && o.fence {
            return refuse("CURSOR is not allowed when FENCE is specified");
        }
        if detect && !o.fence {
            return refuse("DETECT is not allowed when FENCE is not specified");
        }
        if asc {
            o.desc = Some(false);
        }
        let mut precision = None;
        if i < args.len() {
            let a = args.get(i);
            let kw = |k: &[u8]| a.eq_ignore_ascii_case(k);
            let output = if kw(b"count") {
                Some(Output::Count)
            } else if kw(b"ids") {
                Some(Output::Ids)
            } else if kw(b"objects") {
                Some(Output::Form(Form::Object))
            } else if kw(b"points") {
                Some(Output::Form(Form::Point))
            } else if kw(b"bounds") {
                Some(Output::Form(Form::Bounds))
            } else if kw(b"hashes") {
                i += 1;
                precision = Some(value(i)?);
                Some(Output::Form(Form::Hash(0)))
            } else if cmd == "SCAN" {
                return Err(Error::invalid_arg(a));
            } else {
                None
            };
            if let Some(output) = output {
                o.output = output;
                i += 1;
            }
        }
        if let Some(c) = cursor {
            o.cursor = parse_u64(c)?;
        }
        if let Some(p) = precision {
            let p = parse_u64(p)
                .ok()
                .filter(|p| (1..=12).contains(p))
                .ok_or_else(|| Error::invalid_arg(p))?;
            o.output = Output::Form(Form::Hash(p as usize));
        }
        if let Some(l) = limit {
            o.limit = Some(
                parse_u64(l)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::invalid_arg(l))?,
            );
        }
        if let Some(s) = sparse {
            let n = parse_u64(s)
                .ok()
                .filter(|n| (1..=16).contains(n))
                .ok_or_else(|| Error::invalid_arg(s))?;
            o.sparse = Some(n as u8);
            // As Tile38: SPARSE lifts the default limit (LIMIT is refused).
            o.limit = Some(u64::MAX);
        }
        Ok((o, i))
    }

    /// Parses a whole SCAN/SEARCH command: nothing may follow the output.
    pub fn parse_all(args: &Args, cmd: &str) -> Result<SearchOpts> {
        let (opts, next) = SearchOpts::parse(args, cmd)?;
        if next < args.len() {
            return Err(Error::Arity);
        }
        Ok(opts)
    }

    /// MATCH on an id.
    pub fn matches_id(&self, id: &[u8]) -> bool {
        self.matches(id)
    }

    pub fn matches(&self, id: &[u8]) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|p| glob::matches(p, id))
    }

    /// Whether the field filters (WHERE, WHEREIN) pass for object `id`.
    pub fn fields_pass(&self, id: &[u8], item: &Item) -> bool {
        self.wheres.iter().all(|w| w.matches(id, item))
            && self.whereins.iter().all(|w| w.matches(item))
    }

    pub fn has_field_filters(&self) -> bool {
        !self.wheres.is_empty() || !self.whereins.is_empty()
    }

    pub fn count_only(&self, out: &mut Reply, n: u64) {
        if out.json {
            out.key("count");
            out.json_i64(n as i64);
            out.key("cursor");
            out.push(b"0");
        } else {
            out.resp_int(n as i64);
        }
    }

    /// Runs the paging loop over `candidates` (already in order), applying
    /// `matches` (MATCH on the id or value) and the field filters.
    pub fn collect<'a>(
        &self,
        cx: &ReadCx,
        candidates: impl Iterator<Item = Hit<'a>>,
        matched: impl Fn(&'a [u8], &'a Item) -> bool,
    ) -> Result<Page<'a>> {
        let limit = match self.output {
            Output::Count => self.limit.unwrap_or(u64::MAX),
            _ => self.limit.unwrap_or(100),
        };
        let mut step = self.cursor;
        let mut found = Vec::new();
        let mut cursor = 0;
        for hit in candidates.skip(self.cursor as usize) {
            let (id, item) = (hit.id, hit.item);
            step += 1;
            cx.check_deadline()?;
            if !matched(id, item) || !self.fields_pass(id, item) {
                continue;
            }
            found.push(hit);
            if found.len() as u64 >= limit {
                cursor = step;
                break;
            }
        }
        if self.output == Output::Count {
            cursor = 0;
        }
        Ok((found, cursor))
    }
}

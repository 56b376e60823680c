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

use tile38_collection::{glob, Id, Item};
use tile38_geofence::{CommandSet, DetectSet};
use tile38_proto::Args;

use super::filter::{Where, WhereIn};
use super::results::{Hit, Page};
use crate::cmd::output::Form;
use crate::cmd::ReadCx;
use crate::cursor::{float, uint, Cursor};
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
    /// Inline up to 19 bytes ([`Id`]): no allocation per search for the
    /// usual key.
    pub key: Id,
    pub cursor: u64,
    pub limit: Option<u64>,
    pub matches: Vec<Vec<u8>>,
    pub desc: Option<bool>,
    pub nofields: bool,
    pub output: Output,
    pub wheres: Vec<Where>,
    pub whereins: Vec<WhereIn>,
    /// `WHEREEVAL`/`WHEREEVALSHA` (Lua, `crate::script`).
    pub whereevals: Vec<crate::script::WhereEval>,
    /// `DISTANCE`: append each result's distance (NEARBY).
    pub distance: bool,
    /// `SPARSE n`: 1..16 levels of quadrant splitting.
    pub sparse: Option<u8>,
    /// `BUFFER meters`: grow the area before searching.
    pub buffer: Option<f64>,
    /// `CLIP`: clip each returned object to the area (INTERSECTS).
    pub clip: bool,
    pub fence: bool,
    /// `DETECT list` (fences only; `None`: every kind).
    pub detect: Option<DetectSet>,
    /// `COMMANDS list` (fences only; `None`: every command).
    pub commands: Option<CommandSet>,
    /// `NODWELL` (ROAM fences).
    pub nodwell: bool,
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

/// What the option keywords leave for after the conflict checks: the
/// numbers (read last, as Tile38 does) and the keywords only seen.
#[derive(Default)]
struct Pending<'a> {
    cursor: Option<&'a [u8]>,
    limit: Option<&'a [u8]>,
    sparse: Option<&'a [u8]>,
    /// HASHES's precision.
    precision: Option<&'a [u8]>,
    asc: bool,
    detect: bool,
    commands: bool,
}

/// `duplicate argument 'WORD'`.
fn duplicate(word: &[u8]) -> Error {
    Error::Duplicate(String::from_utf8_lossy(word).to_ascii_uppercase())
}

impl SearchOpts {
    /// Parses `key` and the options, up to and including the output
    /// keyword (for the spatial commands the area follows).
    pub fn parse(c: &mut Cursor<'_>, cmd: &str) -> Result<SearchOpts> {
        let mut o = SearchOpts {
            key: Id::new(c.token()?),
            cursor: 0,
            limit: None,
            matches: Vec::new(),
            desc: None,
            nofields: false,
            output: Output::Form(Form::Object),
            wheres: Vec::new(),
            whereins: Vec::new(),
            whereevals: Vec::new(),
            distance: false,
            sparse: None,
            buffer: None,
            clip: false,
            fence: false,
            detect: None,
            commands: None,
            nodwell: false,
        };
        let mut p = Pending::default();
        while let Ok(word) = c.next() {
            if !o.option(word, c, &mut p)? {
                c.back();
                break;
            }
        }
        o.check_conflicts(cmd, &p)?;
        if p.asc {
            o.desc = Some(false);
        }
        o.output(c, cmd, &mut p)?;
        o.numbers(&p)?;
        Ok(o)
    }

    /// One option keyword, `word` (already read), with its values; `false`
    /// when `word` is not an option.
    fn option<'a>(&mut self, word: &[u8], c: &mut Cursor<'a>, p: &mut Pending<'a>) -> Result<bool> {
        let kw = |k: &[u8]| word.eq_ignore_ascii_case(k);
        if kw(b"cursor") || kw(b"limit") || kw(b"sparse") {
            let slot = if kw(b"cursor") {
                &mut p.cursor
            } else if kw(b"limit") {
                &mut p.limit
            } else {
                &mut p.sparse
            };
            if slot.is_some() {
                return Err(duplicate(word));
            }
            *slot = Some(c.token()?);
        } else if kw(b"where") {
            self.wheres.push(Where::parse(c)?);
        } else if kw(b"wherein") {
            self.whereins.push(WhereIn::parse(c)?);
        } else if kw(b"whereeval") || kw(b"whereevalsha") {
            let sha = kw(b"whereevalsha");
            self.whereevals
                .push(crate::script::WhereEval::parse(c, sha)?);
        } else if kw(b"match") {
            self.matches.push(c.token()?.to_vec());
        } else if kw(b"asc") || kw(b"desc") || kw(b"nodwell") {
            // As Tile38: NODWELL after ASC or DESC is a duplicate too.
            if self.desc == Some(true) || p.asc {
                return Err(duplicate(word));
            }
            if kw(b"desc") {
                self.desc = Some(true);
            } else if kw(b"asc") {
                p.asc = true;
            } else {
                self.nodwell = true;
            }
        } else if kw(b"nofields") || kw(b"distance") || kw(b"clip") || kw(b"fence") {
            let flag = if kw(b"nofields") {
                &mut self.nofields
            } else if kw(b"distance") {
                &mut self.distance
            } else if kw(b"clip") {
                &mut self.clip
            } else {
                &mut self.fence
            };
            if *flag {
                return Err(duplicate(word));
            }
            *flag = true;
        } else if kw(b"detect") || kw(b"commands") {
            let seen = if kw(b"detect") {
                &mut p.detect
            } else {
                &mut p.commands
            };
            if *seen {
                return Err(duplicate(word));
            }
            *seen = true;
            let list = c.token()?;
            check_list(list, kw(b"detect"))?;
            // Kept for the fence this search may become.
            if kw(b"detect") {
                self.detect = DetectSet::parse_list(list);
            } else {
                self.commands = Some(CommandSet::parse_list(list));
            }
        } else if kw(b"buffer") {
            let v = c.token()?;
            let meters = float(v)
                .ok()
                .filter(|m| m.is_finite() && *m >= 0.0)
                .ok_or_else(|| Error::invalid_arg(v))?;
            self.buffer = Some(meters);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The options that exclude each other or do not fit `cmd`, checked
    /// in Tile38's order once all are read.
    fn check_conflicts(&self, cmd: &str, p: &Pending) -> Result<()> {
        let spatial = !matches!(cmd, "SCAN" | "SEARCH");
        let refuse = |what: &str| Err(Error::Message(what.to_string()));
        let not_for = |what: &str| {
            let upper = cmd.to_ascii_uppercase();
            refuse(&format!("{what} is not allowed for {upper}"))
        };
        if !spatial {
            if p.sparse.is_some() {
                return not_for("SPARSE");
            }
            if self.fence {
                return not_for("FENCE");
            }
        } else if self.desc.is_some() {
            return not_for("DESC");
        } else if p.asc {
            return not_for("ASC");
        }
        if p.sparse.is_some() && p.limit.is_some() {
            return refuse("LIMIT is not allowed when SPARSE is specified");
        }
        if p.cursor.is_some() && p.sparse.is_some() {
            return refuse("CURSOR is not allowed when SPARSE is specified");
        }
        if p.cursor.is_some() && self.fence {
            return refuse("CURSOR is not allowed when FENCE is specified");
        }
        if p.detect && !self.fence {
            return refuse("DETECT is not allowed when FENCE is not specified");
        }
        Ok(())
    }

    /// The output keyword, if the next word is one (SCAN knows no other
    /// word there); HASHES's precision is kept for [`SearchOpts::numbers`].
    fn output<'a>(&mut self, c: &mut Cursor<'a>, cmd: &str, p: &mut Pending<'a>) -> Result<()> {
        let Some(word) = c.peek() else {
            return Ok(());
        };
        let kw = |k: &[u8]| word.eq_ignore_ascii_case(k);
        let output = if kw(b"count") {
            Output::Count
        } else if kw(b"ids") {
            Output::Ids
        } else if kw(b"objects") {
            Output::Form(Form::Object)
        } else if kw(b"points") {
            Output::Form(Form::Point)
        } else if kw(b"bounds") {
            Output::Form(Form::Bounds)
        } else if kw(b"hashes") {
            Output::Form(Form::Hash(0))
        } else if cmd == "SCAN" {
            // An empty word is a missing one (Tile38's `tokenval` check).
            return Err(if word.is_empty() {
                Error::Arity
            } else {
                Error::invalid_arg(word)
            });
        } else {
            return Ok(());
        };
        self.output = output;
        c.next()?;
        if kw(b"hashes") {
            p.precision = Some(c.token()?);
        }
        Ok(())
    }

    /// The numbers of CURSOR, HASHES, LIMIT and SPARSE, in that order:
    /// Go unsigned integers, each in its range.
    fn numbers(&mut self, p: &Pending) -> Result<()> {
        let in_range = |arg: &[u8], range: std::ops::RangeInclusive<u64>| match uint(arg) {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(Error::invalid_arg(arg)),
        };
        if let Some(c) = p.cursor {
            self.cursor = uint(c)?;
        }
        if let Some(arg) = p.precision {
            self.output = Output::Form(Form::Hash(in_range(arg, 1..=12)? as usize));
        }
        if let Some(l) = p.limit {
            self.limit = Some(in_range(l, 1..=u64::MAX)?);
        }
        if let Some(s) = p.sparse {
            self.sparse = Some(in_range(s, 1..=16)? as u8);
            // As Tile38: SPARSE lifts the default limit (LIMIT is refused).
            self.limit = Some(u64::MAX);
        }
        Ok(())
    }

    /// Parses a whole SCAN/SEARCH command: nothing may follow the output.
    pub fn parse_all(args: &Args, cmd: &str) -> Result<SearchOpts> {
        let mut c = Cursor::new(args);
        let opts = SearchOpts::parse(&mut c, cmd)?;
        c.finish()?;
        Ok(opts)
    }

    /// MATCH on an id.
    pub fn matches_id(&self, id: &[u8]) -> bool {
        self.matches(id)
    }

    /// Tile38's `globEverything`: no MATCH, or the one pattern `*`.
    pub fn match_everything(&self) -> bool {
        match self.matches.as_slice() {
            [] => true,
            [p] => p == b"*",
            _ => false,
        }
    }

    pub fn matches(&self, id: &[u8]) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|p| glob::matches(p, id))
    }

    /// Whether the field filters (WHERE, WHEREIN) pass for object `id`.
    pub fn fields_pass(&self, id: &[u8], item: &Item) -> bool {
        self.wheres.iter().all(|w| w.matches(id, item))
            && self.whereins.iter().all(|w| w.matches(item))
            && self.whereevals.iter().all(|w| w.matches(id, item))
    }

    /// [`SearchOpts::fields_pass`] where a WHEREEVAL script's error stops
    /// the search with it (Tile38's scanner).
    fn passes(&self, id: &[u8], item: &Item) -> Result<bool> {
        if !(self.wheres.iter().all(|w| w.matches(id, item))
            && self.whereins.iter().all(|w| w.matches(item)))
        {
            return Ok(false);
        }
        for w in &self.whereevals {
            if !w.try_matches(id, item)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn has_field_filters(&self) -> bool {
        !self.wheres.is_empty() || !self.whereins.is_empty() || !self.whereevals.is_empty()
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
        // COUNT output keeps no results: a count needs none of them.
        let keep = self.output != Output::Count;
        let mut step = self.cursor;
        let mut page = Page::default();
        for hit in candidates.skip(self.cursor as usize) {
            let (id, item) = (hit.id, hit.item);
            step += 1;
            cx.check_deadline()?;
            if !matched(id, item) || !self.passes(id, item)? {
                continue;
            }
            if keep {
                page.hits.push(hit);
            }
            page.count += 1;
            if page.count as u64 >= limit {
                page.cursor = step;
                break;
            }
        }
        if !keep {
            page.cursor = 0;
        }
        Ok(page)
    }
}

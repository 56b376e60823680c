//! The one way a command reads its arguments: a [`Cursor`] over
//! [`Args`], after the command name, that every command's `parse` (and the
//! option, area, filter, fence and `TIMEOUT` parsers they share) walks
//! forward, in the spirit of mini-redis's `Parse`.
//!
//! It owns the two things each command used to redo by hand:
//!
//! * running out: a missing argument is [`Error::Arity`] (Tile38's
//!   `invalid number of arguments`), and [`Cursor::token`] is Tile38's
//!   `tokenval` with the `== ""` check its callers add, so an empty
//!   argument counts as missing where Tile38 says so;
//! * numbers: every numeric argument goes through [`float`], [`int`] or
//!   [`uint`], which are Go's `strconv.ParseFloat`/`ParseInt`/`ParseUint`
//!   as [`tile38_geo::number`] implements them, and a refusal quotes the
//!   argument as given (`invalid argument 'x'`).
//!
//! Which error wins when several apply is each command's business (Tile38
//! checks in its own order): the cursor only moves forward when asked, and
//! is `Copy`, so a parser that must look ahead or check a run of arguments
//! before reading them does so on a copy.

use tile38_geo::number;
use tile38_proto::Args;

use crate::error::{Error, Result};

/// A position in a command's arguments.
#[derive(Clone, Copy)]
pub struct Cursor<'a> {
    args: &'a Args,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor on the first argument after the command name.
    pub fn new(args: &'a Args) -> Self {
        Cursor { args, pos: 1 }
    }

    /// The command name as sent (for the errors that quote it).
    pub fn command(&self) -> &'a [u8] {
        if self.args.is_empty() {
            return b"";
        }
        self.args.get(0)
    }

    /// The next argument; [`Error::Arity`] when there is none. (Not an
    /// `Iterator`: running out is an error reply, as in mini-redis's
    /// `Parse::next`.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<&'a [u8]> {
        // Not `ok_or`: an error made and dropped on every argument showed
        // in profiles of the AOF load.
        let Some(arg) = self.peek() else {
            return Err(Error::Arity);
        };
        self.pos += 1;
        Ok(arg)
    }

    /// The next argument, which must be there and not be empty (Tile38's
    /// `tokenval` and its callers' `== ""` checks): else [`Error::Arity`].
    pub fn token(&mut self) -> Result<&'a [u8]> {
        match self.next()? {
            b"" => Err(Error::Arity),
            arg => Ok(arg),
        }
    }

    /// The next argument, not consumed.
    pub fn peek(&self) -> Option<&'a [u8]> {
        (self.pos < self.args.len()).then(|| self.args.get(self.pos))
    }

    /// Steps back over the argument just read: a word a parser took for
    /// its own that belongs to the next one (WITHIN's `BOUNDS`, which is
    /// the area when numbers follow it).
    pub fn back(&mut self) {
        debug_assert!(self.pos > 1, "nothing read to step back over");
        self.pos -= 1;
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Every argument left, consumed.
    pub fn rest(&mut self) -> impl Iterator<Item = &'a [u8]> {
        let (args, from) = (self.args, self.pos);
        self.pos = self.pos.max(args.len());
        (from..args.len()).map(move |i| args.get(i))
    }

    /// Consumes the next argument if it is `kw` (any case).
    pub fn keyword(&mut self, kw: &str) -> bool {
        let found = self
            .peek()
            .is_some_and(|a| a.eq_ignore_ascii_case(kw.as_bytes()));
        if found {
            self.pos += 1;
        }
        found
    }

    /// [`Error::Arity`] unless at least `n` arguments are left (the
    /// commands that count their arguments before reading any).
    pub fn at_least(&self, n: usize) -> Result<()> {
        if self.remaining() < n {
            return Err(Error::Arity);
        }
        Ok(())
    }

    /// [`Error::Arity`] unless exactly `n` arguments are left.
    pub fn exactly(&self, n: usize) -> Result<()> {
        if self.remaining() != n {
            return Err(Error::Arity);
        }
        Ok(())
    }

    /// The end of a command: an argument left over is [`Error::Arity`].
    pub fn finish(&self) -> Result<()> {
        self.exactly(0)
    }

    /// The next argument as a Go float ([`float`]).
    pub fn next_f64(&mut self) -> Result<f64> {
        float(self.next()?)
    }

    /// The next argument as a Go float that is not below 0 ([`not_negative`]).
    pub fn next_not_negative(&mut self) -> Result<f64> {
        not_negative(self.next()?)
    }

    /// A count of values that follow it (WHEREIN's): a Go unsigned integer
    /// ([`uint`]), and [`Error::Arity`] when fewer arguments are left
    /// than it announces (Tile38's answer for every count it does not
    /// crash on; compared without adding, so no count can wrap around).
    pub fn count(&mut self) -> Result<usize> {
        let n = uint(self.next()?)?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.remaining())
            .ok_or(Error::Arity)
    }
}

/// A word in lower case, on the stack: what keyword `match`es compare
/// (an area type, a subcommand) without allocating per request. Words
/// longer than any keyword read as `"\0"`, which matches none.
pub struct Lowered {
    buf: [u8; Lowered::MAX],
    len: usize,
}

impl Lowered {
    const MAX: usize = 16;

    pub fn of(word: &[u8]) -> Lowered {
        let mut buf = [0; Lowered::MAX];
        if word.len() > Lowered::MAX {
            return Lowered { buf, len: 1 };
        }
        buf[..word.len()].copy_from_slice(word);
        buf[..word.len()].make_ascii_lowercase();
        Lowered {
            buf,
            len: word.len(),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Go's `strconv.ParseFloat(arg, 64)` (coordinates, radii, seconds):
/// a syntax or range error is `invalid argument 'arg'`.
pub fn float(arg: &[u8]) -> Result<f64> {
    number::parse_float(arg).ok_or_else(|| Error::invalid_arg(arg))
}

/// A Go float that Tile38 refuses only when `< 0` (radii, seconds): NaN
/// passes, as it does there.
pub fn not_negative(arg: &[u8]) -> Result<f64> {
    match float(arg) {
        Ok(v) if v.is_nan() || v >= 0.0 => Ok(v),
        _ => Err(Error::invalid_arg(arg)),
    }
}

/// Go's `strconv.ParseInt(arg, 10, 64)` (TILE numbers, GET's HASH
/// precision, AOF positions): a sign is allowed.
pub fn int(arg: &[u8]) -> Result<i64> {
    number::parse_int(arg).ok_or_else(|| Error::invalid_arg(arg))
}

/// Go's `strconv.ParseUint(arg, 10, 64)` (the search options' counts):
/// digits only, `+5` is refused.
pub fn uint(arg: &[u8]) -> Result<u64> {
    number::parse_uint(arg).ok_or_else(|| Error::invalid_arg(arg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Args {
        Args::from_slices(words)
    }

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        r.expect_err("an error").message()
    }

    #[test]
    fn lowered_words_match_keywords_only() {
        assert_eq!(Lowered::of(b"BoUnDs").as_slice(), b"bounds");
        assert_eq!(Lowered::of(b"").as_slice(), b"");
        let longest = b"ABCDEFGHIJKLMNOP";
        assert_eq!(Lowered::of(longest).as_slice(), b"abcdefghijklmnop");
        // Longer than fits: no keyword, not a prefix of one.
        assert_eq!(Lowered::of(b"boundsboundsbounds").as_slice(), b"\0");
        assert_eq!(Lowered::of("Ünï".as_bytes()).as_slice(), "Ünï".as_bytes());
    }

    #[test]
    fn walks_after_the_command_name() {
        let a = args(&["SET", "k", "", "x"]);
        let mut c = Cursor::new(&a);
        assert_eq!(c.command(), b"SET");
        assert_eq!(c.remaining(), 3);
        assert_eq!(c.peek(), Some(&b"k"[..]));
        assert_eq!(c.next().unwrap(), b"k");
        assert_eq!(c.next().unwrap(), b"");
        c.back();
        assert_eq!(err(c.token()), "invalid number of arguments");
        assert_eq!(c.token().unwrap(), b"x");
        assert!(c.is_empty());
        assert_eq!(c.peek(), None);
        assert_eq!(err(c.next()), "invalid number of arguments");
        assert_eq!(err(c.token()), "invalid number of arguments");
        assert!(c.finish().is_ok());
    }

    #[test]
    fn keywords_match_any_case_and_consume_only_on_a_match() {
        let a = args(&["SCAN", "LiMiT", "5"]);
        let mut c = Cursor::new(&a);
        assert!(!c.keyword("cursor"));
        assert_eq!(c.remaining(), 2);
        assert!(c.keyword("limit"));
        assert!(!c.keyword("limit"));
        assert_eq!(c.rest().collect::<Vec<_>>(), [b"5"]);
        assert!(c.is_empty());
        assert_eq!(c.rest().count(), 0);
    }

    #[test]
    fn counting_arguments() {
        let a = args(&["DROP", "k"]);
        let c = Cursor::new(&a);
        assert!(c.exactly(1).is_ok() && c.at_least(1).is_ok());
        assert_eq!(err(c.exactly(2)), "invalid number of arguments");
        assert_eq!(err(c.at_least(2)), "invalid number of arguments");
        assert_eq!(err(c.finish()), "invalid number of arguments");
        let none = Args::new();
        let c = Cursor::new(&none);
        assert_eq!((c.remaining(), c.command()), (0, &b""[..]));
    }

    #[test]
    fn numbers_follow_go() {
        let a = args(&["X", "0x1p4", "1_000", "-nan", "1e999", "nan", "-0", "-1"]);
        let mut c = Cursor::new(&a);
        assert_eq!(c.next_f64().unwrap(), 16.0);
        assert_eq!(c.next_f64().unwrap(), 1000.0);
        assert_eq!(err(c.next_f64()), "invalid argument '-nan'");
        assert_eq!(err(c.next_f64()), "invalid argument '1e999'");
        assert!(c.next_not_negative().unwrap().is_nan());
        assert_eq!(c.next_not_negative().unwrap(), 0.0);
        assert_eq!(err(c.next_not_negative()), "invalid argument '-1'");
        assert_eq!(err(c.next_f64()), "invalid number of arguments");
        assert_eq!(int(b"+5").unwrap(), 5);
        assert_eq!(int(b"-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(
            err(int(b"9223372036854775808")),
            "invalid argument '9223372036854775808'"
        );
        assert_eq!(uint(b"18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(err(uint(b"+5")), "invalid argument '+5'");
        assert_eq!(err(uint(b"")), "invalid argument ''");
    }

    #[test]
    fn a_count_must_fit_in_what_is_left() {
        let a = args(&["WHEREIN", "2", "a", "b"]);
        let mut c = Cursor::new(&a);
        assert_eq!(c.count().unwrap(), 2);
        for (count, want) in [
            ("3", "invalid number of arguments"),
            ("18446744073709551615", "invalid number of arguments"),
            ("+1", "invalid argument '+1'"),
            ("-1", "invalid argument '-1'"),
        ] {
            let a = args(&["WHEREIN", count, "a", "b"]);
            assert_eq!(err(Cursor::new(&a).count()), want, "{count}");
        }
        let a = args(&["WHEREIN", "0"]);
        assert_eq!(Cursor::new(&a).count().unwrap(), 0);
        let a = args(&["WHEREIN"]);
        assert_eq!(err(Cursor::new(&a).count()), "invalid number of arguments");
    }
}

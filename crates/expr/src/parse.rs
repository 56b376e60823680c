//! The parser: tidwall/expr's evaluation order turned into a tree, once per
//! command.
//!
//! tidwall/expr never tokenises. Each precedence level scans its text for
//! its operators (skipping bracket groups and strings), splits there and
//! hands the pieces to the next level; atoms are what is left. Its quirks
//! follow from that and are kept by splitting the same way:
//! `!` applies to a whole comparison (`!a > 1` is `!(a > 1)`) and is only
//! allowed at the start of an equality operand; a `+`/`-` right after `e` or
//! `E` never splits (`1e+5`, but `true+1` is an error); `--1` and `1--1` are
//! errors; `1 * -2` is an error (a factor cannot be signed).
//!
//! Pieces tidwall/expr evaluates lazily, the branches of `?:` and call
//! arguments, keep their syntax errors as [`Node::Fail`] so that they only
//! fail when they are reached. Any other syntax error fails the whole
//! expression.

use std::collections::HashMap;
use std::sync::Mutex;

use regex::bytes::Regex;

use super::lex::{self, Groups, Level, MAX_DEPTH};
use super::value::{go_parse_float, Func, Op};

/// A syntax error.
#[derive(Debug)]
pub struct Syntax;

type P<T> = Result<T, Syntax>;

#[derive(Debug)]
pub enum Lit {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Box<[u8]>),
}

#[derive(Debug)]
pub enum BinOp {
    Op(Op),
    Regex(RegexOp),
}

/// `=~`: a pattern given as a string literal is compiled here, once; a
/// computed one once per distinct pattern (Tile38 keeps an LRU cache).
#[derive(Debug, Default)]
pub struct RegexOp {
    /// The literal pattern, compiled (`Some(None)`: invalid).
    pub literal: Option<Option<Regex>>,
    pub cache: Mutex<HashMap<Vec<u8>, Option<Regex>>>,
}

#[derive(Debug)]
pub enum Node {
    Lit(Lit),
    Chain(Box<Chain>),
    /// An odd number of unary minuses.
    Neg(Box<Node>),
    /// `!`s before an equality operand: truthiness, flipped if odd.
    Not(Box<Node>, bool),
    /// A left-associative run of operators of one level.
    Seq(Box<Node>, Vec<(BinOp, Node)>),
    Ternary(Box<[Node; 3]>),
    Comma(Vec<Node>),
    /// A syntax error, raised when evaluated.
    Fail,
}

#[derive(Debug)]
pub enum Base {
    Lit(Lit),
    Group(Node),
    This,
    Func(Func),
    Ident(Box<[u8]>),
}

#[derive(Debug)]
pub enum Link {
    /// `.name` or `?.name`.
    Member(Box<[u8]>),
    /// `[expr]`: the member named by the value.
    Index(Node),
    /// `(args)`; arguments are only evaluated by the callee.
    Call(Option<Vec<Node>>),
}

/// An atom and what follows it: `properties.name`, `name.match('a*')`.
#[derive(Debug)]
pub struct Chain {
    pub base: Base,
    pub links: Vec<Link>,
}

/// Parses a whole expression (already trimmed and non-empty).
pub fn parse(src: &[u8]) -> P<Node> {
    let groups = Groups::scan(src).ok_or(Syntax)?;
    let mut p = Parser {
        src,
        groups,
        steps: lex::steps(src),
        depth: 0,
    };
    p.auto(Level::Comma, 0, src.len())
}

struct Parser<'s> {
    src: &'s [u8],
    groups: Groups,
    steps: u16,
    depth: usize,
}

impl Parser<'_> {
    fn trim(&self, mut s: usize, mut e: usize) -> (usize, usize) {
        while s < e && lex::is_space(self.src[s]) {
            s += 1;
        }
        while e > s && lex::is_space(self.src[e - 1]) {
            e -= 1;
        }
        (s, e)
    }

    /// Where the group or string opened at `i` ends (`readGroup`).
    fn skip(&self, i: usize, e: usize) -> P<usize> {
        self.groups.end(self.src, i, e).ok_or(Syntax)
    }

    /// `evalAuto`: the first level from `level` on that the expression
    /// needs.
    fn auto(&mut self, mut level: Level, s: usize, e: usize) -> P<Node> {
        while level != Level::Atom && !lex::has_step(self.steps, level) {
            level = level.next();
        }
        match level {
            Level::Comma => self.comma(s, e).map(|mut parts| {
                if parts.len() == 1 {
                    parts.pop().unwrap_or(Node::Fail)
                } else {
                    Node::Comma(parts)
                }
            }),
            Level::Ternary => self.ternary(s, e),
            Level::Atom => self.atom(s, e),
            _ => self.binary(level, s, e),
        }
    }

    /// `evalExpr` of a nested text (group, branch, index): from the top.
    fn nested(&mut self, s: usize, e: usize) -> P<Node> {
        if self.depth >= MAX_DEPTH {
            return Err(Syntax);
        }
        self.depth += 1;
        let node = self.auto(Level::Comma, s, e);
        self.depth -= 1;
        node
    }

    fn comma(&mut self, s: usize, e: usize) -> P<Vec<Node>> {
        let mut parts = Vec::new();
        let (mut i, mut start) = (s, s);
        while i < e {
            match self.src[i] {
                b',' => {
                    parts.push(self.auto(Level::Ternary, start, i)?);
                    start = i + 1;
                }
                c if lex::is_opener(c) => {
                    i = self.skip(i, e)?;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        parts.push(self.auto(Level::Ternary, start, e)?);
        Ok(parts)
    }

    fn ternary(&mut self, s: usize, e: usize) -> P<Node> {
        let (mut depth, mut cond_end, mut then_start) = (0i64, s, s);
        let mut i = s;
        while i < e {
            match self.src[i] {
                b'?' if matches!(self.src.get(i + 1), Some(b'?' | b'.')) && i + 1 < e => {
                    i += 2;
                    continue;
                }
                b'?' => {
                    if depth == 0 {
                        cond_end = i;
                        then_start = i + 1;
                    }
                    depth += 1;
                }
                b':' => {
                    depth -= 1;
                    if depth == 0 {
                        let cond = self.nested(s, cond_end)?;
                        let then = self.nested(then_start, i).unwrap_or(Node::Fail);
                        let other = self.nested(i + 1, e).unwrap_or(Node::Fail);
                        return Ok(Node::Ternary(Box::new([cond, then, other])));
                    }
                }
                c if lex::is_opener(c) => {
                    i = self.skip(i, e)?;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        if depth != 0 {
            return Err(Syntax);
        }
        self.auto(Level::Or, s, e)
    }

    /// The operator of `level` at `i`, if one starts there, and its length.
    fn operator(&self, level: Level, s: usize, i: usize, e: usize) -> P<Option<(BinOp, usize)>> {
        let src = self.src;
        let at = |k: usize| if k < e { src[k] } else { 0 };
        let c = src[i];
        let op = |op, len| Ok(Some((BinOp::Op(op), len)));
        match (level, c) {
            (Level::Or, b'?') if at(i + 1) == b'.' => Ok(None),
            (Level::Or, b'?' | b'|') | (Level::And, b'&') => {
                if at(i + 1) != c {
                    return Err(Syntax);
                }
                match c {
                    b'?' => op(Op::Coalesce, 2),
                    b'|' => op(Op::Or, 2),
                    _ => op(Op::And, 2),
                }
            }
            (Level::Equality, b'=') => {
                if i > s && matches!(src[i - 1], b'<' | b'>') {
                    return Ok(None);
                }
                match (at(i + 1), at(i + 2)) {
                    (b'=', b'=') => op(Op::StrictEq, 3),
                    (b'=', _) => op(Op::Eq, 2),
                    (b'~', _) => Ok(Some((BinOp::Regex(RegexOp::default()), 2))),
                    _ => Err(Syntax),
                }
            }
            (Level::Equality, b'!') => match (at(i + 1), at(i + 2)) {
                (b'=', b'=') => op(Op::StrictNe, 3),
                (b'=', _) => op(Op::Ne, 2),
                _ => Ok(None),
            },
            (Level::Compare, b'<' | b'>') => {
                let eq = at(i + 1) == b'=';
                let o = match (c, eq) {
                    (b'<', false) => Op::Lt,
                    (b'<', true) => Op::Le,
                    (_, false) => Op::Gt,
                    (_, true) => Op::Ge,
                };
                op(o, 1 + usize::from(eq))
            }
            (Level::Factor, b'*') => op(Op::Mul, 1),
            (Level::Factor, b'/') => op(Op::Div, 1),
            (Level::Factor, b'%') => op(Op::Mod, 1),
            _ => Ok(None),
        }
    }

    /// The levels that split on operators: `||`/`??`, `&&`, equality,
    /// comparison, `+`/`-` (with unary signs) and factors.
    fn binary(&mut self, level: Level, s: usize, e: usize) -> P<Node> {
        let mut first: Option<Node> = None;
        let mut rest = Vec::new();
        let mut pending: Option<BinOp> = None;
        // Sums only: whether the operand has started, and its sign.
        let (mut fill, mut neg) = (false, false);
        let (mut i, mut start) = (s, s);
        while i < e {
            let c = self.src[i];
            if lex::is_opener(c) {
                i = self.skip(i, e)?;
                fill = true;
                continue;
            }
            let found = if level == Level::Sum && matches!(c, b'+' | b'-') {
                if !fill {
                    // A sign before the operand is unary; `--`/`++` written
                    // together are rejected (JavaScript's decrement).
                    if i > s && self.src[i - 1] == c {
                        return Err(Syntax);
                    }
                    neg ^= c == b'-';
                    start = i + 1;
                    i += 1;
                    continue;
                }
                // `1e+5`: a sign right after `e`/`E` is kept in the operand,
                // even after a name (`true+1` is then a syntax error).
                if i > s && matches!(self.src[i - 1], b'e' | b'E') {
                    i += 1;
                    continue;
                }
                let op = if c == b'+' { Op::Add } else { Op::Sub };
                Some((BinOp::Op(op), 1))
            } else {
                if level == Level::Sum && !fill && !lex::is_space(c) {
                    fill = true;
                }
                self.operator(level, s, i, e)?
            };
            let Some((op, len)) = found else {
                i += 1;
                continue;
            };
            let node = self.operand(level, start, i, neg)?;
            match pending.replace(op) {
                None => first = Some(node),
                Some(prev) => rest.push((prev, node)),
            }
            (fill, neg) = (false, false);
            i += len;
            start = i;
        }
        let node = self.operand(level, start, e, neg)?;
        match (first, pending) {
            (Some(first), Some(op)) => {
                rest.push((op, node));
                for (op, right) in &mut rest {
                    if let (BinOp::Regex(op), Node::Lit(Lit::Str(p))) = (op, right) {
                        op.literal = Some(super::eval::compile_regex(p));
                    }
                }
                Ok(Node::Seq(Box::new(first), rest))
            }
            _ => Ok(node),
        }
    }

    /// One operand of a `binary` level, parsed by the next level.
    fn operand(&mut self, level: Level, s: usize, e: usize, neg: bool) -> P<Node> {
        let (mut s, e) = self.trim(s, e);
        if level == Level::Factor {
            return self.atom(s, e);
        }
        let mut not = None;
        if level == Level::Equality {
            while s < e && self.src[s] == b'!' {
                not = Some(!not.unwrap_or(false));
                s = self.trim(s + 1, e).0;
            }
        }
        if s >= e {
            return Err(Syntax);
        }
        let node = self.auto(level.next(), s, e)?;
        Ok(match not {
            Some(flip) => Node::Not(Box::new(node), flip),
            None if neg => Node::Neg(Box::new(node)),
            None => node,
        })
    }

    fn atom(&mut self, s: usize, e: usize) -> P<Node> {
        let (s, e) = self.trim(s, e);
        let src = self.src;
        let text = &src[s..e];
        let first = *text.first().ok_or(Syntax)?;
        let (base, mut i) = match first {
            b'0' if matches!(text.get(1), Some(b'x' | b'X')) => {
                let digits = std::str::from_utf8(&text[2..]).map_err(|_| Syntax)?;
                if digits.starts_with('+') {
                    return Err(Syntax);
                }
                let v = u64::from_str_radix(digits, 16).map_err(|_| Syntax)?;
                return Ok(Node::Lit(Lit::Num(v as f64)));
            }
            b'.' | b'0'..=b'9' => {
                let v = go_parse_float(text).ok_or(Syntax)?;
                return Ok(Node::Lit(Lit::Num(v)));
            }
            b'"' | b'\'' | b'`' => {
                let (value, len) = lex::string_literal(text).ok_or(Syntax)?;
                (Base::Lit(Lit::Str(value.into())), s + len)
            }
            b'(' => {
                let end = self.skip(s, e)?;
                (Base::Group(self.nested(s + 1, end - 1)?), end)
            }
            _ => {
                let len = lex::ident_len(text);
                let base = match &text[..len] {
                    b"" | b"new" | b"typeof" | b"void" | b"await" | b"in" | b"instanceof"
                    | b"yield" => return Err(Syntax),
                    b"true" => Base::Lit(Lit::Bool(true)),
                    b"false" => Base::Lit(Lit::Bool(false)),
                    b"NaN" => Base::Lit(Lit::Num(f64::NAN)),
                    b"Infinity" => Base::Lit(Lit::Num(f64::INFINITY)),
                    b"undefined" => Base::Lit(Lit::Undefined),
                    b"null" => Base::Lit(Lit::Null),
                    b"this" => Base::This,
                    b"regex" => Base::Func(Func::Regex),
                    name => Base::Ident(name.into()),
                };
                (base, s + len)
            }
        };
        let mut links = Vec::new();
        loop {
            i = self.trim(i, e).0;
            if i >= e {
                break;
            }
            match src[i] {
                b'?' if i + 1 < e && src[i + 1] == b'.' => i += 1,
                b'.' => {}
                b'(' => {
                    let end = self.skip(i, e)?;
                    links.push(Link::Call(self.args(i + 1, end - 1)));
                    i = end;
                    continue;
                }
                b'[' => {
                    let end = self.skip(i, e)?;
                    links.push(Link::Index(self.nested(i + 1, end - 1)?));
                    i = end;
                    continue;
                }
                _ => return Err(Syntax),
            }
            // A member access: `.` then (after spaces) a name.
            i = self.trim(i + 1, e).0;
            let len = lex::ident_len(&src[i..e]);
            if len == 0 {
                return Err(Syntax);
            }
            links.push(Link::Member(src[i..i + len].into()));
            i += len;
        }
        Ok(match (base, links.is_empty()) {
            (Base::Lit(lit), true) => Node::Lit(lit),
            (base, _) => Node::Chain(Box::new(Chain { base, links })),
        })
    }

    /// Call arguments: a comma list evaluated on its own (`EvalForEach`),
    /// so with its own steps; `None` if it does not parse.
    fn args(&mut self, s: usize, e: usize) -> Option<Vec<Node>> {
        let (s, e) = self.trim(s, e);
        if s >= e {
            return Some(Vec::new());
        }
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let outer = std::mem::replace(
            &mut self.steps,
            lex::steps(&self.src[s..e]) | Level::Comma.bit(),
        );
        self.depth += 1;
        let parts = self.comma(s, e).ok();
        self.depth -= 1;
        self.steps = outer;
        parts
    }
}

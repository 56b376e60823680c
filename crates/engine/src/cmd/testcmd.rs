//! `TEST <area-expr> WITHIN|INTERSECTS [CLIP] <area-expr>`: a spatial test
//! between two areas without touching an index. An area expression combines
//! areas (as in WITHIN: POINT, CIRCLE, BOUNDS, HASH, QUADKEY, TILE, OBJECT,
//! GET, SECTOR) with `AND`, `OR`, `NOT` and parentheses. Replies `:1`/`:0`
//! (JSON `"result":true|false`); with CLIP and a true result also the first
//! area clipped to the second.
//!
//! The expression tree is built exactly as Tile38's `parseAreaExpression`
//! builds it, quirks included (a `)` returns to the group it closes, and an
//! `AND` after an `OR` binds only to the last operand), because the tree's
//! shape decides the answer.

use tile38_geo::geojson::Shape;
use tile38_geo::predicate::{area_intersects, area_within, Area};
use tile38_geo::{area, Geometry, Position, Value};
use tile38_proto::Args;

use super::{ReadCommand, ReadCx};
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::search::areas::{self, ClipMode, Spec};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    None,
    And,
    Or,
}

#[derive(Debug)]
struct Node {
    negate: bool,
    area: Option<Spec>,
    op: Op,
    children: Vec<usize>,
}

/// One side of TEST: nodes in an arena, `root` the top expression.
#[derive(Debug)]
struct Expr {
    nodes: Vec<Node>,
    root: usize,
}

const AREA_WORDS: [&[u8]; 9] = [
    b"point", b"circle", b"object", b"bounds", b"hash", b"quadkey", b"tile", b"get", b"sector",
];

/// Tile38's `parseAreaExpression` while it reads one side: the nodes so
/// far, the expression being built (`ae`), the open parentheses, and a
/// pending `NOT` (`negate`) or operator still waiting for its operand
/// (`need_obj`).
#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    ae: Option<usize>,
    stack: Vec<usize>,
    negate: bool,
    need_obj: bool,
}

impl Builder {
    fn node(&mut self, negate: bool, area: Option<Spec>, op: Op, children: Vec<usize>) -> usize {
        self.nodes.push(Node {
            negate,
            area,
            op,
            children,
        });
        self.nodes.len() - 1
    }

    /// `(`: a group, a child of the expression being built.
    fn open(&mut self) {
        let n = self.node(self.negate, None, Op::None, Vec::new());
        (self.negate, self.need_obj) = (false, false);
        if let Some(a) = self.ae {
            self.nodes[a].children.push(n);
        }
        self.ae = Some(n);
        self.stack.push(n);
    }

    /// `)`: back to the group it closes (Tile38's quirk: not its parent).
    fn close(&mut self) -> Result<()> {
        if self.need_obj {
            return Err(Error::invalid_arg(b")"));
        }
        self.ae = Some(self.stack.pop().ok_or_else(|| Error::invalid_arg(b")"))?);
        Ok(())
    }

    fn not(&mut self) {
        self.negate = !self.negate;
        self.need_obj = true;
    }

    /// `AND`/`OR` (`word`, lower case, for the error).
    fn op(&mut self, op: Op, word: &[u8]) -> Result<()> {
        let other = if op == Op::And { Op::Or } else { Op::And };
        let Some(a) = self.ae.filter(|_| !self.need_obj) else {
            return Err(Error::invalid_arg(word));
        };
        self.need_obj = true;
        if self.nodes[a].area.is_some() {
            self.ae = Some(self.node(false, None, op, vec![a]));
        } else if self.nodes[a].op == Op::None {
            self.nodes[a].op = op;
        } else if self.nodes[a].op == other {
            let len = self.nodes[a].children.len();
            if len < 2 {
                return Err(Error::Arity);
            }
            if op == Op::And {
                // Tile38 wraps only the last operand of the OR.
                let last = self.nodes[a].children[len - 1];
                let wrapped = self.node(false, None, Op::And, vec![last]);
                self.nodes[a].children[len - 1] = wrapped;
            } else {
                self.ae = Some(self.node(false, None, Op::Or, vec![a]));
            }
        }
        Ok(())
    }

    fn area(&mut self, spec: Spec) {
        let n = self.node(self.negate, Some(spec), Op::None, Vec::new());
        (self.negate, self.need_obj) = (false, false);
        match self.ae {
            None => self.ae = Some(n),
            Some(a) => self.nodes[a].children.push(n),
        }
    }

    fn finish(self) -> Result<Expr> {
        let root = match self.ae {
            Some(r) if self.stack.is_empty() && !self.need_obj => r,
            _ => return Err(Error::Arity),
        };
        if self.nodes[root].area.is_none() && self.nodes[root].children.is_empty() {
            return Err(Error::Arity);
        }
        Ok(Expr {
            nodes: self.nodes,
            root,
        })
    }
}

/// TEST's own POINT and OBJECT areas are `geojson.Point`s (`NewPoint`,
/// `Parse`), while a stored plain point read by GET is a `SimplePoint`:
/// kept as a GeoJSON Point value so that a circle on the left tests it by
/// distance (see `tile38_geo::predicate`, object module).
fn geojson_point(spec: Spec) -> Spec {
    match spec {
        Spec::Ready(Area::Value(Value::Point { x, y, z: 0.0 })) => {
            let point = Shape::Point(Position::new(x, y));
            Spec::Ready(Area::Value(Value::Geo(std::sync::Arc::new(Geometry::new(
                point,
            )))))
        }
        other => other,
    }
}

impl Expr {
    /// Reads one side, up to the first word that cannot continue it.
    fn parse(c: &mut Cursor<'_>, clip: ClipMode) -> Result<Expr> {
        let mut b = Builder::default();
        while let Some(word) = c.peek().filter(|w| !w.is_empty()) {
            let word = word.to_ascii_lowercase();
            if AREA_WORDS.contains(&word.as_slice()) {
                b.area(geojson_point(areas::parse(c, clip, false)?));
                continue;
            }
            match word.as_slice() {
                b"(" => b.open(),
                b")" => b.close()?,
                b"not" => b.not(),
                b"and" => b.op(Op::And, &word)?,
                b"or" => b.op(Op::Or, &word)?,
                _ => break,
            }
            c.next()?;
        }
        b.finish()
    }

    /// Looks up every `GET` area (errors in the order the areas appear).
    fn resolve(&self, cx: &ReadCx) -> Result<Vec<Option<Area>>> {
        self.nodes
            .iter()
            .map(|n| n.area.as_ref().map(|s| s.resolve(cx)).transpose())
            .collect()
    }
}

/// A resolved expression and a node in it, with its negation (the
/// evaluation flips negations without copying nodes).
#[derive(Clone, Copy)]
struct At<'a> {
    expr: &'a Expr,
    areas: &'a [Option<Area>],
    node: usize,
    negate: bool,
}

impl<'a> At<'a> {
    fn root(expr: &'a Expr, areas: &'a [Option<Area>]) -> At<'a> {
        At {
            expr,
            areas,
            node: expr.root,
            negate: expr.nodes[expr.root].negate,
        }
    }

    fn child(self, node: usize) -> At<'a> {
        At {
            node,
            negate: self.expr.nodes[node].negate,
            ..self
        }
    }

    fn n(&self) -> &'a Node {
        &self.expr.nodes[self.node]
    }

    fn area(&self) -> Option<&'a Area> {
        self.areas[self.node].as_ref()
    }

    fn maybe_negate(&self, v: bool) -> bool {
        v != self.negate
    }
}

#[derive(Clone, Copy)]
enum Test {
    Within,
    Intersects,
}

fn obj_obj(t: Test, a: &Area, b: &Area) -> bool {
    match t {
        Test::Within => area_within(a, b),
        Test::Intersects => area_intersects(a, b),
    }
}

/// `e <test> o` for an object `o` (Tile38's `rawWithin`/`rawIntersects`).
fn raw_obj(t: Test, e: At, o: &Area) -> bool {
    if let Some(a) = e.area() {
        return obj_obj(t, a, o);
    }
    let mut kids = e.n().children.iter().map(|&c| e.child(c));
    match e.n().op {
        Op::And => kids.all(|c| c.maybe_negate(raw_obj(t, c, o))),
        Op::Or => kids.any(|c| c.maybe_negate(raw_obj(t, c, o))),
        Op::None => false,
    }
}

/// `e <test> other` (Tile38's `WithinExpr`/`IntersectsExpr`).
fn expr_expr(t: Test, e: At, other: At) -> bool {
    e.maybe_negate(raw_expr_expr(t, e, other))
}

fn raw_expr_expr(t: Test, e: At, other: At) -> bool {
    if other.negate {
        let flipped = At {
            negate: !e.negate,
            ..e
        };
        let plain = At {
            negate: false,
            ..other
        };
        return expr_expr(t, flipped, plain);
    }
    if let Some(o) = other.area() {
        return raw_obj(t, e, o);
    }
    let mut kids = other.n().children.iter().map(|&c| other.child(c));
    match other.n().op {
        Op::And => kids.all(|c| raw_expr_expr(t, e, c)),
        Op::Or => kids.any(|c| raw_expr_expr(t, e, c)),
        Op::None => false,
    }
}

pub struct TestCmd {
    left: Expr,
    right: Expr,
    test: Test,
    clip: bool,
}

impl ReadCommand<'_> for TestCmd {
    fn parse(args: &Args) -> Result<Self> {
        let mut c = Cursor::new(args);
        let left = Expr::parse(&mut c, ClipMode::None)?;
        let word = c.token()?;
        let test = if word.eq_ignore_ascii_case(b"within") {
            Test::Within
        } else if word.eq_ignore_ascii_case(b"intersects") {
            Test::Intersects
        } else {
            return Err(Error::invalid_arg(word));
        };
        let mut clip = false;
        if let Some(w) = c.peek().filter(|w| w.eq_ignore_ascii_case(b"clip")) {
            if matches!(test, Test::Within) {
                return Err(Error::invalid_arg(w));
            }
            clip = true;
            c.next()?;
        }
        let mode = if clip { ClipMode::Test } else { ClipMode::None };
        let right = Expr::parse(&mut c, mode)?;
        let single = |e: &Expr| e.nodes[e.root].area.is_some();
        if clip && !(single(&left) && single(&right)) {
            return Err(Error::invalid_arg(b"clip"));
        }
        c.finish()?;
        Ok(TestCmd {
            left,
            right,
            test,
            clip,
        })
    }

    fn apply(&self, cx: &ReadCx, out: &mut Reply) -> Result<()> {
        let (la, ra) = (self.left.resolve(cx)?, self.right.resolve(cx)?);
        let (l, r) = (At::root(&self.left, &la), At::root(&self.right, &ra));
        let result = expr_expr(self.test, l, r);
        let clipped = match (self.clip && result, l.area(), r.area()) {
            (true, Some(Area::Value(v)), Some(b)) => Some(area::clip(v, b.bbox())),
            _ => None,
        };
        write_result(out, result, clipped.as_ref());
        Ok(())
    }
}

fn write_result(out: &mut Reply, result: bool, clipped: Option<&Value>) {
    if out.json {
        out.key("result");
        out.push(if result { b"true" } else { b"false" });
        if let Some(v) = clipped {
            out.key("object");
            v.write_json(&mut out.buf);
        }
    } else if let Some(v) = clipped {
        out.resp_array(2);
        out.resp_int(i64::from(result));
        out.resp_bulk(&v.to_text());
    } else {
        out.resp_int(i64::from(result));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &str) -> Result<TestCmd> {
        let words: Vec<&str> = words.split(' ').collect();
        TestCmd::parse(&Args::from_slices(&words))
    }

    /// Tile38 1.37's answers: TEST reads TILE's `x` and `y` with Go's
    /// `ParseInt` (a sign passes) and `z` with `ParseUint` (none does).
    #[test]
    fn tile_numbers_read_as_tile38_reads_them() {
        for ok in [
            "TEST TILE +1 1 5 WITHIN TILE 0 0 0",
            "TEST TILE -0 1 5 WITHIN TILE 0 0 0",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for (bad, arg) in [
            ("TEST TILE 1 1 +5 WITHIN TILE 0 0 0", "+5"),
            ("TEST TILE 1 1 5 WITHIN TILE 0 0 +0", "+0"),
            ("TEST TILE 1 1 -0 WITHIN TILE 0 0 0", "-0"),
            (
                "TEST POINT 1 1 WITHIN TILE 0 0 18446744073709551616",
                "18446744073709551616",
            ),
        ] {
            let err = parse(bad).err().map(|e| e.message());
            assert_eq!(err, Some(format!("invalid argument '{arg}'")), "{bad}");
        }
    }
}

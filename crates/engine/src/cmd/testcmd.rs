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

use tile38_geo::predicate::{area_intersects, area_within, Area};
use tile38_geo::{area, Value};
use tile38_proto::Args;

use super::{ReadCommand, ReadCx};
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

impl Expr {
    fn parse(args: &Args, mut i: usize, clip: ClipMode) -> Result<(Expr, usize)> {
        fn new(
            nodes: &mut Vec<Node>,
            negate: bool,
            area: Option<Spec>,
            op: Op,
            children: Vec<usize>,
        ) -> usize {
            nodes.push(Node {
                negate,
                area,
                op,
                children,
            });
            nodes.len() - 1
        }
        let mut nodes: Vec<Node> = Vec::new();
        let (mut ae, mut stack): (Option<usize>, Vec<usize>) = (None, Vec::new());
        let (mut negate, mut need_obj) = (false, false);
        while i < args.len() && !args.get(i).is_empty() {
            let word = args.get(i).to_ascii_lowercase();
            match word.as_slice() {
                b"(" => {
                    let n = new(&mut nodes, negate, None, Op::None, Vec::new());
                    (negate, need_obj) = (false, false);
                    if let Some(a) = ae {
                        nodes[a].children.push(n);
                    }
                    ae = Some(n);
                    stack.push(n);
                    i += 1;
                }
                b")" => {
                    if need_obj {
                        return Err(Error::invalid_arg(b")"));
                    }
                    ae = Some(stack.pop().ok_or_else(|| Error::invalid_arg(b")"))?);
                    i += 1;
                }
                b"not" => {
                    negate = !negate;
                    need_obj = true;
                    i += 1;
                }
                b"and" | b"or" => {
                    let (op, other) = if word == b"and" {
                        (Op::And, Op::Or)
                    } else {
                        (Op::Or, Op::And)
                    };
                    let Some(a) = ae.filter(|_| !need_obj) else {
                        return Err(Error::InvalidArg(word));
                    };
                    need_obj = true;
                    if nodes[a].area.is_some() {
                        ae = Some(new(&mut nodes, false, None, op, vec![a]));
                    } else if nodes[a].op == Op::None {
                        nodes[a].op = op;
                    } else if nodes[a].op == other {
                        let len = nodes[a].children.len();
                        if len < 2 {
                            return Err(Error::Arity);
                        }
                        if op == Op::And {
                            // Tile38 wraps only the last operand of the OR.
                            let last = nodes[a].children[len - 1];
                            let wrapped = new(&mut nodes, false, None, Op::And, vec![last]);
                            nodes[a].children[len - 1] = wrapped;
                        } else {
                            ae = Some(new(&mut nodes, false, None, Op::Or, vec![a]));
                        }
                    }
                    i += 1;
                }
                w if AREA_WORDS.contains(&w) => {
                    let (spec, next) = areas::parse(args, i, clip, false)?;
                    let n = new(&mut nodes, negate, Some(spec), Op::None, Vec::new());
                    (negate, need_obj) = (false, false);
                    match ae {
                        None => ae = Some(n),
                        Some(a) => nodes[a].children.push(n),
                    }
                    i = next;
                }
                _ => break,
            }
        }
        let root = match ae {
            Some(r) if stack.is_empty() && !need_obj => r,
            _ => return Err(Error::Arity),
        };
        if nodes[root].area.is_none() && nodes[root].children.is_empty() {
            return Err(Error::Arity);
        }
        Ok((Expr { nodes, root }, i))
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
        let (left, i) = Expr::parse(args, 1, ClipMode::None)?;
        let word = match (i < args.len()).then(|| args.get(i)) {
            Some(w) if !w.is_empty() => w,
            _ => return Err(Error::Arity),
        };
        let test = if word.eq_ignore_ascii_case(b"within") {
            Test::Within
        } else if word.eq_ignore_ascii_case(b"intersects") {
            Test::Intersects
        } else {
            return Err(Error::invalid_arg(word));
        };
        let mut i = i + 1;
        let mut clip = false;
        if i < args.len() && args.get(i).eq_ignore_ascii_case(b"clip") {
            if matches!(test, Test::Within) {
                return Err(Error::invalid_arg(args.get(i)));
            }
            clip = true;
            i += 1;
        }
        let mode = if clip { ClipMode::Test } else { ClipMode::None };
        let (right, i) = Expr::parse(args, i, mode)?;
        let single = |e: &Expr| e.nodes[e.root].area.is_some();
        if clip && !(single(&left) && single(&right)) {
            return Err(Error::invalid_arg(b"clip"));
        }
        if i != args.len() {
            return Err(Error::Arity);
        }
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

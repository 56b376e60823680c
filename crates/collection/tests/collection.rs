//! Collection behaviour through its public API: indexes in step across
//! set/delete, deadlines, crowds at one position, exact boxes at borders,
//! Tile38's weights.

use tile38_collection::{Collection, Prior, SetCond, SetOutcome};
use tile38_geo::{FieldValue, Position, Rect, Value};

fn point(x: f64, y: f64) -> Value {
    Value::Point { x, y, z: 0.0 }
}

fn field(v: &[u8]) -> Vec<(Box<[u8]>, FieldValue)> {
    vec![(b"f"[..].into(), FieldValue::parse(v))]
}

#[test]
fn set_delete_keep_indexes_in_step() {
    let mut c = Collection::new();
    let mut set = |v, f, at, cond| c.set(b"a", v, f, at, cond).written();
    assert!(!set(point(1.0, 2.0), vec![], Some(10), SetCond::IfExists));
    assert!(set(point(1.0, 2.0), vec![], Some(10), SetCond::Always));
    assert!(!set(point(3.0, 4.0), field(b"5"), None, SetCond::IfAbsent));
    assert!(set(point(3.0, 4.0), field(b"5"), None, SetCond::Always));
    assert_eq!(c.spatial_len(), 1);
    assert!(c.expired(100).is_empty());
    c.set(
        b"s",
        Value::String(b"value"[..].into()),
        vec![],
        Some(5),
        SetCond::Always,
    );
    assert_eq!((c.len(), c.num_points(), c.num_strings()), (2, 1, 1));
    assert_eq!(c.expired(5).len(), 1);
    assert_eq!(c.get(b"a").unwrap().fields.len(), 1);
    let ids: Vec<_> = c.range(None, false).map(|(id, _)| id.to_vec()).collect();
    assert_eq!(ids, [b"a".to_vec(), b"s".to_vec()]);
    c.check();
    c.delete(b"a");
    c.delete(b"s");
    assert_eq!((c.spatial_len(), c.weight(), c.num_points()), (0, 0, 0));
    assert!(c.expired(i64::MAX).is_empty());
    assert_eq!(c.range(None, true).count(), 0);
    c.check();
}

#[test]
fn deadline_zero_still_expires() {
    let mut c = Collection::new();
    c.set(b"a", point(1.0, 2.0), vec![], Some(0), SetCond::Always);
    assert_eq!(c.get(b"a").unwrap().deadline(), Some(-1));
    assert_eq!(c.expired(0).len(), 1);
    assert_eq!(c.set_expires(b"a", Some(7)), Some(Some(-1)));
    assert_eq!(c.get(b"a").unwrap().deadline(), Some(7));
}

#[test]
fn same_place_objects_share_pages_and_move_out() {
    let mut c = Collection::new();
    for i in 0..1000 {
        c.set(
            format!("id{i}").as_bytes(),
            point(1.0, 1.0),
            vec![],
            None,
            SetCond::Always,
        );
    }
    c.set(b"id5", point(1.0, 1.0), field(b"1"), None, SetCond::Always);
    c.set(b"id6", point(2.0, 2.0), vec![], None, SetCond::Always);
    assert_eq!(c.spatial_len(), 1000);
    c.check();
    let q = Rect::point(Position::new(2.0, 2.0));
    let moved: Vec<_> = c.intersecting(q).collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(&**moved[0].0, b"id6");
    assert_eq!(
        c.intersecting(Rect::point(Position::new(1.0, 1.0))).count(),
        999
    );
    for i in 0..1000 {
        c.delete(format!("id{i}").as_bytes());
        if i % 97 == 0 {
            c.check();
        }
    }
    assert_eq!(c.spatial_len(), 0);
    c.check();
}

#[test]
fn exact_boxes_decide_borders() {
    // 0.1 is not an f32: the f32 box of the point reaches past 0.1.
    let mut c = Collection::new();
    c.set(b"p", point(0.1, 0.1), vec![], None, SetCond::Always);
    let just_above = Rect::new(Position::new(0.1 + 1e-12, 0.0), Position::new(1.0, 1.0));
    assert_eq!(c.intersecting(just_above).count(), 0);
    let touching = Rect::new(Position::new(0.1, 0.0), Position::new(1.0, 1.0));
    assert_eq!(c.intersecting(touching).count(), 1);
    let b = c.bounds().unwrap();
    assert_eq!(
        (b.min, b.max),
        (Position::new(0.1, 0.1), Position::new(0.1, 0.1))
    );
    let d: Vec<f64> = c
        .nearest(|r: &Rect| (r.min.x - 0.0).max(0.0))
        .map(|(d, _, _)| d)
        .collect();
    assert_eq!(d, [0.1]);
}

#[test]
fn stats_weights_match_tile38() {
    let mut c = Collection::new();
    c.set(
        b"myid",
        Value::String(b"value"[..].into()),
        vec![],
        None,
        SetCond::Always,
    );
    assert_eq!(c.weight(), 9);
    c.set(b"myid3", point(-115.0, 33.0), vec![], None, SetCond::Always);
    assert_eq!(c.weight(), 9 + 21);
}

/// A write hands back what it replaced, moved out: SET the old value and
/// deadline (and the old fields when asked to keep them and they changed),
/// FSET the old fields when asked, DELETE the whole object.
#[test]
fn writes_hand_back_what_they_replaced() {
    let mut c = Collection::new();
    let prior = |o: SetOutcome| -> Prior {
        match o {
            SetOutcome::Replaced(p) => p,
            other => panic!("not a replacement: {other:?}"),
        }
    };
    let text = |v: &Option<Value>| v.as_ref().map(Value::to_text);
    assert!(matches!(
        c.set(
            b"a",
            point(1.0, 2.0),
            field(b"5"),
            Some(10),
            SetCond::Always
        ),
        SetOutcome::Inserted
    ));
    // Fields untouched: nothing to hand back, the object keeps them.
    let p = prior(c.set_keeping_fields(b"a", point(3.0, 4.0), vec![], None, SetCond::Always, true));
    assert_eq!(text(&p.value), text(&Some(point(1.0, 2.0))));
    assert_eq!((p.expires, p.fields.is_none()), (Some(Some(10)), true));
    // Changed and kept: the old list; the object has the merged one.
    let p = prior(c.set_keeping_fields(
        b"a",
        point(3.0, 4.0),
        field(b"6"),
        None,
        SetCond::Always,
        true,
    ));
    assert_eq!(
        p.fields.expect("kept").get(b"f"),
        Some(&FieldValue::parse(b"5"))
    );
    assert_eq!(p.expires, Some(None));
    assert_eq!(
        c.get(b"a").unwrap().fields.get(b"f"),
        Some(&FieldValue::parse(b"6"))
    );
    // Changed, not kept (edited in place).
    let p = prior(c.set(b"a", point(3.0, 4.0), field(b"7"), None, SetCond::Always));
    assert!(p.fields.is_none());
    // FSET, kept and not; an unchanged field hands back nothing.
    let (n, old) = c.set_fields(b"a", field(b"8"), true).expect("exists");
    assert_eq!(
        (n, old.expect("kept").get(b"f")),
        (1, Some(&FieldValue::parse(b"7")))
    );
    assert!(matches!(
        c.set_fields(b"a", field(b"8"), true),
        Some((0, None))
    ));
    assert!(matches!(
        c.set_fields(b"a", field(b"9"), false),
        Some((1, None))
    ));
    assert!(c.set_fields(b"b", field(b"9"), true).is_none());
    assert_eq!(
        c.get(b"a").unwrap().fields.get(b"f"),
        Some(&FieldValue::parse(b"9"))
    );
    let old = c.delete(b"a").expect("deleted");
    assert_eq!(old.value.to_text(), point(3.0, 4.0).to_text());
    c.check();
}

/// A removal that takes little off a page's box leaves the box as it was
/// (loose): searches, nearest and BOUNDS still answer from the entries.
#[test]
fn a_page_left_loose_still_answers_exactly() {
    let mut c = Collection::new();
    // One page of 32 points along a line from x = 0 to x = 31.
    for i in 0..32 {
        c.set(
            format!("p{i}").as_bytes(),
            point(f64::from(i), 1.0),
            vec![],
            None,
            SetCond::Always,
        );
    }
    // The end point moves a little inward: the margin loses 1/32.
    c.set(b"p31", point(30.5, 1.0), vec![], None, SetCond::Always);
    c.check();
    let r = |x0, x1| Rect::new(Position::new(x0, 0.0), Position::new(x1, 2.0));
    let line = Rect::new(Position::new(0.0, 1.0), Position::new(30.5, 1.0));
    assert_eq!(c.bounds(), Some(line));
    assert_eq!(c.intersecting(r(30.6, 40.0)).count(), 0);
    assert_eq!(c.intersecting(r(30.0, 40.0)).count(), 2);
    // Then it leaves for far away: the box comes down to the entries.
    c.set(b"p31", point(100.0, 1.0), vec![], None, SetCond::Always);
    c.delete(b"p31");
    c.check();
    assert_eq!(c.bounds().map(|b| b.max.x), Some(30.0));
    let near: Vec<f64> = c
        .nearest(|b: &Rect| (b.min.x - 31.0).abs())
        .map(|(d, _, _)| d)
        .take(2)
        .collect();
    assert_eq!(near, [1.0, 2.0]);
}

//! One-field lists past the shared table's bound: more distinct small
//! values than it keeps (`MAX_SHARED`, 8192) still read back, compare and
//! clone exactly (the lists own their field then). Its own process, so the
//! full table affects no other test.

use tile38_geo::{FieldList, FieldValue};

#[test]
fn lists_past_the_shared_bound_keep_their_values() {
    let value = |i: u32| FieldValue::parse(format!("{i}").as_bytes());
    let lists: Vec<FieldList> = (1..=20_000u32)
        .map(|i| {
            let mut l = FieldList::new();
            l.set(b"speed", value(i));
            l
        })
        .collect();
    for (i, l) in (1..=20_000u32).zip(&lists) {
        assert_eq!(l.get(b"speed"), Some(&value(i)), "{i}");
        let mut c = l.clone();
        assert_eq!(&c, l);
        c.set(b"speed", value(i + 1));
        assert_eq!(c.get(b"speed"), Some(&value(i + 1)));
        assert_eq!(l.get(b"speed"), Some(&value(i)));
    }
}

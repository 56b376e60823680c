//! The field list's forms (shared, single, many) and its merges.

use super::super::name::MAX_NAME_LEN;
use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn set_all_is_set_one_by_one(
        start in proptest::collection::vec((0..6u8, 0..5usize), 0..8),
        ops in proptest::collection::vec((0..6u8, 0..5usize), 0..24),
    ) {
        const VALUES: [&[u8]; 5] = [b"0", b"1", b"abc", b"ABC", b"1.0"];
        let field = |(n, v): (u8, usize)| (vec![b'a' + n].into_boxed_slice(), FieldValue::parse(VALUES[v]));
        let mut one = FieldList::new();
        for f in start.iter().copied().map(field) {
            one.set(&f.0, f.1);
        }
        let mut all = one.clone();
        let expected = ops.iter().copied().map(field).filter(|(n, v)| one.set(n, v.clone())).count();
        let changed = all.set_all(ops.iter().copied().map(field).collect());
        prop_assert_eq!(changed, expected);
        prop_assert_eq!(all, one);
    }
}

#[test]
fn thin_and_shared() {
    assert_eq!(std::mem::size_of::<FieldList>(), 8);
    assert_eq!(std::mem::size_of::<Field>(), 32);
    let mut a = FieldList::new();
    let mut b = FieldList::new();
    a.set(b"speed", FieldValue::parse(b"5"));
    b.set(b"speed", FieldValue::parse(b"6"));
    let (na, nb) = (&a.fields()[0].name, &b.fields()[0].name);
    assert!(!na.is_owned() && na.0 == nb.0);
    let long = vec![b'n'; MAX_NAME_LEN + 1];
    a.set(&long, FieldValue::parse(b"1"));
    let c = a.clone();
    assert_eq!(c, a);
    assert!(c.fields()[0].name.is_owned());
    assert_eq!(c.iter().map(|(n, _)| n.len()).collect::<Vec<_>>(), [65, 5]);
    a.set(&long, FieldValue::parse(b"0"));
    assert_eq!((a.len(), c.len()), (1, 2));
    a.set(b"speed", FieldValue::parse(b"0"));
    assert!(a.is_empty() && a.ptr.is_none());
}

/// The form of a list (by its pointer's tag).
fn form(l: &FieldList) -> &'static str {
    match l.repr() {
        Repr::Empty => "empty",
        Repr::Shared(_) => "shared",
        Repr::Single(_) => "single",
        Repr::Many(_) => "many",
    }
}

#[test]
fn one_field_lists_share_small_values() {
    let one = |name: &[u8], v: &[u8]| {
        let mut l = FieldList::new();
        l.set(name, FieldValue::parse(v));
        l
    };
    let (a, b) = (one(b"speed", b"42"), one(b"speed", b"42"));
    assert_eq!((form(&a), a.ptr), ("shared", b.ptr));
    assert_ne!(one(b"speed", b"43").ptr, a.ptr);
    assert_ne!(one(b"heading", b"42").ptr, a.ptr);
    for v in [
        &b"true"[..],
        b"null",
        b"false",
        b"nan",
        b"-0",
        b"short",
        b"123456789",
    ] {
        let l = one(b"speed", v);
        assert_eq!(form(&l), "shared", "{v:?}");
        assert_eq!(l.weight(), l.weight_of_fields(), "{v:?}");
    }
    // A spelling of its own, a long string, JSON, an owned name: owned.
    let long = [b'n'; MAX_NAME_LEN + 1];
    for (n, v) in [
        (&b"speed"[..], &b"1.50"[..]),
        (b"speed", b"a string of sixteen+"),
        (b"speed", br#"{"a":1}"#),
        (&long[..], b"42"),
    ] {
        let l = one(n, v);
        assert_eq!(form(&l), "single", "{v:?}");
        assert_eq!(l.get(n), Some(&FieldValue::parse(v)));
    }
    // -0 and 0.0 are told apart from 0 bit for bit.
    assert_ne!(one(b"speed", b"-0").ptr, one(b"speed", b"0.0").ptr);
    assert_eq!(
        one(b"speed", b"-0").get(b"speed"),
        Some(&FieldValue::parse(b"-0"))
    );
    // Editing a shared list leaves the others alone.
    let mut c = a.clone();
    assert_eq!((form(&c), c.ptr), ("shared", a.ptr));
    c.set(b"speed", FieldValue::parse(b"7"));
    assert_eq!(c, one(b"speed", b"7"));
    assert_eq!(a.get(b"speed"), Some(&FieldValue::parse(b"42")));
    c.set(b"speed", FieldValue::parse(b"1.50"));
    assert_eq!(form(&c), "single");
    c.set(b"b", FieldValue::parse(b"2"));
    assert_eq!((form(&c), c.len()), ("many", 2));
    c.set(b"speed", FieldValue::parse(b"0"));
    assert_eq!(
        (form(&c), c.get(b"b")),
        ("shared", Some(&FieldValue::parse(b"2")))
    );
    c.set(b"b", FieldValue::parse(b"0"));
    assert_eq!(form(&c), "empty");
    assert!(shared::count() <= shared::MAX_SHARED);
}

proptest! {
    /// Whatever form a list takes, it holds what a map would.
    #[test]
    fn every_form_behaves_like_a_map(
        ops in proptest::collection::vec((0..3usize, 0..9usize), 0..32),
    ) {
        const VALUES: [&[u8]; 9] = [
            b"0", b"5", b"1.50", b"abc", b"a long string value", b"true", b"nan", b"-0",
            br#"[1,2]"#,
        ];
        let long = vec![b'n'; MAX_NAME_LEN + 1];
        let names: [&[u8]; 3] = [b"a", b"speed", &long];
        let mut list = FieldList::new();
        let mut model = std::collections::BTreeMap::new();
        for (n, v) in ops {
            let value = FieldValue::parse(VALUES[v]);
            list.set(names[n], value.clone());
            // `set`'s rule: zero removes, a value comparing equal (a NaN
            // compares equal to any number) changes nothing.
            if value.is_zero() {
                model.remove(names[n]);
            } else if model.get(names[n]).is_none_or(|old: &FieldValue| old.compare(&value) != Ordering::Equal) {
                model.insert(names[n].to_vec(), value);
            }
            let got: Vec<(Vec<u8>, FieldValue)> =
                list.iter().map(|(n, v)| (n.to_vec(), v.clone())).collect();
            let want: Vec<(Vec<u8>, FieldValue)> = model.clone().into_iter().collect();
            // NaN != NaN: compare the printed forms.
            prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
            let copy = list.clone();
            prop_assert_eq!(format!("{:?}", copy), format!("{:?}", list));
            prop_assert_eq!(list.len(), model.len());
        }
    }
}

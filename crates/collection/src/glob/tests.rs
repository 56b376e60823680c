//! The patterns checked against Tile38 1.37 (SCAN … MATCH, KEYS).

use super::{limits, matches, multi_limits, range, simple_matches, Range};

#[test]
fn tile38_patterns() {
    assert!(matches(b"*", b""));
    assert!(matches(b"mykey*1", b"mykey11"));
    assert!(matches(b"mykey*1", b"mykey31"));
    assert!(!matches(b"mykey*1", b"mykey310"));
    assert!(matches(b"fleet?", b"fleets"));
    assert!(!matches(b"fleet?", b"fleet"));
    assert!(matches(b"*:*", b"fleet:1"));
    assert!(matches(b"[fz]*", b"fleet"));
    assert!(matches(b"id[2-5]", b"id3"));
    assert!(!matches(b"id[2-5]", b"id6"));
    assert!(matches(b"id[^2-5]", b"id6"));
    assert!(matches(b"a?", "aé".as_bytes()));
    assert!(matches(b"a\\*", b"a*"));
    assert!(!matches(b"a\\*", b"ab"));
    assert!(!matches(b"", b"a"));
    assert!(matches(b"*b", b"myid1b"));
    assert!(matches(b"a*b", b"a/b"));
}

#[test]
fn classes_as_go_path_match() {
    // `!` is a member, not a negation.
    assert!(matches(b"*[!b]", b"a!"));
    assert!(matches(b"*[!b]", b"ab"));
    assert!(!matches(b"*[!b]", b"a"));
    // Classes hold characters, not bytes.
    assert!(matches("*[é]".as_bytes(), "aé".as_bytes()));
    assert!(matches(b"*[^b]", "é".as_bytes()));
    // A star skips bytes: the class meets the second byte of `é`.
    assert!(matches("*[^é]".as_bytes(), "é".as_bytes()));
    assert!(matches(b"*[a-\\c]", b"b"));
    assert!(matches(b"*[!]]", b"!]"));
    // Malformed: nothing matches.
    let bad = r"*[]a] *[a-] *[-a] *[ a*[ *[^]] *[a-c-] a\";
    for bad in bad.split(' ') {
        for s in ["a", "]", "a]", "-", "a[", "[", "a\\", "a-"] {
            assert!(!matches(bad.as_bytes(), s.as_bytes()), "{bad} {s}");
        }
    }
}

#[test]
fn scan_limits() {
    let l = |p: &[u8], desc| limits(p, desc);
    assert_eq!(l(b"*x", false), None);
    assert_eq!(l(b"", false), None);
    assert_eq!(l(b"?", false), Some((b"?".to_vec(), b"?".to_vec())));
    assert_eq!(
        l(b"[a-h]", true),
        Some((b"[a-h]".to_vec(), b"[a-h]".to_vec()))
    );
    assert_eq!(l(b"ab*", false), Some((b"ab".to_vec(), b"ac".to_vec())));
    assert_eq!(l(b"ab[x]", true), Some((b"ac".to_vec(), b"aa".to_vec())));
    assert_eq!(l(b"Z", false), Some((b"Z".to_vec(), b"[".to_vec())));
    assert_eq!(
        l(b"a\xff*", false),
        Some((b"a\xff".to_vec(), b"a\xff\0".to_vec()))
    );
    assert_eq!(
        l(b"a\0*", true),
        Some((b"a\x01".to_vec(), b"`\xff".to_vec()))
    );
    assert_eq!(l(b"\0*", true), Some((b"\x01".to_vec(), b"".to_vec())));
    let ps = |v: &[&[u8]]| v.iter().map(|p| p.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        multi_limits(&ps(&[b"?", b"a*"]), false),
        Some((b"?".to_vec(), b"b".to_vec()))
    );
    assert_eq!(
        multi_limits(&ps(&[b"b*", b"a*"]), true),
        Some((b"c".to_vec(), b"`".to_vec()))
    );
    assert_eq!(multi_limits(&ps(&[b"b*", b"*a"]), false), None);
    assert_eq!(multi_limits(&[], false), None);
}

#[test]
fn tidwall_match() {
    assert!(simple_matches(b"*", b""));
    assert!(simple_matches(b"a*", b"a/b"));
    assert!(simple_matches(b"a?b", b"a/b"));
    assert!(simple_matches(b"?", "é".as_bytes()));
    assert!(simple_matches(b"*[", b"a["));
    assert!(!simple_matches(b"[a-b]*", b"a"));
    assert!(simple_matches(b"a\\*", b"a*"));
    assert!(!simple_matches(b"a\\*", b"ab"));
    assert!(!simple_matches(b"a\\", b"a"));
    assert!(simple_matches(b"*b*d", b"abcbd"));
    assert!(!simple_matches(b"*b*d", b"abcbde"));
}

#[test]
fn names_ranges() {
    assert_eq!(range(b"[fz]*"), Range::Itself);
    assert_eq!(range(b"?"), Range::Itself);
    assert_eq!(range(b"id[2-5]"), Range::Prefix(b"id"));
    assert_eq!(range(b"g[h]*"), Range::Prefix(b"g"));
    assert_eq!(range(b"fleet"), Range::Prefix(b"fleet"));
    assert_eq!(range(b"*x"), Range::All);
    assert_eq!(range(b""), Range::All);
}

//! Unit tests of the property parsing and printing.

use super::*;

#[test]
fn mem_sizes() {
    assert_eq!(parse_mem_size("10mb"), Some(10 << 20));
    assert_eq!(parse_mem_size("2GB"), Some(2 << 30));
    assert_eq!(parse_mem_size("notanumber"), None);
    assert_eq!(format_mem_size(1024 << 10), "1mb");
    assert_eq!(format_mem_size(0), "");
    assert_eq!(format_mem_size(1), "1");
    // Tile38 wraps the product (`17179869184gb` is 2^64, so 0: no limit).
    assert_eq!(parse_mem_size("17179869184gb"), Some(0));
    assert_eq!(parse_mem_size("8589934592gb"), Some(1 << 63));
    assert_eq!(format_mem_size(1 << 63), "");
}

#[test]
fn set_errors() {
    let mut p = Props::default();
    assert_eq!(
        p.set("nosuchprop", "1").unwrap_err().message(),
        "Unsupported CONFIG parameter: nosuchprop"
    );
    assert_eq!(
        p.set("protected-mode", "maybe").unwrap_err().message(),
        "Invalid argument 'maybe' for CONFIG SET 'protected-mode'"
    );
    assert_eq!(
        p.set("autogc", "x").unwrap_err().message(),
        "strconv.ParseUint: parsing \"x\": invalid syntax"
    );
    p.set("protected-mode", "NO").unwrap();
    assert_eq!(p.get("protected-mode"), "no");
}

#[test]
fn connection_properties_round_trip_through_the_file() {
    let mut p = Props::default();
    assert_eq!(p.get("tcp-backlog"), "4096");
    assert_eq!(
        p.get("client-output-buffer-limit"),
        "pubsub 33554432 8388608 60"
    );
    p.set("client-output-buffer-limit", "pubsub 1mb 512kb 10")
        .unwrap();
    p.set("tcp-backlog", "511").unwrap();
    for bad in ["-1", "0", "x", "4294967296"] {
        assert!(p.set("tcp-backlog", bad).is_err(), "{bad}");
    }
    let mut obj = Map::new();
    p.to_file(&mut obj);
    assert_eq!(
        obj.get("client-output-buffer-limit"),
        Some(&json!("pubsub 1048576 524288 10"))
    );
    assert_eq!(Props::from_file(&obj), p);
    let mut obj = Map::new();
    Props::default().to_file(&mut obj);
    assert!(obj.is_empty(), "defaults are not written: {obj:?}");
}

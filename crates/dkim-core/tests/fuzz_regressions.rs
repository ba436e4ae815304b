//! Every input fuzzing found a bug with (testdata/fuzz-regressions, see its README), run again
//! through the property its fuzz target asserts (fuzz/fuzz_targets), so the bug stays fixed.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use dkim_core::record::{KeyRecord, RecordError};

fn regression(name: &str) -> Vec<u8> {
    let full: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "testdata/fuzz-regressions",
        name,
    ]
    .iter()
    .collect();
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The key_record target's property: a record that parses is written back as ASCII and parses
/// back the same.
fn assert_record_round_trips(text: &str) {
    if let Ok(record) = KeyRecord::parse(text) {
        let written = record.to_value();
        assert!(written.is_ascii(), "{written:?}");
        assert_eq!(KeyRecord::parse(&written).unwrap(), record);
    }
}

/// `h=` with a non-ASCII letter in a hash name: it was kept, and to_value wrote it back
/// non-ASCII although it promises ASCII. Such a record is outside RFC 6376 3.6.1's grammar and
/// is now refused, as 6.1.2 says.
#[test]
fn key_record_non_ascii_hash_name() {
    let input = String::from_utf8(regression("key_record-non-ascii-hash-name.txt")).unwrap();
    assert!(matches!(
        KeyRecord::parse(&input),
        Err(RecordError::BadListEntry { tag: "h", .. })
    ));
    assert_record_round_trips(&input);
}

/// The same for `s=`, and the words the grammar allows still parse.
#[test]
fn key_record_list_entries_follow_the_grammar() {
    for bad in [
        "h=sha256\u{5a9}",
        "s=e mail",
        "h=-sha256",
        "h=sha256-",
        "s=\u{e9}",
    ] {
        let text = format!("v=DKIM1; {bad}; p=");
        assert!(
            matches!(
                KeyRecord::parse(&text),
                Err(RecordError::BadListEntry { .. })
            ),
            "{text}"
        );
    }
    let good = KeyRecord::parse("v=DKIM1; h=sha1 : SHA256:x-new-hash; s=email:*; p=").unwrap();
    assert_eq!(good.hash_algorithms, ["sha1", "sha256", "x-new-hash"]);
    assert_eq!(good.service_types, ["email", "*"]);
    assert_record_round_trips("v=DKIM1; h=sha1 : SHA256:x-new-hash; s=email:*; p=");
}

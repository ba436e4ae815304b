//! Every input fuzzing found a bug with (testdata/fuzz-regressions, see its README), run again
//! through the property its fuzz target asserts (fuzz/fuzz_targets), so the bug stays fixed.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use dkim_dns::{TsigKey, TsigKeyParseError};

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

/// A TSIG key whose name ends in an escaped dot (`\.`): the target expected no name to end in
/// a dot, but a dot escaped inside the last label is no root dot. Not a library bug; kept so the
/// name keeps reading without panic, lower case, without its root dot. (The file's first byte is
/// the target's choice: no wanted name.)
#[test]
fn tsig_key_escaped_dot_at_name_end() {
    let input = regression("tsig_key-escaped-dot-at-name-end.txt");
    let text = std::str::from_utf8(&input[1..]).unwrap();
    let key = TsigKey::parse(text, None).unwrap();
    let name = key.name();
    assert_eq!(name, name.to_ascii_lowercase());
    assert!(name.ends_with("\\."), "{name:?}");
}

/// A TSIG key name with a decimal escape that stands for an upper-case letter: the text was
/// lower-cased before the escape was decoded, so name() came out with an upper-case letter
/// although it promises lower case.
#[test]
fn tsig_key_escape_makes_upper_case() {
    let input = regression("tsig_key-escape-makes-upper-case.txt");
    let text = std::str::from_utf8(&input[1..]).unwrap();
    let name = TsigKey::parse(text, None).unwrap().name();
    assert_eq!(name, name.to_ascii_lowercase());
    // BIND's quoting takes one backslash, the DNS escape `\101` the other; hickory 0.26 reads
    // it as octal (65, `A`), although RFC 1035 5.1 says decimal (`e`): either way, lower case.
    let key = "key \"\\\\101b\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };";
    let name = TsigKey::parse(key, None).unwrap().name();
    assert!(name == "ab" || name == "eb", "{name:?}");
}

/// A TSIG key named `..` (written `"\\.."`): one dot went to the trailing-dot rule and the rest
/// parsed as the root, so a key "named" the root was accepted, and name() gave `.`. Refused now.
#[test]
fn tsig_key_two_dots_name() {
    let input = regression("tsig_key-two-dots-name.txt");
    let text = std::str::from_utf8(&input[1..]).unwrap();
    assert!(matches!(
        TsigKey::parse(text, None),
        Err(TsigKeyParseError::BadKeyName { .. })
    ));
}

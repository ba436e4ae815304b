//! A DKIM key record from a DNS answer an attacker controls (their domain, their TXT), and the
//! zone-file text `record` and `testkey` read (value_from_zone_text).
//!
//! Asserts: a record that parses is written back (to_value) as ASCII, in strings of at most 255
//! bytes that join to the value, and parses back to the same record; its public key, when it has
//! one, survives the record bytes round trip; and a zone-file entry made of any value gives that
//! value back.

#![no_main]

use dkim_core::record::{KeyRecord, format_zone_entry, split_txt_value, value_from_zone_text};
use dkimkit_fuzz::check_public_key;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let value = value_from_zone_text(text);
    for candidate in [text, value.as_str()] {
        if let Ok(record) = KeyRecord::parse(candidate) {
            check_record(&record);
        }
    }
    if !text.is_empty() {
        let entry = format_zone_entry("fuzz._domainkey", text, Some("a comment; with \"quotes\""));
        assert_eq!(value_from_zone_text(&entry), text, "zone entry round trip");
    }
});

fn check_record(record: &KeyRecord) {
    let written = record.to_value();
    assert!(written.is_ascii(), "to_value promises ASCII: {written:?}");
    let strings = split_txt_value(&written);
    assert!(strings.iter().all(|s| !s.is_empty() && s.len() <= 255));
    assert_eq!(strings.concat(), written);
    let reparsed = KeyRecord::parse(&written).expect("a written record parses");
    assert_eq!(&reparsed, record, "to_value round trip");
    if let Ok(key) = record.public_key() {
        check_public_key(&key);
        assert_eq!(key.key_type(), record.key_type);
    }
}

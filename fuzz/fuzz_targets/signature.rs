//! A DKIM-Signature field from a stranger's message: the tag list, DkimSignature::parse, and
//! the field with `b=` emptied as the header hash takes it (without_signature_value).
//!
//! Asserts: every tag the tag list returns is what its range of the text holds, trimmed, with a
//! valid name and no duplicate; a parsed signature keeps RFC 6376's rules (From signed, `d=` a
//! DNS name, `i=` within `d=`, `x=` not before `t=`, `b=` and `bh=` not empty); removing `b=`
//! works on every signature that parses, empties exactly `b=`, changes nothing else, and is
//! idempotent.

#![no_main]

use dkim_core::message::HeaderField;
use dkim_core::signature::{
    DkimSignature, FIELD_NAME, identity_is_within, without_signature_value,
};
use dkim_core::tag_list::{Tag, parse_tag_list};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut raw = format!("{FIELD_NAME}:").into_bytes();
    raw.extend_from_slice(data);
    let field = HeaderField::new(raw).expect("a valid name and a colon make a field");
    let tags = std::str::from_utf8(data).ok().and_then(check_tag_list);
    let parsed = DkimSignature::parse(&field);
    let stripped = without_signature_value(&field);
    if let Ok(signature) = &parsed {
        check_signature(signature);
        assert!(stripped.is_some(), "a signature that parses can be hashed");
    }
    if let (Some(stripped), Some(tags)) = (stripped, tags) {
        check_stripped(&field, &stripped, &tags);
    }
});

/// Checks the tags against the text they came from; returns (name, value) pairs.
fn check_tag_list(text: &str) -> Option<Vec<(String, String)>> {
    let tags: Vec<Tag<'_>> = parse_tag_list(text).ok()?;
    let fws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    for (i, tag) in tags.iter().enumerate() {
        assert_eq!(text[tag.raw_value.clone()].trim_matches(fws), tag.value);
        assert!(tag.name.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert!(tags[..i].iter().all(|t| t.name != tag.name));
    }
    Some(
        tags.iter()
            .map(|t| (t.name.to_owned(), t.value.to_owned()))
            .collect(),
    )
}

fn check_signature(signature: &DkimSignature) {
    assert!(signature.signed_headers.iter().any(|h| h == "from"));
    assert!(!signature.signature.is_empty() && !signature.body_hash.is_empty());
    assert!(identity_is_within(&signature.identity, &signature.domain));
    assert_eq!(signature.domain, signature.domain.to_ascii_lowercase());
    for name in [&signature.domain, &signature.selector] {
        assert!(!name.is_empty() && name.len() <= 253 && !name.ends_with('.'));
    }
    if let (Some(t), Some(x)) = (signature.timestamp, signature.expiration) {
        assert!(x >= t);
    }
    let key_name = signature.key_name();
    assert!(key_name.ends_with(&signature.domain) && key_name.contains("._domainkey."));
}

fn check_stripped(field: &HeaderField, stripped: &HeaderField, tags: &[(String, String)]) {
    assert_eq!(stripped.name(), field.name());
    let text = std::str::from_utf8(stripped.value()).expect("removing b= keeps the text UTF-8");
    let left = parse_tag_list(text).expect("removing b= keeps the tag list valid");
    let left: Vec<(&str, &str)> = left.iter().map(|t| (t.name, t.value)).collect();
    let expected: Vec<(&str, &str)> = tags
        .iter()
        .map(|(name, value)| (name.as_str(), if name == "b" { "" } else { value.as_str() }))
        .collect();
    assert_eq!(left, expected, "only b= changes");
    assert_eq!(
        without_signature_value(stripped).as_ref(),
        Some(stripped),
        "idempotent"
    );
}

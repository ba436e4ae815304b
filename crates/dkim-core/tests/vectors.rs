//! The public DKIM test vectors (testdata/vectors, see its README): RFC 8463's example
//! reproduced byte for byte, and every vector verifying as its README states.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use dkim_core::PrivateKey;
use dkim_core::crypto::SigningKey;
use dkim_core::encoding::encode_base64;
use dkim_core::header_hash::header_hash_input;
use dkim_core::lookup::StaticLookup;
use dkim_core::message::read_header;
use dkim_core::signature::{DkimSignature, FIELD_NAME, without_signature_value};
use dkim_core::verify::{DkimResult, Reason, verify_message};

/// When every vector's signatures were valid (the vectors README).
const VECTOR_TIME: u64 = 1_667_843_664;

fn vector(path: &str) -> Vec<u8> {
    let full: PathBuf = [env!("CARGO_MANIFEST_DIR"), "testdata/vectors", path]
        .iter()
        .collect();
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// LF to CRLF, as a message on the wire has it.
fn crlf(message: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(message)
        .replace('\n', "\r\n")
        .into_bytes()
}

fn rfc8463_records() -> StaticLookup {
    let mut lookup = StaticLookup::new();
    for line in String::from_utf8(vector("rfc8463/records.txt"))
        .unwrap()
        .lines()
    {
        let (name, value) = line.split_once('\t').unwrap();
        lookup.insert(name, value);
    }
    lookup
}

#[test]
fn rfc_8463_signatures_are_reproduced_exactly() {
    let message = crlf(&vector("rfc8463/signed.eml"));
    let header = read_header(&mut &message[..]).unwrap();
    let keys = [
        ("brisbane", vector("rfc8463/brisbane.ed25519.seed")),
        ("test", vector("rfc8463/test.rsa.private")),
    ];
    let fields: Vec<_> = header.fields_named(FIELD_NAME).collect();
    assert_eq!(fields.len(), 2);
    for (field, (selector, key)) in fields.into_iter().zip(keys) {
        let signature = DkimSignature::parse(field).unwrap();
        assert_eq!(signature.selector, selector);
        assert_eq!(
            encode_base64(&signature.body_hash),
            "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
        );
        let data = header_hash_input(
            signature.canonicalization.header,
            &header.fields,
            &signature.signed_headers,
            &without_signature_value(field).unwrap(),
        );
        let key = SigningKey::new(&PrivateKey::from_file_contents(&key).unwrap()).unwrap();
        // PKCS#1 v1.5 and Ed25519 are deterministic: the same input gives the same b=.
        assert_eq!(
            encode_base64(&key.sign(&data).unwrap()),
            encode_base64(&signature.signature),
            "b= of {selector}"
        );
    }
}

#[test]
fn rfc_8463_signed_message_verifies_in_either_line_ending_style() {
    let lookup = rfc8463_records();
    for message in [
        vector("rfc8463/signed.eml"),
        crlf(&vector("rfc8463/signed.eml")),
    ] {
        let verdicts = verify_message(&mut &message[..], &lookup, VECTOR_TIME).unwrap();
        let results: Vec<_> = verdicts
            .iter()
            .map(|v| (v.result, v.selector.clone()))
            .collect();
        assert_eq!(
            results,
            [
                (DkimResult::Pass, Some("brisbane".into())),
                (DkimResult::Pass, Some("test".into()))
            ]
        );
    }
}

/// A vector file: `SELECTOR[._domainkey.DOMAIN] VALUE` lines, a blank line, the message.
fn load_verify_vector(name: &str) -> (StaticLookup, Vec<u8>) {
    let text = vector(&format!("verify/{name}"));
    let split = text.windows(2).position(|w| w == b"\n\n").unwrap();
    let mut lookup = StaticLookup::new();
    for line in String::from_utf8(text[..split].to_vec()).unwrap().lines() {
        let (name, value) = line.split_once(' ').unwrap();
        let name = if name.contains('.') {
            name.to_owned()
        } else {
            format!("{name}._domainkey.football.example.com")
        };
        lookup.insert(&name, value);
    }
    (lookup, text[split + 2..].to_vec())
}

const VERIFY_VECTORS: [&str; 7] = [
    "mail-auth-001.txt",
    "mail-auth-002.txt",
    "mail-auth-003.txt",
    "mail-auth-004.txt",
    "mail-auth-005.txt",
    "mail-auth-006.txt",
    "dkimpy-rfc6376-simple.txt",
];

#[test]
fn every_vector_signature_passes_at_its_time() {
    for name in VERIFY_VECTORS {
        let (lookup, message) = load_verify_vector(name);
        for message in [message.clone(), crlf(&message)] {
            let verdicts = verify_message(&mut &message[..], &lookup, VECTOR_TIME).unwrap();
            assert!(!verdicts.is_empty(), "{name}: no signatures found");
            for verdict in &verdicts {
                assert_eq!(verdict.result, DkimResult::Pass, "{name}: {verdict:?}");
            }
        }
    }
}

#[test]
fn an_expired_vector_fails_as_expired_today() {
    let (lookup, message) = load_verify_vector("mail-auth-005.txt");
    let today = 1_795_000_000;
    let verdicts = verify_message(&mut &message[..], &lookup, today).unwrap();
    assert!(
        verdicts
            .iter()
            .any(|v| v.result == DkimResult::Fail
                && matches!(v.reason, Some(Reason::Expired { .. })))
    );
}

//! A message file as verify-file and sign-file read it: the header section (read_header), then
//! the rest as a body through both canonicalizations and the body hasher.
//!
//! Asserts: the reader stops exactly after the header section and within its bounds; every field
//! it returns is a valid field as it stands; relaxed header canonicalization unfolds and squeezes
//! white space; body canonicalization gives the same bytes however the body is cut into pieces,
//! ends lines with CRLF, keeps no trailing blank lines, is idempotent; and the body hash is
//! SHA-256 of exactly the first `l=` canonical bytes.

#![no_main]

use std::io::Cursor;

use dkim_core::canonical::{Algorithm, BodyHasher, canonicalize_header};
use dkim_core::message::{HeaderField, MAX_HEADER_BYTES, MAX_HEADER_FIELDS, read_header};
use dkimkit_fuzz::{ALGORITHMS, canonical_body};
use libfuzzer_sys::fuzz_target;
use aws_lc_rs::digest::{SHA256, digest};

fuzz_target!(|data: &[u8]| {
    let mut reader = Cursor::new(data);
    let Ok(header) = read_header(&mut reader) else {
        return;
    };
    assert_eq!(
        reader.position(),
        header.byte_len,
        "the body starts where the header ends"
    );
    assert!(header.byte_len <= MAX_HEADER_BYTES as u64);
    assert!(header.fields.len() <= MAX_HEADER_FIELDS);
    for field in &header.fields {
        check_field(field);
    }
    let body = &data[header.byte_len as usize..];
    for algorithm in ALGORITHMS {
        check_body(algorithm, body, data.len() % 7 + 1);
    }
});

fn check_field(field: &HeaderField) {
    assert_eq!(HeaderField::new(field.raw().to_vec()).as_ref(), Some(field));
    assert!(field.raw().ends_with(field.value()));
    let mut relaxed = Vec::new();
    canonicalize_header(Algorithm::Relaxed, field, &mut relaxed);
    let name = field.name().to_ascii_lowercase();
    assert!(relaxed.starts_with(&name) && relaxed[name.len()] == b':');
    let value = &relaxed[name.len() + 1..];
    // RFC 6376 3.4.2: unfolded, WSP runs made one SP, none after the colon or at the end.
    assert!(!value.iter().any(|b| matches!(b, b'\r' | b'\n' | b'\t')));
    assert!(!value.windows(2).any(|w| w == b"  "));
    assert!(!value.starts_with(b" ") && !value.ends_with(b" "));
    let mut simple = Vec::new();
    canonicalize_header(Algorithm::Simple, field, &mut simple);
    assert_eq!(simple, field.raw());
}

fn check_body(algorithm: Algorithm, body: &[u8], piece: usize) {
    let whole = canonical_body(algorithm, body, usize::MAX);
    assert_eq!(
        canonical_body(algorithm, body, piece),
        whole,
        "{algorithm:?} in pieces of {piece}"
    );
    // Every line ends with CRLF (a lone CR is content), and trailing blank lines are gone.
    assert!(whole.is_empty() || whole.ends_with(b"\r\n"));
    assert_ne!(whole.first(), Some(&b'\n'));
    assert!((1..whole.len()).all(|i| whole[i] != b'\n' || whole[i - 1] == b'\r'));
    assert!(!whole.ends_with(b"\r\n\r\n"));
    match algorithm {
        // RFC 6376 3.4.3: an empty body is one CRLF.
        Algorithm::Simple => assert!(!whole.is_empty()),
        // RFC 6376 3.4.4: no WSP at line ends, runs made one SP; an empty body stays empty.
        Algorithm::Relaxed => {
            assert_ne!(whole, b"\r\n");
            assert!(!whole.contains(&b'\t'));
            assert!(!whole.windows(2).any(|w| w == b"  "));
            assert!(!whole.windows(3).any(|w| w == b" \r\n"));
        }
    }
    assert_eq!(
        canonical_body(algorithm, &whole, piece),
        whole,
        "idempotent"
    );

    for limit in [None, Some(whole.len() as u64 / 2)] {
        let mut hasher = BodyHasher::new(algorithm, limit);
        body.chunks(piece).for_each(|chunk| hasher.update(chunk));
        let hash = hasher.finish();
        let hashed = limit.map_or(whole.len(), |l| l as usize);
        assert_eq!(hash.canonical_len, whole.len() as u64);
        assert_eq!(hash.hashed_len, hashed as u64);
        assert_eq!(hash.digest, digest(&SHA256, &whole[..hashed]).as_ref());
    }
}

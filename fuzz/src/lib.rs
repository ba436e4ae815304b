//! What more than one fuzz target needs: how input bytes are split into a choice and a payload,
//! the canonical body of some bytes, and the keys the end-to-end target verifies and signs with.
//!
//! The keys are the RFC 8463 appendix A example (Ed25519 `brisbane`, RSA-1024 `test`, both at
//! football.example.com), the same as crates/dkim-core/testdata/vectors/rfc8463, so that the seed message
//! `signed.eml` verifies and mutations of it reach every step of verification.

use std::sync::LazyLock;

use dkim_core::canonical::{Algorithm, BodyCanonicalizer};
use dkim_core::lookup::StaticLookup;
use dkim_core::{KeyType, PublicKey};

/// Both canonicalization algorithms, for targets that try each.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::Simple, Algorithm::Relaxed];

/// The signing domain of the example keys.
pub const DOMAIN: &str = "football.example.com";
/// The selector of the Ed25519 example key.
pub const ED25519_SELECTOR: &str = "brisbane";
/// The Ed25519 example key's seed, as dkimpy writes it (RFC 8463 A.2).
pub const ED25519_SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

/// "Now" for verification: a day after the example signatures were made (t=1528637909), so
/// that time never changes a result between runs.
pub const NOW: u64 = 1_528_637_909 + 86_400;

/// The example key records (RFC 8463 A.2), as DNS would answer them.
pub static LOOKUP: LazyLock<StaticLookup> = LazyLock::new(|| {
    StaticLookup::new()
        .with(
            "brisbane._domainkey.football.example.com",
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        )
        .with(
            "test._domainkey.football.example.com",
            "v=DKIM1; g=*; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i\
             dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj\
             +PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
        )
});

/// The first byte as a choice (which variant to try), and the rest as the input proper. Empty
/// input is choice 0 and no payload.
pub fn choice_and_payload(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((choice, payload)) => (*choice, payload),
        None => (0, data),
    }
}

/// The canonical form of `body` fed to one canonicalizer in pieces of `piece` bytes (at least
/// one), so that every state the canonicalizer carries between pieces is exercised.
pub fn canonical_body(algorithm: Algorithm, body: &[u8], piece: usize) -> Vec<u8> {
    let mut canonicalizer = BodyCanonicalizer::new(algorithm);
    let mut out = Vec::new();
    for chunk in body.chunks(piece.max(1)) {
        canonicalizer.update(chunk, &mut |bytes| out.extend_from_slice(bytes));
    }
    canonicalizer.finish(&mut |bytes| out.extend_from_slice(bytes));
    out
}

/// Checks what every public key must do: its `p=` bytes read back as the same key, and an
/// Ed25519 key is 256 bits.
pub fn check_public_key(key: &PublicKey) {
    let bytes = key.to_record_bytes();
    let again = PublicKey::from_record_bytes(key.key_type(), &bytes).expect("own bytes read back");
    assert_eq!(&again, key);
    assert!(key.key_type() == KeyType::Rsa || key.bits() == 256);
}

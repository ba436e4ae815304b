//! What a new key keeps of the key it replaces: its type and size, and its record's flags.
//!
//! A rotation changes the key and nothing else a receiver or the administrator chose: a domain
//! testing DKIM (`t=y`) stays in testing, a key restricted to email (`s=email`, what
//! `opendkim-genkey -r` writes) stays restricted, `h=`, `t=s` and `n=` stay, and a 1024-bit key
//! (chosen, say, for a DNS provider's 255-byte limit) is followed by a 1024-bit key. Only the
//! command line's flags change them.

use dkim_core::key::{KeySpec, KeyType, PrivateKey, PublicKey};
use dkim_core::record::KeyRecord;

/// The type and size of the key that follows `current`: the current key's, unless `key_type`
/// or `bits` (an RSA size) say otherwise.
pub fn successor_spec(
    current: &PrivateKey,
    key_type: Option<KeyType>,
    bits: Option<usize>,
) -> KeySpec {
    match key_type.unwrap_or_else(|| current.key_type()) {
        KeyType::Ed25519 => KeySpec::Ed25519,
        KeyType::Rsa => KeySpec::Rsa {
            bits: bits.unwrap_or_else(|| match current.key_type() {
                KeyType::Rsa => current.bits(),
                // Ed25519 to RSA: no size to keep.
                KeyType::Ed25519 => dkim_core::key::RECOMMENDED_RSA_BITS,
            }),
        },
    }
}

/// The record of `new_key`, carrying the `h=`, `s=`, `t=` and `n=` of `current` (the record of
/// the key it replaces), or genkey's flags (`h=sha256`) when there is none.
pub fn successor_record(current: Option<&KeyRecord>, new_key: &PublicKey) -> KeyRecord {
    let mut record = KeyRecord::new(new_key);
    match current {
        Some(current) => {
            record.hash_algorithms = current.hash_algorithms.clone();
            record.service_types = current.service_types.clone();
            record.testing = current.testing;
            record.strict_subdomains = current.strict_subdomains;
            record.notes = current.notes.clone();
        }
        None => record.hash_algorithms = vec!["sha256".to_owned()],
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_size_are_kept_unless_asked_otherwise() {
        let ed = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        let current =
            KeyRecord::parse("v=DKIM1; h=sha256; k=ed25519; t=y:s; s=email; n=ops; p=").unwrap();
        let next = successor_record(Some(&current), &ed.public_key());
        assert_eq!(
            (next.testing, next.strict_subdomains, next.notes.as_deref()),
            (true, true, Some("ops"))
        );
        assert_eq!(next.service_types, ["email"]);
        assert_eq!(next.hash_algorithms, ["sha256"]);
        assert!(!next.is_revoked());
        let plain = successor_record(None, &ed.public_key());
        assert!(!plain.testing && plain.service_types.is_empty());
        assert_eq!(successor_spec(&ed, None, None), KeySpec::Ed25519);
        assert_eq!(
            successor_spec(&ed, Some(KeyType::Rsa), Some(3072)),
            KeySpec::Rsa { bits: 3072 }
        );
        assert_eq!(KeySpec::Rsa { bits: 1024 }.to_string(), "RSA 1024-bit");
    }
}

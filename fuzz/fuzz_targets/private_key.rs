//! Key files (PrivateKey::from_file_contents: PEM, DER, bare base64 seed) and the bytes of a
//! record's `p=` (PublicKey::from_record_bytes). Key files are the administrator's, but they are
//! often copied from elsewhere, and a broken one must be an error, never a crash.
//!
//! Asserts: a key that loads is written (to_pem) and read back as the same key; its public key
//! survives the record bytes round trip; public key bytes that load do the same.

#![no_main]

use dkim_core::{KeyType, PrivateKey, PublicKey};
use dkimkit_fuzz::check_public_key;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PrivateKey::from_file_contents(data) {
        let public = key.public_key();
        check_public_key(&public);
        let pem = key.to_pem().expect("a key that was read can be written");
        let again = PrivateKey::from_file_contents(pem.as_bytes()).expect("own PEM reads back");
        assert_eq!(again.public_key(), public);
        assert_eq!(again.bits(), key.bits());
    }
    for key_type in [KeyType::Rsa, KeyType::Ed25519] {
        if let Ok(key) = PublicKey::from_record_bytes(key_type, data) {
            assert_eq!(key.key_type(), key_type);
            check_public_key(&key);
        }
    }
});

//! verify-file end to end: any message bytes against fixed key records (the RFC 8463 example's
//! Ed25519 and RSA-1024 keys), then the same message signed by dkimkit and verified again.
//!
//! Asserts: verification never panics and gives one verdict per DKIM-Signature field, a reason
//! exactly when the result is not a pass; and any message dkimkit can sign, signed with the
//! Ed25519 key in any of the four canonicalizations, verifies with a pass on that signature.

#![no_main]

use std::io::Cursor;
use std::sync::LazyLock;

use dkim_core::PrivateKey;
use dkim_core::canonical::{Algorithm, Canonicalization};
use dkim_core::crypto::SigningKey;
use dkim_core::message::{MessageError, read_header};
use dkim_core::sign::{SignOptions, Signer, sign_message};
use dkim_core::signature::FIELD_NAME;
use dkim_core::verify::{DkimResult, verify_message};
use dkimkit_fuzz::{DOMAIN, ED25519_SEED, ED25519_SELECTOR, LOOKUP, NOW};
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<SigningKey> = LazyLock::new(|| {
    let key = PrivateKey::from_file_contents(ED25519_SEED.as_bytes()).expect("the example seed");
    SigningKey::new(&key).expect("an Ed25519 seed is a signing key")
});

fuzz_target!(|data: &[u8]| {
    let Ok(verdicts) = verify_message(&mut Cursor::new(data), &*LOOKUP, NOW) else {
        return;
    };
    let header = read_header(&mut Cursor::new(data)).expect("verification read it");
    assert_eq!(verdicts.len(), header.fields_named(FIELD_NAME).count());
    for verdict in &verdicts {
        assert_eq!(
            verdict.result == DkimResult::Pass,
            verdict.reason.is_none(),
            "{verdict:?}"
        );
    }
    sign_and_verify(data);
});

/// Signs `data` and checks that the new signature, put on top, passes.
fn sign_and_verify(data: &[u8]) {
    let algorithms = [Algorithm::Simple, Algorithm::Relaxed];
    let canonicalization = Canonicalization {
        header: algorithms[data.len() % 2],
        body: algorithms[data.len() / 2 % 2],
    };
    let signer = Signer {
        key: &KEY,
        domain: DOMAIN.parse().expect("a domain"),
        selector: ED25519_SELECTOR.parse().expect("a selector"),
        identity: None,
    };
    let options = SignOptions {
        canonicalization,
        headers: None,
        oversigned: Vec::new(),
        timestamp: NOW,
        expire_after: None,
        body_length: false,
    };
    let Ok(signed) = sign_message(&mut Cursor::new(data), &[signer], &options) else {
        return;
    };
    let style = signed.header.line_ending;
    let mut message = style.apply(&signed.fields[0]).into_bytes();
    message.extend_from_slice(style.as_bytes());
    message.extend_from_slice(data);
    match verify_message(&mut Cursor::new(&message), &*LOOKUP, NOW) {
        Ok(verdicts) => assert_eq!(verdicts[0].result, DkimResult::Pass, "{:?}", verdicts[0]),
        // The one field more may cross a bound the message was just under.
        Err(MessageError::TooManyFields | MessageError::HeaderTooLarge) => {}
        Err(e) => panic!("a message dkimkit signed does not read back: {e}"),
    }
}

//! Verification (RFC 6376 6): one result per DKIM-Signature field, named as RFC 8601 names
//! them, with the reason in words. A failing signature is a result, not an error: the only
//! errors are a message that cannot be read at all.
//!
//! Every signature's key is fetched first; then the body is read once, through one hasher per
//! distinct (body canonicalization, `l=`) pair, so the cost of a message does not grow with its
//! number of signatures.

use std::fmt;
use std::io::{self, BufRead};
use std::sync::Arc;

use crate::canonical::{Algorithm, BodyHasher};
use crate::crypto::SigningAlgorithm;
use crate::encoding::encode_base64;
use crate::header_hash::header_hash_input;
use crate::key::MIN_RSA_BITS;
use crate::key_check::{KeyProblem, record_problems};
use crate::lookup::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};
use crate::message::{MessageError, MessageHeader, read_header};
use crate::prepared_key::{PreparedKey, PreparedKeys};
use crate::signature::{DkimSignature, SignatureError, identity_domain, without_signature_value};

/// The most signatures checked in one message; more are reported as not checked, so a message
/// with a thousand signatures costs no more than one with a few.
pub const MAX_CHECKED_SIGNATURES: usize = 16;

/// A DKIM result, as RFC 8601 2.7.1 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DkimResult {
    /// The signature verifies.
    Pass,
    /// The signature does not verify.
    Fail,
    /// The signature could not be processed.
    Neutral,
    /// The signature is not acceptable to this verifier.
    Policy,
    /// A temporary failure (DNS): trying later may give another result.
    TempError,
    /// A permanent error: the signature or its key record is unusable.
    PermError,
}

impl DkimResult {
    /// The RFC 8601 name.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimResult::Pass => "pass",
            DkimResult::Fail => "fail",
            DkimResult::Neutral => "neutral",
            DkimResult::Policy => "policy",
            DkimResult::TempError => "temperror",
            DkimResult::PermError => "permerror",
        }
    }
}

impl fmt::Display for DkimResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The body was changed (or `l=` cuts it differently).
    BodyHashMismatch,
    /// The signed header fields were changed, or the key does not match.
    SignatureMismatch,
    /// The signature field is malformed.
    Malformed(SignatureError),
    /// rsa-sha1 (RFC 8301 3.1).
    Sha1Refused,
    /// `x=` is past.
    Expired {
        /// `x=`.
        at: u64,
    },
    /// `l=` is longer than the body.
    BodyLengthBeyondBody {
        /// `l=`.
        length: u64,
        /// The canonical body length.
        body: u64,
    },
    /// The key record could not be fetched, or is not one to verify this signature with
    /// (RFC 6376 6.1.2).
    Key(KeyProblem),
    /// The record has `t=s` and `i=` is in a subdomain of `d=`.
    SubdomainNotAllowed,
    /// Past [`MAX_CHECKED_SIGNATURES`].
    NotChecked,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::BodyHashMismatch => f.write_str("body hash mismatch: the body was changed"),
            Reason::SignatureMismatch => f.write_str(
                "signature mismatch: a signed header field was changed, or the key does not match",
            ),
            Reason::Malformed(e) => write!(f, "malformed signature: {e}"),
            Reason::Sha1Refused => f.write_str("rsa-sha1 is not accepted (RFC 8301)"),
            Reason::Expired { at } => write!(f, "signature expired (x={at})"),
            Reason::BodyLengthBeyondBody { length, body } => {
                write!(f, "l={length} is longer than the body ({body} bytes)")
            }
            Reason::Key(problem) => match problem {
                KeyProblem::Lookup(e) if e.is_temporary() => write!(f, "DNS failure: {e}"),
                KeyProblem::Lookup(e) => write!(f, "no key record: {e}"),
                KeyProblem::Malformed(e) => write!(f, "invalid key record: {e}"),
                KeyProblem::Revoked => f.write_str("key revoked (empty p= in the key record)"),
                // rsa-sha1 is refused before its key is fetched, so the signature's algorithm
                // is its key type's sha256 one.
                KeyProblem::KeyTypeMismatch {
                    published,
                    expected,
                } => write!(
                    f,
                    "the key record has k={published}, which cannot verify {expected}-sha256"
                ),
                KeyProblem::HashExcludesSha256 => {
                    f.write_str("the key record's h= does not allow sha256")
                }
                KeyProblem::NotForEmail => f.write_str("the key record's s= does not allow email"),
                KeyProblem::TooSmall { bits } => write!(
                    f,
                    "{bits}-bit RSA key is below the {MIN_RSA_BITS} bits RFC 8301 requires"
                ),
            },
            Reason::SubdomainNotAllowed => {
                f.write_str("the key record has t=s, but i= is in a subdomain of d=")
            }
            Reason::NotChecked => write!(
                f,
                "not checked: the message has more than {MAX_CHECKED_SIGNATURES} signatures"
            ),
        }
    }
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureVerdict {
    /// The result.
    pub result: DkimResult,
    /// Why it is not a pass.
    pub reason: Option<Reason>,
    /// `d=`, if the field could be read that far.
    pub domain: Option<String>,
    /// `s=`.
    pub selector: Option<String>,
    /// `a=`.
    pub algorithm: Option<SigningAlgorithm>,
    /// `i=`.
    pub identity: Option<String>,
    /// The first characters of `b=`, which tell signatures apart (RFC 6008).
    pub signature_prefix: Option<String>,
    /// The key record has `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// What DNSSEC said about the key record, when it was looked up with validation (None for
    /// keys given on the command line, lookups without validation, or no key at all).
    pub dnssec: Option<DnssecStatus>,
}

impl SignatureVerdict {
    fn new(signature: Option<&DkimSignature>) -> Self {
        SignatureVerdict {
            result: DkimResult::Pass,
            reason: None,
            domain: signature.map(|s| s.domain.clone()),
            selector: signature.map(|s| s.selector.clone()),
            algorithm: signature.map(|s| s.algorithm),
            identity: signature.map(|s| s.identity.clone()),
            signature_prefix: signature
                .map(|s| encode_base64(&s.signature).chars().take(8).collect()),
            testing: false,
            dnssec: None,
        }
    }

    fn with(mut self, result: DkimResult, reason: Reason) -> Self {
        self.result = result;
        self.reason = Some(reason);
        self
    }
}

/// A signature waiting for the body.
struct PendingSignature {
    index: usize,
    signature: DkimSignature,
    key: Arc<PreparedKey>,
    hasher: usize,
}

/// Verifies every DKIM-Signature of the message `reader` holds, as of `now` (Unix seconds),
/// fetching keys through `lookup`. Results come in the order of the fields, top first. For a
/// batch, [`Verifier`] parses each key record once instead of once per message.
pub fn verify_message(
    reader: &mut impl BufRead,
    lookup: &dyn KeyLookup,
    now: u64,
) -> Result<Vec<SignatureVerdict>, MessageError> {
    Verifier::new(lookup).verify_message(reader, now)
}

/// Verifies many messages with keys fetched through one lookup, parsing each key record once:
/// share one among the threads verifying a batch.
pub struct Verifier<'a> {
    lookup: &'a dyn KeyLookup,
    keys: PreparedKeys,
}

impl<'a> Verifier<'a> {
    /// A verifier fetching keys through `lookup`.
    pub fn new(lookup: &'a dyn KeyLookup) -> Self {
        Verifier {
            lookup,
            keys: PreparedKeys::default(),
        }
    }

    /// [`verify_message`], with the key records this verifier has parsed already.
    pub fn verify_message(
        &self,
        reader: &mut impl BufRead,
        now: u64,
    ) -> Result<Vec<SignatureVerdict>, MessageError> {
        verify_with(reader, self.lookup, &self.keys, now)
    }
}

fn verify_with(
    reader: &mut impl BufRead,
    lookup: &dyn KeyLookup,
    keys: &PreparedKeys,
    now: u64,
) -> Result<Vec<SignatureVerdict>, MessageError> {
    let header = read_header(reader)?;
    let mut verdicts = Vec::new();
    let mut pending = Vec::new();
    let mut hashers: Vec<BodyHasher> = Vec::new();
    let mut hasher_keys: Vec<(Algorithm, Option<u64>)> = Vec::new();
    for (index, field) in header
        .fields_named(crate::signature::FIELD_NAME)
        .enumerate()
    {
        if index >= MAX_CHECKED_SIGNATURES {
            verdicts
                .push(SignatureVerdict::new(None).with(DkimResult::Neutral, Reason::NotChecked));
            continue;
        }
        let signature = match DkimSignature::parse(field) {
            Ok(signature) => signature,
            Err(e) => {
                verdicts.push(
                    SignatureVerdict::new(None).with(DkimResult::PermError, Reason::Malformed(e)),
                );
                continue;
            }
        };
        let mut verdict = SignatureVerdict::new(Some(&signature));
        match check_before_body(&signature, lookup, keys, now, &mut verdict.dnssec) {
            Err((result, reason)) => verdicts.push(verdict.with(result, reason)),
            Ok((key, testing)) => {
                verdicts.push(SignatureVerdict { testing, ..verdict });
                let hasher_key = (signature.canonicalization.body, signature.body_length);
                let hasher = hasher_keys
                    .iter()
                    .position(|k| *k == hasher_key)
                    .unwrap_or_else(|| {
                        hasher_keys.push(hasher_key);
                        hashers.push(BodyHasher::new(hasher_key.0, hasher_key.1));
                        hashers.len() - 1
                    });
                pending.push(PendingSignature {
                    index,
                    signature,
                    key,
                    hasher,
                });
            }
        }
    }
    if pending.is_empty() {
        return Ok(verdicts);
    }
    read_body(reader, &mut hashers)?;
    let body_hashes: Vec<_> = hashers.into_iter().map(BodyHasher::finish).collect();
    for pending in pending {
        let verdict = &mut verdicts[pending.index];
        let outcome = check_hashes(&header, &pending, &body_hashes[pending.hasher]);
        if let Err((result, reason)) = outcome {
            verdict.result = result;
            verdict.reason = Some(reason);
        }
    }
    Ok(verdicts)
}

/// Hashes the rest of the message straight from the reader's buffer: no copy, and no buffer of
/// our own to allocate per message (a message already in memory is hashed in one piece).
fn read_body(reader: &mut impl BufRead, hashers: &mut [BodyHasher]) -> io::Result<()> {
    loop {
        let piece = match reader.fill_buf() {
            Ok([]) => return Ok(()),
            Ok(piece) => piece,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hashers.iter_mut().for_each(|h| h.update(piece));
        let consumed = piece.len();
        reader.consume(consumed);
    }
}

/// Everything that can be decided before the body is read: the algorithm, the expiry, then the
/// key (RFC 6376 6.1.1, 6.1.2). Returns the key and whether its record says the domain is
/// testing; sets `dnssec` to what DNSSEC said of the record (also when the key is refused).
fn check_before_body(
    signature: &DkimSignature,
    lookup: &dyn KeyLookup,
    keys: &PreparedKeys,
    now: u64,
    dnssec: &mut Option<DnssecStatus>,
) -> Result<(Arc<PreparedKey>, bool), (DkimResult, Reason)> {
    if signature.algorithm == SigningAlgorithm::RsaSha1 {
        return Err((DkimResult::Fail, Reason::Sha1Refused));
    }
    if let Some(at) = signature.expiration.filter(|x| *x < now) {
        return Err((DkimResult::Fail, Reason::Expired { at }));
    }
    let answer = lookup.lookup_txt(&signature.key_name()).map_err(|e| {
        if matches!(e, LookupError::Bogus { .. }) {
            *dnssec = Some(DnssecStatus::Bogus);
        }
        let result = if e.is_temporary() {
            DkimResult::TempError
        } else {
            DkimResult::PermError
        };
        (result, Reason::Key(KeyProblem::Lookup(e)))
    })?;
    // Only a lookup that validated gives a reason; a status without one was never judged.
    *dnssec = answer.dnssec_reason.is_some().then_some(answer.dnssec);
    let key = check_key(signature, &answer, keys)?;
    let testing = key.record.testing;
    Ok((key, testing))
}

/// The key `answer` gives for `signature`, checked against it (RFC 6376 6.1.2).
fn check_key(
    signature: &DkimSignature,
    answer: &TxtAnswer,
    keys: &PreparedKeys,
) -> Result<Arc<PreparedKey>, (DkimResult, Reason)> {
    let permanent = |problem| (DkimResult::PermError, Reason::Key(problem));
    let mut first_error = None;
    let prepared = answer.records.iter().find_map(|text| match keys.get(text) {
        Ok(prepared) => Some(prepared),
        Err(e) => {
            first_error.get_or_insert(e);
            None
        }
    });
    let prepared = prepared.ok_or_else(|| {
        permanent(match first_error {
            Some(e) => KeyProblem::Malformed(Arc::new(e)),
            None => KeyProblem::Lookup(LookupError::NoRecords {
                name: signature.key_name(),
            }),
        })
    })?;
    let record = &prepared.record;
    let key_type = signature.algorithm.key_type();
    if let Some(problem) = record_problems(record, &prepared.key, key_type)
        .into_iter()
        .next()
    {
        return Err(permanent(problem));
    }
    // t=s: i= must be in exactly d=, not a subdomain (RFC 6376 3.6.1).
    if record.strict_subdomains && identity_domain(&signature.identity) != signature.domain {
        return Err((DkimResult::PermError, Reason::SubdomainNotAllowed));
    }
    if let Err(e) = &prepared.verifying {
        return Err(permanent(KeyProblem::Malformed(Arc::clone(e))));
    }
    Ok(prepared)
}

/// The checks that need the body hash (RFC 6376 6.1.3).
fn check_hashes(
    header: &MessageHeader,
    pending: &PendingSignature,
    body_hash: &crate::canonical::BodyHash,
) -> Result<(), (DkimResult, Reason)> {
    let signature = &pending.signature;
    if let Some(length) = signature
        .body_length
        .filter(|l| *l > body_hash.canonical_len)
    {
        return Err((
            DkimResult::PermError,
            Reason::BodyLengthBeyondBody {
                length,
                body: body_hash.canonical_len,
            },
        ));
    }
    if body_hash.digest != signature.body_hash {
        return Err((DkimResult::Fail, Reason::BodyHashMismatch));
    }
    let field = header
        .fields_named(crate::signature::FIELD_NAME)
        .nth(pending.index)
        .and_then(without_signature_value)
        .ok_or((DkimResult::PermError, Reason::SignatureMismatch))?;
    let data = header_hash_input(
        signature.canonicalization.header,
        &header.fields,
        &signature.signed_headers,
        &field,
    );
    let verifies = pending
        .key
        .verifying
        .as_ref()
        .is_ok_and(|key| key.verify(signature.algorithm, &data, &signature.signature));
    if verifies {
        Ok(())
    } else {
        Err((DkimResult::Fail, Reason::SignatureMismatch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::key::{KeySpec, KeyType, PrivateKey};
    use crate::lookup::StaticLookup;
    use crate::record::KeyRecord;
    use crate::sign::{SignOptions, Signer, sign_message};

    const MESSAGE: &str = "From: Joe <joe@example.com>\r\nTo: Suzie <suzie@example.net>\r\nSubject: dinner\r\nReceived: by relay\r\n\r\nIs dinner ready?\r\n";

    fn options(canonicalization: &str) -> SignOptions {
        SignOptions {
            canonicalization: canonicalization.parse().unwrap(),
            headers: None,
            oversigned: Vec::new(),
            timestamp: 1_700_000_000,
            expire_after: None,
            body_length: false,
        }
    }

    /// Signs `message` with a fresh key; returns the signed message and the key's record.
    fn signed(message: &str, spec: KeySpec, options: &SignOptions) -> (String, KeyRecord) {
        signed_with(&PrivateKey::generate(spec).unwrap(), message, options)
    }

    /// Signs `message` with `key`; returns the signed message and the key's record.
    fn signed_with(key: &PrivateKey, message: &str, options: &SignOptions) -> (String, KeyRecord) {
        let signing_key = SigningKey::new(key).unwrap();
        let signer = Signer {
            key: &signing_key,
            domain: "example.com".parse().unwrap(),
            selector: "sel".parse().unwrap(),
            identity: None,
        };
        let signatures = sign_message(&mut message.as_bytes(), &[signer], options).unwrap();
        let signed = format!("{}\r\n{message}", signatures.fields[0]);
        (signed, KeyRecord::new(&key.public_key()))
    }

    fn verify_with(message: &str, record: &str) -> SignatureVerdict {
        let mut lookup = StaticLookup::new();
        lookup.insert("sel._domainkey.example.com", record);
        let mut verdicts = verify_message(&mut message.as_bytes(), &lookup, 1_700_000_100).unwrap();
        assert_eq!(verdicts.len(), 1);
        verdicts.remove(0)
    }

    #[test]
    fn signs_and_verifies_in_every_canonicalization_and_key_type() {
        for c in [
            "simple/simple",
            "simple/relaxed",
            "relaxed/simple",
            "relaxed/relaxed",
        ] {
            for spec in [
                KeySpec::Rsa { bits: 1024 },
                KeySpec::Rsa { bits: 2048 },
                KeySpec::Ed25519,
            ] {
                let (message, record) = signed(MESSAGE, spec, &options(c));
                let verdict = verify_with(&message, &record.to_value());
                assert_eq!(
                    (verdict.result, &verdict.reason),
                    (DkimResult::Pass, &None),
                    "{c} {spec:?}"
                );
            }
        }
    }

    #[test]
    fn tampering_is_caught_with_the_right_reason() {
        let (message, record) = signed(MESSAGE, KeySpec::Ed25519, &options("relaxed/relaxed"));
        let record = record.to_value();
        let body = verify_with(&message.replace("dinner ready", "dinner burnt"), &record);
        assert_eq!(
            (body.result, body.reason),
            (DkimResult::Fail, Some(Reason::BodyHashMismatch))
        );
        let subject = verify_with(
            &message.replace("Subject: dinner", "Subject: lunch"),
            &record,
        );
        assert_eq!(
            (subject.result, subject.reason),
            (DkimResult::Fail, Some(Reason::SignatureMismatch))
        );
        let unsigned = verify_with(&message.replace("by relay", "by another relay"), &record);
        assert_eq!(unsigned.result, DkimResult::Pass);
        let relaxed_only = verify_with(
            &message.replace("Subject: dinner", "subject:   dinner  "),
            &record,
        );
        assert_eq!(
            relaxed_only.result,
            DkimResult::Pass,
            "relaxed tolerates refolding"
        );
        let second_from = verify_with(
            &message.replace("To: ", "From: evil@example.org\r\nTo: "),
            &record,
        );
        assert_eq!(second_from.result, DkimResult::Fail, "From is oversigned");
    }

    #[test]
    fn key_records_that_must_not_verify() {
        let (message, record) = signed(
            MESSAGE,
            KeySpec::Rsa { bits: 1024 },
            &options("relaxed/relaxed"),
        );
        let value = record.to_value();
        let p = value.rsplit_once("p=").unwrap().1;
        let cases: Vec<(String, DkimResult, Reason)> = vec![
            (
                "v=DKIM1; k=rsa; p=".into(),
                DkimResult::PermError,
                Reason::Key(KeyProblem::Revoked),
            ),
            (
                format!("v=DKIM1; k=ed25519; p={p}"),
                DkimResult::PermError,
                Reason::Key(KeyProblem::KeyTypeMismatch {
                    published: KeyType::Ed25519,
                    expected: KeyType::Rsa,
                }),
            ),
            (
                format!("v=DKIM1; h=sha1; p={p}"),
                DkimResult::PermError,
                Reason::Key(KeyProblem::HashExcludesSha256),
            ),
            (
                format!("v=DKIM1; s=other; p={p}"),
                DkimResult::PermError,
                Reason::Key(KeyProblem::NotForEmail),
            ),
        ];
        for (record, result, reason) in cases {
            let verdict = verify_with(&message, &record);
            assert_eq!(
                (verdict.result, verdict.reason),
                (result, Some(reason)),
                "{record}"
            );
        }
        // The words name the signature's algorithm, which the problem gives as a key type.
        let mismatch = verify_with(&message, &format!("v=DKIM1; k=ed25519; p={p}"));
        let said = mismatch.reason.unwrap().to_string();
        assert!(
            said.contains("k=ed25519, which cannot verify rsa-sha256"),
            "{said}"
        );
        let testing = verify_with(&message, &format!("v=DKIM1; t=y; p={p}"));
        assert_eq!((testing.result, testing.testing), (DkimResult::Pass, true));
        let broken = verify_with(&message, "v=DKIM1; p=AAAA");
        assert!(
            matches!(broken.reason, Some(Reason::Key(KeyProblem::Malformed(_)))),
            "{broken:?}"
        );
        let mut lookup = StaticLookup::new();
        lookup.insert("other._domainkey.example.com", value.as_str());
        let missing = verify_message(&mut message.as_bytes(), &lookup, 0).unwrap();
        assert!(matches!(
            missing[0].reason,
            Some(Reason::Key(KeyProblem::Lookup(
                LookupError::NoSuchName { .. }
            )))
        ));
    }

    #[test]
    fn a_512_bit_key_is_refused() {
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 512).unwrap();
        let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&small).unwrap();
        let key = PrivateKey::from_file_contents(der.as_bytes()).unwrap();
        let (message, record) = signed_with(&key, MESSAGE, &options("relaxed"));
        let verdict = verify_with(&message, &record.to_value());
        assert_eq!(
            (verdict.result, verdict.reason),
            (
                DkimResult::PermError,
                Some(Reason::Key(KeyProblem::TooSmall { bits: 512 }))
            )
        );
    }

    #[test]
    fn body_length_signs_a_prefix_and_must_not_exceed_the_body() {
        let mut with_length = options("relaxed/relaxed");
        with_length.body_length = true;
        let (message, record) = signed(MESSAGE, KeySpec::Ed25519, &with_length);
        assert!(message.contains("l=18;"), "{message}");
        let record = record.to_value();
        let appended = verify_with(&format!("{message}appended by a list\r\n"), &record);
        assert_eq!(
            appended.result,
            DkimResult::Pass,
            "l= covers only what was signed"
        );
        let cut = verify_with(&message.replace("Is dinner ready?\r\n", "Is\r\n"), &record);
        assert!(
            matches!(
                cut.reason,
                Some(Reason::BodyLengthBeyondBody {
                    length: 18,
                    body: 4
                })
            ),
            "{cut:?}"
        );
    }

    #[test]
    fn expiry_and_empty_bodies() {
        let mut expiring = options("simple/simple");
        expiring.expire_after = Some(50);
        let (message, record) = signed("From: a@example.com\r\n\r\n", KeySpec::Ed25519, &expiring);
        let verdict = verify_with(&message, &record.to_value());
        assert_eq!(
            (verdict.result, verdict.reason),
            (
                DkimResult::Fail,
                Some(Reason::Expired { at: 1_700_000_050 })
            )
        );
        let (no_body, record) = signed(
            "From: a@example.com",
            KeySpec::Ed25519,
            &options("relaxed/relaxed"),
        );
        assert_eq!(
            verify_with(&no_body, &record.to_value()).result,
            DkimResult::Pass
        );
    }

    #[test]
    fn many_signatures_are_bounded() {
        let (message, record) = signed(MESSAGE, KeySpec::Ed25519, &options("relaxed/relaxed"));
        let field_end = message.find("\r\nFrom:").unwrap() + 2;
        let many = format!("{}{message}", message[..field_end].repeat(999));
        let mut lookup = StaticLookup::new();
        lookup.insert("sel._domainkey.example.com", record.to_value());
        let verdicts = verify_message(&mut many.as_bytes(), &lookup, 1_700_000_100).unwrap();
        assert_eq!(verdicts.len(), 1000);
        assert!(
            verdicts[..MAX_CHECKED_SIGNATURES]
                .iter()
                .all(|v| v.result == DkimResult::Pass)
        );
        assert!(
            verdicts[MAX_CHECKED_SIGNATURES..]
                .iter()
                .all(|v| v.reason == Some(Reason::NotChecked))
        );
    }
}

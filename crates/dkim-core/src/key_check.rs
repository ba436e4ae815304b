//! The checks a published key must pass: what `testkey` reports after a record is published,
//! and what CI runs over every key each night.
//!
//! Each check gives a finding with a severity and, for everything that is not fine, what to do
//! about it; the report's outcome is the worst finding. A temporary DNS failure is kept apart
//! from a real problem, so that CI can retry rather than page someone.

use std::fmt;
use std::sync::Arc;

use crate::key::{KeyType, MIN_RSA_BITS, PrivateKey, PublicKey, RECOMMENDED_RSA_BITS};
use crate::lookup::{DnssecStatus, KeyLookup, LookupError};
use crate::name::{DomainName, Selector, key_name};
use crate::record::{KeyRecord, RecordError};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Warning,
    /// Could not be checked for now (DNS timeout, SERVFAIL): try again later.
    Temporary,
    /// Mail signed with this key will fail, or the record is not what it should be.
    Error,
}

impl Severity {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Temporary => "temporary failure",
            Severity::Error => "error",
        }
    }
}

/// Why receivers refuse a published key record, or could not read it: the rules of RFC 6376
/// 3.6.1 and 6.1.2 and RFC 8301 3.2, which verifying applies to a signature's key and testkey to
/// a published one. The words here are testkey's; a verifier's reason words them for a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The record could not be looked up (NXDOMAIN, no TXT, a CNAME to nowhere, DNS failure,
    /// DNSSEC validation failure).
    Lookup(LookupError),
    /// The record does not parse as a DKIM key record, or its key is not a valid key. Shared,
    /// as a verifier keeps each record's parse for every message signed with it.
    Malformed(Arc<RecordError>),
    /// `p=` is empty.
    Revoked,
    /// The record's key type is not the one wanted: the private key's, or the signature's.
    KeyTypeMismatch {
        /// `k=` of the record.
        published: KeyType,
        /// The type of the private key, or of the signature's algorithm.
        expected: KeyType,
    },
    /// `h=` rules out sha256.
    HashExcludesSha256,
    /// `s=` rules out email.
    NotForEmail,
    /// An RSA key under RFC 8301's minimum: receivers refuse it.
    TooSmall {
        /// Its size.
        bits: usize,
    },
}

impl KeyProblem {
    /// What to do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            KeyProblem::Lookup(LookupError::NoSuchName { .. } | LookupError::NoRecords { .. }) => {
                "publish the record (SELECTOR.txt, beside the private key) in the domain's zone; \
                 if it was just published, wait for the zone to reach every name server"
            }
            KeyProblem::Lookup(LookupError::DanglingCname { .. }) => {
                "the selector is a CNAME: publish the record at its target, or fix the CNAME"
            }
            KeyProblem::Lookup(LookupError::Bogus { .. }) => {
                "validating receivers will not use this key until that is fixed"
            }
            KeyProblem::Lookup(e) if e.is_temporary() => {
                "the name server did not answer usefully; try again later, or check that server"
            }
            KeyProblem::Lookup(_) => "check the name and the name server",
            KeyProblem::Malformed(_) => "publish the record again as generated with the key",
            KeyProblem::Revoked => {
                "the key is withdrawn on purpose (empty p=); sign with another selector"
            }
            KeyProblem::KeyTypeMismatch { .. } => KEY_MISMATCH_ADVICE,
            KeyProblem::HashExcludesSha256 => "remove h= or set h=sha256 (RFC 8301)",
            KeyProblem::NotForEmail => "remove s= or set s=email",
            KeyProblem::TooSmall { .. } => {
                "make a new key of 2048 bits and publish it under a new selector"
            }
        }
    }
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The report names the key already; its lookup error would name it again.
            KeyProblem::Lookup(e) => {
                let text = e.to_string();
                let prefix = format!("{}: ", e.name());
                f.write_str(text.strip_prefix(&prefix).unwrap_or(&text))
            }
            KeyProblem::Malformed(why) => {
                write!(f, "the record is not a valid DKIM key record: {why}")
            }
            KeyProblem::Revoked => f.write_str("the key is revoked (empty p=)"),
            KeyProblem::KeyTypeMismatch {
                published,
                expected,
            } => write!(
                f,
                "the record publishes a k={published} key, but the private key is {expected}"
            ),
            KeyProblem::HashExcludesSha256 => f.write_str("the record's h= does not allow sha256"),
            KeyProblem::NotForEmail => f.write_str("the record's s= does not allow email"),
            KeyProblem::TooSmall { bits } => write!(
                f,
                "the key has {bits} bits; receivers refuse RSA keys under {MIN_RSA_BITS} bits (RFC 8301)"
            ),
        }
    }
}

/// The problems receivers find in `record`, whose public key is `key` (its
/// [`KeyRecord::public_key`]), used for a key of type `key_type`: the tags first, then the key
/// `p=` holds, which is not looked at once `k=` rules the record out (RFC 6376 3.6.1, 6.1.2;
/// RFC 8301 3.2). A verifier gives the first as its reason; testkey reports them all.
pub(crate) fn record_problems(
    record: &KeyRecord,
    key: &Result<PublicKey, Arc<RecordError>>,
    key_type: KeyType,
) -> Vec<KeyProblem> {
    let tags = [
        (!record.allows_sha256()).then_some(KeyProblem::HashExcludesSha256),
        (!record.allows_email()).then_some(KeyProblem::NotForEmail),
    ];
    let key = match key {
        _ if record.key_type != key_type => Some(KeyProblem::KeyTypeMismatch {
            published: record.key_type,
            expected: key_type,
        }),
        Err(e) if **e == RecordError::Revoked => Some(KeyProblem::Revoked),
        Err(e) => Some(KeyProblem::Malformed(Arc::clone(e))),
        Ok(key) if key.key_type() == KeyType::Rsa && key.bits() < MIN_RSA_BITS => {
            Some(KeyProblem::TooSmall { bits: key.bits() })
        }
        Ok(_) => None,
    };
    tags.into_iter().chain([key]).flatten().collect()
}

/// What to do about a record that does not publish the private key.
const KEY_MISMATCH_ADVICE: &str =
    "publish the record of this private key, or sign with the private key that matches the record";

/// Something testkey found about a published key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A reason receivers refuse the record, or could not read it.
    Key(KeyProblem),
    /// No record at the name, but one at the name with the domain written twice
    /// (`SELECTOR._domainkey.example.com.example.com`): a zone file that names the record in
    /// full without the trailing dot, so the zone's origin was appended (RFC 1035 5.1).
    DoubledName {
        /// Where the record is.
        found_at: String,
        /// Where it should be.
        expected_at: String,
    },
    /// More than one TXT record at the name: receivers may pick either.
    SeveralRecords {
        /// How many.
        count: usize,
    },
    /// The published key is not the private key's public key.
    KeyMismatch,
    /// An RSA key under 2048 bits: accepted, but RFC 8301 recommends 2048.
    Weak {
        /// Its size.
        bits: usize,
    },
    /// `t=y`: the domain says it is testing DKIM.
    TestMode,
    /// DNSSEC validation was asked for, but the chain of trust to the record could not be
    /// followed; the record is used as it came.
    DnssecNotValidated {
        /// Where the chain could not be followed, from what was seen.
        reason: String,
    },
}

impl Finding {
    /// How bad it is.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Key(KeyProblem::Lookup(e)) if e.is_temporary() => Severity::Temporary,
            Finding::Weak { .. } | Finding::TestMode | Finding::DnssecNotValidated { .. } => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }

    /// What to do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            Finding::Key(problem) => problem.advice(),
            Finding::DoubledName { .. } => {
                "end that name with a dot (SELECTOR._domainkey.DOMAIN.) or write it relative \
                 (SELECTOR._domainkey)"
            }
            Finding::SeveralRecords { .. } => {
                "keep exactly one TXT record at the name: receivers may use either"
            }
            Finding::KeyMismatch => KEY_MISMATCH_ADVICE,
            Finding::Weak { .. } => "use 2048 bits or more for the next key (RFC 8301)",
            Finding::TestMode => {
                "receivers treat the domain as testing DKIM; remove t=y once mail verifies"
            }
            Finding::DnssecNotValidated { .. } => {
                "to validate, ask a validating resolver, or give the zone's own key-signing key \
                 (its K*.key, or `dig DNSKEY` output) as a trust anchor"
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Key(problem) => problem.fmt(f),
            Finding::DoubledName {
                found_at,
                expected_at,
            } => write!(
                f,
                "the record is published at {found_at}, not at {expected_at}: the zone file names \
                 it in full without the trailing dot, so the zone's name was added again"
            ),
            Finding::SeveralRecords { count } => write!(f, "{count} TXT records at the name"),
            Finding::KeyMismatch => f.write_str("the published key does not match the private key"),
            Finding::Weak { bits } => write!(
                f,
                "the key has {bits} bits; RFC 8301 recommends {RECOMMENDED_RSA_BITS}"
            ),
            Finding::TestMode => f.write_str("the record has t=y (testing mode)"),
            Finding::DnssecNotValidated { reason } => {
                write!(f, "DNSSEC not validated: {reason}")
            }
        }
    }
}

/// Everything found about one published key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// `SELECTOR._domainkey.DOMAIN`.
    pub name: String,
    /// The record found, strings joined.
    pub record: Option<String>,
    /// CNAMEs followed to reach it.
    pub cname_chain: Vec<String>,
    /// What DNSSEC said, when the lookup answered.
    pub dnssec: Option<DnssecStatus>,
    /// Why, from what validation saw (see [`crate::lookup::TxtAnswer::dnssec_reason`]).
    pub dnssec_reason: Option<String>,
    /// The published key's type and size, when it parses.
    pub key: Option<(KeyType, usize)>,
    /// Whether the published key is the private key's: None when there was no private key, or
    /// no usable key in the record to compare it with.
    pub private_key_matches: Option<bool>,
    /// What was found, worst first.
    pub findings: Vec<Finding>,
}

impl KeyReport {
    /// The worst finding's severity; None when all is well.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(Finding::severity).max()
    }
}

/// Looks up the record of `selector` in `domain` and checks it, and with `private_key`, that it
/// publishes that key's public key. RFC 6376 3.6.1 and RFC 8301 are the rules.
pub fn check_published_key(
    lookup: &dyn KeyLookup,
    selector: &Selector,
    domain: &DomainName,
    private_key: Option<&PrivateKey>,
) -> KeyReport {
    let name = key_name(selector, domain);
    let mut report = KeyReport {
        name: name.clone(),
        record: None,
        cname_chain: Vec::new(),
        dnssec: None,
        dnssec_reason: None,
        key: None,
        private_key_matches: None,
        findings: Vec::new(),
    };
    let answer = match lookup.lookup_txt(&name) {
        Ok(answer) => answer,
        Err(e) => {
            report.findings.push(
                doubled_name(lookup, &name, domain, &e)
                    .unwrap_or(Finding::Key(KeyProblem::Lookup(e))),
            );
            return report;
        }
    };
    report.cname_chain = answer.cname_chain;
    report.dnssec = Some(answer.dnssec);
    if let (DnssecStatus::NotValidated, Some(reason)) = (answer.dnssec, &answer.dnssec_reason) {
        report.findings.push(Finding::DnssecNotValidated {
            reason: reason.clone(),
        });
    }
    report.dnssec_reason = answer.dnssec_reason;
    if answer.records.len() > 1 {
        report.findings.push(Finding::SeveralRecords {
            count: answer.records.len(),
        });
    }
    let Some(text) = answer.records.into_iter().next() else {
        let missing = KeyProblem::Lookup(LookupError::NoRecords { name });
        report.findings.push(Finding::Key(missing));
        return report;
    };
    report.record = Some(text.clone());
    let record = match KeyRecord::parse(&text) {
        Ok(record) => record,
        Err(e) => {
            let malformed = KeyProblem::Malformed(Arc::new(e));
            report.findings.push(Finding::Key(malformed));
            return report;
        }
    };
    check_record(&record, private_key, &mut report);
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity()));
    report
}

/// When the record is missing, whether it sits at the name with the domain twice, the mark of a
/// zone-file name without its trailing dot. One more query, asked only on that failure.
fn doubled_name(
    lookup: &dyn KeyLookup,
    name: &str,
    domain: &DomainName,
    error: &LookupError,
) -> Option<Finding> {
    if !matches!(
        error,
        LookupError::NoSuchName { .. } | LookupError::NoRecords { .. }
    ) {
        return None;
    }
    let doubled = format!("{name}.{domain}");
    let answer = lookup.lookup_txt(&doubled).ok()?;
    (!answer.records.is_empty()).then(|| Finding::DoubledName {
        found_at: doubled,
        expected_at: name.to_owned(),
    })
}

/// The checks of a parsed record, adding to `report`: receivers' ([`record_problems`], for a
/// key of the private key's type), then what concerns testkey alone.
fn check_record(record: &KeyRecord, private_key: Option<&PrivateKey>, report: &mut KeyReport) {
    if record.testing {
        report.findings.push(Finding::TestMode);
    }
    let expected = private_key.map_or(record.key_type, PrivateKey::key_type);
    let published = record.public_key().map_err(Arc::new);
    let problems = record_problems(record, &published, expected);
    report
        .findings
        .extend(problems.into_iter().map(Finding::Key));
    if record.key_type != expected {
        report.private_key_matches = Some(false);
        return;
    }
    let Ok(published) = published else {
        return;
    };
    let (key_type, bits) = (published.key_type(), published.bits());
    report.key = Some((key_type, bits));
    if key_type == KeyType::Rsa && (MIN_RSA_BITS..RECOMMENDED_RSA_BITS).contains(&bits) {
        report.findings.push(Finding::Weak { bits });
    }
    if let Some(private) = private_key {
        let matches = private.public_key() == published;
        if !matches {
            report.findings.push(Finding::KeyMismatch);
        }
        report.private_key_matches = Some(matches);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeySpec;
    use crate::lookup::StaticLookup;

    fn names() -> (Selector, DomainName) {
        ("sel".parse().unwrap(), "example.com".parse().unwrap())
    }

    fn check(records: &[&str], private: Option<&PrivateKey>) -> KeyReport {
        let (selector, domain) = names();
        let mut lookup = StaticLookup::new();
        for record in records {
            lookup.insert("sel._domainkey.example.com", *record);
        }
        check_published_key(&lookup, &selector, &domain, private)
    }

    #[test]
    fn a_matching_record_is_fine() {
        let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        let record = KeyRecord::new(&key.public_key()).to_value();
        let report = check(&[&record], Some(&key));
        assert_eq!(report.findings, []);
        assert_eq!(report.worst(), None);
        assert_eq!(report.key, Some((KeyType::Ed25519, 256)));
        assert_eq!(report.private_key_matches, Some(true));
    }

    #[test]
    fn each_problem_is_found_with_its_severity() {
        let key = PrivateKey::generate(KeySpec::Rsa { bits: 1024 }).unwrap();
        let other = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        let value = KeyRecord::new(&key.public_key()).to_value();
        let p = value.rsplit_once("p=").unwrap().1;
        let cases: Vec<(String, Option<&PrivateKey>, Vec<Finding>)> = vec![
            (value.clone(), None, vec![Finding::Weak { bits: 1024 }]),
            (
                format!("v=DKIM1; t=y; p={p}"),
                Some(&key),
                vec![Finding::Weak { bits: 1024 }, Finding::TestMode],
            ),
            (
                "v=DKIM1; p=".into(),
                None,
                vec![Finding::Key(KeyProblem::Revoked)],
            ),
            (
                format!("v=DKIM1; h=sha1; p={p}"),
                None,
                vec![
                    Finding::Key(KeyProblem::HashExcludesSha256),
                    Finding::Weak { bits: 1024 },
                ],
            ),
            (
                format!("v=DKIM1; s=other; p={p}"),
                None,
                vec![
                    Finding::Key(KeyProblem::NotForEmail),
                    Finding::Weak { bits: 1024 },
                ],
            ),
            (
                value.clone(),
                Some(&other),
                vec![Finding::Key(KeyProblem::KeyTypeMismatch {
                    published: KeyType::Rsa,
                    expected: KeyType::Ed25519,
                })],
            ),
        ];
        for (record, private, expected) in cases {
            let mut findings = check(&[&record], private).findings;
            findings.sort_by_key(|f| f.to_string());
            let mut expected = expected;
            expected.sort_by_key(|f| f.to_string());
            assert_eq!(findings, expected, "{record}");
        }
        let mismatch = PrivateKey::generate(KeySpec::Rsa { bits: 1024 }).unwrap();
        let report = check(&[&value], Some(&mismatch));
        assert!(report.findings.contains(&Finding::KeyMismatch));
        assert_eq!(report.private_key_matches, Some(false));
        assert_eq!(
            check(&["v=DKIM1; p="], Some(&key)).private_key_matches,
            None
        );
        assert_eq!(report.worst(), Some(Severity::Error));
        let two = check(&[&value, &value], None);
        assert!(two.findings.contains(&Finding::SeveralRecords { count: 2 }));
        assert!(matches!(
            check(&["v=DKIM1; k=dsa; p="], None).findings[..],
            [Finding::Key(KeyProblem::Malformed(_))]
        ));
        assert!(matches!(
            check(&[], None).findings[..],
            [Finding::Key(KeyProblem::Lookup(
                LookupError::NoSuchName { .. }
            ))]
        ));
    }

    #[test]
    fn a_record_at_the_doubled_name_is_pointed_out() {
        let (selector, domain) = names();
        let mut lookup = StaticLookup::new();
        lookup.insert("sel._domainkey.example.com.example.com", "v=DKIM1; p=");
        let report = check_published_key(&lookup, &selector, &domain, None);
        assert_eq!(
            report.findings,
            [Finding::DoubledName {
                found_at: "sel._domainkey.example.com.example.com".into(),
                expected_at: "sel._domainkey.example.com".into(),
            }]
        );
    }

    #[test]
    fn a_lookup_finding_does_not_repeat_the_name() {
        let finding = Finding::Key(KeyProblem::Lookup(LookupError::NoSuchName {
            name: "sel._domainkey.example.com".into(),
        }));
        assert_eq!(finding.to_string(), "no such name in DNS (NXDOMAIN)");
    }

    #[test]
    fn a_512_bit_key_is_too_small() {
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 512).unwrap();
        let public = PublicKey::Rsa(small.to_public_key());
        let report = check(&[&KeyRecord::new(&public).to_value()], None);
        assert_eq!(
            report.findings,
            [Finding::Key(KeyProblem::TooSmall { bits: 512 })]
        );
    }

    #[test]
    fn temporary_failures_are_their_own_severity() {
        let timeout = LookupError::Timeout { name: "x".into() };
        let finding = Finding::Key(KeyProblem::Lookup(timeout));
        assert_eq!(finding.severity(), Severity::Temporary);
        assert!(Severity::Error > Severity::Temporary && Severity::Temporary > Severity::Warning);
    }
}

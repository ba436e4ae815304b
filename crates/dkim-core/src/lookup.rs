//! Key records as DKIM code asks for them: the [`KeyLookup`] trait, its answer and its errors.
//!
//! A verifier or `testkey` needs the TXT record at `SELECTOR._domainkey.DOMAIN` (RFC 6376
//! 3.6.2), and needs to know why it is missing when it is: no such name, a name without TXT,
//! a delegated selector whose CNAME leads nowhere, a server that failed (worth retrying, RFC 6376
//! 6.1.2 TEMPFAIL), or DNSSEC saying the answer is forged (RFC 4033-4035). Each is a distinct
//! [`LookupError`], so a caller can pick its exit code and message.
//!
//! The engine knows only the trait and [`StaticLookup`] (records given by a caller or a test);
//! real DNS, with DNSSEC, lives in the `dkim-dns` crate, so that signing and verifying need no
//! resolver or async runtime.

mod nameserver;
mod static_keys;

use std::fmt;
use std::sync::Arc;

pub use nameserver::{DNS_PORT, NameserverError, parse_nameserver};
pub use static_keys::{GivenFirst, StaticLookup};

/// The form of a name used to compare names: lower case (DNS names compare without regard to
/// case, RFC 4343) and without the trailing dot.
pub fn comparable_name(name: &str) -> String {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// A TXT lookup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtAnswer {
    /// Each TXT record at the name, its character-strings joined with nothing between (RFC 6376
    /// 3.6.2.2). Non-UTF-8 bytes are replaced (lossy).
    pub records: Vec<String>,
    /// The CNAMEs followed to reach the records, in order, each as a name without trailing dot
    /// (empty when none). Delegated selectors (CNAME into another zone) are common. Each entry is
    /// where a CNAME pointed, so the last one is the name that holds the records.
    pub cname_chain: Vec<String>,
    /// What DNSSEC says about the answer.
    pub dnssec: DnssecStatus,
    /// Why, from what validation saw: which anchor vouches for a secure answer, which parent
    /// proves a zone unsigned, or where the chain of trust could not be followed. None when
    /// validation was not asked for (or the record did not come from DNS).
    pub dnssec_reason: Option<String>,
}

/// What DNSSEC validation says about an answer, in RFC 4033 5 and RFC 4035 4.3's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnssecStatus {
    /// Signed, and every signature verified along a chain of DS and DNSKEY records from the
    /// trust anchor: the answer is authentic.
    Secure,
    /// Provably unsigned: a signed parent proves the zone has no DS record (or the chain passed
    /// through such a zone), so nothing can be verified. The common case for mail domains.
    Insecure,
    /// Validation failed on evidence: a signature is expired or does not match, or the records
    /// of a zone shown to be signed carry none. `dkim_dns::HickoryLookup` does not hand out such data
    /// (RFC 4035 4.3: it must not be used) and returns [`LookupError::Bogus`] instead; the status
    /// is here for lookups that report it.
    Bogus,
    /// Not validated: validation was not asked for, the chain of trust could not be followed
    /// (a server that refused or failed the DS or DNSKEY queries, such as an authoritative-only
    /// server asked about the root), or the record did not come from DNS (static keys).
    NotValidated,
}

impl DnssecStatus {
    /// A short name: `secure`, `insecure`, `bogus` or `not validated`.
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecStatus::Secure => "secure",
            DnssecStatus::Insecure => "insecure",
            DnssecStatus::Bogus => "bogus",
            DnssecStatus::NotValidated => "not validated",
        }
    }

    /// What the status means, in a sentence for people.
    pub fn explanation(self) -> &'static str {
        match self {
            DnssecStatus::Secure => {
                "the record is DNSSEC-signed and its signatures verify from the trust anchor down"
            }
            DnssecStatus::Insecure => {
                "the zone is not DNSSEC-signed (its parent proves it has no DS record), so the \
                 record cannot be authenticated"
            }
            DnssecStatus::Bogus => {
                "the zone is DNSSEC-signed but the record's signatures do not verify"
            }
            DnssecStatus::NotValidated => "the chain of DNSSEC signatures was not followed",
        }
    }
}

impl fmt::Display for DnssecStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a TXT lookup gave no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The name does not exist (NXDOMAIN).
    #[error("{name}: no such name in DNS (NXDOMAIN)")]
    NoSuchName {
        /// The name looked up.
        name: String,
    },
    /// The name exists but has no TXT record (NODATA).
    #[error("{name}: the name exists but has no TXT record")]
    NoRecords {
        /// The name looked up.
        name: String,
    },
    /// A CNAME chain that ends nowhere (the target is NXDOMAIN or has no TXT record), or loops.
    #[error(
        "{name}: its CNAME chain leads to {target} and ends there without a TXT record (no such \
         name, no TXT record at it, or the chain loops back)"
    )]
    DanglingCname {
        /// The name looked up.
        name: String,
        /// Where the chain ends (or starts looping), without trailing dot.
        target: String,
    },
    /// No answer within the timeout, on every attempt.
    #[error("{name}: no answer from the name servers (timed out)")]
    Timeout {
        /// The name looked up.
        name: String,
    },
    /// The name server failed (SERVFAIL), refused (REFUSED), or could not be reached.
    #[error("{name}: the name server failed: {detail}")]
    ServerFailure {
        /// The name looked up.
        name: String,
        /// What went wrong, for people.
        detail: String,
    },
    /// DNSSEC validation failed on evidence: the answer cannot be trusted.
    #[error("{name}: DNSSEC says bogus: {detail}")]
    Bogus {
        /// The name looked up.
        name: String,
        /// What failed, for people.
        detail: String,
    },
    /// The name cannot be looked up: it is not a valid DNS name.
    #[error("{name:?} is not a valid DNS name: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl LookupError {
    /// Whether a later attempt may succeed (RFC 6376 6.1.2: TEMPFAIL): timeouts and server
    /// failures. Everything else is an answer, or a fault that needs someone to fix it.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            LookupError::Timeout { .. } | LookupError::ServerFailure { .. }
        )
    }

    /// The name that was looked up.
    pub fn name(&self) -> &str {
        match self {
            LookupError::NoSuchName { name }
            | LookupError::NoRecords { name }
            | LookupError::DanglingCname { name, .. }
            | LookupError::Timeout { name }
            | LookupError::ServerFailure { name, .. }
            | LookupError::Bogus { name, .. }
            | LookupError::InvalidName { name, .. } => name,
        }
    }
}

/// How DKIM code asks for key records; injectable so tests and `--key` need no DNS.
pub trait KeyLookup: Send + Sync {
    /// `name` is a fully qualified name without trailing dot, e.g.
    /// "202611._domainkey.example.com".
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError>;
}

impl<L: KeyLookup + ?Sized> KeyLookup for &L {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        (**self).lookup_txt(name)
    }
}

impl<L: KeyLookup + ?Sized> KeyLookup for Arc<L> {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        (**self).lookup_txt(name)
    }
}

impl<L: KeyLookup + ?Sized> KeyLookup for Box<L> {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        (**self).lookup_txt(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_timeouts_and_server_failures_are_temporary() {
        let name = || "s._domainkey.example.com".to_owned();
        let temporary = [
            LookupError::Timeout { name: name() },
            LookupError::ServerFailure {
                name: name(),
                detail: "SERVFAIL".into(),
            },
        ];
        let permanent = [
            LookupError::NoSuchName { name: name() },
            LookupError::NoRecords { name: name() },
            LookupError::DanglingCname {
                name: name(),
                target: "gone.example.net".into(),
            },
            LookupError::Bogus {
                name: name(),
                detail: "expired".into(),
            },
            LookupError::InvalidName {
                name: name(),
                reason: "x".into(),
            },
        ];
        for error in &temporary {
            assert!(error.is_temporary(), "{error}");
            assert_eq!(error.name(), "s._domainkey.example.com");
        }
        for error in &permanent {
            assert!(!error.is_temporary(), "{error}");
            assert_eq!(error.name(), "s._domainkey.example.com");
        }
    }

    #[test]
    fn messages_name_the_name_and_what_happened() {
        let error = LookupError::DanglingCname {
            name: "s._domainkey.example.com".into(),
            target: "s.dkim.example.net".into(),
        };
        let message = error.to_string();
        assert!(
            message.starts_with("s._domainkey.example.com: "),
            "{message}"
        );
        assert!(message.contains("s.dkim.example.net"), "{message}");
        assert_eq!(
            LookupError::NoSuchName {
                name: "a.example".into()
            }
            .to_string(),
            "a.example: no such name in DNS (NXDOMAIN)"
        );
    }

    #[test]
    fn status_words() {
        assert_eq!(DnssecStatus::Secure.to_string(), "secure");
        assert_eq!(DnssecStatus::NotValidated.to_string(), "not validated");
        assert!(
            DnssecStatus::Insecure
                .explanation()
                .contains("not DNSSEC-signed")
        );
    }
}

//! What a [`super::HickoryLookup`] asks, how patiently, and whether it validates DNSSEC: the
//! command line's `--nameserver`, timeout and `--trust-anchor` in one value.

use std::net::SocketAddr;
use std::time::Duration;

use super::trust_anchor::{AnchorRecords, TrustAnchorError};

/// How to reach DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    /// The servers to ask (recursive resolvers, or authoritative servers for the names asked);
    /// empty means the system's, from /etc/resolv.conf.
    pub nameservers: Vec<SocketAddr>,
    /// How long to wait for an answer, per attempt.
    pub timeout: Duration,
    /// How many times to ask before giving up on a server that does not answer (at least 1).
    pub attempts: usize,
    /// Whether to validate DNSSEC, from which trust anchor; `None` does not validate (answers
    /// are [`super::DnssecStatus::NotValidated`]).
    pub dnssec: Option<TrustAnchor>,
}

impl Default for ResolverSettings {
    /// The system's name servers, 5 seconds and 2 attempts (the resolv.conf defaults), no DNSSEC.
    fn default() -> Self {
        ResolverSettings {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(5),
            attempts: 2,
            dnssec: None,
        }
    }
}

/// Where DNSSEC validation starts trusting (RFC 4033 3: the trust anchor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustAnchor {
    /// The DNS root's key-signing keys that hickory-resolver has built in (KSK-2017, KSK-2024).
    BuiltInRoot,
    /// DNSKEY or DS records in zone-file syntax, e.g. the contents of a file given with
    /// `--trust-anchor` (`. IN DS 20326 8 2 E06D...` as IANA publishes the root's, or `. IN
    /// DNSKEY 257 3 8 AwEAA...` as /usr/share/dns/root.key holds it). Comments, parentheses and
    /// TTLs are allowed. A DS anchor is turned into the key it digests by fetching the zone's
    /// DNSKEY records on first use.
    Records(String),
}

impl TrustAnchor {
    /// DNSKEY or DS records given as text ([`TrustAnchor::Records`]), checked now, so that a
    /// file that holds no anchor is refused before any lookup.
    pub fn from_records(text: String) -> Result<TrustAnchor, TrustAnchorError> {
        AnchorRecords::parse(&text)?;
        Ok(TrustAnchor::Records(text))
    }
}

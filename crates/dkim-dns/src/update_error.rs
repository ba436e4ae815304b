//! Why a DNS UPDATE did not happen, in words a mail administrator can act on.
//!
//! A refused update has many causes that look alike from the outside: the server is not the
//! zone's primary, the key is unknown to it, the secret is wrong, the clocks differ, the policy
//! does not let the key touch the name, the name is a CNAME. Each gets its own variant naming the
//! name, the zone and the server, and the TSIG errors (RFC 8945 5.2) are put in plain words. The
//! few failures worth retrying (no answer, SERVFAIL, no connection) say so through
//! [`UpdateError::is_temporary`], so a cron job can exit with "try again later".

use std::fmt;
use std::io;
use std::net::SocketAddr;

use hickory_resolver::proto::op::ResponseCode;

use super::tsig_key::{TSIG_FUDGE, TsigAlgorithm};

/// Why an update, or the search for the zone before it, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The name is not a valid DNS name.
    #[error("{name:?} is not a valid DNS name: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The record cannot be sent as asked (an empty value, a TTL out of range, too big a
    /// message).
    #[error("{name}: cannot publish this record: {reason}")]
    InvalidRecord {
        /// The record's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The server does not hold a zone the name is in.
    #[error("{name}: cannot find its zone at {server}: {problem}")]
    ZoneNotFound {
        /// The name whose zone was looked for.
        name: String,
        /// The server asked.
        server: SocketAddr,
        /// What the server said.
        problem: ZoneProblem,
    },
    /// The server answered, and refused the update (nothing was changed).
    #[error("{server} refused the update of {name} in zone {zone}: {refusal}")]
    Refused {
        /// The name updated.
        name: String,
        /// The zone of the update.
        zone: String,
        /// The server.
        server: SocketAddr,
        /// Why, as the server put it.
        refusal: Refusal,
    },
    /// The server did not accept the update's TSIG signature (RFC 8945 5.2); nothing was
    /// changed.
    #[error("{server} refused the update of {name} in zone {zone}: {failure}")]
    TsigRejected {
        /// The name updated.
        name: String,
        /// The zone of the update.
        zone: String,
        /// The server.
        server: SocketAddr,
        /// What was wrong with the signature.
        failure: TsigFailure,
    },
    /// A response to a signed update whose TSIG signature is missing or does not verify (RFC
    /// 8945 5.4): it cannot be told from a forgery, so whether the update was made is unknown.
    #[error(
        "{server} answered the update of {name} in zone {zone} with a response whose TSIG \
         signature is missing or wrong ({detail}): it may be forged, or the server has another \
         secret for the key; check the record with a query"
    )]
    UnverifiedResponse {
        /// The name updated.
        name: String,
        /// The zone of the update.
        zone: String,
        /// The server.
        server: SocketAddr,
        /// What was wrong with the response's signature, naming the key expected.
        detail: String,
    },
    /// The server failed (SERVFAIL): worth retrying later.
    #[error(
        "{server} failed to handle {name}{} (SERVFAIL); try again later",
        in_zone(zone)
    )]
    ServerFailure {
        /// The name updated or looked up.
        name: String,
        /// The zone, once it is known.
        zone: Option<String>,
        /// The server.
        server: SocketAddr,
    },
    /// No answer in time: worth retrying later.
    #[error(
        "no answer from {server} about {name}{} (timed out); try again later",
        in_zone(zone)
    )]
    Timeout {
        /// The name updated or looked up.
        name: String,
        /// The zone, once it is known.
        zone: Option<String>,
        /// The server.
        server: SocketAddr,
    },
    /// The server could not be reached (connection refused, network down): worth retrying
    /// later.
    #[error("cannot reach {server} about {name}{}: {detail}", in_zone(zone))]
    Unreachable {
        /// The name updated or looked up.
        name: String,
        /// The zone, once it is known.
        zone: Option<String>,
        /// The server.
        server: SocketAddr,
        /// What the network said.
        detail: String,
    },
    /// The server sent something that is not a response to what was asked.
    #[error(
        "{server} sent a malformed response about {name}{}: {detail}",
        in_zone(zone)
    )]
    BadResponse {
        /// The name updated or looked up.
        name: String,
        /// The zone, once it is known.
        zone: Option<String>,
        /// What was wrong with it.
        detail: String,
        /// The server.
        server: SocketAddr,
    },
    /// A failure of our own (the message could not be built or signed, the updater's threads
    /// are gone).
    #[error("{name}: cannot send the update: {detail}")]
    Internal {
        /// The name updated or looked up.
        name: String,
        /// What went wrong.
        detail: String,
    },
}

fn in_zone(zone: &Option<String>) -> String {
    zone.as_ref()
        .map(|zone| format!(" in zone {zone}"))
        .unwrap_or_default()
}

impl UpdateError {
    /// Whether a later attempt may succeed without anyone changing anything: no answer in time,
    /// SERVFAIL, or no connection. Everything else needs someone to fix something first.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            UpdateError::Timeout { .. }
                | UpdateError::ServerFailure { .. }
                | UpdateError::Unreachable { .. }
        )
    }

    /// The name that was being updated, or whose zone was looked for.
    pub fn name(&self) -> &str {
        match self {
            UpdateError::InvalidName { name, .. }
            | UpdateError::InvalidRecord { name, .. }
            | UpdateError::ZoneNotFound { name, .. }
            | UpdateError::Refused { name, .. }
            | UpdateError::TsigRejected { name, .. }
            | UpdateError::UnverifiedResponse { name, .. }
            | UpdateError::ServerFailure { name, .. }
            | UpdateError::Timeout { name, .. }
            | UpdateError::Unreachable { name, .. }
            | UpdateError::BadResponse { name, .. }
            | UpdateError::Internal { name, .. } => name,
        }
    }
}

/// Why the server holds no zone for a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneProblem {
    /// It refused to answer for the name: it serves no zone that holds it.
    #[error("it serves no zone that holds the name (it answered {})", code_name(*code))]
    NotServed {
        /// What it answered (REFUSED, NOTAUTH, ...).
        code: ResponseCode,
    },
    /// The name lies below a delegation to other servers.
    #[error(
        "the name is in zone {cut}, which is delegated to other name servers; send the update to \
         the primary server of {cut}"
    )]
    Delegated {
        /// Where the delegation starts.
        cut: String,
    },
    /// It answered for the zone without authority: a resolver, not the zone's server.
    #[error(
        "it answers for zone {zone} without authority (it is a resolver, not a server of the \
         zone); send the update to the zone's primary server"
    )]
    NotAuthoritative {
        /// The zone it answered for.
        zone: String,
    },
    /// Its answers name no zone (no SOA record) at the name or above.
    #[error("it names no zone (no SOA record) at the name or above it")]
    NoSoa,
}

/// A server's refusal of an update, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// REFUSED: its policy does not allow this update. `key` is the TSIG key the update was
    /// signed with; `None` when it was not signed.
    Refused {
        /// The key used, if any.
        key: Option<String>,
    },
    /// NOTAUTH without a TSIG error: it is not authoritative for the zone (RFC 2136 3.1.1).
    NotAuthoritative,
    /// NOTZONE: the name is not within the zone (RFC 2136 3.4.1), e.g. below a delegation.
    NotInZone,
    /// YXRRSET on the prerequisite that the name holds no CNAME (RFC 2136 2.4.3): a TXT record
    /// cannot be put beside one (RFC 1034 3.6.2).
    NameHoldsCname,
    /// Another response code.
    Other {
        /// The code.
        code: ResponseCode,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Refused { key: None } => f.write_str(
                "REFUSED; the update was not signed, and the zone takes updates only from those \
                 allowed by its allow-update or update-policy: give the zone's TSIG key",
            ),
            Refusal::Refused { key: Some(key) } => write!(
                f,
                "REFUSED; the zone's allow-update or update-policy does not let TSIG key {key} \
                 make this change"
            ),
            Refusal::NotAuthoritative => f.write_str(
                "NOTAUTH; it is not authoritative for the zone: send the update to the zone's \
                 primary server",
            ),
            Refusal::NotInZone => {
                f.write_str("NOTZONE; the name is not within the zone (is it below a delegation?)")
            }
            Refusal::NameHoldsCname => f.write_str(
                "the name holds a CNAME record (a selector delegated elsewhere?), and a TXT \
                 record cannot be put beside it; remove the CNAME first",
            ),
            Refusal::Other { code } => write!(f, "it answered {}", code_name(*code)),
        }
    }
}

/// A TSIG error a server reported (RFC 8945 5.2), in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsigFailure {
    /// BADKEY: the server has no key of that name and algorithm (RFC 8945 5.2.1).
    UnknownKey {
        /// The key's name.
        key: String,
        /// The key's algorithm.
        algorithm: TsigAlgorithm,
    },
    /// BADSIG: the server has the key, but the MAC does not verify with its secret (RFC 8945
    /// 5.2.2).
    BadSignature {
        /// The key's name.
        key: String,
    },
    /// BADTIME: the clocks differ by more than the fudge allows (RFC 8945 5.2.3).
    BadTime {
        /// Our clock when signing, in seconds since the Unix epoch.
        ours: u64,
        /// The server's clock, when it said (RFC 8945 5.2.3 puts it in Other Data).
        server: Option<u64>,
    },
    /// Another TSIG error code (BADTRUNC or one of later RFCs).
    Other {
        /// The TSIG error code.
        code: u16,
    },
}

impl fmt::Display for TsigFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsigFailure::UnknownKey { key, algorithm } => write!(
                f,
                "the server does not know TSIG key {key} with algorithm {algorithm} (BADKEY): \
                 check the key's name and algorithm, and that named.conf has the key"
            ),
            TsigFailure::BadSignature { key } => write!(
                f,
                "the TSIG signature does not verify (BADSIG): wrong secret? The server has a key \
                 {key}, but not with the secret given"
            ),
            TsigFailure::BadTime { ours, server } => {
                write!(
                    f,
                    "the clocks differ (BADTIME): the server accepts signatures at most \
                     {TSIG_FUDGE} seconds off its own clock; ours said {ours}"
                )?;
                if let Some(server) = server {
                    write!(
                        f,
                        ", the server's {server} ({} seconds apart)",
                        ours.abs_diff(*server)
                    )?;
                }
                f.write_str(" (seconds since 1970); set both clocks right (NTP)")
            }
            TsigFailure::Other { code } => write!(f, "it reported TSIG error {code}"),
        }
    }
}

/// A response code as DNS tools print it (`REFUSED`, `SERVFAIL`, `NOTAUTH`).
pub(crate) fn code_name(code: ResponseCode) -> String {
    let name = match code {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("response code {}", u16::from(other)),
    };
    name.to_owned()
}

/// Why a [`super::DnsUpdater`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdaterSetupError {
    /// A timeout of zero, which no answer could meet.
    #[error("the DNS update timeout must be longer than zero")]
    ZeroTimeout,
    /// hickory refused the key (it cannot sign with it).
    #[error("cannot sign with TSIG key {key}: {detail}")]
    Key {
        /// The key's name.
        key: String,
        /// What hickory said.
        detail: String,
    },
    /// The runtime's threads could not be started.
    #[error("cannot start the DNS update threads: {0}")]
    Runtime(#[source] io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 53], 53))
    }

    #[test]
    fn only_timeouts_server_failures_and_unreachable_servers_are_temporary() {
        let name = || "s._domainkey.example.com".to_owned();
        let zone = || Some("example.com".to_owned());
        let temporary = [
            UpdateError::Timeout {
                name: name(),
                zone: None,
                server: server(),
            },
            UpdateError::ServerFailure {
                name: name(),
                zone: zone(),
                server: server(),
            },
            UpdateError::Unreachable {
                name: name(),
                zone: zone(),
                server: server(),
                detail: "connection refused".into(),
            },
        ];
        let permanent = [
            UpdateError::Refused {
                name: name(),
                zone: "example.com".into(),
                server: server(),
                refusal: Refusal::NotInZone,
            },
            UpdateError::TsigRejected {
                name: name(),
                zone: "example.com".into(),
                server: server(),
                failure: TsigFailure::BadSignature { key: "k".into() },
            },
            UpdateError::ZoneNotFound {
                name: name(),
                server: server(),
                problem: ZoneProblem::NoSoa,
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
    fn messages_name_the_name_zone_and_server() {
        let refused = UpdateError::Refused {
            name: "s._domainkey.example.com".into(),
            zone: "example.com".into(),
            server: server(),
            refusal: Refusal::Refused { key: None },
        };
        assert_eq!(
            refused.to_string(),
            "192.0.2.53:53 refused the update of s._domainkey.example.com in zone example.com: \
             REFUSED; the update was not signed, and the zone takes updates only from those \
             allowed by its allow-update or update-policy: give the zone's TSIG key"
        );
        let timeout = UpdateError::Timeout {
            name: "s._domainkey.example.com".into(),
            zone: None,
            server: server(),
        };
        assert_eq!(
            timeout.to_string(),
            "no answer from 192.0.2.53:53 about s._domainkey.example.com (timed out); try again \
             later"
        );
        let failed = UpdateError::ServerFailure {
            name: "a.example.com".into(),
            zone: Some("example.com".into()),
            server: server(),
        };
        assert_eq!(
            failed.to_string(),
            "192.0.2.53:53 failed to handle a.example.com in zone example.com (SERVFAIL); try \
             again later"
        );
        let not_served = UpdateError::ZoneNotFound {
            name: "a.example.net".into(),
            server: server(),
            problem: ZoneProblem::NotServed {
                code: ResponseCode::Refused,
            },
        };
        assert_eq!(
            not_served.to_string(),
            "a.example.net: cannot find its zone at 192.0.2.53:53: it serves no zone that holds \
             the name (it answered REFUSED)"
        );
    }

    #[test]
    fn tsig_failures_in_plain_words() {
        assert_eq!(
            TsigFailure::UnknownKey {
                key: "dkim".into(),
                algorithm: TsigAlgorithm::HmacSha256
            }
            .to_string(),
            "the server does not know TSIG key dkim with algorithm hmac-sha256 (BADKEY): check \
             the key's name and algorithm, and that named.conf has the key"
        );
        assert!(
            TsigFailure::BadSignature { key: "dkim".into() }
                .to_string()
                .starts_with("the TSIG signature does not verify (BADSIG): wrong secret?")
        );
        assert_eq!(
            TsigFailure::BadTime {
                ours: 1_000,
                server: Some(4_600)
            }
            .to_string(),
            "the clocks differ (BADTIME): the server accepts signatures at most 300 seconds off \
             its own clock; ours said 1000, the server's 4600 (3600 seconds apart) (seconds \
             since 1970); set both clocks right (NTP)"
        );
        assert_eq!(code_name(ResponseCode::NotAuth), "NOTAUTH");
        assert_eq!(code_name(ResponseCode::ServFail), "SERVFAIL");
        assert_eq!(code_name(ResponseCode::NXRRSet), "NXRRSET");
        assert_eq!(code_name(ResponseCode::BADCOOKIE), "response code 23");
    }
}

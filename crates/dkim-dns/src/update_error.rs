//! Why a DNS UPDATE did not happen, in words a mail administrator can act on.
//!
//! A refused update has many causes that look alike from the outside: the server is not the
//! zone's primary, the key is unknown to it, the secret is wrong, the clocks differ, the policy
//! does not let the key touch the name, the name is a CNAME. Each gets its own kind, said with the
//! name, the zone and the server, and the TSIG errors (RFC 8945 5.2) are put in plain words. The
//! few failures worth retrying (no answer, SERVFAIL, no connection) say so through
//! [`UpdateError::is_temporary`], so a cron job can exit with "try again later".

use std::fmt;
use std::io;
use std::net::SocketAddr;

use hickory_resolver::proto::op::ResponseCode;

use super::tsig_key::{TSIG_FUDGE, TsigAlgorithm};

/// Why an update, or the search for the zone before it, failed: what every failure names, and
/// in [`UpdateErrorKind`] what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateError {
    /// The name updated or whose zone was looked for, as the caller gave it.
    pub name: String,
    /// The zone of the update, once it is known.
    pub zone: Option<String>,
    /// The server the update was for.
    pub server: SocketAddr,
    /// What went wrong.
    pub kind: UpdateErrorKind,
}

/// What went wrong in an update.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateErrorKind {
    /// The name is not a valid DNS name; why.
    InvalidName(String),
    /// The record cannot be sent as asked (an empty value, a TTL out of range, too big a
    /// message); why.
    InvalidRecord(String),
    /// The server does not hold a zone the name is in.
    ZoneNotFound(ZoneProblem),
    /// The server answered, and refused the update (nothing was changed).
    Refused(Refusal),
    /// The server did not accept the update's TSIG signature (RFC 8945 5.2); nothing was
    /// changed.
    TsigRejected(TsigFailure),
    /// A response to a signed update whose TSIG signature is missing or does not verify (RFC
    /// 8945 5.4): it cannot be told from a forgery, so whether the update was made is unknown.
    /// What was wrong with it, naming the key expected.
    UnverifiedResponse(String),
    /// The server failed (SERVFAIL): worth retrying later.
    ServerFailure,
    /// No answer in time: worth retrying later.
    Timeout,
    /// The server could not be reached (connection refused, network down): worth retrying
    /// later. What the network said.
    Unreachable(String),
    /// The server sent something that is not a response to what was asked; what was wrong.
    BadResponse(String),
    /// A failure of our own (the message could not be built or signed, the updater's threads
    /// are gone); what went wrong.
    Internal(String),
}

impl UpdateError {
    /// A failure of `kind` about `name` (in `zone`, once known) at `server`.
    pub(crate) fn new(
        kind: UpdateErrorKind,
        name: &str,
        zone: Option<&str>,
        server: SocketAddr,
    ) -> Self {
        UpdateError {
            name: name.to_owned(),
            zone: zone.map(str::to_owned),
            server,
            kind,
        }
    }

    /// Whether a later attempt may succeed without anyone changing anything: no answer in time,
    /// SERVFAIL, or no connection. Everything else needs someone to fix something first.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.kind,
            UpdateErrorKind::Timeout
                | UpdateErrorKind::ServerFailure
                | UpdateErrorKind::Unreachable(_)
        )
    }
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UpdateError {
            name,
            zone,
            server,
            kind,
        } = self;
        let in_zone = zone
            .as_ref()
            .map(|zone| format!(" in zone {zone}"))
            .unwrap_or_default();
        match kind {
            UpdateErrorKind::InvalidName(reason) => {
                write!(f, "{name:?} is not a valid DNS name: {reason}")
            }
            UpdateErrorKind::InvalidRecord(reason) => {
                write!(f, "{name}: cannot publish this record: {reason}")
            }
            UpdateErrorKind::ZoneNotFound(problem) => {
                write!(f, "{name}: cannot find its zone at {server}: {problem}")
            }
            UpdateErrorKind::Refused(refusal) => {
                write!(
                    f,
                    "{server} refused the update of {name}{in_zone}: {refusal}"
                )
            }
            UpdateErrorKind::TsigRejected(failure) => {
                write!(
                    f,
                    "{server} refused the update of {name}{in_zone}: {failure}"
                )
            }
            UpdateErrorKind::UnverifiedResponse(detail) => write!(
                f,
                "{server} answered the update of {name}{in_zone} with a response whose TSIG \
                 signature is missing or wrong ({detail}): it may be forged, or the server has \
                 another secret for the key; check the record with a query"
            ),
            UpdateErrorKind::ServerFailure => write!(
                f,
                "{server} failed to handle {name}{in_zone} (SERVFAIL); try again later"
            ),
            UpdateErrorKind::Timeout => write!(
                f,
                "no answer from {server} about {name}{in_zone} (timed out); try again later"
            ),
            UpdateErrorKind::Unreachable(detail) => {
                write!(f, "cannot reach {server} about {name}{in_zone}: {detail}")
            }
            UpdateErrorKind::BadResponse(detail) => write!(
                f,
                "{server} sent a malformed response about {name}{in_zone}: {detail}"
            ),
            UpdateErrorKind::Internal(detail) => {
                write!(f, "{name}: cannot send the update: {detail}")
            }
        }
    }
}

impl std::error::Error for UpdateError {}

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

    fn error(kind: UpdateErrorKind, zone: Option<&str>) -> UpdateError {
        UpdateError::new(kind, "s._domainkey.example.com", zone, server())
    }

    #[test]
    fn only_timeouts_server_failures_and_unreachable_servers_are_temporary() {
        let temporary = [
            UpdateErrorKind::Timeout,
            UpdateErrorKind::ServerFailure,
            UpdateErrorKind::Unreachable("connection refused".into()),
        ];
        let permanent = [
            UpdateErrorKind::Refused(Refusal::NotInZone),
            UpdateErrorKind::TsigRejected(TsigFailure::BadSignature { key: "k".into() }),
            UpdateErrorKind::ZoneNotFound(ZoneProblem::NoSoa),
        ];
        for kind in temporary {
            let error = error(kind, Some("example.com"));
            assert!(error.is_temporary(), "{error}");
        }
        for kind in permanent {
            let error = error(kind, Some("example.com"));
            assert!(!error.is_temporary(), "{error}");
        }
    }

    #[test]
    fn messages_name_the_name_zone_and_server() {
        let refused = error(
            UpdateErrorKind::Refused(Refusal::Refused { key: None }),
            Some("example.com"),
        )
        .to_string();
        for part in [
            "192.0.2.53:53",
            "s._domainkey.example.com in zone example.com",
            "not signed",
        ] {
            assert!(refused.contains(part), "{part}: {refused}");
        }
        let before_the_zone_is_known = error(UpdateErrorKind::Timeout, None).to_string();
        assert!(
            before_the_zone_is_known.contains("192.0.2.53:53 about s._domainkey.example.com (")
                && !before_the_zone_is_known.contains("in zone"),
            "{before_the_zone_is_known}"
        );
        let not_served = ZoneProblem::NotServed {
            code: ResponseCode::Refused,
        };
        assert!(not_served.to_string().contains("(it answered REFUSED)"));
    }

    #[test]
    fn tsig_failures_name_the_key_and_the_clocks() {
        let unknown = TsigFailure::UnknownKey {
            key: "dkim".into(),
            algorithm: TsigAlgorithm::HmacSha256,
        }
        .to_string();
        assert!(
            unknown.contains("TSIG key dkim with algorithm hmac-sha256 (BADKEY)"),
            "{unknown}"
        );
        let clocks = TsigFailure::BadTime {
            ours: 1_000,
            server: Some(4_600),
        }
        .to_string();
        assert!(
            clocks.contains("ours said 1000, the server's 4600 (3600 seconds apart)"),
            "{clocks}"
        );
        assert_eq!(code_name(ResponseCode::NotAuth), "NOTAUTH");
        assert_eq!(code_name(ResponseCode::ServFail), "SERVFAIL");
        assert_eq!(code_name(ResponseCode::NXRRSet), "NXRRSET");
        assert_eq!(code_name(ResponseCode::BADCOOKIE), "response code 23");
    }
}

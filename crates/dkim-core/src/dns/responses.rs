//! hickory-resolver's results in this module's terms: a negative answer is an answer, not an
//! error (hickory reports NXDOMAIN and NODATA as errors, and failed proofs of non-existence as
//! `Nsec` errors), and every real failure becomes a [`LookupError`] saying what happened.

use std::time::{SystemTime, UNIX_EPOCH};

use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{DnsResponse, ResponseCode};
use hickory_resolver::proto::rr::{Name, Record};

use super::LookupError;
use super::answer::cname_target;
use super::dnssec::{bogus_denial_detail, bogus_detail};
use super::names::display_name;

/// The response code and answer records of a response to a query for `current`, or the error
/// it amounts to. hickory reports negative answers as errors (and, when validating, failed
/// proofs of non-existence as `Nsec` errors), which are answers here.
pub(crate) fn response_parts(
    response: Result<DnsResponse, NetError>,
    name: &str,
    current: &Name,
) -> Result<(ResponseCode, Vec<Record>), LookupError> {
    match response {
        Ok(response) => Ok((response.response_code, response.into_message().answers)),
        Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => {
            match no_records.response_code {
                code @ (ResponseCode::NXDomain | ResponseCode::NoError) => Ok((code, Vec::new())),
                code => Err(LookupError::ServerFailure {
                    name: name.to_owned(),
                    detail: response_code_detail(code),
                }),
            }
        }
        Err(NetError::Dns(DnsError::Nsec {
            response, proof, ..
        })) => {
            let is_cname = response
                .answers
                .iter()
                .any(|r| r.name == *current && cname_target(r).is_some());
            // A CNAME whose target is denied in the same response: hickory judges the denial
            // against the CNAME's own name, which exists. Follow the CNAME instead; the target's
            // own answer is validated when it is asked for.
            if is_cname || !proof.is_bogus() {
                let response = *response;
                Ok((response.response_code, response.into_message().answers))
            } else {
                Err(LookupError::Bogus {
                    name: name.to_owned(),
                    detail: bogus_denial_detail(&display_name(current)),
                })
            }
        }
        Err(NetError::Dns(DnsError::DnssecBogus)) => Err(LookupError::Bogus {
            name: name.to_owned(),
            detail: "the answer's signatures do not verify".to_owned(),
        }),
        Err(error) => Err(net_failure(name, error)),
    }
}

/// The lookup error for a failure to get an answer at all.
pub(crate) fn net_failure(name: &str, error: NetError) -> LookupError {
    let name = name.to_owned();
    match error {
        NetError::Timeout => LookupError::Timeout { name },
        NetError::Dns(DnsError::ResponseCode(code)) => LookupError::ServerFailure {
            name,
            detail: response_code_detail(code),
        },
        NetError::NoConnections => LookupError::ServerFailure {
            name,
            detail: "no name server could be reached".to_owned(),
        },
        NetError::Io(error) => LookupError::ServerFailure {
            name,
            detail: format!("network error: {error}"),
        },
        other => LookupError::ServerFailure {
            name,
            detail: other.to_string(),
        },
    }
}

/// What a failure response code means, for people.
fn response_code_detail(code: ResponseCode) -> String {
    match code {
        ResponseCode::ServFail => "it answered SERVFAIL (it could not answer for the \
                                  name: the zone may be broken, its servers unreachable, or, at a \
                                  validating resolver, its DNSSEC signatures bad)"
            .to_owned(),
        ResponseCode::Refused => "it answered REFUSED (it does not answer this question \
                                  for us: it is neither a resolver we may use nor authoritative \
                                  for the name)"
            .to_owned(),
        other => format!(
            "it answered response code {} ({})",
            u16::from(other),
            other.to_str()
        ),
    }
}

/// The Bogus error for `record`, with the reason read from `answers`' signatures.
pub(crate) fn bogus(name: &str, record: &Record, answers: &[Record]) -> LookupError {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    LookupError::Bogus {
        name: name.to_owned(),
        detail: bogus_detail(record, answers, now),
    }
}

#[cfg(test)]
mod tests {
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;
    use hickory_resolver::proto::rr::RecordType;

    use super::*;

    #[test]
    fn negative_answers_are_answers_and_failures_are_named() {
        let current = Name::from_ascii("s._domainkey.example.com.").unwrap();
        let query = Query::query(current.clone(), RecordType::TXT);
        let negative = |code| {
            Err(NetError::Dns(DnsError::NoRecordsFound(NoRecords::new(
                query.clone(),
                code,
            ))))
        };
        assert_eq!(
            response_parts(negative(ResponseCode::NXDomain), "n", &current),
            Ok((ResponseCode::NXDomain, Vec::new()))
        );
        assert_eq!(
            response_parts(negative(ResponseCode::NoError), "n", &current),
            Ok((ResponseCode::NoError, Vec::new()))
        );
        assert_eq!(
            response_parts(Err(NetError::Timeout), "n", &current),
            Err(LookupError::Timeout { name: "n".into() })
        );
        assert!(matches!(
            response_parts(
                Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
                "n",
                &current
            ),
            Err(LookupError::ServerFailure { detail, .. }) if detail.contains("REFUSED")
        ));
        assert!(matches!(
            response_parts(Err(NetError::Dns(DnsError::DnssecBogus)), "n", &current),
            Err(LookupError::Bogus { .. })
        ));
        assert!(response_code_detail(ResponseCode::NotImp).contains("4"));
    }
}

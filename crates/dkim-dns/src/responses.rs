//! hickory-resolver's results in this module's terms: a negative answer is an answer, not an
//! error (hickory reports NXDOMAIN and NODATA as errors), and every real failure becomes a
//! [`LookupError`] saying what happened.

use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{DnsResponse, ResponseCode};
use hickory_resolver::proto::rr::Record;

use super::LookupError;

/// The response code and answer records of a response, or the error it amounts to. hickory
/// reports negative answers as errors, which are answers here.
pub(crate) fn response_parts(
    response: Result<DnsResponse, NetError>,
    name: &str,
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

#[cfg(test)]
mod tests {
    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::Query;
    use hickory_resolver::proto::rr::{Name, RecordType};

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
            response_parts(negative(ResponseCode::NXDomain), "n"),
            Ok((ResponseCode::NXDomain, Vec::new()))
        );
        assert_eq!(
            response_parts(negative(ResponseCode::NoError), "n"),
            Ok((ResponseCode::NoError, Vec::new()))
        );
        assert_eq!(
            response_parts(Err(NetError::Timeout), "n"),
            Err(LookupError::Timeout { name: "n".into() })
        );
        assert!(matches!(
            response_parts(
                Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
                "n"
            ),
            Err(LookupError::ServerFailure { detail, .. }) if detail.contains("REFUSED")
        ));
        assert!(response_code_detail(ResponseCode::NotImp).contains("4"));
    }
}

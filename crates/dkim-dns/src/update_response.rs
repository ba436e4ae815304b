//! What the server's response to an UPDATE says: done, refused and why, or not to be trusted.
//!
//! A response to a signed update must be signed with the same key (RFC 8945 5.3), and one that
//! is not, or whose MAC does not verify, cannot be told from a forgery (RFC 8945 5.4). The
//! exception is the server's report that our own signature failed: BADKEY and BADSIG come back
//! unsigned, as they must (the server cannot sign with a key it does not know or whose MAC it
//! could not match, RFC 8945 5.3.2), so they are read without verification. That is safe: a
//! forged error can only make us report a failure, never a success, and the update is idempotent
//! so a retry is harmless.

use std::net::SocketAddr;

use hickory_resolver::proto::op::{DnsResponse, ResponseCode};
use hickory_resolver::proto::rr::TSigVerifier;
use hickory_resolver::proto::rr::rdata::TSIG;
use hickory_resolver::proto::rr::rdata::tsig::TsigError;

use super::tsig_key::TsigKey;
use super::update_error::{Refusal, TsigFailure, UpdateError, UpdateErrorKind, code_name};

/// An update as it was sent, to judge its response by.
pub(crate) struct SentUpdate<'a> {
    /// The name updated, as the caller gave it.
    pub name: &'a str,
    /// The zone of the update, as reported.
    pub zone: &'a str,
    /// The server it went to.
    pub server: SocketAddr,
    /// How it was signed, if it was.
    pub signature: Option<Signature<'a>>,
}

/// The TSIG signature an update was sent with.
pub(crate) struct Signature<'a> {
    /// The key.
    pub key: &'a TsigKey,
    /// hickory's verifier for the response, made when the update was signed.
    pub verifier: TSigVerifier,
    /// The time signed, seconds since the Unix epoch.
    pub signed_at: u64,
}

/// `Ok` when `response` says the update was made; otherwise why not.
pub(crate) fn judge_update_response(
    response: DnsResponse,
    sent: SentUpdate<'_>,
) -> Result<(), UpdateError> {
    let SentUpdate {
        name,
        zone,
        server,
        signature,
    } = sent;
    let code = response.response_code;
    let failed = |kind| Err(UpdateError::new(kind, name, Some(zone), server));
    let key_name = signature.as_ref().map(|signature| signature.key.name());
    if let Some(Signature {
        key,
        mut verifier,
        signed_at,
    }) = signature
    {
        let unverified = |detail: String| {
            let detail = format!(
                "expected a signature with TSIG key {}: {detail}",
                key.name()
            );
            failed(UpdateErrorKind::UnverifiedResponse(detail))
        };
        let Some(tsig) = response.signature() else {
            return unverified(format!(
                "it carries no TSIG record (response code {})",
                code_name(code)
            ));
        };
        if let Some(error) = &tsig.data.error {
            let failure = tsig_failure(error, &tsig.data, key, signed_at);
            return failed(UpdateErrorKind::TsigRejected(failure));
        }
        // RFC 8945 5.4: the MAC, the key, and the time (within the fudge of our request's).
        if let Err(error) = verifier.verify(response.as_buffer()) {
            return unverified(error.to_string());
        }
    }
    let refusal = match code {
        ResponseCode::NoError => return Ok(()),
        ResponseCode::ServFail => return failed(UpdateErrorKind::ServerFailure),
        ResponseCode::Refused => Refusal::Refused { key: key_name },
        ResponseCode::NotAuth => Refusal::NotAuthoritative,
        ResponseCode::NotZone => Refusal::NotInZone,
        // The only prerequisite these updates carry: no CNAME at the name.
        ResponseCode::YXRRSet => Refusal::NameHoldsCname,
        code => Refusal::Other { code },
    };
    failed(UpdateErrorKind::Refused(refusal))
}

/// A TSIG error the server reported, in [`TsigFailure`]'s terms.
fn tsig_failure(error: &TsigError, tsig: &TSIG, key: &TsigKey, signed_at: u64) -> TsigFailure {
    match error {
        TsigError::BadKey => TsigFailure::UnknownKey {
            key: key.name(),
            algorithm: key.algorithm(),
        },
        TsigError::BadSig => TsigFailure::BadSignature { key: key.name() },
        // RFC 8945 5.2.3: Other Data holds the server's time, 48 bits.
        TsigError::BadTime => TsigFailure::BadTime {
            ours: signed_at,
            server: <[u8; 6]>::try_from(tsig.other.as_slice())
                .ok()
                .map(|bytes| bytes.iter().fold(0u64, |time, &b| time << 8 | u64::from(b))),
        },
        other => TsigFailure::Other {
            code: u16::from(*other),
        },
    }
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::op::{Message, OpCode};
    use hickory_resolver::proto::rr::rdata::tsig::make_tsig_record;
    use hickory_resolver::proto::rr::{Name, TSigResponseContext};

    use super::super::tsig_key::TsigAlgorithm;
    use super::super::update_error::TsigFailure;
    use super::super::update_messages::{TxtEdit, txt_updates};
    use super::*;

    const SIGNED_AT: u64 = 1_800_000_000;

    fn key(secret: &str) -> TsigKey {
        TsigKey::parse(
            &format!("key dkim {{ algorithm hmac-sha256; secret \"{secret}\"; }};"),
            None,
        )
        .unwrap()
    }

    fn server() -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 53], 53))
    }

    fn update() -> Message {
        let edit = TxtEdit {
            owner: Name::from_ascii("s._domainkey.example.com.").unwrap(),
            strings: None,
        };
        txt_updates(&Name::from_ascii("example.com.").unwrap(), &[edit], 0)
            .remove(0)
            .message
    }

    /// The server's response to `request`, with `code`.
    fn response_to(request: &Message, code: ResponseCode) -> Message {
        let mut response = Message::response(request.id, OpCode::Update);
        response.metadata.response_code = code;
        response.add_queries(request.queries.iter().cloned());
        response
    }

    /// Signs `request` with `key`, answers it with `code` signed with `server_key` as a server
    /// does (RFC 8945 5.3), and judges the answer.
    fn judge_signed(
        key: &TsigKey,
        server_key: &TsigKey,
        code: ResponseCode,
    ) -> Result<(), UpdateError> {
        let mut request = update();
        let verifier = request
            .finalize(&key.signer().unwrap(), SIGNED_AT)
            .unwrap()
            .unwrap();
        let request_mac = request.signature().unwrap().data.mac.clone();
        let mut response = response_to(&request, code);
        let context = TSigResponseContext::new(
            request.id,
            SIGNED_AT + 1,
            server_key.signer().unwrap(),
            request_mac,
            None,
        );
        let tsig = context.sign(&response.to_vec().unwrap()).unwrap();
        response.set_signature(tsig);
        judge(response, Some((key, verifier)))
    }

    fn judge(
        response: Message,
        signed: Option<(&TsigKey, TSigVerifier)>,
    ) -> Result<(), UpdateError> {
        judge_update_response(
            DnsResponse::from_buffer(response.to_vec().unwrap()).unwrap(),
            SentUpdate {
                name: "s._domainkey.example.com",
                zone: "example.com",
                server: server(),
                signature: signed.map(|(key, verifier)| Signature {
                    key,
                    verifier,
                    signed_at: SIGNED_AT,
                }),
            },
        )
    }

    #[test]
    fn unsigned_updates_take_the_response_code() {
        let request = update();
        assert_eq!(
            judge(response_to(&request, ResponseCode::NoError), None),
            Ok(())
        );
        assert_eq!(
            judge(response_to(&request, ResponseCode::Refused), None),
            Err(UpdateError {
                name: "s._domainkey.example.com".into(),
                zone: Some("example.com".into()),
                server: server(),
                kind: UpdateErrorKind::Refused(Refusal::Refused { key: None }),
            })
        );
        assert!(matches!(
            judge(response_to(&request, ResponseCode::NotZone), None),
            Err(UpdateError {
                kind: UpdateErrorKind::Refused(Refusal::NotInZone),
                ..
            })
        ));
        assert!(matches!(
            judge(response_to(&request, ResponseCode::YXRRSet), None),
            Err(UpdateError {
                kind: UpdateErrorKind::Refused(Refusal::NameHoldsCname),
                ..
            })
        ));
        let failed = judge(response_to(&request, ResponseCode::ServFail), None).unwrap_err();
        assert!(failed.is_temporary(), "{failed}");
    }

    #[test]
    fn signed_responses_must_verify() {
        let secret = "c2VjcmV0c2VjcmV0c2VjcmV0";
        let ours = key(secret);
        assert_eq!(judge_signed(&ours, &ours, ResponseCode::NoError), Ok(()));
        assert!(matches!(
            judge_signed(&ours, &ours, ResponseCode::Refused),
            Err(UpdateError {
                kind: UpdateErrorKind::Refused(Refusal::Refused { key: Some(key) }),
                ..
            }) if key == "dkim"
        ));
        // Signed with another secret: a forgery, or a server with another secret for the key.
        let forged = judge_signed(&ours, &key("b3RoZXJvdGhlcm90aGVy"), ResponseCode::NoError);
        assert!(
            matches!(&forged, Err(UpdateError {
                kind: UpdateErrorKind::UnverifiedResponse(detail),
                ..
            }) if detail.starts_with("expected a signature with TSIG key dkim: ")),
            "{forged:?}"
        );

        // Not signed at all.
        let mut request = update();
        let verifier = request
            .finalize(&ours.signer().unwrap(), SIGNED_AT)
            .unwrap()
            .unwrap();
        let unsigned = judge(
            response_to(&request, ResponseCode::NoError),
            Some((&ours, verifier)),
        )
        .unwrap_err();
        assert!(
            unsigned
                .to_string()
                .contains("(expected a signature with TSIG key dkim: it carries no TSIG record (response code NOERROR))"),
            "{unsigned}"
        );
    }

    #[test]
    fn tsig_errors_are_read_from_the_unsigned_error_response() {
        let ours = key("c2VjcmV0c2VjcmV0c2VjcmV0");
        let answer_with = |error: TsigError, other: Vec<u8>| {
            let mut request = update();
            let verifier = request
                .finalize(&ours.signer().unwrap(), SIGNED_AT)
                .unwrap()
                .unwrap();
            let mut response = response_to(&request, ResponseCode::NotAuth);
            let mut tsig = request.signature().unwrap().data.clone();
            tsig.mac = Vec::new();
            tsig.error = Some(error);
            tsig.other = other;
            response.set_signature(Box::new(make_tsig_record(
                Name::from_ascii("dkim.").unwrap(),
                tsig,
            )));
            match judge(response, Some((&ours, verifier))) {
                Err(UpdateError {
                    kind: UpdateErrorKind::TsigRejected(failure),
                    ..
                }) => failure,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            answer_with(TsigError::BadKey, Vec::new()),
            TsigFailure::UnknownKey {
                key: "dkim".into(),
                algorithm: TsigAlgorithm::HmacSha256
            }
        );
        assert_eq!(
            answer_with(TsigError::BadSig, Vec::new()),
            TsigFailure::BadSignature { key: "dkim".into() }
        );
        let server_time = SIGNED_AT + 3600;
        assert_eq!(
            answer_with(TsigError::BadTime, server_time.to_be_bytes()[2..].to_vec()),
            TsigFailure::BadTime {
                ours: SIGNED_AT,
                server: Some(server_time)
            }
        );
        assert_eq!(
            answer_with(TsigError::BadTrunc, Vec::new()),
            TsigFailure::Other { code: 22 }
        );
    }
}

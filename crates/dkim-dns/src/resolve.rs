//! One TXT lookup, as DNS is asked for it: query, follow CNAMEs response by response
//! ([`super::answer`]), validate when a trust anchor is given, and turn what comes back into a
//! [`TxtAnswer`] or a [`LookupError`].
//!
//! hickory's high-level `Resolver` follows CNAMEs itself and folds what it found into one list,
//! which loses what a mail administrator needs to hear: which CNAMEs led where, whether the name
//! or only the TXT record is missing, whether a delegated selector dangles or loops. So this
//! uses hickory's query layer (a pool of name servers with retries) and walks the chain itself,
//! judging each RRset it passes with [`super::validate`] when validation is asked for.

use hickory_resolver::NameServerPool;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer, RetryDnsHandle};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{
    DnsRequest, DnsRequestOptions, DnsResponse, Query, ResponseCode,
};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

use super::answer::{Step, cname_chain, cname_target, interpret, txt_value};
use super::names::{display_name, query_name};
use super::responses::response_parts;
use super::validate::{Validator, Verdict};
use super::{DnssecStatus, LookupError, TxtAnswer};

/// The longest CNAME chain followed. Key records are delegated once, twice at most; a chain
/// this long is a loop through names that never repeat exactly, or a misconfiguration, and
/// recursive resolvers give up after a handful of hops too.
const MAX_CNAME_CHAIN: usize = 8;
/// Name servers with retries: what every query goes through.
pub(crate) type Transport = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;

/// Everything a lookup needs, shared by the tasks.
pub(crate) struct Resolver {
    transport: Transport,
    validator: Option<Validator>,
    options: DnsRequestOptions,
}

impl Resolver {
    /// A resolver querying through `transport` with `options`, validating with `validator` if
    /// any.
    pub(crate) fn new(
        transport: Transport,
        validator: Option<Validator>,
        options: DnsRequestOptions,
    ) -> Resolver {
        Resolver {
            transport,
            validator,
            options,
        }
    }

    /// The TXT records at `name`, following CNAMEs, validated if asked.
    pub(crate) async fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        let start = query_name(name).map_err(|reason| LookupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        // What DNSSEC says of every RRset passed so far; None when not validating.
        let mut verdict: Option<Verdict> = None;
        let mut visited = vec![start.clone()];
        let mut followed: Vec<Record> = Vec::new();
        let mut current = start;
        loop {
            let dangling = |target: &Name| LookupError::DanglingCname {
                name: name.to_owned(),
                target: display_name(target),
            };
            let response = self.query(&current, RecordType::TXT).await;
            if matches!(
                response,
                Err(NetError::Dns(DnsError::ResponseCode(
                    ResponseCode::ServFail
                )))
            ) {
                let hops = followed.len();
                if let Some(end) = self.runaway_chain(&current, &visited, hops).await {
                    return Err(dangling(&end));
                }
            }
            let (response_code, answers) = response_parts(response, name)?;
            let step = interpret(&current, response_code, &answers, &mut visited);
            match step {
                Step::Records { cnames, records } => {
                    self.judge(&mut verdict, &cnames, &answers, name).await?;
                    if let Some(txt) = records.first() {
                        self.judge_one(&mut verdict, &txt.name, RecordType::TXT, &answers, name)
                            .await?;
                    }
                    followed.extend(cnames);
                    let (dnssec, dnssec_reason) = match verdict {
                        Some(verdict) => {
                            let (status, reason) = verdict.into_parts();
                            (status, Some(reason))
                        }
                        None => (DnssecStatus::NotValidated, None),
                    };
                    return Ok(TxtAnswer {
                        records: records
                            .iter()
                            .filter_map(|r| match &r.data {
                                RData::TXT(txt) => Some(txt_value(txt)),
                                _ => None,
                            })
                            .collect(),
                        cname_chain: cname_chain(&followed),
                        dnssec,
                        dnssec_reason,
                    });
                }
                Step::Follow { cnames, target } => {
                    // A forged CNAME must not lead anywhere: judge it while its RRSIGs are at hand.
                    self.judge(&mut verdict, &cnames, &answers, name).await?;
                    followed.extend(cnames);
                    if followed.len() >= MAX_CNAME_CHAIN {
                        return Err(dangling(&target));
                    }
                    current = target;
                }
                Step::Loop { target, .. } => return Err(dangling(&target)),
                Step::NoSuchName if followed.is_empty() => {
                    return Err(LookupError::NoSuchName {
                        name: name.to_owned(),
                    });
                }
                Step::NoData if followed.is_empty() => {
                    return Err(LookupError::NoRecords {
                        name: name.to_owned(),
                    });
                }
                Step::NoSuchName | Step::NoData => return Err(dangling(&current)),
            }
        }
    }

    /// Where `start`'s CNAME chain loops back (or where it stops, if it runs past
    /// [`MAX_CNAME_CHAIN`] counting the `hops` already followed), asked one CNAME record at a
    /// time; `None` when it ends normally or cannot be followed. Servers answer SERVFAIL for a
    /// looping or overlong chain without saying why, and that would pass for a temporary failure
    /// to retry forever; asking for the CNAME records themselves (which no server chases) shows
    /// the misconfiguration. `visited` holds the names the lookup passed already.
    async fn runaway_chain(&self, start: &Name, visited: &[Name], hops: usize) -> Option<Name> {
        let mut seen = visited.to_vec();
        let mut current = start.clone();
        for _ in hops..MAX_CNAME_CHAIN {
            let response = self.query(&current, RecordType::CNAME).await.ok()?;
            let target = response
                .answers
                .iter()
                .filter(|r| r.name == current)
                .find_map(cname_target)?
                .clone();
            if seen.contains(&target) {
                return Some(target);
            }
            seen.push(target.clone());
            current = target;
        }
        Some(current)
    }

    /// Judges each of `cnames` with the RRSIGs among `answers`, into `verdict`.
    pub(super) async fn judge(
        &self,
        verdict: &mut Option<Verdict>,
        cnames: &[Record],
        answers: &[Record],
        name: &str,
    ) -> Result<(), LookupError> {
        for cname in cnames {
            self.judge_one(verdict, &cname.name, RecordType::CNAME, answers, name)
                .await?;
        }
        Ok(())
    }

    /// Judges the `record_type` RRset at `owner` among `answers`, into `verdict`; a bogus one
    /// ends the lookup (RFC 4035 4.3: bogus data must not be used).
    pub(super) async fn judge_one(
        &self,
        verdict: &mut Option<Verdict>,
        owner: &Name,
        record_type: RecordType,
        answers: &[Record],
        name: &str,
    ) -> Result<(), LookupError> {
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        let asked = query_name(name).unwrap_or_else(|_| owner.clone());
        let this = validator
            .judge(&self.transport, &asked, owner, record_type, answers)
            .await;
        let combined = match verdict.take() {
            Some(before) => before.worse(this),
            None => this,
        };
        if let Verdict::Bogus(detail) = combined {
            return Err(LookupError::Bogus {
                name: name.to_owned(),
                detail,
            });
        }
        *verdict = Some(combined);
        Ok(())
    }

    /// Sends one query; when validating, with the DO and CD bits, so that the RRSIGs come along
    /// and a validating resolver leaves the verdict to us (RFC 4035 3.2.1, 3.2.2).
    pub(super) async fn query(
        &self,
        name: &Name,
        record_type: RecordType,
    ) -> Result<DnsResponse, NetError> {
        let mut request =
            DnsRequest::from_query(Query::query(name.clone(), record_type), self.options);
        request.metadata.checking_disabled = self.validator.is_some();
        self.transport.send(request).first_answer().await
    }
}

//! One TXT lookup, as DNS is asked for it: query, follow CNAMEs response by response
//! ([`super::answer`]), validate when a trust anchor is given, and turn what comes back into a
//! [`TxtAnswer`] or a [`LookupError`].
//!
//! hickory's high-level `Resolver` follows CNAMEs itself and folds what it found into one list,
//! which loses what a mail administrator needs to hear: which CNAMEs led where, whether the name
//! or only the TXT record is missing, whether a delegated selector dangles or loops. So this
//! uses hickory's query layer (a pool of name servers with retries, wrapped in its DNSSEC
//! validator, RFC 4035 5) and walks the chain itself.

use std::sync::Arc;

use hickory_resolver::NameServerPool;
use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer, RetryDnsHandle};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::TrustAnchors;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData};
use hickory_resolver::proto::op::{DnsRequestOptions, DnsResponse, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use tokio::sync::OnceCell;

use super::answer::{Step, cname_chain, cname_target, interpret, txt_value};
use super::dnssec::status_of;
use super::names::{display_name, query_name};
use super::responses::{bogus, net_failure, response_parts};
use super::trust_anchor::AnchorRecords;
use super::{DnssecStatus, LookupError, TxtAnswer};

/// The longest CNAME chain followed. Key records are delegated once, twice at most; a chain
/// this long is a loop through names that never repeat exactly, or a misconfiguration, and
/// recursive resolvers give up after a handful of hops too.
const MAX_CNAME_CHAIN: usize = 8;
/// Name servers with retries: what every query goes through.
pub(crate) type Transport = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;
/// The transport wrapped in hickory's DNSSEC validator (RFC 4035 5).
pub(crate) type Validator = DnssecDnsHandle<Transport>;

/// Everything a lookup needs, shared by the tasks.
pub(crate) struct Resolver {
    transport: Transport,
    validation: Option<Validation>,
    options: DnsRequestOptions,
}

/// DNSSEC validation: the trust anchor, and the validator made from it on first use.
struct Validation {
    anchor: AnchorSource,
    validator: OnceCell<Validator>,
}

/// Where validation starts trusting (RFC 4033 3).
pub(crate) enum AnchorSource {
    /// The root keys hickory has built in.
    BuiltInRoot,
    /// Anchors given as records.
    Records(AnchorRecords),
}

impl Resolver {
    /// A resolver querying through `transport` with `options`, validating from `anchor` if any.
    pub(crate) fn new(
        transport: Transport,
        anchor: Option<AnchorSource>,
        options: DnsRequestOptions,
    ) -> Resolver {
        Resolver {
            transport,
            validation: anchor.map(|anchor| Validation {
                anchor,
                validator: OnceCell::new(),
            }),
            options,
        }
    }

    /// The TXT records at `name`, following CNAMEs, validated if asked.
    pub(crate) async fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        let start = query_name(name).map_err(|reason| LookupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        let validator = match &self.validation {
            Some(validation) => Some(self.validator(validation, name).await?),
            None => None,
        };
        let mut visited = vec![start.clone()];
        let mut followed: Vec<Record> = Vec::new();
        let mut current = start;
        loop {
            let dangling = |target: &Name| LookupError::DanglingCname {
                name: name.to_owned(),
                target: display_name(target),
            };
            let response = self.query(validator, &current, RecordType::TXT).await;
            if matches!(
                response,
                Err(NetError::Dns(DnsError::ResponseCode(
                    ResponseCode::ServFail
                )))
            ) {
                let hops = followed.len();
                if let Some(end) = self
                    .runaway_chain(validator, &current, &visited, hops)
                    .await
                {
                    return Err(dangling(&end));
                }
            }
            let (response_code, answers) = response_parts(response, name, &current)?;
            let step = interpret(&current, response_code, &answers, &mut visited);
            match step {
                Step::Records { cnames, records } => {
                    followed.extend(cnames);
                    let dnssec = match validator {
                        Some(_) => status_of(followed.iter().chain(&records))
                            .map_err(|bad| bogus(name, bad, &answers))?,
                        None => DnssecStatus::NotValidated,
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
                    });
                }
                Step::Follow { cnames, target } => {
                    if validator.is_some() {
                        // A forged CNAME must not lead anywhere: judge it while its RRSIGs are
                        // at hand.
                        status_of(&cnames).map_err(|bad| bogus(name, bad, &answers))?;
                    }
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
    async fn runaway_chain(
        &self,
        validator: Option<&Validator>,
        start: &Name,
        visited: &[Name],
        hops: usize,
    ) -> Option<Name> {
        let mut seen = visited.to_vec();
        let mut current = start.clone();
        for _ in hops..MAX_CNAME_CHAIN {
            let response = self
                .query(validator, &current, RecordType::CNAME)
                .await
                .ok()?;
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

    /// The validator when DNSSEC is asked for, made on first use.
    pub(super) async fn validator_for(
        &self,
        name: &str,
    ) -> Result<Option<&Validator>, LookupError> {
        match &self.validation {
            Some(validation) => Ok(Some(self.validator(validation, name).await?)),
            None => Ok(None),
        }
    }

    /// Sends one query, through the validator when there is one.
    pub(super) async fn query(
        &self,
        validator: Option<&Validator>,
        name: &Name,
        record_type: RecordType,
    ) -> Result<DnsResponse, NetError> {
        let query = Query::query(name.clone(), record_type);
        match validator {
            Some(validator) => validator.lookup(query, self.options).first_answer().await,
            None => {
                self.transport
                    .lookup(query, self.options)
                    .first_answer()
                    .await
            }
        }
    }

    /// The validator, made on first use: a DS trust anchor needs the keys it digests fetched
    /// first (unvalidated: the digest is what vouches for them), and construction sends nothing.
    /// A failure to fetch them is not kept, so the next lookup tries again.
    async fn validator<'a>(
        &self,
        validation: &'a Validation,
        name: &str,
    ) -> Result<&'a Validator, LookupError> {
        validation
            .validator
            .get_or_try_init(|| async {
                let anchors = match &validation.anchor {
                    AnchorSource::BuiltInRoot => TrustAnchors::default(),
                    AnchorSource::Records(records) => {
                        let mut fetched = Vec::new();
                        for owner in records.digest_owners() {
                            fetched.extend(self.fetch_keys(&owner, name).await?);
                        }
                        records
                            .trust_anchors(&fetched)
                            .map_err(|owner| LookupError::Bogus {
                                name: name.to_owned(),
                                detail: format!(
                                    "no DNSKEY record of {} matches the DS record given as trust \
                                     anchor",
                                    display_name(&owner)
                                ),
                            })?
                    }
                };
                Ok(DnssecDnsHandle::with_trust_anchor(
                    self.transport.clone(),
                    Arc::new(anchors),
                ))
            })
            .await
    }

    /// The DNSKEY records at `owner`, unvalidated.
    async fn fetch_keys(
        &self,
        owner: &Name,
        name: &str,
    ) -> Result<Vec<(Name, DNSKEY)>, LookupError> {
        let response = self
            .query(None, owner, RecordType::DNSKEY)
            .await
            .map_err(|error| match net_failure(name, error) {
                LookupError::ServerFailure { name, detail } => LookupError::ServerFailure {
                    name,
                    detail: format!(
                        "fetching the trust anchor's keys (DNSKEY of {}): {detail}",
                        display_name(owner)
                    ),
                },
                other => other,
            })?;
        Ok(response
            .answers
            .iter()
            .filter(|r| r.name == *owner)
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some((r.name.clone(), key.clone())),
                _ => None,
            })
            .collect())
    }
}

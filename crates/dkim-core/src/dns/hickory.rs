//! Key records from real DNS, through hickory-resolver, optionally validated with DNSSEC.
//!
//! hickory's high-level `Resolver` follows CNAMEs itself and folds what it found into one list,
//! which loses what a mail administrator needs to hear: which CNAMEs led where, whether the name
//! or only the TXT record is missing, whether a delegated selector dangles. So this module uses
//! hickory's query layer (a pool of name servers with retries, wrapped in its DNSSEC validator
//! when asked) and follows the chain itself, one response at a time ([`super::answer`]).
//!
//! The command line is synchronous and checks many keys from a thread pool, so the lookup owns a
//! small tokio runtime: each call runs as a task on it and the calling thread waits for the
//! result. That works from any number of threads at once, and even from async code (where
//! `block_on` would panic), at the cost of a blocked caller thread.

use std::error::Error;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::{SystemTime, UNIX_EPOCH};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverOpts};
use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer, RetryDnsHandle};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::TrustAnchors;
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData};
use hickory_resolver::proto::op::{DnsRequestOptions, DnsResponse, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::system_conf::read_system_conf;
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};
use tokio::runtime::Runtime;
use tokio::sync::OnceCell;

use super::answer::{Step, cname_target, interpret, txt_value};
use super::dnssec::{bogus_denial_detail, bogus_detail, status_of};
use super::names::{display_name, query_name};
use super::settings::{ResolverSettings, TrustAnchor};
use super::trust_anchor::{AnchorRecords, TrustAnchorError};
use super::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};

/// The longest CNAME chain followed. Key records are delegated once, twice at most; a chain
/// this long is a loop through names that never repeat exactly, or a misconfiguration, and
/// recursive resolvers give up after a handful of hops too.
const MAX_CNAME_CHAIN: usize = 8;
/// Threads of the runtime. They only move packets and run hickory's connection tasks;
/// validation's arithmetic runs in the lookup tasks, which these threads also run, and two
/// suffice for the thousand concurrent lookups a KeyTable check makes.
const WORKER_THREADS: usize = 2;

/// Why a [`HickoryLookup`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolverSetupError {
    /// No name servers were given, and the system's could not be read.
    #[error("cannot read the system's name servers from /etc/resolv.conf: {source}")]
    SystemConfig {
        /// What went wrong reading it.
        source: Box<dyn Error + Send + Sync>,
    },
    /// No name servers were given, and the system has none.
    #[error("/etc/resolv.conf names no name server; give one with --nameserver")]
    NoNameServers,
    /// A timeout of zero, which no answer could meet.
    #[error("the DNS timeout must be longer than zero")]
    ZeroTimeout,
    /// Zero attempts, which would never ask.
    #[error("the number of DNS attempts must be at least 1")]
    ZeroAttempts,
    /// The trust anchor text was refused.
    #[error("bad DNSSEC trust anchor: {0}")]
    TrustAnchor(#[from] TrustAnchorError),
    /// hickory's transport could not be set up.
    #[error("cannot set up the DNS transport: {source}")]
    Transport {
        /// What went wrong.
        source: Box<dyn Error + Send + Sync>,
    },
    /// The runtime's threads could not be started.
    #[error("cannot start the DNS lookup threads: {0}")]
    Runtime(#[source] io::Error),
}

/// Name servers with retries: what every query goes through.
type Transport = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;
/// The transport wrapped in hickory's DNSSEC validator (RFC 4035 5).
type Validator = DnssecDnsHandle<Transport>;

/// Looks up key records in DNS with hickory-resolver. Build one per run: it reads the system's
/// configuration and starts its threads once, and is shared by reference between threads.
pub struct HickoryLookup {
    // Options only so that Drop can take them apart in its own order; always Some otherwise.
    runtime: Option<Runtime>,
    resolver: Option<Arc<Resolver>>,
}

impl std::fmt::Debug for HickoryLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HickoryLookup").finish_non_exhaustive()
    }
}

/// Everything a lookup needs, shared by the tasks.
struct Resolver {
    transport: Transport,
    validation: Option<Validation>,
    options: DnsRequestOptions,
}

/// DNSSEC validation: the validator, made at once for key anchors and on first use for DS
/// anchors, whose keys must be fetched first.
struct Validation {
    anchor: AnchorSource,
    validator: OnceCell<Validator>,
}

enum AnchorSource {
    /// The root keys hickory has built in.
    BuiltInRoot,
    /// Anchors given as records.
    Records(AnchorRecords),
}

impl HickoryLookup {
    /// Sets up lookups as `settings` say. Reads /etc/resolv.conf when no name server is given,
    /// and checks the trust anchor; sends nothing yet.
    pub fn new(settings: &ResolverSettings) -> Result<HickoryLookup, ResolverSetupError> {
        if settings.timeout.is_zero() {
            return Err(ResolverSetupError::ZeroTimeout);
        }
        if settings.attempts == 0 {
            return Err(ResolverSetupError::ZeroAttempts);
        }
        let anchor = match &settings.dnssec {
            None => None,
            Some(TrustAnchor::BuiltInRoot) => Some(AnchorSource::BuiltInRoot),
            Some(TrustAnchor::Records(text)) => {
                Some(AnchorSource::Records(AnchorRecords::parse(text)?))
            }
        };
        let servers = name_server_configs(&settings.nameservers)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("dkimkit-dns")
            .enable_all()
            .build()
            .map_err(ResolverSetupError::Runtime)?;

        let mut options = ResolverOpts::default();
        options.timeout = settings.timeout;
        options.attempts = settings.attempts;
        options.validate = anchor.is_some();
        let mut request = DnsRequestOptions::default();
        // EDNS (RFC 6891) with hickory's 1232-byte payload: a 2048-bit key record fits in UDP;
        // larger answers come back truncated and are asked again over TCP (RFC 7766).
        request.use_edns = options.edns0;
        request.edns_payload_len = options.edns_payload_len;
        request.recursion_desired = true;
        // RFC 4035 3.2.1: the DO bit asks for the RRSIG, DNSKEY, DS and NSEC records to validate.
        request.edns_set_dnssec_ok = anchor.is_some();

        let tls = TlsConfig::new().map_err(|e| ResolverSetupError::Transport {
            source: Box::new(e),
        })?;
        let context = Arc::new(PoolContext::new(options, tls));
        let transport = {
            // hickory's connections spawn their tasks on the runtime they are made in.
            let _entered = runtime.enter();
            let pool = NameServerPool::from_config(servers, context, TokioRuntimeProvider::new());
            // RetryDnsHandle counts retries after the first try.
            RetryDnsHandle::new(pool, settings.attempts - 1)
        };
        let validation = anchor.map(|anchor| {
            let validator = match &anchor {
                AnchorSource::BuiltInRoot => {
                    OnceCell::new_with(Some(new_validator(&transport, TrustAnchors::default())))
                }
                AnchorSource::Records(records) if records.digest_owners().is_empty() => {
                    match records.trust_anchors(&[]) {
                        Ok(anchors) => OnceCell::new_with(Some(new_validator(&transport, anchors))),
                        Err(_) => OnceCell::new(),
                    }
                }
                AnchorSource::Records(_) => OnceCell::new(),
            };
            Validation { anchor, validator }
        });
        Ok(HickoryLookup {
            runtime: Some(runtime),
            resolver: Some(Arc::new(Resolver {
                transport,
                validation,
                options: request,
            })),
        })
    }
}

impl KeyLookup for HickoryLookup {
    /// Runs the lookup as a task on the lookup's runtime and waits for it.
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        let internal_failure = |detail: &str| LookupError::ServerFailure {
            name: name.to_owned(),
            detail: detail.to_owned(),
        };
        let (Some(runtime), Some(resolver)) = (&self.runtime, &self.resolver) else {
            return Err(internal_failure("the resolver has been shut down"));
        };
        let resolver = Arc::clone(resolver);
        let owned_name = name.to_owned();
        let (sender, receiver) = sync_channel(1);
        runtime.spawn(async move {
            // The receiver waits for this; if it is gone there is no one left to tell.
            let _ = sender.send(resolver.lookup_txt(&owned_name).await);
        });
        receiver
            .recv()
            .unwrap_or_else(|_| Err(internal_failure("the lookup task ended without an answer")))
    }
}

impl Drop for HickoryLookup {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            {
                // hickory's connection tasks are aborted when their handles go; do that inside
                // the runtime they run on.
                let _entered = runtime.enter();
                self.resolver.take();
            }
            // Not the blocking shutdown of Runtime's own Drop, which panics in async code.
            runtime.shutdown_background();
        }
    }
}

impl Resolver {
    /// The TXT records at `name`, following CNAMEs, validated if asked.
    async fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
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
                        cname_chain: followed
                            .iter()
                            .filter_map(cname_target)
                            .map(display_name)
                            .collect(),
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

    /// Sends one query, through the validator when there is one.
    async fn query(
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

    /// The validator, made on first use when the trust anchor has DS records: the keys they
    /// digest are fetched (unvalidated: the digest is what vouches for them) and matched.
    async fn validator<'a>(
        &self,
        validation: &'a Validation,
        name: &str,
    ) -> Result<&'a Validator, LookupError> {
        validation
            .validator
            .get_or_try_init(|| async {
                let AnchorSource::Records(records) = &validation.anchor else {
                    // Built-in anchors are set at construction; this is not reached.
                    return Ok(new_validator(&self.transport, TrustAnchors::default()));
                };
                let mut fetched = Vec::new();
                for owner in records.digest_owners() {
                    fetched.extend(self.fetch_keys(&owner, name).await?);
                }
                let anchors = records.trust_anchors(&fetched).map_err(|owner| {
                    LookupError::Bogus {
                        name: name.to_owned(),
                        detail: format!(
                            "no DNSKEY record of {} matches the DS record given as trust anchor",
                            display_name(&owner)
                        ),
                    }
                })?;
                Ok(new_validator(&self.transport, anchors))
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

/// hickory's validator over `transport`, trusting `anchors`.
fn new_validator(transport: &Transport, anchors: TrustAnchors) -> Validator {
    DnssecDnsHandle::with_trust_anchor(transport.clone(), Arc::new(anchors))
}

/// The name servers to ask: those given (UDP, then TCP for truncated answers, on the given
/// port), or the system's.
fn name_server_configs(
    addresses: &[SocketAddr],
) -> Result<Vec<NameServerConfig>, ResolverSetupError> {
    if addresses.is_empty() {
        let (config, _) = read_system_conf().map_err(|e| ResolverSetupError::SystemConfig {
            source: Box::new(e),
        })?;
        if config.name_servers().is_empty() {
            return Err(ResolverSetupError::NoNameServers);
        }
        return Ok(config.name_servers().to_vec());
    }
    Ok(addresses
        .iter()
        .map(|address| {
            let connection = |protocol| {
                let mut connection = ConnectionConfig::new(protocol);
                connection.port = address.port();
                connection
            };
            NameServerConfig::new(
                address.ip(),
                true,
                vec![
                    connection(ProtocolConfig::Udp),
                    connection(ProtocolConfig::Tcp),
                ],
            )
        })
        .collect())
}

/// The response code and answer records of a response to a query for `current`, or the error
/// it amounts to. hickory reports negative answers as errors (and, when validating, failed
/// proofs of non-existence as `Nsec` errors), which are answers here.
fn response_parts(
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
fn net_failure(name: &str, error: NetError) -> LookupError {
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
fn bogus(name: &str, record: &Record, answers: &[Record]) -> LookupError {
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
    use std::time::Duration;

    use hickory_resolver::net::NoRecords;

    use super::*;

    fn loopback_settings() -> ResolverSettings {
        ResolverSettings {
            nameservers: vec![SocketAddr::from(([127, 0, 0, 1], 53))],
            ..ResolverSettings::default()
        }
    }

    #[test]
    fn refuses_settings_that_could_never_answer() {
        let zero_timeout = ResolverSettings {
            timeout: Duration::ZERO,
            ..loopback_settings()
        };
        assert!(matches!(
            HickoryLookup::new(&zero_timeout),
            Err(ResolverSetupError::ZeroTimeout)
        ));
        let zero_attempts = ResolverSettings {
            attempts: 0,
            ..loopback_settings()
        };
        assert!(matches!(
            HickoryLookup::new(&zero_attempts),
            Err(ResolverSetupError::ZeroAttempts)
        ));
        let bad_anchor = ResolverSettings {
            dnssec: Some(TrustAnchor::Records("; nothing here\n".into())),
            ..loopback_settings()
        };
        let error = HickoryLookup::new(&bad_anchor).unwrap_err();
        assert!(matches!(
            error,
            ResolverSetupError::TrustAnchor(TrustAnchorError::Empty)
        ));
        assert_eq!(
            error.to_string(),
            "bad DNSSEC trust anchor: the trust anchor holds no DNSKEY or DS record"
        );
    }

    #[test]
    fn builds_without_sending_anything_and_drops_anywhere() {
        for dnssec in [None, Some(TrustAnchor::BuiltInRoot)] {
            let lookup = HickoryLookup::new(&ResolverSettings {
                dnssec,
                ..loopback_settings()
            })
            .unwrap();
            assert!(format!("{lookup:?}").starts_with("HickoryLookup"));
        }
        // Dropped inside async code, where tokio forbids a blocking runtime shutdown.
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        outer.block_on(async {
            drop(HickoryLookup::new(&loopback_settings()).unwrap());
        });
    }

    #[test]
    fn invalid_names_are_refused_before_any_query() {
        let lookup = HickoryLookup::new(&loopback_settings()).unwrap();
        assert!(matches!(
            lookup.lookup_txt("bad name._domainkey.example.com"),
            Err(LookupError::InvalidName { name, .. }) if name == "bad name._domainkey.example.com"
        ));
    }

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

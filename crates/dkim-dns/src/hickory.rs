//! Key records from real DNS, through hickory-resolver, optionally validated with DNSSEC.
//!
//! This is the public face: settings in, a [`KeyLookup`] out. How one lookup walks DNS is in
//! [`super::resolve`]. Each call runs on the lookup's own runtime ([`super::runtime`]), so it can
//! be made from synchronous code and from many threads at once.

use std::error::Error;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::RetryDnsHandle;
use hickory_resolver::proto::op::DnsRequestOptions;
use hickory_resolver::system_conf::read_system_conf;
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};

use super::records::{RecordKind, RecordLookup, Records};
use super::resolve::Resolver;
use super::runtime::BackgroundRuntime;
use super::settings::{ResolverSettings, TrustAnchor};
use super::trust_anchor::{AnchorRecords, TrustAnchorError};
use super::validate::{Anchors, Validator};
use super::{KeyLookup, LookupError, TxtAnswer};

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
    #[error("/etc/resolv.conf names no name server")]
    NoNameServers,
    /// A timeout of zero, which no answer could meet.
    #[error("the DNS timeout must be longer than zero")]
    ZeroTimeout,
    /// Zero attempts, which would never ask.
    #[error("the number of DNS attempts must be at least 1")]
    ZeroAttempts,
    /// The trust anchor text was refused.
    #[error("DNSSEC trust anchor: {0}")]
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

/// Looks up key records in DNS with hickory-resolver. Build one per run: it reads the system's
/// configuration and starts its threads once, and is shared by reference between threads.
pub struct HickoryLookup {
    // An Option only so that Drop can drop it inside the runtime; always Some otherwise.
    resolver: Option<Arc<Resolver>>,
    runtime: BackgroundRuntime,
}

impl std::fmt::Debug for HickoryLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HickoryLookup").finish_non_exhaustive()
    }
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
        let validator = match &settings.dnssec {
            None => None,
            Some(TrustAnchor::BuiltInRoot) => Some(Validator::new(Anchors::new(None))),
            Some(TrustAnchor::Records(text)) => Some(Validator::new(Anchors::new(Some(
                AnchorRecords::parse(text)?,
            )))),
        };
        let servers = name_server_configs(&settings.nameservers)?;
        let runtime = BackgroundRuntime::start(WORKER_THREADS, "dkimkit-dns")
            .map_err(ResolverSetupError::Runtime)?;

        let mut options = ResolverOpts::default();
        options.timeout = settings.timeout;
        options.attempts = settings.attempts;
        let mut request = DnsRequestOptions::default();
        // EDNS (RFC 6891) with hickory's 1232-byte payload: even a 4096-bit key record fits in
        // UDP; larger answers (many records, DNSSEC signatures) come back truncated and are asked
        // again over TCP (RFC 7766 5).
        request.use_edns = options.edns0;
        request.edns_payload_len = options.edns_payload_len;
        request.recursion_desired = true;
        // RFC 4035 3.2.1: the DO bit asks for the RRSIG, DNSKEY, DS and NSEC records to validate.
        request.edns_set_dnssec_ok = validator.is_some();

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
        Ok(HickoryLookup {
            resolver: Some(Arc::new(Resolver::new(transport, validator, request))),
            runtime,
        })
    }
}

impl HickoryLookup {
    /// Runs `lookup` of `name` as a task on the lookup's runtime and waits for its answer.
    fn run<T, F>(
        &self,
        name: &str,
        lookup: impl FnOnce(Arc<Resolver>, String) -> F,
    ) -> Result<T, LookupError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, LookupError>> + Send + 'static,
    {
        let internal_failure = |detail: &str| LookupError::ServerFailure {
            name: name.to_owned(),
            detail: detail.to_owned(),
        };
        let Some(resolver) = &self.resolver else {
            return Err(internal_failure("the resolver has been shut down"));
        };
        self.runtime
            .run(lookup(Arc::clone(resolver), name.to_owned()))
            .unwrap_or_else(|| Err(internal_failure("the lookup task ended without an answer")))
    }
}

impl KeyLookup for HickoryLookup {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        self.run(name, |resolver, name| async move {
            resolver.lookup_txt(&name).await
        })
    }
}

impl RecordLookup for HickoryLookup {
    fn lookup_records(&self, name: &str, kind: RecordKind) -> Result<Records, LookupError> {
        self.run(name, move |resolver, name| async move {
            resolver.lookup_records(&name, kind).await
        })
    }
}

impl Drop for HickoryLookup {
    fn drop(&mut self) {
        // hickory's connection tasks are aborted when their handles go; do that inside the
        // runtime they run on. The runtime itself shuts down after, as the field is dropped.
        let _entered = self.runtime.enter();
        self.resolver.take();
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
            "DNSSEC trust anchor: no DNSKEY or DS record in it; give the zone's key as \
             dnssec-keygen's K*.key file or `dig DNSKEY` output holds it"
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
}

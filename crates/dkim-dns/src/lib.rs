//! DNS for DKIM: key records and other mail records looked up through hickory-resolver with
//! DNSSEC validation, and key records published by DNS UPDATE, through a hosting provider's API or
//! by editing a zone file.
//!
//! This crate owns every conversation with a name server and every zone file edit. It knows
//! nothing of opendkim's tables, of rotation's steps or of the command line: it answers the
//! engine's [`KeyLookup`] and carries out the [`TxtChange`]s a caller decides on.
//!
//! - [`HickoryLookup`]: real DNS, with optional DNSSEC validation (RFC 4033-4035);
//! - [`CachingLookup`]: any lookup, asked at most once per name for the run;
//! - [`DnsUpdater`]: replaces and deletes key records on the zone's primary server by DNS UPDATE
//!   (RFC 2136), signed with a [`TsigKey`] (RFC 8945) read from the file BIND's `tsig-keygen`
//!   writes;
//! - [`HostedDns`]: the same through a DNS hosting provider's HTTP API (PowerDNS, Cloudflare,
//!   Route 53, ...);
//! - [`zone_file`]: the same in a zone file a primary server loads, with its serial raised.

mod answer;
mod cache;
mod dnssec;
mod exchange;
mod hickory;
mod hosted;
mod key_file;
mod names;
mod records;
mod resolve;
mod responses;
mod runtime;
mod settings;
mod trust_anchor;
mod tsig_key;
mod update_error;
mod update_messages;
mod update_response;
mod updater;
mod validate;
pub mod zone_file;
mod zone_search;

// The engine's lookup types, re-exported so that DNS callers find them beside the lookups.
pub use cache::CachingLookup;
pub use dkim_core::lookup::{
    DNS_PORT, DnssecStatus, GivenFirst, KeyLookup, LookupError, NameserverError, StaticLookup,
    TxtAnswer, parse_nameserver,
};
pub use dkim_core::record::TxtChange;
pub use hickory::{HickoryLookup, ResolverSetupError};
pub use hosted::{Credentials, CredentialsError, HostedDns, HostedDnsError, Provider, Setting};
pub use records::{RecordData, RecordKind, RecordLookup, Records};
pub use settings::{ResolverSettings, TrustAnchor};
pub use trust_anchor::TrustAnchorError;
pub use tsig_key::{TsigAlgorithm, TsigKey, TsigKeyError, TsigKeyParseError};
pub use update_error::{
    Refusal, TsigFailure, UpdateError, UpdateErrorKind, UpdaterSetupError, ZoneProblem,
};
pub use updater::DnsUpdater;

//! A real BIND `named` on loopback, for tests of code that talks DNS.
//!
//! dkimkit looks up key records, validates them with DNSSEC and (later) rotates them with RFC 2136
//! updates. Mocks of DNS would only test our own idea of DNS; this crate runs the server mail
//! administrators actually run, with zones written the way dkimkit writes them, so the tests see
//! real wire behaviour: strings split at 255 bytes, TCP fallback, NXDOMAIN against NODATA, CNAMEs,
//! signatures that expired, TSIG.
//!
//! - [`Zone`] is an origin with zone-file records, optionally DNSSEC-signed (validly, with expired
//!   signatures, or altered after signing) or open to TSIG-signed dynamic updates.
//! - [`NamedServer::start`] writes the configuration and zones into a temporary directory, runs
//!   `named -g` on a free port of 127.0.0.1 (UDP and TCP), and returns once named says it is
//!   running. Zones of the set are delegated from their parent zone of the set automatically, with
//!   DS records for signed children, so [`signed_root`] builds a private signed DNS tree whose
//!   root key is the trust anchor.
//! - [`Zone::in_file`] serves a zone from a master file the test owns, which the code under test
//!   edits and has named reload with `rndc reload` ([`NamedServer::rndc`]).
//! - [`NamedServer::start_secondary`] runs a second named as a secondary of a server, fed by
//!   NOTIFY and zone transfers; [`NamedServer::wait_for_serial`] waits for a transfer by
//!   re-asking each time named logs something, never by sleeping.
//! - Dropping the server kills named and removes the directory.
//!
//! - [`PdnsServer::start`] runs a PowerDNS Authoritative server instead, with the sqlite3 backend
//!   and its HTTP API on loopback, for publishing through a hosting provider's API.
//!
//! This is a test helper: every failure panics with what went wrong and named's log, and a
//! missing peer program panics naming the Debian package to install.

mod conf;
mod log;
mod pdns;
mod peers;
mod ports;
mod server;
mod signing;
mod zone;

pub use pdns::{PDNS_API_KEY, PdnsServer};
pub use peers::{Peer, peer};
pub use server::{NamedServer, signed_root};
pub use zone::{Signing, Zone, quoted_strings};

//! The DKIM engine (RFC 6376, 8301, 8463): keys, key records, canonicalization, signing and
//! verification.
//!
//! This crate holds every rule of DKIM itself and nothing else. It asks for key records through
//! the [`KeyLookup`] trait and never speaks DNS (the `dkim-dns` crate does); it has no async
//! runtime, reads no files by policy (which keys are safe to read is the `host-files` crate's
//! business), knows nothing of opendkim's tables or of rotation, and nothing of the command line:
//! no argument parsing, no printing, no process exit. Every fallible function returns a typed
//! error that names what was at fault, so a caller can add the file or domain it came from.

pub mod auth_results;
pub mod canonical;
pub mod crypto;
pub mod encoding;
pub mod header_hash;
pub mod key;
pub mod key_check;
pub mod lookup;
pub mod mbox;
pub mod message;
pub mod name;
mod prepared_key;
pub mod record;
mod rsa_keygen;
pub mod sign;
pub mod signature;
pub mod tag_list;
pub mod time;
pub mod verify;
pub mod zone_data;

pub use key::{KeyError, KeySpec, KeyType, PrivateKey, PublicKey};
pub use lookup::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};
pub use name::{DomainName, NameError, Selector};
pub use record::{HashAlgorithm, KeyRecord, RecordError};

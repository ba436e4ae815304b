//! DKIM for people who run their own mail: keys, key records, signing, verification, and
//! opendkim's key tables.
//!
//! This crate holds every rule of DKIM the `dkimkit` tool follows, and nothing of the command
//! line: no argument parsing, no printing, no process exit. Every fallible function returns a typed
//! error that names what was at fault, so a caller can add the file or domain it came from.

pub mod auth_results;
pub mod canonical;
pub mod crypto;
pub mod dns;
pub mod encoding;
pub mod files;
pub mod header_hash;
pub mod key;
pub mod key_check;
pub mod mail_dns;
pub mod mbox;
pub mod message;
pub mod name;
mod prepared_key;
pub mod record;
pub mod rotate;
mod rsa_keygen;
pub mod sign;
pub mod signature;
pub mod tables;
pub mod tag_list;
pub mod users;
pub mod verify;
pub mod zone_data;
pub mod zone_file;

pub use dns::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};
pub use key::{KeyError, KeySpec, KeyType, PrivateKey, PublicKey};
pub use name::{DomainName, NameError, Selector};
pub use record::{HashAlgorithm, KeyRecord, RecordError};

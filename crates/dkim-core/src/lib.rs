//! DKIM for people who run their own mail: keys, key records, and (in time) signing, verification
//! and rotation.
//!
//! This crate holds every rule of DKIM the `dkimkit` tool follows, and nothing of the command
//! line: no argument parsing, no printing, no process exit. Every fallible function returns a typed
//! error that names what was at fault, so a caller can add the file or domain it came from.

pub mod dns;
pub mod encoding;
pub mod files;
pub mod key;
pub mod name;
pub mod record;
pub mod tag_list;

pub use dns::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};
pub use key::{KeyError, KeySpec, KeyType, PrivateKey, PublicKey};
pub use name::{DomainName, NameError, Selector};
pub use record::{HashAlgorithm, KeyRecord, RecordError};

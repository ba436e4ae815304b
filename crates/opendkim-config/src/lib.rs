//! opendkim's KeyTable and SigningTable, and the opendkim.conf settings that name them, read and
//! written as opendkim reads them.
//!
//! People who run Postfix with OpenDKIM already have these files. For `dkimkit sign-file` to
//! sign as their mail server signs, and for `testkey` to test the keys it actually uses, dkimkit
//! must pick the same keys for a From: address as opendkim does: the same lookup order, the same
//! case rules, the same `%` substitutions, the same quirks. For `rotate` to update them, an edit
//! must leave every other byte of the file alone.
//!
//! The rules come from opendkim.conf(5) and opendkim(8) (DATA SETS), and from opendkim's source
//! where the pages are vague or wrong (the lookup order of a plain SigningTable, how lines split,
//! case). `tests/opendkim_signing_choice.rs` checks the result against the opendkim program
//! itself. One difference is deliberate: with MultipleSignatures, opendkim 2.11.0 drops all but
//! the first and last of three or more matches through a bug (fixed upstream); dkimkit signs with
//! them all, as documented.
//!
//! This crate also knows the user opendkim runs as ([`users`]). It knows nothing of DNS, of
//! rotation's cycle or of the command line; files are written through `host-files`.

mod address;
mod conf;
mod dataset;
mod error;
mod keytable;
mod lines;
mod pattern;
mod policy;
mod resolve;
mod setup;
mod signingtable;
pub mod users;

pub use address::{AddressError, SenderAddress};
pub use conf::{
    ConfError, DEFAULT_CANONICALIZATION, DEFAULT_MINIMUM_KEY_BITS, OpendkimConf, Setting,
    SettingLocation, TableLocation, path_in_base_directory,
};
pub use dataset::{DataSet, UnknownDataSetType};
pub use error::{EditError, KeyListLine, LineError, LineProblem, TableError};
pub use keytable::{KeyDomain, KeySource, KeyTable, KeyTableEntry};
pub use lines::{DataSetKind, MAX_LINE_LEN};
pub use policy::{KeyRefused, SigningPolicy};
pub use resolve::{ResolveError, SigningChoice, resolve_signing_keys};
pub use setup::{SetupError, SigningSetup, SingleKey};
pub use signingtable::{
    MultipleSignatures, PatternReadAsText, SigningMatch, SigningTable, SigningTableEntry,
};

//! Key rotation, as cron runs it every month on opendkim's own files: the cycle as a pure
//! function of a remembered state (`plan`), the state itself, the dates it writes, the lock that
//! keeps two runs apart, the ways records are published (`publish`), and the run that takes
//! every entry through its steps (`rotator`), reporting typed events.
//!
//! This crate decides what a run does and in what order; DNS conversations are `dkim-dns`'s,
//! opendkim's files are `opendkim-config`'s, and the command line only converts its flags into a
//! [`Config`] and prints the [`RunReport`]. Nothing here prints or exits.

pub mod calendar;
pub mod events;
pub mod keys;
pub mod lock;
pub mod plan;
pub mod publish;
pub mod rotator;
pub mod state;
pub mod successor;
pub mod wait;

pub use calendar::{SelectorFormatError, format_selector, names_key_type};
pub use events::{EntryStatus, Event, RotateError, Waiting, utc_minute};
pub use keys::{KeysError, ManagedEntry, SigningKeys, Untouched};
pub use lock::{LockError, RunLock};
pub use plan::{Observed, Policy, Step, next_step};
pub use publish::{
    Applied, Change, ChangeAction, CommandError, Hook, PublishError, PublishedBy, Publisher,
};
pub use rotator::{
    Config, DnsChange, EntryReport, NameServer, Parts, ReadKey, Rotator, RunReport,
    known_or_adopted,
};
pub use state::{
    CurrentKey, EntryState, NextKey, RetiringKey, RotationState, StateError, StolenKeyEnd,
};
pub use successor::{successor_record, successor_spec};
pub use wait::{
    Awaited, Behind, Presence, ServerAnswer, WaitOverdue, WaitVerdict, judge_wait, waiting_since,
};

//! Key rotation, as cron runs it every month on opendkim's own files: the cycle as a pure
//! function of a remembered state (`plan`), the state itself, the calendar and durations it
//! needs, and the lock that keeps two runs apart. The command line performs the steps.

pub mod calendar;
pub mod lock;
pub mod period;
pub mod plan;
pub mod state;
pub mod successor;
pub mod wait;

pub use calendar::{SelectorFormatError, format_selector, format_time, names_key_type};
pub use lock::{LockError, RunLock};
pub use period::{BadPeriod, Period};
pub use plan::{Observed, Policy, Step, next_step};
pub use state::{
    CurrentKey, EntryState, NextKey, RetiringKey, RotationState, StateError, StolenKeyEnd,
};
pub use successor::{successor_record, successor_spec};
pub use wait::{
    Awaited, Behind, Presence, ServerAnswer, WaitOverdue, WaitVerdict, judge_wait, waiting_since,
};

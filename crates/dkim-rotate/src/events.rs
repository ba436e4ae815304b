//! What a rotation run did and found, entry by entry: typed events, each entry's status at the
//! end of the run, and the errors, which know whether trying again later may cure them.

use std::fmt;
use std::path::PathBuf;

use dkim_core::key::{KeyError, KeySpec};
use dkim_core::name::NameError;
use dkim_core::record::RecordError;
use dkim_dns::LookupError;
use host_files::WriteError;

use super::calendar::SelectorFormatError;
use super::keys::KeysError;
use super::publish::{Applied, ChangeAction, PublishError};
use super::state::{StateError, StolenKeyEnd};
use super::wait::{Behind, WaitOverdue};
use dkim_core::time::format_utc;

/// A time as reports give it.
pub fn utc_minute(seconds: u64) -> String {
    format_utc("%Y-%m-%d %H:%M UTC", seconds).unwrap_or_else(|| seconds.to_string())
}

/// A wait for name servers that goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The record's name.
    pub name: String,
    /// When the wait began.
    pub since: u64,
    /// The servers behind, and how.
    pub behind: Vec<Behind>,
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let behind: Vec<String> = self.behind.iter().map(ToString::to_string).collect();
        write!(
            f,
            "waiting for DNS since {}: {}: {}",
            utc_minute(self.since),
            self.name,
            behind.join("; ")
        )
    }
}

/// Something a run did or found for one entry, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// First sight of the entry, or its KeyTable line changed by hand: its key is adopted.
    Adopted {
        /// The key's selector.
        selector: String,
        /// Its file.
        key_file: PathBuf,
        /// Its age, from the file's modification time.
        since: u64,
    },
    /// The user opendkim runs as could not read the key: opendkim could not sign with it.
    SignerCannotRead(String),
    /// A rotation already under way replaces a key believed stolen.
    StolenKeyReplaced {
        /// The key under way.
        next: String,
        /// The stolen key.
        current: String,
    },
    /// The current key is due; the next is chosen.
    Began {
        /// The current key.
        current: String,
        /// Since when it has been in use.
        since: u64,
        /// The next key.
        next: String,
    },
    /// A rotation started early, the current key being believed stolen.
    BeganEarly {
        /// The stolen key.
        current: String,
        /// The next key.
        next: String,
        /// How the stolen key's record ends.
        end: StolenKeyEnd,
    },
    /// The next key's files were written (or, in a dry run, would be).
    Generated {
        /// Its selector.
        selector: String,
        /// Its type and size.
        spec: KeySpec,
        /// Its private key file.
        key_file: PathBuf,
        /// Nothing was written.
        dry_run: bool,
    },
    /// The new key is RSA below RFC 8301's recommended size.
    WeakKey {
        /// Its file.
        key_file: PathBuf,
        /// Its size.
        bits: usize,
    },
    /// A record was published or withdrawn.
    Changed(Applied),
    /// A stolen key's record was replaced by one with an empty `p=`.
    Revoked(Applied),
    /// A dry run would have changed a record.
    WouldChange {
        /// The record's name.
        name: String,
        /// Publish or withdraw.
        action: ChangeAction,
        /// A withdrawal that revokes.
        revoke: bool,
    },
    /// Name servers are behind.
    Waiting(Waiting),
    /// A dry run would wait for the new record.
    WouldWait {
        /// The record's name.
        name: String,
    },
    /// A name server serves the new record, but DNSSEC proves it forged or broken.
    Bogus(LookupError),
    /// The KeyTable (or opendkim.conf) now names the next key.
    Switched {
        /// The record's name.
        name: String,
        /// The new selector.
        selector: String,
    },
    /// The switch is recorded; the old key's record stays for the overlap.
    SwitchRecorded {
        /// The old key.
        old: String,
    },
    /// The signer was told to reload (or not).
    Reload {
        /// The command, if any.
        command: Option<String>,
        /// Nothing was run.
        dry_run: bool,
    },
    /// A withdrawn key was moved to retired/ (and maybe revealed).
    Retired {
        /// Its selector.
        selector: String,
        /// The retired/ folder.
        dir: PathBuf,
        /// Where it was revealed.
        revealed: Option<PathBuf>,
    },
    /// A dry run would have retired a key.
    WouldRetire {
        /// Its file.
        key_file: PathBuf,
        /// The retired/ folder.
        dir: PathBuf,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Adopted {
                selector,
                key_file,
                since,
            } => write!(
                f,
                "adopted key {selector} ({}), in use since {}",
                key_file.display(),
                utc_minute(*since)
            ),
            Event::SignerCannotRead(why) => write!(f, "warning: {why}"),
            Event::StolenKeyReplaced { next, current } => write!(
                f,
                "the rotation to {next} under way replaces key {current} now, as asked: \
                 its record goes as soon as {next} is served, with no overlap"
            ),
            Event::Began {
                current,
                since,
                next,
            } => write!(
                f,
                "key {current} is due (in use since {}): the next is {next}",
                utc_minute(*since)
            ),
            Event::BeganEarly { current, next, end } => write!(
                f,
                "rotating key {current} now, as asked: the next is {next}; the old \
                 record is {} as soon as {next} is served, with no overlap",
                match end {
                    StolenKeyEnd::Revoke => "revoked",
                    StolenKeyEnd::Withdraw => "withdrawn",
                }
            ),
            Event::Generated {
                selector,
                spec,
                key_file,
                dry_run: false,
            } => write!(
                f,
                "generated key {selector} ({spec}) in {}",
                key_file.display()
            ),
            Event::Generated { selector, spec, .. } => {
                write!(f, "would generate key {selector} ({spec})")
            }
            Event::WeakKey { key_file, bits } => write!(
                f,
                "{}: {bits}-bit RSA keys are weak: RFC 8301 recommends at least {} bits",
                key_file.display(),
                dkim_core::key::RECOMMENDED_RSA_BITS
            ),
            Event::Changed(applied) => write!(f, "{applied}"),
            Event::Revoked(applied) => write!(f, "{applied}, revoked: p= is empty"),
            Event::WouldChange {
                name,
                action: ChangeAction::Publish,
                ..
            } => write!(f, "would publish {name}"),
            Event::WouldChange {
                name, revoke: true, ..
            } => write!(f, "would revoke {name} (p= empty)"),
            Event::WouldChange { name, .. } => write!(f, "would withdraw {name}"),
            Event::Waiting(waiting) => write!(f, "{waiting}"),
            Event::WouldWait { name } => write!(f, "would wait for {name} to be served"),
            Event::Bogus(error) => write!(f, "{error}; rotate does not switch to it"),
            Event::Switched { name, selector } => write!(
                f,
                "{name} is served by every name server: switched the KeyTable to {selector}"
            ),
            Event::SwitchRecorded { old } => write!(
                f,
                "key {old} retires; its record stays published for the overlap"
            ),
            Event::Reload { command: None, .. } => {
                write!(f, "no reload command given: reload the signer yourself")
            }
            Event::Reload {
                command: Some(command),
                dry_run: true,
            } => write!(f, "would run `{command}`"),
            Event::Reload {
                command: Some(command),
                ..
            } => write!(f, "ran `{command}`"),
            Event::Retired {
                selector,
                dir,
                revealed,
            } => {
                write!(f, "retired key {selector} to {}", dir.display())?;
                match revealed {
                    Some(path) => write!(f, "; revealed it as {}", path.display()),
                    None => Ok(()),
                }
            }
            Event::WouldRetire { key_file, dir } => {
                write!(f, "would move {} to {}", key_file.display(), dir.display())
            }
        }
    }
}

/// Where an entry stands at the end of a run.
#[derive(Debug)]
pub enum EntryStatus {
    /// Nothing to do before its next step.
    UpToDate {
        /// When that is due.
        next_step: u64,
    },
    /// Waiting for name servers.
    WaitingForDns,
    /// A step failed; the next run tries again.
    Stopped(RotateError),
    /// The run stopped before the entry was done (as asked, as if killed).
    Interrupted,
}

impl fmt::Display for EntryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryStatus::UpToDate { next_step } => {
                write!(f, "up to date; next step {}", utc_minute(*next_step))
            }
            EntryStatus::WaitingForDns => write!(f, "waiting for DNS"),
            EntryStatus::Stopped(_) => write!(f, "stopped"),
            EntryStatus::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// Why a step, or the run, could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// A private key could not be read (the reader's own error: it names the file).
    #[error(transparent)]
    Key(Box<dyn std::error::Error + Send + Sync>),
    /// A key could not be made or written as PEM.
    #[error(transparent)]
    Generate(#[from] KeyError),
    /// The KeyTable or opendkim.conf could not be read or switched.
    #[error(transparent)]
    Keys(#[from] KeysError),
    /// The state file could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// A record could not be published or withdrawn.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A new file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be moved.
    #[error("cannot move {} to {}", from.display(), to.display())]
    Move {
        /// The file.
        from: PathBuf,
        /// The folder it was to go to.
        to: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The selector format gives no selector.
    #[error(transparent)]
    SelectorFormat(#[from] SelectorFormatError),
    /// The selector format gives something that is not a selector.
    #[error("the selector format gives \"{selector}\", which is not a selector")]
    NotASelector {
        /// What it gave.
        selector: String,
        /// Why it is not one.
        source: NameError,
    },
    /// A key record rotate keeps could not be read.
    #[error("the record of {selector} ({value})")]
    Record {
        /// Its selector.
        selector: String,
        /// Its value.
        value: String,
        /// What is wrong.
        source: Box<RecordError>,
    },
    /// A name server could not be asked where a record is published.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// Before any change, a name server did not answer: nothing was changed.
    #[error("{source} (asking {server}); nothing was changed")]
    NothingChanged {
        /// The server.
        server: String,
        /// What went wrong.
        source: LookupError,
    },
    /// A name server did not answer while waiting for it.
    #[error("{0}")]
    ServerSilent(Waiting),
    /// Name servers were behind for longer than allowed.
    #[error(transparent)]
    Overdue(#[from] WaitOverdue),
    /// The signer's reload command failed.
    #[error("the signer's reload command")]
    Reload(#[source] super::publish::CommandError),
    /// A retired key could not be revealed.
    #[error("the reveal directory {}", dir.display())]
    Reveal {
        /// The folder.
        dir: PathBuf,
        /// Why.
        source: WriteError,
    },
    /// The state contradicts itself (it was edited by hand).
    #[error("the rotate state of this entry is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl RotateError {
    /// Whether trying again later may cure it (a name server or provider that did not answer,
    /// a command that asked to be run again): the run then exits 3, not 1.
    pub fn is_temporary(&self) -> bool {
        match self {
            RotateError::Publish(error) => error.is_temporary(),
            RotateError::Lookup(error) => error.is_temporary(),
            RotateError::NothingChanged { .. } | RotateError::ServerSilent(_) => true,
            RotateError::Reload(error) => {
                matches!(error, super::publish::CommandError::TryLater { .. })
            }
            _ => false,
        }
    }

    /// Whether it is a failed check someone must look at (a wait past its limit) rather than
    /// an error in what rotate was given.
    pub fn is_overdue(&self) -> bool {
        matches!(self, RotateError::Overdue(_))
    }
}

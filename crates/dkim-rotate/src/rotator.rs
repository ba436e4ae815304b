//! The rotation run: every managed entry taken through its steps ([`next_step`]) until it
//! waits for DNS, is up to date, or fails.
//!
//! The entries go through the cycle together, a round at a time: in each round every entry
//! still going takes its one next step, steps of a kind are made as one batch (the records of a
//! round in one call of the publisher, which sends one UPDATE per zone; the name servers asked
//! about every waiting record at once; the KeyTable written once for every switch), and the
//! state file is written once per batch. Every step is idempotent, so a run killed anywhere is
//! completed by the next: a key written but not recorded is found on disk, a record published
//! twice is the same record, a switch written but not recorded is read back from the KeyTable.
//!
//! What is replaced is kept (`successor`, `host_files`): the new key and its record file get
//! the owner, group and mode of the current key, the KeyTable or opendkim.conf keeps its own,
//! retired/ gets the key directory's. The new record carries the current record's h=, s=, t=
//! and n=, read from SELECTOR.txt beside the current key (what genkey wrote and the
//! administrator published, and what rotate itself publishes), or, when there is none, from
//! the current record in DNS.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use dkim_core::key::{KeySpec, KeyType, PrivateKey};
use dkim_core::key_check::{Finding, KeyProblem, Severity, check_published_key};
use dkim_core::name::{DomainName, Selector};
use dkim_core::record::{KeyRecord, format_zone_entry, value_from_zone_text, zone_entry_comment};
use dkim_core::time::unix_seconds;
use dkim_dns::{KeyLookup, LookupError};
use host_files::{FileKeeping, NewFile, OwnedFile, PUBLIC_FILE_MODE, check_can_keep_owner};
use opendkim_config::users::SystemUser;

use super::calendar::{format_selector, names_key_type};
use super::events::{EntryStatus, Event, RotateError, Waiting};
use super::keys::{KeysError, ManagedEntry, SigningKeys};
use super::plan::{Observed, Policy, Step, next_step};
use super::publish::{Change, ChangeAction, Publisher};
use super::state::{CurrentKey, EntryState, NextKey, RotationState, StolenKeyEnd};
use super::successor::{successor_record, successor_spec};
use super::wait::{Awaited, Presence, ServerAnswer, WaitVerdict, judge_wait, waiting_since};

/// Reads a private key to rotate, with the caller's policy on unsafe files; its errors name
/// the file.
pub type ReadKey<'a> =
    dyn Fn(&Path) -> Result<PrivateKey, Box<dyn Error + Send + Sync>> + Sync + 'a;

/// What a run does, converted once from the command line or a caller's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The time of the run (seconds since 1970).
    pub now: u64,
    /// When to rotate and how long to wait.
    pub policy: Policy,
    /// Change nothing; say what would be done.
    pub dry_run: bool,
    /// The next keys' type, when it is to change.
    pub key_type: Option<KeyType>,
    /// The next RSA keys' size, when it is to change.
    pub bits: Option<usize>,
    /// The new selectors' strftime format (`%k` the key type).
    pub selector_format: String,
    /// Domains whose keys are believed stolen: rotate them now, with no overlap.
    pub rotate_now: Vec<DomainName>,
    /// End a stolen key's record with an empty `p=` rather than deleting it.
    pub revoke: bool,
    /// Where to write retired private keys, readable by all.
    pub reveal_dir: Option<PathBuf>,
    /// Reloads the signer after a switch.
    pub reload_command: Option<String>,
    /// Stop, as if killed, after this many steps (for tests of resumption).
    pub stop_after_steps: Option<usize>,
}

/// A name server whose answers count, by the name reports give it.
pub struct NameServer {
    /// `192.0.2.53:53`, or "the system's resolver".
    pub name: String,
    /// Asks it, uncached, validating DNSSEC as testkey does.
    pub lookup: Box<dyn KeyLookup>,
}

/// What happened to one entry in a run.
#[derive(Debug)]
pub struct EntryReport {
    /// Its key name.
    pub name: String,
    /// Its signing domain.
    pub domain: String,
    /// What was done and found, in order.
    pub events: Vec<Event>,
    /// Where it stands.
    pub status: EntryStatus,
}

/// A record change made, for scripts (`--json` with manual publishing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DnsChange {
    /// Publish or withdraw.
    pub action: ChangeAction,
    /// The signing domain.
    pub domain: String,
    /// Where the record was changed.
    pub name: String,
    /// The record, when published.
    pub value: Option<String>,
    /// The selector's name, when a CNAME points from it to `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cname_from: Option<String>,
}

/// What a run did.
#[derive(Debug)]
pub struct RunReport {
    /// Every managed entry, in KeyTable order.
    pub entries: Vec<EntryReport>,
    /// The record changes made.
    pub dns_changes: Vec<DnsChange>,
    /// Set when the run stopped after this many steps, as [`Config::stop_after_steps`] asked.
    pub stopped_after: Option<usize>,
}

/// What every step may read, shared by the threads of a batch.
struct Context<'a> {
    config: Config,
    servers: Vec<NameServer>,
    read_key: &'a ReadKey<'a>,
    /// The user opendkim runs as, when known: its keys must be readable by it.
    signer: Option<SystemUser>,
}

/// Performs rotation runs over one KeyTable (or opendkim.conf's single key).
pub struct Rotator<'a> {
    context: Context<'a>,
    keys: SigningKeys,
    publisher: Box<dyn Publisher + 'a>,
    state: RotationState,
    state_path: PathBuf,
    steps_done: usize,
    /// Next keys "written" in a dry run.
    imagined_keys: HashSet<PathBuf>,
    dns_changes: Vec<DnsChange>,
    /// Where each record name is published, once asked (see `publication_name`).
    publication_names: HashMap<String, String>,
    /// Domains with more than one managed entry (an RSA and an Ed25519 key, say): their new
    /// selectors name the key type.
    shared_domains: HashSet<String>,
    /// Entries whose rotation this run began: a rotation asked for now is one rotation, not a
    /// loop.
    rotations_begun: HashSet<String>,
}

/// The parts a [`Rotator`] works with.
pub struct Parts<'a> {
    /// What to do.
    pub config: Config,
    /// The keys opendkim signs with.
    pub keys: SigningKeys,
    /// How records are published.
    pub publisher: Box<dyn Publisher + 'a>,
    /// The name servers that must serve a new record (and none an old one) before rotate goes
    /// on; the first is also asked where a record is published.
    pub servers: Vec<NameServer>,
    /// Reads private keys.
    pub read_key: &'a ReadKey<'a>,
    /// The user opendkim runs as, when known.
    pub signer: Option<SystemUser>,
    /// The state file.
    pub state_path: PathBuf,
}

/// An entry going through a run.
struct Going<'e> {
    entry: &'e ManagedEntry,
    report: EntryReport,
    /// Set once the entry is done for this run.
    done: bool,
}

/// How one step of a batch ended: what it did or found, in order, and how it ended.
struct Outcome {
    events: Vec<Event>,
    ending: Ending,
}

/// How a step ended.
enum Ending {
    /// Done, with the entry's new state.
    Done(EntryState),
    /// The entry waits; its state is unchanged.
    Waits,
    /// It failed; the state is unchanged.
    Failed(RotateError),
}

impl Outcome {
    fn done(event: Event, state: EntryState) -> Outcome {
        Outcome {
            events: vec![event],
            ending: Ending::Done(state),
        }
    }

    fn failed(error: RotateError) -> Outcome {
        Outcome {
            events: Vec::new(),
            ending: Ending::Failed(error),
        }
    }
}

/// Items worked on at once (DNS round trips and file syncs overlap; CPU work uses every core).
const WORKERS: usize = 16;

/// Puts a batch's outcomes at its steps' places in the round.
fn place(outcomes: &mut [Option<Outcome>], places: &[usize], done: Vec<Outcome>) {
    for (&i, outcome) in places.iter().zip(done) {
        outcomes[i] = Some(outcome);
    }
}

/// Runs `work` on every item on a few threads, the results in order.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 {
        return items.iter().map(work).collect();
    }
    let chunk = items.len().div_ceil(WORKERS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&work).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// SELECTOR.txt beside a private key file.
fn record_file(key_file: &Path, selector: &str) -> PathBuf {
    key_file.with_file_name(format!("{selector}.txt"))
}

/// The selectors an entry uses: its current key's, its next key's, its retiring keys'.
fn entry_selectors(state: &EntryState) -> impl Iterator<Item = &str> {
    std::iter::once(state.current.selector.as_str())
        .chain(state.next.iter().map(|n| n.selector.as_str()))
        .chain(state.retiring.iter().map(|r| r.selector.as_str()))
}

fn modified_time(path: &Path) -> Result<u64, RotateError> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|source| RotateError::Read {
            path: path.to_owned(),
            source,
        })?;
    Ok(unix_seconds(modified))
}

/// What rotate knows of `entry` from `state`; on first sight, or when the KeyTable was changed
/// by hand, the KeyTable's key adopted (its age is its key file's modification time), with the
/// event saying so.
pub fn known_or_adopted(
    state: &RotationState,
    keys: &SigningKeys,
    entry: &ManagedEntry,
) -> Result<(EntryState, Option<Event>), RotateError> {
    let (selector, key_file) = keys.entry(&entry.name)?;
    let remembered = state.entries.get(&entry.name);
    let known = remembered.filter(|s| {
        s.current.selector == selector || s.next.as_ref().is_some_and(|n| n.selector == selector)
    });
    if let Some(known) = known {
        return Ok((known.clone(), None));
    }
    let since = modified_time(&key_file)?;
    let adopted = Event::Adopted {
        selector: selector.clone(),
        key_file: key_file.clone(),
        since,
    };
    let adopted_state = EntryState {
        domain: entry.domain.to_string(),
        current: CurrentKey {
            selector,
            key_file,
            since,
        },
        next: None,
        retiring: remembered.map(|s| s.retiring.clone()).unwrap_or_default(),
        reload_pending: false,
    };
    Ok((adopted_state, Some(adopted)))
}

/// Whether a name server still serves a withdrawn record: any TXT record at its name (through
/// a CNAME too) counts; no such name, no TXT record, or a CNAME to nothing means it is gone.
/// For a `revoked` record, only records that still carry a key count.
fn withdrawn_presence(lookup: &dyn KeyLookup, name: &str, revoked: bool) -> Presence {
    let carries_key =
        |record: &String| !revoked || KeyRecord::parse(record).map_or(true, |r| !r.is_revoked());
    match lookup.lookup_txt(name) {
        Ok(answer) if !answer.records.iter().any(carries_key) => Presence::Lacks,
        Ok(_) => Presence::Serves,
        Err(error @ (LookupError::Bogus { .. } | LookupError::InvalidName { .. })) => {
            Presence::NoAnswer(error.to_string())
        }
        Err(error) if error.is_temporary() => Presence::NoAnswer(error.to_string()),
        Err(_) => Presence::Lacks,
    }
}

impl Context<'_> {
    fn read_key(&self, path: &Path) -> Result<PrivateKey, RotateError> {
        (self.read_key)(path).map_err(RotateError::Key)
    }

    /// An event when the user opendkim runs as could not read `key_file`.
    fn signer_warning(&self, key_file: &Path) -> Option<Event> {
        let why = self.signer.as_ref()?.cannot_sign_with(key_file)?;
        Some(Event::SignerCannotRead(why))
    }

    /// The type and size of the key that follows `current_key_file`'s.
    fn successor_spec(&self, current_key_file: &Path) -> Result<KeySpec, RotateError> {
        let current = self.read_key(current_key_file)?;
        Ok(successor_spec(
            &current,
            self.config.key_type,
            self.config.bits,
        ))
    }

    /// The record the current key is published with: its SELECTOR.txt, or else the record in
    /// DNS. None when neither is there or parses.
    fn current_record(&self, state: &EntryState, domain: &DomainName) -> Option<KeyRecord> {
        let current = &state.current;
        let txt = record_file(&current.key_file, &current.selector);
        if let Ok(text) = std::fs::read_to_string(&txt) {
            return KeyRecord::parse(&value_from_zone_text(&text)).ok();
        }
        let name = format!("{}._domainkey.{domain}", current.selector);
        let answer = self.servers.first()?.lookup.lookup_txt(&name).ok()?;
        answer.records.iter().find_map(|r| KeyRecord::parse(r).ok())
    }

    /// Writes the next key and its SELECTOR.txt, with the current ones' owner, group and
    /// mode, refusing to replace a file. The events end with the step's own.
    fn generate(&self, state: &EntryState, domain: &DomainName) -> Result<Vec<Event>, RotateError> {
        let next = state
            .next
            .as_ref()
            .ok_or(RotateError::Inconsistent("no next key to generate"))?;
        let current_file = &state.current.key_file;
        let spec = self.successor_spec(current_file)?.check()?;
        let mut events = Vec::new();
        if let KeySpec::Rsa { bits } = spec
            && bits < dkim_core::key::RECOMMENDED_RSA_BITS
        {
            events.push(Event::WeakKey {
                key_file: next.key_file.clone(),
                bits,
            });
        }
        let generated = Event::Generated {
            selector: next.selector.clone(),
            spec,
            key_file: next.key_file.clone(),
            dry_run: self.config.dry_run,
        };
        if !self.config.dry_run {
            self.write_next_key(state, spec, domain)?;
        }
        events.extend(self.signer_warning(&next.key_file));
        events.push(generated);
        Ok(events)
    }

    /// Writes the next key's files (see [`Context::generate`]).
    fn write_next_key(
        &self,
        state: &EntryState,
        spec: KeySpec,
        domain: &DomainName,
    ) -> Result<(), RotateError> {
        let next = state
            .next
            .as_ref()
            .ok_or(RotateError::Inconsistent("no next key to generate"))?;
        let current_file = &state.current.key_file;
        let key = PrivateKey::generate(spec)?;
        let selector = parse_selector(&next.selector)?;
        let record = successor_record(
            self.current_record(state, domain).as_ref(),
            &key.public_key(),
        );
        let pem = key.to_pem()?;
        let txt = record_file(&next.key_file, &next.selector);
        let zone_entry = format_zone_entry(
            selector.as_str(),
            &record.to_value(),
            Some(&zone_entry_comment(&selector, Some(domain))),
        );
        let key_kept = FileKeeping::of(current_file)?.for_private_key();
        let current_txt = record_file(current_file, &state.current.selector);
        let txt_kept = FileKeeping::of(&current_txt).ok();
        host_files::write_owned_all_or_nothing(
            &[
                OwnedFile {
                    file: NewFile {
                        path: &next.key_file,
                        contents: pem.as_bytes(),
                        mode: key_kept.mode,
                    },
                    owner: Some(key_kept.owner),
                },
                OwnedFile {
                    file: NewFile {
                        path: &txt,
                        contents: zone_entry.as_bytes(),
                        mode: txt_kept.map_or(PUBLIC_FILE_MODE, |k| k.mode),
                    },
                    owner: Some(txt_kept.map_or(key_kept.owner, |k| k.owner)),
                },
            ],
            host_files::Existing::Refuse,
        )?;
        Ok(())
    }

    /// What every name server says about the next key's record: served and that key (the
    /// testkey checks), or not; a record DNSSEC proves bogus is not served, and said.
    fn next_key_presence(
        &self,
        key: &PrivateKey,
        selector: &Selector,
        domain: &DomainName,
    ) -> (Vec<ServerAnswer>, Vec<Event>) {
        let mut events = Vec::new();
        let answers = self
            .servers
            .iter()
            .map(|server| {
                let report = check_published_key(&*server.lookup, selector, domain, Some(key));
                let presence = match report.worst() {
                    Some(Severity::Temporary) => Presence::NoAnswer(
                        report
                            .findings
                            .first()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    ),
                    _ if report.private_key_matches != Some(true)
                        || report.worst() == Some(Severity::Error) =>
                    {
                        // Visible but forged or broken by DNSSEC's evidence: say so, as testkey
                        // would, rather than wait in silence.
                        events.extend(report.findings.iter().find_map(|finding| match finding {
                            Finding::Key(KeyProblem::Lookup(error @ LookupError::Bogus { .. })) => {
                                Some(Event::Bogus(error.clone()))
                            }
                            _ => None,
                        }));
                        Presence::Lacks
                    }
                    _ => Presence::Serves,
                };
                ServerAnswer {
                    server: server.name.clone(),
                    presence,
                }
            })
            .collect();
        (answers, events)
    }

    /// Judges the wait for `name` begun at `since` from `answers`: None once it is over, the
    /// wait while it lasts. Past the policy's limit it is a failed check; a server that did not
    /// answer, within it, a temporary failure.
    fn judge(
        &self,
        awaited: Awaited,
        name: &str,
        since: u64,
        answers: &[ServerAnswer],
    ) -> Result<Option<Waiting>, RotateError> {
        let Config { now, policy, .. } = self.config;
        match judge_wait(awaited, name, answers, since, now, policy) {
            WaitVerdict::Done => Ok(None),
            WaitVerdict::Overdue(overdue) => Err(overdue.into()),
            WaitVerdict::Waiting { behind } => {
                let waiting = Waiting {
                    name: name.to_owned(),
                    since,
                    behind,
                };
                if answers
                    .iter()
                    .any(|a| matches!(a.presence, Presence::NoAnswer(_)))
                {
                    return Err(RotateError::ServerSilent(waiting));
                }
                Ok(Some(waiting))
            }
        }
    }

    /// Moves a withdrawn key and its SELECTOR.txt to retired/ beside it (and reveals it when
    /// asked), once no name server serves its record.
    fn retire_when_gone(
        &self,
        state: &EntryState,
        step: &Step,
        selector: &str,
    ) -> Result<Outcome, RotateError> {
        let Config {
            now,
            policy,
            dry_run,
            ..
        } = self.config;
        let position = state
            .retiring
            .iter()
            .position(|r| r.selector == selector)
            .ok_or(RotateError::Inconsistent("no such retiring key"))?;
        let retiring = &state.retiring[position];
        // A dry run withdrew nothing: there is nothing to ask DNS about.
        if !dry_run {
            let name = format!("{selector}._domainkey.{}", state.domain);
            let since = waiting_since(state, step, policy).unwrap_or(now);
            let revoked = retiring.stolen == Some(StolenKeyEnd::Revoke);
            let answers: Vec<ServerAnswer> = self
                .servers
                .iter()
                .map(|server| ServerAnswer {
                    server: server.name.clone(),
                    presence: withdrawn_presence(&*server.lookup, &name, revoked),
                })
                .collect();
            if let Some(waiting) = self.judge(Awaited::Gone, &name, since, &answers)? {
                return Ok(Outcome {
                    events: vec![Event::Waiting(waiting)],
                    ending: Ending::Waits,
                });
            }
        }
        let key_file = &retiring.key_file;
        let retired = key_file
            .parent()
            .map(|p| p.join("retired"))
            .unwrap_or_else(|| PathBuf::from("retired"));
        let mut after = state.clone();
        after.retiring.remove(position);
        if dry_run {
            let event = Event::WouldRetire {
                key_file: key_file.clone(),
                dir: retired,
            };
            return Ok(Outcome::done(event, after));
        }
        if let Some(keys) = key_file.parent() {
            host_files::create_dir_like(&retired, keys)?;
        }
        for file in [key_file.clone(), record_file(key_file, selector)] {
            let Some(file_name) = file.file_name() else {
                continue;
            };
            // Already moved by a run killed before recording it: nothing to do.
            if file.exists() {
                std::fs::rename(&file, retired.join(file_name)).map_err(|source| {
                    RotateError::Move {
                        from: file.clone(),
                        to: retired.clone(),
                        source,
                    }
                })?;
            }
        }
        let revealed = match (&self.config.reveal_dir, key_file.file_name()) {
            (Some(reveal_dir), Some(file_name)) => Some(reveal(
                &retired.join(file_name),
                reveal_dir,
                &state.domain,
                selector,
            )?),
            _ => None,
        };
        let event = Event::Retired {
            selector: selector.to_owned(),
            dir: retired,
            revealed,
        };
        Ok(Outcome::done(event, after))
    }
}

fn parse_selector(selector: &str) -> Result<Selector, RotateError> {
    selector
        .parse()
        .map_err(|source| RotateError::NotASelector {
            selector: selector.to_owned(),
            source,
        })
}

/// Writes a retired private key, byte for byte, to `DIR/DOMAIN.SELECTOR.private`, readable by
/// all: once its record is gone, publishing it lets anyone forge old mail, so old mail can no
/// longer be proven authentic (what dkim-rotate does). Returns the file written.
fn reveal(
    retired_key: &Path,
    reveal_dir: &Path,
    domain: &str,
    selector: &str,
) -> Result<PathBuf, RotateError> {
    let key = std::fs::read(retired_key).map_err(|source| RotateError::Read {
        path: retired_key.to_owned(),
        source,
    })?;
    let revealed = reveal_dir.join(format!("{domain}.{selector}.private"));
    host_files::write_file_with(
        &revealed,
        PUBLIC_FILE_MODE,
        host_files::Existing::Replace,
        |file| file.write_all(&key),
    )
    .map_err(|source| RotateError::Reveal {
        dir: reveal_dir.to_owned(),
        source,
    })?;
    Ok(revealed)
}

impl<'a> Rotator<'a> {
    /// A rotator over `parts`, its state read from the state file (none yet: a first run).
    pub fn new(parts: Parts<'a>) -> Result<Rotator<'a>, RotateError> {
        Ok(Rotator {
            state: RotationState::load(&parts.state_path)?,
            context: Context {
                config: parts.config,
                servers: parts.servers,
                read_key: parts.read_key,
                signer: parts.signer,
            },
            keys: parts.keys,
            publisher: parts.publisher,
            state_path: parts.state_path,
            steps_done: 0,
            imagined_keys: HashSet::new(),
            dns_changes: Vec::new(),
            publication_names: HashMap::new(),
            shared_domains: HashSet::new(),
            rotations_begun: HashSet::new(),
        })
    }

    /// The keys, as the run left them.
    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Takes every entry of `managed` through its steps. `settled` is called as each entry is
    /// done for the run (for a progress bar). Fails as a whole only when a name server does not
    /// answer before anything changed; a failing entry is reported in its status and the others
    /// go on.
    pub fn run(
        &mut self,
        managed: &[ManagedEntry],
        settled: &mut dyn FnMut(),
    ) -> Result<RunReport, RotateError> {
        let mut seen = HashSet::new();
        self.shared_domains = managed
            .iter()
            .filter(|m| !seen.insert(m.domain.as_str()))
            .map(|m| m.domain.to_string())
            .collect();
        // A DNS timeout must change nothing: ask DNS everything this run will need to ask it
        // before the first change.
        self.check_dns_answers(managed)?;
        let mut going: Vec<Going<'_>> = managed
            .iter()
            .map(|entry| Going {
                entry,
                report: EntryReport {
                    name: entry.name.clone(),
                    domain: entry.domain.to_string(),
                    events: Vec::new(),
                    status: EntryStatus::Interrupted,
                },
                done: false,
            })
            .collect();
        let stopped =
            self.begin_entries(&mut going, settled)? || self.take_steps(&mut going, settled)?;
        Ok(RunReport {
            entries: going.into_iter().map(|g| g.report).collect(),
            dns_changes: std::mem::take(&mut self.dns_changes),
            stopped_after: stopped.then_some(self.steps_done),
        })
    }

    /// How many more steps the run may take before it stops as asked.
    fn steps_left(&self) -> usize {
        self.context
            .config
            .stop_after_steps
            .map_or(usize::MAX, |limit| limit.saturating_sub(self.steps_done))
    }

    /// Writes the state, after `steps` more steps: true when the run is to stop now, as asked.
    fn save(&mut self, steps: usize) -> Result<bool, RotateError> {
        if steps == 0 {
            return Ok(false);
        }
        if !self.context.config.dry_run {
            self.state.save(&self.state_path)?;
        }
        self.steps_done += steps;
        Ok(self.steps_left() == 0)
    }

    /// Whether a rotation now is asked for `entry` (once per run).
    fn rotate_now_requested(&self, entry: &ManagedEntry) -> bool {
        self.context.config.rotate_now.contains(&entry.domain)
            && !self.rotations_begun.contains(&entry.name)
    }

    /// How a stolen key's record ends.
    fn stolen_key_end(&self) -> StolenKeyEnd {
        if self.context.config.revoke {
            StolenKeyEnd::Revoke
        } else {
            StolenKeyEnd::Withdraw
        }
    }

    /// Every entry's state, adopted on first sight (or when the KeyTable was changed by hand),
    /// and a rotation under way taken over when the key is believed stolen. True when the run
    /// is to stop, as asked.
    fn begin_entries(
        &mut self,
        going: &mut [Going<'_>],
        settled: &mut dyn FnMut(),
    ) -> Result<bool, RotateError> {
        let mut steps = 0;
        for g in going.iter_mut() {
            if steps >= self.steps_left() {
                break;
            }
            let (mut state, adopted) = match known_or_adopted(&self.state, &self.keys, g.entry) {
                Ok(known) => known,
                Err(error) => {
                    g.report.status = EntryStatus::Stopped(error);
                    g.done = true;
                    settled();
                    continue;
                }
            };
            g.report.events.extend(adopted);
            g.report
                .events
                .extend(self.context.signer_warning(&state.current.key_file));
            if !self.state.entries.contains_key(&g.entry.name) {
                self.state
                    .entries
                    .insert(g.entry.name.clone(), state.clone());
                steps += 1;
            }
            // A rotation already under way when the key is believed stolen: it becomes the
            // early one, so the current record ends without an overlap.
            if self.rotate_now_requested(g.entry)
                && let Some(next) = state.next.as_mut()
                && next.replaces_stolen.is_none()
                && steps < self.steps_left()
            {
                next.replaces_stolen = Some(self.stolen_key_end());
                self.rotations_begun.insert(g.entry.name.clone());
                g.report.events.push(Event::StolenKeyReplaced {
                    next: next.selector.clone(),
                    current: state.current.selector.clone(),
                });
                self.state.entries.insert(g.entry.name.clone(), state);
                steps += 1;
            }
        }
        self.save(steps)
    }

    /// Rounds of steps until every entry waits, is up to date, or failed. True when the run
    /// stopped as asked.
    fn take_steps(
        &mut self,
        going: &mut [Going<'_>],
        settled: &mut dyn FnMut(),
    ) -> Result<bool, RotateError> {
        loop {
            let mut round: Vec<(usize, Step)> = Vec::new();
            for (index, g) in going.iter_mut().enumerate().filter(|(_, g)| !g.done) {
                match self.step_of(g.entry) {
                    Ok(Step::Idle { until }) => {
                        g.report.status = EntryStatus::UpToDate { next_step: until };
                        g.done = true;
                        settled();
                    }
                    Ok(step) => round.push((index, step)),
                    Err(error) => {
                        g.report.status = EntryStatus::Stopped(error);
                        g.done = true;
                        settled();
                    }
                }
            }
            if round.is_empty() {
                return Ok(false);
            }
            round.truncate(self.steps_left());
            let outcomes = self.take_round(going, &round);
            let mut steps = 0;
            for ((index, _), outcome) in round.iter().zip(outcomes) {
                let g = &mut going[*index];
                g.report.events.extend(outcome.events);
                let status = match outcome.ending {
                    Ending::Done(state) => {
                        self.state.entries.insert(g.entry.name.clone(), state);
                        steps += 1;
                        continue;
                    }
                    Ending::Waits => EntryStatus::WaitingForDns,
                    Ending::Failed(error) => EntryStatus::Stopped(error),
                };
                g.report.status = status;
                g.done = true;
                settled();
            }
            if self.save(steps)? {
                return Ok(true);
            }
        }
    }

    /// The next step of `entry`; a step that would change files first checks that they can
    /// keep their owner.
    fn step_of(&self, entry: &ManagedEntry) -> Result<Step, RotateError> {
        let state = self
            .state
            .entries
            .get(&entry.name)
            .ok_or(RotateError::Inconsistent("no state"))?;
        let (table_selector, _) = self.keys.entry(&entry.name)?;
        let next_key_written = state.next.as_ref().is_some_and(|next| {
            next.key_file.exists() || self.imagined_keys.contains(&next.key_file)
        });
        let observed = Observed {
            keytable_selector: &table_selector,
            next_key_written,
            rotate_now: self.rotate_now_requested(entry),
        };
        let Config { now, policy, .. } = self.context.config;
        let step = next_step(state, observed, now, policy);
        if !matches!(step, Step::Idle { .. }) {
            self.check_keeps_owners(state)?;
        }
        Ok(step)
    }

    /// Stops before a step changes anything when what it writes could not keep the owner and
    /// group of what it replaces: the new key and record beside the current ones, the KeyTable
    /// or opendkim.conf, retired/ beside the keys.
    fn check_keeps_owners(&self, state: &EntryState) -> Result<(), RotateError> {
        let current = &state.current;
        let mut paths = vec![current.key_file.clone(), self.keys.file().to_owned()];
        let txt = record_file(&current.key_file, &current.selector);
        if txt.exists() {
            paths.push(txt);
        }
        paths.extend(current.key_file.parent().map(Path::to_owned));
        for path in paths {
            check_can_keep_owner(&path)?;
        }
        Ok(())
    }

    /// Takes one round's steps, batched by kind; one outcome per step, in order.
    fn take_round(&mut self, going: &[Going<'_>], round: &[(usize, Step)]) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = round.iter().map(|_| None).collect();
        // The round's steps of one kind: their places in the round, and their entries.
        let of_kind = |wanted: fn(&Step) -> bool| -> (Vec<usize>, Vec<(&ManagedEntry, &Step)>) {
            (0..round.len())
                .filter(|&i| wanted(&round[i].1))
                .map(|i| (i, (going[round[i].0].entry, &round[i].1)))
                .unzip()
        };
        let (places, batch) = of_kind(|s| matches!(s, Step::BeginRotation));
        let begun = batch.iter().map(|(entry, _)| self.begin_rotation(entry));
        place(&mut outcomes, &places, begun.collect());
        let (places, batch) = of_kind(|s| matches!(s, Step::Generate));
        place(&mut outcomes, &places, self.generate(&batch));
        let (places, batch) = of_kind(|s| matches!(s, Step::Publish | Step::Withdraw { .. }));
        place(&mut outcomes, &places, self.change_records(&batch));
        let (places, batch) = of_kind(|s| matches!(s, Step::SwitchWhenVisible));
        place(&mut outcomes, &places, self.switch_when_visible(&batch));
        let (places, batch) = of_kind(|s| matches!(s, Step::RecordSwitch));
        let recorded = batch.iter().map(|(entry, _)| self.record_switch(entry));
        place(&mut outcomes, &places, recorded.collect());
        let (places, batch) = of_kind(|s| matches!(s, Step::Reload));
        place(&mut outcomes, &places, self.reload(&batch));
        let (places, batch) = of_kind(|s| matches!(s, Step::Retire { .. }));
        let retired = {
            let context = &self.context;
            let work: Vec<(&EntryState, &Step)> = batch
                .iter()
                .map(|&(entry, step)| (&self.state.entries[&entry.name], step))
                .collect();
            in_parallel(&work, |(state, step)| {
                let Step::Retire { selector } = step else {
                    unreachable!("only Retire steps are here")
                };
                context
                    .retire_when_gone(state, step, selector)
                    .unwrap_or_else(Outcome::failed)
            })
        };
        place(&mut outcomes, &places, retired);
        outcomes
            .into_iter()
            .map(|o| o.expect("every step of the round has an outcome"))
            .collect()
    }

    fn state_of(&self, entry: &ManagedEntry) -> EntryState {
        self.state.entries[&entry.name].clone()
    }

    /// Chooses the next key's selector and file. A rotation asked for now (the key is believed
    /// stolen) ends the current key's record as soon as the next is served.
    fn begin_rotation(&mut self, entry: &ManagedEntry) -> Outcome {
        let stolen = self.rotate_now_requested(entry);
        self.rotations_begun.insert(entry.name.clone());
        let mut state = self.state_of(entry);
        match self.choose_next_key(&entry.name, &mut state, stolen) {
            Ok(event) => {
                // Recorded at once, so that the domain's other entries beginning in this round
                // see the selector taken.
                self.state.entries.insert(entry.name.clone(), state.clone());
                Outcome::done(event, state)
            }
            Err(error) => Outcome::failed(error),
        }
    }

    fn choose_next_key(
        &self,
        name: &str,
        state: &mut EntryState,
        stolen: bool,
    ) -> Result<Event, RotateError> {
        let config = &self.context.config;
        let key_type = self
            .context
            .successor_spec(&state.current.key_file)?
            .key_type();
        // The keys of a domain signed with several keys (MultipleSignatures) are told apart by
        // their type.
        let format = &config.selector_format;
        let format = if self.shared_domains.contains(&state.domain) && !names_key_type(format) {
            format!("{format}-%k")
        } else {
            format.clone()
        };
        let base = format_selector(&format, config.now, key_type)?;
        let folder = state
            .current
            .key_file
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        // Selectors the domain's other entries use or introduce: never the same name for two
        // keys of one domain.
        let others: Vec<&str> = self
            .state
            .entries
            .iter()
            .filter(|(other, s)| other.as_str() != name && s.domain == state.domain)
            .flat_map(|(_, s)| entry_selectors(s))
            .collect();
        let taken = |candidate: &str| {
            entry_selectors(state).any(|s| s == candidate)
                || others.contains(&candidate)
                || folder.join(format!("{candidate}.private")).exists()
                || folder
                    .join("retired")
                    .join(format!("{candidate}.private"))
                    .exists()
        };
        // Two rotations in one period (a short --every) get -2, -3... after the date.
        let selector = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}-{n}")))
            .find(|candidate| !taken(candidate))
            .unwrap_or(base);
        let selector = parse_selector(&selector)?;
        let end = self.stolen_key_end();
        state.next = Some(NextKey {
            selector: selector.to_string(),
            key_file: folder.join(format!("{selector}.private")),
            started: config.now,
            published: false,
            published_at: None,
            replaces_stolen: stolen.then_some(end),
        });
        Ok(if stolen {
            Event::BeganEarly {
                current: state.current.selector.clone(),
                next: selector.to_string(),
                end,
            }
        } else {
            Event::Began {
                current: state.current.selector.clone(),
                since: state.current.since,
                next: selector.to_string(),
            }
        })
    }

    /// Writes the next keys of the batch, on several threads (RSA keys take long to make).
    fn generate(&mut self, batch: &[(&ManagedEntry, &Step)]) -> Vec<Outcome> {
        let work: Vec<(EntryState, &DomainName)> = batch
            .iter()
            .map(|(entry, _)| (self.state_of(entry), &entry.domain))
            .collect();
        let context = &self.context;
        let written = in_parallel(&work, |(state, domain)| context.generate(state, domain));
        work.into_iter()
            .zip(written)
            .map(|((state, _), written)| match written {
                Ok(events) => {
                    if let Some(next) = &state.next
                        && self.context.config.dry_run
                    {
                        self.imagined_keys.insert(next.key_file.clone());
                    }
                    Outcome {
                        events,
                        ending: Ending::Done(state),
                    }
                }
                Err(error) => Outcome::failed(error),
            })
            .collect()
    }

    /// Where the record named `name` is published: `name` itself, or, for a selector delegated
    /// with a CNAME into a zone rotate manages, the CNAME's target (also when the target does
    /// not exist yet, as for a new key's record).
    fn publication_name(&mut self, name: &str) -> Result<String, RotateError> {
        if let Some(known) = self.publication_names.get(name) {
            return Ok(known.clone());
        }
        let server = self
            .context
            .servers
            .first()
            .ok_or(RotateError::Inconsistent("no name server to ask"))?;
        let target = publication_target(&*server.lookup, name)?;
        self.publication_names
            .insert(name.to_owned(), target.clone());
        Ok(target)
    }

    /// The record of a key file: its SELECTOR.txt, or the record genkey would write.
    fn record_of(&self, key_file: &Path, selector: &str) -> Result<String, RotateError> {
        let txt = record_file(key_file, selector);
        if let Ok(text) = std::fs::read_to_string(&txt) {
            return Ok(value_from_zone_text(&text));
        }
        if self.imagined_keys.contains(key_file) {
            return Ok("(the new key's record)".to_owned());
        }
        let key = self.context.read_key(key_file)?;
        Ok(successor_record(None, &key.public_key()).to_value())
    }

    /// The record of a key file with an empty `p=`, which revokes the key (RFC 6376 3.6.1).
    fn revoked_record(&self, key_file: &Path, selector: &str) -> Result<String, RotateError> {
        let value = self.record_of(key_file, selector)?;
        let mut record = KeyRecord::parse(&value).map_err(|source| RotateError::Record {
            selector: selector.to_owned(),
            value: value.clone(),
            source: Box::new(source),
        })?;
        record.public_key.clear();
        Ok(record.to_value())
    }

    /// The records one entry serves: its current key, its next key once published, its
    /// retiring keys until withdrawn, and a revoked key's record (p= empty) until it retires.
    fn records_served(
        &mut self,
        state: &EntryState,
        domain: &DomainName,
    ) -> Result<Vec<(String, String)>, RotateError> {
        let mut keys = vec![(&state.current.selector, &state.current.key_file, false)];
        keys.extend(
            state
                .next
                .iter()
                .filter(|n| n.published)
                .map(|n| (&n.selector, &n.key_file, false)),
        );
        keys.extend(state.retiring.iter().filter_map(|r| {
            let revoked = r.withdrawn && r.stolen == Some(StolenKeyEnd::Revoke);
            (!r.withdrawn || revoked).then_some((&r.selector, &r.key_file, revoked))
        }));
        keys.into_iter()
            .map(|(selector, key_file, revoked)| {
                let name = self.publication_name(&format!("{selector}._domainkey.{domain}"))?;
                let value = if revoked {
                    self.revoked_record(key_file, selector)?
                } else {
                    self.record_of(key_file, selector)?
                };
                Ok((name, value))
            })
            .collect()
    }

    /// What rotate serves for `domain` once every entry is in its state (the batch's entries in
    /// the state after their change): the records of every managed entry of the domain (they
    /// share an include file).
    fn serving_for_domain(
        &mut self,
        domain: &DomainName,
    ) -> Result<Vec<(String, String)>, RotateError> {
        let states: Vec<EntryState> = self
            .state
            .entries
            .values()
            .filter(|s| s.domain == domain.as_str())
            .cloned()
            .collect();
        let mut serving = Vec::new();
        for state in &states {
            serving.extend(self.records_served(state, domain)?);
        }
        serving.sort();
        serving.dedup();
        Ok(serving)
    }

    /// The change a Publish or Withdraw step makes, and the entry's state once it is made.
    fn planned_change(
        &mut self,
        entry: &ManagedEntry,
        step: &Step,
    ) -> Result<PlannedChange, RotateError> {
        let now = self.context.config.now;
        let domain = &entry.domain;
        let mut after = self.state_of(entry);
        let (selector, value, revoke) = match step {
            Step::Publish => {
                let next = after
                    .next
                    .as_mut()
                    .ok_or(RotateError::Inconsistent("no next key to publish"))?;
                next.published = true;
                next.published_at = Some(now);
                let (selector, key_file) = (next.selector.clone(), next.key_file.clone());
                let value = self.record_of(&key_file, &selector)?;
                (selector, Some(value), false)
            }
            Step::Withdraw { selector } => {
                let retiring = after
                    .retiring
                    .iter_mut()
                    .find(|r| &r.selector == selector)
                    .ok_or(RotateError::Inconsistent("no such retiring key"))?;
                retiring.withdrawn = true;
                retiring.withdrawn_at = Some(now);
                let revoke = retiring.stolen == Some(StolenKeyEnd::Revoke);
                let key_file = retiring.key_file.clone();
                let value = if revoke {
                    Some(self.revoked_record(&key_file, selector)?)
                } else {
                    None
                };
                (selector.clone(), value, revoke)
            }
            _ => return Err(RotateError::Inconsistent("not a record change")),
        };
        let name = format!("{selector}._domainkey.{domain}");
        let target = self.publication_name(&name)?;
        Ok(PlannedChange {
            domain: domain.clone(),
            cname_from: (target != name).then_some(name),
            name: target,
            value,
            revoke,
            after,
            serving: Vec::new(),
        })
    }

    /// Asks the first name server, all at once, where each of `names` not yet asked about is
    /// published.
    fn find_publication_names(&mut self, names: Vec<String>) {
        let Some(first) = self.context.servers.first() else {
            return;
        };
        let unknown: Vec<String> = names
            .into_iter()
            .filter(|name| !self.publication_names.contains_key(name))
            .collect();
        let found = in_parallel(&unknown, |name| {
            publication_target(&*first.lookup, name).ok()
        });
        for (name, target) in unknown.into_iter().zip(found) {
            if let Some(target) = target {
                self.publication_names.insert(name, target);
            }
        }
    }

    /// What each domain of `planned` serves once the batch is made: the batch's states in
    /// place of the entries' current ones.
    fn serving_after(
        &mut self,
        planned: &[(String, Result<PlannedChange, RotateError>)],
    ) -> Vec<Result<Vec<(String, String)>, RotateError>> {
        let mut before = Vec::new();
        for (name, change) in planned {
            if let Ok(change) = change {
                before.extend(
                    self.state
                        .entries
                        .insert(name.clone(), change.after.clone())
                        .map(|state| (name.clone(), state)),
                );
            }
        }
        let serving = planned
            .iter()
            .map(|(_, change)| match change {
                Ok(change) => self.serving_for_domain(&change.domain.clone()),
                Err(_) => Ok(Vec::new()),
            })
            .collect();
        self.state.entries.extend(before);
        serving
    }

    /// Publishes and withdraws the batch's records in one call of the publisher.
    fn change_records(&mut self, batch: &[(&ManagedEntry, &Step)]) -> Vec<Outcome> {
        if batch.is_empty() {
            return Vec::new();
        }
        let steps = batch;
        let names = steps
            .iter()
            .filter_map(|(entry, step)| {
                let selector = match step {
                    Step::Withdraw { selector } => selector.clone(),
                    _ => self
                        .state
                        .entries
                        .get(&entry.name)?
                        .next
                        .as_ref()?
                        .selector
                        .clone(),
                };
                Some(format!("{selector}._domainkey.{}", entry.domain))
            })
            .collect();
        self.find_publication_names(names);
        let planned: Vec<(String, Result<PlannedChange, RotateError>)> = steps
            .iter()
            .map(|(entry, step)| (entry.name.clone(), self.planned_change(entry, step)))
            .collect();
        if self.context.config.dry_run {
            return planned
                .into_iter()
                .map(|(_, planned)| match planned {
                    Ok(change) => Outcome::done(
                        Event::WouldChange {
                            name: change.cname_from.clone().unwrap_or(change.name),
                            action: match (&change.value, change.revoke) {
                                (Some(_), false) => ChangeAction::Publish,
                                _ => ChangeAction::Withdraw,
                            },
                            revoke: change.revoke,
                        },
                        change.after,
                    ),
                    Err(error) => Outcome::failed(error),
                })
                .collect();
        }
        let serving = if self.publisher.needs_serving() {
            self.serving_after(&planned)
        } else {
            planned.iter().map(|_| Ok(Vec::new())).collect()
        };
        let ready: Vec<Result<PlannedChange, RotateError>> = planned
            .into_iter()
            .zip(serving)
            .map(|((_, change), serving)| {
                Ok(PlannedChange {
                    serving: serving?,
                    ..change?
                })
            })
            .collect();
        let changes: Vec<Change<'_>> = ready
            .iter()
            .flatten()
            .map(|change| Change {
                domain: change.domain.as_str(),
                name: &change.name,
                value: change.value.as_deref(),
                serving: &change.serving,
            })
            .collect();
        let mut applied = self.publisher.apply_all(&changes).into_iter();
        ready
            .into_iter()
            .map(|ready| {
                let change = match ready {
                    Ok(change) => change,
                    Err(error) => return Outcome::failed(error),
                };
                match applied.next() {
                    Some(Ok(applied)) => {
                        self.dns_changes.push(DnsChange {
                            action: applied.action,
                            domain: change.domain.to_string(),
                            name: change.name.clone(),
                            value: change.value.clone(),
                            cname_from: change.cname_from.clone(),
                        });
                        let event = if change.revoke {
                            Event::Revoked(applied)
                        } else {
                            Event::Changed(applied)
                        };
                        Outcome::done(event, change.after)
                    }
                    Some(Err(error)) => Outcome::failed(error.into()),
                    None => Outcome::failed(RotateError::Inconsistent(
                        "the publisher left a change unanswered",
                    )),
                }
            })
            .collect()
    }

    /// Switches the batch's entries whose next key every name server serves, writing the
    /// KeyTable (or opendkim.conf) once.
    fn switch_when_visible(&mut self, batch: &[(&ManagedEntry, &Step)]) -> Vec<Outcome> {
        let Config {
            now,
            policy,
            dry_run,
            ..
        } = self.context.config;
        let work: Vec<(&ManagedEntry, EntryState, &Step)> = batch
            .iter()
            .map(|&(entry, step)| (entry, self.state_of(entry), step))
            .collect();
        let context = &self.context;
        let judged = in_parallel(&work, |(entry, state, step)| {
            let next = state
                .next
                .as_ref()
                .ok_or(RotateError::Inconsistent("no next key to switch to"))?;
            let name = format!("{}._domainkey.{}", next.selector, entry.domain);
            if dry_run {
                return Ok(Err(vec![Event::WouldWait { name }]));
            }
            let selector = parse_selector(&next.selector)?;
            let key = context.read_key(&next.key_file)?;
            let since = waiting_since(state, step, policy).unwrap_or(now);
            let (answers, mut events) = context.next_key_presence(&key, &selector, &entry.domain);
            match context.judge(Awaited::Served, &name, since, &answers)? {
                Some(waiting) => {
                    events.push(Event::Waiting(waiting));
                    Ok(Err(events))
                }
                None => Ok(Ok((selector, next.key_file.clone(), name))),
            }
        });
        let mut outcomes = Vec::new();
        let mut switched = Vec::new();
        for ((entry, state, _), judged) in work.iter().zip(judged) {
            outcomes.push(match judged {
                Ok(Ok((selector, key_file, name))) => {
                    match self.keys.switch(&entry.name, &selector, &key_file) {
                        Ok(()) => {
                            switched.push((entry.name.clone(), state.current.clone()));
                            let event = Event::Switched {
                                name,
                                selector: selector.to_string(),
                            };
                            Outcome::done(event, state.clone())
                        }
                        Err(error) => Outcome::failed(error.into()),
                    }
                }
                Ok(Err(events)) => Outcome {
                    events,
                    ending: Ending::Waits,
                },
                Err(error) => Outcome::failed(error),
            });
        }
        if switched.is_empty() {
            return outcomes;
        }
        if let Err(error) = self.keys.save() {
            // Nothing was switched: put the entries back as the file has them.
            for (name, current) in &switched {
                if let Ok(selector) = parse_selector(&current.selector) {
                    let _ = self.keys.switch(name, &selector, &current.key_file);
                }
            }
            let error = std::sync::Arc::new(error);
            for outcome in &mut outcomes {
                if let Ending::Done(_) = outcome.ending {
                    outcome.ending =
                        Ending::Failed(RotateError::Keys(KeysError::NotSaved(error.clone())));
                }
            }
        }
        outcomes
    }

    /// Records a switch the KeyTable already has: the old key starts its overlap.
    fn record_switch(&mut self, entry: &ManagedEntry) -> Outcome {
        let mut state = self.state_of(entry);
        match state.switch_to_next(self.context.config.now) {
            Some(old) => Outcome::done(Event::SwitchRecorded { old }, state),
            None => Outcome::failed(RotateError::Inconsistent("no next key to record")),
        }
    }

    /// Runs the signer's reload command once for every entry switched.
    fn reload(&mut self, batch: &[(&ManagedEntry, &Step)]) -> Vec<Outcome> {
        if batch.is_empty() {
            return Vec::new();
        }
        let config = &self.context.config;
        let ran = match (&config.reload_command, config.dry_run) {
            (Some(command), false) => super::publish::run_command(command, &[]),
            _ => Ok(()),
        };
        let event = Event::Reload {
            command: config.reload_command.clone(),
            dry_run: config.dry_run,
        };
        batch
            .iter()
            .map(|(entry, _)| {
                let mut state = self.state_of(entry);
                state.reload_pending = false;
                match &ran {
                    Ok(()) => Outcome::done(event.clone(), state),
                    Err(error) => Outcome::failed(RotateError::Reload(error.clone())),
                }
            })
            .collect()
    }

    /// Asks DNS, before anything changes, about every entry that has work to do this run: a
    /// timeout then stops the run with nothing changed, rather than after a key was made.
    fn check_dns_answers(&self, managed: &[ManagedEntry]) -> Result<(), RotateError> {
        let Config { now, policy, .. } = self.context.config;
        let mut names = Vec::new();
        for entry in managed {
            // An entry that cannot be read or adopted fails on its own, asking DNS nothing.
            let Ok((table_selector, _)) = self.keys.entry(&entry.name) else {
                continue;
            };
            let Ok((state, _)) = known_or_adopted(&self.state, &self.keys, entry) else {
                continue;
            };
            let next_key_written = state.next.as_ref().is_some_and(|n| n.key_file.exists());
            let observed = Observed {
                keytable_selector: &table_selector,
                next_key_written,
                rotate_now: self.rotate_now_requested(entry),
            };
            // Waits ask every server themselves, and a server that stays silent is reported
            // when the wait is judged (exit 3, or 1 past the wait's limit).
            if matches!(
                next_step(&state, observed, now, policy),
                Step::Idle { .. } | Step::SwitchWhenVisible | Step::Retire { .. }
            ) {
                continue;
            }
            let selector = state
                .next
                .as_ref()
                .map_or(&state.current.selector, |n| &n.selector);
            names.push(format!("{selector}._domainkey.{}", entry.domain));
        }
        for name in &names {
            self.publisher.check_reachable(name)?;
        }
        // The changes ask the first server only (where a selector's CNAME points); the others
        // are asked by the waits.
        let Some(first) = self.context.servers.first() else {
            return Ok(());
        };
        let silent = in_parallel(&names, |name| match first.lookup.lookup_txt(name) {
            Err(error) if error.is_temporary() => Some(error),
            _ => None,
        });
        match silent.into_iter().flatten().next() {
            Some(source) => Err(RotateError::NothingChanged {
                server: first.name.clone(),
                source,
            }),
            None => Ok(()),
        }
    }
}

/// Where the record named `name` is published, as `lookup` answers: `name` itself, or the
/// end of the CNAME chain at it (also when the target does not exist yet).
fn publication_target(lookup: &dyn KeyLookup, name: &str) -> Result<String, RotateError> {
    match lookup.lookup_txt(name) {
        Ok(answer) => Ok(answer
            .cname_chain
            .last()
            .cloned()
            .unwrap_or_else(|| name.to_owned())),
        Err(LookupError::DanglingCname { target, .. }) => Ok(target),
        Err(error) if error.is_temporary() => Err(error.into()),
        Err(_) => Ok(name.to_owned()),
    }
}

/// A record change a batch makes.
struct PlannedChange {
    domain: DomainName,
    /// Where the record is published.
    name: String,
    /// The selector's own name, when a CNAME points from it to `name`.
    cname_from: Option<String>,
    /// The record; None withdraws.
    value: Option<String>,
    /// The record replaces a stolen key's with an empty `p=`.
    revoke: bool,
    /// The entry's state once it is made.
    after: EntryState,
    /// What the domain serves once the batch is made, for publishers that need it.
    serving: Vec<(String, String)>,
}

#[cfg(test)]
mod tests;

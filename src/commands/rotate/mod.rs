//! `dkimkit rotate`: the monthly rotation cycle on opendkim's KeyTable, safe under cron.
//!
//! The library plans (`dkim_core::rotate::next_step`); this file performs each step, records
//! it in the state file at once, and asks for the next, until an entry is waiting or idle. Every
//! step is idempotent, so a run killed between two steps is completed by the next run.

mod publish;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dkim_core::dns::{
    DnsUpdater, HickoryLookup, KeyLookup, LookupError, ResolverSettings, TsigKey, parse_nameserver,
};
use dkim_core::files::{NewFile, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE};
use dkim_core::key_check::{Finding, Severity, check_published_key};
use dkim_core::record::value_from_zone_text;
use dkim_core::rotate::{
    CurrentKey, EntryState, LockError, NextKey, Observed, Policy, RotationState, RunLock, Step,
    format_time, next_step,
};
use dkim_core::tables::{KeyDomain, KeySource, KeyTable, SigningTable};
use dkim_core::{DomainName, KeySpec, KeyType, PrivateKey, Selector};
use serde_json::json;

use self::publish::{Change, Manual, Publisher, Rfc2136, ZoneFile, is_under};
use super::published_record::PublishedRecord;
use super::{dnssec_setting, read_private_key, table_location, write_files};
use crate::cli::{HashList, PublishMethod, RecordOptions, RotateArgs};
use crate::exit::{Outcome, TemporaryFailure};
use crate::output::{self, Progress};

/// Where the state and the lock live, in --keys-dir.
const STATE_FILE: &str = "dkimkit-rotate.json";
const LOCK_FILE: &str = "dkimkit-rotate.lock";

/// A KeyTable entry rotate manages.
struct Managed {
    name: String,
    domain: DomainName,
}

/// What happened to one entry in this run.
struct EntryReport {
    key_name: String,
    domain: String,
    events: Vec<String>,
    status: String,
}

/// Everything a run works with.
struct Rotation<'a> {
    args: &'a RotateArgs,
    now: u64,
    policy: Policy,
    state: RotationState,
    state_path: PathBuf,
    table: KeyTable,
    table_path: PathBuf,
    publisher: Box<dyn Publisher>,
    visibility: Vec<(String, HickoryLookup)>,
    steps_done: usize,
    /// Next keys "written" in a dry run.
    imagined_keys: HashSet<PathBuf>,
    /// The record changes made, for --json (what a script applies with --publish manual).
    dns_changes: Vec<serde_json::Value>,
    /// Where each record name is published, once asked (see `publication_name`).
    publication_names: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

pub fn run(args: RotateArgs) -> anyhow::Result<Outcome> {
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let keys_dir = &args.keys_dir;
    if !keys_dir.is_dir() {
        anyhow::bail!("--keys-dir {} is not a directory", keys_dir.display());
    }
    let _lock = if args.dry_run {
        None
    } else {
        Some(
            RunLock::acquire(&keys_dir.join(LOCK_FILE)).map_err(|e| match e {
                held @ LockError::Held { .. } => {
                    anyhow::Error::new(TemporaryFailure(held.to_string()))
                }
                other => anyhow::Error::new(other),
            })?,
        )
    };
    let state_path = keys_dir.join(STATE_FILE);
    let (table_path, table_kind) = table_location(&args.keytable);
    let table = KeyTable::load(&table_path, table_kind)?;
    let referenced = match &args.signing_table {
        Some(signing) => {
            let (path, kind) = table_location(signing);
            let signing = SigningTable::load(&path, kind)?;
            Some(
                signing
                    .entries()
                    .map(|(_, e)| e.key_name.clone())
                    .collect::<HashSet<_>>(),
            )
        }
        None => None,
    };
    let (managed, unmanaged) = managed_entries(&table, keys_dir, referenced.as_ref());

    let mut rotation = Rotation {
        args: &args,
        now,
        policy: Policy {
            every: args.every,
            overlap: args.overlap,
        },
        state: RotationState::load(&state_path)?,
        state_path,
        table,
        table_path,
        publisher: publisher(&args)?,
        visibility: visibility_lookups(&args)?,
        steps_done: 0,
        imagined_keys: HashSet::new(),
        dns_changes: Vec::new(),
        publication_names: Default::default(),
    };
    // A DNS timeout must change nothing: ask DNS everything this run will need to ask it
    // before the first change.
    rotation.check_dns_answers(&managed)?;

    let progress = Progress::new(managed.len(), "keys", false);
    let mut reports = Vec::new();
    let mut failure = None;
    for entry in &managed {
        let mut report = EntryReport {
            key_name: entry.name.clone(),
            domain: entry.domain.to_string(),
            events: Vec::new(),
            status: String::new(),
        };
        if let Err(error) = rotation.rotate_entry(entry, &mut report) {
            report.status = format!("stopped: {error:#}");
            failure = Some(error.context(format!("KeyTable entry {}", entry.name)));
        }
        progress.advance();
        reports.push(report);
        if failure.is_some() {
            break;
        }
    }
    progress.finish();
    print_reports(&args, &reports, &unmanaged, &rotation.dns_changes)?;
    match failure {
        Some(error) => Err(error),
        None => Ok(Outcome::Success),
    }
}

/// The entries to rotate: key file under --keys-dir, a named domain, and (with
/// --signing-table) referred to by the SigningTable. The others, with why, are left untouched.
fn managed_entries(
    table: &KeyTable,
    keys_dir: &Path,
    referenced: Option<&HashSet<String>>,
) -> (Vec<Managed>, Vec<(String, &'static str)>) {
    let mut managed = Vec::new();
    let mut unmanaged = Vec::new();
    for (_, entry) in table.entries() {
        let why_not = match (&entry.domain, &entry.key) {
            (KeyDomain::FromSigningAddress, _) => Some("its domain is %"),
            (_, KeySource::Inline) => Some("its key is inline"),
            (_, KeySource::File(path)) if !is_under(path, keys_dir) => {
                Some("its key file is not under --keys-dir")
            }
            _ if referenced.is_some_and(|r| !r.contains(&entry.name)) => {
                Some("the SigningTable does not refer to it")
            }
            _ => None,
        };
        match (why_not, &entry.domain) {
            (None, KeyDomain::Named(domain)) => managed.push(Managed {
                name: entry.name.clone(),
                domain: domain.clone(),
            }),
            (why, _) => unmanaged.push((entry.name.clone(), why.unwrap_or("its domain is %"))),
        }
    }
    (managed, unmanaged)
}

fn publisher(args: &RotateArgs) -> anyhow::Result<Box<dyn Publisher>> {
    Ok(match args.publish {
        PublishMethod::Manual => Box::new(Manual),
        PublishMethod::ZoneFile => Box::new(ZoneFile {
            dir: args
                .zone_dir
                .clone()
                .context("--publish zone-file needs --zone-dir")?,
            reload_command: args.dns_reload_command.clone(),
        }),
        PublishMethod::Rfc2136 => {
            let server = args
                .server
                .as_deref()
                .context("--publish rfc2136 needs --server")?;
            let address = parse_nameserver(server).with_context(|| format!("--server {server}"))?;
            let key = args
                .tsig_key
                .as_deref()
                .map(|path| TsigKey::from_file(path, None))
                .transpose()?;
            Box::new(Rfc2136 {
                updater: DnsUpdater::new(address, key, args.timeout)?,
            })
        }
    })
}

/// One uncached lookup per --nameserver (every one must serve a record before it counts as
/// visible), or the system's resolver. They validate DNSSEC as testkey does (the same setting,
/// judged per zone), so a record testkey would call bogus never counts as visible.
fn visibility_lookups(args: &RotateArgs) -> anyhow::Result<Vec<(String, HickoryLookup)>> {
    let dnssec = dnssec_setting(&args.dnssec)?;
    let settings = |nameservers| ResolverSettings {
        nameservers,
        timeout: args.timeout,
        dnssec: dnssec.clone(),
        ..ResolverSettings::default()
    };
    if args.nameservers.is_empty() {
        return Ok(vec![(
            "the system's resolver".to_owned(),
            HickoryLookup::new(&settings(Vec::new()))?,
        )]);
    }
    args.nameservers
        .iter()
        .map(|server| {
            let address =
                parse_nameserver(server).with_context(|| format!("--nameserver {server}"))?;
            Ok((
                server.clone(),
                HickoryLookup::new(&settings(vec![address]))?,
            ))
        })
        .collect()
}

/// Runs a command line with `sh -c`, failing with its output when it fails.
fn run_command(command: &str) -> anyhow::Result<()> {
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        anyhow::bail!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn modified_time(path: &Path) -> anyhow::Result<u64> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

fn date(seconds: u64) -> String {
    format_time("%Y-%m-%d %H:%M UTC", seconds).unwrap_or_else(|_| seconds.to_string())
}

/// The record genkey writes for a key, with its default flags (h=sha256).
fn default_record(
    key: &PrivateKey,
    selector: &Selector,
    domain: &DomainName,
) -> anyhow::Result<PublishedRecord> {
    let options = RecordOptions {
        append_domain: false,
        hash_algorithms: HashList(vec![dkim_core::HashAlgorithm::Sha256]),
        note: None,
        restrict: false,
        no_subdomains: false,
        subdomains: false,
        testmode: false,
    };
    PublishedRecord::new(&key.public_key(), selector, Some(domain), &options)
}

/// SELECTOR.txt beside a private key file.
fn record_file(key_file: &Path, selector: &str) -> PathBuf {
    key_file.with_file_name(format!("{selector}.txt"))
}

impl Rotation<'_> {
    fn key_table_entry(&self, name: &str) -> anyhow::Result<(String, PathBuf)> {
        let entry = self
            .table
            .get(name)
            .with_context(|| format!("the KeyTable no longer has {name}"))?;
        let KeySource::File(path) = &entry.key else {
            anyhow::bail!("{name}: the KeyTable names no key file");
        };
        Ok((entry.selector.to_string(), path.clone()))
    }

    /// The entry's state, adopting it on first sight (its age is its key file's modification
    /// time) or when the KeyTable was changed by hand.
    fn entry_state(
        &mut self,
        entry: &Managed,
        report: &mut EntryReport,
    ) -> anyhow::Result<EntryState> {
        let (selector, key_file) = self.key_table_entry(&entry.name)?;
        let known = self.state.entries.get(&entry.name).filter(|s| {
            s.current.selector == selector
                || s.next.as_ref().is_some_and(|n| n.selector == selector)
        });
        if let Some(known) = known {
            return Ok(known.clone());
        }
        let since = modified_time(&key_file)?;
        report.events.push(format!(
            "adopted key {selector} ({}), in use since {}",
            key_file.display(),
            date(since)
        ));
        let retiring = self
            .state
            .entries
            .get(&entry.name)
            .map(|s| s.retiring.clone())
            .unwrap_or_default();
        Ok(EntryState {
            domain: entry.domain.to_string(),
            current: CurrentKey {
                selector,
                key_file,
                since,
            },
            next: None,
            retiring,
            reload_pending: false,
        })
    }

    /// Records the entry's new state: at once, so that a kill after this point keeps the step.
    fn commit(&mut self, name: &str, entry: EntryState) -> anyhow::Result<()> {
        self.state.entries.insert(name.to_owned(), entry);
        if !self.args.dry_run {
            self.state.save(&self.state_path)?;
        }
        self.steps_done += 1;
        if self
            .args
            .stop_after_steps
            .is_some_and(|limit| self.steps_done >= limit)
        {
            anyhow::bail!(
                "stopped after {} steps, as --stop-after-steps asked",
                self.steps_done
            );
        }
        Ok(())
    }

    /// Performs the entry's steps until it waits or is idle.
    fn rotate_entry(&mut self, entry: &Managed, report: &mut EntryReport) -> anyhow::Result<()> {
        let mut state = self.entry_state(entry, report)?;
        if !self.state.entries.contains_key(&entry.name) {
            self.commit(&entry.name, state.clone())?;
        }
        loop {
            let (table_selector, _) = self.key_table_entry(&entry.name)?;
            let next_key_written = state.next.as_ref().is_some_and(|next| {
                next.key_file.exists() || self.imagined_keys.contains(&next.key_file)
            });
            let observed = Observed {
                keytable_selector: &table_selector,
                next_key_written,
            };
            let step = next_step(&state, observed, self.now, self.policy);
            let done = match step {
                Step::Idle { until } => {
                    report.status = format!("up to date; next step {}", date(until));
                    return Ok(());
                }
                Step::BeginRotation => self.begin_rotation(&mut state)?,
                Step::Generate => self.generate(&mut state, &entry.domain)?,
                Step::Publish => self.publish(&entry.name, &mut state, &entry.domain)?,
                Step::SwitchWhenVisible => {
                    match self.switch_when_visible(&entry.name, &state, &entry.domain)? {
                        Some(event) => event,
                        None => {
                            report.status = "waiting for DNS".to_owned();
                            let next = state.next.as_ref().map_or("", |n| n.selector.as_str());
                            report.events.push(format!(
                                "waiting for DNS: {next}._domainkey.{} is not visible yet",
                                entry.domain
                            ));
                            return Ok(());
                        }
                    }
                }
                Step::RecordSwitch => match state.switch_to_next(self.now) {
                    Some(old) => {
                        format!("key {old} retires; its record stays published for the overlap")
                    }
                    None => String::new(),
                },
                Step::Reload => self.reload(&mut state)?,
                Step::Withdraw { selector } => {
                    self.withdraw(&entry.name, &mut state, &selector, &entry.domain)?
                }
                Step::Retire { selector } => self.retire(&mut state, &selector)?,
            };
            report.events.push(done);
            self.commit(&entry.name, state.clone())?;
        }
    }

    fn begin_rotation(&mut self, state: &mut EntryState) -> anyhow::Result<String> {
        let base = format_time(&self.args.selector_format, self.now)?;
        let folder = state
            .current
            .key_file
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        let taken = |candidate: &str| {
            candidate == state.current.selector
                || state.retiring.iter().any(|r| r.selector == candidate)
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
        let selector: Selector = selector.parse().with_context(|| {
            format!("--selector-format gives {selector:?}, which is not a selector")
        })?;
        state.next = Some(NextKey {
            selector: selector.to_string(),
            key_file: folder.join(format!("{selector}.private")),
            started: self.now,
            published: false,
        });
        Ok(format!(
            "key {} is due (in use since {}): the next is {selector}",
            state.current.selector,
            date(state.current.since)
        ))
    }

    /// The key type and size of new keys: as asked, or as the current key.
    fn key_spec(&self, current_key: &Path) -> anyhow::Result<KeySpec> {
        // Read the current key only when it decides something, and then once (an unsafe key's
        // warning is given once).
        let loaded = std::cell::OnceCell::new();
        let current = || -> anyhow::Result<&PrivateKey> {
            if let Some(key) = loaded.get() {
                return Ok(key);
            }
            let key = read_private_key(current_key, self.args.allow_unsafe_keys)?;
            Ok(loaded.get_or_init(|| key))
        };
        let key_type = match self.args.key_type {
            Some(key_type) => KeyType::from(key_type),
            None => current()?.key_type(),
        };
        let spec = match key_type {
            KeyType::Ed25519 => KeySpec::Ed25519,
            KeyType::Rsa => KeySpec::Rsa {
                bits: match self.args.bits {
                    Some(bits) => bits,
                    None => current()?.bits().max(dkim_core::key::RECOMMENDED_RSA_BITS),
                },
            },
        };
        Ok(spec.check()?)
    }

    fn generate(&mut self, state: &mut EntryState, domain: &DomainName) -> anyhow::Result<String> {
        let next = state.next.as_ref().context("no next key to generate")?;
        let spec = self.key_spec(&state.current.key_file)?;
        if self.args.dry_run {
            self.imagined_keys.insert(next.key_file.clone());
            return Ok(format!("would generate key {} ({spec:?})", next.selector));
        }
        let key = PrivateKey::generate(spec)?;
        let selector: Selector = next.selector.parse()?;
        let record = default_record(&key, &selector, domain)?;
        let pem = key.to_pem()?;
        let txt = record_file(&next.key_file, &next.selector);
        let zone_entry = record.zone_entry();
        write_files(
            &[
                NewFile {
                    path: &next.key_file,
                    contents: pem.as_bytes(),
                    mode: PRIVATE_FILE_MODE,
                },
                NewFile {
                    path: &txt,
                    contents: zone_entry.as_bytes(),
                    mode: PUBLIC_FILE_MODE,
                },
            ],
            false,
        )?;
        Ok(format!(
            "generated key {} in {}",
            next.selector,
            next.key_file.display()
        ))
    }

    /// The record of a key file: its SELECTOR.txt, or the record genkey would write.
    fn record_of(
        &self,
        key_file: &Path,
        selector: &str,
        domain: &DomainName,
    ) -> anyhow::Result<String> {
        let txt = record_file(key_file, selector);
        if let Ok(text) = std::fs::read_to_string(&txt) {
            return Ok(value_from_zone_text(&text));
        }
        if self.imagined_keys.contains(key_file) {
            return Ok("(the new key's record)".to_owned());
        }
        let key = read_private_key(key_file, self.args.allow_unsafe_keys)?;
        Ok(default_record(&key, &selector.parse()?, domain)?
            .record
            .to_value())
    }

    /// The records one entry serves: its current key, its next key once published, and its
    /// retiring keys until withdrawn.
    fn records_served(
        &self,
        state: &EntryState,
        domain: &DomainName,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut keys = vec![(&state.current.selector, &state.current.key_file)];
        keys.extend(
            state
                .next
                .iter()
                .filter(|n| n.published)
                .map(|n| (&n.selector, &n.key_file)),
        );
        keys.extend(
            state
                .retiring
                .iter()
                .filter(|r| !r.withdrawn)
                .map(|r| (&r.selector, &r.key_file)),
        );
        keys.into_iter()
            .map(|(selector, key_file)| {
                let name = self.publication_name(&format!("{selector}._domainkey.{domain}"))?;
                Ok((name, self.record_of(key_file, selector, domain)?))
            })
            .collect()
    }

    fn publish(
        &mut self,
        name_in_table: &str,
        state: &mut EntryState,
        domain: &DomainName,
    ) -> anyhow::Result<String> {
        let mut after = state.clone();
        let next = after.next.as_mut().context("no next key to publish")?;
        next.published = true;
        let (selector, key_file) = (next.selector.clone(), next.key_file.clone());
        let name = format!("{selector}._domainkey.{domain}");
        let value = self.record_of(&key_file, &selector, domain)?;
        let event = if self.args.dry_run {
            format!("would publish {name}")
        } else {
            self.apply_change(name_in_table, &after, domain, &name, Some(&value))?
        };
        *state = after;
        Ok(event)
    }

    fn withdraw(
        &mut self,
        name_in_table: &str,
        state: &mut EntryState,
        selector: &str,
        domain: &DomainName,
    ) -> anyhow::Result<String> {
        let mut after = state.clone();
        let retiring = after
            .retiring
            .iter_mut()
            .find(|r| r.selector == selector)
            .context("no such retiring key")?;
        retiring.withdrawn = true;
        let name = format!("{selector}._domainkey.{domain}");
        let event = if self.args.dry_run {
            format!("would withdraw {name}")
        } else {
            self.apply_change(name_in_table, &after, domain, &name, None)?
        };
        *state = after;
        Ok(event)
    }

    /// Where the record named `name` is published: `name` itself, or, for a selector delegated
    /// with a CNAME into a zone rotate manages, the CNAME's target (also when the target does
    /// not exist yet, as for a new key's record).
    fn publication_name(&self, name: &str) -> anyhow::Result<String> {
        if let Some(known) = self.publication_names.borrow().get(name) {
            return Ok(known.clone());
        }
        let (_, lookup) = self.visibility.first().context("no name server to ask")?;
        let target = match lookup.lookup_txt(name) {
            Ok(answer) => answer
                .cname_chain
                .last()
                .cloned()
                .unwrap_or_else(|| name.to_owned()),
            Err(LookupError::DanglingCname { target, .. }) => target,
            Err(error) if error.is_temporary() => {
                return Err(anyhow::Error::new(TemporaryFailure(error.to_string())));
            }
            Err(_) => name.to_owned(),
        };
        self.publication_names
            .borrow_mut()
            .insert(name.to_owned(), target.clone());
        Ok(target)
    }

    /// Publishes (`value`) or withdraws the record at `name`, entry `name_in_table` being in
    /// state `changed` once it is done, and records the change for the report.
    fn apply_change(
        &mut self,
        name_in_table: &str,
        changed: &EntryState,
        domain: &DomainName,
        name: &str,
        value: Option<&str>,
    ) -> anyhow::Result<String> {
        let serving = self.serving_for_domain(name_in_table, changed, domain)?;
        let target = self.publication_name(name)?;
        let event = self.publisher.apply(&Change {
            domain: domain.as_str(),
            name: &target,
            value,
            serving: &serving,
        })?;
        let mut change = json!({
            "action": if value.is_some() { "publish" } else { "withdraw" },
            "domain": domain.as_str(),
            "name": target,
            "value": value,
        });
        if target != name {
            change["cname_from"] = json!(name);
        }
        self.dns_changes.push(change);
        Ok(event)
    }

    /// What rotate serves for `domain` once entry `name` is in state `changed`: its records and
    /// those of the other managed entries of the domain (they share an include file).
    fn serving_for_domain(
        &self,
        name: &str,
        changed: &EntryState,
        domain: &DomainName,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut serving = self.records_served(changed, domain)?;
        for (other_name, other) in &self.state.entries {
            if other_name != name && other.domain == domain.as_str() {
                serving.extend(self.records_served(other, domain)?);
            }
        }
        serving.sort();
        serving.dedup();
        Ok(serving)
    }

    /// Switches the KeyTable entry to the next key if its record is visible at every name
    /// server and is that key (the testkey checks). None while it is not.
    fn switch_when_visible(
        &mut self,
        name: &str,
        state: &EntryState,
        domain: &DomainName,
    ) -> anyhow::Result<Option<String>> {
        let next = state.next.as_ref().context("no next key to switch to")?;
        if self.args.dry_run {
            return Ok(None);
        }
        let selector: Selector = next.selector.parse()?;
        let key = read_private_key(&next.key_file, self.args.allow_unsafe_keys)?;
        for (_, lookup) in &self.visibility {
            let report = check_published_key(lookup, &selector, domain, Some(&key));
            match report.worst() {
                Some(Severity::Temporary) => {
                    return Err(anyhow::Error::new(TemporaryFailure(format!(
                        "cannot check {}: {}",
                        report.name,
                        report
                            .findings
                            .first()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ))));
                }
                _ if report.private_key_matches != Some(true)
                    || report.worst() == Some(Severity::Error) =>
                {
                    // Visible but forged or broken by DNSSEC's evidence: say so, as testkey
                    // would, rather than wait in silence.
                    if let Some(bogus) = report
                        .findings
                        .iter()
                        .find(|f| matches!(f, Finding::Lookup(LookupError::Bogus { .. })))
                    {
                        output::warning(&format!("{bogus}; rotate does not switch to it"));
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
        self.table.set_key(name, &selector, &next.key_file)?;
        self.table.save(&self.table_path)?;
        Ok(Some(format!(
            "{}._domainkey.{domain} is visible: switched the KeyTable to {selector}",
            next.selector
        )))
    }

    fn reload(&mut self, state: &mut EntryState) -> anyhow::Result<String> {
        state.reload_pending = false;
        match (&self.args.reload_command, self.args.dry_run) {
            (None, _) => Ok("no --reload-command: reload the signer yourself".to_owned()),
            (Some(command), true) => Ok(format!("would run {command:?}")),
            (Some(command), false) => {
                run_command(command).context("--reload-command")?;
                Ok(format!("ran {command:?}"))
            }
        }
    }

    fn retire(&mut self, state: &mut EntryState, selector: &str) -> anyhow::Result<String> {
        let position = state
            .retiring
            .iter()
            .position(|r| r.selector == selector)
            .context("no such retiring key")?;
        let key_file = state.retiring[position].key_file.clone();
        let retired = key_file
            .parent()
            .map(|p| p.join("retired"))
            .unwrap_or_else(|| PathBuf::from("retired"));
        let event = if self.args.dry_run {
            format!("would move {} to {}", key_file.display(), retired.display())
        } else {
            std::fs::create_dir_all(&retired)
                .with_context(|| format!("cannot create {}", retired.display()))?;
            for file in [key_file.clone(), record_file(&key_file, selector)] {
                let Some(file_name) = file.file_name() else {
                    continue;
                };
                // Already moved by a run killed before recording it: nothing to do.
                if file.exists() {
                    std::fs::rename(&file, retired.join(file_name)).with_context(|| {
                        format!("cannot move {} to {}", file.display(), retired.display())
                    })?;
                }
            }
            format!("retired key {selector} to {}", retired.display())
        };
        state.retiring.remove(position);
        Ok(event)
    }

    /// Asks DNS, before anything changes, about every entry that has work to do this run: a
    /// timeout then stops the run with nothing changed, rather than after a key was made.
    fn check_dns_answers(&self, managed: &[Managed]) -> anyhow::Result<()> {
        for entry in managed {
            let Ok((table_selector, key_file)) = self.key_table_entry(&entry.name) else {
                continue;
            };
            let state = match self.state.entries.get(&entry.name) {
                Some(state) => state.clone(),
                None => EntryState {
                    domain: entry.domain.to_string(),
                    current: CurrentKey {
                        selector: table_selector.clone(),
                        since: modified_time(&key_file).unwrap_or(self.now),
                        key_file,
                    },
                    next: None,
                    retiring: Vec::new(),
                    reload_pending: false,
                },
            };
            let next_key_written = state.next.as_ref().is_some_and(|n| n.key_file.exists());
            let observed = Observed {
                keytable_selector: &table_selector,
                next_key_written,
            };
            if matches!(
                next_step(&state, observed, self.now, self.policy),
                Step::Idle { .. }
            ) {
                continue;
            }
            let selector = state
                .next
                .as_ref()
                .map_or(&state.current.selector, |n| &n.selector);
            let name = format!("{selector}._domainkey.{}", entry.domain);
            self.publisher.check_reachable(&name)?;
            for (server, lookup) in &self.visibility {
                if let Err(error) = lookup.lookup_txt(&name)
                    && error.is_temporary()
                {
                    return Err(anyhow::Error::new(TemporaryFailure(format!(
                        "{error} (asking {server}); nothing was changed"
                    ))));
                }
            }
        }
        Ok(())
    }
}

fn print_reports(
    args: &RotateArgs,
    reports: &[EntryReport],
    unmanaged: &[(String, &'static str)],
    dns_changes: &[serde_json::Value],
) -> anyhow::Result<()> {
    let count = |status: &str| {
        reports
            .iter()
            .filter(|r| r.status.starts_with(status))
            .count()
    };
    let summary = format!(
        "rotate{}: {} keys: {} up to date, {} waiting for DNS{}{}",
        if args.dry_run {
            " (dry run, nothing changed)"
        } else {
            ""
        },
        reports.len(),
        count("up to date"),
        count("waiting"),
        match count("stopped") {
            0 => String::new(),
            n => format!(", {n} stopped"),
        },
        match unmanaged.len() {
            0 => String::new(),
            n => format!("; {n} KeyTable entries left untouched"),
        }
    );
    if args.json {
        output::print_json(&json!({
            "dry_run": args.dry_run,
            "keys": reports.iter().map(|r| json!({
                "key_name": r.key_name,
                "domain": r.domain,
                "events": r.events,
                "status": r.status,
            })).collect::<Vec<_>>(),
            "untouched": unmanaged.iter().map(|(name, why)| json!({ "key_name": name, "why": why })).collect::<Vec<_>>(),
            "dns_changes": dns_changes,
            "summary": summary,
        }))?;
        return Ok(());
    }
    let mut out = output::stdout();
    for report in reports {
        for event in &report.events {
            writeln!(out, "{}: {event}", report.key_name)?;
        }
        writeln!(out, "{}: {}", report.key_name, report.status)?;
    }
    writeln!(out, "{summary}")?;
    out.flush()?;
    Ok(())
}

//! `dkimkit rotate`: the monthly rotation cycle on opendkim's KeyTable (or the single key of
//! opendkim.conf), safe under cron.
//!
//! The library runs the rotation (`dkim_rotate::Rotator`); this file turns the command
//! line and opendkim.conf into its configuration, publisher and name servers once, takes the
//! lock, and prints what the run reports. Every entry is processed: one that fails is reported
//! beside the others, and the exit status is the worst of theirs.

mod status;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use dkim_core::KeyType;
use dkim_core::time::unix_now;
use dkim_dns::{
    Credentials, DnsUpdater, HickoryLookup, HostedDns, ResolverSettings, TsigKey, parse_nameserver,
};
use dkim_rotate::publish::{Exec, Hosted, Manual, Rfc2136, ZoneFile, ZoneFileEdit};
use dkim_rotate::{
    Config, DnsChange, EntryStatus, Event, LockError, NameServer, Parts, Policy, Publisher,
    RotateError, RotationState, Rotator, RunLock, RunReport, SigningKeys, Untouched,
};
use opendkim_config::users::{SystemUser, opendkim_user};
use opendkim_config::{KeyTable, OpendkimConf, SigningSetup, SigningTable};
use serde::Serialize;

use super::{read_private_key, table_location, warn_if_weak};
use crate::cli::{PublishMethod, RotateAction, RotateArgs};
use crate::exit::{CheckFailure, Outcome, TemporaryFailure};
use crate::output::error as print_error;
use crate::output::{self, Progress};

/// Where the state and the lock live, in --keys-dir.
const STATE_FILE: &str = "dkimkit-rotate.json";
const LOCK_FILE: &str = "dkimkit-rotate.lock";

/// What the command line and opendkim.conf (-x) say to work with.
struct Settings {
    keys: SigningKeys,
    /// Key names the SigningTable refers to, when one is given.
    referenced: Option<HashSet<String>>,
    /// Where and how records are checked in DNS, as testkey checks them.
    dns: ResolverSettings,
    allow_unsafe_keys: bool,
    /// The user opendkim runs as, when known: its keys must be readable by it.
    signer: Option<SystemUser>,
    /// The settings used and where they come from, for -v.
    used: Vec<String>,
}

/// Whether `path` reads as an opendkim.conf that names keys (a mistake for a KeyTable).
fn looks_like_opendkim_conf(path: &Path) -> bool {
    OpendkimConf::load(path).is_ok_and(|conf| {
        ["KeyTable", "Domain", "Selector", "KeyFile"]
            .iter()
            .any(|setting| conf.setting(setting).is_some())
    })
}

/// The names of the keys a SigningTable refers to.
fn referenced_keys(
    path: &Path,
    kind: opendkim_config::DataSetKind,
) -> anyhow::Result<HashSet<String>> {
    Ok(SigningTable::load(path, kind)?
        .entries()
        .map(|(_, e)| e.key_name.clone())
        .collect())
}

impl Settings {
    fn from_args(args: &RotateArgs) -> anyhow::Result<Self> {
        match (&args.config, &args.keytable) {
            (Some(conf), _) => {
                Self::from_conf(args, conf).with_context(|| conf.display().to_string())
            }
            (None, Some(keytable)) => {
                let (path, kind) = table_location(keytable);
                let referenced = match &args.signing_table {
                    Some(signing) => {
                        let (path, kind) = table_location(signing);
                        Some(referenced_keys(&path, kind)?)
                    }
                    None => None,
                };
                let mut used = vec![format!("KeyTable {keytable} (--keytable)")];
                used.extend(
                    args.signing_table
                        .iter()
                        .map(|t| format!("SigningTable {t} (--signing-table)")),
                );
                let signer = opendkim_user(None, Some(&path))?;
                let table = KeyTable::load(&path, kind).map_err(|error| {
                    if looks_like_opendkim_conf(&path) {
                        anyhow::anyhow!(
                            "{} is an opendkim.conf, not a KeyTable: give it with -x",
                            path.display()
                        )
                    } else {
                        error.into()
                    }
                })?;
                Ok(Settings {
                    keys: SigningKeys::Table {
                        table,
                        path,
                        base: None,
                    },
                    referenced,
                    dns: args.dns.resolver_settings(None)?,
                    allow_unsafe_keys: args.key_safety.allow_unsafe_keys,
                    signer,
                    used,
                })
            }
            (None, None) => {
                anyhow::bail!("say what to rotate: --keytable FILE or -x opendkim.conf")
            }
        }
    }

    fn from_conf(args: &RotateArgs, path: &Path) -> anyhow::Result<Self> {
        let conf = OpendkimConf::load(path)?;
        let used = std::cell::RefCell::new(Vec::new());
        let note = |setting: &str| {
            if let Some(written) = conf.setting(setting) {
                used.borrow_mut()
                    .push(format!("{setting} {} ({})", written.value, written.at));
            }
        };
        let (keys, referenced) = match conf.key_table()? {
            Some(table) => {
                note("KeyTable");
                note("SigningTable");
                let referenced = match conf.signing_table()? {
                    Some(signing) => Some(referenced_keys(&signing.path, signing.kind)?),
                    None => None,
                };
                let keys = SigningKeys::Table {
                    table: KeyTable::load(&table.path, table.kind)?,
                    path: table.path,
                    base: conf.base_directory().map(Path::to_owned),
                };
                (keys, referenced)
            }
            None => match SigningSetup::from_conf(&conf)? {
                SigningSetup::SingleKey(single) => {
                    note("Domain");
                    note("Selector");
                    note("KeyFile");
                    let keys = SigningKeys::Single {
                        name: std::fs::canonicalize(path)
                            .unwrap_or_else(|_| path.to_owned())
                            .display()
                            .to_string(),
                        domains: single.domains,
                        selector: single.selector,
                        key_file: single.key_file,
                        conf: conf.clone(),
                    };
                    (keys, None)
                }
                _ => anyhow::bail!("it names no keys to rotate"),
            },
        };
        let dns = args.dns.resolver_settings(Some(&conf))?;
        if args.dns.nameservers.is_empty() {
            note("Nameservers");
        } else {
            let given: Vec<String> = dns.nameservers.iter().map(ToString::to_string).collect();
            used.borrow_mut()
                .push(format!("--nameserver {}", given.join(", ")));
        }
        if conf.trust_anchor_file().is_some() {
            note("TrustAnchorFile");
        }
        note("RequireSafeKeys");
        if conf.user_id().is_some() {
            note("UserID");
        }
        let key_table = match &keys {
            SigningKeys::Table { path, .. } => Some(path.as_path()),
            SigningKeys::Single { .. } => None,
        };
        let signer = opendkim_user(conf.user_id(), key_table)?;
        Ok(Settings {
            keys,
            referenced,
            dns,
            allow_unsafe_keys: args.key_safety.allows_unsafe(Some(&conf)),
            signer,
            used: used.into_inner(),
        })
    }
}

/// The run was stopped by --stop-after-steps, as if killed.
#[derive(Debug, thiserror::Error)]
#[error("stopped after {0} steps, as --stop-after-steps asked")]
struct StoppedAsAsked(usize);

pub fn run(args: RotateArgs) -> anyhow::Result<Outcome> {
    let now = args.now.unwrap_or_else(unix_now);
    let keys_dir = &args.keys_dir;
    if !keys_dir.is_dir() {
        anyhow::bail!("--keys-dir {} is not a directory", keys_dir.display());
    }
    let policy = Policy {
        every: args.every,
        overlap: args.overlap,
        max_wait: args.max_wait,
    };
    if args.action == Some(RotateAction::Status) {
        // Reads only: no lock, so that it answers while a run waits for DNS.
        let settings = Settings::from_args(&args)?;
        let (managed, unmanaged) = settings
            .keys
            .managed_entries(keys_dir, settings.referenced.as_ref());
        let state = RotationState::load(&keys_dir.join(STATE_FILE))?;
        let all_read = status::print(
            &args,
            &settings.keys,
            &state,
            &managed,
            &unmanaged,
            now,
            policy,
        )?;
        // An entry whose state could not be read is a failed check, as in a run.
        return Ok(if all_read {
            Outcome::Success
        } else {
            Outcome::CheckFailed
        });
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
    let settings = Settings::from_args(&args)?;
    let (managed, unmanaged) = settings
        .keys
        .managed_entries(keys_dir, settings.referenced.as_ref());
    for domain in &args.rotate_now {
        if !managed.iter().any(|m| &m.domain == domain) {
            anyhow::bail!(
                "--rotate-now {domain}: no entry rotate manages signs for {domain} (its key file \
                 must be under --keys-dir); nothing was changed"
            );
        }
    }
    let allow_unsafe_keys = settings.allow_unsafe_keys;
    let read_key = move |path: &Path| read_private_key(path, allow_unsafe_keys).map_err(Into::into);
    let config = Config {
        now,
        policy,
        dry_run: args.dry_run,
        key_type: args.key_type.map(KeyType::from),
        bits: args.bits,
        selector_format: args.selector_format.clone(),
        rotate_now: args.rotate_now.clone(),
        revoke: args.revoke,
        reveal_dir: args.reveal_dir.clone(),
        reload_command: args.reload_command.clone(),
        stop_after_steps: args.stop_after_steps,
    };
    let mut rotator = Rotator::new(Parts {
        config,
        publisher: publisher(&args, now, &settings.dns)?,
        servers: name_servers(&settings.dns)?,
        keys: settings.keys,
        read_key: &read_key,
        signer: settings.signer,
        state_path: keys_dir.join(STATE_FILE),
    })?;
    let progress = Progress::new(managed.len(), "keys", false);
    let report = rotator
        .run(&managed, &mut || progress.advance())
        .map_err(run_error)?;
    progress.finish();
    print_report(&args, &settings.used, &report, &unmanaged)?;
    if let Some(steps) = report.stopped_after {
        return Err(StoppedAsAsked(steps).into());
    }
    // Every entry was processed; the exit status is the worst of theirs: a failed entry 1, one
    // that could not go on for now (DNS, a temporary failure) 3.
    let mut outcome = Outcome::Success;
    for entry in &report.entries {
        if let EntryStatus::Stopped(error) = &entry.status {
            let entry_named = rotator.keys().describe(&entry.name);
            print_error(&anyhow::Error::msg(output::describe_cause(error)).context(entry_named));
            outcome = match (outcome, error.is_temporary()) {
                (Outcome::CheckFailed, _) | (_, false) => Outcome::CheckFailed,
                (_, true) => Outcome::TemporaryFailure,
            };
        }
    }
    Ok(outcome)
}

/// A run that failed as a whole, as the exit status wants it: a name server that did not
/// answer before anything changed exits 3.
fn run_error(error: RotateError) -> anyhow::Error {
    if error.is_temporary() {
        anyhow::Error::new(TemporaryFailure(output::describe_cause(&error)))
    } else if error.is_overdue() {
        anyhow::Error::new(CheckFailure(Box::new(error)))
    } else {
        anyhow::Error::new(error)
    }
}

fn publisher(
    args: &RotateArgs,
    now: u64,
    dns: &ResolverSettings,
) -> anyhow::Result<Box<dyn Publisher>> {
    let method = args
        .publish
        .context("say how to publish records: --publish METHOD")?;
    Ok(match method {
        PublishMethod::Manual => Box::new(Manual),
        PublishMethod::Exec => {
            let command = args
                .publish_command
                .clone()
                .context("--publish exec needs --publish-command")?;
            Box::new(Exec {
                command,
                zone_finder: zone_finder(dns)?,
            })
        }
        PublishMethod::Hosted(provider) => {
            let path = args.credentials.as_deref().with_context(|| {
                format!("--publish {provider} needs --credentials FILE (chmod 600)")
            })?;
            let credentials = Credentials::from_file(path, provider)?;
            Box::new(Hosted {
                client: HostedDns::new(&credentials, dns.timeout)?,
                zone_finder: zone_finder(dns)?,
            })
        }
        PublishMethod::ZoneFile if !args.zone_files.is_empty() => Box::new(ZoneFileEdit {
            zones: args.zone_files.clone(),
            reload_command: args.dns_reload_command.clone(),
            now,
        }),
        PublishMethod::ZoneFile => Box::new(ZoneFile {
            dir: args.zone_dir.clone().context(
                "--publish zone-file needs --zone-file ZONE=PATH (the zone's own file) or \
                 --zone-dir DIR (an include file per domain)",
            )?,
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
                updater: DnsUpdater::new(address, key, dns.timeout)?,
            })
        }
    })
}

/// What finds the zone holding a record's name, for the methods that must name it: the first
/// --nameserver, asked for the name's SOA; none without one (the signing domain is the zone).
fn zone_finder(dns: &ResolverSettings) -> anyhow::Result<Option<DnsUpdater>> {
    match dns.nameservers.first() {
        Some(&address) => Ok(Some(DnsUpdater::new(address, None, dns.timeout)?)),
        None => Ok(None),
    }
}

/// One uncached lookup per --nameserver (every one must serve a record before it counts as
/// visible), or the system's resolver. They validate DNSSEC as testkey does (the same setting,
/// judged per zone), so a record testkey would call bogus never counts as visible.
fn name_servers(dns: &ResolverSettings) -> anyhow::Result<Vec<NameServer>> {
    if dns.nameservers.is_empty() {
        return Ok(vec![NameServer {
            name: "the system's resolver".to_owned(),
            lookup: Box::new(HickoryLookup::new(dns)?),
        }]);
    }
    dns.nameservers
        .iter()
        .map(|&server| {
            let one = ResolverSettings {
                nameservers: vec![server],
                ..dns.clone()
            };
            Ok(NameServer {
                name: server.to_string(),
                lookup: Box::new(HickoryLookup::new(&one)?),
            })
        })
        .collect()
}

/// Warnings about what a run did are said on standard error, as every command says them; the
/// rest of the events are the report.
fn is_warning(event: &Event) -> bool {
    matches!(event, Event::WeakKey { .. } | Event::Bogus(_))
}

fn say_warning(event: &Event) {
    match event {
        Event::WeakKey { key_file, bits } => warn_if_weak(KeyType::Rsa, *bits, Some(key_file)),
        other => output::warning(&other.to_string()),
    }
}

/// An entry's status in words: a stopped entry says why.
fn status_words(status: &EntryStatus) -> String {
    match status {
        EntryStatus::Stopped(error) => format!("stopped: {}", output::describe_cause(error)),
        other => other.to_string(),
    }
}

/// rotate's --json document (docs/json.md), which the text output says in lines.
#[derive(Serialize)]
struct RunJson<'a> {
    dry_run: bool,
    keys: Vec<EntryJson<'a>>,
    untouched: &'a [Untouched],
    dns_changes: &'a [DnsChange],
    settings: &'a [String],
    summary: String,
}

/// An entry: what was done and found (the warnings are said on standard error), and where it
/// stands.
#[derive(Serialize)]
struct EntryJson<'a> {
    key_name: &'a str,
    domain: &'a str,
    events: Vec<String>,
    status: String,
}

fn print_report(
    args: &RotateArgs,
    settings_used: &[String],
    report: &RunReport,
    untouched: &[Untouched],
) -> anyhow::Result<()> {
    for event in report.entries.iter().flat_map(|e| &e.events) {
        if is_warning(event) {
            say_warning(event);
        }
    }
    let count = |wanted: fn(&EntryStatus) -> bool| {
        report.entries.iter().filter(|e| wanted(&e.status)).count()
    };
    let summary = format!(
        "rotate{}: {} keys: {} up to date, {} waiting for DNS{}{}",
        if args.dry_run {
            " (dry run, nothing changed)"
        } else {
            ""
        },
        report.entries.len(),
        count(|s| matches!(s, EntryStatus::UpToDate { .. })),
        count(|s| matches!(s, EntryStatus::WaitingForDns)),
        match count(|s| matches!(s, EntryStatus::Stopped(_))) {
            0 => String::new(),
            n => format!(", {n} stopped"),
        },
        match untouched.len() {
            0 => String::new(),
            n => format!("; {n} KeyTable entries left untouched"),
        }
    );
    let run = RunJson {
        dry_run: args.dry_run,
        keys: report
            .entries
            .iter()
            .map(|entry| EntryJson {
                key_name: &entry.name,
                domain: &entry.domain,
                events: entry
                    .events
                    .iter()
                    .filter(|e| !is_warning(e))
                    .map(ToString::to_string)
                    .collect(),
                status: status_words(&entry.status),
            })
            .collect(),
        untouched,
        dns_changes: &report.dns_changes,
        settings: settings_used,
        summary,
    };
    if args.json {
        output::print_json(&run)?;
        return Ok(());
    }
    let mut out = output::stdout();
    if args.verbose {
        for setting in run.settings {
            writeln!(out, "using {setting}")?;
        }
    }
    for entry in &run.keys {
        for event in &entry.events {
            writeln!(out, "{}: {event}", entry.key_name)?;
        }
        writeln!(out, "{}: {}", entry.key_name, entry.status)?;
    }
    writeln!(out, "{}", run.summary)?;
    out.flush()?;
    Ok(())
}

//! `dkimkit rotate`: the monthly rotation cycle on opendkim's KeyTable (or the single key of
//! opendkim.conf), safe under cron.
//!
//! The library plans (`dkim_core::rotate::next_step`); this file performs each step, records
//! it in the state file at once, and asks for the next, until an entry is waiting or idle. Every
//! step is idempotent, so a run killed between two steps is completed by the next run. Every
//! entry is processed: one that fails is reported beside the others, and the run exits 1.
//!
//! What is replaced is kept (`dkim_core::rotate::successor`, `dkim_core::files`): the new key
//! and its record file get the owner, group and mode of the current key, the KeyTable or
//! opendkim.conf keeps its own, retired/ gets the key directory's. The new record carries the
//! current record's h=, s=, t= and n=, read from SELECTOR.txt beside the current key (what
//! genkey wrote and the administrator published, and what rotate itself publishes), or, when
//! there is none, from the current record in DNS.

mod publish;
mod status;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dkim_core::dns::{
    Credentials, DnsUpdater, HickoryLookup, HostedDns, KeyLookup, LookupError, ResolverSettings,
    TrustAnchor, TsigKey, parse_nameserver,
};
use dkim_core::files::{
    self, FileKeeping, NewFile, OwnedFile, PUBLIC_FILE_MODE, check_can_keep_owner,
};
use dkim_core::key_check::{Finding, Severity, check_published_key};
use dkim_core::record::value_from_zone_text;
use dkim_core::rotate::{
    Awaited, CurrentKey, EntryState, LockError, NextKey, Observed, Policy, Presence, RotationState,
    RunLock, ServerAnswer, Step, StolenKeyEnd, WaitVerdict, format_selector, format_time,
    judge_wait, names_key_type, next_step, successor_record, successor_spec, waiting_since,
};
use dkim_core::tables::{
    KeyDomain, KeySource, KeyTable, OpendkimConf, SigningSetup, SigningTable,
    path_in_base_directory,
};
use dkim_core::users::{SystemUser, opendkim_user};
use dkim_core::{DomainName, KeyRecord, KeyType, PrivateKey, Selector};
use serde_json::json;

use self::publish::{
    Change, Exec, Hosted, Manual, Publisher, Rfc2136, ZoneFile, ZoneFileEdit, is_under,
};
use super::published_record::PublishedRecord;
use super::{dnssec_setting, read_private_key, table_location, warn_if_weak, write_error};
use crate::cli::{HashList, PublishMethod, RecordOptions, RotateAction, RotateArgs};
use crate::exit::{CheckFailure, Outcome, TemporaryFailure};
use crate::output::error as print_error;
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

/// What opendkim signs with, as rotate reads and switches it.
enum Keys {
    /// A KeyTable; relative key paths are relative to `base` (opendkim.conf's BaseDirectory).
    Table {
        table: KeyTable,
        path: PathBuf,
        base: Option<PathBuf>,
    },
    /// The single key of opendkim.conf (Domain, Selector, KeyFile), named by the conf's path
    /// (resolved, so that the state finds it however -x names the file).
    Single {
        conf: OpendkimConf,
        name: String,
        domains: Vec<String>,
        selector: Selector,
        key_file: PathBuf,
    },
}

impl Keys {
    /// The selector and key file of entry `name`.
    fn entry(&self, name: &str) -> anyhow::Result<(String, PathBuf)> {
        match self {
            Keys::Table { table, base, .. } => {
                let entry = table
                    .get(name)
                    .with_context(|| format!("the KeyTable no longer has {name}"))?;
                let KeySource::File(path) = &entry.key else {
                    anyhow::bail!("{name}: the KeyTable names no key file");
                };
                Ok((
                    entry.selector.to_string(),
                    path_in_base_directory(base.as_deref(), path),
                ))
            }
            Keys::Single {
                selector, key_file, ..
            } => Ok((selector.to_string(), key_file.clone())),
        }
    }

    /// Entry `name` in messages.
    fn describe(&self, name: &str) -> String {
        match self {
            Keys::Table { .. } => format!("KeyTable entry {name}"),
            Keys::Single { .. } => format!("the key of {name}"),
        }
    }

    /// The file rotate rewrites to switch keys.
    fn file(&self) -> &Path {
        match self {
            Keys::Table { path, .. } => path,
            Keys::Single { conf, .. } => conf.origin(),
        }
    }

    /// Points entry `name` at `selector` and `key_file`, and saves it in place, keeping the
    /// file's owner, group and mode.
    fn switch(&mut self, name: &str, selector: &Selector, key_file: &Path) -> anyhow::Result<()> {
        match self {
            Keys::Table { table, path, .. } => {
                table.set_key(name, selector, key_file)?;
                table.save(path)?;
            }
            Keys::Single {
                conf,
                selector: current_selector,
                key_file: current_file,
                ..
            } => {
                for (path, text) in conf.single_key_rewritten(selector, key_file)? {
                    files::replace_keeping_owner(&path, text.as_bytes())?;
                }
                *conf = OpendkimConf::load(conf.origin())?;
                *current_selector = selector.clone();
                *current_file = key_file.to_owned();
            }
        }
        Ok(())
    }
}

/// What the command line and opendkim.conf (-x) say to work with.
struct Settings {
    keys: Keys,
    /// Key names the SigningTable refers to, when one is given.
    referenced: Option<HashSet<String>>,
    nameservers: Vec<String>,
    /// DNSSEC validation, as testkey's (`dnssec_setting`).
    dnssec: Option<TrustAnchor>,
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
    kind: dkim_core::tables::DataSetKind,
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
                    keys: Keys::Table {
                        table,
                        path,
                        base: None,
                    },
                    referenced,
                    nameservers: args.nameservers.clone(),
                    dnssec: dnssec_setting(&args.dnssec, None)?,
                    allow_unsafe_keys: args.allow_unsafe_keys,
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
                let keys = Keys::Table {
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
                    let keys = Keys::Single {
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
        let nameservers = if args.nameservers.is_empty() {
            note("Nameservers");
            conf.nameservers()?
                .iter()
                .map(ToString::to_string)
                .collect()
        } else {
            used.borrow_mut()
                .push(format!("--nameserver {}", args.nameservers.join(", ")));
            args.nameservers.clone()
        };
        let conf_anchor = conf.trust_anchor_file();
        if conf_anchor.is_some() {
            note("TrustAnchorFile");
        }
        let dnssec = dnssec_setting(&args.dnssec, conf_anchor.as_deref())?;
        let require_safe_keys = conf.require_safe_keys();
        note("RequireSafeKeys");
        if conf.user_id().is_some() {
            note("UserID");
        }
        let key_table = match &keys {
            Keys::Table { path, .. } => Some(path.as_path()),
            Keys::Single { .. } => None,
        };
        let signer = opendkim_user(conf.user_id(), key_table)?;
        Ok(Settings {
            keys,
            referenced,
            nameservers,
            dnssec,
            allow_unsafe_keys: args.allow_unsafe_keys || !require_safe_keys,
            signer,
            used: used.into_inner(),
        })
    }
}

/// Everything a run works with.
struct Rotation<'a> {
    args: &'a RotateArgs,
    now: u64,
    policy: Policy,
    state: RotationState,
    state_path: PathBuf,
    keys: Keys,
    allow_unsafe_keys: bool,
    signer: Option<SystemUser>,
    publisher: Box<dyn Publisher>,
    visibility: Vec<(String, HickoryLookup)>,
    steps_done: usize,
    /// Next keys "written" in a dry run.
    imagined_keys: HashSet<PathBuf>,
    /// The record changes made, for --json (what a script applies with --publish manual).
    dns_changes: Vec<serde_json::Value>,
    /// Where each record name is published, once asked (see `publication_name`).
    publication_names: std::cell::RefCell<std::collections::HashMap<String, String>>,
    /// Domains with more than one managed entry (an RSA and an Ed25519 key, say): their new
    /// selectors name the key type.
    shared_domains: HashSet<String>,
    /// Entries whose rotation this run began: --rotate-now starts one rotation, not a loop.
    rotations_begun: HashSet<String>,
}

/// The run was stopped by --stop-after-steps, as if killed: the other entries are not looked at.
#[derive(Debug, thiserror::Error)]
#[error("stopped after {0} steps, as --stop-after-steps asked")]
struct StoppedAsAsked(usize);

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
    let policy = Policy {
        every: args.every,
        overlap: args.overlap,
        max_wait: args.max_wait,
    };
    if args.action == Some(RotateAction::Status) {
        // Reads only: no lock, so that it answers while a run waits for DNS.
        let settings = Settings::from_args(&args)?;
        let (managed, unmanaged) =
            managed_entries(&settings.keys, keys_dir, settings.referenced.as_ref());
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
    let state_path = keys_dir.join(STATE_FILE);
    let settings = Settings::from_args(&args)?;
    let (managed, unmanaged) =
        managed_entries(&settings.keys, keys_dir, settings.referenced.as_ref());
    for domain in &args.rotate_now {
        if !managed.iter().any(|m| &m.domain == domain) {
            anyhow::bail!(
                "--rotate-now {domain}: no entry rotate manages signs for {domain} (its key file \
                 must be under --keys-dir); nothing was changed"
            );
        }
    }
    let mut seen = HashSet::new();
    let shared_domains = managed
        .iter()
        .filter(|m| !seen.insert(m.domain.as_str()))
        .map(|m| m.domain.to_string())
        .collect();

    let mut rotation = Rotation {
        args: &args,
        now,
        policy,
        state: RotationState::load(&state_path)?,
        state_path,
        publisher: publisher(&args, now, &settings.nameservers)?,
        visibility: visibility_lookups(&args, &settings.nameservers, settings.dnssec.as_ref())?,
        keys: settings.keys,
        allow_unsafe_keys: settings.allow_unsafe_keys,
        signer: settings.signer,
        steps_done: 0,
        imagined_keys: HashSet::new(),
        dns_changes: Vec::new(),
        publication_names: Default::default(),
        shared_domains,
        rotations_begun: HashSet::new(),
    };
    // A DNS timeout must change nothing: ask DNS everything this run will need to ask it
    // before the first change.
    rotation.check_dns_answers(&managed)?;

    let progress = Progress::new(managed.len(), "keys", false);
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    let mut stopped = None;
    for entry in &managed {
        let mut report = EntryReport {
            key_name: entry.name.clone(),
            domain: entry.domain.to_string(),
            events: Vec::new(),
            status: String::new(),
        };
        let result = rotation.rotate_entry(entry, &mut report);
        progress.advance();
        let stopped_as_asked = match result {
            Err(error) if error.is::<StoppedAsAsked>() => Some(error),
            Err(error) => {
                report.status = format!("stopped: {}", output::describe(&error));
                failures.push(error.context(rotation.keys.describe(&entry.name)));
                None
            }
            Ok(()) => None,
        };
        reports.push(report);
        if let Some(error) = stopped_as_asked {
            stopped = Some(error);
            break;
        }
    }
    progress.finish();
    print_reports(
        &args,
        &settings.used,
        &reports,
        &unmanaged,
        &rotation.dns_changes,
    )?;
    if let Some(error) = stopped {
        return Err(error);
    }
    // Every entry was processed; the exit status is the worst of theirs: a failed entry 1, one
    // that could not go on for now (DNS, a temporary failure) 3.
    let temporary = |error: &anyhow::Error| error.chain().any(|c| c.is::<TemporaryFailure>());
    for error in &failures {
        print_error(error);
    }
    Ok(if failures.iter().any(|e| !temporary(e)) {
        Outcome::CheckFailed
    } else if failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::TemporaryFailure
    })
}

/// The entries to rotate: key file under --keys-dir, a named domain, and (with
/// --signing-table) referred to by the SigningTable. The others, with why, are left untouched.
fn managed_entries(
    keys: &Keys,
    keys_dir: &Path,
    referenced: Option<&HashSet<String>>,
) -> (Vec<Managed>, Vec<(String, &'static str)>) {
    let (table, base) = match keys {
        Keys::Table { table, base, .. } => (table, base.as_deref()),
        Keys::Single {
            name,
            domains,
            key_file,
            ..
        } => {
            let domain = match domains.as_slice() {
                [one] => one.parse::<DomainName>().ok(),
                _ => None,
            };
            return match domain {
                _ if !is_under(key_file, keys_dir) => (
                    Vec::new(),
                    vec![(name.clone(), "its KeyFile is not under --keys-dir")],
                ),
                Some(domain) => (
                    vec![Managed {
                        name: name.clone(),
                        domain,
                    }],
                    Vec::new(),
                ),
                None => (
                    Vec::new(),
                    vec![(
                        name.clone(),
                        "its Domain is not one domain name (rotate publishes one record per key)",
                    )],
                ),
            };
        }
    };
    let mut managed = Vec::new();
    let mut unmanaged = Vec::new();
    for (_, entry) in table.entries() {
        let why_not = match (&entry.domain, &entry.key) {
            (KeyDomain::FromSigningAddress, _) => Some("its domain is %"),
            (_, KeySource::Inline) => Some("its key is inline"),
            (_, KeySource::File(path))
                if !is_under(&path_in_base_directory(base, path), keys_dir) =>
            {
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

fn publisher(
    args: &RotateArgs,
    now: u64,
    nameservers: &[String],
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
                zone_finder: zone_finder(args, nameservers)?,
            })
        }
        PublishMethod::Hosted(provider) => {
            let path = args.credentials.as_deref().with_context(|| {
                format!("--publish {provider} needs --credentials FILE (chmod 600)")
            })?;
            let credentials = Credentials::from_file(path, provider)?;
            Box::new(Hosted {
                client: HostedDns::new(&credentials, args.timeout)?,
                zone_finder: zone_finder(args, nameservers)?,
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
                updater: DnsUpdater::new(address, key, args.timeout)?,
            })
        }
    })
}

/// What finds the zone holding a record's name, for the methods that must name it: the first
/// --nameserver, asked for the name's SOA; none without one (the signing domain is the zone).
fn zone_finder(args: &RotateArgs, nameservers: &[String]) -> anyhow::Result<Option<DnsUpdater>> {
    match nameservers.first() {
        Some(server) => {
            let address =
                parse_nameserver(server).with_context(|| format!("--nameserver {server}"))?;
            Ok(Some(DnsUpdater::new(address, None, args.timeout)?))
        }
        None => Ok(None),
    }
}

/// One uncached lookup per --nameserver (every one must serve a record before it counts as
/// visible), or the system's resolver. They validate DNSSEC as testkey does (the same setting,
/// judged per zone), so a record testkey would call bogus never counts as visible.
fn visibility_lookups(
    args: &RotateArgs,
    nameservers: &[String],
    dnssec: Option<&TrustAnchor>,
) -> anyhow::Result<Vec<(String, HickoryLookup)>> {
    let settings = |nameservers| ResolverSettings {
        nameservers,
        timeout: args.timeout,
        dnssec: dnssec.cloned(),
        ..ResolverSettings::default()
    };
    if nameservers.is_empty() {
        return Ok(vec![(
            "the system's resolver".to_owned(),
            HickoryLookup::new(&settings(Vec::new()))?,
        )]);
    }
    nameservers
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

/// Whether a name server still serves a withdrawn record: any TXT record at its name (through
/// a CNAME too) counts; no such name, no TXT record, or a CNAME to nothing means it is gone.
/// For a `revoked` record, only records that still carry a key count.
fn withdrawn_presence(lookup: &HickoryLookup, name: &str, revoked: bool) -> Presence {
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

/// The exit status by which a command says "try again later" (sysexits.h EX_TEMPFAIL).
const EX_TEMPFAIL: i32 = 75;

/// Runs a command line with `sh -c`, `environment` added to rotate's. Fails with its standard
/// error in one line when it fails; exit 75 (EX_TEMPFAIL) is a temporary failure (exit 3, the
/// next run tries again).
fn run_command(command: &str, environment: &[(&str, &str)]) -> anyhow::Result<()> {
    let output = Command::new("sh")
        .args(["-c", command])
        .envs(environment.iter().copied())
        .output()
        .with_context(|| format!("cannot run `{command}`"))?;
    if output.status.success() {
        return Ok(());
    }
    let said = one_line(&String::from_utf8_lossy(&output.stderr));
    let said = if said.is_empty() {
        "it printed nothing on standard error".to_owned()
    } else {
        said
    };
    // The caller names the command by its flag: the command line itself may be long, and
    // may hold what it printed.
    if output.status.code() == Some(EX_TEMPFAIL) {
        return Err(anyhow::Error::new(TemporaryFailure(format!(
            "it asks to try again later (exit {EX_TEMPFAIL}): {said}"
        ))));
    }
    anyhow::bail!("it failed ({}): {said}", output.status)
}

/// A command's output as one line for the report: its lines joined with " / ", cut at 300
/// characters.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 300;
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    match joined.char_indices().nth(LIMIT) {
        Some((at, _)) => format!("{}...", &joined[..at]),
        None => joined,
    }
}

/// Writes a retired private key, byte for byte, to `DIR/DOMAIN.SELECTOR.private`, readable by
/// all: once its record is gone, publishing it lets anyone forge old mail, so old mail can no
/// longer be proven authentic (what dkim-rotate does). Returns the file written.
fn reveal(
    retired_key: &Path,
    reveal_dir: &Path,
    domain: &str,
    selector: &str,
) -> anyhow::Result<PathBuf> {
    let key = std::fs::read(retired_key)
        .with_context(|| format!("cannot read {}", retired_key.display()))?;
    let revealed = reveal_dir.join(format!("{domain}.{selector}.private"));
    files::write_file_with(
        &revealed,
        PUBLIC_FILE_MODE,
        files::Existing::Replace,
        |file| file.write_all(&key),
    )
    .map_err(write_error)
    .with_context(|| format!("--reveal-dir {}", reveal_dir.display()))?;
    Ok(revealed)
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
        no_testmode: false,
    };
    PublishedRecord::new(&key.public_key(), selector, Some(domain), &options)
}

/// The selectors an entry uses: its current key's, its next key's, its retiring keys'.
fn entry_selectors(state: &EntryState) -> impl Iterator<Item = &str> {
    std::iter::once(state.current.selector.as_str())
        .chain(state.next.iter().map(|n| n.selector.as_str()))
        .chain(state.retiring.iter().map(|r| r.selector.as_str()))
}

/// SELECTOR.txt beside a private key file.
fn record_file(key_file: &Path, selector: &str) -> PathBuf {
    key_file.with_file_name(format!("{selector}.txt"))
}

/// What rotate knows of `entry` from `state`; on first sight, or when the KeyTable was changed
/// by hand, the KeyTable's key adopted (its age is its key file's modification time), with the
/// event saying so.
fn known_or_adopted(
    state: &RotationState,
    keys: &Keys,
    entry: &Managed,
) -> anyhow::Result<(EntryState, Option<String>)> {
    let (selector, key_file) = keys.entry(&entry.name)?;
    let remembered = state.entries.get(&entry.name);
    let known = remembered.filter(|s| {
        s.current.selector == selector || s.next.as_ref().is_some_and(|n| n.selector == selector)
    });
    if let Some(known) = known {
        return Ok((known.clone(), None));
    }
    let since = modified_time(&key_file)?;
    let adopted = format!(
        "adopted key {selector} ({}), in use since {}",
        key_file.display(),
        date(since)
    );
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

impl Rotation<'_> {
    fn key_table_entry(&self, name: &str) -> anyhow::Result<(String, PathBuf)> {
        self.keys.entry(name)
    }

    /// The entry's state, adopting it on first sight or when the KeyTable was changed by hand.
    fn entry_state(
        &mut self,
        entry: &Managed,
        report: &mut EntryReport,
    ) -> anyhow::Result<EntryState> {
        let (state, adopted) = known_or_adopted(&self.state, &self.keys, entry)?;
        report.events.extend(adopted);
        Ok(state)
    }

    /// How --rotate-now ends a stolen key's record: revoked with --revoke, else withdrawn.
    fn stolen_key_end(&self) -> StolenKeyEnd {
        if self.args.revoke {
            StolenKeyEnd::Revoke
        } else {
            StolenKeyEnd::Withdraw
        }
    }

    /// Whether --rotate-now asks to start a rotation of `entry` (once per run).
    fn rotate_now_requested(&self, entry: &Managed) -> bool {
        self.args.rotate_now.contains(&entry.domain) && !self.rotations_begun.contains(&entry.name)
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
            return Err(StoppedAsAsked(self.steps_done).into());
        }
        Ok(())
    }

    /// Performs the entry's steps until it waits or is idle.
    fn rotate_entry(&mut self, entry: &Managed, report: &mut EntryReport) -> anyhow::Result<()> {
        let mut state = self.entry_state(entry, report)?;
        report
            .events
            .extend(self.signer_warning(&state.current.key_file));
        if !self.state.entries.contains_key(&entry.name) {
            self.commit(&entry.name, state.clone())?;
        }
        // A rotation already under way when the key is believed stolen: it becomes the early
        // one, so the current record ends without an overlap.
        if self.rotate_now_requested(entry)
            && let Some(next) = state.next.as_mut()
            && next.replaces_stolen.is_none()
        {
            next.replaces_stolen = Some(self.stolen_key_end());
            self.rotations_begun.insert(entry.name.clone());
            report.events.push(format!(
                "the rotation to {} under way replaces key {}, as --rotate-now asks: its record \
                 goes as soon as {} is served, with no overlap",
                next.selector, state.current.selector, next.selector
            ));
            self.commit(&entry.name, state.clone())?;
        }
        loop {
            let (table_selector, _) = self.key_table_entry(&entry.name)?;
            let next_key_written = state.next.as_ref().is_some_and(|next| {
                next.key_file.exists() || self.imagined_keys.contains(&next.key_file)
            });
            let rotate_now = self.rotate_now_requested(entry);
            let observed = Observed {
                keytable_selector: &table_selector,
                next_key_written,
                rotate_now,
            };
            let step = next_step(&state, observed, self.now, self.policy);
            if !matches!(step, Step::Idle { .. }) {
                self.check_keeps_owners(&state)?;
            }
            let done = match step {
                Step::Idle { until } => {
                    report.status = format!("up to date; next step {}", date(until));
                    return Ok(());
                }
                Step::BeginRotation => {
                    self.rotations_begun.insert(entry.name.clone());
                    self.begin_rotation(&entry.name, &mut state, rotate_now)?
                }
                Step::Generate => {
                    let done = self.generate(&mut state, &entry.domain)?;
                    if let Some(next) = &state.next {
                        report.events.extend(self.signer_warning(&next.key_file));
                    }
                    done
                }
                Step::Publish => self.publish(&entry.name, &mut state, &entry.domain)?,
                Step::SwitchWhenVisible => {
                    match self.switch_when_visible(&entry.name, &state, &entry.domain, &step)? {
                        Ok(event) => event,
                        Err(waiting) => {
                            report.status = "waiting for DNS".to_owned();
                            report.events.push(waiting);
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
                Step::Retire { ref selector } => {
                    match self.retire_when_gone(&mut state, &step, selector, &entry.domain)? {
                        Ok(event) => event,
                        Err(waiting) => {
                            report.status = "waiting for DNS".to_owned();
                            report.events.push(waiting);
                            return Ok(());
                        }
                    }
                }
            };
            report.events.push(done);
            self.commit(&entry.name, state.clone())?;
        }
    }

    /// Chooses the next key's selector and file. `stolen`: --rotate-now asked for it, so the
    /// current key's record ends as soon as the next is served.
    fn begin_rotation(
        &mut self,
        name: &str,
        state: &mut EntryState,
        stolen: bool,
    ) -> anyhow::Result<String> {
        let current_key = read_private_key(&state.current.key_file, self.allow_unsafe_keys)?;
        let key_type = successor_spec(
            &current_key,
            self.args.key_type.map(KeyType::from),
            self.args.bits,
        )
        .key_type();
        // The keys of a domain signed with several keys (MultipleSignatures) are told apart by
        // their type.
        let format = &self.args.selector_format;
        let format = if self.shared_domains.contains(&state.domain) && !names_key_type(format) {
            format!("{format}-%k")
        } else {
            format.clone()
        };
        let base = format_selector(&format, self.now, key_type)?;
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
        let selector: Selector = selector.parse().with_context(|| {
            format!("--selector-format gives \"{selector}\", which is not a selector")
        })?;
        state.next = Some(NextKey {
            selector: selector.to_string(),
            key_file: folder.join(format!("{selector}.private")),
            started: self.now,
            published: false,
            published_at: None,
            replaces_stolen: stolen.then(|| self.stolen_key_end()),
        });
        Ok(if stolen {
            format!(
                "rotating key {} now, as --rotate-now asks: the next is {selector}; the old \
                 record is {} as soon as {selector} is served, with no overlap",
                state.current.selector,
                if self.args.revoke {
                    "revoked"
                } else {
                    "withdrawn"
                }
            )
        } else {
            format!(
                "key {} is due (in use since {}): the next is {selector}",
                state.current.selector,
                date(state.current.since)
            )
        })
    }

    /// The record the current key is published with: its SELECTOR.txt, or else the record
    /// in DNS. None when neither is there or parses.
    fn current_record(&self, state: &EntryState, domain: &DomainName) -> Option<KeyRecord> {
        let current = &state.current;
        let txt = record_file(&current.key_file, &current.selector);
        if let Ok(text) = std::fs::read_to_string(&txt) {
            return KeyRecord::parse(&value_from_zone_text(&text)).ok();
        }
        let name = format!("{}._domainkey.{domain}", current.selector);
        let (_, lookup) = self.visibility.first()?;
        let answer = lookup.lookup_txt(&name).ok()?;
        answer.records.iter().find_map(|r| KeyRecord::parse(r).ok())
    }

    fn generate(&mut self, state: &mut EntryState, domain: &DomainName) -> anyhow::Result<String> {
        let next = state.next.as_ref().context("no next key to generate")?;
        let current_file = &state.current.key_file;
        let current = read_private_key(current_file, self.allow_unsafe_keys)?;
        let spec = successor_spec(
            &current,
            self.args.key_type.map(KeyType::from),
            self.args.bits,
        )
        .check()?;
        if let dkim_core::KeySpec::Rsa { bits } = spec {
            warn_if_weak(KeyType::Rsa, bits, Some(&next.key_file));
        }
        if self.args.dry_run {
            self.imagined_keys.insert(next.key_file.clone());
            return Ok(format!("would generate key {} ({spec})", next.selector));
        }
        let key = PrivateKey::generate(spec)?;
        let selector: Selector = next.selector.parse()?;
        let mut record = default_record(&key, &selector, domain)?;
        record.record = successor_record(
            self.current_record(state, domain).as_ref(),
            &key.public_key(),
        );
        let pem = key.to_pem()?;
        let txt = record_file(&next.key_file, &next.selector);
        let zone_entry = record.zone_entry();
        // The new files are the current ones' successors: same owner, group and mode.
        let key_kept = FileKeeping::of(current_file)?.for_private_key();
        let current_txt = record_file(current_file, &state.current.selector);
        let txt_kept = FileKeeping::of(&current_txt).ok();
        files::write_owned_all_or_nothing(
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
            files::Existing::Refuse,
        )
        .map_err(write_error)?;
        Ok(format!(
            "generated key {} ({spec}) in {}",
            next.selector,
            next.key_file.display()
        ))
    }

    /// Stops before a step changes anything when what it writes could not keep the owner and
    /// group of what it replaces: the new key and record beside the current ones, the KeyTable
    /// or opendkim.conf, retired/ beside the keys.
    fn check_keeps_owners(&self, state: &EntryState) -> anyhow::Result<()> {
        let current = &state.current;
        let mut paths = vec![current.key_file.clone(), self.keys.file().to_owned()];
        let txt = record_file(&current.key_file, &current.selector);
        if txt.exists() {
            paths.push(txt);
        }
        paths.extend(current.key_file.parent().map(Path::to_owned));
        for path in paths {
            check_can_keep_owner(&path).map_err(write_error)?;
        }
        Ok(())
    }

    /// A warning when the user opendkim runs as could not read `key_file`: opendkim could not
    /// sign with it.
    fn signer_warning(&self, key_file: &Path) -> Option<String> {
        let why = self.signer.as_ref()?.cannot_sign_with(key_file)?;
        Some(format!("warning: {why}"))
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
        let key = read_private_key(key_file, self.allow_unsafe_keys)?;
        Ok(default_record(&key, &selector.parse()?, domain)?
            .record
            .to_value())
    }

    /// The record of a key file with an empty `p=`, which revokes the key (RFC 6376 3.6.1).
    fn revoked_record(
        &self,
        key_file: &Path,
        selector: &str,
        domain: &DomainName,
    ) -> anyhow::Result<String> {
        let value = self.record_of(key_file, selector, domain)?;
        let mut record = KeyRecord::parse(&value)
            .with_context(|| format!("the record of {selector} ({value})"))?;
        record.public_key.clear();
        Ok(record.to_value())
    }

    /// The records one entry serves: its current key, its next key once published, its
    /// retiring keys until withdrawn, and a revoked key's record (p= empty) until it retires.
    fn records_served(
        &self,
        state: &EntryState,
        domain: &DomainName,
    ) -> anyhow::Result<Vec<(String, String)>> {
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
                    self.revoked_record(key_file, selector, domain)?
                } else {
                    self.record_of(key_file, selector, domain)?
                };
                Ok((name, value))
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
        next.published_at = Some(self.now);
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
        retiring.withdrawn_at = Some(self.now);
        let revoke = retiring.stolen == Some(StolenKeyEnd::Revoke);
        let key_file = retiring.key_file.clone();
        let name = format!("{selector}._domainkey.{domain}");
        let event = match (self.args.dry_run, revoke) {
            (true, false) => format!("would withdraw {name}"),
            (true, true) => format!("would revoke {name} (p= empty)"),
            (false, false) => self.apply_change(name_in_table, &after, domain, &name, None)?,
            (false, true) => {
                let revoked = self.revoked_record(&key_file, selector, domain)?;
                let done =
                    self.apply_change(name_in_table, &after, domain, &name, Some(&revoked))?;
                format!("{done}, revoked: p= is empty")
            }
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

    /// Switches the KeyTable entry to the next key once every name server serves its record
    /// and it is that key (the testkey checks). Err with what is awaited while it is not.
    fn switch_when_visible(
        &mut self,
        name: &str,
        state: &EntryState,
        domain: &DomainName,
        step: &Step,
    ) -> anyhow::Result<Result<String, String>> {
        let next = state.next.as_ref().context("no next key to switch to")?;
        let record_name = format!("{}._domainkey.{domain}", next.selector);
        if self.args.dry_run {
            return Ok(Err(format!("would wait for {record_name} to be served")));
        }
        let selector: Selector = next.selector.parse()?;
        let key = read_private_key(&next.key_file, self.allow_unsafe_keys)?;
        let since = waiting_since(state, step, self.policy).unwrap_or(self.now);
        let serves = |lookup: &HickoryLookup| {
            let report = check_published_key(lookup, &selector, domain, Some(&key));
            match report.worst() {
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
                    if let Some(bogus) = report
                        .findings
                        .iter()
                        .find(|f| matches!(f, Finding::Lookup(LookupError::Bogus { .. })))
                    {
                        output::warning(&format!("{bogus}; rotate does not switch to it"));
                    }
                    Presence::Lacks
                }
                _ => Presence::Serves,
            }
        };
        if let Some(waiting) = self.await_dns(Awaited::Served, &record_name, since, serves)? {
            return Ok(Err(waiting));
        }
        self.keys.switch(name, &selector, &next.key_file)?;
        Ok(Ok(format!(
            "{record_name} is served by every name server: switched the KeyTable to {selector}"
        )))
    }

    /// Asks every name server about the record at `name` (`ask` says what one serves) and
    /// judges the wait begun at `since`: None once it is over, what is awaited while it lasts.
    /// A wait past --max-wait is a failed check (exit 1); a server that did not answer, within
    /// it, a temporary failure (exit 3).
    fn await_dns(
        &self,
        awaited: Awaited,
        name: &str,
        since: u64,
        ask: impl Fn(&HickoryLookup) -> Presence,
    ) -> anyhow::Result<Option<String>> {
        let answers: Vec<ServerAnswer> = self
            .visibility
            .iter()
            .map(|(server, lookup)| ServerAnswer {
                server: server.clone(),
                presence: ask(lookup),
            })
            .collect();
        match judge_wait(awaited, name, &answers, since, self.now, self.policy) {
            WaitVerdict::Done => Ok(None),
            WaitVerdict::Overdue(overdue) => {
                Err(anyhow::Error::new(CheckFailure(Box::new(overdue))))
            }
            WaitVerdict::Waiting { behind } => {
                let behind: Vec<String> = behind.iter().map(ToString::to_string).collect();
                let waiting = format!(
                    "waiting for DNS since {}: {name}: {}",
                    date(since),
                    behind.join("; ")
                );
                if answers
                    .iter()
                    .any(|a| matches!(a.presence, Presence::NoAnswer(_)))
                {
                    return Err(anyhow::Error::new(TemporaryFailure(waiting)));
                }
                Ok(Some(waiting))
            }
        }
    }

    fn reload(&mut self, state: &mut EntryState) -> anyhow::Result<String> {
        state.reload_pending = false;
        match (&self.args.reload_command, self.args.dry_run) {
            (None, _) => Ok("no --reload-command: reload the signer yourself".to_owned()),
            (Some(command), true) => Ok(format!("would run `{command}`")),
            (Some(command), false) => {
                run_command(command, &[]).context("--reload-command")?;
                Ok(format!("ran `{command}`"))
            }
        }
    }

    /// Retires a key whose record was withdrawn once no name server serves it any more. Err
    /// with what is awaited while one does.
    fn retire_when_gone(
        &mut self,
        state: &mut EntryState,
        step: &Step,
        selector: &str,
        domain: &DomainName,
    ) -> anyhow::Result<Result<String, String>> {
        // A dry run withdrew nothing: there is nothing to ask DNS about.
        if !self.args.dry_run {
            let name = format!("{selector}._domainkey.{domain}");
            let since = waiting_since(state, step, self.policy).unwrap_or(self.now);
            let revoked = state
                .retiring
                .iter()
                .any(|r| r.selector == selector && r.stolen == Some(StolenKeyEnd::Revoke));
            let gone = |lookup: &HickoryLookup| withdrawn_presence(lookup, &name, revoked);
            if let Some(waiting) = self.await_dns(Awaited::Gone, &name, since, gone)? {
                return Ok(Err(waiting));
            }
        }
        self.retire(state, selector).map(Ok)
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
            if let Some(keys) = key_file.parent() {
                files::create_dir_like(&retired, keys).map_err(write_error)?;
            }
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
            let retired_event = format!("retired key {selector} to {}", retired.display());
            match (&self.args.reveal_dir, key_file.file_name()) {
                (Some(reveal_dir), Some(file_name)) => {
                    let revealed = reveal(
                        &retired.join(file_name),
                        reveal_dir,
                        &state.domain,
                        selector,
                    )?;
                    format!("{retired_event}; revealed it as {}", revealed.display())
                }
                _ => retired_event,
            }
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
                rotate_now: self.rotate_now_requested(entry),
            };
            // Waits ask every server themselves, and a server that stays silent is reported
            // when the wait is judged (exit 3, or 1 past --max-wait).
            if matches!(
                next_step(&state, observed, self.now, self.policy),
                Step::Idle { .. } | Step::SwitchWhenVisible | Step::Retire { .. }
            ) {
                continue;
            }
            let selector = state
                .next
                .as_ref()
                .map_or(&state.current.selector, |n| &n.selector);
            let name = format!("{selector}._domainkey.{}", entry.domain);
            self.publisher.check_reachable(&name)?;
            // The changes ask the first server only (where a selector's CNAME points); the
            // others are asked by the waits.
            for (server, lookup) in self.visibility.iter().take(1) {
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
    settings_used: &[String],
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
            "settings": settings_used,
            "summary": summary,
        }))?;
        return Ok(());
    }
    let mut out = output::stdout();
    if args.verbose {
        for setting in settings_used {
            writeln!(out, "using {setting}")?;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commands_output_is_summarised_in_one_line() {
        assert_eq!(
            one_line("  nsupdate: update failed: REFUSED\n\n; TSIG error\n"),
            "nsupdate: update failed: REFUSED / ; TSIG error"
        );
        let long = "é".repeat(400);
        let summary = one_line(&long);
        assert!(summary.ends_with("...") && summary.chars().count() == 303);
    }
}

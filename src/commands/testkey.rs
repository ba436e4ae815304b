//! `dkimkit testkey`: check published keys in DNS, one key or every key of a KeyTable.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dkim_core::key_check::{Finding, KeyReport, Severity, check_published_key};
use dkim_core::{DomainName, PrivateKey, Selector};
use dkim_dns::DnssecStatus;
use opendkim_config::users::{SystemUser, opendkim_user};
use opendkim_config::{KeyTable, OpendkimConf, SigningSetup};
use rayon::prelude::*;
use serde::Serialize;

use super::{Dns, conf_setting_line, dns_worker_pool, read_private_key, table_location};
use crate::cli::TestkeyArgs;
use crate::exit::Outcome;
use crate::output::{self, Progress};

/// opendkim-testkey reads this when no key is named.
const DEFAULT_CONFIG: &str = "/etc/opendkim.conf";

/// One key to check (`check` checks the same keys the same way).
pub(super) struct Target {
    /// The KeyTable key name, in KeyTable mode.
    pub(super) key_name: Option<String>,
    /// None for a KeyTable entry whose domain is `%` (the sender's): nothing to look up.
    pub(super) domain: Option<DomainName>,
    pub(super) selector: Selector,
    pub(super) key_file: Option<PathBuf>,
}

impl Target {
    pub(super) fn label(&self) -> String {
        let record = match &self.domain {
            Some(domain) => dkim_core::name::key_name(&self.selector, domain),
            None => format!("{}._domainkey.%", self.selector),
        };
        match &self.key_name {
            Some(name) if *name != record => format!("{name} ({record})"),
            _ => record,
        }
    }
}

/// What became of one key.
pub(super) enum Checked {
    Report(KeyReport),
    /// The private key could not be read: opendkim could not sign with it either.
    KeyUnreadable(String),
    Skipped(&'static str),
}

/// A key's result, for the summary, JSON and the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Skipped,
    Temporary,
    Failed,
}

impl Verdict {
    /// The word for it, the same in the summary line and in JSON's `result`.
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Skipped => "skipped",
            Verdict::Temporary => "temporary failure",
            Verdict::Failed => "failed",
        }
    }
}

impl Checked {
    fn verdict(&self) -> Verdict {
        match self {
            Checked::Skipped(_) => Verdict::Skipped,
            Checked::KeyUnreadable(_) => Verdict::Failed,
            Checked::Report(report) => match report.worst() {
                Some(Severity::Error) => Verdict::Failed,
                Some(Severity::Temporary) => Verdict::Temporary,
                Some(Severity::Warning) | None => Verdict::Ok,
            },
        }
    }
}

pub fn run(args: TestkeyArgs) -> anyhow::Result<Outcome> {
    let conf = config_path(&args)
        .map(|path| OpendkimConf::load(&path).with_context(|| path.display().to_string()))
        .transpose()?;
    let (targets, signer) = targets(&args, conf.as_ref())?;
    let settings = args.dns.resolver_settings(conf.as_ref())?;
    if let (Some(conf), true) = (&conf, args.verbose > 0) {
        list_settings(conf, &args);
    }
    let allow_unsafe_keys = args.key_safety.allows_unsafe(conf.as_ref());
    let dns = Dns::new(settings);
    dns.ready()?;
    // A single key named with -k must be readable and safe: that is a usage error, not a
    // finding. It is read once, here, so a warning (--allow-unsafe-keys) is given once.
    let single_key = match targets.as_slice() {
        [
            Target {
                key_file: Some(path),
                key_name: None,
                ..
            },
        ] => Some(read_private_key(path, allow_unsafe_keys)?),
        _ => None,
    };

    let progress = Progress::new(targets.len(), "keys", false);
    let pool = dns_worker_pool(args.jobs)?;
    let results: Vec<Checked> = pool.install(|| {
        targets
            .par_iter()
            .map(|target| {
                let checked = match target
                    .key_file
                    .as_deref()
                    .and_then(|file| signer.as_ref()?.cannot_sign_with(file))
                {
                    Some(why) => Checked::KeyUnreadable(why),
                    None => check(target, &dns, single_key.as_ref(), allow_unsafe_keys),
                };
                progress.advance();
                checked
            })
            .collect()
    });
    progress.finish();

    if args.json {
        print_json(&targets, &results)?;
    } else {
        print_human(&targets, &results, args.verbose)?;
    }
    Ok(match results.iter().map(Checked::verdict).max() {
        Some(Verdict::Failed) => Outcome::CheckFailed,
        Some(Verdict::Temporary) => Outcome::TemporaryFailure,
        _ => Outcome::Success,
    })
}

/// Checks one key; `preloaded` is the key of a single -k, read already. In KeyTable mode a key
/// that cannot be read, or that other users could read (RequireSafeKeys), is a finding on its
/// entry: opendkim would not sign with it either.
pub(super) fn check(
    target: &Target,
    dns: &Dns,
    preloaded: Option<&PrivateKey>,
    allow_unsafe: bool,
) -> Checked {
    let Some(domain) = &target.domain else {
        return Checked::Skipped(
            "its domain is % (each sender's own), so there is no one record to check",
        );
    };
    let loaded = match (preloaded, &target.key_file) {
        (Some(_), _) | (None, None) => None,
        (None, Some(path)) => match read_private_key(path, allow_unsafe) {
            Ok(key) => Some(key),
            Err(e) => return Checked::KeyUnreadable(output::describe(&e)),
        },
    };
    Checked::Report(check_published_key(
        dns,
        &target.selector,
        domain,
        preloaded.or(loaded.as_ref()),
    ))
}

/// Says on standard error which opendkim.conf settings testkey follows, and which flags override
/// them (-v).
fn list_settings(conf: &OpendkimConf, args: &TestkeyArgs) {
    let servers: Vec<String> = conf
        .nameservers()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    let servers = if servers.is_empty() {
        "the system's resolver".to_owned()
    } else {
        servers.join(",")
    };
    let anchor = conf
        .trust_anchor_file()
        .map_or_else(|| "the root's".to_owned(), |p| p.display().to_string());
    let given = |flag: &'static str, given: bool| given.then_some(flag);
    for (name, value, overridden) in [
        (
            "Nameservers",
            servers,
            given("--nameserver given", !args.dns.nameservers.is_empty()),
        ),
        (
            "TrustAnchorFile",
            anchor,
            given(
                "--trust-anchor given",
                args.dns.dnssec.trust_anchor.is_some(),
            )
            .or(given("--no-dnssec given", args.dns.dnssec.no_dnssec)),
        ),
    ] {
        output::verbose(&conf_setting_line(conf, name, &value, overridden));
    }
    output::verbose(&args.key_safety.conf_setting_line(conf));
}

/// The opendkim.conf to read when no key is named on the command line: -x, or
/// opendkim-testkey's default if it exists.
fn config_path(args: &TestkeyArgs) -> Option<PathBuf> {
    if args.domain.is_some() || args.keytable.is_some() {
        return None;
    }
    args.config.clone().or_else(|| {
        Path::new(DEFAULT_CONFIG)
            .is_file()
            .then(|| PathBuf::from(DEFAULT_CONFIG))
    })
}

/// The keys the command line names: -d/-s (and -k), --keytable, or an opendkim.conf; and the
/// user opendkim runs as, when the KeyTable or opendkim.conf tells (it must be able to read
/// the keys).
fn targets(
    args: &TestkeyArgs,
    conf: Option<&OpendkimConf>,
) -> anyhow::Result<(Vec<Target>, Option<SystemUser>)> {
    if let (Some(domain), Some(selector)) = (&args.domain, &args.selector) {
        let target = Target {
            key_name: None,
            domain: Some(domain.clone()),
            selector: selector.clone(),
            key_file: args.key.clone(),
        };
        return Ok((vec![target], None));
    }
    if let Some(table) = &args.keytable {
        let (path, kind) = table_location(table);
        let targets = keytable_targets(&KeyTable::load(&path, kind)?, None);
        return Ok((targets, opendkim_user(None, Some(&path))?));
    }
    match conf {
        Some(conf) => config_targets(conf).with_context(|| format!("{}", conf.origin().display())),
        None => anyhow::bail!(
            "say which keys to check: -d DOMAIN -s SELECTOR, --keytable FILE, or -x opendkim.conf \
             ({DEFAULT_CONFIG} does not exist)"
        ),
    }
}

/// Every KeyTable entry; relative key paths are relative to `base` (opendkim's BaseDirectory).
pub(super) fn keytable_targets(table: &KeyTable, base: Option<&Path>) -> Vec<Target> {
    table
        .entries()
        .map(|(_, entry)| Target {
            key_name: Some(entry.name.clone()),
            domain: entry.named_domain().cloned(),
            selector: entry.selector.clone(),
            key_file: entry.key_file(base),
        })
        .collect()
}

/// The keys of an opendkim.conf: its KeyTable (a SigningTable is not needed to test keys), or
/// its Domain, Selector and KeyFile; and the user opendkim runs as.
pub(super) fn config_targets(
    conf: &OpendkimConf,
) -> anyhow::Result<(Vec<Target>, Option<SystemUser>)> {
    if let Some(location) = conf.key_table()? {
        let table = KeyTable::load(&location.path, location.kind)?;
        let signer = opendkim_user(conf.user_id(), Some(&location.path))?;
        return Ok((keytable_targets(&table, conf.base_directory()), signer));
    }
    let signer = opendkim_user(conf.user_id(), None)?;
    let targets = match SigningSetup::from_conf(conf)? {
        SigningSetup::SingleKey(key) => key
            .domains
            .iter()
            .filter(|domain| *domain != "*")
            .map(|domain| {
                Ok(Target {
                    key_name: None,
                    domain: Some(domain.parse().with_context(|| format!("Domain {domain}"))?),
                    selector: key.selector.clone(),
                    key_file: Some(key.key_file.clone()),
                })
            })
            .collect::<anyhow::Result<_>>()?,
        _ => anyhow::bail!("it names no keys to check"),
    };
    Ok((targets, signer))
}

/// The DNSSEC status, and why when that is not said on a line of its own (a warning says why a
/// record was not validated).
fn dnssec_words(status: DnssecStatus, reason: Option<&str>) -> String {
    match (status, reason) {
        (DnssecStatus::NotValidated, Some(_)) => format!("DNSSEC: {status}"),
        (DnssecStatus::NotValidated, None) => format!("DNSSEC: {status} (--no-dnssec)"),
        (status, Some(reason)) => format!("DNSSEC: {status} ({reason})"),
        (status, None) => format!("DNSSEC: {status} ({})", status.explanation()),
    }
}

/// `key OK (...)` or one line per problem, then a summary for several keys.
fn print_human(targets: &[Target], results: &[Checked], verbose: u8) -> anyhow::Result<()> {
    let mut out = output::stdout();
    for (target, checked) in targets.iter().zip(results) {
        let label = target.label();
        match checked {
            Checked::Skipped(why) => writeln!(out, "{label}: skipped: {why}")?,
            Checked::KeyUnreadable(why) => writeln!(out, "{label}: error: {why}")?,
            Checked::Report(report) => {
                if verbose > 0 {
                    for cname in &report.cname_chain {
                        writeln!(out, "{label}: via CNAME {cname}")?;
                    }
                    if let Some(record) = &report.record {
                        writeln!(out, "{label}: record: {record}")?;
                    }
                }
                for finding in &report.findings {
                    writeln!(
                        out,
                        "{label}: {}: {}: {}",
                        finding.severity().as_str(),
                        finding,
                        crate::advice::for_key_finding(finding)
                    )?;
                }
                if checked.verdict() == Verdict::Ok {
                    let mut details = Vec::new();
                    if let Some((key_type, bits)) = report.key {
                        details.push(format!("{key_type} {bits} bits"));
                    }
                    if let (Some(true), Some(file)) = (report.private_key_matches, &target.key_file)
                    {
                        details.push(format!("matches {}", file.display()));
                    }
                    details.extend(
                        report
                            .dnssec
                            .map(|status| dnssec_words(status, report.dnssec_reason.as_deref())),
                    );
                    writeln!(out, "{label}: key OK ({})", details.join("; "))?;
                }
            }
        }
    }
    if results.len() > 1 {
        let verdicts: Vec<Verdict> = results.iter().map(Checked::verdict).collect();
        let kinds = [
            Verdict::Ok,
            Verdict::Failed,
            Verdict::Temporary,
            Verdict::Skipped,
        ];
        let summary = output::tally("keys", &verdicts, &kinds, |verdict| verdict.as_str());
        writeln!(out, "{summary}")?;
    }
    out.flush()?;
    Ok(())
}

/// A key as testkey's --json prints it (docs/json.md).
#[derive(Serialize)]
struct KeyJson<'a> {
    key_name: Option<&'a str>,
    domain: Option<&'a str>,
    selector: &'a str,
    key_file: Option<String>,
    result: &'static str,
    #[serde(flatten)]
    checked: CheckedJson<'a>,
}

/// What became of the key: the fields of each case.
#[derive(Serialize)]
#[serde(untagged)]
enum CheckedJson<'a> {
    Skipped {
        reason: &'a str,
    },
    KeyUnreadable {
        findings: [FindingJson; 1],
    },
    Report {
        name: &'a str,
        record: Option<&'a str>,
        cname_chain: &'a [String],
        dnssec: Option<&'static str>,
        dnssec_reason: Option<&'a str>,
        key_type: Option<&'static str>,
        bits: Option<usize>,
        matches_private_key: Option<bool>,
        findings: Vec<FindingJson>,
    },
}

#[derive(Serialize)]
struct FindingJson {
    severity: &'static str,
    message: String,
    /// None for a key file that cannot be read: the message says what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    advice: Option<String>,
}

fn print_json(targets: &[Target], results: &[Checked]) -> anyhow::Result<()> {
    let keys = targets
        .iter()
        .zip(results)
        .map(|(target, checked)| KeyJson {
            key_name: target.key_name.as_deref(),
            domain: target.domain.as_ref().map(DomainName::as_str),
            selector: target.selector.as_str(),
            key_file: target.key_file.as_ref().map(|p| p.display().to_string()),
            result: checked.verdict().as_str(),
            checked: match checked {
                Checked::Skipped(why) => CheckedJson::Skipped { reason: why },
                Checked::KeyUnreadable(why) => CheckedJson::KeyUnreadable {
                    findings: [FindingJson {
                        severity: Severity::Error.as_str(),
                        message: why.clone(),
                        advice: None,
                    }],
                },
                Checked::Report(report) => report_json(report),
            },
        })
        .collect();
    output::print_json(&output::Keys { keys })?;
    Ok(())
}

fn report_json(report: &KeyReport) -> CheckedJson<'_> {
    CheckedJson::Report {
        name: &report.name,
        record: report.record.as_deref(),
        cname_chain: &report.cname_chain,
        dnssec: report.dnssec.map(DnssecStatus::as_str),
        dnssec_reason: report.dnssec_reason.as_deref(),
        key_type: report.key.map(|(key_type, _)| key_type.as_str()),
        bits: report.key.map(|(_, bits)| bits),
        matches_private_key: report.private_key_matches,
        findings: report.findings.iter().map(finding_json).collect(),
    }
}

fn finding_json(finding: &Finding) -> FindingJson {
    FindingJson {
        severity: finding.severity().as_str(),
        message: finding.to_string(),
        advice: Some(crate::advice::for_key_finding(finding)),
    }
}

//! `dkimkit verify-file`: verify the DKIM signatures of message files, Maildirs and mboxes.

use std::fs::File;
use std::io::{self, BufReader, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dkim_core::auth_results::authentication_results;
use dkim_core::mbox::MboxReader;
use dkim_core::message::LineEnding;
use dkim_core::record::{KeyRecord, value_from_zone_text};
use dkim_core::time::unix_now;
use dkim_core::verify::{DkimResult, SignatureVerdict, Verifier};
use dkim_dns::{GivenFirst, KeyLookup, StaticLookup};
use rayon::prelude::*;
use serde::Serialize;

use super::Dns;
use crate::cli::VerifyFileArgs;
use crate::exit::{AlreadyReported, Outcome};
use crate::output::{self, Progress};

/// Messages of an mbox verified at once: enough to use every core, few enough that memory stays
/// small whatever the size of the mailbox.
const MBOX_BATCH: usize = 64;

/// Bytes read from a message file at a time: most messages in one read, a large one in few.
const READ_BUFFER: usize = 64 * 1024;

/// One message to verify.
enum Source {
    Stdin,
    File(PathBuf),
    /// A message already read from an mbox.
    Bytes {
        label: String,
        bytes: Vec<u8>,
    },
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_owned(),
            Source::File(path) => path.display().to_string(),
            Source::Bytes { label, .. } => label.clone(),
        }
    }

    fn verify(&self, verifier: &Verifier<'_>, now: u64) -> anyhow::Result<Vec<SignatureVerdict>> {
        let verdicts = match self {
            Source::Stdin => verifier.verify_message(&mut io::stdin().lock(), now),
            Source::File(path) => {
                let file = File::open(path).context("cannot read the message")?;
                verifier.verify_message(&mut BufReader::with_capacity(READ_BUFFER, file), now)
            }
            Source::Bytes { bytes, .. } => verifier.verify_message(&mut &bytes[..], now),
        };
        Ok(verdicts?)
    }
}

/// What became of one message.
struct Report {
    label: String,
    verdicts: anyhow::Result<Vec<SignatureVerdict>>,
}

/// A message's overall result: it passes when one signature passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageResult {
    Pass,
    Fail,
    /// No signature at all (RFC 8601 `none`).
    None,
    /// Nothing passes, and a temporary failure may be why.
    TempError,
    Unreadable,
}

impl MessageResult {
    fn of(verdicts: &anyhow::Result<Vec<SignatureVerdict>>) -> Self {
        match verdicts {
            Err(_) => MessageResult::Unreadable,
            Ok(v) if v.is_empty() => MessageResult::None,
            Ok(v) if v.iter().any(|s| s.result == DkimResult::Pass) => MessageResult::Pass,
            Ok(v) if v.iter().any(|s| s.result == DkimResult::TempError) => {
                MessageResult::TempError
            }
            Ok(_) => MessageResult::Fail,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            MessageResult::Pass => "pass",
            MessageResult::Fail => "fail",
            MessageResult::None => "none",
            MessageResult::TempError => "temperror",
            MessageResult::Unreadable => "unreadable",
        }
    }
}

pub fn run(args: VerifyFileArgs) -> anyhow::Result<Outcome> {
    let lookup = build_lookup(&args)?;
    let verifier = Verifier::new(lookup.as_ref());
    let now = args.now.unwrap_or_else(unix_now);
    let mut sources = Vec::new();
    let mut mboxes = Vec::new();
    let inputs = inputs(&args.files);
    // One stat per file, which for a thousand files on the command line is worth doing on
    // every core rather than before the verifying starts.
    let is_dir: Vec<bool> = inputs
        .par_iter()
        .map(|input| input.as_ref().is_some_and(|path| path.is_dir()))
        .collect();
    for (input, is_dir) in inputs.into_iter().zip(is_dir) {
        match input {
            Some(path) if args.mbox => mboxes.push(Some(path)),
            None if args.mbox => mboxes.push(None),
            Some(path) if is_dir => {
                sources.extend(maildir_files(&path)?.into_iter().map(Source::File))
            }
            Some(path) => sources.push(Source::File(path)),
            None => sources.push(Source::Stdin),
        }
    }

    // An mbox's messages are counted as they are read, so its bar grows batch by batch.
    let progress = if mboxes.is_empty() {
        Progress::new(sources.len(), "messages", false)
    } else {
        let progress = Progress::growing("messages");
        progress.add_to_total(sources.len());
        progress
    };
    let verify = |source: &Source| {
        let report = Report {
            label: source.label(),
            verdicts: source.verify(&verifier, now),
        };
        progress.advance();
        report
    };
    let mut reports: Vec<Report> = sources.par_iter().map(verify).collect();
    for mbox in mboxes {
        reports.extend(verify_mbox(mbox.as_deref(), &verify, &progress)?);
    }
    progress.finish();

    if args.json {
        print_json(&reports)?;
    } else if args.ar {
        print_authentication_results(&reports, &authserv_id(&args))?;
    } else {
        print_human(&reports)?;
    }
    let results: Vec<MessageResult> = reports
        .iter()
        .map(|r| MessageResult::of(&r.verdicts))
        .collect();
    outcome(&results)
}

/// The inputs as given: None is standard input.
fn inputs(files: &[PathBuf]) -> Vec<Option<PathBuf>> {
    if files.is_empty() {
        return vec![None];
    }
    files
        .iter()
        .map(|f| (f != Path::new("-")).then(|| f.clone()))
        .collect()
}

/// The messages of a Maildir: the files in cur/ and new/, sorted.
fn maildir_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let (cur, new) = (dir.join("cur"), dir.join("new"));
    if !cur.is_dir() || !new.is_dir() {
        anyhow::bail!(
            "{} is a directory but not a Maildir (it needs cur/ and new/)",
            dir.display()
        );
    }
    let mut files = Vec::new();
    for sub in [cur, new] {
        for entry in
            std::fs::read_dir(&sub).with_context(|| format!("cannot read {}", sub.display()))?
        {
            let path = entry?.path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Verifies an mbox's messages in batches, so memory stays small whatever its size.
fn verify_mbox(
    path: Option<&Path>,
    verify: &(dyn Fn(&Source) -> Report + Sync),
    progress: &Progress,
) -> anyhow::Result<Vec<Report>> {
    let name = path.map_or("<stdin>".to_owned(), |p| p.display().to_string());
    let reader: Box<dyn io::BufRead> = match path {
        Some(path) => Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot read {name}"))?,
        )),
        None => Box::new(io::stdin().lock()),
    };
    let mut messages = MboxReader::new(reader).messages();
    let mut reports = Vec::new();
    loop {
        let batch: Vec<Source> = messages
            .by_ref()
            .take(MBOX_BATCH)
            .map(|message| {
                message
                    .map(|m| Source::Bytes {
                        label: format!("{name}#{} (line {})", m.number, m.line),
                        bytes: m.bytes,
                    })
                    .with_context(|| format!("cannot read {name}"))
            })
            .collect::<anyhow::Result<_>>()?;
        if batch.is_empty() {
            return Ok(reports);
        }
        progress.add_to_total(batch.len());
        reports.extend(batch.par_iter().map(verify).collect::<Vec<_>>());
    }
}

/// Where keys come from: the records given with --key first, then DNS.
fn build_lookup(args: &VerifyFileArgs) -> anyhow::Result<Box<dyn KeyLookup>> {
    let mut keys = StaticLookup::new();
    for key in &args.keys {
        let (name, record) = parse_key_arg(key)?;
        keys.insert(&name, record);
    }
    let dns = Dns::new(args.dns.resolver_settings(None)?);
    Ok(Box::new(GivenFirst::new(keys, dns)))
}

/// `NAME=RECORD_OR_FILE`: the record as a value, or a file holding it (such as genkey's .txt).
fn parse_key_arg(arg: &str) -> anyhow::Result<(String, String)> {
    let (name, given) = arg.split_once('=').with_context(|| {
        format!("--key {arg}: write it as SELECTOR._domainkey.DOMAIN=RECORD_OR_FILE")
    })?;
    if !name.to_ascii_lowercase().contains("._domainkey.") {
        anyhow::bail!("--key {name}: the name must be SELECTOR._domainkey.DOMAIN");
    }
    let path = Path::new(given);
    let (record, context) = if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--key {name}: cannot read {}", path.display()))?;
        (
            value_from_zone_text(&text),
            format!("--key {name}: {}", path.display()),
        )
    } else if given.contains('=') {
        (given.to_owned(), format!("--key {name}"))
    } else {
        anyhow::bail!("--key {name}: {given} is neither a file nor a key record");
    };
    KeyRecord::parse(&record).context(context)?;
    Ok((name.to_owned(), record))
}

fn authserv_id(args: &VerifyFileArgs) -> String {
    args.authserv_id.clone().unwrap_or_else(super::host_name)
}

/// The exit status: 0 when every message passes, 3 when the only problem is temporary, 1 when
/// a message fails, 2 (an error) when one could not be read.
fn outcome(results: &[MessageResult]) -> anyhow::Result<Outcome> {
    let count = |wanted: MessageResult| results.iter().filter(|r| **r == wanted).count();
    if count(MessageResult::Unreadable) > 0 {
        if results.len() == 1 {
            return Err(AlreadyReported.into());
        }
        anyhow::bail!(
            "{} of {} messages could not be read",
            count(MessageResult::Unreadable),
            results.len()
        );
    }
    Ok(
        if count(MessageResult::Fail) + count(MessageResult::None) > 0 {
            Outcome::CheckFailed
        } else if count(MessageResult::TempError) > 0 {
            Outcome::TemporaryFailure
        } else {
            Outcome::Success
        },
    )
}

/// One line per signature: `FILE: RESULT d=... s=... a=... (REASON)`.
fn print_human(reports: &[Report]) -> anyhow::Result<()> {
    let mut out = output::stdout();
    for report in reports {
        match &report.verdicts {
            Err(error) => output::error_about(&report.label, error),
            Ok(verdicts) if verdicts.is_empty() => {
                writeln!(out, "{}: none (no DKIM signature)", report.label)?
            }
            Ok(verdicts) => {
                for verdict in verdicts {
                    write!(out, "{}: {}", report.label, verdict.result)?;
                    for (tag, value) in [
                        ("d", verdict.domain.as_deref()),
                        ("s", verdict.selector.as_deref()),
                        ("a", verdict.algorithm.map(|a| a.as_str())),
                    ] {
                        if let Some(value) = value {
                            write!(out, " {tag}={value}")?;
                        }
                    }
                    if let Some(reason) = &verdict.reason {
                        write!(out, " ({reason})")?;
                    }
                    if verdict.testing {
                        write!(out, " [key in testing mode, t=y]")?;
                    }
                    if let Some(dnssec) = verdict.dnssec {
                        write!(out, " [DNSSEC: {dnssec}]")?;
                    }
                    writeln!(out)?;
                }
            }
        }
    }
    if reports.len() > 1 {
        let results: Vec<MessageResult> = reports
            .iter()
            .map(|r| MessageResult::of(&r.verdicts))
            .collect();
        let kinds = [
            MessageResult::Pass,
            MessageResult::Fail,
            MessageResult::None,
            MessageResult::TempError,
            MessageResult::Unreadable,
        ];
        let summary = output::tally("messages", &results, &kinds, |result| result.as_str());
        writeln!(out, "{summary}")?;
    }
    out.flush()?;
    Ok(())
}

fn print_authentication_results(reports: &[Report], authserv_id: &str) -> anyhow::Result<()> {
    let mut out = output::stdout();
    for report in reports {
        match &report.verdicts {
            Err(error) => output::error_about(&report.label, error),
            Ok(verdicts) => {
                if reports.len() > 1 {
                    writeln!(out, "# {}", report.label)?;
                }
                let field = authentication_results(authserv_id, verdicts);
                writeln!(out, "{}", LineEnding::Lf.apply(&field))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// A message as verify-file's --json prints it (docs/json.md).
#[derive(Serialize)]
struct MessageJson<'a> {
    file: &'a str,
    result: &'static str,
    #[serde(flatten)]
    verdicts: VerdictsJson<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum VerdictsJson<'a> {
    Unreadable { error: String },
    Read { signatures: Vec<SignatureJson<'a>> },
}

#[derive(Serialize)]
struct SignatureJson<'a> {
    result: &'static str,
    reason: Option<String>,
    domain: Option<&'a str>,
    selector: Option<&'a str>,
    algorithm: Option<&'static str>,
    identity: Option<&'a str>,
    testing: bool,
    dnssec: Option<&'static str>,
}

/// verify-file's --json document.
#[derive(Serialize)]
struct VerifyJson<'a> {
    messages: Vec<MessageJson<'a>>,
}

fn print_json(reports: &[Report]) -> anyhow::Result<()> {
    let messages = reports
        .iter()
        .map(|report| MessageJson {
            file: &report.label,
            result: MessageResult::of(&report.verdicts).as_str(),
            verdicts: match &report.verdicts {
                Err(error) => VerdictsJson::Unreadable {
                    error: output::describe(error),
                },
                Ok(verdicts) => VerdictsJson::Read {
                    signatures: verdicts.iter().map(signature_json).collect(),
                },
            },
        })
        .collect();
    output::print_json(&VerifyJson { messages })?;
    Ok(())
}

fn signature_json(verdict: &SignatureVerdict) -> SignatureJson<'_> {
    SignatureJson {
        result: verdict.result.as_str(),
        reason: verdict.reason.as_ref().map(ToString::to_string),
        domain: verdict.domain.as_deref(),
        selector: verdict.selector.as_deref(),
        algorithm: verdict.algorithm.map(|a| a.as_str()),
        identity: verdict.identity.as_deref(),
        testing: verdict.testing,
        dnssec: verdict.dnssec.map(|d| d.as_str()),
    }
}

//! One file per subcommand. They read files, call the library and print; DKIM rules live in
//! `dkim-core`.

mod check;
mod generate_docs;
mod genkey;
mod genzone;
mod published_record;
mod record;
mod rotate;
mod sign_file;
mod testkey;
mod verify_file;

use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context as _;
use dkim_core::key::RECOMMENDED_RSA_BITS;
use dkim_core::{KeyType, PrivateKey};
use dkim_dns::{
    CachingLookup, HickoryLookup, KeyLookup, LookupError, ResolverSettings, TrustAnchor, TxtAnswer,
};
use host_files::{Existing, KeyFileError, NewFile, UnsafeKeyFile, WriteError};
use opendkim_config::{DataSetKind, OpendkimConf};

use crate::cli::{Cli, Command, DnsArgs, KeySafetyArgs};
use crate::exit::Outcome;
use crate::output;

/// Runs the subcommand the command line names.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Genkey(args) => genkey::run(args),
        Command::Genzone(args) => genzone::run(args),
        Command::Record(args) => record::run(args),
        Command::SignFile(args) => sign_file::run(args),
        Command::VerifyFile(args) => verify_file::run(args),
        Command::Testkey(args) => testkey::run(args),
        Command::Check(args) => check::run(args),
        Command::Rotate(args) => rotate::run(*args),
        Command::GenerateDocs(args) => generate_docs::run(args),
    }
}

/// Writes a set of files all or nothing, refusing to replace existing ones unless `force`,
/// with an error that says how to get past that.
fn write_files(new_files: &[NewFile<'_>], force: bool) -> anyhow::Result<()> {
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    host_files::write_all_or_nothing(new_files, existing).map_err(write_error)
}

/// A file-writing error, saying how to get past an existing file.
fn write_error(error: WriteError) -> anyhow::Error {
    match error {
        WriteError::Exists { path } => file_exists_error(&path),
        other => anyhow::Error::new(other),
    }
}

/// Refuses, before any work is done, to write where a file exists already (unless `force`).
fn refuse_existing<'a>(
    paths: impl IntoIterator<Item = &'a Path>,
    force: bool,
) -> anyhow::Result<()> {
    match paths
        .into_iter()
        .find(|p| !force && p.symlink_metadata().is_ok())
    {
        Some(path) => Err(file_exists_error(path)),
        None => Ok(()),
    }
}

fn file_exists_error(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} already exists (use --force to replace it; nothing was written)",
        path.display()
    )
}

/// Warns about an RSA key below RFC 8301's recommended size; `subject` names the key's file.
fn warn_if_weak(key_type: KeyType, bits: usize, subject: Option<&Path>) {
    if key_type == KeyType::Rsa && bits < RECOMMENDED_RSA_BITS {
        let prefix = subject
            .map(|p| format!("{}: ", p.display()))
            .unwrap_or_default();
        output::warning(&format!(
            "{prefix}{bits}-bit RSA keys are weak: RFC 8301 recommends at least \
             {RECOMMENDED_RSA_BITS} bits"
        ));
    }
}

/// DNS as the command line asks for it (`--nameserver`, `--timeout`, DNSSEC), cached for the
/// run, and set up on first use: a run that needs no DNS (every key given with `--key`) never
/// reads /etc/resolv.conf.
struct Dns {
    settings: ResolverSettings,
    lookup: OnceLock<Result<CachingLookup<HickoryLookup>, String>>,
}

impl DnsArgs {
    /// How to ask DNS: the name servers of --nameserver, else of opendkim.conf's Nameservers
    /// (`conf`), else the system's; DNSSEC validated from the root's built-in keys and the
    /// records of --trust-anchor (else of opendkim.conf's TrustAnchorFile), or not with
    /// --no-dnssec. Every subcommand that looks keys up takes it from here, so testkey,
    /// verify-file, check and rotate judge a zone alike.
    fn resolver_settings(&self, conf: Option<&OpendkimConf>) -> anyhow::Result<ResolverSettings> {
        let nameservers = match conf {
            Some(conf) if self.nameservers.is_empty() => conf.nameservers()?,
            _ => self.nameservers.clone(),
        };
        let conf_anchor = conf.and_then(OpendkimConf::trust_anchor_file);
        let anchor = match (&self.dnssec.trust_anchor, &conf_anchor) {
            (Some(file), _) => Some((file, "--trust-anchor")),
            (None, Some(file)) => Some((file, "TrustAnchorFile")),
            (None, None) => None,
        };
        let dnssec = match anchor {
            _ if self.dnssec.no_dnssec => None,
            None => Some(TrustAnchor::BuiltInRoot),
            Some((file, origin)) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read the trust anchor {}", file.display()))?;
                let anchor = TrustAnchor::from_records(text);
                Some(anchor.with_context(|| format!("{origin} {}", file.display()))?)
            }
        };
        Ok(ResolverSettings {
            nameservers,
            timeout: self.timeout,
            dnssec,
            ..ResolverSettings::default()
        })
    }
}

impl KeySafetyArgs {
    /// Whether a key that other users could read or replace is used (with a warning): with
    /// --allow-unsafe-keys, or with opendkim.conf's RequireSafeKeys false (`conf`).
    fn allows_unsafe(&self, conf: Option<&OpendkimConf>) -> bool {
        self.allow_unsafe_keys || conf.is_some_and(|conf| !conf.require_safe_keys())
    }

    /// -v's line for opendkim.conf's RequireSafeKeys, which --allow-unsafe-keys overrides.
    fn conf_setting_line(&self, conf: &OpendkimConf) -> String {
        let value = conf.require_safe_keys().to_string();
        let flag = self
            .allow_unsafe_keys
            .then_some("--allow-unsafe-keys given");
        conf_setting_line(conf, "RequireSafeKeys", &value, flag)
    }
}

impl Dns {
    fn new(settings: ResolverSettings) -> Self {
        Dns {
            settings,
            lookup: OnceLock::new(),
        }
    }

    /// The lookup, set up on first use, or why it could not be.
    fn set_up(&self) -> Result<&CachingLookup<HickoryLookup>, &str> {
        let lookup = self.lookup.get_or_init(|| {
            HickoryLookup::new(&self.settings)
                .map(CachingLookup::new)
                .map_err(|e| format!("cannot set up DNS: {}", output::describe_cause(&e)))
        });
        lookup.as_ref().map_err(String::as_str)
    }

    /// The lookup to ask `name` with; when DNS could not be set up, the failure to ask it.
    fn lookup(&self, name: &str) -> Result<&CachingLookup<HickoryLookup>, LookupError> {
        self.set_up().map_err(|detail| LookupError::ServerFailure {
            name: name.to_owned(),
            detail: detail.to_owned(),
        })
    }

    /// Sets DNS up now, so that a bad setting (such as a trust anchor that does not parse) is a
    /// usage error rather than a failed lookup.
    fn ready(&self) -> anyhow::Result<()> {
        self.set_up()
            .map(drop)
            .map_err(|detail| anyhow::anyhow!("{detail}"))
    }
}

impl KeyLookup for Dns {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        self.lookup(name)?.lookup_txt(name)
    }
}

/// One line of -v's list of the opendkim.conf settings a command follows: the setting, the value
/// used, where it was written (or that it is opendkim's default), and the flag that overrides
/// it, if one does.
fn conf_setting_line(
    conf: &OpendkimConf,
    name: &str,
    value: &str,
    overridden_by: Option<&str>,
) -> String {
    let source = match conf.at(name) {
        Some(at) => at.to_string(),
        None => "not set".to_owned(),
    };
    let overridden = overridden_by
        .map(|flag| format!("; not used: {flag}"))
        .unwrap_or_default();
    format!("opendkim.conf: {name} {value} ({source}{overridden})")
}

/// This host's name, as the kernel has it; "localhost" when it cannot be read.
/// The threads that ask DNS for testkey and check: DNS waits dominate, not CPU, so more threads
/// than cores, bounded by --jobs.
fn dns_worker_pool(jobs: u16) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(usize::from(jobs))
        .build()
        .context("cannot start the worker threads")
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// A table argument: `refile:PATH` for wildcard patterns, otherwise a plain file (with or
/// without `file:`), as opendkim.conf writes them.
fn table_location(argument: &str) -> (std::path::PathBuf, DataSetKind) {
    match argument.split_once(':') {
        Some(("refile", path)) => (path.into(), DataSetKind::Refile),
        Some(("file", path)) => (path.into(), DataSetKind::File),
        _ => (argument.into(), DataSetKind::File),
    }
}

/// Reads a private key to sign with or to compare with a record. A key that other users could
/// read or replace is refused, as opendkim's RequireSafeKeys (on by default) refuses it, unless
/// `allow_unsafe` (`--allow-unsafe-keys`), which only warns.
fn read_private_key(path: &Path, allow_unsafe: bool) -> anyhow::Result<PrivateKey> {
    let record_instead = |contents: &[u8]| {
        dkim_core::record::is_key_record_text(contents).then(|| {
            let private = if path.extension().is_some_and(|e| e == "txt") {
                path.with_extension("private").display().to_string()
            } else {
                "SELECTOR.private, beside it".to_owned()
            };
            format!(
                "{} is the key record for DNS, not the private key, which is {private}",
                path.display()
            )
        })
    };
    let (contents, unsafe_file) = host_files::read_private_key(path, allow_unsafe, record_instead)
        .map_err(|error| match error {
            KeyFileError::Unsafe(problem) if !matches!(problem, UnsafeKeyFile::Io { .. }) => {
                anyhow::anyhow!("{problem}; or pass --allow-unsafe-keys to use it anyway")
            }
            other => anyhow::Error::new(other),
        })?;
    if let Some(problem) = unsafe_file {
        output::warning(&format!(
            "{problem} (used anyway: --allow-unsafe-keys, or opendkim.conf's RequireSafeKeys false)"
        ));
    }
    PrivateKey::from_file_contents(&contents)
        .with_context(|| format!("{}: cannot read the private key", path.display()))
}

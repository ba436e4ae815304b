//! `dkimkit sign-file`: DKIM-sign message files with one or more keys, fixed or chosen per
//! message by opendkim's tables.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use anyhow::Context as _;
use dkim_core::canonical::{Algorithm, Canonicalization};
use dkim_core::crypto::SigningKey;
use dkim_core::message::{LineEnding, MessageHeader, read_header, sender_address};
use dkim_core::sign::{SignOptions, Signatures, Signer, sign_with};
use dkim_core::time::unix_now;
use dkim_core::{DomainName, Selector};
use host_files::{Durability, Existing, PRIVATE_FILE_MODE, StagedFile, WriteError};
use opendkim_config::{
    KeyTable, MultipleSignatures, OpendkimConf, SenderAddress, SigningPolicy, SigningSetup,
    SigningTable,
};
use rayon::prelude::*;
use serde::Serialize;

use super::{
    conf_setting_line, read_private_key, refuse_existing, table_location, warn_if_weak, write_error,
};
use crate::cli::SignFileArgs;
use crate::exit::Outcome;
use crate::output::{self, Progress};

/// Where a message comes from.
enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn label(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// The message as a file that can be read twice: once to sign, once to copy. Standard input
    /// is spooled to an anonymous temporary file, so memory stays flat whatever its size.
    fn open(&self) -> io::Result<File> {
        match self {
            Input::File(path) => File::open(path),
            Input::Stdin => {
                let mut spool = tempfile::tempfile()?;
                io::copy(&mut io::stdin().lock(), &mut spool)?;
                spool.seek(SeekFrom::Start(0))?;
                Ok(spool)
            }
        }
    }
}

/// Where a signed message goes.
enum Destination {
    Stdout,
    /// Nowhere: --json describes the signatures instead.
    Nowhere,
    File(PathBuf),
    InPlace(PathBuf),
}

/// A key to sign a message with, and the name it signs as.
#[derive(Clone)]
struct ChosenKey {
    key: Arc<SigningKey>,
    domain: DomainName,
    selector: Selector,
    identity: Option<String>,
}

/// How the keys for a message are chosen.
enum KeyChoice {
    /// -d/-s/-k: the same keys for every message.
    Fixed(Vec<ChosenKey>),
    /// opendkim's tables or opendkim.conf: by the message's From address.
    ByFrom {
        /// Boxed: the tables are large beside a list of keys.
        setup: Box<SigningSetup>,
        loaded: KeyCache,
    },
}

/// Private keys loaded once each, however many messages they sign.
struct KeyCache {
    keys: Mutex<HashMap<PathBuf, Arc<SigningKey>>>,
    /// `--allow-unsafe-keys`, or opendkim.conf's `RequireSafeKeys false`.
    allow_unsafe: bool,
    /// opendkim.conf's rules for keys (SignatureAlgorithm, MinimumKeyBits), with --config.
    policy: Option<Box<SigningPolicy>>,
}

impl KeyCache {
    fn get(&self, path: &Path) -> anyhow::Result<Arc<SigningKey>> {
        if let Some(key) = self
            .keys
            .lock()
            .expect("the key cache is never poisoned")
            .get(path)
        {
            return Ok(Arc::clone(key));
        }
        let key = Arc::new(load_key(path, self.allow_unsafe, self.policy.as_deref())?);
        let mut cache = self.keys.lock().expect("the key cache is never poisoned");
        Ok(Arc::clone(cache.entry(path.to_owned()).or_insert(key)))
    }
}

/// Reads a private key file and prepares it for signing, refusing a key opendkim.conf's rules
/// (`policy`) would not sign with.
fn load_key(
    path: &Path,
    allow_unsafe: bool,
    policy: Option<&SigningPolicy>,
) -> anyhow::Result<SigningKey> {
    let key = read_private_key(path, allow_unsafe)?;
    if let Some(policy) = policy {
        policy
            .check_key(key.key_type(), key.bits())
            .with_context(|| path.display().to_string())?;
    }
    warn_if_weak(key.key_type(), key.bits(), Some(path));
    SigningKey::new(&key).with_context(|| path.display().to_string())
}

impl KeyChoice {
    /// The keys the command line names; `conf` is the opendkim.conf of --config, read already.
    fn from_args(args: &SignFileArgs, conf: Option<&ConfSigning>) -> anyhow::Result<Self> {
        if let Some(conf) = conf {
            return Ok(KeyChoice::ByFrom {
                setup: Box::new(conf.setup.clone()),
                loaded: KeyCache {
                    keys: Mutex::default(),
                    allow_unsafe: args.key_safety.allows_unsafe(Some(&conf.conf)),
                    policy: Some(Box::new(conf.policy.clone())),
                },
            });
        }
        if let (Some(keys), Some(signing)) = (&args.keytable, &args.signing_table) {
            let (key_path, key_kind) = table_location(keys);
            let (signing_path, signing_kind) = table_location(signing);
            let setup = SigningSetup::Tables {
                key_table: KeyTable::load(&key_path, key_kind)?,
                signing_table: SigningTable::load(&signing_path, signing_kind)?,
                multiple: if args.multiple_signatures {
                    MultipleSignatures::On
                } else {
                    MultipleSignatures::Off
                },
                base_directory: None,
            };
            return Ok(KeyChoice::ByFrom {
                setup: Box::new(setup),
                loaded: KeyCache {
                    keys: Mutex::default(),
                    allow_unsafe: args.key_safety.allow_unsafe_keys,
                    policy: None,
                },
            });
        }
        Ok(KeyChoice::Fixed(fixed_keys(args)?))
    }

    /// The keys for a message, given its header.
    fn keys_for(&self, header: &MessageHeader) -> anyhow::Result<Vec<ChosenKey>> {
        match self {
            KeyChoice::Fixed(keys) => Ok(keys.clone()),
            KeyChoice::ByFrom { setup, loaded } => {
                let from = sender_address(header).context("the From field holds no address")?;
                let address: SenderAddress = from
                    .parse()
                    .with_context(|| format!("From address {from}"))?;
                let choices = setup.signing_keys(&address)?;
                if choices.is_empty() {
                    if let SigningSetup::Tables { signing_table, .. } = &**setup
                        && let Some(pattern) = signing_table.pattern_read_as_text()
                    {
                        anyhow::bail!(
                            "no SigningTable entry matches the From address {from}: {pattern}"
                        );
                    }
                    anyhow::bail!(
                        "no SigningTable entry matches the From address {from}, so opendkim would \
                         not sign it either"
                    );
                }
                choices
                    .into_iter()
                    .map(|choice| {
                        Ok(ChosenKey {
                            key: loaded.get(&choice.key_path)?,
                            domain: choice.domain,
                            selector: choice.selector,
                            identity: choice.signer,
                        })
                    })
                    .collect()
            }
        }
    }
}

/// -d/-s/-k: `-s`/`-k` pair up in order, and `-d` is given once for all or once per key.
fn fixed_keys(args: &SignFileArgs) -> anyhow::Result<Vec<ChosenKey>> {
    let (keys, selectors, domains) = (&args.keys, &args.selectors, &args.domains);
    if keys.len() != selectors.len() {
        anyhow::bail!(
            "give one -s/--selector per -k/--key (got {} -s and {} -k)",
            selectors.len(),
            keys.len()
        );
    }
    if domains.len() != 1 && domains.len() != keys.len() {
        anyhow::bail!(
            "give -d/--domain once for every key, or once per key (got {} -d and {} -k)",
            domains.len(),
            keys.len()
        );
    }
    keys.iter()
        .zip(selectors)
        .enumerate()
        .map(|(i, (path, selector))| {
            Ok(ChosenKey {
                key: Arc::new(load_key(path, args.key_safety.allow_unsafe_keys, None)?),
                domain: domains[if domains.len() == 1 { 0 } else { i }].clone(),
                selector: selector.clone(),
                identity: args.identity.clone(),
            })
        })
        .collect()
}

/// Messages signed before their output files are put in place together, and synced together
/// when they are to be (syncing one file after the other costs a journal commit each: 20 times
/// slower on ext4); few enough that the staged files' descriptors, three batches at most, stay
/// well under the usual limit of 1,024.
const STAGED_BATCH: usize = 128;

/// A signed message: its new signatures, and its output file if it waits to be put in place.
struct SignedMessage {
    added: Vec<AddedSignature>,
    staged: Option<StagedFile>,
}

/// A signature added to a message, as --json describes it (docs/json.md).
#[derive(Serialize)]
struct AddedSignature {
    domain: String,
    selector: String,
    algorithm: &'static str,
    /// The DKIM-Signature field, with LF line ends.
    field: String,
}

/// A message as --json describes it.
#[derive(Serialize)]
#[serde(untagged)]
enum FileJson {
    Signed {
        file: String,
        output: Option<String>,
        signatures: Vec<AddedSignature>,
    },
    Failed {
        file: String,
        error: String,
    },
}

/// sign-file's --json document.
#[derive(Serialize)]
struct SignJson {
    files: Vec<FileJson>,
    signed: usize,
    failed: usize,
}

/// What --config's opendkim.conf says: the keys, and how to sign with them.
struct ConfSigning {
    conf: OpendkimConf,
    setup: SigningSetup,
    policy: SigningPolicy,
}

impl ConfSigning {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let context = || format!("{}: cannot sign as it says", path.display());
        let conf = OpendkimConf::load(path).with_context(context)?;
        Ok(ConfSigning {
            setup: SigningSetup::from_conf(&conf).with_context(context)?,
            policy: SigningPolicy::from_conf(&conf).with_context(context)?,
            conf,
        })
    }

    /// Says on standard error which settings sign-file follows, and which flags override.
    fn list_settings(&self, args: &SignFileArgs) {
        let policy = &self.policy;
        let list = |names: &[String]| names.join(":");
        let overridden = |flag: Option<&str>| flag.map(|f| format!("{f} given"));
        let algorithm = policy
            .algorithm
            .as_ref()
            .map_or("by each key's type", |(a, _)| a.as_str());
        let settings: [(&str, String, Option<String>); 5] = [
            (
                "Canonicalization",
                policy.canonicalization.to_string(),
                overridden(args.canonicalization.map(|_| "-c")),
            ),
            ("SignatureAlgorithm", algorithm.to_owned(), None),
            (
                "SignHeaders",
                policy
                    .headers
                    .as_deref()
                    .map_or_else(|| "dkimkit's default list".to_owned(), list),
                overridden(args.headers.as_ref().map(|_| "-H")),
            ),
            ("OversignHeaders", list(&policy.oversigned), None),
            (
                "MinimumKeyBits",
                policy.minimum_key_bits.0.to_string(),
                None,
            ),
        ];
        for (name, value, overridden) in settings {
            output::verbose(&conf_setting_line(
                &self.conf,
                name,
                &value,
                overridden.as_deref(),
            ));
        }
        output::verbose(&args.key_safety.conf_setting_line(&self.conf));
    }
}

/// dkimkit's own canonicalization, when neither -c nor opendkim.conf says.
const DEFAULT_CANONICALIZATION: Canonicalization = Canonicalization {
    header: Algorithm::Relaxed,
    body: Algorithm::Relaxed,
};

/// The signing options: the command line's flags, then opendkim.conf's settings (--config),
/// then dkimkit's defaults.
fn sign_options(args: &SignFileArgs, conf: Option<&ConfSigning>, now: u64) -> SignOptions {
    let policy = conf.map(|c| &c.policy);
    let timestamp = args.timestamp.unwrap_or(now);
    SignOptions {
        canonicalization: args
            .canonicalization
            .or(policy.map(|p| p.canonicalization))
            .unwrap_or(DEFAULT_CANONICALIZATION),
        headers: args
            .headers
            .as_ref()
            .map(|h| h.0.clone())
            .or_else(|| policy.and_then(|p| p.headers.clone())),
        oversigned: policy.map(|p| p.oversigned.clone()).unwrap_or_default(),
        timestamp,
        // x= is a time: `-x 1month` ends on the same day of the next month.
        expire_after: args
            .expire
            .map(|expire| expire.after(timestamp).saturating_sub(timestamp)),
        body_length: args.body_length,
    }
}

pub fn run(args: SignFileArgs) -> anyhow::Result<Outcome> {
    let conf = args.config.as_deref().map(ConfSigning::load).transpose()?;
    if let (Some(conf), true) = (&conf, args.verbose) {
        conf.list_settings(&args);
    }
    let keys = KeyChoice::from_args(&args, conf.as_ref())?;
    let now = unix_now();
    let options = sign_options(&args, conf.as_ref(), now);
    let inputs: Vec<Input> = if args.files.is_empty() {
        vec![Input::Stdin]
    } else {
        args.files
            .iter()
            .map(|f| {
                if f == Path::new("-") {
                    Input::Stdin
                } else {
                    Input::File(f.clone())
                }
            })
            .collect()
    };
    let destinations = plan_destinations(&args, &inputs)?;

    let progress = Progress::new(inputs.len(), "messages", false);
    // A batch's outputs are put in place (and synced, when they are to be) on another thread
    // while the next batch is signed: the disk's wait and the CPU's work overlap.
    let results: Vec<anyhow::Result<Vec<AddedSignature>>> = thread::scope(|scope| {
        let (to_place, batches) = mpsc::sync_channel(0);
        let placer = scope.spawn(move || {
            batches
                .into_iter()
                .flat_map(place_outputs)
                .collect::<Vec<_>>()
        });
        for (inputs, destinations) in inputs
            .chunks(STAGED_BATCH)
            .zip(destinations.chunks(STAGED_BATCH))
        {
            let signed: Vec<anyhow::Result<SignedMessage>> = inputs
                .par_iter()
                .zip(destinations.par_iter())
                .map(|(input, destination)| {
                    let result = sign_one(input, destination, &keys, &options, &args)
                        .with_context(|| input.label());
                    progress.advance();
                    result
                })
                .collect();
            if to_place.send(signed).is_err() {
                break;
            }
        }
        drop(to_place);
        placer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    progress.finish();
    report(&inputs, &destinations, results, args.json)
}

/// Says what became of each message: the signatures as JSON when asked, and for a batch that
/// failed part way, each failure on its own line and how many were written.
fn report(
    inputs: &[Input],
    destinations: &[Destination],
    results: Vec<anyhow::Result<Vec<AddedSignature>>>,
    json: bool,
) -> anyhow::Result<Outcome> {
    let mut described = Vec::with_capacity(inputs.len());
    let mut failures = Vec::new();
    for ((input, destination), result) in inputs.iter().zip(destinations).zip(results) {
        match result {
            Ok(signatures) => described.push(FileJson::Signed {
                file: input.label(),
                output: written_to(destination),
                signatures,
            }),
            Err(error) => {
                described.push(FileJson::Failed {
                    file: input.label(),
                    error: output::describe(&error),
                });
                failures.push(error);
            }
        }
    }
    let signed = inputs.len() - failures.len();
    if json {
        output::print_json(&SignJson {
            files: described,
            signed,
            failed: failures.len(),
        })?;
    }
    if inputs.len() == 1 {
        return match failures.pop() {
            Some(error) => Err(error),
            None => Ok(Outcome::Success),
        };
    }
    if failures.is_empty() {
        return Ok(Outcome::Success);
    }
    for error in &failures {
        output::error(error);
    }
    // Every message is put in place whole or not at all (the host-files crate): a failed one left nothing
    // behind, and with --in-place its file as it was; except one whose directory could not be
    // synced after it was put in place, which is there but may not survive a crash.
    let (done, undone) = match destinations.first() {
        Some(Destination::InPlace(_)) => ("signed in place", "left unchanged"),
        _ => ("signed and written", "not written"),
    };
    let not_durable = failures.iter().filter(|e| is_not_durable(e)).count();
    let undone_count = failures.len() - not_durable;
    let mut summary = format!("{signed} of {} messages {done}", inputs.len());
    if undone_count > 0 {
        summary.push_str(&format!(
            "; {undone_count} failed, each named above, and {undone}"
        ));
    }
    if not_durable > 0 {
        summary.push_str(&format!(
            "; {not_durable} written but not synced, each named above"
        ));
    }
    Err(anyhow::anyhow!(summary))
}

/// Whether a message failed only after it was put in place: its directory could not be synced.
fn is_not_durable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| matches!(cause.downcast_ref(), Some(WriteError::NotDurable { .. })))
}

/// Where each message goes, checked before anything is signed.
fn plan_destinations(args: &SignFileArgs, inputs: &[Input]) -> anyhow::Result<Vec<Destination>> {
    if inputs.iter().filter(|i| matches!(i, Input::Stdin)).count() > 1 {
        anyhow::bail!("standard input (-) can be read only once");
    }
    if args.in_place {
        return inputs
            .iter()
            .map(|input| match input {
                Input::File(path) => Ok(Destination::InPlace(path.clone())),
                Input::Stdin => anyhow::bail!("--in-place needs files, not standard input"),
            })
            .collect();
    }
    if let Some(dir) = &args.output_dir {
        let destinations: Vec<PathBuf> = inputs
            .iter()
            .map(|input| match input {
                Input::File(path) => path
                    .file_name()
                    .map(|name| dir.join(name))
                    .with_context(|| format!("{} has no file name", path.display())),
                Input::Stdin => anyhow::bail!("--output-dir needs files, not standard input"),
            })
            .collect::<anyhow::Result<_>>()?;
        let mut seen = HashSet::with_capacity(destinations.len());
        if let Some(path) = destinations.iter().find(|path| !seen.insert(*path)) {
            anyhow::bail!(
                "two input files would both be written to {}",
                path.display()
            );
        }
        // As `mkdir -p` would, once every argument has been checked.
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        refuse_existing(destinations.iter().map(PathBuf::as_path), args.force)?;
        return Ok(destinations.into_iter().map(Destination::File).collect());
    }
    if inputs.len() > 1 {
        anyhow::bail!("to sign several files, give --in-place or --output-dir DIR");
    }
    Ok(vec![match (&args.output, args.json) {
        (Some(path), _) => {
            refuse_existing([path.as_path()], args.force)?;
            Destination::File(path.clone())
        }
        (None, true) => Destination::Nowhere,
        (None, false) => Destination::Stdout,
    }])
}

/// Puts a batch's staged output files in place, and says what became of each message.
fn place_outputs(
    signed: Vec<anyhow::Result<SignedMessage>>,
) -> Vec<anyhow::Result<Vec<AddedSignature>>> {
    let mut staged = Vec::new();
    let mut results: Vec<anyhow::Result<Vec<AddedSignature>>> = signed
        .into_iter()
        .enumerate()
        .map(|(index, message)| {
            message.map(|m| {
                staged.extend(m.staged.map(|file| (index, file)));
                m.added
            })
        })
        .collect();
    let (waiting, staged): (Vec<usize>, Vec<StagedFile>) = staged.into_iter().unzip();
    for (index, placed) in waiting.into_iter().zip(host_files::place_staged(staged)) {
        if let Err(error) = placed {
            results[index] = Err(write_error(error));
        }
    }
    results
}

/// Signs one message and writes it where it goes, or stages its output file for
/// [`place_outputs`]; returns the signatures added.
fn sign_one(
    input: &Input,
    destination: &Destination,
    keys: &KeyChoice,
    options: &SignOptions,
    args: &SignFileArgs,
) -> anyhow::Result<SignedMessage> {
    let mut file = input.open().context("cannot read the message")?;
    let signatures = {
        let mut reader = BufReader::new(&mut file);
        let header = read_header(&mut reader)?;
        let chosen = keys.keys_for(&header)?;
        let signers: Vec<Signer<'_>> = chosen
            .iter()
            .map(|c| Signer {
                key: &c.key,
                domain: c.domain.clone(),
                selector: c.selector.clone(),
                identity: c.identity.clone(),
            })
            .collect();
        let signatures = sign_with(header, &mut reader, &signers, options)?;
        let added = chosen
            .iter()
            .zip(&signatures.fields)
            .map(|(c, field)| AddedSignature {
                domain: c.domain.to_string(),
                selector: c.selector.to_string(),
                algorithm: c.key.algorithm().as_str(),
                field: LineEnding::Lf.apply(field),
            })
            .collect::<Vec<_>>();
        (signatures, added)
    };
    let (signatures, added) = signatures;
    file.seek(SeekFrom::Start(0))?;
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    // A new file is a copy a rerun makes again: synced only when asked, as cp and rsync. A file
    // signed in place replaces the only copy of the message, so that is always synced.
    let new_file_durability = if args.fsync {
        Durability::Synced
    } else {
        Durability::Unsynced
    };
    let (path, mode, existing, durability) = match destination {
        Destination::Nowhere => {
            return Ok(SignedMessage {
                added,
                staged: None,
            });
        }
        Destination::Stdout => {
            let mut out = output::stdout();
            write_signed(&mut out, &signatures, &mut file)?;
            return Ok(SignedMessage {
                added,
                staged: None,
            });
        }
        Destination::File(path) => (path, PRIVATE_FILE_MODE, existing, new_file_durability),
        // Keep the message's permissions: mail files are private.
        Destination::InPlace(path) => (
            path,
            file.metadata()?.permissions().mode() & 0o7777,
            Existing::Replace,
            Durability::Synced,
        ),
    };
    let staged = host_files::stage_file_with(path, mode, existing, durability, |out| {
        write_signed(&mut BufWriter::new(out), &signatures, &mut file)
    })
    .map_err(write_error)?;
    Ok(SignedMessage {
        added,
        staged: Some(staged),
    })
}

/// The signature fields, in the message's own line-end style, then the message unchanged.
fn write_signed(
    out: &mut impl Write,
    signatures: &Signatures,
    original: &mut impl Read,
) -> io::Result<()> {
    let style = signatures.header.line_ending;
    for field in &signatures.fields {
        out.write_all(style.apply(field).as_bytes())?;
        out.write_all(style.as_bytes())?;
    }
    io::copy(original, out)?;
    out.flush()
}

/// Where a signed message was written, as --json says it.
fn written_to(destination: &Destination) -> Option<String> {
    match destination {
        Destination::Stdout => Some("-".to_owned()),
        Destination::Nowhere => None,
        Destination::File(path) | Destination::InPlace(path) => Some(path.display().to_string()),
    }
}

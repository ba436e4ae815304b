//! `dkimkit sign-file`: DKIM-sign message files with one or more keys, fixed or chosen per
//! message by opendkim's tables.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dkim_core::crypto::SigningKey;
use dkim_core::files::{self, Existing, PRIVATE_FILE_MODE, StagedFile};
use dkim_core::message::{LineEnding, MessageHeader, read_header, sender_address};
use dkim_core::sign::{SignOptions, Signatures, Signer, sign_with};
use dkim_core::tables::{KeyTable, MultipleSignatures, SenderAddress, SigningSetup, SigningTable};
use dkim_core::{DomainName, Selector};
use rayon::prelude::*;
use serde_json::json;

use super::{read_private_key, refuse_existing, table_location, warn_if_weak, write_error};
use crate::cli::SignFileArgs;
use crate::exit::{AlreadyReported, Outcome};
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
        setup: SigningSetup,
        loaded: KeyCache,
    },
}

/// Private keys loaded once each, however many messages they sign.
struct KeyCache {
    keys: Mutex<HashMap<PathBuf, Arc<SigningKey>>>,
    /// `--allow-unsafe-keys`.
    allow_unsafe: bool,
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
        let key = Arc::new(load_key(path, self.allow_unsafe)?);
        let mut cache = self.keys.lock().expect("the key cache is never poisoned");
        Ok(Arc::clone(cache.entry(path.to_owned()).or_insert(key)))
    }
}

/// Reads a private key file and prepares it for signing.
fn load_key(path: &Path, allow_unsafe: bool) -> anyhow::Result<SigningKey> {
    let key = read_private_key(path, allow_unsafe)?;
    warn_if_weak(key.key_type(), key.bits(), Some(path));
    SigningKey::new(&key).with_context(|| path.display().to_string())
}

impl KeyChoice {
    fn from_args(args: &SignFileArgs) -> anyhow::Result<Self> {
        if let Some(config) = &args.config {
            let setup = SigningSetup::load(config)
                .with_context(|| format!("{}: cannot sign as it says", config.display()))?;
            return Ok(KeyChoice::ByFrom {
                setup,
                loaded: KeyCache {
                    keys: Mutex::default(),
                    allow_unsafe: args.allow_unsafe_keys,
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
                setup,
                loaded: KeyCache {
                    keys: Mutex::default(),
                    allow_unsafe: args.allow_unsafe_keys,
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
                    if let SigningSetup::Tables { signing_table, .. } = setup
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
                key: Arc::new(load_key(path, args.allow_unsafe_keys)?),
                domain: domains[if domains.len() == 1 { 0 } else { i }].clone(),
                selector: selector.clone(),
                identity: args.identity.clone(),
            })
        })
        .collect()
}

/// Messages signed before their output files are synced together (syncing one file after the
/// other costs a journal commit each: 20 times slower on ext4); few enough that the staged
/// files' descriptors, three batches at most, stay well under the usual limit of 1,024.
const DURABLE_BATCH: usize = 128;

/// A signed message: its new signatures, and its output file if it waits to be put in place.
struct SignedMessage {
    added: Vec<AddedSignature>,
    staged: Option<StagedFile>,
}

/// A signature added to a message.
struct AddedSignature {
    domain: DomainName,
    selector: Selector,
    algorithm: &'static str,
    field: String,
}

pub fn run(args: SignFileArgs) -> anyhow::Result<Outcome> {
    let keys = KeyChoice::from_args(&args)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let options = SignOptions {
        canonicalization: args.canonicalization,
        headers: args.headers.as_ref().map(|h| h.0.clone()),
        timestamp: args.timestamp.unwrap_or(now),
        expire_after: args.expire.map(|d| d.as_secs()),
        body_length: args.body_length,
    };
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
    // A batch's outputs are synced and put in place on another thread while the next batch is
    // signed: the disk's wait and the CPU's work overlap.
    let results: Vec<anyhow::Result<Vec<AddedSignature>>> = thread::scope(|scope| {
        let (to_place, batches) = mpsc::sync_channel(0);
        let placer = scope.spawn(move || {
            batches
                .into_iter()
                .flat_map(place_outputs)
                .collect::<Vec<_>>()
        });
        for (inputs, destinations) in inputs
            .chunks(DURABLE_BATCH)
            .zip(destinations.chunks(DURABLE_BATCH))
        {
            let signed: Vec<anyhow::Result<SignedMessage>> = inputs
                .par_iter()
                .zip(destinations.par_iter())
                .map(|(input, destination)| {
                    let result = sign_one(input, destination, &keys, &options, args.force)
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

    let mut failed = false;
    let mut described = Vec::new();
    for ((input, destination), result) in inputs.iter().zip(&destinations).zip(results) {
        match result {
            Ok(added) => described.push(describe(input, destination, &added)),
            Err(error) => {
                failed = true;
                output::error(&error);
            }
        }
    }
    if args.json {
        output::print_json(&json!({ "files": described }))?;
    }
    if failed {
        if inputs.len() == 1 {
            return Err(AlreadyReported.into());
        }
        anyhow::bail!("some messages were not signed");
    }
    Ok(Outcome::Success)
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

/// Puts a batch's staged output files in place, durably, and says what became of each message.
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
    for (index, placed) in waiting.into_iter().zip(files::place_staged(staged)) {
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
    force: bool,
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
                domain: c.domain.clone(),
                selector: c.selector.clone(),
                algorithm: c.key.algorithm().as_str(),
                field: field.clone(),
            })
            .collect::<Vec<_>>();
        (signatures, added)
    };
    let (signatures, added) = signatures;
    file.seek(SeekFrom::Start(0))?;
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    let (path, mode, existing) = match destination {
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
        Destination::File(path) => (path, PRIVATE_FILE_MODE, existing),
        // Keep the message's permissions: mail files are private.
        Destination::InPlace(path) => (
            path,
            file.metadata()?.permissions().mode() & 0o7777,
            Existing::Replace,
        ),
    };
    let staged = files::stage_file_with(path, mode, existing, |out| {
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

fn describe(
    input: &Input,
    destination: &Destination,
    added: &[AddedSignature],
) -> serde_json::Value {
    let output = match destination {
        Destination::Stdout => Some("-".to_owned()),
        Destination::Nowhere => None,
        Destination::File(path) | Destination::InPlace(path) => Some(path.display().to_string()),
    };
    let signatures: Vec<_> = added
        .iter()
        .map(|signature| {
            json!({
                "domain": signature.domain.as_str(),
                "selector": signature.selector.as_str(),
                "algorithm": signature.algorithm,
                "field": LineEnding::Lf.apply(&signature.field),
            })
        })
        .collect();
    json!({ "file": input.label(), "output": output, "signatures": signatures })
}

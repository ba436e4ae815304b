//! `dkimkit sign-file`: DKIM-sign message files with one or more keys.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dkim_core::PrivateKey;
use dkim_core::crypto::SigningKey;
use dkim_core::files::{self, Existing, PRIVATE_FILE_MODE};
use dkim_core::message::LineEnding;
use dkim_core::sign::{SignOptions, Signatures, Signer, sign_message};
use rayon::prelude::*;
use serde_json::json;

use super::{file_exists_error, read_file, refuse_existing, warn_if_weak};
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

pub fn run(args: SignFileArgs) -> anyhow::Result<Outcome> {
    let signers = load_signers(&args)?;
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
    let results: Vec<anyhow::Result<Vec<String>>> = inputs
        .par_iter()
        .zip(destinations.par_iter())
        .map(|(input, destination)| {
            let result = sign_one(input, destination, &signers, &options, args.force)
                .with_context(|| input.label());
            progress.advance();
            result
        })
        .collect();
    progress.finish();

    let mut failed = false;
    let mut described = Vec::new();
    for ((input, destination), result) in inputs.iter().zip(&destinations).zip(results) {
        match result {
            Ok(fields) => described.push(describe(input, destination, &signers, &fields)),
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
        anyhow::bail!("some messages were not signed");
    }
    Ok(Outcome::Success)
}

/// The keys, paired with their selectors and domains: `-s`/`-k` pair up in order, and `-d` is
/// given once for all or once per key.
fn load_signers(args: &SignFileArgs) -> anyhow::Result<Vec<Signer>> {
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
            let key = PrivateKey::from_file_contents(&read_file(path)?)
                .with_context(|| format!("{}: cannot read the private key", path.display()))?;
            warn_if_weak(key.key_type(), key.bits(), Some(path));
            Ok(Signer {
                key: SigningKey::new(&key).with_context(|| path.display().to_string())?,
                domain: domains[if domains.len() == 1 { 0 } else { i }].clone(),
                selector: selector.clone(),
                identity: args.identity.clone(),
            })
        })
        .collect()
}

/// Where each message goes, checked before anything is signed.
fn plan_destinations(args: &SignFileArgs, inputs: &[Input]) -> anyhow::Result<Vec<Destination>> {
    let several = inputs.len() > 1;
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
        for (i, path) in destinations.iter().enumerate() {
            if destinations[..i].contains(path) {
                anyhow::bail!(
                    "two input files would both be written to {}",
                    path.display()
                );
            }
        }
        refuse_existing(destinations.iter().map(PathBuf::as_path), args.force)?;
        return Ok(destinations.into_iter().map(Destination::File).collect());
    }
    if several {
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

/// Signs one message and writes it where it goes; returns its new fields.
fn sign_one(
    input: &Input,
    destination: &Destination,
    signers: &[Signer],
    options: &SignOptions,
    force: bool,
) -> anyhow::Result<Vec<String>> {
    let mut file = input.open().context("cannot read the message")?;
    let signatures = sign_message(&mut BufReader::new(&mut file), signers, options)?;
    file.seek(SeekFrom::Start(0))?;
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    match destination {
        Destination::Nowhere => {}
        Destination::Stdout => {
            let mut out = output::stdout();
            write_signed(&mut out, &signatures, &mut file)?;
            out.flush()?;
        }
        Destination::File(path) => {
            files::write_file_with(path, PRIVATE_FILE_MODE, existing, |out| {
                write_signed(&mut BufWriter::new(out), &signatures, &mut file)
            })
            .map_err(|e| match e {
                files::WriteError::Exists { path } => file_exists_error(&path),
                other => other.into(),
            })?;
        }
        Destination::InPlace(path) => {
            // Keep the message's permissions: mail files are private.
            let mode = file.metadata()?.permissions().mode() & 0o7777;
            files::write_file_with(path, mode, Existing::Replace, |out| {
                write_signed(&mut BufWriter::new(out), &signatures, &mut file)
            })?;
        }
    }
    Ok(signatures.fields)
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
    signers: &[Signer],
    fields: &[String],
) -> serde_json::Value {
    let output = match destination {
        Destination::Stdout => Some("-".to_owned()),
        Destination::Nowhere => None,
        Destination::File(path) | Destination::InPlace(path) => Some(path.display().to_string()),
    };
    let signatures: Vec<_> = signers
        .iter()
        .zip(fields)
        .map(|(signer, field)| {
            json!({
                "domain": signer.domain.as_str(),
                "selector": signer.selector.as_str(),
                "algorithm": signer.key.algorithm().as_str(),
                "field": LineEnding::Lf.apply(field),
            })
        })
        .collect();
    json!({ "file": input.label(), "output": output, "signatures": signatures })
}

//! `dkimkit genkey`: key pairs and their records, with opendkim-genkey's flags.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dkim_core::key::RECOMMENDED_RSA_BITS;
use dkim_core::{DomainName, KeySpec, KeyType, PrivateKey};
use host_files::{NewFile, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE};
use rayon::prelude::*;

use super::published_record::{PublishedRecord, print_records};
use super::{refuse_existing, warn_if_weak, write_files};
use crate::cli::GenkeyArgs;
use crate::exit::Outcome;
use crate::output::Progress;

/// One key to make, and where its files go.
struct KeyJob<'a> {
    domain: Option<&'a DomainName>,
    private_key_file: PathBuf,
    record_file: PathBuf,
}

pub fn run(args: GenkeyArgs) -> anyhow::Result<Outcome> {
    let spec = key_spec(&args)?;
    let jobs = plan(&args)?;
    // Refuse before spending seconds on keys, and before writing anything.
    refuse_existing(
        jobs.iter()
            .flat_map(|j| [j.private_key_file.as_path(), j.record_file.as_path()]),
        args.force,
    )?;

    let progress = Progress::new(jobs.len(), "keys", args.verbose > 0);
    let keys = jobs
        .par_iter()
        .map(|job| {
            progress.verbose(&format!(
                "generating {} for {}",
                describe(spec),
                job.domain.map_or("the selector", DomainName::as_str)
            ));
            let key = PrivateKey::generate(spec)?;
            progress.advance();
            Ok(key)
        })
        .collect::<anyhow::Result<Vec<_>>>();
    progress.finish();

    let mut records = Vec::with_capacity(jobs.len());
    for (job, key) in jobs.iter().zip(keys?) {
        let mut published =
            PublishedRecord::new(&key.public_key(), &args.selector, job.domain, &args.record)?;
        write_key_files(job, &key, &published, args.force)?;
        progress.verbose(&format!(
            "private key written to {}",
            job.private_key_file.display()
        ));
        progress.verbose(&format!(
            "DNS TXT record written to {}",
            job.record_file.display()
        ));
        published.private_key_file = Some(job.private_key_file.clone());
        published.record_file = Some(job.record_file.clone());
        records.push(published);
    }

    if let Some(format) = args.output.chosen() {
        print_records(&records, format, false)?;
    }
    Ok(Outcome::Success)
}

/// The key to generate, refusing what RFC 8301 rules out and warning about weak sizes.
fn key_spec(args: &GenkeyArgs) -> anyhow::Result<KeySpec> {
    let spec = match (KeyType::from(args.key_type), args.bits) {
        (KeyType::Ed25519, Some(_)) => {
            anyhow::bail!("-b/--bits sets the size of RSA keys; Ed25519 keys are always 256 bits")
        }
        (KeyType::Ed25519, None) => KeySpec::Ed25519,
        (KeyType::Rsa, bits) => KeySpec::Rsa {
            bits: bits.unwrap_or(RECOMMENDED_RSA_BITS),
        },
    };
    let spec = spec.check()?;
    if let KeySpec::Rsa { bits } = spec {
        warn_if_weak(KeyType::Rsa, bits, None);
    }
    Ok(spec)
}

fn describe(spec: KeySpec) -> String {
    match spec {
        KeySpec::Rsa { bits } => format!("a {bits}-bit RSA key"),
        KeySpec::Ed25519 => "an Ed25519 key".to_owned(),
    }
}

/// Where each key goes: DIR/SELECTOR.* for one domain (as opendkim-genkey), DIR/DOMAIN/SELECTOR.*
/// for several. Directories are created here, after every argument has been checked.
fn plan(args: &GenkeyArgs) -> anyhow::Result<Vec<KeyJob<'_>>> {
    let mut seen = HashSet::new();
    if let Some(twice) = args.domain.iter().find(|d| !seen.insert(*d)) {
        anyhow::bail!("domain {twice} is given twice");
    }
    let jobs: Vec<KeyJob<'_>> = match args.domain.as_slice() {
        [] => vec![job(&args.directory, None, args)],
        [only] => vec![job(&args.directory, Some(only), args)],
        several => several
            .iter()
            .map(|domain| job(&args.directory.join(domain.as_str()), Some(domain), args))
            .collect(),
    };
    Ok(jobs)
}

fn job<'a>(dir: &Path, domain: Option<&'a DomainName>, args: &GenkeyArgs) -> KeyJob<'a> {
    // "." is left out so that messages name files as a person would type them.
    let file = |extension: &str| {
        let name = format!("{}.{extension}", args.selector);
        if dir == Path::new(".") {
            PathBuf::from(name)
        } else {
            dir.join(name)
        }
    };
    KeyJob {
        domain,
        private_key_file: file("private"),
        record_file: file("txt"),
    }
}

/// Writes SELECTOR.private (0600 from creation) and SELECTOR.txt, both or neither.
fn write_key_files(
    job: &KeyJob<'_>,
    key: &PrivateKey,
    published: &PublishedRecord,
    force: bool,
) -> anyhow::Result<()> {
    if let Some(dir) = job
        .private_key_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let pem = key.to_pem()?;
    let zone_entry = published.zone_entry();
    write_files(
        &[
            NewFile {
                path: &job.private_key_file,
                contents: pem.as_bytes(),
                mode: PRIVATE_FILE_MODE,
            },
            NewFile {
                path: &job.record_file,
                contents: zone_entry.as_bytes(),
                mode: PUBLIC_FILE_MODE,
            },
        ],
        force,
    )
}

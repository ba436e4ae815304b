//! `dkimkit genzone`: the records of every KeyTable key as zone data or nsupdate input, with
//! opendkim-genzone's flags.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dkim_core::record::zone_entry_comment;
use dkim_core::time::format_utc;
use dkim_core::time::unix_now;
use dkim_core::zone_data::{
    OwnerStyle, Soa, SoaTimers, ZoneKey, domain_selected, nsupdate_script, zone_file,
};
use dkim_core::{DomainName, KeyRecord, Selector};
use host_files::{Existing, PUBLIC_FILE_MODE};
use opendkim_config::{DataSetKind, KeyTable, OpendkimConf, SigningSetup};
use serde::Serialize;

use super::published_record::RecordJson;
use super::{host_name, read_private_key, table_location, write_error};
use crate::cli::GenzoneArgs;
use crate::exit::Outcome;
use crate::output;

/// opendkim-genzone reads this when no data set is given.
const DEFAULT_CONFIG: &str = "/etc/opendkim.conf";

/// A key to publish, and where it was named (for messages).
struct Wanted {
    /// "FILE, line N (key NAME)" or "FILE: Domain, Selector and KeyFile".
    origin: String,
    key_name: Option<String>,
    /// None for a KeyTable entry whose domain is `%` (each sender's own).
    domain: Option<DomainName>,
    selector: Selector,
    /// None for a key written in the table itself.
    key_file: Option<PathBuf>,
}

/// The keys the command line names, and the opendkim.conf read, if one was.
fn wanted_keys(args: &GenzoneArgs) -> anyhow::Result<(Vec<Wanted>, Option<OpendkimConf>)> {
    if let Some(dataset) = &args.dataset {
        let (path, kind) = table_location(dataset);
        if kind == DataSetKind::Refile {
            anyhow::bail!(
                "{dataset}: a KeyTable is a file: table, not a refile: one (opendkim-genzone \
                 refuses it too)"
            );
        }
        let table = KeyTable::load(&path, kind)?;
        return Ok((table_keys(&table, &path, None), None));
    }
    let config = match &args.config {
        Some(config) => config.clone(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => anyhow::bail!(
            "say which keys: give the KeyTable as an argument, or -x opendkim.conf \
             ({DEFAULT_CONFIG} does not exist)"
        ),
    };
    let context = || config.display().to_string();
    let conf = OpendkimConf::load(&config).with_context(context)?;
    if let Some(location) = conf.key_table().with_context(context)? {
        let table = KeyTable::load(&location.path, location.kind)?;
        let keys = table_keys(&table, &location.path, conf.base_directory());
        return Ok((keys, Some(conf)));
    }
    let SigningSetup::SingleKey(single) = SigningSetup::from_conf(&conf).with_context(context)?
    else {
        anyhow::bail!("{}: it names no keys", config.display());
    };
    let keys = single
        .domains
        .iter()
        .filter(|domain| *domain != "*")
        .map(|domain| {
            Ok(Wanted {
                origin: format!("{}: Domain, Selector and KeyFile", config.display()),
                key_name: None,
                domain: Some(
                    domain
                        .parse()
                        .with_context(|| format!("{}: Domain {domain}", config.display()))?,
                ),
                selector: single.selector.clone(),
                key_file: Some(single.key_file.clone()),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((keys, Some(conf)))
}

/// Every KeyTable entry; relative key paths are relative to `base` (opendkim's BaseDirectory).
fn table_keys(table: &KeyTable, path: &Path, base: Option<&Path>) -> Vec<Wanted> {
    table
        .entries()
        .map(|(line, entry)| Wanted {
            origin: format!("{}, line {line} (key {})", path.display(), entry.name),
            key_name: Some(entry.name.clone()),
            domain: entry.named_domain().cloned(),
            selector: entry.selector.clone(),
            key_file: entry.key_file(base),
        })
        .collect()
}

/// A key's record, read from its private key file.
struct Published {
    wanted: Wanted,
    key: ZoneKey,
    bits: usize,
}

fn publish(
    wanted: Wanted,
    domain: DomainName,
    allow_unsafe: bool,
    email_only: bool,
) -> anyhow::Result<Published> {
    let Some(file) = &wanted.key_file else {
        anyhow::bail!(
            "{}: the private key is written in the table itself, which dkimkit does not read; \
             put it in a file and name the file there",
            wanted.origin
        );
    };
    let private = read_private_key(file, allow_unsafe).with_context(|| wanted.origin.clone())?;
    let public = private.public_key();
    let mut record = KeyRecord::new(&public);
    if email_only {
        record.service_types = vec!["email".to_owned()];
    }
    let key = ZoneKey {
        comment: zone_entry_comment(&wanted.selector, Some(&domain)),
        domain,
        selector: wanted.selector.clone(),
        record,
    };
    Ok(Published {
        bits: public.bits(),
        wanted,
        key,
    })
}

pub fn run(args: GenzoneArgs) -> anyhow::Result<Outcome> {
    let (wanted, conf) = wanted_keys(&args)?;
    let allow_unsafe = args.key_safety.allows_unsafe(conf.as_ref());
    if let (Some(conf), true) = (&conf, args.verbose > 0) {
        output::verbose(&args.key_safety.conf_setting_line(conf));
    }
    let mut published = Vec::new();
    for wanted in wanted {
        let Some(domain) = wanted.domain.clone() else {
            output::warning(&format!(
                "{}: skipped: its domain is % (each sender's own), so it has no one record",
                wanted.origin
            ));
            continue;
        };
        if let Some(only) = &args.domain
            && !domain_selected(&domain, only, args.subdomains)
        {
            if args.verbose > 0 {
                output::verbose(&format!("{}: skipped: not in {only}", wanted.origin));
            }
            continue;
        }
        published.push(publish(wanted, domain, allow_unsafe, args.email_only)?);
    }

    let text = if args.json {
        None
    } else {
        Some(zone_text(&args, &published))
    };
    match (&text, &args.output) {
        (None, _) => print_json(&published)?,
        (Some(text), Some(path)) => write_output(path, text)?,
        (Some(text), None) => {
            let mut out = output::stdout();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    if args.verbose > 0 {
        output::verbose(&format!(
            "{} record{} written",
            published.len(),
            if published.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(Outcome::Success)
}

/// Writes -o's file atomically. A file replaced keeps its owner, group and mode, as named
/// (and opendkim-genzone, which rewrites it in place) expects; when the replacement could not
/// be given its owner, nothing is written.
fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let replaced = std::fs::metadata(path).ok();
    let mode = replaced
        .as_ref()
        .map_or(PUBLIC_FILE_MODE, |m| m.permissions().mode() & 0o7777);
    host_files::write_file_with(path, mode, Existing::Replace, |file| {
        if let Some(old) = &replaced
            && (file.metadata()?.uid(), file.metadata()?.gid()) != (old.uid(), old.gid())
        {
            std::os::unix::fs::fchown(&*file, Some(old.uid()), Some(old.gid())).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "it belongs to uid {}, gid {}, and its replacement cannot ({e}); run \
                         as its owner or as root",
                        old.uid(),
                        old.gid()
                    ),
                )
            })?;
        }
        file.write_all(text.as_bytes())
    })
    .map_err(write_error)
}

/// The zone data or nsupdate script the flags ask for.
fn zone_text(args: &GenzoneArgs, published: &[Published]) -> String {
    let keys: Vec<ZoneKey> = published.iter().map(|p| p.key.clone()).collect();
    let nameservers = args
        .nameservers
        .as_ref()
        .map(|n| n.0.clone())
        .unwrap_or_default();
    if args.nsupdate {
        return nsupdate_script(
            &keys,
            args.ttl.unwrap_or(args.default_ttl),
            nameservers.first().map(String::as_str),
        );
    }
    let style = if args.fully_qualified {
        OwnerStyle::FullyQualified
    } else if args.domainkey_suffix {
        OwnerStyle::WithDomainkey
    } else {
        OwnerStyle::Selector
    };
    let soa = args.soa.then(|| {
        let host = host_name();
        let now = unix_now();
        Soa {
            primary: nameservers.first().cloned().unwrap_or_else(|| host.clone()),
            contact: args
                .contact
                .clone()
                .unwrap_or_else(|| format!("hostmaster@{host}")),
            serial: format_utc("%Y%m%d%H", now)
                .and_then(|serial| serial.parse().ok())
                .unwrap_or(1),
            timers: SoaTimers {
                refresh: args.refresh,
                retry: args.retry,
                expire: args.expire,
                default_ttl: args.default_ttl,
            },
        }
    });
    zone_file(
        &keys,
        style,
        args.ttl,
        &nameservers,
        soa.as_ref(),
        args.domain.as_ref(),
    )
}

/// A key as genzone's --json prints it (docs/json.md).
#[derive(Serialize)]
struct ZoneKeyJson<'a> {
    key_name: Option<&'a str>,
    #[serde(flatten)]
    record: RecordJson<'a>,
}

fn print_json(published: &[Published]) -> anyhow::Result<()> {
    let keys = published
        .iter()
        .map(|p| ZoneKeyJson {
            key_name: p.wanted.key_name.as_deref(),
            record: RecordJson::new(
                Some(&p.key.domain),
                &p.key.selector,
                p.key.owner(OwnerStyle::FullyQualified),
                &p.key.record,
                p.bits,
                p.wanted.key_file.as_deref(),
            ),
        })
        .collect();
    output::print_json(&output::Keys { keys })?;
    Ok(())
}

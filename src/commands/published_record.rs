//! A key record as genkey and record print it: built from a public key and opendkim-genkey's
//! record flags, shown as a BIND entry, a one-line value or JSON.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use dkim_core::name::key_name;
use dkim_core::record::{format_zone_entry, zone_entry_comment, zone_owner_name};
use dkim_core::{DomainName, KeyRecord, PublicKey, Selector};
use serde::Serialize;

use crate::cli::{RecordFormat, RecordOptions};
use crate::output;

/// A key record with where it goes and where its files are.
pub struct PublishedRecord {
    pub domain: Option<DomainName>,
    pub selector: Selector,
    pub record: KeyRecord,
    pub bits: usize,
    /// The owner name in the zone-file entry (relative, or absolute with -a).
    zone_owner: String,
    pub private_key_file: Option<PathBuf>,
    pub record_file: Option<PathBuf>,
}

impl PublishedRecord {
    /// The record of `key` for `selector` (and `domain`), shaped by the record flags.
    pub fn new(
        key: &PublicKey,
        selector: &Selector,
        domain: Option<&DomainName>,
        options: &RecordOptions,
    ) -> anyhow::Result<Self> {
        if options.append_domain && domain.is_none() {
            anyhow::bail!("-a/--append-domain needs the domain: give it with -d");
        }
        let mut record = KeyRecord::new(key);
        record.hash_algorithms = options
            .hash_algorithms
            .0
            .iter()
            .map(|h| h.as_str().to_owned())
            .collect();
        record.notes = options.note.clone();
        record.testing = options.testmode;
        record.strict_subdomains = options.no_subdomains;
        if options.restrict {
            record.service_types = vec!["email".to_owned()];
        }
        Ok(PublishedRecord {
            domain: domain.cloned(),
            selector: selector.clone(),
            record,
            bits: key.bits(),
            zone_owner: zone_owner_name(selector, domain, options.append_domain),
            private_key_file: None,
            record_file: None,
        })
    }

    /// The zone-file entry, as SELECTOR.txt holds it.
    pub fn zone_entry(&self) -> String {
        format_zone_entry(
            &self.zone_owner,
            &self.record.to_value(),
            Some(&zone_entry_comment(&self.selector, self.domain.as_ref())),
        )
    }

    /// The record's DNS name: fully qualified when the domain is known.
    fn dns_name(&self) -> String {
        match &self.domain {
            Some(domain) => key_name(&self.selector, domain),
            None => dkim_core::name::relative_key_name(&self.selector),
        }
    }

    fn to_json(&self) -> PublishedJson<'_> {
        PublishedJson {
            record: RecordJson::new(
                self.domain.as_ref(),
                &self.selector,
                self.dns_name(),
                &self.record,
                self.bits,
                self.private_key_file.as_deref(),
            ),
            record_file: self.record_file.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// A key record as --json prints it (docs/json.md), for genkey, record and genzone.
#[derive(Serialize)]
pub struct RecordJson<'a> {
    domain: Option<&'a str>,
    selector: &'a str,
    name: String,
    value: String,
    strings: Vec<String>,
    key_type: &'static str,
    bits: usize,
    private_key_file: Option<String>,
}

impl<'a> RecordJson<'a> {
    /// `record`, published at `name` for `selector` (in `domain`), of a key of `bits`.
    pub fn new(
        domain: Option<&'a DomainName>,
        selector: &'a Selector,
        name: String,
        record: &KeyRecord,
        bits: usize,
        private_key_file: Option<&Path>,
    ) -> Self {
        RecordJson {
            domain: domain.map(DomainName::as_str),
            selector: selector.as_str(),
            name,
            value: record.to_value(),
            strings: record.to_txt_strings(),
            key_type: record.key_type.as_str(),
            bits,
            private_key_file: private_key_file.map(|p| p.display().to_string()),
        }
    }
}

/// genkey's and record's: the record and the record file written.
#[derive(Serialize)]
struct PublishedJson<'a> {
    #[serde(flatten)]
    record: RecordJson<'a>,
    record_file: Option<String>,
}

/// Prints records on standard output. JSON is one document: the record itself when `single`,
/// otherwise `{"keys": [...]}`. The one-line value is bare for a single record, and preceded by
/// the record's name and a tab when there are several, so each line says what it is for.
pub fn print_records(
    records: &[PublishedRecord],
    format: RecordFormat,
    single: bool,
) -> io::Result<()> {
    match format {
        RecordFormat::Json => match records {
            [record] if single => output::print_json(&record.to_json()),
            _ => output::print_json(&output::Keys {
                keys: records.iter().map(PublishedRecord::to_json).collect(),
            }),
        },
        RecordFormat::Bind => {
            let mut out = output::stdout();
            for record in records {
                out.write_all(record.zone_entry().as_bytes())?;
            }
            out.flush()
        }
        RecordFormat::Value => {
            let mut out = output::stdout();
            for record in records {
                if records.len() == 1 {
                    writeln!(out, "{}", record.record.to_value())?;
                } else {
                    writeln!(out, "{}\t{}", record.dns_name(), record.record.to_value())?;
                }
            }
            out.flush()
        }
    }
}

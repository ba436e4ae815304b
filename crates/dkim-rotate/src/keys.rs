//! What opendkim signs with, as rotate reads and switches it: a KeyTable, or the single key of
//! an opendkim.conf (Domain, Selector, KeyFile); and which of its entries rotate manages.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use dkim_core::name::{DomainName, Selector};
use host_files::WriteError;
use opendkim_config::{
    ConfError, EditError, KeyDomain, KeySource, KeyTable, OpendkimConf, path_in_base_directory,
};

/// Whether `path` is under `dir` (both made absolute).
fn is_under(path: &Path, dir: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    absolute(path).starts_with(absolute(dir))
}

/// The keys opendkim signs with.
#[derive(Debug)]
pub enum SigningKeys {
    /// A KeyTable; relative key paths are relative to `base` (opendkim.conf's BaseDirectory).
    Table {
        /// The table.
        table: KeyTable,
        /// Its file.
        path: PathBuf,
        /// opendkim.conf's BaseDirectory.
        base: Option<PathBuf>,
    },
    /// The single key of opendkim.conf, named by the conf's path (resolved, so that the state
    /// finds it however the file is named).
    Single {
        /// The configuration.
        conf: OpendkimConf,
        /// The entry's name.
        name: String,
        /// Its Domain setting.
        domains: Vec<String>,
        /// Its Selector.
        selector: Selector,
        /// Its KeyFile.
        key_file: PathBuf,
    },
}

/// Why the keys could not be read or switched.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The KeyTable has no such entry any more.
    #[error("the KeyTable no longer has {0}")]
    NoEntry(String),
    /// The entry's key is not in a file.
    #[error("{0}: the KeyTable names no key file")]
    NoKeyFile(String),
    /// The KeyTable could not be edited.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// opendkim.conf could not be read or edited.
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// The new file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Saving every switch of a batch failed (each entry of the batch reports it).
    #[error(transparent)]
    NotSaved(std::sync::Arc<KeysError>),
}

/// A KeyTable entry rotate manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedEntry {
    /// Its key name.
    pub name: String,
    /// Its signing domain.
    pub domain: DomainName,
}

/// An entry rotate leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Untouched {
    /// Its key name.
    #[serde(rename = "key_name")]
    pub name: String,
    /// Why.
    pub why: &'static str,
}

impl SigningKeys {
    /// The selector and key file of entry `name`.
    pub fn entry(&self, name: &str) -> Result<(String, PathBuf), KeysError> {
        match self {
            SigningKeys::Table { table, base, .. } => {
                let entry = table
                    .get(name)
                    .ok_or_else(|| KeysError::NoEntry(name.to_owned()))?;
                let KeySource::File(path) = &entry.key else {
                    return Err(KeysError::NoKeyFile(name.to_owned()));
                };
                Ok((
                    entry.selector.to_string(),
                    path_in_base_directory(base.as_deref(), path),
                ))
            }
            SigningKeys::Single {
                selector, key_file, ..
            } => Ok((selector.to_string(), key_file.clone())),
        }
    }

    /// Entry `name` in messages.
    pub fn describe(&self, name: &str) -> String {
        match self {
            SigningKeys::Table { .. } => format!("KeyTable entry {name}"),
            SigningKeys::Single { .. } => format!("the key of {name}"),
        }
    }

    /// The file rotate rewrites to switch keys.
    pub fn file(&self) -> &Path {
        match self {
            SigningKeys::Table { path, .. } => path,
            SigningKeys::Single { conf, .. } => conf.origin(),
        }
    }

    /// Points entry `name` at `selector` and `key_file`, in memory: [`SigningKeys::save`]
    /// writes every switch at once.
    pub fn switch(
        &mut self,
        name: &str,
        selector: &Selector,
        key_file: &Path,
    ) -> Result<(), KeysError> {
        match self {
            SigningKeys::Table { table, .. } => table.set_key(name, selector, key_file)?,
            SigningKeys::Single {
                selector: current_selector,
                key_file: current_file,
                ..
            } => {
                *current_selector = selector.clone();
                *current_file = key_file.to_owned();
            }
        }
        Ok(())
    }

    /// Saves the switches in place, keeping the files' owner, group and mode (comments and
    /// every other line stay as written).
    pub fn save(&mut self) -> Result<(), KeysError> {
        match self {
            SigningKeys::Table { table, path, .. } => table.save(path)?,
            SigningKeys::Single {
                conf,
                selector,
                key_file,
                ..
            } => {
                for (path, text) in conf.single_key_rewritten(selector, key_file)? {
                    host_files::replace_keeping_owner(&path, text.as_bytes())?;
                }
                *conf = OpendkimConf::load(conf.origin())?;
            }
        }
        Ok(())
    }

    /// The entries to rotate: key file under `keys_dir`, a named domain, and (when
    /// `referenced` is given, the SigningTable's keys) referred to by the SigningTable. The
    /// others, with why, are left untouched.
    pub fn managed_entries(
        &self,
        keys_dir: &Path,
        referenced: Option<&HashSet<String>>,
    ) -> (Vec<ManagedEntry>, Vec<Untouched>) {
        let untouched = |name: &str, why| Untouched {
            name: name.to_owned(),
            why,
        };
        let (table, base) = match self {
            SigningKeys::Table { table, base, .. } => (table, base.as_deref()),
            SigningKeys::Single {
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
                        vec![untouched(name, "its KeyFile is outside the keys directory")],
                    ),
                    Some(domain) => (
                        vec![ManagedEntry {
                            name: name.clone(),
                            domain,
                        }],
                        Vec::new(),
                    ),
                    None => (
                        Vec::new(),
                        vec![untouched(
                            name,
                            "its Domain is not one domain name (rotate publishes one record per \
                             key)",
                        )],
                    ),
                };
            }
        };
        let mut managed = Vec::new();
        let mut left = Vec::new();
        for (_, entry) in table.entries() {
            let why_not = match (&entry.domain, &entry.key) {
                (KeyDomain::FromSigningAddress, _) => Some("its domain is %"),
                (_, KeySource::Inline) => Some("its key is inline"),
                (_, KeySource::File(path))
                    if !is_under(&path_in_base_directory(base, path), keys_dir) =>
                {
                    Some("its key file is outside the keys directory")
                }
                _ if referenced.is_some_and(|r| !r.contains(&entry.name)) => {
                    Some("the SigningTable does not refer to it")
                }
                _ => None,
            };
            match (why_not, &entry.domain) {
                (None, KeyDomain::Named(domain)) => managed.push(ManagedEntry {
                    name: entry.name.clone(),
                    domain: domain.clone(),
                }),
                (why, _) => left.push(untouched(&entry.name, why.unwrap_or("its domain is %"))),
            }
        }
        (managed, left)
    }
}

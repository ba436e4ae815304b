//! What opendkim.conf says to sign with, loaded and ready to answer "which keys for this From:
//! address?": a KeyTable with a SigningTable, or the single key of Domain, Selector and KeyFile
//! (opendkim.conf(5), Mode: "(a) Domain, KeyFile, Selector, no KeyTable, no SigningTable;
//! (b) KeyTable, SigningTable, no Domain, no KeyFile, no Selector").

use std::path::{Path, PathBuf};

use super::address::SenderAddress;
use super::conf::{ConfError, OpendkimConf, Setting, SettingLocation};
use super::dataset::DataSet;
use super::error::TableError;
use super::keytable::KeyTable;
use super::lines::{self, DataSetKind};
use super::resolve::{ResolveError, SigningChoice, resolve_signing_keys, signing_domain};
use super::signingtable::{MultipleSignatures, SigningTable};
use dkim_core::name::Selector;

/// Why opendkim.conf gives nothing dkimkit can sign with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A setting could not be read.
    #[error(transparent)]
    Conf(#[from] ConfError),
    /// A table could not be read.
    #[error(transparent)]
    Table(#[from] TableError),
    /// KeyTable without SigningTable (opendkim: "KeyTable requires either SigningTable or
    /// SetupPolicyScript"; dkimkit does not run Lua policy scripts).
    #[error("{at}: KeyTable is set but SigningTable is not, so nothing says which key signs what")]
    KeyTableWithoutSigningTable {
        /// The KeyTable line.
        at: SettingLocation,
    },
    /// SigningTable without KeyTable (opendkim: "use of SigningTable requires KeyTable").
    #[error("{at}: SigningTable is set but KeyTable is not, so its key names mean nothing")]
    SigningTableWithoutKeyTable {
        /// The SigningTable line.
        at: SettingLocation,
    },
    /// Neither tables nor a single key.
    #[error(
        "{} sets neither KeyTable and SigningTable nor Domain, Selector and KeyFile, so \
         opendkim signs nothing",
        file.display()
    )]
    NothingToSignWith {
        /// The configuration file.
        file: PathBuf,
    },
    /// Part of the single-key settings.
    #[error(
        "{} sets {present} but not {missing}; opendkim needs Domain, Selector and KeyFile to sign \
         with a single key",
        file.display()
    )]
    IncompleteSingleKey {
        /// The configuration file.
        file: PathBuf,
        /// A setting that is there.
        present: &'static str,
        /// The first one missing.
        missing: &'static str,
    },
}

/// The single key opendkim signs with when there is no KeyTable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleKey {
    /// Domain: the domains to sign for, as listed (`*` means any); matched regardless of ASCII
    /// case.
    pub domains: Vec<String>,
    /// Selector.
    pub selector: Selector,
    /// KeyFile.
    pub key_file: PathBuf,
    /// SubDomains: also sign for subdomains of the listed domains.
    pub sub_domains: bool,
}

impl SingleKey {
    fn lists(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// The signature opendkim adds to mail from `address`, if its domain is one it signs for
    /// (`mlfi_eoh()` in opendkim.c): the From: domain itself, or any domain when Domain lists
    /// `*`, signs as itself; with SubDomains, the nearest listed parent signs, with `i=@parent`.
    pub fn signing_key(
        &self,
        address: &SenderAddress,
    ) -> Result<Option<SigningChoice>, ResolveError> {
        let from = address.domain();
        let (domain, signer) = if self.lists(from) || self.lists("*") {
            (from, None)
        } else if let Some(parent) = self
            .sub_domains
            .then(|| {
                from.match_indices('.')
                    .map(|(dot, _)| &from[dot + 1..])
                    .find(|parent| !parent.is_empty() && self.lists(parent))
            })
            .flatten()
        {
            (parent, Some(format!("@{parent}")))
        } else {
            return Ok(None);
        };
        Ok(Some(SigningChoice {
            key_name: None,
            domain: signing_domain(domain)?,
            selector: self.selector.clone(),
            key_path: self.key_file.clone(),
            signer,
        }))
    }
}

/// What opendkim.conf signs with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SigningSetup {
    /// KeyTable and SigningTable.
    Tables {
        /// The KeyTable.
        key_table: KeyTable,
        /// The SigningTable.
        signing_table: SigningTable,
        /// MultipleSignatures.
        multiple: MultipleSignatures,
        /// BaseDirectory: opendkim changes to it, so relative key paths are relative to it.
        base_directory: Option<PathBuf>,
    },
    /// Domain, Selector and KeyFile.
    SingleKey(SingleKey),
}

/// The entries of a data set setting (Domain, SignHeaders, ...): a list's items, or the keys
/// of a `file:`.
pub(super) fn data_set_entries(
    setting: &'static str,
    data_set: DataSet,
    written: &Setting,
) -> Result<Vec<String>, SetupError> {
    let unsupported = |kind: &str| {
        SetupError::Conf(ConfError::UnsupportedDataSet {
            at: written.at.clone(),
            setting,
            value: written.value.clone(),
            kind: kind.to_owned(),
        })
    };
    match data_set {
        DataSet::List { items, .. } => Ok(items),
        DataSet::File(path) => {
            let text = lines::read(&path)?;
            let parsed = lines::parse_lines(&text, DataSetKind::File, |key, _| Ok(key.to_owned()))
                .map_err(|source| TableError::Syntax { path, source })?;
            Ok(lines::numbered(&parsed)
                .map(|(_, key)| key.clone())
                .collect())
        }
        DataSet::Refile(_) => Err(unsupported("refile")),
        DataSet::Other { kind } => Err(unsupported(&kind)),
    }
}

impl SigningSetup {
    /// Loads what `conf` says to sign with: the tables (read from disk) when KeyTable is set,
    /// otherwise the single key. As in opendkim, Domain, Selector and KeyFile are ignored when
    /// a KeyTable is set.
    pub fn from_conf(conf: &OpendkimConf) -> Result<Self, SetupError> {
        match (conf.key_table()?, conf.signing_table()?) {
            (Some(keys), Some(signing)) => Ok(SigningSetup::Tables {
                key_table: KeyTable::load(&keys.path, keys.kind)?,
                signing_table: SigningTable::load(&signing.path, signing.kind)?,
                multiple: conf.multiple_signatures(),
                base_directory: conf.base_directory().map(Path::to_owned),
            }),
            (Some(keys), None) => Err(SetupError::KeyTableWithoutSigningTable { at: keys.at }),
            (None, Some(signing)) => {
                Err(SetupError::SigningTableWithoutKeyTable { at: signing.at })
            }
            (None, None) => Self::single_key(conf),
        }
    }

    fn single_key(conf: &OpendkimConf) -> Result<Self, SetupError> {
        let domains = conf.data_set("Domain")?;
        let selector = conf.selector()?;
        let key_file = conf.key_file();
        let file = conf.origin().to_owned();
        let present = [
            ("Domain", domains.is_some()),
            ("Selector", selector.is_some()),
            ("KeyFile", key_file.is_some()),
        ];
        let first_present = present.iter().find(|(_, set)| *set).map(|(name, _)| *name);
        let first_missing = present.iter().find(|(_, set)| !*set).map(|(name, _)| *name);
        match (domains, selector, key_file) {
            (Some((domains, written)), Some(selector), Some(key_file)) => {
                Ok(SigningSetup::SingleKey(SingleKey {
                    domains: data_set_entries("Domain", domains, written)?,
                    selector,
                    key_file,
                    sub_domains: conf.sub_domains(),
                }))
            }
            _ => match (first_present, first_missing) {
                (Some(present), Some(missing)) => Err(SetupError::IncompleteSingleKey {
                    file,
                    present,
                    missing,
                }),
                _ => Err(SetupError::NothingToSignWith { file }),
            },
        }
    }

    /// Loads opendkim.conf and what it says to sign with.
    pub fn load(conf_path: &Path) -> Result<Self, SetupError> {
        Self::from_conf(&OpendkimConf::load(conf_path)?)
    }

    /// The signatures opendkim adds to mail from `address`, in order; empty when it signs
    /// nothing for this address.
    pub fn signing_keys(
        &self,
        address: &SenderAddress,
    ) -> Result<Vec<SigningChoice>, ResolveError> {
        match self {
            SigningSetup::Tables {
                key_table,
                signing_table,
                multiple,
                base_directory,
            } => {
                let mut keys = resolve_signing_keys(key_table, signing_table, address, *multiple)?;
                if let Some(base) = base_directory {
                    for key in &mut keys {
                        key.key_path = base.join(&key.key_path);
                    }
                }
                Ok(keys)
            }
            SigningSetup::SingleKey(key) => Ok(key.signing_key(address)?.into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;

    fn load_setup(conf_text: &str, dir: &Path) -> Result<SigningSetup, SetupError> {
        let path = dir.join("opendkim.conf");
        fs::write(&path, conf_text).unwrap();
        SigningSetup::load(&path)
    }

    fn keys(setup: &SigningSetup, from: &str) -> Vec<(String, String, Option<String>)> {
        setup
            .signing_keys(&from.parse().unwrap())
            .unwrap()
            .into_iter()
            .map(|k| (k.domain.to_string(), k.selector.to_string(), k.signer))
            .collect()
    }

    #[test]
    fn tables_named_in_the_configuration_are_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tables");
        let conf = format!(
            "KeyTable file:{}\nSigningTable refile:{}\nMultipleSignatures yes\n",
            fixtures.join("key.table").display(),
            fixtures.join("signing.table.resolve").display()
        );
        let setup = load_setup(&conf, dir.path()).unwrap();
        assert_eq!(
            keys(&setup, "alice@example.com"),
            [
                ("example.com".into(), "default".into(), None),
                ("example.com".into(), "mail".into(), None)
            ]
        );
    }

    #[test]
    fn the_single_key_signs_listed_domains_and_with_sub_domains_their_children() {
        let dir = tempfile::tempdir().unwrap();
        let conf = "Domain example.com, Example.NET\nSelector single\nKeyFile /k.private\n";
        let setup = load_setup(conf, dir.path()).unwrap();
        assert_eq!(
            keys(&setup, "a@EXAMPLE.com"),
            [("example.com".into(), "single".into(), None)]
        );
        assert_eq!(
            keys(&setup, "a@example.net"),
            [("example.net".into(), "single".into(), None)]
        );
        assert!(keys(&setup, "a@sub.example.com").is_empty());
        assert!(keys(&setup, "a@example.org").is_empty());
        let setup = load_setup(&format!("{conf}SubDomains yes\n"), dir.path()).unwrap();
        assert_eq!(
            keys(&setup, "a@deep.sub.example.com"),
            [(
                "example.com".into(),
                "single".into(),
                Some("@example.com".into())
            )]
        );
        let SigningSetup::SingleKey(single) = &setup else {
            panic!("{setup:?}")
        };
        assert_eq!(single.key_file, Path::new("/k.private"));
    }

    #[test]
    fn a_star_domain_signs_every_domain_as_itself() {
        let dir = tempfile::tempdir().unwrap();
        let domains = dir.path().join("domains");
        fs::write(&domains, "# signed domains\n*\n").unwrap();
        let conf = format!("Domain {}\nSelector s\nKeyFile /k\n", domains.display());
        let setup = load_setup(&conf, dir.path()).unwrap();
        assert_eq!(
            keys(&setup, "a@anything.example"),
            [("anything.example".into(), "s".into(), None)]
        );
    }

    #[test]
    fn incomplete_configurations_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_setup("KeyTable /etc/opendkim/key.table\n", dir.path()).unwrap_err();
        assert!(
            matches!(&err, SetupError::KeyTableWithoutSigningTable { at } if at.line == 1),
            "{err}"
        );
        let err = load_setup("\nSigningTable refile:/s\n", dir.path()).unwrap_err();
        assert!(
            matches!(&err, SetupError::SigningTableWithoutKeyTable { at } if at.line == 2),
            "{err}"
        );
        let err = load_setup("Domain example.com\nKeyFile /k\n", dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                SetupError::IncompleteSingleKey {
                    present: "Domain",
                    missing: "Selector",
                    ..
                }
            ),
            "{err}"
        );
        let err = load_setup("Socket local:/run/opendkim/opendkim.sock\n", dir.path()).unwrap_err();
        assert!(matches!(err, SetupError::NothingToSignWith { .. }), "{err}");
        let err = load_setup(
            "KeyTable file:/nonexistent/key.table\nSigningTable refile:/s\n",
            dir.path(),
        )
        .unwrap_err();
        assert!(
            matches!(err, SetupError::Table(TableError::Read { .. })),
            "{err}"
        );
        let err =
            load_setup("Domain ldap://h/dc=x\nSelector s\nKeyFile /k\n", dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Domain ldap://h/dc=x is a \"ldap\" data set"),
            "{err}"
        );
    }
}

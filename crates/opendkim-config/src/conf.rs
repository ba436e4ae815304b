//! The settings of opendkim.conf that say what opendkim signs with and how: KeyTable,
//! SigningTable, MultipleSignatures, the single key of Domain, Selector and KeyFile, the
//! signature's form (Canonicalization, SignatureAlgorithm, SignHeaders, OversignHeaders,
//! MinimumKeyBits), and how keys are checked (Nameservers, TrustAnchorFile, RequireSafeKeys).
//!
//! `dkimkit testkey -x opendkim.conf` and `sign-file` take the configuration an administrator
//! already has, so it is read as opendkim reads it (opendkim.conf(5), and `config_load()` in
//! opendkim's config.c where the page is silent): a `#` or a carriage return ends a line, the
//! keyword ends at the first space or tab and is case-insensitive, the value is the rest of the
//! line trimmed of spaces and tabs, `Include` reads another file in place (five levels at most),
//! and when a setting appears twice the last one counts. Other settings are skipped, not
//! checked: this is not a validator of the whole file.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::dataset::{DataSet, UnknownDataSetType};
use super::lines::DataSetKind;
use super::signingtable::MultipleSignatures;
use dkim_core::canonical::{Algorithm, Canonicalization};
use dkim_core::crypto::SigningAlgorithm;
use dkim_core::lookup::{NameserverError, parse_nameserver};
use dkim_core::name::{NameError, Selector};

/// How deep `Include` may nest (`MAXLEVEL` in config.c).
const MAX_INCLUDE_DEPTH: usize = 5;

/// The settings read, by their canonical names.
const SETTINGS: &[&str] = &[
    "BaseDirectory",
    "Canonicalization",
    "Domain",
    "KeyFile",
    "KeyTable",
    "MinimumKeyBits",
    "MultipleSignatures",
    "Nameservers",
    "OversignHeaders",
    "RequireSafeKeys",
    "Selector",
    "SignHeaders",
    "SignatureAlgorithm",
    "SigningTable",
    "SubDomains",
    "TrustAnchorFile",
    "UserID",
];

/// The settings among them that are booleans.
const BOOLEANS: &[&str] = &["MultipleSignatures", "RequireSafeKeys", "SubDomains"];

/// MinimumKeyBits when it is not set (opendkim.conf(5)).
pub const DEFAULT_MINIMUM_KEY_BITS: usize = 1024;

/// Canonicalization when it is not set: opendkim.conf(5) says "The default is simple", for the
/// header and the body.
pub const DEFAULT_CANONICALIZATION: Canonicalization = Canonicalization {
    header: Algorithm::Simple,
    body: Algorithm::Simple,
};

/// Where a setting was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingLocation {
    /// The configuration file (the main one or an included one).
    pub file: PathBuf,
    /// The line, from 1.
    pub line: usize,
}

impl fmt::Display for SettingLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}", self.file.display(), self.line)
    }
}

/// One setting as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The value, trimmed.
    pub value: String,
    /// Where it was written.
    pub at: SettingLocation,
    /// For a boolean setting, its value.
    flag: Option<bool>,
}

/// Where a KeyTable or SigningTable is and how opendkim reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLocation {
    /// `file:` or `refile:`.
    pub kind: DataSetKind,
    /// The file, relative paths joined to BaseDirectory when it is set.
    pub path: PathBuf,
    /// The opendkim.conf line that names it.
    pub at: SettingLocation,
}

/// Why opendkim.conf, or one of its settings, could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// A configuration file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A keyword with no value (opendkim: "required value missing").
    #[error("{at}: {keyword} has no value")]
    MissingValue {
        /// Where.
        at: SettingLocation,
        /// The keyword as written.
        keyword: String,
    },
    /// A boolean that is not one (opendkim: "illegal value").
    #[error(
        "{at}: {keyword} {value:?} is not a boolean (opendkim takes a value starting with \
         t, y or 1 as true and f, n or 0 as false)"
    )]
    BadBoolean {
        /// Where.
        at: SettingLocation,
        /// The setting.
        keyword: &'static str,
        /// The value.
        value: String,
    },
    /// `Include` nested too deep (opendkim: "nesting too deep").
    #[error("{at}: Include nests more than {MAX_INCLUDE_DEPTH} levels deep")]
    IncludeTooDeep {
        /// The `Include` line.
        at: SettingLocation,
    },
    /// A data set type opendkim does not know.
    #[error("{at}: {setting}: {source}")]
    UnknownDataSetType {
        /// Where.
        at: SettingLocation,
        /// The setting.
        setting: &'static str,
        /// The type.
        source: UnknownDataSetType,
    },
    /// A data set of a kind dkimkit does not read.
    #[error(
        "{at}: {setting} {value} is a \"{kind}\" data set, which dkimkit does not read; \
         it reads file: and refile: tables"
    )]
    UnsupportedDataSet {
        /// Where.
        at: SettingLocation,
        /// The setting.
        setting: &'static str,
        /// The value.
        value: String,
        /// The data set type.
        kind: String,
    },
    /// A value meant as a file name that opendkim reads as a list instead.
    #[error(
        "{at}: {setting} {value} is not a file to opendkim: a value with no type prefix that \
         does not start with / is a comma-separated list; write file:{value} or an absolute path"
    )]
    NotAFile {
        /// Where.
        at: SettingLocation,
        /// The setting.
        setting: &'static str,
        /// The value.
        value: String,
    },
    /// A value of the wrong form.
    #[error("{at}: {keyword} {value:?} is not {expected}")]
    BadValue {
        /// Where.
        at: SettingLocation,
        /// The setting.
        keyword: &'static str,
        /// The value.
        value: String,
        /// What it should be, in words.
        expected: &'static str,
    },
    /// `SignatureAlgorithm rsa-sha1`, which RFC 8301 3.1 forbids signers to use.
    #[error(
        "{at}: SignatureAlgorithm rsa-sha1 is refused: RFC 8301 forbids signing with it and \
         receivers treat such signatures as failing; write SignatureAlgorithm rsa-sha256"
    )]
    Sha1Refused {
        /// Where.
        at: SettingLocation,
    },
    /// A Nameservers entry that is not an address.
    #[error("{at}: Nameservers: {source}")]
    BadNameserver {
        /// Where.
        at: SettingLocation,
        /// What is wrong with the entry.
        source: NameserverError,
    },
    /// Selector is not a valid selector.
    #[error("{at}: Selector {value:?} is not a valid selector: {source}")]
    BadSelector {
        /// Where.
        at: SettingLocation,
        /// The value.
        value: String,
        /// What is wrong with it.
        source: NameError,
    },
}

/// opendkim's reading of a boolean: only the first character counts.
fn parse_boolean(value: &str) -> Option<bool> {
    match value.chars().next() {
        Some('t' | 'T' | 'y' | 'Y' | '1') => Some(true),
        Some('f' | 'F' | 'n' | 'N' | '0') => Some(false),
        _ => None,
    }
}

/// The part of a configuration line opendkim reads: up to a `#` or a carriage return.
fn before_comment(line: &str) -> &str {
    line.find(['#', '\r']).map_or(line, |end| &line[..end])
}

/// The settings of opendkim.conf that concern signing keys.
#[derive(Debug, Clone, Default)]
pub struct OpendkimConf {
    /// The main file, for messages.
    origin: PathBuf,
    /// The last value of each setting read, by canonical name.
    settings: HashMap<&'static str, Setting>,
}

impl OpendkimConf {
    /// Reads opendkim.conf, and the files it includes.
    pub fn load(path: &Path) -> Result<Self, ConfError> {
        let mut conf = OpendkimConf {
            origin: path.to_owned(),
            settings: HashMap::new(),
        };
        conf.read_file(path, 0)?;
        Ok(conf)
    }

    /// Parses the text of an opendkim.conf that lives at `origin` (used in messages; files it
    /// includes are read from disk).
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfError> {
        let mut conf = OpendkimConf {
            origin: origin.to_owned(),
            settings: HashMap::new(),
        };
        conf.read_text(text, origin, 0)?;
        Ok(conf)
    }

    fn read_file(&mut self, path: &Path, depth: usize) -> Result<(), ConfError> {
        let text = fs::read_to_string(path).map_err(|source| ConfError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.read_text(&text, path, depth)
    }

    fn read_text(&mut self, text: &str, file: &Path, depth: usize) -> Result<(), ConfError> {
        for (index, line) in text.lines().enumerate() {
            let content = before_comment(line);
            let Some(keyword) = content.split([' ', '\t']).find(|word| !word.is_empty()) else {
                continue;
            };
            let at = SettingLocation {
                file: file.to_owned(),
                line: index + 1,
            };
            let start = content.find(keyword).map_or(0, |i| i + keyword.len());
            let value = content[start..].trim_matches([' ', '\t']);
            let canonical = SETTINGS
                .iter()
                .find(|name| name.eq_ignore_ascii_case(keyword));
            let is_include = keyword.eq_ignore_ascii_case("Include");
            if canonical.is_none() && !is_include {
                continue;
            }
            if value.is_empty() {
                return Err(ConfError::MissingValue {
                    at,
                    keyword: keyword.to_owned(),
                });
            }
            if is_include {
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    return Err(ConfError::IncludeTooDeep { at });
                }
                self.read_file(Path::new(value), depth + 1)?;
                continue;
            }
            let Some(&name) = canonical else { continue };
            let flag = if BOOLEANS.contains(&name) {
                Some(parse_boolean(value).ok_or_else(|| ConfError::BadBoolean {
                    at: at.clone(),
                    keyword: name,
                    value: value.to_owned(),
                })?)
            } else {
                None
            };
            self.settings.insert(
                name,
                Setting {
                    value: value.to_owned(),
                    at,
                    flag,
                },
            );
        }
        Ok(())
    }

    /// The main configuration file.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// A setting by name (case-insensitive), if written; only the settings this module reads
    /// are kept.
    pub fn setting(&self, keyword: &str) -> Option<&Setting> {
        SETTINGS
            .iter()
            .find(|name| name.eq_ignore_ascii_case(keyword))
            .and_then(|name| self.settings.get(name))
    }

    fn flag(&self, keyword: &str) -> bool {
        self.setting(keyword).and_then(|s| s.flag).unwrap_or(false)
    }

    /// MultipleSignatures (default off).
    pub fn multiple_signatures(&self) -> MultipleSignatures {
        self.flag("MultipleSignatures").into()
    }

    /// SubDomains (default off): with the single key, also sign for subdomains of Domain.
    pub fn sub_domains(&self) -> bool {
        self.flag("SubDomains")
    }

    /// BaseDirectory, if set: the directory opendkim changes to before it opens anything.
    pub fn base_directory(&self) -> Option<&Path> {
        self.setting("BaseDirectory").map(|s| Path::new(&s.value))
    }

    /// A path as opendkim opens it: opendkim changes to BaseDirectory before opening data sets
    /// and keys, so a relative path is relative to it. Without BaseDirectory a relative path is
    /// relative to wherever opendkim was started; here, to the current directory.
    fn path_in_base(&self, path: PathBuf) -> PathBuf {
        match self.base_directory() {
            Some(base) => base.join(path),
            None => path,
        }
    }

    /// A dataset setting: what kind it is, and where it was written.
    pub fn data_set(
        &self,
        setting: &'static str,
    ) -> Result<Option<(DataSet, &Setting)>, ConfError> {
        let Some(written) = self.setting(setting) else {
            return Ok(None);
        };
        let data_set =
            DataSet::parse(&written.value).map_err(|source| ConfError::UnknownDataSetType {
                at: written.at.clone(),
                setting,
                source,
            })?;
        let data_set = match data_set {
            DataSet::File(path) => DataSet::File(self.path_in_base(path)),
            DataSet::Refile(path) => DataSet::Refile(self.path_in_base(path)),
            other => other,
        };
        Ok(Some((data_set, written)))
    }

    /// Where a table setting (`KeyTable`, `SigningTable`) points. Lists, databases and
    /// directories are refused with a message naming the setting and the line.
    fn table(&self, setting: &'static str) -> Result<Option<TableLocation>, ConfError> {
        let Some((data_set, written)) = self.data_set(setting)? else {
            return Ok(None);
        };
        let unsupported = |kind: &str| ConfError::UnsupportedDataSet {
            at: written.at.clone(),
            setting,
            value: written.value.clone(),
            kind: kind.to_owned(),
        };
        match data_set {
            DataSet::File(path) => Ok(Some(TableLocation {
                kind: DataSetKind::File,
                path,
                at: written.at.clone(),
            })),
            DataSet::Refile(path) => Ok(Some(TableLocation {
                kind: DataSetKind::Refile,
                path,
                at: written.at.clone(),
            })),
            DataSet::List {
                explicit: false, ..
            } => Err(ConfError::NotAFile {
                at: written.at.clone(),
                setting,
                value: written.value.clone(),
            }),
            DataSet::List { explicit: true, .. } => Err(unsupported("csl")),
            DataSet::Other { kind } => Err(unsupported(&kind)),
        }
    }

    /// The KeyTable, if set.
    pub fn key_table(&self) -> Result<Option<TableLocation>, ConfError> {
        self.table("KeyTable")
    }

    /// The SigningTable, if set.
    pub fn signing_table(&self) -> Result<Option<TableLocation>, ConfError> {
        self.table("SigningTable")
    }

    /// Selector, the selector of the single key, if set.
    pub fn selector(&self) -> Result<Option<Selector>, ConfError> {
        self.setting("Selector")
            .map(|written| {
                written
                    .value
                    .parse()
                    .map_err(|source| ConfError::BadSelector {
                        at: written.at.clone(),
                        value: written.value.clone(),
                        source,
                    })
            })
            .transpose()
    }

    /// KeyFile, the single key's file, if set.
    pub fn key_file(&self) -> Option<PathBuf> {
        self.setting("KeyFile")
            .map(|written| self.path_in_base(PathBuf::from(&written.value)))
    }

    /// A setting's value parsed by `parse`, or a [`ConfError::BadValue`] naming its line.
    fn parsed<T>(
        &self,
        keyword: &'static str,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfError> {
        self.setting(keyword)
            .map(|written| {
                parse(&written.value).ok_or_else(|| ConfError::BadValue {
                    at: written.at.clone(),
                    keyword,
                    value: written.value.clone(),
                    expected,
                })
            })
            .transpose()
    }

    /// Canonicalization (default simple/simple, [`DEFAULT_CANONICALIZATION`]). One name is the
    /// header's, with a simple body, as opendkim reads it (`relaxed` signs relaxed/simple).
    pub fn canonicalization(&self) -> Result<Canonicalization, ConfError> {
        Ok(self
            .parsed(
                "Canonicalization",
                "a canonicalization (simple or relaxed, or header/body such as relaxed/simple)",
                |value| value.parse().ok(),
            )?
            .unwrap_or(DEFAULT_CANONICALIZATION))
    }

    /// SignatureAlgorithm, if set (opendkim's default is rsa-sha256). rsa-sha1 is refused
    /// (RFC 8301 3.1).
    pub fn signature_algorithm(&self) -> Result<Option<SigningAlgorithm>, ConfError> {
        let Some(written) = self.setting("SignatureAlgorithm") else {
            return Ok(None);
        };
        match written.value.parse::<SigningAlgorithm>() {
            Ok(SigningAlgorithm::RsaSha1) => Err(ConfError::Sha1Refused {
                at: written.at.clone(),
            }),
            Ok(algorithm) => Ok(Some(algorithm)),
            Err(_) => Err(ConfError::BadValue {
                at: written.at.clone(),
                keyword: "SignatureAlgorithm",
                value: written.value.clone(),
                expected: "a signing algorithm (rsa-sha256 or ed25519-sha256)",
            }),
        }
    }

    /// Where a setting was written, if it was.
    pub fn at(&self, keyword: &str) -> Option<&SettingLocation> {
        self.setting(keyword).map(|written| &written.at)
    }

    /// MinimumKeyBits (default [`DEFAULT_MINIMUM_KEY_BITS`]; 0 accepts every key).
    pub fn minimum_key_bits(&self) -> Result<usize, ConfError> {
        Ok(self
            .parsed("MinimumKeyBits", "a number of bits", |value| {
                value.parse().ok()
            })?
            .unwrap_or(DEFAULT_MINIMUM_KEY_BITS))
    }

    /// Nameservers: the servers to ask instead of the system's resolver, a comma-separated list
    /// of IP addresses (opendkim.conf(5)); empty when not set. dkimkit also takes `IP:PORT`.
    pub fn nameservers(&self) -> Result<Vec<SocketAddr>, ConfError> {
        let Some(written) = self.setting("Nameservers") else {
            return Ok(Vec::new());
        };
        written
            .value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                parse_nameserver(entry).map_err(|source| ConfError::BadNameserver {
                    at: written.at.clone(),
                    source,
                })
            })
            .collect()
    }

    /// TrustAnchorFile: the DNSSEC trust anchors (DNSKEY or DS records), if set.
    pub fn trust_anchor_file(&self) -> Option<PathBuf> {
        self.setting("TrustAnchorFile")
            .map(|written| self.path_in_base(PathBuf::from(&written.value)))
    }

    /// RequireSafeKeys (default on): refuse a key file that other users could read or write.
    pub fn require_safe_keys(&self) -> bool {
        self.setting("RequireSafeKeys")
            .and_then(|s| s.flag)
            .unwrap_or(true)
    }
}

/// The settings rotate follows besides the keys: where to ask DNS, whom opendkim runs as, and
/// whether it insists on safe keys.
impl OpendkimConf {
    /// UserID: the user (and group) opendkim runs as, `user[:group]`, if set.
    pub fn user_id(&self) -> Option<&str> {
        self.setting("UserID").map(|s| s.value.as_str())
    }

    /// The configuration files, with their new text, that point the single key at `selector`
    /// and `key_file`: the lines of the Selector and KeyFile settings that count (the last ones,
    /// maybe in an included file) get the new values; their keyword, spacing and comment, and
    /// every other line, stay as written.
    pub fn single_key_rewritten(
        &self,
        selector: &Selector,
        key_file: &Path,
    ) -> Result<Vec<(PathBuf, String)>, ConfError> {
        let key_file = key_file.display().to_string();
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for (setting, value) in [("Selector", selector.as_str()), ("KeyFile", &key_file)] {
            let Some(written) = self.setting(setting) else {
                continue;
            };
            let path = written.at.file.clone();
            if !files.iter().any(|(p, _)| *p == path) {
                let text = fs::read_to_string(&path).map_err(|source| ConfError::Read {
                    path: path.clone(),
                    source,
                })?;
                files.push((path.clone(), text));
            }
            let Some((_, text)) = files.iter_mut().find(|(p, _)| *p == path) else {
                continue;
            };
            *text = with_value_replaced(text, written.at.line, value);
        }
        Ok(files)
    }
}

/// A path from a KeyTable as opendkim opens it: opendkim changes to BaseDirectory (`base`)
/// first, so a relative path is relative to it.
pub fn path_in_base_directory(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_owned(),
    }
}

/// `text` with the value of the setting on line `line` (from 1) replaced by `value`.
fn with_value_replaced(text: &str, line: usize, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + value.len());
    for (index, original) in text.split_inclusive('\n').enumerate() {
        if index + 1 != line {
            out.push_str(original);
            continue;
        }
        let content = before_comment(original);
        let keyword_start = content.len() - content.trim_start_matches([' ', '\t']).len();
        let keyword_end = content[keyword_start..]
            .find([' ', '\t'])
            .map_or(content.len(), |i| keyword_start + i);
        let after_keyword = &content[keyword_end..];
        let value_start = keyword_end
            + (after_keyword.len() - after_keyword.trim_start_matches([' ', '\t']).len());
        let value_end = content
            .trim_end_matches([' ', '\t', '\n'])
            .len()
            .max(value_start);
        out.push_str(&original[..value_start]);
        out.push_str(value);
        out.push_str(&original[value_end..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_key_lines_are_rewritten_with_their_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opendkim.conf");
        let text = "# single key\nDomain example.com\nSelector\t202611   # this month\n\
                    KeyFile /k/202611.private\nselector old\nSelector 202611\nUserID opendkim:opendkim\n\
                    Nameservers 127.0.0.1, 192.0.2.53\nRequireSafeKeys false\n";
        fs::write(&path, text).unwrap();
        let conf = OpendkimConf::load(&path).unwrap();
        let nameservers: Vec<String> = conf
            .nameservers()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nameservers, ["127.0.0.1:53", "192.0.2.53:53"]);
        assert_eq!(conf.user_id(), Some("opendkim:opendkim"));
        assert!(!conf.require_safe_keys());
        let rewritten = conf
            .single_key_rewritten(&"202612".parse().unwrap(), Path::new("/k/202612.private"))
            .unwrap();
        assert_eq!(rewritten.len(), 1);
        assert_eq!(
            rewritten[0].1,
            text.replace("KeyFile /k/202611.private", "KeyFile /k/202612.private")
                .replace("Selector 202611\n", "Selector 202612\n")
        );
        let one_line = with_value_replaced("Selector\t202611   # this month\n", 1, "x");
        assert_eq!(one_line, "Selector\tx   # this month\n");
    }

    fn conf(text: &str) -> OpendkimConf {
        OpendkimConf::parse(text, Path::new("/etc/opendkim.conf")).unwrap()
    }

    fn fixture_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/tables")
            .join(name)
    }

    #[test]
    fn reads_the_debian_layout() {
        let conf = OpendkimConf::load(&fixture_path("opendkim.conf")).unwrap();
        let keys = conf.key_table().unwrap().unwrap();
        assert_eq!(
            (keys.kind, keys.path.as_path()),
            (DataSetKind::File, Path::new("/etc/opendkim/key.table"))
        );
        assert_eq!(keys.at.line, 21);
        let signing = conf.signing_table().unwrap().unwrap();
        assert_eq!(
            (signing.kind, signing.path.as_path()),
            (
                DataSetKind::Refile,
                Path::new("/etc/opendkim/signing.table")
            )
        );
        assert_eq!(conf.multiple_signatures(), MultipleSignatures::On);
        assert!(!conf.sub_domains());
        assert_eq!(conf.setting("keytable").unwrap().at.line, 21);
    }

    #[test]
    fn keywords_ignore_case_and_the_last_value_counts() {
        let conf = conf(
            "keytable /a\nKEYTABLE\t/b   \t\nMultipleSignatures Yes\nmultiplesignatures nah\n",
        );
        assert_eq!(conf.key_table().unwrap().unwrap().path, Path::new("/b"));
        assert_eq!(conf.setting("KeyTable").unwrap().at.line, 2);
        assert_eq!(conf.multiple_signatures(), MultipleSignatures::Off);
    }

    #[test]
    fn comments_and_carriage_returns_end_lines() {
        let conf = conf("KeyTable /a # the keys\r\nSubDomains true\r\n# KeyTable /b\n   \n");
        assert_eq!(conf.key_table().unwrap().unwrap().path, Path::new("/a"));
        assert!(conf.sub_domains());
    }

    #[test]
    fn booleans_read_only_their_first_character() {
        for (value, on) in [
            ("yes", true),
            ("True", true),
            ("1", true),
            ("no", false),
            ("False", false),
            ("0", false),
        ] {
            let conf = conf(&format!("MultipleSignatures {value}\n"));
            assert_eq!(conf.multiple_signatures(), on.into(), "{value}");
        }
        let err = OpendkimConf::parse("\nMultipleSignatures maybe\n", Path::new("/c")).unwrap_err();
        assert!(
            matches!(&err, ConfError::BadBoolean { at, .. } if at.line == 2),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "/c, line 2: MultipleSignatures \"maybe\" is not a boolean (opendkim takes a value \
             starting with t, y or 1 as true and f, n or 0 as false)"
        );
    }

    #[test]
    fn dns_and_key_safety_settings() {
        let unset = conf("Socket inet:8891@localhost\n");
        assert!(unset.nameservers().unwrap().is_empty());
        assert!(unset.trust_anchor_file().is_none() && unset.require_safe_keys());
        let set = conf(
            "Nameservers 192.0.2.1, [2001:db8::1]:5353\nTrustAnchorFile /var/lib/unbound/root.key\n\
             RequireSafeKeys False\n",
        );
        let servers: Vec<String> = set
            .nameservers()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(servers, ["192.0.2.1:53", "[2001:db8::1]:5353"]);
        assert_eq!(
            set.trust_anchor_file().unwrap(),
            Path::new("/var/lib/unbound/root.key")
        );
        assert!(!set.require_safe_keys());
        let err = conf("\nNameservers 192.0.2.1,ns.example\n")
            .nameservers()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/etc/opendkim.conf, line 2: Nameservers: name server \"ns.example\""),
            "{err}"
        );
    }

    #[test]
    fn a_keyword_without_value_is_an_error() {
        let err = OpendkimConf::parse("KeyTable   \n", Path::new("/c")).unwrap_err();
        assert!(matches!(err, ConfError::MissingValue { .. }), "{err}");
        // Settings dkimkit does not read are skipped, even malformed.
        assert!(
            OpendkimConf::parse("Socket\nCanonicalization relaxed/simple\n", Path::new("/c"))
                .is_ok()
        );
    }

    #[test]
    fn unsupported_data_sets_name_the_setting() {
        let conf = conf("KeyTable db:/etc/opendkim/keys.db\nSigningTable ldap://h/dc=x\n");
        let err = conf.key_table().unwrap_err();
        assert!(
            matches!(&err, ConfError::UnsupportedDataSet { setting: "KeyTable", kind, .. } if kind == "db"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("KeyTable db:/etc/opendkim/keys.db is a \"db\" data set"),
            "{err}"
        );
        assert!(matches!(
            conf.signing_table(),
            Err(ConfError::UnsupportedDataSet {
                setting: "SigningTable",
                ..
            })
        ));
        let conf = self::conf("SigningTable csl:*@example.com k\nKeyTable key.table\n");
        assert!(matches!(
            conf.signing_table(),
            Err(ConfError::UnsupportedDataSet { .. })
        ));
        let err = conf.key_table().unwrap_err();
        assert!(matches!(err, ConfError::NotAFile { .. }), "{err}");
        let conf = self::conf("KeyTable foo:/etc/k\n");
        assert!(matches!(
            conf.key_table(),
            Err(ConfError::UnknownDataSetType { .. })
        ));
    }

    #[test]
    fn relative_paths_are_in_base_directory() {
        let conf = conf(
            "BaseDirectory /var/lib/opendkim\nKeyTable file:tables/key.table\nKeyFile keys/k.private\nSigningTable refile:/etc/s\n",
        );
        assert_eq!(
            conf.key_table().unwrap().unwrap().path,
            Path::new("/var/lib/opendkim/tables/key.table")
        );
        assert_eq!(
            conf.key_file(),
            Some(PathBuf::from("/var/lib/opendkim/keys/k.private"))
        );
        assert_eq!(
            conf.signing_table().unwrap().unwrap().path,
            Path::new("/etc/s")
        );
    }

    #[test]
    fn include_reads_in_place_and_stops_at_five_levels() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.conf");
        let inc = dir.path().join("inc.conf");
        fs::write(&inc, "KeyTable /included\nSelector inc\n").unwrap();
        fs::write(
            &main,
            format!(
                "KeyTable /first\nInclude {}\nSelector main\n",
                inc.display()
            ),
        )
        .unwrap();
        let conf = OpendkimConf::load(&main).unwrap();
        assert_eq!(
            conf.key_table().unwrap().unwrap().path,
            Path::new("/included")
        );
        assert_eq!(conf.selector().unwrap().unwrap().as_str(), "main");
        assert_eq!(conf.setting("KeyTable").unwrap().at.file, inc);

        let looping = dir.path().join("loop.conf");
        fs::write(&looping, format!("Include {}\n", looping.display())).unwrap();
        let err = OpendkimConf::load(&looping).unwrap_err();
        assert!(matches!(err, ConfError::IncludeTooDeep { .. }), "{err}");
        let err =
            OpendkimConf::parse("Include /nonexistent/x.conf\n", Path::new("/c")).unwrap_err();
        assert!(matches!(err, ConfError::Read { .. }), "{err}");
    }

    #[test]
    fn single_key_settings() {
        let conf =
            conf("Domain example.com\nSelector 202611\nKeyFile /etc/dkimkeys/example.private\n");
        assert_eq!(conf.selector().unwrap().unwrap().as_str(), "202611");
        assert_eq!(
            conf.key_file(),
            Some(PathBuf::from("/etc/dkimkeys/example.private"))
        );
        assert!(conf.key_table().unwrap().is_none());
        let err = self::conf("Selector bad_selector\n")
            .selector()
            .unwrap_err();
        assert!(matches!(err, ConfError::BadSelector { .. }), "{err}");
    }
}

//! opendkim's SigningTable: which KeyTable keys sign mail from which addresses
//! (opendkim.conf(5), SigningTable).
//!
//! The same file means different things depending on how opendkim.conf names it. As a `refile:`
//! its keys are wildcard patterns tried in file order; as a `file:` its keys are looked up
//! exactly, for a fixed series of forms of the address. Both are implemented here as opendkim 2.11
//! behaves (`dkimf_apply_signtable()` in opendkim.c), which the tests check against the program.

use std::path::Path;

use super::address::SenderAddress;
use super::error::{EditError, LineError, LineProblem, TableError};
use super::lines::{self, DataSetKind, Line};
use super::pattern::{Case, Pattern};
use host_files::WriteError;

/// Whether opendkim signs with every matching entry or the first only
/// (opendkim.conf(5), MultipleSignatures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MultipleSignatures {
    /// The first match only (the default).
    #[default]
    Off,
    /// Every match, in the order they are found.
    ///
    /// opendkim 2.11.0 itself loses all but the first and the last of three or more matches,
    /// through a bug in the list of signing requests (fixed upstream by OpenDKIM pull request
    /// 274); dkimkit signs with every match, as the documentation says.
    On,
}

impl From<bool> for MultipleSignatures {
    fn from(on: bool) -> Self {
        if on {
            MultipleSignatures::On
        } else {
            MultipleSignatures::Off
        }
    }
}

/// One SigningTable entry: `PATTERN KEYNAME[:SIGNER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningTableEntry {
    /// The address, domain or pattern, as written.
    pub pattern: String,
    /// The KeyTable key name; `%` stands for the domain of the From: address.
    pub key_name: String,
    /// The optional second field, the signer identity for `i=`; `%` stands for the domain.
    pub signer: Option<String>,
}

/// An entry that applies to an address, with `%` replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningMatch<'a> {
    /// The line of the entry, from 1.
    pub line: usize,
    /// The entry as written.
    pub entry: &'a SigningTableEntry,
    /// The key name to look up in the KeyTable: the entry's, or the address's domain when the
    /// entry names `%` (opendkim.conf(5), SigningTable).
    pub key_name: &'a str,
    /// The signer with every `%` replaced by the domain, if the entry names one.
    pub signer: Option<String>,
}

/// A wildcard pattern in a SigningTable read as a plain file, where it never applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}line {line}: \"{pattern}\" is a pattern, but the SigningTable is read as a plain file, \
     where patterns match nothing; name it as refile:{}",
    path.as_ref().map(|p| format!("{}, ", p.display())).unwrap_or_default(),
    path.as_ref().map_or_else(|| "PATH".to_owned(), |p| p.display().to_string())
)]
pub struct PatternReadAsText {
    /// The table's file, when it was loaded from one.
    pub path: Option<std::path::PathBuf>,
    /// The entry's line.
    pub line: usize,
    /// The pattern as written.
    pub pattern: String,
}

/// What a SigningTable line holds besides the entry: its compiled pattern, in a `refile:`.
#[derive(Debug, Clone)]
struct SigningLine {
    entry: SigningTableEntry,
    pattern: Option<Pattern>,
}

/// A SigningTable, with the text it was read from.
#[derive(Debug, Clone)]
pub struct SigningTable {
    kind: DataSetKind,
    lines: Vec<Line<SigningLine>>,
    /// The file it was loaded from, for messages.
    path: Option<std::path::PathBuf>,
}

/// Splits the value into key name and signer at the first colon, as opendkim asks the data set
/// for two fields (`dkimf_db_datasplit()` in opendkim-db.c).
fn parse_value(
    pattern: &str,
    value: Option<&str>,
) -> Result<(String, Option<String>), LineProblem> {
    let value = value.unwrap_or("");
    let (key_name, signer) = match value.split_once(':') {
        Some((key_name, signer)) => (key_name, Some(signer)),
        None => (value, None),
    };
    if key_name.is_empty() {
        return Err(LineProblem::MissingKeyName {
            pattern: pattern.to_owned(),
        });
    }
    let signer = signer.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok((key_name.to_owned(), signer))
}

impl SigningTable {
    /// Parses a SigningTable read as a data set of this kind.
    pub fn parse(text: &str, kind: DataSetKind) -> Result<Self, LineError> {
        let lines = lines::parse_lines(text, kind, |pattern, value| {
            let compiled = match kind {
                DataSetKind::File => None,
                DataSetKind::Refile => Some(Pattern::new(pattern, Case::Insensitive)?),
            };
            let (key_name, signer) = parse_value(pattern, value)?;
            Ok(SigningLine {
                entry: SigningTableEntry {
                    pattern: pattern.to_owned(),
                    key_name,
                    signer,
                },
                pattern: compiled,
            })
        })?;
        Ok(SigningTable {
            kind,
            lines,
            path: None,
        })
    }

    /// Reads and parses a SigningTable file.
    pub fn load(path: &Path, kind: DataSetKind) -> Result<Self, TableError> {
        let mut table = lines::load(path, |text| Self::parse(text, kind))?;
        table.path = Some(path.to_owned());
        Ok(table)
    }

    /// How the table is read.
    pub fn kind(&self) -> DataSetKind {
        self.kind
    }

    /// Every entry with its line number, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &SigningTableEntry)> {
        lines::numbered(&self.lines).map(|(number, line)| (number, &line.entry))
    }

    /// In a table read as a plain file, the first entry written as a wildcard pattern
    /// (`*@example.com`), with its line: a plain file's keys are compared as they are, and no
    /// address is ever looked up as such a key (only `*` and `LOCAL@*` hold a `*`), so the entry
    /// never applies. opendkim says nothing; the table was meant to be read as `refile:`.
    pub fn pattern_read_as_text(&self) -> Option<PatternReadAsText> {
        if self.kind != DataSetKind::File {
            return None;
        }
        self.entries()
            .find(|(_, entry)| {
                let local = entry.pattern.strip_suffix("@*").unwrap_or(&entry.pattern);
                entry.pattern != "*" && local.contains('*')
            })
            .map(|(line, entry)| PatternReadAsText {
                path: self.path.clone(),
                line,
                pattern: entry.pattern.clone(),
            })
    }

    /// Lines opendkim skips without a word although they look like entries: in a `refile:`, a
    /// line that starts with white space (its pattern is empty). Worth a warning.
    pub fn skipped_lines(&self) -> Vec<usize> {
        lines::skipped(&self.lines, self.kind)
    }

    /// Every entry that applies to `address`, in the order opendkim finds them.
    ///
    /// - `refile:`: every entry whose pattern matches `local@domain`, in file order; letters
    ///   match regardless of case (ASCII only: opendkim runs in the C locale).
    /// - `file:`: for each of the keys of [`SenderAddress`]'s lookup order (full address,
    ///   domain, `local@.parent` and `.parent` for each parent, `local@*`, `*`), the first entry
    ///   whose key equals it regardless of ASCII case. A key with a non-ASCII character finds
    ///   nothing: the SigningTable is opened with `DKIMF_DB_FLAG_ASCIIONLY`.
    pub fn matches<'a>(&'a self, address: &'a SenderAddress) -> Vec<SigningMatch<'a>> {
        let found: Vec<(usize, &SigningTableEntry)> = match self.kind {
            DataSetKind::Refile => {
                let full = address.to_string();
                lines::numbered(&self.lines)
                    .filter(|(_, line)| line.pattern.as_ref().is_some_and(|p| p.matches(&full)))
                    .map(|(number, line)| (number, &line.entry))
                    .collect()
            }
            DataSetKind::File => address
                .file_lookup_keys()
                .iter()
                .filter(|key| key.is_ascii())
                .filter_map(|key| {
                    self.entries()
                        .find(|(_, entry)| entry.pattern.eq_ignore_ascii_case(key))
                })
                .collect(),
        };
        found
            .into_iter()
            .map(|(line, entry)| SigningMatch {
                line,
                entry,
                key_name: if entry.key_name == "%" {
                    address.domain()
                } else {
                    &entry.key_name
                },
                signer: entry
                    .signer
                    .as_ref()
                    .map(|s| s.replace('%', address.domain())),
            })
            .collect()
    }

    /// The entries opendkim signs `address` with: the first match, or every match when
    /// MultipleSignatures is on.
    pub fn signing_keys<'a>(
        &'a self,
        address: &'a SenderAddress,
        multiple: MultipleSignatures,
    ) -> Vec<SigningMatch<'a>> {
        let mut found = self.matches(address);
        if multiple == MultipleSignatures::Off {
            found.truncate(1);
        }
        found
    }

    /// The table as text: byte for byte what was parsed, with the entries added since.
    pub fn to_text(&self) -> String {
        lines::to_text(&self.lines)
    }

    /// Writes the table to `path` atomically, keeping the file's permission bits.
    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        lines::save(path, &self.to_text())
    }

    /// Adds `PATTERN KEYNAME` at the end of the table, spaced like the entry before it. In a
    /// `refile:` the last entry is tried last, so it applies only where no earlier one does.
    pub fn push(&mut self, pattern: &str, key_name: &str) -> Result<(), EditError> {
        lines::one_field("pattern", pattern)?;
        lines::one_field("key name", key_name)?;
        if key_name.contains(':') {
            return Err(EditError::Unwritable {
                what: "key name",
                text: key_name.to_owned(),
                reason: "opendkim would read what follows ':' as the signer",
            });
        }
        let compiled = match self.kind {
            DataSetKind::File => None,
            DataSetKind::Refile => {
                Some(Pattern::new(pattern, Case::Insensitive).map_err(EditError::Pattern)?)
            }
        };
        let line = SigningLine {
            entry: SigningTableEntry {
                pattern: pattern.to_owned(),
                key_name: key_name.to_owned(),
                signer: None,
            },
            pattern: compiled,
        };
        lines::append(&mut self.lines, pattern, key_name, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/tables/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn address(text: &str) -> SenderAddress {
        text.parse().unwrap()
    }

    /// The key names opendkim would sign `from` with.
    fn keys(table: &SigningTable, from: &str, multiple: MultipleSignatures) -> Vec<String> {
        let from = address(from);
        table
            .signing_keys(&from, multiple)
            .iter()
            .map(|m| m.key_name.to_owned())
            .collect()
    }

    #[test]
    fn refile_takes_the_first_match_in_file_order() {
        let table = SigningTable::parse(&fixture("signing.table"), DataSetKind::Refile).unwrap();
        let first = |from| keys(&table, from, MultipleSignatures::Off);
        assert_eq!(first("president@example.com"), ["president"]);
        assert_eq!(
            first("President@EXAMPLE.com"),
            ["president"],
            "case does not matter"
        );
        assert_eq!(
            first("alice@example.com"),
            ["default._domainkey.example.com"]
        );
        assert_eq!(first("alice@lists.example.com"), ["lists"]);
        assert_eq!(first("alice@deep.lists.example.com"), ["subdomains"]);
        assert_eq!(first("alice@example.net"), ["mail._domainkey.example.net"]);
        assert_eq!(first("alice@elsewhere.org"), ["any-domain"]);
        assert_eq!(
            keys(&table, "president@example.com", MultipleSignatures::On),
            ["president", "default._domainkey.example.com", "any-domain"]
        );
    }

    #[test]
    fn a_pattern_in_a_plain_file_table_is_found() {
        let text = "alice@example.com alice\n*@example.com default\n*  any\nbob@* bob\n";
        let plain = SigningTable::parse(text, DataSetKind::File).unwrap();
        assert_eq!(
            plain.pattern_read_as_text().unwrap().to_string(),
            "line 2: \"*@example.com\" is a pattern, but the SigningTable is read as a plain \
             file, where patterns match nothing; name it as refile:PATH"
        );
        let refile = SigningTable::parse(text, DataSetKind::Refile).unwrap();
        assert_eq!(refile.pattern_read_as_text(), None);
    }

    #[test]
    fn refile_lines_starting_with_space_are_skipped_as_opendkim_skips_them() {
        let table = SigningTable::parse(&fixture("signing.table"), DataSetKind::Refile).unwrap();
        assert_eq!(table.skipped_lines(), [14]);
        assert!(table.entries().all(|(_, e)| e.pattern != "*@example.org"));
        assert_eq!(
            keys(&table, "bob@example.org", MultipleSignatures::Off),
            ["any-domain"]
        );
    }

    #[test]
    fn file_lookups_follow_opendkims_order_not_file_order() {
        let table = SigningTable::parse(&fixture("signing.table.file"), DataSetKind::File).unwrap();
        let first = |from| keys(&table, from, MultipleSignatures::Off);
        assert_eq!(first("bob@mail.example.com"), ["full"]);
        assert_eq!(first("alice@mail.example.com"), ["host"]);
        assert_eq!(first("bob@other.example.com"), ["user-parent"]);
        assert_eq!(first("alice@other.example.com"), ["parent"]);
        assert_eq!(first("bob@example.com"), ["user-tld"]);
        assert_eq!(first("alice@example.com"), ["tld"]);
        assert_eq!(first("bob@example.org"), ["user-any"]);
        assert_eq!(first("alice@example.org"), ["any"]);
        assert_eq!(
            first("BOB@Mail.Example.COM"),
            ["full"],
            "ASCII case is ignored"
        );
        assert_eq!(
            keys(&table, "bob@mail.example.com", MultipleSignatures::On),
            [
                "full",
                "host",
                "user-parent",
                "parent",
                "user-tld",
                "tld",
                "user-any",
                "any"
            ]
        );
    }

    #[test]
    fn file_lookups_with_non_ascii_find_nothing() {
        let table = SigningTable::parse(
            "jörg@example.com full\nexample.com host\n",
            DataSetKind::File,
        )
        .unwrap();
        assert_eq!(
            keys(&table, "jörg@example.com", MultipleSignatures::On),
            ["host"]
        );
        let table = SigningTable::parse("jörg@example.com full\n", DataSetKind::Refile).unwrap();
        assert_eq!(
            keys(&table, "jörg@example.com", MultipleSignatures::Off),
            ["full"]
        );
        assert!(keys(&table, "JÖRG@example.com", MultipleSignatures::Off).is_empty());
    }

    #[test]
    fn percent_stands_for_the_domain_in_key_name_and_signer() {
        let table = SigningTable::parse(
            "*@example.com %:%\n*@example.net key:news%@%\n",
            DataSetKind::Refile,
        )
        .unwrap();
        let com = address("bob@Example.COM");
        let found = table.signing_keys(&com, MultipleSignatures::Off);
        assert_eq!(found[0].key_name, "example.com");
        assert_eq!(found[0].signer.as_deref(), Some("example.com"));
        let net = address("bob@example.net");
        let found = table.signing_keys(&net, MultipleSignatures::Off);
        assert_eq!((found[0].line, found[0].key_name), (2, "key"));
        assert_eq!(
            found[0].signer.as_deref(),
            Some("newsexample.net@example.net")
        );
    }

    #[test]
    fn no_match_signs_nothing() {
        let table = SigningTable::parse("*@example.com k\n", DataSetKind::Refile).unwrap();
        assert!(keys(&table, "bob@example.org", MultipleSignatures::On).is_empty());
    }

    #[test]
    fn round_trips_and_errors_name_the_line() {
        for (name, kind) in [
            ("signing.table", DataSetKind::Refile),
            ("signing.table.file", DataSetKind::File),
        ] {
            let text = fixture(name);
            assert_eq!(SigningTable::parse(&text, kind).unwrap().to_text(), text);
        }
        let err = SigningTable::parse("# c\n*@example.com\n", DataSetKind::Refile).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(matches!(err.problem, LineProblem::MissingKeyName { .. }));
        let err = SigningTable::parse("*@example.com :signer\n", DataSetKind::File).unwrap_err();
        assert!(matches!(err.problem, LineProblem::MissingKeyName { .. }));
        let err = SigningTable::parse("\n(a|b)@example.com k\n", DataSetKind::Refile).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(matches!(
            err.problem,
            LineProblem::UnsupportedPatternCharacter { character: '(', .. }
        ));
        // In a file: table the same text is a plain key, looked up literally.
        assert!(SigningTable::parse("(a|b)@example.com k\n", DataSetKind::File).is_ok());
    }

    #[test]
    fn push_appends_one_line() {
        let text = fixture("signing.table");
        let mut table = SigningTable::parse(&text, DataSetKind::Refile).unwrap();
        table.push("*@example.info", "info").unwrap();
        assert_eq!(
            table.to_text(),
            format!("{text}*@example.info\t\t\t\t\tinfo\n")
        );
        assert!(matches!(
            table.push("a b", "k"),
            Err(EditError::Unwritable { .. })
        ));
        assert!(matches!(
            table.push("*@x", "k:s"),
            Err(EditError::Unwritable { .. })
        ));
        assert!(matches!(table.push("a?b", "k"), Err(EditError::Pattern(_))));
    }
}

//! opendkim's KeyTable: key names mapped to the signing domain, selector and private key that
//! opendkim signs with (opendkim.conf(5), KeyTable).
//!
//! dkimkit reads it to test and use the same keys as opendkim, and rewrites it when a key is
//! rotated. A rotation changes one line; every other byte of the file, comments and spacing
//! included, is written back as it was read, so the administrator's diff shows that line only.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{EditError, KeyListLine, LineProblem, TableError};
use super::lines::{self, DataSetKind, Line};
use super::pattern::{Case, Pattern};
use dkim_core::name::{DomainName, Selector};
use host_files::WriteError;

/// The signing domain of a KeyTable entry (`d=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyDomain {
    /// A fixed domain.
    Named(DomainName),
    /// `%`: "replaced by the apparent domain of the sender when generating a signature"
    /// (opendkim.conf(5), KeyTable), that is the domain of the From: address.
    FromSigningAddress,
}

impl fmt::Display for KeyDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDomain::Named(domain) => domain.fmt(f),
            KeyDomain::FromSigningAddress => f.write_str("%"),
        }
    }
}

/// Where the private key of a KeyTable entry comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// A file. opendkim.conf(5): a third value starting with `/`, `./` or `../` is a path.
    /// In a path starting with `/`, opendkim replaces every `%` by the signing domain
    /// (`dkimf_add_signrequest()` in opendkim.c); the path here is as written.
    File(PathBuf),
    /// Anything else is the private key itself (PEM or base64 DER). dkimkit does not read keys
    /// from the table; the data is not kept, so that it cannot leak into logs.
    Inline,
}

impl KeySource {
    /// Reads the third field as opendkim does (`dkimf_loadkey()` in opendkim.c).
    fn from_field(field: &str) -> Self {
        if is_key_path(field) {
            KeySource::File(PathBuf::from(field))
        } else {
            KeySource::Inline
        }
    }
}

/// Whether opendkim reads this third field as a file name rather than as key data.
fn is_key_path(field: &str) -> bool {
    field.starts_with('/') || field.starts_with("./") || field.starts_with("../")
}

/// One KeyTable entry: `NAME DOMAIN:SELECTOR:KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTableEntry {
    /// The key name the SigningTable refers to (in a `refile:` KeyTable, a pattern).
    pub name: String,
    /// The signing domain.
    pub domain: KeyDomain,
    /// The selector.
    pub selector: Selector,
    /// The private key.
    pub key: KeySource,
}

impl KeyTableEntry {
    /// The signing domain, or None for `%` (each sender's own).
    pub fn named_domain(&self) -> Option<&DomainName> {
        match &self.domain {
            KeyDomain::Named(domain) => Some(domain),
            KeyDomain::FromSigningAddress => None,
        }
    }

    /// The key file as opendkim opens it: opendkim changes to BaseDirectory (`base`) first, so
    /// a relative path is relative to it. None for a key written in the table itself.
    pub fn key_file(&self, base: Option<&Path>) -> Option<PathBuf> {
        match &self.key {
            KeySource::File(path) => Some(match base {
                Some(base) if path.is_relative() => base.join(path),
                _ => path.clone(),
            }),
            KeySource::Inline => None,
        }
    }
}

/// What a KeyTable line holds besides the entry: its name as a pattern, in a `refile:` table.
#[derive(Debug, Clone)]
struct KeyLine {
    entry: KeyTableEntry,
    pattern: Option<Pattern>,
}

/// A KeyTable, with the text it was read from.
#[derive(Debug, Clone)]
pub struct KeyTable {
    kind: DataSetKind,
    lines: Vec<Line<KeyLine>>,
    /// For each key name, the index in `lines` of the first line defining it, written exactly
    /// so: finding an entry by name is then one hash lookup, not a pass over the table (rotate
    /// asks for every entry of a 10,000-entry table, several times each).
    first_line: HashMap<String, usize>,
}

/// The index of the first line defining each key name.
fn index_names(lines: &[Line<KeyLine>]) -> HashMap<String, usize> {
    let mut first_line = HashMap::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        if let Some(entry) = &line.entry {
            first_line
                .entry(entry.data.entry.name.clone())
                .or_insert(index);
        }
    }
    first_line
}

/// Reads `DOMAIN:SELECTOR:KEY`. opendkim splits at the first two colons and gives the rest to
/// the key, colons included (`dkimf_db_datasplit()` in opendkim-db.c); an empty field makes the
/// entry "corrupt" when it is used.
fn parse_value(
    key_name: &str,
    value: &str,
) -> Result<(KeyDomain, Selector, KeySource), LineProblem> {
    let mut fields = value.splitn(3, ':');
    let mut field = |field: &'static str| match fields.next() {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(LineProblem::MissingKeyField {
            key_name: key_name.to_owned(),
            value: value.to_owned(),
            field,
        }),
    };
    let (domain, selector, key) = (field("domain")?, field("selector")?, field("key")?);
    let domain = if domain == "%" {
        KeyDomain::FromSigningAddress
    } else {
        KeyDomain::Named(domain.parse().map_err(|source| LineProblem::BadDomain {
            key_name: key_name.to_owned(),
            domain: domain.to_owned(),
            source,
        })?)
    };
    let selector = selector
        .parse()
        .map_err(|source| LineProblem::BadSelector {
            key_name: key_name.to_owned(),
            selector: selector.to_owned(),
            source,
        })?;
    Ok((domain, selector, KeySource::from_field(key)))
}

/// A line of dkim-filter's KeyList, `PATTERN:DOMAIN:KEYPATH`, as the KeyTable line and
/// SigningTable line that replace it. dkim-filter took the selector from the key file's name
/// (dkim-filter.conf(5), KeyList), so `/etc/dkim/mail.private` is selector `mail`.
fn key_list_line(line: &str) -> Option<LineProblem> {
    let mut fields = line.splitn(3, ':');
    let (pattern, domain, key_path) = (fields.next()?, fields.next()?, fields.next()?);
    if (!pattern.contains('@') && !pattern.contains('*')) || !is_key_path(key_path) {
        return None;
    }
    let domain: DomainName = domain.parse().ok()?;
    let selector: Selector = Path::new(key_path)
        .file_stem()
        .and_then(|stem| stem.to_str()?.parse().ok())
        .or_else(|| "SELECTOR".parse().ok())?;
    Some(LineProblem::KeyListLine(Box::new(KeyListLine {
        pattern: pattern.to_owned(),
        key_name: dkim_core::name::key_name(&selector, &domain),
        domain: domain.to_string(),
        selector: selector.to_string(),
        key_path: key_path.to_owned(),
    })))
}

/// Whether this line defines the key `name`, written exactly so (edits go by the name as
/// written, also in a `refile:` table).
fn defines(line: &Line<KeyLine>, name: &str) -> bool {
    line.entry
        .as_ref()
        .is_some_and(|entry| entry.data.entry.name == name)
}

/// Checks a key path for writing: opendkim must read it back as this path.
fn writable_key_path(path: &Path) -> Result<&str, EditError> {
    let unwritable = |reason| EditError::Unwritable {
        what: "key path",
        text: path.display().to_string(),
        reason,
    };
    let text = path.to_str().ok_or_else(|| unwritable("it is not UTF-8"))?;
    lines::one_field("key path", text)?;
    if !is_key_path(text) {
        return Err(unwritable(
            "opendkim reads a key that does not start with /, ./ or ../ as the key data itself",
        ));
    }
    Ok(text)
}

impl KeyTable {
    /// Parses a KeyTable read as a data set of this kind (`file:` normally; opendkim also
    /// accepts a `refile:` KeyTable, whose names are then case-sensitive patterns).
    pub fn parse(text: &str, kind: DataSetKind) -> Result<Self, super::LineError> {
        let lines = lines::parse_lines(text, kind, |name, value| {
            let value = value.ok_or_else(|| {
                key_list_line(name).unwrap_or_else(|| LineProblem::MissingKeyValue {
                    key_name: name.to_owned(),
                })
            })?;
            let pattern = match kind {
                DataSetKind::File => None,
                DataSetKind::Refile => Some(Pattern::new(name, Case::Sensitive)?),
            };
            let (domain, selector, key) = parse_value(name, value)?;
            Ok(KeyLine {
                entry: KeyTableEntry {
                    name: name.to_owned(),
                    domain,
                    selector,
                    key,
                },
                pattern,
            })
        })?;
        let first_line = index_names(&lines);
        Ok(KeyTable {
            kind,
            lines,
            first_line,
        })
    }

    /// Reads and parses a KeyTable file.
    pub fn load(path: &Path, kind: DataSetKind) -> Result<Self, TableError> {
        lines::load(path, |text| Self::parse(text, kind))
    }

    /// How the table is read.
    pub fn kind(&self) -> DataSetKind {
        self.kind
    }

    /// The entry opendkim uses for a key name, with its line number: the first in file order
    /// whose name is exactly `name` (the KeyTable is opened without `DKIMF_DB_FLAG_ICASE`, so
    /// case matters), or whose pattern matches it in a `refile:` table.
    pub fn lookup(&self, name: &str) -> Option<(usize, &KeyTableEntry)> {
        if self.kind == DataSetKind::File {
            let index = *self.first_line.get(name)?;
            let line = &self.lines[index].entry.as_ref()?.data;
            return Some((index + 1, &line.entry));
        }
        lines::numbered(&self.lines)
            .find(|(_, line)| match &line.pattern {
                Some(pattern) => pattern.matches(name),
                None => line.entry.name == name,
            })
            .map(|(number, line)| (number, &line.entry))
    }

    /// The entry opendkim uses for a key name (see [`KeyTable::lookup`]).
    pub fn get(&self, name: &str) -> Option<&KeyTableEntry> {
        self.lookup(name).map(|(_, entry)| entry)
    }

    /// Every entry with its line number, in file order (a name defined twice appears twice;
    /// opendkim uses the first).
    pub fn entries(&self) -> impl Iterator<Item = (usize, &KeyTableEntry)> {
        lines::numbered(&self.lines).map(|(number, line)| (number, &line.entry))
    }

    /// The table as text: byte for byte what was parsed, with the edits made since.
    pub fn to_text(&self) -> String {
        lines::to_text(&self.lines)
    }

    /// Writes the table to `path` atomically, keeping the file's permission bits.
    pub fn save(&self, path: &Path) -> Result<(), WriteError> {
        lines::save(path, &self.to_text())
    }

    /// The index in `lines` of the entry opendkim uses for this name, written exactly so.
    fn position(&self, name: &str) -> Result<usize, EditError> {
        self.first_line
            .get(name)
            .copied()
            .filter(|&index| {
                self.lines
                    .get(index)
                    .is_some_and(|line| defines(line, name))
            })
            .ok_or_else(|| EditError::UnknownKey(name.to_owned()))
    }

    /// Points the key `name` at a new selector and key file, as a rotation does. Only the
    /// selector and key of that line change; its name, domain, spacing and comment stay.
    pub fn set_key(
        &mut self,
        name: &str,
        selector: &Selector,
        key_path: &Path,
    ) -> Result<(), EditError> {
        let index = self.position(name)?;
        let path = writable_key_path(key_path)?;
        let line = &self.lines[index];
        let Some(entry) = &line.entry else {
            return Err(EditError::UnknownKey(name.to_owned()));
        };
        // The domain field is kept as written (a trailing dot, say).
        let value = &line.raw[entry.value.clone()];
        let domain = value.split(':').next().unwrap_or(value);
        let new_value = format!("{domain}:{selector}:{path}");
        let raw = format!(
            "{}{new_value}{}",
            &line.raw[..entry.value.start],
            &line.raw[entry.value.end..]
        );
        lines::check_edited_length(raw.strip_suffix('\n').unwrap_or(&raw))?;
        let start = entry.value.start;
        let line = &mut self.lines[index];
        line.raw = raw;
        if let Some(entry) = &mut line.entry {
            entry.value = start..start + new_value.len();
            entry.data.entry.selector = selector.clone();
            entry.data.entry.key = KeySource::File(PathBuf::from(path));
        }
        Ok(())
    }

    /// Adds an entry at the end of the table, spaced like the entry before it.
    pub fn add(&mut self, entry: KeyTableEntry) -> Result<(), EditError> {
        lines::one_field("key name", &entry.name)?;
        if self.position(&entry.name).is_ok() {
            return Err(EditError::DuplicateKey(entry.name));
        }
        let path = match &entry.key {
            KeySource::File(path) => writable_key_path(path)?,
            KeySource::Inline => return Err(EditError::InlineKey(entry.name)),
        };
        let pattern = match self.kind {
            DataSetKind::File => None,
            DataSetKind::Refile => {
                Some(Pattern::new(&entry.name, Case::Sensitive).map_err(EditError::Pattern)?)
            }
        };
        let value = format!("{}:{}:{path}", entry.domain, entry.selector);
        let name = entry.name.clone();
        lines::append(&mut self.lines, &name, &value, KeyLine { entry, pattern })?;
        self.first_line.insert(name, self.lines.len() - 1);
        Ok(())
    }

    /// Removes every line that defines `name`, returning how many there were.
    pub fn remove(&mut self, name: &str) -> Result<usize, EditError> {
        let before = self.lines.len();
        self.lines.retain(|line| !defines(line, name));
        match before - self.lines.len() {
            0 => Err(EditError::UnknownKey(name.to_owned())),
            removed => {
                self.first_line = index_names(&self.lines);
                Ok(removed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/tables/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn table(name: &str) -> KeyTable {
        KeyTable::parse(&fixture(name), DataSetKind::File).unwrap()
    }

    fn selector(s: &str) -> Selector {
        s.parse().unwrap()
    }

    /// The lines of `before` and `after` that differ, by line number.
    fn changed_lines(before: &str, after: &str) -> Vec<usize> {
        let (before, after): (Vec<_>, Vec<_>) = (before.lines().collect(), after.lines().collect());
        assert_eq!(before.len(), after.len());
        (0..before.len())
            .filter(|&i| before[i] != after[i])
            .map(|i| i + 1)
            .collect()
    }

    #[test]
    fn parses_the_setup_guide_layout() {
        let table = table("key.table");
        let entries: Vec<_> = table.entries().collect();
        assert_eq!(entries.len(), 4);
        let (line, entry) = entries[0];
        assert_eq!(line, 5);
        assert_eq!(entry.name, "default._domainkey.example.com");
        assert_eq!(
            entry.domain,
            KeyDomain::Named("example.com".parse().unwrap())
        );
        assert_eq!(entry.selector, selector("default"));
        assert_eq!(
            entry.key,
            KeySource::File("/etc/opendkim/keys/example.com/default.private".into())
        );
        let pct = table.get("any-domain").unwrap();
        assert_eq!(pct.domain, KeyDomain::FromSigningAddress);
        assert_eq!(
            pct.key,
            KeySource::File("/etc/opendkim/keys/%/mail.private".into())
        );
        assert_eq!(
            table.lookup("relative").unwrap().1.key,
            KeySource::File("./keys/relative.private".into())
        );
        assert!(
            table.get("DEFAULT._domainkey.example.com").is_none(),
            "names are case-sensitive"
        );
        assert!(table.get("missing").is_none());
    }

    #[test]
    fn unedited_tables_round_trip_byte_for_byte() {
        for name in [
            "key.table",
            "key.table.crlf",
            "key.table.noeol",
            "key.table.inline",
        ] {
            let text = fixture(name);
            assert_eq!(
                KeyTable::parse(&text, DataSetKind::File).unwrap().to_text(),
                text,
                "{name}"
            );
        }
    }

    #[test]
    fn the_first_of_two_entries_with_one_name_wins() {
        let table = KeyTable::parse(
            "k example.com:one:/k1\nk example.com:two:/k2\n",
            DataSetKind::File,
        )
        .unwrap();
        assert_eq!(table.lookup("k").unwrap().0, 1);
        assert_eq!(table.get("k").unwrap().selector, selector("one"));
    }

    #[test]
    fn key_data_in_the_table_is_recognised_not_kept() {
        let table = table("key.table.inline");
        assert_eq!(table.get("inline").unwrap().key, KeySource::Inline);
        assert_eq!(
            table.get("path").unwrap().key,
            KeySource::File("/etc/opendkim/keys/path.private".into())
        );
    }

    #[test]
    fn the_key_takes_the_rest_of_the_value_colons_included() {
        let table =
            KeyTable::parse("k example.com:s:/keys/a:b.private\n", DataSetKind::File).unwrap();
        assert_eq!(
            table.get("k").unwrap().key,
            KeySource::File("/keys/a:b.private".into())
        );
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        type Expected = fn(&LineProblem) -> bool;
        let cases: [(&str, usize, Expected); 6] = [
            (
                "# c\nk\n",
                2,
                |p| matches!(p, LineProblem::MissingKeyValue { key_name } if key_name == "k"),
            ),
            ("k example.com\n", 1, |p| {
                matches!(
                    p,
                    LineProblem::MissingKeyField {
                        field: "selector",
                        ..
                    }
                )
            }),
            ("\n\nk example.com:s\n", 3, |p| {
                matches!(p, LineProblem::MissingKeyField { field: "key", .. })
            }),
            ("k example.com::/k\n", 1, |p| {
                matches!(
                    p,
                    LineProblem::MissingKeyField {
                        field: "selector",
                        ..
                    }
                )
            }),
            ("k localhost:s:/k\n", 1, |p| {
                matches!(p, LineProblem::BadDomain { .. })
            }),
            ("k example.com:s_1:/k\n", 1, |p| {
                matches!(p, LineProblem::BadSelector { .. })
            }),
        ];
        for (text, line, expected) in cases {
            let err = KeyTable::parse(text, DataSetKind::File).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(expected(&err.problem), "{text:?}: {err}");
        }
        let err = KeyTable::parse("k example.com\n", DataSetKind::File).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: key \"k\": \"example.com\" has no selector; opendkim expects \
             DOMAIN:SELECTOR:KEYPATH"
        );
    }

    #[test]
    fn a_dkim_filter_key_list_line_is_named_with_what_replaces_it() {
        let error = KeyTable::parse(
            "*@example.com:example.com:/etc/dkim/mail.private\n",
            DataSetKind::File,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1: this is a line of dkim-filter's KeyList (PATTERN:DOMAIN:KEYPATH), which \
             opendkim does not read; write \"mail._domainkey.example.com \
             example.com:mail:/etc/dkim/mail.private\" in the KeyTable and \"*@example.com \
             mail._domainkey.example.com\" in a SigningTable read as refile:PATH"
        );
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.table");
        std::fs::write(&path, "k example.com\n").unwrap();
        let err = KeyTable::load(&path, DataSetKind::File).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}, line 1: ", path.display())),
            "{err}"
        );
        let err = KeyTable::load(&dir.path().join("absent"), DataSetKind::File).unwrap_err();
        assert!(matches!(err, TableError::Read { .. }), "{err}");
    }

    #[test]
    fn rotation_changes_only_the_edited_line() {
        let before = fixture("key.table");
        let mut table = KeyTable::parse(&before, DataSetKind::File).unwrap();
        table
            .set_key(
                "default._domainkey.example.com",
                &selector("202612"),
                Path::new("/etc/opendkim/keys/example.com/202612.private"),
            )
            .unwrap();
        let after = table.to_text();
        assert_eq!(changed_lines(&before, &after), [5]);
        assert_eq!(
            after.lines().nth(4).unwrap(),
            "default._domainkey.example.com example.com:202612:/etc/opendkim/keys/example.com/202612.private"
        );
        let entry = table.get("default._domainkey.example.com").unwrap();
        assert_eq!(entry.selector, selector("202612"));
        // The edited text parses to the same table.
        let reread = KeyTable::parse(&after, DataSetKind::File).unwrap();
        assert_eq!(
            reread.entries().collect::<Vec<_>>(),
            table.entries().collect::<Vec<_>>()
        );
    }

    #[test]
    fn rotation_keeps_spacing_comment_and_domain_as_written() {
        let before = "\tk\t\t%:old:/keys/old.private   # rotated monthly\r\n";
        let mut table = KeyTable::parse(before, DataSetKind::File).unwrap();
        table
            .set_key("k", &selector("new"), Path::new("/keys/new.private"))
            .unwrap();
        assert_eq!(
            table.to_text(),
            "\tk\t\t%:new:/keys/new.private   # rotated monthly\r\n"
        );
        let mut table = KeyTable::parse("k example.com.:old:/o\n", DataSetKind::File).unwrap();
        table
            .set_key("k", &selector("new"), Path::new("/n"))
            .unwrap();
        assert_eq!(table.to_text(), "k example.com.:new:/n\n");
    }

    #[test]
    fn edits_refuse_what_opendkim_would_misread() {
        let mut table = table("key.table");
        let before = table.to_text();
        let s = selector("s");
        for path in ["keys/k.private", "/keys/a b.private", "/keys/a#b", ""] {
            assert!(
                matches!(
                    table.set_key("relative", &s, Path::new(path)),
                    Err(EditError::Unwritable { .. })
                ),
                "{path:?}"
            );
        }
        assert!(matches!(
            table.set_key("nope", &s, Path::new("/k")),
            Err(EditError::UnknownKey(_))
        ));
        let long = format!("/{}", "k".repeat(1020));
        assert!(matches!(
            table.set_key("relative", &s, Path::new(&long)),
            Err(EditError::LineTooLong { .. })
        ));
        assert_eq!(table.to_text(), before, "failed edits change nothing");
    }

    #[test]
    fn names_are_found_by_their_first_line_after_edits() {
        let mut table = KeyTable::parse(
            "# keys\na example.com:a1:/ka1\nb example.com:b1:/kb\na example.com:a2:/ka2\n\
             c example.com:c1:/kc\n",
            DataSetKind::File,
        )
        .unwrap();
        assert_eq!(table.lookup("c").unwrap().0, 5);
        assert_eq!(table.get("a").unwrap().selector, selector("a1"));
        assert!(table.get("A").is_none() && table.get("d").is_none());
        // Removing a name shifts the lines after it; they are still found, and edited.
        assert_eq!(table.remove("a").unwrap(), 2);
        assert_eq!(table.lookup("b").unwrap().0, 2);
        assert_eq!(table.lookup("c").unwrap().0, 3);
        assert!(table.get("a").is_none());
        table
            .set_key("c", &selector("c2"), Path::new("/kc2"))
            .unwrap();
        assert_eq!(table.get("c").unwrap().selector, selector("c2"));
        table
            .add(KeyTableEntry {
                name: "a".into(),
                domain: KeyDomain::Named("example.com".parse().unwrap()),
                selector: selector("a3"),
                key: KeySource::File("/ka3".into()),
            })
            .unwrap();
        assert_eq!(table.lookup("a").unwrap().0, 4);
        assert_eq!(
            table.to_text(),
            "# keys\nb example.com:b1:/kb\nc example.com:c2:/kc2\na example.com:a3:/ka3\n"
        );
        assert!(matches!(
            table.set_key("d", &selector("d1"), Path::new("/kd")),
            Err(EditError::UnknownKey(_))
        ));
    }

    #[test]
    fn add_and_remove_touch_only_their_lines() {
        let before = fixture("key.table");
        let mut table = KeyTable::parse(&before, DataSetKind::File).unwrap();
        let entry = KeyTableEntry {
            name: "202612._domainkey.example.net".into(),
            domain: KeyDomain::Named("example.net".parse().unwrap()),
            selector: selector("202612"),
            key: KeySource::File("/etc/opendkim/keys/example.net/202612.private".into()),
        };
        table.add(entry.clone()).unwrap();
        let after = table.to_text();
        assert_eq!(
            after,
            format!(
                "{before}202612._domainkey.example.net example.net:202612:/etc/opendkim/keys/example.net/202612.private\n"
            )
        );
        assert!(matches!(
            table.add(entry.clone()),
            Err(EditError::DuplicateKey(_))
        ));
        assert_eq!(table.remove("202612._domainkey.example.net").unwrap(), 1);
        assert_eq!(table.to_text(), before);
        assert!(matches!(
            table.remove("202612._domainkey.example.net"),
            Err(EditError::UnknownKey(_))
        ));
        let inline = KeyTableEntry {
            key: KeySource::Inline,
            ..entry.clone()
        };
        assert!(matches!(table.add(inline), Err(EditError::InlineKey(_))));
        let spaced = KeyTableEntry {
            name: "a b".into(),
            ..entry
        };
        assert!(matches!(
            table.add(spaced),
            Err(EditError::Unwritable {
                what: "key name",
                ..
            })
        ));
    }

    #[test]
    fn a_refile_key_table_matches_names_as_case_sensitive_patterns() {
        let table = KeyTable::parse(
            " skipped example.com:s0:/k0\nmail-* example.com:s1:/k1\n* example.org:s2:/k2\n",
            DataSetKind::Refile,
        )
        .unwrap();
        assert_eq!(table.lookup("mail-2026").unwrap().0, 2);
        assert_eq!(table.lookup("Mail-2026").unwrap().0, 3);
        assert!(
            table
                .get("skipped")
                .is_some_and(|e| e.selector == selector("s2"))
        );
    }

    #[test]
    fn save_replaces_the_file_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.table");
        std::fs::write(&path, fixture("key.table")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut table = KeyTable::load(&path, DataSetKind::File).unwrap();
        table
            .set_key("relative", &selector("s"), Path::new("./k"))
            .unwrap();
        table.save(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), table.to_text());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}

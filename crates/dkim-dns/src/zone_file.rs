//! Editing a zone's own master file (RFC 1035 5) as BIND users keep it: the TXT records of one
//! name are added or removed and the SOA serial raised in the form the file uses, every other
//! byte kept as it was, so the file stays the administrator's.
//!
//! The file is read as bytes (comments in Latin-1 are common) and split into entries the way
//! BIND reads it: `;` comments, quoted strings, parentheses that continue an entry over lines,
//! `$ORIGIN`, and owner names that are relative, absolute, `@`, or left blank to repeat the
//! previous owner. `$INCLUDE`d files are not followed: records there are not edited.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use dkim_core::record::{TxtChange, format_zone_entry};
use dkim_core::time::format_utc;
use host_files::{Existing, WriteError, write_file_with};

/// Why a zone file could not be edited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneFileError {
    /// Reading failed (the reason is the source, which error reports print after this).
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a zone file this editor can read.
    #[error("{} line {line}: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No SOA record for the zone's apex.
    #[error(
        "{}: no SOA record for {zone} (is this the zone's own file, and is {zone} the zone it \
         holds?)",
        path.display()
    )]
    NoSoa {
        /// The file.
        path: PathBuf,
        /// The zone.
        zone: String,
    },
    /// The name to change is not in the zone.
    #[error("{name} is not in the zone {zone} of {}", path.display())]
    NotInZone {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// The zone.
        zone: String,
    },
    /// Writing the new file failed (nothing was changed).
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// How a zone's SOA serial is written, as far as raising it goes (RFC 1982 arithmetic either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialForm {
    /// `YYYYMMDDnn`: the date of the change and a revision of the day.
    Date,
    /// Seconds since 1970 (BIND's `serial-update-method unixtime`).
    UnixTime,
    /// A plain counter.
    Counter,
}

impl fmt::Display for SerialForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SerialForm::Date => "YYYYMMDDnn",
            SerialForm::UnixTime => "Unix time",
            SerialForm::Counter => "counter",
        })
    }
}

/// How far from `now` a serial may be and still be taken for Unix time: ten years.
const UNIX_TIME_SLACK: u64 = 10 * 366 * 86_400;

impl SerialForm {
    /// The form `serial` is written in, judged at `now` (Unix seconds): a valid date with a
    /// two-digit revision is a date; a number within ten years of now is Unix time; anything
    /// else is a counter.
    pub fn of(serial: u32, now: u64) -> SerialForm {
        let date = serial / 100;
        let (year, month, day) = (date / 10_000, date / 100 % 100, date % 100);
        if (1990..=2099).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day) {
            SerialForm::Date
        } else if u64::from(serial) >= 1_000_000_000
            && u64::from(serial).abs_diff(now) < UNIX_TIME_SLACK
        {
            SerialForm::UnixTime
        } else {
            SerialForm::Counter
        }
    }
}

/// Whether serial `a` is greater than `b` in RFC 1982 serial number arithmetic (3.2), the order
/// secondaries use to decide whether to transfer a zone.
pub fn serial_greater(a: u32, b: u32) -> bool {
    const HALF: u32 = 1 << 31;
    (a < b && b - a > HALF) || (a > b && a - b < HALF)
}

/// The serial after `old`, in `old`'s form, at `now`: today's date with revision 00 (as BIND's
/// `serial-update-method date`) or now in Unix time when that is greater than `old` in RFC 1982
/// arithmetic, else `old + 1` (wrapping past 2^32 - 1, RFC 1982 3.1).
pub fn next_serial(old: u32, now: u64) -> u32 {
    let candidate = match SerialForm::of(old, now) {
        // Today's date, revision 00: YYYYMMDD00 in UTC.
        SerialForm::Date => format_utc("%Y%m%d00", now).and_then(|date| date.parse().ok()),
        SerialForm::UnixTime => u32::try_from(now).ok(),
        SerialForm::Counter => None,
    };
    match candidate {
        Some(candidate) if serial_greater(candidate, old) => candidate,
        _ => old.wrapping_add(1),
    }
}

/// What [`edit_zone_file`] or [`apply_zone_file_changes`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneEdit {
    /// The serial before and after, or None when the file already held what was asked and was
    /// left alone.
    pub serial: Option<(u32, u32)>,
    /// How the serial is written.
    pub form: SerialForm,
}

/// Makes the TXT records at `name` in the zone file `path` of zone `zone` be `value` alone (or
/// none, for None), raises the SOA serial (see [`next_serial`]) and writes the file atomically
/// with its owner, group and mode, dated `modified`. A file that already holds what is asked is
/// not written. The one-change case of [`apply_zone_file_changes`].
pub fn edit_zone_file(
    path: &Path,
    zone: &str,
    name: &str,
    value: Option<&str>,
    now: u64,
    modified: SystemTime,
) -> Result<ZoneEdit, ZoneFileError> {
    apply_zone_file_changes(path, zone, &[TxtChange { name, value }], now, modified)
}

/// Makes every change in the zone file `path` of zone `zone` (as [`edit_zone_file`] makes one;
/// later changes to a name win over earlier ones), raises the SOA serial once (see
/// [`next_serial`]) and writes the file once, atomically, with its owner, group and mode, dated
/// `modified`: a secondary transfers one new version of the zone (RFC 1982 serials) holding all
/// of them, and named never loads a file with only some. A file that already holds everything
/// asked is not written, and keeps its serial. A name outside the zone changes nothing.
pub fn apply_zone_file_changes(
    path: &Path,
    zone: &str,
    changes: &[TxtChange<'_>],
    now: u64,
    modified: SystemTime,
) -> Result<ZoneEdit, ZoneFileError> {
    let read_error = |source| ZoneFileError::Read {
        path: path.to_owned(),
        source,
    };
    // A zone file that is a symbolic link stays one: the file it points to is replaced.
    let target = std::fs::canonicalize(path).map_err(read_error)?;
    let text = std::fs::read(&target).map_err(read_error)?;
    let metadata = std::fs::metadata(&target).map_err(read_error)?;
    let parsed = ParsedZone::parse(&text, zone).map_err(|e| e.in_file(path))?;
    let form = SerialForm::of(parsed.serial(), now);
    let Some((new_text, old, new)) = parsed
        .with_txt_changes(changes, now)
        .map_err(|e| e.in_file(path))?
    else {
        return Ok(ZoneEdit { serial: None, form });
    };
    let mode = metadata.mode() & 0o7777;
    write_file_with(&target, mode, Existing::Replace, |file: &mut File| {
        // Given to the zone file's owner before a byte is written: named may run as that user.
        std::os::unix::fs::fchown(&*file, Some(metadata.uid()), Some(metadata.gid()))?;
        // The mode exactly as it was, whatever the umask.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        std::io::Write::write_all(file, &new_text)?;
        file.set_modified(modified)
    })?;
    Ok(ZoneEdit {
        serial: Some((old, new)),
        form,
    })
}

/// Reads the zone file `path` of `zone` as [`edit_zone_file`] would, changing nothing, and
/// returns its serial: a fault is then found before anything else changes.
pub fn check_zone_file(path: &Path, zone: &str) -> Result<u32, ZoneFileError> {
    let text = std::fs::read(path).map_err(|source| ZoneFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parsed = ParsedZone::parse(&text, zone).map_err(|e| e.in_file(path))?;
    Ok(parsed.serial())
}

/// A zone file error before the file's path is known.
#[derive(Debug)]
pub enum ParseError {
    /// Bad syntax at a line.
    Syntax {
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No SOA for the apex.
    NoSoa {
        /// The zone.
        zone: String,
    },
    /// The name is not in the zone.
    NotInZone {
        /// The name.
        name: String,
        /// The zone.
        zone: String,
    },
}

impl ParseError {
    fn in_file(self, path: &Path) -> ZoneFileError {
        let path = path.to_owned();
        match self {
            ParseError::Syntax { line, reason } => ZoneFileError::Syntax { path, line, reason },
            ParseError::NoSoa { zone } => ZoneFileError::NoSoa { path, zone },
            ParseError::NotInZone { name, zone } => ZoneFileError::NotInZone { path, name, zone },
        }
    }
}

/// One token of an entry: its bytes in the file and whether it was quoted.
#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    quoted: bool,
}

/// One entry of the file: a directive or a resource record, over one line or, in parentheses,
/// several.
#[derive(Debug)]
struct Entry {
    /// Where its first line starts.
    start: usize,
    /// Just past its last line's end of line (or the end of the file).
    end: usize,
    /// Its first line, from 1.
    line: usize,
    /// Whether it starts with blanks: a record that repeats the previous owner.
    blank_owner: bool,
    tokens: Vec<Token>,
}

/// A record as BIND reads it.
#[derive(Debug)]
struct Record {
    /// The entry.
    entry: usize,
    /// The owner, absolute, lower case, with the trailing dot.
    owner: String,
    /// The origin in force at it (absolute, lower case).
    origin: String,
    /// The type, upper case.
    record_type: String,
    /// The tokens after the type.
    rdata: Vec<Token>,
}

/// A zone file split into entries and records.
#[derive(Debug)]
pub struct ParsedZone<'a> {
    text: &'a [u8],
    zone: String,
    entries: Vec<Entry>,
    records: Vec<Record>,
    /// The SOA's serial token.
    serial_token: Token,
    serial: u32,
    line_ending: &'static str,
}

/// `name` made absolute against `origin`, lower case (RFC 1035 5.1: `@` is the origin, a name
/// without a final dot is relative).
fn absolute_name(name: &[u8], origin: &str) -> String {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    if name == "@" {
        origin.to_owned()
    } else if name.ends_with('.') && !name.ends_with("\\.") {
        name
    } else if origin == "." {
        format!("{name}.")
    } else {
        format!("{name}.{origin}")
    }
}

/// `name` with a trailing dot, lower case.
fn fully_qualified(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    if name.ends_with('.') {
        name
    } else {
        format!("{name}.")
    }
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r')
}

/// Splits `text` into entries (RFC 1035 5.1).
fn entries(text: &[u8]) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    let mut at = 0;
    let mut line = 1;
    while at < text.len() {
        let start = at;
        let first_line = line;
        let blank_owner = is_blank(text[at]);
        let mut tokens = Vec::new();
        let mut depth = 0usize;
        let mut opened_at = line;
        while at < text.len() {
            let byte = text[at];
            match byte {
                b'\n' => {
                    at += 1;
                    line += 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ if is_blank(byte) => at += 1,
                b';' => {
                    while at < text.len() && text[at] != b'\n' {
                        at += 1;
                    }
                }
                b'(' => {
                    if depth == 0 {
                        opened_at = line;
                    }
                    depth += 1;
                    at += 1;
                }
                b')' => {
                    depth = depth.checked_sub(1).ok_or(ParseError::Syntax {
                        line,
                        reason: "a ')' without its '('".to_owned(),
                    })?;
                    at += 1;
                }
                b'"' => {
                    let quote_line = line;
                    at += 1;
                    let content = at;
                    loop {
                        match text.get(at) {
                            None => {
                                return Err(ParseError::Syntax {
                                    line: quote_line,
                                    reason: "a quoted string that never ends".to_owned(),
                                });
                            }
                            Some(b'\\') => at += 2,
                            Some(b'"') => break,
                            Some(b'\n') => {
                                line += 1;
                                at += 1;
                            }
                            Some(_) => at += 1,
                        }
                    }
                    tokens.push(Token {
                        start: content,
                        end: at,
                        quoted: true,
                    });
                    at += 1;
                }
                _ => {
                    let word = at;
                    while at < text.len() {
                        match text[at] {
                            b'\\' => at += 2,
                            b'\n' | b';' | b'(' | b')' | b'"' => break,
                            b if is_blank(b) => break,
                            _ => at += 1,
                        }
                    }
                    at = at.min(text.len());
                    tokens.push(Token {
                        start: word,
                        end: at,
                        quoted: false,
                    });
                }
            }
        }
        if depth > 0 {
            return Err(ParseError::Syntax {
                line: opened_at,
                reason: "a '(' that is never closed".to_owned(),
            });
        }
        if !tokens.is_empty() {
            entries.push(Entry {
                start,
                end: at,
                line: first_line,
                blank_owner,
                tokens,
            });
        }
    }
    Ok(entries)
}

/// Whether a token is a TTL (`3600`, `1h30m`: BIND's units) rather than a class or a type.
fn is_ttl(token: &[u8]) -> bool {
    token.first().is_some_and(u8::is_ascii_digit)
        && token
            .iter()
            .all(|b| b.is_ascii_digit() || b"wdhmsWDHMS".contains(b))
}

fn is_class(token: &str) -> bool {
    matches!(token, "IN" | "CH" | "HS" | "CS" | "NONE" | "ANY")
        || token
            .strip_prefix("CLASS")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The bytes of a character-string with its escapes (RFC 1035 5.1: `\X`, `\DDD`) resolved.
fn unescaped(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        if raw[at] == b'\\' && at + 1 < raw.len() {
            let digits = raw.get(at + 1..at + 4);
            match digits {
                Some(d) if d.iter().all(u8::is_ascii_digit) => {
                    let value = d.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
                    out.push(u8::try_from(value).unwrap_or(u8::MAX));
                    at += 4;
                }
                _ => {
                    out.push(raw[at + 1]);
                    at += 2;
                }
            }
        } else {
            out.push(raw[at]);
            at += 1;
        }
    }
    out
}

impl<'a> ParsedZone<'a> {
    /// Reads `text` as the master file of `zone` (the origin it starts with, as named.conf's
    /// zone statement gives it).
    pub fn parse(text: &'a [u8], zone: &str) -> Result<ParsedZone<'a>, ParseError> {
        let zone = fully_qualified(zone);
        let entries = entries(text)?;
        let mut origin = zone.clone();
        let mut last_owner: Option<String> = None;
        let mut records = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let bytes = |t: &Token| &text[t.start..t.end];
            let syntax = |reason: String| ParseError::Syntax {
                line: entry.line,
                reason,
            };
            let first = bytes(&entry.tokens[0]);
            if !entry.blank_owner && first.first() == Some(&b'$') {
                if first.eq_ignore_ascii_case(b"$ORIGIN") {
                    let name = entry
                        .tokens
                        .get(1)
                        .ok_or_else(|| syntax("$ORIGIN without a name".to_owned()))?;
                    origin = absolute_name(bytes(name), &origin);
                }
                continue;
            }
            let (owner, rest) = if entry.blank_owner {
                let owner = last_owner
                    .clone()
                    .ok_or_else(|| syntax("a record with no owner name before it".to_owned()))?;
                (owner, &entry.tokens[..])
            } else {
                (absolute_name(first, &origin), &entry.tokens[1..])
            };
            last_owner = Some(owner.clone());
            let mut fields = rest.iter();
            let record_type = loop {
                let Some(token) = fields.next() else {
                    return Err(syntax(format!("the record for {owner} has no type")));
                };
                let word = String::from_utf8_lossy(bytes(token)).to_ascii_uppercase();
                if !(is_ttl(bytes(token)) || is_class(&word)) {
                    break word;
                }
            };
            records.push(Record {
                entry: index,
                owner,
                origin: origin.clone(),
                record_type,
                rdata: fields.copied().collect(),
            });
        }
        let soa = records
            .iter()
            .find(|r| r.record_type == "SOA" && r.owner == zone)
            .ok_or_else(|| ParseError::NoSoa { zone: zone.clone() })?;
        let soa_line = entries[soa.entry].line;
        let serial_token = *soa.rdata.get(2).ok_or_else(|| ParseError::Syntax {
            line: soa_line,
            reason: format!("the SOA record of {zone} has no serial"),
        })?;
        let serial_text = String::from_utf8_lossy(&text[serial_token.start..serial_token.end]);
        let serial = serial_text
            .parse::<u32>()
            .ok()
            .filter(|_| !serial_token.quoted)
            .ok_or_else(|| ParseError::Syntax {
                line: soa_line,
                reason: format!(
                    "the SOA serial {serial_text:?} is not a number from 0 to 4294967295"
                ),
            })?;
        let line_ending = match text.iter().position(|&b| b == b'\n') {
            Some(at) if at > 0 && text[at - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        Ok(ParsedZone {
            text,
            zone,
            entries,
            records,
            serial_token,
            serial,
            line_ending,
        })
    }

    /// The SOA serial.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The values of the TXT records at `name` (their strings joined with nothing between, RFC
    /// 6376 3.6.2.2), in file order.
    pub fn txt_values(&self, name: &str) -> Vec<Vec<u8>> {
        let name = fully_qualified(name);
        self.records
            .iter()
            .filter(|r| r.record_type == "TXT" && r.owner == name)
            .map(|r| self.txt_value(r))
            .collect()
    }

    fn txt_value(&self, record: &Record) -> Vec<u8> {
        record
            .rdata
            .iter()
            .flat_map(|t| unescaped(&self.text[t.start..t.end]))
            .collect()
    }

    /// The file with the TXT records at `name` made `value` alone (none for None) and the
    /// serial raised, with the old and new serial; None when the file already holds that.
    pub fn with_txt(
        &self,
        name: &str,
        value: Option<&str>,
        now: u64,
    ) -> Result<Option<(Vec<u8>, u32, u32)>, ParseError> {
        self.with_txt_changes(&[TxtChange { name, value }], now)
    }

    /// The file with every change made (the last change to a name is the one that counts, as if
    /// they were made one by one) and the serial raised once, with the old and new serial; None
    /// when the file already holds all of it.
    pub fn with_txt_changes(
        &self,
        changes: &[TxtChange<'_>],
        now: u64,
    ) -> Result<Option<(Vec<u8>, u32, u32)>, ParseError> {
        // A run may change thousands of names in a file of thousands of records: both are
        // looked up by name, not searched.
        let mut wanted: Vec<(String, Option<&str>)> = Vec::with_capacity(changes.len());
        let mut wanted_at: HashMap<String, usize> = HashMap::with_capacity(changes.len());
        for change in changes {
            let name = fully_qualified(change.name);
            if !(name == self.zone
                || self.zone == "."
                || name.ends_with(&format!(".{}", self.zone)))
            {
                return Err(ParseError::NotInZone {
                    name: name.trim_end_matches('.').to_owned(),
                    zone: self.zone.trim_end_matches('.').to_owned(),
                });
            }
            match wanted_at.get(&name) {
                Some(&at) => wanted[at].1 = change.value,
                None => {
                    wanted_at.insert(name.clone(), wanted.len());
                    wanted.push((name, change.value));
                }
            }
        }
        let mut txt_records: HashMap<&str, Vec<&Record>> = HashMap::new();
        for record in self.records.iter().filter(|r| r.record_type == "TXT") {
            txt_records.entry(&record.owner).or_default().push(record);
        }
        // Edits as (where, how many bytes go, what comes instead), applied in file order.
        let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
        let mut all_removed: Vec<&Record> = Vec::new();
        // A file without a final line end gets one before the first record added at its end.
        let mut line_end_missing = !self.text.is_empty() && !self.text.ends_with(b"\n");
        for (name, value) in &wanted {
            let removed = txt_records.get(name.as_str()).cloned().unwrap_or_default();
            let unchanged = match value {
                Some(value) => removed.len() == 1 && self.txt_value(removed[0]) == value.as_bytes(),
                None => removed.is_empty(),
            };
            if unchanged {
                continue;
            }
            for record in &removed {
                let entry = &self.entries[record.entry];
                edits.push((entry.start, entry.end - entry.start, Vec::new()));
            }
            if let Some(value) = value {
                let (at, mut entry) = self.new_entry(name, value, &removed);
                if at == self.text.len() && line_end_missing {
                    entry.splice(0..0, self.line_ending.bytes());
                    line_end_missing = false;
                }
                edits.push((at, 0, entry));
            }
            all_removed.extend(removed);
        }
        if edits.is_empty() {
            return Ok(None);
        }
        edits.extend(self.kept_owners(&all_removed));
        let new_serial = next_serial(self.serial, now);
        edits.push((
            self.serial_token.start,
            self.serial_token.end - self.serial_token.start,
            new_serial.to_string().into_bytes(),
        ));
        // Insertions before removals at the same place: a new record takes an old one's place.
        // The sort is stable, so records added at one place keep the changes' order.
        edits.sort_by_key(|(at, removed, _)| (*at, *removed));
        let mut out = Vec::with_capacity(self.text.len() + 512 * wanted.len());
        let mut copied = 0;
        for (at, removed, inserted) in edits {
            out.extend_from_slice(&self.text[copied..at.max(copied)]);
            out.extend_from_slice(&inserted);
            copied = copied.max(at + removed);
        }
        out.extend_from_slice(&self.text[copied..]);
        Ok(Some((out, self.serial, new_serial)))
    }

    /// Where the record of `value` at `name` (fully qualified) goes, and its entry: in place of
    /// the records it replaces (`removed`), else after the keys (see [`Self::insertion_point`]),
    /// with its owner written as the record beside it writes its own, relative or absolute.
    fn new_entry(&self, name: &str, value: &str, removed: &[&'a Record]) -> (usize, Vec<u8>) {
        let (at, origin, beside) = self.insertion_point(removed);
        let absolute = beside.is_some_and(|r| self.owner_is_absolute(r));
        let owner = match name.strip_suffix(&format!(".{origin}")) {
            Some(relative) if origin != "." && !absolute => relative,
            _ => name,
        };
        let mut entry = format_zone_entry(owner, value, None);
        if self.line_ending != "\n" {
            entry = entry.replace('\n', self.line_ending);
        }
        (at, entry.into_bytes())
    }

    /// A record left blank-owned after the record it took its owner from is removed would take
    /// another's: the first such record after each removed owner gets the owner written out.
    fn kept_owners(&self, removed: &[&Record]) -> Vec<(usize, usize, Vec<u8>)> {
        let removed_entries: HashSet<usize> = removed.iter().map(|r| r.entry).collect();
        let mut edits = Vec::new();
        let mut provider_removed: Option<&Record> = None;
        for record in &self.records {
            let entry = &self.entries[record.entry];
            let is_removed = removed_entries.contains(&record.entry);
            if !entry.blank_owner {
                provider_removed = is_removed.then_some(record);
                continue;
            }
            if is_removed {
                continue;
            }
            if let Some(provider) = provider_removed.take() {
                let provider_entry = &self.entries[provider.entry];
                let owner = if provider.origin == record.origin {
                    let token = provider_entry.tokens[0];
                    self.text[token.start..token.end].to_vec()
                } else {
                    provider.owner.clone().into_bytes()
                };
                edits.push((entry.start, 0, owner));
            }
        }
        edits
    }

    /// Whether a record's owner is written as an absolute name.
    fn owner_is_absolute(&self, record: &Record) -> bool {
        let entry = &self.entries[record.entry];
        let owner = entry.tokens[0];
        !entry.blank_owner && self.text[owner.start..owner.end].ends_with(b".")
    }

    /// Where a new record goes, the origin in force there, and the record it goes beside: in
    /// place of the first record it replaces; else after the last `_domainkey` record (and the
    /// records that repeat its owner); else at the end of the file.
    fn insertion_point(&self, removed: &[&'a Record]) -> (usize, String, Option<&Record>) {
        if let Some(first) = removed.first() {
            return (
                self.entries[first.entry].start,
                first.origin.clone(),
                Some(first),
            );
        }
        let last_key = self
            .records
            .iter()
            .rposition(|r| r.owner.contains("._domainkey."));
        if let Some(position) = last_key {
            let mut group_end = position;
            while self.records.get(group_end + 1).is_some_and(|r| {
                self.entries[r.entry].blank_owner && r.entry == self.records[group_end].entry + 1
            }) {
                group_end += 1;
            }
            let record = &self.records[group_end];
            // A directive right after (an $ORIGIN) stays after the new record: the origin is
            // the record's.
            return (
                self.entries[record.entry].end,
                record.origin.clone(),
                Some(&self.records[position]),
            );
        }
        let last_named = self
            .records
            .iter()
            .rev()
            .find(|r| !self.entries[r.entry].blank_owner);
        (self.text.len(), self.origin_at_end(), last_named)
    }

    /// The origin in force at the end of the file.
    fn origin_at_end(&self) -> String {
        let mut origin = self.zone.clone();
        for entry in &self.entries {
            let first = entry.tokens[0];
            let word = &self.text[first.start..first.end];
            if !entry.blank_owner
                && word.eq_ignore_ascii_case(b"$ORIGIN")
                && let Some(name) = entry.tokens.get(1)
            {
                origin = absolute_name(&self.text[name.start..name.end], &origin);
            }
        }
        origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04T12:00:00Z.
    const NOW: u64 = 1_796_385_600;
    const KEY: &str = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    const ZONE: &str = "$ORIGIN example.com.\n\
        $TTL 3600 ; an hour\n\
        @   IN  SOA ns1.example.com. hostmaster.example.com. (\n\
        \t\t2026120401 ; serial\n\
        \t\t3600       ; refresh\n\
        \t\t600 86400 300 )\n\
        \tIN NS ns1\n\
        ns1 IN A 192.0.2.1\n\
        ; keys\n\
        old._domainkey IN TXT ( \"v=DKIM1; k=ed25519; \"\n\
        \t  \"p=AAAA\" )  ; ----- DKIM key old for example.com\n\
        www 300 IN A 192.0.2.2\n";

    fn edit(text: &str, name: &str, value: Option<&str>) -> (String, u32, u32) {
        let parsed = ParsedZone::parse(text.as_bytes(), "example.com").unwrap();
        let (out, old, new) = parsed.with_txt(name, value, NOW).unwrap().unwrap();
        (String::from_utf8(out).unwrap(), old, new)
    }

    #[test]
    fn serial_forms_are_recognised_and_raised_in_their_form() {
        assert_eq!(SerialForm::of(2_026_120_401, NOW), SerialForm::Date);
        assert_eq!(SerialForm::of(1_796_385_000, NOW), SerialForm::UnixTime);
        assert_eq!(SerialForm::of(41, NOW), SerialForm::Counter);
        // An older day starts today's revisions at 00, as BIND's serial-update-method date.
        assert_eq!(next_serial(2_026_110_107, NOW), 2_026_120_400);
        // Today's, or a date ahead: the next revision, into the next day when it must.
        assert_eq!(next_serial(2_026_120_401, NOW), 2_026_120_402);
        assert_eq!(next_serial(2_026_120_499, NOW), 2_026_120_500);
        assert_eq!(next_serial(2_030_010_100, NOW), 2_030_010_101);
        assert_eq!(next_serial(1_796_385_000, NOW), 1_796_385_600);
        // Changed twice within a second: still greater.
        assert_eq!(next_serial(1_796_385_600, NOW), 1_796_385_601);
        assert_eq!(next_serial(41, NOW), 42);
        // RFC 1982 3.1: the counter wraps, and the wrapped serial is greater (3.2).
        assert_eq!(next_serial(u32::MAX, NOW), 0);
        assert!(serial_greater(0, u32::MAX));
        assert!(serial_greater(5, 3) && !serial_greater(3, 5) && !serial_greater(3, 3));
        assert!(!serial_greater(3 + (1 << 31) + 1, 3));
    }

    #[test]
    fn publishing_adds_the_record_after_the_keys_and_keeps_every_other_byte() {
        let (out, old, new) = edit(ZONE, "new._domainkey.example.com", Some(KEY));
        assert_eq!((old, new), (2_026_120_401, 2_026_120_402));
        let expected = ZONE
            .replace("2026120401 ; serial", "2026120402 ; serial")
            .replace(
                "old for example.com\n",
                "old for example.com\nnew._domainkey\tIN\tTXT\t( \"v=DKIM1; k=ed25519; \"\n\t  \
                 \"p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\" )\n",
            );
        assert_eq!(out, expected);
        let parsed = ParsedZone::parse(out.as_bytes(), "example.com.").unwrap();
        assert_eq!(parsed.serial(), 2_026_120_402);
        assert_eq!(
            parsed.txt_values("NEW._domainkey.example.com."),
            vec![KEY.as_bytes().to_vec()]
        );
        // Asked again: nothing to do, and the serial stays.
        assert!(
            parsed
                .with_txt("new._domainkey.example.com", Some(KEY), NOW)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn withdrawing_removes_exactly_the_record() {
        let (out, _, new) = edit(ZONE, "old._domainkey.example.com", None);
        assert_eq!(new, 2_026_120_402);
        let expected = ZONE
            .replace("2026120401 ; serial", "2026120402 ; serial")
            .replace(
                "old._domainkey IN TXT ( \"v=DKIM1; k=ed25519; \"\n\t  \"p=AAAA\" )  ; ----- DKIM key old for example.com\n",
                "",
            );
        assert_eq!(out, expected);
        let parsed = ParsedZone::parse(out.as_bytes(), "example.com").unwrap();
        assert!(
            parsed
                .with_txt("old._domainkey.example.com", None, NOW)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_replaced_record_takes_the_old_ones_place() {
        let (out, _, _) = edit(ZONE, "old._domainkey.example.com", Some(KEY));
        assert!(
            out.contains(
                "; keys\nold._domainkey\tIN\tTXT\t( \"v=DKIM1; k=ed25519; \"\n\t  \"p=11qY"
            ),
            "{out}"
        );
        assert!(!out.contains("p=AAAA"), "{out}");
    }

    #[test]
    fn names_follow_origin_and_blank_owners() {
        // A record repeating the removed record's owner keeps it; absolute names, $ORIGIN of a
        // subzone, a Unix-time serial on one line, CRLF line ends, no final newline.
        let text = "$TTL 300\r\n\
            example.com. IN SOA ns. host. 1796385000 1 2 3 4\r\n\
            $ORIGIN _domainkey.example.com.\r\n\
            a IN TXT \"v=DKIM1; p=A\"\r\n\
            \x20 IN AAAA ::1\r\n\
            b.example.com. IN TXT \"other\"";
        let parsed = ParsedZone::parse(text.as_bytes(), "example.com").unwrap();
        assert_eq!(
            parsed.txt_values("a._domainkey.example.com"),
            vec![b"v=DKIM1; p=A".to_vec()]
        );
        assert_eq!(parsed.txt_values("b.example.com"), vec![b"other".to_vec()]);
        let (out, old, new) = parsed
            .with_txt("a._domainkey.example.com", None, NOW)
            .unwrap()
            .unwrap();
        assert_eq!((old, new), (1_796_385_000, 1_796_385_600));
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "$TTL 300\r\nexample.com. IN SOA ns. host. 1796385600 1 2 3 4\r\n\
             $ORIGIN _domainkey.example.com.\r\na  IN AAAA ::1\r\nb.example.com. IN TXT \"other\""
        );
        let parsed = ParsedZone::parse(out.as_bytes(), "example.com").unwrap();
        let (out, _, _) = parsed
            .with_txt("c._domainkey.example.com", Some("v=DKIM1; p=C"), NOW)
            .unwrap()
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        // After the last key record's group, relative to the origin in force there.
        assert!(
            out.contains(
                "a  IN AAAA ::1\r\nc\tIN\tTXT\t( \"v=DKIM1; \"\r\n\t  \"p=C\" )\r\nb.example.com."
            ),
            "{out:?}"
        );
    }

    #[test]
    fn a_file_of_absolute_names_gets_an_absolute_name() {
        let text = "example.com. 300 IN SOA ns. host. 7 1 2 3 4\nexample.com. 300 IN NS ns.\n";
        let (out, old, new) = edit(text, "a._domainkey.example.com", Some("v=DKIM1; p=A"));
        assert_eq!((old, new), (7, 8));
        assert!(
            out.ends_with(
                "IN NS ns.\na._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1; \"\n\t  \"p=A\" )\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn long_values_are_split_in_strings_of_at_most_255_bytes() {
        let value = format!("v=DKIM1; k=rsa; p={}", "A".repeat(600));
        let (out, _, _) = edit(ZONE, "big._domainkey.example.com", Some(&value));
        let parsed = ParsedZone::parse(out.as_bytes(), "example.com").unwrap();
        assert_eq!(
            parsed.txt_values("big._domainkey.example.com"),
            vec![value.into_bytes()]
        );
        let record = out.split("big._domainkey").nth(1).unwrap();
        for string in record.split('"').skip(1).step_by(2) {
            assert!(string.len() <= 255, "{string}");
        }
    }

    fn publish<'a>(name: &'a str, value: &'a str) -> TxtChange<'a> {
        TxtChange {
            name,
            value: Some(value),
        }
    }

    fn withdraw(name: &str) -> TxtChange<'_> {
        TxtChange { name, value: None }
    }

    /// The file after `changes`, made at once, with the old and new serial.
    fn edit_all(text: &str, changes: &[TxtChange<'_>]) -> (String, u32, u32) {
        let parsed = ParsedZone::parse(text.as_bytes(), "example.com").unwrap();
        let (out, old, new) = parsed.with_txt_changes(changes, NOW).unwrap().unwrap();
        (String::from_utf8(out).unwrap(), old, new)
    }

    /// The file after `changes`, made one at a time, with the serial after the first raise.
    fn edit_one_by_one(text: &str, changes: &[TxtChange<'_>]) -> String {
        let mut text = text.to_owned();
        for change in changes {
            let parsed = ParsedZone::parse(text.as_bytes(), "example.com").unwrap();
            if let Some((out, _, _)) = parsed.with_txt(change.name, change.value, NOW).unwrap() {
                text = String::from_utf8(out).unwrap();
            }
        }
        let last = ParsedZone::parse(text.as_bytes(), "example.com")
            .unwrap()
            .serial();
        text.replace(&last.to_string(), "2026120402")
    }

    #[test]
    fn several_changes_make_one_edit_with_one_serial_raise() {
        let changes = [
            publish("new1._domainkey.example.com", KEY),
            withdraw("old._domainkey.example.com"),
            publish("new2._domainkey.example.com.", "v=DKIM1; p=B"),
            withdraw("never-there._domainkey.example.com"),
        ];
        let (out, old, new) = edit_all(ZONE, &changes);
        assert_eq!((old, new), (2_026_120_401, 2_026_120_402));
        // The new records take the withdrawn key's place, in the order given; every other byte
        // stays.
        let expected = ZONE
            .replace("2026120401 ; serial", "2026120402 ; serial")
            .replace(
                "old._domainkey IN TXT ( \"v=DKIM1; k=ed25519; \"\n\t  \"p=AAAA\" )  ; ----- \
                 DKIM key old for example.com\n",
                "new1._domainkey\tIN\tTXT\t( \"v=DKIM1; k=ed25519; \"\n\t  \
                 \"p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\" )\n\
                 new2._domainkey\tIN\tTXT\t( \"v=DKIM1; \"\n\t  \"p=B\" )\n",
            );
        assert_eq!(out, expected);
        let parsed = ParsedZone::parse(out.as_bytes(), "example.com").unwrap();
        assert!(parsed.txt_values("old._domainkey.example.com").is_empty());
        assert_eq!(
            parsed.txt_values("new2._domainkey.example.com"),
            vec![b"v=DKIM1; p=B".to_vec()]
        );
        // Made again: nothing to do.
        assert!(parsed.with_txt_changes(&changes, NOW).unwrap().is_none());
    }

    #[test]
    fn a_batch_gives_the_file_changes_made_one_by_one_would_with_one_serial_raise() {
        let batches: [&[TxtChange<'_>]; 3] = [
            &[
                publish("a._domainkey.example.com", "v=DKIM1; p=A"),
                publish("b._domainkey.example.com", "v=DKIM1; p=B"),
                publish("old._domainkey.example.com", KEY),
            ],
            &[
                publish("www.example.com", "not a key"),
                withdraw("old._domainkey.example.com"),
            ],
            // The last change to a name counts.
            &[
                publish("a._domainkey.example.com", "v=DKIM1; p=A"),
                withdraw("a._domainkey.example.com"),
                publish("old._domainkey.example.com", "v=DKIM1; p=1"),
                publish("old._domainkey.example.com", "v=DKIM1; p=2"),
            ],
        ];
        for changes in batches {
            let (out, _, new) = edit_all(ZONE, changes);
            assert_eq!(new, 2_026_120_402);
            assert_eq!(out, edit_one_by_one(ZONE, changes), "{changes:?}");
        }
        // Where new records go is found in the file as it was: after its last key record even
        // when the batch withdraws that (one by one, the withdrawal first, it would go last).
        let (out, _, _) = edit_all(
            ZONE,
            &[
                withdraw("old._domainkey.example.com"),
                publish("www.example.com", "not a key"),
            ],
        );
        assert!(
            out.contains("; keys\nwww\tIN\tTXT\t( \"not a key\" )\nwww 300 IN A"),
            "{out}"
        );
    }

    #[test]
    fn a_batch_that_changes_nothing_leaves_the_file_and_its_serial() {
        let parsed = ParsedZone::parse(ZONE.as_bytes(), "example.com").unwrap();
        let already = [
            publish("old._domainkey.example.com", "v=DKIM1; k=ed25519; p=AAAA"),
            withdraw("gone._domainkey.example.com"),
            // Published, then withdrawn again: the end is as it was.
            publish("new._domainkey.example.com", KEY),
            withdraw("new._domainkey.example.com"),
        ];
        assert!(parsed.with_txt_changes(&already, NOW).unwrap().is_none());
        assert!(parsed.with_txt_changes(&[], NOW).unwrap().is_none());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.example.com");
        std::fs::write(&path, ZONE).unwrap();
        let before = std::fs::metadata(&path).unwrap();
        let dated = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(NOW + 1);
        let edit = apply_zone_file_changes(&path, "example.com", &already, NOW, dated).unwrap();
        assert_eq!(
            edit,
            ZoneEdit {
                serial: None,
                form: SerialForm::Date
            }
        );
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.modified().unwrap(), before.modified().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), ZONE);

        // The same file given changes: one write, one raise.
        let edit = apply_zone_file_changes(
            &path,
            "example.com",
            &[
                publish("a._domainkey.example.com", "v=DKIM1; p=A"),
                publish("b._domainkey.example.com", "v=DKIM1; p=B"),
                withdraw("old._domainkey.example.com"),
            ],
            NOW,
            dated,
        )
        .unwrap();
        assert_eq!(edit.serial, Some((2_026_120_401, 2_026_120_402)));
        let parsed_text = std::fs::read(&path).unwrap();
        let parsed = ParsedZone::parse(&parsed_text, "example.com").unwrap();
        assert_eq!(parsed.serial(), 2_026_120_402);
        assert_eq!(parsed.txt_values("b._domainkey.example.com").len(), 1);
    }

    #[test]
    fn a_batch_with_a_name_outside_the_zone_changes_nothing() {
        let parsed = ParsedZone::parse(ZONE.as_bytes(), "example.com").unwrap();
        let refused = parsed.with_txt_changes(
            &[
                publish("a._domainkey.example.com", "v=DKIM1; p=A"),
                withdraw("old._domainkey.example.org"),
            ],
            NOW,
        );
        assert!(
            matches!(&refused, Err(ParseError::NotInZone { name, zone })
                if name == "old._domainkey.example.org" && zone == "example.com"),
            "{refused:?}"
        );
    }

    #[test]
    fn records_added_at_the_end_of_a_file_without_a_final_line_end_get_one_line_end() {
        let text = "example.com. 300 IN SOA ns. host. 7 1 2 3 4\r\nexample.com. 300 IN NS ns.";
        let (out, _, new) = edit_all(
            text,
            &[
                publish("a._domainkey.example.com", "v=DKIM1; p=A"),
                publish("b._domainkey.example.com", "v=DKIM1; p=B"),
            ],
        );
        assert_eq!(new, 8);
        assert_eq!(
            out,
            "example.com. 300 IN SOA ns. host. 8 1 2 3 4\r\nexample.com. 300 IN NS ns.\r\n\
             a._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1; \"\r\n\t  \"p=A\" )\r\n\
             b._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1; \"\r\n\t  \"p=B\" )\r\n"
        );
    }

    #[test]
    fn faults_name_the_line() {
        let fault = |text: &str| match ParsedZone::parse(text.as_bytes(), "example.com") {
            Err(ParseError::Syntax { line, reason }) => format!("{line}: {reason}"),
            Err(ParseError::NoSoa { zone }) => format!("no SOA for {zone}"),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fault("@ IN SOA ns. host. (\n 1 2 3 4 5\n"),
            "1: a '(' that is never closed"
        );
        assert_eq!(
            fault("@ IN SOA ns. host. 1 2 3 4 5 )\n"),
            "1: a ')' without its '('"
        );
        assert_eq!(
            fault("\n@ IN TXT \"open\n"),
            "2: a quoted string that never ends"
        );
        assert_eq!(
            fault("@ IN SOA ns. host. x2 2 3 4 5\n"),
            "1: the SOA serial \"x2\" is not a number from 0 to 4294967295"
        );
        assert_eq!(
            fault("  IN A 192.0.2.1\n"),
            "1: a record with no owner name before it"
        );
        assert_eq!(
            fault("other.org. IN SOA ns. host. 1 2 3 4 5\n"),
            "no SOA for example.com."
        );
        let parsed = ParsedZone::parse(ZONE.as_bytes(), "example.com").unwrap();
        assert!(matches!(
            parsed.with_txt("a._domainkey.example.org", None, NOW),
            Err(ParseError::NotInZone { .. })
        ));
    }

    #[test]
    fn the_file_is_replaced_with_its_owner_mode_and_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.example.com");
        std::fs::write(&path, ZONE).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::metadata(&path).unwrap();
        let dated = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(NOW + 1);
        let publish = || {
            edit_zone_file(
                &path,
                "example.com",
                "new._domainkey.example.com",
                Some(KEY),
                NOW,
                dated,
            )
            .unwrap()
        };
        assert_eq!(
            publish(),
            ZoneEdit {
                serial: Some((2_026_120_401, 2_026_120_402)),
                form: SerialForm::Date
            }
        );
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(after.mode() & 0o7777, 0o640);
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_eq!(after.modified().unwrap(), dated);
        assert_ne!(after.ino(), before.ino(), "not replaced by a rename");
        assert_eq!(publish().serial, None);
        // Through a symbolic link, the file it points to changes and the link stays.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let withdrawn = edit_zone_file(
            &link,
            "example.com",
            "new._domainkey.example.com",
            None,
            NOW,
            dated,
        )
        .unwrap();
        assert_eq!(withdrawn.serial, Some((2_026_120_402, 2_026_120_403)));
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            ZONE.replace("2026120401", "2026120403")
        );
        let missing = edit_zone_file(
            &dir.path().join("none"),
            "example.com",
            "a.example.com",
            None,
            NOW,
            dated,
        );
        assert!(matches!(missing, Err(ZoneFileError::Read { .. })));
    }
}

//! A `file:` or `refile:` data set (opendkim(8), DATA SETS) as a list of lines, each kept byte
//! for byte, so that a table dkimkit edits is written back with every comment, blank line and
//! space of the lines it did not touch.
//!
//! Both kinds are read one line at a time; a `#` starts a comment anywhere on a line, and the rest
//! splits into a key and a value at white space. The two kinds split differently, and the exact
//! rules come from opendkim's reader (`dkimf_db_open()` in opendkim-db.c), because the man page
//! does not give them and the difference changes which lines count.

use std::fs;
use std::ops::Range;
use std::path::Path;

use super::error::{EditError, LineError, LineProblem, TableError};
use host_files::{WriteError, replace_keeping_owner};

/// The longest line opendkim reads as one line: it reads with `fgets()` into a 1024-byte buffer
/// (opendkim-db.c), so anything longer is split and the rest read as a line of its own.
pub const MAX_LINE_LEN: usize = 1023;

/// How opendkim reads a data-set file, which the prefix of its name in opendkim.conf selects
/// (opendkim(8), DATA SETS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSetKind {
    /// `file:` (or a plain absolute path): keys are looked up exactly.
    File,
    /// `refile:`: keys are wildcard patterns, tried in file order.
    Refile,
}

impl DataSetKind {
    /// The prefix opendkim.conf writes for this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            DataSetKind::File => "file:",
            DataSetKind::Refile => "refile:",
        }
    }
}

/// White space as C's `isspace()` sees it, which opendkim uses to split lines: unlike
/// `char::is_ascii_whitespace`, it includes the vertical tab.
pub(crate) fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// Where the key and the value of one line are, as byte ranges of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    /// The key (a name, an address or a pattern).
    pub key: Range<usize>,
    /// The value, trimmed; `None` when the line holds only a key.
    pub value: Option<Range<usize>>,
}

/// The part of a line opendkim reads: everything before the first `#`.
fn before_comment(line: &str) -> &str {
    line.find('#').map_or(line, |hash| &line[..hash])
}

/// The end of `text` with trailing white space removed (`dkimf_trimspaces()`).
fn trimmed_end(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end_matches(is_c_space).len()
}

/// Splits one line (without its newline) as opendkim splits a line of this kind, or returns
/// `None` for a line opendkim skips.
///
/// - `file:`: the line is trimmed; the key is the first run of non-space characters, and the
///   value everything after the following white space (inner spaces included).
/// - `refile:`: the pattern runs from the start of the line to the first white space; the value
///   is the rest, trimmed. A line that starts with white space therefore has an empty pattern
///   and opendkim skips it, entry and all.
pub(crate) fn split_fields(kind: DataSetKind, line: &str) -> Option<Fields> {
    let content = before_comment(line);
    let (key_start, key_end) = match kind {
        DataSetKind::File => {
            let start = content.len() - content.trim_start_matches(is_c_space).len();
            let end = content[start..]
                .find(is_c_space)
                .map_or(content.len(), |i| start + i);
            (start, end)
        }
        DataSetKind::Refile => (0, content.find(is_c_space).unwrap_or(content.len())),
    };
    if key_start == key_end {
        return None;
    }
    let rest = &content[key_end..];
    let value_start = key_end + (rest.len() - rest.trim_start_matches(is_c_space).len());
    let value_end = trimmed_end(content, value_start, content.len());
    let value = (value_start < value_end).then_some(value_start..value_end);
    Some(Fields {
        key: key_start..key_end,
        value,
    })
}

/// Whether opendkim skips this line although it is neither blank nor a comment: only `refile:`
/// does that, for a line that starts with white space.
pub(crate) fn is_silently_skipped(kind: DataSetKind, line: &str) -> bool {
    kind == DataSetKind::Refile
        && split_fields(kind, line).is_none()
        && !before_comment(line).trim_matches(is_c_space).is_empty()
}

/// One line of a table: its bytes, newline included, and the entry it defines, if any.
#[derive(Debug, Clone)]
pub(crate) struct Line<E> {
    /// The line exactly as read, with its `\n` (absent only on a last line without one).
    pub raw: String,
    /// The entry the line defines; `None` for comments, blank and skipped lines.
    pub entry: Option<Entry<E>>,
}

/// An entry and where its key and value sit in the line, so that an edit can replace the value
/// and keep the rest of the line.
#[derive(Debug, Clone)]
pub(crate) struct Entry<E> {
    /// The key's bytes in the line.
    pub key: Range<usize>,
    /// The value's bytes in the line (empty, at the key's end, if the line has none).
    pub value: Range<usize>,
    /// What the table made of the line.
    pub data: E,
}

impl<E> Line<E> {
    /// The line without its newline, as opendkim reads it.
    pub fn content(&self) -> &str {
        self.raw.strip_suffix('\n').unwrap_or(&self.raw)
    }
}

/// Splits `text` into lines and lets `read_entry` turn the key and value of each line that has
/// one into an entry. Errors number lines from 1.
pub(crate) fn parse_lines<E>(
    text: &str,
    kind: DataSetKind,
    mut read_entry: impl FnMut(&str, Option<&str>) -> Result<E, LineProblem>,
) -> Result<Vec<Line<E>>, LineError> {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(index, raw)| {
            let at_line = |problem| LineError {
                line: index + 1,
                problem,
            };
            let content = raw.strip_suffix('\n').unwrap_or(raw);
            check_length(content).map_err(at_line)?;
            let entry = match split_fields(kind, content) {
                None => None,
                Some(Fields { key, value }) => {
                    let data =
                        read_entry(&content[key.clone()], value.clone().map(|v| &content[v]))
                            .map_err(at_line)?;
                    let value = value.unwrap_or(key.end..key.end);
                    Some(Entry { key, value, data })
                }
            };
            Ok(Line {
                raw: raw.to_owned(),
                entry,
            })
        })
        .collect()
}

/// Refuses a line opendkim would split in two.
pub(crate) fn check_length(content: &str) -> Result<(), LineProblem> {
    if content.len() > MAX_LINE_LEN {
        return Err(LineProblem::LineTooLong {
            length: content.len(),
        });
    }
    Ok(())
}

/// The whole text again; byte-identical to the input when nothing was edited.
pub(crate) fn to_text<E>(lines: &[Line<E>]) -> String {
    lines.iter().map(|line| line.raw.as_str()).collect()
}

/// The entries with their line numbers (from 1), in file order.
pub(crate) fn numbered<E>(lines: &[Line<E>]) -> impl Iterator<Item = (usize, &E)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| line.entry.as_ref().map(|entry| (index + 1, &entry.data)))
}

/// The numbers of the lines opendkim skips although they are neither blank nor comments.
pub(crate) fn skipped<E>(lines: &[Line<E>], kind: DataSetKind) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.entry.is_none() && is_silently_skipped(kind, line.content()))
        .map(|(index, _)| index + 1)
        .collect()
}

/// The white space between key and value on the last entry, so that an added line looks like
/// its neighbours; a single space (as the setup guides write) in a table without entries.
pub(crate) fn separator<E>(lines: &[Line<E>]) -> String {
    lines
        .iter()
        .rev()
        .find_map(|line| {
            let entry = line.entry.as_ref()?;
            let gap = line.raw.get(entry.key.end..entry.value.start)?;
            (!gap.is_empty()).then(|| gap.to_owned())
        })
        .unwrap_or_else(|| " ".to_owned())
}

/// Refuses an edit that would leave a line opendkim splits in two.
pub(crate) fn check_edited_length(content: &str) -> Result<(), EditError> {
    check_length(content).map_err(|_| EditError::LineTooLong {
        length: content.len(),
    })
}

/// Appends `key`, the table's separator and `value` as a new line, first ending the last line
/// if the file did not end with a newline. The caller has checked that opendkim reads the line
/// back as this key and value.
pub(crate) fn append<E>(
    lines: &mut Vec<Line<E>>,
    key: &str,
    value: &str,
    data: E,
) -> Result<(), EditError> {
    let separator = separator(lines);
    let content = format!("{key}{separator}{value}");
    check_edited_length(&content)?;
    if let Some(last) = lines.last_mut()
        && !last.raw.ends_with('\n')
    {
        last.raw.push('\n');
    }
    let value_start = key.len() + separator.len();
    lines.push(Line {
        entry: Some(Entry {
            key: 0..key.len(),
            value: value_start..content.len(),
            data,
        }),
        raw: content + "\n",
    });
    Ok(())
}

/// Checks that opendkim reads `text` back as written when it is a key or a value field: it must
/// not be empty nor hold white space or `#`, where opendkim would cut it. `what` names it in the
/// error (`key name`, `pattern`...).
pub(crate) fn one_field<'a>(what: &'static str, text: &'a str) -> Result<&'a str, EditError> {
    if text.is_empty() || text.contains(|c| is_c_space(c) || c == '#') {
        return Err(EditError::Unwritable {
            what,
            text: text.to_owned(),
            reason: "it is empty or holds white space or '#', where opendkim would cut it",
        });
    }
    Ok(text)
}

/// Reads a table file and parses it with `parse`, naming the file in a syntax error.
pub(crate) fn load<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, LineError>,
) -> Result<T, TableError> {
    parse(&read(path)?).map_err(|source| TableError::Syntax {
        path: path.to_owned(),
        source,
    })
}

/// Reads a table file.
pub(crate) fn read(path: &Path) -> Result<String, TableError> {
    fs::read_to_string(path).map_err(|source| TableError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Replaces a table file atomically, keeping its owner, group and permission bits
/// ([`host_files::replace_keeping_owner`]).
pub(crate) fn save(path: &Path, text: &str) -> Result<(), WriteError> {
    replace_keeping_owner(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(kind: DataSetKind, line: &str) -> Option<(&str, Option<&str>)> {
        split_fields(kind, line).map(|f| (&line[f.key], f.value.map(|v| &line[v])))
    }

    #[test]
    fn file_lines_split_at_the_first_gap_and_keep_inner_spaces() {
        use DataSetKind::File;
        assert_eq!(fields(File, "k a:b:/c"), Some(("k", Some("a:b:/c"))));
        assert_eq!(
            fields(File, "  k \t a:b:/c d  # note\r"),
            Some(("k", Some("a:b:/c d")))
        );
        assert_eq!(fields(File, "k\r"), Some(("k", None)));
        assert_eq!(fields(File, "   # comment"), None);
        assert_eq!(fields(File, ""), None);
        assert_eq!(fields(File, "\u{b}k\u{b}v\u{b}"), Some(("k", Some("v"))));
    }

    #[test]
    fn refile_lines_that_start_with_space_are_skipped() {
        use DataSetKind::Refile;
        assert_eq!(
            fields(Refile, "*@example.com\tkey # x"),
            Some(("*@example.com", Some("key")))
        );
        assert_eq!(fields(Refile, " *@example.com key"), None);
        assert!(is_silently_skipped(Refile, " *@example.com key"));
        assert!(!is_silently_skipped(Refile, "   # just a comment"));
        assert!(!is_silently_skipped(DataSetKind::File, " a b"));
        assert_eq!(
            fields(Refile, "*@example.com"),
            Some(("*@example.com", None))
        );
        assert_eq!(
            fields(Refile, "*@example.com   "),
            Some(("*@example.com", None))
        );
    }

    #[test]
    fn lines_round_trip_and_long_lines_are_refused() {
        let text = "a b\n\n# c\r\nd e";
        let lines = parse_lines(text, DataSetKind::File, |_, _| Ok(())).unwrap();
        assert_eq!(to_text(&lines), text);
        assert_eq!(numbered(&lines).map(|(n, _)| n).collect::<Vec<_>>(), [1, 4]);
        let long = format!("k {}\n", "x".repeat(MAX_LINE_LEN));
        let err = parse_lines(&long, DataSetKind::File, |_, _| Ok(())).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(matches!(
            err.problem,
            LineProblem::LineTooLong { length: 1025 }
        ));
    }

    #[test]
    fn append_copies_the_separator_and_ends_an_unterminated_last_line() {
        let mut lines = parse_lines("a\t\tb", DataSetKind::File, |_, _| Ok(1)).unwrap();
        append(&mut lines, "c", "d", 2).unwrap();
        let text = to_text(&lines);
        assert_eq!(text, "a\t\tb\nc\t\td\n");
        // What was appended reads back the same.
        let reread = parse_lines(&text, DataSetKind::File, |k, v| {
            Ok((k.to_owned(), v.map(str::to_owned)))
        })
        .unwrap();
        let line = &reread[1];
        let entry = line.entry.as_ref().unwrap();
        assert_eq!(entry.data, ("c".to_owned(), Some("d".to_owned())));
        assert_eq!(entry.value, lines[1].entry.as_ref().unwrap().value);
        let mut empty: Vec<Line<()>> = Vec::new();
        append(&mut empty, "k", "v", ()).unwrap();
        assert_eq!(to_text(&empty), "k v\n");
    }

    #[test]
    fn skipped_refile_lines_are_reported() {
        let text = "# c\n *@a.example b\n*@b.example c\n";
        let lines = parse_lines(text, DataSetKind::Refile, |_, _| Ok(())).unwrap();
        assert_eq!(skipped(&lines, DataSetKind::Refile), [2]);
    }
}

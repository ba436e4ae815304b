//! Why a KeyTable or SigningTable could not be read or edited, naming the file and line at fault
//! so that an administrator can go straight to it.

use std::io;
use std::path::PathBuf;

use dkim_core::name::NameError;

/// What is wrong with one line of a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// Longer than opendkim reads as one line ([`super::MAX_LINE_LEN`]).
    #[error(
        "the line is {length} bytes long; opendkim reads at most {max} bytes as one line and \
         would read the rest as another entry",
        max = super::MAX_LINE_LEN
    )]
    LineTooLong {
        /// Its length in bytes, without the newline.
        length: usize,
    },
    /// A KeyTable key name with nothing after it.
    #[error("key \"{key_name}\" has no value; opendkim expects DOMAIN:SELECTOR:KEYPATH")]
    MissingKeyValue {
        /// The key name.
        key_name: String,
    },
    /// A line of dkim-filter's KeyList, which opendkim replaced with KeyTable and SigningTable.
    #[error(transparent)]
    KeyListLine(Box<KeyListLine>),
    /// A KeyTable value with fewer than three colon-separated fields, or an empty one.
    #[error(
        "key \"{key_name}\": \"{value}\" has no {field}; opendkim expects DOMAIN:SELECTOR:KEYPATH"
    )]
    MissingKeyField {
        /// The key name.
        key_name: String,
        /// The value as written.
        value: String,
        /// Which field is missing: `domain`, `selector` or `key`.
        field: &'static str,
    },
    /// A KeyTable domain that is neither `%` nor a domain name.
    #[error("key \"{key_name}\": domain \"{domain}\" is not a signing domain: {source}")]
    BadDomain {
        /// The key name.
        key_name: String,
        /// The domain as written.
        domain: String,
        /// What is wrong with it.
        source: NameError,
    },
    /// A KeyTable selector that is not a DNS name.
    #[error("key \"{key_name}\": selector \"{selector}\" is not a valid selector: {source}")]
    BadSelector {
        /// The key name.
        key_name: String,
        /// The selector as written.
        selector: String,
        /// What is wrong with it.
        source: NameError,
    },
    /// A SigningTable pattern with no key name after it (opendkim refuses to start).
    #[error("\"{pattern}\" names no key; opendkim expects PATTERN KEYNAME")]
    MissingKeyName {
        /// The pattern or address.
        pattern: String,
    },
    /// A `refile:` pattern with a character opendkim passes to the regular-expression engine
    /// unescaped, which dkimkit does not reproduce.
    #[error(
        "pattern \"{pattern}\" contains '{character}', which opendkim hands to its \
         regular-expression engine as it is (it only turns '*' into a wildcard and escapes '.' \
         and '+'); dkimkit does not reproduce that, so write the pattern without it"
    )]
    UnsupportedPatternCharacter {
        /// The pattern.
        pattern: String,
        /// The character.
        character: char,
    },
}

/// A line of dkim-filter's KeyList (`PATTERN:DOMAIN:KEYPATH`, the selector being the key file's
/// name), with the KeyTable and SigningTable lines that replace it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this is a line of dkim-filter's KeyList (PATTERN:DOMAIN:KEYPATH), which opendkim does not \
     read; write \"{key_name} {domain}:{selector}:{key_path}\" in the KeyTable and \
     \"{pattern} {key_name}\" in a SigningTable read as refile:PATH"
)]
pub struct KeyListLine {
    /// The sender pattern.
    pub pattern: String,
    /// The signing domain.
    pub domain: String,
    /// The selector dkim-filter took from the key file's name.
    pub selector: String,
    /// The key file.
    pub key_path: String,
    /// A key name for the new KeyTable line.
    pub key_name: String,
}

/// A problem at one line of a table's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: LineProblem,
}

/// Why a table file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file could not be read (or is not UTF-8).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A line of the file is malformed.
    #[error("{}, {source}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line and what is wrong with it.
        source: LineError,
    },
}

/// Why an edit of a table was refused. The table is unchanged when an edit fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// No entry has this key name.
    #[error("the KeyTable has no key \"{0}\"")]
    UnknownKey(String),
    /// An entry with this name exists already.
    #[error("the KeyTable already has a key \"{0}\"")]
    DuplicateKey(String),
    /// A name, pattern or path that opendkim would read differently from what was meant.
    #[error("{what} \"{text}\" cannot be written to the table: {reason}")]
    Unwritable {
        /// What it is: `key name`, `pattern`, `key path`...
        what: &'static str,
        /// The text.
        text: String,
        /// Why opendkim would misread it.
        reason: &'static str,
    },
    /// The edited line would be longer than opendkim reads.
    #[error("the new line would be {length} bytes long; opendkim reads at most {max} bytes", max = super::MAX_LINE_LEN)]
    LineTooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// The key is held in the table itself, which dkimkit does not write.
    #[error("key \"{0}\" holds private key data rather than a path; dkimkit only writes key paths")]
    InlineKey(String),
    /// A `refile:` pattern that dkimkit cannot match.
    #[error(transparent)]
    Pattern(LineProblem),
}

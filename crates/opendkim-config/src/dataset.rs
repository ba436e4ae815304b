//! The value of an opendkim.conf setting of type "dataset": which kind of data set it names, by
//! the rules of opendkim(8), DATA SETS, as `dkimf_db_open()` (opendkim-db.c) applies them.
//!
//! The kind decides how a table is read, and a value that looks like a file name may not be one:
//! without a prefix, only a value starting with `/` is a file; anything else is a
//! comma-separated list of literal entries.

use std::path::PathBuf;

use super::lines::is_c_space;

/// Data-set types opendkim knows besides `file`, `refile` and `csl` (its `dbtypes` table); which
/// of them work depends on how opendkim was built.
const OTHER_TYPES: &[&str] = &[
    "db", "dsn", "ldap", "ldapi", "ldaps", "lua", "memcache", "repute", "socket", "mdb", "erlang",
];

/// What a dataset value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSet {
    /// `file:PATH`, or a value that starts with `/`.
    File(PathBuf),
    /// `refile:PATH`.
    Refile(PathBuf),
    /// `csl:a,b`, or a value with no prefix that does not start with `/`: the entries
    /// themselves, separated by commas.
    List {
        /// The entries, trimmed; empty ones dropped (opendkim splits with `strtok()`).
        items: Vec<String>,
        /// Whether the value said `csl:`; if not, it may have been meant as a file name.
        explicit: bool,
    },
    /// Any other type opendkim knows: a Berkeley DB (`db:`, or a name ending in `.db`), SQL
    /// (`dsn:`), LDAP, Lua, memcached...
    Other {
        /// The type, lower case (`db`, `ldap`...).
        kind: String,
    },
}

/// A `type:` prefix opendkim does not know ("Unknown database type").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a data set type opendkim knows")]
pub struct UnknownDataSetType(pub String);

impl DataSet {
    /// Reads a dataset value as opendkim does: a type prefix is everything before the first `:`,
    /// unless a `,` comes first (a list whose entries contain colons); type names are
    /// case-insensitive.
    pub fn parse(value: &str) -> Result<Self, UnknownDataSetType> {
        let colon = value.find(':');
        let comma = value.find(',');
        let prefix = match (colon, comma) {
            (Some(colon), Some(comma)) if comma < colon => None,
            (Some(colon), _) => Some(colon),
            (None, _) => None,
        };
        let Some(colon) = prefix else {
            return Ok(if value.ends_with(".db") {
                DataSet::Other { kind: "db".into() }
            } else if value.starts_with('/') {
                DataSet::File(PathBuf::from(value))
            } else {
                DataSet::List {
                    items: list_items(value),
                    explicit: false,
                }
            });
        };
        let (kind, rest) = (value[..colon].to_ascii_lowercase(), &value[colon + 1..]);
        Ok(match kind.as_str() {
            "file" => DataSet::File(PathBuf::from(rest)),
            "refile" => DataSet::Refile(PathBuf::from(rest)),
            "csl" => DataSet::List {
                items: list_items(rest),
                explicit: true,
            },
            known if OTHER_TYPES.contains(&known) => DataSet::Other { kind },
            _ => return Err(UnknownDataSetType(value[..colon].to_owned())),
        })
    }
}

/// The entries of a comma-separated list, trimmed, empty ones dropped.
fn list_items(list: &str) -> Vec<String> {
    list.split(',')
        .map(|item| item.trim_matches(is_c_space))
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> DataSet {
        DataSet::parse(value).unwrap()
    }

    #[test]
    fn prefixes_and_plain_paths() {
        assert_eq!(
            parse("/etc/opendkim/key.table"),
            DataSet::File("/etc/opendkim/key.table".into())
        );
        assert_eq!(parse("file:/etc/k"), DataSet::File("/etc/k".into()));
        assert_eq!(parse("FILE:relative/k"), DataSet::File("relative/k".into()));
        assert_eq!(parse("refile:/etc/s"), DataSet::Refile("/etc/s".into()));
        assert_eq!(parse("Refile:/etc/s"), DataSet::Refile("/etc/s".into()));
        assert_eq!(parse("db:/etc/k.db"), DataSet::Other { kind: "db".into() });
        assert_eq!(parse("/etc/k.db"), DataSet::Other { kind: "db".into() });
        assert_eq!(
            parse("LDAP://host/dc=x"),
            DataSet::Other {
                kind: "ldap".into()
            }
        );
        assert_eq!(
            parse("dsn:mysql://u@h/d"),
            DataSet::Other { kind: "dsn".into() }
        );
    }

    #[test]
    fn a_value_without_slash_is_a_list() {
        assert_eq!(
            parse("example.com, example.net,,"),
            DataSet::List {
                items: vec!["example.com".into(), "example.net".into()],
                explicit: false
            }
        );
        assert_eq!(
            parse("keytable"),
            DataSet::List {
                items: vec!["keytable".into()],
                explicit: false
            }
        );
        assert_eq!(
            parse("csl:a, b"),
            DataSet::List {
                items: vec!["a".into(), "b".into()],
                explicit: true
            }
        );
        // A comma before the first colon: a list whose entries hold colons, not a type.
        assert_eq!(
            parse("a,b:c"),
            DataSet::List {
                items: vec!["a".into(), "b:c".into()],
                explicit: false
            }
        );
    }

    #[test]
    fn unknown_types_are_refused() {
        assert_eq!(
            DataSet::parse("/etc/key:table"),
            Err(UnknownDataSetType("/etc/key".into()))
        );
        assert_eq!(
            DataSet::parse("fiel:/etc/k"),
            Err(UnknownDataSetType("fiel".into()))
        );
    }
}

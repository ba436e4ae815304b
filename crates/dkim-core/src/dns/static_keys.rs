//! Key records given rather than looked up: `--key NAME=RECORD` on the command line, to check a
//! record before it is published or where DNS cannot be reached, and fixtures in tests.

use std::collections::HashMap;

use super::names::{comparable_name, query_name};
use super::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};

/// Why a `NAME=RECORD` key assignment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StaticKeyError {
    /// No `=` between the name and the record.
    #[error(
        "{0:?} is not NAME=RECORD (for example 202611._domainkey.example.com=\"v=DKIM1; ...\")"
    )]
    NotAnAssignment(String),
    /// The name is not a DNS name.
    #[error("{name:?} is not a valid DNS name: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// TXT records by name, answered without DNS. Names compare without regard to case, and a
/// trailing dot is ignored; a name with no record is [`LookupError::NoSuchName`]. Answers are
/// [`DnssecStatus::NotValidated`]: nothing vouches for them but whoever gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticLookup {
    records: HashMap<String, Vec<String>>,
}

impl StaticLookup {
    /// An empty lookup, where every name is [`LookupError::NoSuchName`].
    pub fn new() -> Self {
        StaticLookup::default()
    }

    /// Adds `record` (the value, strings already joined) to the TXT records at `name`.
    pub fn insert(&mut self, name: &str, record: impl Into<String>) {
        self.records
            .entry(comparable_name(name))
            .or_default()
            .push(record.into());
    }

    /// The lookup with `record` added at `name`, for building one in an expression.
    pub fn with(mut self, name: &str, record: impl Into<String>) -> Self {
        self.insert(name, record);
        self
    }

    /// Adds a record given as `NAME=RECORD`, as `--key` takes it. The first `=` ends the name
    /// (names hold none; records do, `v=DKIM1; p=...`).
    pub fn insert_assignment(&mut self, assignment: &str) -> Result<(), StaticKeyError> {
        let Some((name, record)) = assignment.split_once('=') else {
            return Err(StaticKeyError::NotAnAssignment(assignment.to_owned()));
        };
        let name = name.trim();
        query_name(name).map_err(|reason| StaticKeyError::BadName {
            name: name.to_owned(),
            reason,
        })?;
        self.insert(name, record);
        Ok(())
    }
}

impl KeyLookup for StaticLookup {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        match self.records.get(&comparable_name(name)) {
            Some(records) => Ok(TxtAnswer {
                records: records.clone(),
                cname_chain: Vec::new(),
                dnssec: DnssecStatus::NotValidated,
            }),
            None => Err(LookupError::NoSuchName {
                name: name.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_given_records_by_name_regardless_of_case_and_dot() {
        let lookup = StaticLookup::new()
            .with("202611._domainkey.example.com", "v=DKIM1; p=AAAA")
            .with("202611._DOMAINKEY.example.com.", "v=DKIM1; p=BBBB");
        let answer = lookup.lookup_txt("202611._domainkey.Example.com.").unwrap();
        assert_eq!(answer.records, ["v=DKIM1; p=AAAA", "v=DKIM1; p=BBBB"]);
        assert!(answer.cname_chain.is_empty());
        assert_eq!(answer.dnssec, DnssecStatus::NotValidated);
    }

    #[test]
    fn unknown_names_do_not_exist() {
        let lookup = StaticLookup::new().with("a._domainkey.example.com", "v=DKIM1; p=");
        assert_eq!(
            lookup.lookup_txt("b._domainkey.example.com"),
            Err(LookupError::NoSuchName {
                name: "b._domainkey.example.com".into()
            })
        );
    }

    #[test]
    fn assignments_split_at_the_first_equals_sign() {
        let mut lookup = StaticLookup::new();
        lookup
            .insert_assignment("s._domainkey.example.com=v=DKIM1; k=ed25519; p=11qY")
            .unwrap();
        assert_eq!(
            lookup
                .lookup_txt("s._domainkey.example.com")
                .unwrap()
                .records,
            ["v=DKIM1; k=ed25519; p=11qY"]
        );
        assert_eq!(
            lookup.insert_assignment("no equals sign"),
            Err(StaticKeyError::NotAnAssignment("no equals sign".into()))
        );
        assert!(matches!(
            lookup.insert_assignment("bad name.example=v=DKIM1; p="),
            Err(StaticKeyError::BadName { name, .. }) if name == "bad name.example"
        ));
        assert!(matches!(
            lookup.insert_assignment("=v=DKIM1; p="),
            Err(StaticKeyError::BadName { .. })
        ));
    }
}

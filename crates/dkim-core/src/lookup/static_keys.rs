//! Key records given rather than looked up: `--key` on the command line, to check a record
//! before it is published or where DNS cannot be reached, and fixtures in tests.

use std::collections::HashMap;

use super::comparable_name;
use super::{DnssecStatus, KeyLookup, LookupError, TxtAnswer};

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
}

impl KeyLookup for StaticLookup {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        match self.records.get(&comparable_name(name)) {
            Some(records) => Ok(TxtAnswer {
                records: records.clone(),
                cname_chain: Vec::new(),
                dnssec: DnssecStatus::NotValidated,
                dnssec_reason: None,
            }),
            None => Err(LookupError::NoSuchName {
                name: name.to_owned(),
            }),
        }
    }
}

/// Records given (`--key`) in front of another lookup (DNS): a name that was given is answered
/// from the given records alone, never from DNS; every other name goes to `fallback`.
pub struct GivenFirst<L> {
    given: StaticLookup,
    fallback: L,
}

impl<L: KeyLookup> GivenFirst<L> {
    /// `given` in front of `fallback`.
    pub fn new(given: StaticLookup, fallback: L) -> Self {
        GivenFirst { given, fallback }
    }
}

impl<L: KeyLookup> KeyLookup for GivenFirst<L> {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        if self.given.records.contains_key(&comparable_name(name)) {
            self.given.lookup_txt(name)
        } else {
            self.fallback.lookup_txt(name)
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
    fn given_records_come_first_and_only_for_their_names() {
        let dns = StaticLookup::new()
            .with("a._domainkey.example.com", "from DNS")
            .with("b._domainkey.example.com", "from DNS");
        let given = StaticLookup::new().with("A._domainkey.example.com.", "given");
        let lookup = GivenFirst::new(given, dns);
        let records = |name| lookup.lookup_txt(name).unwrap().records;
        assert_eq!(records("a._domainkey.example.com"), ["given"]);
        assert_eq!(records("b._domainkey.example.com"), ["from DNS"]);
    }
}

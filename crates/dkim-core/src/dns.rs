//! Key record lookups, behind a trait so that verification can be given DNS, a fixed set of
//! records (`--key`), or a test double.

use std::collections::HashMap;

/// A TXT lookup's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtAnswer {
    /// Each TXT record at the name, its strings joined with nothing between (RFC 6376 3.6.2.2).
    pub records: Vec<String>,
    /// The CNAMEs followed to reach the records, in order.
    pub cname_chain: Vec<String>,
    /// What DNSSEC says about the answer.
    pub dnssec: DnssecStatus,
}

/// What DNSSEC says about an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnssecStatus {
    /// Validated.
    Secure,
    /// The zone is not signed.
    Insecure,
    /// Validation failed.
    Bogus,
    /// Not validated.
    NotValidated,
}

/// Why a lookup gave no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// NXDOMAIN.
    #[error("{name} does not exist (NXDOMAIN)")]
    NoSuchName {
        /// The name looked up.
        name: String,
    },
    /// The name exists but has no TXT record.
    #[error("{name} has no TXT record")]
    NoRecords {
        /// The name looked up.
        name: String,
    },
    /// No answer in time.
    #[error("no answer for {name} in time")]
    Timeout {
        /// The name looked up.
        name: String,
    },
}

impl LookupError {
    /// Whether trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, LookupError::Timeout { .. })
    }
}

/// How DKIM code asks for key records.
pub trait KeyLookup: Send + Sync {
    /// The TXT records at `name` (fully qualified, no trailing dot).
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError>;
}

/// Records given up front, such as `--key NAME=RECORD`.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup {
    records: HashMap<String, Vec<String>>,
}

impl StaticLookup {
    /// No records.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record at `name`.
    pub fn insert(&mut self, name: &str, record: impl Into<String>) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.records.entry(name).or_default().push(record.into());
    }
}

impl KeyLookup for StaticLookup {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        match self.records.get(&key) {
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

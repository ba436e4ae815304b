//! The signing address a SigningTable is consulted for, normalised as opendkim normalises it,
//! and the order in which opendkim looks it up in a table that is not a `refile:`.

use std::fmt;
use std::str::FromStr;

/// Why a signing address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// No `@`.
    #[error("\"{0}\" is not an address (no '@')")]
    NoAt(String),
    /// Nothing before the `@` (opendkim does not sign: "can't parse From: header").
    #[error("\"{0}\" has no local part before the '@'")]
    EmptyLocalPart(String),
    /// Nothing after the `@`.
    #[error("\"{0}\" has no domain after the '@'")]
    EmptyDomain(String),
}

/// The address in a message's From: field (RFC 5322 3.6.2), as opendkim uses it to choose keys:
/// the local part as written and the domain in lower case (opendkim lowercases the domain with
/// `dkimf_lowercase()`, in the C locale, so only ASCII letters; the local part it leaves alone).
///
/// This is the bare `local@domain`; extracting it from a From: header is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SenderAddress {
    local: String,
    domain: String,
}

impl SenderAddress {
    /// The local part, as written.
    pub fn local_part(&self) -> &str {
        &self.local
    }

    /// The domain, ASCII letters in lower case. This is what `%` stands for in the tables.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The keys opendkim tries, in order, in a SigningTable that is not a `refile:`
    /// (`dkimf_apply_signtable()` in opendkim.c): the full address, the domain, then for each
    /// parent domain (a suffix starting at a dot) `local@.parent` followed by `.parent`, then
    /// `local@*`, then `*`.
    ///
    /// opendkim.conf(5) lists all the `user@.domain` forms before all the `.domain` forms; the
    /// program alternates them, parent by parent, and that is what is followed here (checked
    /// against opendkim 2.11 in the tests).
    pub(crate) fn file_lookup_keys(&self) -> Vec<String> {
        let mut keys = vec![self.to_string(), self.domain.clone()];
        for (dot, _) in self.domain.match_indices('.') {
            let parent = &self.domain[dot..];
            keys.push(format!("{}@{parent}", self.local));
            keys.push(parent.to_owned());
        }
        keys.push(format!("{}@*", self.local));
        keys.push("*".to_owned());
        keys
    }
}

impl FromStr for SenderAddress {
    type Err = AddressError;

    /// Splits at the last `@`: a quoted local part may contain one (RFC 5321 4.1.2), a domain
    /// never does.
    fn from_str(address: &str) -> Result<Self, AddressError> {
        let (local, domain) = address
            .rsplit_once('@')
            .ok_or_else(|| AddressError::NoAt(address.to_owned()))?;
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart(address.to_owned()));
        }
        if domain.is_empty() {
            return Err(AddressError::EmptyDomain(address.to_owned()));
        }
        Ok(SenderAddress {
            local: local.to_owned(),
            domain: domain.to_ascii_lowercase(),
        })
    }
}

impl fmt::Display for SenderAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_the_domain_only() {
        let address: SenderAddress = "Bob.Smith@Mail.Example.COM".parse().unwrap();
        assert_eq!(address.local_part(), "Bob.Smith");
        assert_eq!(address.domain(), "mail.example.com");
        assert_eq!(address.to_string(), "Bob.Smith@mail.example.com");
        let quoted: SenderAddress = "\"a@b\"@example.com".parse().unwrap();
        assert_eq!(quoted.local_part(), "\"a@b\"");
    }

    #[test]
    fn refuses_what_opendkim_cannot_sign_for() {
        assert!(matches!(
            "bob".parse::<SenderAddress>(),
            Err(AddressError::NoAt(_))
        ));
        assert!(matches!(
            "@example.com".parse::<SenderAddress>(),
            Err(AddressError::EmptyLocalPart(_))
        ));
        assert!(matches!(
            "bob@".parse::<SenderAddress>(),
            Err(AddressError::EmptyDomain(_))
        ));
    }

    #[test]
    fn lookup_keys_alternate_parents_as_opendkim_does() {
        let address: SenderAddress = "bob@mail.example.com".parse().unwrap();
        assert_eq!(
            address.file_lookup_keys(),
            [
                "bob@mail.example.com",
                "mail.example.com",
                "bob@.example.com",
                ".example.com",
                "bob@.com",
                ".com",
                "bob@*",
                "*"
            ]
        );
    }
}

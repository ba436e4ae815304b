//! Selectors and signing domains, validated before they reach a file name, a zone file or a
//! DNS query.
//!
//! Both are written into file names (`SELECTOR.private`) and zone files, so anything that is not
//! a plain DNS name is refused here, once, for every caller. The syntax is RFC 6376 3.1 and 3.5
//! (`d=`), which take `sub-domain` from RFC 5321 4.1.2: letters, digits and hyphens, a label
//! neither starting nor ending with a hyphen.

use std::fmt;
use std::str::FromStr;

/// The longest label DNS allows (RFC 1035 2.3.4).
const MAX_LABEL_LEN: usize = 63;
/// The longest name DNS allows in presentation form, without the trailing dot (RFC 1035 2.3.4).
const MAX_NAME_LEN: usize = 253;

/// Why a selector or domain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// Two dots in a row, or a dot at the start.
    #[error("it has an empty label (two dots in a row, or a dot at the start)")]
    EmptyLabel,
    /// A label longer than 63 bytes.
    #[error("label \"{0}\" is longer than 63 characters")]
    LabelTooLong(String),
    /// The whole name is longer than 253 bytes.
    #[error("it is longer than 253 characters")]
    TooLong,
    /// A character that DNS host names do not allow.
    #[error("character '{0}' is not allowed (only letters, digits, '-' and '.')")]
    BadCharacter(char),
    /// A non-ASCII character in a name that has no xn-- form (UTS 46 refuses it).
    #[error(
        "character '{0}' is not allowed, and the name has no xn-- form (only letters, digits, \
         '-' and '.')"
    )]
    NotConvertible(char),
    /// An internationalised name, which DNS and DKIM carry in its xn-- form (RFC 5890,
    /// RFC 6376 3.5 `d=`); the form is computed, so the message can give it.
    #[error("it is an internationalised name: write it in its xn-- form, {ascii}")]
    Internationalised {
        /// The xn-- form (UTS 46 ToASCII).
        ascii: String,
    },
    /// The whole key record name, or `SELECTOR._domainkey`, where only the selector (or only the
    /// domain) belongs: `._domainkey` is added by DKIM itself (RFC 6376 3.6.2.1). Holds the name
    /// as written.
    #[error("that is the key record's name; {}", key_record_name_advice(.0))]
    KeyRecordName(String),
    /// A label that starts or ends with a hyphen.
    #[error("label \"{0}\" starts or ends with '-'")]
    HyphenAtEdge(String),
    /// A signing domain with a single label (RFC 6376 3.5 `d=` needs at least two).
    #[error("a signing domain needs at least two labels, such as example.com")]
    SingleLabelDomain,
}

/// The label DKIM puts between selector and domain (RFC 6376 3.6.2.1).
const DOMAINKEY_LABEL: &str = "_domainkey";

/// What to give instead of a key record name: the labels before `_domainkey`, and the domain
/// after it if there is one.
fn key_record_name_advice(name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    let at = labels
        .iter()
        .position(|label| label.eq_ignore_ascii_case(DOMAINKEY_LABEL))
        .unwrap_or(labels.len());
    let selector = labels[..at].join(".");
    let domain = labels.get(at + 1..).unwrap_or_default().join(".");
    if domain.is_empty() {
        format!("give just the selector, {selector}")
    } else {
        format!("give just the selector, {selector}, and the domain, {domain}, on its own")
    }
}

/// Checks `name` as a dot-separated sequence of RFC 5321 `sub-domain` labels.
fn check_labels(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let labels: Vec<&str> = name.split('.').collect();
    // Checked before the characters: '_' would be refused below, with a hint about
    // something else.
    if labels
        .iter()
        .any(|label| label.eq_ignore_ascii_case(DOMAINKEY_LABEL))
    {
        return Err(NameError::KeyRecordName(name.to_owned()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(if bad.is_ascii() {
            NameError::BadCharacter(bad)
        } else {
            match idna::domain_to_ascii(name) {
                Ok(ascii) if ascii.is_ascii() && check_labels(&ascii).is_ok() => {
                    NameError::Internationalised { ascii }
                }
                _ => NameError::NotConvertible(bad),
            }
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    for label in labels {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong(label.to_owned()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameError::HyphenAtEdge(label.to_owned()));
        }
    }
    Ok(())
}

/// A DKIM selector (RFC 6376 3.1): one or more labels, such as `202611` or `mail.2026`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector(String);

impl Selector {
    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Selector {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        check_labels(s)?;
        Ok(Selector(s.to_owned()))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A signing domain (RFC 6376 3.5 `d=`), such as `example.com`. A trailing dot is accepted and
/// dropped, as zone files write names that way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// The domain without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DomainName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        let name = s.strip_suffix('.').unwrap_or(s);
        check_labels(name)?;
        if !name.contains('.') {
            return Err(NameError::SingleLabelDomain);
        }
        Ok(DomainName(name.to_owned()))
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The owner name of a key record relative to the domain's zone: `SELECTOR._domainkey`
/// (RFC 6376 3.6.2.1).
pub fn relative_key_name(selector: &Selector) -> String {
    format!("{selector}._domainkey")
}

/// The fully qualified owner name of a key record, without the trailing dot:
/// `SELECTOR._domainkey.DOMAIN` (RFC 6376 3.6.2.1).
pub fn key_name(selector: &Selector, domain: &DomainName) -> String {
    format!("{selector}._domainkey.{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_date_and_dotted_selectors() {
        for ok in ["default", "202611", "mail.2026", "s-1", "A1"] {
            assert_eq!(ok.parse::<Selector>().map(|s| s.to_string()), Ok(ok.into()));
        }
    }

    #[test]
    fn refuses_what_a_shell_or_zone_file_would_misread() {
        assert_eq!("".parse::<Selector>(), Err(NameError::Empty));
        assert_eq!(
            "a;rm -rf".parse::<Selector>(),
            Err(NameError::BadCharacter(';'))
        );
        assert_eq!("a b".parse::<Selector>(), Err(NameError::BadCharacter(' ')));
        assert_eq!("a/b".parse::<Selector>(), Err(NameError::BadCharacter('/')));
        assert_eq!("a_b".parse::<Selector>(), Err(NameError::BadCharacter('_')));
        assert_eq!(
            "é".parse::<Selector>(),
            Err(NameError::Internationalised {
                ascii: "xn--9ca".into()
            })
        );
        assert_eq!("a..b".parse::<Selector>(), Err(NameError::EmptyLabel));
        assert_eq!(".a".parse::<Selector>(), Err(NameError::EmptyLabel));
        assert_eq!(
            "-a".parse::<Selector>(),
            Err(NameError::HyphenAtEdge("-a".into()))
        );
        let long = "x".repeat(64);
        assert_eq!(
            long.parse::<Selector>(),
            Err(NameError::LabelTooLong(long.clone()))
        );
        let too_long = vec!["x".repeat(63); 5].join(".");
        assert_eq!(too_long.parse::<Selector>(), Err(NameError::TooLong));
    }

    #[test]
    fn domain_drops_trailing_dot_and_needs_two_labels() {
        assert_eq!(
            "example.com.".parse::<DomainName>().map(|d| d.to_string()),
            Ok("example.com".into())
        );
        assert_eq!(
            "localhost".parse::<DomainName>(),
            Err(NameError::SingleLabelDomain)
        );
        assert_eq!(
            "exa mple.com".parse::<DomainName>(),
            Err(NameError::BadCharacter(' '))
        );
    }

    #[test]
    fn a_key_record_name_is_taken_apart() {
        assert_eq!(
            "01._domainkey"
                .parse::<Selector>()
                .map_err(|e| e.to_string()),
            Err("that is the key record's name; give just the selector, 01".into())
        );
        let error = "01._domainkey.example.com."
            .parse::<DomainName>()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "that is the key record's name; give just the selector, 01, and the domain, \
             example.com, on its own"
        );
    }

    #[test]
    fn an_internationalised_domain_comes_with_its_xn_form() {
        assert_eq!(
            "bücher.example".parse::<DomainName>(),
            Err(NameError::Internationalised {
                ascii: "xn--bcher-kva.example".into()
            })
        );
        assert!(matches!(
            "a\u{200b}\u{fffd}.example".parse::<DomainName>(),
            Err(NameError::NotConvertible(_))
        ));
    }

    #[test]
    fn key_names() {
        let selector: Selector = "202611".parse().unwrap();
        let domain: DomainName = "example.com".parse().unwrap();
        assert_eq!(relative_key_name(&selector), "202611._domainkey");
        assert_eq!(
            key_name(&selector, &domain),
            "202611._domainkey.example.com"
        );
    }
}

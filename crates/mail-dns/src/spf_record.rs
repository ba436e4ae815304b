//! SPF records as RFC 7208 writes them (4.5, 5, 6, 12): parsed into terms, or refused with the
//! term at fault.

use std::net::{Ipv4Addr, Ipv6Addr};

/// `+`, `-`, `~` or `?` (RFC 7208 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `+`: pass (the default).
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

/// A mechanism (RFC 7208 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:domain-spec`.
    Include(String),
    /// `a[:domain-spec][/cidr4][//cidr6]`.
    A {
        /// The domain-spec; None for the current domain.
        domain: Option<String>,
        /// The IPv4 prefix length.
        cidr4: u8,
        /// The IPv6 prefix length.
        cidr6: u8,
    },
    /// `mx[:domain-spec][/cidr4][//cidr6]`.
    Mx {
        /// The domain-spec; None for the current domain.
        domain: Option<String>,
        /// The IPv4 prefix length.
        cidr4: u8,
        /// The IPv6 prefix length.
        cidr6: u8,
    },
    /// `ptr[:domain-spec]`.
    Ptr(Option<String>),
    /// `ip4:network[/cidr]`.
    Ip4(Ipv4Addr, u8),
    /// `ip6:network[/cidr]`.
    Ip6(Ipv6Addr, u8),
    /// `exists:domain-spec`.
    Exists(String),
}

impl Mechanism {
    /// Whether evaluating it asks DNS (RFC 7208 4.6.4 counts these).
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..)
        )
    }
}

/// A qualifier and a mechanism, with the term as written (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The qualifier.
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The term as written.
    pub text: String,
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpfRecord {
    /// The directives, in order.
    pub directives: Vec<Directive>,
    /// `redirect=`.
    pub redirect: Option<String>,
    /// `exp=`.
    pub explanation: Option<String>,
}

/// Why a record does not parse: the term at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{term:?}: {reason}")]
pub struct SpfSyntaxError {
    /// The term at fault.
    pub term: String,
    /// What is wrong.
    pub reason: String,
}

/// Whether `text` is an SPF record: `v=spf1` followed by a space or the end (RFC 7208 4.5).
pub fn is_spf_record(text: &str) -> bool {
    super::findings::starts_with_version(text, "v=spf1", &[' '])
}

impl SpfRecord {
    /// Parses a record (starting with `v=spf1`), every term checked.
    pub fn parse(text: &str) -> Result<SpfRecord, SpfSyntaxError> {
        let error = |term: &str, reason: &str| SpfSyntaxError {
            term: term.to_owned(),
            reason: reason.to_owned(),
        };
        if !is_spf_record(text) {
            return Err(error(text, "an SPF record starts with v=spf1"));
        }
        if let Some(bad) = text.chars().find(|c| !(' '..='~').contains(c)) {
            let term = text.split(' ').find(|t| t.contains(bad)).unwrap_or(text);
            return Err(error(
                term,
                "only printable ASCII and spaces may appear in an SPF record (RFC 7208 12)",
            ));
        }
        let mut record = SpfRecord::default();
        for term in text[6..].split(' ').filter(|t| !t.is_empty()) {
            if let Some((name, value)) = modifier(term) {
                let slot = match name.to_ascii_lowercase().as_str() {
                    "redirect" => &mut record.redirect,
                    "exp" => &mut record.explanation,
                    // Unknown modifiers are ignored (RFC 7208 6), but must be well formed.
                    _ => {
                        check_macro_string(value).map_err(|reason| error(term, &reason))?;
                        continue;
                    }
                };
                if slot.is_some() {
                    return Err(error(
                        term,
                        "the modifier may appear only once (RFC 7208 6)",
                    ));
                }
                check_domain_spec(value).map_err(|reason| error(term, &reason))?;
                *slot = Some(value.to_owned());
                continue;
            }
            let directive = directive(term).map_err(|reason| error(term, &reason))?;
            record.directives.push(directive);
        }
        Ok(record)
    }

    /// Whether the record has an `all` mechanism (which makes `redirect` ignored, RFC 7208 6.1).
    pub fn has_all(&self) -> bool {
        self.directives
            .iter()
            .any(|d| d.mechanism == Mechanism::All)
    }
}

/// `name=value`, when the term is a modifier (RFC 7208 12: name = ALPHA *( ALPHA / DIGIT / "-"
/// / "_" / "." )).
fn modifier(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    well_formed.then_some((name, value))
}

fn directive(term: &str) -> Result<Directive, String> {
    let (qualifier, rest) = match term.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, &term[1..]),
        Some(b'-') => (Qualifier::Fail, &term[1..]),
        Some(b'~') => (Qualifier::SoftFail, &term[1..]),
        Some(b'?') => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let split = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, argument) = rest.split_at(split);
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" if argument.is_empty() => Mechanism::All,
        "include" => Mechanism::Include(required_domain(argument)?),
        "exists" => Mechanism::Exists(required_domain(argument)?),
        "ptr" => Mechanism::Ptr(optional_domain(argument)?),
        "a" | "mx" => {
            let (spec, cidrs) = match argument.find('/') {
                Some(at) => argument.split_at(at),
                None => (argument, ""),
            };
            let domain = optional_domain(spec)?;
            let (cidr4, cidr6) = dual_cidr(cidrs)?;
            if name.eq_ignore_ascii_case("a") {
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
        }
        "ip4" => {
            let network = argument
                .strip_prefix(':')
                .ok_or("ip4 needs an address: ip4:192.0.2.0/24")?;
            let (address, cidr) = network_and_cidr(network, 32)?;
            Mechanism::Ip4(
                address
                    .parse()
                    .map_err(|_| format!("{address:?} is not an IPv4 address"))?,
                cidr,
            )
        }
        "ip6" => {
            let network = argument
                .strip_prefix(':')
                .ok_or("ip6 needs an address: ip6:2001:db8::/32")?;
            let (address, cidr) = network_and_cidr(network, 128)?;
            Mechanism::Ip6(
                address
                    .parse()
                    .map_err(|_| format!("{address:?} is not an IPv6 address"))?,
                cidr,
            )
        }
        "all" => return Err("all takes no argument".to_owned()),
        _ => {
            return Err(
                "not a mechanism (all, include, a, mx, ptr, ip4, ip6, exists) or a modifier \
                 (name=value)"
                    .to_owned(),
            );
        }
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.to_owned(),
    })
}

fn required_domain(argument: &str) -> Result<String, String> {
    optional_domain(argument)?.ok_or_else(|| "needs a domain after ':'".to_owned())
}

fn optional_domain(argument: &str) -> Result<Option<String>, String> {
    match argument {
        "" => Ok(None),
        _ => {
            let spec = argument
                .strip_prefix(':')
                .ok_or("a domain follows the mechanism after ':'")?;
            check_domain_spec(spec)?;
            Ok(Some(spec.to_owned()))
        }
    }
}

/// `/cidr4`, `//cidr6` or `/cidr4//cidr6`.
fn dual_cidr(text: &str) -> Result<(u8, u8), String> {
    let (four, six) = match text.split_once("//") {
        Some((four, six)) => (four, Some(six)),
        None => (text, None),
    };
    let cidr4 = match four {
        "" => 32,
        _ => cidr(four.strip_prefix('/').unwrap_or(four), 32)?,
    };
    let cidr6 = match six {
        None => 128,
        Some(six) => cidr(six, 128)?,
    };
    Ok((cidr4, cidr6))
}

fn network_and_cidr(text: &str, max: u8) -> Result<(&str, u8), String> {
    match text.split_once('/') {
        Some((address, length)) => Ok((address, cidr(length, max)?)),
        None => Ok((text, max)),
    }
}

/// A prefix length: digits without a leading zero, at most `max` (RFC 7208 5.6).
fn cidr(text: &str, max: u8) -> Result<u8, String> {
    let bad = || format!("{text:?} is not a prefix length from 0 to {max}");
    if text.is_empty() || (text.len() > 1 && text.starts_with('0')) {
        return Err(bad());
    }
    text.parse::<u8>()
        .ok()
        .filter(|length| *length <= max)
        .ok_or_else(bad)
}

/// A domain-spec (RFC 7208 7.1): a macro-string ending in a top label or a macro.
fn check_domain_spec(spec: &str) -> Result<(), String> {
    check_macro_string(spec)?;
    let spec = spec.strip_suffix('.').unwrap_or(spec);
    if spec.ends_with('}') {
        return Ok(());
    }
    let last = spec.rsplit('.').next().unwrap_or(spec);
    let top_label_ok = !last.is_empty()
        && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && last.chars().any(|c| c.is_ascii_alphabetic())
        && !last.starts_with('-')
        && !last.ends_with('-');
    if !spec.contains('.') || !top_label_ok {
        return Err(format!(
            "{spec:?} is not a domain name (it must end in a top-level label such as .com)"
        ));
    }
    Ok(())
}

/// A macro-string (RFC 7208 7.1): `%{...}`, `%%`, `%_`, `%-` and visible characters.
fn check_macro_string(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        let after = &rest[at + 1..];
        match after.chars().next() {
            Some('%' | '_' | '-') => rest = &after[1..],
            Some('{') => {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("{text:?}: a macro %{{ is not closed"))?;
                super::spf_macro::parse_macro(&after[1..end], false)?;
                rest = &after[end + 1..];
            }
            _ => {
                return Err(format!(
                    "{text:?}: % starts a macro (%{{d}}); write %% for a percent sign"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_record_parses() {
        let record = SpfRecord::parse(
            "v=spf1 mx a:mail.example.com/24 ip4:192.0.2.0/24 ip6:2001:db8::/32 \
             include:_spf.example.net ~all",
        )
        .unwrap();
        assert_eq!(record.directives.len(), 6);
        assert_eq!(
            record.directives[1].mechanism,
            Mechanism::A {
                domain: Some("mail.example.com".into()),
                cidr4: 24,
                cidr6: 128
            }
        );
        assert_eq!(record.directives[5].qualifier, Qualifier::SoftFail);
        assert!(record.has_all());
    }

    #[test]
    fn bad_terms_are_named() {
        for (record, term) in [
            ("v=spf1 ip4:192.0.2.300 -all", "ip4:192.0.2.300"),
            ("v=spf1 include -all", "include"),
            ("v=spf1 a/33 -all", "a/33"),
            ("v=spf1 foo -all", "foo"),
            (
                "v=spf1 redirect=a.example redirect=b.example",
                "redirect=b.example",
            ),
            ("v=spf1 include:example -all", "include:example"),
            ("v=spf1 exists:%{z}.example.com", "exists:%{z}.example.com"),
            ("v=spf1 all:x", "all:x"),
            ("v=spf1 ip4:192.0.2.0/024", "ip4:192.0.2.0/024"),
        ] {
            let error = SpfRecord::parse(record).unwrap_err();
            assert_eq!(error.term, term, "{record}: {error}");
        }
        assert!(SpfRecord::parse("v=spf1 a:mail.example.com/24//64 -all").is_ok());
        assert!(SpfRecord::parse("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all").is_ok());
        assert!(SpfRecord::parse("v=spf10 -all").is_err());
        assert!(!is_spf_record("v=spf1-all"));
        assert!(is_spf_record("V=SPF1"));
    }
}

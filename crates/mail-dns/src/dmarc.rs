//! DMARC (RFC 7489, and the DMARCbis tree walk): the policy record that applies to a domain,
//! every tag checked, and external report addresses authorised.
//!
//! Which record applies: `_dmarc.DOMAIN`, else the nearest parent's, found by DMARCbis's DNS tree
//! walk (each parent in turn, at most 8 names), which needs no Public Suffix List. The walk stops
//! before the top-level domain: a policy published at a TLD is the registry's, not the domain's.

use super::findings::{
    Check, Code, Finding, describe_non_ascii, missing_record, starts_with_version,
    strip_pasted_quotes,
};
use dkim_core::tag_list::parse_tag_list;
use dkim_dns::{RecordKind, RecordLookup};

/// DMARCbis 4.10: the walk asks at most this many names.
const MAX_WALK: usize = 8;

fn dmarc(code: Code, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding::new(Check::Dmarc, code, message, fix)
}

/// Whether `text` starts with the DMARC version tag (RFC 7489 6.4: `v` *WSP `=` *WSP `DMARC1`).
fn is_dmarc_record(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('v') else {
        return false;
    };
    let Some(rest) = rest.trim_start_matches([' ', '\t']).strip_prefix('=') else {
        return false;
    };
    // The version's value is case-sensitive (RFC 7489 6.4's ABNF spells it in hex).
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.starts_with("DMARC1") && starts_with_version(rest, "DMARC1", &[';', ' ', '\t'])
}

/// Checks the DMARC policy that applies to `domain`.
pub fn check(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let labels: Vec<&str> = domain.split('.').collect();
    // DMARCbis 4.10: from the domain up; past 8 labels the walk jumps to the last 7.
    let mut starts: Vec<usize> = (0..labels.len().saturating_sub(1)).collect();
    if starts.len() > MAX_WALK {
        starts.drain(1..starts.len() - (MAX_WALK - 1));
    }
    for (step, start) in starts.into_iter().enumerate() {
        let owner = labels[start..].join(".");
        let name = format!("_dmarc.{owner}");
        let records = match lookup.lookup_records(&name, RecordKind::Txt) {
            Ok(records) => records,
            Err(error) => {
                findings.push(Finding::lookup_failed(Check::Dmarc, &error));
                return findings;
            }
        };
        let texts: Vec<&str> = records.texts().collect();
        let valid: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| is_dmarc_record(t))
            .collect();
        if step == 0 && valid.is_empty() {
            // What was meant as the domain's record, but receivers do not take as one.
            for text in &texts {
                if let Some(finding) = misplaced(&name, text) {
                    findings.push(finding);
                }
            }
            if !findings.is_empty() {
                return findings;
            }
        }
        match valid.as_slice() {
            [] => continue,
            [record] => {
                let inherited = step > 0;
                check_record(
                    lookup,
                    domain,
                    &owner,
                    &name,
                    record,
                    inherited,
                    &mut findings,
                );
            }
            several => findings.push(dmarc(
                Code::DmarcMultiple,
                format!(
                    "{name} has {} DMARC records; receivers then apply none (RFC 7489 6.6.3)",
                    several.len()
                ),
                "keep exactly one v=DMARC1 record",
            )),
        }
        return findings;
    }
    findings.push(missing(lookup, domain));
    findings
}

/// The finding for a TXT record at `_dmarc` that is not a DMARC record, if it looks meant as one.
fn misplaced(name: &str, text: &str) -> Option<Finding> {
    let fix = "publish the record with v=DMARC1 as its first tag, e.g. \"v=DMARC1; p=quarantine; \
               rua=mailto:dmarc-reports@example.com\"";
    if super::spf_record::is_spf_record(text) {
        return Some(dmarc(
            Code::DmarcSyntax,
            format!("{name} holds an SPF record ({text:?}), not a DMARC record"),
            format!("move the SPF record to the domain itself; {fix}"),
        ));
    }
    if is_dmarc_record(strip_pasted_quotes(text)) {
        return Some(dmarc(
            Code::DmarcSyntax,
            format!(
                "{name}: the record {text:?} is not a DMARC record to receivers: it holds {}",
                describe_non_ascii(text)
            ),
            "publish it again with plain ASCII quotes in the zone file, or none in a web form",
        ));
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("dmarc1") || lower.contains("p=") {
        return Some(dmarc(
            Code::DmarcSyntax,
            format!(
                "{name}: the record {text:?} does not start with v=DMARC1, so receivers ignore \
                 it (RFC 7489 6.4)"
            ),
            fix,
        ));
    }
    None
}

/// The finding for a domain without any DMARC record.
fn missing(lookup: &dyn RecordLookup, domain: &str) -> Finding {
    missing_record(
        lookup,
        (Check::Dmarc, Code::DmarcMissing),
        (&format!("_dmarc.{domain}"), domain),
        is_dmarc_record,
        format!("no DMARC record at _dmarc.{domain} or any parent domain"),
        format!(
            "publish one at _dmarc.{domain}, starting with p=none and rua= to collect reports: \
             \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\""
        ),
    )
}

/// Checks the record `text` at `name` (the policy of `owner`), applying to `domain`.
fn check_record(
    lookup: &dyn RecordLookup,
    domain: &str,
    owner: &str,
    name: &str,
    text: &str,
    inherited: bool,
    findings: &mut Vec<Finding>,
) {
    let syntax = |message: String| {
        dmarc(
            Code::DmarcSyntax,
            format!("{name}: {message}"),
            "correct the tag (RFC 7489 6.3 lists tags and values)",
        )
    };
    if !text.is_ascii() {
        findings.push(syntax(format!(
            "the record holds non-ASCII characters: {}",
            describe_non_ascii(text)
        )));
        return;
    }
    let tags = match parse_tag_list(text) {
        Ok(tags) => tags,
        Err(error) => {
            findings.push(syntax(format!("{error}")));
            return;
        }
    };
    let mut policy = None;
    let mut subdomain_policy = None;
    let mut rua = Vec::new();
    let mut ruf = Vec::new();
    for tag in &tags {
        let value = tag.value;
        let problem = match tag.name {
            "v" => None,
            "p" | "sp" | "np" => match value {
                "none" | "quarantine" | "reject" => {
                    match tag.name {
                        "p" => policy = Some(value),
                        "sp" => subdomain_policy = Some(value),
                        _ => {}
                    }
                    None
                }
                _ => Some("must be none, quarantine or reject"),
            },
            "adkim" | "aspf" => (!matches!(value, "r" | "s")).then_some("must be r or s"),
            "fo" => value
                .split(':')
                .any(|option| !matches!(option.trim(), "0" | "1" | "d" | "s"))
                .then_some("must be 0, 1, d or s, separated by colons"),
            "rua" | "ruf" => {
                let list = if tag.name == "rua" {
                    &mut rua
                } else {
                    &mut ruf
                };
                let mut problem = None;
                for uri in value.split(',').map(str::trim) {
                    match report_domain(uri) {
                        Some(destination) => list.push((uri.to_owned(), destination)),
                        None => problem = Some("must be mailto: URIs (mailto:reports@example.com)"),
                    }
                }
                problem
            }
            "pct" => (!value.parse::<u8>().is_ok_and(|pct| pct <= 100))
                .then_some("must be a whole number from 0 to 100"),
            "ri" => value
                .parse::<u32>()
                .is_err()
                .then_some("must be a number of seconds"),
            "rf" => value
                .split(':')
                .any(|format| !format.trim().eq_ignore_ascii_case("afrf"))
                .then_some("must be afrf"),
            "t" => (!matches!(value, "y" | "n")).then_some("must be y or n"),
            "psd" => (!matches!(value, "y" | "n" | "u")).then_some("must be y, n or u"),
            _ => Some("is not a DMARC tag (receivers ignore it; a misspelt tag?)"),
        };
        if let Some(problem) = problem {
            findings.push(syntax(format!("{}={value:?} {problem}", tag.name)));
        }
    }
    let effective = if inherited {
        subdomain_policy.or(policy)
    } else {
        policy
    };
    let policy_given = tags.iter().any(|tag| tag.name == "p");
    match effective {
        // An invalid p= has its own finding already.
        None if policy_given => {}
        None => findings.push(syntax(
            "the record has no p= tag (required, RFC 7489 6.3)".to_owned(),
        )),
        Some("none") => findings.push(dmarc(
            Code::DmarcPolicyNone,
            if inherited {
                format!("{domain} has the policy none, from {name}: receivers only report")
            } else {
                format!("{name} has p=none: receivers only report, they do not act on failures")
            },
            "once the reports show all mail passing, set p=quarantine, then p=reject",
        )),
        Some(_) => {}
    }
    if rua.is_empty() {
        findings.push(dmarc(
            Code::DmarcNoRua,
            format!("{name} has no rua=: no aggregate reports are sent"),
            format!("add rua=mailto:dmarc-reports@{owner} (an address that receives mail)"),
        ));
    }
    for (uri, destination) in rua.iter().chain(&ruf) {
        if is_within(destination, owner) || is_within(owner, destination) {
            continue;
        }
        let authorisation = format!("{owner}._report._dmarc.{destination}");
        match lookup.lookup_records(&authorisation, RecordKind::Txt) {
            Ok(records) if records.texts().any(is_dmarc_record) => {}
            Ok(_) => findings.push(dmarc(
                Code::DmarcExternalUnauthorized,
                format!(
                    "{name} sends reports to {uri}, outside the domain, but {authorisation} has \
                     no v=DMARC1 record, so receivers will not send them (RFC 7489 7.1)"
                ),
                format!(
                    "ask {destination}'s owner to publish \"v=DMARC1\" at {authorisation}, or \
                     use an address in {owner}"
                ),
            )),
            Err(error) => findings.push(Finding::lookup_failed(Check::Dmarc, &error)),
        }
    }
}

/// The domain of a `mailto:` report URI (`mailto:a@example.com!10m`), lower case.
fn report_domain(uri: &str) -> Option<String> {
    let address = uri
        .get(..7)?
        .eq_ignore_ascii_case("mailto:")
        .then(|| &uri[7..])?;
    let address = address.split('!').next()?;
    let (local, domain) = address.rsplit_once('@')?;
    (!local.is_empty() && domain.contains('.') && !domain.contains(['/', ' ']))
        .then(|| domain.trim_end_matches('.').to_ascii_lowercase())
}

/// Whether `name` is `domain` or below it.
fn is_within(name: &str, domain: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_first() {
        assert!(is_dmarc_record("v=DMARC1; p=none"));
        assert!(is_dmarc_record("v = DMARC1;p=none"));
        assert!(is_dmarc_record("v=DMARC1"));
        assert!(!is_dmarc_record("p=none; v=DMARC1"));
        assert!(!is_dmarc_record("v=dmarc1; p=none"));
        assert!(!is_dmarc_record("v=DMARC10; p=none"));
    }

    #[test]
    fn report_addresses() {
        assert_eq!(
            report_domain("mailto:d@Reports.Example.net!10m").as_deref(),
            Some("reports.example.net")
        );
        assert_eq!(report_domain("https://example.com/"), None);
        assert_eq!(report_domain("mailto:example.com"), None);
        assert!(is_within("mail.example.com", "example.com"));
        assert!(!is_within("badexample.com", "example.com"));
    }
}

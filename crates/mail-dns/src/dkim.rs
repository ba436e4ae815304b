//! DKIM in a domain check: testkey's findings (one code path, `key_check`) under stable
//! `dkim.*` codes, and the historic policy records that setup guides still publish.

use super::findings::{Check, Code, Finding};
use dkim_core::key_check::{self, KeyReport};
use dkim_dns::{LookupError, RecordKind, RecordLookup};

/// The stable code of one of testkey's findings.
pub fn code_of(finding: &key_check::Finding) -> Code {
    use key_check::{Finding as K, KeyProblem as P};
    let name = match finding {
        K::Key(P::Lookup(LookupError::Bogus { .. })) => return Code::DnssecBogus,
        K::Key(P::Lookup(error)) if error.is_temporary() => return Code::DnsTemporary,
        K::Key(P::Lookup(LookupError::DanglingCname { .. })) => "dkim.dangling-cname",
        K::Key(P::Lookup(_)) => "dkim.missing",
        K::DoubledName { .. } => "dkim.doubled-name",
        K::DnssecNotValidated { .. } => "dnssec.not-validated",
        K::SeveralRecords { .. } => "dkim.multiple",
        K::Key(P::Malformed(_)) => "dkim.syntax",
        K::Key(P::Revoked) => "dkim.revoked",
        K::Key(P::KeyTypeMismatch { .. }) => "dkim.key-type-mismatch",
        K::Key(P::HashExcludesSha256) => "dkim.hash-excludes-sha256",
        K::Key(P::NotForEmail) => "dkim.not-for-email",
        K::Key(P::TooSmall { .. }) => "dkim.too-small",
        K::KeyMismatch => "dkim.key-mismatch",
        K::Weak { .. } => "dkim.weak",
        K::TestMode => "dkim.test-mode",
    };
    Code::Dkim(name, finding.severity())
}

/// testkey's findings about one key, as the check reports them: the same messages and advice.
pub fn key_findings(report: &KeyReport) -> Vec<Finding> {
    report
        .findings
        .iter()
        .map(|finding| {
            Finding::new(
                Check::Dkim,
                code_of(finding),
                format!("{}: {finding}", report.name),
                finding.advice(),
            )
        })
        .collect()
}

/// A key that could not be read from the KeyTable: opendkim cannot sign with it either.
pub fn unreadable_key(name: &str, why: &str) -> Finding {
    Finding::new(
        Check::Dkim,
        Code::Dkim("dkim.key-unreadable", key_check::Severity::Error),
        format!("{name}: {why}"),
        "fix the KeyTable entry's key file (path, owner opendkim, mode 0600)",
    )
}

/// ADSP (`_adsp._domainkey`, RFC 5617, historic since 2013) and DomainKeys policy
/// (`_domainkey` with `o=`, RFC 4870, replaced by RFC 6376) records: warnings, to remove.
pub fn check_historic(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let checks = [
        (
            format!("_adsp._domainkey.{domain}"),
            "dkim=",
            Code::AdspHistoric,
            "an ADSP record (RFC 5617); ADSP was declared historic in 2013 and receivers ignore it",
        ),
        (
            format!("_domainkey.{domain}"),
            "o=",
            Code::DomainKeysHistoric,
            "a DomainKeys policy record (RFC 4870); DKIM (RFC 6376) replaced DomainKeys and \
             receivers ignore it",
        ),
    ];
    for (name, marker, code, what) in checks {
        match lookup.lookup_records(&name, RecordKind::Txt) {
            Ok(records) => {
                if let Some(text) = records
                    .texts()
                    .find(|text| text.to_ascii_lowercase().contains(marker))
                {
                    findings.push(Finding::new(
                        Check::Historic,
                        code,
                        format!("{name} holds {what}: {text:?}"),
                        format!("delete the TXT record at {name}"),
                    ));
                }
            }
            Err(error) => findings.push(Finding::lookup_failed(Check::Historic, &error)),
        }
    }
    findings
}

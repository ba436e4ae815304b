//! What `dkimkit check` finds, as typed values with stable codes (documented in the man page):
//! scripts and CI match on the code, people read the message and the fix.

use std::fmt;

pub use dkim_core::key_check::Severity;
use dkim_dns::LookupError;

/// Which part of a domain's mail DNS a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The SPF record (RFC 7208).
    Spf,
    /// The DMARC record (RFC 7489).
    Dmarc,
    /// DKIM key records (RFC 6376), as testkey checks them.
    Dkim,
    /// ADSP (RFC 5617, historic) and DomainKeys policy records.
    Historic,
    /// MX records and their addresses.
    Mx,
    /// Reverse DNS of the mail exchangers' addresses.
    Ptr,
    /// The MTA-STS TXT record (RFC 8461).
    MtaSts,
    /// The TLS-RPT TXT record (RFC 8460).
    TlsRpt,
}

impl Check {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Spf => "spf",
            Check::Dmarc => "dmarc",
            Check::Dkim => "dkim",
            Check::Historic => "historic",
            Check::Mx => "mx",
            Check::Ptr => "ptr",
            Check::MtaSts => "mta-sts",
            Check::TlsRpt => "tlsrpt",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable codes. Severity follows from the code, except for `dkim.*`, which take testkey's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// No SPF record.
    SpfMissing,
    /// More than one SPF record: receivers return permerror (RFC 7208 4.5).
    SpfMultiple,
    /// A term that does not parse.
    SpfSyntax,
    /// More than 10 DNS-querying terms (RFC 7208 4.6.4).
    SpfTooManyLookups,
    /// More than 2 lookups that found nothing (RFC 7208 4.6.4).
    SpfVoidLookups,
    /// include or redirect leads back to a domain on the way.
    SpfLoop,
    /// The `ptr` mechanism (RFC 7208 5.5: do not use).
    SpfPtr,
    /// `+all` or `?all`.
    SpfPermissiveAll,
    /// Not ASCII, often typographic quotes pasted from a guide.
    SpfNotAscii,
    /// An SPF record published as the obsolete SPF RR type (RFC 7208 3.1).
    SpfObsoleteType,
    /// An include or redirect to a domain without an SPF record: permerror.
    SpfIncludeMissing,
    /// A `--ip` address that SPF does not permit.
    SpfNotPermitted,
    /// No DMARC record.
    DmarcMissing,
    /// More than one DMARC record.
    DmarcMultiple,
    /// The record does not parse, or a tag's value is invalid.
    DmarcSyntax,
    /// `p=none`: reports only, no protection.
    DmarcPolicyNone,
    /// No `rua`: no aggregate reports.
    DmarcNoRua,
    /// A report destination outside the domain that has not authorised it (RFC 7489 7.1).
    DmarcExternalUnauthorized,
    /// A DKIM key finding, as testkey reports it: `dkim.` and the rest of the code.
    Dkim(&'static str, Severity),
    /// An ADSP record (RFC 5617, historic since 2013).
    AdspHistoric,
    /// A DomainKeys policy record at `_domainkey` (RFC 4870, replaced by RFC 6376).
    DomainKeysHistoric,
    /// Neither MX nor address records: the domain cannot receive bounces or reports.
    MxMissing,
    /// An MX host without addresses.
    MxNoAddress,
    /// An MX host that is a CNAME (RFC 2181 10.3).
    MxCname,
    /// An address without a PTR record.
    PtrMissing,
    /// A PTR whose name does not resolve back to the address.
    PtrMismatch,
    /// The `_mta-sts` record does not parse.
    MtaStsSyntax,
    /// With `--fetch`: the MTA-STS policy cannot be fetched, does not parse, or leaves out an MX
    /// host.
    MtaStsPolicy,
    /// The `_smtp._tls` record does not parse.
    TlsRptSyntax,
    /// DNSSEC validation failed.
    DnssecBogus,
    /// A name that cannot be looked up, or a CNAME chain to nowhere.
    DnsBadName,
    /// A DNS timeout or server failure: try again later.
    DnsTemporary,
}

impl Code {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::SpfMissing => "spf.missing",
            Code::SpfMultiple => "spf.multiple",
            Code::SpfSyntax => "spf.syntax",
            Code::SpfTooManyLookups => "spf.too-many-lookups",
            Code::SpfVoidLookups => "spf.void-lookups",
            Code::SpfLoop => "spf.loop",
            Code::SpfPtr => "spf.ptr",
            Code::SpfPermissiveAll => "spf.permissive-all",
            Code::SpfNotAscii => "spf.not-ascii",
            Code::SpfObsoleteType => "spf.obsolete-type",
            Code::SpfIncludeMissing => "spf.include-missing",
            Code::SpfNotPermitted => "spf.not-permitted",
            Code::DmarcMissing => "dmarc.missing",
            Code::DmarcMultiple => "dmarc.multiple",
            Code::DmarcSyntax => "dmarc.syntax",
            Code::DmarcPolicyNone => "dmarc.policy-none",
            Code::DmarcNoRua => "dmarc.no-rua",
            Code::DmarcExternalUnauthorized => "dmarc.external-unauthorized",
            Code::Dkim(code, _) => code,
            Code::AdspHistoric => "adsp.historic",
            Code::DomainKeysHistoric => "domainkeys.historic",
            Code::MxMissing => "mx.missing",
            Code::MxNoAddress => "mx.no-address",
            Code::MxCname => "mx.cname",
            Code::PtrMissing => "ptr.missing",
            Code::PtrMismatch => "ptr.mismatch",
            Code::MtaStsSyntax => "mta-sts.syntax",
            Code::MtaStsPolicy => "mta-sts.policy",
            Code::TlsRptSyntax => "tlsrpt.syntax",
            Code::DnssecBogus => "dnssec.bogus",
            Code::DnsBadName => "dns.bad-name",
            Code::DnsTemporary => "dns.temporary",
        }
    }

    /// How bad it is: warnings for what works but should change, temporary for DNS failures,
    /// errors for the rest.
    pub fn severity(self) -> Severity {
        match self {
            Code::SpfPtr
            | Code::SpfPermissiveAll
            | Code::DmarcPolicyNone
            | Code::DmarcNoRua
            | Code::AdspHistoric
            | Code::DomainKeysHistoric => Severity::Warning,
            Code::DnsTemporary => Severity::Temporary,
            Code::Dkim(_, severity) => severity,
            _ => Severity::Error,
        }
    }
}

/// Something a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// The stable code.
    pub code: Code,
    /// What was found, naming the record or host.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl Finding {
    /// A finding of `code`.
    pub fn new(
        check: Check,
        code: Code,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            check,
            code,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// How bad it is.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// The finding for a lookup that failed (an absent record is an answer, not a failure).
    pub fn lookup_failed(check: Check, error: &LookupError) -> Finding {
        let (code, fix) = match error {
            LookupError::Bogus { .. } => (
                Code::DnssecBogus,
                "re-sign the zone (expired or wrong signatures) or fix its DS record at the \
                 parent; validating receivers cannot use these records",
            ),
            e if e.is_temporary() => (
                Code::DnsTemporary,
                "the name server did not answer usefully; try again later, or check that server",
            ),
            _ => (
                Code::DnsBadName,
                "fix the name or the CNAME it leads through",
            ),
        };
        Finding::new(check, code, error.to_string(), fix)
    }
}

/// Everything found about one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainReport {
    /// The domain, as given.
    pub domain: String,
    /// What was found, by check.
    pub findings: Vec<Finding>,
    /// The `--ip` evaluations, in the order given.
    pub spf_results: Vec<crate::spf::Evaluation>,
}

impl DomainReport {
    /// The worst finding's severity; None when all is well.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(Finding::severity).max()
    }
}

/// The finding for `name` (in `domain`'s zone) without the record `is_record` accepts. A record
/// whose zone-file name lacked its trailing dot is published at `name.domain` (the origin is
/// appended): when it is there, the finding says so and how to fix it; otherwise it says
/// `otherwise` and `fix`.
pub(crate) fn missing_record(
    lookup: &dyn dkim_dns::RecordLookup,
    (check, code): (Check, Code),
    (name, domain): (&str, &str),
    is_record: fn(&str) -> bool,
    otherwise: String,
    fix: String,
) -> Finding {
    let doubled = format!("{name}.{domain}");
    let at_doubled = lookup
        .lookup_records(&doubled, dkim_dns::RecordKind::Txt)
        .is_ok_and(|records| records.texts().any(is_record));
    if at_doubled {
        return Finding::new(
            check,
            code,
            format!(
                "{name} has no such record, but {doubled} has one: the zone file names it \
                 without its trailing dot, so the origin was appended"
            ),
            format!("write the record's name as {name}. (with the trailing dot)"),
        );
    }
    Finding::new(check, code, otherwise, fix)
}

/// Text from a zone or a web form, with the characters guides' typography puts around it (curly
/// and straight quotes, spaces) removed from the ends, so that a pasted record is still
/// recognised for what it was meant to be.
pub(crate) fn strip_pasted_quotes(text: &str) -> &str {
    text.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\''
                    | '\u{201c}'
                    | '\u{201d}'
                    | '\u{201e}'
                    | '\u{2018}'
                    | '\u{2019}'
                    | '\u{ab}'
                    | '\u{bb}'
            )
    })
}

/// The first non-ASCII characters of `text`, for a message: "“ (U+201C) at byte 0".
pub(crate) fn describe_non_ascii(text: &str) -> String {
    let described: Vec<String> = text
        .char_indices()
        .filter(|(_, c)| !c.is_ascii())
        .take(3)
        .map(|(at, c)| format!("{c} (U+{:04X}) at byte {at}", u32::from(c)))
        .collect();
    let mut words = described.join(", ");
    if text.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}', '\u{201e}']) {
        words.push_str("; these are typographic quotes, pasted from a guide or a word processor");
    }
    words
}

/// Whether `text` starts with `tag` (e.g. `v=spf1`), case-insensitively, followed by the end or
/// one of `separators`.
pub(crate) fn starts_with_version(text: &str, tag: &str, separators: &[char]) -> bool {
    text.get(..tag.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(tag))
        && text[tag.len()..]
            .chars()
            .next()
            .is_none_or(|c| separators.contains(&c))
}

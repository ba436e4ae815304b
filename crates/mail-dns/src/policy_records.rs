//! The TXT records that announce SMTP TLS policies: MTA-STS (`_mta-sts`, RFC 8461 3.1) and
//! TLS-RPT (`_smtp._tls`, RFC 8460 3). Both are optional; one that is published must parse.

use super::findings::{Check, Code, Finding, describe_non_ascii, starts_with_version};
use dkim_core::tag_list::parse_tag_list;
use dkim_dns::{RecordKind, RecordLookup};

/// Which of the two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MtaSts,
    TlsRpt,
}

impl Kind {
    fn check(self) -> Check {
        match self {
            Kind::MtaSts => Check::MtaSts,
            Kind::TlsRpt => Check::TlsRpt,
        }
    }

    fn code(self) -> Code {
        match self {
            Kind::MtaSts => Code::MtaStsSyntax,
            Kind::TlsRpt => Code::TlsRptSyntax,
        }
    }

    fn version(self) -> &'static str {
        match self {
            Kind::MtaSts => "v=STSv1",
            Kind::TlsRpt => "v=TLSRPTv1",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Kind::MtaSts => "\"v=STSv1; id=20261122T000000\"",
            Kind::TlsRpt => "\"v=TLSRPTv1; rua=mailto:tls-reports@example.com\"",
        }
    }
}

/// Checks `_mta-sts.DOMAIN`.
pub fn check_mta_sts(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    check(lookup, &format!("_mta-sts.{domain}"), Kind::MtaSts)
}

/// Checks `_smtp._tls.DOMAIN`.
pub fn check_tlsrpt(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    check(lookup, &format!("_smtp._tls.{domain}"), Kind::TlsRpt)
}

fn check(lookup: &dyn RecordLookup, name: &str, kind: Kind) -> Vec<Finding> {
    let records = match lookup.lookup_records(name, RecordKind::Txt) {
        Ok(records) => records,
        Err(error) => return vec![Finding::lookup_failed(kind.check(), &error)],
    };
    // Other TXT records at the name are not for us (RFC 8461 3.1); one that names the version
    // in any case, or in the wrong place, was meant as one.
    let meant: Vec<&str> = records
        .texts()
        .filter(|text| {
            text.to_ascii_lowercase()
                .contains(&kind.version()[2..].to_ascii_lowercase())
        })
        .collect();
    let finding = |problem: String| {
        Finding::new(
            kind.check(),
            kind.code(),
            format!("{name}: {problem}"),
            format!("publish it as {}", kind.example()),
        )
    };
    if meant.len() > 1 {
        return vec![finding(format!(
            "{} records; senders then use none",
            meant.len()
        ))];
    }
    let Some(text) = meant.first() else {
        return Vec::new();
    };
    match problem(text, kind) {
        Some(problem) => vec![finding(problem)],
        None => Vec::new(),
    }
}

/// What is wrong with `text`, if anything.
fn problem(text: &str, kind: Kind) -> Option<String> {
    if !text.is_ascii() {
        return Some(format!("the record holds {}", describe_non_ascii(text)));
    }
    if !starts_with_version(text, kind.version(), &[';', ' ']) || !text.starts_with(kind.version())
    {
        return Some(format!(
            "the record {text:?} does not start with {}",
            kind.version()
        ));
    }
    let tags = match parse_tag_list(text) {
        Ok(tags) => tags,
        Err(error) => return Some(format!("{error}")),
    };
    match kind {
        Kind::MtaSts => match tags.iter().find(|tag| tag.name == "id") {
            None => Some("the record has no id= (the policy's version)".to_owned()),
            // RFC 8461 3.1: id = 1*32(ALPHA / DIGIT).
            Some(id) => {
                let valid = (1..=32).contains(&id.value.len())
                    && id.value.chars().all(|c| c.is_ascii_alphanumeric());
                (!valid).then(|| format!("id={:?} must be 1 to 32 letters and digits", id.value))
            }
        },
        Kind::TlsRpt => {
            // RFC 8460 3: rua = a comma-separated list of mailto: or https: URIs.
            let Some(rua) = tags.iter().find(|tag| tag.name == "rua") else {
                return Some("the record has no rua= (where reports go)".to_owned());
            };
            rua.value
                .split(',')
                .map(str::trim)
                .find(|uri| {
                    let lower = uri.to_ascii_lowercase();
                    !(lower.starts_with("mailto:") && uri.contains('@')
                        || lower.starts_with("https://"))
                })
                .map(|bad| format!("rua: {bad:?} is not a mailto: or https: URI"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        assert_eq!(problem("v=STSv1; id=20261122T000000;", Kind::MtaSts), None);
        assert!(problem("v=STSv1; id=2026-11-22", Kind::MtaSts).is_some());
        assert!(problem("v=STSv1;", Kind::MtaSts).is_some());
        assert!(problem("id=1; v=STSv1", Kind::MtaSts).is_some());
        assert_eq!(
            problem(
                "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/x",
                Kind::TlsRpt
            ),
            None
        );
        assert!(problem("v=TLSRPTv1; rua=a@example.com", Kind::TlsRpt).is_some());
        assert!(problem("v=TLSRPTv1", Kind::TlsRpt).is_some());
    }
}

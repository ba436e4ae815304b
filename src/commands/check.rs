//! `dkimkit check`: every mail DNS record of domains, for CI. The checks are the mail-dns crate's
//! `mail_dns`; DKIM keys are checked by testkey's own code, so both report the same findings.

use std::io::Write as _;

use anyhow::Context as _;
use dkim_core::DomainName;
use dkim_dns::{LookupError, RecordKind, RecordLookup, Records};
use mail_dns::{self, Check, DomainReport, Evaluation, FetchSettings, Finding, Severity};
use opendkim_config::{KeyTable, OpendkimConf};
use rayon::prelude::*;
use serde::Serialize;

use super::testkey::{self, Checked, Target};
use super::{Dns, dns_worker_pool, table_location};
use crate::advice;
use crate::cli::{CheckArgs, CheckFormat};
use crate::exit::Outcome;
use crate::output;

pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let dns = Dns::new(args.dns.resolver_settings(None)?);
    let keys = dkim_targets(&args)?;
    let fetch = if args.fetch {
        let ca = match &args.ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("cannot read the CA file {}", path.display()))?,
            ),
            None => None,
        };
        let settings = FetchSettings::new(ca.as_deref(), args.mta_sts_port, args.dns.timeout);
        Some(match (settings, &args.ca_file) {
            (Ok(settings), _) => settings,
            (Err(error), Some(path)) => anyhow::bail!("{}: {error}", path.display()),
            (Err(error), None) => anyhow::bail!("--fetch: {error}"),
        })
    } else {
        None
    };
    dns.ready()?;
    let pool = dns_worker_pool(args.jobs)?;
    let reports: Vec<DomainReport> = pool.install(|| {
        args.domains
            .par_iter()
            .map(|domain| check_domain(&dns, domain, &keys, &args, fetch.as_ref()))
            .collect()
    });
    let format = if args.json {
        CheckFormat::Json
    } else {
        args.format
    };
    match format {
        CheckFormat::Text => print_text(&reports)?,
        CheckFormat::Json => print_json(&reports)?,
        CheckFormat::Junit => print_junit(&reports, args.strict)?,
    }
    let severities = || {
        reports
            .iter()
            .flat_map(|report| report.findings.iter().map(Finding::severity))
    };
    // An error (or, with --strict, a warning) fails the run even beside a temporary failure:
    // retrying would not cure it.
    let failed = severities().any(|severity| {
        severity == Severity::Error || (args.strict && severity == Severity::Warning)
    });
    Ok(if failed {
        Outcome::CheckFailed
    } else if severities().any(|severity| severity == Severity::Temporary) {
        Outcome::TemporaryFailure
    } else {
        Outcome::Success
    })
}

/// One domain: the library's checks, and its DNS keys as testkey checks them.
fn check_domain(
    dns: &Dns,
    domain: &DomainName,
    keys: &[Target],
    args: &CheckArgs,
    fetch: Option<&FetchSettings>,
) -> DomainReport {
    let mut report = mail_dns::check_domain(dns, domain.as_str(), &args.ips, fetch);
    let selectors = args.selectors.iter().map(|selector| Target {
        key_name: None,
        domain: Some(domain.clone()),
        selector: selector.clone(),
        key_file: None,
    });
    let own_keys = keys
        .iter()
        .filter(|key| key.domain.as_ref() == Some(domain));
    let mut dkim = Vec::new();
    for target in own_keys.chain(selectors.collect::<Vec<_>>().iter()) {
        match testkey::check(target, dns, None, false) {
            Checked::Report(key_report) => dkim.extend(mail_dns::key_findings(&key_report)),
            Checked::KeyUnreadable(why) => {
                dkim.push(mail_dns::unreadable_key(&target.label(), &why));
            }
            Checked::Skipped(_) => {}
        }
    }
    report.findings.extend(dkim);
    for finding in &mut report.findings {
        finding.fix.push_str(advice::for_finding(finding.code));
    }
    report.findings.sort_by_key(|finding| finding.check);
    report
}

/// The keys of --keytable or -x, for the domains that are checked.
fn dkim_targets(args: &CheckArgs) -> anyhow::Result<Vec<Target>> {
    if let Some(table) = &args.keytable {
        let (path, kind) = table_location(table);
        return Ok(testkey::keytable_targets(
            &KeyTable::load(&path, kind)?,
            None,
        ));
    }
    match &args.config {
        Some(config) => OpendkimConf::load(config)
            .map_err(anyhow::Error::from)
            .and_then(|conf| testkey::config_targets(&conf))
            .map(|(targets, _)| targets)
            .with_context(|| config.display().to_string()),
        None => Ok(Vec::new()),
    }
}

impl RecordLookup for Dns {
    fn lookup_records(&self, name: &str, kind: RecordKind) -> Result<Records, LookupError> {
        self.lookup(name)?.lookup_records(name, kind)
    }
}

/// `DOMAIN: OK` or the domain, then a line per finding under its check, with the fix.
fn print_text(reports: &[DomainReport]) -> anyhow::Result<()> {
    let mut out = output::stdout();
    for report in reports {
        let counts = counts(report);
        if counts.is_empty() {
            writeln!(out, "{}: OK (no findings)", report.domain)?;
        } else {
            writeln!(out, "{}: {}", report.domain, counts.join(", "))?;
        }
        let mut current: Option<Check> = None;
        for finding in &report.findings {
            if current != Some(finding.check) {
                writeln!(out, "  {}:", finding.check)?;
                current = Some(finding.check);
            }
            writeln!(
                out,
                "    {} {}: {} (fix: {})",
                finding.severity().as_str(),
                finding.code.as_str(),
                finding.message,
                finding.fix
            )?;
        }
        for evaluation in &report.spf_results {
            writeln!(
                out,
                "  spf --ip {}: {} ({})",
                evaluation.ip, evaluation.result, evaluation.decided_by
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// "2 errors, 1 warning".
fn counts(report: &DomainReport) -> Vec<String> {
    [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Temporary, "temporary failure"),
    ]
    .into_iter()
    .filter_map(|(severity, word)| {
        let n = report
            .findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count();
        (n > 0).then(|| format!("{n} {word}{}", if n == 1 { "" } else { "s" }))
    })
    .collect()
}

fn severity_word(finding: &Finding) -> &'static str {
    match finding.severity() {
        Severity::Temporary => "temporary",
        severity => severity.as_str(),
    }
}

/// check's --json document (docs/json.md).
#[derive(Serialize)]
struct CheckJson<'a> {
    domains: Vec<DomainJson<'a>>,
}

#[derive(Serialize)]
struct DomainJson<'a> {
    domain: &'a str,
    findings: Vec<FindingJson<'a>>,
    spf_results: &'a [Evaluation],
}

#[derive(Serialize)]
struct FindingJson<'a> {
    check: &'static str,
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    fix: &'a str,
}

fn print_json(reports: &[DomainReport]) -> anyhow::Result<()> {
    let domains = reports
        .iter()
        .map(|report| DomainJson {
            domain: &report.domain,
            findings: report
                .findings
                .iter()
                .map(|finding| FindingJson {
                    check: finding.check.as_str(),
                    code: finding.code.as_str(),
                    severity: severity_word(finding),
                    message: &finding.message,
                    fix: &finding.fix,
                })
                .collect(),
            spf_results: &report.spf_results,
        })
        .collect();
    output::print_json(&CheckJson { domains })?;
    Ok(())
}

/// Every check, as a JUnit test case of each domain's suite.
const JUNIT_CASES: [Check; 8] = [
    Check::Spf,
    Check::Dmarc,
    Check::Dkim,
    Check::Historic,
    Check::Mx,
    Check::Ptr,
    Check::MtaSts,
    Check::TlsRpt,
];

/// A JUnit report: a suite per domain, a case per check; errors (and warnings with --strict)
/// are failures, temporary DNS failures are errors, and the rest goes to the case's output.
fn print_junit(reports: &[DomainReport], strict: bool) -> anyhow::Result<()> {
    let mut out = output::stdout();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="dkimkit check">"#)?;
    for report in reports {
        let case_findings = |check: Check| report.findings.iter().filter(move |f| f.check == check);
        // A case fails on its first error (or warning, with --strict); else its first temporary
        // failure makes it an error.
        let verdict = |check: Check| {
            let failing = case_findings(check).find(|f| match f.severity() {
                Severity::Error => true,
                Severity::Warning => strict,
                Severity::Temporary => false,
            });
            let temporary = || case_findings(check).find(|f| f.severity() == Severity::Temporary);
            failing
                .map(|f| ("failure", f))
                .or_else(|| temporary().map(|f| ("error", f)))
        };
        let count = |kind: &str| {
            JUNIT_CASES
                .iter()
                .filter(|check| verdict(**check).is_some_and(|(k, _)| k == kind))
                .count()
        };
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}">"#,
            xml(&report.domain),
            JUNIT_CASES.len(),
            count("failure"),
            count("error")
        )?;
        for check in JUNIT_CASES {
            writeln!(
                out,
                r#"    <testcase classname="{}" name="{check}">"#,
                xml(&report.domain)
            )?;
            let lines: Vec<String> = case_findings(check)
                .map(|f| {
                    format!(
                        "{} {}: {} (fix: {})",
                        severity_word(f),
                        f.code.as_str(),
                        f.message,
                        f.fix
                    )
                })
                .collect();
            let body = xml(&lines.join("\n"));
            match verdict(check) {
                Some((kind, first)) => writeln!(
                    out,
                    r#"      <{kind} type="{}" message="{}">{body}</{kind}>"#,
                    first.code.as_str(),
                    xml(&first.message)
                )?,
                None if !lines.is_empty() => {
                    writeln!(out, "      <system-out>{body}</system-out>")?;
                }
                None => {}
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")?;
    out.flush()?;
    Ok(())
}

/// `text` escaped for XML attributes and content.
fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            // XML 1.0 allows no other control characters than tab and line ends.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => escaped.push(c),
        }
    }
    escaped
}

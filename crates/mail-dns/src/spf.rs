//! SPF (RFC 7208): the domain's record found and checked, every include and redirect followed
//! and counted as receivers count them; and check_host() for a sending address (`--ip`).

use std::fmt;
use std::net::IpAddr;

use super::findings::{
    Check, Code, Finding, describe_non_ascii, missing_record, strip_pasted_quotes,
};
use super::spf_macro::{MacroContext, expand};
use super::spf_record::{Directive, Mechanism, Qualifier, SpfRecord, is_spf_record};
use super::{address_in, reverse_name};
use dkim_dns::{LookupError, RecordData, RecordKind, RecordLookup, Records};

/// RFC 7208 4.6.4: at most 10 DNS-querying terms, across includes and redirects.
pub const MAX_LOOKUPS: usize = 10;
/// RFC 7208 4.6.4: at most 2 lookups that find nothing.
pub const MAX_VOID_LOOKUPS: usize = 2;
/// RFC 7208 4.6.4: an mx or ptr mechanism looks at most 10 names up.
const MAX_NAMES_PER_TERM: usize = 10;

fn spf(code: Code, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding::new(Check::Spf, code, message, fix)
}

/// What the domain's TXT records hold as SPF records.
struct Published {
    /// Records that start with `v=spf1`.
    records: Vec<String>,
    /// Records meant as SPF but that receivers do not see as such: pasted with typographic
    /// quotes, or `v=spf1` run into the next term.
    unrecognised: Vec<Finding>,
}

fn published(domain: &str, records: &Records) -> Published {
    let mut found = Published {
        records: Vec::new(),
        unrecognised: Vec::new(),
    };
    let meant_as_spf = |text: &str| {
        strip_pasted_quotes(text)
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("v=spf1"))
    };
    for text in records.texts() {
        if is_spf_record(text) {
            found.records.push(text.to_owned());
        } else if meant_as_spf(text) && !text.is_ascii() {
            found.unrecognised.push(spf(
                Code::SpfNotAscii,
                format!(
                    "{domain}: the TXT record {text:?} is not an SPF record to receivers, who \
                     look for v=spf1 at its very start: it holds {}",
                    describe_non_ascii(text)
                ),
                "publish the record again with plain ASCII double quotes around it in the zone \
                 file (\"v=spf1 ... -all\"), or none in a provider's web form",
            ));
        } else if meant_as_spf(text) {
            found.unrecognised.push(spf(
                Code::SpfSyntax,
                format!(
                    "{domain}: the TXT record {text:?} is not an SPF record to receivers: v=spf1 \
                     must be followed by a space (RFC 7208 4.5)"
                ),
                "separate the terms with spaces; a zone file's strings are joined without one, \
                 so put the spaces inside the quotes",
            ));
        }
    }
    found
}

/// Checks the SPF record of `domain`, with everything it includes.
pub fn check(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let txt = match lookup.lookup_records(domain, RecordKind::Txt) {
        Ok(txt) => txt,
        Err(error) => return vec![Finding::lookup_failed(Check::Spf, &error)],
    };
    match lookup.lookup_records(domain, RecordKind::Spf) {
        Ok(obsolete)
            if obsolete
                .texts()
                .any(|t| is_spf_record(strip_pasted_quotes(t))) =>
        {
            findings.push(spf(
                Code::SpfObsoleteType,
                format!(
                    "{domain} has a record of the obsolete SPF type (99); receivers read only \
                     TXT records (RFC 7208 3.1)"
                ),
                "delete the SPF-type record and keep the TXT record",
            ));
        }
        // Servers that do not know type 99 may fail it; the TXT record is what matters.
        Ok(_) | Err(_) => {}
    }
    let found = published(domain, &txt);
    let recognised_none = found.unrecognised.is_empty();
    findings.extend(found.unrecognised);
    match found.records.as_slice() {
        [] if recognised_none => findings.push(missing(lookup, domain)),
        [] => {}
        [record] => {
            let mut walk = Walk::new(lookup);
            walk.record(domain, record, &mut findings, &mut vec![domain.to_owned()]);
            walk.totals(domain, &mut findings);
        }
        several => findings.push(spf(
            Code::SpfMultiple,
            format!(
                "{domain} has {} SPF records; receivers return permerror (RFC 7208 4.5)",
                several.len()
            ),
            "merge them into one v=spf1 record",
        )),
    }
    findings
}

/// The finding for a domain without an SPF record.
fn missing(lookup: &dyn RecordLookup, domain: &str) -> Finding {
    missing_record(
        lookup,
        (Check::Spf, Code::SpfMissing),
        (domain, domain),
        is_spf_record,
        format!("{domain} has no SPF record (no TXT record starting with v=spf1)"),
        "publish one naming the hosts that send the domain's mail, e.g. \"v=spf1 mx -all\""
            .to_owned(),
    )
}

/// The static walk through a record and everything it includes, counting as receivers count.
struct Walk<'a> {
    lookup: &'a dyn RecordLookup,
    /// DNS-querying terms, with the first term past the limit.
    lookups: usize,
    over_limit: Option<String>,
    /// Lookups that found nothing.
    voids: Vec<String>,
}

impl<'a> Walk<'a> {
    fn new(lookup: &'a dyn RecordLookup) -> Self {
        Walk {
            lookup,
            lookups: 0,
            over_limit: None,
            voids: Vec::new(),
        }
    }

    /// Checks `text`, the SPF record of `domain`; `path` holds the domains from the top down to
    /// this one (for loops and messages).
    fn record(
        &mut self,
        domain: &str,
        text: &str,
        findings: &mut Vec<Finding>,
        path: &mut Vec<String>,
    ) {
        let whose = whose(path);
        if !text.is_ascii() {
            findings.push(spf(
                Code::SpfNotAscii,
                format!(
                    "{whose} SPF record holds non-ASCII characters: {}",
                    describe_non_ascii(text)
                ),
                "publish it again in plain ASCII (straight quotes, no typographic dashes or \
                 spaces)",
            ));
            return;
        }
        let record = match SpfRecord::parse(text) {
            Ok(record) => record,
            Err(error) => {
                findings.push(spf(
                    Code::SpfSyntax,
                    format!("{whose} SPF record: {error}; receivers return permerror"),
                    "correct the term (RFC 7208 5 and 6 list the mechanisms and modifiers)",
                ));
                return;
            }
        };
        for directive in &record.directives {
            self.directive(domain, directive, findings, path);
        }
        if let Some(target) = &record.redirect
            && !record.has_all()
        {
            self.count(&format!("redirect={target}"), domain);
            self.follow(domain, target, "redirect", findings, path);
        }
    }

    fn count(&mut self, term: &str, domain: &str) {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS && self.over_limit.is_none() {
            self.over_limit = Some(format!("{term} in {domain}"));
        }
    }

    fn directive(
        &mut self,
        domain: &str,
        directive: &Directive,
        findings: &mut Vec<Finding>,
        path: &mut Vec<String>,
    ) {
        if directive.mechanism.queries_dns() {
            self.count(&directive.text, domain);
        }
        match &directive.mechanism {
            Mechanism::Include(target) => self.follow(domain, target, "include", findings, path),
            Mechanism::Ptr(_) => findings.push(spf(
                Code::SpfPtr,
                format!(
                    "{} SPF record uses {}: slow, unreliable, and ignored by some receivers \
                     (RFC 7208 5.5)",
                    whose(path),
                    directive.text
                ),
                "replace ptr with ip4:/ip6: or a: terms naming the sending hosts",
            )),
            Mechanism::All
                if matches!(directive.qualifier, Qualifier::Pass | Qualifier::Neutral) =>
            {
                findings.push(spf(
                    Code::SpfPermissiveAll,
                    format!(
                        "{} SPF record ends with {}, which lets any host on the Internet send \
                         as the domain",
                        whose(path),
                        directive.text
                    ),
                    "end the record with -all (or ~all while testing)",
                ));
            }
            Mechanism::A { domain: spec, .. } | Mechanism::Mx { domain: spec, .. } => {
                let target = spec.as_deref().unwrap_or(domain);
                if !target.contains('%') {
                    let kind = if matches!(directive.mechanism, Mechanism::Mx { .. }) {
                        RecordKind::Mx
                    } else {
                        RecordKind::A
                    };
                    self.void_check(&directive.text, target, kind, findings);
                }
            }
            _ => {}
        }
    }

    /// Looks `target` up as the term would, noting a void lookup. For `a`, a name with only
    /// AAAA records is not void.
    fn void_check(
        &mut self,
        term: &str,
        target: &str,
        kind: RecordKind,
        findings: &mut Vec<Finding>,
    ) {
        let kinds: &[RecordKind] = match kind {
            RecordKind::A => &[RecordKind::A, RecordKind::Aaaa],
            _ => &[kind],
        };
        let mut empty = true;
        for kind in kinds {
            match self.lookup.lookup_records(target, *kind) {
                Ok(records) => empty &= records.data.is_empty(),
                Err(error) => {
                    findings.push(Finding::lookup_failed(Check::Spf, &error));
                    return;
                }
            }
        }
        if empty {
            self.voids.push(format!("{term} ({target})"));
        }
    }

    /// Follows `include:target` or `redirect=target` from `domain`.
    fn follow(
        &mut self,
        domain: &str,
        target: &str,
        how: &str,
        findings: &mut Vec<Finding>,
        path: &mut Vec<String>,
    ) {
        // A target built from macros depends on the sender; only --ip evaluation can follow it.
        if target.contains('%') {
            return;
        }
        let target = target.trim_end_matches('.');
        if path.iter().any(|seen| seen.eq_ignore_ascii_case(target)) {
            findings.push(spf(
                Code::SpfLoop,
                format!(
                    "{how}:{target} in {domain}'s SPF record leads back to {target} ({} -> \
                     {target}); receivers return permerror",
                    path.join(" -> ")
                ),
                format!("remove the {how} that closes the loop"),
            ));
            return;
        }
        let records = match self.lookup.lookup_records(target, RecordKind::Txt) {
            Ok(records) => records,
            Err(error) => {
                findings.push(Finding::lookup_failed(Check::Spf, &error));
                return;
            }
        };
        let found = published(target, &records);
        let separator = if how == "include" { ":" } else { "=" };
        match found.records.as_slice() {
            [] if !found.unrecognised.is_empty() => findings.extend(found.unrecognised),
            [record] => {
                path.push(target.to_owned());
                self.record(target, record, findings, path);
                path.pop();
            }
            [] => {
                if records.data.is_empty() {
                    self.voids.push(format!("{how}{separator}{target}"));
                }
                findings.push(spf(
                    Code::SpfIncludeMissing,
                    format!(
                        "{how}{separator}{target} in {domain}'s SPF record: {target} has no SPF \
                         record; receivers return permerror"
                    ),
                    format!("remove {how}{separator}{target}, or publish an SPF record there"),
                ));
            }
            several => findings.push(spf(
                Code::SpfMultiple,
                format!(
                    "{how}{separator}{target} in {domain}'s SPF record: {target} has {} SPF \
                     records; receivers return permerror",
                    several.len()
                ),
                format!("merge {target}'s records into one"),
            )),
        }
    }

    /// The findings about the counts, once the whole tree is walked.
    fn totals(&self, domain: &str, findings: &mut Vec<Finding>) {
        if let Some(term) = &self.over_limit {
            findings.push(spf(
                Code::SpfTooManyLookups,
                format!(
                    "{domain}'s SPF record needs {} DNS lookups (include, a, mx, ptr, exists, \
                     redirect, across includes); receivers stop at {MAX_LOOKUPS} and return \
                     permerror, first at {term}",
                    self.lookups
                ),
                "replace includes with the ip4:/ip6: ranges they stand for, or drop unused ones",
            ));
        }
        if self.voids.len() > MAX_VOID_LOOKUPS {
            findings.push(spf(
                Code::SpfVoidLookups,
                format!(
                    "{domain}'s SPF record has {} terms whose lookups find nothing ({}); \
                     receivers return permerror after {MAX_VOID_LOOKUPS}",
                    self.voids.len(),
                    self.voids.join(", ")
                ),
                "remove the terms that name hosts or domains without records",
            ));
        }
    }
}

/// "example.com's" or "example.com's (via include _spf.example.net)".
fn whose(path: &[String]) -> String {
    match path {
        [only] => format!("{only}'s"),
        [first, .., last] => format!("{last}'s (included from {first})"),
        [] => "the".to_owned(),
    }
}

/// The result of check_host() (RFC 7208 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    /// No SPF record.
    None,
    /// The record says nothing about the address.
    Neutral,
    /// The address may send.
    Pass,
    /// The address may not send.
    Fail,
    /// The address probably may not send.
    SoftFail,
    /// A DNS failure: try later.
    TempError,
    /// The record cannot be evaluated.
    PermError,
}

impl SpfResult {
    /// The result's name, as RFC 7208 and Received-SPF write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// check_host()'s answer for one address, and what decided it (`dkimkit check --json`'s
/// `spf_results`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evaluation {
    /// The sending address.
    pub ip: IpAddr,
    /// The result.
    pub result: SpfResult,
    /// The term that decided (`ip4:192.0.2.0/24 in example.com`), or why none did.
    pub decided_by: String,
}

/// Evaluates check_host(ip, domain, postmaster@domain) as RFC 7208 4 and 5 say.
pub fn evaluate(lookup: &dyn RecordLookup, domain: &str, ip: IpAddr) -> Evaluation {
    let sender = format!("postmaster@{domain}");
    let mut evaluator = Evaluator {
        lookup,
        ip,
        sender: &sender,
        helo: domain,
        lookups: 0,
        voids: 0,
    };
    let (result, decided_by) = match evaluator.check_host(domain) {
        Ok(decided) => decided,
        Err(Abort::Perm(why)) => (SpfResult::PermError, why),
        Err(Abort::Temp(why)) => (SpfResult::TempError, why),
    };
    Evaluation {
        ip,
        result,
        decided_by,
    }
}

/// The finding for an `--ip` address SPF does not pass.
pub fn evaluation_finding(domain: &str, evaluation: &Evaluation) -> Option<Finding> {
    let code = match evaluation.result {
        SpfResult::Pass => return None,
        SpfResult::TempError => Code::DnsTemporary,
        _ => Code::SpfNotPermitted,
    };
    Some(spf(
        code,
        format!(
            "mail from {} as {domain}: SPF {} ({})",
            evaluation.ip, evaluation.result, evaluation.decided_by
        ),
        match evaluation.result {
            SpfResult::None => "publish an SPF record that names the address (ip4:/ip6:)",
            SpfResult::PermError => "fix the SPF record's errors reported above",
            _ => {
                "add the address (ip4:/ip6:) or its host (a:) to the SPF record before the final all"
            }
        },
    ))
}

/// Why an evaluation stopped early.
enum Abort {
    Perm(String),
    Temp(String),
}

struct Evaluator<'a> {
    lookup: &'a dyn RecordLookup,
    ip: IpAddr,
    sender: &'a str,
    helo: &'a str,
    lookups: usize,
    voids: usize,
}

impl Evaluator<'_> {
    fn check_host(&mut self, domain: &str) -> Result<(SpfResult, String), Abort> {
        let records = match self.lookup.lookup_records(domain, RecordKind::Txt) {
            Ok(records) => records,
            Err(LookupError::NoSuchName { .. } | LookupError::DanglingCname { .. }) => {
                return Ok((SpfResult::None, format!("no SPF record at {domain}")));
            }
            Err(error @ LookupError::InvalidName { .. }) => {
                return Ok((SpfResult::None, error.to_string()));
            }
            Err(error) => return Err(Abort::Temp(error.to_string())),
        };
        let found: Vec<&str> = records.texts().filter(|t| is_spf_record(t)).collect();
        let text = match found.as_slice() {
            [] => return Ok((SpfResult::None, format!("no SPF record at {domain}"))),
            [text] => *text,
            _ => return Err(Abort::Perm(format!("{domain} has several SPF records"))),
        };
        let record = SpfRecord::parse(text)
            .map_err(|error| Abort::Perm(format!("{domain}'s SPF record: {error}")))?;
        for directive in &record.directives {
            if self.matches(&directive.mechanism, &directive.text, domain)? {
                let result = match directive.qualifier {
                    Qualifier::Pass => SpfResult::Pass,
                    Qualifier::Fail => SpfResult::Fail,
                    Qualifier::SoftFail => SpfResult::SoftFail,
                    Qualifier::Neutral => SpfResult::Neutral,
                };
                return Ok((result, format!("{} in {domain}", directive.text)));
            }
        }
        if let Some(spec) = &record.redirect
            && !record.has_all()
        {
            self.count(&format!("redirect={spec}"))?;
            let target = self.expand(spec, domain)?;
            let (result, why) = self.check_host(&target)?;
            if result == SpfResult::None {
                return Err(Abort::Perm(format!(
                    "redirect={spec} in {domain}: {target} has no SPF record"
                )));
            }
            return Ok((result, why));
        }
        Ok((
            SpfResult::Neutral,
            format!("no term of {domain}'s record matched (the default is neutral)"),
        ))
    }

    fn count(&mut self, term: &str) -> Result<(), Abort> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(Abort::Perm(format!(
                "more than {MAX_LOOKUPS} DNS lookups, at {term}"
            )));
        }
        Ok(())
    }

    fn void(&mut self, term: &str) -> Result<(), Abort> {
        self.voids += 1;
        if self.voids > MAX_VOID_LOOKUPS {
            return Err(Abort::Perm(format!(
                "more than {MAX_VOID_LOOKUPS} void lookups, at {term}"
            )));
        }
        Ok(())
    }

    fn expand(&self, spec: &str, domain: &str) -> Result<String, Abort> {
        let context = MacroContext {
            sender: self.sender,
            domain,
            ip: self.ip,
            helo: self.helo,
        };
        expand(spec, &context).map_err(Abort::Perm)
    }

    /// The records of `kind` at `name`; a temporary failure aborts, a bad name finds nothing.
    fn records(&self, name: &str, kind: RecordKind) -> Result<Vec<RecordData>, Abort> {
        match self.lookup.lookup_records(name, kind) {
            Ok(records) => Ok(records.data),
            Err(error) if error.is_temporary() || matches!(error, LookupError::Bogus { .. }) => {
                Err(Abort::Temp(error.to_string()))
            }
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The addresses of `name` of the client's family.
    fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, Abort> {
        let kind = match self.ip {
            IpAddr::V4(_) => RecordKind::A,
            IpAddr::V6(_) => RecordKind::Aaaa,
        };
        Ok(self
            .records(name, kind)?
            .into_iter()
            .filter_map(|data| match data {
                RecordData::A(address) => Some(address.into()),
                RecordData::Aaaa(address) => Some(address.into()),
                _ => None,
            })
            .collect())
    }

    fn matches(&mut self, mechanism: &Mechanism, term: &str, domain: &str) -> Result<bool, Abort> {
        if mechanism.queries_dns() {
            self.count(term)?;
        }
        let target = |this: &Self, spec: &Option<String>| match spec {
            Some(spec) => this.expand(spec, domain),
            None => Ok(domain.to_owned()),
        };
        Ok(match mechanism {
            Mechanism::All => true,
            Mechanism::Ip4(network, cidr) => address_in(self.ip, (*network).into(), *cidr),
            Mechanism::Ip6(network, cidr) => address_in(self.ip, (*network).into(), *cidr),
            Mechanism::Include(spec) => {
                let included = self.expand(spec, domain)?;
                match self.check_host(&included)? {
                    (SpfResult::Pass, _) => true,
                    (SpfResult::None, _) => {
                        return Err(Abort::Perm(format!(
                            "{term} in {domain}: {included} has no SPF record"
                        )));
                    }
                    _ => false,
                }
            }
            Mechanism::A {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let name = target(self, spec)?;
                let addresses = self.addresses(&name)?;
                if addresses.is_empty() {
                    self.void(term)?;
                }
                addresses
                    .iter()
                    .any(|address| self.in_dual(*address, *cidr4, *cidr6))
            }
            Mechanism::Mx {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                let name = target(self, spec)?;
                let exchanges: Vec<String> = self
                    .records(&name, RecordKind::Mx)?
                    .into_iter()
                    .filter_map(|data| match data {
                        RecordData::Mx { exchange, .. } if !exchange.is_empty() => Some(exchange),
                        _ => None,
                    })
                    .collect();
                if exchanges.is_empty() {
                    self.void(term)?;
                }
                if exchanges.len() > MAX_NAMES_PER_TERM {
                    return Err(Abort::Perm(format!(
                        "{term} in {domain}: more than {MAX_NAMES_PER_TERM} MX hosts"
                    )));
                }
                let mut matched = false;
                for exchange in &exchanges {
                    matched |= self
                        .addresses(exchange)?
                        .iter()
                        .any(|address| self.in_dual(*address, *cidr4, *cidr6));
                }
                matched
            }
            Mechanism::Ptr(spec) => {
                let wanted = target(self, spec)?.to_ascii_lowercase();
                // RFC 7208 5.5: a DNS error here makes the mechanism not match.
                let names: Vec<String> = match self
                    .lookup
                    .lookup_records(&reverse_name(self.ip), RecordKind::Ptr)
                {
                    Ok(records) => records.names().map(str::to_ascii_lowercase).collect(),
                    Err(_) => Vec::new(),
                };
                if names.is_empty() {
                    self.void(term)?;
                }
                let mut matched = false;
                for name in names.iter().take(MAX_NAMES_PER_TERM) {
                    let in_domain = *name == wanted || name.ends_with(&format!(".{wanted}"));
                    if in_domain && self.addresses(name).unwrap_or_default().contains(&self.ip) {
                        matched = true;
                        break;
                    }
                }
                matched
            }
            Mechanism::Exists(spec) => {
                let name = self.expand(spec, domain)?;
                // RFC 7208 5.7: an A query, whatever the client's address family.
                let found = !self.records(&name, RecordKind::A)?.is_empty();
                if !found {
                    self.void(term)?;
                }
                found
            }
        })
    }

    fn in_dual(&self, address: IpAddr, cidr4: u8, cidr6: u8) -> bool {
        let cidr = if address.is_ipv4() { cidr4 } else { cidr6 };
        address_in(self.ip, address, cidr)
    }
}

//! MX records, their hosts' addresses, and forward-confirmed reverse DNS: what receivers look
//! at before they accept a domain's bounces and reports, or its outgoing mail.

use std::net::IpAddr;

use super::findings::{Check, Code, Finding};
use super::reverse_name;
use dkim_dns::{RecordData, RecordKind, RecordLookup};

/// Checks the MX records of `domain`, each host's addresses and their reverse DNS.
pub fn check(lookup: &dyn RecordLookup, domain: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let exchanges: Vec<(u16, String)> = match lookup.lookup_records(domain, RecordKind::Mx) {
        Ok(records) => records
            .data
            .into_iter()
            .filter_map(|data| match data {
                RecordData::Mx {
                    preference,
                    exchange,
                } => Some((preference, exchange)),
                _ => None,
            })
            .collect(),
        Err(error) => return vec![Finding::lookup_failed(Check::Mx, &error)],
    };
    // RFC 7505: a single MX of "." says the domain receives no mail, and that is a choice.
    if exchanges.iter().any(|(_, exchange)| exchange.is_empty()) {
        return findings;
    }
    let hosts: Vec<String> = if exchanges.is_empty() {
        // RFC 5321 5.1: without MX records, the domain's own address is its mail exchanger.
        match addresses(lookup, domain) {
            Ok(found) if found.is_empty() => {
                findings.push(Finding::new(
                    Check::Mx,
                    Code::MxMissing,
                    format!(
                        "{domain} has neither MX nor address records: it cannot receive \
                         bounces or DMARC reports"
                    ),
                    format!(
                        "publish an MX record naming the host that receives its mail, or a null \
                         MX (\"{domain}. IN MX 0 .\", RFC 7505) if it receives none"
                    ),
                ));
                return findings;
            }
            Ok(_) => vec![domain.to_owned()],
            Err(finding) => return vec![finding],
        }
    } else {
        exchanges.into_iter().map(|(_, host)| host).collect()
    };
    for host in hosts {
        check_host(lookup, &host, &mut findings);
    }
    findings
}

/// The A and AAAA records of `host`.
fn addresses(lookup: &dyn RecordLookup, host: &str) -> Result<Vec<IpAddr>, Finding> {
    let mut found = Vec::new();
    for kind in [RecordKind::A, RecordKind::Aaaa] {
        let records = lookup
            .lookup_records(host, kind)
            .map_err(|error| Finding::lookup_failed(Check::Mx, &error))?;
        found.extend(records.addresses());
    }
    Ok(found)
}

fn check_host(lookup: &dyn RecordLookup, host: &str, findings: &mut Vec<Finding>) {
    match lookup.lookup_records(host, RecordKind::Cname) {
        Ok(records) => {
            if let Some(target) = records.names().next() {
                findings.push(Finding::new(
                    Check::Mx,
                    Code::MxCname,
                    format!(
                        "the MX host {host} is a CNAME (to {target}); an MX must name a host \
                         with address records (RFC 2181 10.3), and some senders refuse it"
                    ),
                    format!("point the MX record at {target} itself"),
                ));
            }
        }
        Err(error) => findings.push(Finding::lookup_failed(Check::Mx, &error)),
    }
    let found = match addresses(lookup, host) {
        Ok(found) => found,
        Err(finding) => {
            findings.push(finding);
            return;
        }
    };
    if found.is_empty() {
        findings.push(Finding::new(
            Check::Mx,
            Code::MxNoAddress,
            format!("the MX host {host} has no A or AAAA record: mail to it cannot be delivered"),
            format!("publish {host}'s address, or point the MX record at a host that has one"),
        ));
    }
    for address in found {
        check_reverse(lookup, host, address, findings);
    }
}

/// Forward-confirmed reverse DNS: `address` has a PTR record whose name resolves back to it.
fn check_reverse(
    lookup: &dyn RecordLookup,
    host: &str,
    address: IpAddr,
    findings: &mut Vec<Finding>,
) {
    let reverse = reverse_name(address);
    let names: Vec<String> = match lookup.lookup_records(&reverse, RecordKind::Ptr) {
        Ok(records) => records.names().map(str::to_owned).collect(),
        Err(error) => {
            findings.push(Finding::lookup_failed(Check::Ptr, &error));
            return;
        }
    };
    if names.is_empty() {
        findings.push(Finding::new(
            Check::Ptr,
            Code::PtrMissing,
            format!(
                "{address} ({host}) has no PTR record at {reverse}: many receivers refuse mail \
                 from addresses without reverse DNS"
            ),
            format!(
                "ask whoever controls the address (the hosting or network provider) to set its \
                 reverse DNS to {host}"
            ),
        ));
        return;
    }
    for name in &names {
        match addresses(lookup, name) {
            Ok(back) if back.contains(&address) => return,
            Ok(_) => {}
            Err(finding) => {
                findings.push(finding);
                return;
            }
        }
    }
    findings.push(Finding::new(
        Check::Ptr,
        Code::PtrMismatch,
        format!(
            "{address} ({host}) has the reverse name {}, which does not resolve back to \
             {address}: receivers require forward-confirmed reverse DNS",
            names.join(", ")
        ),
        format!(
            "set the reverse DNS of {address} to {host}, or publish {address} as an address of {}",
            names[0]
        ),
    ));
}

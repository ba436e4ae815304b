//! A mail domain's DNS, checked for CI (`dkimkit check`): SPF, DMARC, DKIM keys, historic
//! policy records, MX with their addresses and reverse DNS, and the MTA-STS and TLS-RPT records.
//!
//! Each check returns typed [`Finding`]s with stable codes; the checks of a domain run
//! concurrently, and every answer comes from one [`RecordLookup`] that callers cache for the run
//! ([`dkim_dns::CachingLookup`]), so a name that several checks need is asked once.

mod dkim;
mod dmarc;
mod findings;
mod mta_sts_policy;
mod mx;
mod policy_records;
pub mod spf;
mod spf_macro;
mod spf_record;

use std::net::IpAddr;

pub use dkim::{code_of, key_findings, unreadable_key};
pub use findings::{Check, Code, DomainReport, Finding, Severity};
pub use mta_sts_policy::{FetchSettings, FetchSetupError};
pub use spf::{Evaluation, SpfResult};
pub use spf_record::{SpfRecord, SpfSyntaxError};

use dkim_dns::RecordLookup;

/// One of a domain's checks.
type DomainCheck = fn(&dyn RecordLookup, &str) -> Vec<Finding>;

/// Checks everything but DKIM keys (whose private keys the caller reads) for `domain`, and
/// evaluates SPF for each address of `ips`; with `fetch`, the MTA-STS policy is fetched when the
/// domain announces one. The checks run concurrently.
pub fn check_domain(
    lookup: &dyn RecordLookup,
    domain: &str,
    ips: &[IpAddr],
    fetch: Option<&FetchSettings>,
) -> DomainReport {
    let domain = domain.trim_end_matches('.');
    let checks: [DomainCheck; 6] = [
        spf::check,
        dmarc::check,
        dkim::check_historic,
        mx::check,
        policy_records::check_mta_sts,
        policy_records::check_tlsrpt,
    ];
    let (mut findings, spf_results) = std::thread::scope(|scope| {
        let running: Vec<_> = checks
            .iter()
            .map(|check| scope.spawn(move || check(lookup, domain)))
            .collect();
        let policy = fetch.map(|settings| {
            scope.spawn(move || {
                let announced = announces_mta_sts(lookup, domain);
                if announced {
                    let hosts = mta_sts_policy::mx_hosts(lookup, domain);
                    mta_sts_policy::check(lookup, domain, &hosts, settings)
                } else {
                    Vec::new()
                }
            })
        });
        let spf_results: Vec<Evaluation> = ips
            .iter()
            .map(|ip| spf::evaluate(lookup, domain, *ip))
            .collect();
        let findings: Vec<Finding> = running
            .into_iter()
            .chain(policy)
            .flat_map(|handle| handle.join().unwrap_or_default())
            .collect();
        (findings, spf_results)
    });
    findings.extend(
        spf_results
            .iter()
            .filter_map(|evaluation| spf::evaluation_finding(domain, evaluation)),
    );
    findings.sort_by_key(|finding| finding.check);
    DomainReport {
        domain: domain.to_owned(),
        findings,
        spf_results,
    }
}

/// Whether `domain` publishes an `_mta-sts` record, so that a policy is to be fetched.
fn announces_mta_sts(lookup: &dyn RecordLookup, domain: &str) -> bool {
    lookup
        .lookup_records(&format!("_mta-sts.{domain}"), dkim_dns::RecordKind::Txt)
        .is_ok_and(|records| records.texts().any(|text| text.starts_with("v=STSv1")))
}

/// The reverse DNS name of `address` (RFC 1035 3.5, RFC 3596 2.5).
pub(crate) fn reverse_name(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut labels: Vec<String> = v6
                .octets()
                .iter()
                .flat_map(|byte| [byte >> 4, byte & 0xf])
                .map(|nibble| format!("{nibble:x}"))
                .collect();
            labels.reverse();
            format!("{}.ip6.arpa", labels.join("."))
        }
    }
}

/// Whether `address` lies in `network`/`prefix` (same family only).
pub(crate) fn address_in(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_and_networks() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert!(reverse_name("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
        assert!(
            reverse_name("2001:db8::1".parse().unwrap()).ends_with(".8.b.d.0.1.0.0.2.ip6.arpa")
        );
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(address_in(ip("192.0.2.200"), ip("192.0.2.0"), 24));
        assert!(!address_in(ip("192.0.3.1"), ip("192.0.2.0"), 24));
        assert!(address_in(ip("10.1.2.3"), ip("0.0.0.0"), 0));
        assert!(address_in(ip("2001:db8::5"), ip("2001:db8::"), 32));
        assert!(!address_in(ip("2001:db8::5"), ip("192.0.2.0"), 0));
    }
}

//! The records of a set of keys as zone data, in the forms opendkim-genzone writes: a zone file
//! (optionally with an SOA record and NS records at the top) or a script for nsupdate(1).
//!
//! opendkim-genzone names a record after its selector alone (for a `_domainkey.DOMAIN` zone),
//! with `-D` as `SELECTOR._domainkey` (for the domain's zone), or with `-F` fully qualified; the
//! same choices are here. Two of its habits are not copied, since they make data named cannot
//! use: host names in the SOA and NS records are written fully qualified (with the final dot,
//! so that they are not read relative to the zone), and an nsupdate script sends one update per
//! zone with fully qualified names (one update message may only change one zone, RFC 2136 2.3).

use std::fmt::Write as _;

use crate::name::{DomainName, Selector, key_name, relative_key_name};
use crate::record::{KeyRecord, format_txt_entry, quoted_txt_strings};

/// How a record's owner name is written in a zone file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OwnerStyle {
    /// `SELECTOR`: relative to a zone `_domainkey.DOMAIN` (opendkim-genzone's default).
    #[default]
    Selector,
    /// `SELECTOR._domainkey`: relative to the domain's zone (opendkim-genzone `-D`).
    WithDomainkey,
    /// `SELECTOR._domainkey.DOMAIN.` (opendkim-genzone `-F`).
    FullyQualified,
}

/// One key's record, with the names it is published under.
#[derive(Debug, Clone)]
pub struct ZoneKey {
    /// The signing domain.
    pub domain: DomainName,
    /// The selector.
    pub selector: Selector,
    /// The record.
    pub record: KeyRecord,
    /// A comment to put after the record (such as the KeyTable key it comes from).
    pub comment: String,
}

impl ZoneKey {
    /// The owner name in a zone file.
    pub fn owner(&self, style: OwnerStyle) -> String {
        match style {
            OwnerStyle::Selector => self.selector.to_string(),
            OwnerStyle::WithDomainkey => relative_key_name(&self.selector),
            OwnerStyle::FullyQualified => fully_qualified(&key_name(&self.selector, &self.domain)),
        }
    }
}

/// The SOA record's timers (opendkim-genzone's -r, -R, -E and -T; its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaTimers {
    /// Refresh (-r), seconds.
    pub refresh: u32,
    /// Retry (-R), seconds.
    pub retry: u32,
    /// Expire (-E), seconds.
    pub expire: u32,
    /// The default TTL, the SOA's last field (-T), seconds; also the TTL of nsupdate records
    /// when -t is not given.
    pub default_ttl: u32,
}

impl Default for SoaTimers {
    fn default() -> Self {
        SoaTimers {
            refresh: 10_800,
            retry: 1_800,
            expire: 604_800,
            default_ttl: 86_400,
        }
    }
}

/// An SOA record for the top of the zone data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// The primary name server's host name (MNAME).
    pub primary: String,
    /// The contact, as an address (`hostmaster@example.com`) or a mailbox name
    /// (`hostmaster.example.com`).
    pub contact: String,
    /// The serial.
    pub serial: u32,
    /// The timers.
    pub timers: SoaTimers,
}

/// A host name written so that a zone file reads it as given: with a final dot, unless it is
/// a single label (a name relative to the zone, such as `ns1`).
pub fn fully_qualified(name: &str) -> String {
    if name.ends_with('.') || !name.contains('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// The SOA RNAME of a contact: `hostmaster@example.com` becomes `hostmaster.example.com.`
/// (RFC 1035 8: the `@` becomes a dot); a dot in the local part is escaped so that it stays
/// there.
pub fn contact_mailbox(contact: &str) -> String {
    match contact.split_once('@') {
        Some((local, domain)) => {
            fully_qualified(&format!("{}.{domain}", local.replace('.', "\\.")))
        }
        None => fully_qualified(contact),
    }
}

/// Whether a key of `domain` is wanted when only `only` is asked for (-d), with its
/// subdomains when `subdomains` (-s). Domain names compare without regard to ASCII case.
pub fn domain_selected(domain: &DomainName, only: &DomainName, subdomains: bool) -> bool {
    let (domain, only) = (
        domain.as_str().to_ascii_lowercase(),
        only.as_str().to_ascii_lowercase(),
    );
    domain == only || (subdomains && domain.ends_with(&format!(".{only}")))
}

/// Zone-file data: a header comment, the SOA record if asked for, NS records for
/// `nameservers`, then every key's record (with `ttl` when given).
pub fn zone_file(
    keys: &[ZoneKey],
    style: OwnerStyle,
    ttl: Option<u32>,
    nameservers: &[String],
    soa: Option<&Soa>,
    only_domain: Option<&DomainName>,
) -> String {
    let mut text = String::from("; DKIM public key zone data\n");
    if let Some(domain) = only_domain {
        let _ = writeln!(text, "; for {domain}");
    }
    text.push_str("; generated by dkimkit genzone\n\n");
    if let Some(soa) = soa {
        let timers = soa.timers;
        let _ = write!(
            text,
            "@\tIN\tSOA\t{} {} (\n\t{:<10} ; serial\n\t{:<10} ; refresh\n\t{:<10} ; retry\n\
             \t{:<10} ; expire\n\t{:<10} ) ; default TTL\n\n",
            fully_qualified(&soa.primary),
            contact_mailbox(&soa.contact),
            soa.serial,
            timers.refresh,
            timers.retry,
            timers.expire,
            timers.default_ttl,
        );
    }
    if !nameservers.is_empty() {
        for server in nameservers {
            let _ = writeln!(text, "@\tIN\tNS\t{}", fully_qualified(server));
        }
        text.push('\n');
    }
    for key in keys {
        text.push_str(&format_txt_entry(
            &key.owner(style),
            ttl,
            &key.record.to_value(),
            Some(&key.comment),
        ));
    }
    text
}

/// A script for nsupdate(1) that adds every key's record with `ttl`: for each domain in turn,
/// `zone DOMAIN`, its `update add` lines and `send`. With `server`, a `server` line comes first;
/// without, nsupdate asks the zone's primary, as its manual says.
pub fn nsupdate_script(keys: &[ZoneKey], ttl: u32, server: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(server) = server {
        let _ = writeln!(text, "server {server}");
    }
    let mut domains: Vec<&DomainName> = Vec::new();
    for key in keys {
        if !domains
            .iter()
            .any(|d| d.as_str().eq_ignore_ascii_case(key.domain.as_str()))
        {
            domains.push(&key.domain);
        }
    }
    for domain in domains {
        let _ = writeln!(text, "zone {}", fully_qualified(domain.as_str()));
        for key in keys
            .iter()
            .filter(|k| k.domain.as_str().eq_ignore_ascii_case(domain.as_str()))
        {
            let _ = writeln!(
                text,
                "update add {} {ttl} IN TXT {}",
                key.owner(OwnerStyle::FullyQualified),
                quoted_txt_strings(&key.record.to_value()).join(" ")
            );
        }
        text.push_str("send\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeySpec, PrivateKey};

    fn key(domain: &str, selector: &str) -> ZoneKey {
        let public = PrivateKey::generate(KeySpec::Ed25519).unwrap().public_key();
        ZoneKey {
            domain: domain.parse().unwrap(),
            selector: selector.parse().unwrap(),
            record: KeyRecord::new(&public),
            comment: format!("key {selector}"),
        }
    }

    #[test]
    fn owner_names_follow_opendkim_genzones_flags() {
        let key = key("example.com", "s1");
        assert_eq!(key.owner(OwnerStyle::Selector), "s1");
        assert_eq!(key.owner(OwnerStyle::WithDomainkey), "s1._domainkey");
        assert_eq!(
            key.owner(OwnerStyle::FullyQualified),
            "s1._domainkey.example.com."
        );
    }

    #[test]
    fn names_in_soa_and_ns_records_are_fully_qualified() {
        assert_eq!(fully_qualified("ns1.example.com"), "ns1.example.com.");
        assert_eq!(fully_qualified("ns1.example.com."), "ns1.example.com.");
        assert_eq!(fully_qualified("ns1"), "ns1");
        assert_eq!(
            contact_mailbox("host.master@example.com"),
            "host\\.master.example.com."
        );
        assert_eq!(
            contact_mailbox("hostmaster.example.com"),
            "hostmaster.example.com."
        );
        let soa = Soa {
            primary: "ns1.example.com".into(),
            contact: "hostmaster@example.com".into(),
            serial: 2026120413,
            timers: SoaTimers::default(),
        };
        let text = zone_file(
            &[],
            OwnerStyle::Selector,
            None,
            &["ns1.example.com".into()],
            Some(&soa),
            None,
        );
        assert!(
            text.contains(
                "@\tIN\tSOA\tns1.example.com. hostmaster.example.com. (\n\t2026120413 ; serial"
            ),
            "{text}"
        );
        assert!(text.contains("@\tIN\tNS\tns1.example.com.\n"), "{text}");
    }

    #[test]
    fn domain_selection_with_and_without_subdomains() {
        let only: DomainName = "Example.com".parse().unwrap();
        let sub: DomainName = "mail.example.com".parse().unwrap();
        let other: DomainName = "notexample.com".parse().unwrap();
        assert!(domain_selected(
            &"example.COM".parse().unwrap(),
            &only,
            false
        ));
        assert!(!domain_selected(&sub, &only, false));
        assert!(domain_selected(&sub, &only, true));
        assert!(!domain_selected(&other, &only, true));
    }

    #[test]
    fn nsupdate_sends_one_update_per_zone() {
        let keys = [
            key("example.com", "a"),
            key("example.net", "b"),
            key("example.com", "c"),
        ];
        let script = nsupdate_script(&keys, 300, None);
        let lines: Vec<&str> = script
            .lines()
            .map(|l| l.split(" IN TXT").next().unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                "zone example.com.",
                "update add a._domainkey.example.com. 300",
                "update add c._domainkey.example.com. 300",
                "send",
                "zone example.net.",
                "update add b._domainkey.example.net. 300",
                "send"
            ]
        );
        assert!(nsupdate_script(&keys, 1, Some("192.0.2.1")).starts_with("server 192.0.2.1\n"));
    }
}

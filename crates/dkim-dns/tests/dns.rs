//! The DNS layer against a real BIND named on loopback (crates/named-harness), with zones holding
//! the records dkimkit's genkey writes.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use dkim_core::record::{format_zone_entry, zone_entry_comment, zone_owner_name};
use dkim_core::{DomainName, KeyRecord, KeySpec, PrivateKey, Selector};
use dkim_dns::{
    CachingLookup, DnssecStatus, HickoryLookup, KeyLookup, LookupError, ResolverSettings,
    TrustAnchor, TxtAnswer,
};
use named_harness::{NamedServer, Zone, signed_root};

/// A key record as `dkimkit genkey` writes it: the one-line value, and the `SELECTOR.txt` zone
/// entry (relative owner name, strings of at most 250 bytes, comment).
struct GenkeyRecord {
    value: String,
    zone_entry: String,
}

fn genkey_record(selector: &str, domain: &str, spec: KeySpec) -> GenkeyRecord {
    let selector: Selector = selector.parse().expect("a valid selector");
    let domain: DomainName = domain.parse().expect("a valid domain");
    let key = PrivateKey::generate(spec)
        .expect("key generation")
        .public_key();
    let value = KeyRecord::new(&key).to_value();
    let zone_entry = format_zone_entry(
        &zone_owner_name(&selector, Some(&domain), false),
        &value,
        Some(&zone_entry_comment(&selector, Some(&domain))),
    );
    GenkeyRecord { value, zone_entry }
}

fn ed25519_record(selector: &str, domain: &str) -> GenkeyRecord {
    genkey_record(selector, domain, KeySpec::Ed25519)
}

fn settings(servers: &[SocketAddr]) -> ResolverSettings {
    ResolverSettings {
        nameservers: servers.to_vec(),
        timeout: Duration::from_secs(5),
        attempts: 2,
        dnssec: None,
    }
}

fn lookup_at(server: &NamedServer) -> HickoryLookup {
    HickoryLookup::new(&settings(&[server.addr()])).expect("resolver settings")
}

fn validating_lookup_at(server: &NamedServer, anchor: String) -> HickoryLookup {
    HickoryLookup::new(&ResolverSettings {
        dnssec: Some(TrustAnchor::Records(anchor)),
        ..settings(&[server.addr()])
    })
    .expect("resolver settings")
}

fn records(answer: &TxtAnswer) -> Vec<String> {
    let mut records = answer.records.clone();
    records.sort();
    records
}

#[test]
fn a_record_split_over_several_strings_comes_back_joined() {
    let genkey = genkey_record("202611", "example.com", KeySpec::Rsa { bits: 2048 });
    assert!(
        genkey.value.len() > 255,
        "the record must need several strings"
    );
    assert!(
        genkey.zone_entry.matches('"').count() >= 6,
        "{}",
        genkey.zone_entry
    );
    // The .txt file loads as genkey writes it, through $INCLUDE.
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("202611.txt");
    std::fs::write(&txt, &genkey.zone_entry).unwrap();
    let server = NamedServer::start(&[Zone::new(
        "example.com",
        &format!("$INCLUDE {}\n", txt.display()),
    )]);

    let answer = lookup_at(&server)
        .lookup_txt("202611._domainkey.example.com")
        .unwrap();
    assert_eq!(answer.records, std::slice::from_ref(&genkey.value));
    assert!(answer.cname_chain.is_empty());
    assert_eq!(answer.dnssec, DnssecStatus::NotValidated);
    assert_eq!(
        KeyRecord::parse(&answer.records[0])
            .unwrap()
            .public_key()
            .unwrap()
            .bits(),
        2048
    );
}

#[test]
fn a_4096_bit_key_record_comes_back_whole_over_edns_and_over_tcp() {
    let genkey = genkey_record("big", "example.com", KeySpec::Rsa { bits: 4096 });
    assert!(genkey.value.len() > 512, "{}", genkey.value.len());
    let zone = Zone::new("example.com", &genkey.zone_entry);
    // EDNS (RFC 6891): the answer fits hickory's 1232-byte UDP payload.
    let edns = NamedServer::start(std::slice::from_ref(&zone));
    // A server that sends at most 512 bytes over UDP truncates the answer: the lookup must
    // retry over TCP (RFC 7766).
    let small_udp = NamedServer::start_with_options(&[zone], "max-udp-size 512;");
    for server in [&edns, &small_udp] {
        let answer = lookup_at(server)
            .lookup_txt("big._domainkey.example.com")
            .unwrap();
        assert_eq!(answer.records, std::slice::from_ref(&genkey.value));
    }
}

#[test]
fn no_such_name_differs_from_no_txt_record() {
    let genkey = ed25519_record("s1", "example.com");
    let server = NamedServer::start(&[Zone::new(
        "example.com",
        &format!("{}mail IN A 192.0.2.25\n", genkey.zone_entry),
    )]);
    let lookup = lookup_at(&server);
    assert_eq!(
        lookup.lookup_txt("gone._domainkey.example.com"),
        Err(LookupError::NoSuchName {
            name: "gone._domainkey.example.com".into()
        })
    );
    assert_eq!(
        lookup.lookup_txt("mail.example.com"),
        Err(LookupError::NoRecords {
            name: "mail.example.com".into()
        })
    );
    // `_domainkey.example.com` exists only because names exist below it (an empty
    // non-terminal, RFC 8020): no TXT there, but no NXDOMAIN either.
    assert_eq!(
        lookup.lookup_txt("_domainkey.example.com"),
        Err(LookupError::NoRecords {
            name: "_domainkey.example.com".into()
        })
    );
    let error = lookup.lookup_txt("mail.example.com").unwrap_err();
    assert!(!error.is_temporary());
}

#[test]
fn every_txt_record_at_a_name_is_returned() {
    let genkey = ed25519_record("multi", "example.com");
    let server = NamedServer::start(&[Zone::new(
        "example.com",
        &format!(
            "{}multi._domainkey IN TXT \"v=DKIM1; k=rsa; p=\"\nmulti._domainkey IN TXT \"unrelated\"\n",
            genkey.zone_entry
        ),
    )]);
    let answer = lookup_at(&server)
        .lookup_txt("multi._domainkey.example.com")
        .unwrap();
    let mut expected = vec![
        genkey.value,
        "v=DKIM1; k=rsa; p=".to_owned(),
        "unrelated".to_owned(),
    ];
    expected.sort();
    assert_eq!(records(&answer), expected);
}

#[test]
fn cnames_are_followed_within_a_zone_and_into_another() {
    let local = ed25519_record("local", "example.com");
    let delegated = ed25519_record("delegated", "example.org");
    let server = NamedServer::start(&[
        Zone::new(
            "example.com",
            &format!(
                "s1._domainkey IN CNAME target1\n\
                 target1 IN CNAME local._domainkey\n\
                 {}\
                 s2._domainkey IN CNAME delegated._domainkey.example.org.\n",
                local.zone_entry
            ),
        ),
        Zone::new("example.org", &delegated.zone_entry),
    ]);
    let lookup = lookup_at(&server);

    let answer = lookup.lookup_txt("s1._domainkey.example.com").unwrap();
    assert_eq!(answer.records, [local.value]);
    assert_eq!(
        answer.cname_chain,
        ["target1.example.com", "local._domainkey.example.com"]
    );

    let answer = lookup.lookup_txt("S2._domainkey.example.com.").unwrap();
    assert_eq!(answer.records, [delegated.value]);
    assert_eq!(answer.cname_chain, ["delegated._domainkey.example.org"]);
}

#[test]
fn a_cname_chain_that_ends_nowhere_or_loops_dangles() {
    // A chain longer than anyone follows: long0 -> long1 -> ... -> long12 (TXT).
    let long_chain: String = (0..12)
        .map(|n| format!("long{n}._domainkey IN CNAME long{}._domainkey\n", n + 1))
        .chain(["long12._domainkey IN TXT \"v=DKIM1; p=\"\n".to_owned()])
        .collect();
    let server = NamedServer::start(&[
        Zone::new(
            "example.com",
            &format!(
                "gone._domainkey IN CNAME gone.example.org.\n\
             empty._domainkey IN CNAME mail.example.org.\n\
             loop1._domainkey IN CNAME loop2._domainkey\n\
             loop2._domainkey IN CNAME loop1._domainkey\n\
             {long_chain}"
            ),
        ),
        Zone::new("example.org", "mail IN A 192.0.2.25\n"),
    ]);
    let lookup = lookup_at(&server);
    for (name, target) in [
        ("gone._domainkey.example.com", "gone.example.org"),
        ("empty._domainkey.example.com", "mail.example.org"),
        (
            "loop1._domainkey.example.com",
            "loop1._domainkey.example.com",
        ),
        (
            "long0._domainkey.example.com",
            "long8._domainkey.example.com",
        ),
    ] {
        let error = lookup.lookup_txt(name).unwrap_err();
        assert_eq!(
            error,
            LookupError::DanglingCname {
                name: name.into(),
                target: target.into()
            }
        );
        assert!(!error.is_temporary());
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    // A socket that receives the queries and never answers them.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let lookup = HickoryLookup::new(&ResolverSettings {
        nameservers: vec![silent.local_addr().unwrap()],
        timeout: Duration::from_millis(200),
        attempts: 2,
        dnssec: None,
    })
    .unwrap();
    let started = Instant::now();
    let error = lookup.lookup_txt("s._domainkey.example.com").unwrap_err();
    assert_eq!(
        error,
        LookupError::Timeout {
            name: "s._domainkey.example.com".into()
        }
    );
    assert!(error.is_temporary());
    // Bounded by the configured 2 x 200 ms, with ample room for a busy machine; the default
    // timeout (2 x 5 s) would not fit.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn refused_and_servfail_are_temporary_server_failures() {
    let server = NamedServer::start(&[
        Zone::new("example.com", "a IN TXT \"x\"\n"),
        Zone::failing_to_load("broken.example"),
    ]);
    let lookup = lookup_at(&server);

    // Not a zone of this authoritative-only server: REFUSED.
    let refused = lookup.lookup_txt("s._domainkey.example.net").unwrap_err();
    assert!(
        matches!(&refused, LookupError::ServerFailure { detail, .. } if detail.contains("REFUSED")),
        "{refused:?}"
    );
    assert!(refused.is_temporary());

    // A zone that did not load: SERVFAIL.
    let servfail = lookup
        .lookup_txt("s._domainkey.broken.example")
        .unwrap_err();
    assert!(
        matches!(&servfail, LookupError::ServerFailure { detail, .. } if detail.contains("SERVFAIL")),
        "{servfail:?}"
    );
    assert!(servfail.is_temporary());
    assert_eq!(servfail.name(), "s._domainkey.broken.example");
}

/// A private signed tree: a signed root (the trust anchor) delegating to a signed zone, an
/// unsigned one, one whose signatures expired and one altered after signing.
fn dnssec_tree() -> (NamedServer, GenkeyRecord) {
    let secure = ed25519_record("sel", "example.com");
    let server = signed_root(&[
        Zone::new(
            "example.com",
            &format!(
                "{}delegated._domainkey IN CNAME sel._domainkey.example.net.\n\
                 dangling._domainkey IN CNAME nothing.example.com.\n\
                 mail IN A 192.0.2.25\n",
                secure.zone_entry
            ),
        )
        .signed(),
        Zone::new(
            "example.net",
            &ed25519_record("sel", "example.net").zone_entry,
        ),
        Zone::new(
            "expired.example",
            &ed25519_record("sel", "expired.example").zone_entry,
        )
        .signed_expired(),
        Zone::new(
            "altered.example",
            "sel._domainkey IN TXT \"v=DKIM1; k=ed25519; p=AAAA\"\n",
        )
        .altered_after_signing("p=AAAA", "p=BBBB"),
    ]);
    (server, secure)
}

#[test]
fn dnssec_secure_insecure_and_bogus() {
    let (server, secure) = dnssec_tree();
    let lookup = validating_lookup_at(&server, server.trust_anchor());

    let answer = lookup.lookup_txt("sel._domainkey.example.com").unwrap();
    assert_eq!(answer.records, [secure.value]);
    assert_eq!(answer.dnssec, DnssecStatus::Secure);

    let answer = lookup.lookup_txt("sel._domainkey.example.net").unwrap();
    assert_eq!(answer.dnssec, DnssecStatus::Insecure);
    assert!(answer.records[0].starts_with("v=DKIM1; k=ed25519; p="));

    // A signed CNAME into an unsigned zone: only as strong as its weakest link.
    let answer = lookup
        .lookup_txt("delegated._domainkey.example.com")
        .unwrap();
    assert_eq!(answer.cname_chain, ["sel._domainkey.example.net"]);
    assert_eq!(answer.dnssec, DnssecStatus::Insecure);

    let expired = lookup
        .lookup_txt("sel._domainkey.expired.example")
        .unwrap_err();
    assert!(
        matches!(&expired, LookupError::Bogus { detail, .. }
            if detail.contains("expired on 2020-02-01 00:00:00 UTC")),
        "{expired}"
    );
    assert!(!expired.is_temporary());

    let altered = lookup
        .lookup_txt("sel._domainkey.altered.example")
        .unwrap_err();
    assert!(
        matches!(&altered, LookupError::Bogus { detail, .. } if detail.contains("does not verify")),
        "{altered}"
    );
}

#[test]
fn dnssec_negative_answers_are_validated_not_bogus() {
    let (server, _) = dnssec_tree();
    let lookup = validating_lookup_at(&server, server.trust_anchor());
    // Proven by NSEC in the signed zone.
    assert!(matches!(
        lookup.lookup_txt("gone._domainkey.example.com"),
        Err(LookupError::NoSuchName { .. })
    ));
    assert!(matches!(
        lookup.lookup_txt("mail.example.com"),
        Err(LookupError::NoRecords { .. })
    ));
    // A signed CNAME whose target is proven not to exist.
    assert_eq!(
        lookup.lookup_txt("dangling._domainkey.example.com"),
        Err(LookupError::DanglingCname {
            name: "dangling._domainkey.example.com".into(),
            target: "nothing.example.com".into()
        })
    );
    // In the unsigned zone, nothing to prove.
    assert!(matches!(
        lookup.lookup_txt("gone._domainkey.example.net"),
        Err(LookupError::NoSuchName { .. })
    ));
}

#[test]
fn dnssec_trust_anchor_as_ds_and_a_wrong_anchor() {
    let (server, _) = dnssec_tree();
    let by_digest = validating_lookup_at(&server, server.trust_anchor_ds());
    assert_eq!(
        by_digest
            .lookup_txt("sel._domainkey.example.com")
            .unwrap()
            .dnssec,
        DnssecStatus::Secure
    );

    // example.com's own key posing as the root's: nothing the root signed verifies with it.
    let wrong = server
        .ksk_dnskey("example.com")
        .replacen("example.com.", ".", 1);
    let lookup = validating_lookup_at(&server, wrong);
    let error = lookup.lookup_txt("sel._domainkey.example.com").unwrap_err();
    assert!(matches!(error, LookupError::Bogus { .. }), "{error}");
}

#[test]
fn the_cache_answers_again_without_asking_the_server() {
    let genkey = ed25519_record("cached", "example.com");
    let server = NamedServer::start(&[Zone::new("example.com", &genkey.zone_entry)]);
    let cache = CachingLookup::new(
        HickoryLookup::new(&ResolverSettings {
            timeout: Duration::from_millis(300),
            attempts: 1,
            ..settings(&[server.addr()])
        })
        .unwrap(),
    );
    let first = cache.lookup_txt("cached._domainkey.example.com").unwrap();
    let missing = cache.lookup_txt("missing._domainkey.example.com");
    assert!(matches!(missing, Err(LookupError::NoSuchName { .. })));
    drop(server);

    // The server is gone: an answer now can only come from the cache.
    assert_eq!(
        cache.lookup_txt("cached._domainkey.example.com").unwrap(),
        first
    );
    assert_eq!(cache.lookup_txt("missing._domainkey.example.com"), missing);
    let uncached = cache
        .lookup_txt("other._domainkey.example.com")
        .unwrap_err();
    assert!(uncached.is_temporary(), "{uncached}");
}

#[test]
fn many_threads_share_one_lookup() {
    const NAMES: usize = 40;
    let zone: String = (0..NAMES)
        .map(|n| format!("s{n}._domainkey IN TXT \"v=DKIM1; p=key{n}\"\n"))
        .collect();
    let server = NamedServer::start(&[Zone::new("example.com", &zone)]);
    let lookup = lookup_at(&server);
    let next = AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= NAMES {
                        break;
                    }
                    let answer = lookup
                        .lookup_txt(&format!("s{n}._domainkey.example.com"))
                        .unwrap();
                    assert_eq!(answer.records, [format!("v=DKIM1; p=key{n}")]);
                }
            });
        }
    });
    assert!(next.load(Ordering::SeqCst) >= NAMES);
}

fn root_validating_lookup_at(server: &NamedServer) -> HickoryLookup {
    HickoryLookup::new(&ResolverSettings {
        dnssec: Some(TrustAnchor::BuiltInRoot),
        ..settings(&[server.addr()])
    })
    .expect("resolver settings")
}

#[test]
fn an_authoritative_only_server_gives_not_validated_with_the_reason() {
    // The server holds example.com (unsigned) and signed.example (signed), and nothing above:
    // it refuses the root's DNSKEY query and answers the DS queries from the child zones.
    let server = NamedServer::start(&[
        Zone::new(
            "example.com",
            &ed25519_record("sel", "example.com").zone_entry,
        ),
        Zone::new(
            "signed.example",
            &ed25519_record("sel", "signed.example").zone_entry,
        )
        .signed(),
    ]);
    let lookup = root_validating_lookup_at(&server);
    for name in [
        "sel._domainkey.example.com",
        "sel._domainkey.signed.example",
    ] {
        let answer = lookup.lookup_txt(name).unwrap();
        assert_eq!(answer.dnssec, DnssecStatus::NotValidated, "{name}");
        let reason = answer.dnssec_reason.unwrap();
        assert!(
            reason.contains("answers for") && reason.contains("but not for its parent zone"),
            "{name}: {reason}"
        );
        assert!(!reason.contains("publishes a DS"), "{reason}");
    }
    // Not validating at all: no reason to give.
    let plain = lookup_at(&server)
        .lookup_txt("sel._domainkey.example.com")
        .unwrap();
    assert_eq!(plain.dnssec, DnssecStatus::NotValidated);
    assert_eq!(plain.dnssec_reason, None);
}

#[test]
fn a_zones_own_key_as_anchor_at_its_own_server() {
    let server = NamedServer::start(&[
        Zone::new(
            "example.com",
            &ed25519_record("sel", "example.com").zone_entry,
        )
        .signed(),
        Zone::new(
            "altered.example",
            "sel._domainkey IN TXT \"v=DKIM1; k=ed25519; p=AAAA\"\n",
        )
        .altered_after_signing("p=AAAA", "p=BBBB"),
        Zone::new(
            "expired.example",
            &ed25519_record("sel", "expired.example").zone_entry,
        )
        .signed_expired(),
        Zone::new(
            "example.net",
            &ed25519_record("sel", "example.net").zone_entry,
        ),
    ]);
    // Several anchors in one file, one per zone, as K*.key files concatenated.
    let anchors = [
        server.ksk_dnskey("example.com"),
        server.ksk_dnskey("altered.example"),
        server.ksk_dnskey("expired.example"),
    ]
    .concat();
    let lookup = validating_lookup_at(&server, anchors);

    let secure = lookup.lookup_txt("sel._domainkey.example.com").unwrap();
    assert_eq!(secure.dnssec, DnssecStatus::Secure);
    assert!(
        secure
            .dnssec_reason
            .unwrap()
            .contains("the trust anchor of example.com")
    );

    let altered = lookup
        .lookup_txt("sel._domainkey.altered.example")
        .unwrap_err();
    assert!(
        matches!(&altered, LookupError::Bogus { detail, .. }
            if detail.contains("does not verify") && detail.contains("changed after")),
        "{altered}"
    );
    let expired = lookup
        .lookup_txt("sel._domainkey.expired.example")
        .unwrap_err();
    assert!(
        matches!(&expired, LookupError::Bogus { detail, .. } if detail.contains("expired on 2020-02-01")),
        "{expired}"
    );

    // Under no anchor, and the root out of reach: judged as without --trust-anchor.
    let unanchored = lookup.lookup_txt("sel._domainkey.example.net").unwrap();
    assert_eq!(unanchored.dnssec, DnssecStatus::NotValidated);
}

#[test]
fn a_signed_zone_whose_records_lack_signatures_is_bogus_and_says_why() {
    // example.com is signed (DS in the signed root), and the signature over its key record is
    // made to cover another type after signing: the TXT record is served without one.
    let server = signed_root(&[Zone::new(
        "example.com",
        &ed25519_record("sel", "example.com").zone_entry,
    )
    .altered_after_signing("RRSIG\tTXT ", "RRSIG\tHINFO ")]);
    let lookup = validating_lookup_at(&server, server.trust_anchor());
    let error = lookup.lookup_txt("sel._domainkey.example.com").unwrap_err();
    assert!(
        matches!(&error, LookupError::Bogus { detail, .. }
            if detail.contains("carries no signature, yet its zone example.com is signed")),
        "{error}"
    );
}

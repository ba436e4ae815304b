//! Publishing and withdrawing key records by DNS UPDATE (RFC 2136) with TSIG (RFC 8945), against
//! a real BIND named on loopback (crates/named-harness) whose dynamic zones take updates signed
//! with the harness's tsig-keygen key. What was published is read back with the library's own
//! lookup and with dig.

use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dkim_core::record::split_txt_value;
use dkim_core::{KeyRecord, KeySpec, PrivateKey};
use dkim_dns::{
    DnsUpdater, HickoryLookup, KeyLookup, LookupError, Refusal, ResolverSettings, TsigAlgorithm,
    TsigFailure, TsigKey, TxtChange, UpdateError, UpdateErrorKind, ZoneProblem,
};
use hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::SOA;
use hickory_resolver::proto::rr::{Name, RData, Record};
use named_harness::{NamedServer, Zone, quoted_strings};

const TIMEOUT: Duration = Duration::from_secs(5);

/// The one-line record value `dkimkit genkey` makes for a new key of `spec`.
fn record_value(spec: KeySpec) -> String {
    let key = PrivateKey::generate(spec)
        .expect("key generation")
        .public_key();
    KeyRecord::new(&key).to_value()
}

fn harness_key(server: &NamedServer) -> TsigKey {
    TsigKey::from_file(&server.tsig_key_path(), None).expect("the harness's TSIG key")
}

fn updater_at(server: &NamedServer) -> DnsUpdater {
    DnsUpdater::new(server.addr(), Some(harness_key(server)), TIMEOUT).expect("updater")
}

fn lookup_at(server: &NamedServer) -> HickoryLookup {
    HickoryLookup::new(&ResolverSettings {
        nameservers: vec![server.addr()],
        timeout: TIMEOUT,
        attempts: 2,
        dnssec: None,
    })
    .expect("resolver settings")
}

/// The TXT records at `name` as dig sees them, each as its character-strings.
fn dig_txt(server: &NamedServer, name: &str) -> Vec<Vec<String>> {
    server
        .dig(name, "TXT")
        .iter()
        .map(|line| quoted_strings(line))
        .collect()
}

/// The character-strings a record value is published as (tags, then the key from `p=`).
fn strings_of(value: &str) -> Vec<String> {
    split_txt_value(value)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// A TSIG key file text for `name` with a secret the server does not have.
fn other_secret_key(name: &str) -> TsigKey {
    TsigKey::parse(
        &format!(
            "key \"{name}\" {{ algorithm hmac-sha256; secret \
             \"q8ZCoyU0UOgtmT2/Vm6GY6cHCOK9SeAr0sEg0p2v8cw=\"; }};"
        ),
        None,
    )
    .expect("a valid key")
}

#[test]
fn the_harness_tsig_keygen_key_parses() {
    let server = NamedServer::start(&[Zone::new("example.com", "").dynamic()]);
    let text = std::fs::read_to_string(server.tsig_key_path()).unwrap();
    assert!(text.starts_with("key \""), "{text}");
    let key = harness_key(&server);
    assert_eq!(key.name(), server.tsig_key_name());
    assert_eq!(key.algorithm(), TsigAlgorithm::HmacSha256);
    let named = TsigKey::from_file(&server.tsig_key_path(), Some(server.tsig_key_name())).unwrap();
    assert_eq!(named.name(), server.tsig_key_name());
    // The secret is in the file, and nowhere in what the key shows of itself.
    let secret = text.split('"').nth(3).expect("the secret's quoted string");
    assert!(secret.len() > 40, "{text}");
    assert!(!format!("{key:?}").contains(secret));
}

#[test]
fn replace_publishes_one_record_split_into_strings_and_delete_withdraws_it() {
    let server =
        NamedServer::start(&[Zone::new("example.com", "mail IN A 192.0.2.25\n").dynamic()]);
    let updater = updater_at(&server);
    let lookup = lookup_at(&server);
    let name = "202611._domainkey.example.com";

    // A short record: the tags and the key, as genkey's zone files split it.
    let short = record_value(KeySpec::Ed25519);
    assert!(short.len() < 255);
    updater.replace_txt(name, &short, 3600).unwrap();
    assert_eq!(
        lookup.lookup_txt(name).unwrap().records,
        std::slice::from_ref(&short)
    );
    assert_eq!(dig_txt(&server, name), [strings_of(&short)]);

    // A 4096-bit RSA record replaces it: one record of several strings of at most 255 bytes,
    // which join to the value sent.
    let long = record_value(KeySpec::Rsa { bits: 4096 });
    assert!(long.len() > 512, "{}", long.len());
    updater.replace_txt(name, &long, 3600).unwrap();
    assert_eq!(
        lookup.lookup_txt(name).unwrap().records,
        std::slice::from_ref(&long)
    );
    let published = dig_txt(&server, name);
    assert_eq!(published.len(), 1, "{published:?}");
    assert!(published[0].len() >= 4, "{published:?}");
    assert!(published[0].iter().all(|s| s.len() <= 255), "{published:?}");
    assert_eq!(published[0].concat(), long);
    assert_eq!(published[0], strings_of(&long));

    // Replacing again with the same value leaves the same one record.
    updater.replace_txt(name, &long, 3600).unwrap();
    assert_eq!(
        lookup.lookup_txt(name).unwrap().records,
        std::slice::from_ref(&long)
    );

    // Deleting withdraws it; the zone's other data stays.
    updater.delete_txt(name).unwrap();
    assert!(dig_txt(&server, name).is_empty());
    let gone = lookup.lookup_txt(name).unwrap_err();
    assert!(
        matches!(
            gone,
            LookupError::NoSuchName { .. } | LookupError::NoRecords { .. }
        ),
        "{gone:?}"
    );
    assert_eq!(server.dig("mail.example.com", "A"), ["192.0.2.25"]);

    // Deleting what is not there succeeds.
    updater.delete_txt(name).unwrap();
    updater
        .delete_txt("never-published._domainkey.example.com")
        .unwrap();
}

#[test]
fn find_zone_finds_the_zone_or_the_delegated_subzone() {
    // The harness names each zone's server ns.ORIGIN, which for the `_domainkey` subzone is a
    // host name with an underscore: BIND's check-names would refuse to load it.
    let server = NamedServer::start_with_options(
        &[
            Zone::new(
                "example.com",
                // A delegation to servers elsewhere, which this server does not serve.
                "mail IN A 192.0.2.25\nsub IN NS ns.example.net.\n",
            )
            .dynamic(),
            // Selectors in a subzone of their own, delegated from example.com by the harness.
            Zone::new(
                "_domainkey.example.com",
                "provider IN CNAME s1.dkim.example.net.\n",
            )
            .dynamic(),
        ],
        "check-names primary ignore;",
    );
    let updater = updater_at(&server);

    assert_eq!(updater.find_zone("example.com").unwrap(), "example.com");
    assert_eq!(
        updater.find_zone("Mail.Example.COM.").unwrap(),
        "example.com"
    );
    assert_eq!(
        updater.find_zone("no.such.name.example.com").unwrap(),
        "example.com"
    );
    assert_eq!(
        updater.find_zone("_domainkey.example.com").unwrap(),
        "_domainkey.example.com"
    );
    assert_eq!(
        updater.find_zone("202611._domainkey.example.com").unwrap(),
        "_domainkey.example.com"
    );
    // A CNAME at the name: the zone is the one holding the CNAME, not its target's.
    assert_eq!(
        updater
            .find_zone("provider._domainkey.example.com")
            .unwrap(),
        "_domainkey.example.com"
    );

    assert_eq!(
        updater.find_zone("s._domainkey.sub.example.com"),
        Err(UpdateError {
            name: "s._domainkey.sub.example.com".into(),
            zone: None,
            server: server.addr(),
            kind: UpdateErrorKind::ZoneNotFound(ZoneProblem::Delegated {
                cut: "sub.example.com".into()
            }),
        })
    );
    let not_served = updater.find_zone("s._domainkey.example.net").unwrap_err();
    assert_eq!(
        not_served,
        UpdateError {
            name: "s._domainkey.example.net".into(),
            zone: None,
            server: server.addr(),
            kind: UpdateErrorKind::ZoneNotFound(ZoneProblem::NotServed {
                code: ResponseCode::Refused
            }),
        }
    );
    assert!(!not_served.is_temporary());

    // Publishing in the subzone puts the record there.
    let value = record_value(KeySpec::Ed25519);
    updater
        .replace_txt("202611._domainkey.example.com", &value, 300)
        .unwrap();
    assert_eq!(
        dig_txt(&server, "202611._domainkey.example.com"),
        [strings_of(&value)]
    );

    // Beside a CNAME, a TXT record cannot be published: the server says so instead of ignoring
    // it silently.
    let beside_cname = updater
        .replace_txt("provider._domainkey.example.com", "v=DKIM1; p=", 300)
        .unwrap_err();
    assert_eq!(
        beside_cname,
        UpdateError {
            name: "provider._domainkey.example.com".into(),
            zone: Some("_domainkey.example.com".into()),
            server: server.addr(),
            kind: UpdateErrorKind::Refused(Refusal::NameHoldsCname),
        }
    );
    assert_eq!(
        server.dig("provider._domainkey.example.com", "CNAME"),
        ["s1.dkim.example.net."]
    );
}

#[test]
fn bad_tsig_keys_and_unsigned_updates_are_refused_in_plain_words() {
    let server = NamedServer::start(&[Zone::new("example.com", "").dynamic()]);
    let name = "s1._domainkey.example.com";
    let value = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let refused_with = |key: Option<TsigKey>| {
        DnsUpdater::new(server.addr(), key, TIMEOUT)
            .unwrap()
            .replace_txt(name, value, 300)
            .unwrap_err()
    };

    let wrong_secret = refused_with(Some(other_secret_key(server.tsig_key_name())));
    assert_eq!(
        wrong_secret,
        UpdateError {
            name: name.into(),
            zone: Some("example.com".into()),
            server: server.addr(),
            kind: UpdateErrorKind::TsigRejected(TsigFailure::BadSignature {
                key: server.tsig_key_name().into()
            }),
        }
    );
    assert!(
        wrong_secret
            .to_string()
            .contains("the TSIG signature does not verify (BADSIG): wrong secret?"),
        "{wrong_secret}"
    );

    let unknown_key = refused_with(Some(other_secret_key("no-such-key.example.com")));
    assert_eq!(
        unknown_key.to_string(),
        format!(
            "{} refused the update of {name} in zone example.com: the server does not know \
             TSIG key no-such-key.example.com with algorithm hmac-sha256 (BADKEY): check the \
             key's name and algorithm, and that named.conf has the key",
            server.addr()
        )
    );

    let unsigned = refused_with(None);
    assert_eq!(
        unsigned,
        UpdateError {
            name: name.into(),
            zone: Some("example.com".into()),
            server: server.addr(),
            kind: UpdateErrorKind::Refused(Refusal::Refused { key: None }),
        }
    );
    assert!(
        unsigned.to_string().contains("the update was not signed"),
        "{unsigned}"
    );

    for error in [&wrong_secret, &unknown_key, &unsigned] {
        assert!(!error.is_temporary(), "{error}");
    }
    // Nothing was published by any of them.
    assert!(dig_txt(&server, name).is_empty());
}

#[test]
fn a_clock_an_hour_off_is_refused_as_clocks_that_differ() {
    let server = NamedServer::start(&[Zone::new("example.com", "").dynamic()]);
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let updater = updater_at(&server).with_clock(move || an_hour_ago);
    let error = updater.delete_txt("s1._domainkey.example.com").unwrap_err();
    let ours = an_hour_ago.duration_since(UNIX_EPOCH).unwrap().as_secs();
    match &error {
        UpdateError {
            kind:
                UpdateErrorKind::TsigRejected(TsigFailure::BadTime {
                    ours: sent,
                    server: Some(theirs),
                }),
            ..
        } => {
            assert_eq!(*sent, ours);
            // The server's clock is ours, an hour on (give or take a slow machine).
            assert!((3500..3700).contains(&(theirs - ours)), "{error}");
        }
        other => panic!("expected BADTIME, got {other:?}"),
    }
    assert!(
        error.to_string().contains("the clocks differ (BADTIME)"),
        "{error}"
    );
}

#[test]
fn a_server_that_never_answers_gives_a_temporary_timeout() {
    // A socket that receives the queries and never reads or answers them.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap();
    let key = TsigKey::parse(
        "key k { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0\"; };",
        None,
    )
    .unwrap();
    let updater = DnsUpdater::new(server, Some(key), Duration::from_millis(300)).unwrap();
    let name = "s1._domainkey.example.com";
    for error in [
        updater.replace_txt(name, "v=DKIM1; p=", 300).unwrap_err(),
        updater.delete_txt(name).unwrap_err(),
        updater.find_zone(name).unwrap_err(),
    ] {
        assert_eq!(
            error,
            UpdateError {
                name: name.into(),
                zone: None,
                server,
                kind: UpdateErrorKind::Timeout,
            }
        );
        assert!(error.is_temporary(), "{error}");
    }
}

#[test]
fn an_unsigned_answer_to_a_signed_update_is_not_trusted() {
    // A server that answers every SOA query as the authority for example.com, and every update
    // with an unsigned NOERROR, as a forger would.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = socket.local_addr().unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok((length, client)) = socket.recv_from(&mut buffer) {
            let Ok(request) = Message::from_vec(&buffer[..length]) else {
                continue;
            };
            let mut response = Message::new(request.id, MessageType::Response, request.op_code);
            response.add_queries(request.queries.iter().cloned());
            if request.op_code == OpCode::Query {
                response.metadata.authoritative = true;
                let zone = Name::from_ascii("example.com.").unwrap();
                response.add_authority(Record::from_rdata(
                    zone.clone(),
                    300,
                    RData::SOA(SOA::new(zone.clone(), zone, 1, 3600, 600, 86400, 300)),
                ));
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), client);
        }
    });
    let key = TsigKey::parse(
        "key dkim { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0\"; };",
        None,
    )
    .unwrap();
    let updater = DnsUpdater::new(server, Some(key), TIMEOUT).unwrap();
    assert_eq!(
        updater.find_zone("s1._domainkey.example.com").unwrap(),
        "example.com"
    );
    let error = updater
        .replace_txt("s1._domainkey.example.com", "v=DKIM1; p=", 300)
        .unwrap_err();
    assert!(
        matches!(
            &error,
            UpdateError { zone: Some(zone), kind: UpdateErrorKind::UnverifiedResponse(detail), .. }
                if zone == "example.com" && detail.contains("TSIG key dkim")
        ),
        "{error:?}"
    );
    assert!(!error.is_temporary());
}

#[test]
fn one_updater_serves_several_threads() {
    let server = NamedServer::start(&[Zone::new("example.com", "").dynamic()]);
    let updater = updater_at(&server);
    let names: Vec<String> = (0..6)
        .map(|n| format!("s{n}._domainkey.example.com"))
        .collect();
    thread::scope(|scope| {
        for name in &names {
            let updater = &updater;
            scope.spawn(move || {
                updater
                    .replace_txt(name, &format!("v=DKIM1; k=rsa; n={name}; p="), 300)
                    .unwrap();
            });
        }
    });
    for name in &names {
        assert_eq!(
            dig_txt(&server, name),
            [vec![format!("v=DKIM1; k=rsa; n={name}; "), "p=".to_owned()]]
        );
    }
}

/// `count` selector names under `domain`.
fn selectors(prefix: &str, domain: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| format!("{prefix}{n}._domainkey.{domain}"))
        .collect()
}

/// A record value the size of an RSA-2048 key's (392 bytes of base64 key), told apart by `n`.
fn rsa_2048_sized_value(n: usize) -> String {
    format!("v=DKIM1; k=rsa; p={n:08}{}", "A".repeat(384))
}

/// Changes publishing `values` at `names`.
fn publishing<'a>(names: &'a [String], values: &'a [String]) -> Vec<TxtChange<'a>> {
    names
        .iter()
        .zip(values)
        .map(|(name, value)| TxtChange {
            name,
            value: Some(value),
        })
        .collect()
}

/// Changes withdrawing the records at `names`.
fn withdrawing(names: &[String]) -> Vec<TxtChange<'_>> {
    names
        .iter()
        .map(|name| TxtChange { name, value: None })
        .collect()
}

fn serial(server: &NamedServer, zone: &str) -> u32 {
    server.serial(zone).expect("the zone's SOA serial")
}

#[test]
fn a_batch_of_150_records_is_one_update_published_and_withdrawn_whole() {
    let server =
        NamedServer::start(&[Zone::new("example.com", "mail IN A 192.0.2.25\n").dynamic()]);
    let updater = updater_at(&server);
    let names = selectors("s", "example.com", 150);
    // Ed25519 records of about 120 bytes: some 35 KB of update, far past UDP's 512 bytes.
    let values: Vec<String> = names
        .iter()
        .map(|_| record_value(KeySpec::Ed25519))
        .collect();
    let before = serial(&server, "example.com");

    updater
        .apply_txt_changes(&publishing(&names, &values), 3600)
        .unwrap();
    // A dynamic zone's serial rises by one per UPDATE applied: one message carried all 150.
    assert_eq!(serial(&server, "example.com"), before + 1);
    for (name, value) in names.iter().zip(&values) {
        assert_eq!(dig_txt(&server, name), [strings_of(value)], "{name}");
    }

    updater
        .apply_txt_changes(&withdrawing(&names), 3600)
        .unwrap();
    assert_eq!(serial(&server, "example.com"), before + 2);
    for name in &names {
        assert!(dig_txt(&server, name).is_empty(), "{name}");
    }
    assert_eq!(server.dig("mail.example.com", "A"), ["192.0.2.25"]);
    // An empty batch sends nothing.
    updater.apply_txt_changes(&[], 3600).unwrap();
    assert_eq!(serial(&server, "example.com"), before + 2);
}

#[test]
fn one_batch_updates_two_zones_and_a_subzone_splitting_what_dns_cannot_carry_in_one() {
    let server = NamedServer::start_with_options(
        &[
            Zone::new("example.com", "").dynamic(),
            Zone::new("example.net", "old._domainkey IN TXT \"v=DKIM1; p=OLD\"\n").dynamic(),
            Zone::new("_domainkey.example.org", "").dynamic(),
            Zone::new("example.org", "").dynamic(),
        ],
        // The harness names the subzone's server ns._domainkey.example.org.
        "check-names primary ignore;",
    );
    let updater = updater_at(&server);
    // 130 RSA-sized records in example.com (some 70 KB: more than one DNS message holds, RFC
    // 1035 4.2.2), a few in example.net and in the _domainkey subzone of example.org, and a
    // withdrawal, mixed in one call.
    let com = selectors("rsa", "example.com", 130);
    let net = selectors("s", "example.net", 3);
    let org = selectors("s", "example.org", 3);
    let com_values: Vec<String> = (0..com.len()).map(rsa_2048_sized_value).collect();
    let small_values: Vec<String> = (0..3)
        .map(|n| format!("v=DKIM1; k=ed25519; p=K{n}"))
        .collect();
    let mut changes = Vec::new();
    for at in 0..com.len() {
        changes.extend(publishing(&com[at..=at], &com_values[at..=at]));
        if at < 3 {
            changes.extend(publishing(&net[at..=at], &small_values[at..=at]));
            changes.extend(publishing(&org[at..=at], &small_values[at..=at]));
        }
    }
    let old = ["old._domainkey.example.net".to_owned()];
    changes.extend(withdrawing(&old));
    let zones = [
        "example.com",
        "example.net",
        "_domainkey.example.org",
        "example.org",
    ];
    let before: Vec<u32> = zones.iter().map(|zone| serial(&server, zone)).collect();

    updater.apply_txt_changes(&changes, 300).unwrap();

    let after: Vec<u32> = zones.iter().map(|zone| serial(&server, zone)).collect();
    let messages: Vec<u32> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    // Two messages for example.com, one for each other zone that changed; none for the parent
    // of the subzone.
    assert_eq!(messages, [2, 1, 1, 0]);
    for (name, value) in com.iter().zip(&com_values) {
        assert_eq!(dig_txt(&server, name), [strings_of(value)], "{name}");
    }
    for (name, value) in net.iter().chain(&org).zip(small_values.iter().cycle()) {
        assert_eq!(dig_txt(&server, name), [strings_of(value)], "{name}");
    }
    assert!(dig_txt(&server, &old[0]).is_empty());
}

#[test]
fn a_batch_the_server_refuses_names_its_zone_and_changes_nothing() {
    let server = NamedServer::start(&[Zone::new("example.com", "").dynamic()]);
    let names = selectors("s", "example.com", 20);
    let values: Vec<String> = (0..names.len()).map(rsa_2048_sized_value).collect();
    let changes = publishing(&names, &values);
    let refused_with = |key: Option<TsigKey>| {
        DnsUpdater::new(server.addr(), key, TIMEOUT)
            .unwrap()
            .apply_txt_changes(&changes, 300)
            .unwrap_err()
    };
    let before = serial(&server, "example.com");

    // The message is over 512 bytes, so it goes over TCP, where the refusals come back too.
    let wrong_secret = refused_with(Some(other_secret_key(server.tsig_key_name())));
    assert_eq!(
        wrong_secret,
        UpdateError {
            name: names[0].clone(),
            zone: Some("example.com".into()),
            server: server.addr(),
            kind: UpdateErrorKind::TsigRejected(TsigFailure::BadSignature {
                key: server.tsig_key_name().into()
            }),
        }
    );
    let unknown_key = refused_with(Some(other_secret_key("no-such-key.example.com")));
    assert!(
        matches!(
            &unknown_key,
            UpdateError {
                zone: Some(zone),
                kind: UpdateErrorKind::TsigRejected(TsigFailure::UnknownKey { key, .. }),
                ..
            } if zone == "example.com" && key == "no-such-key.example.com"
        ),
        "{unknown_key:?}"
    );
    let unsigned = refused_with(None);
    assert!(
        matches!(
            &unsigned,
            UpdateError {
                kind: UpdateErrorKind::Refused(Refusal::Refused { key: None }),
                ..
            }
        ),
        "{unsigned:?}"
    );
    for error in [&wrong_secret, &unknown_key, &unsigned] {
        assert!(!error.is_temporary(), "{error}");
    }
    assert_eq!(serial(&server, "example.com"), before);
    for name in &names {
        assert!(dig_txt(&server, name).is_empty(), "{name}");
    }

    // A name the server holds no zone for stops the batch before anything is sent.
    let mut outside = changes.clone();
    outside.push(TxtChange {
        name: "s._domainkey.example.net",
        value: None,
    });
    let not_served = updater_at(&server)
        .apply_txt_changes(&outside, 300)
        .unwrap_err();
    assert!(
        matches!(
            &not_served,
            UpdateError { name, kind: UpdateErrorKind::ZoneNotFound(_), .. }
                if name == "s._domainkey.example.net"
        ),
        "{not_served:?}"
    );
    assert_eq!(serial(&server, "example.com"), before);
}

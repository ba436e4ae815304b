//! The harness against the real named: it starts, answers, stops, runs beside another, reloads,
//! takes TSIG-signed updates, and builds a signed tree.

use std::net::TcpStream;

use named_harness::{NamedServer, Zone, signed_root};

const RECORDS: &str = "sel._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"\n\t\"p=AAAA\" )\n";

#[test]
fn starts_answers_and_stops() {
    let server = NamedServer::start(&[Zone::new("example.com", RECORDS)]);
    let addr = server.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    assert_eq!(
        server.dig("sel._domainkey.example.com", "TXT"),
        ["\"v=DKIM1; k=rsa; \" \"p=AAAA\""]
    );
    assert!(TcpStream::connect(addr).is_ok(), "named listens on TCP too");
    drop(server);
    assert!(
        TcpStream::connect(addr).is_err(),
        "named still listens after the server was dropped"
    );
}

#[test]
fn two_servers_at_once_on_different_ports() {
    let first = NamedServer::start(&[Zone::new("example.com", "a IN TXT \"first\"")]);
    let second = NamedServer::start(&[Zone::new("example.com", "a IN TXT \"second\"")]);
    assert_ne!(first.addr(), second.addr());
    assert_eq!(first.dig("a.example.com", "TXT"), ["\"first\""]);
    assert_eq!(second.dig("a.example.com", "TXT"), ["\"second\""]);
}

#[test]
fn reload_serves_the_replaced_zone() {
    let mut server = NamedServer::start(&[Zone::new("example.com", "a IN TXT \"old\"")]);
    assert_eq!(server.dig("a.example.com", "TXT"), ["\"old\""]);
    server.replace_zone(Zone::new("example.com", "a IN TXT \"new\""));
    assert_eq!(server.dig("a.example.com", "TXT"), ["\"new\""]);
    // Twice in a row, within the same second: named must still see a newer file.
    server.replace_zone(Zone::new("example.com", "a IN TXT \"newer\""));
    assert_eq!(server.dig("a.example.com", "TXT"), ["\"newer\""]);
    assert_eq!(
        server.dig("example.com", "SOA")[0].split(' ').nth(2),
        Some("3")
    );
}

#[test]
fn tsig_signed_updates_are_accepted_and_unsigned_ones_refused() {
    let mut server = NamedServer::start(&[Zone::new("example.com", RECORDS).dynamic()]);
    let update = server.nsupdate(
        "zone example.com\nupdate add 202612._domainkey.example.com. 300 TXT \"v=DKIM1; p=BBBB\"\nsend",
    );
    assert!(
        update.status.success(),
        "nsupdate failed: {}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert_eq!(
        server.dig("202612._domainkey.example.com", "TXT"),
        ["\"v=DKIM1; p=BBBB\""]
    );

    // Without the key, named refuses (allow-update names the key).
    let unsigned = std::process::Command::new(named_harness::peer(named_harness::Peer::NSUPDATE))
        .arg(server.dir().join("nsupdate.txt"))
        .output()
        .unwrap();
    assert!(!unsigned.status.success());
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("REFUSED"),
        "{}",
        String::from_utf8_lossy(&unsigned.stderr)
    );

    // A dynamic zone can still be replaced (named restarts on the same port).
    let addr = server.addr();
    server.replace_zone(Zone::new("example.com", "a IN TXT \"replaced\"").dynamic());
    assert_eq!(
        server.dig("a.example.com", "TXT"),
        ["\"replaced\""],
        "{}",
        server.log()
    );
    assert!(
        server
            .dig("202612._domainkey.example.com", "TXT")
            .is_empty()
    );
    assert_eq!(server.addr(), addr);
}

#[test]
fn signed_root_delegates_with_ds_only_to_signed_children() {
    let server = signed_root(&[
        Zone::new("example.com", RECORDS).signed(),
        Zone::new("example.net", RECORDS),
    ]);
    let ds = server.dig("example.com", "DS");
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert!(server.dig("example.net", "DS").is_empty());
    assert_eq!(server.dig("example.net", "NS"), ["ns.example.net."]);

    let anchor = server.trust_anchor();
    assert!(anchor.starts_with(". IN DNSKEY 257 3 13 "), "{anchor}");
    let anchor_ds = server.trust_anchor_ds();
    assert!(anchor_ds.starts_with(". IN DS "), "{anchor_ds}");
    let root_keys = server.dig(".", "DNSKEY");
    let anchor_key = anchor.split_whitespace().skip(6).collect::<String>();
    assert!(
        root_keys
            .iter()
            .any(|key| key.split_whitespace().skip(3).collect::<String>() == anchor_key),
        "{root_keys:?} does not hold {anchor}"
    );
    assert!(
        server
            .ksk_dnskey("example.com")
            .starts_with("example.com. IN DNSKEY 257 ")
    );
}

#[test]
fn altering_signed_data_changes_what_is_served() {
    let server = NamedServer::start(&[Zone::new("example.com", RECORDS)
        .signed()
        .altered_after_signing("p=AAAA", "p=AAAB")]);
    assert_eq!(
        server.dig("sel._domainkey.example.com", "TXT"),
        ["\"v=DKIM1; k=rsa; \" \"p=AAAB\""]
    );
}

#[test]
#[should_panic(expected = "is not in the signed zone")]
fn altering_text_that_is_not_there_panics() {
    NamedServer::start(&[Zone::new("example.com", RECORDS)
        .signed()
        .altered_after_signing("no such text", "x")]);
}

#[test]
fn expired_signatures_are_served_as_they_are() {
    let server = NamedServer::start(&[Zone::new("example.com", RECORDS).signed_expired()]);
    let signatures = server.dig("sel._domainkey.example.com", "RRSIG");
    assert!(
        signatures.iter().any(|s| s.starts_with("TXT ")),
        "{signatures:?}"
    );
    assert!(
        signatures
            .iter()
            .all(|s| s.contains(" 20200201000000 20200101000000 ")),
        "{signatures:?}"
    );
}

#[test]
fn a_zone_that_does_not_load_is_configured_anyway() {
    let server = NamedServer::start(&[
        Zone::new("example.com", RECORDS),
        Zone::failing_to_load("broken.example"),
    ]);
    assert!(
        server
            .log()
            .contains("zone broken.example/IN: not loaded due to errors")
    );
    assert_eq!(server.dig("sel._domainkey.example.com", "TXT").len(), 1);
}

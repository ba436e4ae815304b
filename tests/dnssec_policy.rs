//! One DNSSEC policy for testkey, verify-file and rotate, against a real named that is
//! authoritative only (no resolver, no root): what most people check right after publishing.
//! No --no-dnssec anywhere: a user would not pass it.
//!
//! - an unsigned zone: `key OK`, DNSSEC `not validated` with the reason, exit 0;
//! - a signed zone with its own KSK as --trust-anchor: `secure`;
//! - the same with a record altered after signing: `bogus`, exit 1;
//! - a KeyTable over both: each its own status, exit 0;
//! - verify-file and rotate give the same verdicts.

use std::path::Path;

use named_harness::{NamedServer, Zone};

use crate::rotate::{DAY, START, one_key_due};
use crate::util::{Run, dkimkit_run, temp_dir};

/// genkey's SELECTOR.txt for `selector` (relative owner name), with its key in `dir`.
fn genkey(dir: &Path, selector: &str) -> String {
    dkimkit_run(
        dir,
        &[
            "genkey",
            "-s",
            selector,
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    std::fs::read_to_string(dir.join(format!("{selector}.txt"))).unwrap()
}

/// `dkimkit SUBCOMMAND --nameserver SERVER ARGS...`.
fn at(dir: &Path, server: &NamedServer, subcommand: &str, args: &[&str]) -> Run {
    let address = server.addr().to_string();
    let mut all = vec![subcommand, "--nameserver", &address];
    all.extend_from_slice(args);
    dkimkit_run(dir, &all)
}

/// The zones of these tests: unsigned, signed, and signed then altered (a note tag added to the
/// key record, which leaves the key usable but the signature wrong).
fn zones(txt: &str) -> NamedServer {
    NamedServer::start(&[
        Zone::new("example.com", txt),
        Zone::new("signed.example", txt).signed(),
        Zone::new("altered.example", txt)
            .altered_after_signing("\"v=DKIM1; ", "\"v=DKIM1; n=altered; "),
    ])
}

fn anchors(dir: &Path, server: &NamedServer) {
    // Two zones' KSKs in one file, as two K*.key files concatenated.
    let text = [
        server.ksk_dnskey("signed.example"),
        server.ksk_dnskey("altered.example"),
    ]
    .concat();
    std::fs::write(dir.join("anchors"), text).unwrap();
}

#[test]
fn testkey_and_verify_file_judge_each_zone_alike() {
    let dir = temp_dir();
    let d = dir.path();
    let txt = genkey(d, "sel");
    let server = zones(&txt);
    anchors(d, &server);

    let testkey = |domain: &str| {
        at(
            d,
            &server,
            "testkey",
            &[
                "--trust-anchor",
                "anchors",
                "-d",
                domain,
                "-s",
                "sel",
                "-k",
                "sel.private",
            ],
        )
    };
    let unsigned = testkey("example.com").success();
    assert!(
        unsigned.stdout.contains(
            "sel._domainkey.example.com: warning: DNSSEC not validated: the name server answers \
             for example.com but not for its parent zone"
        ) && unsigned.stdout.contains("--trust-anchor")
            && unsigned.stdout.ends_with(
                "key OK (ed25519 256 bits; matches sel.private; DNSSEC: not validated)\n"
            ),
        "{}",
        unsigned.stdout
    );
    let secure = testkey("signed.example").success();
    assert!(
        secure.stdout.contains(
            "key OK (ed25519 256 bits; matches sel.private; DNSSEC: secure (signed by \
             signed.example, whose key is the trust anchor of signed.example))"
        ),
        "{}",
        secure.stdout
    );
    let bogus = testkey("altered.example");
    assert_eq!(bogus.status, 1, "{}{}", bogus.stdout, bogus.stderr);
    assert!(
        bogus.stdout.contains(
            "sel._domainkey.altered.example: error: DNSSEC says bogus: the signature over the TXT \
             record does not verify: the record was changed after the zone was signed; sign the \
             zone again"
        ),
        "{}",
        bogus.stdout
    );
    assert!(!bogus.stdout.contains("key OK"), "{}", bogus.stdout);

    // A KeyTable over the unsigned and the signed zone: one run, each its own status.
    std::fs::write(
        d.join("KeyTable"),
        format!(
            "unsigned example.com:sel:{0}/sel.private\nsigned signed.example:sel:{0}/sel.private\n",
            d.display()
        ),
    )
    .unwrap();
    let table = at(
        d,
        &server,
        "testkey",
        &[
            "--trust-anchor",
            "anchors",
            "--keytable",
            "KeyTable",
            "--json",
        ],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&table.stdout).unwrap();
    assert_eq!(json["keys"][0]["dnssec"], "not validated", "{json:#}");
    assert_eq!(json["keys"][0]["result"], "ok");
    assert_eq!(json["keys"][1]["dnssec"], "secure", "{json:#}");
    assert_eq!(json["keys"][1]["result"], "ok");

    // verify-file: mail signed by each domain, checked through the same server and anchors.
    let mut files = Vec::new();
    for domain in ["example.com", "signed.example", "altered.example"] {
        let message = d.join(format!("{domain}.eml"));
        std::fs::write(
            &message,
            format!("From: joe@{domain}\r\nSubject: hello\r\n\r\nhello\r\n"),
        )
        .unwrap();
        let signed = dkimkit_run(
            d,
            &[
                "sign-file",
                "-d",
                domain,
                "-s",
                "sel",
                "-k",
                "sel.private",
                message.to_str().unwrap(),
            ],
        )
        .success();
        std::fs::write(&message, signed.stdout).unwrap();
        files.push(format!("{domain}.eml"));
    }
    let mut args = vec!["--trust-anchor", "anchors", "--json"];
    args.extend(files.iter().map(String::as_str));
    let verified = at(d, &server, "verify-file", &args);
    assert_eq!(verified.status, 1, "{}{}", verified.stdout, verified.stderr);
    let json: serde_json::Value = serde_json::from_str(&verified.stdout).unwrap();
    let signature = |index: usize| json["messages"][index]["signatures"][0].clone();
    assert_eq!(signature(0)["result"], "pass", "{json:#}");
    assert_eq!(signature(0)["dnssec"], "not validated");
    assert_eq!(signature(1)["result"], "pass", "{json:#}");
    assert_eq!(signature(1)["dnssec"], "secure");
    assert_eq!(signature(2)["result"], "permerror", "{json:#}");
    assert_eq!(signature(2)["dnssec"], "bogus");

    let results = at(
        d,
        &server,
        "verify-file",
        &[
            "--trust-anchor",
            "anchors",
            "--ar",
            "--authserv-id",
            "mx",
            "signed.example.eml",
        ],
    )
    .success();
    assert!(
        results
            .stdout
            .contains("dkim=pass (DNSSEC secure) header.d=signed.example"),
        "{}",
        results.stdout
    );
}

#[test]
fn rotate_never_switches_to_a_record_testkey_calls_bogus() {
    let dir = temp_dir();
    let d = dir.path();
    let txt = one_key_due(d, "signed", "signed.example");
    let mut server = NamedServer::start(&[Zone::new("signed.example", &txt).signed()]);
    std::fs::write(d.join("anchor"), server.ksk_dnskey("signed.example")).unwrap();
    let rotate = |server: &NamedServer, day: u64| {
        let now = (START + day * DAY).to_string();
        at(
            d,
            server,
            "rotate",
            &[
                "--keytable",
                "KeyTable",
                "--keys-dir",
                "keys",
                "--publish",
                "manual",
                "--trust-anchor",
                "anchor",
                "--now",
                &now,
                "--json",
            ],
        )
        .success()
    };
    let first = rotate(&server, 0);
    let report: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let change = &report["dns_changes"][0];
    assert_eq!(
        change["name"], "202611._domainkey.signed.example",
        "{report:#}"
    );
    let value = change["value"].as_str().unwrap().to_owned();
    let published = format!("{txt}202611._domainkey IN TXT \"{value}\"\n");

    // The new record, altered after signing: testkey calls it bogus, so rotate waits and says why.
    server.replace_zone(
        Zone::new("signed.example", &published)
            .altered_after_signing(&format!("\"{value}\""), &format!("\"{value} \"")),
    );
    let testkey_next = |server: &NamedServer| {
        at(
            d,
            server,
            "testkey",
            &[
                "--trust-anchor",
                "anchor",
                "-d",
                "signed.example",
                "-s",
                "202611",
            ],
        )
    };
    let testkey = testkey_next(&server);
    assert_eq!(testkey.status, 1, "{}", testkey.stdout);
    assert!(
        testkey.stdout.contains("DNSSEC says bogus"),
        "{}",
        testkey.stdout
    );
    let waiting = rotate(&server, 1);
    assert!(
        waiting.stderr.contains("DNSSEC says bogus")
            && waiting.stderr.contains("rotate does not switch to it"),
        "{}",
        waiting.stderr
    );
    let table = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    assert!(table.contains("signed.example:202610:"), "{table}");

    // Signed properly: secure for testkey, and rotate switches.
    server.replace_zone(Zone::new("signed.example", &published).signed());
    let testkey = testkey_next(&server).success();
    assert!(
        testkey.stdout.contains("DNSSEC: secure"),
        "{}",
        testkey.stdout
    );
    rotate(&server, 2);
    let table = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    assert!(table.contains("signed.example:202611:"), "{table}");
}

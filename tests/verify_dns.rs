//! verify-file against a real BIND named on loopback, serving zones written with genkey's own
//! zone-file formatting: the public vectors, DNS failures and their exit codes, and one query per
//! selector however many messages there are.

use std::collections::BTreeMap;
use std::net::UdpSocket;

use dkim_core::record::format_zone_entry;
use named_harness::{NamedServer, Zone};

use crate::util::{Run, dkimkit_run, temp_dir, testdata, verify_vector};

const VECTORS: &str = "crates/dkim-core/testdata/vectors";
const VECTOR_FILES: [&str; 7] = [
    "mail-auth-001.txt",
    "mail-auth-002.txt",
    "mail-auth-003.txt",
    "mail-auth-004.txt",
    "mail-auth-005.txt",
    "mail-auth-006.txt",
    "dkimpy-rfc6376-simple.txt",
];

/// One zone per domain, each record written as genkey writes SELECTOR.txt (absolute names).
fn zones_for(records: &[(String, String)]) -> Vec<Zone> {
    let mut by_domain: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in records {
        let domain = name.split_once("._domainkey.").unwrap().1.to_owned();
        by_domain
            .entry(domain)
            .or_default()
            .push_str(&format_zone_entry(&format!("{name}."), value, None));
    }
    by_domain
        .iter()
        .map(|(domain, entries)| Zone::new(domain, entries))
        .collect()
}

fn verify(dir: &std::path::Path, server: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify-file", "--nameserver", server];
    args.extend_from_slice(extra);
    dkimkit_run(dir, &args)
}

#[test]
fn every_vector_passes_with_keys_from_a_real_named() {
    let dir = temp_dir();
    let mut records = Vec::new();
    let mut files = Vec::new();
    for name in VECTOR_FILES {
        let (vector_records, message) = verify_vector(name);
        for record in vector_records {
            if !records.contains(&record) {
                records.push(record);
            }
        }
        std::fs::write(dir.path().join(name), message).unwrap();
        files.push(name);
    }
    let rfc8463 =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/rfc8463/records.txt"))).unwrap();
    for line in rfc8463.lines() {
        let (name, value) = line.split_once('\t').unwrap();
        let record = (name.to_owned(), value.to_owned());
        if !records.contains(&record) {
            records.push(record);
        }
    }
    let server = NamedServer::start(&zones_for(&records));
    let address = server.addr().to_string();
    let mut args = vec!["--now", "1667843664"];
    args.extend_from_slice(&files);
    let signed = testdata(&format!("{VECTORS}/rfc8463/signed.eml"));
    args.push(signed.to_str().unwrap());
    let result = verify(dir.path(), &address, &args).success();
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert!(lines.len() > files.len(), "{}", result.stdout);
    for line in &lines[..lines.len() - 1] {
        assert!(line.contains(": pass d="), "{line}");
    }
    assert_eq!(lines[lines.len() - 1], "8 messages: 8 pass");
}

#[test]
fn dns_failures_have_their_own_results_and_exit_codes() {
    let dir = temp_dir();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "sel",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    std::fs::write(
        dir.path().join("msg.eml"),
        "From: joe@example.com\r\nSubject: hi\r\n\r\nhello\r\n",
    )
    .unwrap();
    let signed = dkimkit_run(
        dir.path(),
        &[
            "sign-file",
            "-d",
            "example.com",
            "-s",
            "sel",
            "-k",
            "sel.private",
            "msg.eml",
        ],
    )
    .success()
    .stdout;
    std::fs::write(dir.path().join("signed.eml"), signed).unwrap();

    // The record as genkey wrote it, included unchanged: the message passes.
    let txt = std::fs::read_to_string(dir.path().join("sel.txt")).unwrap();
    let server = NamedServer::start(&[Zone::new("example.com", &txt)]);
    let address = server.addr().to_string();
    verify(dir.path(), &address, &["signed.eml"]).success();

    // No record at all: a permanent error, exit 1.
    let empty = NamedServer::start(&[Zone::new("example.com", "")]);
    let missing = verify(dir.path(), &empty.addr().to_string(), &["signed.eml"]);
    assert_eq!(missing.status, 1, "{}", missing.stderr);
    assert!(
        missing.stdout.contains("permerror d=example.com s=sel a=ed25519-sha256 (no key record: sel._domainkey.example.com: no such name in DNS (NXDOMAIN))"),
        "{}",
        missing.stdout
    );

    // A server that never answers: a temporary error, exit 3, within the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_address = silent.local_addr().unwrap().to_string();
    let timeout = verify(
        dir.path(),
        &silent_address,
        &["--timeout", "300ms", "signed.eml"],
    );
    assert_eq!(timeout.status, 3, "{}{}", timeout.stdout, timeout.stderr);
    assert!(
        timeout
            .stdout
            .contains("temperror d=example.com s=sel a=ed25519-sha256 (DNS failure:"),
        "{}",
        timeout.stdout
    );
    drop(silent);

    verify(dir.path(), "not-an-address", &["signed.eml"])
        .fails_with(2, "'not-an-address' for '--nameserver");
}

#[test]
fn one_query_per_selector_however_many_messages() {
    let dir = temp_dir();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "sel",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    let txt = std::fs::read_to_string(dir.path().join("sel.txt")).unwrap();
    let mut files = Vec::new();
    for i in 0..40 {
        let name = format!("m{i}.eml");
        std::fs::write(
            dir.path().join("in.eml"),
            format!("From: joe@example.com\r\nSubject: {i}\r\n\r\nmessage {i}\r\n"),
        )
        .unwrap();
        let signed = dkimkit_run(
            dir.path(),
            &[
                "sign-file",
                "-d",
                "example.com",
                "-s",
                "sel",
                "-k",
                "sel.private",
                "in.eml",
            ],
        )
        .success()
        .stdout;
        std::fs::write(dir.path().join(&name), signed).unwrap();
        files.push(name);
    }
    let server =
        NamedServer::start_with_options(&[Zone::new("example.com", &txt)], "querylog yes;");
    let address = server.addr().to_string();
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    args.insert(0, "--json");
    let result = verify(dir.path(), &address, &args).success();
    let json: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(json["messages"].as_array().unwrap().len(), 40);
    let queries = server
        .log()
        .lines()
        .filter(|line| line.contains("query: sel._domainkey.example.com IN TXT"))
        .count();
    assert_eq!(queries, 1, "named's log:\n{}", server.log());
}

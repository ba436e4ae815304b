//! `dkimkit rotate` through thirteen months of cron runs, with --now, against a real named: the
//! KeyTable always names a key whose record is served and passes testkey; mail signed before a
//! switch verifies through the overlap; old records go once it ends; the KeyTable's other lines
//! never change.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use named_harness::{NamedServer, Zone};

use crate::util::{Run, dkimkit_run, temp_dir};

const DAY: u64 = 86_400;
/// 2026-11-01T04:00:00Z, the first run.
const START: u64 = 1_793_505_600;
const OVERLAP: u64 = 14 * DAY;
const MANAGED: [&str; 2] = ["example.com", "example.org"];

/// A rotation setup as the seed guides have it, with keys made a month before the first run.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = temp_dir();
        let d = dir.path();
        let mut args = vec![
            "genkey",
            "-D",
            "keys",
            "-s",
            "202610",
            "--key-type",
            "ed25519",
        ];
        for domain in MANAGED {
            args.extend(["-d", domain]);
        }
        dkimkit_run(d, &args).success();
        dkimkit_run(
            d,
            &[
                "genkey",
                "-D",
                "other",
                "-s",
                "static",
                "-d",
                "example.net",
                "--key-type",
                "ed25519",
            ],
        )
        .success();
        let made = UNIX_EPOCH + Duration::from_secs(START - 31 * DAY);
        for domain in MANAGED {
            let key = d.join(format!("keys/{domain}/202610.private"));
            std::fs::File::options()
                .write(true)
                .open(&key)
                .unwrap()
                .set_modified(made)
                .unwrap();
        }
        let keytable = format!(
            "# KeyTable, as the seed guides write it\n\
             202610._domainkey.example.com example.com:202610:{0}/keys/example.com/202610.private\n\
             \n\
             # not under --keys-dir: rotate must leave it alone\n\
             static._domainkey.example.net example.net:static:{0}/other/static.private\n\
             202610._domainkey.example.org example.org:202610:{0}/keys/example.org/202610.private\n",
            d.display()
        );
        std::fs::write(d.join("KeyTable"), keytable).unwrap();
        std::fs::write(
            d.join("SigningTable"),
            "*@example.com 202610._domainkey.example.com\n\
             *@example.org 202610._domainkey.example.org\n\
             *@example.net static._domainkey.example.net\n",
        )
        .unwrap();
        Setup { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn keytable(&self) -> String {
        std::fs::read_to_string(self.path("KeyTable")).unwrap()
    }

    /// The selector the KeyTable names for a domain.
    fn selector(&self, domain: &str) -> String {
        let table = self.keytable();
        let line = table
            .lines()
            .find(|l| l.contains(&format!(" {domain}:")))
            .unwrap_or_else(|| panic!("no KeyTable line for {domain}:\n{table}"));
        line.split(':').nth(1).unwrap().to_owned()
    }

    /// The KeyTable without the managed entries' lines: what rotate must never change.
    fn keytable_untouched_part(&self) -> String {
        self.keytable()
            .lines()
            .filter(|l| !MANAGED.iter().any(|d| l.contains(&format!(" {d}:"))))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn rotate(setup: &Setup, now: u64, publish: &[&str], server: &NamedServer) -> Run {
    let now = now.to_string();
    let address = server.addr().to_string();
    let mut args = vec![
        "rotate",
        "--keytable",
        "KeyTable",
        "--signing-table",
        "SigningTable",
        "--keys-dir",
        "keys",
        "--now",
        &now,
        "--nameserver",
        &address,
        "--json",
    ];
    args.extend_from_slice(publish);
    dkimkit_run(setup.dir.path(), &args)
}

/// A message from `domain` signed with the key the KeyTable names now.
fn sign_now(setup: &Setup, domain: &str, day: u64) -> PathBuf {
    let message = setup.path(&format!("msg-{domain}-{day}.eml"));
    std::fs::write(
        &message,
        format!("From: joe@{domain}\r\nSubject: day {day}\r\n\r\nhello\r\n"),
    )
    .unwrap();
    let signed = dkimkit_run(
        setup.dir.path(),
        &[
            "sign-file",
            "--keytable",
            "KeyTable",
            "--signing-table",
            "refile:SigningTable",
            message.to_str().unwrap(),
        ],
    )
    .success()
    .stdout;
    std::fs::write(&message, signed).unwrap();
    message
}

/// Runs the daily cron job for thirteen months and checks everything after every run.
fn thirteen_months(publish: &[&str], server: &NamedServer, setup: &Setup) {
    let address = server.addr().to_string();
    let untouched = setup.keytable_untouched_part();
    // For each retired selector: when it was switched away from, and a message signed with it.
    let mut last_message: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    let mut switched_at: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut switches = 0;
    // From 2026-11-01 to 2027-12-04: a switch waits for the record to be served (named reloads
    // in the background), so the 2027-12-01 rotation may finish a day or two later.
    for day in 0..=398 {
        let now = START + day * DAY;
        let before: Vec<String> = MANAGED.iter().map(|d| setup.selector(d)).collect();
        for domain in MANAGED {
            let message = sign_now(setup, domain, day);
            last_message.insert((domain.to_owned(), setup.selector(domain)), message);
        }
        let run = rotate(setup, now, publish, server);
        assert_eq!(run.status, 0, "day {day}: {}{}", run.stdout, run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        for (domain, old) in MANAGED.iter().zip(&before) {
            let new = setup.selector(domain);
            if &new != old {
                switches += 1;
                switched_at.insert((domain.to_string(), old.clone()), now);
            }
        }
        // The KeyTable names keys whose records are served and pass testkey's checks.
        let checked = dkimkit_run(
            setup.dir.path(),
            &[
                "testkey",
                "--keytable",
                "KeyTable",
                "--no-dnssec",
                "--nameserver",
                &address,
            ],
        );
        assert_eq!(
            checked.status, 0,
            "day {day}: testkey:\n{}\nrotate: {report:#}",
            checked.stdout
        );
        assert!(
            checked.stdout.ends_with("3 keys: 3 OK\n"),
            "day {day}: {}",
            checked.stdout
        );
        assert_eq!(
            setup.keytable_untouched_part(),
            untouched,
            "day {day}: other KeyTable lines changed"
        );
        // Mail signed with an old key verifies through the overlap, and not after it.
        for ((domain, selector), message) in &last_message {
            let key = (domain.clone(), selector.clone());
            let Some(&switch) = switched_at.get(&key) else {
                continue;
            };
            let verified = dkimkit_run(
                setup.dir.path(),
                &[
                    "verify-file",
                    "--nameserver",
                    &address,
                    message.to_str().unwrap(),
                ],
            );
            if now < switch + OVERLAP {
                assert_eq!(
                    verified.status, 0,
                    "day {day}: {domain} {selector} within the overlap: {}",
                    verified.stdout
                );
            } else {
                assert_eq!(
                    verified.status, 1,
                    "day {day}: {domain} {selector} after the overlap: {}",
                    verified.stdout
                );
                assert!(
                    verified.stdout.contains("no key record"),
                    "{}",
                    verified.stdout
                );
                let retired = setup.path(&format!("keys/{domain}/retired/{selector}.private"));
                assert!(
                    retired.is_file(),
                    "day {day}: {} not kept in retired/",
                    retired.display()
                );
            }
        }
        // Once an old key's check is done after its overlap, stop verifying it every day.
        last_message.retain(|key, _| {
            switched_at
                .get(key)
                .is_none_or(|&s| now < s + OVERLAP + 2 * DAY)
        });
    }
    // A rotation each month from 2026-11 to 2027-12: fourteen per domain.
    assert_eq!(switches, 2 * 14, "{}", setup.keytable());
    for domain in MANAGED {
        assert_eq!(setup.selector(domain), "202712");
    }
}

#[test]
fn thirteen_months_with_a_zone_file_include_per_domain() {
    let setup = Setup::new();
    std::fs::create_dir(setup.path("zones")).unwrap();
    let mut zones = Vec::new();
    for domain in MANAGED {
        // The administrator starts the include file from genkey's .txt, as the README says.
        let txt =
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/202610.txt"))).unwrap();
        std::fs::write(setup.path(&format!("zones/{domain}.dkim")), txt).unwrap();
        zones.push(Zone::new(
            domain,
            &format!(
                "$INCLUDE {}\n",
                setup.path(&format!("zones/{domain}.dkim")).display()
            ),
        ));
    }
    zones.push(Zone::new(
        "example.net",
        &std::fs::read_to_string(setup.path("other/static.txt")).unwrap(),
    ));
    let server = NamedServer::start(&zones);
    let reload = format!(
        "rndc -c {} reload",
        server.dir().join("rndc.conf").display()
    );
    thirteen_months(
        &[
            "--publish",
            "zone-file",
            "--zone-dir",
            "zones",
            "--dns-reload-command",
            &reload,
        ],
        &server,
        &setup,
    );
}

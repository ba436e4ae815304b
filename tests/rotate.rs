//! `dkimkit rotate` through thirteen months of cron runs, with --now, against a real named: the
//! KeyTable always names a key whose record is served and passes testkey; mail signed before a
//! switch verifies through the overlap; old records go once it ends; the KeyTable's other lines
//! never change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use named_harness::{NamedServer, Zone};

use crate::util::{Run, ServesDns, dkimkit_run, set_modified, temp_dir};

pub(crate) const DAY: u64 = 86_400;
/// 2026-11-01T04:00:00Z, the first run.
pub(crate) const START: u64 = 1_793_505_600;
const OVERLAP: u64 = 14 * DAY;
const MANAGED: [&str; 2] = ["example.com", "example.org"];

/// A rotation setup as the seed guides have it, with keys made a month before the first run.
pub(crate) struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    pub(crate) fn new() -> Self {
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
        for domain in MANAGED {
            made_a_month_before_start(&d.join(format!("keys/{domain}/202610.private")));
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

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
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

    /// The zone of the entry rotate leaves alone, with genkey's record.
    fn unmanaged_zone(&self) -> Zone {
        Zone::new(
            "example.net",
            &std::fs::read_to_string(self.path("other/static.txt")).unwrap(),
        )
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

/// A KeyTable in `d` of one entry, `name`, for `domain`: a key with selector 202610 under
/// keys/DOMAIN/, made a month before the first run. Returns genkey's .txt, for the zone.
pub(crate) fn one_key_due(d: &Path, name: &str, domain: &str) -> String {
    let keys = format!("keys/{domain}");
    dkimkit_run(
        d,
        &[
            "genkey",
            "-D",
            &keys,
            "-s",
            "202610",
            "-d",
            domain,
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    let key = d.join(format!("{keys}/202610.private"));
    made_a_month_before_start(&key);
    std::fs::write(
        d.join("KeyTable"),
        format!("{name} {domain}:202610:{}\n", key.display()),
    )
    .unwrap();
    std::fs::read_to_string(d.join(format!("{keys}/202610.txt"))).unwrap()
}

/// Dates `key` a month before the first run, so that rotation is due then.
fn made_a_month_before_start(key: &Path) {
    set_modified(key, START - 31 * DAY);
}

fn rotate(setup: &Setup, now: u64, publish: &[&str], server: &dyn ServesDns) -> Run {
    let mut args = vec!["--signing-table", "SigningTable", "--json"];
    args.extend_from_slice(publish);
    rotate_keytable_in(setup.dir.path(), server, now, &args)
}

/// testkey over the whole KeyTable, against `server`.
fn testkey_keytable(setup: &Setup, server: &dyn ServesDns) -> Run {
    let address = server.dns_addr().to_string();
    dkimkit_run(
        setup.dir.path(),
        &[
            "testkey",
            "--keytable",
            "KeyTable",
            "--nameserver",
            &address,
        ],
    )
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
pub(crate) fn thirteen_months(
    publish: &[&str],
    server: &dyn ServesDns,
    setup: &Setup,
    administrator: &dyn Fn(&serde_json::Value),
) {
    let address = server.dns_addr().to_string();
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
        administrator(&report);
        for (domain, old) in MANAGED.iter().zip(&before) {
            let new = setup.selector(domain);
            if &new != old {
                switches += 1;
                switched_at.insert((domain.to_string(), old.clone()), now);
            }
        }
        // The KeyTable names keys whose records are served and pass testkey's checks.
        let checked = testkey_keytable(setup, server);
        assert_eq!(
            checked.status, 0,
            "day {day}: testkey:\n{}\nrotate: {report:#}",
            checked.stdout
        );
        assert!(
            checked.stdout.ends_with("3 keys: 3 ok\n"),
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
                // The key is retired once no server serves its record: the next run at the
                // latest (a record withdrawn by hand, or reloaded in the background, is gone by
                // then).
                let retired = setup.path(&format!("keys/{domain}/retired/{selector}.private"));
                assert!(
                    retired.is_file() || now < switch + OVERLAP + DAY,
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

/// A named whose managed zones `$INCLUDE` rotate's include files (started from genkey's .txt,
/// as the README says), and the command that reloads it.
fn include_file_zones(setup: &Setup) -> (NamedServer, String) {
    std::fs::create_dir(setup.path("zones")).unwrap();
    let mut zones = Vec::new();
    for domain in MANAGED {
        let txt =
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/202610.txt"))).unwrap();
        let include = setup.path(&format!("zones/{domain}.dkim"));
        std::fs::write(&include, txt).unwrap();
        zones.push(Zone::new(
            domain,
            &format!("$INCLUDE {}\n", include.display()),
        ));
    }
    zones.push(setup.unmanaged_zone());
    let server = NamedServer::start(&zones);
    let reload = rndc_reload(&server);
    (server, reload)
}

/// The command that has `server` reload its zones.
fn rndc_reload(server: &NamedServer) -> String {
    format!(
        "rndc -c {} reload",
        server.dir().join("rndc.conf").display()
    )
}

#[test]
fn thirteen_months_with_a_zone_file_include_per_domain() {
    let setup = Setup::new();
    let (server, reload) = include_file_zones(&setup);
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
        &|_| {},
    );
}

/// Applies the record changes a rotate run reports (`dns_changes`) to a dynamic zone, as an
/// administrator following --publish manual would.
pub(crate) fn apply_dns_changes(server: &NamedServer, report: &serde_json::Value) {
    for change in report["dns_changes"].as_array().into_iter().flatten() {
        // nsupdate finds the zone itself: a CNAME-delegated record is in another zone.
        let name = change["name"].as_str().unwrap();
        let mut commands = format!("update delete {name}. TXT\n");
        if change["action"] == "publish" {
            let strings: Vec<String> =
                dkim_core::record::split_txt_value(change["value"].as_str().unwrap())
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect();
            commands.push_str(&format!(
                "update add {name}. 300 TXT {}\n",
                strings.join(" ")
            ));
        }
        commands.push_str("send\n");
        let output = server.nsupdate(&commands);
        assert!(
            output.status.success(),
            "nsupdate: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Zones that take updates, starting with genkey's records of the first keys.
pub(crate) fn dynamic_zones(setup: &Setup) -> Vec<Zone> {
    let mut zones: Vec<Zone> = MANAGED
        .iter()
        .map(|domain| {
            let txt =
                std::fs::read_to_string(setup.path(&format!("keys/{domain}/202610.txt"))).unwrap();
            Zone::new(domain, &txt).dynamic()
        })
        .collect();
    zones.push(setup.unmanaged_zone());
    zones
}

#[test]
fn thirteen_months_with_the_records_published_by_hand() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    thirteen_months(&["--publish", "manual"], &server, &setup, &|report| {
        apply_dns_changes(&server, report)
    });
}

/// Every file under the setup's directory, with its contents.
fn snapshot(setup: &Setup) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(setup.dir.path(), &mut files);
    files
}

#[test]
fn a_dry_run_changes_nothing_and_prints_the_plan() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    let before = snapshot(&setup);
    let address = server.addr().to_string();
    let start = START.to_string();
    let run = dkimkit_run(
        setup.dir.path(),
        &[
            "rotate",
            "--keytable",
            "KeyTable",
            "--keys-dir",
            "keys",
            "--now",
            &start,
            "--nameserver",
            &address,
            "--publish",
            "manual",
            "--dry-run",
        ],
    )
    .success();
    for said in [
        "202610._domainkey.example.com: would generate key 202611",
        "202610._domainkey.example.com: would publish 202611._domainkey.example.com",
        "rotate (dry run, nothing changed): 2 keys",
    ] {
        assert!(
            run.stdout.contains(said),
            "{said:?} not in:\n{}",
            run.stdout
        );
    }
    assert_eq!(snapshot(&setup), before, "a dry run changed files");
}

#[test]
fn a_second_run_changes_nothing_and_nothing_switches_before_the_record_is_served() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    rotate(&setup, START, &["--publish", "manual"], &server).success();
    let after_first = snapshot(&setup);
    for day in 0..5 {
        // The record is never published: the KeyTable must not switch, day after day; past
        // --max-wait (3 days) the run fails, so that cron mails someone.
        let run = rotate(&setup, START + day * DAY, &["--publish", "manual"], &server);
        if day < 3 {
            let run = run.success();
            assert!(run.stdout.contains("waiting for DNS"), "{}", run.stdout);
        } else {
            run.fails_with(
                1,
                &format!(
                    "202611._domainkey.example.com: waited since 2026-11-01 04:00 UTC, longer \
                     than the 3d allowed, for it to be served by every name server: {} does \
                     not serve it",
                    server.addr()
                ),
            );
        }
        assert_eq!(
            snapshot(&setup),
            after_first,
            "day {day}: a run while waiting changed files"
        );
    }
    assert_eq!(setup.selector("example.com"), "202610");
    // Once it is served, the next run switches.
    let first = rotate(&setup, START, &["--publish", "manual"], &server);
    let _ = first;
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(setup.path("keys/dkimkit-rotate.json")).unwrap(),
    )
    .unwrap();
    assert!(
        report["entries"]["202610._domainkey.example.com"]["next"]["published"]
            .as_bool()
            .unwrap()
    );
    let changes = rotate(
        &setup,
        START,
        &["--publish", "manual", "--dry-run"],
        &server,
    );
    let _ = changes;
    for domain in MANAGED {
        let txt =
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/202611.txt"))).unwrap();
        let value: String = crate::util::quoted_strings(&txt).concat();
        apply_dns_changes(
            &server,
            &serde_json::json!({ "dns_changes": [{ "action": "publish", "domain": domain, "name": format!("202611._domainkey.{domain}"), "value": value }] }),
        );
    }
    rotate(&setup, START + 5 * DAY, &["--publish", "manual"], &server).success();
    assert_eq!(setup.selector("example.com"), "202611");
    assert_eq!(setup.selector("example.org"), "202611");
}

#[test]
fn a_held_lock_and_a_dns_timeout_stop_the_run_with_nothing_changed() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    let before = snapshot(&setup);
    let lock = dkim_rotate::RunLock::acquire(&setup.path("keys/dkimkit-rotate.lock")).unwrap();
    rotate(&setup, START, &["--publish", "manual"], &server)
        .fails_with(3, "another rotate run holds the lock");
    drop(lock);
    std::fs::remove_file(setup.path("keys/dkimkit-rotate.lock")).unwrap();
    assert_eq!(snapshot(&setup), before);

    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let start = START.to_string();
    let run = dkimkit_run(
        setup.dir.path(),
        &[
            "rotate",
            "--keytable",
            "KeyTable",
            "--keys-dir",
            "keys",
            "--now",
            &start,
            "--nameserver",
            &address,
            "--timeout",
            "300ms",
            "--publish",
            "manual",
        ],
    );
    assert_eq!(run.status, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("no answer from the name servers (timed out)")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(setup.path("keys/dkimkit-rotate.lock")).unwrap();
    assert_eq!(snapshot(&setup), before, "a DNS timeout changed files");
}

/// Every private key under keys/ (retired/ aside) is one the state or the KeyTable knows: rotate
/// leaves no key it made unaccounted for.
fn assert_no_orphan_keys(setup: &Setup) {
    let state = std::fs::read_to_string(setup.path("keys/dkimkit-rotate.json")).unwrap_or_default();
    let keytable = setup.keytable();
    for domain in MANAGED {
        for entry in std::fs::read_dir(setup.path(&format!("keys/{domain}"))).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "private") {
                let path_text = path.to_str().unwrap();
                assert!(
                    state.contains(path_text) || keytable.contains(path_text),
                    "{} is neither in the state nor in the KeyTable:\n{state}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_run_killed_after_any_step_is_completed_by_the_next() {
    for steps in 1..=14 {
        let setup = Setup::new();
        let (server, reload) = include_file_zones(&setup);
        let publish = [
            "--publish",
            "zone-file",
            "--zone-dir",
            "zones",
            "--dns-reload-command",
            &reload,
        ];
        let stop = steps.to_string();
        let mut killed = publish.to_vec();
        killed.extend(["--stop-after-steps", &stop]);
        // Killed on the day of the rotation, after `steps` steps (or done before that).
        let first = rotate(&setup, START, &killed, &server);
        assert!(
            first.status == 0
                || first
                    .stderr
                    .contains(&format!("stopped after {steps} steps")),
            "{steps}: {}",
            first.stderr
        );
        assert_no_orphan_keys(&setup);
        assert!(
            setup
                .keytable()
                .starts_with("# KeyTable, as the seed guides write it\n"),
            "{steps}"
        );
        // The next runs complete the cycle.
        for day in [0, 1, 2] {
            rotate(&setup, START + day * DAY, &publish, &server).success();
            assert_no_orphan_keys(&setup);
        }
        for domain in MANAGED {
            assert_eq!(
                setup.selector(domain),
                "202611",
                "killed after {steps} steps"
            );
        }
        let checked = testkey_keytable(&setup, &server);
        assert_eq!(
            checked.status, 0,
            "killed after {steps} steps: {}",
            checked.stdout
        );
        // And the overlap ends as usual: the old records go, and once named no longer serves
        // them the keys are retired.
        rotate(&setup, START + 15 * DAY, &publish, &server).success();
        server.wait_until("the old records to be gone", |server| {
            MANAGED.iter().all(|domain| {
                server
                    .dig(&format!("202610._domainkey.{domain}"), "TXT")
                    .is_empty()
            })
        });
        rotate(&setup, START + 16 * DAY, &publish, &server).success();
        for domain in MANAGED {
            assert!(
                setup
                    .path(&format!("keys/{domain}/retired/202610.private"))
                    .is_file(),
                "killed after {steps} steps"
            );
        }
    }
}

#[test]
fn selectors_delegated_with_a_cname_are_published_at_the_target() {
    let dir = temp_dir();
    let d = dir.path();
    let txt = one_key_due(d, "org", "example.org");
    // The domain delegates its next selectors to a zone the tool manages.
    let org = format!(
        "{txt}202611._domainkey IN CNAME 202611.example-org.keys.example.net.\n\
         202612._domainkey IN CNAME 202612.example-org.keys.example.net.\n"
    );
    let server = NamedServer::start(&[
        Zone::new("example.org", &org).dynamic(),
        Zone::new("keys.example.net", "").dynamic(),
    ]);
    let address = server.addr().to_string();
    let run = |day: u64| {
        let now = (START + day * DAY).to_string();
        let run = dkimkit_run(
            d,
            &[
                "rotate",
                "--keytable",
                "KeyTable",
                "--keys-dir",
                "keys",
                "--publish",
                "manual",
                "--nameserver",
                &address,
                "--now",
                &now,
                "--json",
            ],
        )
        .success();
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        apply_dns_changes(&server, &report);
        report
    };
    let first = run(0);
    let change = &first["dns_changes"][0];
    assert_eq!(
        change["name"], "202611.example-org.keys.example.net",
        "{first:#}"
    );
    assert_eq!(change["cname_from"], "202611._domainkey.example.org");
    assert!(server.dig("202611.example-org.keys.example.net", "TXT")[0].contains("k=ed25519"));
    run(1);
    assert!(
        std::fs::read_to_string(d.join("KeyTable"))
            .unwrap()
            .contains("example.org:202611:")
    );
    let checked = dkimkit_run(
        d,
        &[
            "testkey",
            "--keytable",
            "KeyTable",
            "-v",
            "--nameserver",
            &address,
        ],
    )
    .success();
    assert!(
        checked
            .stdout
            .contains("via CNAME 202611.example-org.keys.example.net"),
        "{}",
        checked.stdout
    );
    // The old record, published directly, goes after the overlap; December's key goes to its target.
    run(15);
    assert!(
        server
            .dig("202610._domainkey.example.org", "TXT")
            .is_empty()
    );
    let december = run(30);
    assert_eq!(
        december["dns_changes"][0]["name"], "202612.example-org.keys.example.net",
        "{december:#}"
    );
}

#[test]
fn thirteen_months_with_tsig_signed_dns_updates() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    let address = server.addr().to_string();
    let key = server.tsig_key_path().display().to_string();
    thirteen_months(
        &[
            "--publish",
            "rfc2136",
            "--server",
            &address,
            "--tsig-key",
            &key,
        ],
        &server,
        &setup,
        &|_| {},
    );
}

#[test]
fn an_update_the_server_refuses_changes_no_keytable() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    let address = server.addr().to_string();
    // A key of the right name with another secret, as after a botched key change.
    let wrong = setup.path("wrong.key");
    let right = std::fs::read_to_string(server.tsig_key_path()).unwrap();
    let secret_start = right.find("secret \"").unwrap() + "secret \"".len();
    let secret_end = secret_start + right[secret_start..].find('"').unwrap();
    let forged = format!(
        "{}{}{}",
        &right[..secret_start],
        "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXJzIGtleQ==",
        &right[secret_end..]
    );
    std::fs::write(&wrong, forged).unwrap();
    let keytable = setup.keytable();
    let wrong = wrong.display().to_string();
    rotate(
        &setup,
        START,
        &[
            "--publish",
            "rfc2136",
            "--server",
            &address,
            "--tsig-key",
            &wrong,
        ],
        &server,
    )
    // Each entry fails and is reported; the run goes on to the next, and exits 1.
    .fails_with(1, "the TSIG signature does not verify (BADSIG)");
    assert_eq!(
        setup.keytable(),
        keytable,
        "the KeyTable changed though nothing was published"
    );
    assert!(
        server
            .dig("202611._domainkey.example.com", "TXT")
            .is_empty()
    );
}

/// The zone files of the managed domains as BIND users keep them, owned by bind, 0644 (named, though root, reads files only as their mode allows):
/// example.com with a multi-line SOA and a YYYYMMDDnn serial, example.org with absolute names
/// and a counter; genkey's first records pasted in.
fn own_zone_files(setup: &Setup) -> Vec<(String, PathBuf)> {
    std::fs::create_dir(setup.path("zones")).unwrap();
    let txt = |domain: &str| {
        std::fs::read_to_string(setup.path(&format!("keys/{domain}/202610.txt"))).unwrap()
    };
    let com = format!(
        "; example.com, as the administrator keeps it\n\
         $ORIGIN example.com.\n\
         $TTL 300\n\
         @\tIN\tSOA\tns.example.com. hostmaster.example.com. (\n\
         \t\t\t2026103101\t; serial\n\
         \t\t\t3600\t\t; refresh\n\
         \t\t\t600\t\t; retry\n\
         \t\t\t86400\t\t; expire\n\
         \t\t\t300 )\t\t; minimum\n\
         \tIN\tNS\tns\n\
         ns\tIN\tA\t127.0.0.1\n\
         www\tIN\tA\t192.0.2.80 ; the web site\n\
         {}\
         mail\tIN\tMX\t10 mx.example.net.\n",
        txt("example.com")
    );
    let org = format!(
        "$TTL 300\n\
         example.org. IN SOA ns.example.org. hostmaster.example.org. 7 3600 600 86400 300\n\
         example.org. IN NS ns.example.org.\n\
         ns.example.org. IN A 127.0.0.1\n\
         {}",
        txt("example.org")
    );
    let mut files = Vec::new();
    for (domain, text) in [("example.com", com), ("example.org", org)] {
        let path = setup.path(&format!("zones/db.{domain}"));
        std::fs::write(&path, text).unwrap();
        std::os::unix::fs::chown(&path, Some(bind_id("-u")), Some(bind_id("-g"))).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        files.push((domain.to_owned(), path));
    }
    files
}

/// The user or group id (`id -u` / `id -g`) of bind, who owns zone files on Debian.
fn bind_id(which: &str) -> u32 {
    let output = std::process::Command::new("id")
        .args([which, "bind"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "no user bind: install BIND with `apt-get install bind9` (bash .ci/setup)"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A named serving the managed zones from their own files (see `own_zone_files`), the files,
/// and the arguments that have rotate edit them and reload it.
fn own_zone_file_primary(setup: &Setup) -> (NamedServer, Vec<(String, PathBuf)>, Vec<String>) {
    let files = own_zone_files(setup);
    let mut zones: Vec<Zone> = files
        .iter()
        .map(|(domain, path)| Zone::in_file(domain, path))
        .collect();
    zones.push(setup.unmanaged_zone());
    let server = NamedServer::start(&zones);
    let mut publish = vec!["--publish".to_owned(), "zone-file".to_owned()];
    for (domain, path) in &files {
        publish.extend([
            "--zone-file".to_owned(),
            format!("{domain}={}", path.display()),
        ]);
    }
    publish.extend(["--dns-reload-command".to_owned(), rndc_reload(&server)]);
    (server, files, publish)
}

/// After every run: the key the KeyTable names is served by every server, and a retired key's
/// record by none.
fn assert_served_everywhere(setup: &Setup, servers: &[&NamedServer], when: &str) {
    for domain in MANAGED {
        let name = format!("{}._domainkey.{domain}", setup.selector(domain));
        for server in servers {
            assert!(
                !server.dig(&name, "TXT").is_empty(),
                "{when}: the KeyTable names {name}, which {} does not serve",
                server.addr()
            );
        }
        let retired = setup.path(&format!("keys/{domain}/retired"));
        for entry in std::fs::read_dir(&retired).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "private") {
                let selector = path.file_stem().unwrap().to_str().unwrap();
                let name = format!("{selector}._domainkey.{domain}");
                for server in servers {
                    assert!(
                        server.dig(&name, "TXT").is_empty(),
                        "{when}: key {selector} is retired, but {} still serves {name}",
                        server.addr()
                    );
                }
            }
        }
    }
}

#[test]
fn zone_file_publishing_reaches_the_secondary_before_the_switch_and_leaves_it_before_retiring() {
    let setup = Setup::new();
    let (mut primary, files, publish) = own_zone_file_primary(&setup);
    let originals: Vec<String> = files
        .iter()
        .map(|(_, path)| std::fs::read_to_string(path).unwrap())
        .collect();
    let secondary = primary.start_secondary(&MANAGED);
    assert_eq!(secondary.serial("example.com"), Some(2_026_103_101));
    let secondary_address = secondary.addr().to_string();
    let mut publish: Vec<&str> = publish.iter().map(String::as_str).collect();
    publish.extend(["--nameserver", &secondary_address]);
    let run = |day: u64| {
        let run = rotate(&setup, START + day * DAY, &publish, &primary);
        assert_eq!(run.status, 0, "day {day}: {}{}", run.stdout, run.stderr);
        assert_served_everywhere(&setup, &[&primary, &secondary], &format!("day {day}"));
        run
    };

    // 2026-11-01: the new records go into the files, the serials rise in their own forms.
    let first = run(0);
    assert!(
        first.stdout.contains("serial 2026103101 to 2026110100")
            && first.stdout.contains("serial 7 to 8"),
        "{}",
        first.stdout
    );
    secondary.wait_for_serial("example.com", 2_026_110_100);
    secondary.wait_for_serial("example.org", 8);
    for domain in MANAGED {
        assert!(
            secondary.dig(&format!("202611._domainkey.{domain}"), "TXT")[0].contains("k=ed25519")
        );
    }
    // Served by both: the next run switches (if the first did not already).
    let second = run(1);
    for domain in MANAGED {
        assert_eq!(setup.selector(domain), "202611", "{}", second.stdout);
    }
    // The overlap ends: the old records are withdrawn, and the keys retired once neither
    // server serves them.
    let withdrawal = run(15);
    assert!(
        withdrawal
            .stdout
            .contains("serial 2026110100 to 2026111600"),
        "{}",
        withdrawal.stdout
    );
    secondary.wait_for_serial("example.com", 2_026_111_600);
    secondary.wait_for_serial("example.org", 9);
    run(16);
    for domain in MANAGED {
        assert!(
            setup
                .path(&format!("keys/{domain}/retired/202610.private"))
                .is_file()
        );
    }
    // Every other byte of the files is as the administrator wrote it; owner and mode too.
    for ((domain, path), original) in files.iter().zip(&originals) {
        let old_txt =
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/202610.txt"))).ok();
        let old_txt = old_txt.unwrap_or_else(|| {
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/retired/202610.txt")))
                .unwrap()
        });
        let new_txt =
            std::fs::read_to_string(setup.path(&format!("keys/{domain}/202611.txt"))).unwrap();
        let new_entry = dkim_core::record::format_zone_entry(
            "202611._domainkey",
            &crate::util::quoted_strings(&new_txt).concat(),
            None,
        );
        let expected = original
            .replace(&old_txt, &new_entry)
            .replace("2026103101\t; serial", "2026111600\t; serial")
            .replace(" 7 3600 ", " 9 3600 ");
        assert_eq!(std::fs::read_to_string(path).unwrap(), expected);
        let metadata = std::fs::metadata(path).unwrap();
        use std::os::unix::fs::MetadataExt as _;
        assert_eq!(
            (metadata.uid(), metadata.gid(), metadata.mode() & 0o7777),
            (bind_id("-u"), bind_id("-g"), 0o644)
        );
    }

    // The secondary stops. December's keys are published, but the switch waits for it (exit 3,
    // a temporary failure), and past --max-wait the run fails naming it.
    drop(secondary);
    publish.extend(["--timeout", "300ms"]);
    let december = rotate(&setup, START + 30 * DAY, &publish, &primary);
    assert_eq!(december.status, 3, "{}{}", december.stdout, december.stderr);
    assert!(
        december
            .stderr
            .contains(&format!("{secondary_address} did not answer")),
        "{}",
        december.stderr
    );
    rotate(&setup, START + 33 * DAY, &publish, &primary).fails_with(
        1,
        &format!(
            "202612._domainkey.example.com: waited since 2026-12-01 04:00 UTC, longer than \
             the 3d allowed, for it to be served by every name server: {secondary_address} did \
             not answer"
        ),
    );
    assert_eq!(setup.selector("example.com"), "202611");
}

#[test]
fn a_name_server_that_never_serves_the_record_fails_the_run_after_max_wait() {
    let setup = Setup::new();
    let (primary, files, publish) = own_zone_file_primary(&setup);
    // A secondary nobody runs: its port is free again.
    let gone = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let mut publish: Vec<&str> = publish.iter().map(String::as_str).collect();
    publish.extend(["--nameserver", &gone, "--timeout", "300ms"]);
    // The record is published at once; the switch waits, as a temporary failure (exit 3)
    // within --max-wait.
    for day in [0, 2] {
        let run = rotate(&setup, START + day * DAY, &publish, &primary);
        assert_eq!(run.status, 3, "day {day}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("{gone} did not answer")),
            "{}",
            run.stderr
        );
        assert_eq!(setup.selector("example.com"), "202610");
    }
    assert!(
        std::fs::read_to_string(&files[0].1)
            .unwrap()
            .contains("202611._domainkey\tIN\tTXT")
    );
    // Three days after the publication: exit 1, naming the record and the server.
    rotate(&setup, START + 3 * DAY, &publish, &primary).fails_with(
        1,
        &format!(
            "202611._domainkey.example.com: waited since 2026-11-01 04:00 UTC, longer than \
             the 3d allowed, for it to be served by every name server: {gone} did not answer"
        ),
    );
    assert_eq!(setup.selector("example.com"), "202610");
}

/// The README's nsupdate hook for `--publish exec`, as written there (server 192.0.2.53, key
/// /etc/bind/dkim-update.key).
const NSUPDATE_HOOK: &str = r#"{ echo "server 192.0.2.53"; echo "zone $DKIMKIT_ZONE"; echo "update delete $DKIMKIT_NAME. TXT"; if [ "$DKIMKIT_ACTION" = publish ]; then echo "update add $DKIMKIT_NAME. 300 TXT $DKIMKIT_STRINGS"; fi; echo send; } | nsupdate -k /etc/bind/dkim-update.key"#;

/// The README's nsupdate hook, sending to `server` with its TSIG key.
fn nsupdate_hook(server: &NamedServer) -> String {
    let readme = std::fs::read_to_string(crate::util::testdata("README.md")).unwrap();
    assert!(
        readme.contains(NSUPDATE_HOOK),
        "the README no longer shows the nsupdate hook the tests use"
    );
    NSUPDATE_HOOK
        .replace(
            "192.0.2.53",
            &format!("{} {}", server.addr().ip(), server.addr().port()),
        )
        .replace(
            "/etc/bind/dkim-update.key",
            &server.tsig_key_path().display().to_string(),
        )
}

/// rotate on the KeyTable in `d` (keys under keys/), checking records at `server`, as of `now`,
/// with `extra` arguments (how to publish, and more).
pub(crate) fn rotate_keytable_in(
    d: &Path,
    server: &dyn ServesDns,
    now: u64,
    extra: &[&str],
) -> Run {
    let now = now.to_string();
    let address = server.dns_addr().to_string();
    let mut args = vec![
        "rotate",
        "--keytable",
        "KeyTable",
        "--keys-dir",
        "keys",
        "--nameserver",
        &address,
        "--now",
        &now,
    ];
    args.extend_from_slice(extra);
    dkimkit_run(d, &args)
}

/// rotate_keytable_in, publishing by TSIG-signed DNS UPDATE to `server`.
fn rotate_by_dns_update(d: &Path, server: &NamedServer, now: u64, extra: &[&str]) -> Run {
    let address = server.addr().to_string();
    let tsig = server.tsig_key_path().display().to_string();
    let mut args = vec![
        "--publish",
        "rfc2136",
        "--server",
        &address,
        "--tsig-key",
        &tsig,
    ];
    args.extend_from_slice(extra);
    rotate_keytable_in(d, server, now, &args)
}

#[test]
fn thirteen_months_through_the_readmes_nsupdate_hook() {
    let setup = Setup::new();
    let server = NamedServer::start(&dynamic_zones(&setup));
    let hook = nsupdate_hook(&server);
    thirteen_months(
        &["--publish", "exec", "--publish-command", &hook],
        &server,
        &setup,
        &|_| {},
    );
}

#[test]
fn a_hook_that_asks_to_try_again_later_is_retried_by_the_next_run() {
    let dir = temp_dir();
    let d = dir.path();
    let txt = one_key_due(d, "org", "example.org");
    let server = NamedServer::start(&[Zone::new("example.org", &txt).dynamic()]);
    let run = |day: u64, hook: &str| {
        rotate_keytable_in(
            d,
            &server,
            START + day * DAY,
            &["--publish", "exec", "--publish-command", hook],
        )
    };
    let keytable = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    // The provider's API is busy: exit 3, the KeyTable untouched, nothing published.
    let busy = run(
        0,
        "echo 'API rate limit' >&2; echo 'retry in 60s' >&2; exit 75",
    )
    .fails_with(
        3,
        "asks to try again later (exit 75): API rate limit / retry in 60s",
    );
    assert!(busy.stdout.contains("org: stopped: "), "{}", busy.stdout);
    assert_eq!(
        std::fs::read_to_string(d.join("KeyTable")).unwrap(),
        keytable
    );
    // Any other status fails the entry (exit 1), its standard error in one line.
    run(
        0,
        "echo 'no such zone' >&2; echo 'check the name' >&2; exit 2",
    )
    .fails_with(
        1,
        "the publish command: it failed (exit status: 2): no such zone / check the name",
    );
    // The hook works again: the record the first runs left unpublished is published, then
    // switched to once served.
    let hook = nsupdate_hook(&server);
    let published = run(0, &hook).success();
    assert!(
        published.stdout.contains(
            "published 202611._domainkey.example.org by the publish command (zone example.org)"
        ),
        "{}",
        published.stdout
    );
    server.wait_until("the new record to be served", |server| {
        !server
            .dig("202611._domainkey.example.org", "TXT")
            .is_empty()
    });
    run(1, &hook).success();
    assert!(
        std::fs::read_to_string(d.join("KeyTable"))
            .unwrap()
            .contains("example.org:202611:")
    );
    // A temporary failure to withdraw is retried too, and the key retires once it is gone.
    run(15, "exit 75").fails_with(3, "try again later");
    assert!(
        !server
            .dig("202610._domainkey.example.org", "TXT")
            .is_empty()
    );
    run(15, &hook).success();
    run(16, &hook).success();
    assert!(d.join("keys/example.org/retired/202610.private").is_file());
}

/// The selectors a KeyTable names, by key name.
fn keytable_selectors(d: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(d.join("KeyTable"))
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (name, entry) = line.split_once(' ')?;
            Some((name.to_owned(), entry.split(':').nth(1)?.to_owned()))
        })
        .collect()
}

/// `rotate status` on the KeyTable in `d`, as of `now`, with `extra` arguments.
pub(crate) fn rotate_status(d: &Path, now: u64, extra: &[&str]) -> Run {
    let now = now.to_string();
    let mut args = vec![
        "rotate",
        "status",
        "--keytable",
        "KeyTable",
        "--keys-dir",
        "keys",
        "--now",
        &now,
    ];
    args.extend_from_slice(extra);
    dkimkit_run(d, &args)
}

/// Checks that `rotate status --json` says what the state file holds, entry by entry.
fn assert_status_matches_state(d: &Path, now: u64) {
    let status = rotate_status(d, now, &["--json"]).success();
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("keys/dkimkit-rotate.json")).unwrap())
            .unwrap();
    let keys = status["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        state["entries"].as_object().unwrap().len(),
        "{status:#}"
    );
    for key in keys {
        let entry = &state["entries"][key["key_name"].as_str().unwrap()];
        assert_eq!(
            key["active"]["selector"], entry["current"]["selector"],
            "{status:#}"
        );
        assert_eq!(
            key["pending"]["selector"], entry["next"]["selector"],
            "{status:#}"
        );
        let selectors = |list: &serde_json::Value| -> Vec<serde_json::Value> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|r| r["selector"].clone())
                .collect()
        };
        assert_eq!(selectors(&key["retiring"]), selectors(&entry["retiring"]));
        assert!(key["next_step"].is_string() && key["next_step_at"].is_string());
    }
}

#[test]
fn an_rsa_and_ed25519_pair_rotates_through_a_year_on_distinct_selectors() {
    let dir = temp_dir();
    let d = dir.path();
    let mut zone = String::new();
    for (key_type, bits) in [("rsa", "1024"), ("ed25519", "0")] {
        let selector = format!("202610-{key_type}");
        let mut args = vec![
            "genkey",
            "-D",
            "keys/example.com",
            "-s",
            &selector,
            "-d",
            "example.com",
            "--key-type",
            key_type,
        ];
        if key_type == "rsa" {
            args.extend(["-b", bits]);
        }
        dkimkit_run(d, &args).success();
        made_a_month_before_start(&d.join(format!("keys/example.com/{selector}.private")));
        zone.push_str(
            &std::fs::read_to_string(d.join(format!("keys/example.com/{selector}.txt"))).unwrap(),
        );
    }
    std::fs::write(
        d.join("KeyTable"),
        format!(
            "rsa example.com:202610-rsa:{0}/keys/example.com/202610-rsa.private\n\
             ed example.com:202610-ed25519:{0}/keys/example.com/202610-ed25519.private\n",
            d.display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("SigningTable"),
        "*@example.com rsa\n*@example.com ed\n",
    )
    .unwrap();
    let server = NamedServer::start(&[Zone::new("example.com", &zone).dynamic()]);
    let address = server.addr().to_string();
    let python = crate::util::dkimpy_python();
    let mut switches = 0;
    for day in 0..=398 {
        let now = START + day * DAY;
        let before = keytable_selectors(d);
        let run = rotate_by_dns_update(d, &server, now, &[]);
        assert_eq!(run.status, 0, "day {day}: {}{}", run.stdout, run.stderr);
        let after = keytable_selectors(d);
        if day == 0 {
            assert_status_matches_state(d, now);
        }
        if after == before && day != 0 {
            continue;
        }
        switches += before.iter().filter(|(k, v)| after[*k] != **v).count();
        // The pair never shares a selector, and each names its type.
        assert!(
            after["rsa"].ends_with("-rsa") && after["ed"].ends_with("-ed25519"),
            "{after:?}"
        );
        assert_status_matches_state(d, now);
        let checked = testkey_keytable_at(d, &address);
        assert!(
            checked.stdout.ends_with("2 keys: 2 ok\n"),
            "day {day}: {}",
            checked.stdout
        );
        // Mail signed with both current keys verifies, with dkimkit and with dkimpy.
        let message = d.join(format!("day-{day}.eml"));
        std::fs::write(
            &message,
            "From: joe@example.com\r\nSubject: pair\r\n\r\nhello\r\n",
        )
        .unwrap();
        let signed = dkimkit_run(
            d,
            &[
                "sign-file",
                "--keytable",
                "KeyTable",
                "--signing-table",
                "refile:SigningTable",
                "--multiple-signatures",
                message.to_str().unwrap(),
            ],
        )
        .success()
        .stdout;
        std::fs::write(&message, &signed).unwrap();
        assert_eq!(signed.matches("DKIM-Signature:").count(), 2, "{signed}");
        let verified = dkimkit_run(
            d,
            &[
                "verify-file",
                "--nameserver",
                &address,
                message.to_str().unwrap(),
            ],
        );
        assert_eq!(verified.status, 0, "day {day}: {}", verified.stdout);
        for selector in after.values() {
            assert!(
                verified
                    .stdout
                    .lines()
                    .any(|l| l.contains(": pass ") && l.contains(&format!(" s={selector} "))),
                "day {day}: {}",
                verified.stdout
            );
        }
        let records: BTreeMap<String, String> = after
            .values()
            .map(|selector| {
                let name = format!("{selector}._domainkey.example.com.");
                let record: String = server
                    .dig(&name, "TXT")
                    .iter()
                    .map(|line| crate::util::quoted_strings(line).concat())
                    .collect();
                (name, record)
            })
            .collect();
        let dkimpy = crate::util::run(
            std::process::Command::new(&python)
                .args([
                    "-c",
                    "import dkim, json, sys\n\
                     message = open(sys.argv[1], 'rb').read()\n\
                     records = json.loads(sys.argv[2])\n\
                     dns = lambda name, timeout=5: records[name.decode()].encode()\n\
                     print([dkim.DKIM(message).verify(idx=i, dnsfunc=dns) for i in (0, 1)])",
                ])
                .arg(&message)
                .arg(serde_json::to_string(&records).unwrap()),
        );
        assert_eq!(
            dkimpy.stdout.trim(),
            "[True, True]",
            "day {day}: {}",
            dkimpy.stderr
        );
    }
    // A rotation a month for each key, from 2026-11 to 2027-12.
    assert_eq!(switches, 2 * 14);
    let last = keytable_selectors(d);
    assert_eq!(
        (last["rsa"].as_str(), last["ed"].as_str()),
        ("202712-rsa", "202712-ed25519")
    );
}

/// testkey over the KeyTable in `d`, against `address`.
fn testkey_keytable_at(d: &Path, address: &str) -> Run {
    dkimkit_run(
        d,
        &["testkey", "--keytable", "KeyTable", "--nameserver", address],
    )
}

#[test]
fn a_stolen_key_is_replaced_at_once_revoked_and_a_retired_key_revealed() {
    let dir = temp_dir();
    let d = dir.path();
    let txt = one_key_due(d, "org", "example.org");
    let server = NamedServer::start(&[Zone::new("example.org", &txt).dynamic()]);
    let address = server.addr().to_string();
    std::fs::create_dir(d.join("revealed")).unwrap();
    let run = |day: u64, extra: &[&str]| {
        let mut args = vec!["--reveal-dir", "revealed"];
        args.extend_from_slice(extra);
        rotate_by_dns_update(d, &server, START + day * DAY, &args)
    };
    let first_key = std::fs::read(d.join("keys/example.org/202610.private")).unwrap();
    for day in [0, 1, 15, 16] {
        run(day, &[]).success();
    }
    // After the overlap the retired key is revealed, byte for byte, readable by all.
    let retired = std::fs::read(d.join("keys/example.org/retired/202610.private")).unwrap();
    let revealed_path = d.join("revealed/example.org.202610.private");
    assert_eq!(std::fs::read(&revealed_path).unwrap(), retired);
    assert_eq!(retired, first_key);
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&revealed_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
    // status says where the entry is, and changes nothing.
    let state_before = std::fs::read(d.join("keys/dkimkit-rotate.json")).unwrap();
    let status = rotate_status(d, START + 20 * DAY, &[]).success();
    assert!(
        status.stdout.starts_with(
            "org: example.org: active 202611 since 2026-11-01 04:00 UTC; pending none; retiring \
             none; next step 2026-12-01 04:00 UTC: rotate"
        ),
        "{}",
        status.stdout
    );
    assert_eq!(
        std::fs::read(d.join("keys/dkimkit-rotate.json")).unwrap(),
        state_before
    );
    assert_status_matches_state(d, START + 20 * DAY);
    // An unknown domain changes nothing.
    run(20, &["--rotate-now", "example.net"]).fails_with(
        2,
        "--rotate-now example.net: no entry rotate manages signs for example.net",
    );
    // The key of November is believed stolen on the 21st: a new key at once, and the old
    // record revoked as soon as the new one is served, with no overlap.
    let stolen = run(20, &["--rotate-now", "example.org", "--revoke"]).success();
    assert!(
        stolen.stdout.contains("rotating key 202611 now"),
        "{}",
        stolen.stdout
    );
    let table = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    assert!(
        table.contains("example.org:202611-2:"),
        "{table}\n{}",
        stolen.stdout
    );
    let old: String = server
        .dig("202611._domainkey.example.org", "TXT")
        .iter()
        .map(|line| crate::util::quoted_strings(line).concat())
        .collect();
    assert!(
        old.contains("k=ed25519") && old.ends_with("p="),
        "{old}\n{}",
        stolen.stdout
    );
    // The next run (without --rotate-now) retires it, and does not rotate again.
    run(21, &[]).success();
    assert!(d.join("keys/example.org/retired/202611.private").is_file());
    assert!(d.join("revealed/example.org.202611.private").is_file());
    assert!(
        std::fs::read_to_string(d.join("KeyTable"))
            .unwrap()
            .contains("example.org:202611-2:")
    );
    let checked = testkey_keytable_at(d, &address);
    assert_eq!(checked.status, 0, "{}", checked.stdout);
    // December's rotation (202611-2 was made on the 21st of November) is under way, killed
    // after choosing and generating the key, when the key is believed stolen: the rotation
    // completes, and the old record goes at once.
    run(51, &["--stop-after-steps", "2"]).fails_with(2, "stopped after 2 steps");
    let taken_over = run(51, &["--rotate-now", "example.org"]).success();
    assert!(
        taken_over
            .stdout
            .contains("the rotation to 202612 under way replaces key 202611-2"),
        "{}",
        taken_over.stdout
    );
    assert!(
        std::fs::read_to_string(d.join("KeyTable"))
            .unwrap()
            .contains("example.org:202612:")
    );
    assert!(
        server
            .dig("202611-2._domainkey.example.org", "TXT")
            .is_empty(),
        "{}",
        taken_over.stdout
    );
}

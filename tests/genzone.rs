//! `dkimkit genzone` against the programs its output is for: named-checkzone loads its zone
//! data, nsupdate applies its script to a real named, which then serves every KeyTable key; and
//! opendkim-genzone, given the same KeyTable, writes the same names and records.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use named_harness::{NamedServer, Zone};

use crate::util::{dkimkit_run, peer, quoted_strings, run, temp_dir};

/// Makes keys with genkey and a KeyTable naming them: `(domain, selector, genkey flags)`.
fn key_table(dir: &Path, keys: &[(&str, &str, &[&str])]) {
    let mut table = String::from("# made by the test\n");
    for (domain, selector, flags) in keys {
        let keys_dir = dir.join("keys").join(domain);
        let mut args = vec!["genkey", "-d", domain, "-s", selector, "-D"];
        let keys_dir_text = keys_dir.display().to_string();
        args.push(&keys_dir_text);
        args.extend_from_slice(flags);
        dkimkit_run(dir, &args).success();
        table.push_str(&format!(
            "{selector}._domainkey.{domain} {domain}:{selector}:{}/{selector}.private\n",
            keys_dir.display()
        ));
    }
    std::fs::write(dir.join("KeyTable"), table).unwrap();
}

/// The records of zone data: owner name -> value (its strings joined, `\;` read as `;`,
/// spaces removed so that layouts compare).
fn records(zone: &str) -> BTreeMap<String, String> {
    let mut records = BTreeMap::new();
    let mut owner = None;
    let mut value = String::new();
    for line in zone.lines() {
        if line.starts_with(';') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) && line.contains("TXT") {
            owner = line.split_whitespace().next().map(str::to_owned);
            value.clear();
        }
        let before_comment = line.split(" ;").next().unwrap();
        value.push_str(&quoted_strings(before_comment).concat());
        if line.contains(')')
            && let Some(owner) = owner.take()
        {
            records.insert(owner, value.replace(['\\', ' '], ""));
        }
    }
    records
}

#[test]
fn zone_data_loads_in_named_checkzone_and_matches_opendkim_genzone() {
    let dir = temp_dir();
    let d = dir.path();
    key_table(
        d,
        &[
            ("example.com", "r1024", &["-b", "1024"]),
            ("example.com", "r2048", &[]),
            ("mail.example.com", "sub", &[]),
            ("example.net", "other", &[]),
        ],
    );
    let zone = dkimkit_run(
        d,
        &[
            "genzone",
            "-S",
            "-N",
            "ns1.example.net,ns2.example.net",
            "-C",
            "hostmaster@example.com",
            "-D",
            "-t",
            "600",
            "-d",
            "example.com",
            "-o",
            "zone",
            "KeyTable",
        ],
    )
    .success();
    assert!(zone.stdout.is_empty());
    let text = std::fs::read_to_string(d.join("zone")).unwrap();
    assert!(
        text.starts_with("; DKIM public key zone data\n; for example.com\n"),
        "{text}"
    );
    let checkzone = peer("named-checkzone", "bind9-utils");
    let loaded = run(Command::new(&checkzone)
        .args(["-D", "-o", "-", "example.com"])
        .arg(d.join("zone")))
    .success();
    // Only example.com's keys (-d without -s), each with -t's TTL and strings of 255 bytes at most.
    let txt: Vec<&str> = loaded
        .stdout
        .lines()
        .filter(|l| l.contains(" IN TXT"))
        .collect();
    assert_eq!(txt.len(), 2, "{}", loaded.stdout);
    for line in &txt {
        assert!(line.contains(" 600 IN TXT"), "{line}");
        assert!(
            quoted_strings(line).iter().all(|s| s.len() <= 255),
            "{line}"
        );
    }
    assert!(
        loaded.stdout.contains("r1024._domainkey.example.com."),
        "{}",
        loaded.stdout
    );
    assert!(
        loaded
            .stdout
            .contains("SOA\tns1.example.net. hostmaster.example.com. "),
        "{}",
        loaded.stdout
    );

    // With -s, the subdomain's key too; a zone for _domainkey.example.net by default names.
    let with_sub =
        dkimkit_run(d, &["genzone", "-D", "-d", "example.com", "-s", "KeyTable"]).success();
    assert!(
        with_sub.stdout.contains("sub._domainkey\t"),
        "{}",
        with_sub.stdout
    );

    // opendkim-genzone on the same KeyTable: the same names and records.
    let opendkim_genzone = peer("opendkim-genzone", "opendkim-tools");
    for flags in [vec![], vec!["-D"], vec!["-F"], vec!["-M", "-D"]] {
        let theirs = run(Command::new(&opendkim_genzone)
            .args(&flags)
            .arg(d.join("KeyTable")))
        .success();
        let mut args = vec!["genzone"];
        args.extend_from_slice(&flags);
        args.push("KeyTable");
        let ours = dkimkit_run(d, &args).success();
        let (theirs, ours) = (records(&theirs.stdout), records(&ours.stdout));
        assert_eq!(theirs.len(), 4, "{flags:?}: {theirs:?}");
        assert_eq!(ours, theirs, "{flags:?}");
    }
}

#[test]
fn nsupdate_input_makes_named_serve_every_key() {
    let dir = temp_dir();
    let d = dir.path();
    key_table(
        d,
        &[
            ("example.com", "rsa", &[]),
            ("example.com", "ed", &["--key-type", "ed25519"]),
            ("example.net", "big", &["-b", "4096"]),
        ],
    );
    let server = NamedServer::start(&[
        Zone::new("example.com", "").dynamic(),
        Zone::new("example.net", "").dynamic(),
    ]);
    let address = server.addr().to_string();
    let testkey = || {
        dkimkit_run(
            d,
            &[
                "testkey",
                "--keytable",
                "KeyTable",
                "--nameserver",
                &address,
            ],
        )
    };
    let before = testkey();
    assert_eq!(
        before.status, 1,
        "nothing is published yet: {}",
        before.stdout
    );

    let script = dkimkit_run(d, &["genzone", "-u", "-t", "300", "KeyTable"]).success();
    let applied = server.nsupdate(&script.stdout);
    assert!(
        applied.status.success(),
        "nsupdate refused:\n{}\n{}",
        script.stdout,
        String::from_utf8_lossy(&applied.stderr)
    );
    let after = testkey().success();
    assert_eq!(
        after.stdout.matches(": key OK").count(),
        3,
        "{}",
        after.stdout
    );
    assert!(after.stdout.contains("matches"), "{}", after.stdout);
    let big = server.dig("big._domainkey.example.net", "TXT");
    assert_eq!(big.len(), 1, "{big:?}");
}

#[test]
fn json_and_what_cannot_be_published() {
    let dir = temp_dir();
    let d = dir.path();
    key_table(d, &[("example.com", "a", &[]), ("example.org", "b", &[])]);
    let json = dkimkit_run(d, &["genzone", "--json", "-M", "KeyTable"]).success();
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let keys = document["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1]["name"], "b._domainkey.example.org.");
    assert!(
        keys[0]["value"].as_str().unwrap().contains("s=email"),
        "{json:?}"
    );

    // -o replaces a file keeping its owner, group and mode (as named's zone files are kept).
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        std::fs::write(d.join("dkim.zone"), "; old\n").unwrap();
        std::os::unix::fs::chown(d.join("dkim.zone"), Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(d.join("dkim.zone"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        dkimkit_run(d, &["genzone", "-D", "-o", "dkim.zone", "KeyTable"]).success();
        let replaced = std::fs::metadata(d.join("dkim.zone")).unwrap();
        assert_eq!(
            (replaced.uid(), replaced.gid(), replaced.mode() & 0o7777),
            (65534, 65534, 0o640)
        );
        let text = std::fs::read_to_string(d.join("dkim.zone")).unwrap();
        assert_eq!(text.matches("\tIN\tTXT\t").count(), 2, "{text}");
    }

    // An opendkim.conf: its KeyTable (an entry for each sender's domain has no one record), or
    // its single key.
    let table = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    std::fs::write(
        d.join("KeyTable.any"),
        format!(
            "{table}any %:c:{}/keys/example.com/a.private\n",
            d.display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("tables.conf"),
        format!(
            "KeyTable {0}/KeyTable.any\nSigningTable refile:{0}/SigningTable\n",
            d.display()
        ),
    )
    .unwrap();
    let from_conf = dkimkit_run(d, &["genzone", "-F", "-x", "tables.conf"]).success();
    assert_eq!(
        from_conf.stdout.matches("\tIN\tTXT\t").count(),
        2,
        "{}",
        from_conf.stdout
    );
    assert!(
        from_conf
            .stderr
            .contains("KeyTable.any, line 4 (key any): skipped: its domain is %"),
        "{}",
        from_conf.stderr
    );
    std::fs::write(
        d.join("single.conf"),
        format!(
            "Domain example.com, example.net\nSelector a\nKeyFile {}/keys/example.com/a.private\n",
            d.display()
        ),
    )
    .unwrap();
    let single = dkimkit_run(d, &["genzone", "-F", "-x", "single.conf"]).success();
    assert!(
        single.stdout.contains("a._domainkey.example.com.\t")
            && single.stdout.contains("a._domainkey.example.net.\t"),
        "{}",
        single.stdout
    );

    // A key that cannot be read stops the run, naming the KeyTable line; nothing is written.
    std::fs::remove_file(d.join("keys/example.org/b.private")).unwrap();
    dkimkit_run(d, &["genzone", "-o", "zone", "KeyTable"]).fails_with(
        2,
        "KeyTable, line 3 (key b._domainkey.example.org): cannot read",
    );
    assert!(!d.join("zone").exists());
    // A key others can read is refused as opendkim's RequireSafeKeys refuses it.
    std::fs::write(
        d.join("KeyTable"),
        format!(
            "k example.com:a:{}/keys/example.com/a.private\n",
            d.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        d.join("keys/example.com/a.private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    dkimkit_run(d, &["genzone", "KeyTable"]).fails_with(2, "KeyTable, line 1 (key k)");
    dkimkit_run(d, &["genzone", "--allow-unsafe-keys", "KeyTable"]).success();
    dkimkit_run(d, &["genzone", "refile:KeyTable"]).fails_with(2, "not a refile: one");
}

//! The settings of opendkim.conf that `sign-file --config` and `testkey -x` follow: the
//! signature's form, checked by dkimpy and verify-file, and the name servers, checked against a
//! real named.

use std::path::Path;

use named_harness::{Zone, signed_root};

use crate::util::{dkimkit_run, dkimpy_verdicts, temp_dir};

/// A key made by genkey in `dir`; returns its record value.
fn genkey(dir: &Path, selector: &str, flags: &[&str]) -> String {
    let mut args = vec![
        "genkey",
        "-d",
        "example.com",
        "-s",
        selector,
        "--format",
        "value",
    ];
    args.extend_from_slice(flags);
    dkimkit_run(dir, &args).success().stdout.trim().to_owned()
}

#[test]
fn sign_file_follows_the_confs_canonicalization_headers_and_key_rules() {
    let dir = temp_dir();
    let d = dir.path();
    let record = genkey(d, "sel", &[]);
    let conf = format!(
        "# as the Debian package writes it\nDomain\texample.com\nSelector sel\nKeyFile {}/sel.private\n\
         Canonicalization\trelaxed/simple\nOversignHeaders From,Subject\nSignHeaders From,Subject,To\n",
        d.display()
    );
    std::fs::write(d.join("opendkim.conf"), &conf).unwrap();
    std::fs::write(
        d.join("in.eml"),
        "From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\nDate: Fri, 4 Dec 2026 12:00:00 +0000\r\n\r\nbody  \r\n",
    )
    .unwrap();
    let signed = dkimkit_run(
        d,
        &[
            "sign-file",
            "--config",
            "opendkim.conf",
            "-v",
            "-o",
            "out.eml",
            "in.eml",
        ],
    )
    .success();
    assert!(
        signed
            .stderr
            .contains("opendkim.conf: Canonicalization relaxed/simple (opendkim.conf, line 5)"),
        "{}",
        signed.stderr
    );
    let message = std::fs::read_to_string(d.join("out.eml")).unwrap();
    let field = message.replace("\r\n\t", " ");
    assert!(field.contains(" c=relaxed/simple;"), "{message}");
    assert!(
        field.contains(" h=from:from:subject:subject:to;"),
        "{message}"
    );

    // dkimpy and dkimkit verify it.
    let records = serde_json::Map::from_iter([(
        "sel._domainkey.example.com".to_owned(),
        serde_json::Value::from(record.clone()),
    )]);
    let verdicts = dkimpy_verdicts(d, records, &[d.join("out.eml")]);
    assert_eq!(verdicts[0]["pass"], true, "{verdicts:?}");
    let key = format!("--key=sel._domainkey.example.com={record}");
    dkimkit_run(d, &["verify-file", &key, "out.eml"]).success();

    // A flag given overrides the conf.
    let relaxed = dkimkit_run(
        d,
        &[
            "sign-file",
            "--config",
            "opendkim.conf",
            "-c",
            "relaxed/relaxed",
            "in.eml",
        ],
    )
    .success();
    assert!(
        relaxed.stdout.contains("c=relaxed/relaxed;"),
        "{}",
        relaxed.stdout
    );

    // Without Canonicalization, opendkim's default: simple/simple.
    std::fs::write(
        d.join("default.conf"),
        format!(
            "Domain example.com\nSelector sel\nKeyFile {}/sel.private\n",
            d.display()
        ),
    )
    .unwrap();
    let simple = dkimkit_run(d, &["sign-file", "--config", "default.conf", "in.eml"]).success();
    assert!(
        simple.stdout.contains("c=simple/simple;"),
        "{}",
        simple.stdout
    );

    // What opendkim would refuse is refused, naming the line.
    for (setting, message) in [
        (
            "MinimumKeyBits 3072",
            "the key has 2048 bits, fewer than MinimumKeyBits 3072 (bad.conf, line 4)",
        ),
        (
            "SignatureAlgorithm rsa-sha1",
            "bad.conf, line 4: SignatureAlgorithm rsa-sha1 is refused: RFC 8301",
        ),
        (
            "SignatureAlgorithm ed25519-sha256",
            "bad.conf, line 4: SignatureAlgorithm is ed25519-sha256, but this is an rsa key",
        ),
    ] {
        std::fs::write(
            d.join("bad.conf"),
            format!(
                "Domain example.com\nSelector sel\nKeyFile {}/sel.private\n{setting}\n",
                d.display()
            ),
        )
        .unwrap();
        dkimkit_run(d, &["sign-file", "--config", "bad.conf", "in.eml"]).fails_with(2, message);
    }

    // RequireSafeKeys false: a key others can read is used, with a warning.
    crate::util::make_private(&d.join("sel.private"));
    std::fs::set_permissions(
        d.join("sel.private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    dkimkit_run(d, &["sign-file", "--config", "default.conf", "in.eml"])
        .fails_with(2, "sel.private");
    std::fs::write(d.join("lax.conf"), format!("{conf}RequireSafeKeys false\n")).unwrap();
    let lax = dkimkit_run(d, &["sign-file", "--config", "lax.conf", "in.eml"]).success();
    assert!(lax.stderr.contains("warning"), "{}", lax.stderr);
}

#[test]
fn testkey_x_asks_the_confs_nameservers_with_its_trust_anchor() {
    let dir = temp_dir();
    let d = dir.path();
    genkey(d, "sel", &[]);
    let txt = std::fs::read_to_string(d.join("sel.txt")).unwrap();
    let server = signed_root(&[Zone::new("example.com", &txt).signed()]);
    std::fs::write(d.join("anchor"), server.trust_anchor()).unwrap();
    std::fs::write(
        d.join("opendkim.conf"),
        format!(
            "Domain example.com\nSelector sel\nKeyFile {0}/sel.private\nNameservers {1}\n\
             TrustAnchorFile {0}/anchor\n",
            d.display(),
            server.addr()
        ),
    )
    .unwrap();
    // No --nameserver, no --trust-anchor: only the conf says where example.com is served and
    // which key signs the root.
    let checked = dkimkit_run(d, &["testkey", "-x", "opendkim.conf", "-v"]).success();
    assert!(
        checked
            .stdout
            .contains("sel._domainkey.example.com: key OK")
            && checked.stdout.contains("DNSSEC: secure"),
        "{}{}",
        checked.stdout,
        checked.stderr
    );
    assert!(
        checked.stderr.contains(&format!(
            "opendkim.conf: Nameservers {} (opendkim.conf, line 4)",
            server.addr()
        )),
        "{}",
        checked.stderr
    );
    std::fs::write(
        d.join("bad.conf"),
        "Domain example.com\nSelector sel\nKeyFile /k\nNameservers ns1.example.com\n",
    )
    .unwrap();
    dkimkit_run(d, &["testkey", "-x", "bad.conf"]).fails_with(
        2,
        "bad.conf, line 4: Nameservers: name server \"ns1.example.com\" is not an IP address",
    );
}

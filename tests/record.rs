//! `dkimkit record`: the record of an existing key, from every key format `record --help` lists.

use std::process::Command;

use crate::util::{
    dkimkit_run, load_in_bind, make_private, peer, private_copy, run, temp_dir, testdata,
    write_private,
};

const VECTORS: &str = "crates/dkim-core/testdata/vectors";

/// The one-line record value dkimkit prints for a key file.
fn value_of(key_file: &std::path::Path, extra: &[&str]) -> String {
    let dir = temp_dir();
    let copy = private_copy(dir.path(), key_file);
    let key = copy.to_str().unwrap();
    let mut args = vec!["record", "-k", key, "--format", "value"];
    args.extend_from_slice(extra);
    dkimkit_run(dir.path(), &args)
        .success()
        .stdout
        .trim_end()
        .to_owned()
}

/// The `p=` of a record value.
fn p_of(value: &str) -> &str {
    value.rsplit_once("p=").unwrap().1.trim()
}

#[test]
fn reads_pkcs1_pkcs8_and_der_rsa_keys() {
    let spki_record =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/keys/rsa2048.spki.b64"))).unwrap();
    let pkcs1 = testdata(&format!("{VECTORS}/keys/rsa2048-pkcs1.pem"));
    assert_eq!(p_of(&value_of(&pkcs1, &[])), p_of(&spki_record));

    let pkcs8 = testdata(&format!("{VECTORS}/keys/rsa2048-pkcs8.pem"));
    let openssl_spki =
        std::fs::read_to_string(testdata("crates/dkim-core/testdata/rsa2048-pkcs8.spki.b64"))
            .unwrap();
    assert_eq!(p_of(&value_of(&pkcs8, &[])), openssl_spki.trim());

    // DER, as `openssl pkey -outform DER` writes it (PKCS#8) and `openssl rsa -traditional` (PKCS#1).
    let dir = temp_dir();
    for (name, args) in [
        ("pkcs8.der", vec!["pkey", "-outform", "DER"]),
        ("pkcs1.der", vec!["rsa", "-traditional", "-outform", "DER"]),
    ] {
        let der = dir.path().join(name);
        run(Command::new(peer("openssl", "openssl"))
            .args(&args)
            .arg("-in")
            .arg(&pkcs1)
            .arg("-out")
            .arg(&der))
        .success();
        make_private(&der);
        assert_eq!(p_of(&value_of(&der, &[])), p_of(&spki_record), "{name}");
    }
}

#[test]
fn reads_ed25519_seed_and_pkcs8_keys() {
    let record =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/keys/ed25519.record"))).unwrap();
    let from_seed = value_of(&testdata(&format!("{VECTORS}/keys/ed25519.seed")), &[]);
    assert_eq!(p_of(&from_seed), p_of(&record));
    assert!(from_seed.contains("k=ed25519"));

    // RFC 8463 A.2: the same key as a dkimpy seed and as PKCS#8 PEM; its published record.
    let records =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/rfc8463/records.txt"))).unwrap();
    let published = records
        .lines()
        .find(|l| l.starts_with("brisbane."))
        .unwrap();
    for file in ["brisbane.ed25519.seed", "brisbane.ed25519.pem"] {
        let value = value_of(&testdata(&format!("{VECTORS}/rfc8463/{file}")), &[]);
        assert_eq!(p_of(&value), p_of(published), "{file}");
    }
}

#[test]
fn rebuilds_the_txt_file_genkey_wrote() {
    let dir = temp_dir();
    let flags = [
        "-s",
        "202611",
        "-d",
        "example.com",
        "-r",
        "-t",
        "-n",
        "lost and found",
    ];
    let mut genkey = vec!["genkey", "-b", "1024"];
    genkey.extend_from_slice(&flags);
    dkimkit_run(dir.path(), &genkey).success();
    let mut record = vec!["record", "-k", "202611.private"];
    record.extend_from_slice(&flags);
    let rebuilt = dkimkit_run(dir.path(), &record).success();
    assert_eq!(
        rebuilt.stdout,
        std::fs::read_to_string(dir.path().join("202611.txt")).unwrap()
    );
    assert!(
        rebuilt
            .stderr
            .contains("dkimkit: warning: 202611.private: 1024-bit RSA keys are weak")
    );
}

#[test]
fn json_describes_the_one_record() {
    let dir = temp_dir();
    let key = private_copy(
        dir.path(),
        &testdata(&format!("{VECTORS}/rfc8463/test.rsa.private")),
    );
    let out = dkimkit_run(
        dir.path(),
        &[
            "record",
            "-k",
            key.to_str().unwrap(),
            "-s",
            "test",
            "-d",
            "football.example.com",
            "--json",
        ],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["name"], "test._domainkey.football.example.com");
    assert_eq!(json["key_type"], "rsa");
    assert_eq!(json["bits"], 1024);
    assert_eq!(json["record_file"], serde_json::Value::Null);
    let records =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/rfc8463/records.txt"))).unwrap();
    let published = records.lines().find(|l| l.starts_with("test.")).unwrap();
    assert_eq!(p_of(json["value"].as_str().unwrap()), p_of(published));
}

#[test]
fn the_printed_bind_entry_loads_in_bind() {
    let dir = temp_dir();
    let key = private_copy(
        dir.path(),
        &testdata(&format!("{VECTORS}/keys/rsa2048-pkcs1.pem")),
    );
    let out = dkimkit_run(
        dir.path(),
        &[
            "record",
            "-k",
            key.to_str().unwrap(),
            "-s",
            "k1",
            "-d",
            "example.com",
            "-a",
        ],
    )
    .success();
    std::fs::write(dir.path().join("k1.txt"), &out.stdout).unwrap();
    let loaded = load_in_bind(dir.path(), "example.com", &[&dir.path().join("k1.txt")]);
    assert_eq!(loaded[0].owner, "k1._domainkey.example.com.");
    assert!(
        loaded[0]
            .value()
            .starts_with("v=DKIM1; h=sha256; k=rsa; p=MII")
    );
}

#[test]
fn unreadable_or_malformed_keys_are_named_in_the_error() {
    let dir = temp_dir();
    dkimkit_run(dir.path(), &["record", "-k", "missing.private"]).fails_with(
        2,
        "dkimkit: error: cannot read missing.private: No such file or directory",
    );
    write_private(&dir.path().join("junk.private"), "not a key at all");
    dkimkit_run(dir.path(), &["record", "-k", "junk.private"]).fails_with(
        2,
        "dkimkit: error: junk.private: cannot read the private key: not a private key in a format dkimkit reads",
    );
    write_private(
        &dir.path().join("public.pem"),
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
    );
    dkimkit_run(dir.path(), &["record", "-k", "public.pem"])
        .fails_with(2, "public.pem: cannot read the private key: the PEM block is \"PUBLIC KEY\", not a private key");
    write_private(
        &dir.path().join("cut.private"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n",
    );
    dkimkit_run(dir.path(), &["record", "-k", "cut.private"])
        .fails_with(2, "cut.private: cannot read the private key: malformed PEM");
    dkimkit_run(dir.path(), &["record"]).fails_with(2, "--key <FILE>");
}

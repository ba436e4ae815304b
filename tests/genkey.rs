//! `dkimkit genkey`: opendkim-genkey's flags, files BIND loads unchanged, keys OpenSSL and dkimpy
//! agree with, and refusals that write nothing.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::util::{
    assert_nothing_written, dkimkit_run, dkimpy_sign_and_verify, load_in_bind,
    openssl_key_description, openssl_public_key, temp_dir,
};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 4); the raw key follows.
const ED25519_SPKI_PREFIX_LEN: usize = 12;

/// The `p=` of a record value, decoded.
fn published_key(value: &str) -> Vec<u8> {
    let p = value.rsplit_once("p=").expect("record has p=").1;
    BASE64.decode(p).expect("p= is base64")
}

/// Key sizes as OpenSSL describes them.
fn openssl_rsa(bits: usize) -> String {
    format!("Private-Key: ({bits} bit, 2 primes)")
}
const OPENSSL_ED25519: &str = "ED25519 Private-Key:";

/// Checks a generated key pair the way a mail administrator's tools see it: the private key is
/// 0600 and OpenSSL reads it as the key asked for; BIND loads SELECTOR.txt unchanged at the right name, with every
/// string at most 255 bytes; the published key is the one OpenSSL derives from the private key;
/// dkimpy signs with the private key and verifies against the published record. Returns the
/// record value as BIND serves it.
fn assert_sound_key_pair(dir: &Path, selector: &str, domain: &str, openssl_says: &str) -> String {
    let private_key = dir.join(format!("{selector}.private"));
    let record_file = dir.join(format!("{selector}.txt"));
    let mode = std::fs::metadata(&private_key)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "{} mode", private_key.display());
    assert_eq!(openssl_key_description(&private_key), openssl_says);

    let loaded = load_in_bind(dir, domain, &[&record_file]);
    let [txt] = loaded.as_slice() else {
        panic!("expected one TXT record, BIND loaded {loaded:?}")
    };
    assert_eq!(txt.owner, format!("{selector}._domainkey.{domain}."));
    for string in &txt.strings {
        assert!(string.len() <= 255, "{} bytes: {string}", string.len());
    }
    let value = txt.value();

    let spki = openssl_public_key(&private_key);
    let expected = if value.contains("k=ed25519") {
        // RFC 8463 4.2: Ed25519 publishes the bare key, not SubjectPublicKeyInfo.
        spki[ED25519_SPKI_PREFIX_LEN..].to_vec()
    } else {
        spki
    };
    assert_eq!(
        published_key(&value),
        expected,
        "p= is not the private key's public key"
    );

    let dkimpy = dkimpy_sign_and_verify(&private_key, domain, selector, &value);
    assert_eq!(
        dkimpy.status, 0,
        "dkimpy: {}{}",
        dkimpy.stdout, dkimpy.stderr
    );
    assert_eq!(dkimpy.stdout.trim(), "pass");
    value
}

#[test]
fn the_guides_opendkim_genkey_invocation_works_with_the_name_changed() {
    let dir = temp_dir();
    let run = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-b",
            "2048",
            "-h",
            "rsa-sha256",
            "-r",
            "-s",
            "201908",
            "-d",
            "example.com",
            "-v",
        ],
    )
    .success();
    assert_eq!(
        run.stdout, "",
        "nothing on stdout without --format, as opendkim-genkey"
    );
    for line in [
        "dkimkit: generating a 2048-bit RSA key for example.com",
        "dkimkit: private key written to 201908.private",
        "dkimkit: DNS TXT record written to 201908.txt",
    ] {
        assert!(
            run.stderr.contains(line),
            "-v should say {line:?}:\n{}",
            run.stderr
        );
    }
    let value = assert_sound_key_pair(dir.path(), "201908", "example.com", &openssl_rsa(2048));
    // -h rsa-sha256 means sha256 (opendkim-genkey would write the invalid h=rsa-sha256).
    assert!(
        value.starts_with("v=DKIM1; h=sha256; k=rsa; s=email; p=MII"),
        "{value}"
    );
    let private = std::fs::read_to_string(dir.path().join("201908.private")).unwrap();
    assert!(
        private.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "PKCS#1 as opendkim-genkey"
    );
    let txt = std::fs::read_to_string(dir.path().join("201908.txt")).unwrap();
    assert!(txt.starts_with(
        "201908._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; s=email; \"\n\t  \"p="
    ));
    assert!(
        txt.ends_with("\" )  ; ----- DKIM key 201908 for example.com\n"),
        "{txt}"
    );
}

fn assert_rsa_size_is_sound(bits: usize) {
    let dir = temp_dir();
    let bits_arg = bits.to_string();
    let run = dkimkit_run(
        dir.path(),
        &["genkey", "-b", &bits_arg, "-s", "sel", "-d", "example.com"],
    )
    .success();
    let weak = run.stderr.contains("RSA keys are weak");
    assert_eq!(
        weak,
        bits < 2048,
        "weak-key warning for {bits} bits: {}",
        run.stderr
    );
    assert_sound_key_pair(dir.path(), "sel", "example.com", &openssl_rsa(bits));
}

#[test]
fn rsa_1024_is_sound_and_warned_about() {
    assert_rsa_size_is_sound(1024);
}

#[test]
fn rsa_3072_is_sound() {
    assert_rsa_size_is_sound(3072);
}

#[test]
fn rsa_4096_is_sound() {
    assert_rsa_size_is_sound(4096);
}

#[test]
fn ed25519_is_sound_and_published_raw() {
    let dir = temp_dir();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "--key-type",
            "ed25519",
            "-s",
            "ed",
            "-d",
            "example.com",
        ],
    )
    .success();
    let value = assert_sound_key_pair(dir.path(), "ed", "example.com", OPENSSL_ED25519);
    assert!(
        value.starts_with("v=DKIM1; h=sha256; k=ed25519; p="),
        "{value}"
    );
    assert_eq!(published_key(&value).len(), 32);
    let private = std::fs::read_to_string(dir.path().join("ed.private")).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS#8"
    );
}

/// The record value genkey prints for these extra flags (Ed25519 keys: fast, and the tags do not
/// depend on the key type).
fn value_with(flags: &[&str]) -> String {
    let dir = temp_dir();
    let mut args = vec![
        "genkey",
        "--key-type",
        "ed25519",
        "-d",
        "example.com",
        "--format",
        "value",
    ];
    args.extend_from_slice(flags);
    let run = dkimkit_run(dir.path(), &args).success();
    run.stdout.trim_end().to_owned()
}

#[test]
fn record_flags_become_the_tags_opendkim_genkey_writes() {
    let tags = |flags: &[&str]| {
        let value = value_with(flags);
        value.rsplit_once("; p=").unwrap().0.to_owned()
    };
    assert_eq!(tags(&[]), "v=DKIM1; h=sha256; k=ed25519");
    assert_eq!(tags(&["-t"]), "v=DKIM1; h=sha256; k=ed25519; t=y");
    assert_eq!(tags(&["--testmode"]), "v=DKIM1; h=sha256; k=ed25519; t=y");
    assert_eq!(tags(&["-S"]), "v=DKIM1; h=sha256; k=ed25519; t=s");
    assert_eq!(
        tags(&["--nosubdomains"]),
        "v=DKIM1; h=sha256; k=ed25519; t=s"
    );
    assert_eq!(
        tags(&["-S", "--subdomains"]),
        "v=DKIM1; h=sha256; k=ed25519"
    );
    assert_eq!(tags(&["-t", "-S"]), "v=DKIM1; h=sha256; k=ed25519; t=y:s");
    // opendkim-genkey's --[no]testmode: the last of the two wins.
    assert_eq!(tags(&["--notestmode"]), "v=DKIM1; h=sha256; k=ed25519");
    assert_eq!(
        tags(&["-t", "--notestmode"]),
        "v=DKIM1; h=sha256; k=ed25519"
    );
    assert_eq!(
        tags(&["--notestmode", "-t"]),
        "v=DKIM1; h=sha256; k=ed25519; t=y"
    );
    assert_eq!(tags(&["-r"]), "v=DKIM1; h=sha256; k=ed25519; s=email");
    assert_eq!(
        tags(&["--restrict", "-tS"]),
        "v=DKIM1; h=sha256; k=ed25519; t=y:s; s=email"
    );
    assert_eq!(
        tags(&["--hash-algorithms", "sha256"]),
        "v=DKIM1; h=sha256; k=ed25519"
    );
    assert_eq!(
        tags(&["-n", "mail; rotated \"monthly\""]),
        "v=DKIM1; n=mail=3B=20rotated=20=22monthly=22; h=sha256; k=ed25519"
    );
}

#[test]
fn append_domain_writes_an_absolute_name_that_bind_loads() {
    let dir = temp_dir();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-a",
            "-s",
            "abs",
            "-d",
            "example.com",
            "-b",
            "1024",
        ],
    )
    .success();
    let txt = std::fs::read_to_string(dir.path().join("abs.txt")).unwrap();
    assert!(
        txt.starts_with("abs._domainkey.example.com.\tIN\tTXT\t"),
        "{txt}"
    );
    assert_sound_key_pair(dir.path(), "abs", "example.com", &openssl_rsa(1024));
}

#[test]
fn a_note_with_zone_file_metacharacters_loads_and_verifies() {
    let dir = temp_dir();
    let note = "ops \"team\"; see \\wiki ; (rotated) é";
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-n",
            note,
            "-s",
            "n",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    let value = assert_sound_key_pair(dir.path(), "n", "example.com", OPENSSL_ED25519);
    assert!(value.contains("n=ops=20=22team=22=3B"), "{value}");
}

#[test]
fn directory_flag_writes_there_and_creates_it() {
    let dir = temp_dir();
    let run = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-D",
            "keys/example.com",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
            "--json",
        ],
    )
    .success();
    let keys = dir.path().join("keys/example.com");
    assert!(keys.join("default.private").is_file() && keys.join("default.txt").is_file());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["keys"][0]["private_key_file"],
        "keys/example.com/default.private"
    );
    assert_eq!(
        json["keys"][0]["record_file"],
        "keys/example.com/default.txt"
    );
}

#[test]
fn without_domain_or_selector_it_writes_default_for_the_zone() {
    let dir = temp_dir();
    dkimkit_run(dir.path(), &["genkey", "--key-type", "ed25519"]).success();
    let txt = std::fs::read_to_string(dir.path().join("default.txt")).unwrap();
    assert!(txt.starts_with("default._domainkey\tIN\tTXT\t"), "{txt}");
    assert!(txt.ends_with(")  ; ----- DKIM key default\n"), "{txt}");
    let loaded = load_in_bind(
        dir.path(),
        "example.org",
        &[&dir.path().join("default.txt")],
    );
    assert_eq!(loaded[0].owner, "default._domainkey.example.org.");
}

#[test]
fn several_domains_each_get_a_folder_and_a_sound_key() {
    let dir = temp_dir();
    let run = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-D",
            "keys",
            "-s",
            "202611",
            "-b",
            "1024",
            "-d",
            "example.com",
            "-d",
            "example.net",
            "-d",
            "example.org",
            "--json",
        ],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let keys = json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for (key, domain) in keys
        .iter()
        .zip(["example.com", "example.net", "example.org"])
    {
        assert_eq!(key["domain"], domain);
        assert_eq!(key["name"], format!("202611._domainkey.{domain}"));
        assert_eq!(
            key["private_key_file"],
            format!("keys/{domain}/202611.private")
        );
        assert_eq!(key["bits"], 1024);
        let value = assert_sound_key_pair(
            &dir.path().join("keys").join(domain),
            "202611",
            domain,
            &openssl_rsa(1024),
        );
        assert_eq!(key["value"], value);
        assert_eq!(joined(&key["strings"]), value);
    }
    // Three different keys, not one key three times.
    let mut values: Vec<_> = keys.iter().map(|k| k["value"].as_str().unwrap()).collect();
    values.dedup();
    assert_eq!(values.len(), 3);
}

/// The JSON `strings` array joined, as a receiver joins the TXT record's strings.
fn joined(strings: &serde_json::Value) -> String {
    strings
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn formats_print_the_record_three_ways() {
    let dir = temp_dir();
    let bind = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "b",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
            "--format",
            "bind",
        ],
    )
    .success();
    assert_eq!(
        bind.stdout,
        std::fs::read_to_string(dir.path().join("b.txt")).unwrap()
    );

    let json = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "j",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
            "--json",
        ],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let key = &json["keys"][0];
    assert_eq!(key["key_type"], "ed25519");
    assert_eq!(key["bits"], 256);
    assert_eq!(key["selector"], "j");
    let loaded = load_in_bind(dir.path(), "example.com", &[&dir.path().join("j.txt")]);
    assert_eq!(key["value"], loaded[0].value());
    assert_eq!(joined(&key["strings"]), loaded[0].value());

    let value = value_with(&["-s", "v"]);
    assert!(value.starts_with("v=DKIM1; ") && !value.contains('"') && !value.contains('\n'));

    let several = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-D",
            "many",
            "--key-type",
            "ed25519",
            "-d",
            "a.example",
            "-d",
            "b.example",
            "--format",
            "value",
        ],
    )
    .success();
    let lines: Vec<&str> = several.stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("default._domainkey.a.example\tv=DKIM1; "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("default._domainkey.b.example\tv=DKIM1; "),
        "{}",
        lines[1]
    );
}

#[test]
fn existing_files_are_never_replaced_without_force() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("s.txt"), "old record\n").unwrap();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "s",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .fails_with(
        2,
        "dkimkit: error: s.txt already exists (use --force to replace it; nothing was written)",
    );
    assert!(!dir.path().join("s.private").exists(), "nothing written");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("s.txt")).unwrap(),
        "old record\n"
    );

    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "s",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
            "--force",
        ],
    )
    .success();
    assert_sound_key_pair(dir.path(), "s", "example.com", OPENSSL_ED25519);
    let first = std::fs::read(dir.path().join("s.private")).unwrap();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-s",
            "s",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .fails_with(2, "s.private already exists");
    assert_eq!(std::fs::read(dir.path().join("s.private")).unwrap(), first);
}

#[test]
fn one_existing_file_among_several_domains_stops_all_of_them() {
    let dir = temp_dir();
    std::fs::create_dir_all(dir.path().join("keys/b.example")).unwrap();
    std::fs::write(dir.path().join("keys/b.example/s.private"), "mine").unwrap();
    dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-D",
            "keys",
            "-s",
            "s",
            "--key-type",
            "ed25519",
            "-d",
            "a.example",
            "-d",
            "b.example",
        ],
    )
    .fails_with(2, "keys/b.example/s.private already exists");
    assert!(
        !dir.path().join("keys/a.example").exists(),
        "nothing written for a.example"
    );
}

#[test]
fn a_symbolic_link_in_place_of_the_key_is_not_followed() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("victim"), "keep").unwrap();
    std::os::unix::fs::symlink(dir.path().join("victim"), dir.path().join("s.private")).unwrap();
    dkimkit_run(dir.path(), &["genkey", "-s", "s", "--key-type", "ed25519"])
        .fails_with(2, "s.private already exists");
    dkimkit_run(
        dir.path(),
        &["genkey", "-s", "s", "--key-type", "ed25519", "--force"],
    )
    .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("victim")).unwrap(),
        "keep"
    );
}

#[test]
fn bad_selectors_and_domains_are_refused_before_anything_is_written() {
    let dir = temp_dir();
    for (selector, reason) in [
        ("a b", "character ' ' is not allowed"),
        ("a;rm -rf /", "character ';' is not allowed"),
        ("../etc", "character '/' is not allowed"),
        ("a..b", "it has an empty label"),
        ("x_y", "character '_' is not allowed"),
        ("-x-", "label \"-x-\" starts or ends with '-'"),
        ("", "it is empty"),
    ] {
        dkimkit_run(dir.path(), &["genkey", &format!("--selector={selector}")]).fails_with(
            2,
            &format!("invalid value '{selector}' for '--selector <SELECTOR>': {reason}"),
        );
    }
    for (domain, reason) in [
        (
            "localhost",
            "a signing domain needs at least two labels, such as example.com",
        ),
        ("exa mple.com", "character ' ' is not allowed"),
    ] {
        dkimkit_run(dir.path(), &["genkey", "-d", domain]).fails_with(
            2,
            &format!("invalid value '{domain}' for '--domain <DOMAIN>': {reason}"),
        );
    }
    assert_nothing_written(dir.path());
}

#[test]
fn sizes_rfc_8301_rules_out_are_refused() {
    let dir = temp_dir();
    dkimkit_run(dir.path(), &["genkey", "-b", "512"]).fails_with(
        2,
        "dkimkit: error: 512-bit RSA keys are refused: RFC 8301 requires at least 1024 bits",
    );
    dkimkit_run(dir.path(), &["genkey", "-b", "8192"])
        .fails_with(2, "8192-bit RSA keys are refused: RFC 8301 only requires receivers to verify keys up to 4096 bits");
    dkimkit_run(dir.path(), &["genkey", "-b", "many"]).fails_with(2, "invalid value 'many'");
    dkimkit_run(
        dir.path(),
        &["genkey", "--key-type", "ed25519", "-b", "2048"],
    )
    .fails_with(2, "Ed25519 keys are always 256 bits");
    assert_nothing_written(dir.path());
}

#[test]
fn sha1_is_refused_with_the_reason() {
    let dir = temp_dir();
    for list in ["sha1", "rsa-sha1", "sha1:sha256"] {
        dkimkit_run(dir.path(), &["genkey", "-h", list]).fails_with(
            2,
            "sha1 is refused: RFC 8301 forbids signing with rsa-sha1 and receivers treat such signatures as failing; use sha256",
        );
    }
    dkimkit_run(dir.path(), &["genkey", "-h", "md5"])
        .fails_with(2, "unknown hash algorithm \"md5\"");
    assert_nothing_written(dir.path());
}

#[test]
fn contradictory_or_incomplete_flags_are_usage_errors() {
    let dir = temp_dir();
    dkimkit_run(dir.path(), &["genkey", "-a"]).fails_with(2, "-a/--append-domain needs the domain");
    dkimkit_run(
        dir.path(),
        &["genkey", "-d", "a.example", "-d", "a.example"],
    )
    .fails_with(2, "domain a.example is given twice");
    dkimkit_run(dir.path(), &["genkey", "--json", "--format", "bind"])
        .fails_with(2, "cannot be used with");
    dkimkit_run(dir.path(), &["genkey", "--key-type", "dsa"]).fails_with(2, "invalid value 'dsa'");
    assert_nothing_written(dir.path());
}

#[test]
fn help_is_long_only_because_h_is_the_hash_flag() {
    let dir = temp_dir();
    let help = dkimkit_run(dir.path(), &["genkey", "--help"]).success();
    assert!(help.stdout.contains("-h, --hash-algorithms <LIST>"));
    assert!(help.stdout.contains("Exit status:"));
    let version = dkimkit_run(dir.path(), &["genkey", "-V"]).success();
    assert!(version.stdout.starts_with("dkimkit"), "{}", version.stdout);
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let dir = temp_dir();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // Every write to stdout now fails with EPIPE.
    let output = crate::util::dkimkit(dir.path())
        .args(["genkey", "--key-type", "ed25519", "--format", "bind"])
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(dir.path().join("default.private").is_file());
}

#[test]
fn a_progress_bar_is_drawn_on_a_terminal_and_nowhere_else() {
    let dir = temp_dir();
    let args = [
        "genkey",
        "-b",
        "1024",
        "-D",
        "k",
        "-d",
        "a.example",
        "-d",
        "b.example",
        "-d",
        "c.example",
    ];
    // `script` gives dkimkit a pseudo-terminal as stderr, as an administrator's shell would.
    let on_terminal = crate::util::run(
        std::process::Command::new(crate::util::peer("script", "bsdutils"))
            .current_dir(dir.path())
            .args([
                "-qec",
                &format!("{} {}", env!("CARGO_BIN_EXE_dkimkit"), args.join(" ")),
                "/dev/null",
            ]),
    )
    .success();
    assert!(
        on_terminal.stdout.contains("/3 keys"),
        "no bar on a terminal: {:?}",
        on_terminal.stdout
    );

    let in_a_pipe = dkimkit_run(
        dir.path(),
        &[
            "genkey",
            "-b",
            "1024",
            "-D",
            "p",
            "-d",
            "a.example",
            "-d",
            "b.example",
        ],
    )
    .success();
    assert!(
        !in_a_pipe.stderr.contains("/2 keys") && !in_a_pipe.stderr.contains('\u{1b}'),
        "{:?}",
        in_a_pipe.stderr
    );
}

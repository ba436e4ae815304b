//! Key safety: a private key other users could read is refused by every command that reads one
//! (opendkim's RequireSafeKeys), unless --allow-unsafe-keys; keys are created 0600 whatever the
//! umask; no write follows a symbolic link planted where a file is to go.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use named_harness::{NamedServer, Zone};

use crate::util::{Run, dkimkit_run, peer, run, temp_dir, testdata};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Each command that reads k.private to sign or compare, with `extra` flags.
fn every_reader(dir: &Path, server: &NamedServer, extra: &[&str]) -> Vec<(&'static str, Run)> {
    let address = server.addr().to_string();
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        dkimkit_run(dir, &all)
    };
    vec![
        ("record", with(&["record", "-k", "k.private"])),
        (
            "sign-file",
            with(&[
                "sign-file",
                "-d",
                "example.com",
                "-s",
                "k",
                "-k",
                "k.private",
                "plain.eml",
            ]),
        ),
        (
            "testkey",
            with(&[
                "testkey",
                "--nameserver",
                &address,
                "-d",
                "example.com",
                "-s",
                "k",
                "-k",
                "k.private",
            ]),
        ),
    ]
}

#[test]
fn keys_others_can_read_are_refused_unless_allowed() {
    let dir = temp_dir();
    let d = dir.path();
    dkimkit_run(d, &["genkey", "-s", "k", "-d", "example.com"]).success();
    std::fs::copy(testdata("tests/messages/plain.eml"), d.join("plain.eml")).unwrap();
    let zone = std::fs::read_to_string(d.join("k.txt")).unwrap();
    let server = NamedServer::start(&[Zone::new("example.com", &zone)]);
    let key = d.join("k.private");

    for safe in [0o600, 0o400] {
        chmod(&key, safe);
        for (command, result) in every_reader(d, &server, &[]) {
            assert_eq!(result.status, 0, "{command} {safe:o}: {}", result.stderr);
            assert_eq!(result.stderr, "", "{command} {safe:o}");
        }
    }
    for unsafe_mode in [0o644, 0o640] {
        chmod(&key, unsafe_mode);
        let says = format!(
            "dkimkit: error: k.private: the private key can be read or written by other users \
             (mode {unsafe_mode:04o}); fix it with: chmod 600 k.private; or pass \
             --allow-unsafe-keys to use it anyway\n"
        );
        for (command, result) in every_reader(d, &server, &[]) {
            assert_eq!(result.status, 2, "{command}: {}", result.stderr);
            assert_eq!(result.stderr, says, "{command}");
            assert_eq!(result.stdout, "", "{command}");
        }
        let warns = format!(
            "dkimkit: warning: k.private: the private key can be read or written by other users \
             (mode {unsafe_mode:04o}); fix it with: chmod 600 k.private (used anyway: \
             --allow-unsafe-keys)\n"
        );
        for (command, result) in every_reader(d, &server, &["--allow-unsafe-keys"]) {
            assert_eq!(result.status, 0, "{command}: {}", result.stderr);
            assert_eq!(result.stderr, warns, "{command}: warned once");
        }
    }

    // In KeyTable mode an unsafe key is a finding on its entry, as opendkim would not sign.
    std::fs::write(
        d.join("KeyTable"),
        format!("k._domainkey.example.com example.com:k:{}\n", key.display()),
    )
    .unwrap();
    let address = server.addr().to_string();
    let table = dkimkit_run(
        d,
        &[
            "testkey",
            "--nameserver",
            &address,
            "--keytable",
            "KeyTable",
        ],
    );
    assert_eq!(table.status, 1, "{}", table.stderr);
    assert_eq!(
        table.stdout,
        format!(
            "k._domainkey.example.com: error: {}: the private key can be read or written by \
             other users (mode 0640); fix it with: chmod 600 {}; or pass --allow-unsafe-keys to \
             use it anyway\n",
            key.display(),
            key.display()
        )
    );
}

/// A KeyTable with one key, `old`, in `dir`.
fn one_key_table(dir: &Path) {
    dkimkit_run(dir, &["genkey", "-s", "old", "-d", "example.com"]).success();
    std::fs::write(
        dir.join("KeyTable"),
        format!(
            "old._domainkey.example.com example.com:old:{}\n",
            dir.join("old.private").display()
        ),
    )
    .unwrap();
}

/// rotate with the records published by hand, as of `now` (Unix seconds).
fn rotate(dir: &Path, now: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "rotate",
        "--keytable",
        "KeyTable",
        "--keys-dir",
        ".",
        "--publish",
        "manual",
        "--now",
        now,
    ];
    args.extend_from_slice(extra);
    dkimkit_run(dir, &args)
}

#[test]
fn rotate_refuses_an_unsafe_current_key_unless_allowed() {
    let dir = temp_dir();
    let d = dir.path();
    one_key_table(d);
    rotate(d, "1796000000", &[]).success();
    // A month later the key is due; its size is read from the current key.
    chmod(&d.join("old.private"), 0o644);
    let refused = rotate(d, "1800000000", &[]);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
    let key = d.join("old.private");
    assert!(
        refused.stdout.contains(&format!(
            "old._domainkey.example.com: stopped: {}: the private key can be read or written by \
             other users (mode 0644); fix it with: chmod 600 {}; or pass --allow-unsafe-keys to \
             use it anyway",
            key.display(),
            key.display()
        )),
        "{}",
        refused.stdout
    );
    assert!(!d.join("202701.private").exists());
    let allowed = rotate(d, "1800000000", &["--allow-unsafe-keys"]);
    assert_eq!(allowed.status, 0, "{}", allowed.stderr);
    assert!(
        allowed
            .stderr
            .contains("(mode 0644); fix it with: chmod 600 "),
        "{}",
        allowed.stderr
    );
    assert_eq!(mode(&d.join("202701.private")), 0o600);
}

#[test]
fn genkey_makes_keys_0600_whatever_the_umask() {
    let dir = temp_dir();
    let script = format!(
        "umask 000; exec {} genkey -s u -d example.com",
        env!("CARGO_BIN_EXE_dkimkit")
    );
    run(Command::new(peer("bash", "bash"))
        .current_dir(dir.path())
        .args(["-c", &script]))
    .success();
    assert_eq!(mode(&dir.path().join("u.private")), 0o600);
    // The record is public; nothing else (no temporary file) is left.
    assert_eq!(mode(&dir.path().join("u.txt")), 0o644);
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["u.private", "u.txt"]);
}

#[test]
fn planted_symbolic_links_are_never_followed() {
    let dir = temp_dir();
    let d = dir.path();
    std::fs::write(d.join("victim"), "keep").unwrap();
    // genkey's key file and sign-file's output: refused, and with --force replaced, not followed.
    std::os::unix::fs::symlink(d.join("victim"), d.join("s.private")).unwrap();
    dkimkit_run(d, &["genkey", "-s", "s", "-d", "example.com"])
        .fails_with(2, "s.private already exists");
    dkimkit_run(d, &["genkey", "-s", "s", "-d", "example.com", "--force"]).success();
    assert!(!d.join("s.private").is_symlink());
    assert_eq!(mode(&d.join("s.private")), 0o600);
    std::fs::copy(testdata("tests/messages/plain.eml"), d.join("plain.eml")).unwrap();
    std::os::unix::fs::symlink(d.join("victim"), d.join("out.eml")).unwrap();
    let sign = |force: &[&str]| {
        let mut args = vec![
            "sign-file",
            "-d",
            "example.com",
            "-s",
            "s",
            "-k",
            "s.private",
            "-o",
            "out.eml",
        ];
        args.extend_from_slice(force);
        args.push("plain.eml");
        dkimkit_run(d, &args)
    };
    sign(&[]).fails_with(2, "out.eml already exists");
    sign(&["--force"]).success();
    assert!(!d.join("out.eml").is_symlink());
    assert_eq!(std::fs::read_to_string(d.join("victim")).unwrap(), "keep");

    // rotate's lock file: a link there is refused, and the file it names is untouched.
    one_key_table(d);
    std::os::unix::fs::symlink(d.join("victim"), d.join("dkimkit-rotate.lock")).unwrap();
    rotate(d, "1796000000", &[]).fails_with(
        2,
        &format!(
            "dkimkit: error: cannot open the lock file {}: ",
            Path::new("./dkimkit-rotate.lock").display()
        ),
    );
    assert_eq!(std::fs::read_to_string(d.join("victim")).unwrap(), "keep");
}

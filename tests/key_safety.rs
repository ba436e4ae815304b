//! Key safety: a private key other users could read is refused by every command that reads one
//! (opendkim's RequireSafeKeys), unless --allow-unsafe-keys; keys are created 0600 whatever the
//! umask; no write follows a symbolic link planted where a file is to go.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use named_harness::{NamedServer, Zone};

use crate::util::{Run, dkimkit_run, host_dir, peer, run, temp_dir, testdata};

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
             --allow-unsafe-keys, or opendkim.conf's RequireSafeKeys false)\n"
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

/// rotate's arguments with the records published by hand, as of `now` (Unix seconds).
fn rotate_args<'a>(now: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
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
    args
}

/// rotate with the records published by hand, as of `now`.
fn rotate(dir: &Path, now: &str, extra: &[&str]) -> Run {
    dkimkit_run(dir, &rotate_args(now, extra))
}

/// Asserts that a run warned about a key of mode 0644 it used anyway.
#[track_caller]
fn assert_warned_of_mode_0644(run: &Run) {
    assert!(
        run.stderr.contains("(mode 0644); fix it with: chmod 600 "),
        "{}",
        run.stderr
    );
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
    assert_eq!(refused.status, 1, "{}", refused.stderr);
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
    assert_warned_of_mode_0644(&allowed);
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

/// The opendkim user's ids (the opendkim package creates the user).
fn opendkim_ids() -> (u32, u32) {
    let user = opendkim_config::users::SystemUser::from_user_id("opendkim")
        .expect("no opendkim user: install it with `apt-get install opendkim`");
    (user.uid, user.gid)
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[test]
fn as_root_keys_owned_by_opendkim_are_accepted_and_keys_it_cannot_read_are_reported() {
    let dir = host_dir();
    let d = dir.path();
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(
        std::fs::metadata(d).unwrap().uid(),
        0,
        "run the tests as root, as on a mail host"
    );
    let keys = d.join("keys");
    std::fs::create_dir(&keys).unwrap();
    dkimkit_run(&keys, &["genkey", "-s", "k", "-d", "example.com"]).success();
    std::fs::copy(testdata("tests/messages/plain.eml"), keys.join("plain.eml")).unwrap();
    let zone = std::fs::read_to_string(keys.join("k.txt")).unwrap();
    let server = NamedServer::start(&[Zone::new("example.com", &zone)]);
    let key = keys.join("k.private");
    // `chown -R opendkim:opendkim keys`, the key 0600, the directory 0700.
    for path in [&keys, &key] {
        chown(path, opendkim_ids());
    }
    chmod(&keys, 0o700);
    for (command, result) in every_reader(&keys, &server, &[]) {
        assert_eq!(result.status, 0, "{command}: {}", result.stderr);
        assert_eq!(result.stderr, "", "{command}");
    }
    let table = d.join("KeyTable");
    std::fs::write(
        &table,
        format!("k._domainkey.example.com example.com:k:{}\n", key.display()),
    )
    .unwrap();
    chown(&table, opendkim_ids());
    let address = server.addr().to_string();
    let testkey = |args: &[&str]| {
        let mut all = vec!["testkey", "--nameserver", &address];
        all.extend_from_slice(args);
        dkimkit_run(d, &all)
    };
    let checked = testkey(&["--keytable", "KeyTable"]).success();
    assert!(
        checked
            .stdout
            .lines()
            .any(|line| line.starts_with("k._domainkey.example.com: key OK (")),
        "{}",
        checked.stdout
    );
    std::fs::write(
        d.join("opendkim.conf"),
        "KeyTable file:KeyTable\nSigningTable refile:SigningTable\nUserID opendkim\n",
    )
    .unwrap();
    testkey(&["-x", "opendkim.conf"]).success();

    // A key root owns is fine for root, but opendkim (the KeyTable's owner, or UserID) cannot
    // read it: a finding, since opendkim could not sign with it.
    chown(&key, (0, 0));
    let says = format!(
        "k._domainkey.example.com: error: {}: opendkim runs as opendkim, who cannot read this \
         key: the file (owner 0, group 0, mode 0600) does not let it read; fix it with: chown \
         opendkim {}\n",
        key.display(),
        key.display()
    );
    for args in [&["--keytable", "KeyTable"][..], &["-x", "opendkim.conf"]] {
        let checked = testkey(args);
        assert_eq!(checked.status, 1, "{args:?}: {}", checked.stderr);
        assert_eq!(checked.stdout, says, "{args:?}");
    }
    // rotate warns about it on every run, due or not.
    let mut args = rotate_args("1796000000", &[]);
    args[4] = "keys"; // --keys-dir
    let rotated = dkimkit_run(d, &args).success();
    assert!(
        rotated.stdout.contains(&format!(
            "k._domainkey.example.com: warning: {}",
            says.trim_end()
                .trim_start_matches("k._domainkey.example.com: error: ")
        )),
        "{}",
        rotated.stdout
    );
}

#[test]
fn rotate_run_as_another_user_stops_before_changing_owners() {
    let dir = host_dir();
    let d = dir.path();
    let opendkim = opendkim_ids();
    chown(d, opendkim);
    one_key_table(d);
    for file in ["old.private", "old.txt"] {
        chown(&d.join(file), opendkim);
    }
    // The KeyTable is root's, writable by opendkim's group: rewriting it as opendkim would
    // make it opendkim's.
    chown(&d.join("KeyTable"), (0, opendkim.1));
    chmod(&d.join("KeyTable"), 0o660);
    rotate(d, "1796000000", &[]).success();
    for file in ["dkimkit-rotate.json", "dkimkit-rotate.lock"] {
        chown(&d.join(file), opendkim);
    }
    let before = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    let run = run(Command::new(peer("runuser", "util-linux"))
        .args(["-u", "opendkim", "--"])
        .arg(env!("CARGO_BIN_EXE_dkimkit"))
        .args(rotate_args("1800000000", &[]))
        .current_dir(d));
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "KeyTable: it must stay owned by uid 0, group {} (as the file it replaces or sits \
             beside), which this user (uid {}) cannot give; run as root or as uid 0",
            opendkim.1, opendkim.0
        )),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(d.join("KeyTable")).unwrap(), before);
    assert!(!d.join("202701.private").exists(), "a key was made");
}

#[test]
fn rotate_follows_opendkim_confs_nameservers_and_require_safe_keys() {
    let dir = temp_dir();
    let d = dir.path();
    one_key_table(d);
    let zone = std::fs::read_to_string(d.join("old.txt")).unwrap();
    let server = NamedServer::start(&[Zone::new("example.com", &zone)]);
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rotate_x = |conf: &str| {
        std::fs::write(d.join("opendkim.conf"), conf).unwrap();
        dkimkit_run(
            d,
            &[
                "rotate",
                "-x",
                "opendkim.conf",
                "--keys-dir",
                ".",
                "--publish",
                "manual",
                "--now",
                "1900000000",
                "--timeout",
                "300ms",
                "--dry-run",
            ],
        )
    };
    // The conf's Nameservers are the ones asked: a silent one is a temporary failure.
    let silent_address = silent.local_addr().unwrap().to_string();
    rotate_x(&format!(
        "KeyTable file:KeyTable\nNameservers {silent_address}\n"
    ))
    .fails_with(
        3,
        &format!("(asking {silent_address}); nothing was changed"),
    );
    // RequireSafeKeys false lets rotate use a key others can read, with a warning.
    chmod(&d.join("old.private"), 0o644);
    let tables = format!(
        "KeyTable file:KeyTable\nNameservers {}\nRequireSafeKeys false\n",
        server.addr()
    );
    let allowed = rotate_x(&tables).success();
    assert!(
        allowed
            .stdout
            .contains("would generate key 203003 (RSA 2048-bit)"),
        "{}",
        allowed.stdout
    );
    assert_warned_of_mode_0644(&allowed);
    rotate_x(&tables.replace("false", "true")).fails_with(1, "or pass --allow-unsafe-keys");
}

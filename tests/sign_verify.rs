//! `dkimkit sign-file` and `dkimkit verify-file` as a mail administrator runs them: the public
//! vectors, outputs, batches, Maildirs and mboxes, exit codes, and hostile input.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::util::{
    Run, dkimkit, dkimkit_run, peer, run, run_with_input, temp_dir, testdata, verify_vector,
};

const VECTORS: &str = "crates/dkim-core/testdata/vectors";
const VECTOR_TIME: &str = "1667843664";

/// `--key` arguments for a verify vector's records, and its message.
fn vector(name: &str) -> (Vec<String>, Vec<u8>) {
    let (records, message) = verify_vector(name);
    let keys = records
        .into_iter()
        .map(|(name, value)| format!("--key={name}={value}"))
        .collect();
    (keys, message)
}

fn verify(dir: &Path, keys: &[String], extra: &[&str]) -> Run {
    let mut command = dkimkit(dir);
    command.arg("verify-file").args(keys).args(extra);
    run(&mut command)
}

#[test]
fn every_vector_passes_through_verify_file_at_its_time() {
    let dir = temp_dir();
    for name in [
        "mail-auth-001.txt",
        "mail-auth-002.txt",
        "mail-auth-003.txt",
        "mail-auth-004.txt",
        "mail-auth-005.txt",
        "mail-auth-006.txt",
        "dkimpy-rfc6376-simple.txt",
    ] {
        let (keys, message) = vector(name);
        std::fs::write(dir.path().join(name), message).unwrap();
        let result = verify(dir.path(), &keys, &["--now", VECTOR_TIME, name]).success();
        assert!(!result.stdout.is_empty(), "{name}");
        for line in result.stdout.lines() {
            assert!(
                line.starts_with(&format!("{name}: pass d=")),
                "{name}: {line}"
            );
        }
    }
    let (keys, _) = vector("mail-auth-005.txt");
    let today = verify(dir.path(), &keys, &["mail-auth-005.txt"]);
    assert_eq!(today.status, 1);
    assert!(
        today.stdout.contains("fail d=topicbox.com")
            && today.stdout.contains("(signature expired (x=1667930064))"),
        "{}",
        today.stdout
    );
    let rfc3339 = verify(
        dir.path(),
        &keys,
        &["--now", "2022-11-07T17:54:24Z", "mail-auth-005.txt"],
    );
    assert_eq!(rfc3339.status, 0, "{}", rfc3339.stdout);
}

#[test]
fn rfc_8463_example_and_its_authentication_results() {
    let dir = temp_dir();
    let records =
        std::fs::read_to_string(testdata(&format!("{VECTORS}/rfc8463/records.txt"))).unwrap();
    let keys: Vec<String> = records
        .lines()
        .map(|l| format!("--key={}", l.replacen('\t', "=", 1)))
        .collect();
    let signed = testdata(&format!("{VECTORS}/rfc8463/signed.eml"));
    let ar = verify(
        dir.path(),
        &keys,
        &[
            "--ar",
            "--authserv-id",
            "mx.example.net",
            signed.to_str().unwrap(),
        ],
    )
    .success();
    assert_eq!(
        ar.stdout,
        "Authentication-Results: mx.example.net;\n\
         \tdkim=pass header.d=football.example.com header.i=@football.example.com header.s=brisbane header.a=ed25519-sha256 header.b=\"/gCrinpc\";\n\
         \tdkim=pass header.d=football.example.com header.i=@football.example.com header.s=test header.a=rsa-sha256 header.b=F45dVWDf\n"
    );
}

/// Keys for signing: an RSA and an Ed25519 key with their `--key` arguments.
fn keys(dir: &Path) -> Vec<String> {
    dkimkit_run(dir, &["genkey", "-s", "rsa", "-d", "example.com"]).success();
    dkimkit_run(
        dir,
        &[
            "genkey",
            "-s",
            "ed",
            "-d",
            "example.com",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    vec![
        "--key=rsa._domainkey.example.com=rsa.txt".into(),
        "--key=ed._domainkey.example.com=ed.txt".into(),
    ]
}

const SIGN_BOTH: [&str; 10] = [
    "sign-file",
    "-d",
    "example.com",
    "-s",
    "rsa",
    "-k",
    "rsa.private",
    "-s",
    "ed",
    "-k",
];

fn sign_both(dir: &Path, extra: &[&str]) -> Run {
    let mut args = SIGN_BOTH.to_vec();
    args.push("ed.private");
    args.extend_from_slice(extra);
    dkimkit_run(dir, &args)
}

fn copy_message(dir: &Path, name: &str) {
    std::fs::copy(testdata(&format!("tests/messages/{name}")), dir.join(name)).unwrap();
}

#[test]
fn signs_with_two_keys_keeping_the_line_ends_and_tampering_is_caught() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    for name in ["plain.eml", "lf-only.eml"] {
        copy_message(dir.path(), name);
        let signed = sign_both(dir.path(), &[name]).success().stdout;
        let original = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            signed.ends_with(&original),
            "the message follows the signatures unchanged"
        );
        assert_eq!(signed.matches("DKIM-Signature:").count(), 2);
        assert_eq!(
            signed.contains('\r'),
            name == "plain.eml",
            "{name}: line ends kept"
        );
        std::fs::write(dir.path().join("signed.eml"), &signed).unwrap();
        let ok = verify(dir.path(), &keys, &["signed.eml"]).success();
        assert_eq!(
            ok.stdout
                .lines()
                .filter(|l| l.starts_with("signed.eml: pass d=example.com"))
                .count(),
            2,
            "{}",
            ok.stdout
        );

        let first_body_line = original
            .split("\n\n")
            .nth(1)
            .or_else(|| original.split("\r\n\r\n").nth(1))
            .unwrap()
            .lines()
            .next()
            .unwrap();
        std::fs::write(
            dir.path().join("body.eml"),
            signed.replacen(first_body_line, "Tampered.", 1),
        )
        .unwrap();
        let body = verify(dir.path(), &keys, &["body.eml"]);
        assert_eq!(body.status, 1);
        assert_eq!(
            body.stdout
                .matches("(body hash mismatch: the body was changed)")
                .count(),
            2,
            "{}",
            body.stdout
        );

        std::fs::write(
            dir.path().join("subject.eml"),
            signed.replacen("Subject: ", "Subject: Re: ", 1),
        )
        .unwrap();
        let subject = verify(dir.path(), &keys, &["subject.eml"]);
        assert_eq!(subject.status, 1);
        assert_eq!(
            subject
                .stdout
                .matches("(signature mismatch: a signed header field was changed")
                .count(),
            2,
            "{}",
            subject.stdout
        );

        let relayed = signed.replacen(
            "DKIM-Signature:",
            "Received: by relay.example.net\r\nDKIM-Signature:",
            1,
        );
        std::fs::write(dir.path().join("relayed.eml"), relayed).unwrap();
        verify(dir.path(), &keys, &["relayed.eml"]).success();
    }
}

#[test]
fn fixed_timestamps_make_reproducible_signatures() {
    let dir = temp_dir();
    keys(dir.path());
    copy_message(dir.path(), "plain.eml");
    let sign = || {
        dkimkit_run(
            dir.path(),
            &[
                "sign-file",
                "-d",
                "example.com",
                "-s",
                "ed",
                "-k",
                "ed.private",
                "--timestamp",
                "2026-11-22T12:00:00Z",
                "-x",
                "7d",
                "-l",
                "--identity",
                "joe@mail.example.com",
                "-H",
                "from:to:subject",
                "plain.eml",
            ],
        )
        .success()
        .stdout
    };
    let first = sign();
    assert_eq!(first, sign(), "Ed25519 with a fixed t= is deterministic");
    let first = first.replace("\r\n\t", "").replace("\n\t", "");
    for tag in [
        "t=1795348800;",
        "x=1795953600;",
        "l=",
        "i=joe@mail.example.com;",
        "h=from:from:to:subject;",
        "c=relaxed/relaxed;",
    ] {
        assert!(first.contains(tag), "{tag} missing: {first}");
    }
}

#[test]
fn batches_in_place_and_into_an_output_directory() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    let names = ["plain.eml", "folded-duplicated.eml", "eight-bit.eml"];
    for name in names {
        copy_message(dir.path(), name);
        std::fs::set_permissions(
            dir.path().join(name),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    }
    let mut several: Vec<&str> = vec![];
    several.extend_from_slice(&names);
    sign_both(dir.path(), &several).fails_with(
        2,
        "to sign several files, give --in-place or --output-dir DIR",
    );

    let mut to_dir = vec!["--output-dir", "out"];
    to_dir.extend_from_slice(&names);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    sign_both(dir.path(), &to_dir).success();
    for name in names {
        let out = std::fs::read_to_string(dir.path().join("out").join(name)).unwrap();
        assert!(out.starts_with("DKIM-Signature:"));
        assert!(
            !std::fs::read_to_string(dir.path().join(name))
                .unwrap()
                .contains("DKIM-Signature"),
            "original untouched"
        );
    }
    sign_both(dir.path(), &to_dir).fails_with(
        2,
        "out/plain.eml already exists (use --force to replace it; nothing was written)",
    );

    let mut in_place = vec!["--in-place"];
    in_place.extend_from_slice(&names);
    sign_both(dir.path(), &in_place).success();
    let mut check = vec!["--json"];
    check.extend_from_slice(&names);
    let json: serde_json::Value =
        serde_json::from_str(&verify(dir.path(), &keys, &check).success().stdout).unwrap();
    assert_eq!(json["messages"].as_array().unwrap().len(), 3);
    for message in json["messages"].as_array().unwrap() {
        assert_eq!(message["result"], "pass");
        assert_eq!(message["signatures"].as_array().unwrap().len(), 2);
    }
    for name in names {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640, "{name}: --in-place keeps the file's mode");
    }
}

/// Asserts that no line of `stderr` says `fragment` twice (as "No such file or directory (os
/// error 2)" once was: the error's text and then its cause's, the same words).
fn assert_no_repeats(stderr: &str, fragment: &str) {
    for line in stderr.lines() {
        assert!(line.matches(fragment).count() <= 1, "repeated: {line}");
    }
}

#[test]
fn a_missing_output_directory_is_created_with_its_parents() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    let names = ["plain.eml", "eight-bit.eml"];
    for name in names {
        copy_message(dir.path(), name);
    }
    let mut args = vec!["--output-dir", "signed/2026/12"];
    args.extend_from_slice(&names);
    sign_both(dir.path(), &args).success();
    let mut check = vec![];
    for name in names {
        check.push(format!("signed/2026/12/{name}"));
    }
    let check: Vec<&str> = check.iter().map(String::as_str).collect();
    verify(dir.path(), &keys, &check).success();
    let mode = std::fs::metadata(dir.path().join("signed/2026"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o700, 0o700, "a directory its owner can use");
}

#[test]
fn a_batch_that_fails_part_way_names_each_failure_and_counts_the_rest() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    copy_message(dir.path(), "plain.eml");
    copy_message(dir.path(), "eight-bit.eml");
    // Run as root, so no file is unreadable for lack of permission: a directory and a missing
    // file stand in for unreadable messages.
    std::fs::create_dir(dir.path().join("a-directory.eml")).unwrap();
    let batch = [
        "--output-dir",
        "out",
        "plain.eml",
        "a-directory.eml",
        "missing.eml",
        "eight-bit.eml",
    ];
    let failed = sign_both(dir.path(), &batch);
    assert_eq!(failed.status, 2, "{}", failed.stderr);
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "one line per failure, then the count:\n{}",
        failed.stderr
    );
    assert!(
        lines[0].starts_with("dkimkit: error: a-directory.eml: "),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "dkimkit: error: missing.eml: cannot read the message: No such file or directory"
    );
    assert_eq!(
        lines[2],
        "dkimkit: error: 2 of 4 messages signed and written; 2 failed, each named above, and \
         not written"
    );
    assert_no_repeats(&failed.stderr, "Is a directory");
    let mut written: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["eight-bit.eml", "plain.eml"],
        "and nothing else, no temporary file"
    );
    verify(dir.path(), &keys, &["out/plain.eml", "out/eight-bit.eml"]).success();

    let mut as_json = vec!["--json", "--force"];
    as_json.extend_from_slice(&batch);
    let json = sign_both(dir.path(), &as_json);
    assert_eq!(json.status, 2, "{}", json.stderr);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (json["signed"].as_u64(), json["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let files = json["files"].as_array().unwrap();
    assert_eq!(files[0]["output"], "out/plain.eml");
    assert_eq!(files[2]["file"], "missing.eml");
    assert_eq!(
        files[2]["error"],
        "missing.eml: cannot read the message: No such file or directory"
    );
    assert!(
        files[1]["error"].is_string() && files[3]["error"].is_null(),
        "{json:#}"
    );

    // -o's directory is not created: the one line says what is missing, once, and no
    // temporary file's name.
    let nowhere = sign_both(dir.path(), &["-o", "nowhere/signed.eml", "plain.eml"]);
    assert_eq!(
        (nowhere.status, nowhere.stderr.as_str()),
        (
            2,
            "dkimkit: error: plain.eml: cannot write nowhere/signed.eml: No such file or \
             directory\n"
        )
    );

    let in_place = sign_both(dir.path(), &["--in-place", "plain.eml", "missing.eml"]);
    assert_eq!(in_place.status, 2, "{}", in_place.stderr);
    assert!(
        in_place.stderr.ends_with(
            "dkimkit: error: 1 of 2 messages signed in place; 1 failed, each named above, and \
             left unchanged\n"
        ),
        "{}",
        in_place.stderr
    );
}

#[test]
fn new_files_are_synced_when_fsync_asks() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    copy_message(dir.path(), "plain.eml");
    sign_both(dir.path(), &["--fsync", "-o", "one.eml", "plain.eml"]).success();
    sign_both(dir.path(), &["--fsync", "--output-dir", "out", "plain.eml"]).success();
    sign_both(dir.path(), &["--fsync", "--in-place", "plain.eml"]).success();
    verify(
        dir.path(),
        &keys,
        &["one.eml", "out/plain.eml", "plain.eml"],
    )
    .success();
}

#[test]
fn standard_input_and_output_and_json() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    copy_message(dir.path(), "plain.eml");
    let signed = run_with_input(
        dkimkit(dir.path()).args(SIGN_BOTH).arg("ed.private"),
        &dir.path().join("plain.eml"),
    )
    .success();
    std::fs::write(dir.path().join("signed.eml"), &signed.stdout).unwrap();
    let mut command = dkimkit(dir.path());
    command.arg("verify-file").args(&keys).arg("-");
    let verified = run_with_input(&mut command, &dir.path().join("signed.eml")).success();
    assert!(
        verified
            .stdout
            .starts_with("<stdin>: pass d=example.com s=rsa a=rsa-sha256\n"),
        "{}",
        verified.stdout
    );

    let json = sign_both(dir.path(), &["--json", "plain.eml"]).success();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let signatures = json["files"][0]["signatures"].as_array().unwrap();
    assert_eq!(json["files"][0]["output"], serde_json::Value::Null);
    assert_eq!(signatures[1]["algorithm"], "ed25519-sha256");
    assert!(
        signatures[0]["field"]
            .as_str()
            .unwrap()
            .starts_with("DKIM-Signature: v=1; a=rsa-sha256;")
    );
}

#[test]
fn maildirs_and_mboxes() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    let maildir = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut mbox = Vec::new();
    for (i, name) in ["plain.eml", "lf-only.eml", "eight-bit.eml"]
        .iter()
        .enumerate()
    {
        copy_message(dir.path(), name);
        let signed = sign_both(dir.path(), &[name]).success().stdout;
        let sub = if i == 0 { "new" } else { "cur" };
        std::fs::write(maildir.join(sub).join(format!("{i}.host:2,S")), &signed).unwrap();
        // mboxrd: a body line starting with "From " is stored as ">From ".
        let body_with_from = signed.replacen("\n\n", "\n\nFrom the start of the body\n", 1);
        let signed_again = if name == &"lf-only.eml" {
            Some(body_with_from)
        } else {
            None
        };
        mbox.extend_from_slice(b"From joe@example.com Sun Nov 22 12:00:00 2026\n");
        let stored = signed_again.as_deref().unwrap_or(&signed);
        mbox.extend_from_slice(
            stored
                .replace("\nFrom the start", "\n>From the start")
                .as_bytes(),
        );
        mbox.extend_from_slice(b"\n");
    }
    let maildir_run = verify(dir.path(), &keys, &["Maildir"]).success();
    assert!(
        maildir_run.stdout.ends_with("3 messages: 3 pass\n"),
        "{}",
        maildir_run.stdout
    );
    std::fs::write(dir.path().join("box.mbox"), &mbox).unwrap();
    let mbox_run = verify(dir.path(), &keys, &["--mbox", "box.mbox"]);
    // The message whose body gained a "From " line after signing fails; the others pass.
    assert_eq!(mbox_run.status, 1, "{}", mbox_run.stdout);
    assert!(
        mbox_run.stdout.contains("box.mbox#2 (line "),
        "{}",
        mbox_run.stdout
    );
    assert!(
        mbox_run.stdout.ends_with("3 messages: 2 pass, 1 fail\n"),
        "{}",
        mbox_run.stdout
    );
    // On a terminal, the mbox's messages are counted on a progress bar as they are read.
    let script = format!(
        "{} verify-file {} --mbox box.mbox",
        env!("CARGO_BIN_EXE_dkimkit"),
        keys.join(" ")
    );
    let on_terminal = run(Command::new(peer("script", "bsdutils"))
        .current_dir(dir.path())
        .args(["-qec", &script, "/dev/null"]));
    assert!(
        on_terminal.stdout.contains("/3 messages"),
        "{:?}",
        on_terminal.stdout
    );
    std::fs::create_dir(dir.path().join("not-a-maildir")).unwrap();
    verify(dir.path(), &keys, &["not-a-maildir"]).fails_with(
        2,
        "not-a-maildir is a directory but not a Maildir (it needs cur/ and new/)",
    );
}

#[test]
fn exit_status_is_the_worst_message() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    copy_message(dir.path(), "plain.eml");
    let signed = sign_both(dir.path(), &["plain.eml"]).success().stdout;
    std::fs::write(dir.path().join("good.eml"), &signed).unwrap();
    verify(dir.path(), &keys, &["good.eml", "plain.eml"]).fails_with(1, "");
    let none = verify(dir.path(), &keys, &["plain.eml"]);
    assert_eq!(
        (none.status, none.stdout.as_str()),
        (1, "plain.eml: none (no DKIM signature)\n")
    );
    let missing = verify(dir.path(), &keys, &["good.eml", "missing.eml"]);
    assert_eq!(missing.status, 2);
    assert!(
        missing.stdout.contains("good.eml: pass"),
        "the others are still reported"
    );
    assert!(
        missing.stderr.contains(
            "dkimkit: error: missing.eml: cannot read the message: No such file or directory"
        ),
        "{}",
        missing.stderr
    );
    let no_key = dkimkit_run(
        dir.path(),
        &[
            "verify-file",
            "--key",
            "rsa._domainkey.example.com=rsa.txt",
            "good.eml",
        ],
    );
    assert_eq!(
        no_key.status, 0,
        "one passing signature is enough: {}",
        no_key.stdout
    );
}

#[test]
fn signing_refuses_what_cannot_be_signed() {
    let dir = temp_dir();
    keys(dir.path());
    std::fs::write(
        dir.path().join("no-from.eml"),
        "To: x@example.net\r\n\r\nhi\r\n",
    )
    .unwrap();
    sign_both(dir.path(), &["no-from.eml"]).fails_with(2, "dkimkit: error: no-from.eml: the message has no From header field, which a DKIM signature must cover");
    copy_message(dir.path(), "plain.eml");
    dkimkit_run(
        dir.path(),
        &[
            "sign-file",
            "-d",
            "example.com",
            "-s",
            "a",
            "-s",
            "b",
            "-k",
            "rsa.private",
            "plain.eml",
        ],
    )
    .fails_with(2, "give one -s/--selector per -k/--key (got 2 -s and 1 -k)");
    sign_both(dir.path(), &["--identity", "joe@example.org", "plain.eml"]).fails_with(
        2,
        "identity joe@example.org is not within the signing domain example.com",
    );
    sign_both(dir.path(), &["-H", "to:subject", "plain.eml"])
        .fails_with(2, "the signed header fields must include From");
    sign_both(dir.path(), &["-c", "fancy", "plain.eml"]).fails_with(2, "invalid value 'fancy'");
    dkimkit_run(
        dir.path(),
        &[
            "sign-file",
            "-d",
            "example.com",
            "-s",
            "x",
            "-k",
            "plain.eml",
            "--allow-unsafe-keys",
            "plain.eml",
        ],
    )
    .fails_with(2, "plain.eml: cannot read the private key");
    sign_both(dir.path(), &["--timestamp", "yesterday", "plain.eml"])
        .fails_with(2, "invalid value 'yesterday' for '--timestamp <TIME>'");
    verify(dir.path(), &[], &["--key", "nonsense", "plain.eml"]).fails_with(
        2,
        "--key nonsense: write it as SELECTOR._domainkey.DOMAIN=RECORD_OR_FILE",
    );
    verify(
        dir.path(),
        &[],
        &["--key", "s._domainkey.example.com=v=DKIM2; p=", "plain.eml"],
    )
    .fails_with(2, "--key s._domainkey.example.com: v=DKIM2 is not DKIM1");
    verify(
        dir.path(),
        &[],
        &["--key", "s._domainkey.example.com=no-such.txt", "plain.eml"],
    )
    .fails_with(2, "no-such.txt is neither a file nor a key record");
}

#[test]
fn a_1_gb_message_is_signed_and_verified_in_flat_memory() {
    let dir = temp_dir();
    let keys = keys(dir.path());
    let big = dir.path().join("big.eml");
    {
        use std::io::Write as _;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        file.write_all(b"From: a@example.com\r\nTo: b@example.net\r\nSubject: 1 GB\r\n\r\n")
            .unwrap();
        let line =
            b"Lorem ipsum dolor sit amet, consectetur adipiscing elit,  sed do eiusmod tempor.\r\n";
        let block: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 800)
            .collect();
        for _ in 0..(1 << 30) / block.len() {
            file.write_all(&block).unwrap();
        }
    }
    // The address space is capped far below the message size: memory must not grow with it.
    let capped = |args: &str| {
        let script = format!(
            "ulimit -v 250000; exec {} {args}",
            env!("CARGO_BIN_EXE_dkimkit")
        );
        run(Command::new(peer("bash", "bash"))
            .current_dir(dir.path())
            .args(["-c", &script]))
    };
    capped("sign-file -d example.com -s ed -k ed.private -o big-signed.eml big.eml").success();
    std::fs::remove_file(&big).unwrap();
    let verified = capped(&format!("verify-file {} big-signed.eml", keys[1])).success();
    assert_eq!(
        verified.stdout,
        "big-signed.eml: pass d=example.com s=ed a=ed25519-sha256\n"
    );
}

#[test]
fn keys_are_chosen_by_from_address_from_opendkim_tables() {
    let dir = temp_dir();
    let d = dir.path();
    dkimkit_run(
        d,
        &[
            "genkey",
            "-D",
            "keys",
            "-s",
            "202611",
            "-d",
            "example.com",
            "-d",
            "example.org",
            "--key-type",
            "ed25519",
        ],
    )
    .success();
    std::fs::write(
        d.join("KeyTable"),
        format!(
            "# as the seed guides write it\n202611._domainkey.example.com example.com:202611:{0}/keys/example.com/202611.private\n202611._domainkey.example.org example.org:202611:{0}/keys/example.org/202611.private\n",
            d.display()
        ),
    )
    .unwrap();
    std::fs::write(d.join("SigningTable"), "*@example.com 202611._domainkey.example.com\n*@example.org 202611._domainkey.example.org\n").unwrap();
    std::fs::write(
        d.join("opendkim.conf"),
        format!(
            "KeyTable {0}/KeyTable\nSigningTable refile:{0}/SigningTable\n",
            d.display()
        ),
    )
    .unwrap();
    let keys = [
        "--key=202611._domainkey.example.com=keys/example.com/202611.txt".to_owned(),
        "--key=202611._domainkey.example.org=keys/example.org/202611.txt".to_owned(),
    ];
    for (from, domain) in [
        ("Joe <joe@example.com>", "example.com"),
        ("ann@EXAMPLE.ORG", "example.org"),
    ] {
        std::fs::write(
            d.join("in.eml"),
            format!("From: {from}\r\nSubject: hi\r\n\r\nbody\r\n"),
        )
        .unwrap();
        for how in [
            vec![
                "--keytable",
                "KeyTable",
                "--signing-table",
                "refile:SigningTable",
            ],
            vec!["--config", "opendkim.conf"],
        ] {
            let mut args = vec!["sign-file"];
            args.extend_from_slice(&how);
            args.push("in.eml");
            let signed = dkimkit_run(d, &args).success().stdout;
            let unfolded = signed.replace("\r\n\t", " ");
            assert!(
                unfolded.contains(&format!(" d={domain}; s=202611;")),
                "{from} {how:?}: {signed}"
            );
            std::fs::write(d.join("out.eml"), signed).unwrap();
            let verified = verify(d, &keys, &["out.eml"]).success();
            assert_eq!(
                verified.stdout,
                format!("out.eml: pass d={domain} s=202611 a=ed25519-sha256\n")
            );
        }
    }
    std::fs::write(
        d.join("stranger.eml"),
        "From: eve@example.net\r\n\r\nbody\r\n",
    )
    .unwrap();
    dkimkit_run(d, &["sign-file", "--config", "opendkim.conf", "stranger.eml"]).fails_with(
        2,
        "stranger.eml: no SigningTable entry matches the From address eve@example.net, so opendkim would not sign it either",
    );
    dkimkit_run(d, &["sign-file", "--keytable", "KeyTable", "in.eml"])
        .fails_with(2, "--signing-table");
    dkimkit_run(d, &["sign-file", "--config", "missing.conf", "in.eml"])
        .fails_with(2, "missing.conf");
}

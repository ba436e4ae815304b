//! Hostile input, at the command level: each row of the table is an input a stranger can send
//! (a message, a key record in DNS) or a file a careless setup hands over (a private key), the
//! command it goes to, and the exit status and message expected. Every row runs under
//! `ulimit -v` (300 MB of address space) and a wall-clock bound, so a row that panics, loops or
//! grows with its input fails here. Messages are verified with `--key` (no DNS); key records
//! are served by a real BIND on loopback to testkey and verify-file.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use named_harness::{NamedServer, Zone};

use crate::util::{
    Run, assert_says_each_thing_once, dkimkit_run, make_private, openssl_public_key, peer, run,
    temp_dir, testdata,
};

/// The address space each run may use: far below the 10 MB and 100,000-field inputs times any
/// careless copy, and enough for the binary, its threads and a resolver.
const ADDRESS_SPACE_KB: u32 = 300_000;
/// Wall-clock bound for one run (generous for a loaded CI machine; typical runs take well under
/// a second).
const TIME_BOUND: Duration = Duration::from_secs(30);

/// One row: what is fed to which command, and what must come back.
struct Row {
    name: &'static str,
    /// dkimkit's arguments.
    args: Vec<String>,
    status: i32,
    /// Text stdout or stderr must contain.
    says: String,
}

fn row(name: &'static str, args: &[&str], status: i32, says: &str) -> Row {
    Row {
        name,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        status,
        says: says.to_owned(),
    }
}

/// Runs dkimkit in `dir` with capped address space.
fn capped(dir: &Path, args: &[String]) -> Run {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let script = format!(
        "ulimit -v {ADDRESS_SPACE_KB}; exec {} {}",
        env!("CARGO_BIN_EXE_dkimkit"),
        quoted.join(" ")
    );
    run(Command::new(peer("bash", "bash"))
        .current_dir(dir)
        .args(["-c", &script]))
}

fn check(dir: &Path, rows: &[Row]) {
    for row in rows {
        let started = Instant::now();
        let result = capped(dir, &row.args);
        let took = started.elapsed();
        let name = row.name;
        assert!(took < TIME_BOUND, "{name}: took {took:?}");
        assert!(
            !result.stderr.contains("panicked"),
            "{name}: {}",
            result.stderr
        );
        assert_eq!(
            result.status, row.status,
            "{name}: {}{}",
            result.stdout, result.stderr
        );
        result.stderr.lines().for_each(assert_says_each_thing_once);
        assert!(
            result.stdout.contains(&row.says) || result.stderr.contains(&row.says),
            "{name} should say {:?}:\n{}{}",
            row.says,
            result.stdout,
            result.stderr
        );
    }
}

/// A signed message with one signature tag replaced.
fn with_tag(signed: &str, tag: &str, value: &str) -> String {
    let start = [format!(" {tag}="), format!("\t{tag}=")]
        .iter()
        .find_map(|needle| signed.find(needle.as_str()))
        .unwrap()
        + 1;
    // The value ends at the next ";" or, for the last tag, where the folded field ends.
    let bytes = signed.as_bytes();
    let end = (start..bytes.len())
        .find(|&i| {
            bytes[i] == b';'
                || (bytes[i] == b'\n' && !matches!(bytes.get(i + 1), Some(b' ' | b'\t')))
        })
        .map(|i| {
            if i > 0 && bytes[i - 1] == b'\r' && bytes[i] == b'\n' {
                i - 1
            } else {
                i
            }
        })
        .unwrap();
    format!("{}{tag}={value}{}", &signed[..start], &signed[end..])
}

/// The DKIM-Signature field of a signed message (folded lines included).
fn signature_field(signed: &str) -> &str {
    let end = signed
        .match_indices("\r\n")
        .map(|(i, _)| i + 2)
        .find(|&i| !matches!(signed.as_bytes().get(i), Some(b' ' | b'\t')))
        .unwrap();
    &signed[..end]
}

/// genkey's rsa key in `dir`, a message signed with it, and verify-file's `--key` for it.
fn signed_message(dir: &Path) -> (String, String) {
    dkimkit_run(dir, &["genkey", "-s", "rsa", "-d", "example.com"]).success();
    std::fs::copy(testdata("tests/messages/plain.eml"), dir.join("plain.eml")).unwrap();
    let signed = dkimkit_run(
        dir,
        &[
            "sign-file",
            "-d",
            "example.com",
            "-s",
            "rsa",
            "-k",
            "rsa.private",
            "plain.eml",
        ],
    )
    .success()
    .stdout;
    (
        signed,
        "--key=rsa._domainkey.example.com=rsa.txt".to_owned(),
    )
}

/// An exit status and the words that must come with it.
type Expected = (i32, String);

/// The hostile messages: name, contents, verify-file's status and words, sign-file's.
fn messages(signed: &str) -> Vec<(&'static str, Vec<u8>, Expected, Expected)> {
    let both = |status: i32, says: &str| ((status, says.to_owned()), (status, says.to_owned()));
    let verify_only = |status: i32, says: &str| {
        (
            (status, says.to_owned()),
            (0, "DKIM-Signature: v=1; a=rsa-sha256".to_owned()),
        )
    };
    let row =
        |name, contents: Vec<u8>, (v, s): ((i32, String), (i32, String))| (name, contents, v, s);
    let overflow = "99999999999999999999999";
    let field = signature_field(signed);
    vec![
        row(
            "binary",
            vec![0xff, 0xfe, 0x00, 0x01, b'\n', 0x80],
            both(2, "header line 1 contains a NUL byte"),
        ),
        row(
            "binary-no-nul",
            vec![0xff, 0xfe, 0x01, b'\n', 0x80],
            both(2, "header line 1 is not a header field (no colon)"),
        ),
        row(
            "nul-in-header",
            b"From: a@exa\0mple.com\r\n\r\nbody\r\n".to_vec(),
            both(2, "header line 1 contains a NUL byte"),
        ),
        row(
            "no-colon",
            b"From: a@example.com\r\nthis is not a field\r\n\r\n".to_vec(),
            both(2, "header line 2 is not a header field (no colon)"),
        ),
        row("empty", Vec::new(), both(2, "the message is empty")),
        // RFC 5322 3.5: without a separator the message is all header, with an empty body.
        row(
            "no-separator",
            b"From: a@example.com\r\nSubject: headers only".to_vec(),
            verify_only(1, "none (no DKIM signature)"),
        ),
        row(
            "10-mb-header-field",
            [
                b"From: a@example.com\r\nX-Big: ".to_vec(),
                vec![b'a'; 10 << 20],
                b"\r\n\r\nbody\r\n".to_vec(),
            ]
            .concat(),
            both(2, "the header section is larger than 4 MiB"),
        ),
        row(
            "100000-header-fields",
            [
                "From: a@example.com\r\n".to_owned(),
                "X-Field: value\r\n".repeat(100_000),
                "\r\nbody\r\n".to_owned(),
            ]
            .concat()
            .into_bytes(),
            both(2, "the message has more than 10000 header fields"),
        ),
        // RFC 6376 6.1: a verifier may limit the signatures it checks; the rest are reported.
        row(
            "1000-signatures",
            [field.repeat(999), signed.to_owned()].concat().into_bytes(),
            verify_only(0, "not checked: the message has more than 16 signatures"),
        ),
        row(
            "nul-in-body",
            [signed.as_bytes(), b"\0\0\0".as_slice()].concat(),
            verify_only(
                1,
                "fail d=example.com s=rsa a=rsa-sha256 (body hash mismatch",
            ),
        ),
        row(
            "broken-base64",
            with_tag(signed, "b", "not*base64").into_bytes(),
            verify_only(1, "permerror (malformed signature: b= is not valid base64)"),
        ),
        row(
            "l-overflow",
            with_tag(signed, "c", &format!("relaxed/relaxed; l={overflow}")).into_bytes(),
            verify_only(
                1,
                &format!(
                    "permerror (malformed signature: l={overflow} is not a number dkimkit can use)"
                ),
            ),
        ),
        row(
            "t-overflow",
            with_tag(signed, "t", overflow).into_bytes(),
            verify_only(
                1,
                &format!(
                    "permerror (malformed signature: t={overflow} is not a number dkimkit can use)"
                ),
            ),
        ),
        row(
            "x-overflow",
            with_tag(signed, "t", &format!("1000; x={overflow}")).into_bytes(),
            verify_only(
                1,
                &format!(
                    "permerror (malformed signature: x={overflow} is not a number dkimkit can use)"
                ),
            ),
        ),
        row(
            "l-longer-than-body",
            with_tag(signed, "c", "relaxed/relaxed; l=100000").into_bytes(),
            verify_only(
                1,
                "permerror d=example.com s=rsa a=rsa-sha256 (l=100000 is longer than the body (54 bytes))",
            ),
        ),
        row(
            "x-before-t",
            with_tag(signed, "t", "1000; x=10").into_bytes(),
            verify_only(1, "permerror (malformed signature: x= is before t=)"),
        ),
        row(
            "unknown-algorithm",
            with_tag(signed, "a", "rsa-sha512").into_bytes(),
            verify_only(
                1,
                "permerror (malformed signature: unknown signing algorithm \"rsa-sha512\")",
            ),
        ),
    ]
}

#[test]
fn hostile_messages_to_verify_file_and_sign_file() {
    let dir = temp_dir();
    let d = dir.path();
    let (signed, key) = signed_message(d);
    let mut rows = Vec::new();
    for (name, contents, (verify_status, verify_says), (sign_status, sign_says)) in
        messages(&signed)
    {
        std::fs::write(d.join(name), contents).unwrap();
        rows.push(Row {
            name,
            args: vec!["verify-file".into(), key.clone(), name.into()],
            status: verify_status,
            says: verify_says,
        });
        rows.push(Row {
            name,
            args: [
                "sign-file",
                "-d",
                "example.com",
                "-s",
                "rsa",
                "-k",
                "rsa.private",
                name,
            ]
            .map(String::from)
            .to_vec(),
            status: sign_status,
            says: sign_says,
        });
    }
    check(d, &rows);
}

/// The 16,384-bit test key, mode 0600, in `dir`, and its public key as a record value.
fn big_key(dir: &Path) -> String {
    let key = dir.join("big.private");
    std::fs::copy(
        testdata("crates/dkim-core/testdata/rsa-16384.private"),
        &key,
    )
    .unwrap();
    make_private(&key);
    let public = base64::engine::general_purpose::STANDARD.encode(openssl_public_key(&key));
    format!("v=DKIM1; k=rsa; p={public}")
}

/// A zone-file TXT record of `strings` character-strings of 255 bytes each.
fn huge_txt(owner: &str, strings: usize) -> String {
    let chunk = format!("v=DKIM1; k=rsa; p={}", "A".repeat(255 - 18));
    let more = format!("\"{}\"", "A".repeat(255));
    let mut text = format!("{owner} IN TXT ( \"{chunk}\"");
    for _ in 1..strings {
        text.push_str("\n  ");
        text.push_str(&more);
    }
    text.push_str(" )\n");
    text
}

#[test]
fn hostile_keys_and_key_records() {
    let dir = temp_dir();
    let d = dir.path();
    let (signed, _) = signed_message(d);
    let big_record = big_key(d);
    // 250 strings of 255 bytes: 64,000 bytes of RDATA, as large as a TXT record gets in a DNS
    // message (65,535 bytes, RFC 1035 4.2.2 over TCP).
    let zone = format!(
        "big._domainkey IN TXT ( {} )\n{}",
        big_record
            .as_bytes()
            .chunks(255)
            .map(|c| format!("\"{}\"", std::str::from_utf8(c).unwrap()))
            .collect::<Vec<_>>()
            .join(" "),
        huge_txt("huge._domainkey", 250)
    );
    let server = NamedServer::start(&[Zone::new("example.com", &zone)]);
    let address = server.addr().to_string();
    for selector in ["big", "huge"] {
        std::fs::write(
            d.join(format!("{selector}.eml")),
            with_tag(&signed, "s", selector),
        )
        .unwrap();
    }
    std::fs::write(d.join("big.record"), &big_record).unwrap();
    let not_a_key = "p= does not hold a valid rsa public key: the RSA public key is neither \
                     SubjectPublicKeyInfo nor PKCS#1 DER";
    let too_big = "the RSA key has 16384 bits, more than the 4096 bits RFC 8301 requires verifiers to support";
    let refuse_signing = "big.private: 16384-bit RSA keys are refused: RFC 8301 only requires receivers to verify keys up to 4096 bits, so mail signed with it may fail";
    // Two workers, not 32: each thread reserves address space (its stack, a glibc malloc
    // arena of up to 64 MB) that ulimit -v counts though it is never touched.
    let testkey = |selector: &str| {
        [
            "testkey",
            "--jobs",
            "2",
            "--nameserver",
            &address,
            "-d",
            "example.com",
            "-s",
            selector,
        ]
        .map(String::from)
        .to_vec()
    };
    let verify_dns = |selector: &str| {
        vec![
            "verify-file".to_owned(),
            "--nameserver".to_owned(),
            address.clone(),
            format!("{selector}.eml"),
        ]
    };
    let mut rows = vec![
        row(
            "16384-bit key to sign-file",
            &[
                "sign-file",
                "-d",
                "example.com",
                "-s",
                "big",
                "-k",
                "big.private",
                "plain.eml",
            ],
            2,
            refuse_signing,
        ),
        row(
            "16384-bit key to record",
            &["record", "-k", "big.private"],
            2,
            refuse_signing,
        ),
        row(
            "16384-bit record to verify-file --key",
            &[
                "verify-file",
                "--key=big._domainkey.example.com=big.record",
                "big.eml",
            ],
            1,
            too_big,
        ),
    ];
    rows.extend([
        Row {
            name: "16384-bit record to testkey",
            args: testkey("big"),
            status: 1,
            says: too_big.to_owned(),
        },
        Row {
            name: "16384-bit record to verify-file",
            args: verify_dns("big"),
            status: 1,
            says: too_big.to_owned(),
        },
        Row {
            name: "64 KB record to testkey",
            args: testkey("huge"),
            status: 1,
            says: format!("huge._domainkey.example.com: error: the record is not a valid DKIM key record: {not_a_key}"),
        },
        Row {
            name: "64 KB record to verify-file",
            args: verify_dns("huge"),
            status: 1,
            says: format!("huge.eml: permerror d=example.com s=huge a=rsa-sha256 (invalid key record: {not_a_key})"),
        },
    ]);
    check(d, &rows);
}

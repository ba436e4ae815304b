//! Interoperability with the peers mail administrators run, both ways: messages signed by dkimpy
//! and by opendkim verify with verify-file; messages signed by sign-file verify with dkimpy and
//! with opendkim. Both canonicalizations in both positions, RSA 1024/2048/4096 and Ed25519, l=,
//! folded and duplicated headers, an empty body, trailing blank lines, 8-bit content and LF-only
//! files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{
    dkimkit_run, dkimpy_python, dkimpy_verdicts, peer, quoted_strings, run, run_with_input,
    temp_dir, testdata,
};

const DOMAIN: &str = "example.com";
const CANONICALIZATIONS: [&str; 4] = [
    "simple/simple",
    "simple/relaxed",
    "relaxed/simple",
    "relaxed/relaxed",
];
const MESSAGES: [&str; 6] = [
    "plain.eml",
    "folded-duplicated.eml",
    "empty-body.eml",
    "trailing-blank-lines.eml",
    "eight-bit.eml",
    "lf-only.eml",
];

/// A key genkey made, with the record BIND would serve.
struct Key {
    selector: &'static str,
    private: PathBuf,
    record: String,
    algorithm: &'static str,
}

impl Key {
    fn dns_name(&self) -> String {
        format!("{}._domainkey.{DOMAIN}", self.selector)
    }
}

fn make_keys(dir: &Path) -> Vec<Key> {
    let specs: [(&str, &[&str], &str); 4] = [
        ("r1024", &["-b", "1024"], "rsa-sha256"),
        ("r2048", &["-b", "2048"], "rsa-sha256"),
        ("r4096", &["-b", "4096"], "rsa-sha256"),
        ("ed", &["--key-type", "ed25519"], "ed25519-sha256"),
    ];
    specs
        .into_iter()
        .map(|(selector, flags, algorithm)| {
            let mut args = vec!["genkey", "-s", selector, "-d", DOMAIN];
            args.extend_from_slice(flags);
            dkimkit_run(dir, &args).success();
            let txt = std::fs::read_to_string(dir.join(format!("{selector}.txt"))).unwrap();
            Key {
                selector,
                private: dir.join(format!("{selector}.private")),
                record: quoted_strings(&txt).concat(),
                algorithm,
            }
        })
        .collect()
}

/// One message to sign: which message, key, canonicalization, and whether to write l=.
struct Job {
    message: &'static str,
    key: usize,
    canonicalization: &'static str,
    length: bool,
}

impl Job {
    fn name(&self, keys: &[Key]) -> String {
        format!(
            "{}-{}-{}{}",
            self.message.trim_end_matches(".eml"),
            keys[self.key].selector,
            self.canonicalization.replace('/', "-"),
            if self.length { "-l" } else { "" }
        )
    }
}

/// Every canonicalization with every key on a plain message; every message in every
/// canonicalization (RSA and Ed25519 in turn); l= on two messages.
fn matrix(with_length: bool) -> Vec<Job> {
    let mut jobs = Vec::new();
    for canonicalization in CANONICALIZATIONS {
        for key in 0..4 {
            jobs.push(Job {
                message: "plain.eml",
                key,
                canonicalization,
                length: false,
            });
        }
        for (i, message) in MESSAGES.iter().enumerate().skip(1) {
            jobs.push(Job {
                message,
                key: if i % 2 == 0 { 1 } else { 3 },
                canonicalization,
                length: false,
            });
        }
    }
    if with_length {
        for message in ["plain.eml", "folded-duplicated.eml"] {
            jobs.push(Job {
                message,
                key: 1,
                canonicalization: "relaxed/relaxed",
                length: true,
            });
        }
    }
    jobs
}

fn message(name: &str) -> PathBuf {
    testdata(&format!("tests/messages/{name}"))
}

/// A message as it goes over SMTP: CRLF line ends (an MTA converts a Maildir's LF).
fn as_on_the_wire(bytes: &[u8]) -> Vec<u8> {
    let mut wire = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for (i, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            wire.push(b'\r');
        }
        wire.push(byte);
    }
    wire
}

/// Signs every job with sign-file; returns the signed files, checked to keep the input's line
/// ends.
fn sign_with_dkimkit(dir: &Path, keys: &[Key], jobs: &[Job]) -> Vec<PathBuf> {
    jobs.iter()
        .map(|job| {
            let key = &keys[job.key];
            let out = dir.join(format!("{}.eml", job.name(keys)));
            let input = message(job.message);
            let mut args = vec![
                "sign-file",
                "-d",
                DOMAIN,
                "-s",
                key.selector,
                "-k",
                key.private.to_str().unwrap(),
                "-c",
                job.canonicalization,
                "-o",
                out.to_str().unwrap(),
                input.to_str().unwrap(),
            ];
            if job.length {
                args.push("-l");
            }
            dkimkit_run(dir, &args).success();
            let signed = std::fs::read(&out).unwrap();
            let lf_only = job.message == "lf-only.eml";
            assert_eq!(
                !signed.contains(&b'\r'),
                lf_only,
                "{}: line ends not kept",
                job.name(keys)
            );
            out
        })
        .collect()
}

/// dkimpy's verdicts on `messages`, with every key record served as if from DNS.
fn dkimpy_verify(dir: &Path, keys: &[Key], messages: &[PathBuf]) -> Vec<serde_json::Value> {
    let records: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| (k.dns_name(), k.record.clone().into()))
        .collect();
    dkimpy_verdicts(dir, records, messages)
}

/// verify-file with every key given offline; asserts every message passes.
fn assert_dkimkit_verifies(dir: &Path, keys: &[Key], files: &[PathBuf]) {
    let mut args: Vec<String> = vec!["verify-file".into(), "--json".into()];
    for key in keys {
        args.push("--key".into());
        args.push(format!("{}={}", key.dns_name(), key.record));
    }
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dkimkit_run(dir, &args);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    for message in json["messages"].as_array().unwrap() {
        assert_eq!(message["result"], "pass", "{message:#}");
        assert_eq!(
            message["signatures"].as_array().unwrap().len(),
            1,
            "{message:#}"
        );
    }
    assert_eq!(json["messages"].as_array().unwrap().len(), files.len());
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn messages_signed_by_dkimkit_verify_with_dkimpy() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let jobs = matrix(true);
    let signed = sign_with_dkimkit(dir.path(), &keys, &jobs);
    let wire: Vec<PathBuf> = signed
        .iter()
        .map(|file| {
            let path = file.with_extension("wire");
            std::fs::write(&path, as_on_the_wire(&std::fs::read(file).unwrap())).unwrap();
            path
        })
        .collect();
    let results = dkimpy_verify(dir.path(), &keys, &wire);
    assert_eq!(results.len(), jobs.len());
    for (result, job) in results.iter().zip(&jobs) {
        assert_eq!(
            result["pass"],
            true,
            "dkimpy rejects {}: {}",
            job.name(&keys),
            result["detail"]
        );
    }
    assert_dkimkit_verifies(dir.path(), &keys, &signed);
}

#[test]
fn messages_signed_by_dkimpy_verify_with_dkimkit() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let jobs = matrix(true);
    let manifest: Vec<serde_json::Value> = jobs
        .iter()
        .map(|job| {
            let key = &keys[job.key];
            // dkimpy signs what an MTA hands it: CRLF.
            let input = dir.path().join(format!("{}.in", job.name(&keys)));
            std::fs::write(
                &input,
                as_on_the_wire(&std::fs::read(message(job.message)).unwrap()),
            )
            .unwrap();
            serde_json::json!({
                "message": input,
                "out": dir.path().join(format!("{}.eml", job.name(&keys))),
                "key": key.private,
                "domain": DOMAIN,
                "selector": key.selector,
                "canonicalization": job.canonicalization,
                "length": job.length,
            })
        })
        .collect();
    let manifest_file = dir.path().join("sign.json");
    std::fs::write(
        &manifest_file,
        serde_json::Value::from(manifest).to_string(),
    )
    .unwrap();
    run(Command::new(dkimpy_python())
        .arg(testdata("tests/peers/dkimpy_batch.py"))
        .arg("sign")
        .arg(&manifest_file))
    .success();
    let signed: Vec<PathBuf> = jobs
        .iter()
        .map(|j| dir.path().join(format!("{}.eml", j.name(&keys))))
        .collect();
    assert!(
        std::fs::read_to_string(&signed[0])
            .unwrap()
            .starts_with("DKIM-Signature:")
    );
    assert_dkimkit_verifies(dir.path(), &keys, &signed);
}

/// An opendkim configuration for its test mode (`opendkim -t`), which reads keys from a file
/// instead of DNS (TestDNSData) and never logs to syslog.
fn opendkim_config(dir: &Path, name: &str, settings: &str) -> PathBuf {
    let config = dir.join(name);
    std::fs::write(
        &config,
        format!("Syslog no\nRequireSafeKeys no\n{settings}"),
    )
    .unwrap();
    config
}

/// What opendkim's test mode says about a message: its verdict line.
fn opendkim_verdict(config: &Path, message: &Path) -> String {
    let opendkim = peer("opendkim", "opendkim");
    let output = run(Command::new(opendkim)
        .arg("-x")
        .arg(config)
        .arg("-t")
        .arg(message));
    format!("{}{}", output.stdout, output.stderr)
        .trim()
        .to_owned()
}

#[test]
fn messages_signed_by_dkimkit_verify_with_opendkim() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let jobs = matrix(true);
    let signed = sign_with_dkimkit(dir.path(), &keys, &jobs);
    let dns_data = dir.path().join("dns-data");
    let lines: String = keys
        .iter()
        .map(|k| format!("{} {}\n", k.dns_name(), k.record))
        .collect();
    std::fs::write(&dns_data, lines).unwrap();
    let config = opendkim_config(
        dir.path(),
        "verify.conf",
        &format!("Mode v\nTestDNSData file:{}\n", dns_data.display()),
    );
    for (file, job) in signed.iter().zip(&jobs) {
        let wire = file.with_extension("wire");
        std::fs::write(&wire, as_on_the_wire(&std::fs::read(file).unwrap())).unwrap();
        let verdict = opendkim_verdict(&config, &wire);
        let key = &keys[job.key];
        assert!(
            verdict.contains(&format!("verification (s={}, d={DOMAIN}", key.selector))
                && verdict.ends_with("succeeded"),
            "opendkim rejects {}: {verdict}",
            job.name(&keys)
        );
    }
}

/// opendkim (the filter, in test mode) signs a job's message; returns the signed message file.
fn sign_with_opendkim(dir: &Path, keys: &[Key], job: &Job) -> PathBuf {
    let key = &keys[job.key];
    let config = opendkim_config(
        dir,
        &format!("{}.conf", job.name(keys)),
        &format!(
            "Mode s\nDomain {DOMAIN}\nSelector {}\nKeyFile {}\nCanonicalization {}\nSignatureAlgorithm {}\n",
            key.selector,
            key.private.display(),
            job.canonicalization,
            key.algorithm
        ),
    );
    let wire = as_on_the_wire(&std::fs::read(message(job.message)).unwrap());
    let input = dir.join(format!("{}.in", job.name(keys)));
    std::fs::write(&input, &wire).unwrap();
    // Test mode prints "opendkim: FILE:" and then the DKIM-Signature field it made.
    let output = run(Command::new(peer("opendkim", "opendkim"))
        .arg("-x")
        .arg(&config)
        .arg("-t")
        .arg(&input))
    .success();
    let field = output
        .stdout
        .split_once('\n')
        .map(|(_, field)| field)
        .unwrap_or_default();
    assert!(
        field.starts_with("DKIM-Signature:"),
        "opendkim did not sign {}: {}{}",
        job.name(keys),
        output.stdout,
        output.stderr
    );
    let mut signed = as_on_the_wire(field.trim_end().as_bytes());
    signed.extend_from_slice(b"\r\n");
    signed.extend_from_slice(&wire);
    let out = dir.join(format!("{}.eml", job.name(keys)));
    std::fs::write(&out, signed).unwrap();
    out
}

/// opendkim 2.11 signs Ed25519 with simple header canonicalization wrongly: neither dkimpy nor
/// dkimkit verifies those signatures (see the test below), while its RSA and relaxed ones pass.
fn opendkim_signs_correctly(keys: &[Key], job: &Job) -> bool {
    !(keys[job.key].algorithm == "ed25519-sha256" && job.canonicalization.starts_with("simple/"))
}

#[test]
fn messages_signed_by_opendkim_verify_with_dkimkit() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let jobs: Vec<Job> = matrix(false)
        .into_iter()
        .filter(|j| opendkim_signs_correctly(&keys, j))
        .collect();
    // 36 jobs, less Ed25519 with simple header canonicalization (2 on plain.eml, 6 elsewhere).
    assert_eq!(jobs.len(), 28, "the matrix must stay as wide");
    let signed: Vec<PathBuf> = jobs
        .iter()
        .map(|job| sign_with_opendkim(dir.path(), &keys, job))
        .collect();
    assert_dkimkit_verifies(dir.path(), &keys, &signed);
}

#[test]
fn where_opendkim_signs_wrongly_dkimkit_agrees_with_dkimpy() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let job = Job {
        message: "plain.eml",
        key: 3,
        canonicalization: "simple/simple",
        length: false,
    };
    assert!(!opendkim_signs_correctly(&keys, &job));
    let signed = sign_with_opendkim(dir.path(), &keys, &job);
    let dkimpy = dkimpy_verify(dir.path(), &keys, std::slice::from_ref(&signed));
    assert_eq!(
        dkimpy[0]["pass"], false,
        "dkimpy now verifies it: opendkim was fixed, widen the matrix"
    );
    let key = &keys[3];
    let ours = dkimkit_run(
        dir.path(),
        &[
            "verify-file",
            "--key",
            &format!("{}={}", key.dns_name(), key.record),
            signed.to_str().unwrap(),
        ],
    );
    assert_eq!(ours.status, 1, "{}", ours.stdout);
    assert!(
        ours.stdout.contains("signature mismatch"),
        "{}",
        ours.stdout
    );
}

#[test]
fn rsa_sha1_signatures_fail_with_the_reason() {
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let key = &keys[1];
    let out = dir.path().join("sha1.eml");
    let manifest = dir.path().join("sign.json");
    let job = serde_json::json!([{
        "message": message("plain.eml"), "out": out, "key": key.private, "domain": DOMAIN,
        "selector": key.selector, "canonicalization": "relaxed/relaxed", "length": false,
        "algorithm": "rsa-sha1",
    }]);
    std::fs::write(&manifest, job.to_string()).unwrap();
    run(Command::new(dkimpy_python())
        .arg(testdata("tests/peers/dkimpy_batch.py"))
        .arg("sign")
        .arg(&manifest))
    .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("a=rsa-sha1;")
    );
    let verified = dkimkit_run(
        dir.path(),
        &[
            "verify-file",
            "--key",
            &format!("{}={}", key.dns_name(), key.record),
            "sha1.eml",
        ],
    );
    assert_eq!(verified.status, 1, "{}{}", verified.stdout, verified.stderr);
    assert_eq!(
        verified.stdout.trim(),
        format!(
            "sha1.eml: fail d={DOMAIN} s=r2048 a=rsa-sha1 (rsa-sha1 is not accepted (RFC 8301))"
        )
    );
}

#[test]
fn opendkim_testmsg_output_is_malformed_and_reported_so() {
    // opendkim-testmsg 2.11.0~beta2 signs with rsa-sha1 only and repeats the tail of b=, so its
    // output cannot serve as a peer; dkimkit must still say plainly what is wrong with it.
    let dir = temp_dir();
    let keys = make_keys(dir.path());
    let key = &keys[1];
    let signed = run_with_input(
        Command::new(peer("opendkim-testmsg", "opendkim-tools"))
            .args(["-d", DOMAIN, "-s", key.selector, "-k"])
            .arg(&key.private),
        &message("plain.eml"),
    )
    .success()
    .stdout;
    assert!(signed.contains("a=rsa-sha1;"), "{signed}");
    std::fs::write(dir.path().join("testmsg.eml"), signed).unwrap();
    let verified = dkimkit_run(
        dir.path(),
        &[
            "verify-file",
            "--key",
            &format!("{}={}", key.dns_name(), key.record),
            "testmsg.eml",
        ],
    );
    assert_eq!(verified.status, 1);
    assert!(
        verified
            .stdout
            .contains("permerror (malformed signature: b= is not valid base64)")
            || verified
                .stdout
                .contains("rsa-sha1 is not accepted (RFC 8301)"),
        "{}",
        verified.stdout
    );
}

//! The mistakes people make setting up DKIM, each driven through the real binary, with the
//! message it must get: one line, naming the file, line or tag at fault, saying what to write
//! instead, with the documented exit status, and saying each thing once in dkimkit's own words.
//! Key records are served by a real BIND on loopback.

use std::path::Path;

use named_harness::{NamedServer, Zone};

use crate::util::{assert_says_each_thing_once, dkimkit_run, quoted_strings, temp_dir};

/// Where the message goes: errors to stderr, testkey's findings about a key to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    Stderr,
    Stdout,
}

/// One mistake: what is run, and what must come back.
struct Mistake {
    name: &'static str,
    args: Vec<String>,
    status: i32,
    said: Said,
    /// Each of these must be in the message.
    says: &'static [&'static str],
}

fn mistake(
    name: &'static str,
    args: &[&str],
    status: i32,
    said: Said,
    says: &'static [&'static str],
) -> Mistake {
    Mistake {
        name,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        status,
        said,
        says,
    }
}

/// Runs each mistake and checks its message.
fn check(dir: &Path, mistakes: &[Mistake]) {
    for mistake in mistakes {
        let args: Vec<&str> = mistake.args.iter().map(String::as_str).collect();
        let run = dkimkit_run(dir, &args);
        let name = mistake.name;
        assert_eq!(
            run.status, mistake.status,
            "{name}: {}{}",
            run.stdout, run.stderr
        );
        let (message, other) = match mistake.said {
            Said::Stderr => (&run.stderr, None),
            Said::Stdout => (&run.stdout, Some(&run.stderr)),
        };
        assert_eq!(
            message.lines().count(),
            1,
            "{name}: one line expected:\n{message}"
        );
        if let Some(stderr) = other {
            assert_eq!(stderr, "", "{name}: nothing expected on stderr");
        }
        for words in mistake.says {
            assert!(
                message.contains(words),
                "{name}: should say {words:?}:\n{message}"
            );
        }
        assert_says_each_thing_once(message.trim_end());
    }
}

/// genkey's files for `selector` of example.com in `dir`; returns the record's value.
fn genkey(dir: &Path, selector: &str, flags: &[&str]) -> String {
    let mut args = vec!["genkey", "-d", "example.com", "-s", selector];
    args.extend_from_slice(flags);
    dkimkit_run(dir, &args).success();
    let text = std::fs::read_to_string(dir.join(format!("{selector}.txt"))).unwrap();
    quoted_strings(&text).concat()
}

#[test]
fn each_common_mistake_gets_a_message_that_says_what_to_do() {
    let dir = temp_dir();
    let d = dir.path();
    genkey(d, "sel", &[]);
    let ed = genkey(d, "ed", &["--key-type", "ed25519"]);
    let sel_txt = std::fs::read_to_string(d.join("sel.txt")).unwrap();
    // The record named in full without the trailing dot, as people write it in a zone file:
    // BIND appends the origin, so it lands at sel._domainkey.example.com.example.com.
    let doubled = sel_txt.replacen("sel._domainkey", "sel._domainkey.example.com", 1);
    assert!(doubled.starts_with("sel._domainkey.example.com\tIN\tTXT"));
    // The value pasted with its quotes (into a provider's form, which adds its own).
    let quoted = format!("quoted._domainkey IN TXT \"\\\"{ed}\\\"\"\n");
    let broken = format!(
        "b64._domainkey IN TXT \"{}\"\n",
        ed.replacen("p=", "p=AAAA[", 1)
    );
    let server = NamedServer::start(&[
        Zone::new("example.com", &format!("{doubled}{quoted}{broken}")),
        Zone::new("xn--bcher-kva.example", &sel_txt),
    ]);
    let address = server.addr().to_string();
    let testkey = |rest: &[&str]| {
        let mut args = vec!["testkey", "--no-dnssec", "--nameserver", &address];
        args.extend_from_slice(rest);
        args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>()
    };

    std::fs::write(d.join("m.eml"), "From: a@example.com\r\n\r\nhi\r\n").unwrap();
    std::fs::write(
        d.join("keylist"),
        "# converted from dkim-filter.conf\n*@example.com:example.com:/etc/dkim/sel.private\n",
    )
    .unwrap();
    std::fs::write(d.join("keytable"), "sel example.com:sel:./sel.private\n").unwrap();
    std::fs::write(d.join("signingtable"), "*@example.com sel\n").unwrap();
    /// sign-file with `rest`, on m.eml unless `rest` ends with a message of its own.
    fn sign<'a>(rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["sign-file"];
        args.extend_from_slice(rest);
        if !rest.last().is_some_and(|last| last.ends_with(".eml")) {
            args.push("m.eml");
        }
        args
    }

    let mut mistakes = vec![
        Mistake {
            name: "record at the doubled name",
            args: testkey(&["-d", "example.com", "-s", "sel"]),
            status: 1,
            said: Said::Stdout,
            says: &[
                "sel._domainkey.example.com: error: the record is published at \
                 sel._domainkey.example.com.example.com, not at sel._domainkey.example.com",
                "trailing dot",
                "SELECTOR._domainkey.DOMAIN.",
            ],
        },
        Mistake {
            name: "value with literal quotes, in DNS",
            args: testkey(&["-d", "example.com", "-s", "quoted"]),
            status: 1,
            said: Said::Stdout,
            says: &[
                "quoted._domainkey.example.com: error:",
                "literal quotes",
                "without the quotes",
            ],
        },
        Mistake {
            name: "p= not base64, in DNS",
            args: testkey(&["-d", "example.com", "-s", "b64"]),
            status: 1,
            said: Said::Stdout,
            says: &["p= is not valid base64 (character '[' at offset 4)"],
        },
        Mistake {
            name: "no record",
            args: testkey(&["-d", "example.com", "-s", "missing"]),
            status: 1,
            said: Said::Stdout,
            says: &["missing._domainkey.example.com: error: no such name in DNS"],
        },
        Mistake {
            name: "IDN domain",
            args: testkey(&["-d", "bücher.example", "-s", "sel", "-k", "sel.private"]),
            status: 0,
            said: Said::Stderr,
            says: &["note: bücher.example is written xn--bcher-kva.example in DNS"],
        },
        Mistake {
            name: "selector with ._domainkey, testkey",
            args: testkey(&["-d", "example.com", "-s", "01._domainkey"]),
            status: 2,
            said: Said::Stderr,
            says: &["'--selector <SELECTOR>'", "give just the selector, 01"],
        },
    ];
    mistakes.extend([
        mistake(
            "key record name as selector, sign-file",
            &sign(&[
                "-d",
                "example.com",
                "-s",
                "sel._domainkey.example.com",
                "-k",
                "sel.private",
            ]),
            2,
            Said::Stderr,
            &["give just the selector, sel, and the domain, example.com, on its own"],
        ),
        mistake(
            "value with literal quotes, --key",
            &[
                "verify-file",
                &format!("--key=ed._domainkey.example.com=\"{ed}\""),
                "m.eml",
            ],
            2,
            Said::Stderr,
            &["--key ed._domainkey.example.com: ", "literal quotes"],
        ),
        mistake(
            "p= not base64, --key",
            &[
                "verify-file",
                "--key=ed._domainkey.example.com=v=DKIM1; k=ed25519; p=AAAA[AAA",
                "m.eml",
            ],
            2,
            Said::Stderr,
            &["--key ed._domainkey.example.com: p= is not valid base64 (character '[' at offset 4)"],
        ),
        mistake(
            ".txt as the key, sign-file",
            &sign(&["-d", "example.com", "-s", "sel", "-k", "sel.txt"]),
            2,
            Said::Stderr,
            &["sel.txt is the key record for DNS, not the private key, which is sel.private"],
        ),
        mistake(
            ".txt as the key, testkey",
            &testkey(&["-d", "example.com", "-s", "sel", "-k", "sel.txt"])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            2,
            Said::Stderr,
            &["sel.txt is the key record for DNS, not the private key, which is sel.private"],
        ),
        mistake(
            ".txt as the key, record",
            &["record", "-k", "sel.txt"],
            2,
            Said::Stderr,
            &["sel.txt is the key record for DNS, not the private key, which is sel.private"],
        ),
        mistake(
            "dkim-filter KeyList as KeyTable, testkey",
            &["testkey", "--keytable", "keylist"],
            2,
            Said::Stderr,
            &[
                "keylist, line 2: this is a line of dkim-filter's KeyList",
                "write \"sel._domainkey.example.com example.com:sel:/etc/dkim/sel.private\" in \
                 the KeyTable",
                "\"*@example.com sel._domainkey.example.com\" in a SigningTable read as refile:",
            ],
        ),
        mistake(
            "dkim-filter KeyList as KeyTable, sign-file",
            &sign(&["--keytable", "keylist", "--signing-table", "refile:signingtable"]),
            2,
            Said::Stderr,
            &["keylist, line 2: this is a line of dkim-filter's KeyList"],
        ),
        mistake(
            "SigningTable patterns without refile:",
            &sign(&["--keytable", "keytable", "--signing-table", "signingtable"]),
            2,
            Said::Stderr,
            &[
                "signingtable, line 1: \"*@example.com\" is a pattern",
                "name it as refile:signingtable",
            ],
        ),
        mistake(
            "missing private key",
            &["record", "-k", "missing.private"],
            2,
            Said::Stderr,
            &["cannot read missing.private: No such file or directory"],
        ),
        mistake(
            "missing opendkim.conf",
            &["testkey", "-x", "missing.conf"],
            2,
            Said::Stderr,
            &["cannot read missing.conf: No such file or directory"],
        ),
        mistake(
            "missing KeyTable",
            &["testkey", "--keytable", "missing"],
            2,
            Said::Stderr,
            &["cannot read missing: No such file or directory"],
        ),
        mistake(
            "missing message, verify-file",
            &["verify-file", "--key=ed._domainkey.example.com=ed.txt", "missing.eml"],
            2,
            Said::Stderr,
            &["missing.eml: cannot read the message: No such file or directory"],
        ),
        mistake(
            "missing message, sign-file",
            &sign(&["-d", "example.com", "-s", "sel", "-k", "sel.private", "missing.eml"]),
            2,
            Said::Stderr,
            &["missing.eml: cannot read the message: No such file or directory"],
        ),
    ]);
    check(d, &mistakes);
}

#[test]
fn an_idn_domain_is_written_in_its_xn_form() {
    let dir = temp_dir();
    let made = dkimkit_run(dir.path(), &["genkey", "-d", "bücher.example", "-s", "idn"]).success();
    assert_eq!(
        made.stderr,
        "dkimkit: note: bücher.example is written xn--bcher-kva.example in DNS; using that\n"
    );
    let record = std::fs::read_to_string(dir.path().join("idn.txt")).unwrap();
    assert!(
        record.contains("DKIM key idn for xn--bcher-kva.example"),
        "{record}"
    );
}

//! The man pages and shell completions in the repository are what the clap definitions generate
//! today, and they work.

use std::path::Path;
use std::process::Command;

use crate::util::{dkimkit_run, peer, run, temp_dir, testdata};

const GENERATED: [&str; 12] = [
    "man/dkimkit.1",
    "man/dkimkit-genkey.1",
    "man/dkimkit-sign-file.1",
    "man/dkimkit-verify-file.1",
    "man/dkimkit-testkey.1",
    "man/dkimkit-check.1",
    "man/dkimkit-rotate.1",
    "man/dkimkit-genzone.1",
    "man/dkimkit-record.1",
    "completions/dkimkit.bash",
    "completions/_dkimkit",
    "completions/dkimkit.fish",
];

#[test]
fn committed_man_pages_and_completions_are_up_to_date() {
    let dir = temp_dir();
    let listed = dkimkit_run(dir.path(), &["generate-docs", "."]).success();
    let mut stale = Vec::new();
    for file in GENERATED {
        assert!(
            listed.stdout.lines().any(|l| l == format!("./{file}")),
            "{file} not generated"
        );
        let fresh = std::fs::read(dir.path().join(file)).unwrap();
        if std::fs::read(testdata(file)).ok() != Some(fresh) {
            stale.push(file);
        }
    }
    let written = listed.stdout.lines().count();
    assert_eq!(
        written,
        GENERATED.len(),
        "generate-docs writes files this test does not check"
    );
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; regenerate with `cargo run -- generate-docs .` and commit them"
    );
}

/// `man` renders the page, with the sections every page has (options, examples, exit status).
fn rendered_man_page(page: &Path) -> String {
    let man = peer("man", "man-db");
    let rendered = run(Command::new(man).env("MANWIDTH", "100").arg("-l").arg(page)).success();
    rendered.stdout
}

#[test]
fn man_pages_document_every_flag_the_exit_codes_and_examples() {
    let genkey = rendered_man_page(&testdata("man/dkimkit-genkey.1"));
    for flag in [
        "-a, --append-domain",
        "-b, --bits",
        "-d, --domain",
        "-D, --directory",
        "-h, --hash-algorithms",
        "-n, --note",
        "-r, --restrict",
        "-s, --selector",
        "-S, --nosubdomains",
        "--subdomains",
        "-t, --testmode",
        "-v, --verbose",
        "--key-type",
        "--force",
        "--format",
        "--json",
    ] {
        assert!(genkey.contains(flag), "dkimkit-genkey(1) lacks {flag}");
    }
    for page in [
        "man/dkimkit.1",
        "man/dkimkit-genkey.1",
        "man/dkimkit-genzone.1",
        "man/dkimkit-record.1",
    ] {
        let text = rendered_man_page(&testdata(page));
        for section in ["SYNOPSIS", "OPTIONS", "EXAMPLES", "EXIT STATUS"] {
            assert!(text.contains(section), "{page} lacks {section}");
        }
        assert!(
            text.contains("Temporary failure only"),
            "{page}: exit status 3"
        );
    }
    assert!(
        genkey.contains("$ dkimkit genkey -b 2048 -h rsa-sha256 -r -s 201908 -d example.com -v")
    );
}

/// Every page a man page names (in SEE ALSO, the list of subcommands, anywhere) exists: ours in
/// man/, the others (opendkim's) where `man` finds them.
#[test]
fn every_page_a_man_page_names_exists() {
    let man = peer("man", "man-db");
    let mut named = std::collections::BTreeSet::new();
    for page in std::fs::read_dir(testdata("man")).unwrap() {
        let text = std::fs::read_to_string(page.unwrap().path()).unwrap();
        let text = text.replace("\\-", "-");
        for word in text.split(|c: char| c.is_whitespace() || c == ',') {
            let Some((name, section)) = word.strip_suffix(')').and_then(|w| w.split_once('('))
            else {
                continue;
            };
            let is_name = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if is_name && section.len() == 1 && section.chars().all(|c| c.is_ascii_digit()) {
                named.insert((name.to_owned(), section.to_owned()));
            }
        }
    }
    assert!(
        named.contains(&("dkimkit-genkey".to_owned(), "1".to_owned())),
        "{named:?}"
    );
    for (name, section) in &named {
        if name.starts_with("dkimkit") {
            assert!(
                testdata(&format!("man/{name}.{section}")).exists(),
                "a man page names {name}({section}), which is not in man/"
            );
        } else {
            let found = run(Command::new(&man).args(["-w", section, name]));
            assert_eq!(
                found.status, 0,
                "a man page names {name}({section}), which man cannot find (install opendkim \
                 and opendkim-tools: bash .ci/setup)"
            );
        }
    }
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let bash = peer("bash", "bash");
    let script = testdata("completions/dkimkit.bash");
    // As bash calls a completion function: COMP_WORDS and COMP_CWORD set, and the command, the
    // word being completed and the word before it as arguments.
    let complete = |words: &str, current: usize| {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={current}; \
             _dkimkit dkimkit \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        run(Command::new(&bash).args(["-c", &program]))
            .success()
            .stdout
    };
    let subcommands = complete("dkimkit ''", 1);
    assert!(subcommands.lines().any(|l| l == "genkey"), "{subcommands}");
    for subcommand in [
        "record",
        "sign-file",
        "verify-file",
        "testkey",
        "check",
        "rotate",
    ] {
        assert!(
            subcommands.lines().any(|l| l == subcommand),
            "{subcommands}"
        );
    }
    assert!(
        !subcommands.contains("generate-docs"),
        "hidden command offered"
    );
    let flags = complete("dkimkit genkey --key", 2);
    assert!(flags.lines().any(|l| l == "--key-type"), "{flags}");
    let values = complete("dkimkit genkey --key-type ''", 3);
    assert_eq!(values.lines().collect::<Vec<_>>(), ["rsa", "ed25519"]);
}

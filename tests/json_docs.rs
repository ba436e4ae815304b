//! Every `--json` document is what docs/json.md says it is. Each subcommand runs on fixtures
//! that reach every field, and the tables are read from the page itself, so the page and the
//! code cannot drift apart: a field the page does not list, a type it does not give, an `always`
//! field missing, a row no document has, or a subcommand offering --json without a table, each
//! fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use named_harness::{NamedServer, Zone};
use serde_json::Value;

use crate::rotate::{
    DAY, START, apply_dns_changes, one_key_due, rotate_keytable_in, rotate_status,
};
use crate::util::{Run, dkimkit_run, temp_dir, testdata};

/// A row of a table: the field's types, and whether every object that could hold it does.
#[derive(Debug)]
struct Row {
    types: Vec<String>,
    always: bool,
}

/// The tables of docs/json.md: for each `## dkimkit ...` section, its rows by jq path.
fn documented() -> BTreeMap<String, BTreeMap<String, Row>> {
    let page = std::fs::read_to_string(testdata("docs/json.md")).unwrap();
    let mut tables = BTreeMap::new();
    let mut section = None;
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.starts_with("dkimkit ").then(|| heading.to_owned());
            continue;
        }
        let (Some(section), Some(row)) = (&section, line.strip_prefix("| `")) else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(cells.len() == 4, "docs/json.md: a row of 4 cells: {line}");
        let row = Row {
            types: cells[1].split(" or ").map(str::to_owned).collect(),
            always: cells[2] == "always",
        };
        let table: &mut BTreeMap<String, Row> = tables.entry(section.clone()).or_default();
        table.insert(cells[0].trim_end_matches('`').to_owned(), row);
    }
    tables
}

/// A value's type in docs/json.md's words; an empty array is `array`, which fits either kind.
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Object(_) => "object",
        Value::Array(items) if items.is_empty() => "array",
        Value::Array(items) if items.iter().all(Value::is_string) => "array of strings",
        Value::Array(items) if items.iter().all(Value::is_object) => "array of objects",
        Value::Array(_) => "array of mixed values",
    }
}

/// Checks `value`, found at `path`, against `table`, and each field within; records the rows
/// seen.
fn check(
    section: &str,
    table: &BTreeMap<String, Row>,
    path: &str,
    value: &Value,
    seen: &mut BTreeSet<String>,
) {
    match value {
        Value::Object(fields) => {
            for (name, row) in table {
                let parent = name.rsplit_once('.').map_or("", |(parent, _)| parent);
                let field = &name[parent.len() + 1..];
                assert!(
                    !row.always || parent != path || fields.contains_key(field),
                    "{section}: {name} is always present, but not in {value:#}"
                );
            }
            for (field, inner) in fields {
                let name = format!("{path}.{field}");
                let row = table.get(&name).unwrap_or_else(|| {
                    panic!("{section}: {name} is not in docs/json.md's table ({inner})")
                });
                let found = type_of(inner);
                assert!(
                    row.types.iter().any(|t| t == found)
                        || (found == "array" && row.types.iter().any(|t| t.starts_with("array"))),
                    "{section}: {name} is {found}, docs/json.md says {:?}: {inner}",
                    row.types
                );
                seen.insert(name.clone());
                check(section, table, &name, inner, seen);
            }
        }
        Value::Array(items) => {
            for item in items.iter().filter(|item| item.is_object()) {
                check(section, table, &format!("{path}[]"), item, seen);
            }
        }
        _ => {}
    }
}

#[test]
fn every_json_document_is_as_docs_json_md_says() {
    let dir = temp_dir();
    let documents = documents(dir.path());
    let tables = documented();
    assert_eq!(
        documents.keys().collect::<Vec<_>>(),
        tables.keys().collect::<Vec<_>>(),
        "docs/json.md's sections and the documents this test makes"
    );
    for (section, table) in &tables {
        let mut seen = BTreeSet::new();
        for document in &documents[section.as_str()] {
            check(section, table, "", document, &mut seen);
        }
        let unseen: Vec<&String> = table.keys().filter(|name| !seen.contains(*name)).collect();
        assert!(
            unseen.is_empty(),
            "{section}: no document has {unseen:?}; make the fixtures reach them, or take them \
             out of docs/json.md"
        );
    }
}

/// Each subcommand whose help offers --json has a section of docs/json.md.
#[test]
fn every_subcommand_with_json_output_is_documented() {
    let dir = temp_dir();
    let help = dkimkit_run(dir.path(), &["--help"]).success().stdout;
    let with_json: BTreeSet<String> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.strip_prefix("  ")?.split_whitespace().next())
        .filter(|command| {
            dkimkit_run(dir.path(), &[command, "--help"])
                .stdout
                .contains("--json")
        })
        .map(|command| format!("dkimkit {command}"))
        .collect();
    let documented: BTreeSet<String> = documented()
        .keys()
        .map(|section| section.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(with_json, documented);
}

/// Runs dkimkit in `dir`, expecting exit `status`, and reads its standard output.
fn document(dir: &Path, status: i32, args: &[&str]) -> Value {
    parsed(dkimkit_run(dir, args), status)
}

fn parsed(run: Run, status: i32) -> Value {
    assert_eq!(run.status, status, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}:\n{}", run.stdout))
}

/// Every subcommand's documents, on fixtures that reach each field the tables list.
fn documents(d: &Path) -> BTreeMap<&'static str, Vec<Value>> {
    let key = d.join("keys/example.com/sel.private").display().to_string();
    let key = key.as_str();
    let generated = |args: &[&str]| {
        let mut all = vec!["genkey", "-s", "sel", "--key-type", "ed25519", "--json"];
        all.extend_from_slice(args);
        document(d, 0, &all)
    };
    let mut documents = BTreeMap::new();
    documents.insert(
        "dkimkit genkey",
        vec![
            generated(&["-D", "keys", "-d", "example.com", "-d", "example.org"]),
            generated(&["-D", "bare"]),
        ],
    );
    documents.insert(
        "dkimkit record",
        vec![
            document(
                d,
                0,
                &[
                    "record",
                    "-k",
                    key,
                    "-s",
                    "sel",
                    "-d",
                    "example.com",
                    "--json",
                ],
            ),
            document(d, 0, &["record", "-k", key, "--json"]),
        ],
    );

    // A named key, one of each sender's domain (skipped), and opendkim.conf's single key.
    std::fs::write(
        d.join("KeyTable"),
        format!("named example.com:sel:{key}\neach %:sel:{key}\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("opendkim.conf"),
        format!("Domain example.com\nSelector sel\nKeyFile {key}\n"),
    )
    .unwrap();
    documents.insert(
        "dkimkit genzone",
        vec![
            document(d, 0, &["genzone", "--json", "KeyTable"]),
            document(d, 0, &["genzone", "--json", "-x", "opendkim.conf"]),
        ],
    );

    // A key that is published, one that is not, one whose file is missing, one of `%`.
    let txt = std::fs::read_to_string(d.join("keys/example.com/sel.txt")).unwrap();
    let server = NamedServer::start(&[Zone::new(
        "example.com",
        &format!("{txt}@ TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"),
    )]);
    let address = server.addr().to_string();
    std::fs::write(
        d.join("TestKeyTable"),
        format!(
            "good example.com:sel:{key}\nunpublished example.com:nosuch:{key}\n\
             unreadable example.com:sel:{}/missing.private\neach %:sel:{key}\n",
            d.display()
        ),
    )
    .unwrap();
    let dns = ["--nameserver", &address, "--no-dnssec", "--json"];
    documents.insert(
        "dkimkit testkey",
        vec![
            document(
                d,
                1,
                &[&["testkey", "--keytable", "TestKeyTable"][..], &dns].concat(),
            ),
            document(
                d,
                0,
                &[&["testkey", "-d", "example.com", "-s", "sel"][..], &dns].concat(),
            ),
        ],
    );
    documents.insert(
        "dkimkit check",
        vec![document(
            d,
            1,
            &[
                &["check", "example.com", "-s", "sel", "--ip", "192.0.2.1"][..],
                &dns,
            ]
            .concat(),
        )],
    );

    std::fs::write(
        d.join("message.eml"),
        "From: joe@example.com\r\nSubject: hello\r\n\r\nhello\r\n",
    )
    .unwrap();
    let sign = [
        "sign-file",
        "-d",
        "example.com",
        "-s",
        "sel",
        "-k",
        key,
        "--json",
    ];
    documents.insert(
        "dkimkit sign-file",
        vec![
            document(
                d,
                2,
                &[
                    &sign[..],
                    &["--output-dir", "signed", "message.eml", "missing.eml"],
                ]
                .concat(),
            ),
            document(d, 0, &[&sign[..], &["message.eml"]].concat()),
        ],
    );
    documents.insert(
        "dkimkit verify-file",
        vec![document(
            d,
            2,
            &[
                "verify-file",
                "--key",
                "sel._domainkey.example.com=keys/example.com/sel.txt",
                "--json",
                "signed/message.eml",
                "message.eml",
                "missing.eml",
            ],
        )],
    );

    let (run, status) = rotation(&d.join("rotation"));
    documents.insert("dkimkit rotate", run);
    documents.insert("dkimkit rotate status", status);
    documents
}

/// rotate's documents and rotate status's, through a rotation published by hand at a selector
/// delegated with a CNAME: the new record published, the switch, the old record withdrawn; and
/// an entry left alone, and one whose state cannot be read.
fn rotation(d: &Path) -> (Vec<Value>, Vec<Value>) {
    std::fs::create_dir(d).unwrap();
    let txt = one_key_due(d, "org", "example.org");
    let server = NamedServer::start(&[
        Zone::new(
            "example.org",
            &format!("{txt}202611._domainkey IN CNAME 202611.example-org.keys.example.net.\n"),
        )
        .dynamic(),
        Zone::new("keys.example.net", "").dynamic(),
    ]);
    let table = std::fs::read_to_string(d.join("KeyTable")).unwrap();
    std::fs::write(
        d.join("KeyTable"),
        format!("{table}elsewhere example.net:sel:/etc/opendkim/keys/sel.private\n"),
    )
    .unwrap();
    let mut runs = Vec::new();
    let mut statuses = Vec::new();
    for day in [0, 1, 15] {
        let run = rotate_keytable_in(
            d,
            &server,
            START + day * DAY,
            &["--publish", "manual", "--json"],
        );
        let report = parsed(run, 0);
        apply_dns_changes(&server, &report);
        runs.push(report);
        statuses.push(parsed(rotate_status(d, START + day * DAY, &["--json"]), 0));
    }
    std::fs::write(
        d.join("KeyTable"),
        format!(
            "{}lost example.org:202610:{}/keys/example.org/lost.private\n",
            std::fs::read_to_string(d.join("KeyTable")).unwrap(),
            d.display()
        ),
    )
    .unwrap();
    statuses.push(parsed(rotate_status(d, START + 16 * DAY, &["--json"]), 1));
    (runs, statuses)
}

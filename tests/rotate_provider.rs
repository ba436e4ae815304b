//! `dkimkit rotate --publish powerdns`: a year of daily runs publishing and withdrawing through a
//! real PowerDNS Authoritative server's HTTP API (sqlite3 backend, on loopback), checked over DNS
//! against that server; and the credentials file refused unless only its owner can read it.

use std::os::unix::fs::PermissionsExt as _;

use named_harness::{PDNS_API_KEY, PdnsServer};

use crate::rotate::{START, Setup, dynamic_zones, rotate_keytable_in, thirteen_months};
use crate::util::Run;

/// The rotation setup, a PowerDNS serving its zones, and a credentials file for it with
/// `api_key` and `mode`.
fn setup_with_pdns(api_key: &str, mode: u32) -> (Setup, PdnsServer, String) {
    let setup = Setup::new();
    let server = PdnsServer::start(&dynamic_zones(&setup));
    let path = setup.path("pdns.credentials");
    std::fs::write(
        &path,
        format!(
            "# PowerDNS API of the primary\nurl={}\napi_key={api_key}\nserver_id=localhost\n",
            server.api_url()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    (setup, server, path.display().to_string())
}

/// The first rotate run, publishing through `server` with the credentials at `path`.
fn first_run_through_pdns(setup: &Setup, server: &PdnsServer, path: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--signing-table",
        "SigningTable",
        "--publish",
        "powerdns",
        "--credentials",
        path,
    ];
    args.extend_from_slice(extra);
    rotate_keytable_in(setup.path("").as_path(), server, START, &args)
}

#[test]
fn thirteen_months_through_the_powerdns_api() {
    let (setup, server, credentials) = setup_with_pdns(PDNS_API_KEY, 0o600);
    thirteen_months(
        &["--publish", "powerdns", "--credentials", &credentials],
        &server,
        &setup,
        &|report| {
            let text = report.to_string();
            assert!(
                !text.contains(PDNS_API_KEY),
                "the API key in --json: {text}"
            );
        },
    );
}

#[test]
fn powerdns_credentials_others_can_read_are_refused_and_never_printed() {
    let (setup, server, path) = setup_with_pdns(PDNS_API_KEY, 0o644);
    for verbose in [&[][..], &["-v"][..], &["--json"][..]] {
        let run = first_run_through_pdns(&setup, &server, &path, verbose);
        assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("{path}: the credentials can be read or written by other users (mode 0644); fix it with: chmod 600 {path}")),
            "{}",
            run.stderr
        );
        assert!(
            !run.stdout.contains(PDNS_API_KEY) && !run.stderr.contains(PDNS_API_KEY),
            "the API key was printed: {}{}",
            run.stdout,
            run.stderr
        );
    }
    // Nothing was published: the KeyTable still names the first keys.
    assert!(
        std::fs::read_to_string(setup.path("KeyTable"))
            .unwrap()
            .contains("example.com:202610:"),
    );
}

#[test]
fn a_wrong_powerdns_api_key_fails_without_printing_it() {
    let (setup, server, path) = setup_with_pdns("not-the-key-0123", 0o600);
    let run = first_run_through_pdns(&setup, &server, &path, &["-v"]);
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let printed = format!("{}{}", run.stdout, run.stderr);
    assert!(
        printed.contains(&format!(
            "powerdns API: the credentials in {path} are refused (unauthorized): check them"
        )),
        "{printed}"
    );
    assert!(!printed.contains("not-the-key-0123"), "{printed}");
}

//! rotate on a mail host as the setup guides leave it: keys made by opendkim-genkey and
//! `chown -R opendkim:opendkim` (0600 keys, 0700 key directories), dkimkit run as root from
//! root's cron with the README's line, opendkim signing as its own user. Through a simulated
//! year the files stay opendkim's with their modes, the records keep their flags and the keys
//! their size, and after every switch opendkim signs with the new key a message dkimpy
//! verifies against the record named serves.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use named_harness::{NamedServer, Zone};

use crate::rotate::{DAY, START};
use crate::util::{
    Run, dkimkit_run, dkimpy_python, host_dir, openssl_key_description, peer, run, set_modified,
};

const DOMAIN: &str = "example.com";

/// A user's ids, from /etc/passwd (the opendkim and postfix packages create their users).
pub(crate) fn user_ids(user: &str) -> (u32, u32) {
    let found = opendkim_config::users::SystemUser::from_user_id(user).unwrap_or_else(|_| {
        panic!("no {user} user in /etc/passwd: run `bash .ci/setup`, whose packages create it")
    });
    (found.uid, found.gid)
}

fn opendkim_ids() -> (u32, u32) {
    user_ids("opendkim")
}

pub(crate) fn chown_opendkim(path: &Path) {
    let (uid, gid) = opendkim_ids();
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

pub(crate) fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Asserts that `path` is opendkim's with `mode`.
#[track_caller]
pub(crate) fn assert_opendkims(path: &Path, mode: u32, when: &str) {
    let (uid, gid) = opendkim_ids();
    let metadata = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        (metadata.uid(), metadata.gid(), metadata.mode() & 0o7777),
        (uid, gid, mode),
        "{when}: {} is not opendkim's with mode {mode:04o}",
        path.display()
    );
}

/// The host: a directory opendkim may enter (not under /tmp, whose mode opendkim's
/// RequireSafeKeys refuses), opendkim.conf, and a named serving the first key's record.
struct Host {
    dir: tempfile::TempDir,
    server: NamedServer,
    /// The mode opendkim-genkey gave the first record file: the new ones keep it.
    txt_mode: u32,
}

impl Host {
    /// `single_key`: opendkim.conf names the key with Domain, Selector and KeyFile, rather than
    /// a KeyTable and a SigningTable (which also name an entry whose key file is missing).
    fn new(single_key: bool) -> Self {
        let dir = host_dir();
        let d = dir.path();
        let keys = d.join("keys");
        std::fs::create_dir_all(keys.join(DOMAIN)).unwrap();
        // What `opendkim-genkey -b 1024 -r -t` makes: s=email, t=y, a 1024-bit key.
        run(Command::new(peer("opendkim-genkey", "opendkim-tools"))
            .args(["-b", "1024", "-r", "-t", "-s", "202610", "-d", DOMAIN, "-D"])
            .arg(keys.join(DOMAIN)))
        .success();
        let key = keys.join(DOMAIN).join("202610.private");
        set_modified(&key, START - 31 * DAY);
        let conf = if single_key {
            format!(
                "# opendkim.conf as a guide writes it for one domain\n\
                 Syslog no\nMode s\nUserID opendkim\n\
                 Domain {DOMAIN}\n\
                 Selector 202610   # the key in use\n\
                 KeyFile {}\n",
                key.display()
            )
        } else {
            std::fs::write(
                d.join("KeyTable"),
                format!(
                    "202610._domainkey.{DOMAIN} {DOMAIN}:202610:{}\n\
                     202610._domainkey.example.net example.net:202610:{}/keys/example.net/202610.private\n",
                    key.display(),
                    d.display()
                ),
            )
            .unwrap();
            std::fs::write(
                d.join("SigningTable"),
                format!(
                    "*@{DOMAIN} 202610._domainkey.{DOMAIN}\n\
                     *@example.net 202610._domainkey.example.net\n"
                ),
            )
            .unwrap();
            for table in ["KeyTable", "SigningTable"] {
                chown_opendkim(&d.join(table));
                chmod(&d.join(table), 0o640);
            }
            format!(
                "Syslog no\nMode s\nUserID opendkim\nKeyTable file:{0}/KeyTable\n\
                 SigningTable refile:{0}/SigningTable\n",
                d.display()
            )
        };
        std::fs::write(d.join("opendkim.conf"), conf).unwrap();
        chmod(&d.join("opendkim.conf"), 0o644);
        // `chown -R opendkim:opendkim /etc/opendkim/keys`, keys 0600, directories 0700.
        for path in [keys.clone(), keys.join(DOMAIN)] {
            chown_opendkim(&path);
            chmod(&path, 0o700);
        }
        for file in ["202610.private", "202610.txt"] {
            chown_opendkim(&keys.join(DOMAIN).join(file));
        }
        chmod(&key, 0o600);
        let txt = std::fs::read_to_string(keys.join(DOMAIN).join("202610.txt")).unwrap();
        let server = NamedServer::start(&[Zone::new(DOMAIN, &txt).dynamic()]);
        let txt_mode = std::fs::metadata(keys.join(DOMAIN).join("202610.txt"))
            .unwrap()
            .mode()
            & 0o7777;
        Host {
            dir,
            server,
            txt_mode,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The README's crontab line, as of `now`, with --nameserver and --server the test's named.
    fn rotate(&self, now: u64) -> Run {
        self.rotate_with(now, &[])
    }

    /// [`Host::rotate`] with `extra` arguments.
    fn rotate_with(&self, now: u64, extra: &[&str]) -> Run {
        let address = self.server.addr().to_string();
        let tsig = self.server.tsig_key_path().display().to_string();
        let now = now.to_string();
        let mut args = vec![
            "rotate",
            "-x",
            "opendkim.conf",
            "--keys-dir",
            "keys",
            "--publish",
            "rfc2136",
            "--server",
            &address,
            "--tsig-key",
            &tsig,
            "--reload-command",
            "true",
            "--nameserver",
            &address,
            "--now",
            &now,
        ];
        args.extend_from_slice(extra);
        dkimkit_run(self.dir.path(), &args)
    }

    /// The selector opendkim signs with now.
    fn selector(&self) -> String {
        let conf = std::fs::read_to_string(self.path("opendkim.conf")).unwrap();
        let text = if conf.contains("KeyTable") {
            std::fs::read_to_string(self.path("KeyTable")).unwrap()
        } else {
            conf
        };
        text.lines()
            .find_map(|line| {
                line.strip_prefix("Selector ")
                    .map(|rest| rest.split_whitespace().next().unwrap_or_default())
                    .or_else(|| {
                        line.strip_prefix(&format!("202610._domainkey.{DOMAIN} {DOMAIN}:"))
                            .and_then(|rest| rest.split(':').next())
                    })
            })
            .unwrap()
            .to_owned()
    }

    /// opendkim, run as its own user with the host's opendkim.conf, signs a message; dkimpy
    /// verifies it against the record named serves. Returns the selector it signed with.
    fn opendkim_signs_and_dkimpy_verifies(&self, day: u64) -> String {
        let message = self.path(&format!("day-{day}.eml"));
        std::fs::write(
            &message,
            format!(
                "From: joe@{DOMAIN}\r\nTo: ann@example.org\r\nSubject: day {day}\r\n\
                 Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n\r\nhello\r\n"
            ),
        )
        .unwrap();
        let signed = run(Command::new(peer("runuser", "util-linux"))
            .args(["-u", "opendkim", "--"])
            .arg(peer("opendkim", "opendkim"))
            .arg("-x")
            .arg(self.path("opendkim.conf"))
            .arg("-t")
            .arg(&message));
        assert_eq!(signed.status, 0, "day {day}: opendkim: {}", signed.stderr);
        // Test mode prints "opendkim: FILE:" and then the DKIM-Signature field.
        let field = signed
            .stdout
            .split_once('\n')
            .map_or("", |(_, f)| f)
            .trim_end();
        assert!(
            field.starts_with("DKIM-Signature:"),
            "day {day}: {}",
            signed.stdout
        );
        let selector = field
            .split(';')
            .find_map(|tag| tag.trim().strip_prefix("s="))
            .unwrap()
            .to_owned();
        let signed_message = format!(
            "{}\r\n{}",
            // Test mode ends its folded lines with CRLF already, or not: make them all CRLF.
            field.replace("\r\n", "\n").replace('\n', "\r\n"),
            std::fs::read_to_string(&message).unwrap()
        );
        std::fs::write(&message, signed_message).unwrap();
        let record: String = self
            .server
            .dig(&format!("{selector}._domainkey.{DOMAIN}"), "TXT")
            .iter()
            .map(|line| crate::util::quoted_strings(line).concat())
            .collect();
        assert!(
            record.contains("t=y") && record.contains("s=email"),
            "day {day}: {record}"
        );
        let verified = run(Command::new(dkimpy_python())
            .args([
                "-c",
                "import dkim, sys\n\
             message = open(sys.argv[1], 'rb').read()\n\
             record = sys.argv[2].encode()\n\
             print(dkim.verify(message, dnsfunc=lambda name, timeout=5: record))",
            ])
            .arg(&message)
            .arg(&record));
        assert_eq!(
            verified.stdout.trim(),
            "True",
            "day {day}: dkimpy does not verify opendkim's signature with {selector}: {}",
            verified.stderr
        );
        selector
    }

    /// testkey -x says `key OK` for the domain's key.
    fn testkey_says_ok(&self, when: &str) {
        let address = self.server.addr().to_string();
        let checked = dkimkit_run(
            self.dir.path(),
            &["testkey", "-x", "opendkim.conf", "--nameserver", &address],
        );
        assert!(
            checked
                .stdout
                .lines()
                .any(|l| l.contains(&format!("._domainkey.{DOMAIN}")) && l.contains(": key OK")),
            "{when}: {}",
            checked.stdout
        );
    }
}

/// A year of daily runs of the README's line; after every switch everything is checked.
fn a_year(host: &Host, expected_status: i32, check_run: &dyn Fn(&Run)) {
    host.testkey_says_ok("before the first run");
    assert_eq!(host.opendkim_signs_and_dkimpy_verifies(0), "202610");
    let mut switches = 0;
    let mut retired = Vec::new();
    for day in 0..=365 {
        let before = host.selector();
        let run = host.rotate(START + day * DAY);
        assert_eq!(
            run.status, expected_status,
            "day {day}: {}{}",
            run.stdout, run.stderr
        );
        check_run(&run);
        assert!(
            !run.stdout.contains(" { ") && !run.stdout.contains("bits:"),
            "{}",
            run.stdout
        );
        let now = host.selector();
        if now == before {
            continue;
        }
        switches += 1;
        retired.push(before);
        let when = format!("day {day}, switched to {now}");
        let keys = host.path(&format!("keys/{DOMAIN}"));
        let key = keys.join(format!("{now}.private"));
        assert_opendkims(&key, 0o600, &when);
        assert_opendkims(&keys.join(format!("{now}.txt")), host.txt_mode, &when);
        assert_opendkims(&keys, 0o700, &when);
        assert!(
            openssl_key_description(&key).contains("1024 bit"),
            "{when}: {}",
            openssl_key_description(&key)
        );
        let txt = std::fs::read_to_string(keys.join(format!("{now}.txt"))).unwrap();
        assert!(
            txt.contains("t=y") && txt.contains("s=email"),
            "{when}: {txt}"
        );
        if host.path("KeyTable").exists() {
            assert_opendkims(&host.path("KeyTable"), 0o640, &when);
        } else {
            let conf = std::fs::read_to_string(host.path("opendkim.conf")).unwrap();
            assert!(
                conf.starts_with("# opendkim.conf as a guide writes it")
                    && conf.contains(&format!("Selector {now}   # the key in use\n"))
                    && conf.contains(&format!("KeyFile {}\n", key.display())),
                "{when}: {conf}"
            );
            let mode = std::fs::metadata(host.path("opendkim.conf"))
                .unwrap()
                .mode()
                & 0o7777;
            assert_eq!(mode, 0o644, "{when}");
        }
        for old in &retired {
            let in_retired = keys.join(format!("retired/{old}.private"));
            let in_place = keys.join(format!("{old}.private"));
            let file = if in_retired.exists() {
                in_retired
            } else {
                in_place
            };
            assert_opendkims(&file, 0o600, &when);
        }
        if keys.join("retired").exists() {
            assert_opendkims(&keys.join("retired"), 0o700, &when);
        }
        assert_eq!(host.opendkim_signs_and_dkimpy_verifies(day), now, "{when}");
        host.testkey_says_ok(&when);
    }
    // 2026-11 to 2027-11: a rotation a month.
    assert_eq!(switches, 13, "{}", host.selector());
}

#[test]
fn a_year_of_roots_cron_on_opendkims_keytable() {
    let host = Host::new(false);
    // status, before any run: the key in use is adopted as a run would adopt it; the entry
    // whose key file is missing cannot be told about (exit 1).
    let day_before = (START - DAY).to_string();
    let status = dkimkit_run(
        host.dir.path(),
        &[
            "rotate",
            "status",
            "-x",
            "opendkim.conf",
            "--keys-dir",
            "keys",
            "--now",
            &day_before,
        ],
    );
    assert_eq!(status.status, 1, "{}{}", status.stdout, status.stderr);
    assert!(
        status.stdout.contains(&format!(
            "202610._domainkey.{DOMAIN}: {DOMAIN}: active 202610 since 2026-10-01 04:00 UTC; \
             pending none; retiring none; next step 2026-11-01 04:00 UTC: rotate"
        )) && status
            .stdout
            .contains("202610._domainkey.example.net: example.net: cannot tell: "),
        "{}",
        status.stdout
    );
    assert!(!host.path("keys/dkimkit-rotate.json").exists());
    // The example.net entry's key file is missing: reported every run (exit 1), and
    // example.com still rotates.
    a_year(&host, 1, &|run| {
        assert!(
            run.stdout
                .contains("202610._domainkey.example.net: stopped: ")
                && run.stdout.contains("1 stopped"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr.contains("example.net/202610.private"),
            "{}",
            run.stderr
        );
    });
}

#[test]
fn a_year_of_a_single_key_opendkim_conf() {
    let host = Host::new(true);
    // -v lists the settings used, and where they are written.
    let address = host.server.addr().to_string();
    let plan = host.rotate_with(START, &["--dry-run", "-v"]).success();
    for said in [
        format!("using Domain {DOMAIN} (opendkim.conf, line 5)"),
        "using Selector 202610 (opendkim.conf, line 6)".to_owned(),
        "using UserID opendkim (opendkim.conf, line 4)".to_owned(),
        format!("using --nameserver {address}"),
        "would generate key 202611 (RSA 1024-bit)".to_owned(),
    ] {
        assert!(
            plan.stdout.contains(&said),
            "{said:?} not in:\n{}",
            plan.stdout
        );
    }
    a_year(&host, 0, &|_| {});
}

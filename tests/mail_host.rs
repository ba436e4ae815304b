//! The whole mail host, end to end (issue 13): Debian's Postfix signing through Debian's opendkim
//! milter (running as the opendkim user), keys published by DNS UPDATE to a BIND primary that
//! feeds a secondary by NOTIFY and zone transfer, every check asking the secondary as the world
//! would. Two domains are onboarded with the README's commands, mail sent by SMTP is delivered to
//! a Maildir and verified by `dkimkit verify-file` and by dkimpy, then root's cron line rotates the
//! keys daily through thirteen simulated months (some runs killed part way), mail flowing every
//! day; `dkimkit check` passes, and fails once a record is broken. Everything runs on loopback
//! in a directory of the test's own, and nothing is left running or on disk at the end.
//!
//! opendkim logs only to syslog, which a test machine may lack (no /dev/log here), so the test
//! asserts what a log would tell through what opendkim does instead: with
//! `milter_default_action = tempfail` a key opendkim cannot load defers the mail (the SMTP client
//! sees a 4xx), and every delivered message must carry exactly the signatures the KeyTable and
//! SigningTable name, each verifying.
//!
//! The RSA + Ed25519 pair takes two opendkim instances, the second with `SignatureAlgorithm
//! ed25519-sha256`, chained as two milters: Debian's opendkim (2.11.0~beta2) signs every KeyTable
//! key with the one `SignatureAlgorithm` (default rsa-sha256), so an Ed25519 key in the same
//! KeyTable tempfails every message ("EVP_PKEY_get1_RSA() failed"); the per-key algorithm field
//! is only in upstream's development branch (OpenDKIM pull request 269). Each instance has its own
//! directory and cron line; the Ed25519 one rotates with `--selector-format ed%Y%m`, as rotate
//! names keys by the format only and `%Y%m` would give both keys of a month the same selector
//! (issue 15 adds `%k`).

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use named_harness::{NamedServer, Zone};
use serde_json::Value;

use crate::rotate::{DAY, START};
use crate::rotate_host::{assert_opendkims, chmod, chown_opendkim, user_ids};
use crate::util::{Run, dkimkit_run, dkimpy_python, host_dir, peer, run, set_modified};

/// Signed with one RSA-2048 key.
const SINGLE: &str = "example.com";
/// Signed with an RSA key and an Ed25519 key (two signatures on every message).
const PAIR: &str = "example.net";
/// Where the mail goes: Postfix delivers it to the Maildir of the test.
const RECIPIENT: &str = "ann@example.org";
/// How long any awaited event (a port accepting, a message delivered, a process gone) may take.
const DEADLINE: Duration = Duration::from_secs(60);
/// The documentation address the MX host has (with reverse DNS), for `dkimkit check`.
const MX_ADDRESS: &str = "192.0.2.25";
/// Thirteen months of daily runs from 2026-11-01, to 2027-12-02.
const DAYS: u64 = 397;

/// A key of a domain, and the opendkim instance that signs with it.
struct Family {
    domain: &'static str,
    /// The opendkim instance's directory (opendkim.conf, KeyTable, SigningTable, keys/), below
    /// the test's: the guides' /etc/opendkim.
    home: &'static str,
    /// genkey's key type flags.
    genkey: &'static [&'static str],
    /// The selector onboarded, and the KeyTable entry's name (kept through rotations).
    first_selector: &'static str,
    selector_format: &'static str,
    algorithm: &'static str,
}

/// The opendkim instance signing with RSA keys, and the one signing with Ed25519 keys.
const RSA_HOME: &str = "opendkim";
const ED25519_HOME: &str = "opendkim-ed25519";
const HOMES: [&str; 2] = [RSA_HOME, ED25519_HOME];

const FAMILIES: [Family; 3] = [
    Family {
        domain: SINGLE,
        home: RSA_HOME,
        genkey: &["-b", "2048"],
        first_selector: "202610",
        selector_format: "%Y%m",
        algorithm: "rsa-sha256",
    },
    Family {
        domain: PAIR,
        home: RSA_HOME,
        genkey: &["-b", "2048"],
        first_selector: "202610",
        selector_format: "%Y%m",
        algorithm: "rsa-sha256",
    },
    Family {
        domain: PAIR,
        home: ED25519_HOME,
        genkey: &["--key-type", "ed25519"],
        first_selector: "ed202610",
        selector_format: "ed%Y%m",
        algorithm: "ed25519-sha256",
    },
];

/// A signing key: domain, selector, algorithm.
type Key = (String, String, String);

impl Family {
    fn entry(&self) -> String {
        format!("{}._domainkey.{}", self.first_selector, self.domain)
    }
}

/// A free TCP port of 127.0.0.1 (free when asked; the servers bind it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `condition` holds, asking again every few milliseconds, for at most
/// [`DEADLINE`]: the events awaited (a file delivered, a port accepting, a process gone) have no
/// notification a test can block on portably, so they are polled, never slept for.
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "waited {DEADLINE:?} in vain for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn accepts(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Whether a process runs (a zombie, reaped by nobody in a container, does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, s)| !s.starts_with('Z'))
    })
}

fn signal(pid: u32, name: &str) {
    run(Command::new(peer("kill", "procps")).args([&format!("-{name}"), &pid.to_string()]));
}

/// Debian's opendkim in the foreground, a child of the test; it drops to the opendkim user.
struct OpenDkim {
    child: Child,
}

impl OpenDkim {
    fn start(dir: &Path, port: u16) -> OpenDkim {
        let log = std::fs::File::create(dir.join("opendkim.stderr")).unwrap();
        let child = Command::new(peer("opendkim", "opendkim"))
            .arg("-f")
            .arg("-x")
            .arg(dir.join("opendkim.conf"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut opendkim = OpenDkim { child };
        wait_until("opendkim's milter port", || {
            assert!(
                opendkim.child.try_wait().unwrap().is_none(),
                "opendkim exited: {}",
                std::fs::read_to_string(dir.join("opendkim.stderr")).unwrap_or_default()
            );
            accepts(port)
        });
        let user = run(Command::new(peer("ps", "procps")).args([
            "-o",
            "user=",
            "-p",
            &opendkim.child.id().to_string(),
        ]));
        assert_eq!(
            user.stdout.trim(),
            "opendkim",
            "opendkim does not run as its user"
        );
        opendkim
    }
}

impl Drop for OpenDkim {
    fn drop(&mut self) {
        signal(self.child.id(), "TERM");
        let pid = self.child.id();
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if running(pid) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A private Postfix instance: its own config, queue and data directories, smtpd on a loopback
/// port, mail to example.org delivered by virtual(8) into one Maildir.
struct Postfix {
    config: PathBuf,
    master: u32,
}

impl Postfix {
    fn start(dir: &Path, smtp_port: u16, milter_ports: &[u16]) -> Postfix {
        let postfix = peer("postfix", "postfix");
        let config = dir.join("postfix");
        for sub in ["postfix", "queue", "data", "mail"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let (postfix_uid, _) = user_ids("postfix");
        std::os::unix::fs::chown(dir.join("data"), Some(postfix_uid), None).unwrap();
        let (nobody_uid, nobody_gid) = user_ids("nobody");
        std::os::unix::fs::chown(dir.join("mail"), Some(nobody_uid), Some(nobody_gid)).unwrap();
        let d = dir.display();
        let milters: Vec<String> = milter_ports
            .iter()
            .map(|port| format!("inet:127.0.0.1:{port}"))
            .collect();
        let milters = milters.join(", ");
        std::fs::write(
            config.join("main.cf"),
            format!(
                "compatibility_level = 3.6\n\
                 queue_directory = {d}/queue\n\
                 data_directory = {d}/data\n\
                 meta_directory = /etc/postfix\n\
                 maillog_file = {d}/maillog\n\
                 maillog_file_prefixes = {d}\n\
                 myhostname = mail.{SINGLE}\n\
                 mydestination =\n\
                 inet_interfaces = 127.0.0.1\n\
                 inet_protocols = ipv4\n\
                 mynetworks = 127.0.0.0/8\n\
                 smtpd_relay_restrictions = permit_mynetworks, reject\n\
                 virtual_mailbox_domains = example.org\n\
                 virtual_mailbox_base = {d}/mail\n\
                 virtual_mailbox_maps = static:inbox/\n\
                 virtual_uid_maps = static:{nobody_uid}\n\
                 virtual_gid_maps = static:{nobody_gid}\n\
                 smtpd_milters = {milters}\n\
                 non_smtpd_milters = $smtpd_milters\n\
                 milter_default_action = tempfail\n\
                 in_flow_delay = 0\n"
            ),
        )
        .unwrap();
        // No chroot (column 5 `n`): the instance's files are outside any chroot.
        let mut master = format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n");
        for (service, kind, private, limit, command) in [
            ("pickup", "unix", "n", "1", "pickup"),
            ("cleanup", "unix", "n", "0", "cleanup"),
            ("qmgr", "unix", "n", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "0", "bounce"),
            ("defer", "unix", "-", "0", "bounce"),
            ("trace", "unix", "-", "0", "bounce"),
            ("verify", "unix", "-", "1", "verify"),
            ("flush", "unix", "n", "0", "flush"),
            ("proxymap", "unix", "-", "-", "proxymap"),
            ("smtp", "unix", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "smtp"),
            ("error", "unix", "-", "-", "error"),
            ("retry", "unix", "-", "-", "error"),
            ("discard", "unix", "-", "-", "discard"),
            ("virtual", "unix", "-", "-", "virtual"),
            ("anvil", "unix", "-", "1", "anvil"),
            ("scache", "unix", "-", "1", "scache"),
            ("showq", "unix", "n", "-", "showq"),
            ("postlog", "unix-dgram", "n", "1", "postlogd"),
        ] {
            let unprivileged = if command == "virtual" { "n" } else { "-" };
            master.push_str(&format!(
                "{service} {kind} {private} {unprivileged} n - {limit} {command}\n"
            ));
        }
        std::fs::write(config.join("master.cf"), master).unwrap();
        let started = run(Command::new(&postfix).arg("-c").arg(&config).arg("start"));
        let log = || std::fs::read_to_string(dir.join("maillog")).unwrap_or_default();
        assert_eq!(
            started.status,
            0,
            "postfix start: {}{}",
            started.stderr,
            log()
        );
        let pid_file = dir.join("queue/pid/master.pid");
        wait_until("Postfix's master pid file", || pid_file.is_file());
        let master = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let postfix = Postfix { config, master };
        wait_until("Postfix's smtpd port", || accepts(smtp_port));
        postfix
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        run(Command::new(peer("postfix", "postfix"))
            .arg("-c")
            .arg(&self.config)
            .arg("stop"));
        let deadline = Instant::now() + DEADLINE;
        while running(self.master) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// dkimpy, kept running: it reads a message file name a line and answers with the number of the
/// message's signatures and how many verify, fetching keys from the secondary with dig.
struct Dkimpy {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

const DKIMPY_VERIFIER: &str = r#"
import dkim, re, subprocess, sys
dig, server, port = sys.argv[1:4]
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    answer = subprocess.run([dig, '+short', '-p', port, '@' + server, name.rstrip('.'), 'TXT'],
                            capture_output=True, text=True).stdout.splitlines()
    return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', answer[0])).encode() if answer else b''
for line in sys.stdin:
    message = open(line.rstrip('\n'), 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    verifier = dkim.DKIM(message)
    count = sum(1 for name, _ in verifier.headers if name.lower() == b'dkim-signature')
    verified = sum(1 for i in range(count) if verifier.verify(idx=i, dnsfunc=dnsfunc))
    print(count, verified, flush=True)
"#;

impl Dkimpy {
    fn start(secondary: &NamedServer) -> Dkimpy {
        let mut child = Command::new(dkimpy_python())
            .args(["-c", DKIMPY_VERIFIER])
            .arg(peer("dig", "dnsutils"))
            .arg(secondary.addr().ip().to_string())
            .arg(secondary.addr().port().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Dkimpy {
            child,
            input,
            output,
        }
    }

    /// (signatures, verified signatures) of a message file.
    fn verify(&mut self, message: &Path) -> (usize, usize) {
        writeln!(self.input, "{}", message.display()).unwrap();
        let mut answer = String::new();
        self.output.read_line(&mut answer).unwrap();
        let mut numbers = answer.split_whitespace().map(|n| n.parse().unwrap());
        match (numbers.next(), numbers.next()) {
            (Some(count), Some(verified)) => (count, verified),
            _ => panic!("dkimpy: {answer:?}"),
        }
    }
}

impl Drop for Dkimpy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one SMTP reply (RFC 5321 section 4.2: `CODE-text` lines, then `CODE text`) and
/// asserts its code.
#[track_caller]
fn expect_reply(reader: &mut impl std::io::BufRead, code: &str, after: &str) {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        reply.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            break;
        }
    }
    assert!(reply.starts_with(code), "after {after}: {reply}");
}

/// Sends a message by SMTP (RFC 5321), as a mail client submitting to Postfix does.
fn send_mail(port: u16, from: &str, subject: &str) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    expect_reply(&mut reader, "220", "connecting");
    let message = format!(
        "From: {from}\r\nTo: {RECIPIENT}\r\nSubject: {subject}\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{}.{subject}@mail.example.com>\r\n\
         \r\nHello from {from}.\r\n\r\n-- \r\nsent by dkimkit's mail host test\r\n.\r\n",
        from.replace('@', ".")
    );
    for (command, code) in [
        ("EHLO client.example.com".to_owned(), "250"),
        (format!("MAIL FROM:<{from}>"), "250"),
        (format!("RCPT TO:<{RECIPIENT}>"), "250"),
        ("DATA".to_owned(), "354"),
    ] {
        write!(writer, "{command}\r\n").unwrap();
        expect_reply(&mut reader, code, &command);
    }
    writer.write_all(message.as_bytes()).unwrap();
    // A 4xx here is the milter failing (milter_default_action = tempfail), e.g. a key opendkim
    // cannot load.
    expect_reply(&mut reader, "250", &format!("the message from {from}"));
    write!(writer, "QUIT\r\n").unwrap();
    expect_reply(&mut reader, "221", "QUIT");
}

/// The host. Fields drop in order: the mail system first, DNS next, the directory last.
struct MailHost {
    postfix: Option<Postfix>,
    opendkims: Vec<OpenDkim>,
    dkimpy: Option<Dkimpy>,
    secondary: NamedServer,
    primary: NamedServer,
    dir: tempfile::TempDir,
    smtp_port: u16,
    /// Each opendkim instance's milter port, as [`HOMES`].
    milter_ports: [u16; 2],
    /// Messages delivered and verified so far.
    verified: usize,
}

impl MailHost {
    fn new() -> MailHost {
        let dir = host_dir();
        let d = dir.path();
        let domain_zone = |domain: &str| {
            Zone::new(
                domain,
                &format!(
                    "@ MX 10 mx.{SINGLE}.\n\
                     @ TXT \"v=spf1 ip4:{MX_ADDRESS} -all\"\n\
                     _dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}\"\n{}",
                    if domain == SINGLE {
                        format!("mx A {MX_ADDRESS}\n")
                    } else {
                        String::new()
                    }
                ),
            )
            .dynamic()
        };
        // A simulated day lasts a fraction of a second: NOTIFY without BIND's default 5 s of
        // notify-delay, so that the secondary is as up to date at the next run as after a day.
        let mut primary = NamedServer::start_with_options(
            &[
                domain_zone(SINGLE),
                domain_zone(PAIR),
                Zone::new("2.0.192.in-addr.arpa", &format!("25 PTR mx.{SINGLE}.\n")),
            ],
            "notify-delay 0;",
        );
        let secondary = primary.start_secondary(&[SINGLE, PAIR, "2.0.192.in-addr.arpa"]);
        let milter_ports = [free_port(), free_port()];
        let smtp_port = free_port();
        std::fs::write(d.join("TrustedHosts"), "127.0.0.1\n::1\nlocalhost\n").unwrap();
        for (home, port) in HOMES.iter().zip(milter_ports) {
            let h = d.join(home);
            std::fs::create_dir(&h).unwrap();
            chmod(&h, 0o755);
            let algorithm = if *home == ED25519_HOME {
                "SignatureAlgorithm ed25519-sha256\n"
            } else {
                ""
            };
            // opendkim.conf as Debian's package and the guides write it.
            std::fs::write(
                h.join("opendkim.conf"),
                format!(
                    "Syslog yes\nUMask 007\nUserID opendkim\nMode s\n\
                     Socket inet:{port}@127.0.0.1\nPidFile {0}/opendkim.pid\n\
                     Canonicalization relaxed/simple\nOversignHeaders From\n{algorithm}\
                     KeyTable file:{0}/KeyTable\nSigningTable refile:{0}/SigningTable\n\
                     ExternalIgnoreList refile:{1}/TrustedHosts\n\
                     InternalHosts refile:{1}/TrustedHosts\n\
                     MultipleSignatures yes\nNameservers {2}\n",
                    h.display(),
                    d.display(),
                    secondary.addr().ip()
                ),
            )
            .unwrap();
            for table in ["KeyTable", "SigningTable"] {
                std::fs::write(h.join(table), "").unwrap();
                chown_opendkim(&h.join(table));
                chmod(&h.join(table), 0o640);
            }
            std::fs::create_dir(h.join("keys")).unwrap();
            chown_opendkim(&h.join("keys"));
            chmod(&h.join("keys"), 0o700);
        }
        MailHost {
            postfix: None,
            opendkims: Vec::new(),
            dkimpy: None,
            secondary,
            primary,
            dir,
            smtp_port,
            milter_ports,
            verified: 0,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn dkimkit(&self, args: &[&str]) -> Run {
        dkimkit_run(self.dir.path(), args)
    }

    /// Onboards a domain as the README says: genkey for each of its keys, the keys made
    /// opendkim's, the KeyTable lines, the records published with `genzone -u | nsupdate`,
    /// testkey against the secondary, then the SigningTable lines and a reload of opendkim.
    fn onboard(&self, domain: &str) {
        let families: Vec<&Family> = FAMILIES.iter().filter(|f| f.domain == domain).collect();
        for family in &families {
            let keys = format!("{}/keys/{domain}", family.home);
            let mut args = vec![
                "genkey",
                "-d",
                domain,
                "-s",
                family.first_selector,
                "-D",
                &keys,
            ];
            args.extend_from_slice(family.genkey);
            self.dkimkit(&args).success();
            // `chown -R opendkim:opendkim /etc/opendkim/keys`, key directories 0700.
            let key_dir = self.path(&keys);
            chown_opendkim(&key_dir);
            chmod(&key_dir, 0o700);
            for file in std::fs::read_dir(&key_dir).unwrap() {
                chown_opendkim(&file.unwrap().path());
            }
            let key = key_dir.join(format!("{}.private", family.first_selector));
            // Onboarded the day before the simulated year starts.
            set_modified(&key, START - DAY);
            append(
                &self.path(&format!("{}/KeyTable", family.home)),
                &format!(
                    "{} {domain}:{}:{}\n",
                    family.entry(),
                    family.first_selector,
                    key.display()
                ),
            );
            let conf = format!("{}/opendkim.conf", family.home);
            let zone = self
                .dkimkit(&["genzone", "-u", "-d", domain, "-x", &conf])
                .success();
            let updated = self.primary.nsupdate(&zone.stdout);
            assert!(
                updated.status.success(),
                "nsupdate: {}",
                String::from_utf8_lossy(&updated.stderr)
            );
        }
        let serial = self.primary.serial(domain).unwrap();
        self.secondary.wait_for_serial(domain, serial);
        let secondary = self.secondary.addr().to_string();
        for family in &families {
            let conf = format!("{}/opendkim.conf", family.home);
            let tested = self
                .dkimkit(&[
                    "testkey",
                    "-x",
                    &conf,
                    "--no-dnssec",
                    "--nameserver",
                    &secondary,
                ])
                .success();
            assert!(
                tested
                    .stdout
                    .contains(&format!("{}: key OK", family.entry())),
                "{}",
                tested.stdout
            );
            append(
                &self.path(&format!("{}/SigningTable", family.home)),
                &format!("*@{domain} {}\n", family.entry()),
            );
        }
        for opendkim in &self.opendkims {
            signal(opendkim.child.id(), "USR1");
        }
    }

    /// The keys the KeyTables name for a domain: (domain, selector, algorithm).
    fn signing_keys(&self, domain: &str) -> BTreeSet<Key> {
        FAMILIES
            .iter()
            .filter(|f| f.domain == domain)
            .map(|family| {
                let table =
                    std::fs::read_to_string(self.path(&format!("{}/KeyTable", family.home)))
                        .unwrap();
                let line = table
                    .lines()
                    .find(|l| l.starts_with(&format!("{} ", family.entry())))
                    .unwrap_or_else(|| panic!("no {} in the KeyTable:\n{table}", family.entry()));
                let selector = line.split(':').nth(1).unwrap().to_owned();
                (domain.to_owned(), selector, family.algorithm.to_owned())
            })
            .collect()
    }

    /// Sends a message from each domain and waits for Postfix to deliver them into the Maildir.
    /// The two are sent at once, as two clients would: each waits about 0.2 s for the milters'
    /// answers (latency, not work), which would otherwise make most of the test's time.
    fn send_from_each_domain(&mut self, subject: &str) {
        let port = self.smtp_port;
        std::thread::scope(|scope| {
            for domain in [SINGLE, PAIR] {
                scope.spawn(move || send_mail(port, &format!("joe@{domain}"), subject));
            }
        });
        let new = self.path("mail/inbox/new");
        wait_until("Postfix to deliver 2 messages", || {
            std::fs::read_dir(&new).is_ok_and(|files| files.count() == 2)
        });
    }

    /// Every message in the Maildir's new/ verifies with `dkimkit verify-file` and with dkimpy,
    /// asking the secondary, and carries one signature per key the KeyTable names for its domain
    /// (`accepted`: each domain's key sets that may sign). Then they move to cur/, read.
    fn verify_delivered(&mut self, when: &str, accepted: &[BTreeSet<Key>]) {
        let new = self.path("mail/inbox/new");
        let files: Vec<PathBuf> = std::fs::read_dir(&new)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!files.is_empty(), "{when}: nothing delivered");
        let secondary = self.secondary.addr().to_string();
        let mut args = vec![
            "verify-file",
            "--json",
            "--no-dnssec",
            "--nameserver",
            &secondary,
        ];
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        args.extend(names.iter().map(String::as_str));
        let verified = self.dkimkit(&args);
        assert_eq!(
            verified.status, 0,
            "{when}: {}{}",
            verified.stdout, verified.stderr
        );
        let report: Value = serde_json::from_str(&verified.stdout).unwrap();
        for message in report["messages"].as_array().unwrap() {
            let file = message["file"].as_str().unwrap();
            let text = std::fs::read_to_string(file).unwrap();
            let domain = text
                .lines()
                .find_map(|l| l.strip_prefix("From: joe@"))
                .unwrap_or_else(|| panic!("{when}: no From in {file}"));
            let signatures = message["signatures"].as_array().unwrap();
            let signed: BTreeSet<Key> = signatures
                .iter()
                .map(|s| {
                    assert_eq!(s["result"], "pass", "{when}: {file}: {s}");
                    (
                        s["domain"].as_str().unwrap().to_owned(),
                        s["selector"].as_str().unwrap().to_owned(),
                        s["algorithm"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(signed.len(), signatures.len(), "{when}: {file}");
            assert!(
                signed.iter().all(|(d, _, _)| d == domain) && accepted.contains(&signed),
                "{when}: {file} is signed with {signed:?}, not the KeyTable's keys {accepted:?}"
            );
            let dkimpy = self.dkimpy.as_mut().unwrap();
            let (count, good) = dkimpy.verify(Path::new(file));
            assert_eq!(
                (count, good),
                (signed.len(), signed.len()),
                "{when}: dkimpy verifies {good} of {count} signatures of {file}"
            );
        }
        for file in files {
            let read = self.path("mail/inbox/cur").join(format!(
                "{}:2,S",
                file.file_name().unwrap().to_str().unwrap()
            ));
            std::fs::rename(&file, read).unwrap();
            self.verified += 1;
        }
    }

    /// Both domains' key sets now, for [`MailHost::verify_delivered`].
    fn signing_keys_now(&self) -> Vec<BTreeSet<Key>> {
        vec![self.signing_keys(SINGLE), self.signing_keys(PAIR)]
    }
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

impl MailHost {
    /// Starts opendkim, Postfix and the dkimpy verifier.
    fn start_mail_system(&mut self) {
        for (home, port) in HOMES.iter().zip(self.milter_ports) {
            let opendkim = OpenDkim::start(&self.path(home), port);
            self.opendkims.push(opendkim);
        }
        self.postfix = Some(Postfix::start(
            self.dir.path(),
            self.smtp_port,
            &self.milter_ports,
        ));
        self.dkimpy = Some(Dkimpy::start(&self.secondary));
    }

    /// The README's crontab line for an opendkim instance, as root, as of `now`: DNS UPDATEs to
    /// the primary, both servers asked before a switch, the instance reloaded by SIGUSR1.
    fn rotate(&self, home: &str, now: u64, extra: &[&str]) -> Run {
        let primary = self.primary.addr().to_string();
        let secondary = self.secondary.addr().to_string();
        let tsig = self.primary.tsig_key_path().display().to_string();
        let reload = format!(
            "kill -USR1 $(cat {})",
            self.path(&format!("{home}/opendkim.pid")).display()
        );
        let conf = format!("{home}/opendkim.conf");
        let keys_dir = format!("{home}/keys");
        let now = now.to_string();
        let format = FAMILIES
            .iter()
            .find(|f| f.home == home)
            .unwrap()
            .selector_format;
        let mut args = vec![
            "rotate",
            "-x",
            &conf,
            "--keys-dir",
            &keys_dir,
            "--selector-format",
            format,
            "--publish",
            "rfc2136",
            "--server",
            &primary,
            "--tsig-key",
            &tsig,
            "--reload-command",
            &reload,
            "--nameserver",
            &primary,
            "--nameserver",
            &secondary,
            "--now",
            &now,
        ];
        args.extend_from_slice(extra);
        self.dkimkit(&args)
    }

    /// Both cron lines, as of `now`, each expected to succeed; then the rest of the day, in
    /// which the secondary catches up with the primary.
    fn rotate_all(&self, now: u64, when: &str) {
        for home in HOMES {
            let run = self.rotate(home, now, &[]);
            assert_eq!(
                run.status, 0,
                "{when}: {home}: {}{}",
                run.stdout, run.stderr
            );
        }
        for domain in [SINGLE, PAIR] {
            let serial = self.primary.serial(domain).unwrap();
            self.secondary.wait_for_serial(domain, serial);
        }
    }

    /// The DKIM records the secondary serves, by key family: every selector ever made for it
    /// (the key files, retired ones included) asked in one dig.
    fn served_records(&self) -> Vec<(String, Vec<String>)> {
        let mut queries = Vec::new();
        for family in &FAMILIES {
            let dir = self.path(&format!("{}/keys/{}", family.home, family.domain));
            for sub in [dir.clone(), dir.join("retired")] {
                for entry in std::fs::read_dir(sub).into_iter().flatten() {
                    let path = entry.unwrap().path();
                    if path.extension().is_some_and(|e| e == "private") {
                        let selector = path.file_stem().unwrap().to_str().unwrap();
                        queries.push(format!("{selector}._domainkey.{}.", family.domain));
                    }
                }
            }
        }
        let mut dig = Command::new(peer("dig", "dnsutils"));
        dig.args(["+noall", "+answer", "+norecurse", "-p"])
            .arg(self.secondary.addr().port().to_string())
            .arg(format!("@{}", self.secondary.addr().ip()));
        for name in &queries {
            dig.args([name, "TXT"]);
        }
        let answer = run(&mut dig).success().stdout;
        FAMILIES
            .iter()
            .map(|family| {
                let served: BTreeSet<String> = answer
                    .lines()
                    .filter_map(|l| l.split_whitespace().next())
                    .filter(|name| {
                        name.ends_with(&format!("._domainkey.{}.", family.domain))
                            && name.starts_with(|c: char| {
                                (family.algorithm == "ed25519-sha256") == (c == 'e')
                            })
                    })
                    .map(str::to_owned)
                    .collect();
                (family.entry(), served.into_iter().collect())
            })
            .collect()
    }

    /// The KeyTable, SigningTable and every key stay opendkim's, with their modes.
    fn assert_files_stay_opendkims(&self, when: &str) {
        for home in HOMES {
            assert_opendkims(&self.path(&format!("{home}/KeyTable")), 0o640, when);
            assert_opendkims(&self.path(&format!("{home}/SigningTable")), 0o640, when);
        }
        for family in &FAMILIES {
            let dir = self.path(&format!("{}/keys/{}", family.home, family.domain));
            assert_opendkims(&dir, 0o700, when);
            for sub in [dir.clone(), dir.join("retired")] {
                for entry in std::fs::read_dir(sub).into_iter().flatten() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        assert_opendkims(&path, 0o700, when);
                    } else if path.extension().is_some_and(|e| e == "private") {
                        assert_opendkims(&path, 0o600, when);
                    }
                }
            }
        }
    }

    /// `dkimkit check` of the domains an opendkim instance signs for, with the keys of its
    /// opendkim.conf, asking the secondary.
    fn check(&self, home: &str) -> Run {
        let secondary = self.secondary.addr().to_string();
        let conf = format!("{home}/opendkim.conf");
        let mut args = vec!["check"];
        let domains: BTreeSet<&str> = FAMILIES
            .iter()
            .filter(|f| f.home == home)
            .map(|f| f.domain)
            .collect();
        args.extend(domains);
        args.extend([
            "-x",
            &conf,
            "--no-dnssec",
            "--nameserver",
            &secondary,
            "--json",
        ]);
        self.dkimkit(&args)
    }
}

/// Processes that belong to `dirs`: their command line or environment (Postfix's daemons
/// inherit `MAIL_CONFIG`) names one.
fn processes_using(dirs: &[PathBuf]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !running(pid) {
            continue;
        }
        let read = |what: &str| {
            std::fs::read(entry.path().join(what))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default()
        };
        let (cmdline, environ) = (read("cmdline"), read("environ"));
        if dirs.iter().any(|dir| {
            let dir = dir.display().to_string();
            cmdline.contains(&dir) || environ.contains(&dir)
        }) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

#[test]
fn a_postfix_opendkim_bind_host_onboarded_checked_and_rotated_for_thirteen_months() {
    let mut host = MailHost::new();
    let dirs = vec![
        host.dir.path().to_owned(),
        host.primary.dir().to_owned(),
        host.secondary.dir().to_owned(),
    ];

    // 1. Onboarding: the first domain before opendkim starts, the second while it runs.
    host.onboard(SINGLE);
    host.start_mail_system();
    host.onboard(PAIR);
    // 2. Mail from both domains, signed by opendkim, verified against the secondary.
    host.send_from_each_domain("onboarded");
    let keys = host.signing_keys_now();
    host.verify_delivered("after onboarding", &keys);

    // 3. Thirteen months of root's daily cron lines, mail every day. From three days on, the
    //    RSA line's run is first killed after N steps (as tests/rotate.rs does) until one is
    //    stopped part way; mail still verifies, and the day's full run completes it.
    let mut kills = vec![(25, "1"), (55, "3"), (85, "6")];
    let mut killed_runs = 0;
    let mut switches = [0; FAMILIES.len()];
    let mut most_served = 0;
    for day in 0..DAYS {
        let now = START + day * DAY;
        let when = format!("day {day}");
        let before = host.signing_keys_now();
        if let Some(&(_, steps)) = kills.first().filter(|(from, _)| day >= *from) {
            let killed = host.rotate(RSA_HOME, now, &["--stop-after-steps", steps]);
            let stopped = killed
                .stderr
                .contains(&format!("stopped after {steps} steps"));
            assert!(
                killed.status == 0 || stopped,
                "{when}: {}{}",
                killed.stdout,
                killed.stderr
            );
            if stopped {
                kills.remove(0);
            }
            killed_runs += 1;
            // Mail keeps verifying with whatever the killed run left.
            host.send_from_each_domain(&format!("day{day}-killed"));
            let keys = host.signing_keys_now();
            let accepted: Vec<_> = keys.iter().chain(&before).cloned().collect();
            host.verify_delivered(&format!("{when}, killed after {steps} steps"), &accepted);
            host.assert_files_stay_opendkims(&when);
        }
        host.rotate_all(now, &when);
        let after = host.signing_keys_now();
        for (count, family) in switches.iter_mut().zip(&FAMILIES) {
            let selector = |keys: &[BTreeSet<Key>]| {
                keys.iter()
                    .flatten()
                    .find(|(d, _, a)| d == family.domain && a == family.algorithm)
                    .map(|k| k.1.clone())
            };
            if selector(&before) != selector(&after) {
                *count += 1;
            }
        }
        // opendkim reloads on SIGUSR1 asynchronously: the first message after a switch may
        // still carry the old signature (whose record is served through the overlap).
        let accepted: Vec<_> = after.iter().chain(&before).cloned().collect();
        host.send_from_each_domain(&format!("day{day}"));
        host.verify_delivered(&when, &accepted);
        for (entry, served) in host.served_records() {
            assert!(
                (1..=2).contains(&served.len()),
                "{when}: the secondary serves {served:?} for {entry}"
            );
            most_served = most_served.max(served.len());
        }
        host.assert_files_stay_opendkims(&when);
    }
    assert!(kills.is_empty(), "no run was stopped part way: {kills:?}");
    // A switch a month (2026-11-30 to 2027-11-30) for each key; each old key retired.
    assert_eq!(switches, [13; FAMILIES.len()]);
    for family in &FAMILIES {
        let retired = host.path(&format!("{}/keys/{}/retired", family.home, family.domain));
        let count = std::fs::read_dir(&retired)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|e| e == "private")
            })
            .count();
        assert_eq!(count, 12, "{}", retired.display());
    }
    assert_eq!(most_served, 2);

    // 4. dkimkit check passes; with the DMARC record of one domain deleted, it fails naming it.
    for home in HOMES {
        let checked = host.check(home);
        assert_eq!(
            checked.status, 0,
            "{home}: {}{}",
            checked.stdout, checked.stderr
        );
    }
    let updated = host.primary.nsupdate(&format!(
        "zone {PAIR}\nupdate delete _dmarc.{PAIR} TXT\nsend\n"
    ));
    assert!(updated.status.success(), "{updated:?}");
    let serial = host.primary.serial(PAIR).unwrap();
    host.secondary.wait_for_serial(PAIR, serial);
    let checked = host.check(RSA_HOME);
    assert_eq!(checked.status, 1, "{}{}", checked.stdout, checked.stderr);
    let report: Value = serde_json::from_str(&checked.stdout).unwrap();
    let errors = |domain: &str| -> Vec<String> {
        report["domains"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["domain"] == domain)
            .flat_map(|d| d["findings"].as_array().unwrap().clone())
            .filter(|f| f["severity"] == "error")
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(errors(PAIR), ["dmarc.missing"], "{}", checked.stdout);
    assert!(errors(SINGLE).is_empty(), "{}", checked.stdout);

    // Mail is still signed and verifies: DMARC is not DKIM.
    host.send_from_each_domain("after-check");
    let keys = host.signing_keys_now();
    host.verify_delivered("at the end", &keys);
    let messages = host.verified;
    assert_eq!(messages, 2 * (DAYS as usize + killed_runs + 2));

    // Nothing left running, nothing left on disk.
    drop(host);
    assert_eq!(processes_using(&dirs), Vec::<String>::new());
    for dir in &dirs {
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }
}

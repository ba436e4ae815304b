//! Small helpers for running dkimkit and the peers it is checked against.

#![allow(dead_code)] // Each test module uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use named_harness::quoted_strings;

/// What a finished command left.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0, showing stderr otherwise.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.status, 0, "expected success; stderr:\n{}", self.stderr);
        self
    }

    /// Asserts the exit status, that stderr says `message`, and that each line on stderr says
    /// each thing once ([`assert_says_each_thing_once`]).
    #[track_caller]
    pub fn fails_with(self, status: i32, message: &str) -> Self {
        assert_eq!(self.status, status, "stderr:\n{}", self.stderr);
        assert!(
            self.stderr.contains(message),
            "stderr does not say {message:?}:\n{}",
            self.stderr
        );
        self.stderr.lines().for_each(assert_says_each_thing_once);
        self
    }
}

/// Runs a command to completion with no standard input.
pub fn run(command: &mut Command) -> Run {
    finish(command.stdin(Stdio::null()))
}

/// Runs a command to completion with `input` as its standard input.
pub fn run_with_input(command: &mut Command, input: &Path) -> Run {
    let file = std::fs::File::open(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    finish(command.stdin(file))
}

fn finish(command: &mut Command) -> Run {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The dkimkit binary under test, run in `dir`.
pub fn dkimkit(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dkimkit"));
    command.current_dir(dir);
    command
}

/// Runs dkimkit in `dir` with `args`.
pub fn dkimkit_run(dir: &Path, args: &[&str]) -> Run {
    run(dkimkit(dir).args(args))
}

/// A peer program, found on PATH or in the sbin folders; a missing one fails the test with the
/// Debian package that provides it.
pub fn peer(program: &'static str, package: &'static str) -> PathBuf {
    named_harness::peer(named_harness::Peer { program, package })
}

/// Debian's Python with dkimpy (python3-dkim) and PyNaCl; the Python on PATH may be another.
pub fn dkimpy_python() -> PathBuf {
    let python = peer("python3", "python3");
    let debian_python = PathBuf::from("/usr/bin/python3");
    let python = if debian_python.is_file() {
        debian_python
    } else {
        python
    };
    let check = run(Command::new(&python).args(["-c", "import dkim, nacl"]));
    assert_eq!(
        check.status,
        0,
        "dkimpy is not importable by {}: install it with `apt-get install python3-dkim \
         python3-nacl` (or run `bash .ci/setup`)\n{}",
        python.display(),
        check.stderr
    );
    python
}

/// A file of the test data kept in the repository.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A TXT record as BIND loaded it: its owner and its character-strings.
#[derive(Debug, Clone)]
pub struct LoadedTxt {
    pub owner: String,
    pub strings: Vec<String>,
}

impl LoadedTxt {
    /// The record value: the strings joined with nothing between (RFC 6376 3.6.2.2).
    pub fn value(&self) -> String {
        self.strings.concat()
    }
}

/// Loads `records` (zone-file text, as SELECTOR.txt holds it) into a zone for `domain` with
/// `named-checkzone`, which must accept it, and returns the TXT records as BIND read them.
pub fn load_in_bind(dir: &Path, domain: &str, records: &[&Path]) -> Vec<LoadedTxt> {
    let checkzone = peer("named-checkzone", "bind9-utils");
    let mut zone = format!(
        "$TTL 300\n@ IN SOA ns1.{domain}. hostmaster.{domain}. ( 1 3600 600 86400 300 )\n\
         @ IN NS ns1.{domain}.\nns1 IN A 127.0.0.1\n"
    );
    for record in records {
        // Included unchanged, as an administrator would.
        zone.push_str(&format!("$INCLUDE {}\n", record.display()));
    }
    let zone_file = dir.join(format!("{domain}.zone"));
    std::fs::write(&zone_file, zone).unwrap();
    let checked = run(Command::new(checkzone)
        .args(["-k", "fail", "-D", "-o", "-", domain])
        .arg(&zone_file));
    assert_eq!(
        checked.status, 0,
        "named-checkzone refused the zone:\n{}{}",
        checked.stdout, checked.stderr
    );
    checked
        .stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let owner = fields.next()?.to_owned();
            let (_ttl, class, rtype) = (fields.next()?, fields.next()?, fields.next()?);
            (class == "IN" && rtype == "TXT").then(|| LoadedTxt {
                owner,
                strings: quoted_strings(line),
            })
        })
        .collect()
}

/// The public key OpenSSL derives from a private key file, as SubjectPublicKeyInfo DER.
pub fn openssl_public_key(private_key: &Path) -> Vec<u8> {
    let openssl = peer("openssl", "openssl");
    let output = Command::new(openssl)
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(private_key)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openssl cannot read {}: {}",
        private_key.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// How OpenSSL describes a private key file: the first line of `openssl pkey -text`, such as
/// "Private-Key: (2048 bit, 2 primes)" or "ED25519 Private-Key:".
pub fn openssl_key_description(private_key: &Path) -> String {
    let text = run(Command::new(peer("openssl", "openssl"))
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(private_key))
    .success()
    .stdout;
    text.lines().next().unwrap_or_default().to_owned()
}

/// dkimpy signs a message with `private_key` and verifies it against `record_value`, served as
/// the TXT record at SELECTOR._domainkey.DOMAIN. Returns dkimpy's verdict line.
pub fn dkimpy_sign_and_verify(
    private_key: &Path,
    domain: &str,
    selector: &str,
    record_value: &str,
) -> Run {
    run(Command::new(dkimpy_python())
        .arg(testdata("tests/peers/dkimpy_sign_verify.py"))
        .arg(private_key)
        .args([domain, selector, record_value]))
}

/// Asserts that a command left `dir` (which it was run in, empty) empty.
#[track_caller]
pub fn assert_nothing_written(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing should be written, found {left:?}");
}

/// A public verify vector (testdata/vectors/verify/NAME): its key records as (name, value)
/// (a bare selector is in football.example.com, as the vectors' README says) and its message.
pub fn verify_vector(name: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let path = testdata(&format!("crates/dkim-core/testdata/vectors/verify/{name}"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let split = text.windows(2).position(|w| w == b"\n\n").unwrap();
    let records = String::from_utf8(text[..split].to_vec())
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(' ').unwrap();
            let name = if name.contains('.') {
                name.to_owned()
            } else {
                format!("{name}._domainkey.football.example.com")
            };
            (name, value.to_owned())
        })
        .collect();
    (records, text[split + 2..].to_vec())
}

/// A fresh temporary directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary directory")
}

/// Where host directories are made: a directory of root's that others may enter but not write,
/// below directories of root's alike.
const HOST_DIRS: &str = "/var/lib/dkimkit-tests";

/// A fresh directory laid out as a mail host's /etc/opendkim is, mode 0755: opendkim refuses a
/// configuration or key below a directory others can write (so not under /tmp, where a clone of
/// the repository may well live), and its own user must be able to enter it.
pub fn host_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(HOST_DIRS).unwrap_or_else(|e| panic!("{HOST_DIRS}: {e}"));
    std::fs::set_permissions(HOST_DIRS, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tempfile::tempdir_in(HOST_DIRS).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir.path()).unwrap()),
        0,
        "run the tests as root, as on a mail host"
    );
    dir
}

/// Makes a key file readable by its owner only, as genkey creates keys: dkimkit refuses a
/// private key others can read (RequireSafeKeys). Keys from git checkouts are 0644.
pub fn make_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Writes a private key file with mode 0600.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::write(path, contents).unwrap();
    make_private(path);
}

/// A mode-0600 copy, in `dir`, of a key file from the test data.
pub fn private_copy(dir: &Path, source: &Path) -> PathBuf {
    let copy = dir.join(source.file_name().unwrap());
    write_private(&copy, std::fs::read(source).unwrap());
    copy
}

/// dkimpy's verdicts on `messages` (`{"message", "pass", "detail"}` each), with `records`
/// (DNS name -> record value) served as if from DNS.
pub fn dkimpy_verdicts(
    dir: &Path,
    records: serde_json::Map<String, serde_json::Value>,
    messages: &[PathBuf],
) -> Vec<serde_json::Value> {
    let manifest = dir.join("verify.json");
    let document = serde_json::json!({ "records": records, "messages": messages });
    std::fs::write(&manifest, document.to_string()).unwrap();
    let verified = run(Command::new(dkimpy_python())
        .arg(testdata("tests/peers/dkimpy_batch.py"))
        .arg("verify")
        .arg(&manifest))
    .success();
    serde_json::from_str(&verified.stdout).unwrap()
}

/// Sets a file's modification time to `seconds` after the epoch (rotate counts a key's age
/// from it when it first sees the key).
pub fn set_modified(path: &Path, seconds: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
        .unwrap();
}

/// Text that only Rust's debug formatting or a library's own wording puts in a message.
const DEBUG_OR_LIBRARY_TEXT: &[&str] = &[
    "Os {",
    "kind: ",
    "Some(",
    "None)",
    "Error {",
    "Custom {",
    "(os error",
    "Invalid symbol",
    "Invalid byte",
    "panicked",
    "\\\"",
    "\\n",
];

/// Asserts that a message says each thing once, in dkimkit's own words: no sequence of three
/// words comes twice, no `: `-separated part comes twice (the name twice at the start of a
/// line), and no Rust debug or library text.
#[track_caller]
pub fn assert_says_each_thing_once(message: &str) {
    for marker in DEBUG_OR_LIBRARY_TEXT {
        assert!(
            !message.contains(marker),
            "debug or library text {marker:?} in: {message}"
        );
    }
    let words: Vec<String> = message
        .split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for three in words.windows(3) {
        assert!(
            seen.insert(three),
            "\"{}\" comes twice in: {message}",
            three.join(" ")
        );
    }
    let mut parts = std::collections::HashSet::new();
    for part in message.split(": ") {
        assert!(
            parts.insert(part.trim()),
            "\"{part}\" comes twice in: {message}"
        );
    }
}

/// A name server a test runs (named or PowerDNS), asked over DNS at its address.
pub trait ServesDns {
    /// Its DNS address on loopback, for --nameserver.
    fn dns_addr(&self) -> std::net::SocketAddr;
}

impl ServesDns for named_harness::NamedServer {
    fn dns_addr(&self) -> std::net::SocketAddr {
        self.addr()
    }
}

impl ServesDns for named_harness::PdnsServer {
    fn dns_addr(&self) -> std::net::SocketAddr {
        self.addr()
    }
}

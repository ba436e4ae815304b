//! The BIND programs the harness drives, found where Debian installs them.
//!
//! A test that cannot find one fails at once with the Debian package that provides it, rather
//! than with a bare "No such file or directory" from deep inside a test.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A program the harness runs, and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The program's file name.
    pub program: &'static str,
    /// The Debian package to install when it is missing.
    pub package: &'static str,
}

impl Peer {
    /// The name server itself.
    pub const NAMED: Peer = Peer::new("named", "bind9");
    /// Makes TSIG keys (for rndc and for dynamic updates).
    pub const TSIG_KEYGEN: Peer = Peer::new("tsig-keygen", "bind9");
    /// Controls a running named (reload, freeze, thaw).
    pub const RNDC: Peer = Peer::new("rndc", "bind9-utils");
    /// Makes DNSSEC keys.
    pub const DNSSEC_KEYGEN: Peer = Peer::new("dnssec-keygen", "bind9-utils");
    /// Signs zones.
    pub const DNSSEC_SIGNZONE: Peer = Peer::new("dnssec-signzone", "bind9-utils");
    /// Makes the DS record of a key, for the parent zone.
    pub const DNSSEC_DSFROMKEY: Peer = Peer::new("dnssec-dsfromkey", "bind9-utils");
    /// Sends RFC 2136 dynamic updates.
    pub const NSUPDATE: Peer = Peer::new("nsupdate", "dnsutils");
    /// Queries a name server.
    pub const DIG: Peer = Peer::new("dig", "dnsutils");
    /// PowerDNS Authoritative (the sqlite3 backend is pdns-backend-sqlite3).
    pub const PDNS_SERVER: Peer = Peer::new("pdns_server", "pdns-server pdns-backend-sqlite3");
    /// Loads zones into PowerDNS's database.
    pub const PDNSUTIL: Peer = Peer::new("pdnsutil", "pdns-server");
    /// Creates PowerDNS's database from its schema.
    pub const SQLITE3: Peer = Peer::new("sqlite3", "sqlite3");

    const fn new(program: &'static str, package: &'static str) -> Peer {
        Peer { program, package }
    }

    /// A command running this program.
    pub fn command(self) -> Command {
        Command::new(peer(self))
    }
}

/// Where `peer` is installed: on PATH or in the sbin folders (named and rndc live in /usr/sbin,
/// which a normal user's PATH often lacks).
///
/// # Panics
///
/// When it is not installed, naming the package to install.
pub fn peer(peer: Peer) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(peer.program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} not found: install it with `apt-get install {}` (or run `bash .ci/setup`, \
                 which installs every peer the tests use)",
                peer.program, peer.package
            )
        })
}

/// Runs `command` to completion with no input and returns its standard output.
///
/// # Panics
///
/// When it cannot start or exits unsuccessfully, with its standard error.
pub(crate) fn run(command: &mut Command) -> String {
    let output = output(command.stdin(Stdio::null()));
    if !output.status.success() {
        panic!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `command` to completion, whatever its exit status.
///
/// # Panics
///
/// When it cannot start.
pub(crate) fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_installed_peers() {
        assert!(peer(Peer::NAMED).ends_with("named"));
    }

    #[test]
    #[should_panic(
        expected = "no-such-dns-tool not found: install it with `apt-get install some-package`"
    )]
    fn a_missing_peer_names_its_package() {
        peer(Peer {
            program: "no-such-dns-tool",
            package: "some-package",
        });
    }
}

//! DNSSEC for harness zones, with BIND's own tools: dnssec-keygen makes a KSK and a ZSK per
//! zone, dnssec-dsfromkey gives the KSK's DS for the parent, dnssec-signzone signs.
//!
//! ECDSA P-256 (algorithm 13, RFC 6605) keeps key generation instant and is what validators
//! support everywhere.

use std::fs;
use std::path::{Path, PathBuf};

use crate::peers::{Peer, run};
use crate::zone::{Signing, Zone};

const ALGORITHM: &str = "ECDSAP256SHA256";
/// A validity window long past: signatures made for it are expired (RFC 4034 3.1.5).
const EXPIRED_INCEPTION: &str = "20200101000000";
const EXPIRED_EXPIRATION: &str = "20200201000000";

/// The keys of one signed zone.
#[derive(Debug, Clone)]
pub(crate) struct ZoneKeys {
    /// The key-signing key's files, without `.key` / `.private`.
    ksk: PathBuf,
}

impl ZoneKeys {
    /// Makes a KSK and a ZSK for `zone` in `key_dir`.
    pub(crate) fn generate(key_dir: &Path, zone: &Zone) -> ZoneKeys {
        fs::create_dir_all(key_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", key_dir.display()));
        let ksk = keygen(key_dir, zone, true);
        keygen(key_dir, zone, false);
        ZoneKeys { ksk }
    }

    /// The KSK as a DNSKEY record in zone-file syntax (`example.com. IN DNSKEY 257 3 13 ...`):
    /// what a validator takes as a trust anchor.
    pub(crate) fn ksk_dnskey(&self) -> String {
        let path = self.ksk_key_file();
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        // dnssec-keygen writes comments (timing metadata) and then the record.
        text.lines()
            .filter(|line| !line.trim_start().starts_with(';') && !line.trim().is_empty())
            .map(|line| format!("{line}\n"))
            .collect()
    }

    /// The KSK's DS record (SHA-256 digest) in zone-file syntax, for the parent zone or as a trust
    /// anchor.
    pub(crate) fn ksk_ds(&self) -> String {
        run(Peer::DNSSEC_DSFROMKEY
            .command()
            .arg("-2")
            .arg(self.ksk_key_file()))
    }

    /// The KSK's public `.key` file. (Not `with_extension`: the base name's last dot is inside
    /// the zone name, as in `Kexample.com.+013+54621`.)
    fn ksk_key_file(&self) -> PathBuf {
        let mut path = self.ksk.clone().into_os_string();
        path.push(".key");
        PathBuf::from(path)
    }
}

/// Runs dnssec-keygen and returns the new key's path without extension.
fn keygen(key_dir: &Path, zone: &Zone, key_signing: bool) -> PathBuf {
    let mut command = Peer::DNSSEC_KEYGEN.command();
    command.args(["-q", "-a", ALGORITHM, "-K"]).arg(key_dir);
    if key_signing {
        command.args(["-f", "KSK"]);
    }
    command.arg(zone.fqdn());
    let base = run(&mut command);
    key_dir.join(base.trim())
}

/// Signs `unsigned` into `signed` with the keys in `key_dir`, as `zone`'s signing asks.
///
/// # Panics
///
/// When signing fails, or an alteration's text is not in the signed file.
pub(crate) fn sign(zone: &Zone, key_dir: &Path, unsigned: &Path, signed: &Path) {
    let mut command = Peer::DNSSEC_SIGNZONE.command();
    // -S: take the DNSKEYs from the key directory ("smart signing"); run in the key directory so
    // the dsset- file dnssec-signzone leaves behind stays there.
    command
        .current_dir(key_dir)
        .args(["-S", "-K"])
        .arg(key_dir)
        .arg("-o")
        .arg(zone.fqdn())
        .arg("-f")
        .arg(signed);
    if *zone.signing() == Signing::Expired {
        // -P: dnssec-signzone's own check would refuse the expired signatures we want.
        command.args(["-P", "-s", EXPIRED_INCEPTION, "-e", EXPIRED_EXPIRATION]);
    }
    command.arg(unsigned);
    run(&mut command);

    if let Signing::Altered(edits) = zone.signing() {
        alter(signed, edits);
    }
}

/// Replaces text in a signed zone file, after signing.
fn alter(signed: &Path, edits: &[(String, String)]) {
    let mut text = fs::read_to_string(signed)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", signed.display()));
    for (from, to) in edits {
        assert!(
            text.contains(from.as_str()),
            "cannot alter {}: {from:?} is not in the signed zone:\n{text}",
            signed.display()
        );
        text = text.replacen(from.as_str(), to, 1);
    }
    fs::write(signed, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", signed.display()));
}

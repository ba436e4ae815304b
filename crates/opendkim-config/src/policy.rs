//! How opendkim.conf says to sign, beyond which key: the canonicalization, the algorithm, the
//! header fields signed and oversigned, and the smallest key opendkim signs with.
//!
//! `sign-file --config` signs as the mail server would, so it reads these as opendkim does
//! (opendkim.conf(5)); the defaults are opendkim's, not dkimkit's own, so that a configuration
//! that does not set Canonicalization signs simple/simple, as opendkim does.

use super::conf::{OpendkimConf, SettingLocation};
use super::setup::{SetupError, data_set_entries};
use dkim_core::canonical::Canonicalization;
use dkim_core::crypto::SigningAlgorithm;
use dkim_core::key::KeyType;
use dkim_core::sign::DEFAULT_SIGNED_HEADERS;

/// Why opendkim.conf's rules refuse a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRefused {
    /// The key is not of SignatureAlgorithm's type: opendkim cannot load it to sign.
    #[error(
        "{at}: SignatureAlgorithm is {wanted}, but this is an {found} key, which opendkim cannot \
         sign with under that setting; use a key of that type or change the setting"
    )]
    WrongType {
        /// The SignatureAlgorithm line.
        at: SettingLocation,
        /// The algorithm the configuration names.
        wanted: SigningAlgorithm,
        /// The key's type.
        found: KeyType,
    },
    /// An RSA key smaller than MinimumKeyBits: opendkim adds no signature ("private key too
    /// small").
    #[error(
        "the key has {bits} bits, fewer than MinimumKeyBits {minimum} ({setting}), so opendkim \
         refuses to sign with it; make a key of at least {minimum} bits"
    )]
    TooSmall {
        /// The key's size.
        bits: usize,
        /// MinimumKeyBits.
        minimum: usize,
        /// Where it was set, or that it is the default.
        setting: String,
    },
}

/// The signing rules of an opendkim.conf.
#[derive(Debug, Clone)]
pub struct SigningPolicy {
    /// Canonicalization (default simple/simple).
    pub canonicalization: Canonicalization,
    /// SignatureAlgorithm and its line, if set. When it is not set, each key signs with its own
    /// type's algorithm (opendkim would use rsa-sha256 and fail on an Ed25519 key).
    pub algorithm: Option<(SigningAlgorithm, SettingLocation)>,
    /// MinimumKeyBits (default 1024), and its line if set.
    pub minimum_key_bits: (usize, Option<SettingLocation>),
    /// SignHeaders, resolved to a list of names (From always among them, as opendkim adds
    /// the fields the DKIM specification mandates); None when not set.
    pub headers: Option<Vec<String>>,
    /// OversignHeaders: fields listed once more than they occur.
    pub oversigned: Vec<String>,
    /// RequireSafeKeys (default on).
    pub require_safe_keys: bool,
}

/// SignHeaders as opendkim reads a header list (opendkim.conf(5), OmitHeaders): the list
/// replaces the default, unless one entry is `*`, which makes the others a change to the
/// default: `+name` (or a bare name) adds, `-name` removes. From is always signed.
fn resolve_header_list(entries: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let delta = entries.iter().any(|entry| entry.trim() == "*");
    if delta {
        names.extend(DEFAULT_SIGNED_HEADERS.iter().map(|name| (*name).to_owned()));
    }
    for entry in entries.iter().map(|entry| entry.trim()) {
        let lower = entry.to_ascii_lowercase();
        match lower.strip_prefix('-') {
            Some(removed) if delta => names.retain(|name| *name != removed),
            _ => {
                let added = lower.strip_prefix('+').unwrap_or(&lower);
                if added != "*" && !added.is_empty() && !names.iter().any(|n| n == added) {
                    names.push(added.to_owned());
                }
            }
        }
    }
    if !names.iter().any(|name| name == "from") {
        names.insert(0, "from".to_owned());
    }
    names
}

impl SigningPolicy {
    /// Reads the signing rules of `conf` (SignHeaders and OversignHeaders may name files).
    pub fn from_conf(conf: &OpendkimConf) -> Result<Self, SetupError> {
        let list = |setting: &'static str| -> Result<Option<Vec<String>>, SetupError> {
            match conf.data_set(setting)? {
                Some((data_set, written)) => {
                    Ok(Some(data_set_entries(setting, data_set, written)?))
                }
                None => Ok(None),
            }
        };
        let at = |setting: &str| conf.at(setting).cloned();
        Ok(SigningPolicy {
            canonicalization: conf.canonicalization()?,
            algorithm: conf.signature_algorithm()?.zip(at("SignatureAlgorithm")),
            minimum_key_bits: (conf.minimum_key_bits()?, at("MinimumKeyBits")),
            headers: list("SignHeaders")?.map(|entries| resolve_header_list(&entries)),
            oversigned: list("OversignHeaders")?
                .unwrap_or_default()
                .iter()
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|name| !name.is_empty())
                .collect(),
            require_safe_keys: conf.require_safe_keys(),
        })
    }

    /// Whether opendkim would sign with a key of this type and size. MinimumKeyBits applies to
    /// RSA keys: an Ed25519 key's 256 bits are as strong as a 3072-bit RSA key's.
    pub fn check_key(&self, key_type: KeyType, bits: usize) -> Result<(), KeyRefused> {
        if let Some((wanted, at)) = &self.algorithm
            && wanted.key_type() != key_type
        {
            return Err(KeyRefused::WrongType {
                at: at.clone(),
                wanted: *wanted,
                found: key_type,
            });
        }
        let (minimum, at) = &self.minimum_key_bits;
        if key_type == KeyType::Rsa && bits < *minimum {
            return Err(KeyRefused::TooSmall {
                bits,
                minimum: *minimum,
                setting: at
                    .as_ref()
                    .map_or_else(|| "opendkim's default".to_owned(), ToString::to_string),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn policy(text: &str) -> Result<SigningPolicy, SetupError> {
        SigningPolicy::from_conf(&OpendkimConf::parse(text, Path::new("/c")).unwrap())
    }

    #[test]
    fn defaults_are_opendkims() {
        let policy = policy("").unwrap();
        assert_eq!(policy.canonicalization.to_string(), "simple/simple");
        assert!(policy.algorithm.is_none() && policy.headers.is_none());
        assert!(policy.oversigned.is_empty() && policy.require_safe_keys);
        assert!(policy.check_key(KeyType::Rsa, 1024).is_ok());
        let err = policy.check_key(KeyType::Rsa, 768).unwrap_err();
        assert!(
            err.to_string()
                .contains("fewer than MinimumKeyBits 1024 (opendkim's default)"),
            "{err}"
        );
    }

    #[test]
    fn settings_are_read_as_opendkim_reads_them() {
        let policy = policy(
            "Canonicalization relaxed\nSignatureAlgorithm ed25519-sha256\nMinimumKeyBits 2048\n\
             SignHeaders subject,To\nOversignHeaders From, Subject\nRequireSafeKeys no\n",
        )
        .unwrap();
        assert_eq!(policy.canonicalization.to_string(), "relaxed/simple");
        assert_eq!(
            policy.headers.as_deref().unwrap(),
            ["from", "subject", "to"]
        );
        assert_eq!(policy.oversigned, ["from", "subject"]);
        assert!(!policy.require_safe_keys);
        assert!(policy.check_key(KeyType::Ed25519, 256).is_ok());
        let err = policy.check_key(KeyType::Rsa, 2048).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/c, line 2: SignatureAlgorithm is ed25519-sha256")
        );
    }

    #[test]
    fn a_star_makes_sign_headers_a_change_to_the_default() {
        let headers = policy("SignHeaders *,+List-Id,-Date\n")
            .unwrap()
            .headers
            .unwrap();
        assert!(headers.contains(&"list-id".to_owned()) && headers.contains(&"subject".into()));
        assert!(!headers.contains(&"date".to_owned()));
    }

    #[test]
    fn bad_values_name_their_line() {
        let err = policy("\nSignatureAlgorithm rsa-sha1\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/c, line 2: SignatureAlgorithm rsa-sha1 is refused")
        );
        let err = policy("Canonicalization loose\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("Canonicalization \"loose\" is not a canonicalization")
        );
        let err = policy("MinimumKeyBits many\n").unwrap_err();
        assert!(err.to_string().contains("is not a number of bits"), "{err}");
    }
}

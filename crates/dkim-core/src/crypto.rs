//! The signature algorithms of DKIM: rsa-sha256 (RFC 6376 3.3), ed25519-sha256 (RFC 8463 3),
//! and rsa-sha1, recognised only so that it can be refused by name (RFC 8301 3.1).
//!
//! `aws-lc-rs` signs and verifies: it signs in constant time, runs RSA at `openssl speed`'s rate
//! (it has OpenSSL's AVX-512 code, which doubles RSA signing on CPUs that have it), and is several
//! times faster than the `rsa` crate (docs/PERFORMANCE.md). It refuses to sign with RSA keys
//! under 2048 bits, which RFC 8301 still allows (1024 and up); those are signed with the `rsa`
//! crate, always with blinding (docs/supply-chain.md).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as aws_signature, Ed25519KeyPair, RsaKeyPair};
use rsa::pkcs1::EncodeRsaPrivateKey;

use crate::key::{KeyError, KeyMaterial, KeyType, PrivateKey, PublicKey, RECOMMENDED_RSA_BITS};

/// DigestInfo prefix of a SHA-256 hash in an RSASSA-PKCS1-v1_5 signature (RFC 8017 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// A signing algorithm, as `a=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 3.3.1).
    RsaSha256,
    /// Ed25519 over the SHA-256 of the header hash input (RFC 8463 3).
    Ed25519Sha256,
    /// RSA with SHA-1: RFC 8301 3.1 forbids signing with it and says verifiers must not
    /// consider it valid.
    RsaSha1,
}

impl SigningAlgorithm {
    /// The name `a=` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::RsaSha256 => "rsa-sha256",
            SigningAlgorithm::Ed25519Sha256 => "ed25519-sha256",
            SigningAlgorithm::RsaSha1 => "rsa-sha1",
        }
    }

    /// The key type the algorithm uses.
    pub fn key_type(self) -> KeyType {
        match self {
            SigningAlgorithm::RsaSha256 | SigningAlgorithm::RsaSha1 => KeyType::Rsa,
            SigningAlgorithm::Ed25519Sha256 => KeyType::Ed25519,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `a=` value that names no DKIM algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signing algorithm \"{0}\"")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for SigningAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, UnknownAlgorithm> {
        match s.to_ascii_lowercase().as_str() {
            "rsa-sha256" => Ok(SigningAlgorithm::RsaSha256),
            "ed25519-sha256" => Ok(SigningAlgorithm::Ed25519Sha256),
            "rsa-sha1" => Ok(SigningAlgorithm::RsaSha1),
            _ => Err(UnknownAlgorithm(s.to_owned())),
        }
    }
}

/// A private key prepared for signing many messages: parsed once, then used from any thread.
pub struct SigningKey {
    inner: SigningKeyInner,
    random: SystemRandom,
}

enum SigningKeyInner {
    Rsa(RsaKeyPair),
    /// Under 2048 bits, which aws-lc-rs refuses.
    SmallRsa(Box<rsa::RsaPrivateKey>),
    Ed25519(Ed25519KeyPair),
}

impl SigningKey {
    /// Prepares `key` for signing.
    pub fn new(key: &PrivateKey) -> Result<Self, KeyError> {
        key.check_not_too_large()?;
        let inner = match key.material() {
            KeyMaterial::Rsa(rsa_key) if key.bits() < RECOMMENDED_RSA_BITS => {
                SigningKeyInner::SmallRsa(Box::new(rsa_key.clone()))
            }
            KeyMaterial::Rsa(rsa_key) => {
                let der = rsa_key
                    .to_pkcs1_der()
                    .map_err(|e| KeyError::MalformedKey(format!("PKCS#1 encoding: {e}")))?;
                let pair = RsaKeyPair::from_der(der.as_bytes())
                    .map_err(|e| KeyError::MalformedKey(format!("RSA key refused: {e}")))?;
                SigningKeyInner::Rsa(pair)
            }
            KeyMaterial::Ed25519(seed) => SigningKeyInner::Ed25519(
                Ed25519KeyPair::from_seed_unchecked(seed)
                    .map_err(|e| KeyError::MalformedKey(format!("Ed25519 key refused: {e}")))?,
            ),
        };
        Ok(SigningKey {
            inner,
            random: SystemRandom::new(),
        })
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        match self.inner {
            SigningKeyInner::Rsa(_) | SigningKeyInner::SmallRsa(_) => SigningAlgorithm::RsaSha256,
            SigningKeyInner::Ed25519(_) => SigningAlgorithm::Ed25519Sha256,
        }
    }

    /// Signs the header hash input (the canonicalized header fields and DKIM-Signature field,
    /// RFC 6376 3.7).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner {
            SigningKeyInner::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &aws_signature::RSA_PKCS1_SHA256,
                    &self.random,
                    data,
                    &mut signature,
                )
                .map_err(|_| KeyError::MalformedKey("RSA signing failed".into()))?;
                Ok(signature)
            }
            SigningKeyInner::SmallRsa(key) => {
                let padding = rsa::Pkcs1v15Sign {
                    hash_len: Some(32),
                    prefix: SHA256_DIGEST_INFO.into(),
                };
                // With an RNG the rsa crate blinds the private-key operation (RUSTSEC-2023-0071).
                key.sign_with_rng(&mut rand::rngs::OsRng, padding, sha256(data).as_ref())
                    .map_err(KeyError::Rsa)
            }
            // RFC 8463 3: Ed25519 signs the SHA-256 hash of the data, not the data.
            SigningKeyInner::Ed25519(pair) => {
                Ok(pair.sign(sha256(data).as_ref()).as_ref().to_vec())
            }
        }
    }
}

fn sha256(data: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, data)
}

/// A public key prepared for verifying many signatures: parsed into aws-lc's form once, so that
/// each verification is the signature check alone (RSA's Montgomery constants, for one, are
/// computed at the first and kept).
pub struct VerifyingKey {
    algorithm: SigningAlgorithm,
    key: aws_signature::ParsedPublicKey,
}

impl VerifyingKey {
    /// Prepares `key` for verifying.
    pub fn new(key: &PublicKey) -> Result<Self, KeyError> {
        let prepared = match key {
            PublicKey::Rsa(_) => {
                let params = if key.bits() >= RECOMMENDED_RSA_BITS {
                    &aws_signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    // RFC 8301 3.2 still allows 1024-bit keys.
                    &aws_signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
                };
                aws_signature::ParsedPublicKey::new(params, key.to_record_bytes())
                    .map(|key| (SigningAlgorithm::RsaSha256, key))
            }
            PublicKey::Ed25519(raw) => {
                aws_signature::ParsedPublicKey::new(&aws_signature::ED25519, raw)
                    .map(|key| (SigningAlgorithm::Ed25519Sha256, key))
            }
        };
        let (algorithm, key) =
            prepared.map_err(|e| KeyError::MalformedKey(format!("public key refused: {e}")))?;
        Ok(VerifyingKey { algorithm, key })
    }

    /// Whether `signature` is `algorithm`'s signature of `data` (the header hash input, RFC 6376
    /// 3.7) by this key. rsa-sha1 never verifies (RFC 8301 3.1), nor does a key of the wrong type.
    pub fn verify(&self, algorithm: SigningAlgorithm, data: &[u8], signature: &[u8]) -> bool {
        if algorithm != self.algorithm {
            return false;
        }
        match algorithm {
            SigningAlgorithm::RsaSha256 => self.key.verify_sig(data, signature).is_ok(),
            // RFC 8463 3: Ed25519 signs the SHA-256 hash of the data, not the data.
            SigningAlgorithm::Ed25519Sha256 => self
                .key
                .verify_sig(sha256(data).as_ref(), signature)
                .is_ok(),
            SigningAlgorithm::RsaSha1 => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeySpec;

    #[test]
    fn every_key_kind_signs_what_it_verifies() {
        for spec in [
            KeySpec::Rsa { bits: 1024 },
            KeySpec::Rsa { bits: 2048 },
            KeySpec::Ed25519,
        ] {
            let private = PrivateKey::generate(spec).unwrap();
            let signer = SigningKey::new(&private).unwrap();
            let signature = signer.sign(b"header data").unwrap();
            let public = VerifyingKey::new(&private.public_key()).unwrap();
            assert!(public.verify(signer.algorithm(), b"header data", &signature));
            assert!(!public.verify(signer.algorithm(), b"header dat4", &signature));
            assert!(!public.verify(SigningAlgorithm::RsaSha1, b"header data", &signature));
        }
    }

    #[test]
    fn algorithm_names() {
        assert_eq!("RSA-SHA256".parse(), Ok(SigningAlgorithm::RsaSha256));
        assert_eq!(
            "ed25519-sha256".parse(),
            Ok(SigningAlgorithm::Ed25519Sha256)
        );
        assert_eq!("rsa-sha1".parse(), Ok(SigningAlgorithm::RsaSha1));
        assert_eq!(
            "rsa-md5".parse::<SigningAlgorithm>(),
            Err(UnknownAlgorithm("rsa-md5".into()))
        );
    }
}

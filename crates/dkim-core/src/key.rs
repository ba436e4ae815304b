//! Private and public DKIM keys: generation, loading from every format mail administrators
//! have on disk, and the public key in the form a key record publishes it.
//!
//! RSA keys are generated (rsa_keygen.rs), encoded and decoded with the `rsa` crate; Ed25519
//! public keys are derived with `aws-lc-rs`. Signing and verification (crypto.rs) go through
//! `aws-lc-rs`, which is faster and constant-time (docs/PERFORMANCE.md).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, ObjectIdentifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

/// RFC 8301 3.2: signers MUST use RSA keys of at least 1024 bits.
pub const MIN_RSA_BITS: usize = 1024;
/// RFC 8301 3.2: signers SHOULD use RSA keys of at least 2048 bits.
pub const RECOMMENDED_RSA_BITS: usize = 2048;
/// RFC 8301 3.2: verifiers MUST be able to validate keys from 1024 to 4096 bits, and need not
/// go further, so a larger key risks failing at receivers.
pub const MAX_RSA_BITS: usize = 4096;

const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// DER of a PKCS#8 v1 Ed25519 private key (RFC 8410 7) up to the 32-byte seed, which follows.
/// This is the form `openssl genpkey -algorithm ed25519` writes and every reader accepts.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410 4) up to the 32-byte key, which follows.
/// DKIM publishes the bare key (RFC 8463 4.2); this prefix is only recognised, to say so.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const ED25519_SEED_LEN: usize = 32;

/// Why a key could not be generated, read or used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An RSA size below RFC 8301's minimum.
    #[error("{bits}-bit RSA keys are refused: RFC 8301 requires at least {MIN_RSA_BITS} bits")]
    RsaKeyTooSmall {
        /// The size asked for.
        bits: usize,
    },
    /// An RSA size beyond what RFC 8301 asks verifiers to handle.
    #[error(
        "{bits}-bit RSA keys are refused: RFC 8301 only requires receivers to verify keys up to \
         {MAX_RSA_BITS} bits, so mail signed with it may fail"
    )]
    RsaKeyTooLarge {
        /// The size asked for.
        bits: usize,
    },
    /// A `k=` or `--key-type` value that is neither `rsa` nor `ed25519`.
    #[error("unknown key type \"{0}\" (expected rsa or ed25519)")]
    UnknownKeyType(String),
    /// The RSA library failed (generation, or a key that does not hold together).
    #[error("RSA key error: {0}")]
    Rsa(#[source] rsa::Error),
    /// PEM armour that does not parse.
    #[error("malformed PEM: {0}")]
    Pem(#[source] pem::PemError),
    /// A PEM block that holds something other than a private key.
    #[error(
        "the PEM block is \"{0}\", not a private key (expected RSA PRIVATE KEY or PRIVATE KEY)"
    )]
    NotAPrivateKey(String),
    /// A passphrase-protected key.
    #[error(
        "the private key is encrypted; decrypt it first, for example with \
         `openssl pkey -in KEY -out KEY.plain`"
    )]
    EncryptedKey,
    /// DER that is neither PKCS#1 nor PKCS#8.
    #[error("malformed key data: {0}")]
    MalformedKey(String),
    /// The cryptographic library could not generate a key (its random source failed, say).
    #[error("key generation failed: {0}")]
    Generation(String),
    /// A PKCS#8 or SubjectPublicKeyInfo key of another algorithm.
    #[error("key algorithm {0} is not supported (only RSA and Ed25519)")]
    UnsupportedAlgorithm(String),
    /// Data that is no key format this crate reads.
    #[error(
        "not a private key in a format dkimkit reads (PEM, DER, or a base64 Ed25519 seed as \
         dkimpy writes it)"
    )]
    UnrecognisedFormat,
    /// An Ed25519 public key that is not the bare 32 bytes RFC 8463 publishes.
    #[error("{0}")]
    BadEd25519PublicKey(&'static str),
    /// An RSA public key that is neither SubjectPublicKeyInfo nor PKCS#1.
    #[error("the RSA public key is neither SubjectPublicKeyInfo nor PKCS#1 DER")]
    BadRsaPublicKey,
    /// A published RSA key larger than verifiers must handle. Refused before any arithmetic,
    /// so a hostile record cannot make verification slow.
    #[error(
        "the RSA key has {bits} bits, more than the {MAX_RSA_BITS} bits RFC 8301 requires \
         verifiers to support"
    )]
    PublishedRsaKeyTooLarge {
        /// The modulus size.
        bits: usize,
    },
}

/// The key types DKIM defines: `k=rsa` (RFC 6376 3.6.1) and `k=ed25519` (RFC 8463 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// RSA, used with rsa-sha256.
    Rsa,
    /// Ed25519, used with ed25519-sha256.
    Ed25519,
}

impl KeyType {
    /// The value of the `k=` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        // RFC 6376 3.6.1 does not say k= is case-insensitive, but receivers treat it so.
        match s.to_ascii_lowercase().as_str() {
            "rsa" => Ok(KeyType::Rsa),
            "ed25519" => Ok(KeyType::Ed25519),
            _ => Err(KeyError::UnknownKeyType(s.to_owned())),
        }
    }
}

/// What key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// An RSA key of this many bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// An Ed25519 key (always 256 bits).
    Ed25519,
}

impl KeySpec {
    /// The type of the key this makes.
    pub fn key_type(self) -> KeyType {
        match self {
            KeySpec::Rsa { .. } => KeyType::Rsa,
            KeySpec::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// In words: "RSA 2048-bit", "Ed25519".
impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySpec::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            KeySpec::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

impl KeySpec {
    /// Refuses what RFC 8301 rules out, before any time is spent generating.
    pub fn check(self) -> Result<Self, KeyError> {
        match self {
            KeySpec::Rsa { bits } if bits < MIN_RSA_BITS => Err(KeyError::RsaKeyTooSmall { bits }),
            KeySpec::Rsa { bits } if bits > MAX_RSA_BITS => Err(KeyError::RsaKeyTooLarge { bits }),
            spec => Ok(spec),
        }
    }
}

/// A DKIM private key.
pub struct PrivateKey(PrivateKeyInner);

enum PrivateKeyInner {
    Rsa(Box<RsaPrivateKey>),
    Ed25519(Zeroizing<[u8; ED25519_SEED_LEN]>),
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, even in a debug dump.
        write!(f, "PrivateKey({} {} bits)", self.key_type(), self.bits())
    }
}

impl PrivateKey {
    /// Generates a new key from the operating system's random source.
    pub fn generate(spec: KeySpec) -> Result<Self, KeyError> {
        match spec.check()? {
            KeySpec::Rsa { bits } => {
                let key = crate::rsa_keygen::generate(bits)?;
                Ok(PrivateKey(PrivateKeyInner::Rsa(Box::new(key))))
            }
            KeySpec::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; ED25519_SEED_LEN]);
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut_slice());
                Ok(PrivateKey(PrivateKeyInner::Ed25519(seed)))
            }
        }
    }

    /// Reads a private key from the contents of a key file: PEM (PKCS#1 `RSA PRIVATE KEY` or
    /// PKCS#8 `PRIVATE KEY`, RSA or Ed25519), the same as DER, or the bare base64 Ed25519 seed
    /// that dkimpy's `dknewkey` writes.
    pub fn from_file_contents(contents: &[u8]) -> Result<Self, KeyError> {
        if contents.windows(11).any(|w| w == b"-----BEGIN ") {
            let block = pem::parse(contents).map_err(KeyError::Pem)?;
            return match block.tag() {
                "RSA PRIVATE KEY" => Self::from_pkcs1_der(block.contents()),
                "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
                "ENCRYPTED PRIVATE KEY" => Err(KeyError::EncryptedKey),
                other => Err(KeyError::NotAPrivateKey(other.to_owned())),
            };
        }
        if contents.first() == Some(&0x30) {
            return Self::from_der(contents);
        }
        let text = std::str::from_utf8(contents).map_err(|_| KeyError::UnrecognisedFormat)?;
        let compact: String = text.split_ascii_whitespace().collect();
        let decoded = Zeroizing::new(
            BASE64
                .decode(compact.as_bytes())
                .map_err(|_| KeyError::UnrecognisedFormat)?,
        );
        if decoded.len() == ED25519_SEED_LEN {
            let mut seed = Zeroizing::new([0u8; ED25519_SEED_LEN]);
            seed.copy_from_slice(&decoded);
            return Ok(PrivateKey(PrivateKeyInner::Ed25519(seed)));
        }
        // Base64 of DER without PEM armour; anything else that happens to be base64 (a word, a
        // public key) is no key, and saying so beats an ASN.1 parse error.
        if decoded.first() != Some(&0x30) {
            return Err(KeyError::UnrecognisedFormat);
        }
        Self::from_der(&decoded)
    }

    fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_pkcs8_der(der).or_else(|pkcs8_error| {
            // A PKCS#1 key fails PKCS#8 parsing; report the PKCS#8 error only if both fail.
            Self::from_pkcs1_der(der).map_err(|_| pkcs8_error)
        })
    }

    fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs1_der(der)
            .map_err(|e| KeyError::MalformedKey(format!("PKCS#1: {e}")))?;
        Self::from_rsa(key)
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = rsa::pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| KeyError::MalformedKey(format!("PKCS#8: {e}")))?;
        match info.algorithm.oid {
            RSA_OID => {
                let key = RsaPrivateKey::from_pkcs8_der(der)
                    .map_err(|e| KeyError::MalformedKey(format!("PKCS#8: {e}")))?;
                Self::from_rsa(key)
            }
            // RFC 8410 7: the private key is an OCTET STRING holding the 32-byte seed.
            ED25519_OID => match info.private_key {
                [0x04, 0x20, seed @ ..] if seed.len() == ED25519_SEED_LEN => {
                    let mut copy = Zeroizing::new([0u8; ED25519_SEED_LEN]);
                    copy.copy_from_slice(seed);
                    Ok(PrivateKey(PrivateKeyInner::Ed25519(copy)))
                }
                _ => Err(KeyError::MalformedKey(
                    "PKCS#8 Ed25519 key is not a 32-byte seed".into(),
                )),
            },
            other => Err(KeyError::UnsupportedAlgorithm(other.to_string())),
        }
    }

    fn from_rsa(key: RsaPrivateKey) -> Result<Self, KeyError> {
        key.validate().map_err(KeyError::Rsa)?;
        Ok(PrivateKey(PrivateKeyInner::Rsa(Box::new(key))))
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            PrivateKeyInner::Rsa(_) => KeyType::Rsa,
            PrivateKeyInner::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The key material, for the signing code in this crate.
    pub(crate) fn material(&self) -> KeyMaterial<'_> {
        match &self.0 {
            PrivateKeyInner::Rsa(key) => KeyMaterial::Rsa(key),
            PrivateKeyInner::Ed25519(seed) => KeyMaterial::Ed25519(seed),
        }
    }

    /// Refuses an RSA key larger than RFC 8301 3.2 asks receivers to verify (as genkey refuses
    /// to make one): mail signed with it may fail wherever it goes.
    pub fn check_not_too_large(&self) -> Result<(), KeyError> {
        match self.bits() {
            bits if self.key_type() == KeyType::Rsa && bits > MAX_RSA_BITS => {
                Err(KeyError::RsaKeyTooLarge { bits })
            }
            _ => Ok(()),
        }
    }

    /// The key size in bits (256 for Ed25519).
    pub fn bits(&self) -> usize {
        self.public_key().bits()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match &self.0 {
            PrivateKeyInner::Rsa(key) => PublicKey::Rsa(key.to_public_key()),
            PrivateKeyInner::Ed25519(seed) => {
                let pair =
                    aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
                        .expect("a 32-byte seed is always a valid Ed25519 key");
                let mut public = [0u8; 32];
                public.copy_from_slice(aws_lc_rs::signature::KeyPair::public_key(&pair).as_ref());
                PublicKey::Ed25519(public)
            }
        }
    }

    /// The key as a PEM file: PKCS#1 `RSA PRIVATE KEY` for RSA (what opendkim-genkey writes),
    /// PKCS#8 `PRIVATE KEY` for Ed25519 (what OpenSSL and opendkim read), LF line ends.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        match &self.0 {
            PrivateKeyInner::Rsa(key) => key
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| KeyError::MalformedKey(format!("PKCS#1 encoding: {e}"))),
            PrivateKeyInner::Ed25519(seed) => {
                let mut der = Zeroizing::new(ED25519_PKCS8_PREFIX.to_vec());
                der.extend_from_slice(seed.as_slice());
                let block = pem::Pem::new("PRIVATE KEY", der.to_vec());
                let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
                Ok(Zeroizing::new(pem::encode_config(&block, config)))
            }
        }
    }
}

/// A private key's material, borrowed.
pub(crate) enum KeyMaterial<'a> {
    Rsa(&'a RsaPrivateKey),
    Ed25519(&'a [u8; ED25519_SEED_LEN]),
}

/// A DKIM public key, as a key record's `p=` tag carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA public key.
    Rsa(RsaPublicKey),
    /// An Ed25519 public key, the bare 32 bytes.
    Ed25519([u8; 32]),
}

impl PublicKey {
    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PublicKey::Rsa(_) => KeyType::Rsa,
            PublicKey::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The key size in bits: the modulus size for RSA, 256 for Ed25519.
    pub fn bits(&self) -> usize {
        match self {
            PublicKey::Rsa(key) => key.n().bits(),
            PublicKey::Ed25519(_) => 256,
        }
    }

    /// The bytes `p=` carries, before base64: SubjectPublicKeyInfo DER for RSA (RFC 6376 3.6.1,
    /// what opendkim-genkey publishes), the bare 32-byte key for Ed25519 (RFC 8463 4.2).
    pub fn to_record_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa(key) => key
                .to_public_key_der()
                .expect("encoding a valid RSA public key cannot fail")
                .into_vec(),
            PublicKey::Ed25519(key) => key.to_vec(),
        }
    }

    /// Reads the bytes of a `p=` tag for the record's key type. RSA accepts
    /// SubjectPublicKeyInfo and also bare PKCS#1 `RSAPublicKey`, which some publishers use
    /// (RFC 6376 3.6.1 is ambiguous; receivers accept both).
    pub fn from_record_bytes(key_type: KeyType, bytes: &[u8]) -> Result<Self, KeyError> {
        match key_type {
            // The rsa crate refuses moduli over 4096 bits (RsaPublicKey::MAX_SIZE), which is
            // RFC 8301 3.2's bound for verifiers; say so rather than "not a key".
            KeyType::Rsa => match rsa_modulus_bits(bytes) {
                Some(bits) if bits > MAX_RSA_BITS => {
                    Err(KeyError::PublishedRsaKeyTooLarge { bits })
                }
                _ => RsaPublicKey::from_public_key_der(bytes)
                    .or_else(|_| RsaPublicKey::from_pkcs1_der(bytes))
                    .map(PublicKey::Rsa)
                    .map_err(|_| KeyError::BadRsaPublicKey),
            },
            KeyType::Ed25519 => {
                if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
                    Ok(PublicKey::Ed25519(raw))
                } else if bytes.starts_with(&ED25519_SPKI_PREFIX) {
                    Err(KeyError::BadEd25519PublicKey(
                        "the Ed25519 key is published as SubjectPublicKeyInfo; RFC 8463 publishes \
                         the bare 32-byte key, which is what receivers read",
                    ))
                } else {
                    Err(KeyError::BadEd25519PublicKey(
                        "an Ed25519 public key is 32 bytes (44 characters of base64)",
                    ))
                }
            }
        }
    }

    /// `p=` as base64.
    pub fn to_record_base64(&self) -> String {
        BASE64.encode(self.to_record_bytes())
    }
}

/// The modulus size of an RSA public key in SubjectPublicKeyInfo or PKCS#1 DER, read from the
/// DER alone (no size limit, no arithmetic). None if it is neither.
fn rsa_modulus_bits(bytes: &[u8]) -> Option<usize> {
    use rsa::pkcs1::der::Decode as _;
    let pkcs1 = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(bytes)
        .ok()
        .and_then(|spki| spki.subject_public_key.as_bytes())
        .unwrap_or(bytes);
    let key = rsa::pkcs1::RsaPublicKey::from_der(pkcs1).ok()?;
    let modulus = key.modulus.as_bytes();
    let first = *modulus.first()?;
    Some(modulus.len() * 8 - first.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(path: &str) -> Vec<u8> {
        let full = format!("{}/testdata/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    fn text_vector(path: &str) -> String {
        String::from_utf8(vector(path)).unwrap().trim().to_owned()
    }

    /// The `p=` value of a record vector (they are whole records, `v=DKIM1; ... p=...`).
    fn p_of(path: &str) -> String {
        let record = text_vector(path);
        record.rsplit_once("p=").unwrap().1.to_owned()
    }

    #[test]
    fn reads_every_rsa_encoding() {
        let pkcs1 = PrivateKey::from_file_contents(&vector("keys/rsa2048-pkcs1.pem")).unwrap();
        assert_eq!(pkcs1.key_type(), KeyType::Rsa);
        assert_eq!(pkcs1.bits(), 2048);
        assert_eq!(
            pkcs1.public_key().to_record_base64(),
            p_of("keys/rsa2048.spki.b64")
        );

        // A different key (see testdata/README.md); its public key as OpenSSL derives it.
        let pkcs8 = PrivateKey::from_file_contents(&vector("keys/rsa2048-pkcs8.pem")).unwrap();
        let openssl_spki = std::fs::read_to_string(format!(
            "{}/testdata/rsa2048-pkcs8.spki.b64",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(pkcs8.public_key().to_record_base64(), openssl_spki.trim());

        // DER, as `openssl rsa -outform DER` writes it, and PKCS#8 DER.
        for pem_file in ["keys/rsa2048-pkcs1.pem", "keys/rsa2048-pkcs8.pem"] {
            let block = pem::parse(vector(pem_file)).unwrap();
            let from_der = PrivateKey::from_file_contents(block.contents()).unwrap();
            let from_pem = PrivateKey::from_file_contents(&vector(pem_file)).unwrap();
            assert_eq!(from_der.public_key(), from_pem.public_key(), "{pem_file}");
        }
    }

    #[test]
    fn reads_ed25519_seed_and_pkcs8() {
        let from_seed = PrivateKey::from_file_contents(&vector("keys/ed25519.seed")).unwrap();
        let record = text_vector("keys/ed25519.record");
        assert_eq!(
            format!("k=ed25519; p={}", from_seed.public_key().to_record_base64()),
            record
        );
        // RFC 8463 A.2: the same key as a seed and as PKCS#8 PEM.
        let seed =
            PrivateKey::from_file_contents(&vector("rfc8463/brisbane.ed25519.seed")).unwrap();
        let pkcs8 =
            PrivateKey::from_file_contents(&vector("rfc8463/brisbane.ed25519.pem")).unwrap();
        assert_eq!(seed.public_key(), pkcs8.public_key());
        assert_eq!(
            seed.public_key().to_record_base64(),
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        );
    }

    #[test]
    fn pem_round_trips() {
        for spec in [KeySpec::Rsa { bits: 1024 }, KeySpec::Ed25519] {
            let key = PrivateKey::generate(spec).unwrap();
            let again = PrivateKey::from_file_contents(key.to_pem().unwrap().as_bytes()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
        }
        let rsa = PrivateKey::generate(KeySpec::Rsa { bits: 1024 }).unwrap();
        assert!(
            rsa.to_pem()
                .unwrap()
                .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
        );
        let ed = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        assert!(
            ed.to_pem()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
    }

    #[test]
    fn refuses_sizes_rfc_8301_rules_out() {
        assert!(matches!(
            PrivateKey::generate(KeySpec::Rsa { bits: 512 }),
            Err(KeyError::RsaKeyTooSmall { bits: 512 })
        ));
        assert!(matches!(
            KeySpec::Rsa { bits: 8192 }.check(),
            Err(KeyError::RsaKeyTooLarge { bits: 8192 })
        ));
    }

    /// A public key with a modulus of `bits` bits (not a real key: only its size matters), as
    /// PKCS#1 and as SubjectPublicKeyInfo DER.
    fn public_key_of_size(bits: usize) -> (Vec<u8>, Vec<u8>) {
        use rsa::pkcs1::der::Encode as _;
        use rsa::pkcs1::der::asn1::{AnyRef, BitStringRef, UintRef};
        let modulus = vec![0xc3; bits / 8];
        let pkcs1 = rsa::pkcs1::RsaPublicKey {
            modulus: UintRef::new(&modulus).unwrap(),
            public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
        }
        .to_der()
        .unwrap();
        let spki = rsa::pkcs8::SubjectPublicKeyInfoRef {
            algorithm: rsa::pkcs8::AlgorithmIdentifierRef {
                oid: RSA_OID,
                parameters: Some(AnyRef::NULL),
            },
            subject_public_key: BitStringRef::from_bytes(&pkcs1).unwrap(),
        }
        .to_der()
        .unwrap();
        (pkcs1, spki)
    }

    #[test]
    fn a_published_key_larger_than_verifiers_must_support_is_named_as_such() {
        for bits in [4104, 8192, 16384] {
            let (pkcs1, spki) = public_key_of_size(bits);
            for der in [pkcs1, spki] {
                let err = PublicKey::from_record_bytes(KeyType::Rsa, &der).unwrap_err();
                assert!(
                    matches!(err, KeyError::PublishedRsaKeyTooLarge { bits: b } if b == bits),
                    "{bits}: {err}"
                );
            }
        }
        assert_eq!(
            KeyError::PublishedRsaKeyTooLarge { bits: 16384 }.to_string(),
            "the RSA key has 16384 bits, more than the 4096 bits RFC 8301 requires verifiers to \
             support"
        );
        let (_, spki) = public_key_of_size(4096);
        assert!(PublicKey::from_record_bytes(KeyType::Rsa, &spki).is_ok());
    }

    #[test]
    fn signing_keys_larger_than_verifiers_must_support_are_refused() {
        let big = PrivateKey::from_file_contents(include_bytes!("../testdata/rsa-16384.private"))
            .unwrap();
        assert!(matches!(
            big.check_not_too_large(),
            Err(KeyError::RsaKeyTooLarge { bits: 16384 })
        ));
        assert!(matches!(
            crate::crypto::SigningKey::new(&big),
            Err(KeyError::RsaKeyTooLarge { bits: 16384 })
        ));
        for spec in [KeySpec::Rsa { bits: 1024 }, KeySpec::Ed25519] {
            PrivateKey::generate(spec)
                .unwrap()
                .check_not_too_large()
                .unwrap();
        }
    }

    #[test]
    fn refuses_what_is_not_a_private_key() {
        let public_pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            PrivateKey::from_file_contents(public_pem.as_bytes()),
            Err(KeyError::NotAPrivateKey(tag)) if tag == "PUBLIC KEY"
        ));
        for junk in [&b"hello"[..], b"not a key at all", b"\xff\xfe binary"] {
            assert!(matches!(
                PrivateKey::from_file_contents(junk),
                Err(KeyError::UnrecognisedFormat)
            ));
        }
        assert!(matches!(
            PrivateKey::from_file_contents(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Err(KeyError::MalformedKey(_))
        ));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            PrivateKey::from_file_contents(encrypted.as_bytes()),
            Err(KeyError::EncryptedKey)
        ));
    }

    #[test]
    fn public_key_from_record_bytes() {
        let spki = BASE64.decode(p_of("keys/rsa2048.spki.b64")).unwrap();
        let pkcs1 = BASE64.decode(p_of("keys/rsa2048.pkcs1.b64")).unwrap();
        let a = PublicKey::from_record_bytes(KeyType::Rsa, &spki).unwrap();
        let b = PublicKey::from_record_bytes(KeyType::Rsa, &pkcs1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.bits(), 2048);
        assert!(matches!(
            PublicKey::from_record_bytes(KeyType::Rsa, b"junk"),
            Err(KeyError::BadRsaPublicKey)
        ));
        let mut spki_ed = ED25519_SPKI_PREFIX.to_vec();
        spki_ed.extend_from_slice(&[7; 32]);
        assert!(matches!(
            PublicKey::from_record_bytes(KeyType::Ed25519, &spki_ed),
            Err(KeyError::BadEd25519PublicKey(m)) if m.contains("SubjectPublicKeyInfo")
        ));
    }
}

//! RSA key generation: by aws-lc for the usual sizes, by the `rsa` crate for the rest.
//!
//! Generating an RSA key is almost all prime search, and aws-lc's (OpenSSL's algorithms, with
//! its assembly) is several times faster than the `rsa` crate's: a median 36 ms against 277 ms
//! for 2048 bits, and 0.4 s against 2.1 s for 4096 bits, on the machine of
//! docs/PERFORMANCE.md. aws-lc makes only 2048-, 3072-, 4096- and 8192-bit keys; the other sizes
//! RFC 8301 allows (1024 up to 4096) are rare, and made by the `rsa` crate.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey as _;

use crate::key::KeyError;

/// Generates a two-prime RSA key, public exponent 65537, whose modulus has exactly `bits` bits.
pub(crate) fn generate(bits: usize) -> Result<RsaPrivateKey, KeyError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(KeyError::Rsa),
    };
    let generated = KeyPair::generate(size)
        .and_then(|pair| pair.as_der())
        .map_err(|e| KeyError::Generation(format!("aws-lc: {e}")))?;
    // PKCS#8 is how aws-lc hands the key over; it is the same key the rsa crate then holds.
    RsaPrivateKey::from_pkcs8_der(generated.as_ref())
        .map_err(|e| KeyError::Generation(format!("aws-lc's key does not read back: {e}")))
}

#[cfg(test)]
mod tests {
    use rsa::BigUint;
    use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};

    use super::*;

    #[test]
    fn modulus_has_exactly_the_bits_asked_for_by_either_generator() {
        for bits in [1024, 1025, 2048, 3072] {
            let key = generate(bits).unwrap();
            assert_eq!(key.n().bits(), bits);
            assert_eq!(key.e(), &BigUint::from(65_537u32));
            key.validate().unwrap();
            assert_eq!(key.primes().len(), 2);
        }
    }

    #[test]
    fn two_keys_differ() {
        assert_ne!(generate(2048).unwrap().n(), generate(2048).unwrap().n());
    }
}

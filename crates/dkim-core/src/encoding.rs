//! The two value encodings of RFC 6376: base64 (2.6) as receivers must read it, and
//! DKIM-quoted-printable (2.11), which `n=` and `z=` use.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Base64 as DKIM values carry it: white space anywhere (RFC 6376 3.5 `b=`, 3.6.1 `p=` allow
/// folding), padding optional, stray trailing bits tolerated as other receivers tolerate them.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why base64 text does not decode, in dkimkit's words; offsets count from 0 and skip white
/// space, as the text is read without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// A character outside the base64 alphabet.
    #[error("{} at offset {offset}", shown(*byte))]
    BadCharacter {
        /// Where, without white space.
        offset: usize,
        /// The byte there.
        byte: u8,
    },
    /// A length no base64 text has.
    #[error("it is cut short (base64 comes in groups of 4 characters)")]
    CutShort,
    /// A last character that leaves stray bits.
    #[error("{} at offset {offset}, which cannot end base64 text", shown(*byte))]
    BadLastCharacter {
        /// Where, without white space.
        offset: usize,
        /// The byte there.
        byte: u8,
    },
    /// `=` where padding cannot be.
    #[error("its `=` padding is wrong")]
    BadPadding,
}

/// A byte of text as a person reads it: `character '['`, or what a byte of UTF-8 is not.
fn shown(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("character '{}'", char::from(byte))
    } else if byte.is_ascii() {
        format!("control character 0x{byte:02x}")
    } else {
        "a non-ASCII character".to_owned()
    }
}

impl Base64Error {
    /// The same, without the character itself, for secrets (a TSIG key) that must not be shown;
    /// the position counts from 1, as a person counts.
    pub fn without_characters(&self) -> String {
        match self {
            Base64Error::BadCharacter { offset, .. } => {
                format!("character {} is not a base64 character", offset + 1)
            }
            Base64Error::BadLastCharacter { offset, .. } => {
                format!("character {} cannot end base64 text", offset + 1)
            }
            other => other.to_string(),
        }
    }
}

impl From<base64::DecodeError> for Base64Error {
    fn from(error: base64::DecodeError) -> Self {
        match error {
            base64::DecodeError::InvalidByte(offset, byte) => {
                Base64Error::BadCharacter { offset, byte }
            }
            base64::DecodeError::InvalidLength(_) => Base64Error::CutShort,
            base64::DecodeError::InvalidLastSymbol(offset, byte) => {
                Base64Error::BadLastCharacter { offset, byte }
            }
            base64::DecodeError::InvalidPadding => Base64Error::BadPadding,
        }
    }
}

/// Decodes a base64 tag value, ignoring folding white space.
pub fn decode_base64(value: &str) -> Result<Vec<u8>, Base64Error> {
    let compact: String = value.split_ascii_whitespace().collect();
    Ok(LENIENT.decode(compact)?)
}

/// Encodes bytes as standard padded base64, as DKIM writes it.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// RFC 6376 2.11: bytes other than these are written as `=XX`.
fn is_dkim_safe(byte: u8) -> bool {
    matches!(byte, 0x21..=0x3a | 0x3c | 0x3e..=0x7e)
}

/// Encodes text as DKIM-quoted-printable. Besides the characters RFC 6376 2.11 requires to be
/// encoded, `"` and `\` are too, so the result can go into a zone-file string unescaped.
pub fn encode_dkim_quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if is_dkim_safe(byte) && byte != b'"' && byte != b'\\' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    out
}

/// Decodes DKIM-quoted-printable (RFC 6376 2.11): folding white space is dropped, `=XX` is a
/// byte. A malformed escape is kept as written rather than refused: the only users of the
/// decoded text are people reading notes.
pub fn decode_dkim_quoted_printable(value: &str) -> String {
    let bytes: Vec<u8> = value
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_tolerates_folding_and_missing_padding() {
        assert_eq!(decode_base64("aGVs\r\n bG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64("a*b").is_err());
    }

    #[test]
    fn quoted_printable_round_trips_what_a_note_holds() {
        let note = "key for \"ops\"; rotate=monthly \\ é";
        let encoded = encode_dkim_quoted_printable(note);
        assert_eq!(
            encoded,
            "key=20for=20=22ops=22=3B=20rotate=3Dmonthly=20=5C=20=C3=A9"
        );
        assert!(!encoded.contains([';', ' ', '"', '\\']));
        assert_eq!(decode_dkim_quoted_printable(&encoded), note);
        assert_eq!(decode_dkim_quoted_printable("a=2 0b =4"), "a b=4");
    }
}

//! The DKIM-Signature header field (RFC 6376 3.5): parsed and checked as a verifier must, with
//! the `b=` value removed for hashing (3.7), and written by a signer, folded at 78 columns with
//! `b=` last.

use crate::canonical::{BadCanonicalization, Canonicalization};
use crate::crypto::{SigningAlgorithm, UnknownAlgorithm};
use crate::encoding::{decode_base64, decode_dkim_quoted_printable, encode_base64};
use crate::message::HeaderField;
use crate::tag_list::{TagListError, parse_tag_list};

/// The header field's name.
pub const FIELD_NAME: &str = "DKIM-Signature";

/// Why a DKIM-Signature field is unusable. Each is a permerror (RFC 6376 6.1.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The field is not valid UTF-8 text.
    #[error("the field is not text")]
    NotText,
    /// The tag list is malformed.
    #[error("malformed tag list: {0}")]
    TagList(#[from] TagListError),
    /// A required tag is missing.
    #[error("the {0}= tag is missing")]
    MissingTag(&'static str),
    /// `v=` is not 1.
    #[error("v={0} is not a DKIM signature version this verifier knows")]
    BadVersion(String),
    /// `a=` names no known algorithm.
    #[error("{0}")]
    UnknownAlgorithm(#[from] UnknownAlgorithm),
    /// `c=` is malformed.
    #[error("{0}")]
    BadCanonicalization(#[from] BadCanonicalization),
    /// `b=` or `bh=` is not base64, or empty.
    #[error("{tag}= is not valid base64")]
    BadBase64 {
        /// The tag.
        tag: &'static str,
    },
    /// `d=` or `s=` is not a DNS name.
    #[error("{tag}={value} is not a domain name")]
    BadName {
        /// The tag.
        tag: &'static str,
        /// Its value.
        value: String,
    },
    /// `t=`, `x=` or `l=` is not a number that fits in 64 bits.
    #[error("{tag}={value} is not a number dkimkit can use")]
    BadNumber {
        /// The tag.
        tag: &'static str,
        /// Its value.
        value: String,
    },
    /// `q=` does not offer `dns/txt`.
    #[error("q={0} offers no key query method this verifier knows (dns/txt)")]
    UnknownQueryMethod(String),
    /// `h=` does not sign From (RFC 6376 5.4, 6.1.1).
    #[error("From is not signed (h= must include it)")]
    FromNotSigned,
    /// `i=` is not `d=` or one of its subdomains (RFC 6376 3.5, 6.1.1).
    #[error("i={identity} is not within d={domain}")]
    IdentityNotInDomain {
        /// `i=`.
        identity: String,
        /// `d=`.
        domain: String,
    },
    /// `x=` before `t=` (RFC 6376 3.5).
    #[error("x= is before t=")]
    ExpiresBeforeSigned,
}

/// A parsed DKIM-Signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimSignature {
    /// `a=`.
    pub algorithm: SigningAlgorithm,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `bh=`, decoded.
    pub body_hash: Vec<u8>,
    /// `c=` (default simple/simple).
    pub canonicalization: Canonicalization,
    /// `d=`, lower case.
    pub domain: String,
    /// `h=`, lower case, in order.
    pub signed_headers: Vec<String>,
    /// `i=`, decoded (default `@` and `d=`).
    pub identity: String,
    /// `l=`.
    pub body_length: Option<u64>,
    /// `s=`.
    pub selector: String,
    /// `t=`.
    pub timestamp: Option<u64>,
    /// `x=`.
    pub expiration: Option<u64>,
}

/// Whether `name` can be looked up in DNS: labels of letters, digits, `-` and `_` (real selectors
/// have underscores, which DNS allows), at most 63 bytes each and 253 in all.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `domain` is `parent` or one of its subdomains (both lower case).
pub fn is_same_or_subdomain(domain: &str, parent: &str) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// The domain of an `i=` identity (`[local-part]@domain`), lower case; empty without an `@`.
pub fn identity_domain(identity: &str) -> String {
    identity
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether an `i=` identity is in `d=` or one of its subdomains, as RFC 6376 3.5 requires
/// (`domain` lower case).
pub fn identity_is_within(identity: &str, domain: &str) -> bool {
    is_same_or_subdomain(&identity_domain(identity), domain)
}

impl DkimSignature {
    /// Parses a DKIM-Signature field (its whole text, name included).
    pub fn parse(field: &HeaderField) -> Result<Self, SignatureError> {
        let value = std::str::from_utf8(field.value()).map_err(|_| SignatureError::NotText)?;
        let tags = parse_tag_list(value)?;
        let get = |name: &str| tags.iter().find(|t| t.name == name).map(|t| t.value);
        let required = |name: &'static str| get(name).ok_or(SignatureError::MissingTag(name));
        let base64 = |name: &'static str| {
            decode_base64(required(name)?)
                .ok()
                .filter(|bytes| !bytes.is_empty())
                .ok_or(SignatureError::BadBase64 { tag: name })
        };
        let number = |name: &'static str| {
            get(name)
                .map(|value| {
                    value.parse::<u64>().map_err(|_| SignatureError::BadNumber {
                        tag: name,
                        value: value.to_owned(),
                    })
                })
                .transpose()
        };
        let name = |tag: &'static str| {
            let value = required(tag)?.to_ascii_lowercase();
            let value = value.strip_suffix('.').unwrap_or(&value).to_owned();
            if is_dns_name(&value) {
                Ok(value)
            } else {
                Err(SignatureError::BadName { tag, value })
            }
        };

        let version = required("v")?;
        if version != "1" {
            return Err(SignatureError::BadVersion(version.to_owned()));
        }
        let algorithm: SigningAlgorithm = required("a")?.parse()?;
        let signature = base64("b")?;
        let body_hash = base64("bh")?;
        let canonicalization = get("c").map(str::parse).transpose()?.unwrap_or_default();
        let domain = name("d")?;
        let selector = name("s")?;
        let signed_headers: Vec<String> = required("h")?
            .split(':')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        // RFC 6376 6.1.1: a signature that does not sign From MUST be ignored.
        if !signed_headers.iter().any(|h| h == "from") {
            return Err(SignatureError::FromNotSigned);
        }
        if let Some(query) = get("q")
            && !query
                .split(':')
                .any(|method| method.trim().eq_ignore_ascii_case("dns/txt"))
        {
            return Err(SignatureError::UnknownQueryMethod(query.to_owned()));
        }
        let identity = match get("i") {
            Some(raw) => {
                let identity = decode_dkim_quoted_printable(raw);
                if !identity_is_within(&identity, &domain) {
                    return Err(SignatureError::IdentityNotInDomain {
                        identity,
                        domain: domain.clone(),
                    });
                }
                identity
            }
            None => format!("@{domain}"),
        };
        let timestamp = number("t")?;
        let expiration = number("x")?;
        if let (Some(t), Some(x)) = (timestamp, expiration)
            && x < t
        {
            return Err(SignatureError::ExpiresBeforeSigned);
        }
        Ok(DkimSignature {
            algorithm,
            signature,
            body_hash,
            canonicalization,
            domain,
            signed_headers,
            identity,
            body_length: number("l")?,
            selector,
            timestamp,
            expiration,
        })
    }

    /// Where the key record is published: `SELECTOR._domainkey.DOMAIN` (RFC 6376 3.6.2.1).
    pub fn key_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }
}

/// The field with the value of `b=` deleted, surrounding white space included, as it enters the
/// header hash (RFC 6376 3.7). None when the field has no parsable `b=`.
pub fn without_signature_value(field: &HeaderField) -> Option<HeaderField> {
    let value = std::str::from_utf8(field.value()).ok()?;
    let tags = parse_tag_list(value).ok()?;
    let b = tags.iter().find(|t| t.name == "b")?;
    let value_start = field.raw().len() - field.value().len();
    let mut raw = field.raw()[..value_start + b.raw_value.start].to_vec();
    raw.extend_from_slice(&field.raw()[value_start + b.raw_value.end..]);
    HeaderField::new(raw)
}

/// The lines a signer writes are at most this wide (RFC 5322 2.1.1 recommends 78).
const LINE_WIDTH: usize = 78;
/// A continuation line's indent, and the columns it is counted as.
const INDENT: &str = "\t";
const INDENT_WIDTH: usize = 8;

/// Builds a folded header field, word by word.
struct Folder {
    text: String,
    column: usize,
}

impl Folder {
    fn new(start: &str) -> Self {
        Folder {
            text: start.to_owned(),
            column: start.len(),
        }
    }

    fn new_line(&mut self) {
        self.text.push_str("\r\n");
        self.text.push_str(INDENT);
        self.column = INDENT_WIDTH;
    }

    /// Adds `word`, after a space if `spaced`, on a new line if it does not fit on this one.
    fn push(&mut self, word: &str, spaced: bool) {
        let needed = word.len() + usize::from(spaced);
        if self.column + needed > LINE_WIDTH && self.column > INDENT_WIDTH {
            self.new_line();
        } else if spaced {
            self.text.push(' ');
            self.column += 1;
        }
        self.text.push_str(word);
        self.column += word.len();
    }

    /// Adds `text` that may be broken anywhere (base64), filling each line.
    fn push_breakable(&mut self, mut text: &str) {
        while !text.is_empty() {
            if self.column >= LINE_WIDTH {
                self.new_line();
            }
            let take = text.len().min(LINE_WIDTH - self.column);
            self.text.push_str(&text[..take]);
            self.column += take;
            text = &text[take..];
        }
    }
}

/// What a signer puts in a DKIM-Signature, besides `b=`.
#[derive(Debug, Clone)]
pub struct UnsignedSignature<'a> {
    /// `a=`.
    pub algorithm: SigningAlgorithm,
    /// `c=`.
    pub canonicalization: Canonicalization,
    /// `d=`.
    pub domain: &'a str,
    /// `s=`.
    pub selector: &'a str,
    /// `t=`.
    pub timestamp: u64,
    /// `x=`.
    pub expiration: Option<u64>,
    /// `l=`.
    pub body_length: Option<u64>,
    /// `i=` (written only when given).
    pub identity: Option<&'a str>,
    /// `h=`.
    pub signed_headers: &'a [String],
    /// `bh=`, decoded.
    pub body_hash: &'a [u8],
}

impl UnsignedSignature<'_> {
    /// The field, folded, ending in `b=` with no value: exactly what enters the header hash
    /// (RFC 6376 3.7). Lines end with CRLF; `b=` starts a line of its own.
    pub fn to_field_text(&self) -> String {
        let mut folder = Folder::new(&format!("{FIELD_NAME}:"));
        let mut tags = vec![
            "v=1;".to_owned(),
            format!("a={};", self.algorithm),
            format!("c={};", self.canonicalization),
            format!("d={};", self.domain),
            format!("s={};", self.selector),
            format!("t={};", self.timestamp),
        ];
        tags.extend(self.expiration.map(|x| format!("x={x};")));
        tags.extend(self.body_length.map(|l| format!("l={l};")));
        tags.extend(self.identity.map(|i| format!("i={};", i)));
        for tag in &tags {
            folder.push(tag, true);
        }
        // h= may be longer than a line; RFC 6376 3.5 allows folding after each colon.
        for (i, name) in self.signed_headers.iter().enumerate() {
            let last = i + 1 == self.signed_headers.len();
            let word = match (i, last) {
                (0, true) => format!("h={name};"),
                (0, false) => format!("h={name}:"),
                (_, true) => format!("{name};"),
                (_, false) => format!("{name}:"),
            };
            folder.push(&word, i == 0);
        }
        folder.push(&format!("bh={};", encode_base64(self.body_hash)), true);
        folder.new_line();
        folder.text.push_str("b=");
        folder.text
    }
}

/// The complete field: `unsigned_text` (from [`UnsignedSignature::to_field_text`]) with the
/// signature appended to `b=`, folded to the line width. CRLF line ends, no final CRLF.
pub fn with_signature_value(unsigned_text: &str, signature: &[u8]) -> String {
    let last_line = unsigned_text.rsplit("\r\n").next().unwrap_or(unsigned_text);
    let mut folder = Folder {
        text: unsigned_text.to_owned(),
        column: last_line.len() - INDENT.len() + INDENT_WIDTH,
    };
    folder.push_breakable(&encode_base64(signature));
    folder.text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str) -> HeaderField {
        HeaderField::new(text.replace('\n', "\r\n")).unwrap()
    }

    const RFC_8463_ED25519: &str = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

    #[test]
    fn parses_the_rfc_8463_signature() {
        let signature = DkimSignature::parse(&field(RFC_8463_ED25519)).unwrap();
        assert_eq!(signature.algorithm, SigningAlgorithm::Ed25519Sha256);
        assert_eq!(signature.canonicalization.to_string(), "relaxed/relaxed");
        assert_eq!(signature.domain, "football.example.com");
        assert_eq!(signature.selector, "brisbane");
        assert_eq!(signature.identity, "@football.example.com");
        assert_eq!(
            signature.signed_headers,
            [
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "from",
                "subject",
                "date"
            ]
        );
        assert_eq!(signature.timestamp, Some(1528637909));
        assert_eq!(signature.signature.len(), 64);
        assert_eq!(
            signature.key_name(),
            "brisbane._domainkey.football.example.com"
        );
    }

    #[test]
    fn b_value_and_its_surrounding_space_are_removed_for_hashing() {
        let stripped = without_signature_value(&field(RFC_8463_ED25519)).unwrap();
        let text = String::from_utf8(stripped.raw().to_vec()).unwrap();
        assert!(
            text.ends_with("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b="),
            "{text}"
        );
        let middle = field("DKIM-Signature: a=x; b = abc\n def ; c=y");
        let stripped = without_signature_value(&middle).unwrap();
        // Only what follows "=" goes; the space before it belongs to the tag-spec.
        assert_eq!(stripped.raw(), b"DKIM-Signature: a=x; b =; c=y");
    }

    fn with(tag_list: &str) -> Result<DkimSignature, SignatureError> {
        DkimSignature::parse(&field(&format!("DKIM-Signature: {tag_list}")))
    }

    const OK: &str = "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; bh=AAAA; b=AAAA";

    #[test]
    fn every_refusal_names_its_reason() {
        assert!(with(OK).is_ok());
        let cases: &[(&str, SignatureError)] = &[
            (
                "v=2; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA",
                SignatureError::BadVersion("2".into()),
            ),
            (
                "a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA",
                SignatureError::MissingTag("v"),
            ),
            (
                "v=1; a=rsa-md5; d=a.example; s=s; h=from; bh=AA; b=AA",
                UnknownAlgorithm("rsa-md5".into()).into(),
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=!!",
                SignatureError::BadBase64 { tag: "b" },
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=; b=AA",
                SignatureError::BadBase64 { tag: "bh" },
            ),
            (
                "v=1; a=rsa-sha256; d=a b; s=s; h=from; bh=AA; b=AA",
                SignatureError::BadName {
                    tag: "d",
                    value: "a b".into(),
                },
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=to:subject; bh=AA; b=AA",
                SignatureError::FromNotSigned,
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; t=99999999999999999999",
                SignatureError::BadNumber {
                    tag: "t",
                    value: "99999999999999999999".into(),
                },
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; l=-1",
                SignatureError::BadNumber {
                    tag: "l",
                    value: "-1".into(),
                },
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; t=10; x=5",
                SignatureError::ExpiresBeforeSigned,
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; q=http",
                SignatureError::UnknownQueryMethod("http".into()),
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; i=@evil.example",
                SignatureError::IdentityNotInDomain {
                    identity: "@evil.example".into(),
                    domain: "a.example".into(),
                },
            ),
            (
                "v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AA; b=AA; i=@notexample.com",
                SignatureError::IdentityNotInDomain {
                    identity: "@notexample.com".into(),
                    domain: "example.com".into(),
                },
            ),
            (
                "v=1; v=1; a=rsa-sha256",
                SignatureError::TagList(TagListError::DuplicateTag("v".into())),
            ),
            (
                "v=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=AA; b=AA; c=fancy",
                BadCanonicalization("fancy".into()).into(),
            ),
        ];
        for (tags, expected) in cases {
            assert_eq!(&with(tags).unwrap_err(), expected, "{tags}");
        }
        let subdomain = with(
            "v=1; a=rsa-sha256; d=example.com; s=s; h=From; bh=AA; b=AA; i=joe@mail.example.com",
        )
        .unwrap();
        assert_eq!(subdomain.identity, "joe@mail.example.com");
    }

    #[test]
    fn written_fields_fold_at_78_columns_and_parse_back() {
        let headers: Vec<String> = [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
            "content-transfer-encoding",
            "reply-to",
            "cc",
            "in-reply-to",
            "references",
            "from",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let unsigned = UnsignedSignature {
            algorithm: SigningAlgorithm::RsaSha256,
            canonicalization: "relaxed/relaxed".parse().unwrap(),
            domain: "example.com",
            selector: "202611",
            timestamp: 1_790_000_000,
            expiration: Some(1_790_604_800),
            body_length: Some(1234),
            identity: Some("postmaster@example.com"),
            signed_headers: &headers,
            body_hash: &[7; 32],
        };
        let text = unsigned.to_field_text();
        assert!(text.ends_with("\r\n\tb="), "{text}");
        let signed = with_signature_value(&text, &[9; 256]);
        for line in signed.split("\r\n") {
            let width = line.len()
                + if line.starts_with('\t') {
                    INDENT_WIDTH - 1
                } else {
                    0
                };
            assert!(width <= LINE_WIDTH, "{width}: {line:?}");
        }
        let parsed = DkimSignature::parse(&HeaderField::new(signed.clone()).unwrap()).unwrap();
        assert_eq!(parsed.signed_headers, headers);
        assert_eq!(parsed.signature, vec![9; 256]);
        assert_eq!(parsed.body_length, Some(1234));
        assert_eq!(parsed.expiration, Some(1_790_604_800));
        assert_eq!(parsed.identity, "postmaster@example.com");
        let stripped = without_signature_value(&HeaderField::new(signed).unwrap()).unwrap();
        assert_eq!(stripped.raw(), text.as_bytes());
    }
}

//! Signing: one DKIM-Signature field per key, from one pass over the message.
//!
//! The body is streamed through a single canonicalizer and hasher shared by every key (they share
//! the options), so signing with an RSA and an Ed25519 key costs one read of the body.

use std::io::{self, BufRead, Read};

use crate::canonical::{BodyHash, BodyHasher, Canonicalization};
use crate::crypto::SigningKey;
use crate::header_hash::header_hash_input;
use crate::key::KeyError;
use crate::message::{HeaderField, MessageError, MessageHeader, read_header};
use crate::name::{DomainName, Selector};
use crate::signature::{UnsignedSignature, identity_is_within, with_signature_value};

/// The header fields signed by default when the message has them: RFC 6376 5.4.1's list, and the
/// fields that describe the content (Message-ID, MIME), as dkimpy and opendkim sign them.
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &[
    "from",
    "reply-to",
    "subject",
    "date",
    "to",
    "cc",
    "resent-date",
    "resent-from",
    "resent-to",
    "resent-cc",
    "in-reply-to",
    "references",
    "list-id",
    "list-help",
    "list-unsubscribe",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// Bytes read from the body at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Why a message could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The header section could not be read.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Reading the body failed.
    #[error("cannot read the message body: {0}")]
    Io(#[from] io::Error),
    /// No From field: RFC 6376 5.4 requires signing it, RFC 5322 requires it.
    #[error("the message has no From header field, which a DKIM signature must cover")]
    NoFrom,
    /// `-H` without From.
    #[error("the signed header fields must include From (RFC 6376 5.4)")]
    FromNotInHeaders,
    /// `i=` outside `d=`.
    #[error("identity {identity} is not within the signing domain {domain}")]
    IdentityNotInDomain {
        /// The identity.
        identity: String,
        /// The domain.
        domain: String,
    },
    /// The key failed to sign.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// A key and the name it signs as.
pub struct Signer<'a> {
    /// The prepared key (borrowed: one key signs many messages).
    pub key: &'a SigningKey,
    /// `d=`.
    pub domain: DomainName,
    /// `s=`.
    pub selector: Selector,
    /// `i=`, when given.
    pub identity: Option<String>,
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// `c=`.
    pub canonicalization: Canonicalization,
    /// The header fields to sign, by name; None for [`DEFAULT_SIGNED_HEADERS`].
    pub headers: Option<Vec<String>>,
    /// Header fields to list once more than they occur, besides From (opendkim's
    /// OversignHeaders), so that none can be added.
    pub oversigned: Vec<String>,
    /// `t=`, Unix seconds.
    pub timestamp: u64,
    /// `x=` is `t=` plus this many seconds.
    pub expire_after: Option<u64>,
    /// Write `l=` with the body's length (RFC 6376 8.2 explains the risk).
    pub body_length: bool,
}

/// A signed message's new fields, to put above its header section.
#[derive(Debug)]
pub struct Signatures {
    /// The message's header section as read.
    pub header: MessageHeader,
    /// One DKIM-Signature field per signer, in signer order, with CRLF line ends and no final
    /// CRLF (write them in the message's own style, [`MessageHeader::line_ending`]).
    pub fields: Vec<String>,
}

/// The `h=` list for a message: each named field as many times as the message has it (at least
/// once, so an absent field cannot be added later), and From and the `oversigned` fields once
/// more than they occur (so that no other can be added without breaking the signature).
pub fn signed_header_names(
    header: &MessageHeader,
    names: &[String],
    oversigned: &[String],
) -> Vec<String> {
    let is_oversigned =
        |name: &str| name == "from" || oversigned.iter().any(|o| o.eq_ignore_ascii_case(name));
    let mut list: Vec<String> = Vec::new();
    for name in names.iter().chain(oversigned) {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || list.contains(&name) {
            continue;
        }
        let count = header.fields_named(&name).count();
        let times = if is_oversigned(&name) {
            count + 1
        } else {
            count.max(1)
        };
        list.extend(std::iter::repeat_n(name, times));
    }
    list
}

/// Signs the message `reader` holds, from its first byte, with every signer.
pub fn sign_message(
    reader: &mut impl BufRead,
    signers: &[Signer<'_>],
    options: &SignOptions,
) -> Result<Signatures, SignError> {
    let header = read_header(reader)?;
    sign_with(header, reader, signers, options)
}

/// Signs a message whose header section has been read already (to choose the keys by its From
/// address, say); `body` holds the rest of the message.
pub fn sign_with(
    header: MessageHeader,
    body: &mut impl Read,
    signers: &[Signer<'_>],
    options: &SignOptions,
) -> Result<Signatures, SignError> {
    if header.fields_named("from").next().is_none() {
        return Err(SignError::NoFrom);
    }
    let names: Vec<String> = match &options.headers {
        Some(names) => {
            if !names.iter().any(|n| n.trim().eq_ignore_ascii_case("from")) {
                return Err(SignError::FromNotInHeaders);
            }
            names.clone()
        }
        None => DEFAULT_SIGNED_HEADERS
            .iter()
            .filter(|name| **name == "from" || header.fields_named(name).next().is_some())
            .map(|name| (*name).to_owned())
            .collect(),
    };
    let signed_headers = signed_header_names(&header, &names, &options.oversigned);
    let body_hash = hash_body(body, options.canonicalization)?;
    let fields = signers
        .iter()
        .map(|signer| sign_one(signer, options, &header, &signed_headers, &body_hash))
        .collect::<Result<_, _>>()?;
    Ok(Signatures { header, fields })
}

fn hash_body(reader: &mut impl Read, canonicalization: Canonicalization) -> io::Result<BodyHash> {
    let mut hasher = BodyHasher::new(canonicalization.body, None);
    let mut buffer = vec![0; READ_CHUNK];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finish())
}

fn sign_one(
    signer: &Signer<'_>,
    options: &SignOptions,
    header: &MessageHeader,
    signed_headers: &[String],
    body_hash: &BodyHash,
) -> Result<String, SignError> {
    let domain = signer.domain.as_str().to_ascii_lowercase();
    if let Some(identity) = signer
        .identity
        .as_ref()
        .filter(|identity| !identity_is_within(identity, &domain))
    {
        return Err(SignError::IdentityNotInDomain {
            identity: identity.clone(),
            domain,
        });
    }
    let unsigned = UnsignedSignature {
        algorithm: signer.key.algorithm(),
        canonicalization: options.canonicalization,
        domain: &domain,
        selector: signer.selector.as_str(),
        timestamp: options.timestamp,
        expiration: options
            .expire_after
            .map(|after| options.timestamp.saturating_add(after)),
        body_length: options.body_length.then_some(body_hash.canonical_len),
        identity: signer.identity.as_deref(),
        signed_headers,
        body_hash: &body_hash.digest,
    };
    let text = unsigned.to_field_text();
    let field =
        HeaderField::new(text.clone()).expect("a DKIM-Signature field has a name and colon");
    let data = header_hash_input(
        options.canonicalization.header,
        &header.fields,
        signed_headers,
        &field,
    );
    Ok(with_signature_value(&text, &signer.key.sign(&data)?))
}

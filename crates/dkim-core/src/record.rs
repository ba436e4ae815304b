//! The DKIM key record (RFC 6376 3.6.1): the TXT value published at
//! `SELECTOR._domainkey.DOMAIN`, parsed and checked as receivers read it, and written as a BIND
//! zone-file entry in opendkim-genkey's layout or as the one-line value DNS providers' forms want.

use crate::encoding::{
    decode_base64, decode_dkim_quoted_printable, encode_base64, encode_dkim_quoted_printable,
};
use crate::key::{KeyError, KeyType, PublicKey};
use crate::name::{DomainName, Selector, key_name, relative_key_name};
use crate::tag_list::{TagListError, parse_tag_list};

/// The longest piece of the value put in one quoted string of a zone file. RFC 1035 3.3 allows
/// 255 bytes per character-string; 250 is opendkim-genkey's width, which people recognise.
pub const TXT_STRING_LEN: usize = 250;

/// A hash algorithm a key record's `h=` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256, the only hash RFC 8301 leaves for signing.
    Sha256,
}

impl HashAlgorithm {
    /// The name as `h=` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
        }
    }
}

/// Why a key record, or a value for one, was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The tag list itself is malformed.
    #[error("malformed tag list: {0}")]
    TagList(#[from] TagListError),
    /// `v=` with a value other than `DKIM1` (RFC 6376 3.6.1: the record MUST be discarded).
    #[error("v={0} is not DKIM1")]
    BadVersion(String),
    /// The value starts with a literal quote.
    #[error(
        "the value has literal quotes in it (\"v=DKIM1; ...\"); enter it without the quotes, \
         which belong to zone-file syntax"
    )]
    Quoted,
    /// `v=` present but not first (RFC 6376 3.6.1).
    #[error("v= must be the first tag of the record")]
    VersionNotFirst,
    /// `k=` names a key type this crate does not know.
    #[error("k={0} is not a key type receivers know (rsa or ed25519)")]
    UnknownKeyType(String),
    /// No `p=` tag (RFC 6376 3.6.1: it is required).
    #[error("the record has no p= tag")]
    MissingPublicKey,
    /// `p=` is not base64.
    #[error("p= is not valid base64 ({0})")]
    BadBase64(crate::encoding::Base64Error),
    /// `p=` is empty: the key is revoked (RFC 6376 3.6.1).
    #[error("the key is revoked (empty p=)")]
    Revoked,
    /// `p=` decodes, but not to a key of the record's type.
    #[error("p= does not hold a valid {key_type} public key: {source}")]
    BadPublicKey {
        /// The record's key type.
        key_type: KeyType,
        /// What was wrong with it.
        source: KeyError,
    },
    /// `p=` holds a key the cryptographic library will not verify with.
    #[error(transparent)]
    UnusablePublicKey(KeyError),
    /// SHA-1 asked for in a hash list (RFC 8301 3.1).
    #[error(
        "sha1 is refused: RFC 8301 forbids signing with rsa-sha1 and receivers treat such \
         signatures as failing; use sha256"
    )]
    Sha1Refused,
    /// A hash name that is not sha256.
    #[error("unknown hash algorithm \"{0}\" (DKIM signs with sha256)")]
    UnknownHashAlgorithm(String),
    /// An `h=` or `s=` entry outside the record's grammar (RFC 6376 3.6.1).
    #[error("{tag}= holds \"{entry}\", which is not a name of letters, digits and inner hyphens")]
    BadListEntry {
        /// The tag, `h` or `s`.
        tag: &'static str,
        /// The entry, lower case.
        entry: String,
    },
}

/// Whether `word` is an RFC 6376 `hyphenated-word`: `ALPHA [ *(ALPHA / DIGIT / "-")
/// (ALPHA / DIGIT) ]`, the grammar of every `h=` hash and `s=` service type (3.6.1).
fn is_hyphenated_word(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && !word.ends_with('-')
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a hash list as opendkim-genkey's `-h` takes it: names separated by `:`. The seed
/// guides write `-h rsa-sha256`, which opendkim-genkey copies into an invalid `h=rsa-sha256`;
/// here a signing-algorithm name counts as its hash, so it means `sha256`.
pub fn parse_hash_list(list: &str) -> Result<Vec<HashAlgorithm>, RecordError> {
    let mut algorithms = Vec::new();
    for name in list.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        let lower = name.to_ascii_lowercase();
        let hash = lower
            .strip_prefix("rsa-")
            .or_else(|| lower.strip_prefix("ed25519-"))
            .unwrap_or(&lower);
        let algorithm = match hash {
            "sha256" => HashAlgorithm::Sha256,
            "sha1" => return Err(RecordError::Sha1Refused),
            _ => return Err(RecordError::UnknownHashAlgorithm(name.to_owned())),
        };
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    if algorithms.is_empty() {
        return Err(RecordError::UnknownHashAlgorithm(list.to_owned()));
    }
    Ok(algorithms)
}

/// A DKIM key record (RFC 6376 3.6.1, RFC 8463 4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// `k=`: the key type (default `rsa`).
    pub key_type: KeyType,
    /// `h=`: the hash algorithms the key may be used with, lower case; empty means any.
    pub hash_algorithms: Vec<String>,
    /// `s=`: the service types, lower case; empty means `*` (all).
    pub service_types: Vec<String>,
    /// `t=y`: the domain is testing DKIM; receivers must not treat failures differently.
    pub testing: bool,
    /// `t=s`: `i=` must be in exactly the `d=` domain, not a subdomain.
    pub strict_subdomains: bool,
    /// `n=`: notes for people, decoded.
    pub notes: Option<String>,
    /// `p=`, decoded; empty means the key is revoked.
    pub public_key: Vec<u8>,
}

impl KeyRecord {
    /// A record publishing `key`, with no optional tags.
    pub fn new(key: &PublicKey) -> Self {
        KeyRecord {
            key_type: key.key_type(),
            hash_algorithms: Vec::new(),
            service_types: Vec::new(),
            testing: false,
            strict_subdomains: false,
            notes: None,
            public_key: key.to_record_bytes(),
        }
    }

    /// Parses a record value (the strings of the TXT record, joined without separators, as
    /// RFC 6376 3.6.2.2 says).
    pub fn parse(value: &str) -> Result<Self, RecordError> {
        // A tag list never starts with a quote; a value that does was copied from a zone file,
        // quotes and all, into a DNS provider's form, which adds quotes of its own.
        if value.trim_start().starts_with('"') {
            return Err(RecordError::Quoted);
        }
        let tags = parse_tag_list(value)?;
        if let Some(position) = tags.iter().position(|t| t.name == "v") {
            if position != 0 {
                return Err(RecordError::VersionNotFirst);
            }
            if tags[0].value != "DKIM1" {
                return Err(RecordError::BadVersion(tags[0].value.to_owned()));
            }
        }
        let colon_list = |value: &str| -> Vec<String> {
            value
                .split(':')
                .map(|item| item.trim().to_ascii_lowercase())
                .filter(|item| !item.is_empty())
                .collect()
        };
        // h= and s= are kept, so they must be words of the grammar: a record that is not "MUST"
        // be ignored (RFC 6376 6.1.2, key syntax error), and one kept with any text in them
        // would be written back (to_value) as something no zone file or receiver expects, such
        // as non-ASCII. Found by fuzzing (fuzz/fuzz_targets/key_record.rs).
        let word_list = |tag: &'static str, value: &str| -> Result<Vec<String>, RecordError> {
            let entries = colon_list(value);
            match entries
                .iter()
                .find(|e| !(is_hyphenated_word(e) || (tag == "s" && *e == "*")))
            {
                Some(entry) => Err(RecordError::BadListEntry {
                    tag,
                    entry: entry.clone(),
                }),
                None => Ok(entries),
            }
        };
        let mut record = KeyRecord {
            key_type: KeyType::Rsa,
            hash_algorithms: Vec::new(),
            service_types: Vec::new(),
            testing: false,
            strict_subdomains: false,
            notes: None,
            public_key: Vec::new(),
        };
        let mut saw_public_key = false;
        for tag in tags {
            match tag.name {
                "k" => {
                    record.key_type = tag
                        .value
                        .parse()
                        .map_err(|_| RecordError::UnknownKeyType(tag.value.to_owned()))?;
                }
                "h" => record.hash_algorithms = word_list("h", tag.value)?,
                "s" => record.service_types = word_list("s", tag.value)?,
                "t" => {
                    // RFC 6376 3.6.1: unrecognised flags MUST be ignored.
                    for flag in colon_list(tag.value) {
                        match flag.as_str() {
                            "y" => record.testing = true,
                            "s" => record.strict_subdomains = true,
                            _ => {}
                        }
                    }
                }
                "n" => record.notes = Some(decode_dkim_quoted_printable(tag.value)),
                "p" => {
                    saw_public_key = true;
                    record.public_key = decode_base64(tag.value).map_err(RecordError::BadBase64)?;
                }
                // v= was checked above; RFC 6376 3.6.1: unknown tags MUST be ignored.
                _ => {}
            }
        }
        if !saw_public_key {
            return Err(RecordError::MissingPublicKey);
        }
        Ok(record)
    }

    /// Whether `p=` is empty, which revokes the key (RFC 6376 3.6.1).
    pub fn is_revoked(&self) -> bool {
        self.public_key.is_empty()
    }

    /// The published public key, checked against the record's key type.
    pub fn public_key(&self) -> Result<PublicKey, RecordError> {
        if self.is_revoked() {
            return Err(RecordError::Revoked);
        }
        PublicKey::from_record_bytes(self.key_type, &self.public_key).map_err(|source| {
            RecordError::BadPublicKey {
                key_type: self.key_type,
                source,
            }
        })
    }

    /// Whether `h=` allows sha256 (RFC 6376 3.6.1: absent means all algorithms).
    pub fn allows_sha256(&self) -> bool {
        self.hash_algorithms.is_empty() || self.hash_algorithms.iter().any(|h| h == "sha256")
    }

    /// Whether `s=` allows email (RFC 6376 3.6.1: absent means `*`).
    pub fn allows_email(&self) -> bool {
        self.service_types.is_empty() || self.service_types.iter().any(|s| s == "*" || s == "email")
    }

    /// The record as one line, `v=DKIM1; h=sha256; k=rsa; p=...`: what a DNS provider's web form
    /// takes, and the concatenation of the strings of [`KeyRecord::to_txt_strings`]. The tags come
    /// in opendkim-genkey's order. The result is always ASCII.
    pub fn to_value(&self) -> String {
        let mut tags = vec!["v=DKIM1".to_owned()];
        if let Some(notes) = &self.notes {
            tags.push(format!("n={}", encode_dkim_quoted_printable(notes)));
        }
        if !self.hash_algorithms.is_empty() {
            tags.push(format!("h={}", self.hash_algorithms.join(":")));
        }
        tags.push(format!("k={}", self.key_type));
        let flags: Vec<&str> = [(self.testing, "y"), (self.strict_subdomains, "s")]
            .into_iter()
            .filter_map(|(set, flag)| set.then_some(flag))
            .collect();
        if !flags.is_empty() {
            tags.push(format!("t={}", flags.join(":")));
        }
        if !self.service_types.is_empty() {
            tags.push(format!("s={}", self.service_types.join(":")));
        }
        tags.push(format!("p={}", encode_base64(&self.public_key)));
        tags.join("; ")
    }

    /// The value split into the character-strings of a TXT record (see [`split_txt_value`]).
    pub fn to_txt_strings(&self) -> Vec<String> {
        split_txt_value(&self.to_value())
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}

/// Splits a record value into character-strings of at most [`TXT_STRING_LEN`] bytes, as a TXT
/// record must carry it (RFC 1035 3.3: 255 at most; RFC 6376 3.6.2.2: receivers join them with
/// nothing between). As opendkim-genkey does, the tags before `p=` form the first string and the
/// key starts the next, so the key is easy to find by eye.
pub fn split_txt_value(value: &str) -> Vec<&str> {
    let (head, key) = match value.find("p=") {
        Some(at) if at > 0 => value.split_at(at),
        _ => ("", value),
    };
    let mut strings = Vec::new();
    for mut rest in [head, key] {
        while !rest.is_empty() {
            let mut end = rest.len().min(TXT_STRING_LEN);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let (chunk, tail) = rest.split_at(end);
            strings.push(chunk);
            rest = tail;
        }
    }
    strings
}

/// One change to the TXT records at a name, as key rotation makes them: publish a record value
/// there (the only TXT record the name then holds), or withdraw every TXT record there. The DNS
/// updater (`dkim_core::lookup::DnsUpdater::apply_txt_changes`) and the zone file editor
/// (`dkim_core::lookup::zone_file::apply_zone_file_changes`) take lists of these, so that one run's changes
/// to a zone go in one update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxtChange<'a> {
    /// The owner name, e.g. `SELECTOR._domainkey.DOMAIN` (a final dot is allowed).
    pub name: &'a str,
    /// `Some(value)`: the name's TXT records become this one record (split into
    /// character-strings by [`split_txt_value`]); `None`: they are all removed.
    pub value: Option<&'a str>,
}

/// Quotes one character-string for a zone file (RFC 1035 5.1: `"` and `\` are escaped).
fn zone_quoted(string: &str) -> String {
    let mut out = String::with_capacity(string.len() + 2);
    out.push('"');
    for c in string.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The owner name a zone file entry uses: `SELECTOR._domainkey`, relative to the domain's zone,
/// or with `absolute` (opendkim-genkey's `-a`) `SELECTOR._domainkey.DOMAIN.`.
pub fn zone_owner_name(selector: &Selector, domain: Option<&DomainName>, absolute: bool) -> String {
    match domain {
        Some(domain) if absolute => format!("{}.", key_name(selector, domain)),
        _ => relative_key_name(selector),
    }
}

/// A BIND zone-file entry for a key record, in opendkim-genkey's layout (what `SELECTOR.txt`
/// holds): the strings of [`split_txt_value`] in parentheses, one a line, then a comment naming
/// the key. It loads unchanged with `$INCLUDE` or pasted into the domain's zone.
pub fn format_zone_entry(owner: &str, value: &str, comment: Option<&str>) -> String {
    format_txt_entry(owner, None, value, comment)
}

/// The character-strings of [`split_txt_value`], each quoted for a zone file or nsupdate.
pub fn quoted_txt_strings(value: &str) -> Vec<String> {
    split_txt_value(value)
        .into_iter()
        .map(zone_quoted)
        .collect()
}

/// A zone-file entry as [`format_zone_entry`] writes it, with a TTL when `ttl` is given.
pub fn format_txt_entry(
    owner: &str,
    ttl: Option<u32>,
    value: &str,
    comment: Option<&str>,
) -> String {
    let strings = quoted_txt_strings(value);
    let ttl = ttl.map(|ttl| format!("{ttl}\t")).unwrap_or_default();
    let mut entry = format!("{owner}\t{ttl}IN\tTXT\t( {} )", strings.join("\n\t  "));
    if let Some(comment) = comment {
        entry.push_str("  ; ");
        entry.push_str(comment);
    }
    entry.push('\n');
    entry
}

/// The record value in a zone-file entry such as SELECTOR.txt: its quoted strings joined with
/// nothing between (RFC 6376 3.6.2.2), comments after `;` ignored. Text with no quoted string is
/// taken as a bare value (what a DNS provider's form shows), trimmed.
pub fn value_from_zone_text(text: &str) -> String {
    let mut value = String::new();
    let mut quoted = false;
    let mut found_quote = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') => {
                quoted = true;
                found_quote = true;
            }
            (false, ';') => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            (true, '"') => quoted = false,
            (true, '\\') => value.extend(chars.next()),
            (true, c) => value.push(c),
            (false, _) => {}
        }
    }
    if found_quote {
        value
    } else {
        text.trim().to_owned()
    }
}

/// Whether a file's contents are a key record (SELECTOR.txt as genkey writes it, or a bare
/// value) rather than a private key: the usual mix-up when a key file is asked for.
pub fn is_key_record_text(contents: &[u8]) -> bool {
    std::str::from_utf8(contents).is_ok_and(|text| {
        !text.contains("-----BEGIN ")
            && (text.contains("v=DKIM1") || KeyRecord::parse(&value_from_zone_text(text)).is_ok())
    })
}

/// The comment opendkim-genkey puts after the record: `----- DKIM key SELECTOR for DOMAIN`.
pub fn zone_entry_comment(selector: &Selector, domain: Option<&DomainName>) -> String {
    match domain {
        Some(domain) => format!("----- DKIM key {selector} for {domain}"),
        None => format!("----- DKIM key {selector}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeySpec, PrivateKey};

    #[test]
    fn parses_the_rfc_8463_records() {
        let rsa = KeyRecord::parse("v=DKIM1; g=*; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB").unwrap();
        assert_eq!(rsa.key_type, KeyType::Rsa);
        assert_eq!(rsa.public_key().unwrap().bits(), 1024);
        assert!(rsa.allows_sha256() && rsa.allows_email() && !rsa.testing);

        let ed =
            KeyRecord::parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
                .unwrap();
        assert_eq!(ed.key_type, KeyType::Ed25519);
        assert_eq!(ed.public_key().unwrap().bits(), 256);
    }

    #[test]
    fn reads_optional_tags_and_ignores_unknown_ones() {
        let record = KeyRecord::parse(
            "v=DKIM1; h=sha1 : SHA256; k=rsa; t=y:s:x; s=email; n=hello=20there; zz=1; p=",
        )
        .unwrap();
        assert_eq!(record.hash_algorithms, ["sha1", "sha256"]);
        assert!(record.testing && record.strict_subdomains);
        assert_eq!(record.service_types, ["email"]);
        assert_eq!(record.notes.as_deref(), Some("hello there"));
        assert!(record.is_revoked());
        assert!(matches!(record.public_key(), Err(RecordError::Revoked)));

        let sha1_only = KeyRecord::parse("h=sha1; p=").unwrap();
        assert!(!sha1_only.allows_sha256());
        let not_email = KeyRecord::parse("s=other; p=").unwrap();
        assert!(!not_email.allows_email());
    }

    #[test]
    fn refuses_what_receivers_must_discard() {
        assert!(matches!(
            KeyRecord::parse("v=DKIM2; p="),
            Err(RecordError::BadVersion(v)) if v == "DKIM2"
        ));
        assert!(matches!(
            KeyRecord::parse("k=rsa; v=DKIM1; p="),
            Err(RecordError::VersionNotFirst)
        ));
        assert!(matches!(
            KeyRecord::parse("v=DKIM1; k=dsa; p="),
            Err(RecordError::UnknownKeyType(k)) if k == "dsa"
        ));
        assert!(matches!(
            KeyRecord::parse("v=DKIM1; k=rsa"),
            Err(RecordError::MissingPublicKey)
        ));
        assert!(matches!(
            KeyRecord::parse("v=DKIM1; p=!!!"),
            Err(RecordError::BadBase64(
                crate::encoding::Base64Error::BadCharacter { .. }
            ))
        ));
        assert_eq!(
            KeyRecord::parse("v=DKIM1; p=AAAA[AAA")
                .unwrap_err()
                .to_string(),
            "p= is not valid base64 (character '[' at offset 4)"
        );
        assert!(matches!(
            KeyRecord::parse("\"v=DKIM1; p=AAAA\""),
            Err(RecordError::Quoted)
        ));
        assert!(matches!(
            KeyRecord::parse("v=DKIM1; p=AAAA; p=BBBB"),
            Err(RecordError::TagList(TagListError::DuplicateTag(_)))
        ));
        assert!(matches!(
            KeyRecord::parse("v=DKIM1; p=AAAA").unwrap().public_key(),
            Err(RecordError::BadPublicKey { .. })
        ));
    }

    #[test]
    fn hash_list_as_the_seed_guides_write_it() {
        assert_eq!(
            parse_hash_list("rsa-sha256").unwrap(),
            [HashAlgorithm::Sha256]
        );
        assert_eq!(
            parse_hash_list("sha256:ed25519-sha256").unwrap(),
            [HashAlgorithm::Sha256]
        );
        assert!(matches!(
            parse_hash_list("sha1:sha256"),
            Err(RecordError::Sha1Refused)
        ));
        assert!(matches!(
            parse_hash_list("rsa-sha1"),
            Err(RecordError::Sha1Refused)
        ));
        assert!(matches!(
            parse_hash_list("md5"),
            Err(RecordError::UnknownHashAlgorithm(h)) if h == "md5"
        ));
    }

    #[test]
    fn value_in_opendkim_genkey_order_round_trips() {
        let key = PrivateKey::generate(KeySpec::Ed25519).unwrap().public_key();
        let mut record = KeyRecord::new(&key);
        record.hash_algorithms = vec!["sha256".into()];
        record.testing = true;
        record.strict_subdomains = true;
        record.service_types = vec!["email".into()];
        record.notes = Some("ops; rotate".into());
        let value = record.to_value();
        assert_eq!(
            value,
            format!(
                "v=DKIM1; n=ops=3B=20rotate; h=sha256; k=ed25519; t=y:s; s=email; p={}",
                key.to_record_base64()
            )
        );
        assert_eq!(KeyRecord::parse(&value).unwrap(), record);
    }

    #[test]
    fn every_string_fits_and_the_strings_join_to_the_value() {
        for bits in [1024, 2048, 3072, 4096] {
            let key = PrivateKey::generate(KeySpec::Rsa { bits })
                .unwrap()
                .public_key();
            let mut record = KeyRecord::new(&key);
            record.notes = Some("n".repeat(300));
            let value = record.to_value();
            let strings = split_txt_value(&value);
            assert!(
                strings.iter().all(|s| !s.is_empty() && s.len() <= 255),
                "{bits}"
            );
            assert_eq!(strings.concat(), value);
            assert!(
                strings.iter().any(|s| s.starts_with("p=")),
                "key starts a string"
            );
        }
    }

    #[test]
    fn value_from_zone_text_reads_what_format_zone_entry_writes() {
        let value = format!("v=DKIM1; n=a=22b; k=rsa; p={}", "B".repeat(400));
        let entry = format_zone_entry("s._domainkey", &value, Some("----- DKIM key s; \"quoted\""));
        assert_eq!(value_from_zone_text(&entry), value);
        assert_eq!(value_from_zone_text("  v=DKIM1; p=AB\n"), "v=DKIM1; p=AB");
        assert_eq!(value_from_zone_text(r#"x TXT "a\"b" "c""#), "a\"bc");
    }

    #[test]
    fn zone_entry_layout_matches_opendkim_genkey() {
        let selector: Selector = "202611".parse().unwrap();
        let domain: DomainName = "example.com".parse().unwrap();
        let value = format!("v=DKIM1; h=sha256; k=rsa; p={}", "A".repeat(300));
        let entry = format_zone_entry(
            &zone_owner_name(&selector, Some(&domain), false),
            &value,
            Some(&zone_entry_comment(&selector, Some(&domain))),
        );
        let expected = format!(
            "202611._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; \"\n\t  \"p={}\"\n\t  \"{}\" )  ; ----- DKIM key 202611 for example.com\n",
            "A".repeat(248),
            "A".repeat(52)
        );
        assert_eq!(entry, expected);
        assert_eq!(
            zone_owner_name(&selector, Some(&domain), true),
            "202611._domainkey.example.com."
        );
        assert_eq!(zone_quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}

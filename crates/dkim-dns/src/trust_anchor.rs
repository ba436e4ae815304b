//! Trust anchors given as text (`--trust-anchor FILE`): the DNSKEY or DS records validation
//! starts from (RFC 4033 3, RFC 4035 4.4).
//!
//! An anchor may be for any zone, not only the root: a zone's own KSK (dnssec-keygen's `K*.key`)
//! lets its own authoritative server be checked without a path from the root.

use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DS};
use hickory_resolver::proto::dnssec::{Algorithm, DigestType, PublicKey as _, PublicKeyBuf};
use hickory_resolver::proto::rr::Name;

use dkim_core::encoding::decode_base64;

/// Words that only occur in named.conf's key statements, which people may pass by mistake
/// (/etc/bind/bind.keys is in that syntax).
const NAMED_CONF_WORDS: [&str; 7] = [
    "trust-anchors",
    "managed-keys",
    "trusted-keys",
    "initial-key",
    "static-key",
    "initial-ds",
    "static-ds",
];

/// Why trust anchor text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustAnchorError {
    /// The text does not parse as zone-file records.
    #[error("not valid zone-file text: {0}")]
    Syntax(String),
    /// The text is a named.conf key statement.
    #[error(
        "it is in named.conf syntax (it says {0}); give the records in zone-file syntax \
         instead, such as a K*.key file, `. IN DS 20326 8 2 E06D44B8...` or the contents of \
         /usr/share/dns/root.key"
    )]
    NamedConfSyntax(&'static str),
    /// A record that is neither DNSKEY nor DS.
    #[error("it may hold DNSKEY and DS records only, not {record_type} (at {name})")]
    UnsupportedRecord {
        /// The record's owner name.
        name: String,
        /// Its type.
        record_type: String,
    },
    /// A DNSKEY without the Zone Key flag, which can never sign a zone (RFC 4034 2.1.1).
    #[error(
        "the DNSKEY for {0} is not a zone key (its flags lack the Zone Key bit, RFC 4034 2.1.1)"
    )]
    NotAZoneKey(String),
    /// No DNSKEY or DS record at all.
    #[error(
        "no DNSKEY or DS record in it; give the zone's key as dnssec-keygen's K*.key file or \
         `dig DNSKEY` output holds it"
    )]
    Empty,
}

/// The records of a trust anchor, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnchorRecords {
    /// Keys trusted as they are.
    keys: Vec<(Name, DNSKEY)>,
    /// Digests of keys to trust once fetched.
    digests: Vec<(Name, DS)>,
}

impl AnchorRecords {
    /// Parses DNSKEY and DS records in zone-file syntax (RFC 1035 5.1, RFC 4034 2.2 and 5.3):
    /// `OWNER [TTL] [CLASS] TYPE RDATA`, comments after `;`, parentheses across lines. Owner
    /// names are relative to the root; TTLs are ignored (an anchor does not expire); RRSIG
    /// records and `$TTL` lines, as in pasted `dig +dnssec` output or zone files, are skipped.
    ///
    /// hickory's own zone-file parser refuses DNSKEY and DS text, hence this small one.
    pub(crate) fn parse(text: &str) -> Result<AnchorRecords, TrustAnchorError> {
        if let Some(word) = NAMED_CONF_WORDS.into_iter().find(|w| text.contains(w)) {
            return Err(TrustAnchorError::NamedConfSyntax(word));
        }
        let mut anchor = AnchorRecords {
            keys: Vec::new(),
            digests: Vec::new(),
        };
        for (line, tokens) in zone_records(text)? {
            let syntax = |what: &str| TrustAnchorError::Syntax(format!("line {line}: {what}"));
            let Some((owner, rest)) = tokens.split_first() else {
                continue;
            };
            if owner.starts_with('$') {
                if owner.eq_ignore_ascii_case("$TTL") {
                    continue;
                }
                return Err(syntax(&format!(
                    "the {owner} directive is not supported here"
                )));
            }
            let mut owner = Name::from_ascii(owner)
                .map_err(|e| syntax(&format!("bad owner name {owner:?}: {e}")))?;
            owner.set_fqdn(true);
            let rest: Vec<&str> = rest
                .iter()
                .copied()
                .skip_while(|t| {
                    t.bytes().all(|b| b.is_ascii_digit()) || t.eq_ignore_ascii_case("IN")
                })
                .collect();
            let Some((record_type, data)) = rest.split_first() else {
                return Err(syntax("a record type is missing"));
            };
            match record_type.to_ascii_uppercase().as_str() {
                "DNSKEY" => {
                    let key = parse_dnskey(data).map_err(|what| syntax(&what))?;
                    if !key.zone_key() {
                        return Err(TrustAnchorError::NotAZoneKey(owner.to_string()));
                    }
                    anchor.keys.push((owner, key));
                }
                "DS" => {
                    let digest = parse_ds(data).map_err(|what| syntax(&what))?;
                    anchor.digests.push((owner, digest));
                }
                "RRSIG" => {}
                other => {
                    return Err(TrustAnchorError::UnsupportedRecord {
                        name: owner.to_string(),
                        record_type: other.to_owned(),
                    });
                }
            }
        }
        if anchor.keys.is_empty() && anchor.digests.is_empty() {
            return Err(TrustAnchorError::Empty);
        }
        Ok(anchor)
    }

    /// Whether the anchor names keys of `zone`: validation starts there, whatever its parent
    /// says (RFC 4035 4.4).
    pub(crate) fn covers(&self, zone: &Name) -> bool {
        self.keys.iter().any(|(owner, _)| owner == zone)
            || self.digests.iter().any(|(owner, _)| owner == zone)
    }

    /// Whether `key`, found at `zone`, is a key the anchor trusts: a DNSKEY anchor of the zone
    /// with the same public key, or one a DS anchor of the zone digests (RFC 4034 5.1.4). A DS
    /// anchor names a key by its digest, so the key itself comes from the zone, and the digest is
    /// what vouches for it, as a parent's DS vouches for a child's key.
    pub(crate) fn trusts(&self, zone: &Name, key: &DNSKEY) -> bool {
        self.keys.iter().any(|(owner, anchor)| {
            owner == zone
                && anchor.public_key().public_bytes() == key.public_key().public_bytes()
                && anchor.public_key().algorithm() == key.public_key().algorithm()
        }) || self
            .digests
            .iter()
            .any(|(owner, digest)| owner == zone && digest.covers(zone, key).unwrap_or(false))
    }
}

/// The records of zone-file text, each as its line number and tokens: comments dropped,
/// parenthesised groups joined across lines (RFC 1035 5.1).
fn zone_records(text: &str) -> Result<Vec<(usize, Vec<&str>)>, TrustAnchorError> {
    let mut records = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    let mut depth = 0usize;
    for (index, line) in text.lines().enumerate() {
        let content = line.split(';').next().unwrap_or_default();
        let (_, tokens) = current.get_or_insert_with(|| (index + 1, Vec::new()));
        for piece in content.split_ascii_whitespace() {
            for token in piece.split_inclusive(['(', ')']) {
                let word = token.trim_end_matches(['(', ')']);
                if !word.is_empty() {
                    tokens.push(word);
                }
                if token.ends_with('(') {
                    depth += 1;
                } else if token.ends_with(')') {
                    depth = depth.checked_sub(1).ok_or_else(|| {
                        TrustAnchorError::Syntax(format!("line {}: unbalanced ')'", index + 1))
                    })?;
                }
            }
        }
        if depth == 0
            && let Some(record) = current.take().filter(|(_, tokens)| !tokens.is_empty())
        {
            records.push(record);
        }
    }
    if depth != 0 {
        return Err(TrustAnchorError::Syntax("a '(' is never closed".to_owned()));
    }
    Ok(records)
}

/// DNSKEY data: flags, protocol (always 3), algorithm, base64 key (RFC 4034 2.2).
fn parse_dnskey(data: &[&str]) -> Result<DNSKEY, String> {
    let [flags, protocol, algorithm, key @ ..] = data else {
        return Err("a DNSKEY record needs flags, protocol, algorithm and key".to_owned());
    };
    if key.is_empty() {
        return Err("a DNSKEY record needs flags, protocol, algorithm and key".to_owned());
    }
    let flags: u16 = flags
        .parse()
        .map_err(|_| format!("bad DNSKEY flags {flags:?}"))?;
    if *protocol != "3" {
        return Err(format!(
            "DNSKEY protocol is {protocol}, but must be 3 (RFC 4034 2.1.2)"
        ));
    }
    let algorithm = parse_algorithm(algorithm)?;
    let key =
        decode_base64(&key.concat()).map_err(|e| format!("the DNSKEY key is not base64: {e}"))?;
    Ok(DNSKEY::with_flags(flags, PublicKeyBuf::new(key, algorithm)))
}

/// DS data: key tag, algorithm, digest type, hexadecimal digest (RFC 4034 5.3).
fn parse_ds(data: &[&str]) -> Result<DS, String> {
    let [key_tag, algorithm, digest_type, digest @ ..] = data else {
        return Err("a DS record needs key tag, algorithm, digest type and digest".to_owned());
    };
    if digest.is_empty() {
        return Err("a DS record needs key tag, algorithm, digest type and digest".to_owned());
    }
    let key_tag: u16 = key_tag
        .parse()
        .map_err(|_| format!("bad DS key tag {key_tag:?}"))?;
    let algorithm = parse_algorithm(algorithm)?;
    let digest_type: u8 = digest_type
        .parse()
        .map_err(|_| format!("bad DS digest type {digest_type:?}"))?;
    let digest = decode_hex(&digest.concat())
        .ok_or_else(|| "the DS digest is not hexadecimal".to_owned())?;
    Ok(DS::new(
        key_tag,
        algorithm,
        DigestType::from(digest_type),
        digest,
    ))
}

/// A DNSSEC algorithm number (RFC 4034 A.1); mnemonics are not accepted.
fn parse_algorithm(text: &str) -> Result<Algorithm, String> {
    text.parse::<u8>()
        .map(Algorithm::from_u8)
        .map_err(|_| format!("bad algorithm {text:?} (expected its number, such as 8 or 13)"))
}

/// Hexadecimal digits (an even number of them) as bytes.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real KSK and its DS, made with dnssec-keygen and dnssec-dsfromkey.
    const KSK: &str = "example.com. IN DNSKEY 257 3 13 YaF17ROvqULR+zePLEPITQHYVNxrrqaZYmidGFrEZTujKiIR3I0y+Wsg SArby/YW6uABqMuGjULgPxr541KYhw==";
    const KSK_DS: &str = "example.com. IN DS 54621 13 2 B17EBAA6162887CFFAFF9B50F2E558C2170932AF8F6192B907FBC01C D3596A8B";
    const ZSK: &str = "example.com. IN DNSKEY 256 3 13 89Xi30LAEuQD18Q40h5E0J+NNulNbtqNDCRdYGt0rAbaP0xrYMgjKfP7 LNXvrloSuGHwlhhqYaAcR9nVW25pGA==";

    fn key_of(text: &str) -> (Name, DNSKEY) {
        AnchorRecords::parse(text).unwrap().keys.remove(0)
    }

    #[test]
    fn reads_keys_and_digests_with_comments_and_parentheses() {
        let text = format!(
            "; This is a key-signing key, keyid 54621, for example.com.\n{KSK}\n\
             example.com. 3600 IN DS ( 54621 13 2\n B17EBAA6162887CFFAFF9B50F2E558C2170932AF8F6192B907FBC01C\n D3596A8B )\n"
        );
        let anchor = AnchorRecords::parse(&text).unwrap();
        assert_eq!(anchor.keys.len(), 1);
        assert_eq!(anchor.digests.len(), 1);
        assert!(anchor.covers(&Name::from_ascii("example.com.").unwrap()));
        assert!(!anchor.covers(&Name::root()));
    }

    /// What dnssec-keygen (K*.key), `dig DNSKEY` and unbound-anchor (root.key, with its
    /// autotrust comments) write: comments, TTLs, classes, RRSIGs alongside.
    #[test]
    fn reads_what_the_tools_write() {
        let keygen = format!(
            "; This is a key-signing key, keyid 54621, for example.com.\n\
             ; Created: 20261204000000 (Fri Dec  4 00:00:00 2026)\n{KSK}\n"
        );
        let dig = format!(
            "; <<>> DiG 9.18 <<>> DNSKEY example.com\n;; ANSWER SECTION:\n\
             {}\n{}\nexample.com. 300 IN RRSIG DNSKEY 13 2 300 20270101000000 \
             20261201000000 54621 example.com. AAAA\n",
            KSK.replace(" IN ", "\t300\tIN\t"),
            ZSK.replace(" IN ", " 300 IN ")
        );
        let unbound = format!(
            "; autotrust trust anchor file\n;;id: example.com. 1\n\
             {} ;{{id = 54621 (ksk), size = 256b}} ;;state=2 [  VALID  ] ;;count=0\n",
            KSK.replace(" IN ", " 172800 IN ")
        );
        let zone = Name::from_ascii("example.com.").unwrap();
        let (_, ksk) = key_of(KSK);
        for text in [keygen, dig, unbound] {
            let anchor = AnchorRecords::parse(&text).unwrap();
            assert!(anchor.trusts(&zone, &ksk), "{text}");
        }
    }

    #[test]
    fn a_digest_picks_its_key_among_the_zone_keys() {
        let anchor = AnchorRecords::parse(KSK_DS).unwrap();
        let (zone, ksk) = key_of(KSK);
        let (_, zsk) = key_of(ZSK);
        assert!(anchor.trusts(&zone, &ksk));
        assert!(!anchor.trusts(&zone, &zsk));
        assert!(!anchor.trusts(&Name::from_ascii("example.net.").unwrap(), &ksk));
        let by_key = AnchorRecords::parse(KSK).unwrap();
        assert!(by_key.trusts(&zone, &ksk));
        assert!(!by_key.trusts(&zone, &zsk));
    }

    #[test]
    fn refuses_what_is_not_an_anchor() {
        assert_eq!(
            AnchorRecords::parse("; nothing\n"),
            Err(TrustAnchorError::Empty)
        );
        assert!(matches!(
            AnchorRecords::parse("example.com. IN TXT \"hello\""),
            Err(TrustAnchorError::UnsupportedRecord { record_type, .. }) if record_type == "TXT"
        ));
        assert!(matches!(
            AnchorRecords::parse("example.com. IN DNSKEY 256 3 13 not-base64!"),
            Err(TrustAnchorError::Syntax(message)) if message.contains("line 1")
        ));
        assert!(matches!(
            AnchorRecords::parse("; first\n. IN DS 20326 8 2 E06D4 4B"),
            Err(TrustAnchorError::Syntax(message)) if message.contains("line 2")
        ));
        assert!(matches!(
            AnchorRecords::parse(". IN DS ( 20326 8 2"),
            Err(TrustAnchorError::Syntax(_))
        ));
        assert!(matches!(
            AnchorRecords::parse(". IN DNSKEY 257 2 8 AwEAAa"),
            Err(TrustAnchorError::Syntax(message)) if message.contains("must be 3")
        ));
        assert_eq!(
            AnchorRecords::parse("trust-anchors { . initial-key 257 3 8 \"AwEAAa\"; };"),
            Err(TrustAnchorError::NamedConfSyntax("trust-anchors"))
        );
        assert!(matches!(
            AnchorRecords::parse(
                "example.com. IN DNSKEY 0 3 13 89Xi30LAEuQD18Q40h5E0J+NNulNbtqNDCRdYGt0rAbaP0xrYMgjKfP7 LNXvrloSuGHwlhhqYaAcR9nVW25pGA=="
            ),
            Err(TrustAnchorError::NotAZoneKey(_))
        ));
    }

    /// The DNS root's trust anchors as Debian's dns-root-data ships them (root.ds, as IANA
    /// publishes them, and root.key): each DS must digest its DNSKEY exactly.
    #[test]
    fn the_real_root_anchors_match_each_other() {
        const ROOT_DS: &str = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n";
        const ROOT_KEYS: &str = "; /usr/share/dns/root.key, folded\n. IN DNSKEY 257 3 8 (\n\
        AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq\n\
        7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnI\n\
        DdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb\n\
        9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTId\n\
        sIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qih\n\
        ylGa8subX2Nn6UwNR1AkUTV74bU= ) ; keytag 20326\n\
. IN DNSKEY 257 3 8 (\n\
        AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyG\n\
        wCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8\n\
        e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/\n\
        dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGO\n\
        HOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2\n\
        vaF18UYH9Z9GNUUeayffKC73PYc= ) ; keytag 38696\n";
        let digests = AnchorRecords::parse(ROOT_DS).unwrap();
        assert!(digests.covers(&Name::root()));
        let keys = AnchorRecords::parse(ROOT_KEYS).unwrap();
        assert_eq!(keys.keys.len(), 2);
        let built_in = hickory_resolver::proto::dnssec::TrustAnchors::default();
        for (owner, key) in &keys.keys {
            assert!(digests.trusts(owner, key));
            assert!(built_in.contains(key.public_key()));
        }
    }
}

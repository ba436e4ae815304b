//! From a From: address to the keys opendkim signs with: the SigningTable picks key names, the
//! KeyTable turns each into a domain, selector and key file, with `%` filled in as opendkim fills
//! it in (`dkimf_apply_signtable()` and `dkimf_add_signrequest()` in opendkim.c).

use std::path::{Path, PathBuf};

use super::address::SenderAddress;
use super::keytable::{KeyDomain, KeySource, KeyTable};
use super::signingtable::{MultipleSignatures, SigningTable};
use dkim_core::name::{DomainName, NameError, Selector};

/// One signature to add: what opendkim would sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningChoice {
    /// The KeyTable key name; `None` for the single key of Domain / Selector / KeyFile.
    pub key_name: Option<String>,
    /// The signing domain (`d=`).
    pub domain: DomainName,
    /// The selector (`s=`).
    pub selector: Selector,
    /// The private key file, `%` replaced.
    pub key_path: PathBuf,
    /// The signer identity (`i=`), when one is configured and opendkim would keep it.
    pub signer: Option<String>,
}

/// Why the keys for an address could not be worked out. opendkim itself adds no signature at
/// all in these cases (the message is temporarily refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The SigningTable names a key the KeyTable does not define (opendkim logs "signing table
    /// references unknown key").
    #[error(
        "SigningTable line {signing_table_line} names key \"{key_name}\", which the KeyTable \
         does not define (key names are case-sensitive)"
    )]
    UnknownKey {
        /// The key name, `%` replaced.
        key_name: String,
        /// The SigningTable line that names it.
        signing_table_line: usize,
    },
    /// The KeyTable holds the private key itself, which dkimkit does not read.
    #[error(
        "KeyTable line {key_table_line}: key \"{key_name}\" holds the private key itself; \
         dkimkit only reads keys from files (a path starting with /, ./ or ../)"
    )]
    InlineKey {
        /// The key name.
        key_name: String,
        /// Its KeyTable line.
        key_table_line: usize,
    },
    /// The signing domain would be the From: domain, which is not a domain name.
    #[error("the sender's domain \"{domain}\" cannot be a signing domain: {source}")]
    BadSenderDomain {
        /// The domain.
        domain: String,
        /// What is wrong with it.
        source: NameError,
    },
    /// A signer without `@` (libopendkim: "syntax error in signer value", and no signature).
    #[error(
        "SigningTable line {signing_table_line}: signer \"{signer}\" is not an address \
         (no '@'); opendkim adds no signature"
    )]
    BadSigner {
        /// The signer, `%` replaced.
        signer: String,
        /// The SigningTable line that names it.
        signing_table_line: usize,
    },
}

/// The From: domain (or a parent of it) as a signing domain.
pub(crate) fn signing_domain(domain: &str) -> Result<DomainName, ResolveError> {
    domain
        .parse()
        .map_err(|source| ResolveError::BadSenderDomain {
            domain: domain.to_owned(),
            source,
        })
}

/// The key path opendkim opens: in a path that starts with `/`, every `%` becomes the signing
/// domain; `./` and `../` paths are used as written (`dkimf_add_signrequest()` in opendkim.c).
fn key_path_for(path: &Path, domain: &DomainName) -> PathBuf {
    match path.to_str() {
        Some(text) if text.starts_with('/') => PathBuf::from(text.replace('%', domain.as_str())),
        _ => path.to_owned(),
    }
}

/// The signer opendkim puts in `i=`: none when it is not in the signing domain or one of its
/// subdomains (opendkim.conf(5), SigningTable: "the i= value will not be included in the
/// signature if it conflicts with the signing domain").
fn signer_within(signer: &str, domain: &DomainName) -> bool {
    let signer_domain = signer.rsplit_once('@').map_or(signer, |(_, d)| d);
    let domain = domain.as_str();
    signer_domain.eq_ignore_ascii_case(domain)
        || signer_domain.len() > domain.len()
            && signer_domain[signer_domain.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && signer_domain.as_bytes()[signer_domain.len() - domain.len() - 1] == b'.'
}

/// The signatures opendkim adds to mail from `address`, in order, with a KeyTable and a
/// SigningTable. An error for any key means opendkim adds none.
pub fn resolve_signing_keys(
    key_table: &KeyTable,
    signing_table: &SigningTable,
    address: &SenderAddress,
    multiple: MultipleSignatures,
) -> Result<Vec<SigningChoice>, ResolveError> {
    signing_table
        .signing_keys(address, multiple)
        .into_iter()
        .map(|found| {
            let (key_line, entry) =
                key_table
                    .lookup(found.key_name)
                    .ok_or_else(|| ResolveError::UnknownKey {
                        key_name: found.key_name.to_owned(),
                        signing_table_line: found.line,
                    })?;
            let domain = match &entry.domain {
                KeyDomain::Named(domain) => domain.clone(),
                KeyDomain::FromSigningAddress => signing_domain(address.domain())?,
            };
            let key_path = match &entry.key {
                KeySource::File(path) => key_path_for(path, &domain),
                KeySource::Inline => {
                    return Err(ResolveError::InlineKey {
                        key_name: found.key_name.to_owned(),
                        key_table_line: key_line,
                    });
                }
            };
            if let Some(signer) = found.signer.as_ref().filter(|s| !s.contains('@')) {
                return Err(ResolveError::BadSigner {
                    signer: signer.clone(),
                    signing_table_line: found.line,
                });
            }
            Ok(SigningChoice {
                key_name: Some(found.key_name.to_owned()),
                selector: entry.selector.clone(),
                key_path,
                signer: found.signer.filter(|s| signer_within(s, &domain)),
                domain,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataSetKind;

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/tables/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn tables() -> (KeyTable, SigningTable) {
        (
            KeyTable::parse(&fixture("key.table"), DataSetKind::File).unwrap(),
            SigningTable::parse(&fixture("signing.table.resolve"), DataSetKind::Refile).unwrap(),
        )
    }

    fn resolve(
        from: &str,
        multiple: MultipleSignatures,
    ) -> Result<Vec<SigningChoice>, ResolveError> {
        let (keys, signing) = tables();
        resolve_signing_keys(&keys, &signing, &from.parse().unwrap(), multiple)
    }

    fn summary(keys: &[SigningChoice]) -> Vec<(String, String, String)> {
        keys.iter()
            .map(|k| {
                (
                    k.domain.to_string(),
                    k.selector.to_string(),
                    k.key_path.display().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn resolves_the_setup_guide_example() {
        let keys = resolve("alice@example.com", MultipleSignatures::Off).unwrap();
        assert_eq!(
            summary(&keys),
            [(
                "example.com".into(),
                "default".into(),
                "/etc/opendkim/keys/example.com/default.private".into()
            )]
        );
        assert_eq!(
            keys[0].key_name.as_deref(),
            Some("default._domainkey.example.com")
        );
        assert_eq!(keys[0].signer, None);
    }

    #[test]
    fn percent_becomes_the_sender_domain_in_domain_and_path() {
        let keys = resolve("bob@Example.ORG", MultipleSignatures::Off).unwrap();
        assert_eq!(
            summary(&keys),
            [(
                "example.org".into(),
                "mail".into(),
                "/etc/opendkim/keys/example.org/mail.private".into()
            )]
        );
    }

    #[test]
    fn multiple_signatures_resolve_every_match_in_order() {
        let keys = resolve("alice@example.com", MultipleSignatures::On).unwrap();
        assert_eq!(
            summary(&keys),
            [
                (
                    "example.com".into(),
                    "default".into(),
                    "/etc/opendkim/keys/example.com/default.private".into()
                ),
                (
                    "example.com".into(),
                    "mail".into(),
                    "/etc/opendkim/keys/example.com/mail.private".into()
                ),
            ]
        );
    }

    #[test]
    fn a_key_missing_from_the_key_table_is_an_error_naming_the_line() {
        let err = resolve("ghost@example.net", MultipleSignatures::Off).unwrap_err();
        assert_eq!(
            err,
            ResolveError::UnknownKey {
                key_name: "Mail._domainkey.example.net".into(),
                signing_table_line: 5
            }
        );
        assert!(err.to_string().contains("line 5"), "{err}");
        assert!(
            resolve("nobody@example.info", MultipleSignatures::On)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn signers_are_kept_only_within_the_signing_domain() {
        let keys = resolve("news@example.com", MultipleSignatures::Off).unwrap();
        assert_eq!(keys[0].signer.as_deref(), Some("@lists.example.com"));
        let keys = resolve("news@example.net", MultipleSignatures::Off).unwrap();
        assert_eq!(
            keys[0].signer, None,
            "@example.com is not within example.net"
        );
        let err = resolve("bad@example.com", MultipleSignatures::Off).unwrap_err();
        assert!(
            matches!(
                err,
                ResolveError::BadSigner {
                    signing_table_line: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn relative_paths_keep_their_percent() {
        let keys = KeyTable::parse("k %:s:./keys/%.private\n", DataSetKind::File).unwrap();
        let signing = SigningTable::parse("* k\n", DataSetKind::Refile).unwrap();
        let found = resolve_signing_keys(
            &keys,
            &signing,
            &"a@example.com".parse().unwrap(),
            MultipleSignatures::Off,
        )
        .unwrap();
        assert_eq!(found[0].key_path, Path::new("./keys/%.private"));
    }

    #[test]
    fn inline_keys_and_bad_sender_domains_are_reported() {
        let keys = KeyTable::parse(&fixture("key.table.inline"), DataSetKind::File).unwrap();
        let signing =
            SigningTable::parse("*@example.com inline\n* any\n", DataSetKind::Refile).unwrap();
        let err = resolve_signing_keys(
            &keys,
            &signing,
            &"a@example.com".parse().unwrap(),
            MultipleSignatures::Off,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ResolveError::InlineKey {
                key_name: "inline".into(),
                key_table_line: 2
            }
        );
        let keys = KeyTable::parse("any %:s:/k\n", DataSetKind::File).unwrap();
        let err = resolve_signing_keys(
            &keys,
            &signing,
            &"a@localhost".parse().unwrap(),
            MultipleSignatures::Off,
        )
        .unwrap_err();
        assert!(matches!(err, ResolveError::BadSenderDomain { .. }), "{err}");
    }

    #[test]
    fn signer_domains_match_whole_labels() {
        let d: DomainName = "example.com".parse().unwrap();
        assert!(signer_within("@example.com", &d));
        assert!(signer_within("a@Sub.EXAMPLE.com", &d));
        assert!(!signer_within("a@notexample.com", &d));
        assert!(!signer_within("a@example.com.", &d));
        assert!(!signer_within("a@com", &d));
    }
}

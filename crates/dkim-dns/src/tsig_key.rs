//! The TSIG key (RFC 8945) that signs DNS updates, read from the file BIND's `tsig-keygen`
//! writes.
//!
//! Publishing key records by DNS UPDATE needs the shared secret the zone's primary server
//! checks. Mail administrators already have it in BIND's own syntax (`tsig-keygen NAME` prints
//! `key "NAME" { algorithm hmac-sha256; secret "..."; };` and named.conf includes that file), so
//! that is the format read here, with the same file usable by `nsupdate -k`.
//!
//! Algorithms: hmac-sha256, hmac-sha384 and hmac-sha512 are accepted. hmac-md5 and hmac-sha1 are
//! refused, with a reason: RFC 8945 6 says HMAC-MD5 MUST NOT be used and HMAC-SHA1 is NOT
//! RECOMMENDED, hickory (which signs the messages) implements neither, and a new key is one
//! `tsig-keygen` away. Truncated MACs (`hmac-sha256-128` and the like) are refused too: hickory
//! does not support them.
//!
//! The secret is kept in memory that is wiped on drop, and never printed: not by `Debug`, not in
//! any error message (a broken base64 secret is reported by position, never by content).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use hickory_resolver::proto::rr::rdata::tsig::TsigAlgorithm as HickoryTsigAlgorithm;
use hickory_resolver::proto::rr::{Name, TSigner};
use zeroize::Zeroizing;

use super::key_file::{KeyStatement, Located, key_statements};
use super::names::{display_name, query_name};
use dkim_core::encoding::decode_base64;
use dkim_core::lookup::comparable_name;

/// How far apart (seconds) our clock and the server's may be for a signature to count: the
/// value RFC 8945 10 recommends, and what BIND's nsupdate uses.
pub(crate) const TSIG_FUDGE: u16 = 300;

/// The MAC algorithms dkimkit signs with (RFC 8945 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TsigAlgorithm {
    /// HMAC-SHA256, what `tsig-keygen` makes by default.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl TsigAlgorithm {
    /// The name BIND and RFC 8945 6 give it: `hmac-sha256`, `hmac-sha384` or `hmac-sha512`.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm named `name` in a key statement, or why it is refused.
    fn from_config(name: &str) -> Result<TsigAlgorithm, &'static str> {
        match name.to_ascii_lowercase().as_str() {
            "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
            "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
            "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
            "hmac-md5" | "hmac-md5.sig-alg.reg.int" => Err(
                "HMAC-MD5 must not be used any more (RFC 8945 6), and dkimkit cannot sign with it; \
                 make a new key with `tsig-keygen -a hmac-sha256 NAME`",
            ),
            "hmac-sha1" => Err(
                "HMAC-SHA1 is not recommended any more (RFC 8945 6), and dkimkit cannot sign with \
                 it; make a new key with `tsig-keygen -a hmac-sha256 NAME`",
            ),
            "hmac-sha224" => Err(
                "dkimkit signs with hmac-sha256, hmac-sha384 or hmac-sha512 only; make a new key \
                 with `tsig-keygen -a hmac-sha256 NAME`",
            ),
            // BIND's names for MACs truncated to the given number of bits (RFC 8945 5.2.4).
            "hmac-sha1-80" | "hmac-sha224-112" | "hmac-sha256-128" | "hmac-sha384-192"
            | "hmac-sha512-256" => Err(
                "truncated MACs are not supported; use the full-length algorithm (or make a new \
                 key with `tsig-keygen -a hmac-sha256 NAME`)",
            ),
            _ => Err(
                "it is not a TSIG algorithm (dkimkit knows hmac-sha256, hmac-sha384 and \
                 hmac-sha512)",
            ),
        }
    }

    fn hickory(self) -> HickoryTsigAlgorithm {
        match self {
            TsigAlgorithm::HmacSha256 => HickoryTsigAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => HickoryTsigAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => HickoryTsigAlgorithm::HmacSha512,
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TSIG key: its name, algorithm and shared secret.
#[derive(Clone)]
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithm,
    secret: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name())
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl TsigKey {
    /// Reads the key from `text` in BIND's syntax, as `tsig-keygen NAME` writes it. With
    /// `wanted`, the key of that name (compared as DNS names: case and a trailing dot do not
    /// matter); without, the only key in the text. Other statements (`options`, `zone`, ...) are
    /// stepped over, so a named.conf fragment that holds the key reads too.
    pub fn parse(text: &str, wanted: Option<&str>) -> Result<TsigKey, TsigKeyParseError> {
        let statements = key_statements(text)?;
        let statement = choose(&statements, wanted)?;
        TsigKey::from_statement(statement)
    }

    /// Reads the key from the file at `path`, as [`TsigKey::parse`] reads text.
    pub fn from_file(path: &Path, wanted: Option<&str>) -> Result<TsigKey, TsigKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TsigKeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        TsigKey::parse(&text, wanted).map_err(|source| TsigKeyError::Invalid {
            path: path.to_owned(),
            source,
        })
    }

    /// The key's name, lower case, without trailing dot (TSIG compares key names as DNS names,
    /// RFC 8945 4.2).
    pub fn name(&self) -> String {
        display_name(&self.name)
    }

    /// The MAC algorithm.
    pub fn algorithm(&self) -> TsigAlgorithm {
        self.algorithm
    }

    /// hickory's signer for this key, allowing [`TSIG_FUDGE`] seconds of clock difference.
    /// (hickory keeps its own copy of the secret, which it does not wipe.)
    pub(crate) fn signer(&self) -> Result<TSigner, String> {
        TSigner::new(
            self.secret.to_vec(),
            self.algorithm.hickory(),
            self.name.clone(),
            TSIG_FUDGE,
        )
        .map_err(|e| e.to_string())
    }

    fn from_statement(statement: &KeyStatement) -> Result<TsigKey, TsigKeyParseError> {
        let key = statement.name.text.clone();
        let line = statement.name.line;
        let name = query_name(&key).map_err(|reason| TsigKeyParseError::BadKeyName {
            line,
            key: key.clone(),
            reason,
        })?;
        let Some(algorithm) = &statement.algorithm else {
            return Err(TsigKeyParseError::MissingAlgorithm { line, key });
        };
        let algorithm = TsigAlgorithm::from_config(&algorithm.text).map_err(|reason| {
            TsigKeyParseError::RefusedAlgorithm {
                line: algorithm.line,
                key: key.clone(),
                algorithm: algorithm.text.clone(),
                reason,
            }
        })?;
        let Some(secret) = &statement.secret else {
            return Err(TsigKeyParseError::MissingSecret { line, key });
        };
        let secret = decode_secret(secret).map_err(|reason| TsigKeyParseError::BadSecret {
            line: secret.line,
            key,
            reason,
        })?;
        Ok(TsigKey {
            // Lower case again after parsing: an escape such as `\073` makes an upper-case
            // letter that the text's lower-casing did not see, and name() promises lower case
            // (DNS names compare without regard to case). Found by fuzzing (tsig_key target).
            name: name.to_lowercase(),
            algorithm,
            secret,
        })
    }
}

/// The statement to use: the one named `wanted`, or the only one.
fn choose<'a>(
    statements: &'a [KeyStatement],
    wanted: Option<&str>,
) -> Result<&'a KeyStatement, TsigKeyParseError> {
    let names = || statements.iter().map(|s| s.name.text.clone()).collect();
    match (wanted, statements) {
        (_, []) => Err(TsigKeyParseError::NoKey),
        (None, [only]) => Ok(only),
        (None, _) => Err(TsigKeyParseError::SeveralKeys { found: names() }),
        (Some(wanted), _) => {
            let wanted_name = comparable_name(wanted);
            let mut matching = statements
                .iter()
                .filter(|s| comparable_name(&s.name.text) == wanted_name);
            match (matching.next(), matching.next()) {
                (Some(found), None) => Ok(found),
                (Some(first), Some(second)) => Err(TsigKeyParseError::DuplicateKey {
                    key: second.name.text.clone(),
                    first_line: first.name.line,
                    line: second.name.line,
                }),
                (None, _) => Err(TsigKeyParseError::KeyNotFound {
                    wanted: wanted.to_owned(),
                    found: names(),
                }),
            }
        }
    }
}

/// The secret's bytes, or why its base64 is broken, in words that do not repeat any of it.
fn decode_secret(secret: &Located) -> Result<Zeroizing<Vec<u8>>, String> {
    let bytes =
        Zeroizing::new(decode_base64(&secret.text).map_err(|error| error.without_characters())?);
    if bytes.is_empty() {
        return Err("it is empty".to_owned());
    }
    Ok(bytes)
}

/// What is wrong with the text of a TSIG key file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsigKeyParseError {
    /// The text is not BIND configuration syntax.
    #[error("line {line}: {detail}")]
    Syntax {
        /// The line at fault, from 1.
        line: usize,
        /// What is wrong there.
        detail: String,
    },
    /// No `key` statement at all.
    #[error(
        "no key statement found (expected `key \"NAME\" {{ algorithm hmac-sha256; secret \
         \"BASE64\"; }};` as tsig-keygen writes it)"
    )]
    NoKey,
    /// No key of the name asked for.
    #[error("no key \"{wanted}\" here (the keys here: {})", quoted_list(found))]
    KeyNotFound {
        /// The name asked for.
        wanted: String,
        /// The names of the keys that are there.
        found: Vec<String>,
    },
    /// Several keys, and no name to choose one by.
    #[error("several keys here ({}): say which one to use", quoted_list(found))]
    SeveralKeys {
        /// Their names.
        found: Vec<String>,
    },
    /// The key asked for is defined twice (named refuses such a configuration too).
    #[error("line {line}: key \"{key}\" is defined a second time (first at line {first_line})")]
    DuplicateKey {
        /// The key's name.
        key: String,
        /// The line of the first definition.
        first_line: usize,
        /// The line of the second.
        line: usize,
    },
    /// The key's name is not a DNS name.
    #[error("line {line}: key name \"{key}\" is not a valid DNS name: {reason}")]
    BadKeyName {
        /// The line of the key statement.
        line: usize,
        /// The name as written.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No `algorithm` clause.
    #[error(
        "line {line}: key \"{key}\" has no algorithm (tsig-keygen writes `algorithm hmac-sha256;`)"
    )]
    MissingAlgorithm {
        /// The line of the key statement.
        line: usize,
        /// The key's name.
        key: String,
    },
    /// An algorithm dkimkit does not sign with.
    #[error("line {line}: key \"{key}\": algorithm {algorithm} is refused: {reason}")]
    RefusedAlgorithm {
        /// The line of the `algorithm` clause.
        line: usize,
        /// The key's name.
        key: String,
        /// The algorithm as written.
        algorithm: String,
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// No `secret` clause.
    #[error("line {line}: key \"{key}\" has no secret (tsig-keygen writes `secret \"BASE64\";`)")]
    MissingSecret {
        /// The line of the key statement.
        line: usize,
        /// The key's name.
        key: String,
    },
    /// The secret is not base64, or empty.
    #[error("line {line}: key \"{key}\": the secret is not valid base64: {reason}")]
    BadSecret {
        /// The line of the `secret` clause.
        line: usize,
        /// The key's name.
        key: String,
        /// What is wrong, without any of the secret.
        reason: String,
    },
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a TSIG key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsigKeyError {
    /// The file could not be read (or is not UTF-8).
    #[error("cannot read TSIG key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file's text is wrong.
    #[error("TSIG key file {}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        source: TsigKeyParseError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "3NrmFBdE/SQhTgJ6uBtcHNLQtO1JPJb6bpvVOzC3oaI=";

    fn key_text(name: &str, algorithm: &str) -> String {
        format!("key \"{name}\" {{\n\talgorithm {algorithm};\n\tsecret \"{SECRET}\";\n}};\n")
    }

    fn error(text: &str, wanted: Option<&str>) -> TsigKeyParseError {
        TsigKey::parse(text, wanted).unwrap_err()
    }

    #[test]
    fn reads_tsig_keygen_output() {
        let key =
            TsigKey::parse(&key_text("Dkim-Update.example.com.", "hmac-sha256"), None).unwrap();
        assert_eq!(key.name(), "dkim-update.example.com");
        assert_eq!(key.algorithm(), TsigAlgorithm::HmacSha256);
        assert_eq!(key.secret.len(), 32);
        assert!(key.signer().is_ok());
        for (written, algorithm) in [
            ("hmac-sha384", TsigAlgorithm::HmacSha384),
            ("HMAC-SHA512", TsigAlgorithm::HmacSha512),
        ] {
            let key = TsigKey::parse(&key_text("k", written), None).unwrap();
            assert_eq!(key.algorithm(), algorithm);
            assert_eq!(key.algorithm().to_string(), written.to_ascii_lowercase());
        }
    }

    #[test]
    fn unquoted_names_and_comments() {
        let text = format!(
            "# tsig-keygen -a hmac-sha512 dkim\n/* rotation */ key dkim {{ // the key\n\
             algorithm hmac-sha512; # strong\n secret \"{SECRET}\"; }};\n"
        );
        let key = TsigKey::parse(&text, None).unwrap();
        assert_eq!(key.name(), "dkim");
        assert_eq!(key.algorithm(), TsigAlgorithm::HmacSha512);
    }

    #[test]
    fn several_keys_take_the_one_named() {
        let text = format!(
            "{}{}",
            key_text("rndc-key", "hmac-sha256"),
            key_text("dkim", "hmac-sha384")
        );
        let key = TsigKey::parse(&text, Some("DKIM.")).unwrap();
        assert_eq!(key.name(), "dkim");
        assert_eq!(key.algorithm(), TsigAlgorithm::HmacSha384);
        assert_eq!(
            error(&text, None),
            TsigKeyParseError::SeveralKeys {
                found: vec!["rndc-key".into(), "dkim".into()]
            }
        );
        assert_eq!(
            error(&text, Some("other")),
            TsigKeyParseError::KeyNotFound {
                wanted: "other".into(),
                found: vec!["rndc-key".into(), "dkim".into()]
            }
        );
        let twice = format!(
            "{}{}",
            key_text("dkim", "hmac-sha256"),
            key_text("dkim", "hmac-sha256")
        );
        assert_eq!(
            error(&twice, Some("dkim")),
            TsigKeyParseError::DuplicateKey {
                key: "dkim".into(),
                first_line: 1,
                line: 5
            }
        );
    }

    #[test]
    fn refuses_weak_and_unknown_algorithms() {
        for algorithm in [
            "hmac-md5",
            "HMAC-SHA1",
            "hmac-sha224",
            "hmac-sha256-128",
            "rot13",
        ] {
            assert!(
                matches!(
                    error(&key_text("k", algorithm), None),
                    TsigKeyParseError::RefusedAlgorithm { line: 2, algorithm: refused, .. }
                        if refused == algorithm
                ),
                "{algorithm}"
            );
        }
        let md5 = error(&key_text("k", "hmac-md5"), None).to_string();
        assert!(
            md5.starts_with("line 2: key \"k\": algorithm hmac-md5 is refused: "),
            "{md5}"
        );
    }

    #[test]
    fn missing_and_broken_parts() {
        assert_eq!(
            error("key \"k\" {\n algorithm hmac-sha256;\n};\n", None),
            TsigKeyParseError::MissingSecret {
                line: 1,
                key: "k".into()
            }
        );
        assert_eq!(
            error(&format!("\nkey \"k\" {{ secret \"{SECRET}\"; }};"), None),
            TsigKeyParseError::MissingAlgorithm {
                line: 2,
                key: "k".into()
            }
        );
        let bad_secret = |text: &str| match error(text, None) {
            TsigKeyParseError::BadSecret { line, key, reason } if key == "k" => (line, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad_secret("key \"k\" {\n algorithm hmac-sha256;\n secret \"3NrmFBdE/SQh!gJ6\";\n};"),
            (3, "character 13 is not a base64 character".into())
        );
        assert_eq!(
            bad_secret("key \"k\" { algorithm hmac-sha256; secret \"3NrmF\"; };").0,
            1
        );
        assert_eq!(
            bad_secret("key \"k\" { algorithm hmac-sha256; secret \"\"; };"),
            (1, "it is empty".into())
        );
        assert!(matches!(
            error(
                "key \"a b\" { algorithm hmac-sha256; secret \"YQ==\"; };",
                None
            ),
            TsigKeyParseError::BadKeyName { line: 1, key, .. } if key == "a b"
        ));
        assert_eq!(error("# nothing\n", None), TsigKeyParseError::NoKey);
    }

    #[test]
    fn only_the_chosen_key_must_be_usable() {
        let text = format!(
            "{}{}",
            key_text("old", "hmac-md5"),
            key_text("new", "hmac-sha256")
        );
        assert_eq!(TsigKey::parse(&text, Some("new")).unwrap().name(), "new");
    }

    #[test]
    fn the_secret_is_never_shown() {
        let key = TsigKey::parse(&key_text("k", "hmac-sha256"), None).unwrap();
        let debug = format!("{key:?}");
        assert_eq!(
            debug,
            "TsigKey { name: \"k\", algorithm: HmacSha256, secret: \"<redacted>\" }"
        );
        let broken = error(
            "key k { algorithm hmac-sha256; secret \"TOPSECRET!\"; };",
            None,
        )
        .to_string();
        assert!(!broken.contains("TOPSECRET"), "{broken}");
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dkim.key");
        let missing = TsigKey::from_file(&path, None).unwrap_err();
        assert!(matches!(missing, TsigKeyError::Read { .. }));
        assert!(
            missing
                .to_string()
                .starts_with(&format!("cannot read TSIG key file {}: ", path.display())),
            "{missing}"
        );
        std::fs::write(&path, "key \"k\" { algorithm hmac-sha256; };\n").unwrap();
        let invalid = TsigKey::from_file(&path, None).unwrap_err();
        assert!(matches!(
            &invalid,
            TsigKeyError::Invalid {
                source: TsigKeyParseError::MissingSecret { line: 1, .. },
                ..
            }
        ));
        assert!(
            invalid
                .to_string()
                .starts_with(&format!("TSIG key file {}: line 1: ", path.display())),
            "{invalid}"
        );
        std::fs::write(&path, key_text("k", "hmac-sha256")).unwrap();
        assert_eq!(TsigKey::from_file(&path, Some("k")).unwrap().name(), "k");
    }
}

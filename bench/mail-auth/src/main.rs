//! Measures mail-auth (Stalwart's DKIM library) signing and verifying DKIM over a corpus of
//! messages, in one process and on one thread, so its figures can stand beside dkimkit's.
//!
//! ```text
//! mail-auth-bench sign   --key FILE --domain D --selector S --headers A:B:... --out DIR CORPUS_DIR
//! mail-auth-bench verify --record NAME=VALUE [--record NAME=VALUE ...] CORPUS_DIR
//! ```
//!
//! Prints one line of JSON on stdout. Exit codes: 0 all good, 1 a message failed to sign or
//! verify (after the JSON), 2 bad input or an I/O error.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use mail_auth::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256};
use mail_auth::dkim::{DkimSigner, DomainKey};
use mail_auth::dns::{ToFqdn, TxtRecordParser};
use mail_auth::headers::HeaderWriter;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, DnsCache, MessageAuthenticator, NoCache, Parameters,
    ResolverCache, TxtRecord,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// The mail-auth release this was built against; Cargo.toml pins it with `=`.
const MAIL_AUTH_VERSION: &str = "0.15.1";

const USAGE: &str = "usage:
  mail-auth-bench sign   --key FILE --domain D --selector S --headers A:B:... --out DIR CORPUS_DIR
  mail-auth-bench verify --record NAME=VALUE [--record NAME=VALUE ...] CORPUS_DIR";

/// An error on the user's side (arguments, files, keys): reported as-is, exit code 2.
struct UsageError(String);

impl<T: Into<String>> From<T> for UsageError {
    fn from(message: T) -> Self {
        UsageError(message.into())
    }
}

enum Command {
    Sign {
        key_file: PathBuf,
        domain: String,
        selector: String,
        /// The header fields to sign: bench/compare gives every tool the same list.
        headers: Vec<String>,
        out_dir: PathBuf,
        corpus_dir: PathBuf,
    },
    Verify {
        /// (DNS name, TXT value) pairs, in command-line order.
        records: Vec<(String, String)>,
        corpus_dir: PathBuf,
    },
}

/// One message of the corpus, read whole before any timing starts.
struct CorpusMessage {
    file_name: OsString,
    bytes: Vec<u8>,
}

/// What the timed loop measured; printed as the one line of JSON.
struct Report {
    operation: &'static str,
    algorithm: Option<&'static str>,
    messages: usize,
    bytes: usize,
    seconds: f64,
    passed: usize,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let outcome = parse_args(args).and_then(|command| match command {
        Command::Sign {
            key_file,
            domain,
            selector,
            headers,
            out_dir,
            corpus_dir,
        } => run_sign(&key_file, domain, selector, headers, &out_dir, &corpus_dir),
        Command::Verify {
            records,
            corpus_dir,
        } => run_verify(&records, &corpus_dir),
    });
    match outcome {
        Ok(all_passed) => {
            if all_passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(UsageError(message)) => {
            eprintln!("mail-auth-bench: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let operation = args.next().ok_or(USAGE)?;
    let mut key_file = None;
    let mut domain = None;
    let mut selector = None;
    let mut out_dir = None;
    let mut headers: Option<Vec<String>> = None;
    let mut records = Vec::new();
    let mut corpus_dir: Option<PathBuf> = None;

    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|arg| format!("argument is not valid UTF-8: {arg:?}"))?;
        let mut value_of = |flag: &str| {
            args.next()
                .ok_or_else(|| UsageError(format!("{flag} needs a value\n{USAGE}")))
        };
        match arg.as_str() {
            "--key" => key_file = Some(PathBuf::from(value_of("--key")?)),
            "--domain" => domain = Some(utf8(value_of("--domain")?, "--domain")?),
            "--selector" => selector = Some(utf8(value_of("--selector")?, "--selector")?),
            "--out" => out_dir = Some(PathBuf::from(value_of("--out")?)),
            "--headers" => {
                let list = utf8(value_of("--headers")?, "--headers")?;
                headers = Some(list.split(':').map(str::to_string).collect());
            }
            "--record" => {
                let record = utf8(value_of("--record")?, "--record")?;
                // DNS names hold no '=', so the first one ends the name; the TXT value has many.
                let (name, value) = record
                    .split_once('=')
                    .filter(|(name, _)| !name.is_empty())
                    .ok_or_else(|| format!("--record wants NAME=VALUE, got {record:?}"))?;
                records.push((name.to_string(), value.to_string()));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}").into());
            }
            _ if corpus_dir.is_some() => {
                return Err(format!("only one CORPUS_DIR may be given\n{USAGE}").into());
            }
            _ => corpus_dir = Some(PathBuf::from(arg)),
        }
    }

    let corpus_dir = corpus_dir.ok_or_else(|| format!("CORPUS_DIR is missing\n{USAGE}"))?;
    let missing = |flag: &str| UsageError(format!("{flag} is required\n{USAGE}"));
    match operation.to_str() {
        Some("sign") => {
            if !records.is_empty() {
                return Err(format!("--record is for verify only\n{USAGE}").into());
            }
            Ok(Command::Sign {
                key_file: key_file.ok_or_else(|| missing("--key"))?,
                domain: domain.ok_or_else(|| missing("--domain"))?,
                selector: selector.ok_or_else(|| missing("--selector"))?,
                headers: headers.ok_or_else(|| missing("--headers"))?,
                out_dir: out_dir.ok_or_else(|| missing("--out"))?,
                corpus_dir,
            })
        }
        Some("verify") => {
            if key_file.is_some()
                || domain.is_some()
                || selector.is_some()
                || out_dir.is_some()
                || headers.is_some()
            {
                return Err(format!(
                    "--key, --domain, --selector, --headers and --out are for sign only\n{USAGE}"
                )
                .into());
            }
            if records.is_empty() {
                return Err(missing("--record"));
            }
            Ok(Command::Verify {
                records,
                corpus_dir,
            })
        }
        _ => Err(format!("unknown operation {operation:?}\n{USAGE}").into()),
    }
}

fn utf8(value: OsString, flag: &str) -> Result<String, UsageError> {
    value
        .into_string()
        .map_err(|value| format!("{flag} value is not valid UTF-8: {value:?}").into())
}

/// Reads every regular file in `dir`, sorted by name, so file I/O stays outside the clock.
fn read_corpus(dir: &Path) -> Result<Vec<CorpusMessage>, UsageError> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    let mut messages = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
        let path = entry.path();
        // metadata() follows symlinks, so a link to a message file counts as one.
        let is_file = std::fs::metadata(&path).is_ok_and(|meta| meta.is_file());
        if !is_file {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        messages.push(CorpusMessage {
            file_name: entry.file_name(),
            bytes,
        });
    }
    if messages.is_empty() {
        return Err(format!("no message files in {}", dir.display()).into());
    }
    messages.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(messages)
}

/// Loads a key as `dkimkit genkey` writes it: RSA in PKCS#1 or PKCS#8 PEM, Ed25519 in PKCS#8 PEM.
fn load_signing_key(key_file: &Path) -> Result<DkimKey, UsageError> {
    let pem = std::fs::read(key_file)
        .map_err(|err| format!("cannot read key {}: {err}", key_file.display()))?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|err| {
        format!(
            "{}: no PKCS#1 or PKCS#8 private key PEM found ({err})",
            key_file.display()
        )
    })?;
    let bad_key =
        |err: mail_auth::Error| UsageError(format!("{}: unusable key: {err}", key_file.display()));
    match der {
        PrivateKeyDer::Pkcs8(pkcs8) if is_ed25519_pkcs8(pkcs8.secret_pkcs8_der()) => {
            // "maybe_unchecked" accepts PKCS#8 v1 (seed only, 48 bytes), which is what
            // dkimkit and openssl write; the checked loader wants v2 with the public key.
            Ed25519Key::from_pkcs8_maybe_unchecked_der(pkcs8.secret_pkcs8_der())
                .map(DkimKey::from)
                .map_err(bad_key)
        }
        PrivateKeyDer::Pkcs1(_) | PrivateKeyDer::Pkcs8(_) => RsaKey::<Sha256>::from_key_der(der)
            .map(DkimKey::from)
            .map_err(bad_key),
        _ => Err(format!("{}: SEC1 (EC) keys are not DKIM keys", key_file.display()).into()),
    }
}

/// True when the PKCS#8 AlgorithmIdentifier is id-Ed25519 (OID 1.3.101.112). Looking at the
/// OID rather than the 48-byte length also accepts v2 documents that carry the public key.
fn is_ed25519_pkcs8(der: &[u8]) -> bool {
    const ED25519_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
    // The OID sits within the first 16 bytes: SEQUENCE, version INTEGER, SEQUENCE, OID.
    der.get(..16)
        .unwrap_or(der)
        .windows(ED25519_OID.len())
        .any(|window| window == ED25519_OID)
}

fn run_sign(
    key_file: &Path,
    domain: String,
    selector: String,
    headers: Vec<String>,
    out_dir: &Path,
    corpus_dir: &Path,
) -> Result<bool, UsageError> {
    let key = load_signing_key(key_file)?;
    let algorithm = match key {
        DkimKey::Ed25519(_) => "ed25519-sha256",
        _ => "rsa-sha256",
    };
    let corpus = read_corpus(corpus_dir)?;
    std::fs::create_dir_all(out_dir)
        .map_err(|err| format!("cannot create {}: {err}", out_dir.display()))?;

    // The whole list goes into h=, present in the message or not: that is what mail-auth's
    // `headers()` does (absent fields are signed as empty, which also stops them being added
    // later), and picking the present ones first would add work mail-auth does not need.
    // relaxed/relaxed is mail-auth's default; set anyway so the figure never depends on it.
    let signer = DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(headers)
        .header_canonicalization(mail_auth::dkim::Canonicalization::Relaxed)
        .body_canonicalization(mail_auth::dkim::Canonicalization::Relaxed);

    let mut signature_fields: Vec<Result<Vec<u8>, String>> = Vec::with_capacity(corpus.len());
    let started = Instant::now();
    for message in &corpus {
        // Serializing the header field is part of producing a signature, so it is timed too.
        signature_fields.push(
            signer
                .sign(&message.bytes)
                .map(|signature| {
                    let mut field = Vec::with_capacity(512);
                    signature.write_header(&mut field);
                    field
                })
                .map_err(|err| err.to_string()),
        );
    }
    let seconds = started.elapsed().as_secs_f64();

    let mut failures = Vec::new();
    for (message, field) in corpus.iter().zip(&signature_fields) {
        let field = match field {
            Ok(field) => field,
            Err(err) => {
                failures.push(format!(
                    "{}: not signed: {err}",
                    message.file_name.to_string_lossy()
                ));
                continue;
            }
        };
        // write_header ends the field with CRLF; checked because the files are meant for other
        // verifiers, and a missing line end would glue the field to the first header.
        if !field.ends_with(b"\r\n") {
            return Err(format!(
                "mail-auth wrote a DKIM-Signature field without a CRLF ending for {}",
                message.file_name.to_string_lossy()
            )
            .into());
        }
        let mut signed = Vec::with_capacity(field.len() + message.bytes.len());
        signed.extend_from_slice(field);
        signed.extend_from_slice(&message.bytes);
        let path = out_dir.join(&message.file_name);
        std::fs::write(&path, signed)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }

    print_report(&Report {
        operation: "sign",
        algorithm: Some(algorithm),
        messages: corpus.len(),
        bytes: corpus.iter().map(|message| message.bytes.len()).sum(),
        seconds,
        passed: corpus.len() - failures.len(),
    });
    for failure in &failures {
        eprintln!("mail-auth-bench: {failure}");
    }
    Ok(failures.is_empty())
}

/// TXT records given on the command line, already parsed as DKIM keys, keyed the way mail-auth
/// looks them up (lowercase, trailing dot). mail-auth 0.15 ships no cache of its own: a verifier
/// takes any `DnsCache` through `Parameters::with_cache`, and a hit skips both the query and the
/// parse of the key record.
struct PreloadedTxt {
    records: HashMap<Box<str>, TxtRecord>,
    /// Lookups that found nothing here and so went on to the (empty) resolver.
    misses: Cell<usize>,
}

impl ResolverCache<Box<str>, TxtRecord> for PreloadedTxt {
    fn get<Q>(&self, name: &Q) -> Option<TxtRecord>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.records.get(name).cloned();
        if found.is_none() {
            self.misses.set(self.misses.get() + 1);
        }
        found
    }

    fn remove<Q>(&self, _name: &Q) -> Option<TxtRecord>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    // mail-auth only inserts after a resolver answer, and ours never answers (see
    // offline_authenticator), so there is nothing to keep; ignoring it also keeps `records`
    // exactly what the command line gave.
    fn insert(&self, _key: Box<str>, _value: TxtRecord, _valid_until: Instant) {}
}

struct PreloadedCache {
    txt: PreloadedTxt,
}

impl DnsCache for PreloadedCache {
    type Txt = PreloadedTxt;
    type Mx = NoCache;
    type Ipv4 = NoCache;
    type Ipv6 = NoCache;
    type Ptr = NoCache;

    fn txt(&self) -> Option<&Self::Txt> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&Self::Mx> {
        None
    }
    fn ipv4(&self) -> Option<&Self::Ipv4> {
        None
    }
    fn ipv6(&self) -> Option<&Self::Ipv6> {
        None
    }
    fn ptr(&self) -> Option<&Self::Ptr> {
        None
    }
}

fn preload_records(records: &[(String, String)]) -> Result<PreloadedCache, UsageError> {
    let mut parsed = HashMap::with_capacity(records.len());
    for (name, value) in records {
        let key = DomainKey::parse(value.as_bytes())
            .map_err(|err| format!("--record {name}: not a DKIM key record: {err}"))?;
        parsed.insert(
            name.to_fqdn().into_owned().into_boxed_str(),
            TxtRecord::from(key),
        );
    }
    Ok(PreloadedCache {
        txt: PreloadedTxt {
            records: parsed,
            misses: Cell::new(0),
        },
    })
}

/// A MessageAuthenticator that cannot reach any DNS server: it is configured with no name
/// servers at all, so a lookup that misses the preloaded cache fails at once, without a packet,
/// and the message shows up as a TempError failure instead of timing the network.
fn offline_authenticator() -> Result<MessageAuthenticator, UsageError> {
    let mut options = ResolverOpts::default();
    options.cache_size = 0;
    options.attempts = 0;
    MessageAuthenticator::new(ResolverConfig::from_name_servers(Vec::new()), options)
        .map_err(|err| format!("cannot create the offline resolver: {err}").into())
}

/// How one message fared.
struct Verdict {
    /// None when the message had DKIM-Signatures and every one of them passed.
    failure: Option<String>,
    /// The a= of the first signature, for the report.
    algorithm: Option<&'static str>,
}

fn run_verify(records: &[(String, String)], corpus_dir: &Path) -> Result<bool, UsageError> {
    let cache = preload_records(records)?;
    let corpus = read_corpus(corpus_dir)?;
    // One thread, as the figures are per core; built once so its start-up is not timed.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    // Created inside the runtime because hickory's resolver may want one when it is built.
    let authenticator = runtime.block_on(async { offline_authenticator() })?;

    let (verdicts, seconds) = runtime.block_on(async {
        let mut verdicts = Vec::with_capacity(corpus.len());
        let started = Instant::now();
        for message in &corpus {
            verdicts.push(verify_one(&authenticator, &cache, &message.bytes).await);
        }
        (verdicts, started.elapsed().as_secs_f64())
    });

    let passed = verdicts
        .iter()
        .filter(|verdict| verdict.failure.is_none())
        .count();
    let first_algorithm = verdicts.first().and_then(|verdict| verdict.algorithm);
    let algorithm = first_algorithm.filter(|first| {
        verdicts
            .iter()
            .all(|verdict| verdict.algorithm == Some(first))
    });
    print_report(&Report {
        operation: "verify",
        algorithm,
        messages: corpus.len(),
        bytes: corpus.iter().map(|message| message.bytes.len()).sum(),
        seconds,
        passed,
    });
    for (message, verdict) in corpus.iter().zip(&verdicts) {
        if let Some(failure) = &verdict.failure {
            eprintln!(
                "mail-auth-bench: {}: {failure}",
                message.file_name.to_string_lossy()
            );
        }
    }
    let misses = cache.txt.misses.get();
    if misses > 0 {
        eprintln!(
            "mail-auth-bench: {misses} key lookup(s) were not among the --record names given"
        );
    }
    Ok(passed == corpus.len())
}

/// Parses (which canonicalizes and hashes the body) and verifies one message, as an MTA would.
async fn verify_one(
    authenticator: &MessageAuthenticator,
    cache: &PreloadedCache,
    bytes: &[u8],
) -> Verdict {
    let Some(message) = AuthenticatedMessage::parse(bytes) else {
        return Verdict {
            failure: Some("mail-auth could not parse the message".to_string()),
            algorithm: None,
        };
    };
    let outputs = authenticator
        .verify_dkim(Parameters::new(&message).with_cache(cache))
        .await;
    let algorithm = outputs
        .iter()
        .find_map(|output| output.signature())
        .map(|signature| signature.a.name());
    let failure = if outputs.is_empty() {
        Some("no DKIM-Signature".to_string())
    } else {
        outputs
            .iter()
            .find(|output| output.result() != &DkimResult::Pass)
            .map(|bad| format!("{:?}", bad.result()))
    };
    Verdict { failure, algorithm }
}

/// Hand-written rather than serde: the fields are fixed and none needs escaping.
fn print_report(report: &Report) {
    let algorithm = match report.algorithm {
        Some(name) => format!("\"{name}\""),
        None => "null".to_string(),
    };
    // f64's Display never uses exponents, so it is always a valid JSON number here.
    let messages_per_second = if report.seconds > 0.0 {
        report.messages as f64 / report.seconds
    } else {
        0.0
    };
    println!(
        "{{\"tool\":\"mail-auth\",\"version\":\"{MAIL_AUTH_VERSION}\",\"operation\":\"{}\",\"algorithm\":{algorithm},\"messages\":{},\"bytes\":{},\"seconds\":{},\"messages_per_second\":{},\"passed\":{}}}",
        report.operation,
        report.messages,
        report.bytes,
        report.seconds,
        messages_per_second,
        report.passed,
    );
}

//! Criterion benchmarks of the DKIM engine's parts, one group per cost that grows with its own
//! input: body hashing (message size), the key operation (key size), a whole small message, and
//! key generation. Whole commands against the peer tools are measured by `bench/compare`
//! (docs/PERFORMANCE.md).
//!
//! `cargo bench -p dkim-core` runs them all; `cargo bench -p dkim-core -- body` one group.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dkim_core::canonical::{Algorithm, BodyHasher};
use dkim_core::crypto::SigningKey;
use dkim_core::encoding::encode_base64;
use dkim_core::lookup::StaticLookup;
use dkim_core::sign::{SignOptions, Signer, sign_message};
use dkim_core::verify::{DkimResult, verify_message};
use dkim_core::{KeyRecord, KeySpec, PrivateKey};

const DOMAIN: &str = "example.com";
const SELECTOR: &str = "bench";

/// Text lines with CRLF, as mail bodies are, of exactly `size` bytes.
fn body_of(size: usize) -> Vec<u8> {
    let line = b"The quarterly report is attached; please review the budget by Friday.\r\n";
    line.iter().copied().cycle().take(size).collect()
}

/// A base64 attachment of exactly `size` bytes: lines of 76 characters and CRLF (RFC 2045 6.8),
/// the bulk of most large messages.
fn base64_body_of(size: usize) -> Vec<u8> {
    // Varied bytes, so that the lines differ as real attachments' do.
    let bytes: Vec<u8> = (0u32..57 * 64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let text = encode_base64(&bytes);
    let mut body = Vec::with_capacity(size + 78);
    for line in text.as_bytes().chunks(76).cycle() {
        if body.len() >= size {
            break;
        }
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
    body.truncate(size);
    body
}

/// Text of exactly `size` bytes with white space as people and programs leave it: double
/// spaces, tabs, trailing spaces and tabs, blank lines, so that relaxed has runs to reduce and
/// line ends to trim rather than the best case alone.
fn ragged_body_of(size: usize) -> Vec<u8> {
    let lines = b"Dear  team,\r\n\
        \r\n\
        The quarterly report is attached;  please review the budget by Friday. \r\n\
        Item\tQ1\tQ2\t\tTotal\r\n\
        Travel\t 1200\t 1350\t\t 2550  \r\n\
        \tIndented with a tab, and a trailing tab.\t\r\n\
        Thanks,  \r\n\
        \r\n\
        \r\n";
    lines.iter().copied().cycle().take(size).collect()
}
fn message_with_body(body: &[u8]) -> Vec<u8> {
    let mut message = b"From: Alice <alice@example.com>\r\n\
        To: bob@example.org\r\n\
        Subject: The quarterly report\r\n\
        Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\
        Message-ID: <report.1@example.com>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n"
        .to_vec();
    message.extend_from_slice(body);
    message
}

fn sign_options() -> SignOptions {
    SignOptions {
        canonicalization: "relaxed/relaxed".parse().expect("a valid canonicalization"),
        headers: None,
        oversigned: Vec::new(),
        timestamp: 1_795_000_000,
        expire_after: None,
        body_length: false,
    }
}

/// Body hashing against the bare SHA-256 of the same number of bytes: the gap is what
/// canonicalization costs, for plain text, a base64 attachment and text with ragged white space (docs/PERFORMANCE.md compares both with `openssl speed -evp sha256`).
fn body_hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("body");
    for size in [1024, 16 * 1024, 1024 * 1024] {
        group.throughput(Throughput::Bytes(size as u64));
        // SHA-256 costs the same whatever the bytes: one figure per size to compare with.
        let text = body_of(size);
        group.bench_function(format!("sha256/{size}"), |b| {
            b.iter(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(&text)))
        });
        for (kind, body) in [
            ("text", text.clone()),
            ("base64", base64_body_of(size)),
            ("ragged", ragged_body_of(size)),
        ] {
            for algorithm in [Algorithm::Simple, Algorithm::Relaxed] {
                group.bench_function(format!("{}/{kind}/{size}", algorithm.as_str()), |b| {
                    b.iter(|| {
                        let mut hasher = BodyHasher::new(algorithm, None);
                        // In the 64 KiB pieces the message reader hands over.
                        for piece in black_box(&body).chunks(64 * 1024) {
                            hasher.update(piece);
                        }
                        hasher.finish()
                    })
                });
            }
        }
    }
    group.finish();
}

fn keys() -> Vec<(&'static str, PrivateKey)> {
    [
        ("rsa2048", KeySpec::Rsa { bits: 2048 }),
        ("rsa4096", KeySpec::Rsa { bits: 4096 }),
        ("ed25519", KeySpec::Ed25519),
    ]
    .into_iter()
    .map(|(name, spec)| (name, PrivateKey::generate(spec).expect("a key")))
    .collect()
}

/// One 2 KB message signed and verified whole (header parsing, canonicalization, hashing and the
/// key operation), beside the key operation alone.
fn messages(c: &mut Criterion) {
    let message = message_with_body(&body_of(2048));
    let options = sign_options();
    let mut group = c.benchmark_group("message");
    for (name, key) in keys() {
        let signing_key = SigningKey::new(&key).expect("a signing key");
        let signer = Signer {
            key: &signing_key,
            domain: DOMAIN.parse().expect("a domain"),
            selector: SELECTOR.parse().expect("a selector"),
            identity: None,
        };
        group.bench_function(format!("key-operation/{name}"), |b| {
            b.iter(|| signing_key.sign(black_box(&message[..512])))
        });
        group.bench_function(format!("sign/{name}"), |b| {
            b.iter(|| {
                sign_message(
                    &mut black_box(&message[..]),
                    std::slice::from_ref(&signer),
                    &options,
                )
            })
        });

        let signed = sign_message(&mut &message[..], std::slice::from_ref(&signer), &options)
            .expect("signed");
        let mut signed_message = signed.fields[0].clone().into_bytes();
        signed_message.extend_from_slice(b"\r\n");
        signed_message.extend_from_slice(&message);
        let lookup = StaticLookup::new().with(
            &format!("{SELECTOR}._domainkey.{DOMAIN}"),
            KeyRecord::new(&key.public_key()).to_value(),
        );
        let verdicts =
            verify_message(&mut &signed_message[..], &lookup, 1_795_000_000).expect("readable");
        assert_eq!(verdicts[0].result, DkimResult::Pass, "{verdicts:?}");
        group.bench_function(format!("verify/{name}"), |b| {
            b.iter(|| verify_message(&mut black_box(&signed_message[..]), &lookup, 1_795_000_000))
        });
    }
    group.finish();
}

fn key_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("genkey");
    // RSA key generation time varies widely from key to key (the prime search is random):
    // enough samples for a stable median.
    group.sample_size(30);
    for (name, spec) in [
        ("rsa2048", KeySpec::Rsa { bits: 2048 }),
        ("ed25519", KeySpec::Ed25519),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(|| spec, PrivateKey::generate, BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, body_hashing, messages, key_generation);
criterion_main!(benches);

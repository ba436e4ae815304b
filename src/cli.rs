//! The command line, as clap definitions and nothing else. The man pages and shell completions
//! in man/ and completions/ are generated from these (`dkimkit generate-docs .`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use dkim_core::canonical::Canonicalization;
use dkim_core::record::{HashAlgorithm, parse_hash_list};
use dkim_core::time::{Period, parse_fixed_length, parse_unix_time};
use dkim_core::{DomainName, KeyType, NameError, Selector};
use dkim_dns::{Provider, parse_nameserver};

/// The exit statuses every subcommand shares, for `--help`, the man pages and the README.
pub const EXIT_STATUSES: &[(u8, &str)] = &[
    (0, "Success: everything checked is good."),
    (
        1,
        "A check failed: a signature does not verify, a key does not match, a record is missing \
         or invalid.",
    ),
    (
        2,
        "Usage error, unreadable or malformed input, or an I/O error (for example a file that \
         exists already). Arguments and existing files are checked before anything is written, \
         so such an error writes nothing. Each file is written whole or not at all, but a run \
         that writes several and fails part way keeps those already written: sign-file names \
         each message that failed (not written; with --in-place, left unchanged) and counts the \
         ones written, genkey with several -d keeps the domains done, and rotate records its \
         steps so that the next run goes on from there.",
    ),
    (
        3,
        "Temporary failure only (DNS timeout, SERVFAIL): cron and CI may retry later.",
    ),
];

/// Examples, as (what it does, the command), by subcommand name ("" for dkimkit itself).
pub fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "" => &[
            (
                "Generate a key for example.com with a date selector, in opendkim's key folder:",
                "dkimkit genkey -d example.com -s 202611 -D /etc/opendkim/keys/example.com",
            ),
            (
                "Print the record of an existing key, as a DNS provider's web form wants it:",
                "dkimkit record -k 202611.private -d example.com -s 202611 --format value",
            ),
        ],
        "genkey" => &[
            (
                "An opendkim-genkey invocation from a setup guide, with only the program name changed:",
                "dkimkit genkey -b 2048 -h rsa-sha256 -r -s 201908 -d example.com -v",
            ),
            (
                "An Ed25519 key beside the RSA one (RFC 8463), printed as JSON:",
                "dkimkit genkey --key-type ed25519 -s 202611e -d example.com --json",
            ),
            (
                "Onboard three domains at once: keys go to keys/DOMAIN/202611.{private,txt}:",
                "dkimkit genkey -D keys -s 202611 -d example.com -d example.net -d example.org",
            ),
        ],
        "sign-file" => &[
            (
                "Sign a message with an RSA and an Ed25519 key in one pass, to standard output:",
                "dkimkit sign-file -d example.com -s 202611 -k 202611.private -s 202611e -k 202611e.private msg.eml",
            ),
            (
                "Sign a Maildir's new messages in place, on all cores:",
                "dkimkit sign-file -d example.com -s 202611 -k 202611.private --in-place Maildir/new/*",
            ),
            (
                "Reproducible output for a test: a fixed t= and an expiry a week later:",
                "dkimkit sign-file -d example.com -s s -k s.private --timestamp 2026-11-22T12:00:00Z -x 7d msg.eml",
            ),
        ],
        "verify-file" => &[
            (
                "Verify a message against live DNS and print an Authentication-Results field:",
                "dkimkit verify-file --ar msg.eml",
            ),
            (
                "Verify offline with the record genkey wrote, as of a given time:",
                "dkimkit verify-file --key 202611._domainkey.example.com=202611.txt --now 2026-11-22T12:00:00Z msg.eml",
            ),
            (
                "Check a whole Maildir and an mbox against a local name server, as JSON:",
                "dkimkit verify-file --nameserver 127.0.0.1:5353 --json ~/Maildir && dkimkit verify-file --mbox archive.mbox",
            ),
        ],
        "testkey" => &[
            (
                "After publishing a record: is it there, and is it this private key's?",
                "dkimkit testkey -d example.com -s 202611 -k /etc/opendkim/keys/example.com/202611.private",
            ),
            (
                "Every key opendkim signs with, as a nightly CI job (exit 1 on a problem, 3 to retry):",
                "dkimkit testkey -x /etc/opendkim.conf --json",
            ),
            (
                "Against the primary name server, with the zone's own DNSSEC anchor:",
                "dkimkit testkey -d example.com -s 202611 --nameserver 192.0.2.53 --trust-anchor Kexample.com.+013+54621.key",
            ),
        ],
        "check" => &[
            (
                "In CI: every mail record of two domains, failing the job on an error:",
                "dkimkit check example.com example.net",
            ),
            (
                "With the DKIM keys opendkim signs with, and the outgoing address SPF must pass:",
                "dkimkit check example.com -x /etc/opendkim.conf --ip 192.0.2.25",
            ),
            (
                "A JUnit report for the CI server, warnings counted as failures:",
                "dkimkit check example.com -s 202611 --format junit --strict > dns-report.xml",
            ),
        ],
        "rotate" => &[
            (
                "Rotate every key under /etc/opendkim/keys whose month has come, by DNS UPDATE:",
                "dkimkit rotate --keytable /etc/opendkim/KeyTable --keys-dir /etc/opendkim/keys --publish rfc2136 --server 192.0.2.53 --tsig-key /etc/opendkim/dkim-update.key --reload-command 'systemctl reload opendkim'",
            ),
            (
                "See what the next run would do, without changing anything:",
                "dkimkit rotate --keytable /etc/opendkim/KeyTable --keys-dir /etc/opendkim/keys --publish manual --dry-run",
            ),
            (
                "With a zone file include per domain, reloaded with rndc:",
                "dkimkit rotate --keytable KeyTable --keys-dir keys --publish zone-file --zone-dir /etc/bind/dkim --dns-reload-command 'rndc reload'",
            ),
            (
                "Editing BIND's own zone file, checked at the primary and its secondary:",
                "dkimkit rotate --keytable /etc/opendkim/KeyTable --keys-dir /etc/opendkim/keys --publish zone-file --zone-file example.com=/etc/bind/db.example.com --dns-reload-command 'rndc reload example.com' --nameserver 192.0.2.53 --nameserver 198.51.100.53",
            ),
            (
                "Through a hook: nsupdate with a TSIG key (DKIMKIT_STRINGS is already quoted for it):",
                r#"dkimkit rotate -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys --nameserver 192.0.2.53 --publish exec --publish-command '{ echo "server 192.0.2.53"; echo "zone $DKIMKIT_ZONE"; echo "update delete $DKIMKIT_NAME. TXT"; if [ "$DKIMKIT_ACTION" = publish ]; then echo "update add $DKIMKIT_NAME. 300 TXT $DKIMKIT_STRINGS"; fi; echo send; } | nsupdate -k /etc/bind/dkim-update.key'"#,
            ),
            (
                "Through a hook: dns-lexicon, for a DNS provider's API:",
                r#"dkimkit rotate -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys --publish exec --publish-command 'if [ "$DKIMKIT_ACTION" = publish ]; then lexicon cloudflare create "$DKIMKIT_ZONE" TXT --name "$DKIMKIT_NAME" --content "$DKIMKIT_VALUE"; else lexicon cloudflare delete "$DKIMKIT_ZONE" TXT --name "$DKIMKIT_NAME"; fi'"#,
            ),
            (
                "Where each key is, and when its next step is due:",
                "dkimkit rotate status -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys",
            ),
            (
                "A key believed stolen: replace it now and revoke its record as soon as the new one is served:",
                "dkimkit rotate -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys --publish rfc2136 --server 192.0.2.53 --tsig-key /etc/opendkim/dkim-update.key --rotate-now example.com --revoke",
            ),
        ],
        "genzone" => &[
            (
                "The records of every key opendkim signs with, for the domain's zone:",
                "dkimkit genzone -D -x /etc/opendkim.conf -o /etc/bind/dkim.zone",
            ),
            (
                "Publish them all with nsupdate and a TSIG key:",
                "dkimkit genzone -u -t 3600 /etc/opendkim/KeyTable | nsupdate -k /etc/bind/dkim-update.key",
            ),
            (
                "A whole zone for _domainkey.example.com, with its SOA and name servers:",
                "dkimkit genzone -S -N ns1.example.com,ns2.example.com -C hostmaster@example.com -d example.com /etc/opendkim/KeyTable",
            ),
        ],
        "record" => &[
            (
                "Rebuild a lost 202611.txt from the private key:",
                "dkimkit record -k 202611.private -d example.com -s 202611 > 202611.txt",
            ),
            (
                "The one-line value for a DNS provider's web form:",
                "dkimkit record -k 202611.private -s 202611 --format value",
            ),
        ],
        _ => &[],
    }
}

/// Sections of a command's documentation beyond examples, as (title, text), by subcommand name.
pub fn extra_sections(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "rotate" => &[
            (
                "Scheduling",
                "Run it every day: most runs find nothing due and change nothing, and a run that \
             waited for DNS finishes the switch the next day. As root's crontab line (run as \
             root, keys owned by opendkim are accepted, and the files rotate writes keep their \
             owner, group and mode):\n\n\
             0 4 * * * root dkimkit rotate -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys --publish rfc2136 --server 192.0.2.53 --tsig-key /etc/opendkim/dkim-update.key --reload-command 'systemctl reload opendkim'\n\n\
             Or as a systemd timer: /etc/systemd/system/dkimkit-rotate.service holds\n\n\
             [Unit]\nDescription=Rotate DKIM keys\n\n[Service]\nType=oneshot\n\
             ExecStart=/usr/local/bin/dkimkit rotate -x /etc/opendkim.conf --keys-dir /etc/opendkim/keys --publish rfc2136 --server 192.0.2.53 --tsig-key /etc/opendkim/dkim-update.key --reload-command 'systemctl reload opendkim'\n\n\
             and /etc/systemd/system/dkimkit-rotate.timer holds\n\n\
             [Unit]\nDescription=Rotate DKIM keys daily\n\n[Timer]\nOnCalendar=*-*-* 04:00:00\nPersistent=true\n\n\
             [Install]\nWantedBy=timers.target\n\n\
             then: systemctl daemon-reload && systemctl enable --now dkimkit-rotate.timer. \
             Cron mails the summary line; --json suits a log.",
            ),
            (
                "Publishing through a hook",
                "--publish exec runs --publish-command with sh -c once per record change. Its \
             environment holds DKIMKIT_ACTION (publish or withdraw), DKIMKIT_NAME \
             (SELECTOR._domainkey.DOMAIN), DKIMKIT_ZONE (the zone holding the name, as the first \
             --nameserver answers; the signing domain without one), DKIMKIT_VALUE (the record) and \
             DKIMKIT_STRINGS (the record in quoted strings of at most 255 bytes, as nsupdate and \
             BIND take them). Exit 0 means done; exit 75 (EX_TEMPFAIL) means try again later: the \
             run exits 3 and the next run makes the change again; any other status fails the \
             entry (exit 1), with the command's standard error in one line. For octoDNS, the hook \
             writes one YAML fragment per record (NAME:, type: TXT, value: with each ; escaped as \\;) \
             into a directory a second YamlProvider source reads, then runs octodns-sync --doit; \
             the README has the whole script.",
            ),
            (
                "Key pairs, stolen keys, revealed keys",
                "A domain with several managed entries (opendkim's MultipleSignatures, an RSA and an \
             Ed25519 key) gets new selectors with -%k added to --selector-format when it has no \
             %k (202612-rsa, 202612-ed25519), and no two entries of a domain are ever given the \
             same selector (-2, -3 are added). --rotate-now DOMAIN starts a rotation at once (or takes \
             over the one under way); the \
             old record is withdrawn (--revoke: published with an empty p=, RFC 6376 3.6.1) as soon \
             as the new one is served, with no overlap; later runs need no --rotate-now to finish \
             it. --reveal-dir DIR writes each retired private key to DIR/DOMAIN.SELECTOR.private \
             after its overlap, so that old mail can no longer be proven authentic.",
            ),
        ],
        _ => &[],
    }
}

/// The text after the options in `--help`: examples, extra sections and exit statuses.
fn help_footer(command: &str) -> String {
    let mut text = String::new();
    for (title, body) in extra_sections(command) {
        text.push_str(&format!("{title}:\n"));
        for line in body.lines() {
            text.push_str(&format!("  {line}\n"));
        }
        text.push('\n');
    }
    let examples = examples(command);
    if !examples.is_empty() {
        text.push_str("Examples:\n");
        for (what, how) in examples {
            text.push_str(&format!("  {what}\n    $ {how}\n"));
        }
        text.push('\n');
    }
    text.push_str("Exit status:\n");
    for (code, meaning) in EXIT_STATUSES {
        text.push_str(&format!("  {code}  {meaning}\n"));
    }
    text
}

/// Gives a subcommand the `--help` footer of its own name, which cannot be misspelt.
fn with_help_footer(command: clap::Command) -> clap::Command {
    let footer = help_footer(command.get_name());
    command.after_long_help(footer)
}

/// DKIM keys, records, signing and verification for people who run their own mail.
#[derive(Debug, Parser)]
#[command(
    name = "dkimkit",
    version,
    propagate_version = true,
    after_long_help = help_footer(""),
    mut_subcommands = with_help_footer,
    long_about = "DKIM keys, records, signing and verification for people who run their own mail.\n\n\
                  dkimkit replaces opendkim-tools: `genkey` takes opendkim-genkey's flags, and \
                  writes records that load in BIND as they are."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate key pairs and their DNS records (a drop-in for opendkim-genkey)
    #[command(
        disable_help_flag = true,
        long_about = "Generate DKIM key pairs: SELECTOR.private (the private key, mode 0600, PEM) and \
                      SELECTOR.txt (the DNS TXT record in BIND zone-file syntax, every string at \
                      most 255 bytes).\n\n\
                      Every opendkim-genkey flag works with the same meaning; note that -h is \
                      --hash-algorithms, as there, and help is --help. Nothing is printed on \
                      standard output unless --format or --json asks for it. Existing files are \
                      never replaced without --force, and nothing is written when any would be."
    )]
    Genkey(GenkeyArgs),

    /// Sign message files (DKIM, RFC 6376 and 8463)
    #[command(
        long_about = "Sign message files with one or more keys: a DKIM-Signature field per key is \
                      added at the top, the rest of the file is unchanged, and the file's line \
                      ends (LF or CRLF) are kept. One message goes to standard output (or -o); \
                      several need --in-place or --output-dir and are signed on all cores.\n\n\
                      Each output file appears whole or not at all (written beside its place, \
                      then renamed). New files (-o, --output-dir) are not synced to disk unless \
                      --fsync asks, as cp and rsync leave theirs: a crash in the seconds after \
                      the command may lose them, and signing again makes them. With --in-place \
                      each file is synced before and after it replaces the message, since the \
                      message itself is at stake.\n\n\
                      Each message of a batch is signed and written on its own: when some fail, \
                      each failure is named on standard error (and in --json's document), the \
                      others are written, the last line counts both, and the exit status is 2.\n\n\
                      By default the fields RFC 6376 5.4.1 recommends are signed when present, \
                      with Message-ID and the MIME fields; From always, and once more than it \
                      occurs, so that no From can be added."
    )]
    SignFile(SignFileArgs),

    /// Verify the DKIM signatures of message files
    #[command(
        long_about = "Verify every DKIM signature of message files, Maildirs or mbox files, and \
                      print each signature's result (RFC 8601: pass, fail, neutral, policy, \
                      temperror, permerror) and reason. Keys come from DNS (answers are cached \
                      for the run) or from --key.\n\n\
                      The exit status is 0 when every message has a passing signature, 1 when \
                      one does not, 3 when the only problem is a temporary DNS failure."
    )]
    VerifyFile(VerifyFileArgs),

    /// Check published keys in DNS: one key, or every key of a KeyTable (opendkim-testkey)
    #[command(
        long_about = "Check that a key is published right: the record exists, parses, is not \
                      revoked, allows sha256 and email, has a key of at least 1024 bits, and with \
                      -k publishes that private key's public key. Prints `key OK` with the \
                      DNSSEC status, or each problem on its own line with what to do.\n\n\
                      opendkim-testkey's flags work (-d, -s, -k, -v, -x). With --keytable, or -x \
                      naming an opendkim.conf with a KeyTable, every key is checked, concurrently. \
                      DNSSEC is judged zone by zone, as verify-file and rotate judge it: secure, \
                      insecure (proven unsigned), not validated (the chain of trust could not be \
                      followed, as at an authoritative-only server: a warning with the reason) or \
                      bogus (a problem). The exit status is the worst key's: 1 for a problem, 3 \
                      when only temporary DNS failures stood in the way."
    )]
    Testkey(TestkeyArgs),

    /// Check every mail DNS record of domains: SPF, DMARC, DKIM, MX, reverse DNS, MTA-STS, TLS-RPT
    #[command(
        long_about = "Check a domain's mail DNS for CI: SPF (RFC 7208: one record, syntax, at most \
                      10 DNS lookups and 2 void lookups across includes, loops, ptr, +all, \
                      typographic quotes, the obsolete SPF record type), DMARC (RFC 7489: the \
                      record or the nearest parent's by the DMARCbis tree walk, every tag, p=none, \
                      rua, external report addresses authorised), DKIM keys (-s, --keytable, -x: \
                      exactly as testkey checks them), ADSP and DomainKeys policy records \
                      (historic), MX with their addresses (null MX, RFC 7505, is fine) and \
                      forward-confirmed reverse DNS, and the MTA-STS and TLS-RPT records (with \
                      --fetch, the MTA-STS policy over HTTPS, its mx patterns matched against \
                      the MX records).\n\n\
                      Each finding has a stable code, a severity and a fix. Warnings: spf.ptr, \
                      spf.permissive-all, dmarc.policy-none, dmarc.no-rua, adsp.historic, \
                      domainkeys.historic, dkim.weak, dkim.test-mode; dns.temporary is a \
                      temporary failure; every other code is an error: spf.missing, \
                      spf.multiple, spf.syntax, spf.too-many-lookups, spf.void-lookups, spf.loop, \
                      spf.not-ascii, spf.obsolete-type, spf.include-missing, spf.not-permitted \
                      (an --ip address SPF does not pass), dmarc.missing, dmarc.multiple, \
                      dmarc.syntax, dmarc.external-unauthorized, dkim.missing, dkim.multiple, \
                      dkim.syntax, dkim.revoked, dkim.key-type-mismatch, dkim.key-mismatch, \
                      dkim.hash-excludes-sha256, dkim.not-for-email, dkim.too-small, \
                      dkim.dangling-cname, dkim.key-unreadable, mx.missing, mx.no-address, \
                      mx.cname, ptr.missing, ptr.mismatch, mta-sts.syntax, mta-sts.policy, tlsrpt.syntax, \
                      dnssec.bogus, dns.bad-name.\n\n\
                      Domains and their lookups are checked concurrently and every answer is \
                      cached for the run. The exit status is 1 when any domain has an error (or a \
                      warning, with --strict), 3 when only temporary DNS failures stood in the \
                      way, 0 otherwise. A drop-in for `checkdmarc DOMAIN`, which always exits 0: \
                      `dkimkit check DOMAIN`."
    )]
    Check(CheckArgs),

    /// Rotate keys on opendkim's KeyTable, safely under cron
    #[command(
        long_about = "The monthly rotation cycle, on opendkim's own files. For each KeyTable entry \
                      whose key file is under --keys-dir: when its key is older than --every, \
                      make the next key (selector from --selector-format) beside it and publish \
                      its record; once the record is visible (checked in DNS, as testkey checks, \
                      DNSSEC included), \
                      switch the KeyTable entry to it atomically and run --reload-command; once \
                      --overlap has passed, withdraw the old record and, once no name server \
                      serves it, move the old key to retired/ (it is never deleted).\n\n\
                      Each step is recorded in DIR/dkimkit-rotate.json as it is done, so a run \
                      killed at any point is completed by the next one; a lock keeps two runs \
                      apart; a run that is not due changes nothing. Exit status 0 also when \
                      waiting for DNS; 1 when a wait lasted longer than --max-wait; 3 when a DNS \
                      timeout or another run stood in the way."
    )]
    // Boxed: rotate has by far the most options, and every other command would carry its size.
    Rotate(Box<RotateArgs>),

    /// Write the records of every KeyTable key as zone data or nsupdate input (opendkim-genzone)
    #[command(
        long_about = "Write the DNS records of every key of a KeyTable (the DATASET argument, or \
                      the KeyTable of -x's opendkim.conf, or its Domain, Selector and KeyFile) as \
                      zone-file data, or with -u as a script for nsupdate. The public keys are \
                      derived from the private key files, which must be readable and safe (as \
                      opendkim's RequireSafeKeys wants them); a key that is not stops the run \
                      with the KeyTable line at fault, and nothing is written.\n\n\
                      opendkim-genzone's flags work with the same meaning. Differences: host \
                      names in SOA and NS records get their final dot, so that named reads them \
                      as given; -u writes fully qualified names and sends one update per domain, \
                      and a `server` line only with -N; the default SOA contact is hostmaster \
                      at this host; the serial (YYYYMMDDHH) is in UTC; Ed25519 keys work."
    )]
    Genzone(GenzoneArgs),

    /// Print the DNS record of an existing private key
    #[command(
        disable_help_flag = true,
        long_about = "Print the DNS record of an existing private key, for the times the .txt file \
                      is lost. The key may be PEM (PKCS#1 or PKCS#8), DER, or the base64 Ed25519 \
                      seed dkimpy writes. The record flags are genkey's."
    )]
    Record(RecordArgs),

    /// Write the man pages and shell completions into DIR/man and DIR/completions
    #[command(hide = true)]
    GenerateDocs(GenerateDocsArgs),
}

/// What goes into the record besides the key: opendkim-genkey's record flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Record options")]
pub struct RecordOptions {
    /// Write the record's name fully qualified (SELECTOR._domainkey.DOMAIN.), not relative to the zone
    #[arg(short = 'a', long)]
    pub append_domain: bool,

    /// Hash algorithms the key may be used with (h=), separated by ':'; "rsa-sha256" means sha256,
    /// sha1 is refused (RFC 8301)
    #[arg(
        short = 'h',
        long = "hash-algorithms",
        value_name = "LIST",
        default_value = "sha256",
        value_parser = parse_hash_list_arg
    )]
    pub hash_algorithms: HashList,

    /// A note for people reading the record (n=)
    #[arg(short = 'n', long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Restrict the key to email (s=email)
    #[arg(short = 'r', long)]
    pub restrict: bool,

    /// Forbid signing for subdomains: i= must be in exactly the d= domain (t=s)
    #[arg(short = 'S', long = "nosubdomains")]
    pub no_subdomains: bool,

    /// Allow signing for subdomains (the default; kept for opendkim-genkey's flag)
    #[arg(long, overrides_with = "no_subdomains")]
    pub subdomains: bool,

    /// Mark the domain as testing DKIM (t=y)
    #[arg(short = 't', long)]
    pub testmode: bool,

    /// Do not mark the domain as testing (the default; opendkim-genkey's flag): the last of -t
    /// and --notestmode wins
    #[arg(long = "notestmode", overrides_with = "testmode")]
    pub no_testmode: bool,
}

/// The parsed value of -h (a newtype, as clap would take a bare `Vec` for a repeated flag).
#[derive(Debug, Clone)]
pub struct HashList(pub Vec<HashAlgorithm>);

fn parse_hash_list_arg(list: &str) -> Result<HashList, String> {
    parse_hash_list(list)
        .map(HashList)
        .map_err(|e| e.to_string())
}

/// What a record is printed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// The BIND zone-file entry, as SELECTOR.txt holds it
    Bind,
    /// The record as one line without quotes, for DNS providers' web forms
    Value,
    /// JSON: name, value, strings, key type and bits, file paths
    Json,
}

/// How to print records.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct RecordOutput {
    /// Print the record(s) on standard output in this format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<RecordFormat>,

    /// Print JSON (the same as --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl RecordOutput {
    /// The format asked for, if any.
    pub fn chosen(&self) -> Option<RecordFormat> {
        if self.json {
            Some(RecordFormat::Json)
        } else {
            self.format
        }
    }
}

/// The key types genkey makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyTypeArg {
    /// RSA (rsa-sha256), what every receiver verifies
    Rsa,
    /// Ed25519 (ed25519-sha256, RFC 8463): small and fast, but not verified everywhere yet
    Ed25519,
}

impl From<KeyTypeArg> for KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::Rsa => KeyType::Rsa,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// `dkimkit genkey`.
#[derive(Debug, Args)]
pub struct GenkeyArgs {
    /// Size of the RSA key in bits, 1024 to 4096 [default: 2048]
    #[arg(short = 'b', long, value_name = "BITS")]
    pub bits: Option<usize>,

    /// The signing domain; repeat it to make a key for each domain, written to DIR/DOMAIN/
    #[arg(short = 'd', long, value_name = "DOMAIN", value_parser = parse_domain)]
    pub domain: Vec<DomainName>,

    /// Directory to write the files in (created if missing)
    #[arg(short = 'D', long, value_name = "DIR", default_value = ".")]
    pub directory: PathBuf,

    /// The selector: the files are SELECTOR.private and SELECTOR.txt
    #[arg(short = 's', long, value_name = "SELECTOR", default_value = "default")]
    pub selector: Selector,

    /// The key type
    #[arg(long, value_enum, value_name = "TYPE", default_value = "rsa")]
    pub key_type: KeyTypeArg,

    /// Replace existing files
    #[arg(long)]
    pub force: bool,

    /// Say what is done, on standard error
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Print help (-h is --hash-algorithms, as in opendkim-genkey)
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    #[command(flatten)]
    pub record: RecordOptions,

    #[command(flatten)]
    pub output: RecordOutput,
}

/// `dkimkit record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The private key file: PEM, DER, or a base64 Ed25519 seed
    #[arg(short = 'k', long = "key", value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub key_safety: KeySafetyArgs,

    /// The signing domain (named in the comment, and with -a in the record's name)
    #[arg(short = 'd', long, value_name = "DOMAIN", value_parser = parse_domain)]
    pub domain: Option<DomainName>,

    /// The selector
    #[arg(short = 's', long, value_name = "SELECTOR", default_value = "default")]
    pub selector: Selector,

    /// Print help (-h is --hash-algorithms, as in genkey)
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    #[command(flatten)]
    pub record: RecordOptions,

    #[command(flatten)]
    pub output: RecordOutput,
}

/// Parses rotate's `--zone-file ZONE=PATH`.
fn parse_zone_file(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((zone, path)) if !zone.trim().is_empty() && !path.is_empty() => {
            Ok((zone.trim().to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "{text:?} is not ZONE=PATH (write it as example.com=/etc/bind/db.example.com)"
        )),
    }
}

/// Parses a list of header field names separated by `:` or `,`.
fn parse_header_list(text: &str) -> Result<HeaderList, String> {
    let names = split_list(text, &[':', ','])?;
    if let Some(bad) = names
        .iter()
        .find(|n| !n.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
    {
        return Err(format!("\"{bad}\" is not a header field name"));
    }
    Ok(HeaderList(names))
}

/// The non-empty items of a list separated by any of `separators`, trimmed; an empty list is
/// refused.
fn split_list(text: &str, separators: &[char]) -> Result<Vec<String>, String> {
    let items: Vec<String> = text
        .split(separators)
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    if items.is_empty() {
        return Err("the list is empty".to_owned());
    }
    Ok(items)
}

/// The parsed value of -H.
#[derive(Debug, Clone)]
pub struct HeaderList(pub Vec<String>);

/// `dkimkit sign-file`.
#[derive(Debug, Args)]
pub struct SignFileArgs {
    /// The message files to sign; none or "-" reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The signing domain (d=): once for every key, or once per key
    #[arg(
        short = 'd',
        long = "domain",
        value_name = "DOMAIN",
        required_unless_present_any = ["keytable", "config"],
        value_parser = parse_domain
    )]
    pub domains: Vec<DomainName>,

    /// The selector (s=) of each key, in the order of -k
    #[arg(
        short = 's',
        long = "selector",
        value_name = "SELECTOR",
        required_unless_present_any = ["keytable", "config"]
    )]
    pub selectors: Vec<Selector>,

    /// A private key (PEM, DER or a dkimpy Ed25519 seed); repeat -s and -k to sign with several
    #[arg(
        short = 'k',
        long = "key",
        value_name = "KEYFILE",
        required_unless_present_any = ["keytable", "config"]
    )]
    pub keys: Vec<PathBuf>,

    #[command(flatten)]
    pub key_safety: KeySafetyArgs,

    /// opendkim's KeyTable: with --signing-table, choose the keys by each message's From
    /// address exactly as opendkim does
    #[arg(
        long,
        value_name = "[file:]PATH",
        requires = "signing_table",
        conflicts_with_all = ["domains", "selectors", "keys", "identity", "config"]
    )]
    pub keytable: Option<String>,

    /// opendkim's SigningTable; write refile:PATH for a table of wildcard patterns
    #[arg(long, value_name = "[refile:]PATH", requires = "keytable")]
    pub signing_table: Option<String>,

    /// With --keytable: sign with every matching SigningTable entry (opendkim's
    /// MultipleSignatures)
    #[arg(long, requires = "keytable")]
    pub multiple_signatures: bool,

    /// Sign as this opendkim.conf says: its KeyTable and SigningTable, or its Domain, Selector
    /// and KeyFile; and its Canonicalization, SignatureAlgorithm, SignHeaders, OversignHeaders,
    /// MinimumKeyBits and RequireSafeKeys (flags given override them)
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["domains", "selectors", "keys", "identity"]
    )]
    pub config: Option<PathBuf>,

    /// With --config: list the opendkim.conf settings used, on standard error
    #[arg(short = 'v', long, requires = "config")]
    pub verbose: bool,

    /// Canonicalization (c=): header/body, each simple or relaxed [default: relaxed/relaxed,
    /// or with --config its Canonicalization, whose default is simple/simple]
    #[arg(short = 'c', long, value_name = "C")]
    pub canonicalization: Option<Canonicalization>,

    /// The header fields to sign, separated by ':' or ',' (From is required and oversigned)
    #[arg(short = 'H', long, value_name = "LIST", value_parser = parse_header_list)]
    pub headers: Option<HeaderList>,

    /// Make the signature expire this long after t= (x=), such as 7d (1month: on the same day
    /// of the next month, or its last day)
    #[arg(short = 'x', long, value_name = "DURATION")]
    pub expire: Option<Period>,

    /// Sign as of this time (t=): RFC 3339 or Unix seconds [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_unix_time)]
    pub timestamp: Option<u64>,

    /// Write the body length (l=); a receiver then accepts text appended to the body
    #[arg(short = 'l', long)]
    pub body_length: bool,

    /// The signing identity (i=), an address in the domain or a subdomain
    #[arg(long, value_name = "ADDRESS")]
    pub identity: Option<String>,

    /// Write the signed message to FILE instead of standard output (one message only)
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with_all = ["in_place", "output_dir"])]
    pub output: Option<PathBuf>,

    /// Replace each file by its signed form (atomically)
    #[arg(long, conflicts_with = "output_dir")]
    pub in_place: bool,

    /// Write each signed file into DIR, under its own name; DIR and its parents are created
    /// when missing, as mkdir -p (mode 0777 less the umask)
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Sync each new output file (-o, --output-dir) and its directory to disk before finishing,
    /// so that a crash cannot lose it (slower; --in-place always does)
    #[arg(long)]
    pub fsync: bool,

    /// Replace existing output files
    #[arg(long)]
    pub force: bool,

    /// Print a JSON document describing the signatures (the message itself is then not printed)
    #[arg(long)]
    pub json: bool,
}

/// `dkimkit verify-file`.
#[derive(Debug, Args)]
pub struct VerifyFileArgs {
    /// Message files or Maildirs; none or "-" reads standard input
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Read the files as mbox mailboxes (mboxrd: ">From " lines are unescaped)
    #[arg(long)]
    pub mbox: bool,

    /// A key record to use instead of DNS: NAME is SELECTOR._domainkey.DOMAIN, and the record is
    /// given as its value or as a file (such as genkey's SELECTOR.txt)
    #[arg(long = "key", value_name = "NAME=RECORD_OR_FILE")]
    pub keys: Vec<String>,

    #[command(flatten)]
    pub dns: DnsArgs,

    /// Verify as of this time (for x=): RFC 3339 or Unix seconds [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_unix_time)]
    pub now: Option<u64>,

    /// Print an Authentication-Results header field (RFC 8601) for each message
    #[arg(long)]
    pub ar: bool,

    /// The authserv-id of the Authentication-Results field [default: this host's name]
    #[arg(long, value_name = "ID", requires = "ar")]
    pub authserv_id: Option<String>,

    /// Print one JSON document with every message and signature
    #[arg(long, conflicts_with = "ar")]
    pub json: bool,
}

/// Whether the commands that read private keys (all but genkey) take one that is not safe.
#[derive(Debug, Args)]
pub struct KeySafetyArgs {
    /// Use a private key that other users could read or replace, with a warning (by default
    /// such a key is refused, as opendkim's RequireSafeKeys refuses it; fix it with chmod 600)
    #[arg(long)]
    pub allow_unsafe_keys: bool,
}

/// How the commands that look records up ask DNS (verify-file, testkey, check, rotate): where,
/// how long to wait, and how DNSSEC is judged.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Ask this name server instead of the system's resolver (repeatable)
    #[arg(long = "nameserver", value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub nameservers: Vec<SocketAddr>,

    /// How long to wait for a DNS answer, such as 5s or 300ms (not in months or years, whose
    /// length varies)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_fixed_length)]
    pub timeout: Duration,

    #[command(flatten)]
    pub dnssec: DnssecArgs,
}

/// DNSSEC validation of key records: one policy for every subcommand that looks keys up
/// (testkey, verify-file, rotate's visibility check), judged zone by zone.
#[derive(Debug, Args)]
pub struct DnssecArgs {
    /// Also trust these DNSKEY or DS records, of any zone (several in one file, as dnssec-keygen's
    /// K*.key, `dig DNSKEY` and unbound's anchor file hold them): a zone under one is validated
    /// from it, every other zone from the root's built-in keys (replaced by a root anchor given
    /// here)
    #[arg(long, value_name = "FILE", conflicts_with = "no_dnssec")]
    pub trust_anchor: Option<PathBuf>,

    /// Do not validate DNSSEC
    #[arg(long)]
    pub no_dnssec: bool,
}

/// `dkimkit testkey`.
#[derive(Debug, Args)]
pub struct TestkeyArgs {
    /// The signing domain whose key to check
    #[arg(short = 'd', long, value_name = "DOMAIN", requires = "selector", value_parser = parse_domain)]
    pub domain: Option<DomainName>,

    /// The selector whose key to check
    #[arg(short = 's', long, value_name = "SELECTOR", requires = "domain")]
    pub selector: Option<Selector>,

    /// The private key, to check that the record publishes its public key
    #[arg(short = 'k', long = "key", value_name = "KEYFILE", requires = "domain")]
    pub key: Option<PathBuf>,

    #[command(flatten)]
    pub key_safety: KeySafetyArgs,

    /// Check every key of this opendkim KeyTable
    #[arg(long, value_name = "[refile:]PATH", conflicts_with_all = ["domain", "config"])]
    pub keytable: Option<String>,

    /// Check the keys this opendkim.conf names: its KeyTable, or Domain, Selector and KeyFile
    /// [default: /etc/opendkim.conf when nothing else says which keys]
    #[arg(short = 'x', long, value_name = "FILE", conflicts_with = "domain")]
    pub config: Option<PathBuf>,

    /// Say more: the record found and the CNAMEs followed (repeatable, as opendkim-testkey's)
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(flatten)]
    pub dns: DnsArgs,

    /// How many keys to check at once
    #[arg(long, value_name = "N", default_value = "32", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,

    /// Print one JSON document with an entry per key
    #[arg(long)]
    pub json: bool,
}

/// How `dkimkit check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Grouped by domain and check, one line per finding with its fix
    Text,
    /// One JSON document: {"domains": [{"domain", "findings": [{"check", "code", "severity", "message", "fix"}]}]}
    Json,
    /// A JUnit XML report: a test suite per domain, a test case per check
    Junit,
}

/// `dkimkit check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The domains to check
    #[arg(value_name = "DOMAIN", required = true)]
    pub domains: Vec<DomainName>,

    /// A DKIM selector to check in every domain (repeatable)
    #[arg(short = 's', long = "selector", value_name = "SELECTOR")]
    pub selectors: Vec<Selector>,

    /// Check the DKIM keys of this opendkim KeyTable whose domain is checked
    #[arg(long, value_name = "[refile:]PATH", conflicts_with = "config")]
    pub keytable: Option<String>,

    /// Check the DKIM keys this opendkim.conf names (its KeyTable, or Domain, Selector and KeyFile)
    #[arg(short = 'x', long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Evaluate SPF (check_host) for mail from this address, and report the term that decides;
    /// anything but pass is an error (repeatable)
    #[arg(long = "ip", value_name = "ADDR")]
    pub ips: Vec<std::net::IpAddr>,

    #[command(flatten)]
    pub dns: DnsArgs,

    /// Fetch the MTA-STS policy over HTTPS from https://mta-sts.DOMAIN/.well-known/mta-sts.txt
    /// when the domain announces one, and match its mx patterns against the MX records
    #[arg(long)]
    pub fetch: bool,

    /// Trust this CA's certificates (PEM) for --fetch, besides the system's (for a private CA)
    #[arg(long, value_name = "FILE", requires = "fetch")]
    pub ca_file: Option<PathBuf>,

    /// The HTTPS port for --fetch (for tests: MTA-STS is always on 443)
    #[arg(long, value_name = "PORT", default_value = "443", hide = true)]
    pub mta_sts_port: u16,

    /// Treat warnings as errors (exit 1)
    #[arg(long)]
    pub strict: bool,

    /// How to print the findings
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "text",
        conflicts_with = "json"
    )]
    pub format: CheckFormat,

    /// The same as --format json
    #[arg(long)]
    pub json: bool,

    /// How many domains to check at once
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,
}

/// How rotate publishes and withdraws records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishMethod {
    /// DNS UPDATE (RFC 2136) to --server, signed with --tsig-key
    Rfc2136,
    /// The zone's own file (--zone-file), or an include file per domain (--zone-dir), then
    /// --dns-reload-command
    ZoneFile,
    /// Print the records to add and remove; a person or another tool publishes them
    Manual,
    /// Run --publish-command once per change, with the change in its environment
    Exec,
    /// A DNS hosting provider's API, with --credentials
    Hosted(Provider),
}

/// Every method: the four of dkimkit's own, then every provider the library knows.
const PUBLISH_METHODS: [PublishMethod; 4 + Provider::ALL.len()] = {
    let mut methods = [PublishMethod::Manual; 4 + Provider::ALL.len()];
    methods[0] = PublishMethod::Rfc2136;
    methods[1] = PublishMethod::ZoneFile;
    methods[2] = PublishMethod::Manual;
    methods[3] = PublishMethod::Exec;
    let mut index = 0;
    while index < Provider::ALL.len() {
        methods[4 + index] = PublishMethod::Hosted(Provider::ALL[index]);
        index += 1;
    }
    methods
};

// By hand rather than derived, so that the providers come from the library's list.
impl ValueEnum for PublishMethod {
    fn value_variants<'a>() -> &'a [Self] {
        &PUBLISH_METHODS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            PublishMethod::Rfc2136 => PossibleValue::new("rfc2136")
                .help("DNS UPDATE (RFC 2136) to --server, signed with --tsig-key"),
            PublishMethod::ZoneFile => PossibleValue::new("zone-file").help(
                "The zone's own file (--zone-file), or an include file per domain (--zone-dir), \
                 then --dns-reload-command",
            ),
            PublishMethod::Manual => PossibleValue::new("manual").help(
                "Print the records to add and remove; a person or another tool publishes them",
            ),
            PublishMethod::Exec => PossibleValue::new("exec")
                .help("Run --publish-command once per change, with the change in its environment"),
            PublishMethod::Hosted(provider) => {
                let keys: Vec<String> = provider
                    .settings()
                    .iter()
                    .map(|setting| match setting.required {
                        true => setting.key.to_owned(),
                        false => format!("[{}]", setting.key),
                    })
                    .collect();
                PossibleValue::new(provider.name()).help(format!(
                    "{}; --credentials: {}",
                    provider.title(),
                    keys.join(", ")
                ))
            }
        })
    }
}

/// What `dkimkit rotate` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RotateAction {
    /// Print each entry's active, pending and retiring selectors and the date of its next step,
    /// from the state file and the KeyTable, changing nothing
    Status,
}

/// `dkimkit rotate`. Its --nameserver is DnsArgs', but each server given is asked, not the first
/// that answers.
#[derive(Debug, Args)]
#[command(mut_args(|arg| match arg.get_id().as_str() {
    "nameservers" => arg.help(
        "Check records at this name server (repeatable: list the primary and every secondary). A \
         new record counts as published only when every one serves it, an old one as withdrawn \
         only when none does; the first is also asked where a selector's CNAME points [default: \
         the system's resolver]",
    ),
    _ => arg,
}))]
pub struct RotateArgs {
    /// `status`: print where each entry is, and change nothing [default: rotate]
    #[arg(value_enum, value_name = "ACTION")]
    pub action: Option<RotateAction>,

    /// opendkim's KeyTable; managed entries are switched to their new keys in place
    #[arg(long, value_name = "[file:]PATH", required_unless_present = "config")]
    pub keytable: Option<String>,

    /// opendkim's SigningTable: when given, only keys it refers to are rotated
    #[arg(long, value_name = "[refile:]PATH", conflicts_with = "config")]
    pub signing_table: Option<String>,

    /// Read opendkim.conf: its KeyTable and SigningTable, or its single key (Domain, Selector,
    /// KeyFile; rotate rewrites the Selector and KeyFile lines), and its Nameservers,
    /// TrustAnchorFile, UserID and RequireSafeKeys
    #[arg(short = 'x', long, value_name = "FILE", conflicts_with = "keytable")]
    pub config: Option<PathBuf>,

    /// List the settings used
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Rotate the entries whose key files are under DIR (others are left untouched); the state
    /// and the lock live here too
    #[arg(long, value_name = "DIR")]
    pub keys_dir: PathBuf,

    /// How new selectors are named (strftime: %Y %y %m %d %H %M %S %j %s; %k the key type, rsa
    /// or ed25519). When a domain has several managed entries (an RSA and an Ed25519 key) and
    /// the format has no %k, "-%k" is added, so that the pair gets distinct selectors
    #[arg(long, value_name = "FORMAT", default_value = "%Y%m")]
    pub selector_format: String,

    /// The type of new keys [default: the current key's]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub key_type: Option<KeyTypeArg>,

    /// The size of new RSA keys [default: the current key's]
    #[arg(short = 'b', long, value_name = "BITS")]
    pub bits: Option<usize>,

    /// Rotate a key once it is this old (1month: on the same day of the next month, or its last
    /// day)
    #[arg(long, value_name = "DURATION", default_value = "1month")]
    pub every: Period,

    /// Keep an old key's record published this long after the switch
    #[arg(long, value_name = "DURATION", default_value = "14d")]
    pub overlap: Period,

    /// Act as of this time: RFC 3339 or Unix seconds [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_unix_time)]
    pub now: Option<u64>,

    /// Print what would be done, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub key_safety: KeySafetyArgs,

    /// Print one JSON document (for logs)
    #[arg(long)]
    pub json: bool,

    /// Run this after switching the KeyTable, such as 'systemctl reload opendkim' (once for
    /// every key a run switches together)
    #[arg(long, value_name = "CMD")]
    pub reload_command: Option<String>,

    /// How records are published and withdrawn
    #[arg(
        long,
        value_enum,
        value_name = "METHOD",
        required_unless_present = "action"
    )]
    pub publish: Option<PublishMethod>,

    /// With --publish exec: run this with `sh -c` once per change, with DKIMKIT_ACTION
    /// (publish or withdraw), DKIMKIT_NAME, DKIMKIT_ZONE, DKIMKIT_VALUE and DKIMKIT_STRINGS (the
    /// value's strings of at most 255 bytes, quoted as nsupdate and BIND write them) in its
    /// environment. Exit 0: done; 75 (EX_TEMPFAIL): try again at the next run (exit 3);
    /// anything else: the entry fails (exit 1)
    #[arg(long, value_name = "CMD", required_if_eq("publish", "exec"))]
    pub publish_command: Option<String>,

    /// Start a rotation of DOMAIN's keys now, due or not, as when a key is believed stolen:
    /// the old record is withdrawn as soon as the new one is served, with no overlap
    /// (repeatable)
    #[arg(long, value_name = "DOMAIN", value_parser = parse_domain)]
    pub rotate_now: Vec<DomainName>,

    /// With --rotate-now: replace the old record with one whose p= is empty, which revokes the
    /// key (RFC 6376 3.6.1), instead of deleting it
    #[arg(long, requires = "rotate_now")]
    pub revoke: bool,

    /// Write each retired private key into DIR (as DOMAIN.SELECTOR.private, mode 0644) once its
    /// overlap has ended, so that old mail can no longer be proven authentic (as dkim-rotate
    /// reveals keys)
    #[arg(long, value_name = "DIR")]
    pub reveal_dir: Option<PathBuf>,

    /// With --publish rfc2136: the primary name server to send updates to
    #[arg(long, value_name = "IP[:PORT]", required_if_eq("publish", "rfc2136"))]
    pub server: Option<String>,

    /// With --publish rfc2136: the TSIG key, as tsig-keygen writes it
    #[arg(long, value_name = "FILE")]
    pub tsig_key: Option<PathBuf>,

    /// With --publish PROVIDER (powerdns, cloudflare, ...): the provider's credentials, as
    /// KEY=VALUE lines (see each provider for its keys), in a file only its owner can read
    /// (chmod 600, as a private key). The zone a record goes into is the signing domain, or
    /// the zone the first --nameserver says holds it
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,

    /// With --publish zone-file: where to write DOMAIN.dkim, one include file per domain
    #[arg(long, value_name = "DIR", conflicts_with = "zone_files")]
    pub zone_dir: Option<PathBuf>,

    /// With --publish zone-file: edit the zone's own master file, raising its SOA serial in the
    /// form it uses (YYYYMMDDnn, counter or Unix time); every other byte is kept (repeatable:
    /// one per zone)
    #[arg(long = "zone-file", value_name = "ZONE=PATH", value_parser = parse_zone_file)]
    pub zone_files: Vec<(String, PathBuf)>,

    /// With --publish zone-file: run this after writing the zone or include files, such as
    /// 'rndc reload' (once for every file a run writes together)
    #[arg(long, value_name = "CMD")]
    pub dns_reload_command: Option<String>,

    #[command(flatten)]
    pub dns: DnsArgs,

    /// Wait this long for the name servers to serve a new record or drop an old one; then exit
    /// 1 naming the servers behind, so that cron mails someone
    #[arg(long, value_name = "DURATION", default_value = "3d")]
    pub max_wait: Period,

    /// Stop after this many steps, as if killed (for testing that every step is resumable)
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after_steps: Option<usize>,
}

/// Parses a comma-separated list of host names (opendkim-genzone's -N).
fn parse_name_list(text: &str) -> Result<NameList, String> {
    split_list(text, &[',']).map(NameList)
}

/// The parsed value of genzone's -N.
#[derive(Debug, Clone)]
pub struct NameList(pub Vec<String>);

/// `dkimkit genzone`.
#[derive(Debug, Args)]
pub struct GenzoneArgs {
    /// The KeyTable: a file (file:PATH or PATH) [default: the KeyTable of -x's opendkim.conf]
    #[arg(value_name = "DATASET")]
    pub dataset: Option<String>,

    /// Read the keys from this opendkim.conf when no DATASET is given: its KeyTable, or its
    /// Domain, Selector and KeyFile [default: /etc/opendkim.conf, if it exists]
    #[arg(short = 'x', long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Only the keys of this domain
    #[arg(short = 'd', long, value_name = "DOMAIN")]
    pub domain: Option<DomainName>,

    /// With -d: its subdomains' keys too (without -d, ignored, as by opendkim-genzone)
    #[arg(short = 's', long)]
    pub subdomains: bool,

    /// Name records SELECTOR._domainkey, for the domain's own zone [default: SELECTOR, for a
    /// _domainkey.DOMAIN zone]
    #[arg(short = 'D', long, conflicts_with = "fully_qualified")]
    pub domainkey_suffix: bool,

    /// Name records SELECTOR._domainkey.DOMAIN., fully qualified
    #[arg(short = 'F', long)]
    pub fully_qualified: bool,

    /// Restrict the keys to email (s=email)
    #[arg(short = 'M', long)]
    pub email_only: bool,

    /// Put this TTL on every record, in seconds
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub ttl: Option<u32>,

    /// Write an SOA record at the top (serial: the current hour, YYYYMMDDHH, UTC); ignored
    /// with -u, as by opendkim-genzone
    #[arg(short = 'S', long)]
    pub soa: bool,

    /// Name servers, separated by commas: NS records before the TXT records; the first is the
    /// SOA's primary and, with -u, the server nsupdate sends to [default: this host]
    #[arg(short = 'N', long, value_name = "NS[,NS...]", value_parser = parse_name_list)]
    pub nameservers: Option<NameList>,

    /// The SOA's contact, as an address (hostmaster@example.com) [default: hostmaster at this
    /// host]
    #[arg(short = 'C', long, value_name = "ADDRESS")]
    pub contact: Option<String>,

    /// The SOA's refresh time, in seconds
    #[arg(short = 'r', long, value_name = "SECONDS", default_value = "10800")]
    pub refresh: u32,

    /// The SOA's retry time, in seconds
    #[arg(short = 'R', long, value_name = "SECONDS", default_value = "1800")]
    pub retry: u32,

    /// The SOA's expire time, in seconds
    #[arg(short = 'E', long, value_name = "SECONDS", default_value = "604800")]
    pub expire: u32,

    /// The SOA's default TTL, in seconds; also the TTL of -u's records when -t is not given
    #[arg(short = 'T', long, value_name = "SECONDS", default_value = "86400")]
    pub default_ttl: u32,

    /// Write a script for nsupdate instead of zone data
    #[arg(short = 'u', long = "nsupdate")]
    pub nsupdate: bool,

    /// Write to FILE instead of standard output (replaced atomically)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub key_safety: KeySafetyArgs,

    /// Say what is done, on standard error: the opendkim.conf settings used, keys skipped, the
    /// number of records
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Print one JSON document with every key's record instead
    #[arg(long, conflicts_with_all = ["nsupdate", "soa"])]
    pub json: bool,
}

/// `dkimkit generate-docs` (hidden: for the maintainers and packagers).
#[derive(Debug, Args)]
pub struct GenerateDocsArgs {
    /// The directory to write man/ and completions/ into
    #[arg(value_name = "DIR")]
    pub directory: PathBuf,
}

/// Parses a signing domain; an internationalised one (`bücher.example`) is taken in its xn--
/// form, which DNS and DKIM use, with a note saying so.
fn parse_domain(text: &str) -> Result<DomainName, NameError> {
    match text.parse() {
        Err(NameError::Internationalised { ascii }) => {
            crate::output::note(&format!("{text} is written {ascii} in DNS; using that"));
            ascii.parse()
        }
        parsed => parsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    /// Examples are looked up by a subcommand's own name: a misspelt one leaves it without.
    #[test]
    fn every_subcommand_has_examples() {
        let cli = Cli::command();
        let visible = cli.get_subcommands().filter(|s| !s.is_hide_set());
        for name in std::iter::once("").chain(visible.map(clap::Command::get_name)) {
            assert!(!examples(name).is_empty(), "{name:?} has no examples");
        }
    }
}

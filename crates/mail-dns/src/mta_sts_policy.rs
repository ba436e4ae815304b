//! The MTA-STS policy (RFC 8461 3.3), fetched from `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
//! over HTTPS with a certificate valid for that name, parsed (3.2), and its `mx` patterns
//! matched against the domain's MX hosts (4.1).

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::findings::{Check, Code, Finding};
use dkim_dns::{RecordData, RecordKind, RecordLookup};

/// RFC 8461 3.3: senders may refuse policies larger than 64 KiB.
const MAX_POLICY: u64 = 64 * 1024;
/// RFC 8461 3.2: max_age is at most a year.
const MAX_AGE_LIMIT: u64 = 31_557_600;

/// How to fetch policies.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    config: Arc<ClientConfig>,
    port: u16,
    timeout: Duration,
}

/// Why fetching could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchSetupError {
    /// The CA file holds no certificate, or one that does not parse.
    #[error("the CA file holds no usable certificate: {0}")]
    CaFile(String),
    /// No CA certificate at all to check servers with.
    #[error("no CA certificates: the system has none and no CA file was given")]
    NoRoots,
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl FetchSettings {
    /// Fetches over HTTPS on `port` (443 in real use), trusting the system's CA certificates and
    /// those of `extra_ca_pem` (a private CA), waiting `timeout` for each step.
    pub fn new(
        extra_ca_pem: Option<&[u8]>,
        port: u16,
        timeout: Duration,
    ) -> Result<FetchSettings, FetchSetupError> {
        let mut roots = RootCertStore::empty();
        // The system's store may be missing or partly unreadable; what loads is used.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(pem) = extra_ca_pem {
            let mut added = 0;
            for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let certificate =
                    certificate.map_err(|e| FetchSetupError::CaFile(e.to_string()))?;
                roots
                    .add(certificate)
                    .map_err(|e| FetchSetupError::CaFile(e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(FetchSetupError::CaFile(
                    "no PEM CERTIFICATE block".to_owned(),
                ));
            }
        }
        if roots.is_empty() {
            return Err(FetchSetupError::NoRoots);
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(FetchSettings {
            config: Arc::new(config),
            port,
            timeout,
        })
    }
}

fn finding(message: String, fix: &str) -> Finding {
    Finding::new(Check::MtaSts, Code::MtaStsPolicy, message, fix)
}

/// Fetches and checks `domain`'s policy against its `mx_hosts`.
pub fn check(
    lookup: &dyn RecordLookup,
    domain: &str,
    mx_hosts: &[String],
    settings: &FetchSettings,
) -> Vec<Finding> {
    let host = format!("mta-sts.{domain}");
    let url = format!("https://{host}/.well-known/mta-sts.txt");
    let body = match fetch(lookup, &host, settings) {
        Ok(body) => body,
        Err(Fetch::Lookup(finding)) => return vec![finding],
        Err(Fetch::Failed(why)) => {
            return vec![finding(
                format!(
                    "{url}: {why}; senders cannot read the policy the _mta-sts record announces"
                ),
                "serve the policy at that address over HTTPS with a certificate valid for the \
                 name (RFC 8461 3.3), or remove the _mta-sts record",
            )];
        }
    };
    match parse_policy(&body) {
        Err(why) => vec![finding(
            format!("{url}: {why}"),
            "write the policy as RFC 8461 3.2 shows: version: STSv1, mode, mx and max_age lines",
        )],
        Ok(policy) if policy.mode == "none" => Vec::new(),
        Ok(policy) => mx_hosts
            .iter()
            .filter(|host| !policy.mx.iter().any(|pattern| mx_matches(pattern, host)))
            .map(|host| {
                finding(
                    format!(
                        "{url}: the MX host {host} matches none of the policy's mx patterns ({}); \
                         with mode {} senders will not deliver to it",
                        policy.mx.join(", "),
                        policy.mode
                    ),
                    "add an mx: line for the host to the policy, and change the id= of the \
                     _mta-sts record",
                )
            })
            .collect(),
    }
}

enum Fetch {
    Lookup(Finding),
    Failed(String),
}

/// The policy's body, fetched over HTTPS from the first address of `host` that answers.
fn fetch(lookup: &dyn RecordLookup, host: &str, settings: &FetchSettings) -> Result<String, Fetch> {
    let mut addresses: Vec<IpAddr> = Vec::new();
    for kind in [RecordKind::A, RecordKind::Aaaa] {
        let records = lookup
            .lookup_records(host, kind)
            .map_err(|error| Fetch::Lookup(Finding::lookup_failed(Check::MtaSts, &error)))?;
        addresses.extend(records.addresses());
    }
    let Some(address) = addresses.first() else {
        return Err(Fetch::Failed(format!("{host} has no A or AAAA record")));
    };
    let server = ServerName::try_from(host.to_owned())
        .map_err(|e| Fetch::Failed(format!("{host} is not a valid server name: {e}")))?;
    let connection = ClientConnection::new(Arc::clone(&settings.config), server)
        .map_err(|e| Fetch::Failed(format!("TLS: {e}")))?;
    let socket = SocketAddr::new(*address, settings.port);
    let tcp = TcpStream::connect_timeout(&socket, settings.timeout)
        .map_err(|e| Fetch::Failed(format!("cannot connect to {socket}: {e}")))?;
    let io_failed = |e: std::io::Error| Fetch::Failed(format!("{socket}: {e}"));
    tcp.set_read_timeout(Some(settings.timeout))
        .map_err(io_failed)?;
    tcp.set_write_timeout(Some(settings.timeout))
        .map_err(io_failed)?;
    let mut stream = StreamOwned::new(connection, tcp);
    // HTTP/1.0: the response ends when the connection closes, with no chunked encoding.
    let request = format!(
        "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: {host}\r\nUser-Agent: dkimkit\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io_failed)?;
    let mut response = Vec::new();
    let read = std::io::Read::by_ref(&mut stream)
        .take(MAX_POLICY + 4096)
        .read_to_end(&mut response);
    // Servers that close without TLS close_notify end the body all the same.
    if let Err(e) = read
        && (e.kind() != std::io::ErrorKind::UnexpectedEof || response.is_empty())
    {
        return Err(io_failed(e));
    }
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Fetch::Failed("the response is not HTTP".to_owned()))?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(Fetch::Failed(format!("the server answered {status:?}")));
    }
    let plain = head.lines().skip(1).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("content-type")
                && value.trim().to_ascii_lowercase().starts_with("text/plain")
        })
    });
    if !plain {
        return Err(Fetch::Failed(
            "the policy is not served as text/plain (RFC 8461 3.3)".to_owned(),
        ));
    }
    if body.len() as u64 > MAX_POLICY {
        return Err(Fetch::Failed("the policy is larger than 64 KiB".to_owned()));
    }
    Ok(body.to_owned())
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    mode: String,
    mx: Vec<String>,
}

/// Parses a policy (RFC 8461 3.2): `key: value` lines, CRLF or LF.
fn parse_policy(text: &str) -> Result<Policy, String> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("the line {line:?} is not key: value"))?;
        let value = value.trim().to_owned();
        match key.trim() {
            "version" => version = Some(value),
            "mode" => mode = Some(value),
            "max_age" => max_age = Some(value),
            "mx" => mx.push(value),
            // RFC 8461 3.2: other keys are extensions, ignored.
            _ => {}
        }
    }
    if version.as_deref() != Some("STSv1") {
        return Err("the policy has no \"version: STSv1\" line".to_owned());
    }
    let mode = mode.ok_or("the policy has no mode: line")?;
    if !matches!(mode.as_str(), "enforce" | "testing" | "none") {
        return Err(format!("mode: {mode} must be enforce, testing or none"));
    }
    let max_age = max_age.ok_or("the policy has no max_age: line")?;
    if !max_age.parse::<u64>().is_ok_and(|age| age <= MAX_AGE_LIMIT) {
        return Err(format!(
            "max_age: {max_age} must be a number of seconds up to {MAX_AGE_LIMIT}"
        ));
    }
    if mx.is_empty() && mode != "none" {
        return Err(format!("mode {mode} needs at least one mx: line"));
    }
    Ok(Policy { mode, mx })
}

/// RFC 8461 4.1: a pattern is a host name, or `*.` and a domain, which matches one more label.
fn mx_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

/// The MX hosts of `domain` (none for a null MX).
pub(crate) fn mx_hosts(lookup: &dyn RecordLookup, domain: &str) -> Vec<String> {
    lookup
        .lookup_records(domain, RecordKind::Mx)
        .map(|records| {
            records
                .data
                .into_iter()
                .filter_map(|data| match data {
                    RecordData::Mx { exchange, .. } if !exchange.is_empty() => Some(exchange),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_patterns() {
        let policy = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
        )
        .unwrap();
        assert_eq!(policy.mode, "enforce");
        assert_eq!(policy.mx, ["mail.example.com", "*.example.net"]);
        assert!(parse_policy("mode: enforce\nmx: a.example\nmax_age: 1\n").is_err());
        assert!(parse_policy("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n").is_err());
        assert!(parse_policy("version: STSv1\nmode: enforce\nmax_age: 1\n").is_err());
        assert!(parse_policy("version: STSv1\nmode: none\nmax_age: 99999999999\n").is_err());
        assert!(mx_matches("*.example.net", "mx1.example.net"));
        assert!(!mx_matches("*.example.net", "a.mx1.example.net"));
        assert!(!mx_matches("*.example.net", "example.net"));
        assert!(mx_matches("Mail.Example.com.", "mail.example.com"));
    }
}

//! Key records published through a DNS hosting provider's HTTP API (PowerDNS, Cloudflare,
//! Route 53, ...), by Stalwart's `dns-update` crate, with the provider's credentials read from a
//! file only its owner can read.
//!
//! The credentials file holds `KEY=VALUE` lines (blank lines and `#` comments allowed); which
//! keys a provider takes is [`Provider::settings`]. Secrets never appear in an error: the file's
//! errors name the line and the key, not the value, and a provider's own error text has every
//! secret value blanked before it is shown.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dns_update::providers::route53::Route53Config;
use dns_update::{DnsRecord, DnsRecordType};

use super::runtime::BackgroundRuntime;
use host_files::{UnsafeKeyFile, check_secret_file};

/// A DNS hosting provider whose API `dns-update` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// PowerDNS Authoritative's HTTP API.
    PowerDns,
    /// Cloudflare.
    Cloudflare,
    /// Amazon Route 53.
    Route53,
    /// Hetzner DNS.
    Hetzner,
    /// DigitalOcean.
    DigitalOcean,
    /// OVHcloud.
    Ovh,
    /// deSEC.
    Desec,
    /// Gandi LiveDNS (v5).
    Gandi,
    /// Linode (Akamai).
    Linode,
    /// Vultr.
    Vultr,
}

/// One key of a credentials file.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The key, as written before `=`.
    pub key: &'static str,
    /// Whether the file must have it.
    pub required: bool,
    /// Whether its value is a secret (blanked from every message).
    pub secret: bool,
}

const fn required_secret(key: &'static str) -> Setting {
    Setting {
        key,
        required: true,
        secret: true,
    }
}

const fn optional_plain(key: &'static str) -> Setting {
    Setting {
        key,
        required: false,
        secret: false,
    }
}

const API_TOKEN: &[Setting] = &[required_secret("api_token")];
const API_KEY: &[Setting] = &[required_secret("api_key")];
const POWERDNS: &[Setting] = &[
    Setting {
        key: "url",
        required: true,
        secret: false,
    },
    required_secret("api_key"),
    optional_plain("server_id"),
];
const ROUTE53: &[Setting] = &[
    required_secret("access_key_id"),
    required_secret("secret_access_key"),
    Setting {
        key: "session_token",
        required: false,
        secret: true,
    },
    optional_plain("region"),
    optional_plain("hosted_zone_id"),
];
const OVH: &[Setting] = &[
    required_secret("application_key"),
    required_secret("application_secret"),
    required_secret("consumer_key"),
    optional_plain("endpoint"),
];

impl Provider {
    /// Every provider, in the order the documentation lists them.
    pub const ALL: [Provider; 10] = [
        Provider::PowerDns,
        Provider::Cloudflare,
        Provider::Route53,
        Provider::Hetzner,
        Provider::DigitalOcean,
        Provider::Ovh,
        Provider::Desec,
        Provider::Gandi,
        Provider::Linode,
        Provider::Vultr,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Provider::PowerDns => "powerdns",
            Provider::Cloudflare => "cloudflare",
            Provider::Route53 => "route53",
            Provider::Hetzner => "hetzner",
            Provider::DigitalOcean => "digitalocean",
            Provider::Ovh => "ovh",
            Provider::Desec => "desec",
            Provider::Gandi => "gandi",
            Provider::Linode => "linode",
            Provider::Vultr => "vultr",
        }
    }

    /// What it is, in words.
    pub fn title(self) -> &'static str {
        match self {
            Provider::PowerDns => "PowerDNS Authoritative's HTTP API",
            Provider::Cloudflare => "Cloudflare",
            Provider::Route53 => "Amazon Route 53",
            Provider::Hetzner => "Hetzner DNS",
            Provider::DigitalOcean => "DigitalOcean",
            Provider::Ovh => "OVHcloud (endpoint: ovh-eu, ovh-us, ovh-ca, ...)",
            Provider::Desec => "deSEC",
            Provider::Gandi => "Gandi LiveDNS (api_token: a personal access token)",
            Provider::Linode => "Linode",
            Provider::Vultr => "Vultr",
        }
    }

    /// The keys its credentials file takes.
    pub fn settings(self) -> &'static [Setting] {
        match self {
            Provider::PowerDns => POWERDNS,
            Provider::Route53 => ROUTE53,
            Provider::Ovh => OVH,
            Provider::Vultr => API_KEY,
            Provider::Cloudflare
            | Provider::Hetzner
            | Provider::DigitalOcean
            | Provider::Desec
            | Provider::Gandi
            | Provider::Linode => API_TOKEN,
        }
    }

    fn keys(self) -> String {
        let keys: Vec<&str> = self.settings().iter().map(|s| s.key).collect();
        keys.join(", ")
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a credentials file cannot be used. No variant holds a value from the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// Other users could read or replace the file (the private key check).
    #[error(transparent)]
    Unsafe(#[from] UnsafeKeyFile),
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line that is not `KEY=VALUE`.
    #[error("{} line {line}: not KEY=VALUE; write one setting a line, such as {example}=...", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// A key the provider takes.
        example: &'static str,
    },
    /// A key the provider does not take.
    #[error("{} line {line}: {key} is not a {provider} setting; it takes {keys}", path.display())]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The key.
        key: String,
        /// The provider.
        provider: Provider,
        /// The keys it takes.
        keys: String,
    },
    /// A key given twice.
    #[error("{} line {line}: {key} is given a second time; keep one", path.display())]
    Repeated {
        /// The file.
        path: PathBuf,
        /// The line number of the second one, from 1.
        line: usize,
        /// The key.
        key: String,
    },
    /// A key the provider needs is missing or empty.
    #[error("{}: {key}= is missing or empty; {provider} needs it", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// The provider.
        provider: Provider,
    },
    /// A value the provider cannot use (only ever a non-secret one is quoted).
    #[error("{} line {line}: {key}: {why}", path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Settings the provider's client refused.
    #[error("{}: the {provider} settings are refused: {why}", path.display())]
    Rejected {
        /// The file.
        path: PathBuf,
        /// The provider.
        provider: Provider,
        /// Why, with every secret blanked.
        why: String,
    },
    /// The client's runtime could not start.
    #[error("cannot start the {provider} client: {source}")]
    Runtime {
        /// The provider.
        provider: Provider,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A provider's credentials, read from a file only its owner can read.
pub struct Credentials {
    path: PathBuf,
    provider: Provider,
    /// Value and line number, by key.
    values: BTreeMap<&'static str, (String, usize)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("path", &self.path)
            .field("provider", &self.provider)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads `path` for `provider`, refusing it as a private key would be refused when other
    /// users could read or replace it.
    pub fn from_file(path: &Path, provider: Provider) -> Result<Credentials, CredentialsError> {
        let read = |source| CredentialsError::Read {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read)?;
        check_secret_file(&file, path, "the credentials")?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(read)?;
        let credentials = Credentials::parse(&text, path, provider);
        zeroize::Zeroize::zeroize(&mut text);
        credentials
    }

    /// Parses the text of the credentials file at `path`.
    pub fn parse(
        text: &str,
        path: &Path,
        provider: Provider,
    ) -> Result<Credentials, CredentialsError> {
        let settings = provider.settings();
        let mut values = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(CredentialsError::Syntax {
                    path: path.to_owned(),
                    line: number,
                    example: settings[0].key,
                });
            };
            let key = key.trim();
            let Some(setting) = settings.iter().find(|s| s.key == key) else {
                return Err(CredentialsError::UnknownKey {
                    path: path.to_owned(),
                    line: number,
                    key: key.to_owned(),
                    provider,
                    keys: provider.keys(),
                });
            };
            let value = value.trim().to_owned();
            if values.insert(setting.key, (value, number)).is_some() {
                return Err(CredentialsError::Repeated {
                    path: path.to_owned(),
                    line: number,
                    key: key.to_owned(),
                });
            }
        }
        values.retain(|_, (value, _)| !value.is_empty());
        for setting in settings.iter().filter(|s| s.required) {
            if !values.contains_key(setting.key) {
                return Err(CredentialsError::Missing {
                    path: path.to_owned(),
                    key: setting.key,
                    provider,
                });
            }
        }
        Ok(Credentials {
            path: path.to_owned(),
            provider,
            values,
        })
    }

    /// The provider they are for.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(value, _)| value.as_str())
    }

    /// A required key's value (checked present by `parse`).
    fn required(&self, key: &str) -> &str {
        self.get(key).unwrap_or_default()
    }

    fn bad_value(&self, key: &'static str, why: String) -> CredentialsError {
        CredentialsError::BadValue {
            path: self.path.clone(),
            line: self.values.get(key).map_or(0, |(_, line)| *line),
            key,
            why,
        }
    }

    /// The secret values, to blank from provider errors.
    fn secrets(&self) -> Vec<String> {
        self.provider
            .settings()
            .iter()
            .filter(|s| s.secret)
            .filter_map(|s| self.get(s.key).map(str::to_owned))
            .collect()
    }
}

/// Why a record could not be changed at the provider.
#[derive(Debug, thiserror::Error)]
#[error("{provider} API: {message}")]
pub struct HostedDnsError {
    provider: Provider,
    /// The provider's error, with every secret blanked.
    message: String,
    temporary: bool,
    missing_zone: bool,
}

impl HostedDnsError {
    /// Whether trying again later may succeed (the API could not be reached, timed out, or
    /// failed on its side), as opposed to a refusal that needs the administrator.
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// Whether the provider has no zone to hold the record.
    pub fn is_missing_zone(&self) -> bool {
        self.missing_zone
    }
}

/// Changes TXT records through a provider's API, for synchronous callers.
pub struct HostedDns {
    provider: Provider,
    /// The credentials file, named when the provider refuses them.
    credentials_path: PathBuf,
    updater: Arc<dns_update::DnsUpdater>,
    secrets: Vec<String>,
    runtime: BackgroundRuntime,
}

impl HostedDns {
    /// A client for the provider of `credentials`, each request given `timeout`.
    pub fn new(
        credentials: &Credentials,
        timeout: Duration,
    ) -> Result<HostedDns, CredentialsError> {
        use dns_update::DnsUpdater as D;
        let c = credentials;
        let timeout = Some(timeout);
        let provider = c.provider;
        let runtime = BackgroundRuntime::start(1, "dkimkit-hosted-dns")
            .map_err(|source| CredentialsError::Runtime { provider, source })?;
        // The HTTP clients are built inside the runtime: some of them register with it.
        let _context = runtime.enter();
        let updater = match provider {
            Provider::PowerDns => D::new_pdns(
                c.required("api_key"),
                Some(c.required("url")),
                c.get("server_id"),
                timeout,
            ),
            Provider::Cloudflare => D::new_cloudflare(c.required("api_token"), timeout),
            Provider::Hetzner => D::new_hetzner(c.required("api_token"), timeout),
            Provider::DigitalOcean => D::new_digitalocean(c.required("api_token"), timeout),
            Provider::Desec => D::new_desec(c.required("api_token"), timeout),
            Provider::Gandi => D::new_gandiv5(c.required("api_token"), timeout),
            Provider::Linode => D::new_linode(c.required("api_token"), timeout),
            Provider::Vultr => D::new_vultr(c.required("api_key"), timeout),
            Provider::Route53 => Ok(D::new_route53(Route53Config {
                access_key_id: c.required("access_key_id").to_owned(),
                secret_access_key: c.required("secret_access_key").to_owned(),
                session_token: c.get("session_token").map(str::to_owned),
                region: c.get("region").map(str::to_owned),
                hosted_zone_id: c.get("hosted_zone_id").map(str::to_owned),
                private_zone_only: None,
                endpoint: None,
            })
            .map_err(|_| {
                c.bad_value("region", "not a region name (such as us-east-1)".to_owned())
            })?),
            Provider::Ovh => {
                let endpoint = c.get("endpoint").unwrap_or("ovh-eu");
                let endpoint = endpoint.parse().map_err(|_| {
                    c.bad_value(
                        "endpoint",
                        format!(
                            "{endpoint} is not an OVH endpoint; use ovh-eu, ovh-us, ovh-ca, \
                             kimsufi-eu, kimsufi-ca, soyoustart-eu or soyoustart-ca"
                        ),
                    )
                })?;
                D::new_ovh(
                    c.required("application_key"),
                    c.required("application_secret"),
                    c.required("consumer_key"),
                    endpoint,
                    timeout,
                )
            }
        };
        let secrets = c.secrets();
        // What dns-update refuses at construction is in the settings (a malformed URL or key).
        let updater = updater.map_err(|error| CredentialsError::Rejected {
            path: c.path.clone(),
            provider,
            why: blank_secrets(&error.to_string(), &secrets),
        });
        Ok(HostedDns {
            provider,
            credentials_path: c.path.clone(),
            updater: Arc::new(updater?),
            secrets,
            runtime,
        })
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Makes `value` the only TXT record at `name` in `zone`, with `ttl`.
    pub fn replace_txt(
        &self,
        name: &str,
        zone: &str,
        value: &str,
        ttl: u32,
    ) -> Result<(), HostedDnsError> {
        self.set_txt(name, zone, ttl, vec![DnsRecord::TXT(value.to_owned())])
    }

    /// Deletes every TXT record at `name` in `zone`.
    pub fn delete_txt(&self, name: &str, zone: &str) -> Result<(), HostedDnsError> {
        self.set_txt(name, zone, 0, Vec::new())
    }

    /// Replaces the TXT RRset at `name` (empty `records`: deletes it).
    fn set_txt(
        &self,
        name: &str,
        zone: &str,
        ttl: u32,
        records: Vec<DnsRecord>,
    ) -> Result<(), HostedDnsError> {
        let updater = Arc::clone(&self.updater);
        let (owned_name, owned_zone) = (name.to_owned(), zone.to_owned());
        let outcome = self.runtime.run(async move {
            updater
                .set_rrset(
                    owned_name.as_str(),
                    DnsRecordType::TXT,
                    ttl,
                    records,
                    owned_zone.as_str(),
                )
                .await
        });
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(error)) => Err(HostedDnsError {
                provider: self.provider,
                temporary: is_temporary(&error),
                missing_zone: matches!(error, dns_update::Error::NotFound),
                message: match error {
                    dns_update::Error::Unauthorized => format!(
                        "the credentials in {} are refused (unauthorized): check them",
                        self.credentials_path.display()
                    ),
                    dns_update::Error::NotFound => {
                        format!("no zone {zone} there to hold {name}: create it")
                    }
                    other => blank_secrets(&other.to_string(), &self.secrets),
                },
            }),
            None => Err(HostedDnsError {
                provider: self.provider,
                temporary: true,
                missing_zone: false,
                message: "the request ended without an answer".to_owned(),
            }),
        }
    }
}

/// Whether a provider error may go away by itself: the API could not be reached or answered
/// with a server error. A refusal (bad credentials, no such zone, a bad request) needs a person.
fn is_temporary(error: &dns_update::Error) -> bool {
    match error {
        dns_update::Error::Client(_) => true,
        dns_update::Error::Response(text) | dns_update::Error::Api(text) => {
            // dns-update words server-side failures with the HTTP status it got.
            ["500", "502", "503", "504", "429"]
                .iter()
                .any(|status| text.contains(status))
        }
        _ => false,
    }
}

/// `text` with every non-empty secret replaced, so no error can show one.
fn blank_secrets(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret.as_str(), "(secret)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, provider: Provider) -> Result<Credentials, CredentialsError> {
        Credentials::parse(text, Path::new("/etc/dkimkit/pdns.conf"), provider)
    }

    #[test]
    fn reads_key_value_lines_with_comments_and_blank_lines() {
        let credentials = parse(
            "# PowerDNS on the primary\n\nurl = http://127.0.0.1:8081\napi_key=s3cret\n",
            Provider::PowerDns,
        )
        .unwrap();
        assert_eq!(credentials.get("url"), Some("http://127.0.0.1:8081"));
        assert_eq!(credentials.get("server_id"), None);
        assert_eq!(credentials.secrets(), vec!["s3cret".to_owned()]);
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }

    #[test]
    fn errors_name_the_file_and_line_and_never_the_value() {
        let cases = [
            (
                "url=http://x\napi_key s3cret\n",
                "/etc/dkimkit/pdns.conf line 2: not KEY=VALUE",
            ),
            (
                "url=http://x\napikey=s3cret\n",
                "line 2: apikey is not a powerdns setting; it takes url, api_key, server_id",
            ),
            (
                "url=http://x\napi_key=s3cret\napi_key=s3cret\n",
                "line 3: api_key is given a second time",
            ),
            (
                "url=http://x\n",
                "/etc/dkimkit/pdns.conf: api_key= is missing or empty; powerdns needs it",
            ),
            ("url=http://x\napi_key=\n", "api_key= is missing or empty"),
        ];
        for (text, expected) in cases {
            let error = parse(text, Provider::PowerDns).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn every_provider_needs_its_own_keys() {
        for provider in Provider::ALL {
            let required: Vec<_> = provider.settings().iter().filter(|s| s.required).collect();
            assert!(!required.is_empty(), "{provider}");
            let error = parse("", provider).unwrap_err().to_string();
            assert!(
                error.contains(&format!("{}= is missing or empty", required[0].key)),
                "{error}"
            );
        }
    }

    #[test]
    fn secrets_are_blanked_from_provider_messages() {
        let secrets = vec!["s3cret".to_owned(), String::new()];
        assert_eq!(
            blank_secrets("401 for key s3cret at http://x", &secrets),
            "401 for key (secret) at http://x"
        );
    }

    #[test]
    fn a_file_others_can_read_is_refused_like_a_private_key() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pdns.conf");
        std::fs::write(&path, "url=http://127.0.0.1:1\napi_key=s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Credentials::from_file(&path, Provider::PowerDns)
            .unwrap_err()
            .to_string();
        assert!(error.contains("chmod 600"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let credentials = Credentials::from_file(&path, Provider::PowerDns).unwrap();
        assert_eq!(credentials.provider(), Provider::PowerDns);
    }
}

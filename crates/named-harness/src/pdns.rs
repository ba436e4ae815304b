//! A real PowerDNS Authoritative server on loopback, with the sqlite3 backend and its HTTP API,
//! for tests of publishing through a hosting provider's API (PowerDNS is one, and the API
//! providers' model).
//!
//! The server gets its own configuration directory, database and free ports, so a system
//! PowerDNS (Debian's package starts one) is never touched. [`PdnsServer::start`] returns once
//! the API answers, asking again until a deadline, never sleeping a fixed time.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{output, run};
use crate::ports::{LOOPBACK, free_port};
use crate::{Peer, Zone, peer};

/// How long the server may take to answer its API after starting.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// How often to ask the API whether the server is ready.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The API key of every test server.
pub const PDNS_API_KEY: &str = "dkimkit-test-api-key";

/// Where Debian's pdns-backend-sqlite3 puts the database schema.
const SCHEMA: &str = "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql";

/// A running `pdns_server`, killed and its directory removed on drop.
pub struct PdnsServer {
    dir: tempfile::TempDir,
    child: Child,
    dns_port: u16,
    api_port: u16,
}

impl PdnsServer {
    /// Starts PowerDNS serving `zones` (their SOA and NS are added, as for named) from a new
    /// sqlite3 database, with the API on another loopback port.
    ///
    /// # Panics
    ///
    /// When a program is missing (naming its package), or the server does not start.
    pub fn start(zones: &[Zone]) -> PdnsServer {
        let pdns_server = peer(Peer::PDNS_SERVER);
        let dir = tempfile::tempdir().expect("temporary directory");
        let database = dir.path().join("pdns.sqlite3");
        let schema = fs::read_to_string(SCHEMA).unwrap_or_else(|e| {
            panic!(
                "cannot read {SCHEMA} ({e}): install it with `apt-get install pdns-backend-sqlite3` \
                 (or run `bash .ci/setup`)"
            )
        });
        let mut sqlite = Peer::SQLITE3.command();
        sqlite.arg(&database).arg(schema);
        run(&mut sqlite);
        fs::write(
            dir.path().join("pdns.conf"),
            format!(
                "launch=gsqlite3\ngsqlite3-database={}\n",
                database.display()
            ),
        )
        .expect("pdns.conf");
        for zone in zones {
            load_zone(dir.path(), zone);
        }
        let dns_port = free_port();
        let api_port = free_port();
        let config_dir = format!("--config-dir={}", dir.path().display());
        let child = Command::new(pdns_server)
            .args([
                config_dir.as_str(),
                &format!("--socket-dir={}", dir.path().display()),
                "--daemon=no",
                "--guardian=no",
                "--disable-syslog",
                &format!("--local-address={LOOPBACK}"),
                &format!("--local-port={dns_port}"),
                "--api=yes",
                &format!("--api-key={PDNS_API_KEY}"),
                "--webserver=yes",
                &format!("--webserver-address={LOOPBACK}"),
                &format!("--webserver-port={api_port}"),
                "--webserver-allow-from=127.0.0.0/8",
                // Answers straight from the database, so a change is served at once.
                "--cache-ttl=0",
                "--negquery-cache-ttl=0",
                "--query-cache-ttl=0",
                "--zone-cache-refresh-interval=0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.path().join("pdns.log")).expect("pdns.log"))
            .spawn()
            .expect("cannot run pdns_server");
        let mut server = PdnsServer {
            dir,
            child,
            dns_port,
            api_port,
        };
        server.wait_until_ready();
        server
    }

    /// The DNS address, for `--nameserver`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((LOOPBACK, self.dns_port))
    }

    /// The API's base URL, for the credentials file's `url`.
    pub fn api_url(&self) -> String {
        format!("http://{LOOPBACK}:{}", self.api_port)
    }

    /// What the server has logged.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("pdns.log")).unwrap_or_default()
    }

    /// Asks the API until it answers 200, or panics at the deadline or when the server exits.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_DEADLINE;
        let address = SocketAddr::from((LOOPBACK, self.api_port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pdns_server exited ({status}):\n{}", self.log());
            }
            if api_answers(address) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "pdns_server did not answer its API within {STARTUP_DEADLINE:?}:\n{}",
                    self.log()
                );
            }
            // A poll interval, not synchronisation: readiness is the API answering, checked
            // again after it, until the deadline.
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// Whether the API at `address` answers a request for its server with 200.
fn api_answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /api/v1/servers/localhost HTTP/1.0\r\nHost: {address}\r\nX-API-Key: {PDNS_API_KEY}\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

/// Loads `zone` into the database with `pdnsutil load-zone`, from a master file with an SOA
/// and NS record added before the zone's own records.
fn load_zone(config_dir: &Path, zone: &Zone) {
    let origin = zone.fqdn();
    let file: PathBuf = config_dir.join(format!("{}.zone", zone.origin()));
    fs::write(
        &file,
        format!(
            "$ORIGIN {origin}\n$TTL 300\n\
             @ IN SOA ns1.{origin} hostmaster.{origin} 1 3600 600 86400 300\n\
             @ IN NS ns1.{origin}\n\
             ns1 IN A 127.0.0.1\n\
             {}\n",
            zone.records()
        ),
    )
    .expect("zone file");
    let mut load = Peer::PDNSUTIL.command();
    load.arg(format!("--config-dir={}", config_dir.display()))
        .arg("load-zone")
        .arg(zone.origin())
        .arg(&file);
    let result = output(&mut load);
    assert!(
        result.status.success(),
        "pdnsutil load-zone {origin} failed:\n{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

impl Drop for PdnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

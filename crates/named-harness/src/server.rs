//! A running named: started with a set of zones, ready when it says so, controlled with rndc,
//! updated with nsupdate, killed on drop.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use tempfile::TempDir;

use crate::conf::{
    RNDC_KEY_FILE, RNDC_KEY_NAME, TSIG_KEY_FILE, TSIG_KEY_NAME, ZoneEntry, named_conf, rndc_conf,
};
use crate::log::{NamedLog, WaitFailure};
use crate::peers::{Peer, output, run};
use crate::ports::{LOOPBACK, free_port};
use crate::signing::{ZoneKeys, sign};
use crate::zone::{Zone, name_server_of, zone_file_text};

/// How long named may take to start or to load a zone. Generous: CI machines are small and
/// busy, and a wait ends as soon as named logs what it did, so a long limit costs nothing.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times a start is retried when named finds its port taken by another process.
const START_ATTEMPTS: usize = 5;
/// The log message named writes once it is up.
const RUNNING: &str = "running";
/// The configuration file named runs on, in the server's directory.
const CONF_FILE: &str = "named.conf";

/// A zone as the server holds it.
struct ServedZone {
    zone: Zone,
    serial: u32,
    keys: Option<ZoneKeys>,
}

/// A named process serving zones on 127.0.0.1; killed, and its directory removed, on drop.
pub struct NamedServer {
    child: Child,
    log: NamedLog,
    port: u16,
    control_port: u16,
    extra_options: String,
    zones: Vec<ServedZone>,
    topology: Topology,
    // Declared last so that named is killed before its directory goes.
    dir: TempDir,
}

/// How a server stands to others: the secondaries it notifies, or the primary it is a
/// secondary of and for which zones.
#[derive(Debug, Clone, Default)]
struct Topology {
    notify_ports: Vec<u16>,
    primary: Option<(u16, Vec<String>)>,
}

/// A server for a private signed DNS tree: a signed root zone `.` (which the harness adds)
/// delegating to each of `children`, with a DS record for each signed child and an NSEC proof of
/// no DS for each unsigned one. Validate against it with [`NamedServer::trust_anchor`].
pub fn signed_root(children: &[Zone]) -> NamedServer {
    let mut zones = vec![Zone::new(".", "").signed()];
    zones.extend(children.iter().cloned());
    NamedServer::start(&zones)
}

impl NamedServer {
    /// Starts named serving `zones`, and returns once it is running.
    ///
    /// # Panics
    ///
    /// When a peer program is missing, two zones share an origin, a zone does not load (unless
    /// made with [`Zone::failing_to_load`]), or named does not start, with named's log.
    pub fn start(zones: &[Zone]) -> NamedServer {
        NamedServer::start_with_options(zones, "")
    }

    /// Starts named as [`NamedServer::start`] does, with `extra_options` (named.conf statements,
    /// such as `max-udp-size 512;`) added to its `options` block.
    ///
    /// # Panics
    ///
    /// As [`NamedServer::start`].
    pub fn start_with_options(zones: &[Zone], extra_options: &str) -> NamedServer {
        for (index, zone) in zones.iter().enumerate() {
            assert!(
                zones[..index].iter().all(|z| z.origin() != zone.origin()),
                "zone {} is given twice",
                zone.origin()
            );
            assert!(
                !(zone.is_dynamic() && zone.signing().is_signed()),
                "zone {}: a signed zone cannot take dynamic updates in the harness",
                zone.origin()
            );
        }
        let dir = server_dir("named-harness-");
        let key_dir = dir.path().join("keys");
        let served: Vec<ServedZone> = zones
            .iter()
            .map(|zone| ServedZone {
                zone: zone.clone(),
                serial: 1,
                keys: zone
                    .signing()
                    .is_signed()
                    .then(|| ZoneKeys::generate(&key_dir, zone)),
            })
            .collect();
        for index in 0..served.len() {
            write_zone_file(dir.path(), &served, index);
        }

        let server = launch_on_free_ports(dir, served, Topology::default(), extra_options);
        server.check_zones_loaded();
        server
    }

    /// Starts a second named, on a port of its own, as a secondary of this server for the
    /// zones `origins`: this server sends it NOTIFY (RFC 1996) when a zone's serial rises and
    /// lets it transfer the zone, as a primary and its secondaries are set up in BIND. Returns
    /// once the secondary holds every zone.
    ///
    /// # Panics
    ///
    /// When named does not start, or does not transfer a zone in time.
    pub fn start_secondary(&mut self, origins: &[&str]) -> NamedServer {
        let dir = server_dir("named-harness-secondary-");
        let fqdns: Vec<String> = origins.iter().map(|o| Zone::new(o, "").fqdn()).collect();
        let topology = Topology {
            notify_ports: Vec::new(),
            primary: Some((self.port, fqdns.clone())),
        };
        let secondary = launch_on_free_ports(dir, Vec::new(), topology, "");
        for fqdn in &fqdns {
            let transferred = format!("zone {}/IN: transferred serial", display_origin(fqdn));
            if let Err(failure) = secondary
                .log
                .wait_for(0, READY_TIMEOUT, |m| m.starts_with(&transferred))
            {
                panic!(
                    "the secondary did not transfer {fqdn} ({failure:?}); its log:\n{}\nthe \
                     primary's:\n{}",
                    secondary.log.text(),
                    self.log.text()
                );
            }
        }
        self.topology.notify_ports.push(secondary.port);
        write_configuration(
            self.dir.path(),
            self.port,
            self.control_port,
            &self.zones,
            &self.topology,
            &self.extra_options,
        );
        self.rndc(&["reconfig"]);
        secondary
    }

    /// The SOA serial this server gives for `origin`, or None when it has no SOA there.
    pub fn serial(&self, origin: &str) -> Option<u32> {
        self.dig(origin, "SOA")
            .first()
            .and_then(|soa| soa.split_whitespace().nth(2))
            .and_then(|serial| serial.parse().ok())
    }

    /// Waits until this server gives a serial for `origin` of at least `serial` (RFC 1982
    /// order), as a secondary does once NOTIFY and a zone transfer reached it.
    ///
    /// # Panics
    ///
    /// As [`NamedServer::wait_until`].
    pub fn wait_for_serial(&self, origin: &str, serial: u32) {
        self.wait_until(&format!("serial {serial} of {origin}"), |server| {
            server
                .serial(origin)
                .is_some_and(|c| c == serial || c.wrapping_sub(serial) < 1 << 31)
        });
    }

    /// Waits until `condition` holds of this server (such as a record served, or gone after a
    /// reload), asking again each time named logs something, for up to a minute: no sleeping.
    ///
    /// # Panics
    ///
    /// When it does not hold in time, naming `what`, with named's log.
    pub fn wait_until(&self, what: &str, condition: impl Fn(&NamedServer) -> bool) {
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        loop {
            let mark = self.log.mark();
            if condition(self) {
                return;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if let Err(failure) = self.log.wait_for(mark, left, |_| true) {
                panic!(
                    "waited for {what} in vain ({failure:?}); named's log:\n{}",
                    self.log.text()
                );
            }
        }
    }

    /// Where the server listens, on UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((LOOPBACK, self.port))
    }

    /// The server's directory (configuration, zone files, keys).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// named's log so far, one message a line, for assertion messages.
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// The file holding the TSIG key that may update dynamic zones, in the `key "NAME" { ... };`
    /// syntax named.conf and `nsupdate -k` read.
    pub fn tsig_key_path(&self) -> PathBuf {
        self.dir.path().join(TSIG_KEY_FILE)
    }

    /// The name of that TSIG key.
    pub fn tsig_key_name(&self) -> &'static str {
        TSIG_KEY_NAME
    }

    /// The root zone's key-signing key as a DNSKEY record in zone-file syntax: the trust anchor
    /// of a tree made with [`signed_root`].
    ///
    /// # Panics
    ///
    /// When the server has no signed root zone.
    pub fn trust_anchor(&self) -> String {
        self.keys_of(".").ksk_dnskey()
    }

    /// The DS record of the root zone's key-signing key, in zone-file syntax: the same trust
    /// anchor in the form IANA publishes the real root's.
    ///
    /// # Panics
    ///
    /// When the server has no signed root zone.
    pub fn trust_anchor_ds(&self) -> String {
        self.keys_of(".").ksk_ds()
    }

    /// The key-signing key of the signed zone `origin`, as a DNSKEY record in zone-file syntax.
    ///
    /// # Panics
    ///
    /// When the server has no signed zone `origin`.
    pub fn ksk_dnskey(&self, origin: &str) -> String {
        self.keys_of(origin).ksk_dnskey()
    }

    fn keys_of(&self, origin: &str) -> &ZoneKeys {
        let zone = Zone::new(origin, "");
        self.zones
            .iter()
            .find(|served| served.zone.origin() == zone.origin())
            .and_then(|served| served.keys.as_ref())
            .unwrap_or_else(|| panic!("the server has no signed zone {}", zone.origin()))
    }

    /// Replaces the zone of the same origin with `zone` (a new serial, re-signed with the zone's
    /// keys if signed), has named load it, and returns once named logs that it did. A signed
    /// zone's DS in its parent is kept, so make a zone signed or unsigned when starting.
    ///
    /// A static zone is reloaded with `rndc reload`. A dynamic zone's file belongs to named, which
    /// rewrites it from its journal at times of its own choosing (even after `rndc freeze`
    /// returns), so for a dynamic zone named is restarted on the same port instead, with the
    /// zone's journal removed: the updates made so far are dropped with the old zone.
    ///
    /// # Panics
    ///
    /// When the server has no zone of that origin, or named does not load the new one.
    pub fn replace_zone(&mut self, zone: Zone) {
        let index = self
            .zones
            .iter()
            .position(|served| served.zone.origin() == zone.origin())
            .unwrap_or_else(|| panic!("the server has no zone {} to replace", zone.origin()));
        let dynamic = self.zones[index].zone.is_dynamic() || zone.is_dynamic();
        if dynamic {
            self.stop();
        }
        let served = &mut self.zones[index];
        served.serial += 1;
        if zone.signing().is_signed() && served.keys.is_none() {
            served.keys = Some(ZoneKeys::generate(&self.dir.path().join("keys"), &zone));
        }
        served.zone = zone;
        let serial = served.serial;
        let origin = served.zone.fqdn();
        let mark = self.log.mark();
        let path = write_zone_file(self.dir.path(), &self.zones, index);
        if dynamic {
            remove_journal(&path);
            self.restart();
            return;
        }
        self.rndc(&["reload", &origin]);
        let loaded = format!(
            "zone {}/IN: loaded serial {serial}",
            display_origin(&origin)
        );
        if let Err(failure) = self
            .log
            .wait_for(mark, READY_TIMEOUT, |m| m.starts_with(&loaded))
        {
            panic!(
                "named did not load the new {origin} ({failure:?}); its log:\n{}",
                self.log.text()
            );
        }
    }

    /// Kills named (the server is restarted, or dropped, next).
    fn stop(&mut self) {
        // Already exited is fine; nothing else can be done about a kill that fails.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts named again with the same configuration and ports.
    fn restart(&mut self) {
        // The configuration on disk is the current one: every change rewrites it.
        let conf_path = self.dir.path().join(CONF_FILE);
        match launch(self.dir.path(), self.control_port, &conf_path) {
            Ok((child, log)) => {
                self.child = child;
                self.log = log;
                self.check_zones_loaded();
            }
            Err(log) => panic!(
                "named could not get its port {} back on restart; its log:\n{log}",
                self.port
            ),
        }
    }

    /// Runs rndc against this server with `args`, and returns what it printed.
    ///
    /// # Panics
    ///
    /// When rndc fails.
    pub fn rndc(&self, args: &[&str]) -> String {
        run(Peer::RNDC
            .command()
            .arg("-c")
            .arg(self.dir.path().join("rndc.conf"))
            .args(args))
    }

    /// Sends `commands` (nsupdate's language: `zone`, `update add ...`, `send`) to this server
    /// with `nsupdate -k` and the server's TSIG key, and returns how nsupdate ended, failure
    /// included, so a test can check refusals as well.
    pub fn nsupdate(&self, commands: &str) -> Output {
        let script = format!("server {LOOPBACK} {}\n{commands}\n", self.port);
        let script_path = self.dir.path().join("nsupdate.txt");
        fs::write(&script_path, script)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", script_path.display()));
        output(
            Peer::NSUPDATE
                .command()
                .arg("-k")
                .arg(self.tsig_key_path())
                .arg(&script_path)
                .stdin(Stdio::null()),
        )
    }

    /// Asks this server for `name`/`record_type` with dig and returns the answer's records in
    /// dig's short form, one per entry (`"v=DKIM1; " "k=rsa; ..."` for a TXT record).
    ///
    /// # Panics
    ///
    /// When dig fails (no answer at all).
    pub fn dig(&self, name: &str, record_type: &str) -> Vec<String> {
        let text = run(Peer::DIG
            .command()
            .args(["+short", "+norecurse", "+time=5", "+tries=2", "-p"])
            .arg(self.port.to_string())
            .arg(format!("@{LOOPBACK}"))
            .args([name, record_type]));
        text.lines().map(str::to_owned).collect()
    }

    /// Panics, with the log, if a zone meant to load did not.
    fn check_zones_loaded(&self) {
        for served in self.zones.iter().filter(|s| s.zone.loads()) {
            let loaded = format!(
                "zone {}/IN: loaded serial",
                display_origin(&served.zone.fqdn())
            );
            assert!(
                self.log.contains(0, |m| m.starts_with(&loaded)),
                "named did not load zone {}; its log:\n{}",
                served.zone.origin(),
                self.log.text()
            );
        }
    }
}

impl Drop for NamedServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes the journal of dynamic updates named keeps beside a zone file.
fn remove_journal(zone_file: &Path) {
    let mut journal = zone_file.as_os_str().to_owned();
    journal.push(".jnl");
    let journal = PathBuf::from(journal);
    if journal.exists() {
        fs::remove_file(&journal)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", journal.display()));
    }
}

/// How named's log names a zone: `example.com` or `.` for the root.
fn display_origin(fqdn: &str) -> &str {
    if fqdn == "." {
        "."
    } else {
        fqdn.strip_suffix('.').unwrap_or(fqdn)
    }
}

/// A new directory for a server, with its TSIG and rndc keys.
fn server_dir(prefix: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a directory for named: {e}"));
    write_tsig_key(dir.path(), TSIG_KEY_NAME, TSIG_KEY_FILE);
    write_tsig_key(dir.path(), RNDC_KEY_NAME, RNDC_KEY_FILE);
    dir
}

/// Starts named in `dir` on free ports, trying others when another process takes them first.
///
/// # Panics
///
/// As [`launch`], or when no free ports are found in [`START_ATTEMPTS`].
fn launch_on_free_ports(
    dir: TempDir,
    zones: Vec<ServedZone>,
    topology: Topology,
    extra_options: &str,
) -> NamedServer {
    let mut last_log = String::new();
    for _ in 0..START_ATTEMPTS {
        let (port, control_port) = (free_port(), free_port());
        let conf_path = write_configuration(
            dir.path(),
            port,
            control_port,
            &zones,
            &topology,
            extra_options,
        );
        match launch(dir.path(), control_port, &conf_path) {
            Ok((child, log)) => {
                return NamedServer {
                    child,
                    log,
                    port,
                    control_port,
                    extra_options: extra_options.to_owned(),
                    zones,
                    topology,
                    dir,
                };
            }
            Err(log) => last_log = log,
        }
    }
    panic!("named could not get a free port in {START_ATTEMPTS} attempts; its log:\n{last_log}");
}

/// Writes a TSIG key named `name` into `dir/file` with tsig-keygen (HMAC-SHA256, RFC 8945).
fn write_tsig_key(dir: &Path, name: &str, file: &str) {
    let key = run(Peer::TSIG_KEYGEN
        .command()
        .args(["-a", "hmac-sha256", name]));
    let path = dir.join(file);
    fs::write(&path, key).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Writes the file named serves for `zones[index]` (signed if the zone is) and returns its path.
fn write_zone_file(dir: &Path, zones: &[ServedZone], index: usize) -> PathBuf {
    let served = &zones[index];
    if let Some(file) = served.zone.file() {
        return file.to_owned();
    }
    let delegations = delegations_from(zones, index);
    let text = zone_file_text(&served.zone, served.serial, &delegations);
    let unsigned = dir.join(format!("{}.zone", served.zone.file_stem()));
    fs::write(&unsigned, text)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", unsigned.display()));
    // named skips a reload when the file looks no newer than what it loaded; a rewrite within the
    // same clock tick must still count.
    let future = SystemTime::now() + Duration::from_secs(u64::from(served.serial));
    if let Ok(file) = fs::File::options().write(true).open(&unsigned) {
        let _ = file.set_modified(future);
    }
    if served.keys.is_none() {
        return unsigned;
    }
    let signed = dir.join(format!("{}.zone.signed", served.zone.file_stem()));
    sign(&served.zone, &dir.join("keys"), &unsigned, &signed);
    if let Ok(file) = fs::File::options().write(true).open(&signed) {
        let _ = file.set_modified(future);
    }
    signed
}

/// The zone-file lines that delegate from `zones[index]` to each zone of the set directly below
/// it: NS, glue address, and the DS of a signed child (RFC 4035 2.4; an unsigned child gets
/// none, which the parent's NSEC then proves).
fn delegations_from(zones: &[ServedZone], index: usize) -> String {
    let parent = &zones[index].zone;
    let mut text = String::new();
    for child in zones.iter().filter(|c| c.zone.is_below(parent)) {
        let in_between = zones
            .iter()
            .any(|m| child.zone.is_below(&m.zone) && m.zone.is_below(parent));
        if in_between {
            continue;
        }
        let name_server = name_server_of(child.zone.origin());
        text.push_str(&format!(
            "{}\tIN\tNS\t{name_server}\n{name_server}\tIN\tA\t{LOOPBACK}\n",
            child.zone.fqdn()
        ));
        if let Some(keys) = &child.keys {
            text.push_str(&keys.ksk_ds());
        }
    }
    text
}

/// Writes named.conf and rndc.conf for `port` and `control_port`; returns named.conf's path.
fn write_configuration(
    dir: &Path,
    port: u16,
    control_port: u16,
    zones: &[ServedZone],
    topology: &Topology,
    extra_options: &str,
) -> PathBuf {
    let files: Vec<PathBuf> = zones
        .iter()
        .map(|served| {
            let stem = served.zone.file_stem();
            match (served.zone.file(), &served.keys) {
                (Some(file), _) => file.to_owned(),
                (None, Some(_)) => dir.join(format!("{stem}.zone.signed")),
                (None, None) => dir.join(format!("{stem}.zone")),
            }
        })
        .collect();
    let mut entries: Vec<ZoneEntry<'_>> = zones
        .iter()
        .zip(&files)
        .map(|(served, file)| ZoneEntry {
            fqdn: served.zone.fqdn(),
            file,
            dynamic: served.zone.is_dynamic(),
            primary_port: None,
        })
        .collect();
    let secondary_files: Vec<(String, PathBuf)> = topology
        .primary
        .iter()
        .flat_map(|(_, fqdns)| fqdns)
        .map(|fqdn| (fqdn.clone(), dir.join(format!("{fqdn}secondary.zone"))))
        .collect();
    entries.extend(secondary_files.iter().map(|(fqdn, file)| ZoneEntry {
        fqdn: fqdn.clone(),
        file,
        dynamic: false,
        primary_port: topology.primary.as_ref().map(|(port, _)| *port),
    }));
    let conf_path = dir.join(CONF_FILE);
    let conf = named_conf(
        dir,
        port,
        control_port,
        &entries,
        &topology.notify_ports,
        extra_options,
    );
    fs::write(&conf_path, conf)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf_path.display()));
    let rndc_path = dir.join("rndc.conf");
    fs::write(&rndc_path, rndc_conf(dir, control_port))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", rndc_path.display()));
    conf_path
}

/// Starts named on the configuration at `conf_path` (in `dir`, with its command channel on
/// `control_port`) and waits until it is running. `Err` carries the log when named could not have
/// its ports, so the caller can try others.
///
/// # Panics
///
/// When named fails for another reason, or does not start in time.
fn launch(dir: &Path, control_port: u16, conf_path: &Path) -> Result<(Child, NamedLog), String> {
    // -g: foreground, log to stderr; -n 1: one worker thread is plenty for tests; no -u, so named
    // runs as whoever runs the tests, root or not.
    let mut child = Command::new(crate::peers::peer(Peer::NAMED))
        .args(["-g", "-n", "1", "-c"])
        .arg(conf_path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start named: {e}"));
    let Some(stderr) = child.stderr.take() else {
        panic!("named's standard error was not captured");
    };
    let log = NamedLog::follow(stderr);

    let port_taken = |log: &NamedLog| {
        log.contains(0, |m| {
            m.contains("address in use") || m.contains("unable to listen on any configured")
        })
    };
    let control = format!("command channel listening on {LOOPBACK}#{control_port}");
    match log.wait_for(0, READY_TIMEOUT, |m| m == RUNNING) {
        Ok(_) if log.contains(0, |m| m == control) => Ok((child, log)),
        Ok(_) | Err(WaitFailure::Exited) if port_taken(&log) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(log.text())
        }
        Ok(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "named runs but its control channel does not; its log:\n{}",
                log.text()
            )
        }
        Err(failure) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "named did not start ({failure:?}); its log:\n{}",
                log.text()
            )
        }
    }
}

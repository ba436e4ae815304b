//! named.conf and rndc.conf for a harness server.
//!
//! Everything named writes (pid file, lock file, session key, managed keys, journals) goes into
//! the server's own directory, so it runs the same as root and as a normal user, and two servers
//! never share a file. The server is authoritative only: no recursion, no validation of its own,
//! NOTIFY only from a primary to the secondaries started for it.

use std::path::Path;

use crate::ports::LOOPBACK;

/// The name of the TSIG key that signs dynamic updates.
pub(crate) const TSIG_KEY_NAME: &str = "harness-tsig";
/// The name of the TSIG key rndc uses.
pub(crate) const RNDC_KEY_NAME: &str = "harness-rndc";
/// The files in the server directory that hold those keys.
pub(crate) const TSIG_KEY_FILE: &str = "tsig.key";
pub(crate) const RNDC_KEY_FILE: &str = "rndc.key";

/// One zone as named.conf names it.
pub(crate) struct ZoneEntry<'a> {
    /// The origin, fully qualified.
    pub fqdn: String,
    /// The file named loads.
    pub file: &'a Path,
    /// Whether TSIG-signed updates are allowed.
    pub dynamic: bool,
    /// For a secondary: the port of the primary on 127.0.0.1 it transfers the zone from.
    pub primary_port: Option<u16>,
}

/// named.conf for a server in `dir` on `port` (UDP and TCP) with rndc on `control_port`.
pub(crate) fn named_conf(
    dir: &Path,
    port: u16,
    control_port: u16,
    zones: &[ZoneEntry<'_>],
    notify_ports: &[u16],
    extra_options: &str,
) -> String {
    let dir = dir.display();
    let mut conf = format!(
        "include \"{dir}/{RNDC_KEY_FILE}\";\n\
         include \"{dir}/{TSIG_KEY_FILE}\";\n\
         controls {{\n\
         \tinet {LOOPBACK} port {control_port} allow {{ {LOOPBACK}; }} keys {{ \"{RNDC_KEY_NAME}\"; }};\n\
         }};\n\
         options {{\n\
         \tdirectory \"{dir}\";\n\
         \tpid-file \"{dir}/named.pid\";\n\
         \tlock-file \"{dir}/named.lock\";\n\
         \tsession-keyfile \"{dir}/session.key\";\n\
         \tmanaged-keys-directory \"{dir}\";\n\
         \tlisten-on port {port} {{ {LOOPBACK}; }};\n\
         \tlisten-on-v6 {{ none; }};\n\
         \trecursion no;\n\
         \tdnssec-validation no;\n\
         \tnotify no;\n\
         \t{extra_options}\n\
         }};\n"
    );
    // A primary with secondaries sends them NOTIFY (RFC 1996) on their ports, and lets them
    // transfer the zone.
    let notify = if notify_ports.is_empty() {
        String::new()
    } else {
        let targets: String = notify_ports
            .iter()
            .map(|port| format!("{LOOPBACK} port {port}; "))
            .collect();
        format!(" notify explicit; also-notify {{ {targets}}}; allow-transfer {{ {LOOPBACK}; }};")
    };
    for zone in zones {
        let update = if zone.dynamic {
            format!(" allow-update {{ key \"{TSIG_KEY_NAME}\"; }};")
        } else {
            String::new()
        };
        let role = match zone.primary_port {
            Some(port) => format!(
                "type secondary; primaries {{ {LOOPBACK} port {port}; }}; \
                 masterfile-format text;"
            ),
            None => format!("type primary;{notify}"),
        };
        conf.push_str(&format!(
            "zone \"{}\" {{ {role} file \"{}\";{update} }};\n",
            zone.fqdn,
            zone.file.display()
        ));
    }
    conf
}

/// rndc.conf reaching the server's control channel.
pub(crate) fn rndc_conf(dir: &Path, control_port: u16) -> String {
    format!(
        "include \"{}/{RNDC_KEY_FILE}\";\n\
         options {{\n\
         \tdefault-key \"{RNDC_KEY_NAME}\";\n\
         \tdefault-server {LOOPBACK};\n\
         \tdefault-port {control_port};\n\
         }};\n",
        dir.display()
    )
}

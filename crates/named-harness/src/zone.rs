//! A zone to serve: its origin, its records as zone-file text, and how it is signed.
//!
//! The harness writes each zone's SOA, its NS and the name server's address itself, and the
//! delegations to the zones of the set below it, so a test writes only the records it is about
//! (for dkimkit, the `SELECTOR.txt` files genkey writes, pasted or `$INCLUDE`d unchanged), or
//! gives a zone file of its own ([`Zone::in_file`]).

use std::path::{Path, PathBuf};

/// How a zone is DNSSEC-signed (RFC 4033-4035).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// Not signed: a delegation to it from a signed parent has NS but no DS, which the parent's
    /// NSEC proves, so validators call its data insecure (RFC 4035 5.2).
    Unsigned,
    /// Signed with a fresh KSK and ZSK, valid from now for dnssec-signzone's default 30 days; the
    /// parent publishes the KSK's DS, so validators call its data secure.
    Valid,
    /// Signed, DS in the parent, but every signature expired in 2020: validators call its data
    /// bogus (RFC 4035 5.3.1).
    Expired,
    /// Signed validly, DS in the parent, then the signed zone file is edited: each `(from, to)`
    /// replaces text after signing, so the signatures no longer match the data and validators
    /// call it bogus.
    Altered(Vec<(String, String)>),
}

impl Signing {
    /// Whether the zone is signed at all (and so gets keys and a DS in its parent).
    pub fn is_signed(&self) -> bool {
        !matches!(self, Signing::Unsigned)
    }
}

/// A zone for [`crate::NamedServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    origin: String,
    records: String,
    signing: Signing,
    dynamic: bool,
    loads: bool,
    file: Option<PathBuf>,
}

impl Zone {
    /// A zone for `origin` (`example.com`, `example.com.`, or `.` for the root) holding `records`:
    /// zone-file text whose relative names are relative to the origin, with `$TTL 300` in force.
    /// The harness adds the SOA, the NS (`ns.ORIGIN`, 127.0.0.1) and delegations itself.
    pub fn new(origin: &str, records: &str) -> Zone {
        Zone {
            origin: normalize_origin(origin),
            records: records.to_owned(),
            signing: Signing::Unsigned,
            dynamic: false,
            loads: true,
            file: None,
        }
    }

    /// A zone whose master file is `path`, as it is: named loads it from there (it must hold
    /// the zone's SOA and NS), and the test, or the program under test, edits it and has named
    /// reload it with `rndc reload` (see [`crate::NamedServer::rndc`]).
    pub fn in_file(origin: &str, path: &Path) -> Zone {
        Zone {
            file: Some(path.to_owned()),
            ..Zone::new(origin, "")
        }
    }

    /// The file named loads, when the zone was made with [`Zone::in_file`].
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The same zone, validly signed (see [`Signing::Valid`]).
    pub fn signed(self) -> Zone {
        self.with_signing(Signing::Valid)
    }

    /// The same zone, signed with signatures that expired long ago (see [`Signing::Expired`]).
    pub fn signed_expired(self) -> Zone {
        self.with_signing(Signing::Expired)
    }

    /// The same zone, signed, and then `from` replaced by `to` in the signed zone file, so that
    /// the signatures no longer match (see [`Signing::Altered`]). May be repeated.
    ///
    /// # Panics
    ///
    /// When the server is started, if `from` does not occur in the signed zone file.
    pub fn altered_after_signing(mut self, from: &str, to: &str) -> Zone {
        let mut edits = match self.signing {
            Signing::Altered(edits) => edits,
            _ => Vec::new(),
        };
        edits.push((from.to_owned(), to.to_owned()));
        self.signing = Signing::Altered(edits);
        self
    }

    /// The same zone, with `signing`.
    pub fn with_signing(mut self, signing: Signing) -> Zone {
        self.signing = signing;
        self
    }

    /// The same zone, accepting RFC 2136 dynamic updates signed with the server's TSIG key
    /// ([`crate::NamedServer::tsig_key_path`]). Signed zones cannot be dynamic here (named would
    /// need to re-sign updates itself).
    pub fn dynamic(mut self) -> Zone {
        self.dynamic = true;
        self
    }

    /// A zone named has in its configuration but whose file does not load, so that named answers
    /// SERVFAIL for names in it.
    pub fn failing_to_load(origin: &str) -> Zone {
        Zone {
            loads: false,
            ..Zone::new(origin, "this is not a zone file\n")
        }
    }

    /// The origin, lower case, without a trailing dot; `.` for the root.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The records as given.
    pub fn records(&self) -> &str {
        &self.records
    }

    /// How the zone is signed.
    pub fn signing(&self) -> &Signing {
        &self.signing
    }

    /// Whether the zone accepts dynamic updates.
    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// Whether the zone's file is meant to load.
    pub fn loads(&self) -> bool {
        self.loads
    }

    /// The fully qualified form of the origin, with its trailing dot.
    pub fn fqdn(&self) -> String {
        absolute(&self.origin)
    }

    /// Whether this zone lies strictly below `ancestor` in the DNS tree.
    pub(crate) fn is_below(&self, ancestor: &Zone) -> bool {
        if self.origin == ancestor.origin {
            return false;
        }
        ancestor.origin == "." || self.origin.ends_with(&format!(".{}", ancestor.origin))
    }

    /// A file name for the zone in the server's directory.
    pub(crate) fn file_stem(&self) -> String {
        if self.origin == "." {
            "root".to_owned()
        } else {
            self.origin.clone()
        }
    }
}

/// `name` with its trailing dot (`.` stays `.`).
pub(crate) fn absolute(name: &str) -> String {
    if name == "." {
        ".".to_owned()
    } else {
        format!("{name}.")
    }
}

/// A name's host `ns` in the zone `origin`, fully qualified.
pub(crate) fn name_server_of(origin: &str) -> String {
    if origin == "." {
        "ns.".to_owned()
    } else {
        format!("ns.{origin}.")
    }
}

fn normalize_origin(origin: &str) -> String {
    let lower = origin.trim().to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.is_empty() {
        ".".to_owned()
    } else {
        name.to_owned()
    }
}

/// The text of a zone file for `zone` with serial `serial`: the harness's SOA and NS, the
/// delegations (`delegations`: zone-file lines for child NS, glue and DS), then the records.
pub(crate) fn zone_file_text(zone: &Zone, serial: u32, delegations: &str) -> String {
    if !zone.loads {
        return zone.records.clone();
    }
    let origin = zone.fqdn();
    let name_server = name_server_of(&zone.origin);
    let hostmaster = if zone.origin == "." {
        "hostmaster.".to_owned()
    } else {
        format!("hostmaster.{origin}")
    };
    format!(
        "$ORIGIN {origin}\n\
         $TTL 300\n\
         @\tIN\tSOA\t{name_server} {hostmaster} ( {serial} 3600 600 86400 300 )\n\
         @\tIN\tNS\t{name_server}\n\
         {name_server}\tIN\tA\t{loopback}\n\
         {delegations}\
         $ORIGIN {origin}\n\
         {records}\n",
        loopback = crate::ports::LOOPBACK,
        records = zone.records,
    )
}

/// The character-strings of a TXT record in zone-file presentation (`"a" "b\"c"`), unescaped.
pub fn quoted_strings(text: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut string = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => string.extend(chars.next()),
                '"' => break,
                c => string.push(c),
            }
        }
        strings.push(string);
    }
    strings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized() {
        assert_eq!(Zone::new("Example.COM.", "").origin(), "example.com");
        assert_eq!(Zone::new(".", "").origin(), ".");
        assert_eq!(Zone::new("", "").origin(), ".");
        assert_eq!(Zone::new(".", "").fqdn(), ".");
        assert_eq!(Zone::new("example.com", "").fqdn(), "example.com.");
    }

    #[test]
    fn knows_its_ancestors() {
        let root = Zone::new(".", "");
        let com = Zone::new("example.com", "");
        let sub = Zone::new("sub.example.com", "");
        let other = Zone::new("anexample.com", "");
        assert!(com.is_below(&root) && sub.is_below(&com) && sub.is_below(&root));
        assert!(!com.is_below(&com) && !root.is_below(&com) && !other.is_below(&com));
    }

    #[test]
    fn zone_file_has_soa_ns_delegations_then_records() {
        let zone = Zone::new("example.com", "www IN TXT \"hello\"");
        let text = zone_file_text(&zone, 7, "child IN NS ns.child.example.com.\n");
        assert!(text.contains("SOA\tns.example.com. hostmaster.example.com. ( 7 "));
        assert!(text.contains("@\tIN\tNS\tns.example.com.\n"));
        assert!(text.contains("ns.example.com.\tIN\tA\t127.0.0.1\n"));
        let delegation = text.find("child IN NS").unwrap();
        assert!(delegation < text.find("www IN TXT").unwrap());
    }
}

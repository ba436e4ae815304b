//! How rotate publishes and withdraws key records: the zone's own file, a zone file include per
//! domain, printed instructions for a person, DNS UPDATE (RFC 2136) to the primary server, a DNS
//! hosting provider's API (through dns-update), or the administrator's own command (a hook for
//! any other provider's tool).
//!
//! RFC 2136 stays dkimkit's own code rather than dns-update's: it tells BADKEY from BADSIG and
//! BADTIME (RFC 8945 5.2) and names the zone a server refused, which the administrator needs to
//! fix a TSIG setup.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use dkim_core::dns::{DnsUpdater, HostedDns, HostedDnsError, UpdateError};
use dkim_core::files::{Existing, PUBLIC_FILE_MODE, write_file_with};
use dkim_core::record::{format_zone_entry, quoted_txt_strings};
use dkim_core::zone_file::{check_zone_file, edit_zone_file};

use super::run_command;
use crate::exit::TemporaryFailure;

/// A change to a domain's key records.
pub struct Change<'a> {
    /// The signing domain.
    pub domain: &'a str,
    /// The record's name, `SELECTOR._domainkey.DOMAIN`.
    pub name: &'a str,
    /// The record to publish; None to withdraw the record at `name`.
    pub value: Option<&'a str>,
    /// Every record rotate serves for the domain once the change is made, by name.
    pub serving: &'a [(String, String)],
}

/// Publishes and withdraws records; returns what it did, in words for the report.
pub trait Publisher {
    /// Makes the change.
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String>;

    /// Checks, before anything changes, that a change to `name` could be made now: a temporary
    /// failure then stops the run with nothing changed.
    fn check_reachable(&self, _name: &str) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The TTL of records published by DNS UPDATE: short, so a withdrawn record leaves caches soon.
const RECORD_TTL: u32 = 300;

/// DNS UPDATE (RFC 2136), signed with TSIG, to the zone's primary name server.
pub struct Rfc2136 {
    pub updater: DnsUpdater,
}

/// A publishing error as the exit status wants it: temporary ones exit 3.
fn exit_error(
    error: impl std::error::Error + Send + Sync + 'static,
    temporary: bool,
) -> anyhow::Error {
    if temporary {
        anyhow::Error::new(TemporaryFailure(error.to_string()))
    } else {
        anyhow::Error::new(error)
    }
}

fn update_error(error: UpdateError) -> anyhow::Error {
    let temporary = error.is_temporary();
    exit_error(error, temporary)
}

impl Publisher for Rfc2136 {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        let server = self.updater.server();
        match change.value {
            Some(value) => {
                self.updater
                    .replace_txt(change.name, value, RECORD_TTL)
                    .map_err(update_error)?;
                Ok(format!(
                    "published {} by DNS UPDATE to {server}",
                    change.name
                ))
            }
            None => {
                self.updater.delete_txt(change.name).map_err(update_error)?;
                Ok(format!(
                    "withdrew {} by DNS UPDATE to {server}",
                    change.name
                ))
            }
        }
    }

    fn check_reachable(&self, name: &str) -> anyhow::Result<()> {
        check_zone_reachable(Some(&self.updater), name)
    }
}

/// Prints what to add and remove.
pub struct Manual;

impl Publisher for Manual {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        Ok(match change.value {
            Some(value) => format!(
                "publish in the {} zone: {}",
                change.domain,
                format_zone_entry(&format!("{}.", change.name), value, None).trim_end()
            ),
            None => format!(
                "remove from the {} zone: {}. IN TXT",
                change.domain, change.name
            ),
        })
    }
}

/// The administrator's command, run with `sh -c` once per change, the change in its
/// environment (see `RotateArgs::publish_command`).
pub struct Exec {
    pub command: String,
    /// Asks the first --nameserver for the zone that holds a name (its SOA), for
    /// DKIMKIT_ZONE; without one, the signing domain is taken as the zone.
    pub zone_finder: Option<DnsUpdater>,
}

/// The zone holding `change`'s name: what `finder` (the first --nameserver) says, or else the
/// signing domain.
fn zone_of(finder: Option<&DnsUpdater>, change: &Change<'_>) -> anyhow::Result<String> {
    match finder {
        Some(finder) => finder.find_zone(change.name).map_err(update_error),
        None => Ok(change.domain.to_owned()),
    }
}

/// Checks that `finder`, when there is one, can find the zone holding `name` now.
fn check_zone_reachable(finder: Option<&DnsUpdater>, name: &str) -> anyhow::Result<()> {
    match finder {
        Some(finder) => finder.find_zone(name).map(drop).map_err(update_error),
        None => Ok(()),
    }
}

impl Publisher for Exec {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        let zone = zone_of(self.zone_finder.as_ref(), change)?;
        let (action, done) = match change.value {
            Some(_) => ("publish", "published"),
            None => ("withdraw", "withdrew"),
        };
        let value = change.value.unwrap_or_default();
        let strings = quoted_txt_strings(value).join(" ");
        run_command(
            &self.command,
            &[
                ("DKIMKIT_ACTION", action),
                ("DKIMKIT_NAME", change.name),
                ("DKIMKIT_ZONE", &zone),
                ("DKIMKIT_VALUE", value),
                ("DKIMKIT_STRINGS", &strings),
            ],
        )
        .context("--publish-command")?;
        Ok(format!(
            "{done} {} by --publish-command (zone {zone})",
            change.name
        ))
    }

    fn check_reachable(&self, name: &str) -> anyhow::Result<()> {
        check_zone_reachable(self.zone_finder.as_ref(), name)
    }
}

/// A DNS hosting provider's API (`--publish powerdns`, `cloudflare`, ...), through dns-update.
pub struct Hosted {
    pub client: HostedDns,
    /// As for [`Exec`]: finds the zone to name in the API call.
    pub zone_finder: Option<DnsUpdater>,
}

fn hosted_error(error: HostedDnsError) -> anyhow::Error {
    let temporary = error.is_temporary();
    exit_error(error, temporary)
}

impl Publisher for Hosted {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        let zone = zone_of(self.zone_finder.as_ref(), change)?;
        let provider = self.client.provider();
        match change.value {
            Some(value) => {
                self.client
                    .replace_txt(change.name, &zone, value, RECORD_TTL)
                    .map_err(hosted_error)?;
                Ok(format!(
                    "published {} through the {provider} API (zone {zone})",
                    change.name
                ))
            }
            None => {
                self.client
                    .delete_txt(change.name, &zone)
                    .map_err(hosted_error)?;
                Ok(format!(
                    "withdrew {} through the {provider} API (zone {zone})",
                    change.name
                ))
            }
        }
    }

    fn check_reachable(&self, name: &str) -> anyhow::Result<()> {
        check_zone_reachable(self.zone_finder.as_ref(), name)
    }
}

/// An include file per domain, `DIR/DOMAIN.dkim`, holding every record rotate serves for the
/// domain (add `$INCLUDE` of it to the zone), then the name server's reload command.
pub struct ZoneFile {
    pub dir: PathBuf,
    pub reload_command: Option<String>,
}

impl ZoneFile {
    fn include_file(&self, domain: &str) -> PathBuf {
        self.dir.join(format!("{domain}.dkim"))
    }
}

/// The include file's text: absolute names, so it can be included in any zone file.
fn include_text(domain: &str, serving: &[(String, String)]) -> String {
    let mut text = format!(
        "; DKIM key records for {domain}, written by dkimkit rotate: do not edit by hand.\n"
    );
    for (name, value) in serving {
        text.push_str(&format_zone_entry(&format!("{name}."), value, None));
    }
    text
}

impl Publisher for ZoneFile {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        let path = self.include_file(change.domain);
        let text = include_text(change.domain, change.serving);
        let previous = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        write_file_with(&path, PUBLIC_FILE_MODE, Existing::Replace, |file| {
            std::io::Write::write_all(file, text.as_bytes())?;
            file.set_modified(newer_than_any_load(previous, SystemTime::now()))
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
        if let Some(command) = &self.reload_command {
            run_command(command, &[]).context("--dns-reload-command")?;
        }
        Ok(match change.value {
            Some(_) => format!("published {} in {}", change.name, path.display()),
            None => format!("withdrew {} from {}", change.name, path.display()),
        })
    }
}

/// The zones' own master files, by zone: the record is added to or removed from the file of
/// the zone that holds its name, the SOA serial raised, then the name server's reload command.
pub struct ZoneFileEdit {
    pub zones: Vec<(String, PathBuf)>,
    pub reload_command: Option<String>,
    /// The time of the run, for date and Unix-time serials.
    pub now: u64,
}

impl ZoneFileEdit {
    /// The zone holding `name`: the longest that `name` is in.
    fn zone_of(&self, name: &str) -> anyhow::Result<&(String, PathBuf)> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.zones
            .iter()
            .filter(|(zone, _)| {
                let zone = zone.trim_end_matches('.').to_ascii_lowercase();
                name == zone || name.ends_with(&format!(".{zone}"))
            })
            .max_by_key(|(zone, _)| zone.len())
            .with_context(|| {
                format!(
                    "no --zone-file is for a zone holding {name}: add --zone-file ZONE=PATH for it"
                )
            })
    }
}

impl Publisher for ZoneFileEdit {
    fn apply(&mut self, change: &Change<'_>) -> anyhow::Result<String> {
        let (zone, path) = self.zone_of(change.name)?;
        let previous = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let edit = edit_zone_file(
            path,
            zone,
            change.name,
            change.value,
            self.now,
            newer_than_any_load(previous, SystemTime::now()),
        )?;
        if let Some(command) = &self.reload_command {
            run_command(command, &[]).context("--dns-reload-command")?;
        }
        let done = match change.value {
            Some(_) => format!("published {} in {}", change.name, path.display()),
            None => format!("withdrew {} from {}", change.name, path.display()),
        };
        Ok(match edit.serial {
            Some((old, new)) => format!("{done}, serial {old} to {new}"),
            None => format!("{done} (it was so already)"),
        })
    }

    fn check_reachable(&self, _name: &str) -> anyhow::Result<()> {
        for (zone, path) in &self.zones {
            check_zone_file(path, zone)?;
        }
        Ok(())
    }
}

fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The modification time to give a new include file. BIND reloads a zone only when one of its
/// files is newer than its last load, to the second; the last load may have been this very
/// second (a change to the same domain a moment ago), so the file is dated the next second,
/// and later than the file it replaces.
fn newer_than_any_load(previous: Option<SystemTime>, now: SystemTime) -> SystemTime {
    let next_second = |time: SystemTime| UNIX_EPOCH + Duration::from_secs(whole_seconds(time) + 1);
    match previous {
        Some(previous) if previous >= now => next_second(previous),
        _ => next_second(now),
    }
}

/// Whether `path` is under `dir` (both made absolute).
pub fn is_under(path: &Path, dir: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    absolute(path).starts_with(absolute(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_files_are_dated_past_the_current_second_and_the_last_version() {
        let now = UNIX_EPOCH + Duration::from_millis(1_000_500);
        assert_eq!(
            newer_than_any_load(None, now),
            UNIX_EPOCH + Duration::from_secs(1001)
        );
        let older = UNIX_EPOCH + Duration::from_secs(900);
        assert_eq!(
            newer_than_any_load(Some(older), now),
            UNIX_EPOCH + Duration::from_secs(1001)
        );
        let written_a_moment_ago = UNIX_EPOCH + Duration::from_secs(1001);
        assert_eq!(
            newer_than_any_load(Some(written_a_moment_ago), now),
            UNIX_EPOCH + Duration::from_secs(1002)
        );
    }

    #[test]
    fn the_include_file_lists_every_record_served() {
        let serving = vec![
            (
                "a._domainkey.example.com".to_owned(),
                "v=DKIM1; k=ed25519; p=AAAA".to_owned(),
            ),
            (
                "b._domainkey.example.com".to_owned(),
                "v=DKIM1; k=ed25519; p=BBBB".to_owned(),
            ),
        ];
        let text = include_text("example.com", &serving);
        assert!(
            text.contains(
                "a._domainkey.example.com.\tIN\tTXT\t( \"v=DKIM1; k=ed25519; \"\n\t  \"p=AAAA\" )\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("b._domainkey.example.com.\tIN\tTXT"),
            "{text}"
        );
    }
}

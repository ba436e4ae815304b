//! How rotate publishes and withdraws key records: the zone's own file, a zone file include per
//! domain, printed instructions for a person, DNS UPDATE (RFC 2136) to the primary server, a DNS
//! hosting provider's API (through dns-update), or the administrator's own command (a hook for
//! any other provider's tool).
//!
//! RFC 2136 stays dkimkit's own code rather than dns-update's: it tells BADKEY from BADSIG and
//! BADTIME (RFC 8945 5.2) and names the zone a server refused, which the administrator needs to
//! fix a TSIG setup.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use dkim_core::record::{format_zone_entry, quoted_txt_strings};
use dkim_core::time::unix_seconds;
use dkim_dns::zone_file::{ZoneFileError, apply_zone_file_changes, check_zone_file};
use dkim_dns::{DnsUpdater, HostedDns, HostedDnsError, Provider, TxtChange, UpdateError};
use host_files::{Existing, PUBLIC_FILE_MODE, WriteError, write_file_with};

/// A change to a domain's key records.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The signing domain.
    pub domain: &'a str,
    /// The record's name, `SELECTOR._domainkey.DOMAIN`.
    pub name: &'a str,
    /// The record to publish; None to withdraw the record at `name`.
    pub value: Option<&'a str>,
    /// Every record rotate serves for the domain once the changes of the batch are made, by
    /// name.
    pub serving: &'a [(String, String)],
}

/// Whether a change publishes or withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    /// A record was published (or replaced).
    Publish,
    /// A record was withdrawn.
    Withdraw,
}

impl ChangeAction {
    fn of(change: &Change<'_>) -> ChangeAction {
        match change.value {
            Some(_) => ChangeAction::Publish,
            None => ChangeAction::Withdraw,
        }
    }
}

/// How a change was made, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishedBy {
    /// Nothing was changed: a person is asked to make the change (`entry` is the zone file
    /// line to add).
    Person {
        /// The signing domain.
        domain: String,
        /// The zone file entry to add (None to remove the name's TXT records).
        entry: Option<String>,
    },
    /// DNS UPDATE to a server.
    DnsUpdate {
        /// The server.
        server: String,
    },
    /// A hosting provider's API.
    Api {
        /// The provider.
        provider: Provider,
        /// The zone named in the call.
        zone: String,
    },
    /// The administrator's command.
    Command {
        /// The zone given to it.
        zone: String,
    },
    /// An include file holding the domain's records.
    IncludeFile {
        /// The file.
        path: PathBuf,
    },
    /// The zone's own file.
    ZoneFile {
        /// The file.
        path: PathBuf,
        /// The serial raised, old and new; None when the file had the change already.
        serial: Option<(u32, u32)>,
    },
}

/// A change made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Publish or withdraw.
    pub action: ChangeAction,
    /// Where the record is.
    pub name: String,
    /// How.
    pub by: PublishedBy,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        if let PublishedBy::Person { domain, entry } = &self.by {
            return match entry {
                Some(entry) => write!(f, "publish in the {domain} zone: {entry}"),
                None => write!(f, "remove from the {domain} zone: {name}. IN TXT"),
            };
        }
        let done = match self.action {
            ChangeAction::Publish => "published",
            ChangeAction::Withdraw => "withdrew",
        };
        let in_or_from = match self.action {
            ChangeAction::Publish => "in",
            ChangeAction::Withdraw => "from",
        };
        match &self.by {
            PublishedBy::Person { .. } => Ok(()),
            PublishedBy::DnsUpdate { server } => {
                write!(f, "{done} {name} by DNS UPDATE to {server}")
            }
            PublishedBy::Api { provider, zone } => {
                write!(f, "{done} {name} through the {provider} API (zone {zone})")
            }
            PublishedBy::Command { zone } => {
                write!(f, "{done} {name} by the publish command (zone {zone})")
            }
            PublishedBy::IncludeFile { path } => {
                write!(f, "{done} {name} {in_or_from} {}", path.display())
            }
            PublishedBy::ZoneFile { path, serial } => {
                write!(f, "{done} {name} {in_or_from} {}", path.display())?;
                match serial {
                    Some((old, new)) => write!(f, ", serial {old} to {new}"),
                    None => write!(f, " (it was so already)"),
                }
            }
        }
    }
}

/// The commands rotate runs, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// The command that publishes a change.
    Publish,
    /// The command that reloads the name server after a zone file changed.
    DnsReload,
    /// The command that reloads the signer after a switch.
    SignerReload,
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hook::Publish => "the publish command",
            Hook::DnsReload => "the DNS reload command",
            Hook::SignerReload => "the signer's reload command",
        })
    }
}

/// Why a command rotate ran did not do its job. Cloned onto every change a failed reload
/// leaves undone.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    /// It could not be started.
    #[error("cannot run `{command}`")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: Arc<std::io::Error>,
    },
    /// It asked to be run again later (exit 75, EX_TEMPFAIL).
    #[error("it asks to try again later (exit {EX_TEMPFAIL}): {said}")]
    TryLater {
        /// Its standard error, in one line.
        said: String,
    },
    /// It failed.
    #[error("it failed ({status}): {said}")]
    Failed {
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its standard error, in one line.
        said: String,
    },
}

/// Why a change could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// DNS UPDATE failed.
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// The provider's API failed.
    #[error(transparent)]
    Api(#[from] HostedDnsError),
    /// The zone file could not be edited.
    #[error(transparent)]
    ZoneFile(#[from] ZoneFileError),
    /// No zone file given holds the name.
    #[error("no zone file given is for a zone holding {name}")]
    NoZoneFile {
        /// The record's name.
        name: String,
    },
    /// The include file could not be written.
    #[error("cannot write {}", path.display())]
    IncludeFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: WriteError,
    },
    /// A command failed.
    #[error("{hook}")]
    Command {
        /// Which.
        hook: Hook,
        /// How.
        source: CommandError,
    },
    /// A change made together with others (one UPDATE, one zone file edit) that failed: every
    /// change of it reports the one error.
    #[error(transparent)]
    Together(Arc<PublishError>),
}

impl PublishError {
    /// Whether trying again later may succeed (a server that did not answer, a provider's rate
    /// limit, a command that exited 75): the run then exits 3.
    pub fn is_temporary(&self) -> bool {
        match self {
            PublishError::Update(error) => error.is_temporary(),
            PublishError::Api(error) => error.is_temporary(),
            PublishError::Command { source, .. } => {
                matches!(source, CommandError::TryLater { .. })
            }
            PublishError::Together(error) => error.is_temporary(),
            PublishError::ZoneFile(_)
            | PublishError::NoZoneFile { .. }
            | PublishError::IncludeFile { .. } => false,
        }
    }
}

/// Publishes and withdraws records.
pub trait Publisher {
    /// Makes one change.
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError>;

    /// Makes every change of a batch, returning one result per change, in order. Methods that
    /// can make several changes at once (one UPDATE per zone, one edit per zone file) do so.
    fn apply_all(&mut self, changes: &[Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        changes.iter().map(|change| self.apply(change)).collect()
    }

    /// Checks, before anything changes, that a change to `name` could be made now: a temporary
    /// failure then stops the run with nothing changed.
    fn check_reachable(&self, _name: &str) -> Result<(), PublishError> {
        Ok(())
    }

    /// Whether changes must say every record their domain serves ([`Change::serving`]): only
    /// methods that write all of a domain's records at once need it.
    fn needs_serving(&self) -> bool {
        false
    }
}

/// The TTL of records published by DNS UPDATE: short, so a withdrawn record leaves caches soon.
const RECORD_TTL: u32 = 300;

/// DNS UPDATE (RFC 2136), signed with TSIG, to the zone's primary name server.
pub struct Rfc2136 {
    /// Sends the updates.
    pub updater: DnsUpdater,
}

/// The changes as DNS UPDATE and zone files take them.
fn txt_changes<'a>(changes: impl IntoIterator<Item = &'a Change<'a>>) -> Vec<TxtChange<'a>> {
    changes
        .into_iter()
        .map(|change| TxtChange {
            name: change.name,
            value: change.value,
        })
        .collect()
}

/// The one result of a call's changes, for each of them.
fn each_change<'c>(
    changes: impl IntoIterator<Item = &'c Change<'c>>,
    result: Result<(), PublishError>,
    applied: impl Fn(&Change<'_>) -> Applied,
) -> Vec<Result<Applied, PublishError>> {
    let result = result.map_err(Arc::new);
    changes
        .into_iter()
        .map(|change| match &result {
            Ok(()) => Ok(applied(change)),
            Err(error) => Err(PublishError::Together(error.clone())),
        })
        .collect()
}

impl Publisher for Rfc2136 {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        one_of_all(self, change)
    }

    /// One UPDATE per zone for the whole batch (RFC 2136 3.7: each applied whole or not at all).
    fn apply_all(&mut self, changes: &[Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        let sent = self
            .updater
            .apply_txt_changes(&txt_changes(changes), RECORD_TTL)
            .map_err(PublishError::from);
        let server = self.updater.server().to_string();
        each_change(changes, sent, |change| Applied {
            action: ChangeAction::of(change),
            name: change.name.to_owned(),
            by: PublishedBy::DnsUpdate {
                server: server.clone(),
            },
        })
    }

    fn check_reachable(&self, name: &str) -> Result<(), PublishError> {
        check_zone_reachable(Some(&self.updater), name)
    }
}

/// Prints what to add and remove.
pub struct Manual;

impl Publisher for Manual {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        let entry = change.value.map(|value| {
            format_zone_entry(&format!("{}.", change.name), value, None)
                .trim_end()
                .to_owned()
        });
        Ok(Applied {
            action: ChangeAction::of(change),
            name: change.name.to_owned(),
            by: PublishedBy::Person {
                domain: change.domain.to_owned(),
                entry,
            },
        })
    }
}

/// The administrator's command, run with `sh -c` once per change, the change in its
/// environment: DKIMKIT_ACTION (publish or withdraw), DKIMKIT_NAME, DKIMKIT_ZONE, DKIMKIT_VALUE
/// and DKIMKIT_STRINGS (the value in 255-byte strings, quoted as BIND writes them).
pub struct Exec {
    /// The command line.
    pub command: String,
    /// Asks the first name server for the zone that holds a name (its SOA), for DKIMKIT_ZONE;
    /// without one, the signing domain is taken as the zone.
    pub zone_finder: Option<DnsUpdater>,
}

/// The zone holding `change`'s name: what `finder` (the first name server) says, or else the
/// signing domain.
fn zone_of(finder: Option<&DnsUpdater>, change: &Change<'_>) -> Result<String, PublishError> {
    match finder {
        Some(finder) => Ok(finder.find_zone(change.name)?),
        None => Ok(change.domain.to_owned()),
    }
}

/// Checks that `finder`, when there is one, can find the zone holding `name` now.
fn check_zone_reachable(finder: Option<&DnsUpdater>, name: &str) -> Result<(), PublishError> {
    match finder {
        Some(finder) => finder.find_zone(name).map(drop).map_err(Into::into),
        None => Ok(()),
    }
}

impl Publisher for Exec {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        let zone = zone_of(self.zone_finder.as_ref(), change)?;
        let action = ChangeAction::of(change);
        let value = change.value.unwrap_or_default();
        let strings = quoted_txt_strings(value).join(" ");
        run_command(
            &self.command,
            &[
                (
                    "DKIMKIT_ACTION",
                    match action {
                        ChangeAction::Publish => "publish",
                        ChangeAction::Withdraw => "withdraw",
                    },
                ),
                ("DKIMKIT_NAME", change.name),
                ("DKIMKIT_ZONE", &zone),
                ("DKIMKIT_VALUE", value),
                ("DKIMKIT_STRINGS", &strings),
            ],
        )
        .map_err(|source| PublishError::Command {
            hook: Hook::Publish,
            source,
        })?;
        Ok(Applied {
            action,
            name: change.name.to_owned(),
            by: PublishedBy::Command { zone },
        })
    }

    fn check_reachable(&self, name: &str) -> Result<(), PublishError> {
        check_zone_reachable(self.zone_finder.as_ref(), name)
    }
}

/// A DNS hosting provider's API (`powerdns`, `cloudflare`, ...), through dns-update.
pub struct Hosted {
    /// The provider's client.
    pub client: HostedDns,
    /// As for [`Exec`]: finds the zone to name in the API call.
    pub zone_finder: Option<DnsUpdater>,
}

impl Publisher for Hosted {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        let zone = zone_of(self.zone_finder.as_ref(), change)?;
        match change.value {
            Some(value) => self
                .client
                .replace_txt(change.name, &zone, value, RECORD_TTL)?,
            None => self.client.delete_txt(change.name, &zone)?,
        }
        Ok(Applied {
            action: ChangeAction::of(change),
            name: change.name.to_owned(),
            by: PublishedBy::Api {
                provider: self.client.provider(),
                zone,
            },
        })
    }

    fn check_reachable(&self, name: &str) -> Result<(), PublishError> {
        check_zone_reachable(self.zone_finder.as_ref(), name)
    }
}

/// An include file per domain, `DIR/DOMAIN.dkim`, holding every record rotate serves for the
/// domain (add `$INCLUDE` of it to the zone), then the name server's reload command.
pub struct ZoneFile {
    /// Where the include files are.
    pub dir: PathBuf,
    /// Reloads the name server.
    pub reload_command: Option<String>,
}

impl ZoneFile {
    fn include_file(&self, domain: &str) -> PathBuf {
        self.dir.join(format!("{domain}.dkim"))
    }

    /// Writes the include file of `change`'s domain, without reloading.
    fn write_include(&self, change: &Change<'_>) -> Result<Applied, PublishError> {
        let path = self.include_file(change.domain);
        let text = include_text(change.domain, change.serving);
        let previous = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        write_file_with(&path, PUBLIC_FILE_MODE, Existing::Replace, |file| {
            std::io::Write::write_all(file, text.as_bytes())?;
            file.set_modified(newer_than_any_load(previous, SystemTime::now()))
        })
        .map_err(|source| PublishError::IncludeFile {
            path: path.clone(),
            source,
        })?;
        Ok(Applied {
            action: ChangeAction::of(change),
            name: change.name.to_owned(),
            by: PublishedBy::IncludeFile { path },
        })
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

/// Runs the name server's reload command, when there is one, after files changed: once per
/// batch, the changes that made it failing with it.
fn reload_after(
    reload_command: Option<&str>,
    mut results: Vec<Result<Applied, PublishError>>,
) -> Vec<Result<Applied, PublishError>> {
    let Some(command) = reload_command else {
        return results;
    };
    if !results.iter().any(Result::is_ok) {
        return results;
    }
    if let Err(error) = run_command(command, &[]) {
        let hook = Hook::DnsReload;
        for result in &mut results {
            if result.is_ok() {
                *result = Err(PublishError::Command {
                    hook,
                    source: error.clone(),
                });
            }
        }
    }
    results
}

/// A change made as the only change of a batch.
fn one_of_all(publisher: &mut dyn Publisher, change: &Change<'_>) -> Result<Applied, PublishError> {
    publisher
        .apply_all(std::slice::from_ref(change))
        .pop()
        .expect("one result per change")
}

impl Publisher for ZoneFile {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        one_of_all(self, change)
    }

    fn apply_all(&mut self, changes: &[Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        let results = changes
            .iter()
            .map(|change| self.write_include(change))
            .collect();
        reload_after(self.reload_command.as_deref(), results)
    }

    fn needs_serving(&self) -> bool {
        true
    }
}

/// The zones' own master files, by zone: the record is added to or removed from the file of
/// the zone that holds its name, the SOA serial raised, then the name server's reload command.
pub struct ZoneFileEdit {
    /// The zones' files, by zone.
    pub zones: Vec<(String, PathBuf)>,
    /// Reloads the name server.
    pub reload_command: Option<String>,
    /// The time of the run, for date and Unix-time serials.
    pub now: u64,
}

impl ZoneFileEdit {
    /// The zone holding `name` (the longest that `name` is in), by its place in `zones`.
    fn zone_of(&self, name: &str) -> Result<usize, PublishError> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.zones
            .iter()
            .enumerate()
            .filter(|(_, (zone, _))| {
                let zone = zone.trim_end_matches('.').to_ascii_lowercase();
                name == zone || name.ends_with(&format!(".{zone}"))
            })
            .max_by_key(|(_, (zone, _))| zone.len())
            .map(|(index, _)| index)
            .ok_or(PublishError::NoZoneFile { name })
    }

    /// Edits one zone's file with `changes`, raising its serial once.
    fn edit(&self, zone: usize, changes: &[&Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        let (zone, path) = &self.zones[zone];
        let previous = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let edited = apply_zone_file_changes(
            path,
            zone,
            &txt_changes(changes.iter().copied()),
            self.now,
            newer_than_any_load(previous, SystemTime::now()),
        );
        let serial = edited.as_ref().ok().and_then(|edit| edit.serial);
        let result = edited.map(drop).map_err(PublishError::from);
        each_change(changes.iter().copied(), result, |change| Applied {
            action: ChangeAction::of(change),
            name: change.name.to_owned(),
            by: PublishedBy::ZoneFile {
                path: path.clone(),
                serial,
            },
        })
    }
}

impl Publisher for ZoneFileEdit {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        one_of_all(self, change)
    }

    /// One edit, and one serial raise, per zone file for the whole batch.
    fn apply_all(&mut self, changes: &[Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        let mut results: Vec<Option<Result<Applied, PublishError>>> =
            changes.iter().map(|_| None).collect();
        let mut by_zone: Vec<(usize, Vec<usize>)> = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            match self.zone_of(change.name) {
                Ok(zone) => match by_zone.iter_mut().find(|(z, _)| *z == zone) {
                    Some((_, indexes)) => indexes.push(index),
                    None => by_zone.push((zone, vec![index])),
                },
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        for (zone, indexes) in by_zone {
            let zone_changes: Vec<&Change<'_>> = indexes.iter().map(|&i| &changes[i]).collect();
            for (index, result) in indexes.into_iter().zip(self.edit(zone, &zone_changes)) {
                results[index] = Some(result);
            }
        }
        let results = results
            .into_iter()
            .map(|result| result.expect("every change is in a zone or refused"))
            .collect();
        reload_after(self.reload_command.as_deref(), results)
    }

    fn check_reachable(&self, _name: &str) -> Result<(), PublishError> {
        for (zone, path) in &self.zones {
            check_zone_file(path, zone)?;
        }
        Ok(())
    }
}

/// The exit status by which a command says "try again later" (sysexits.h EX_TEMPFAIL).
pub const EX_TEMPFAIL: i32 = 75;

/// Runs a command line with `sh -c`, `environment` added to rotate's. Fails with its standard
/// error in one line when it fails; exit 75 (EX_TEMPFAIL) asks to try again later.
pub fn run_command(command: &str, environment: &[(&str, &str)]) -> Result<(), CommandError> {
    let output = Command::new("sh")
        .args(["-c", command])
        .envs(environment.iter().copied())
        .output()
        .map_err(|source| CommandError::Spawn {
            command: command.to_owned(),
            source: Arc::new(source),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let said = one_line(&String::from_utf8_lossy(&output.stderr));
    let said = if said.is_empty() {
        "it printed nothing on standard error".to_owned()
    } else {
        said
    };
    // The error names the command by its role: the command line itself may be long, and may
    // hold what it printed.
    if output.status.code() == Some(EX_TEMPFAIL) {
        return Err(CommandError::TryLater { said });
    }
    Err(CommandError::Failed {
        status: output.status,
        said,
    })
}

/// A command's output as one line for the report: its lines joined with " / ", cut at 300
/// characters.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 300;
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    match joined.char_indices().nth(LIMIT) {
        Some((at, _)) => format!("{}...", &joined[..at]),
        None => joined,
    }
}

/// The modification time to give a new include file. BIND reloads a zone only when one of its
/// files is newer than its last load, to the second; the last load may have been this very
/// second (a change to the same domain a moment ago), so the file is dated the next second,
/// and later than the file it replaces.
fn newer_than_any_load(previous: Option<SystemTime>, now: SystemTime) -> SystemTime {
    let next_second = |time: SystemTime| UNIX_EPOCH + Duration::from_secs(unix_seconds(time) + 1);
    match previous {
        Some(previous) if previous >= now => next_second(previous),
        _ => next_second(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commands_output_is_summarised_in_one_line() {
        assert_eq!(
            one_line("  nsupdate: update failed: REFUSED\n\n; TSIG error\n"),
            "nsupdate: update failed: REFUSED / ; TSIG error"
        );
        let long = "é".repeat(400);
        let summary = one_line(&long);
        assert!(summary.ends_with("...") && summary.chars().count() == 303);
    }

    #[test]
    fn a_command_that_exits_75_asks_to_try_again_later() {
        let error = run_command("echo 'rate limit' >&2; exit 75", &[]).unwrap_err();
        assert!(matches!(&error, CommandError::TryLater { said } if said == "rate limit"));
        let publish = PublishError::Command {
            hook: Hook::Publish,
            source: error,
        };
        assert!(publish.is_temporary());
        let failed = run_command("exit 1", &[]).unwrap_err();
        assert!(matches!(failed, CommandError::Failed { .. }));
    }

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

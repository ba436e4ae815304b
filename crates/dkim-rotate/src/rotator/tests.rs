//! The rotator driven without a name server: the DNS is a map the recording publisher writes
//! and the lookups read (a second map plays a secondary that missed the changes), the keys are
//! files in a temporary directory, and the clock is whatever each run is told.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::publish::{Applied, CommandError, Hook, PublishError, PublishedBy};
use dkim_core::key::KeySpec;
use dkim_core::record::KeyRecord;
use dkim_dns::{DnssecStatus, TxtAnswer};
use opendkim_config::{DataSetKind, KeyTable};

const DAY: u64 = 86_400;
/// 2026-11-01T04:00:00Z: the keys' age counts from here.
const T0: u64 = 1_793_505_600;
/// A month and a day later: every key is due.
const DUE: u64 = T0 + 31 * DAY;

/// Records by lower-case name, as one name server serves them.
#[derive(Clone, Default)]
struct Zone(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Zone {
    fn records(&self, name: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.lock().unwrap().keys().cloned().collect();
        names.sort();
        names
    }

    fn set(&self, name: &str, value: Option<&str>) {
        let mut records = self.0.lock().unwrap();
        match value {
            Some(value) => records.insert(name.to_owned(), vec![value.to_owned()]),
            None => records.remove(name),
        };
    }

    /// The same records, as a secondary that transferred the zone now has them.
    fn transfer_to(&self, secondary: &Zone) {
        *secondary.0.lock().unwrap() = self.0.lock().unwrap().clone();
    }
}

/// A name server answering from a [`Zone`], or not at all while `silent`.
struct ZoneServer {
    zone: Zone,
    silent: Arc<AtomicBool>,
}

impl KeyLookup for ZoneServer {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        if self.silent.load(Ordering::SeqCst) {
            return Err(LookupError::Timeout {
                name: name.to_owned(),
            });
        }
        match self.zone.records(name) {
            records if records.is_empty() => Err(LookupError::NoSuchName {
                name: name.to_owned(),
            }),
            records => Ok(TxtAnswer {
                records,
                cname_chain: Vec::new(),
                dnssec: DnssecStatus::Secure,
                dnssec_reason: None,
            }),
        }
    }
}

/// The changes of each batch a publisher was given, in order.
type Batches = Arc<Mutex<Vec<Vec<(ChangeAction, String)>>>>;

/// Publishes into a [`Zone`], remembering each batch; names in `refused` fail as a provider's
/// rate limit does (temporarily).
struct RecordingPublisher {
    zone: Zone,
    batches: Batches,
    refused: Arc<Mutex<Vec<String>>>,
}

impl Publisher for RecordingPublisher {
    fn apply(&mut self, change: &Change<'_>) -> Result<Applied, PublishError> {
        if self
            .refused
            .lock()
            .unwrap()
            .iter()
            .any(|n| n == change.name)
        {
            return Err(PublishError::Command {
                hook: Hook::Publish,
                source: CommandError::TryLater {
                    said: "rate limit".to_owned(),
                },
            });
        }
        self.zone.set(change.name, change.value);
        Ok(Applied {
            action: match change.value {
                Some(_) => ChangeAction::Publish,
                None => ChangeAction::Withdraw,
            },
            name: change.name.to_owned(),
            by: PublishedBy::DnsUpdate {
                server: "primary".to_owned(),
            },
        })
    }

    fn apply_all(&mut self, changes: &[Change<'_>]) -> Vec<Result<Applied, PublishError>> {
        self.batches.lock().unwrap().push(
            changes
                .iter()
                .map(|c| {
                    let action = match c.value {
                        Some(_) => ChangeAction::Publish,
                        None => ChangeAction::Withdraw,
                    };
                    (action, c.name.to_owned())
                })
                .collect(),
        );
        changes.iter().map(|change| self.apply(change)).collect()
    }
}

/// A signing host: keys under `keys/DOMAIN/`, a KeyTable, the primary's zone and a secondary's.
struct Host {
    dir: tempfile::TempDir,
    primary: Zone,
    /// Served by the second name server when `with_secondary`; it only changes by transfer.
    secondary: Zone,
    with_secondary: bool,
    silent: Arc<AtomicBool>,
    batches: Batches,
    refused: Arc<Mutex<Vec<String>>>,
}

fn read_key(path: &Path) -> Result<PrivateKey, Box<dyn Error + Send + Sync>> {
    Ok(PrivateKey::from_file_contents(&std::fs::read(path)?)?)
}

impl Host {
    /// `domains` each with an Ed25519 key `old` made at T0 and published.
    fn new(domains: &[&str]) -> Host {
        let host = Host {
            dir: tempfile::tempdir().unwrap(),
            primary: Zone::default(),
            secondary: Zone::default(),
            with_secondary: false,
            silent: Arc::new(AtomicBool::new(false)),
            batches: Arc::default(),
            refused: Arc::default(),
        };
        let mut table = String::new();
        for domain in domains {
            let folder = host.keys_dir().join(domain);
            std::fs::create_dir_all(&folder).unwrap();
            let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
            let key_file = folder.join("old.private");
            std::fs::write(&key_file, key.to_pem().unwrap().as_bytes()).unwrap();
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
            File::options()
                .write(true)
                .open(&key_file)
                .unwrap()
                .set_modified(UNIX_EPOCH + Duration::from_secs(T0))
                .unwrap();
            let record = successor_record(None, &key.public_key()).to_value();
            host.primary
                .set(&format!("old._domainkey.{domain}"), Some(&record));
            table.push_str(&format!("{domain} {domain}:old:{}\n", key_file.display()));
        }
        host.primary.transfer_to(&host.secondary);
        std::fs::write(host.key_table(), table).unwrap();
        host
    }

    fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    fn key_table(&self) -> PathBuf {
        self.dir.path().join("KeyTable")
    }

    fn state_path(&self) -> PathBuf {
        self.keys_dir().join("state.json")
    }

    fn selector(&self, domain: &str) -> String {
        let table = KeyTable::load(&self.key_table(), DataSetKind::File).unwrap();
        table.get(domain).unwrap().selector.to_string()
    }

    fn config(&self, now: u64) -> Config {
        Config {
            now,
            policy: Policy {
                every: "1month".parse().unwrap(),
                overlap: "7d".parse().unwrap(),
                max_wait: "3d".parse().unwrap(),
            },
            dry_run: false,
            key_type: None,
            bits: None,
            selector_format: "%Y%m".to_owned(),
            rotate_now: Vec::new(),
            revoke: false,
            reveal_dir: None,
            reload_command: None,
            stop_after_steps: None,
        }
    }

    /// One run, as cron starts it: everything read afresh from the files.
    fn run(&self, config: Config) -> Result<RunReport, RotateError> {
        let table = KeyTable::load(&self.key_table(), DataSetKind::File).unwrap();
        let keys = SigningKeys::Table {
            table,
            path: self.key_table(),
            base: None,
        };
        let (managed, untouched) = keys.managed_entries(&self.keys_dir(), None);
        assert!(untouched.is_empty());
        let server = |zone: &Zone| ZoneServer {
            zone: zone.clone(),
            silent: self.silent.clone(),
        };
        let mut servers = vec![NameServer {
            name: "primary".to_owned(),
            lookup: Box::new(server(&self.primary)),
        }];
        if self.with_secondary {
            servers.push(NameServer {
                name: "secondary".to_owned(),
                lookup: Box::new(server(&self.secondary)),
            });
        }
        let mut rotator = Rotator::new(Parts {
            config,
            keys,
            publisher: Box::new(RecordingPublisher {
                zone: self.primary.clone(),
                batches: self.batches.clone(),
                refused: self.refused.clone(),
            }),
            servers,
            read_key: &read_key,
            signer: None,
            state_path: self.state_path(),
        })?;
        let mut settled = 0;
        let report = rotator.run(&managed, &mut || settled += 1)?;
        if report.stopped_after.is_none() {
            assert_eq!(settled, managed.len(), "every entry settles once");
        }
        Ok(report)
    }

    fn run_at(&self, now: u64) -> RunReport {
        self.run(self.config(now)).unwrap()
    }

    /// The private keys under the keys folder (retired/ apart), by domain.
    fn key_files(&self, domain: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.keys_dir().join(domain))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".private"))
            .collect();
        names.sort();
        names
    }

    /// What the primary serves for `domain`, by selector.
    fn served(&self, domain: &str) -> Vec<String> {
        self.primary
            .names()
            .into_iter()
            .filter_map(|name| {
                name.strip_suffix(&format!("._domainkey.{domain}"))
                    .map(str::to_owned)
            })
            .collect()
    }
}

/// The one entry's report.
fn only(report: &RunReport) -> &EntryReport {
    assert_eq!(report.entries.len(), 1, "{report:?}");
    &report.entries[0]
}

/// The events' kinds, as their variant names, for comparing sequences.
fn kinds(entry: &EntryReport) -> Vec<&'static str> {
    entry
        .events
        .iter()
        .map(|event| match event {
            Event::Adopted { .. } => "adopted",
            Event::SignerCannotRead(_) => "signer cannot read",
            Event::StolenKeyReplaced { .. } => "stolen key replaced",
            Event::Began { .. } => "began",
            Event::BeganEarly { .. } => "began early",
            Event::Generated { .. } => "generated",
            Event::WeakKey { .. } => "weak key",
            Event::Changed(applied) if applied.action == ChangeAction::Publish => "published",
            Event::Changed(_) => "withdrew",
            Event::Revoked(_) => "revoked",
            Event::WouldChange { .. } => "would change",
            Event::Waiting(_) => "waiting",
            Event::WouldWait { .. } => "would wait",
            Event::Bogus(_) => "bogus",
            Event::Switched { .. } => "switched",
            Event::SwitchRecorded { .. } => "switch recorded",
            Event::Reload { .. } => "reload",
            Event::Retired { .. } => "retired",
            Event::WouldRetire { .. } => "would retire",
        })
        .collect()
}

fn up_to_date_until(entry: &EntryReport) -> u64 {
    match entry.status {
        EntryStatus::UpToDate { next_step } => next_step,
        ref other => panic!("not up to date: {other:?} {:?}", entry.events),
    }
}

#[test]
fn a_key_goes_through_every_state_of_its_rotation() {
    let host = Host::new(&["example.com"]);
    let first = host.run_at(T0 + DAY);
    assert_eq!(kinds(only(&first)), ["adopted"]);
    let due = up_to_date_until(only(&first));
    assert!(due > T0 + 27 * DAY && due <= T0 + 31 * DAY, "{due}");

    let nothing_due = host.run_at(T0 + 2 * DAY);
    assert!(kinds(only(&nothing_due)).is_empty());
    assert_eq!(up_to_date_until(only(&nothing_due)), due);

    let rotated = host.run_at(DUE);
    assert_eq!(
        kinds(only(&rotated)),
        [
            "began",
            "generated",
            "published",
            "switched",
            "switch recorded",
            "reload"
        ]
    );
    let overlap_ends = up_to_date_until(only(&rotated));
    assert_eq!(overlap_ends, DUE + 7 * DAY);
    assert_eq!(host.selector("example.com"), "202612");
    assert_eq!(host.served("example.com"), ["202612", "old"]);
    assert_eq!(
        host.key_files("example.com"),
        ["202612.private", "old.private"]
    );
    // The new record is the new key's, with genkey's flags, as SELECTOR.txt says.
    let new_key = read_key(&host.keys_dir().join("example.com/202612.private")).unwrap();
    let served =
        KeyRecord::parse(&host.primary.records("202612._domainkey.example.com")[0]).unwrap();
    assert_eq!(served, successor_record(None, &new_key.public_key()));
    assert_eq!(rotated.dns_changes.len(), 1);

    let retired = host.run_at(overlap_ends);
    assert_eq!(kinds(only(&retired)), ["withdrew", "retired"]);
    assert_eq!(host.served("example.com"), ["202612"]);
    assert_eq!(host.key_files("example.com"), ["202612.private"]);
    assert!(
        host.keys_dir()
            .join("example.com/retired/old.private")
            .exists()
    );
    let next_due = up_to_date_until(only(&retired));
    assert!(next_due > DUE + 27 * DAY, "{next_due}");
}

#[test]
fn a_secondary_behind_holds_the_switch_until_it_serves_and_then_past_the_limit_fails() {
    let mut host = Host::new(&["example.com"]);
    host.with_secondary = true;
    host.run_at(T0);
    let waiting = host.run_at(DUE);
    let entry = only(&waiting);
    assert_eq!(kinds(entry), ["began", "generated", "published", "waiting"]);
    assert!(matches!(entry.status, EntryStatus::WaitingForDns));
    let Some(Event::Waiting(wait)) = entry.events.last() else {
        unreachable!()
    };
    assert_eq!(wait.behind.len(), 1);
    assert_eq!(wait.behind[0].server, "secondary");
    assert_eq!(host.selector("example.com"), "old", "not switched");

    let still = host.run_at(DUE + 2 * DAY);
    assert_eq!(kinds(only(&still)), ["waiting"]);

    let overdue = host.run_at(DUE + 3 * DAY + 1);
    match &only(&overdue).status {
        EntryStatus::Stopped(error) => {
            assert!(error.is_overdue() && !error.is_temporary(), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(host.selector("example.com"), "old");

    host.primary.transfer_to(&host.secondary);
    let switched = host.run_at(DUE + 4 * DAY);
    assert_eq!(
        kinds(only(&switched)),
        ["switched", "switch recorded", "reload"]
    );
    assert_eq!(host.selector("example.com"), "202612");
}

#[test]
fn a_silent_name_server_changes_nothing_and_is_temporary() {
    let host = Host::new(&["example.com"]);
    host.run_at(T0);
    let state_before = std::fs::read(host.state_path()).unwrap();
    host.silent.store(true, Ordering::SeqCst);
    let error = host.run(host.config(DUE)).unwrap_err();
    assert!(
        matches!(error, RotateError::NothingChanged { .. }) && error.is_temporary(),
        "{error}"
    );
    assert_eq!(host.key_files("example.com"), ["old.private"]);
    assert_eq!(std::fs::read(host.state_path()).unwrap(), state_before);
    assert!(host.batches.lock().unwrap().is_empty());
    host.silent.store(false, Ordering::SeqCst);
    let rotated = host.run_at(DUE);
    assert_eq!(host.selector("example.com"), "202612", "{rotated:?}");
}

#[test]
fn a_run_killed_after_any_step_is_completed_by_the_next() {
    let mut every_step_tried = false;
    for steps in 1.. {
        let host = Host::new(&["example.com", "example.net"]);
        host.run_at(T0);
        let killed = host
            .run(Config {
                stop_after_steps: Some(steps),
                ..host.config(DUE)
            })
            .unwrap();
        if killed.stopped_after.is_none() {
            every_step_tried = true;
            break;
        }
        assert_eq!(killed.stopped_after, Some(steps));
        let completed = host.run_at(DUE);
        for domain in ["example.com", "example.net"] {
            assert_eq!(host.selector(domain), "202612", "killed after {steps}");
            assert_eq!(
                host.served(domain),
                ["202612", "old"],
                "killed after {steps}"
            );
            assert_eq!(
                host.key_files(domain),
                ["202612.private", "old.private"],
                "killed after {steps}"
            );
        }
        for entry in &completed.entries {
            assert_eq!(
                up_to_date_until(entry),
                DUE + 7 * DAY,
                "killed after {steps}"
            );
        }
        // The overlap's end, killed once more after each of its steps.
        let killed = host
            .run(Config {
                stop_after_steps: Some(steps),
                ..host.config(DUE + 7 * DAY)
            })
            .unwrap();
        assert!(killed.stopped_after.is_none_or(|n| n == steps));
        host.run_at(DUE + 7 * DAY);
        for domain in ["example.com", "example.net"] {
            assert_eq!(host.served(domain), ["202612"], "killed after {steps}");
            assert_eq!(host.key_files(domain), ["202612.private"]);
        }
    }
    assert!(every_step_tried);
}

#[test]
fn clock_jumps_start_one_rotation_and_a_clock_set_back_changes_nothing() {
    let host = Host::new(&["example.com"]);
    host.run_at(T0);
    // A host switched off for a year: one rotation, not twelve.
    let year_later = T0 + 400 * DAY;
    let rotated = host.run_at(year_later);
    let began = kinds(only(&rotated))
        .iter()
        .filter(|k| **k == "began")
        .count();
    assert_eq!(began, 1);
    assert_eq!(host.selector("example.com"), "202712");
    let again = host.run_at(year_later);
    assert!(kinds(only(&again)).is_empty());
    // The clock set back before the switch: nothing is due and nothing moves.
    let back = host.run_at(T0 - 10 * DAY);
    assert!(kinds(only(&back)).is_empty());
    up_to_date_until(only(&back));
    assert_eq!(host.served("example.com"), ["202712", "old"]);
}

#[test]
fn the_records_of_a_round_go_to_the_publisher_in_one_batch() {
    let domains: Vec<String> = (0..12)
        .map(|n| format!("d{n}.zone{}.test", n % 3))
        .collect();
    let names: Vec<&str> = domains.iter().map(String::as_str).collect();
    let host = Host::new(&names);
    host.run_at(T0);
    let rotated = host.run_at(DUE);
    assert!(
        rotated
            .entries
            .iter()
            .all(|e| matches!(e.status, EntryStatus::UpToDate { .. }))
    );
    let batches = host.batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0].len(), 12);
    assert!(batches[0].iter().all(|(a, _)| *a == ChangeAction::Publish));
    host.run_at(DUE + 7 * DAY);
    let batches = host.batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 2);
    assert!(batches[1].iter().all(|(a, _)| *a == ChangeAction::Withdraw));
    // Every entry's KeyTable line was switched, the file written once per round.
    for domain in &domains {
        assert_eq!(host.selector(domain), "202612");
    }
}

#[test]
fn an_entry_the_publisher_refuses_for_now_waits_while_the_others_go_on() {
    let host = Host::new(&["example.com", "example.net"]);
    host.run_at(T0);
    host.refused
        .lock()
        .unwrap()
        .push("202612._domainkey.example.net".to_owned());
    let report = host.run_at(DUE);
    let net = &report.entries[1];
    match &net.status {
        EntryStatus::Stopped(error) => assert!(error.is_temporary(), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(host.selector("example.com"), "202612");
    assert_eq!(host.selector("example.net"), "old");
    host.refused.lock().unwrap().clear();
    let retried = host.run_at(DUE + 1);
    assert_eq!(
        kinds(&retried.entries[1]),
        ["published", "switched", "switch recorded", "reload"]
    );
    assert_eq!(host.selector("example.net"), "202612");
}

#[test]
fn a_dry_run_says_each_step_and_changes_nothing() {
    let host = Host::new(&["example.com"]);
    host.run_at(T0);
    let state_before = std::fs::read(host.state_path()).unwrap();
    let report = host
        .run(Config {
            dry_run: true,
            ..host.config(DUE)
        })
        .unwrap();
    assert_eq!(
        kinds(only(&report)),
        ["began", "generated", "would change", "would wait"]
    );
    assert_eq!(host.key_files("example.com"), ["old.private"]);
    assert_eq!(std::fs::read(host.state_path()).unwrap(), state_before);
    assert!(host.batches.lock().unwrap().is_empty());
}

#[test]
fn a_stolen_key_is_rotated_now_and_its_record_revoked_without_overlap() {
    let host = Host::new(&["example.com"]);
    host.run_at(T0);
    let now = T0 + 5 * DAY;
    let report = host
        .run(Config {
            rotate_now: vec!["example.com".parse().unwrap()],
            revoke: true,
            ..host.config(now)
        })
        .unwrap();
    assert_eq!(
        kinds(only(&report)),
        [
            "began early",
            "generated",
            "published",
            "switched",
            "switch recorded",
            "reload",
            "revoked",
            "retired"
        ]
    );
    let revoked = KeyRecord::parse(&host.primary.records("old._domainkey.example.com")[0]).unwrap();
    assert!(revoked.is_revoked());
    assert_eq!(host.key_files("example.com"), ["202611.private"]);
}

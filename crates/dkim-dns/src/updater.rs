//! Publishing and withdrawing key records on a zone's primary name server by DNS UPDATE (RFC
//! 2136), signed with a TSIG key (RFC 8945).
//!
//! Key rotation publishes a new selector's record, waits, and withdraws the old one. Doing that
//! by hand in zone files is where rotations go wrong; `nsupdate` is what administrators script
//! today. This does what their nsupdate scripts do, as a library: find the zone that holds the
//! name (it may be a `_domainkey` subzone), then replace or delete the TXT record in one signed
//! UPDATE message, and check the signed response, so a success really is the server's.
//!
//! A run over a hosting provider's thousands of keys in a hundred zones cannot afford a message
//! (and a serial raise, and a journal entry) per record: [`DnsUpdater::apply_txt_changes`] sends
//! all of a zone's changes in one message, and the zones side by side.
//!
//! Like [`super::HickoryLookup`], a [`DnsUpdater`] owns a small runtime ([`super::runtime`]), so
//! it is called from synchronous code, from any number of threads.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dkim_core::time::unix_seconds;
use hickory_resolver::proto::op::Message;
use hickory_resolver::proto::rr::{Name, TSigner};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::exchange::{ExchangeError, exchange};
use super::names::{display_name, query_name};
use super::runtime::BackgroundRuntime;
use super::tsig_key::TsigKey;
use super::update_error::{UpdateError, UpdateErrorKind, UpdaterSetupError, ZoneProblem};
use super::update_messages::{TxtEdit, soa_query, txt_updates};
use super::update_response::{SentUpdate, Signature, judge_update_response};
use super::zone_search::{ZoneStep, read_soa_response};
use dkim_core::record::{TxtChange, split_txt_value};

/// The largest TTL (RFC 2181 8: the top bit of the 32 is reserved).
const MAX_TTL: u32 = 0x7fff_ffff;

/// How many exchanges (SOA queries, or one zone's updates) run at once. Enough to overlap the
/// waits of a run over a hundred zones; few enough to stay well inside the server's limits on
/// concurrent TCP clients and updates (BIND's `tcp-clients`, `update-quota`, both 100 or more).
const PARALLEL_EXCHANGES: usize = 16;

/// Where the time to sign with comes from.
type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Sends DNS UPDATEs for key records to one server, the primary of their zone. Build one per
/// run and share it by reference between threads.
pub struct DnsUpdater {
    inner: Arc<Inner>,
    runtime: BackgroundRuntime,
}

/// What the tasks share.
struct Inner {
    server: SocketAddr,
    key: Option<(TsigKey, TSigner)>,
    timeout: Duration,
    clock: Clock,
}

impl fmt::Debug for DnsUpdater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsUpdater")
            .field("server", &self.inner.server)
            .field("key", &self.inner.key.as_ref().map(|(key, _)| key))
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl DnsUpdater {
    /// An updater sending to `server` (the zone's primary; see [`super::parse_nameserver`] for
    /// reading `IP[:PORT]`), signing updates with `key` (`None` sends them unsigned, which
    /// servers normally refuse), waiting at most `timeout` for each answer. Sends nothing yet.
    pub fn new(
        server: SocketAddr,
        key: Option<TsigKey>,
        timeout: Duration,
    ) -> Result<DnsUpdater, UpdaterSetupError> {
        if timeout.is_zero() {
            return Err(UpdaterSetupError::ZeroTimeout);
        }
        let key = match key {
            Some(key) => {
                let signer = key.signer().map_err(|detail| UpdaterSetupError::Key {
                    key: key.name(),
                    detail,
                })?;
                Some((key, signer))
            }
            None => None,
        };
        // One thread: an update is a handful of small messages, one at a time per caller.
        let runtime =
            BackgroundRuntime::start(1, "dkimkit-update").map_err(UpdaterSetupError::Runtime)?;
        Ok(DnsUpdater {
            inner: Arc::new(Inner {
                server,
                key,
                timeout,
                clock: Arc::new(SystemTime::now),
            }),
            runtime,
        })
    }

    /// The same updater signing with the time `clock` gives instead of the system's (TSIG
    /// signatures carry the time, RFC 8945 5.2.3). For tests; also a way to see what the server
    /// says about a skewed clock.
    pub fn with_clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> DnsUpdater {
        let inner = Inner {
            server: self.inner.server,
            key: self.inner.key.clone(),
            timeout: self.inner.timeout,
            clock: Arc::new(clock),
        };
        DnsUpdater {
            inner: Arc::new(inner),
            runtime: self.runtime,
        }
    }

    /// The server updates go to.
    pub fn server(&self) -> SocketAddr {
        self.inner.server
    }

    /// The zone that holds `name` at the server (lower case, without trailing dot), found by
    /// asking for the SOA record at the name and, while the answers name no zone, at each name
    /// above it. A name in a delegated `_domainkey` subzone the server also serves gives that
    /// subzone.
    pub fn find_zone(&self, name: &str) -> Result<String, UpdateError> {
        let name = name.to_owned();
        self.run(&name.clone(), move |inner| async move {
            let owner = valid_name(&name, inner.server)?;
            inner
                .zone_of(&name, &owner)
                .await
                .map(|zone| zone_text(&zone))
        })
    }

    /// Makes the TXT record at `name` hold `value` and nothing else: one UPDATE that deletes the
    /// TXT records there and adds one record of `value` split into character-strings of at most
    /// 255 bytes ([`split_txt_value`]), with `ttl`. The server applies it whole or not at all
    /// (RFC 2136 3.7), and doing it twice leaves the same one record.
    pub fn replace_txt(&self, name: &str, value: &str, ttl: u32) -> Result<(), UpdateError> {
        self.apply_txt_changes(
            &[TxtChange {
                name,
                value: Some(value),
            }],
            ttl,
        )
    }

    /// Deletes the TXT records at `name`. Deleting what is not there succeeds, so this is safe
    /// to repeat.
    pub fn delete_txt(&self, name: &str) -> Result<(), UpdateError> {
        self.apply_txt_changes(&[TxtChange { name, value: None }], 0)
    }

    /// Makes each change (as [`DnsUpdater::replace_txt`] for a value, with `ttl`, and
    /// [`DnsUpdater::delete_txt`] for none) with as few UPDATE messages as DNS allows: the
    /// changes are grouped by zone, and each zone's go in one message (several only past about
    /// 60 KB, e.g. well over a hundred RSA records), which the server applies whole or not at all
    /// (RFC 2136 3.7). Changes to one name are made in the order given. Zones are updated
    /// side by side.
    ///
    /// Every change is checked, and every name's zone found, before anything is sent: a bad name
    /// or value, or a name whose zone the server does not hold, changes nothing. After that each
    /// zone succeeds or fails on its own; the error returned is that of the first zone (in the
    /// order the changes name them) that failed, naming that zone and the first name of the
    /// message refused, and the other zones' changes may have been made. All changes are
    /// idempotent, so repeating the call after a failure is safe.
    ///
    /// Zones are found with one SOA query per parent name (`_domainkey.DOMAIN` for a selector):
    /// the names below one parent share its zone. The one exception, a selector that is a zone
    /// apex of its own, is found only when it is the first name of its parent asked about.
    pub fn apply_txt_changes(
        &self,
        changes: &[TxtChange<'_>],
        ttl: u32,
    ) -> Result<(), UpdateError> {
        let Some(first) = changes.first() else {
            return Ok(());
        };
        let changes = changes
            .iter()
            .map(|change| NamedEdit::checked(change, ttl, self.inner.server))
            .collect::<Result<Vec<_>, _>>()?;
        self.run(first.name, move |inner| async move {
            let zones = Arc::clone(&inner).zones_of(&changes).await?;
            inner.update_zones(changes, zones, ttl).await
        })
    }

    /// Runs `work` on the updater's runtime and waits for it.
    fn run<T, F>(&self, name: &str, work: impl FnOnce(Arc<Inner>) -> F) -> Result<T, UpdateError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, UpdateError>> + Send + 'static,
    {
        self.runtime
            .run(work(Arc::clone(&self.inner)))
            .unwrap_or_else(|| {
                let detail = "the update task ended without an answer".to_owned();
                let kind = UpdateErrorKind::Internal(detail);
                Err(UpdateError::new(kind, name, None, self.inner.server))
            })
    }
}

/// `name` as a DNS name, or the error (for an update at `server`) saying why it is not one.
fn valid_name(name: &str, server: SocketAddr) -> Result<Name, UpdateError> {
    query_name(name).map_err(|reason| {
        UpdateError::new(UpdateErrorKind::InvalidName(reason), name, None, server)
    })
}

/// A change as checked and put in DNS terms, with the name as the caller wrote it (which errors
/// name).
struct NamedEdit {
    name: String,
    edit: TxtEdit,
}

impl NamedEdit {
    /// `change` as an edit, or why it cannot be sent to `server`: an invalid name, an empty
    /// value, or (for a value to publish) a TTL DNS does not allow.
    fn checked(
        change: &TxtChange<'_>,
        ttl: u32,
        server: SocketAddr,
    ) -> Result<NamedEdit, UpdateError> {
        let owner = valid_name(change.name, server)?;
        let invalid = |reason: String| {
            let kind = UpdateErrorKind::InvalidRecord(reason);
            UpdateError::new(kind, change.name, None, server)
        };
        let strings = match change.value {
            None => None,
            Some(value) => {
                let strings = split_txt_value(value);
                if strings.is_empty() {
                    return Err(invalid("the value is empty".to_owned()));
                }
                if ttl > MAX_TTL {
                    return Err(invalid(format!(
                        "TTL {ttl} is above the largest DNS allows, {MAX_TTL} (RFC 2181 8)"
                    )));
                }
                Some(strings.into_iter().map(str::to_owned).collect())
            }
        };
        Ok(NamedEdit {
            name: change.name.to_owned(),
            edit: TxtEdit { owner, strings },
        })
    }
}

/// `items` grouped by key (hickory's names compare and hash without regard to case), the groups
/// in the order their keys first appear, each group's items in the order given.
fn grouped<T>(items: impl IntoIterator<Item = (Name, T)>) -> Vec<(Name, Vec<T>)> {
    let mut groups: Vec<(Name, Vec<T>)> = Vec::new();
    let mut group_of: HashMap<Name, usize> = HashMap::new();
    for (key, item) in items {
        match group_of.get(&key) {
            Some(&group) => groups[group].1.push(item),
            None => {
                group_of.insert(key.clone(), groups.len());
                groups.push((key, vec![item]));
            }
        }
    }
    groups
}

/// Runs `tasks` side by side, at most [`PARALLEL_EXCHANGES`] at a time, and returns their outputs
/// in the tasks' order. A task that panics panics the caller, as it would have run alone.
async fn side_by_side<T, F>(tasks: Vec<F>) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(PARALLEL_EXCHANGES));
    let mut running = JoinSet::new();
    for (index, task) in tasks.into_iter().enumerate() {
        let permits = Arc::clone(&permits);
        running.spawn(async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = permits.acquire_owned().await;
            (index, task.await)
        });
    }
    let mut outputs = Vec::with_capacity(running.len());
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(output) => outputs.push(output),
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
    outputs.sort_by_key(|(index, _)| *index);
    outputs.into_iter().map(|(_, output)| output).collect()
}

impl Inner {
    /// The zone of each change's owner, in order. The names are grouped by parent, and each
    /// group asks about one name (the first); its zone holds the other names too, unless it is
    /// that name itself (a zone apex), when the next name is asked about. Groups are asked side
    /// by side; the first failure in the changes' order is returned.
    async fn zones_of(self: Arc<Self>, changes: &[NamedEdit]) -> Result<Vec<Name>, UpdateError> {
        let parents = grouped(
            changes
                .iter()
                .enumerate()
                .map(|(index, change)| (change.edit.owner.base_name(), index)),
        );
        let lookups = parents.into_iter().map(|(_, members)| {
            let inner = Arc::clone(&self);
            let names: Vec<(usize, String, Name)> = members
                .into_iter()
                .map(|index| {
                    let change = &changes[index];
                    (index, change.name.clone(), change.edit.owner.clone())
                })
                .collect();
            async move {
                let mut zones = Vec::with_capacity(names.len());
                let mut shared: Option<Name> = None;
                for (index, name, owner) in names {
                    let zone = match &shared {
                        Some(zone) => zone.clone(),
                        None => inner
                            .zone_of(&name, &owner)
                            .await
                            .map_err(|error| (index, error))?,
                    };
                    if zone != owner {
                        shared = Some(zone.clone());
                    }
                    zones.push((index, zone));
                }
                Ok::<_, (usize, UpdateError)>(zones)
            }
        });
        let mut zones: Vec<Option<Name>> = vec![None; changes.len()];
        let mut first_failure: Option<(usize, UpdateError)> = None;
        for found in side_by_side(lookups.collect()).await {
            match found {
                Ok(found) => {
                    for (index, zone) in found {
                        zones[index] = Some(zone);
                    }
                }
                Err((index, error)) => {
                    if first_failure
                        .as_ref()
                        .is_none_or(|(first, _)| index < *first)
                    {
                        first_failure = Some((index, error));
                    }
                }
            }
        }
        if let Some((_, error)) = first_failure {
            return Err(error);
        }
        Ok(zones.into_iter().flatten().collect())
    }

    /// Sends the changes, whose owners are in `zones` (one for each change), grouped by zone in the
    /// order the zones first appear: each zone's messages one after another (a later change to
    /// a name must follow an earlier one), the zones side by side. A zone whose message fails
    /// sends no more; the first failing zone's error is returned.
    async fn update_zones(
        self: Arc<Self>,
        changes: Vec<NamedEdit>,
        zones: Vec<Name>,
        ttl: u32,
    ) -> Result<(), UpdateError> {
        let by_zone = grouped(zones.into_iter().zip(changes));
        let sends = by_zone.into_iter().map(|(zone, changes)| {
            let inner = Arc::clone(&self);
            async move {
                let (names, edits): (Vec<String>, Vec<TxtEdit>) = changes
                    .into_iter()
                    .map(|change| (change.name, change.edit))
                    .unzip();
                for update in txt_updates(&zone, &edits, ttl) {
                    inner
                        .update(&names[update.edits.start], &zone, update.message)
                        .await?;
                }
                Ok(())
            }
        });
        side_by_side(sends.collect())
            .await
            .into_iter()
            .find(Result::is_err)
            .unwrap_or(Ok(()))
    }

    /// The zone holding `owner` (given as `name`), from the name up.
    async fn zone_of(&self, name: &str, owner: &Name) -> Result<Name, UpdateError> {
        let mut asked = owner.clone();
        loop {
            let response = exchange(self.server, &soa_query(&asked), self.timeout)
                .await
                .map_err(|error| self.exchange_error(error, name, None))?;
            let failed = |kind| Err(UpdateError::new(kind, name, None, self.server));
            match read_soa_response(&asked, &response) {
                ZoneStep::Found(zone) => return Ok(zone),
                ZoneStep::NotFound(problem) => {
                    return failed(UpdateErrorKind::ZoneNotFound(problem));
                }
                ZoneStep::ServerFailure => return failed(UpdateErrorKind::ServerFailure),
                ZoneStep::AskParent if asked.is_root() => {
                    return failed(UpdateErrorKind::ZoneNotFound(ZoneProblem::NoSoa));
                }
                ZoneStep::AskParent => asked = asked.base_name(),
            }
        }
    }

    /// Signs `message` (an UPDATE of `zone` for `name`) if there is a key, sends it, and judges
    /// the response.
    async fn update(
        &self,
        name: &str,
        zone: &Name,
        mut message: Message,
    ) -> Result<(), UpdateError> {
        let zone_text = zone_text(zone);
        let internal = |detail: String| {
            let kind = UpdateErrorKind::Internal(detail);
            UpdateError::new(kind, name, Some(&zone_text), self.server)
        };
        let signature = match &self.key {
            Some((key, signer)) => {
                // A clock before 1970 signs at 0, which the server will call BADTIME.
                let signed_at = unix_seconds((self.clock)());
                // RFC 8945 5.1: the TSIG record goes last in the additional section.
                let verifier = message
                    .finalize(signer, signed_at)
                    .map_err(|e| internal(format!("cannot sign it: {e}")))?
                    .ok_or_else(|| internal("hickory made no verifier for the response".into()))?;
                Some(Signature {
                    key,
                    verifier,
                    signed_at,
                })
            }
            None => None,
        };
        let response = exchange(self.server, &message, self.timeout)
            .await
            .map_err(|error| self.exchange_error(error, name, Some(&zone_text)))?;
        judge_update_response(
            response,
            SentUpdate {
                name,
                zone: &zone_text,
                server: self.server,
                signature,
            },
        )
    }

    /// The update error for a failed exchange about `name` (in `zone`, once known).
    fn exchange_error(&self, error: ExchangeError, name: &str, zone: Option<&str>) -> UpdateError {
        let kind = match error {
            ExchangeError::Timeout => UpdateErrorKind::Timeout,
            ExchangeError::Unreachable(detail) => UpdateErrorKind::Unreachable(detail),
            ExchangeError::Malformed(detail) => UpdateErrorKind::BadResponse(detail),
            ExchangeError::TooBig(size) => UpdateErrorKind::InvalidRecord(format!(
                "the update would be {size} bytes, more than a DNS message can carry (65535)"
            )),
            ExchangeError::Encode(detail) => {
                UpdateErrorKind::Internal(format!("cannot encode it: {detail}"))
            }
        };
        UpdateError::new(kind, name, zone, self.server)
    }
}

/// A zone as reported: lower case (servers echo names in the case they were configured with),
/// without trailing dot.
fn zone_text(zone: &Name) -> String {
    display_name(&zone.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 53))
    }

    #[test]
    fn refuses_a_zero_timeout_and_sends_nothing_when_built() {
        assert!(matches!(
            DnsUpdater::new(loopback(), None, Duration::ZERO),
            Err(UpdaterSetupError::ZeroTimeout)
        ));
        let updater = DnsUpdater::new(loopback(), None, Duration::from_secs(1)).unwrap();
        assert_eq!(updater.server(), loopback());
        assert!(format!("{updater:?}").starts_with("DnsUpdater { server: 127.0.0.1:53"));
    }

    #[test]
    fn checks_names_and_values_before_sending() {
        let updater = DnsUpdater::new(loopback(), None, Duration::from_secs(1)).unwrap();
        assert!(matches!(
            updater.replace_txt("bad name.example.com", "v=DKIM1; p=", 300),
            Err(UpdateError { name, kind: UpdateErrorKind::InvalidName(_), .. })
                if name == "bad name.example.com"
        ));
        assert!(matches!(
            updater.delete_txt(""),
            Err(UpdateError {
                kind: UpdateErrorKind::InvalidName(_),
                ..
            })
        ));
        assert!(matches!(
            updater.find_zone("a..example"),
            Err(UpdateError {
                kind: UpdateErrorKind::InvalidName(_),
                ..
            })
        ));
        assert_eq!(
            updater
                .replace_txt("s._domainkey.example.com", "", 300)
                .unwrap_err()
                .to_string(),
            "s._domainkey.example.com: cannot publish this record: the value is empty"
        );
        assert_eq!(
            updater
                .replace_txt("s._domainkey.example.com", "v=DKIM1; p=", u32::MAX)
                .unwrap_err()
                .to_string(),
            "s._domainkey.example.com: cannot publish this record: TTL 4294967295 is above the \
             largest DNS allows, 2147483647 (RFC 2181 8)"
        );
    }

    #[test]
    fn changes_are_grouped_in_the_order_their_zones_first_appear_whatever_the_case() {
        let name = |text: &str| Name::from_ascii(text).unwrap();
        let groups = grouped([
            (name("example.com."), 0),
            (name("example.net."), 1),
            (name("EXAMPLE.com."), 2),
            (name("_domainkey.example.com."), 3),
            (name("example.net."), 4),
        ]);
        let groups: Vec<(String, Vec<i32>)> = groups
            .into_iter()
            .map(|(zone, members)| (zone.to_string(), members))
            .collect();
        assert_eq!(
            groups,
            [
                ("example.com.".to_owned(), vec![0, 2]),
                ("example.net.".to_owned(), vec![1, 4]),
                ("_domainkey.example.com.".to_owned(), vec![3]),
            ]
        );
    }

    #[test]
    fn a_batch_is_checked_whole_before_anything_is_sent() {
        // Nothing listens at port 9 (discard): a message sent would fail as unreachable or time
        // out, not as the invalid change it holds.
        let updater = DnsUpdater::new(
            SocketAddr::from(([127, 0, 0, 1], 9)),
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        let error = updater
            .apply_txt_changes(
                &[
                    TxtChange {
                        name: "a._domainkey.example.com",
                        value: Some("v=DKIM1; p="),
                    },
                    TxtChange {
                        name: "b._domainkey.example.com",
                        value: None,
                    },
                    TxtChange {
                        name: "c._domainkey.example.com",
                        value: Some(""),
                    },
                ],
                300,
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "c._domainkey.example.com: cannot publish this record: the value is empty"
        );
        // A withdrawal takes any TTL; an empty batch sends nothing.
        assert!(matches!(
            updater.apply_txt_changes(
                &[TxtChange {
                    name: "bad name",
                    value: None
                }],
                u32::MAX
            ),
            Err(UpdateError {
                kind: UpdateErrorKind::InvalidName(_),
                ..
            })
        ));
        assert_eq!(updater.apply_txt_changes(&[], 300), Ok(()));
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let key = TsigKey::parse(
            "key k { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0\"; };",
            None,
        )
        .unwrap();
        let updater = DnsUpdater::new(loopback(), Some(key), Duration::from_secs(1))
            .unwrap()
            .with_clock(SystemTime::now);
        let debug = format!("{updater:?}");
        assert!(debug.contains("name: \"k\""), "{debug}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
    }
}

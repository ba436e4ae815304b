//! DNSSEC validation as a walk this module does itself: the RRSIGs of an answer, the DNSKEY
//! records of the zone that signed it, and the DS records that link each zone to its parent, up
//! to a trust anchor (RFC 4035 5).
//!
//! Why not hickory's validator (`DnssecDnsHandle`): it turns every step it cannot take into
//! `Bogus`. A DS or DNSKEY query that an authoritative-only server REFUSES (it serves the zone,
//! not the root or the parent) comes out as "bogus", and so does a zone whose own KSK is the
//! anchor (it still asks the parent for a DS and counts the child's NODATA against it). Bogus
//! means "forged or broken" (RFC 4033 5) and must only be said on evidence, so each step here
//! ends in one of four verdicts, each with the reason drawn from what was seen:
//! - secure: every signature verified along DS and DNSKEY records from an anchor;
//! - insecure: a signed parent proves (NSEC or NSEC3, verified) that the zone has no DS;
//! - not validated: the chain could not be followed (a server refused or failed a DS or DNSKEY
//!   query, or answered for the zone itself instead of its parent);
//! - bogus: a signature that does not verify or is outside its validity, keys that match no DS
//!   or anchor, or records without signatures in a zone shown to be signed.
//!
//! Queries carry the DO bit (RFC 4035 3.2.1) and the CD bit (RFC 4035 3.2.2), so that a
//! validating resolver on the way hands over what it would refuse and the verdict is ours.
//! hickory's cryptography (DNSKEY as `Verifier`, DS digests, NSEC3 hashes) does the arithmetic.
//!
//! Not done: proofs of non-existence for the names looked up (a missing key record is a failed
//! check either way), the NSEC proof that a wildcard answer had no closer match, and the
//! closest-encloser part of an NSEC3 opt-out proof (RFC 5155 8.6; the covering opt-out NSEC3 is
//! verified, and a zone with a DS has its own NSEC3, which no other covers).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use dkim_core::time::unix_now;
use hickory_resolver::net::xfer::{DnsHandle, FirstAnswer};
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC3, RRSIG};
use hickory_resolver::proto::dnssec::{PublicKey as _, TrustAnchors, Verifier as _};
use hickory_resolver::proto::op::{DnsRequest, DnsRequestOptions, Query, ResponseCode};
use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tokio::sync::OnceCell;

use super::DnssecStatus;
use super::dnssec::SignatureProblem;
use super::names::display_name;
use super::resolve::Transport;
use super::trust_anchor::AnchorRecords;

/// What DNSSEC says about an RRset, a zone's keys or a whole answer, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Verified from an anchor; the reason names the anchor's zone.
    Secure(String),
    /// Proven unsigned.
    Insecure(String),
    /// The chain could not be followed.
    NotValidated(String),
    /// Evidence of forgery or breakage.
    Bogus(String),
}

impl Verdict {
    /// How bad it is, for combining: bogus over not validated over insecure over secure.
    fn rank(&self) -> u8 {
        match self {
            Verdict::Secure(_) => 0,
            Verdict::Insecure(_) => 1,
            Verdict::NotValidated(_) => 2,
            Verdict::Bogus(_) => 3,
        }
    }

    /// The worse of two verdicts: an answer is only as strong as its weakest RRset (RFC 4035 5).
    pub(crate) fn worse(self, other: Verdict) -> Verdict {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The status word, and the reason.
    pub(crate) fn into_parts(self) -> (DnssecStatus, String) {
        match self {
            Verdict::Secure(why) => (DnssecStatus::Secure, why),
            Verdict::Insecure(why) => (DnssecStatus::Insecure, why),
            Verdict::NotValidated(why) => (DnssecStatus::NotValidated, why),
            Verdict::Bogus(why) => (DnssecStatus::Bogus, why),
        }
    }
}

/// What is known of a zone's keys.
#[derive(Debug, Clone)]
enum ZoneKeys {
    /// Its DNSKEY records, authenticated from the anchor of `anchor_zone`.
    Secure {
        keys: Vec<DNSKEY>,
        anchor_zone: Name,
    },
    /// Anything else: the verdict that every record of the zone inherits.
    Other(Verdict),
}

/// Where validation starts trusting: the anchors given, and the root's built-in keys unless the
/// anchors given include the root's (a private DNS tree).
pub(crate) struct Anchors {
    given: Option<AnchorRecords>,
    built_in_root: Option<TrustAnchors>,
}

impl Anchors {
    /// The built-in root keys (KSK-2017, KSK-2024) and `given`, if any.
    pub(crate) fn new(given: Option<AnchorRecords>) -> Anchors {
        let replaces_root = given.as_ref().is_some_and(|g| g.covers(&Name::root()));
        Anchors {
            given,
            built_in_root: (!replaces_root).then(TrustAnchors::default),
        }
    }

    fn covers(&self, zone: &Name) -> bool {
        (zone.is_root() && self.built_in_root.is_some())
            || self.given.as_ref().is_some_and(|g| g.covers(zone))
    }

    fn trusts(&self, zone: &Name, key: &DNSKEY) -> bool {
        let built_in = zone.is_root()
            && self
                .built_in_root
                .as_ref()
                .is_some_and(|root| root.contains(key.public_key()));
        built_in || self.given.as_ref().is_some_and(|g| g.trusts(zone, key))
    }
}

/// One response's records, negative answers included.
struct Fetched {
    answers: Vec<Record>,
    authorities: Vec<Record>,
}

type Cell = Arc<OnceCell<ZoneKeys>>;

/// The validating side of a lookup: anchors, and what is known of each zone's keys for the run.
pub(crate) struct Validator {
    anchors: Anchors,
    zones: Mutex<HashMap<Name, Cell>>,
}

/// The longest chain of zones walked from a name up to an anchor; DNS names have at most 127
/// labels, and a signer must be a strict ancestor at each step, so this is never reached
/// honestly.
const MAX_DEPTH: usize = 128;

impl Validator {
    pub(crate) fn new(anchors: Anchors) -> Validator {
        Validator {
            anchors,
            zones: Mutex::new(HashMap::new()),
        }
    }

    /// The verdict on the `record_type` RRset at `owner` among `records` (a response's answer
    /// section, RRSIGs included), met while looking up `asked`.
    pub(crate) async fn judge(
        &self,
        transport: &Transport,
        asked: &Name,
        owner: &Name,
        record_type: RecordType,
        records: &[Record],
    ) -> Verdict {
        let walk = Walk {
            validator: self,
            transport,
        };
        // The name looked up is said at the start of the line already; name others only.
        let what = if owner == asked {
            format!("the {record_type} record")
        } else {
            format!("the {record_type} record at {}", display_name(owner))
        };
        walk.judge_rrset(&what, owner, record_type, records).await
    }
}

/// One lookup's walk: the validator and the transport it asks through.
struct Walk<'a> {
    validator: &'a Validator,
    transport: &'a Transport,
}

impl Walk<'_> {
    async fn judge_rrset(
        &self,
        what: &str,
        owner: &Name,
        record_type: RecordType,
        records: &[Record],
    ) -> Verdict {
        let signatures = signatures_over(records, owner, record_type);
        let Some(signer) = signatures.first().map(|s| s.input().signer_name.clone()) else {
            let zone = match self.zone_of(owner).await {
                Ok(zone) => zone,
                Err(verdict) => return verdict,
            };
            return match self.zone_keys(zone.clone(), 0).await {
                ZoneKeys::Secure { .. } => Verdict::Bogus(format!(
                    "{what} carries no signature, yet its zone {} is signed (its keys verify \
                     from the trust anchor); sign the zone again, or ask a resolver that keeps \
                     DNSSEC records",
                    zone_words(&zone)
                )),
                ZoneKeys::Other(verdict) => verdict,
            };
        };
        if !signer.zone_of(owner) {
            return Verdict::Bogus(format!(
                "{what} is signed by {}, which is not a zone it belongs to",
                zone_words(&signer)
            ));
        }
        match self.zone_keys(signer.clone(), 0).await {
            ZoneKeys::Secure { keys, anchor_zone } => {
                match verify_rrset(owner, records, &signatures, &keys) {
                    Ok(()) => Verdict::Secure(secure_reason(&signer, &anchor_zone)),
                    Err(problem) => Verdict::Bogus(problem.describe(what, &signer)),
                }
            }
            ZoneKeys::Other(verdict) => verdict,
        }
    }

    /// The zone that holds `owner`, from the SOA records servers give (RFC 2308 3): an unsigned
    /// answer names no signer.
    async fn zone_of(&self, owner: &Name) -> Result<Name, Verdict> {
        let mut name = owner.clone();
        loop {
            let fetched = self.fetch(&name, RecordType::SOA).await.map_err(|reason| {
                Verdict::NotValidated(format!(
                    "cannot tell which zone holds {}: asked for its SOA record, {reason}",
                    display_name(owner)
                ))
            })?;
            if fetched
                .answers
                .iter()
                .any(|r| r.name == name && r.record_type() == RecordType::SOA)
            {
                return Ok(name);
            }
            if fetched.answers.is_empty()
                && let Some(soa) = fetched
                    .authorities
                    .iter()
                    .filter(|r| r.record_type() == RecordType::SOA && r.name.zone_of(&name))
                    .max_by_key(|r| r.name.num_labels())
            {
                return Ok(soa.name.clone());
            }
            if name.is_root() {
                return Ok(name);
            }
            name = name.base_name();
        }
    }

    /// What is known of `zone`'s keys, worked out once per run and zone.
    fn zone_keys(
        &self,
        zone: Name,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = ZoneKeys> + Send + '_>> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return ZoneKeys::Other(Verdict::NotValidated(format!(
                    "the chain of trust above {} is too long to follow",
                    zone_words(&zone)
                )));
            }
            let cell = {
                // A poisoned lock only means another thread panicked holding it; the map is
                // always whole (one insert), so it is still safe to use.
                let mut zones = self
                    .validator
                    .zones
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Arc::clone(zones.entry(zone.clone()).or_default())
            };
            cell.get_or_init(|| self.work_out_zone_keys(&zone, depth))
                .await
                .clone()
        })
    }

    async fn work_out_zone_keys(&self, zone: &Name, depth: usize) -> ZoneKeys {
        if self.validator.anchors.covers(zone) {
            return self.keys_from_anchor(zone).await;
        }
        if zone.is_root() {
            return ZoneKeys::Other(Verdict::NotValidated(
                "no trust anchor covers it, and the root's own anchor is not in use".to_owned(),
            ));
        }
        let zone_name = display_name(zone);
        let fetched = match self.fetch(zone, RecordType::DS).await {
            Ok(fetched) => fetched,
            Err(reason) => {
                return ZoneKeys::Other(Verdict::NotValidated(format!(
                    "the chain of trust to {zone_name} cannot be followed: asked for its DS \
                     record (kept by its parent zone), {reason}"
                )));
            }
        };
        let ds_set: Vec<&DS> = fetched
            .answers
            .iter()
            .filter(|r| r.name == *zone)
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
                _ => None,
            })
            .collect();
        if ds_set.is_empty() {
            return self.without_ds(zone, &fetched, depth).await;
        }
        // A DS RRset: the parent says the zone is signed, if the parent is to be believed.
        let signatures = signatures_over(&fetched.answers, zone, RecordType::DS);
        let parent = match signatures.first() {
            Some(signature) => signature.input().signer_name.clone(),
            None => match self.zone_of(&zone.base_name()).await {
                Ok(parent) => parent,
                Err(verdict) => return ZoneKeys::Other(verdict),
            },
        };
        if !(parent.zone_of(zone) && parent != *zone) {
            return ZoneKeys::Other(Verdict::Bogus(format!(
                "the DS record of {zone_name} is signed by {}, which is not its parent zone",
                zone_words(&parent)
            )));
        }
        let what = format!("the DS record of {zone_name}");
        let anchor_zone = match self.zone_keys(parent.clone(), depth + 1).await {
            ZoneKeys::Secure { keys, anchor_zone } => {
                if signatures.is_empty() {
                    return ZoneKeys::Other(Verdict::Bogus(format!(
                        "{what} carries no signature, yet {} is signed",
                        zone_words(&parent)
                    )));
                }
                if let Err(problem) = verify_rrset(zone, &fetched.answers, &signatures, &keys) {
                    return ZoneKeys::Other(Verdict::Bogus(problem.describe(&what, &parent)));
                }
                anchor_zone
            }
            ZoneKeys::Other(verdict) => return ZoneKeys::Other(verdict),
        };
        let dnskeys = match self.fetch(zone, RecordType::DNSKEY).await {
            Ok(fetched) => fetched.answers,
            Err(reason) => {
                return ZoneKeys::Other(Verdict::NotValidated(format!(
                    "{zone_name} is signed (its parent {} publishes a DS record for it), but its \
                     keys could not be fetched: asked for its DNSKEY records, {reason}",
                    zone_words(&parent)
                )));
            }
        };
        let keys = zone_keys_in(&dnskeys, zone);
        let vouched: Vec<DNSKEY> = keys
            .iter()
            .filter(|key| {
                ds_set
                    .iter()
                    .any(|ds| ds.covers(zone, key).unwrap_or(false))
            })
            .cloned()
            .collect();
        if vouched.is_empty() {
            return ZoneKeys::Other(Verdict::Bogus(format!(
                "no DNSKEY record of {zone_name} matches the DS record its parent {} publishes; \
                 publish the DS of the zone's current key-signing key at the parent",
                zone_words(&parent)
            )));
        }
        let signatures = signatures_over(&dnskeys, zone, RecordType::DNSKEY);
        match verify_rrset(zone, &dnskeys, &signatures, &vouched) {
            Ok(()) => ZoneKeys::Secure { keys, anchor_zone },
            Err(problem) => ZoneKeys::Other(Verdict::Bogus(
                problem.describe(&format!("the DNSKEY records of {zone_name}"), zone),
            )),
        }
    }

    /// The verdict on `zone` when its DS query gave no DS record.
    async fn without_ds(&self, zone: &Name, fetched: &Fetched, depth: usize) -> ZoneKeys {
        let zone_name = display_name(zone);
        let soa = fetched
            .authorities
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA && r.name.zone_of(zone))
            .max_by_key(|r| r.name.num_labels());
        let Some(soa) = soa else {
            return ZoneKeys::Other(Verdict::NotValidated(format!(
                "the answer to the query for the DS record of {zone_name} neither holds one nor \
                 says it has none"
            )));
        };
        if soa.name == *zone {
            // RFC 4035 3.1.4.1: a server for the child only answers a DS query from the child.
            return ZoneKeys::Other(Verdict::NotValidated(format!(
                "the name server answers for {zone_name} but not for its parent zone, so it \
                 cannot show whether {zone_name} is signed (a DS record at the parent)"
            )));
        }
        let parent = soa.name.clone();
        let parent_name = zone_words(&parent);
        match self.zone_keys(parent.clone(), depth + 1).await {
            ZoneKeys::Secure { keys, .. } => {
                match proves_no_ds(zone, &parent, &fetched.authorities, &keys) {
                    Ok(()) => ZoneKeys::Other(Verdict::Insecure(format!(
                        "{zone_name} is not signed: its parent {parent_name} proves it has no DS \
                         record"
                    ))),
                    Err(why) => ZoneKeys::Other(Verdict::Bogus(format!(
                        "{parent_name} is signed and says {zone_name} has no DS record, but {why}"
                    ))),
                }
            }
            ZoneKeys::Other(verdict) => ZoneKeys::Other(verdict),
        }
    }

    /// The keys of an anchored zone: its DNSKEY RRset, signed by a key the anchor trusts.
    async fn keys_from_anchor(&self, zone: &Name) -> ZoneKeys {
        let zone_name = zone_words(zone);
        let dnskeys = match self.fetch(zone, RecordType::DNSKEY).await {
            Ok(fetched) => fetched.answers,
            Err(reason) => {
                return ZoneKeys::Other(Verdict::NotValidated(format!(
                    "asked for the DNSKEY records of {zone_name} (where the trust anchor is), \
                     {reason}"
                )));
            }
        };
        let keys = zone_keys_in(&dnskeys, zone);
        if keys.is_empty() {
            return ZoneKeys::Other(Verdict::NotValidated(format!(
                "the name server gave no DNSKEY record of {zone_name} (where the trust anchor \
                 is)"
            )));
        }
        let trusted: Vec<DNSKEY> = keys
            .iter()
            .filter(|key| self.validator.anchors.trusts(zone, key))
            .cloned()
            .collect();
        if trusted.is_empty() {
            return ZoneKeys::Other(Verdict::Bogus(format!(
                "none of the DNSKEY records of {zone_name} is the trust anchor's key; give the \
                 zone's current key-signing key as the trust anchor"
            )));
        }
        let signatures = signatures_over(&dnskeys, zone, RecordType::DNSKEY);
        match verify_rrset(zone, &dnskeys, &signatures, &trusted) {
            Ok(()) => ZoneKeys::Secure {
                keys,
                anchor_zone: zone.clone(),
            },
            Err(problem) => ZoneKeys::Other(Verdict::Bogus(
                problem.describe(&format!("the DNSKEY records of {zone_name}"), zone),
            )),
        }
    }

    /// Asks for `name`/`record_type` with the DO and CD bits. Negative answers are answers;
    /// `Err` says, for people, why there is none.
    async fn fetch(&self, name: &Name, record_type: RecordType) -> Result<Fetched, String> {
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        options.edns_set_dnssec_ok = true;
        options.recursion_desired = true;
        let mut request = DnsRequest::from_query(Query::query(name.clone(), record_type), options);
        request.metadata.checking_disabled = true;
        match self.transport.send(request).first_answer().await {
            Ok(response) => {
                let message = response.into_message();
                Ok(Fetched {
                    answers: message.answers,
                    authorities: message.authorities,
                })
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(none)))
                if matches!(
                    none.response_code,
                    ResponseCode::NoError | ResponseCode::NXDomain
                ) =>
            {
                Ok(Fetched {
                    answers: Vec::new(),
                    authorities: none.authorities.map(|a| a.to_vec()).unwrap_or_default(),
                })
            }
            Err(NetError::Dns(DnsError::NoRecordsFound(none))) => {
                Err(code_words(none.response_code))
            }
            Err(NetError::Dns(DnsError::ResponseCode(code))) => Err(code_words(code)),
            Err(NetError::Timeout) => Err("and no answer came (timed out)".to_owned()),
            Err(NetError::NoConnections) => Err("but no name server could be reached".to_owned()),
            Err(NetError::Io(error)) => Err(format!("but the network failed ({error})")),
            Err(other) => Err(format!("but no answer came ({other})")),
        }
    }
}

/// A zone's name in a sentence: `the root zone` for the root, which written alone is a dot.
fn zone_words(zone: &Name) -> String {
    if zone.is_root() {
        "the root zone".to_owned()
    } else {
        display_name(zone)
    }
}

/// A refusal or failure response code, as the end of a sentence.
fn code_words(code: ResponseCode) -> String {
    match code {
        ResponseCode::Refused => {
            "and the name server refused (REFUSED: it is authoritative for other zones only and \
             not a resolver)"
                .to_owned()
        }
        ResponseCode::ServFail => {
            "and the name server failed (SERVFAIL: a resolver that cannot reach the zone's \
             servers, or a zone that does not load)"
                .to_owned()
        }
        other => format!("and the name server answered {}", other.to_str()),
    }
}

fn secure_reason(signer: &Name, anchor_zone: &Name) -> String {
    let anchor = if anchor_zone.is_root() {
        "the root's trust anchor".to_owned()
    } else {
        format!("the trust anchor of {}", display_name(anchor_zone))
    };
    if signer == anchor_zone {
        format!("signed by {}, whose key is {anchor}", zone_words(signer))
    } else {
        format!(
            "signed by {}, verified along DS and DNSKEY records from {anchor}",
            zone_words(signer)
        )
    }
}

/// The RRSIGs at `owner` covering `record_type` among `records`.
fn signatures_over<'a>(
    records: &'a [Record],
    owner: &Name,
    record_type: RecordType,
) -> Vec<&'a RRSIG> {
    records
        .iter()
        .filter(|r| r.name == *owner)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig))
                if rrsig.input().type_covered == record_type =>
            {
                Some(rrsig)
            }
            _ => None,
        })
        .collect()
}

/// The zone keys (RFC 4034 2.1.1: the Zone Key flag) at `zone` among `records`.
fn zone_keys_in(records: &[Record], zone: &Name) -> Vec<DNSKEY> {
    records
        .iter()
        .filter(|r| r.name == *zone)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(key)) if key.zone_key() && !key.revoke() => {
                Some(key.clone())
            }
            _ => None,
        })
        .collect()
}

/// Whether one of `signatures` over an RRset at `owner` (among `records`) verifies with one of
/// `keys` and is within its validity period now (RFC 4035 5.3); if none does, the most telling
/// problem.
fn verify_rrset(
    owner: &Name,
    records: &[Record],
    signatures: &[&RRSIG],
    keys: &[DNSKEY],
) -> Result<(), SignatureProblem> {
    let now = unix_now();
    let mut problem = SignatureProblem::Missing;
    for signature in signatures {
        let input = signature.input();
        // RFC 4034 3.1.5: seconds since the epoch, modulo 2^32 (good until 2106).
        let (inception, expiration) = (
            u64::from(input.sig_inception.get()),
            u64::from(input.sig_expiration.get()),
        );
        let candidates = keys.iter().filter(|key| {
            key.public_key().algorithm() == input.algorithm
                && key.calculate_key_tag().ok() == Some(input.key_tag)
        });
        let mut verified = false;
        let mut any_key = false;
        for key in candidates {
            any_key = true;
            if key
                .verify_rrsig(owner, DNSClass::IN, signature, records.iter())
                .is_ok()
            {
                verified = true;
                break;
            }
        }
        let this = if !any_key {
            SignatureProblem::UnknownKey
        } else if !verified {
            SignatureProblem::DoesNotVerify
        } else if expiration < now {
            SignatureProblem::Expired(expiration)
        } else if inception > now {
            SignatureProblem::NotYetValid(inception)
        } else {
            return Ok(());
        };
        problem = problem.more_telling(this);
    }
    Err(problem)
}

/// Checks that `authorities` (a NODATA answer for the DS of `zone`, from `parent`) prove with
/// NSEC or NSEC3 records signed by `keys` that `zone` is a delegation without DS (RFC 4035
/// 5.2, RFC 5155 8.9); `Err` says what is wrong with the proof.
fn proves_no_ds(
    zone: &Name,
    parent: &Name,
    authorities: &[Record],
    keys: &[DNSKEY],
) -> Result<(), String> {
    let verified = |owner: &Name, record_type| {
        let signatures = signatures_over(authorities, owner, record_type);
        verify_rrset(owner, authorities, &signatures, keys).is_ok()
    };
    // NSEC at the zone's own name: NS present (a delegation), DS and SOA absent.
    for record in authorities.iter().filter(|r| r.name == *zone) {
        if let RData::DNSSEC(DNSSECRData::NSEC(nsec)) = &record.data {
            let types = nsec.type_set();
            if types.contains(RecordType::NS)
                && !types.contains(RecordType::DS)
                && !types.contains(RecordType::SOA)
                && verified(zone, RecordType::NSEC)
            {
                return Ok(());
            }
        }
    }
    // NSEC3 matching the zone's hash (NS without DS), or covering it with opt-out.
    for record in authorities {
        let RData::DNSSEC(DNSSECRData::NSEC3(nsec3)) = &record.data else {
            continue;
        };
        if record.name.base_name() != *parent {
            continue;
        }
        let Some(proof) = nsec3_relation(nsec3, &record.name, zone) else {
            continue;
        };
        let types = nsec3.type_set();
        let proves = match proof {
            Nsec3Relation::Matches => {
                types.contains(RecordType::NS) && !types.contains(RecordType::DS)
            }
            Nsec3Relation::Covers => nsec3.opt_out(),
        };
        if proves && verified(&record.name, RecordType::NSEC3) {
            return Ok(());
        }
    }
    Err("its answer holds no verified NSEC or NSEC3 record proving it".to_owned())
}

#[derive(Debug, PartialEq, Eq)]
enum Nsec3Relation {
    Matches,
    Covers,
}

/// How the NSEC3 record at `owner` relates to `name`'s hash (RFC 5155 8.3): it matches it, covers
/// it (the hash falls between its owner's and the next), or neither (`None`).
fn nsec3_relation(nsec3: &NSEC3, owner: &Name, name: &Name) -> Option<Nsec3Relation> {
    let hash = nsec3
        .hash_algorithm()
        .hash(nsec3.salt(), name, nsec3.iterations())
        .ok()?;
    let hash = hash.as_ref();
    let first = owner.iter().next()?;
    let this = decode_base32hex(first)?;
    let next = nsec3.next_hashed_owner_name();
    if this == hash {
        return Some(Nsec3Relation::Matches);
    }
    let covers = if this.as_slice() < next {
        this.as_slice() < hash && hash < next
    } else {
        // The last NSEC3 of the zone wraps around to the first.
        this.as_slice() < hash || hash < next
    };
    covers.then_some(Nsec3Relation::Covers)
}

/// Base32 with the extended hex alphabet, no padding, either case (RFC 4648 7), as NSEC3 owner
/// names carry hashes (RFC 5155 3.3).
fn decode_base32hex(text: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &c in text {
        let value = match c.to_ascii_uppercase() {
            digit @ b'0'..=b'9' => digit - b'0',
            letter @ b'A'..=b'V' => letter - b'A' + 10,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32hex_decodes_as_rfc_4648_says() {
        // RFC 4648 10: BASE32-HEX("foobar") = "CPNMUOJ1E8======".
        assert_eq!(decode_base32hex(b"CPNMUOJ1E8").unwrap(), b"foobar");
        assert_eq!(decode_base32hex(b"cpnmuoj1e8").unwrap(), b"foobar");
        assert_eq!(decode_base32hex(b"CO"), Some(b"f".to_vec()));
        assert_eq!(decode_base32hex(b"W"), None);
    }

    #[test]
    fn nsec3_records_match_or_cover_a_names_hash() {
        use hickory_resolver::proto::dnssec::Nsec3HashAlgorithm;
        let name = |text: &str| Name::from_ascii(text).unwrap();
        let salt = vec![0xaa, 0xbb, 0xcc, 0xdd];
        let nsec3 = |opt_out, next: Vec<u8>| {
            NSEC3::new(
                Nsec3HashAlgorithm::SHA1,
                opt_out,
                12,
                salt.clone(),
                next,
                [RecordType::NS],
            )
        };
        // RFC 5155 appendix A: H(example) = 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom (salt aabbccdd,
        // 12 iterations).
        let apex = name("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.");
        assert_eq!(
            nsec3_relation(&nsec3(false, vec![0xff; 20]), &apex, &name("example.")),
            Some(Nsec3Relation::Matches)
        );
        // From the lowest hash to the highest: covers every other name.
        let lowest = name("00000000000000000000000000000000.example.");
        assert_eq!(
            nsec3_relation(&nsec3(true, vec![0xff; 20]), &lowest, &name("a.example.")),
            Some(Nsec3Relation::Covers)
        );
        // A range holding no hash of a real name, and the wrap-around of the last record.
        let mut next = vec![0; 20];
        next[19] = 1;
        assert_eq!(
            nsec3_relation(&nsec3(true, next.clone()), &lowest, &name("a.example.")),
            None
        );
        let highest = name("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv.example.");
        assert_eq!(
            nsec3_relation(&nsec3(true, next), &highest, &name("a.example.")),
            None
        );
    }

    #[test]
    fn the_worst_verdict_wins() {
        let secure = Verdict::Secure("s".into());
        let insecure = Verdict::Insecure("i".into());
        let unknown = Verdict::NotValidated("n".into());
        let bogus = Verdict::Bogus("b".into());
        assert_eq!(secure.clone().worse(insecure.clone()), insecure);
        assert_eq!(insecure.clone().worse(secure.clone()), insecure);
        assert_eq!(unknown.clone().worse(insecure), unknown);
        assert_eq!(bogus.clone().worse(unknown), bogus);
        assert_eq!(secure.clone().worse(Verdict::Secure("t".into())), secure);
    }
}

//! The DNS messages an update sends: the SOA query that finds the zone, and the UPDATE messages
//! that replace or delete TXT records, all of a zone's in one message where they fit.
//!
//! Pure message building, no I/O, so what goes on the wire is tested here record by record.

use std::ops::Range;

use hickory_resolver::proto::op::update_message::UpdateMessage;
use hickory_resolver::proto::op::{Message, OpCode, Query};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// A query for the SOA record at `name`, without recursion: the answer (or, for a name that is
/// not a zone's apex, the authority section of the negative answer, RFC 2308 3) names the zone
/// the server holds `name` in.
pub(crate) fn soa_query(name: &Name) -> Message {
    let mut message = Message::query();
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(name.clone(), RecordType::SOA));
    message
}

/// One TXT change as it goes into an UPDATE: the owner, and for a record to publish its
/// character-strings (at most 255 bytes each, RFC 1035 3.3.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxtEdit {
    /// The name whose TXT RRset changes.
    pub owner: Name,
    /// `Some`: the one record the RRset becomes; `None`: the RRset is deleted.
    pub strings: Option<Vec<String>>,
}

/// One UPDATE message of a batch, and which of the batch's edits it carries.
#[derive(Debug)]
pub(crate) struct ZoneUpdate {
    /// The message, unsigned.
    pub message: Message,
    /// The edits it carries, as indexes into the edits given to [`txt_updates`].
    pub edits: Range<usize>,
}

/// How many bytes of records one UPDATE carries at most. A DNS message over TCP is at most 65535
/// bytes (RFC 1035 4.2.2); this leaves room for the header, the zone section and the TSIG
/// record (RFC 8945 4.2: key and algorithm names of up to 255 bytes each, a MAC of up to 64).
const MAX_UPDATE_RECORD_BYTES: usize = 60_000;

/// The UPDATE messages of `zone` that make the edits, in order: as few as fit in a DNS message,
/// each applied by the server whole or not at all (RFC 2136 3.7), so a batch of a zone's edits is
/// one message unless it is tens of kilobytes. An edit that alone exceeds the limit gets a
/// message of its own, which sending then refuses as too big.
///
/// `zone` must hold every owner (hickory panics otherwise; the caller checks).
pub(crate) fn txt_updates(zone: &Name, edits: &[TxtEdit], ttl: u32) -> Vec<ZoneUpdate> {
    let mut updates = Vec::new();
    let mut first = 0;
    let mut bytes = 0;
    for (index, edit) in edits.iter().enumerate() {
        let size = edit_size_bound(edit);
        if index > first && bytes + size > MAX_UPDATE_RECORD_BYTES {
            updates.push(zone_update(zone, edits, first..index, ttl));
            first = index;
            bytes = 0;
        }
        bytes += size;
    }
    if first < edits.len() {
        updates.push(zone_update(zone, edits, first..edits.len(), ttl));
    }
    updates
}

/// One UPDATE of `zone` carrying `edits[range]`.
fn zone_update(zone: &Name, edits: &[TxtEdit], range: Range<usize>, ttl: u32) -> ZoneUpdate {
    let mut message = Message::query();
    message.metadata.op_code = OpCode::Update;
    message.metadata.recursion_desired = false;
    // RFC 2136 2.3: the zone section names the zone, type SOA, class IN.
    message.add_zone(Query::query(zone.clone(), RecordType::SOA));
    for edit in &edits[range.clone()] {
        add_txt_edit(&mut message, zone, edit, ttl);
    }
    ZoneUpdate {
        message,
        edits: range,
    }
}

/// Adds to `message` the records making `edit`: the TXT RRset at the owner deleted (RFC 2136
/// 2.5.2: class ANY, TTL 0, no RDATA), then for a record to publish, that record added (RFC 2136
/// 2.5.1, class IN; updates are processed in order, 3.4.2) and the prerequisite that the owner
/// holds no CNAME.
fn add_txt_edit(message: &mut Message, zone: &Name, edit: &TxtEdit, ttl: u32) {
    debug_assert!(
        zone.zone_of(&edit.owner),
        "{zone} does not hold {}",
        edit.owner
    );
    let mut delete = Record::update0(edit.owner.clone(), 0, RecordType::TXT);
    delete.dns_class = DNSClass::ANY;
    message.add_update(delete);
    let Some(strings) = &edit.strings else {
        // Deleting an RRset that does not exist is no error (RFC 2136 3.4.2.3 deletes what is
        // there), so a deletion is idempotent.
        return;
    };
    message.add_update(Record::from_rdata(
        edit.owner.clone(),
        ttl,
        RData::TXT(TXT::new(strings.clone())),
    ));
    // RFC 2136 2.4.3, "RRset does not exist" (class NONE, TTL 0, no RDATA): no CNAME at the
    // name. A server silently ignores data added beside a CNAME (RFC 2136 3.4.2.2) and would
    // answer NOERROR for a record it did not publish; with this it answers YXRRSET instead.
    let mut no_cname = Record::update0(edit.owner.clone(), 0, RecordType::CNAME);
    no_cname.dns_class = DNSClass::NONE;
    message.add_pre_requisite(no_cname);
}

/// At least as many bytes as `edit`'s records take in a message, counting every owner name in
/// full (compression, RFC 1035 4.1.4, only makes them shorter): each record is its owner, 10
/// bytes of type, class, TTL and length (RFC 1035 4.1.3), and its RDATA, here the TXT
/// character-strings with their length bytes.
fn edit_size_bound(edit: &TxtEdit) -> usize {
    let owner = edit.owner.len() + 1;
    let delete = owner + 10;
    match &edit.strings {
        None => delete,
        Some(strings) => {
            let rdata: usize = strings.iter().map(|s| s.len() + 1).sum();
            let add = owner + 10 + rdata;
            let no_cname = owner + 10;
            delete + add + no_cname
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dkim_core::record::split_txt_value;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn soa_query_asks_without_recursion() {
        let query = soa_query(&name("s._domainkey.example.com."));
        assert_eq!(query.op_code, OpCode::Query);
        assert!(!query.recursion_desired);
        assert_eq!(query.queries.len(), 1);
        assert_eq!(query.queries[0].query_type(), RecordType::SOA);
        assert_eq!(query.queries[0].name(), &name("s._domainkey.example.com."));
    }

    fn publish(owner: &str, strings: &[&str]) -> TxtEdit {
        TxtEdit {
            owner: name(owner),
            strings: Some(strings.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    fn withdraw(owner: &str) -> TxtEdit {
        TxtEdit {
            owner: name(owner),
            strings: None,
        }
    }

    /// The one message `edits` make in `zone`.
    fn one_update(zone: &str, edits: &[TxtEdit]) -> Message {
        let mut updates = txt_updates(&name(zone), edits, 3600);
        assert_eq!(updates.len(), 1, "{updates:?}");
        assert_eq!(updates[0].edits, 0..edits.len());
        updates.remove(0).message
    }

    #[test]
    fn replace_deletes_the_rrset_then_adds_one_record_unless_a_cname_is_there() {
        let zone = name("example.com.");
        let owner = name("s._domainkey.example.com.");
        let message = one_update(
            "example.com.",
            &[publish(
                "s._domainkey.example.com.",
                &["v=DKIM1; k=rsa; ", "p=AAAA"],
            )],
        );
        assert_eq!(message.op_code, OpCode::Update);
        assert!(!message.recursion_desired);

        // RFC 2136 2.3: the zone section names the zone, type SOA, class IN.
        let zones = message.zones();
        assert_eq!(zones.len(), 1);
        assert_eq!(zones[0].name(), &zone);
        assert_eq!(zones[0].query_type(), RecordType::SOA);
        assert_eq!(zones[0].query_class(), DNSClass::IN);

        let prerequisites = message.prerequisites();
        assert_eq!(prerequisites.len(), 1);
        assert_eq!(prerequisites[0].name, owner);
        assert_eq!(prerequisites[0].dns_class, DNSClass::NONE);
        assert_eq!(prerequisites[0].ttl, 0);
        assert_eq!(prerequisites[0].data, RData::Update0(RecordType::CNAME));

        let updates = message.updates();
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].name, owner);
        assert_eq!(updates[0].dns_class, DNSClass::ANY);
        assert_eq!(updates[0].ttl, 0);
        assert_eq!(updates[0].data, RData::Update0(RecordType::TXT));
        assert_eq!(updates[1].name, owner);
        assert_eq!(updates[1].dns_class, DNSClass::IN);
        assert_eq!(updates[1].ttl, 3600);
        assert_eq!(
            updates[1].data,
            RData::TXT(TXT::new(vec!["v=DKIM1; k=rsa; ".into(), "p=AAAA".into()]))
        );
        // It encodes: the wire form is what the server gets.
        assert!(message.to_vec().is_ok());
    }

    #[test]
    fn delete_removes_the_whole_txt_rrset() {
        let zone = name("_domainkey.example.com.");
        let owner = name("s._domainkey.example.com.");
        let message = one_update(
            "_domainkey.example.com.",
            &[withdraw("s._domainkey.example.com.")],
        );
        assert_eq!(message.op_code, OpCode::Update);
        assert_eq!(message.zones()[0].name(), &zone);
        assert!(message.prerequisites().is_empty());
        let updates = message.updates();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].name, owner);
        assert_eq!(updates[0].dns_class, DNSClass::ANY);
        assert_eq!(updates[0].ttl, 0);
        assert_eq!(updates[0].data, RData::Update0(RecordType::TXT));
    }

    #[test]
    fn a_zones_edits_go_in_one_message_in_the_order_given() {
        let message = one_update(
            "example.com.",
            &[
                publish("new._domainkey.example.com.", &["v=DKIM1; ", "p=NEW"]),
                withdraw("old._domainkey.example.com."),
                publish("other._domainkey.example.com.", &["v=DKIM1; ", "p=OTHER"]),
            ],
        );
        assert_eq!(message.zones().len(), 1);
        // One no-CNAME prerequisite per record published.
        let prerequisite_owners: Vec<&Name> =
            message.prerequisites().iter().map(|r| &r.name).collect();
        assert_eq!(
            prerequisite_owners,
            [
                &name("new._domainkey.example.com."),
                &name("other._domainkey.example.com.")
            ]
        );
        let updates: Vec<(String, DNSClass)> = message
            .updates()
            .iter()
            .map(|r| (r.name.to_string(), r.dns_class))
            .collect();
        assert_eq!(
            updates,
            [
                ("new._domainkey.example.com.".to_owned(), DNSClass::ANY),
                ("new._domainkey.example.com.".to_owned(), DNSClass::IN),
                ("old._domainkey.example.com.".to_owned(), DNSClass::ANY),
                ("other._domainkey.example.com.".to_owned(), DNSClass::ANY),
                ("other._domainkey.example.com.".to_owned(), DNSClass::IN),
            ]
        );
        assert!(txt_updates(&name("example.com."), &[], 300).is_empty());
    }

    #[test]
    fn a_hundred_rsa_records_fit_one_message_and_more_are_split_below_64_kilobytes() {
        // An RSA-2048 record value is about 410 bytes: the tags, then 392 of base64 key.
        let value = format!("v=DKIM1; k=rsa; p={}", "A".repeat(392));
        let strings = split_txt_value(&value);
        let rsa_2048 = |n: usize| publish(&format!("s{n}._domainkey.example.com."), &strings);
        let hundred: Vec<TxtEdit> = (0..100).map(rsa_2048).collect();
        let message = one_update("example.com.", &hundred);
        let size = message.to_vec().unwrap().len();
        // Too big for UDP (RFC 1035 4.2.1), so it goes over TCP.
        assert!((40_000..65_535).contains(&size), "{size}");

        let many: Vec<TxtEdit> = (0..400).map(rsa_2048).collect();
        let updates = txt_updates(&name("example.com."), &many, 3600);
        assert!(updates.len() >= 3, "{}", updates.len());
        // Every edit in exactly one message, in order, and every message fits TCP's 65535 bytes
        // with room for a TSIG record.
        let mut next = 0;
        for update in &updates {
            assert_eq!(update.edits.start, next);
            next = update.edits.end;
            let size = update.message.to_vec().unwrap().len();
            assert!(size <= MAX_UPDATE_RECORD_BYTES + 512, "{size}");
            assert_eq!(update.message.prerequisites().len(), update.edits.len());
        }
        assert_eq!(next, many.len());

        // Withdrawals are small: thousands fit one message.
        let withdrawals: Vec<TxtEdit> = (0..1000)
            .map(|n| withdraw(&format!("s{n}._domainkey.example.com.")))
            .collect();
        assert_eq!(txt_updates(&name("example.com."), &withdrawals, 0).len(), 1);
    }
}

//! The DNS messages an update sends: the SOA query that finds the zone, and the UPDATE messages
//! that replace or delete a TXT record, built with hickory's RFC 2136 helpers.
//!
//! Pure message building, no I/O, so what goes on the wire is tested here record by record.

use hickory_resolver::proto::op::update_message::{self, UpdateMessage};
use hickory_resolver::proto::op::{Message, Query};
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

/// An UPDATE of `zone` that makes `strings` (the character-strings of one TXT record) the only
/// TXT record at `name`, in one message, which the server applies whole or not at all (RFC 2136
/// 3.7).
///
/// `zone` must hold `name` (hickory panics otherwise; the caller checks).
pub(crate) fn replace_txt(zone: &Name, name: &Name, strings: &[&str], ttl: u32) -> Message {
    let txt = Record::from_rdata(
        name.clone(),
        ttl,
        RData::TXT(TXT::new(strings.iter().map(|s| (*s).to_owned()).collect())),
    );
    // RFC 2136 2.5.2: delete the whole TXT RRset at the name (class ANY, TTL 0, no RDATA)...
    let mut message = update_message::delete_rrset(txt.clone(), zone.clone(), false);
    // ...then (RFC 2136 2.5.1, processed in order, 3.4.2) add the new record, class IN.
    message.add_update(txt);
    // RFC 2136 2.4.3, "RRset does not exist" (class NONE, TTL 0, no RDATA): no CNAME at the
    // name. A server silently ignores data added beside a CNAME (RFC 2136 3.4.2.2) and would
    // answer NOERROR for a record it did not publish; with this it answers YXRRSET instead.
    let mut no_cname = Record::update0(name.clone(), 0, RecordType::CNAME);
    no_cname.dns_class = DNSClass::NONE;
    message.add_pre_requisite(no_cname);
    message
}

/// An UPDATE of `zone` that deletes the TXT RRset at `name` (RFC 2136 2.5.2). Deleting an RRset
/// that does not exist is no error (RFC 2136 3.4.2.3 deletes what is there), so this is
/// idempotent.
///
/// `zone` must hold `name` (hickory panics otherwise; the caller checks).
pub(crate) fn delete_txt(zone: &Name, name: &Name) -> Message {
    update_message::delete_rrset(
        Record::update0(name.clone(), 0, RecordType::TXT),
        zone.clone(),
        false,
    )
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::op::OpCode;

    use super::*;

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

    #[test]
    fn replace_deletes_the_rrset_then_adds_one_record_unless_a_cname_is_there() {
        let zone = name("example.com.");
        let owner = name("s._domainkey.example.com.");
        let message = replace_txt(&zone, &owner, &["v=DKIM1; k=rsa; ", "p=AAAA"], 3600);
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
        let message = delete_txt(&zone, &owner);
        assert_eq!(message.op_code, OpCode::Update);
        assert_eq!(message.zones()[0].name(), &zone);
        assert!(message.prerequisites().is_empty());
        let updates = message.updates();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].name, owner);
        assert_eq!(updates[0].dns_class, DNSClass::ANY);
        assert_eq!(updates[0].data, RData::Update0(RecordType::TXT));
    }
}

//! Which zone holds a name, read from the server's answer to a SOA query, one name at a time
//! from the name up (RFC 2136 4: the requestor finds the zone to put in the update's zone
//! section).
//!
//! An authoritative server answers a SOA query at a zone's apex with the SOA record, and at any
//! other name of the zone with a negative answer carrying the zone's SOA in the authority section
//! (RFC 2308 3). Selectors often live in a `_domainkey` subzone of their own, which this finds
//! the same way. A name below a delegation the server does not serve comes back as a referral,
//! and a name the server knows nothing of as REFUSED: those end the search with a reason. This
//! module reads one response; it does no I/O.

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

use super::names::display_name;
use super::update_error::ZoneProblem;

/// What one SOA response says about the zone of the name asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZoneStep {
    /// The zone that holds the name.
    Found(Name),
    /// The response names no zone for this name: ask about its parent.
    AskParent,
    /// The server holds no zone for the name.
    NotFound(ZoneProblem),
    /// SERVFAIL: worth retrying later.
    ServerFailure,
}

/// What `response`, the answer to a SOA query for `asked`, says.
pub(crate) fn read_soa_response(asked: &Name, response: &Message) -> ZoneStep {
    match response.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        ResponseCode::ServFail => return ZoneStep::ServerFailure,
        code => return ZoneStep::NotFound(ZoneProblem::NotServed { code }),
    }
    let found = |zone: &Name| {
        if response.authoritative {
            ZoneStep::Found(zone.clone())
        } else {
            ZoneStep::NotFound(ZoneProblem::NotAuthoritative {
                zone: display_name(zone),
            })
        }
    };
    if let Some(apex) = response
        .answers
        .iter()
        .find(|r| r.record_type() == RecordType::SOA && r.name == *asked)
    {
        return found(&apex.name);
    }
    if !response.answers.is_empty() {
        // A CNAME (or DNAME) at the name: the authority section then speaks of where it leads,
        // not of the zone that holds the name itself.
        return ZoneStep::AskParent;
    }
    let enclosing = |record_type| {
        response
            .authorities
            .iter()
            .filter(|r: &&Record| r.record_type() == record_type && r.name.zone_of(asked))
            .max_by_key(|r| r.name.num_labels())
    };
    if let Some(soa) = enclosing(RecordType::SOA).filter(|r| matches!(r.data, RData::SOA(_))) {
        return found(&soa.name);
    }
    if let Some(delegation) = enclosing(RecordType::NS) {
        return ZoneStep::NotFound(ZoneProblem::Delegated {
            cut: display_name(&delegation.name),
        });
    }
    ZoneStep::AskParent
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::op::OpCode;
    use hickory_resolver::proto::rr::rdata::{CNAME, NS, SOA};

    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn soa(zone: &str) -> Record {
        Record::from_rdata(
            name(zone),
            300,
            RData::SOA(SOA::new(
                name(&format!("ns.{zone}")),
                name(&format!("hostmaster.{zone}")),
                1,
                3600,
                600,
                86400,
                300,
            )),
        )
    }

    fn ns(owner: &str, host: &str) -> Record {
        Record::from_rdata(name(owner), 300, RData::NS(NS(name(host))))
    }

    fn response(code: ResponseCode, authoritative: bool) -> Message {
        let mut message = Message::response(1, OpCode::Query);
        message.metadata.response_code = code;
        message.metadata.authoritative = authoritative;
        message
    }

    #[test]
    fn the_apex_answers_with_its_soa() {
        let mut apex = response(ResponseCode::NoError, true);
        apex.add_answer(soa("_domainkey.example.com."));
        assert_eq!(
            read_soa_response(&name("_DomainKey.example.com."), &apex),
            ZoneStep::Found(name("_domainkey.example.com."))
        );
    }

    #[test]
    fn other_names_get_the_zone_soa_in_the_authority_section() {
        for code in [ResponseCode::NXDomain, ResponseCode::NoError] {
            let mut negative = response(code, true);
            negative.add_authority(soa("example.com."));
            assert_eq!(
                read_soa_response(&name("s._domainkey.example.com."), &negative),
                ZoneStep::Found(name("example.com."))
            );
        }
        // A SOA that does not enclose the name says nothing about it.
        let mut unrelated = response(ResponseCode::NXDomain, true);
        unrelated.add_authority(soa("example.net."));
        assert_eq!(
            read_soa_response(&name("s._domainkey.example.com."), &unrelated),
            ZoneStep::AskParent
        );
    }

    #[test]
    fn a_cname_at_the_name_sends_the_search_up() {
        let mut chased = response(ResponseCode::NoError, true);
        chased.add_answer(Record::from_rdata(
            name("s._domainkey.example.com."),
            300,
            RData::CNAME(CNAME(name("s.dkim.example.net."))),
        ));
        chased.add_authority(soa("example.net."));
        assert_eq!(
            read_soa_response(&name("s._domainkey.example.com."), &chased),
            ZoneStep::AskParent
        );
    }

    #[test]
    fn referrals_refusals_failures_and_resolvers() {
        let mut referral = response(ResponseCode::NoError, false);
        referral.add_authority(ns("sub.example.com.", "ns.elsewhere.example."));
        assert_eq!(
            read_soa_response(&name("s._domainkey.sub.example.com."), &referral),
            ZoneStep::NotFound(ZoneProblem::Delegated {
                cut: "sub.example.com".into()
            })
        );
        assert_eq!(
            read_soa_response(&name("a.example."), &response(ResponseCode::Refused, false)),
            ZoneStep::NotFound(ZoneProblem::NotServed {
                code: ResponseCode::Refused
            })
        );
        assert_eq!(
            read_soa_response(
                &name("a.example."),
                &response(ResponseCode::ServFail, false)
            ),
            ZoneStep::ServerFailure
        );
        let mut from_resolver = response(ResponseCode::NXDomain, false);
        from_resolver.add_authority(soa("example.com."));
        assert_eq!(
            read_soa_response(&name("s.example.com."), &from_resolver),
            ZoneStep::NotFound(ZoneProblem::NotAuthoritative {
                zone: "example.com".into()
            })
        );
        assert_eq!(
            read_soa_response(
                &name("s.example.com."),
                &response(ResponseCode::NoError, true)
            ),
            ZoneStep::AskParent
        );
    }
}

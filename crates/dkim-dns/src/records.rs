//! Records of any type a mail domain publishes: TXT (SPF, DMARC, MTA-STS, TLS-RPT), the obsolete
//! SPF type, A, AAAA, MX, PTR, CNAME. `dkimkit check` asks for all of them.
//!
//! Unlike a key lookup, where a missing record is the problem to report, a missing record here is
//! often the answer a check wants (no AAAA, no include target: a "void lookup", RFC 7208 4.6.4),
//! so NXDOMAIN and NODATA are answers ([`Records::name_exists`] tells them apart) and only real
//! failures (timeouts, SERVFAIL, DNSSEC bogus, a looping CNAME chain) are errors.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::{A, AAAA, PTR};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

use super::answer::{cname_chain, cname_target, txt_value};
use super::names::{display_name, query_name};
use super::resolve::Resolver;
use super::responses::response_parts;
use super::validate::Verdict;
use super::{DnssecStatus, LookupError};

/// The longest CNAME chain followed; as for key records (see `resolve`).
const MAX_CNAME_CHAIN: usize = 8;

/// The obsolete SPF record type (RFC 4408 3.1.1; RFC 7208 3.1 and 14.1 ended its use).
const SPF_TYPE: u16 = 99;

/// The record types a mail domain's checks ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// TXT: SPF, DMARC, MTA-STS and TLS-RPT records.
    Txt,
    /// The obsolete SPF record type (99), which receivers no longer read.
    Spf,
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Mail exchangers.
    Mx,
    /// Reverse DNS: the name of an address.
    Ptr,
    /// An alias, asked for itself (not followed).
    Cname,
}

impl RecordKind {
    /// The type's name, as zone files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Txt => "TXT",
            RecordKind::Spf => "SPF",
            RecordKind::A => "A",
            RecordKind::Aaaa => "AAAA",
            RecordKind::Mx => "MX",
            RecordKind::Ptr => "PTR",
            RecordKind::Cname => "CNAME",
        }
    }

    fn record_type(self) -> RecordType {
        match self {
            RecordKind::Txt => RecordType::TXT,
            RecordKind::Spf => RecordType::Unknown(SPF_TYPE),
            RecordKind::A => RecordType::A,
            RecordKind::Aaaa => RecordType::AAAA,
            RecordKind::Mx => RecordType::MX,
            RecordKind::Ptr => RecordType::PTR,
            RecordKind::Cname => RecordType::CNAME,
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// A TXT or SPF record: its character-strings joined with nothing between (RFC 7208 3.3),
    /// non-UTF-8 bytes replaced.
    Text(String),
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A mail exchanger.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The host, without trailing dot ("" for the root: a null MX, RFC 7505).
        exchange: String,
    },
    /// A name: the target of a PTR or CNAME record, without trailing dot.
    Name(String),
}

/// What DNS says about a name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records {
    /// False for NXDOMAIN.
    pub name_exists: bool,
    /// The records of the type asked for (empty for NXDOMAIN or NODATA).
    pub data: Vec<RecordData>,
    /// The CNAMEs followed, each the name a CNAME pointed to, without trailing dot.
    pub cname_chain: Vec<String>,
    /// What DNSSEC says about the answer.
    pub dnssec: DnssecStatus,
}

impl Records {
    /// The text of each TXT or SPF record.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.data.iter().filter_map(|data| match data {
            RecordData::Text(text) => Some(text.as_str()),
            _ => None,
        })
    }

    /// Each address of A or AAAA records.
    pub fn addresses(&self) -> impl Iterator<Item = std::net::IpAddr> + '_ {
        self.data.iter().filter_map(|data| match data {
            RecordData::A(address) => Some((*address).into()),
            RecordData::Aaaa(address) => Some((*address).into()),
            _ => None,
        })
    }

    /// Each name of PTR or CNAME records.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.data.iter().filter_map(|data| match data {
            RecordData::Name(name) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// How mail-domain checks ask DNS; injectable like [`super::KeyLookup`].
pub trait RecordLookup: Send + Sync {
    /// The records of `kind` at `name` (fully qualified, trailing dot optional), following
    /// CNAMEs (except for [`RecordKind::Cname`] itself).
    fn lookup_records(&self, name: &str, kind: RecordKind) -> Result<Records, LookupError>;
}

impl<L: RecordLookup + ?Sized> RecordLookup for &L {
    fn lookup_records(&self, name: &str, kind: RecordKind) -> Result<Records, LookupError> {
        (**self).lookup_records(name, kind)
    }
}

/// The record's data, if it is of `kind`.
fn data_of(record: &Record, kind: RecordKind) -> Option<RecordData> {
    match (&record.data, kind) {
        (RData::TXT(txt), RecordKind::Txt) => Some(RecordData::Text(txt_value(txt))),
        (RData::Unknown { code, rdata }, RecordKind::Spf)
            if *code == RecordType::Unknown(SPF_TYPE) =>
        {
            Some(RecordData::Text(character_strings(&rdata.anything)))
        }
        (RData::A(A(address)), RecordKind::A) => Some(RecordData::A(*address)),
        (RData::AAAA(AAAA(address)), RecordKind::Aaaa) => Some(RecordData::Aaaa(*address)),
        (RData::MX(mx), RecordKind::Mx) => Some(RecordData::Mx {
            preference: mx.preference,
            exchange: if mx.exchange.is_root() {
                String::new()
            } else {
                display_name(&mx.exchange)
            },
        }),
        (RData::PTR(PTR(target)), RecordKind::Ptr) => Some(RecordData::Name(display_name(target))),
        (RData::CNAME(_), RecordKind::Cname) => {
            cname_target(record).map(|target| RecordData::Name(display_name(target)))
        }
        _ => None,
    }
}

/// The SPF type's data, which hickory does not know: TXT's wire format, a sequence of
/// length-prefixed character-strings (RFC 4408 3.1.1), joined.
fn character_strings(mut data: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(data.len());
    while let Some((&length, rest)) = data.split_first() {
        let take = usize::from(length).min(rest.len());
        bytes.extend_from_slice(&rest[..take]);
        data = &rest[take..];
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Resolver {
    /// The records of `kind` at `name`, following CNAMEs, validated if asked.
    pub(crate) async fn lookup_records(
        &self,
        name: &str,
        kind: RecordKind,
    ) -> Result<Records, LookupError> {
        let start = query_name(name).map_err(|reason| LookupError::InvalidName {
            name: name.to_owned(),
            reason,
        })?;
        // What DNSSEC says of every RRset passed so far; None when not validating.
        let mut verdict: Option<Verdict> = None;
        let mut followed: Vec<Record> = Vec::new();
        let mut visited = vec![start.clone()];
        let mut current = start;
        loop {
            let response = self.query(&current, kind.record_type()).await;
            let (response_code, answers) = response_parts(response, name)?;
            // Walk the CNAMEs this response holds, from the name asked.
            let mut cnames = Vec::new();
            let found: Vec<&Record> = loop {
                let here: Vec<&Record> = answers
                    .iter()
                    .filter(|r| r.name == current && data_of(r, kind).is_some())
                    .collect();
                if !here.is_empty() || kind == RecordKind::Cname {
                    break here;
                }
                let Some(cname) = answers
                    .iter()
                    .find(|r| r.name == current && cname_target(r).is_some())
                else {
                    break Vec::new();
                };
                let target = cname_target(cname).cloned().unwrap_or_else(Name::root);
                cnames.push(cname.clone());
                if visited.contains(&target) || followed.len() + cnames.len() >= MAX_CNAME_CHAIN {
                    return Err(LookupError::DanglingCname {
                        name: name.to_owned(),
                        target: display_name(&target),
                    });
                }
                visited.push(target.clone());
                current = target;
            };
            let leaves_response = found.is_empty()
                && !cnames.is_empty()
                && !answers.iter().any(|r| r.name == current);
            let found: Vec<Record> = found.into_iter().cloned().collect();
            // A forged CNAME must not lead anywhere: judge it while its RRSIGs are at hand.
            self.judge(&mut verdict, &cnames, &answers, name).await?;
            followed.extend(cnames);
            if leaves_response {
                // The chain goes on in a zone this response does not speak for: ask for it.
                continue;
            }
            if let Some(first) = found.first() {
                self.judge_one(
                    &mut verdict,
                    &first.name,
                    kind.record_type(),
                    &answers,
                    name,
                )
                .await?;
            }
            let dnssec = verdict.map_or(DnssecStatus::NotValidated, |v| v.into_parts().0);
            return Ok(Records {
                name_exists: !(response_code == ResponseCode::NXDomain && found.is_empty()),
                data: found.iter().filter_map(|r| data_of(r, kind)).collect(),
                cname_chain: cname_chain(&followed),
                dnssec,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_type_data_is_read_as_character_strings() {
        assert_eq!(character_strings(b"\x06v=spf1\x05 -all"), "v=spf1 -all");
        assert_eq!(character_strings(b""), "");
        // A length running past the end takes what is there.
        assert_eq!(character_strings(b"\x09v=spf1"), "v=spf1");
    }

    #[test]
    fn kinds_name_their_types() {
        assert_eq!(RecordKind::Spf.record_type(), RecordType::Unknown(99));
        assert_eq!(RecordKind::Aaaa.to_string(), "AAAA");
    }
}

//! What one DNS response says about the TXT records at a name, CNAMEs included.
//!
//! A delegated selector (`202611._domainkey.example.com CNAME 202611.dkim.provider.net`) is
//! answered with the CNAME and, when the server has it, the target's records in the same
//! response (RFC 1034 4.3.2); when it has not, the target must be asked for separately. This
//! module follows the chain as far as one response goes and says what is left to do; it does no
//! I/O, so every case is tested here without a server.

use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::{CNAME, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record};

/// Where one response leaves a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// TXT records, at the end of `cnames` (empty when the name itself holds them).
    Records {
        /// The CNAME records followed, in order.
        cnames: Vec<Record>,
        /// The TXT records found.
        records: Vec<Record>,
    },
    /// The chain goes on at `target`, which this response does not answer for: ask for it.
    Follow {
        /// The CNAME records followed, in order.
        cnames: Vec<Record>,
        /// Where to go on.
        target: Name,
    },
    /// The chain comes back to `target`, a name it passed already.
    Loop {
        /// The CNAME records followed, in order, up to the one that closes the loop.
        cnames: Vec<Record>,
        /// The name seen twice.
        target: Name,
    },
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// The name exists but holds no TXT record (NODATA, RFC 2308 2.2).
    NoData,
}

/// Follows `query`'s CNAMEs through `answers` and says where that leads. `visited` holds the
/// names the lookup passed in earlier responses, `query` included; the names passed here are
/// added to it.
pub(crate) fn interpret(
    query: &Name,
    response_code: ResponseCode,
    answers: &[Record],
    visited: &mut Vec<Name>,
) -> Step {
    let mut cnames = Vec::new();
    let mut current = query.clone();
    loop {
        let records: Vec<Record> = answers
            .iter()
            .filter(|r| r.name == current && matches!(r.data, RData::TXT(_)))
            .cloned()
            .collect();
        if !records.is_empty() {
            return Step::Records { cnames, records };
        }
        let Some((cname, target)) = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(CNAME(target)) if r.name == current => Some((r, target)),
            _ => None,
        }) else {
            break;
        };
        cnames.push(cname.clone());
        if visited.contains(target) {
            return Step::Loop {
                cnames,
                target: target.clone(),
            };
        }
        visited.push(target.clone());
        current = target.clone();
    }
    if !cnames.is_empty() {
        // The response code speaks of the end of the chain (RFC 6604 3), but whether the server
        // could speak for it at all is not always clear (the target may be in a zone it does not
        // serve), so the target is asked for on its own, and its own answer is validated.
        return Step::Follow {
            cnames,
            target: current,
        };
    }
    if response_code == ResponseCode::NXDomain {
        Step::NoSuchName
    } else {
        Step::NoData
    }
}

/// The value of a TXT record: its character-strings joined with nothing between (RFC 6376
/// 3.6.2.2), bytes first so that a character split across two strings comes out whole, then
/// read as UTF-8 with anything else replaced.
pub(crate) fn txt_value(txt: &TXT) -> String {
    let bytes: Vec<u8> = txt
        .txt_data
        .iter()
        .flat_map(|s| s.iter().copied())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The target of a CNAME record (none for other records).
pub(crate) fn cname_target(record: &Record) -> Option<&Name> {
    match &record.data {
        RData::CNAME(CNAME(target)) => Some(target),
        _ => None,
    }
}

/// Where each CNAME of `followed` pointed, in order, as names without trailing dot.
pub(crate) fn cname_chain(followed: &[Record]) -> Vec<String> {
    followed
        .iter()
        .filter_map(cname_target)
        .map(super::names::display_name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn txt(owner: &str, strings: &[&str]) -> Record {
        let strings = strings.iter().map(|s| (*s).to_owned()).collect();
        Record::from_rdata(name(owner), 300, RData::TXT(TXT::new(strings)))
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(name(owner), 300, RData::CNAME(CNAME(name(target))))
    }

    fn walk(query: &str, code: ResponseCode, answers: &[Record]) -> (Step, Vec<Name>) {
        let mut visited = vec![name(query)];
        let step = interpret(&name(query), code, answers, &mut visited);
        (step, visited)
    }

    #[test]
    fn records_at_the_name() {
        let answers = [txt("s._domainkey.example.com.", &["v=DKIM1; ", "p=AA"])];
        let (step, _) = walk("s._domainkey.example.com.", ResponseCode::NoError, &answers);
        assert_eq!(
            step,
            Step::Records {
                cnames: vec![],
                records: answers.to_vec()
            }
        );
    }

    #[test]
    fn names_compare_without_case() {
        let answers = [txt("S._DomainKey.EXAMPLE.com.", &["v=DKIM1; p="])];
        let (step, _) = walk("s._domainkey.example.com.", ResponseCode::NoError, &answers);
        assert!(matches!(step, Step::Records { records, .. } if records.len() == 1));
    }

    #[test]
    fn records_at_the_end_of_a_chain_in_one_response() {
        let answers = [
            cname("s._domainkey.example.com.", "s.dkim.example.net."),
            cname("s.dkim.example.net.", "s2.dkim.example.net."),
            txt("s2.dkim.example.net.", &["v=DKIM1; p="]),
            txt("unrelated.example.net.", &["x"]),
        ];
        let (step, visited) = walk("s._domainkey.example.com.", ResponseCode::NoError, &answers);
        assert_eq!(
            step,
            Step::Records {
                cnames: answers[..2].to_vec(),
                records: vec![answers[2].clone()]
            }
        );
        assert_eq!(visited.len(), 3);
    }

    #[test]
    fn a_chain_that_leaves_the_response_is_followed() {
        let answers = [cname("s._domainkey.example.com.", "s.dkim.example.net.")];
        for code in [ResponseCode::NoError, ResponseCode::NXDomain] {
            let (step, _) = walk("s._domainkey.example.com.", code, &answers);
            assert_eq!(
                step,
                Step::Follow {
                    cnames: answers.to_vec(),
                    target: name("s.dkim.example.net.")
                }
            );
        }
    }

    #[test]
    fn a_chain_that_comes_back_is_a_loop() {
        let answers = [
            cname("a.example.com.", "b.example.com."),
            cname("b.example.com.", "a.example.com."),
        ];
        let (step, _) = walk("a.example.com.", ResponseCode::NoError, &answers);
        assert_eq!(
            step,
            Step::Loop {
                cnames: answers.to_vec(),
                target: name("a.example.com.")
            }
        );

        // A loop through an earlier response.
        let mut visited = vec![name("a.example.com."), name("b.example.com.")];
        let step = interpret(
            &name("b.example.com."),
            ResponseCode::NoError,
            &[cname("b.example.com.", "a.example.com.")],
            &mut visited,
        );
        assert!(matches!(step, Step::Loop { target, .. } if target == name("a.example.com.")));
    }

    #[test]
    fn negative_answers() {
        let (step, _) = walk("a.example.com.", ResponseCode::NXDomain, &[]);
        assert_eq!(step, Step::NoSuchName);
        let (step, _) = walk("a.example.com.", ResponseCode::NoError, &[]);
        assert_eq!(step, Step::NoData);
        // Records of another type at the name are no TXT records.
        let address = Record::from_rdata(
            name("a.example.com."),
            300,
            RData::A(hickory_resolver::proto::rr::rdata::A::new(192, 0, 2, 1)),
        );
        let (step, _) = walk("a.example.com.", ResponseCode::NoError, &[address]);
        assert_eq!(step, Step::NoData);
    }

    #[test]
    fn strings_join_as_bytes_before_utf8() {
        let split = TXT::from_bytes(vec![b"caf\xc3", b"\xa9; p="]);
        assert_eq!(txt_value(&split), "café; p=");
        let invalid = TXT::from_bytes(vec![b"a\xff", b"b"]);
        assert_eq!(txt_value(&invalid), "a\u{fffd}b");
        assert_eq!(cname_target(&cname("a.", "b.")), Some(&name("b.")));
        assert_eq!(cname_target(&txt("a.", &["x"])), None);
    }
}

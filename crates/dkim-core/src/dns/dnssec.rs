//! DNSSEC's verdict on an answer, and why a bogus one is bogus, in words a mail administrator
//! can act on.
//!
//! hickory-resolver marks each validated record Secure, Insecure, Bogus or Indeterminate (RFC
//! 4035 4.3) but keeps the reason to its debug log. The usual reasons are few and visible in the
//! answer itself: a signature past its expiration (the zone was not re-signed), a signature not
//! yet valid (a clock is wrong), no signature at all (a resolver on the way strips DNSSEC
//! records), or one that does not match (data changed after signing, or keys that do not match
//! the parent's DS). This module tells them apart from the RRSIG records of the answer.

use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_resolver::proto::rr::{RData, Record};

use super::DnssecStatus;
use super::names::display_name;

/// The status of an answer made of `records` (the CNAMEs followed and the TXT records found):
/// secure only if every one is (RFC 4035 5: the chain of trust must hold for every RRset),
/// and `Err` with the first bogus record if any is bogus. Indeterminate counts as insecure: no
/// trust anchor speaks for the record, so nothing vouches for it.
pub(crate) fn status_of<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<DnssecStatus, &'a Record> {
    let mut all_secure = true;
    let mut any = false;
    for record in records {
        any = true;
        match record.proof {
            Proof::Bogus => return Err(record),
            Proof::Secure => {}
            Proof::Insecure | Proof::Indeterminate => all_secure = false,
        }
    }
    Ok(if any && all_secure {
        DnssecStatus::Secure
    } else {
        DnssecStatus::Insecure
    })
}

/// Why `record` (marked bogus) failed validation, judged from the RRSIG records among `answers`
/// at `now` (seconds since the Unix epoch).
pub(crate) fn bogus_detail(record: &Record, answers: &[Record], now: u64) -> String {
    let what = format!(
        "the {} record at {}",
        record.record_type(),
        display_name(&record.name)
    );
    let signatures: Vec<&RRSIG> = answers
        .iter()
        .filter(|r| r.name == record.name)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig))
                if rrsig.input().type_covered == record.record_type() =>
            {
                Some(rrsig)
            }
            _ => None,
        })
        .collect();
    // RFC 4034 3.1.5: signature times are seconds since the epoch, modulo 2^32 (good until 2106).
    let expiration = |s: &RRSIG| u64::from(s.input().sig_expiration.get());
    let inception = |s: &RRSIG| u64::from(s.input().sig_inception.get());
    if signatures.is_empty() {
        format!(
            "{what} carries no signature, yet its zone is signed (its parent publishes a DS \
             record for it); a resolver on the way may be dropping DNSSEC records"
        )
    } else if let Some(latest) = signatures
        .iter()
        .map(|s| expiration(s))
        .max()
        .filter(|&latest| latest < now)
    {
        format!(
            "the signature over {what} expired on {}; the zone must be re-signed",
            utc_time(latest)
        )
    } else if let Some(earliest) = signatures
        .iter()
        .map(|s| inception(s))
        .min()
        .filter(|&earliest| earliest > now)
    {
        format!(
            "the signature over {what} is not valid before {} (is a clock wrong?)",
            utc_time(earliest)
        )
    } else {
        format!(
            "the signature over {what} does not verify along the chain of trust: the record was \
             changed after signing, a zone's DNSKEY does not match the DS record in its parent \
             zone, or the trust anchor is not the key of this DNS tree's root"
        )
    }
}

/// The detail of a negative answer whose proof of non-existence failed (RFC 4035 5.4).
pub(crate) fn bogus_denial_detail(name: &str) -> String {
    format!(
        "the proof that {name} has no TXT record (NSEC or NSEC3 records) does not verify, so the \
         claim that it does not exist cannot be trusted"
    )
}

/// `seconds` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc_time(seconds: u64) -> String {
    let days = seconds / 86_400;
    let time = seconds % 86_400;
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01, by Howard Hinnant's `civil_from_days`
/// (the 400-year cycle of 146,097 days, counted from 0000-03-01 so that leap days fall last).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use hickory_resolver::proto::dnssec::Algorithm;
    use hickory_resolver::proto::dnssec::rdata::SigInput;
    use hickory_resolver::proto::rr::rdata::TXT;
    use hickory_resolver::proto::rr::{Name, RecordType, SerialNumber};

    use super::*;

    fn txt(proof: Proof) -> Record {
        let mut record = Record::from_rdata(
            Name::from_ascii("s._domainkey.example.com.").unwrap(),
            300,
            RData::TXT(TXT::new(vec!["v=DKIM1; p=".into()])),
        );
        record.proof = proof;
        record
    }

    fn rrsig(inception: u32, expiration: u32) -> Record {
        let input = SigInput {
            type_covered: RecordType::TXT,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: 4,
            original_ttl: 300,
            sig_expiration: SerialNumber::new(expiration),
            sig_inception: SerialNumber::new(inception),
            key_tag: 1,
            signer_name: Name::from_ascii("example.com.").unwrap(),
        };
        Record::from_rdata(
            Name::from_ascii("s._domainkey.example.com.").unwrap(),
            300,
            RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, vec![0; 64]))),
        )
    }

    #[test]
    fn secure_only_when_every_record_is() {
        let secure = txt(Proof::Secure);
        let insecure = txt(Proof::Insecure);
        let unknown = txt(Proof::Indeterminate);
        let bogus = txt(Proof::Bogus);
        assert_eq!(status_of([&secure, &secure]), Ok(DnssecStatus::Secure));
        assert_eq!(status_of([&secure, &insecure]), Ok(DnssecStatus::Insecure));
        assert_eq!(status_of([&unknown]), Ok(DnssecStatus::Insecure));
        assert_eq!(status_of([]), Ok(DnssecStatus::Insecure));
        assert_eq!(status_of([&secure, &bogus, &insecure]), Err(&bogus));
    }

    #[test]
    fn explains_expired_future_missing_and_mismatched_signatures() {
        // 2020-01-01 and 2020-02-01, as dnssec-signzone -s/-e would write them.
        let (january, february) = (1_577_836_800, 1_580_515_200);
        let record = txt(Proof::Bogus);
        let expired = bogus_detail(&record, &[rrsig(january, february)], 1_700_000_000);
        assert_eq!(
            expired,
            "the signature over the TXT record at s._domainkey.example.com expired on \
             2020-02-01 00:00:00 UTC; the zone must be re-signed"
        );
        let early = bogus_detail(&record, &[rrsig(january, february)], 1_500_000_000);
        assert!(
            early.contains("is not valid before 2020-01-01 00:00:00 UTC"),
            "{early}"
        );
        let missing = bogus_detail(&record, &[], 1_578_000_000);
        assert!(missing.contains("carries no signature"), "{missing}");
        let mismatched = bogus_detail(&record, &[rrsig(january, february)], 1_578_000_000);
        assert!(mismatched.contains("does not verify"), "{mismatched}");
    }

    #[test]
    fn dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(utc_time(1_795_305_600 + 3_661), "2026-11-22 01:01:01 UTC");
    }
}

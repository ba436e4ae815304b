//! Why a signature failed, in words a mail administrator can act on (RFC 4035 5.3): none at
//! all, one from a key the zone does not have, one that does not verify (data changed after
//! signing), one past its expiration (the zone was not re-signed) or not yet valid (a clock is
//! wrong).

use hickory_resolver::proto::rr::Name;

use super::names::display_name;

/// The most telling reason no signature over an RRset could be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureProblem {
    /// No signature at all.
    Missing,
    /// Signatures made with keys that are not among the zone's authenticated keys.
    UnknownKey,
    /// A signature that does not match the data with the key it names.
    DoesNotVerify,
    /// A signature that verifies but expired at this time (seconds since the epoch).
    Expired(u64),
    /// A signature that verifies but is not valid before this time.
    NotYetValid(u64),
}

impl SignatureProblem {
    /// The more telling of two problems: a signature that verifies but is out of date says more
    /// than one that does not verify, which says more than one from an unknown key.
    pub(crate) fn more_telling(self, other: SignatureProblem) -> SignatureProblem {
        let weight = |problem: &SignatureProblem| match problem {
            SignatureProblem::Missing => 0,
            SignatureProblem::UnknownKey => 1,
            SignatureProblem::DoesNotVerify => 2,
            SignatureProblem::Expired(_) | SignatureProblem::NotYetValid(_) => 3,
        };
        if weight(&other) > weight(&self) {
            other
        } else {
            self
        }
    }

    /// The problem with the signatures over `what` ("the TXT record at ..."), made by `signer`,
    /// and the fix.
    pub(crate) fn describe(self, what: &str, signer: &Name) -> String {
        let zone = display_name(signer);
        match self {
            SignatureProblem::Missing => {
                format!("{what} carries no signature, yet {zone} is signed; sign the zone again")
            }
            SignatureProblem::UnknownKey => format!(
                "{what} is signed with a key that is not among the DNSKEY records of {zone}; \
                 sign the zone again with its current keys"
            ),
            SignatureProblem::DoesNotVerify => format!(
                "the signature over {what} does not verify: the record was changed after the \
                 zone was signed; sign the zone again"
            ),
            SignatureProblem::Expired(at) => format!(
                "the signature over {what} expired on {}; the zone must be re-signed",
                utc_time(at)
            ),
            SignatureProblem::NotYetValid(at) => format!(
                "the signature over {what} is not valid before {} (is a clock wrong?)",
                utc_time(at)
            ),
        }
    }
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
    use super::*;

    #[test]
    fn explains_expired_future_missing_and_mismatched_signatures() {
        let zone = Name::from_ascii("example.com.").unwrap();
        let what = "the TXT record at s._domainkey.example.com";
        assert_eq!(
            SignatureProblem::Expired(1_580_515_200).describe(what, &zone),
            "the signature over the TXT record at s._domainkey.example.com expired on \
             2020-02-01 00:00:00 UTC; the zone must be re-signed"
        );
        assert!(
            SignatureProblem::NotYetValid(1_577_836_800)
                .describe(what, &zone)
                .contains("is not valid before 2020-01-01 00:00:00 UTC")
        );
        assert!(
            SignatureProblem::Missing
                .describe(what, &zone)
                .contains("carries no signature, yet example.com is signed")
        );
        assert!(
            SignatureProblem::DoesNotVerify
                .describe(what, &zone)
                .contains("does not verify")
        );
    }

    #[test]
    fn an_out_of_date_signature_tells_more_than_a_mismatch() {
        use SignatureProblem::*;
        assert_eq!(Missing.more_telling(UnknownKey), UnknownKey);
        assert_eq!(DoesNotVerify.more_telling(UnknownKey), DoesNotVerify);
        assert_eq!(DoesNotVerify.more_telling(Expired(1)), Expired(1));
        assert_eq!(Expired(1).more_telling(Missing), Expired(1));
    }

    #[test]
    fn dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(utc_time(1_795_305_600 + 3_661), "2026-11-22 01:01:01 UTC");
    }
}

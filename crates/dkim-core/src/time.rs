//! Time as dkimkit reads and counts it: Unix seconds, the unit of DKIM's `t=` and `x=` (RFC 6376
//! 3.5) and of DNSSEC's signature times (RFC 4034 3.1.5); times as people write them
//! (`2026-12-01T04:00:00Z`); and lengths of time (`1month`, `14d`, `36h`, `300ms`, or a bare
//! number of seconds as dig, curl and timeout(1) read one).
//!
//! Months are calendar months, not 30 days: a key made on the first of the month at 04:00 is due
//! on the first of the next month at 04:00, which is when cron runs again. Everything is counted
//! in UTC, where every day has 24 hours.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::fmt::friendly::{Designator, Spacing, SpanParser, SpanPrinter};
use jiff::tz::TimeZone;
use jiff::{Span, SpanRelativeTo, SpanRound, Timestamp, Unit, civil};

/// Seconds since the Unix epoch of `time` (0 for a time before it).
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Now, in seconds since the Unix epoch. Commands read the clock here, once, and pass `now` on,
/// so that tests (and `--now`) can give another time.
pub fn unix_now() -> u64 {
    unix_seconds(SystemTime::now())
}

/// `seconds` (Unix time) as jiff's timestamp; None past what jiff counts (the end of the year
/// 9999).
fn timestamp(seconds: u64) -> Option<Timestamp> {
    Timestamp::from_second(i64::try_from(seconds).ok()?).ok()
}

/// `seconds` (Unix time) written in UTC with strftime directives (`%Y%m%d` makes 20261201); None
/// past the year 9999 or for a directive jiff does not know.
pub fn format_utc(format: &str, seconds: u64) -> Option<String> {
    jiff::fmt::strtime::format(format, timestamp(seconds)?).ok()
}

/// A time that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadTime {
    /// Neither RFC 3339 nor a number.
    #[error(
        "\"{0}\" is not a time: write it as 2026-12-01T04:00:00Z (RFC 3339, UTC unless an offset \
         follows) or as Unix seconds"
    )]
    Unreadable(String),
    /// A time before 1970, which Unix seconds cannot count.
    #[error("\"{0}\" is before 1970: times before the Unix epoch are not supported")]
    BeforeUnixEpoch(String),
}

/// Parses a time written as RFC 3339 (`2026-12-01T04:00:00Z`, `2026-12-01 06:00:00+02:00`; UTC
/// when no offset is written) or as Unix seconds.
pub fn parse_unix_time(text: &str) -> Result<u64, BadTime> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    let time = text
        .parse::<Timestamp>()
        .or_else(|_| {
            let civil: civil::DateTime = text.parse()?;
            Ok::<_, jiff::Error>(civil.to_zoned(TimeZone::UTC)?.timestamp())
        })
        .map_err(|_| BadTime::Unreadable(text.to_owned()))?;
    u64::try_from(time.as_second()).map_err(|_| BadTime::BeforeUnixEpoch(text.to_owned()))
}

/// A length of time: calendar months, then a fixed length on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// Whole calendar months (a year is 12).
    pub months: u32,
    /// Weeks, days, hours and smaller units, a day being 24 hours.
    pub fixed: Duration,
}

impl Period {
    /// The time `self` after `start` (Unix seconds): the months on the calendar, the same day of
    /// the month or the month's last day (January 31 + 1 month = February 28 or 29), then the
    /// fixed length. A time past what jiff counts (the end of the year 9999) is `u64::MAX`,
    /// never.
    pub fn after(self, start: u64) -> u64 {
        let later = || {
            let months = Span::new().try_months(self.months).ok()?;
            let start = timestamp(start)?;
            let later = start.to_zoned(TimeZone::UTC).checked_add(months).ok()?;
            u64::try_from(later.timestamp().checked_add(self.fixed).ok()?.as_second()).ok()
        };
        later().unwrap_or(u64::MAX)
    }
}

/// A duration that does not parse, or that cannot serve where it is given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadPeriod {
    /// Not a duration at all.
    #[error(
        "\"{0}\" is not a duration: write a number and a unit, such as 1month, 14d, 36h, 90min, \
         300ms, 2w or 1y (several may follow one another, largest first: 1month14d), or a number \
         of seconds"
    )]
    Unreadable(String),
    /// Months or years where a fixed length is needed.
    #[error(
        "\"{0}\" counts months or years, whose length varies: write it in weeks, days, hours, \
         minutes or seconds (such as 30d)"
    )]
    NotFixed(String),
}

/// Parses a length that must be the same whenever it is used, such as a timeout: [`Period`]'s
/// grammar without months and years.
pub fn parse_fixed_length(text: &str) -> Result<Duration, BadPeriod> {
    match text.parse()? {
        Period { months: 0, fixed } => Ok(fixed),
        _ => Err(BadPeriod::NotFixed(text.to_owned())),
    }
}

impl FromStr for Period {
    type Err = BadPeriod;

    /// Reads jiff's friendly format (what humantime read, but for its `M` for months, too like
    /// minutes), or a bare number of seconds.
    fn from_str(text: &str) -> Result<Self, BadPeriod> {
        static FRIENDLY: SpanParser = SpanParser::new();
        let unreadable = || BadPeriod::Unreadable(text.to_owned());
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let seconds = text.parse().map_err(|_| unreadable())?;
            return Ok(Period {
                months: 0,
                fixed: Duration::from_secs(seconds),
            });
        }
        let span = FRIENDLY.parse_span(text).map_err(|_| unreadable())?;
        let months = i64::from(span.get_years()) * 12 + i64::from(span.get_months());
        let fixed = span
            .years(0)
            .months(0)
            .to_duration(SpanRelativeTo::days_are_24_hours());
        // A negative span (`-1d`, `1d ago`) fits neither a u32 nor a Duration.
        match (u32::try_from(months), fixed.map(Duration::try_from)) {
            (Ok(months), Ok(Ok(fixed))) => Ok(Period { months, fixed }),
            _ => Err(unreadable()),
        }
    }
}

impl fmt::Display for Period {
    /// As it would be written: `1month14d`, `3d`, `1d12h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        static PRINTER: SpanPrinter = SpanPrinter::new()
            .designator(Designator::HumanTime)
            .spacing(Spacing::None);
        let span = Span::try_from(self.fixed)
            .and_then(|fixed| fixed.round(SpanRound::new().largest(Unit::Day).days_are_24_hours()))
            .and_then(|fixed| fixed.try_months(self.months));
        match span {
            Ok(span) => f.write_str(&PRINTER.span_to_string(&span)),
            // Beyond the 20,000 years or so a jiff Span holds.
            Err(_) => write!(f, "{}months{}s", self.months, self.fixed.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn period(months: u32, seconds: u64) -> Period {
        Period {
            months,
            fixed: Duration::from_secs(seconds),
        }
    }

    #[test]
    fn every_unit_reads() {
        for (text, expected) in [
            ("1month", period(1, 0)),
            ("2 months", period(2, 0)),
            ("1mo", period(1, 0)),
            ("1y", period(12, 0)),
            ("1year 1month", period(13, 0)),
            ("2w", period(0, 14 * DAY)),
            ("7d", period(0, 7 * DAY)),
            ("36h", period(0, 36 * 3600)),
            ("90min", period(0, 5400)),
            ("90m", period(0, 5400)),
            ("90s", period(0, 90)),
            ("1h 30m", period(0, 5400)),
            ("1month14d", period(1, 14 * DAY)),
            ("0s", period(0, 0)),
        ] {
            assert_eq!(text.parse(), Ok(expected), "{text}");
        }
        assert_eq!(
            "300ms".parse::<Period>().map(|p| p.fixed),
            Ok(Duration::from_millis(300))
        );
    }

    #[test]
    fn a_bare_number_is_seconds() {
        assert_eq!("300".parse(), Ok(period(0, 300)));
        assert_eq!(" 2 ".parse(), Ok(period(0, 2)));
        assert_eq!(parse_fixed_length("2"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn errors_name_the_text() {
        for bad in [
            "",
            "month",
            "1month14",
            "14 fortnights",
            "1M",
            "-1d",
            "1d ago",
            "14d1month",
            "99999999999999999999",
            "99999999999999999999d",
        ] {
            let error = bad.parse::<Period>().unwrap_err();
            assert_eq!(error, BadPeriod::Unreadable(bad.to_owned()));
            assert!(error.to_string().starts_with(&format!("\"{bad}\" ")));
        }
    }

    #[test]
    fn a_fixed_length_refuses_months() {
        assert_eq!(parse_fixed_length("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_fixed_length("1d"), Ok(Duration::from_secs(DAY)));
        for months in ["1month", "1y"] {
            let error = parse_fixed_length(months).unwrap_err();
            assert_eq!(error, BadPeriod::NotFixed(months.to_owned()));
            assert!(error.to_string().contains("30d"), "{error}");
        }
        assert!(matches!(
            parse_fixed_length("5x"),
            Err(BadPeriod::Unreadable(_))
        ));
    }

    #[test]
    fn a_month_is_a_calendar_month() {
        let nov1 = 1_793_505_600; // 2026-11-01T04:00:00Z
        let dec1 = 1_796_097_600; // 2026-12-01T04:00:00Z
        let month: Period = "1month".parse().unwrap();
        assert_eq!(month.after(nov1), dec1);
        assert_eq!(month.after(dec1) - dec1, 31 * DAY);
        assert_eq!(period(0, 14 * DAY).after(dec1), dec1 + 14 * DAY);
        assert_eq!(period(13, 5).after(dec1), 1_830_312_005); // 2028-01-01T04:00:05Z
    }

    #[test]
    fn month_ends_clamp() {
        let jan31 = 1_801_368_000; // 2027-01-31T04:00:00Z
        assert_eq!(period(1, 0).after(jan31), jan31 + 28 * DAY); // 2027-02-28
        let leap_jan31 = 1_832_904_000; // 2028-01-31T04:00:00Z
        assert_eq!(period(1, 0).after(leap_jan31), leap_jan31 + 29 * DAY); // 2028-02-29
        let leap_day = leap_jan31 + 29 * DAY;
        assert_eq!(period(12, 0).after(leap_day), leap_day + 365 * DAY); // 2029-02-28
        assert_eq!(period(0, 1).after(u64::MAX), u64::MAX);
    }

    #[test]
    fn displays_as_written() {
        assert_eq!(period(1, 14 * DAY).to_string(), "1month14d");
        assert_eq!(period(0, 3 * DAY).to_string(), "3d");
        assert_eq!(period(0, 36 * 3600).to_string(), "1d12h");
        assert_eq!(period(13, 5).to_string(), "13months5s");
        assert_eq!(period(0, 0).to_string(), "0s");
        assert_eq!(period(u32::MAX, 1).to_string(), "4294967295months1s");
    }

    #[test]
    fn times_read_as_rfc_3339_or_seconds() {
        let dec1 = Ok(1_796_097_600);
        for text in [
            "1796097600",
            "2026-12-01T04:00:00Z",
            "2026-12-01 04:00:00Z",
            "2026-12-01T04:00:00",
            "2026-12-01T04:00:00.5Z",
            "2026-12-01T06:00:00+02:00",
        ] {
            assert_eq!(parse_unix_time(text), dec1, "{text}");
        }
        assert_eq!(
            parse_unix_time("yesterday"),
            Err(BadTime::Unreadable("yesterday".to_owned()))
        );
        assert_eq!(
            parse_unix_time("1969-12-31T00:00:00Z"),
            Err(BadTime::BeforeUnixEpoch("1969-12-31T00:00:00Z".to_owned()))
        );
    }

    #[test]
    fn unix_time_of_a_system_time() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_secs(1_800)), 1_800);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert!(unix_now() > 1_700_000_000);
    }
}

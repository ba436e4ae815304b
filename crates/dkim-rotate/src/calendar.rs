//! Dates in UTC, as far as rotation needs them: the calendar date of a Unix time (for
//! date-based selectors such as 202611), and "N months later" (a key due every month is due on
//! the same day next month, whatever the month's length).

use dkim_core::key::KeyType;

/// A calendar date and time of day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, from 1.
    pub day: u32,
    /// Seconds since midnight.
    pub seconds_of_day: u64,
}

const SECONDS_PER_DAY: u64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let next = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    (next - days_from_civil(year, month, 1)) as u32
}

impl DateTime {
    /// The UTC date and time of a Unix time.
    pub fn from_unix(seconds: u64) -> Self {
        let days = (seconds / SECONDS_PER_DAY) as i64;
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            seconds_of_day: seconds % SECONDS_PER_DAY,
        }
    }

    /// The Unix time (0 for dates before 1970).
    pub fn to_unix(self) -> u64 {
        let days = days_from_civil(self.year, self.month, self.day);
        u64::try_from(days).map_or(0, |days| days * SECONDS_PER_DAY + self.seconds_of_day)
    }

    /// The same time of day `months` calendar months later; a day past the end of the target
    /// month becomes its last day (January 31 + 1 month = February 28 or 29).
    pub fn plus_months(self, months: u32) -> Self {
        let month_index = i64::from(self.month - 1) + i64::from(months);
        let year = self.year + month_index.div_euclid(12);
        let month = (month_index.rem_euclid(12) + 1) as u32;
        DateTime {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
            seconds_of_day: self.seconds_of_day,
        }
    }
}

/// A `--selector-format` that cannot make a selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorFormatError {
    /// A `%` directive this formatter does not know.
    #[error("%{0} is not supported in a selector format (use %Y %y %m %d %H %M %S %j %s %k %%)")]
    UnknownDirective(char),
    /// A `%` at the end.
    #[error("the selector format ends with a lone %")]
    TrailingPercent,
}

/// Formats `now` with strftime directives: `%Y` year, `%y` two digits, `%m` month, `%d` day,
/// `%H` `%M` `%S` time, `%j` day of the year, `%s` Unix seconds, `%%` a percent sign. Other
/// characters are copied.
pub fn format_time(format: &str, now: u64) -> Result<String, SelectorFormatError> {
    expand(format, now, None)
}

/// A new key's selector as `--selector-format` names it: [`format_time`]'s directives, and `%k`
/// the key's type (`rsa`, `ed25519`), so that the keys of a domain signed with both types
/// (opendkim's MultipleSignatures) get distinct selectors.
pub fn format_selector(
    format: &str,
    now: u64,
    key_type: KeyType,
) -> Result<String, SelectorFormatError> {
    expand(format, now, Some(key_type))
}

/// Whether a selector format names the key type (`%k`, not `%%k`).
pub fn names_key_type(format: &str) -> bool {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' && chars.next() == Some('k') {
            return true;
        }
    }
    false
}

fn expand(
    format: &str,
    now: u64,
    key_type: Option<KeyType>,
) -> Result<String, SelectorFormatError> {
    let date = DateTime::from_unix(now);
    let day_of_year =
        days_from_civil(date.year, date.month, date.day) - days_from_civil(date.year, 1, 1) + 1;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let directive = chars.next().ok_or(SelectorFormatError::TrailingPercent)?;
        let piece = match (directive, key_type) {
            ('Y', _) => format!("{:04}", date.year),
            ('y', _) => format!("{:02}", date.year.rem_euclid(100)),
            ('m', _) => format!("{:02}", date.month),
            ('d', _) => format!("{:02}", date.day),
            ('H', _) => format!("{:02}", date.seconds_of_day / 3600),
            ('M', _) => format!("{:02}", date.seconds_of_day / 60 % 60),
            ('S', _) => format!("{:02}", date.seconds_of_day % 60),
            ('j', _) => format!("{day_of_year:03}"),
            ('s', _) => now.to_string(),
            ('k', Some(key_type)) => key_type.as_str().to_owned(),
            ('%', _) => "%".to_owned(),
            (other, _) => return Err(SelectorFormatError::UnknownDirective(other)),
        };
        out.push_str(&piece);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_and_dates() {
        // 2026-12-01T04:00:00Z
        let date = DateTime::from_unix(1_796_097_600);
        assert_eq!(
            (date.year, date.month, date.day, date.seconds_of_day),
            (2026, 12, 1, 14_400)
        );
        assert_eq!(date.to_unix(), 1_796_097_600);
        assert_eq!(DateTime::from_unix(0).to_unix(), 0);
        for seconds in (0..4_000_000_000u64).step_by(7_777_777) {
            assert_eq!(DateTime::from_unix(seconds).to_unix(), seconds);
        }
    }

    #[test]
    fn months_keep_the_day_or_clamp_it() {
        let jan31 = DateTime {
            year: 2027,
            month: 1,
            day: 31,
            seconds_of_day: 0,
        };
        assert_eq!(
            jan31.plus_months(1),
            DateTime {
                year: 2027,
                month: 2,
                day: 28,
                seconds_of_day: 0
            }
        );
        let leap = DateTime {
            year: 2028,
            month: 1,
            day: 31,
            seconds_of_day: 0,
        };
        assert_eq!(leap.plus_months(1).day, 29);
        let dec = DateTime {
            year: 2026,
            month: 12,
            day: 1,
            seconds_of_day: 5,
        };
        assert_eq!(
            dec.plus_months(13),
            DateTime {
                year: 2028,
                month: 1,
                day: 1,
                seconds_of_day: 5
            }
        );
    }

    #[test]
    fn selector_formats() {
        let now = 1_796_097_600; // 2026-12-01T04:00:00Z
        assert_eq!(format_time("%Y%m", now).unwrap(), "202612");
        assert_eq!(
            format_time("k%y%m%d-%H%M%S", now).unwrap(),
            "k261201-040000"
        );
        assert_eq!(format_time("%j.%s%%", now).unwrap(), "335.1796097600%");
        assert_eq!(
            format_time("%Q", now),
            Err(SelectorFormatError::UnknownDirective('Q'))
        );
        assert_eq!(
            format_time("%", now),
            Err(SelectorFormatError::TrailingPercent)
        );
        assert_eq!(
            format_selector("%Y%m-%k", now, KeyType::Ed25519).unwrap(),
            "202612-ed25519"
        );
        assert_eq!(
            format_selector("%k%%k", now, KeyType::Rsa).unwrap(),
            "rsa%k"
        );
        assert!(names_key_type("%Y-%k") && !names_key_type("%Y%%k"));
    }
}

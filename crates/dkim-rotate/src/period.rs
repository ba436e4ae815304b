//! How long between rotations and how long an old record stays: `1month`, `14d`, `36h`, or a
//! bare number of seconds (`300`), as dig, curl and timeout(1) read one.
//!
//! Months are calendar months, not 30 days: a key made on the first of the month at 04:00 is
//! due on the first of the next month at 04:00, which is when cron runs again.

use std::fmt;
use std::str::FromStr;

use super::calendar::DateTime;

/// A length of time: calendar months plus seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// Whole calendar months.
    pub months: u32,
    /// Seconds on top.
    pub seconds: u64,
}

impl Period {
    /// The time `self` after `start` (Unix seconds).
    pub fn after(self, start: u64) -> u64 {
        DateTime::from_unix(start)
            .plus_months(self.months)
            .to_unix()
            .saturating_add(self.seconds)
    }
}

/// A duration that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a duration: write a number and a unit, such as 1month, 14d, 36h, 90min, 2w \
     or 1y (several may follow one another: 1month14d), or a number of seconds"
)]
pub struct BadPeriod(pub String);

/// The seconds a duration written as a bare number means (`300`), or None when `text` is not
/// one: every duration dkimkit takes reads a bare number as seconds.
pub fn bare_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl FromStr for Period {
    type Err = BadPeriod;

    fn from_str(text: &str) -> Result<Self, BadPeriod> {
        let bad = || BadPeriod(text.to_owned());
        if let Some(seconds) = bare_seconds(text) {
            return Ok(Period { months: 0, seconds });
        }
        let mut period = Period {
            months: 0,
            seconds: 0,
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (unit, tail) = rest.split_at(unit_len);
            rest = tail;
            let seconds_per = match unit.trim() {
                "s" | "sec" | "secs" | "second" | "seconds" => 1,
                "m" | "min" | "mins" | "minute" | "minutes" => 60,
                "h" | "hour" | "hours" => 3600,
                "d" | "day" | "days" => 86_400,
                "w" | "week" | "weeks" => 7 * 86_400,
                "month" | "months" | "mo" => {
                    period.months = period
                        .months
                        .checked_add(u32::try_from(number).map_err(|_| bad())?)
                        .ok_or_else(bad)?;
                    continue;
                }
                "y" | "year" | "years" => {
                    let months = number.checked_mul(12).ok_or_else(bad)?;
                    period.months = period
                        .months
                        .checked_add(u32::try_from(months).map_err(|_| bad())?)
                        .ok_or_else(bad)?;
                    continue;
                }
                _ => return Err(bad()),
            };
            period.seconds = number
                .checked_mul(seconds_per)
                .and_then(|s| period.seconds.checked_add(s))
                .ok_or_else(bad)?;
        }
        Ok(period)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.months > 0 {
            parts.push(format!(
                "{}month{}",
                self.months,
                if self.months == 1 { "" } else { "s" }
            ));
        }
        let (days, rest) = (self.seconds / 86_400, self.seconds % 86_400);
        if days > 0 {
            parts.push(format!("{days}d"));
        }
        if rest > 0 || parts.is_empty() {
            parts.push(format!("{rest}s"));
        }
        f.write_str(&parts.join(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_issue_writes() {
        assert_eq!(
            "1month".parse(),
            Ok(Period {
                months: 1,
                seconds: 0
            })
        );
        assert_eq!(
            "14d".parse(),
            Ok(Period {
                months: 0,
                seconds: 14 * 86_400
            })
        );
        assert_eq!(
            "36h".parse(),
            Ok(Period {
                months: 0,
                seconds: 36 * 3600
            })
        );
        assert_eq!(
            "1month14d".parse(),
            Ok(Period {
                months: 1,
                seconds: 14 * 86_400
            })
        );
        assert_eq!(
            "2w".parse(),
            Ok(Period {
                months: 0,
                seconds: 14 * 86_400
            })
        );
        assert_eq!(
            "1y".parse(),
            Ok(Period {
                months: 12,
                seconds: 0
            })
        );
        assert_eq!(
            "300".parse(),
            Ok(Period {
                months: 0,
                seconds: 300
            })
        );
        for bad in [
            "",
            "month",
            "1month14",
            "14 fortnights",
            "-1d",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(
            Period {
                months: 1,
                seconds: 14 * 86_400
            }
            .to_string(),
            "1month14d"
        );
    }

    #[test]
    fn a_month_after_the_first_is_the_next_first() {
        let nov1 = 1_793_505_600; // 2026-11-01T04:00:00Z
        let dec1 = 1_796_097_600; // 2026-12-01T04:00:00Z
        assert_eq!("1month".parse::<Period>().unwrap().after(nov1), dec1);
        assert_eq!(
            "14d".parse::<Period>().unwrap().after(dec1),
            dec1 + 14 * 86_400
        );
    }
}

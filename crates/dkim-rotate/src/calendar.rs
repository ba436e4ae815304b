//! Dates written with strftime directives, in UTC: in selectors (`%Y%m` makes 202611), in
//! reports and in genzone's serial. jiff formats them; this module says which directives a
//! selector format may hold.

use dkim_core::key::KeyType;
use jiff::Timestamp;
use jiff::fmt::strtime;

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
    /// A time past the last jiff can write as a date, near the end of the year 9999.
    #[error("Unix time {0} is too far in the future to be written as a date")]
    OutOfRange(u64),
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
    // Only the directives listed in the error pass to jiff: a selector holds letters, digits and
    // hyphens (RFC 6376 3.1), which most other directives (%b, %Z, %-d...) would not give.
    let mut checked = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            checked.push(c);
            continue;
        }
        match (chars.next(), key_type) {
            (Some('k'), Some(key_type)) => checked.push_str(key_type.as_str()),
            (Some(directive @ ('Y' | 'y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'j' | 's' | '%')), _) => {
                checked.extend(['%', directive]);
            }
            (Some(other), _) => return Err(SelectorFormatError::UnknownDirective(other)),
            (None, _) => return Err(SelectorFormatError::TrailingPercent),
        }
    }
    let out_of_range = || SelectorFormatError::OutOfRange(now);
    let now = i64::try_from(now)
        .ok()
        .and_then(|now| Timestamp::from_second(now).ok())
        .ok_or_else(out_of_range)?;
    strtime::format(&checked, now).map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn leap_years_and_the_ends_of_the_range() {
        let leap_new_year_eve = 1_861_833_600; // 2028-12-31T00:00:00Z
        assert_eq!(
            format_time("%Y%m%d.%j", leap_new_year_eve).unwrap(),
            "20281231.366"
        );
        // March 1 is day 61 in a leap year; 2100 is not one, 2000 was.
        assert_eq!(
            format_time("%y%m%d.%j", 1_835_481_600).unwrap(),
            "280301.061"
        );
        assert_eq!(
            format_time("%y%m%d.%j", 4_107_542_400).unwrap(),
            "000301.060"
        );
        assert_eq!(format_time("%y%m%d.%j", 951_868_800).unwrap(), "000301.061");
        assert_eq!(
            format_time("%Y-%m-%d %H:%M UTC", 0).unwrap(),
            "1970-01-01 00:00 UTC"
        );
        assert_eq!(format_time("%Y", 253_402_207_200).unwrap(), "9999");
        assert_eq!(
            format_time("%Y", u64::MAX),
            Err(SelectorFormatError::OutOfRange(u64::MAX))
        );
        assert_eq!(
            format_time("%-d", 0),
            Err(SelectorFormatError::UnknownDirective('-'))
        );
    }
}

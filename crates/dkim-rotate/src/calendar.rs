//! Selectors written with strftime directives, in UTC (`%Y%m` makes 202611):
//! `dkim_core::time::format_utc` formats them; this module says which directives a selector
//! format may hold.

use dkim_core::key::KeyType;
use dkim_core::time::format_utc;

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

/// A new key's selector as `--selector-format` names it: strftime's `%Y` year, `%y` two digits,
/// `%m` month, `%d` day, `%H` `%M` `%S` time, `%j` day of the year, `%s` Unix seconds, `%%` a
/// percent sign, and `%k` the key's type (`rsa`, `ed25519`), so that the keys of a domain signed
/// with both types (opendkim's MultipleSignatures) get distinct selectors.
pub fn format_selector(
    format: &str,
    now: u64,
    key_type: KeyType,
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
        match chars.next() {
            Some('k') => checked.push_str(key_type.as_str()),
            Some(directive @ ('Y' | 'y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'j' | 's' | '%')) => {
                checked.extend(['%', directive]);
            }
            Some(other) => return Err(SelectorFormatError::UnknownDirective(other)),
            None => return Err(SelectorFormatError::TrailingPercent),
        }
    }
    format_utc(&checked, now).ok_or(SelectorFormatError::OutOfRange(now))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_formats() {
        let now = 1_796_097_600; // 2026-12-01T04:00:00Z
        assert_eq!(
            format_selector("%Y%m", now, KeyType::Rsa).unwrap(),
            "202612"
        );
        assert_eq!(
            format_selector("k%y%m%d-%H%M%S", now, KeyType::Rsa).unwrap(),
            "k261201-040000"
        );
        assert_eq!(
            format_selector("%j.%s%%", now, KeyType::Rsa).unwrap(),
            "335.1796097600%"
        );
        assert_eq!(
            format_selector("%Q", now, KeyType::Rsa),
            Err(SelectorFormatError::UnknownDirective('Q'))
        );
        assert_eq!(
            format_selector("%", now, KeyType::Rsa),
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
            format_selector("%Y%m%d.%j", leap_new_year_eve, KeyType::Rsa).unwrap(),
            "20281231.366"
        );
        // March 1 is day 61 in a leap year; 2100 is not one, 2000 was.
        assert_eq!(
            format_selector("%y%m%d.%j", 1_835_481_600, KeyType::Rsa).unwrap(),
            "280301.061"
        );
        assert_eq!(
            format_selector("%y%m%d.%j", 4_107_542_400, KeyType::Rsa).unwrap(),
            "000301.060"
        );
        assert_eq!(
            format_selector("%y%m%d.%j", 951_868_800, KeyType::Rsa).unwrap(),
            "000301.061"
        );
        assert_eq!(
            format_selector("%Y-%m-%d %H:%M UTC", 0, KeyType::Rsa).unwrap(),
            "1970-01-01 00:00 UTC"
        );
        assert_eq!(
            format_selector("%Y", 253_402_207_200, KeyType::Rsa).unwrap(),
            "9999"
        );
        assert_eq!(
            format_selector("%Y", u64::MAX, KeyType::Rsa),
            Err(SelectorFormatError::OutOfRange(u64::MAX))
        );
        assert_eq!(
            format_selector("%-d", 0, KeyType::Rsa),
            Err(SelectorFormatError::UnknownDirective('-'))
        );
    }
}

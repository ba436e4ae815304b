//! Names as the lookups take them (`202611._domainkey.example.com`, trailing dot optional) and as
//! DNS carries them.

use dkim_core::lookup::comparable_name;
use hickory_resolver::proto::rr::Name;

/// `name` as a fully qualified DNS name, or why it cannot be one. Key record names hold
/// underscores (`_domainkey`), so this follows DNS's rules (RFC 2181 11: any octets, labels of at
/// most 63, names of at most 255), not host names'.
pub(crate) fn query_name(name: &str) -> Result<Name, String> {
    let relative = comparable_name(name);
    if relative.is_empty() {
        return Err("it is empty".to_owned());
    }
    if relative
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("it holds white space or control characters".to_owned());
    }
    let mut parsed = Name::from_ascii(&relative).map_err(|e| e.to_string())?;
    // `..` loses one dot to the trailing-dot rule above and parses as the root, which no key or
    // record is named. Found by fuzzing (the tsig_key target).
    if parsed.is_root() {
        return Err("it is the root, not a name".to_owned());
    }
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// `name` as the lookups report names: without the trailing dot.
pub(crate) fn display_name(name: &Name) -> String {
    let text = name.to_ascii();
    match text.strip_suffix('.') {
        Some(relative) if !relative.is_empty() => relative.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_names_ignore_case_and_the_trailing_dot() {
        assert_eq!(
            comparable_name("S._DomainKey.Example.COM."),
            "s._domainkey.example.com"
        );
        assert_eq!(comparable_name("a.example"), "a.example");
    }

    #[test]
    fn query_names_are_fully_qualified_and_checked() {
        let name = query_name("202611._domainkey.example.com").unwrap();
        assert!(name.is_fqdn());
        assert_eq!(display_name(&name), "202611._domainkey.example.com");
        assert_eq!(
            query_name("example.com.").unwrap(),
            query_name("EXAMPLE.com").unwrap()
        );
        assert!(query_name("").is_err());
        assert!(query_name(".").is_err());
        assert!(query_name("a b.example").is_err());
        assert!(query_name(&format!("{}.example", "x".repeat(64))).is_err());
        assert!(query_name("a..example").is_err());
    }
}

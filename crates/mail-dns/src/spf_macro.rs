//! SPF macros (RFC 7208 7): `%{i}`, `%{d2}`, `%{ir}.%{v}._spf.%{d}` and the like.

use std::net::IpAddr;

/// One macro: its letter, how many right-hand parts to keep, reversal and delimiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Macro {
    letter: char,
    keep: Option<usize>,
    reverse: bool,
    delimiters: String,
}

/// Parses the inside of `%{...}`; `in_explanation` allows the letters only `exp=` may use.
pub(crate) fn parse_macro(body: &str, in_explanation: bool) -> Result<Macro, String> {
    let mut chars = body.chars();
    let letter = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| "slodiphv".contains(*c) || (in_explanation && "crt".contains(*c)))
        .ok_or_else(|| format!("%{{{body}}}: not a macro letter (s, l, o, d, i, p, h, v)"))?;
    let rest = chars.as_str();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let keep = match &rest[..digits_end] {
        "" => None,
        digits => Some(
            digits
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("%{{{body}}}: the number of parts must be at least 1"))?,
        ),
    };
    let rest = &rest[digits_end..];
    let (reverse, delimiters) = match rest.strip_prefix(['r', 'R']) {
        Some(after) => (true, after),
        None => (false, rest),
    };
    if let Some(bad) = delimiters.chars().find(|c| !".-+,/_=".contains(*c)) {
        return Err(format!("%{{{body}}}: {bad:?} is not a macro delimiter"));
    }
    Ok(Macro {
        letter,
        keep,
        reverse,
        delimiters: delimiters.to_owned(),
    })
}

/// What the macros stand for in one evaluation.
#[derive(Debug, Clone)]
pub(crate) struct MacroContext<'a> {
    /// The sender, `local@domain`.
    pub sender: &'a str,
    /// The current domain.
    pub domain: &'a str,
    /// The client's address.
    pub ip: IpAddr,
    /// The HELO name.
    pub helo: &'a str,
}

/// Expands the macros in `text` (which has passed the record's syntax check).
pub(crate) fn expand(text: &str, context: &MacroContext<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.chars().next() {
            Some('%') => out.push('%'),
            Some('_') => out.push(' '),
            Some('-') => out.push_str("%20"),
            Some('{') => {
                let end = after.find('}').ok_or("a macro %{ is not closed")?;
                let spec = parse_macro(&after[1..end], false)?;
                out.push_str(&expand_one(&spec, context));
                rest = &after[end + 1..];
                continue;
            }
            _ => return Err("% starts a macro".to_owned()),
        }
        rest = &after[1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn expand_one(spec: &Macro, context: &MacroContext<'_>) -> String {
    let (local, sender_domain) = context
        .sender
        .rsplit_once('@')
        .unwrap_or(("postmaster", context.sender));
    let value = match spec.letter {
        's' => context.sender.to_owned(),
        'l' => local.to_owned(),
        'o' => sender_domain.to_owned(),
        'd' => context.domain.to_owned(),
        'i' => match context.ip {
            IpAddr::V4(v4) => v4.to_string(),
            // RFC 7208 7.3: IPv6 addresses as dot-separated nibbles.
            IpAddr::V6(v6) => v6
                .octets()
                .iter()
                .flat_map(|byte| [byte >> 4, byte & 0xf])
                .map(|nibble| format!("{nibble:x}"))
                .collect::<Vec<_>>()
                .join("."),
        },
        // The validated domain name of the client: not worth its lookups here (RFC 7208 7.3
        // discourages it); "unknown" is what a receiver that did not validate uses.
        'p' => "unknown".to_owned(),
        'v' => match context.ip {
            IpAddr::V4(_) => "in-addr".to_owned(),
            IpAddr::V6(_) => "ip6".to_owned(),
        },
        'h' => context.helo.to_owned(),
        _ => String::new(),
    };
    let delimiters = if spec.delimiters.is_empty() {
        "."
    } else {
        spec.delimiters.as_str()
    };
    let mut parts: Vec<&str> = value.split(|c| delimiters.contains(c)).collect();
    if spec.reverse {
        parts.reverse();
    }
    if let Some(keep) = spec.keep
        && keep < parts.len()
    {
        parts.drain(..parts.len() - keep);
    }
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7208_examples() {
        // RFC 7208 7.4.
        let context = MacroContext {
            sender: "strong-bad@email.example.com",
            domain: "email.example.com",
            ip: "192.0.2.3".parse().unwrap(),
            helo: "mx.example.org",
        };
        for (text, expanded) in [
            ("%{s}", "strong-bad@email.example.com"),
            ("%{o}", "email.example.com"),
            ("%{d}", "email.example.com"),
            ("%{d4}", "email.example.com"),
            ("%{d3}", "email.example.com"),
            ("%{d2}", "example.com"),
            ("%{d1}", "com"),
            ("%{dr}", "com.example.email"),
            ("%{d2r}", "example.email"),
            ("%{l}", "strong-bad"),
            ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"),
            ("%{lr-}", "bad.strong"),
            ("%{l1r-}", "strong"),
            (
                "%{ir}.%{v}._spf.%{d2}",
                "3.2.0.192.in-addr._spf.example.com",
            ),
        ] {
            assert_eq!(expand(text, &context).unwrap(), expanded, "{text}");
        }
        let six = MacroContext {
            ip: "2001:db8::cb01".parse().unwrap(),
            ..context
        };
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", &six).unwrap(),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
        assert!(parse_macro("z", false).is_err());
        assert!(parse_macro("c", false).is_err());
        assert!(parse_macro("c", true).is_ok());
        assert!(parse_macro("d0", false).is_err());
    }
}

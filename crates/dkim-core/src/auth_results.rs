//! The Authentication-Results header field (RFC 8601) for DKIM verdicts, as a receiving MTA
//! would add it.

use crate::verify::SignatureVerdict;

/// The Authentication-Results field for a message's verdicts: one `dkim=` result per signature,
/// `dkim=none` when there is none (RFC 8601 2.7.1). CRLF between lines, no final CRLF.
pub fn authentication_results(authserv_id: &str, verdicts: &[SignatureVerdict]) -> String {
    let mut field = format!("Authentication-Results: {authserv_id}");
    if verdicts.is_empty() {
        field.push_str("; dkim=none");
        return field;
    }
    for verdict in verdicts {
        field.push_str(";\r\n\tdkim=");
        field.push_str(verdict.result.as_str());
        // The reason, and DNSSEC's word on the key as OpenDKIM gives it, as one comment.
        let comment: Vec<String> = verdict
            .reason
            .iter()
            .map(ToString::to_string)
            .chain(verdict.dnssec.map(|status| format!("DNSSEC {status}")))
            .collect();
        if !comment.is_empty() {
            // A comment may not hold unbalanced parentheses (RFC 5322 3.2.2).
            let comment = comment.join("; ").replace('(', "[").replace(')', "]");
            field.push_str(&format!(" ({comment})"));
        }
        let properties = [
            ("header.d", verdict.domain.as_deref()),
            ("header.i", verdict.identity.as_deref()),
            ("header.s", verdict.selector.as_deref()),
            ("header.a", verdict.algorithm.map(|a| a.as_str())),
            ("header.b", verdict.signature_prefix.as_deref()),
        ];
        for (name, value) in properties {
            if let Some(value) = value {
                field.push_str(&format!(" {name}={}", quote_if_needed(value)));
            }
        }
    }
    field
}

/// RFC 8601 property values are `value` (RFC 2045 token or quoted-string).
fn quote_if_needed(value: &str) -> String {
    let token = value
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"()<>,;:\\\"/[]?=".contains(&b));
    if token {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

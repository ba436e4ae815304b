//! The input of the header hash (RFC 6376 3.7): the signed header fields, chosen as `h=` says
//! and canonicalized, then the DKIM-Signature field itself without its `b=` value. Signer and
//! verifier build it with this one function, so they cannot disagree.

use crate::canonical::{Algorithm, canonicalize_header};
use crate::message::HeaderField;

/// Picks the fields `h=` names (RFC 6376 5.4.2): for each name, the last instance not yet used,
/// going up from the bottom. A name with no instance left contributes nothing, which is how
/// listing a field once more than it occurs ("oversigning") forbids adding another.
pub fn select_fields<'a>(
    fields: &'a [HeaderField],
    signed_headers: &[String],
) -> Vec<&'a HeaderField> {
    let mut used = vec![false; fields.len()];
    let mut selected = Vec::with_capacity(signed_headers.len());
    for name in signed_headers {
        let found = fields
            .iter()
            .enumerate()
            .rev()
            .find(|(i, field)| !used[*i] && field.is_named(name));
        if let Some((i, field)) = found {
            used[i] = true;
            selected.push(field);
        }
    }
    selected
}

/// The bytes that are hashed and signed: each selected field canonicalized with a CRLF, then
/// the DKIM-Signature field (with `b=` empty) canonicalized without one.
pub fn header_hash_input(
    algorithm: Algorithm,
    fields: &[HeaderField],
    signed_headers: &[String],
    signature_without_b: &HeaderField,
) -> Vec<u8> {
    let mut data = Vec::new();
    for field in select_fields(fields, signed_headers) {
        canonicalize_header(algorithm, field, &mut data);
        data.extend_from_slice(b"\r\n");
    }
    canonicalize_header(algorithm, signature_without_b, &mut data);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<HeaderField> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| HeaderField::new(format!("{name}: {i}")).unwrap())
            .collect()
    }

    #[test]
    fn bottom_up_selection_and_oversigning() {
        let fields = fields(&["Received", "From", "To", "Subject", "from"]);
        let names: Vec<String> = ["from", "from", "from", "subject", "x-missing"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let picked: Vec<&[u8]> = select_fields(&fields, &names)
            .iter()
            .map(|f| f.raw())
            .collect();
        assert_eq!(picked, [&b"from: 4"[..], b"From: 1", b"Subject: 3"]);
    }
}

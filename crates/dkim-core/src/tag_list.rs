//! The `tag=value; tag=value` syntax that key records and DKIM-Signature fields share
//! (RFC 6376 3.2).
//!
//! One parser serves both, so both refuse the same things: a tag written twice makes the whole
//! list invalid, a tag without `=` is an error, and unknown tags are kept for the caller to ignore.

/// One `tag=value` pair, as slices of the parsed text. The value has the surrounding folding
/// white space removed; white space inside it is kept (a caller decoding base64 removes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'a> {
    /// The tag name, case kept (RFC 6376 3.2: tag names are case-sensitive).
    pub name: &'a str,
    /// The value, trimmed of surrounding white space.
    pub value: &'a str,
    /// Where the value stands in the parsed text, surrounding white space included: everything
    /// between the `=` and the next `;` (or the end). RFC 6376 3.7 deletes exactly this for `b=`.
    pub raw_value: std::ops::Range<usize>,
}

/// Why a tag list could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagListError {
    /// A tag-spec with no `=`.
    #[error("\"{0}\" is not of the form tag=value")]
    MissingEquals(String),
    /// A tag name that is not ALPHA *(ALPHA / DIGIT / "_").
    #[error("\"{0}\" is not a valid tag name")]
    BadTagName(String),
    /// The same tag twice (RFC 6376 3.2: the whole list is then invalid).
    #[error("tag {0}= appears more than once")]
    DuplicateTag(String),
    /// A control character in a value.
    #[error("tag {tag}= contains a control character")]
    ControlCharacter {
        /// The tag whose value holds it.
        tag: String,
    },
}

/// Folding white space as RFC 6376 3.2 allows it around names, `=` and values.
fn is_fws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_tag_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a tag list into its tags, in order.
///
/// Empty tag-specs (`a=1;;b=2`, or the trailing `;` the grammar allows) are skipped, as
/// receivers in the wild tolerate them.
pub fn parse_tag_list(input: &str) -> Result<Vec<Tag<'_>>, TagListError> {
    let mut tags: Vec<Tag<'_>> = Vec::new();
    let mut spec_start = 0;
    for spec in input.split(';') {
        let start = spec_start;
        spec_start += spec.len() + 1;
        if spec.chars().all(is_fws) {
            continue;
        }
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| TagListError::MissingEquals(spec.trim_matches(is_fws).to_owned()))?;
        let value_start = start + name.len() + 1;
        let raw_value = value_start..value_start + value.len();
        let name = name.trim_matches(is_fws);
        let value = value.trim_matches(is_fws);
        if !is_tag_name(name) {
            return Err(TagListError::BadTagName(name.to_owned()));
        }
        if value.chars().any(|c| c.is_control() && !is_fws(c)) {
            return Err(TagListError::ControlCharacter {
                tag: name.to_owned(),
            });
        }
        if tags.iter().any(|t| t.name == name) {
            return Err(TagListError::DuplicateTag(name.to_owned()));
        }
        tags.push(Tag {
            name,
            value,
            raw_value,
        });
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(&str, &str)> {
        parse_tag_list(input)
            .unwrap()
            .into_iter()
            .map(|t| (t.name, t.value))
            .collect()
    }

    #[test]
    fn trims_folding_white_space_and_keeps_inner_space() {
        assert_eq!(
            pairs(" v = DKIM1 ;\r\n\tk=rsa; p=AB CD\r\n EF ;"),
            [("v", "DKIM1"), ("k", "rsa"), ("p", "AB CD\r\n EF")]
        );
    }

    #[test]
    fn empty_values_and_empty_specs() {
        assert_eq!(pairs("p=; ;t=y;;"), [("p", ""), ("t", "y")]);
        assert_eq!(pairs(""), []);
    }

    #[test]
    fn refuses_duplicates_missing_equals_and_bad_names() {
        assert_eq!(
            parse_tag_list("k=rsa; k=ed25519"),
            Err(TagListError::DuplicateTag("k".into()))
        );
        assert_eq!(
            parse_tag_list("v=DKIM1; oops"),
            Err(TagListError::MissingEquals("oops".into()))
        );
        assert_eq!(
            parse_tag_list("1x=2"),
            Err(TagListError::BadTagName("1x".into()))
        );
        assert_eq!(
            parse_tag_list("p=a\u{0}b"),
            Err(TagListError::ControlCharacter { tag: "p".into() })
        );
    }

    #[test]
    fn raw_value_spans_include_surrounding_space() {
        let input = "a=1; b = xy z ;c=";
        let tags = parse_tag_list(input).unwrap();
        assert_eq!(&input[tags[1].raw_value.clone()], " xy z ");
        assert_eq!(&input[tags[2].raw_value.clone()], "");
        assert_eq!(tags[2].raw_value, input.len()..input.len());
    }

    #[test]
    fn tag_names_are_case_sensitive() {
        assert_eq!(pairs("a=1; A=2"), [("a", "1"), ("A", "2")]);
    }
}

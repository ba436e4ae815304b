//! The header section of a message file, read once and bounded; the body is left in the reader
//! for streaming, so memory does not grow with the message.
//!
//! Message files come with CRLF line ends (as on the wire) or LF (as in a Maildir or an mbox);
//! DKIM works on CRLF (RFC 6376 3.4), so each line of a field is stored with CRLF whatever the
//! file had, and the file's own style is remembered for writing signatures back in the same style.

use std::io::{self, BufRead};

/// The most header section bytes read before giving up: real mail stays far below, and a
/// sender cannot make a verifier hold an unbounded header in memory.
pub const MAX_HEADER_BYTES: usize = 4 << 20;
/// The most header fields read before giving up.
pub const MAX_HEADER_FIELDS: usize = 10_000;

/// Why a message's header section could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Reading failed.
    #[error("cannot read the message: {0}")]
    Io(#[from] io::Error),
    /// The header section is over [`MAX_HEADER_BYTES`].
    #[error("the header section is larger than {} MiB", MAX_HEADER_BYTES >> 20)]
    HeaderTooLarge,
    /// More than [`MAX_HEADER_FIELDS`] fields.
    #[error("the message has more than {MAX_HEADER_FIELDS} header fields")]
    TooManyFields,
    /// A line in the header section that is neither a field nor a continuation.
    #[error("header line {line} is not a header field (no colon)")]
    NotAField {
        /// 1-based line number.
        line: usize,
    },
    /// The first line is an mbox separator: the file is a mailbox, not one message.
    #[error(
        "line 1 is an mbox \"From \" separator, not a header field: this is a mailbox, not a message"
    )]
    MboxSeparator,
    /// A continuation line before any field.
    #[error("header line 1 starts with white space, so it continues a field that is not there")]
    LeadingContinuation,
    /// A NUL byte in the header section.
    #[error("header line {line} contains a NUL byte")]
    NulInHeader {
        /// 1-based line number.
        line: usize,
    },
    /// A field name with characters RFC 5322 does not allow.
    #[error("header line {line} has an invalid field name")]
    BadFieldName {
        /// 1-based line number.
        line: usize,
    },
    /// The file is empty.
    #[error("the message is empty")]
    Empty,
}

/// The line-end style of a message file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n`, as on the wire.
    CrLf,
    /// `\n`, as Maildir and mbox files usually store mail.
    Lf,
}

impl LineEnding {
    /// The line end itself.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
        }
    }

    /// `text` (written with CRLF) in this style.
    pub fn apply(self, text: &str) -> String {
        match self {
            LineEnding::CrLf => text.to_owned(),
            LineEnding::Lf => text.replace("\r\n", "\n"),
        }
    }
}

/// One header field, as it stands in the message, with CRLF line ends and without the final CRLF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    raw: Vec<u8>,
    name_len: usize,
}

impl HeaderField {
    /// Makes a field from its text (with CRLF line ends, without the final CRLF).
    pub fn new(raw: impl Into<Vec<u8>>) -> Option<Self> {
        let raw = raw.into();
        let colon = memchr::memchr(b':', &raw)?;
        let name_len = raw[..colon]
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(0, |last| last + 1);
        let name = &raw[..name_len];
        let valid = !name.is_empty() && name.iter().all(|b| (33..=126).contains(b) && *b != b':');
        valid.then_some(HeaderField { raw, name_len })
    }

    /// The field name as written (obsolete white space before the colon removed).
    pub fn name(&self) -> &[u8] {
        &self.raw[..self.name_len]
    }

    /// Whether the field has this name (field names are case-insensitive, RFC 5322 1.2.2).
    pub fn is_named(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name.as_bytes())
    }

    /// Everything after the colon, unchanged.
    pub fn value(&self) -> &[u8] {
        let colon = self.name_len
            + memchr::memchr(b':', &self.raw[self.name_len..]).expect("a field has a colon");
        &self.raw[colon + 1..]
    }

    /// The whole field, with CRLF line ends, without the final CRLF.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// A message's header section.
#[derive(Debug, Clone)]
pub struct MessageHeader {
    /// The fields, top to bottom.
    pub fields: Vec<HeaderField>,
    /// The file's line-end style (that of its first line).
    pub line_ending: LineEnding,
    /// How many bytes of the file the header section and its blank line took.
    pub byte_len: u64,
}

impl MessageHeader {
    /// The fields with this name, top to bottom.
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderField> {
        self.fields.iter().filter(move |f| f.is_named(name))
    }
}

/// The address of the message's (first) From field: the addr-spec inside angle brackets, or the
/// bare address, with comments and folding removed (RFC 5322 3.4). This is the address opendkim
/// looks up in its SigningTable. None when there is no From field or no address in it.
pub fn sender_address(header: &MessageHeader) -> Option<String> {
    let field = header.fields_named("from").next()?;
    let value = String::from_utf8_lossy(field.value());
    let mut text = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                text.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            '\r' | '\n' => {}
            c if depth == 0 => text.push(c),
            _ => {}
        }
    }
    let address = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text.split(',').next().unwrap_or_default(),
    };
    let address = address.trim();
    (address.contains('@') && !address.contains(char::is_whitespace)).then(|| address.to_owned())
}

/// Reads the header section, leaving `reader` at the first byte of the body. A message with no
/// blank line ends in its header section, which RFC 5322 3.5 allows (the body is optional): its
/// body is empty.
pub fn read_header(reader: &mut impl BufRead) -> Result<MessageHeader, MessageError> {
    let mut fields: Vec<HeaderField> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut line = Vec::new();
    let mut line_ending = None;
    let mut byte_len: u64 = 0;
    let mut line_number = 0;
    let mut field_start_line = 0;
    loop {
        line.clear();
        // Bounded per line too: a single 1 GB "line" must not be read into memory.
        let read = io::Read::take(&mut *reader, (MAX_HEADER_BYTES + 1) as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            if line_number == 0 {
                return Err(MessageError::Empty);
            }
            break;
        }
        line_number += 1;
        byte_len += read as u64;
        if byte_len > MAX_HEADER_BYTES as u64 {
            return Err(MessageError::HeaderTooLarge);
        }
        let content = strip_line_end(&line);
        line_ending.get_or_insert(if line.ends_with(b"\r\n") || !line.ends_with(b"\n") {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        });
        if content.is_empty() {
            break;
        }
        if memchr::memchr(0, content).is_some() {
            return Err(MessageError::NulInHeader { line: line_number });
        }
        if matches!(content[0], b' ' | b'\t') {
            if current.is_empty() {
                return Err(MessageError::LeadingContinuation);
            }
            current.extend_from_slice(b"\r\n");
            current.extend_from_slice(content);
            continue;
        }
        finish_field(&mut current, &mut fields, field_start_line)?;
        field_start_line = line_number;
        if line_number == 1 && content.starts_with(b"From ") {
            return Err(MessageError::MboxSeparator);
        }
        if memchr::memchr(b':', content).is_none() {
            return Err(MessageError::NotAField { line: line_number });
        }
        current.extend_from_slice(content);
    }
    finish_field(&mut current, &mut fields, field_start_line)?;
    Ok(MessageHeader {
        fields,
        line_ending: line_ending.unwrap_or(LineEnding::CrLf),
        byte_len,
    })
}

/// Moves the field being collected (which started on line `start_line`) into `fields`.
fn finish_field(
    current: &mut Vec<u8>,
    fields: &mut Vec<HeaderField>,
    start_line: usize,
) -> Result<(), MessageError> {
    if current.is_empty() {
        return Ok(());
    }
    if fields.len() == MAX_HEADER_FIELDS {
        return Err(MessageError::TooManyFields);
    }
    let raw = std::mem::take(current);
    let field = HeaderField::new(raw).ok_or(MessageError::BadFieldName { line: start_line })?;
    fields.push(field);
    Ok(())
}

/// A line without its `\n` or `\r\n`.
fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &[u8]) -> Result<(MessageHeader, Vec<u8>), MessageError> {
        let mut reader = text;
        let header = read_header(&mut reader)?;
        Ok((header, reader.to_vec()))
    }

    #[test]
    fn reads_folded_fields_in_either_line_ending_style() {
        for (text, style) in [
            (
                &b"From: a@x.example\r\nSubject: one\r\n two\r\n\r\nbody\r\n"[..],
                LineEnding::CrLf,
            ),
            (
                b"From: a@x.example\nSubject: one\n two\n\nbody\n",
                LineEnding::Lf,
            ),
        ] {
            let (header, body) = header(text).unwrap();
            assert_eq!(header.line_ending, style);
            assert_eq!(header.fields.len(), 2);
            assert_eq!(header.fields[1].raw(), b"Subject: one\r\n two");
            assert_eq!(header.fields[1].name(), b"Subject");
            assert_eq!(header.fields[1].value(), b" one\r\n two");
            assert!(body.starts_with(b"body"));
            assert_eq!(header.byte_len as usize, text.len() - body.len());
        }
    }

    #[test]
    fn obsolete_space_before_colon_and_no_body() {
        let (header, body) = header(b"Subject : hi\r\nFrom: a@b.example").unwrap();
        assert!(header.fields[0].is_named("subject"));
        assert_eq!(header.fields[1].raw(), b"From: a@b.example");
        assert!(body.is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_header_section() {
        assert!(matches!(header(b""), Err(MessageError::Empty)));
        assert!(matches!(
            header(b"From: a\r\nno colon here\r\n\r\n"),
            Err(MessageError::NotAField { line: 2 })
        ));
        assert!(matches!(
            header(b"From someone Sat Jan  1 00:00:00 2000\nFrom: a\n\n"),
            Err(MessageError::MboxSeparator)
        ));
        assert!(matches!(
            header(b" continued\r\nFrom: a\r\n\r\n"),
            Err(MessageError::LeadingContinuation)
        ));
        assert!(matches!(
            header(b"From: a\0b\r\n\r\n"),
            Err(MessageError::NulInHeader { line: 1 })
        ));
        assert!(matches!(
            header(b"Fr om: a\r\n\r\n"),
            Err(MessageError::BadFieldName { line: 1 })
        ));
    }

    #[test]
    fn sender_address_as_opendkim_looks_it_up() {
        for (from, address) in [
            (
                "From: Joe SixPack <joe@example.com>",
                Some("joe@example.com"),
            ),
            ("From: joe@example.com", Some("joe@example.com")),
            (
                "From: \"Doe, Jane (Ops)\" <jane@example.com> (work)",
                Some("jane@example.com"),
            ),
            (
                "From: joe@example.com (Joe), ann@example.com",
                Some("joe@example.com"),
            ),
            (
                "From:\r\n Folded Name\r\n <f@example.org>",
                Some("f@example.org"),
            ),
            ("From: undisclosed-recipients:;", None),
        ] {
            let (header, _) = header(format!("{from}\r\n\r\n").as_bytes()).unwrap();
            assert_eq!(sender_address(&header).as_deref(), address, "{from}");
        }
    }

    #[test]
    fn bounds_size_and_field_count() {
        let mut huge = b"X-Big: ".to_vec();
        huge.resize(MAX_HEADER_BYTES + 10, b'a');
        assert!(matches!(header(&huge), Err(MessageError::HeaderTooLarge)));
        let many = "X: y\r\n".repeat(MAX_HEADER_FIELDS + 1);
        assert!(matches!(
            header(many.as_bytes()),
            Err(MessageError::TooManyFields)
        ));
    }
}

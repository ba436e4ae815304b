//! Messages out of an mbox mailbox, one at a time.
//!
//! Each message starts with a `From ` line (the separator, not part of the message). In the
//! body, lines that started with `From ` were escaped with `>`; this reader undoes one level of
//! `>` on `>From `, `>>From `... lines (mboxrd), which gives back the message as it was signed
//! for mboxrd files. (mboxo files escape without a way back: such messages may fail to verify.)

use std::io::{self, BufRead};

/// The most bytes one message may have here: each is held in memory while it is verified.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Reads messages from an mbox.
pub struct MboxReader<R> {
    reader: R,
    line: Vec<u8>,
    started: bool,
}

/// A message from an mbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// Its position, from 1.
    pub number: usize,
    /// The line of its `From ` separator, from 1.
    pub line: usize,
    /// The message, unescaped.
    pub bytes: Vec<u8>,
}

impl<R: BufRead> MboxReader<R> {
    /// A reader of the mailbox `reader` holds.
    pub fn new(reader: R) -> Self {
        MboxReader {
            reader,
            line: Vec::new(),
            started: false,
        }
    }

    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        Ok(self.reader.read_until(b'\n', &mut self.line)? > 0)
    }
}

fn is_separator(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

/// `>From `, `>>From `...: an escaped body line.
fn is_escaped_from(line: &[u8]) -> bool {
    let unquoted = line.iter().position(|b| *b != b'>').unwrap_or(line.len());
    unquoted > 0 && line[unquoted..].starts_with(b"From ")
}

/// An iterator of messages, with their separators' positions.
pub struct Messages<R> {
    mbox: MboxReader<R>,
    number: usize,
    line_number: usize,
}

impl<R: BufRead> MboxReader<R> {
    /// The messages, in order.
    pub fn messages(self) -> Messages<R> {
        Messages {
            mbox: self,
            number: 0,
            line_number: 0,
        }
    }
}

impl<R: BufRead> Iterator for Messages<R> {
    type Item = io::Result<MboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = (|| {
            if !self.mbox.started {
                // Skip anything before the first separator (there should be nothing).
                loop {
                    if !self.mbox.read_line()? {
                        return Ok(None);
                    }
                    self.line_number += 1;
                    if is_separator(&self.mbox.line) {
                        break;
                    }
                }
                self.mbox.started = true;
            } else if self.mbox.line.is_empty() {
                return Ok(None);
            }
            let separator_line = self.line_number;
            let mut bytes = Vec::new();
            loop {
                if !self.mbox.read_line()? {
                    self.mbox.line.clear();
                    break;
                }
                self.line_number += 1;
                if is_separator(&self.mbox.line) {
                    break;
                }
                let line = if is_escaped_from(&self.mbox.line) {
                    &self.mbox.line[1..]
                } else {
                    &self.mbox.line[..]
                };
                if bytes.len() + line.len() > MAX_MESSAGE_BYTES {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "message {} is larger than {} MiB",
                            self.number + 1,
                            MAX_MESSAGE_BYTES >> 20
                        ),
                    ));
                }
                bytes.extend_from_slice(line);
            }
            // The blank line before the next separator belongs to the mbox format, not to the
            // message (RFC 4155 2).
            if bytes.ends_with(b"\n\n") || bytes.ends_with(b"\r\n\r\n") {
                let cut = if bytes.ends_with(b"\r\n") { 2 } else { 1 };
                bytes.truncate(bytes.len() - cut);
            }
            self.number += 1;
            Ok(Some(MboxMessage {
                number: self.number,
                line: separator_line,
                bytes,
            }))
        })();
        result.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_messages_and_unescapes_from_lines() {
        let mbox = b"From a@example.com Sat Jan  1 00:00:00 2000\nFrom: a\n\nhello\n>From here\n>>From there\n\nFrom b@example.com Sat Jan  1 00:00:01 2000\nFrom: b\n\nbye\n";
        let messages: Vec<_> = MboxReader::new(&mbox[..])
            .messages()
            .map(Result::unwrap)
            .collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].bytes,
            b"From: a\n\nhello\nFrom here\n>From there\n"
        );
        assert_eq!((messages[0].number, messages[0].line), (1, 1));
        assert_eq!(messages[1].bytes, b"From: b\n\nbye\n");
        assert_eq!((messages[1].number, messages[1].line), (2, 8));
    }

    #[test]
    fn an_empty_mailbox_has_no_messages() {
        assert_eq!(MboxReader::new(&b""[..]).messages().count(), 0);
    }
}

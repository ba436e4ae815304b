//! An mbox mailbox (verify-file --mbox): strangers' messages, many to a file.
//!
//! Asserts: messages are numbered from 1 without gaps, their separator lines come in order, none
//! is over the per-message bound, together they are no larger than the mailbox; and each one's
//! header section reads without panic.

#![no_main]

use std::io::Cursor;

use dkim_core::mbox::{MAX_MESSAGE_BYTES, MboxReader};
use dkim_core::message::read_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut total = 0;
    let mut last_line = 0;
    for (index, message) in MboxReader::new(Cursor::new(data)).messages().enumerate() {
        let Ok(message) = message else {
            break;
        };
        assert_eq!(message.number, index + 1);
        assert!(message.line > last_line, "separators in order");
        last_line = message.line;
        assert!(message.bytes.len() <= MAX_MESSAGE_BYTES);
        total += message.bytes.len();
        assert!(total <= data.len());
        let _ = read_header(&mut Cursor::new(&message.bytes));
    }
});

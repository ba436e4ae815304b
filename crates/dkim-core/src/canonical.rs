//! Canonicalization (RFC 6376 3.4): the simple and relaxed forms of header fields and of the
//! body, and the body hash computed from a stream.
//!
//! The body is canonicalized as it streams past, holding only a few bytes of state (a pending
//! CR, a pending run of white space, a count of blank lines), so a 1 GB body, or a 1 GB body
//! with no line break at all, hashes in constant memory. Both `\r\n` and a bare `\n` end a line,
//! so LF-only files hash as their CRLF form.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;

use crate::message::HeaderField;

/// One canonicalization algorithm (RFC 6376 3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Tolerates almost no change.
    Simple,
    /// Tolerates white space changes and header refolding.
    Relaxed,
}

impl Algorithm {
    /// The name `c=` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Simple => "simple",
            Algorithm::Relaxed => "relaxed",
        }
    }
}

/// The `c=` pair: header and body algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Canonicalization {
    /// For header fields.
    pub header: Algorithm,
    /// For the body.
    pub body: Algorithm,
}

impl Default for Canonicalization {
    /// `simple/simple`, what an absent `c=` means (RFC 6376 3.5).
    fn default() -> Self {
        Canonicalization {
            header: Algorithm::Simple,
            body: Algorithm::Simple,
        }
    }
}

/// A `c=` value that is not `simple` or `relaxed`, alone or as a pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a canonicalization (simple or relaxed, or header/body such as relaxed/simple)"
)]
pub struct BadCanonicalization(pub String);

impl FromStr for Canonicalization {
    type Err = BadCanonicalization;

    /// Parses `header/body`; a single name is the header algorithm with a simple body
    /// (RFC 6376 3.5).
    fn from_str(s: &str) -> Result<Self, BadCanonicalization> {
        let parse = |name: &str| match name.trim().to_ascii_lowercase().as_str() {
            "simple" => Ok(Algorithm::Simple),
            "relaxed" => Ok(Algorithm::Relaxed),
            _ => Err(BadCanonicalization(s.to_owned())),
        };
        let (header, body) = match s.split_once('/') {
            Some((header, body)) => (parse(header)?, parse(body)?),
            None => (parse(s)?, Algorithm::Simple),
        };
        Ok(Canonicalization { header, body })
    }
}

impl fmt::Display for Canonicalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.header.as_str(), self.body.as_str())
    }
}

fn is_wsp(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Bytes looked at in one go by [`first_flagged_pair`]: the compiler makes the test of a
/// chunk a few vector operations.
const SCAN_CHUNK: usize = 32;

/// The first `at` for which `flagged(input[at], input[at + 1])` holds, if any.
#[inline(always)]
fn first_flagged_pair(input: &[u8], flagged: impl Fn(u8, u8) -> bool + Copy) -> Option<usize> {
    let pairs = input.len().saturating_sub(1);
    let (byte_chunks, _) = input[..pairs].as_chunks::<SCAN_CHUNK>();
    let (next_chunks, _) = input[pairs.min(1)..].as_chunks::<SCAN_CHUNK>();
    for (chunk, (bytes, nexts)) in byte_chunks.iter().zip(next_chunks).enumerate() {
        // Without a short-circuit (`|`, not `||`), so that the test is one vector operation.
        let any = bytes
            .iter()
            .zip(nexts)
            .fold(false, |any, (&byte, &next)| any | flagged(byte, next));
        if any {
            return Some(chunk * SCAN_CHUNK + first_flagged_in_chunk(bytes, nexts, flagged));
        }
    }
    (byte_chunks.len() * SCAN_CHUNK..pairs).find(|&at| flagged(input[at], input[at + 1]))
}

/// Where in a chunk with a flagged pair the first one is. Kept out of line: inlined, it made
/// the compiler vectorize the test of whole chunks worse (simple mode lost a tenth of its
/// speed).
#[inline(never)]
fn first_flagged_in_chunk(
    bytes: &[u8; SCAN_CHUNK],
    nexts: &[u8; SCAN_CHUNK],
    flagged: impl Fn(u8, u8) -> bool,
) -> usize {
    let flags: [bool; SCAN_CHUNK] = std::array::from_fn(|i| flagged(bytes[i], nexts[i]));
    flags.iter().position(|&flag| flag).unwrap_or(0)
}

/// Whether `next` is a bare LF, the one line end simple canonicalization changes (to CRLF).
#[inline(always)]
fn ends_with_bare_lf(byte: u8, next: u8) -> bool {
    (next == b'\n') & (byte != b'\r')
}

/// Whether relaxed canonicalization (RFC 6376 3.4.4) may change `byte`, or the bare LF `next`.
/// White space changes unless it is a single SP before content: a HTAB becomes SP, and a SP
/// before more white space, a line end or a CR may be part of a longer run or trailing. Every
/// byte up to SP counts as possibly white space or a line end here, which costs only a detour
/// through the exact rules for a SP before a control character.
#[inline(always)]
fn relaxed_changes(byte: u8, next: u8) -> bool {
    (byte == b'\t') | ((byte == b' ') & (next <= b' ')) | ends_with_bare_lf(byte, next)
}

/// Appends the canonical form of a header field, without a final CRLF (RFC 6376 3.4.1, 3.4.2).
pub fn canonicalize_header(algorithm: Algorithm, field: &HeaderField, out: &mut Vec<u8>) {
    match algorithm {
        Algorithm::Simple => out.extend_from_slice(field.raw()),
        Algorithm::Relaxed => {
            // Lower-case the name; unfold; runs of WSP become one SP; no WSP around the colon
            // or at the end of the value.
            out.extend(field.name().iter().map(u8::to_ascii_lowercase));
            out.push(b':');
            let mut pending_space = false;
            let mut started = false;
            for &byte in field.value() {
                match byte {
                    b'\r' | b'\n' => {}
                    byte if is_wsp(byte) => pending_space = started,
                    byte => {
                        if pending_space {
                            out.push(b' ');
                            pending_space = false;
                        }
                        out.push(byte);
                        started = true;
                    }
                }
            }
        }
    }
}

/// CRLFs to copy from when emitting many held-back blank lines at once.
const CRLFS: &[u8; 512] = &{
    let mut crlfs = [0u8; 512];
    let mut i = 0;
    while i < 512 {
        crlfs[i] = if i % 2 == 0 { b'\r' } else { b'\n' };
        i += 1;
    }
    crlfs
};

/// Canonicalizes a body as it streams past (RFC 6376 3.4.3, 3.4.4).
///
/// Most of a body is left as it is: canonicalization changes only bare LFs (which become CRLF)
/// and trailing blank lines, and in relaxed mode white space runs other than a single SP
/// between other bytes. So `update` finds the longest stretch that needs no change (one pass
/// the compiler vectorizes) and hands it over whole, to be hashed where it lies; only the
/// bytes around a change go through the rules a byte or a white space run at a time.
#[derive(Debug, Clone)]
pub struct BodyCanonicalizer {
    algorithm: Algorithm,
    /// A CR whose meaning (line end or content) the next byte decides.
    pending_cr: bool,
    /// White space seen in the current line, not yet written (relaxed only).
    pending_space: bool,
    /// Whether the current line has content written.
    line_has_content: bool,
    /// Blank lines held back: written only if content follows, since trailing blank lines are
    /// removed.
    pending_blank_lines: u64,
    /// Whether anything at all has been written.
    wrote_anything: bool,
}

impl BodyCanonicalizer {
    /// A canonicalizer for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        BodyCanonicalizer {
            algorithm,
            pending_cr: false,
            pending_space: false,
            line_has_content: false,
            pending_blank_lines: 0,
            wrote_anything: false,
        }
    }

    /// Canonicalizes the next piece of the body, passing canonical bytes to `out`.
    pub fn update(&mut self, mut input: &[u8], out: &mut impl FnMut(&[u8])) {
        while !input.is_empty() {
            // With no CR or white space held back, whether the next bytes change depends on
            // them alone (blank lines at the end of a stretch are held back by `pass_through`).
            if !self.pending_cr && !self.pending_space {
                let unchanged = self.unchanged_prefix_len(input);
                if unchanged > 0 {
                    self.pass_through(&input[..unchanged], out);
                    input = &input[unchanged..];
                    continue;
                }
            }
            let used = self.step(input, out);
            input = &input[used..];
        }
    }

    /// How many bytes at the start of `input` canonicalization leaves as they are, when no CR
    /// or white space is held back: all up to the first byte that may change, less a last CR
    /// (whether it ends a line, possibly a blank one, is for the next byte to say).
    fn unchanged_prefix_len(&self, input: &[u8]) -> usize {
        // No CR is held back, so a LF at the start is a bare one.
        if input.first() == Some(&b'\n') {
            return 0;
        }
        let mut len = match self.algorithm {
            // RFC 6376 3.4.3: only line ends change, and a bare LF is the only line end that
            // is not already CRLF.
            Algorithm::Simple => match first_flagged_pair(input, ends_with_bare_lf) {
                Some(at) => at + 1,
                None => input.len(),
            },
            Algorithm::Relaxed => match first_flagged_pair(input, relaxed_changes) {
                // The pair is flagged for its white space, or else for a bare LF after it.
                Some(at) if is_wsp(input[at]) => at,
                Some(at) => at + 1,
                // White space at the end may run on into the next piece, or end the line.
                None if input.last().is_some_and(|&byte| is_wsp(byte)) => input.len() - 1,
                None => input.len(),
            },
        };
        if len > 0 && input[len - 1] == b'\r' {
            len -= 1;
        }
        len
    }

    /// Writes bytes that canonicalization leaves as they are, except the blank lines at their
    /// end, which are held back (RFC 6376 3.4.3: empty lines at the end of the body are
    /// removed). Every line end in `unchanged` is a CRLF, so a blank line is a CRLF at the
    /// start of a line.
    fn pass_through(&mut self, unchanged: &[u8], out: &mut impl FnMut(&[u8])) {
        let mut content_end = unchanged.len();
        while let Some(line_start) = content_end.checked_sub(2) {
            let is_blank_line = &unchanged[line_start..content_end] == b"\r\n"
                && match line_start.checked_sub(1) {
                    Some(before) => unchanged[before] == b'\n',
                    None => !self.line_has_content,
                };
            if !is_blank_line {
                break;
            }
            content_end = line_start;
        }
        if content_end > 0 {
            self.write_content(&unchanged[..content_end], out);
            self.line_has_content = unchanged[content_end - 1] != b'\n';
        }
        self.pending_blank_lines += ((unchanged.len() - content_end) / 2) as u64;
    }

    /// Applies the rules to the byte at the start of `input`, which may change or whose
    /// meaning the bytes after it decide, and returns how many bytes it used (at least one).
    fn step(&mut self, input: &[u8], out: &mut impl FnMut(&[u8])) -> usize {
        match input[0] {
            b'\n' => {
                self.end_line(out);
                1
            }
            b'\r' => {
                if self.pending_cr {
                    // The previous CR was not followed by LF: it is content.
                    self.write_content(b"", out);
                }
                self.pending_cr = true;
                1
            }
            byte if is_wsp(byte) && self.algorithm == Algorithm::Relaxed => {
                // RFC 6376 3.4.4: the run becomes one SP if content follows it on the line,
                // and goes if the line ends. A pending CR before it is content.
                if self.pending_cr {
                    self.write_content(b"", out);
                }
                let run = input
                    .iter()
                    .position(|&byte| !is_wsp(byte))
                    .unwrap_or(input.len());
                match input.get(run) {
                    Some(&next) if next != b'\r' && next != b'\n' => {
                        // Content follows: the SP now (one, even if the run began in the
                        // previous piece), and the content is looked at afresh.
                        self.pending_space = false;
                        self.write_content(b" ", out);
                    }
                    // A line end, a CR that may be one, or the end of the piece: not yet known.
                    _ => self.pending_space = true,
                }
                run
            }
            _ => {
                self.write_content(&input[..1], out);
                1
            }
        }
    }

    /// Writes content, preceded by whatever was held back that the content proves belongs in
    /// the body: blank lines, a lone CR, a space standing for a run of white space.
    fn write_content(&mut self, content: &[u8], out: &mut impl FnMut(&[u8])) {
        if self.pending_blank_lines > 0 {
            let mut left = self.pending_blank_lines * 2;
            while left > 0 {
                let n = left.min(CRLFS.len() as u64) as usize;
                out(&CRLFS[..n]);
                left -= n as u64;
            }
            self.pending_blank_lines = 0;
        }
        if self.pending_cr {
            if self.pending_space {
                out(b" ");
                self.pending_space = false;
            }
            out(b"\r");
            self.pending_cr = false;
        }
        if self.pending_space && !content.is_empty() {
            out(b" ");
            self.pending_space = false;
        }
        if !content.is_empty() {
            out(content);
        }
        self.line_has_content = true;
        self.wrote_anything = true;
    }

    fn end_line(&mut self, out: &mut impl FnMut(&[u8])) {
        // A CR right before the LF is part of the line end; white space there is trailing.
        self.pending_cr = false;
        self.pending_space = false;
        if self.line_has_content {
            out(b"\r\n");
            self.line_has_content = false;
        } else {
            self.pending_blank_lines += 1;
        }
    }

    /// Ends the body: a last line without a line end gets a CRLF; an empty body is a single
    /// CRLF in simple and nothing in relaxed (RFC 6376 3.4.3, 3.4.4).
    pub fn finish(mut self, out: &mut impl FnMut(&[u8])) {
        if self.pending_cr {
            self.write_content(b"", out);
        }
        if self.line_has_content {
            out(b"\r\n");
        }
        if !self.wrote_anything && self.algorithm == Algorithm::Simple {
            out(b"\r\n");
        }
    }
}

/// The result of hashing a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyHash {
    /// SHA-256 of the canonical body, cut at the length limit if there is one.
    pub digest: Vec<u8>,
    /// How many canonical bytes were hashed.
    pub hashed_len: u64,
    /// The length of the whole canonical body (for checking and writing `l=`).
    pub canonical_len: u64,
}

/// Canonical bytes shorter than this are gathered in a buffer and hashed together, since each
/// hash update has a fixed cost; longer ones are hashed where they are, since copying them
/// would cost more than that.
const DIRECT_HASH_LEN: usize = 256;

/// The gathering buffer's size: small enough to stay in the first-level cache.
const HASH_BUFFER: usize = 8 * 1024;

/// Hashes a body with SHA-256 as it streams past, canonicalized, up to an optional `l=` limit.
#[derive(Clone)]
pub struct BodyHasher {
    canonicalizer: BodyCanonicalizer,
    limit: Option<u64>,
    sink: HashSink,
}

#[derive(Clone)]
struct HashSink {
    context: digest::Context,
    buffer: Vec<u8>,
    hashed_len: u64,
    canonical_len: u64,
    /// How many more canonical bytes to hash: what the `l=` limit leaves, or all.
    room: u64,
}

impl HashSink {
    fn accept(&mut self, bytes: &[u8]) {
        self.canonical_len += bytes.len() as u64;
        let take = if bytes.len() as u64 <= self.room {
            bytes
        } else {
            // Less than `bytes.len()`, so it fits a usize.
            &bytes[..self.room as usize]
        };
        self.room -= take.len() as u64;
        self.hashed_len += take.len() as u64;
        if take.len() >= DIRECT_HASH_LEN {
            self.flush();
            self.context.update(take);
        } else {
            if self.buffer.len() + take.len() > HASH_BUFFER {
                self.flush();
            }
            self.buffer.extend_from_slice(take);
        }
    }

    /// Hashes the gathered bytes, keeping the order of the input.
    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.context.update(&self.buffer);
            self.buffer.clear();
        }
    }
}

impl BodyHasher {
    /// A hasher for `algorithm`, hashing at most `limit` canonical bytes (`l=`).
    pub fn new(algorithm: Algorithm, limit: Option<u64>) -> Self {
        BodyHasher {
            canonicalizer: BodyCanonicalizer::new(algorithm),
            limit,
            sink: HashSink {
                context: digest::Context::new(&digest::SHA256),
                buffer: Vec::with_capacity(HASH_BUFFER),
                hashed_len: 0,
                canonical_len: 0,
                room: limit.unwrap_or(u64::MAX),
            },
        }
    }

    /// The `l=` limit it was made with.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// Hashes the next piece of the body.
    pub fn update(&mut self, input: &[u8]) {
        let sink = &mut self.sink;
        self.canonicalizer
            .update(input, &mut |bytes| sink.accept(bytes));
    }

    /// Ends the body and returns its hash.
    pub fn finish(self) -> BodyHash {
        let mut sink = self.sink;
        self.canonicalizer.finish(&mut |bytes| sink.accept(bytes));
        sink.flush();
        BodyHash {
            digest: sink.context.finish().as_ref().to_vec(),
            hashed_len: sink.hashed_len,
            canonical_len: sink.canonical_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(algorithm: Algorithm, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut canonicalizer = BodyCanonicalizer::new(algorithm);
        canonicalizer.update(input, &mut |b| out.extend_from_slice(b));
        canonicalizer.finish(&mut |b| out.extend_from_slice(b));
        out
    }

    /// The same input cut into single bytes must give the same result: state crosses chunks.
    fn body_bytewise(algorithm: Algorithm, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut canonicalizer = BodyCanonicalizer::new(algorithm);
        for byte in input.chunks(1) {
            canonicalizer.update(byte, &mut |b| out.extend_from_slice(b));
        }
        canonicalizer.finish(&mut |b| out.extend_from_slice(b));
        out
    }

    fn both(algorithm: Algorithm, input: &[u8]) -> Vec<u8> {
        let whole = body(algorithm, input);
        assert_eq!(body_bytewise(algorithm, input), whole, "{input:?}");
        whole
    }

    #[test]
    fn rfc_6376_3_4_5_example() {
        let input = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(both(Algorithm::Relaxed, input), b" C\r\nD E\r\n");
        assert_eq!(both(Algorithm::Simple, input), b" C \r\nD \t E\r\n");
        let field = HeaderField::new(&b"A: X"[..]).unwrap();
        let folded = HeaderField::new(&b"B : Y\t\r\n\tZ  "[..]).unwrap();
        let mut out = Vec::new();
        canonicalize_header(Algorithm::Relaxed, &field, &mut out);
        out.extend_from_slice(b"\r\n");
        canonicalize_header(Algorithm::Relaxed, &folded, &mut out);
        assert_eq!(out, b"a:X\r\nb:Y Z");
        out.clear();
        canonicalize_header(Algorithm::Simple, &folded, &mut out);
        assert_eq!(out, b"B : Y\t\r\n\tZ  ");
    }

    #[test]
    fn empty_bodies() {
        for input in [&b""[..], b"\r\n", b"\r\n\r\n", b"\n\n"] {
            assert_eq!(both(Algorithm::Simple, input), b"\r\n", "{input:?}");
            assert_eq!(both(Algorithm::Relaxed, input), b"", "{input:?}");
        }
        assert_eq!(both(Algorithm::Relaxed, b"  \t\r\n \r\n"), b"");
    }

    #[test]
    fn lf_only_files_hash_as_crlf() {
        for algorithm in [Algorithm::Simple, Algorithm::Relaxed] {
            assert_eq!(
                both(algorithm, b"a\nb\n\n"),
                both(algorithm, b"a\r\nb\r\n\r\n")
            );
        }
    }

    #[test]
    fn missing_final_line_end_and_inner_blank_lines() {
        assert_eq!(both(Algorithm::Simple, b"a\r\n\r\nb"), b"a\r\n\r\nb\r\n");
        assert_eq!(
            both(Algorithm::Relaxed, b"a \r\n\r\n\r\n b \t"),
            b"a\r\n\r\n\r\n b\r\n"
        );
    }

    #[test]
    fn lone_carriage_returns_are_content() {
        assert_eq!(both(Algorithm::Simple, b"a\rb\r\n"), b"a\rb\r\n");
        assert_eq!(both(Algorithm::Relaxed, b"a \r b\r\r\n"), b"a \r b\r\r\n");
        assert_eq!(both(Algorithm::Simple, b"\r"), b"\r\r\n");
        assert_eq!(both(Algorithm::Relaxed, b"x\r\r"), b"x\r\r\r\n");
    }

    #[test]
    fn eight_bit_and_nul_bytes_are_content() {
        let input = "caf\u{e9} \0 \u{1F600}\r\n".as_bytes();
        assert_eq!(both(Algorithm::Simple, input), input);
        assert_eq!(both(Algorithm::Relaxed, input), input);
    }

    #[test]
    fn many_trailing_blank_lines_then_content() {
        let mut input = b"a\r\n".to_vec();
        input.extend(b"\r\n".repeat(1000));
        input.extend_from_slice(b"b\r\n");
        let out = both(Algorithm::Simple, &input);
        assert_eq!(out, input);
    }

    #[test]
    fn canonicalization_names() {
        let relaxed_simple: Canonicalization = "relaxed".parse().unwrap();
        assert_eq!(relaxed_simple.to_string(), "relaxed/simple");
        assert_eq!(
            "Relaxed/Relaxed"
                .parse::<Canonicalization>()
                .unwrap()
                .to_string(),
            "relaxed/relaxed"
        );
        assert!("relaxed/other".parse::<Canonicalization>().is_err());
        assert_eq!(Canonicalization::default().to_string(), "simple/simple");
    }

    #[test]
    fn length_limit_hashes_a_prefix_and_reports_the_whole_length() {
        let mut limited = BodyHasher::new(Algorithm::Simple, Some(3));
        limited.update(b"abcdef\r\n");
        let limited = limited.finish();
        let mut prefix = BodyHasher::new(Algorithm::Simple, None);
        let prefix_hash = {
            let mut ctx = digest::Context::new(&digest::SHA256);
            ctx.update(b"abc");
            ctx.finish().as_ref().to_vec()
        };
        prefix.update(b"abcdef\r\n");
        assert_eq!(limited.digest, prefix_hash);
        assert_eq!((limited.hashed_len, limited.canonical_len), (3, 8));
        assert_eq!(prefix.finish().canonical_len, 8);
    }

    /// The body canonicalization of RFC 6376 3.4.3 and 3.4.4 as written, over the whole body at
    /// once and a byte at a time, to check the streaming canonicalizer against.
    fn reference_body(algorithm: Algorithm, body: &[u8]) -> Vec<u8> {
        // Lines end at CRLF, or at a bare LF (LF-only files read as CRLF); a CR not followed
        // by LF is content.
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut line = Vec::new();
        for &byte in body {
            if byte == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                lines.push(std::mem::take(&mut line));
            } else {
                line.push(byte);
            }
        }
        // A last line without a line end still counts, and gets one.
        if !line.is_empty() {
            lines.push(line);
        }
        if algorithm == Algorithm::Relaxed {
            for line in &mut lines {
                // Runs of WSP become one SP, then WSP at the end of the line goes.
                let mut relaxed = Vec::new();
                for &byte in line.iter() {
                    let byte = if byte == b'\t' { b' ' } else { byte };
                    if !(byte == b' ' && relaxed.last() == Some(&b' ')) {
                        relaxed.push(byte);
                    }
                }
                while relaxed.last() == Some(&b' ') {
                    relaxed.pop();
                }
                *line = relaxed;
            }
        }
        // Empty lines at the end of the body are ignored.
        while lines.last().is_some_and(Vec::is_empty) {
            lines.pop();
        }
        // An empty body is one CRLF in simple and stays empty in relaxed.
        if lines.is_empty() && algorithm == Algorithm::Simple {
            lines.push(Vec::new());
        }
        let mut out = Vec::new();
        for line in lines {
            out.extend_from_slice(&line);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// xorshift64*: a small deterministic generator, so every run tests the same cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A body drawn mostly from the bytes the rules are about, in dense stretches (every other
    /// byte special) and sparse ones (long clean runs, as the vectorized scan sees them).
    fn random_body(rng: &mut Rng) -> Vec<u8> {
        const PIECES: [&[u8]; 12] = [
            b" ", b" ", b"  ", b"\t", b"\r", b"\n", b"\r\n", b"\r\n", b"\0", b"\xe9", b"a", b"a",
        ];
        let len = match rng.below(4) {
            0 => rng.below(8),
            1 | 2 => rng.below(100),
            _ => rng.below(600),
        };
        let special_one_in = [1, 2, 8, 40][rng.below(4)];
        let mut body = Vec::new();
        while body.len() < len {
            if rng.below(special_one_in) == 0 {
                body.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            } else {
                body.push(b'a' + rng.below(3) as u8);
            }
        }
        body
    }

    /// Splits `body` at random points: single bytes, small pieces or larger ones.
    fn random_pieces<'a>(rng: &mut Rng, body: &'a [u8]) -> Vec<&'a [u8]> {
        let most = [1, 3, 40, body.len().max(1)][rng.below(4)];
        let mut pieces = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let (piece, after) = rest.split_at((1 + rng.below(most)).min(rest.len()));
            pieces.push(piece);
            rest = after;
        }
        pieces
    }

    #[test]
    fn streaming_matches_the_reference_on_random_bodies() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..5000 {
            let body = random_body(&mut rng);
            for algorithm in [Algorithm::Simple, Algorithm::Relaxed] {
                let expected = reference_body(algorithm, &body);
                let pieces = random_pieces(&mut rng, &body);

                let mut canonicalizer = BodyCanonicalizer::new(algorithm);
                let mut streamed = Vec::new();
                for piece in &pieces {
                    canonicalizer.update(piece, &mut |b| streamed.extend_from_slice(b));
                }
                canonicalizer.finish(&mut |b| streamed.extend_from_slice(b));
                assert_eq!(
                    streamed, expected,
                    "case {case}, {algorithm:?}, {body:?} in {pieces:?}"
                );

                let limit = match rng.below(3) {
                    0 => None,
                    _ => Some(rng.below(expected.len() + 3) as u64),
                };
                let mut hasher = BodyHasher::new(algorithm, limit);
                for piece in &pieces {
                    hasher.update(piece);
                }
                let hash = hasher.finish();
                let hashed = limit.map_or(expected.len(), |l| expected.len().min(l as usize));
                assert_eq!(
                    hash,
                    BodyHash {
                        digest: digest::digest(&digest::SHA256, &expected[..hashed])
                            .as_ref()
                            .to_vec(),
                        hashed_len: hashed as u64,
                        canonical_len: expected.len() as u64,
                    },
                    "case {case}, {algorithm:?}, l={limit:?}, {body:?} in {pieces:?}"
                );
            }
        }
    }

    #[test]
    fn rfc_8463_body_hash() {
        let message = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/vectors/rfc8463/message.eml"
        ))
        .unwrap();
        let body_start = memchr::memmem::find(&message, b"\n\n").unwrap() + 2;
        let mut hasher = BodyHasher::new(Algorithm::Relaxed, None);
        hasher.update(&message[body_start..]);
        let digest = hasher.finish().digest;
        assert_eq!(
            crate::encoding::encode_base64(&digest),
            "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
        );
    }
}

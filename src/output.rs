//! Everything dkimkit prints besides results: errors, warnings and verbose lines on stderr in
//! one style (`dkimkit: error: ...`), and progress bars, shown only when stderr is a terminal.

#![allow(clippy::print_stderr)] // This module is the one place that writes to stderr.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// "3 keys: 2 ok, 1 failed": how many `items` there are, and how many of each of `kinds`, in
/// that order, leaving out the kinds none is.
pub fn tally<T: PartialEq>(
    noun: &str,
    items: &[T],
    kinds: &[T],
    word: impl Fn(&T) -> &str,
) -> String {
    let counts: Vec<String> = kinds
        .iter()
        .map(|kind| (items.iter().filter(|item| *item == kind).count(), kind))
        .filter(|(count, _)| *count > 0)
        .map(|(count, kind)| format!("{count} {}", word(kind)))
        .collect();
    format!("{} {noun}: {}", items.len(), counts.join(", "))
}

/// Reports an error, with its chain of causes.
pub fn error(error: &anyhow::Error) {
    eprintln!("dkimkit: error: {}", describe(error));
}

/// Reports clap's usage error, which it writes over several lines (the error, an indented list,
/// a tip, the usage, a pointer to --help), on one line: the error and the tip.
pub fn usage_error(rendered: &str) {
    let mut parts = Vec::new();
    let mut lines = rendered.lines();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        parts.push(line.trim().trim_start_matches("error: ").to_owned());
    }
    let tips = lines
        .map(str::trim)
        .filter(|line| line.starts_with("tip: "))
        .map(|line| line.trim_start_matches("tip: ").to_owned());
    let message = parts.join(" ");
    let mut said = vec![message];
    said.extend(tips);
    eprintln!("dkimkit: error: {} (see --help)", said.join("; "));
}

/// Reports an error about `subject` (a file, a key), naming it once.
pub fn error_about(subject: &str, error: &anyhow::Error) {
    eprintln!("dkimkit: error: {}", about(subject, error));
}

/// An error and its causes on one line, each said once. Many errors name their cause in their
/// own text already (a library error that shows its `source`, a context that repeats the path
/// an I/O error names), so a cause whose text is already said is left out, and a cause that
/// repeats everything said so far replaces it.
pub fn describe(error: &anyhow::Error) -> String {
    about("", error)
}

/// [`describe`] for a library's error (its sources are its causes).
pub fn describe_cause(error: &(dyn std::error::Error + 'static)) -> String {
    said_once("", std::iter::successors(Some(error), |e| e.source()))
}

/// [`describe`], said about `subject` (a file, a key), which is named once.
pub fn about(subject: &str, error: &anyhow::Error) -> String {
    said_once(subject, error.chain())
}

/// `subject` and each of `causes` that says something not said yet, joined with ": ", then the
/// flag that fixes the first cause a flag fixes.
fn said_once<'a>(
    subject: &str,
    causes: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut said = subject.to_owned();
    let mut advice = None;
    for cause in causes {
        advice = advice.or_else(|| crate::advice::for_error(cause));
        let text = without_os_error_codes(&cause.to_string());
        if said.contains(&text) {
            continue;
        }
        if said.is_empty() || text.contains(&said) {
            said = text;
        } else {
            said = format!("{said}: {text}");
        }
    }
    said + advice.unwrap_or_default()
}

/// `text` without the ` (os error 2)` that the standard library puts after the system's own
/// words ("No such file or directory"): a number for programmers, which the words already say.
fn without_os_error_codes(text: &str) -> String {
    const MARK: &str = " (os error ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(MARK) {
        let after = &rest[start + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let end = if digits > 0 && after[digits..].starts_with(')') {
            start + MARK.len() + digits + 1
        } else {
            start + MARK.len()
        };
        out.push_str(&rest[..start]);
        if end == start + MARK.len() {
            out.push_str(MARK);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Reports a warning: something that works but that a mail administrator should fix.
pub fn warning(message: &str) {
    eprintln!("dkimkit: warning: {message}");
}

/// A line of information on standard error (such as -v's list of settings), as it is.
pub fn verbose(message: &str) {
    eprintln!("{message}");
}

/// Reports a note: something dkimkit did for the user that they should know about.
pub fn note(message: &str) {
    eprintln!("dkimkit: note: {message}");
}

/// Standard output, locked and buffered; results go here and nowhere else.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Writes a --json document (docs/json.md) to standard output. It goes through a JSON value,
/// whose objects sort their keys: the documents have always listed them in alphabetical order.
pub fn print_json(document: &impl serde::Serialize) -> io::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, &serde_json::to_value(document)?)?;
    writeln!(out)?;
    out.flush()
}

/// `{"keys": [...]}`: the --json document of genkey, genzone and testkey.
#[derive(serde::Serialize)]
pub struct Keys<T> {
    pub keys: Vec<T>,
}

/// Progress over a known number of items, plus the verbose lines that go with it. The bar is
/// drawn on stderr only when stderr is a terminal and there is more than one item, so logs and
/// cron mail never see it.
pub struct Progress {
    bar: ProgressBar,
    verbose: bool,
}

impl Progress {
    /// Starts a bar over `total` items, labelled `what` ("keys", "messages"); it is drawn only
    /// for more than one item.
    pub fn new(total: usize, what: &str, verbose: bool) -> Self {
        Self::drawn_if(total > 1, total, what, verbose)
    }

    /// A bar whose total grows as items are found (see [`Progress::add_to_total`]).
    pub fn growing(what: &str) -> Self {
        Self::drawn_if(true, 0, what, false)
    }

    fn drawn_if(worth_drawing: bool, total: usize, what: &str, verbose: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        if worth_drawing && io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        Progress { bar, verbose }
    }

    /// Adds items found along the way (the messages of an mbox, counted as they are read).
    pub fn add_to_total(&self, items: usize) {
        self.bar.inc_length(items as u64);
    }

    /// Counts one item done.
    pub fn advance(&self) {
        self.bar.inc(1);
    }

    /// Prints a verbose line (with -v), above the bar.
    pub fn verbose(&self, message: &str) {
        if self.verbose {
            self.bar.suspend(|| eprintln!("dkimkit: {message}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = io::Error::from_raw_os_error(2);
        let error = anyhow::Error::new(io)
            .context("cannot read k.private: No such file or directory (os error 2)");
        assert_eq!(
            describe(&error),
            "cannot read k.private: No such file or directory"
        );
        let error = anyhow::anyhow!("m.eml: the header is too large").context("m.eml");
        assert_eq!(describe(&error), "m.eml: the header is too large");
        assert_eq!(
            about("m.eml", &anyhow::anyhow!("cannot read the message")),
            "m.eml: cannot read the message"
        );
    }

    #[test]
    fn only_os_error_numbers_are_taken_out() {
        assert_eq!(
            without_os_error_codes("a (os error 13): b (os error x)"),
            "a: b (os error x)"
        );
    }
}

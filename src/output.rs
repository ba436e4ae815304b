//! Everything dkimkit prints besides results: errors, warnings and verbose lines on stderr in
//! one style (`dkimkit: error: ...`), and progress bars, shown only when stderr is a terminal.

#![allow(clippy::print_stderr)] // This module is the one place that writes to stderr.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports an error, with its chain of causes.
pub fn error(error: &anyhow::Error) {
    eprintln!("dkimkit: error: {}", error_text(error));
}

/// An error and its causes on one line, `what: why: why`, each cause said once: many errors
/// already end with their cause's text (thiserror's `{source}`), which `{:#}` would repeat.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

/// Reports a warning: something that works but that a mail administrator should fix.
pub fn warning(message: &str) {
    eprintln!("dkimkit: warning: {message}");
}

/// A line of information on standard error (such as -v's), as it is.
pub fn note(message: &str) {
    eprintln!("{message}");
}

/// Standard output, locked and buffered; results go here and nowhere else.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Writes one JSON document to standard output.
pub fn print_json(document: &serde_json::Value) -> io::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, document)?;
    writeln!(out)?;
    out.flush()
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
    fn a_cause_already_said_is_not_repeated() {
        let io = io::Error::from(io::ErrorKind::NotFound);
        let write = dkim_core::files::WriteError::Io {
            path: "out/a.eml".into(),
            source: io,
        };
        let error = anyhow::Error::new(write).context("a.eml");
        assert_eq!(
            error_text(&error),
            "a.eml: cannot write out/a.eml: entity not found"
        );
    }
}

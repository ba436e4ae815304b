//! named's log, read as it is written, so the harness can wait for what named says it did
//! ("running", "zone example.com/IN: loaded serial 2") instead of sleeping and hoping.
//!
//! `named -g` logs to standard error; a thread reads it line by line into a shared list, and
//! waiters are woken on every line and when named exits.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Lines {
    /// The messages logged so far, without their timestamps.
    messages: Vec<String>,
    /// Whether named closed its standard error (it exited).
    ended: bool,
}

/// The log of one named process.
#[derive(Clone, Default)]
pub(crate) struct NamedLog {
    shared: Arc<(Mutex<Lines>, Condvar)>,
}

/// How a wait for a log message ended without finding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitFailure {
    /// named exited first.
    Exited,
    /// The deadline passed.
    TimedOut,
}

impl NamedLog {
    /// Starts reading `stream` (named's standard error) on a thread of its own.
    pub(crate) fn follow(stream: impl Read + Send + 'static) -> NamedLog {
        let log = NamedLog::default();
        let writer = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                writer.push(message_of(&line).to_owned());
            }
            writer.end();
        });
        log
    }

    fn lock(&self) -> MutexGuard<'_, Lines> {
        self.shared
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, message: String) {
        self.lock().messages.push(message);
        self.shared.1.notify_all();
    }

    fn end(&self) {
        self.lock().ended = true;
        self.shared.1.notify_all();
    }

    /// How many messages have been logged so far: a mark to wait for messages after.
    pub(crate) fn mark(&self) -> usize {
        self.lock().messages.len()
    }

    /// Waits until a message logged at or after `mark` satisfies `wanted`, and returns it.
    pub(crate) fn wait_for(
        &self,
        mark: usize,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<String, WaitFailure> {
        let deadline = Instant::now() + timeout;
        let mut lines = self.lock();
        loop {
            if let Some(found) = lines.messages.iter().skip(mark).find(|m| wanted(m)) {
                return Ok(found.clone());
            }
            if lines.ended {
                return Err(WaitFailure::Exited);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitFailure::TimedOut);
            }
            lines = self
                .shared
                .1
                .wait_timeout(lines, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Whether any message logged at or after `mark` satisfies `wanted`.
    pub(crate) fn contains(&self, mark: usize, wanted: impl Fn(&str) -> bool) -> bool {
        self.lock().messages.iter().skip(mark).any(|m| wanted(m))
    }

    /// The whole log, one message a line, for panic messages.
    pub(crate) fn text(&self) -> String {
        self.lock().messages.join("\n")
    }
}

/// A log line without named's timestamp (`22-Nov-2026 16:31:04.432 running` gives `running`).
fn message_of(line: &str) -> &str {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(date), Some(time), Some(message))
            if date.len() == 11 && time.contains(':') && time.contains('.') =>
        {
            message
        }
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_timestamp_only() {
        assert_eq!(message_of("22-Nov-2026 16:31:04.432 running"), "running");
        assert_eq!(
            message_of("22-Nov-2026 16:31:04.432 zone example.com/IN: loaded serial 1"),
            "zone example.com/IN: loaded serial 1"
        );
        assert_eq!(message_of("no timestamp here"), "no timestamp here");
    }

    #[test]
    fn waits_for_a_line_and_sees_the_end() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let log = NamedLog::follow(reader);
        let mark = log.mark();
        std::io::Write::write_all(&mut writer, b"22-Nov-2026 16:31:04.432 running\n").unwrap();
        assert_eq!(
            log.wait_for(mark, Duration::from_secs(30), |m| m == "running"),
            Ok("running".to_owned())
        );
        drop(writer);
        assert_eq!(
            log.wait_for(mark, Duration::from_secs(30), |m| m == "never"),
            Err(WaitFailure::Exited)
        );
    }
}

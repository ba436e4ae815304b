//! The exit statuses (README "Exit status", `cli::EXIT_STATUSES`), decided here for every subcommand, so that cron and CI can
//! trust them: 0 all good, 1 a check failed, 2 usage or input error, 3 temporary failure only.

use std::io;
use std::process::ExitCode;

use crate::output;

/// How a subcommand that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked is good.
    Success,
    /// A check failed (exit 1).
    CheckFailed,
    /// Only temporary failures, such as a DNS timeout (exit 3).
    TemporaryFailure,
}

/// Status for errors: usage, unreadable or malformed input, I/O.
const ERROR_STATUS: u8 = 2;

/// An error that trying again later may cure (a DNS timeout, another run holding the lock): it
/// exits 3, so cron and CI retry instead of alerting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TemporaryFailure(pub String);

/// A check that failed, found part way (a wait for DNS that lasted too long): it exits 1, so
/// cron mails someone.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CheckFailure(pub Box<dyn std::error::Error + Send + Sync>);

/// An error already reported on stderr, one line per item (a message that could not be signed
/// or read): it exits 2 without a line that would only repeat it.
#[derive(Debug, thiserror::Error)]
#[error("the error above")]
pub struct AlreadyReported;

/// Maps a subcommand's result to the process's exit status, reporting an error on stderr.
pub fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Ok(Outcome::TemporaryFailure) => ExitCode::from(3),
        // A reader that went away (`dkimkit ... | head`) is not an error worth a message.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) if error.is::<AlreadyReported>() => ExitCode::from(ERROR_STATUS),
        Err(error) => {
            output::error(&error);
            let temporary = error.chain().any(|cause| cause.is::<TemporaryFailure>());
            let failed_check = error.chain().any(|cause| cause.is::<CheckFailure>());
            ExitCode::from(if failed_check {
                1
            } else if temporary {
                3
            } else {
                ERROR_STATUS
            })
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

//! dkimkit: DKIM keys, records, signing and verification for people who run their own mail.
//!
//! This file only parses, runs and exits; the subcommands are in `commands/`, everything they
//! decide in the library crates (docs/ARCHITECTURE.md).

mod advice;
mod cli;
mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    exit::exit_code(commands::run(cli))
}

/// Help and version as clap prints them; a usage error on one line in dkimkit's style, with
/// clap's tip if it has one, and status 2, the usage error of `cli::EXIT_STATUSES`.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    output::usage_error(&error.render().to_string());
    ExitCode::from(2)
}

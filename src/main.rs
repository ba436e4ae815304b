//! dkimkit: DKIM keys, records, signing and verification for people who run their own mail.
//!
//! This file only parses, runs and exits; the subcommands are in `commands/`, the DKIM logic in
//! the `dkim-core` crate.

mod cli;
mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap reports its own usage errors with status 2, as DESIGN.md wants.
    let cli = cli::Cli::parse();
    exit::exit_code(commands::run(cli))
}

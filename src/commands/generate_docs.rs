//! `dkimkit generate-docs DIR` (hidden): the man pages and shell completions, generated from the
//! clap definitions so that they cannot drift. The results are committed in man/ and
//! completions/; a test fails when they are stale.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{Cli, EXIT_STATUSES, GenerateDocsArgs, examples, extra_sections};
use crate::exit::Outcome;
use crate::output;

pub fn run(args: GenerateDocsArgs) -> anyhow::Result<Outcome> {
    let documents = render_all()?;
    let mut out = output::stdout();
    for (relative, contents) in &documents {
        let path = args.directory.join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(out, "{}", path.display())?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}

/// Every generated file, as (path relative to the repository, contents).
fn render_all() -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    // clap's own `help` subcommand gets no page (`dkimkit help genkey` shows what
    // dkimkit-genkey(1) does), so it is left out of dkimkit(1)'s list of pages too: every page
    // named there exists.
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let pages: Vec<&clap::Command> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .collect();
    let see_also: Vec<String> = std::iter::once("dkimkit(1)".to_owned())
        .chain(pages.iter().map(|p| format!("dkimkit-{}(1)", p.get_name())))
        .chain(
            [
                "opendkim-genkey(8)",
                "opendkim-genzone(8)",
                "opendkim(8)",
                "opendkim.conf(5)",
            ]
            .map(String::from),
        )
        .collect();
    let see_also = see_also.join(", ") + ", RFC 6376, RFC 8301, RFC 8463, RFC 8601";
    let mut documents = vec![(
        PathBuf::from("man/dkimkit.1"),
        man_page(&root, "", &see_also)?,
    )];
    for sub in pages {
        let name = sub.get_name().to_owned();
        let page = sub
            .clone()
            .name(format!("dkimkit-{name}"))
            .bin_name(format!("dkimkit {name}"))
            .version(env!("CARGO_PKG_VERSION"));
        documents.push((
            PathBuf::from(format!("man/dkimkit-{name}.1")),
            man_page(&page, &name, &see_also)?,
        ));
    }
    for (shell, file) in [
        (Shell::Bash, "dkimkit.bash"),
        (Shell::Zsh, "_dkimkit"),
        (Shell::Fish, "dkimkit.fish"),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut completed_command(), "dkimkit", &mut script);
        documents.push((PathBuf::from("completions").join(file), script));
    }
    Ok(documents)
}

/// The command line that completions offer. clap_complete offers hidden subcommands too, and clap
/// cannot remove one, so the root is rebuilt with the visible subcommands only.
fn completed_command() -> clap::Command {
    let full = Cli::command();
    clap::Command::new("dkimkit")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

/// One man page: clap_mangen's sections, then EXAMPLES, EXIT STATUS and SEE ALSO from the same
/// texts `--help` shows.
fn man_page(command: &clap::Command, examples_of: &str, see_also: &str) -> anyhow::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if command.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }

    let mut roff = Roff::default();
    for (title, body) in extra_sections(examples_of) {
        roff.control("SH", [title.to_uppercase().as_str()]);
        for paragraph in body.split("\n\n") {
            // Command lines and unit files keep their lines; prose is filled.
            if paragraph.contains('\n') || paragraph.starts_with('[') || paragraph.starts_with('0')
            {
                roff.control("nf", [""; 0]);
                for line in paragraph.lines() {
                    roff.text([roman(line)]);
                    roff.control("br", [""; 0]);
                }
                roff.control("fi", [""; 0]);
            } else {
                roff.text([roman(paragraph)]);
            }
            roff.control("PP", [""; 0]);
        }
    }
    let examples = examples(examples_of);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (what, how) in examples {
            roff.text([roman(*what)]);
            roff.control("IP", [""; 0]);
            roff.text([bold(format!("$ {how}"))]);
            roff.control("PP", [""; 0]);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in EXIT_STATUSES {
        roff.control("TP", [""; 0]);
        roff.text([bold(code.to_string())]);
        roff.text([roman(*meaning)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(see_also)]);
    page.extend_from_slice(roff.render().as_bytes());
    man.render_version_section(&mut page)?;
    Ok(page)
}

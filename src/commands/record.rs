//! `dkimkit record`: the record of an existing private key, for when SELECTOR.txt is lost.

use anyhow::Context as _;

use super::published_record::{PublishedRecord, print_records};
use super::{read_private_key, warn_if_weak};
use crate::cli::{RecordArgs, RecordFormat};
use crate::exit::Outcome;

pub fn run(args: RecordArgs) -> anyhow::Result<Outcome> {
    let key = read_private_key(&args.key, args.key_safety.allow_unsafe_keys)?;
    key.check_not_too_large()
        .with_context(|| args.key.display().to_string())?;
    warn_if_weak(key.key_type(), key.bits(), Some(&args.key));
    let mut published = PublishedRecord::new(
        &key.public_key(),
        &args.selector,
        args.domain.as_ref(),
        &args.record,
    )?;
    published.private_key_file = Some(args.key.clone());
    let format = args.output.chosen().unwrap_or(RecordFormat::Bind);
    print_records(&[published], format, true)?;
    Ok(Outcome::Success)
}

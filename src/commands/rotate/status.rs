//! `dkimkit rotate status`: where each managed entry is in its cycle (the key in use, the one
//! being introduced, the ones retiring) and when its next step is due, read from the state file
//! and the KeyTable. It changes nothing and takes no lock, so it answers while a run waits.

use std::io::Write as _;
use std::path::PathBuf;

use dkim_rotate::{EntryState, Observed, Policy, RotationState, Step, StolenKeyEnd, next_step};
use serde::Serialize;

use crate::cli::RotateArgs;
use crate::output;
use dkim_rotate::{ManagedEntry, SigningKeys, Untouched, known_or_adopted, utc_minute as date};

/// rotate status's --json document (docs/json.md), which the text output says a line per entry.
#[derive(Serialize)]
struct StatusJson<'a> {
    keys: Vec<EntryStatus>,
    untouched: &'a [Untouched],
}

/// One entry as status reports it.
#[derive(Serialize)]
struct EntryStatus {
    key_name: String,
    domain: String,
    #[serde(flatten)]
    cycle: CycleOrError,
}

/// The state rotate keeps (or would adopt on its next run), or why it cannot be read.
#[derive(Serialize)]
#[serde(untagged)]
enum CycleOrError {
    Cycle(Box<Cycle>),
    Error { error: String },
}

/// Where an entry is in its cycle, with dates in words, and what comes next and when.
#[derive(Serialize)]
struct Cycle {
    active: ActiveKey,
    pending: Option<PendingKey>,
    retiring: Vec<RetiringKey>,
    next_step: String,
    next_step_at: String,
    next_step_unix: u64,
}

#[derive(Serialize)]
struct ActiveKey {
    selector: String,
    key_file: PathBuf,
    since: String,
}

#[derive(Serialize)]
struct PendingKey {
    selector: String,
    key_file: PathBuf,
    started: String,
    published: bool,
}

#[derive(Serialize)]
struct RetiringKey {
    selector: String,
    key_file: PathBuf,
    switched: String,
    overlap_ends: String,
    withdrawn: bool,
    stolen: Option<StolenKeyEnd>,
}

/// The next step of `state` in words, and when it is due.
fn next_step_in_words(
    state: &EntryState,
    keys: &SigningKeys,
    name: &str,
    now: u64,
    policy: Policy,
) -> (String, u64) {
    let keytable_selector = keys
        .entry(name)
        .map(|(selector, _)| selector)
        .unwrap_or_default();
    let observed = Observed {
        keytable_selector: &keytable_selector,
        next_key_written: state.next.as_ref().is_some_and(|n| n.key_file.exists()),
        rotate_now: false,
    };
    let next = state.next.as_ref().map_or("", |n| n.selector.as_str());
    let words = match next_step(state, observed, now, policy) {
        Step::Idle { until } => {
            let what = if state
                .retiring
                .iter()
                .any(|r| policy.overlap.after(r.switched_at) == until)
            {
                "the overlap ends: withdraw the old record"
            } else {
                "rotate: make and publish the next key"
            };
            return (what.to_owned(), until);
        }
        Step::BeginRotation => "rotate: make and publish the next key".to_owned(),
        Step::Generate => format!("generate key {next}"),
        Step::Publish => format!("publish {next}"),
        Step::SwitchWhenVisible => {
            format!("switch to {next} once every name server serves its record")
        }
        Step::RecordSwitch => format!("record the switch to {next}"),
        Step::Reload => "reload the signer".to_owned(),
        Step::Withdraw { selector } => format!("withdraw the record of {selector}"),
        Step::Retire { selector } => {
            format!("retire key {selector} once no name server serves its record")
        }
    };
    (words, now)
}

/// Prints the status; false when an entry's state could not be read (its key file is missing,
/// say), which the caller reports as a failed check.
pub(super) fn print(
    args: &RotateArgs,
    keys: &SigningKeys,
    state: &RotationState,
    managed: &[ManagedEntry],
    unmanaged: &[Untouched],
    now: u64,
    policy: Policy,
) -> anyhow::Result<bool> {
    let entries: Vec<EntryStatus> = managed
        .iter()
        .map(|entry| EntryStatus {
            key_name: entry.name.clone(),
            domain: entry.domain.to_string(),
            cycle: match known_or_adopted(state, keys, entry) {
                Ok((state, _)) => {
                    let next = next_step_in_words(&state, keys, &entry.name, now, policy);
                    CycleOrError::Cycle(Box::new(cycle(state, next, policy)))
                }
                Err(error) => CycleOrError::Error {
                    error: output::describe_cause(&error),
                },
            },
        })
        .collect();
    let all_read = entries
        .iter()
        .all(|e| matches!(e.cycle, CycleOrError::Cycle(_)));
    if args.json {
        output::print_json(&StatusJson {
            keys: entries,
            untouched: unmanaged,
        })?;
        return Ok(all_read);
    }
    let mut out = output::stdout();
    for entry in &entries {
        writeln!(out, "{}", entry_line(entry))?;
    }
    for Untouched { name, why } in unmanaged {
        writeln!(out, "{name}: left untouched: {why}")?;
    }
    out.flush()?;
    Ok(all_read)
}

/// `state` as status says it, and its `next` step.
fn cycle(state: EntryState, (next_step, at): (String, u64), policy: Policy) -> Cycle {
    Cycle {
        active: ActiveKey {
            selector: state.current.selector,
            key_file: state.current.key_file,
            since: date(state.current.since),
        },
        pending: state.next.map(|next| PendingKey {
            selector: next.selector,
            key_file: next.key_file,
            started: date(next.started),
            published: next.published,
        }),
        retiring: state
            .retiring
            .into_iter()
            .map(|r| RetiringKey {
                overlap_ends: date(policy.overlap.after(r.switched_at)),
                switched: date(r.switched_at),
                selector: r.selector,
                key_file: r.key_file,
                withdrawn: r.withdrawn,
                stolen: r.stolen,
            })
            .collect(),
        next_step,
        next_step_at: date(at),
        next_step_unix: at,
    }
}

fn entry_line(entry: &EntryStatus) -> String {
    let (name, domain) = (&entry.key_name, &entry.domain);
    let cycle = match &entry.cycle {
        CycleOrError::Cycle(cycle) => cycle,
        CycleOrError::Error { error } => return format!("{name}: {domain}: cannot tell: {error}"),
    };
    let pending = match &cycle.pending {
        None => "none".to_owned(),
        Some(next) if next.published => format!("{} (published)", next.selector),
        Some(next) => format!("{} (not yet published)", next.selector),
    };
    let retiring: Vec<String> = cycle
        .retiring
        .iter()
        .map(|r| {
            if r.withdrawn {
                format!("{} (record withdrawn)", r.selector)
            } else if r.stolen.is_some() {
                format!("{} (believed stolen: record goes now)", r.selector)
            } else {
                format!("{} (record until {})", r.selector, r.overlap_ends)
            }
        })
        .collect();
    format!(
        "{name}: {domain}: active {} since {}; pending {pending}; retiring {}; next step \
         {}: {}",
        cycle.active.selector,
        cycle.active.since,
        if retiring.is_empty() {
            "none".to_owned()
        } else {
            retiring.join(", ")
        },
        cycle.next_step_at,
        cycle.next_step
    )
}

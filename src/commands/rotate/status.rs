//! `dkimkit rotate status`: where each managed entry is in its cycle (the key in use, the one
//! being introduced, the ones retiring) and when its next step is due, read from the state file
//! and the KeyTable. It changes nothing and takes no lock, so it answers while a run waits.

use std::io::Write as _;

use dkim_rotate::{EntryState, Observed, Policy, RotationState, Step, next_step};
use serde_json::json;

use crate::cli::RotateArgs;
use crate::output;
use dkim_rotate::{ManagedEntry, SigningKeys, Untouched, known_or_adopted, utc_minute as date};

/// One entry as status reports it.
struct EntryStatus {
    name: String,
    domain: String,
    /// The state rotate keeps (or would adopt on its next run), or why it cannot be read.
    state: Result<EntryState, String>,
    /// What comes next, in words, and when.
    next: Option<(String, u64)>,
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
        .map(|entry| {
            let known = known_or_adopted(state, keys, entry)
                .map(|(state, _)| state)
                .map_err(|error| output::describe_cause(&error));
            let next = known
                .as_ref()
                .ok()
                .map(|s| next_step_in_words(s, keys, &entry.name, now, policy));
            EntryStatus {
                name: entry.name.clone(),
                domain: entry.domain.to_string(),
                state: known,
                next,
            }
        })
        .collect();
    let all_read = entries.iter().all(|e| e.state.is_ok());
    if args.json {
        output::print_json(&json!({
            "keys": entries.iter().map(|e| entry_json(e, policy)).collect::<Vec<_>>(),
            "untouched": unmanaged.iter().map(|u| json!({ "key_name": u.name, "why": u.why })).collect::<Vec<_>>(),
        }))?;
        return Ok(all_read);
    }
    let mut out = output::stdout();
    for entry in &entries {
        writeln!(out, "{}", entry_line(entry, policy))?;
    }
    for Untouched { name, why } in unmanaged {
        writeln!(out, "{name}: left untouched: {why}")?;
    }
    out.flush()?;
    Ok(all_read)
}

fn entry_json(entry: &EntryStatus, policy: Policy) -> serde_json::Value {
    let state = match &entry.state {
        Ok(state) => state,
        Err(error) => {
            return json!({ "key_name": entry.name, "domain": entry.domain, "error": error });
        }
    };
    json!({
        "key_name": entry.name,
        "domain": entry.domain,
        "active": {
            "selector": state.current.selector,
            "key_file": state.current.key_file,
            "since": date(state.current.since),
        },
        "pending": state.next.as_ref().map(|next| json!({
            "selector": next.selector,
            "key_file": next.key_file,
            "started": date(next.started),
            "published": next.published,
        })),
        "retiring": state.retiring.iter().map(|r| json!({
            "selector": r.selector,
            "key_file": r.key_file,
            "switched": date(r.switched_at),
            "overlap_ends": date(policy.overlap.after(r.switched_at)),
            "withdrawn": r.withdrawn,
            "stolen": r.stolen,
        })).collect::<Vec<_>>(),
        "next_step": entry.next.as_ref().map(|(what, _)| what),
        "next_step_at": entry.next.as_ref().map(|(_, at)| date(*at)),
        "next_step_unix": entry.next.as_ref().map(|(_, at)| at),
    })
}

fn entry_line(entry: &EntryStatus, policy: Policy) -> String {
    let state = match &entry.state {
        Ok(state) => state,
        Err(error) => return format!("{}: {}: cannot tell: {error}", entry.name, entry.domain),
    };
    let pending = match &state.next {
        None => "none".to_owned(),
        Some(next) if next.published => format!("{} (published)", next.selector),
        Some(next) => format!("{} (not yet published)", next.selector),
    };
    let retiring: Vec<String> = state
        .retiring
        .iter()
        .map(|r| {
            if r.withdrawn {
                format!("{} (record withdrawn)", r.selector)
            } else if r.stolen.is_some() {
                format!("{} (believed stolen: record goes now)", r.selector)
            } else {
                format!(
                    "{} (record until {})",
                    r.selector,
                    date(policy.overlap.after(r.switched_at))
                )
            }
        })
        .collect();
    let next = entry
        .next
        .as_ref()
        .map(|(what, at)| format!("; next step {}: {what}", date(*at)))
        .unwrap_or_default();
    format!(
        "{}: {}: active {} since {}; pending {pending}; retiring {}{next}",
        entry.name,
        entry.domain,
        state.current.selector,
        date(state.current.since),
        if retiring.is_empty() {
            "none".to_owned()
        } else {
            retiring.join(", ")
        }
    )
}

//! The rotation cycle as a pure function: given what rotate remembers about an entry and what it
//! observes now, the one next step. The executor performs the step, records it, and asks again,
//! so every step is resumable: a run killed between two steps is completed by the next run.
//!
//! The cycle (what the seed guides do by hand, with the check they skip):
//! 1. due (the key is older than `every`): make the next key, publish its record;
//! 2. when the record is visible: switch the KeyTable to it and reload the signer;
//! 3. when `overlap` has passed since the switch: withdraw the old record, retire the old key.

use dkim_core::time::Period;

use super::state::EntryState;

/// When to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How old a key may get.
    pub every: Period,
    /// How long an old record stays published after the switch, for mail in flight and queued.
    pub overlap: Period,
    /// How long to wait for name servers to serve a new record, or to stop serving an old one,
    /// before it is a failure someone must look at (see [`super::wait`]).
    pub max_wait: Period,
}

/// What rotate sees now, besides its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed<'a> {
    /// The selector the KeyTable entry names now.
    pub keytable_selector: &'a str,
    /// Whether the next key's private key file exists.
    pub next_key_written: bool,
    /// Whether to start a rotation now, due or not (`--rotate-now`: the key is believed stolen).
    pub rotate_now: bool,
}

/// The next step for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The KeyTable already names the next key (a run switched it and was killed before
    /// recording it): record the switch.
    RecordSwitch,
    /// Run the reload command: the signer has not seen the switch yet.
    Reload,
    /// The overlap of a retiring key has ended: withdraw its record.
    Withdraw {
        /// Which key.
        selector: String,
    },
    /// A retiring key's record is withdrawn: once no name server serves it, move its private
    /// key to retired/.
    Retire {
        /// Which key.
        selector: String,
    },
    /// The current key is due: choose the next key's selector and file.
    BeginRotation,
    /// Write the next key's files.
    Generate,
    /// Publish the next key's record.
    Publish,
    /// Switch to the next key once its record is visible.
    SwitchWhenVisible,
    /// Nothing to do before `until`.
    Idle {
        /// When the next step is due.
        until: u64,
    },
}

/// The next step for `entry` at `now`.
pub fn next_step(entry: &EntryState, observed: Observed<'_>, now: u64, policy: Policy) -> Step {
    if let Some(next) = &entry.next
        && observed.keytable_selector == next.selector
    {
        return Step::RecordSwitch;
    }
    if entry.reload_pending {
        return Step::Reload;
    }
    for retiring in &entry.retiring {
        if retiring.withdrawn {
            return Step::Retire {
                selector: retiring.selector.clone(),
            };
        }
        // A stolen key's record goes as soon as its successor is live: no overlap.
        if retiring.stolen.is_some() || policy.overlap.after(retiring.switched_at) <= now {
            return Step::Withdraw {
                selector: retiring.selector.clone(),
            };
        }
    }
    if let Some(next) = &entry.next {
        return if !observed.next_key_written {
            Step::Generate
        } else if !next.published {
            Step::Publish
        } else {
            Step::SwitchWhenVisible
        };
    }
    let due = policy.every.after(entry.current.since);
    if due <= now || observed.rotate_now {
        return Step::BeginRotation;
    }
    let overlap_ends = entry
        .retiring
        .iter()
        .map(|r| policy.overlap.after(r.switched_at));
    Step::Idle {
        until: overlap_ends.chain([due]).min().unwrap_or(due),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{CurrentKey, NextKey, RetiringKey};

    const DAY: u64 = 86_400;
    const NOV1: u64 = 1_793_505_600; // 2026-11-01T04:00:00Z
    const DEC1: u64 = 1_796_097_600; // 2026-12-01T04:00:00Z

    fn policy() -> Policy {
        Policy {
            every: "1month".parse().unwrap(),
            overlap: "14d".parse().unwrap(),
            max_wait: "3d".parse().unwrap(),
        }
    }

    fn entry() -> EntryState {
        EntryState {
            domain: "example.com".into(),
            current: CurrentKey {
                selector: "202611".into(),
                key_file: "/k/202611.private".into(),
                since: NOV1,
            },
            next: None,
            retiring: Vec::new(),
            reload_pending: false,
        }
    }

    fn observed(selector: &str, written: bool) -> Observed<'_> {
        Observed {
            keytable_selector: selector,
            next_key_written: written,
            rotate_now: false,
        }
    }

    #[test]
    fn a_whole_cycle() {
        let mut e = entry();
        assert_eq!(
            next_step(&e, observed("202611", false), DEC1 - 1, policy()),
            Step::Idle { until: DEC1 }
        );
        assert_eq!(
            next_step(&e, observed("202611", false), DEC1, policy()),
            Step::BeginRotation
        );
        e.next = Some(NextKey {
            selector: "202612".into(),
            key_file: "/k/202612.private".into(),
            started: DEC1,
            published: false,
            published_at: None,
            replaces_stolen: None,
        });
        assert_eq!(
            next_step(&e, observed("202611", false), DEC1, policy()),
            Step::Generate
        );
        assert_eq!(
            next_step(&e, observed("202611", true), DEC1, policy()),
            Step::Publish
        );
        e.next.as_mut().unwrap().published = true;
        assert_eq!(
            next_step(&e, observed("202611", true), DEC1, policy()),
            Step::SwitchWhenVisible
        );
        // The KeyTable was switched, and the run killed before it recorded the switch.
        assert_eq!(
            next_step(&e, observed("202612", true), DEC1, policy()),
            Step::RecordSwitch
        );
        let next = e.next.take().unwrap();
        e.retiring.push(RetiringKey {
            selector: "202611".into(),
            key_file: "/k/202611.private".into(),
            switched_at: DEC1,
            withdrawn: false,
            withdrawn_at: None,
            stolen: None,
        });
        e.current = CurrentKey {
            selector: next.selector,
            key_file: next.key_file,
            since: DEC1,
        };
        e.reload_pending = true;
        assert_eq!(
            next_step(&e, observed("202612", false), DEC1, policy()),
            Step::Reload
        );
        e.reload_pending = false;
        assert_eq!(
            next_step(&e, observed("202612", false), DEC1 + DAY, policy()),
            Step::Idle {
                until: DEC1 + 14 * DAY
            }
        );
        assert_eq!(
            next_step(&e, observed("202612", false), DEC1 + 14 * DAY, policy()),
            Step::Withdraw {
                selector: "202611".into()
            }
        );
        e.retiring[0].withdrawn = true;
        assert_eq!(
            next_step(&e, observed("202612", false), DEC1 + 14 * DAY, policy()),
            Step::Retire {
                selector: "202611".into()
            }
        );
        e.retiring.clear();
        assert_eq!(
            next_step(&e, observed("202612", false), DEC1 + 14 * DAY, policy()),
            Step::Idle {
                until: 1_798_776_000
            } // 2027-01-01T04:00:00Z
        );
    }

    #[test]
    fn a_stolen_key_rotates_at_once_and_its_record_goes_with_no_overlap() {
        let mut e = entry();
        let stolen = Observed {
            rotate_now: true,
            ..observed("202611", false)
        };
        assert_eq!(
            next_step(&e, stolen, NOV1 + DAY, policy()),
            Step::BeginRotation
        );
        e.retiring.push(RetiringKey {
            selector: "202610".into(),
            key_file: "/k/202610.private".into(),
            switched_at: NOV1 + DAY,
            withdrawn: false,
            withdrawn_at: None,
            stolen: Some(crate::StolenKeyEnd::Revoke),
        });
        assert_eq!(
            next_step(&e, observed("202611", false), NOV1 + DAY, policy()),
            Step::Withdraw {
                selector: "202610".into()
            }
        );
    }

    #[test]
    fn old_records_are_never_withdrawn_before_the_overlap_ends() {
        let mut e = entry();
        e.retiring.push(RetiringKey {
            selector: "202610".into(),
            key_file: "/k/202610.private".into(),
            switched_at: NOV1,
            withdrawn: false,
            withdrawn_at: None,
            stolen: None,
        });
        for now in (NOV1..NOV1 + 14 * DAY).step_by(3600) {
            assert!(
                !matches!(
                    next_step(&e, observed("202611", false), now, policy()),
                    Step::Withdraw { .. }
                ),
                "{now}"
            );
        }
        assert!(matches!(
            next_step(&e, observed("202611", false), NOV1 + 14 * DAY, policy()),
            Step::Withdraw { .. }
        ));
    }
}

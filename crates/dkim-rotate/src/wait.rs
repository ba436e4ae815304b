//! Waiting for DNS. A new record counts as published only when every name server rotate asks
//! (the primary and each secondary) serves it, and an old one as withdrawn only when none does:
//! a secondary that missed a NOTIFY, or a zone whose serial was not raised, keeps the old data,
//! and a signer switched to a key that part of the world cannot find makes mail fail there.
//! A wait longer than the policy allows is a failure someone must look at, with the servers
//! that are behind.

use std::fmt;

use super::events::utc_minute;
use super::plan::{Policy, Step};
use super::state::EntryState;

/// What rotate waits for at a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaited {
    /// The new record, served by every name server.
    Served,
    /// The old record, served by none.
    Gone,
}

/// What one name server says about the awaited record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// It serves the record (for a new key: the right one).
    Serves,
    /// It does not.
    Lacks,
    /// It gave no usable answer (timeout, failure): it cannot be counted either way.
    NoAnswer(String),
}

/// One name server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAnswer {
    /// The server, as given (`192.0.2.53:53`).
    pub server: String,
    /// What it said.
    pub presence: Presence,
}

/// A name server that is not where the wait needs it, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    /// The server.
    pub server: String,
    /// What it says (see [`Presence`]), never [`Presence::Serves`] for a new record nor
    /// [`Presence::Lacks`] for an old one.
    pub presence: Presence,
    /// What was awaited.
    pub awaited: Awaited,
}

impl fmt::Display for Behind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.presence, self.awaited) {
            (Presence::NoAnswer(why), _) => write!(f, "{} did not answer ({why})", self.server),
            (_, Awaited::Served) => write!(f, "{} does not serve it", self.server),
            (_, Awaited::Gone) => write!(f, "{} still serves it", self.server),
        }
    }
}

/// How a wait stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitVerdict {
    /// Every server agrees: go on.
    Done,
    /// Some server is behind, within the time allowed.
    Waiting {
        /// Which, and how.
        behind: Vec<Behind>,
    },
    /// Some server has been behind longer than the policy allows.
    Overdue(WaitOverdue),
}

/// A wait for DNS that took longer than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct WaitOverdue {
    /// The record's name.
    pub name: String,
    /// When the wait began.
    pub since: u64,
    /// The servers behind.
    pub behind: Vec<Behind>,
    /// The time allowed, as given.
    pub max_wait: String,
}

impl fmt::Display for WaitOverdue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let awaited = self.behind.first().map_or(Awaited::Served, |b| b.awaited);
        let since = utc_minute(self.since);
        let goal = match awaited {
            Awaited::Served => "to be served by every name server",
            Awaited::Gone => "to be gone from every name server",
        };
        let behind: Vec<String> = self.behind.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}: waited since {since}, longer than the {} allowed, for it {goal}: {}; fix the \
             server (zone transfer, NOTIFY, serial) and run again",
            self.name,
            self.max_wait,
            behind.join("; ")
        )
    }
}

/// Whether the wait for `awaited` at `name`, begun at `since`, is over given `answers` (one per
/// name server), at `now`.
pub fn judge_wait(
    awaited: Awaited,
    name: &str,
    answers: &[ServerAnswer],
    since: u64,
    now: u64,
    policy: Policy,
) -> WaitVerdict {
    let behind: Vec<Behind> = answers
        .iter()
        .filter(|a| {
            !matches!(
                (&a.presence, awaited),
                (Presence::Serves, Awaited::Served) | (Presence::Lacks, Awaited::Gone)
            )
        })
        .map(|a| Behind {
            server: a.server.clone(),
            presence: a.presence.clone(),
            awaited,
        })
        .collect();
    if behind.is_empty() {
        WaitVerdict::Done
    } else if policy.max_wait.after(since) <= now {
        WaitVerdict::Overdue(WaitOverdue {
            name: name.to_owned(),
            since,
            behind,
            max_wait: policy.max_wait.to_string(),
        })
    } else {
        WaitVerdict::Waiting { behind }
    }
}

/// When the wait of `step` began, for a step that waits for DNS: the switch waits from when
/// the next record was published, the retirement of an old key from when its record was
/// withdrawn. (A state written before these times were kept counts from when the rotation
/// started, or the overlap ended.)
pub fn waiting_since(entry: &EntryState, step: &Step, policy: Policy) -> Option<u64> {
    match step {
        Step::SwitchWhenVisible => entry
            .next
            .as_ref()
            .map(|next| next.published_at.unwrap_or(next.started)),
        Step::Retire { selector } => {
            entry
                .retiring
                .iter()
                .find(|r| &r.selector == selector)
                .map(|r| {
                    r.withdrawn_at
                        .unwrap_or_else(|| policy.overlap.after(r.switched_at))
                })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn policy() -> Policy {
        Policy {
            every: "1month".parse().unwrap(),
            overlap: "14d".parse().unwrap(),
            max_wait: "3d".parse().unwrap(),
        }
    }

    fn answer(server: &str, presence: Presence) -> ServerAnswer {
        ServerAnswer {
            server: server.into(),
            presence,
        }
    }

    #[test]
    fn published_needs_every_server_and_withdrawn_needs_none() {
        let all = [
            answer("primary", Presence::Serves),
            answer("secondary", Presence::Serves),
        ];
        let one = [
            answer("primary", Presence::Serves),
            answer("secondary", Presence::Lacks),
        ];
        let none = [
            answer("primary", Presence::Lacks),
            answer("secondary", Presence::Lacks),
        ];
        let judge = |awaited, answers: &[ServerAnswer]| {
            judge_wait(
                awaited,
                "s._domainkey.example.com",
                answers,
                0,
                DAY,
                policy(),
            )
        };
        assert_eq!(judge(Awaited::Served, &all), WaitVerdict::Done);
        assert_eq!(judge(Awaited::Gone, &none), WaitVerdict::Done);
        let WaitVerdict::Waiting { behind } = judge(Awaited::Served, &one) else {
            panic!()
        };
        assert_eq!(behind[0].to_string(), "secondary does not serve it");
        let WaitVerdict::Waiting { behind } = judge(Awaited::Gone, &one) else {
            panic!()
        };
        assert_eq!(behind[0].to_string(), "primary still serves it");
        // A server that does not answer counts for neither.
        let silent = [answer("secondary", Presence::NoAnswer("timed out".into()))];
        assert!(matches!(
            judge(Awaited::Gone, &silent),
            WaitVerdict::Waiting { .. }
        ));
    }

    #[test]
    fn a_wait_past_max_wait_names_the_servers_behind() {
        let answers = [
            answer("127.0.0.1:53", Presence::Serves),
            answer("127.0.0.2:53", Presence::NoAnswer("timed out".into())),
        ];
        let since = 1_796_097_600; // 2026-12-01 04:00 UTC
        let judge = |now| {
            judge_wait(
                Awaited::Served,
                "202612._domainkey.example.com",
                &answers,
                since,
                now,
                policy(),
            )
        };
        assert!(matches!(
            judge(since + 3 * DAY - 1),
            WaitVerdict::Waiting { .. }
        ));
        let WaitVerdict::Overdue(overdue) = judge(since + 3 * DAY) else {
            panic!()
        };
        assert_eq!(
            overdue.to_string(),
            "202612._domainkey.example.com: waited since 2026-12-01 04:00 UTC, longer than \
             the 3d allowed, for it to be served by every name server: 127.0.0.2:53 did not \
             answer (timed out); fix the server (zone transfer, NOTIFY, serial) and run again"
        );
    }
}

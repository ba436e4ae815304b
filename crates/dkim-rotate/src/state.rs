//! What rotate remembers between runs, one entry per KeyTable key it manages. Written after
//! every step (atomically, mode 0600), so a run killed at any point leaves a state the next run
//! completes from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use host_files::{Existing, PRIVATE_FILE_MODE, WriteError, write_file_with};

/// The state file's format version.
const VERSION: u32 = 1;

/// Everything rotate knows, by KeyTable key name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RotationState {
    /// Format version.
    pub version: u32,
    /// The managed entries.
    pub entries: BTreeMap<String, EntryState>,
}

/// One managed KeyTable entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryState {
    /// The signing domain.
    pub domain: String,
    /// The key the KeyTable names.
    pub current: CurrentKey,
    /// The key being introduced: generated, maybe published, not yet switched to.
    #[serde(default)]
    pub next: Option<NextKey>,
    /// Keys switched away from, whose records stay published until the overlap ends.
    #[serde(default)]
    pub retiring: Vec<RetiringKey>,
    /// The KeyTable was switched but the reload command has not yet succeeded.
    #[serde(default)]
    pub reload_pending: bool,
}

/// The key in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentKey {
    /// Its selector.
    pub selector: String,
    /// Its private key file.
    pub key_file: PathBuf,
    /// When it was made, switched to, or (for a key found already in use) last modified.
    pub since: u64,
}

/// The key being introduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextKey {
    /// Its selector.
    pub selector: String,
    /// Its private key file (the record is beside it, SELECTOR.txt).
    pub key_file: PathBuf,
    /// When the rotation started.
    pub started: u64,
    /// Whether its record has been published (or, with manual publishing, asked for).
    pub published: bool,
    /// When it was published: the wait for every name server to serve it counts from here.
    #[serde(default)]
    pub published_at: Option<u64>,
    /// Set when the rotation was started early because the current key is believed stolen
    /// (`--rotate-now`): how the current key's record ends once this key is live, with no
    /// overlap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_stolen: Option<StolenKeyEnd>,
}

/// How the record of a key believed stolen ends, as soon as its successor is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StolenKeyEnd {
    /// The record is deleted.
    Withdraw,
    /// The record is replaced by one with an empty `p=`, which revokes the key (RFC 6376
    /// 3.6.1): verifiers then fail its signatures rather than find no key.
    Revoke,
}

/// A key switched away from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiringKey {
    /// Its selector.
    pub selector: String,
    /// Its private key file, until it is moved to retired/.
    pub key_file: PathBuf,
    /// When the KeyTable stopped naming it.
    pub switched_at: u64,
    /// Whether its record has been withdrawn.
    pub withdrawn: bool,
    /// When it was withdrawn: the wait for every name server to stop serving it counts from
    /// here.
    #[serde(default)]
    pub withdrawn_at: Option<u64>,
    /// Set for a key believed stolen: its record ends this way at once, with no overlap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stolen: Option<StolenKeyEnd>,
}

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Reading failed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a state file this version understands.
    #[error("{} is not a rotate state file dkimkit understands: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl EntryState {
    /// Records that the KeyTable now names the next key: it becomes current, the old key starts
    /// its overlap, and the signer needs reloading. Returns the old key's selector (None when
    /// there is no next key). The new key's age counts from when it was made, not from the
    /// switch, so that waiting for DNS does not push every later rotation back.
    pub fn switch_to_next(&mut self, now: u64) -> Option<String> {
        let next = self.next.take()?;
        let old = std::mem::replace(
            &mut self.current,
            CurrentKey {
                selector: next.selector,
                key_file: next.key_file,
                since: next.started,
            },
        );
        self.retiring.push(RetiringKey {
            selector: old.selector.clone(),
            key_file: old.key_file,
            switched_at: now,
            withdrawn: false,
            withdrawn_at: None,
            stolen: next.replaces_stolen,
        });
        self.reload_pending = true;
        Some(old.selector)
    }
}

impl RotationState {
    /// Reads the state; a missing file is a first run.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RotationState {
                    version: VERSION,
                    entries: BTreeMap::new(),
                });
            }
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let state: RotationState =
            serde_json::from_str(&text).map_err(|e| StateError::Malformed {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        if state.version != VERSION {
            return Err(StateError::Malformed {
                path: path.to_owned(),
                reason: format!("version {} (this dkimkit writes {VERSION})", state.version),
            });
        }
        Ok(state)
    }

    /// Writes the state atomically: a crash leaves the old state or the new one.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| StateError::Malformed {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        write_file_with(path, PRIVATE_FILE_MODE, Existing::Replace, |file| {
            std::io::Write::write_all(file, text.as_bytes())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_keeps_the_new_keys_age_from_its_making() {
        let mut entry = EntryState {
            domain: "example.com".into(),
            current: CurrentKey {
                selector: "a".into(),
                key_file: "/k/a.private".into(),
                since: 1,
            },
            next: Some(NextKey {
                selector: "b".into(),
                key_file: "/k/b.private".into(),
                started: 100,
                published: true,
                published_at: Some(100),
                replaces_stolen: None,
            }),
            retiring: Vec::new(),
            reload_pending: false,
        };
        assert_eq!(entry.switch_to_next(250), Some("a".into()));
        assert_eq!(
            (entry.current.selector.as_str(), entry.current.since),
            ("b", 100)
        );
        assert_eq!(entry.retiring[0].switched_at, 250);
        assert!(entry.reload_pending && entry.next.is_none());
        assert_eq!(entry.switch_to_next(300), None);
    }

    #[test]
    fn round_trips_and_a_missing_file_is_a_first_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let empty = RotationState::load(&path).unwrap();
        assert!(empty.entries.is_empty());
        let mut state = empty;
        state.entries.insert(
            "k".into(),
            EntryState {
                domain: "example.com".into(),
                current: CurrentKey {
                    selector: "202611".into(),
                    key_file: "/k/202611.private".into(),
                    since: 5,
                },
                next: Some(NextKey {
                    selector: "202612".into(),
                    key_file: "/k/202612.private".into(),
                    started: 6,
                    published: true,
                    published_at: Some(6),
                    replaces_stolen: Some(StolenKeyEnd::Revoke),
                }),
                retiring: vec![RetiringKey {
                    selector: "202610".into(),
                    key_file: "/k/202610.private".into(),
                    switched_at: 4,
                    withdrawn: true,
                    withdrawn_at: Some(5),
                    stolen: None,
                }],
                reload_pending: true,
            },
        );
        state.save(&path).unwrap();
        assert_eq!(RotationState::load(&path).unwrap(), state);
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            RotationState::load(&path),
            Err(StateError::Malformed { .. })
        ));
    }
}

//! The user opendkim runs as, and what that user may read.
//!
//! opendkim starts as root and switches to the user of its `UserID` setting
//! (opendkim.conf(5): `userid[:group]`, names or numbers) before it opens a key. A key that user
//! cannot read is a key opendkim cannot sign with, whatever root (who runs dkimkit from cron)
//! can read. Users and groups are looked up in /etc/passwd and /etc/group, as `getpwnam(3)`
//! does with the "files" source of nsswitch.conf, which is where a system user such as
//! opendkim lives.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";

/// A user and the groups it is in: whose permission bits apply when it opens a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    /// The name, or the number as written when /etc/passwd does not list it.
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The primary group.
    pub gid: u32,
    /// Every group, the primary one included.
    pub groups: Vec<u32>,
}

/// Why a user could not be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// /etc/passwd or /etc/group could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// No such user.
    #[error("no user \"{0}\" in /etc/passwd")]
    UnknownUser(String),
    /// No such group.
    #[error("no group \"{0}\" in /etc/group")]
    UnknownGroup(String),
}

fn read(path: &str) -> Result<String, UserError> {
    std::fs::read_to_string(path).map_err(|source| UserError::Read {
        path: PathBuf::from(path),
        source,
    })
}

/// The colon-separated fields of each entry of a passwd or group file.
fn entries(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split(':').collect::<Vec<_>>())
}

/// The gid of group `group` (a name or a number).
fn group_id(group_file: &str, group: &str) -> Result<u32, UserError> {
    if let Ok(number) = group.parse() {
        return Ok(number);
    }
    entries(group_file)
        .find(|fields| fields.first() == Some(&group))
        .and_then(|fields| fields.get(2)?.parse().ok())
        .ok_or_else(|| UserError::UnknownGroup(group.to_owned()))
}

impl SystemUser {
    /// The user of an opendkim `UserID` value: `user` or `user:group`, names or numbers. With
    /// a group, the user has that group only (opendkim calls `setgid` to it and `initgroups`
    /// is not called then); without one, its primary group and its supplementary groups.
    pub fn from_user_id(value: &str) -> Result<Self, UserError> {
        let (user, group) = match value.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (value, None),
        };
        let passwd = read(PASSWD)?;
        let listed = entries(&passwd).find(|fields| {
            fields.first() == Some(&user)
                || (user.parse::<u32>().is_ok() && fields.get(2) == Some(&user))
        });
        let (name, uid, gid) = match (listed, user.parse::<u32>()) {
            (Some(fields), _) => {
                let number = |i: usize| fields.get(i).and_then(|f| f.parse().ok());
                match (number(2), number(3)) {
                    (Some(uid), Some(gid)) => (fields[0].to_owned(), uid, gid),
                    _ => return Err(UserError::UnknownUser(user.to_owned())),
                }
            }
            // A number /etc/passwd does not list: its group is unknown.
            (None, Ok(uid)) => (user.to_owned(), uid, u32::MAX),
            (None, Err(_)) => return Err(UserError::UnknownUser(user.to_owned())),
        };
        let group_file = read(GROUP)?;
        let groups = match group {
            Some(group) => vec![group_id(&group_file, group)?],
            None => {
                let mut groups = vec![gid];
                groups.extend(
                    entries(&group_file)
                        .filter(|fields| {
                            fields
                                .get(3)
                                .is_some_and(|members| members.split(',').any(|m| m == name))
                        })
                        .filter_map(|fields| fields.get(2)?.parse::<u32>().ok()),
                );
                groups
            }
        };
        Ok(SystemUser {
            gid: groups[0],
            name,
            uid,
            groups,
        })
    }

    /// The user who owns `path` (opendkim, when its KeyTable is its own).
    pub fn owner_of(path: &Path) -> Result<Self, UserError> {
        let metadata = std::fs::metadata(path).map_err(|source| UserError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_user_id(&metadata.uid().to_string())
    }

    /// Whether this user may do what `wanted` asks (bits of 0o7: 4 read, 2 write, 1 search)
    /// with a file of this metadata, by the owner, group and other bits as the kernel checks
    /// them (root may read and search anything).
    pub fn may(&self, metadata: &Metadata, wanted: u32) -> bool {
        if self.uid == 0 {
            return true;
        }
        let mode = metadata.mode();
        let granted = if metadata.uid() == self.uid {
            mode >> 6
        } else if self.groups.contains(&metadata.gid()) {
            mode >> 3
        } else {
            mode
        } & 0o7;
        granted & wanted == wanted
    }

    /// Why this user could not read the file at `path`: a directory it cannot search on the
    /// way, or the file's own bits. None when it can.
    pub fn cannot_read(&self, path: &Path) -> Result<Option<String>, io::Error> {
        let resolved = std::fs::canonicalize(path)?;
        let mut directories: Vec<&Path> = resolved.ancestors().skip(1).collect();
        directories.reverse();
        let described = |metadata: &Metadata| {
            format!(
                "owner {}, group {}, mode {:04o}",
                metadata.uid(),
                metadata.gid(),
                metadata.mode() & 0o7777
            )
        };
        for directory in directories {
            let metadata = std::fs::metadata(directory)?;
            if !self.may(&metadata, 0o1) {
                return Ok(Some(format!(
                    "the directory {} ({}) does not let it in",
                    directory.display(),
                    described(&metadata)
                )));
            }
        }
        let metadata = std::fs::metadata(&resolved)?;
        if !self.may(&metadata, 0o4) {
            return Ok(Some(format!(
                "the file ({}) does not let it read",
                described(&metadata)
            )));
        }
        Ok(None)
    }

    /// Why opendkim, running as this user, could not sign with the private key at `key_file`,
    /// with the fix; None when it can (or when that cannot be told).
    pub fn cannot_sign_with(&self, key_file: &Path) -> Option<String> {
        let why = self.cannot_read(key_file).ok()??;
        Some(format!(
            "{}: opendkim runs as {}, who cannot read this key: {why}; fix it with: chown {} {}",
            key_file.display(),
            self.name,
            self.name,
            key_file.display()
        ))
    }
}

/// The user opendkim runs as, as far as the files tell: opendkim.conf's `UserID`, or else the
/// owner of its KeyTable (a KeyTable opendkim owns is read as that user). None when neither
/// tells (no UserID and a KeyTable root owns, which root reads whatever user it runs as).
pub fn opendkim_user(
    user_id: Option<&str>,
    key_table: Option<&Path>,
) -> Result<Option<SystemUser>, UserError> {
    match (user_id, key_table) {
        (Some(user_id), _) => SystemUser::from_user_id(user_id).map(Some),
        (None, Some(table)) => Ok(SystemUser::owner_of(table).ok().filter(|u| u.uid != 0)),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_passwd_and_reads_everything() {
        let root = SystemUser::from_user_id("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(SystemUser::from_user_id("0").unwrap().name, "root");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, "k").unwrap();
        assert_eq!(root.cannot_read(&file).unwrap(), None);
        assert!(matches!(
            SystemUser::from_user_id("no-such-user-here"),
            Err(UserError::UnknownUser(_))
        ));
    }

    #[test]
    fn bits_are_those_of_owner_group_or_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, "k").unwrap();
        let metadata = |mode| {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::metadata(&file).unwrap()
        };
        let owner = std::fs::metadata(&file).unwrap();
        let user = |uid, groups: Vec<u32>| SystemUser {
            name: "u".into(),
            uid,
            gid: groups[0],
            groups,
        };
        let me = user(owner.uid().max(1), vec![owner.gid()]);
        let stranger = user(owner.uid() + 4242, vec![4242]);
        let member = user(owner.uid() + 4242, vec![4242, owner.gid()]);
        let m = metadata(0o600);
        // A test run by a non-root owner sees itself; run as root, the owner is uid 0.
        if owner.uid() != 0 {
            assert!(me.may(&m, 4));
        }
        assert!(!stranger.may(&m, 4) && !member.may(&m, 4));
        let m = metadata(0o640);
        assert!(member.may(&m, 4) && !stranger.may(&m, 4));
        let m = metadata(0o604);
        assert!(stranger.may(&m, 4) && !member.may(&m, 4));
    }
}

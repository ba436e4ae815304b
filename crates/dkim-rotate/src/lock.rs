//! One rotate run at a time: an exclusive lock on a file next to the state, held for the whole
//! run and released by the kernel even if the run is killed.
//!
//! The lock file is opened without following a symbolic link and without truncating, so a link
//! planted in its place cannot make the run clobber another file.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another run holds it.
    #[error("another rotate run holds the lock {}", path.display())]
    Held {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be opened (including: it is a symbolic link).
    #[error("cannot open the lock file {}: {source}", path.display())]
    Open {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Something other than a regular file stands at the lock's path.
    #[error("{} is not a regular file; refusing to use it as a lock", path.display())]
    NotAFile {
        /// The lock file.
        path: PathBuf,
    },
}

impl RunLock {
    /// Takes the lock, or says another run has it.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        let open_error = |source| LockError::Open {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(open_error)?;
        if !file.metadata().map_err(open_error)?.is_file() {
            return Err(LockError::NotAFile {
                path: path.to_owned(),
            });
        }
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held {
                path: path.to_owned(),
            }),
            Err(TryLockError::Error(source)) => Err(open_error(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rotate.lock");
        let first = RunLock::acquire(&path).unwrap();
        assert!(matches!(
            RunLock::acquire(&path),
            Err(LockError::Held { .. })
        ));
        drop(first);
        RunLock::acquire(&path).unwrap();
    }

    #[test]
    fn a_planted_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("rotate.lock");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert!(matches!(
            RunLock::acquire(&path),
            Err(LockError::Open { .. })
        ));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}

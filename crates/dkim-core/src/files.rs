//! Writing files so that nobody, a reader or the next run after a crash, ever sees half of one.
//!
//! Each file is written to a temporary file in its own directory, created with its final
//! permissions (a private key is 0600 from the first byte; there is no chmod afterwards), synced,
//! and renamed into place. A set of files (a key and its record) is written together: if one
//! cannot be put in place, the ones already placed are removed again.

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Mode of a private key file (what opendkim's RequireSafeKeys expects).
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of a file anyone may read, such as a published record (narrowed by the umask).
pub const PUBLIC_FILE_MODE: u32 = 0o644;

/// What to do when a file to write exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, before writing anything.
    Refuse,
    /// Replace it (atomically).
    Replace,
}

/// One file to write.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// Where it goes.
    pub path: &'a Path,
    /// What it holds.
    pub contents: &'a [u8],
    /// Its permission bits (the umask may narrow them).
    pub mode: u32,
}

/// Why files could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A file exists and [`Existing::Refuse`] was asked for. Nothing was written.
    #[error("{} already exists", path.display())]
    Exists {
        /// The file that exists.
        path: PathBuf,
    },
    /// The operating system refused.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes a temporary file beside `path`, with its final mode, fills it with `write`, and
/// syncs it.
fn stage(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<NamedTempFile, WriteError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(parent_dir(path))
        .map_err(io_error(path))?;
    write(temp.as_file_mut()).map_err(io_error(path))?;
    temp.as_file().sync_all().map_err(io_error(path))?;
    Ok(temp)
}

/// Puts a staged file in place, never replacing an existing file with [`Existing::Refuse`].
fn place(temp: NamedTempFile, path: &Path, existing: Existing) -> Result<(), WriteError> {
    let result = match existing {
        Existing::Refuse => temp.persist_noclobber(path),
        Existing::Replace => temp.persist(path),
    };
    result.map(drop).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            WriteError::Exists {
                path: path.to_owned(),
            }
        } else {
            io_error(path)(e.error)
        }
    })
}

/// Makes the renames into `dir` durable: a crash after we return must not undo them.
fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Writes one file whose contents are produced by `write` (a stream, such as a signed message
/// too large to hold in memory), with the same guarantees as [`write_all_or_nothing`]. When
/// `write` fails, nothing is left behind.
pub fn write_file_with(
    path: &Path,
    mode: u32,
    existing: Existing,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), WriteError> {
    if existing == Existing::Refuse && path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists {
            path: path.to_owned(),
        });
    }
    let temp = stage(path, mode, write)?;
    place(temp, path, existing)?;
    sync_dir(parent_dir(path))
}

/// Writes every file or none of them.
///
/// With [`Existing::Refuse`], existing files are reported before anything is written, and the
/// final rename refuses to replace a file that appeared in the meantime (or a symbolic link an
/// attacker planted: the rename never follows it).
pub fn write_all_or_nothing(files: &[NewFile<'_>], existing: Existing) -> Result<(), WriteError> {
    if existing == Existing::Refuse
        && let Some(file) = files.iter().find(|f| f.path.symlink_metadata().is_ok())
    {
        return Err(WriteError::Exists {
            path: file.path.to_owned(),
        });
    }
    let staged = files
        .iter()
        .map(|file| stage(file.path, file.mode, |f| f.write_all(file.contents)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut placed: Vec<&Path> = Vec::new();
    for (file, temp) in files.iter().zip(staged) {
        if let Err(error) = place(temp, file.path, existing) {
            if existing == Existing::Refuse {
                // Only files this call created are removed: nothing existed before.
                for path in &placed {
                    let _ = std::fs::remove_file(path);
                }
            }
            return Err(error);
        }
        placed.push(file.path);
    }
    for file in files {
        sync_dir(parent_dir(file.path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_with_modes_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("s.private");
        let txt = dir.path().join("s.txt");
        let files = [
            NewFile {
                path: &key,
                contents: b"secret",
                mode: PRIVATE_FILE_MODE,
            },
            NewFile {
                path: &txt,
                contents: b"record",
                mode: PUBLIC_FILE_MODE,
            },
        ];
        write_all_or_nothing(&files, Existing::Refuse).unwrap();
        assert_eq!(fs::read(&key).unwrap(), b"secret");
        assert_eq!(mode(&key), 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn refuses_before_writing_anything_when_one_file_exists() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("s.private");
        let txt = dir.path().join("s.txt");
        fs::write(&txt, "old").unwrap();
        let files = [
            NewFile {
                path: &key,
                contents: b"secret",
                mode: PRIVATE_FILE_MODE,
            },
            NewFile {
                path: &txt,
                contents: b"record",
                mode: PUBLIC_FILE_MODE,
            },
        ];
        let err = write_all_or_nothing(&files, Existing::Refuse).unwrap_err();
        assert!(
            matches!(&err, WriteError::Exists { path } if *path == txt),
            "{err}"
        );
        assert!(!key.exists());
        assert_eq!(fs::read(&txt).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        write_all_or_nothing(&files, Existing::Replace).unwrap();
        assert_eq!(fs::read(&txt).unwrap(), b"record");
    }

    #[test]
    fn a_failed_stream_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("signed.eml");
        let failed = write_file_with(&out, PRIVATE_FILE_MODE, Existing::Refuse, |f| {
            f.write_all(b"half a message")?;
            Err(io::Error::other("the input went away"))
        });
        assert!(matches!(failed, Err(WriteError::Io { .. })));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        write_file_with(&out, PRIVATE_FILE_MODE, Existing::Refuse, |f| {
            f.write_all(b"whole")
        })
        .unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"whole");
        assert_eq!(mode(&out), 0o600);
    }

    #[test]
    fn never_follows_a_planted_symbolic_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let key = dir.path().join("s.private");
        std::os::unix::fs::symlink(&victim, &key).unwrap();
        let files = [NewFile {
            path: &key,
            contents: b"secret",
            mode: PRIVATE_FILE_MODE,
        }];
        assert!(matches!(
            write_all_or_nothing(&files, Existing::Refuse),
            Err(WriteError::Exists { .. })
        ));
        write_all_or_nothing(&files, Existing::Replace).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert!(!fs::symlink_metadata(&key).unwrap().file_type().is_symlink());
    }
}

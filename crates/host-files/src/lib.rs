//! Writing files so that nobody, a reader or the next run after a crash, ever sees half of one.
//!
//! Each file is written to a temporary file in its own directory, created with its final
//! permissions (a private key is 0600 from the first byte; there is no chmod afterwards), synced,
//! and renamed into place. A set of files (a key and its record) is written together: if one
//! cannot be put in place, the ones already placed are removed again. A batch of independent
//! files (a thousand signed messages) is staged first and synced all at once ([`StagedFile`]),
//! since syncs one after the other cost a journal commit each; a batch of new copies whose loss
//! in a crash costs only a rerun may skip the syncs ([`Durability::Unsynced`]), as cp and rsync do.
//!
//! Reading a private key is the other half: [`read_private_key`] refuses a key that another
//! user could read or replace ([`check_secret_file`]), as opendkim's `RequireSafeKeys` (on by
//! default) does, unless the caller allows it.
//!
//! This crate knows files, owners and modes on a Unix host, and nothing of DKIM or DNS.

use std::fs::{File, Metadata, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;

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

/// Whether a file is on disk, not just in the page cache, once it is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced before the rename and its directory synced after: once placed, a crash can
    /// neither lose the file nor undo a replacement. For what cannot be made again: a key, or a
    /// message replaced in place.
    Synced,
    /// Renamed into place whole but left to the kernel's writeback, as cp and rsync leave their
    /// copies: no reader ever sees half a file, but a crash in the next seconds (before
    /// writeback) may leave it missing or empty. For new copies, which a rerun makes again.
    Unsynced,
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
    /// The file must keep an owner or group this user cannot give. Nothing was written.
    #[error(
        "{}: it must stay owned by uid {uid}, group {gid} (as the file it replaces or sits \
         beside), which this user (uid {me}) cannot give; run as root or as uid {uid}",
        path.display()
    )]
    CannotKeepOwner {
        /// The file.
        path: PathBuf,
        /// The owner it must have.
        uid: u32,
        /// The group it must have.
        gid: u32,
        /// The user we run as.
        me: u32,
    },
    /// The owner and mode of a file to keep could not be read. Nothing was written.
    #[error("cannot read the owner and mode of {}: {source}", path.display())]
    Inspect {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The operating system refused.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is in place, but its directory could not be synced: a crash may still undo it.
    #[error(
        "{} was written, but its directory {} could not be synced, so a crash may still undo \
         it: {source}",
        path.display(),
        parent_dir(path).display()
    )]
    NotDurable {
        /// The file written.
        path: PathBuf,
        /// Why the directory could not be synced.
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

/// Writes a temporary file beside `path`, with its final mode, and fills it with `write`. The
/// caller makes it durable.
fn stage(
    path: &Path,
    mode: u32,
    owner: Option<FileOwner>,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<NamedTempFile, WriteError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = parent_dir(path);
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|error| io_error(path)(without_temporary_name(error, dir)))?;
    // Given away before a byte is written, so the file is never another user's with our data.
    if let Some(owner) = owner {
        std::os::unix::fs::fchown(temp.as_file(), Some(owner.uid), Some(owner.gid))
            .map_err(io_error(path))?;
    }
    write(temp.as_file_mut()).map_err(io_error(path))?;
    Ok(temp)
}

/// tempfile's errors end with the temporary file's name (`... at path "/d/.x.eml.a5ioZ6.tmp"`),
/// which means nothing to the reader and hides the OS error: the directory's own error when it
/// is at fault (missing, as `cp` would say it), else the kind of error alone.
fn without_temporary_name(error: io::Error, dir: &Path) -> io::Error {
    if error.raw_os_error().is_some() {
        return error;
    }
    match std::fs::metadata(dir) {
        Err(dir_error) => dir_error,
        Ok(_) => io::Error::from(error.kind()),
    }
}

/// [`stage`], then a sync of the one file.
fn stage_synced(
    path: &Path,
    mode: u32,
    owner: Option<FileOwner>,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<NamedTempFile, WriteError> {
    let temp = stage(path, mode, owner, write)?;
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
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// [`sync_dir`] for the directory of `path`, just placed.
fn sync_placed(path: &Path) -> Result<(), WriteError> {
    sync_dir(parent_dir(path)).map_err(|source| WriteError::NotDurable {
        path: path.to_owned(),
        source,
    })
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
    let staged = stage_file_with(path, mode, existing, Durability::Synced, write)?;
    staged.temp.as_file().sync_all().map_err(io_error(path))?;
    place(staged.temp, path, existing)?;
    sync_placed(path)
}

/// A file of a batch, written beside where it goes and not yet in place: see
/// [`place_staged`]. Dropping it removes the temporary file.
#[derive(Debug)]
pub struct StagedFile {
    temp: NamedTempFile,
    path: PathBuf,
    existing: Existing,
    durability: Durability,
}

/// Writes a file of a batch as [`write_file_with`] does, but leaves it staged, unsynced, for
/// [`place_staged`] to put in place (and, when `durability` asks, make durable) with the rest of
/// the batch. Each staged file holds a file descriptor until it is placed, so batches should be
/// of a few hundred files at most.
pub fn stage_file_with(
    path: &Path,
    mode: u32,
    existing: Existing,
    durability: Durability,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<StagedFile, WriteError> {
    if existing == Existing::Refuse && path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists {
            path: path.to_owned(),
        });
    }
    Ok(StagedFile {
        temp: stage(path, mode, None, write)?,
        path: path.to_owned(),
        existing,
        durability,
    })
}

/// Threads syncing a batch at once. A sync of a new file waits for a journal commit; syncs
/// that wait together share one (ext4 and XFS group commits), so a thousand files sync in about
/// the time of ten, rather than taking a thousand commits one after the other.
const SYNC_THREADS: usize = 16;

/// Puts a batch of staged files in place, each with the guarantees of [`write_file_with`] (the
/// durability aside, which each file's [`Durability`] says): the files to be synced are synced
/// (concurrently), then every file is renamed into place, then each directory that received a
/// synced file is synced once. Returns one result per file, in order; a file that cannot be
/// synced is not placed.
pub fn place_staged(files: Vec<StagedFile>) -> Vec<Result<(), WriteError>> {
    let synced = sync_concurrently(&files);
    // The files placed that must also survive a crash, by their index in `files`.
    let mut to_sync: Vec<(usize, PathBuf)> = Vec::new();
    let mut results: Vec<Result<(), WriteError>> = files
        .into_iter()
        .zip(synced)
        .enumerate()
        .map(|(index, (file, synced))| {
            synced.map_err(io_error(&file.path))?;
            place(file.temp, &file.path, file.existing)?;
            if file.durability == Durability::Synced {
                to_sync.push((index, file.path));
            }
            Ok(())
        })
        .collect();
    let mut directories: Vec<&Path> = to_sync.iter().map(|(_, path)| parent_dir(path)).collect();
    directories.sort_unstable();
    directories.dedup();
    for directory in directories {
        if let Err(error) = sync_dir(directory) {
            // The renames happened but may not survive a crash: say so for each file there.
            for (index, path) in to_sync.iter().filter(|(_, p)| parent_dir(p) == directory) {
                results[*index] = Err(WriteError::NotDurable {
                    path: path.clone(),
                    source: io::Error::new(error.kind(), error.to_string()),
                });
            }
        }
    }
    results
}

/// Syncs every staged file that is to be [`Durability::Synced`], on up to [`SYNC_THREADS`]
/// threads at once; results in order (Ok for the others).
fn sync_concurrently(files: &[StagedFile]) -> Vec<io::Result<()>> {
    let per_thread = files.len().div_ceil(SYNC_THREADS).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|f| match f.durability {
                            Durability::Synced => f.temp.as_file().sync_all(),
                            Durability::Unsynced => Ok(()),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Writes every file or none of them.
///
/// With [`Existing::Refuse`], existing files are reported before anything is written, and the
/// final rename refuses to replace a file that appeared in the meantime (or a symbolic link an
/// attacker planted: the rename never follows it).
pub fn write_all_or_nothing(files: &[NewFile<'_>], existing: Existing) -> Result<(), WriteError> {
    let owned: Vec<OwnedFile<'_>> = files
        .iter()
        .map(|&file| OwnedFile { file, owner: None })
        .collect();
    write_owned_all_or_nothing(&owned, existing)
}

/// [`write_all_or_nothing`], each file given its owner and group. Whether each can be given is
/// checked first ([`check_can_give`]): when one cannot, nothing is written.
pub fn write_owned_all_or_nothing(
    owned: &[OwnedFile<'_>],
    existing: Existing,
) -> Result<(), WriteError> {
    for file in owned {
        if let Some(owner) = file.owner {
            check_can_give(owner, file.file.path)?;
        }
    }
    let files: Vec<NewFile<'_>> = owned.iter().map(|f| f.file).collect();
    if existing == Existing::Refuse
        && let Some(file) = files.iter().find(|f| f.path.symlink_metadata().is_ok())
    {
        return Err(WriteError::Exists {
            path: file.path.to_owned(),
        });
    }
    let staged = owned
        .iter()
        .map(|OwnedFile { file, owner }| {
            stage_synced(file.path, file.mode, *owner, |f| f.write_all(file.contents))
        })
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
    for file in &files {
        sync_placed(file.path)?;
    }
    Ok(())
}

/// The owner and group of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileOwner {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
}

/// The owner, group and permission bits of a file: what a file written in its place keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKeeping {
    /// Its owner and group.
    pub owner: FileOwner,
    /// Its permission bits.
    pub mode: u32,
}

impl FileKeeping {
    /// What the file at `path` has.
    pub fn of(path: &Path) -> Result<Self, WriteError> {
        let metadata = std::fs::metadata(path).map_err(|source| WriteError::Inspect {
            path: path.to_owned(),
            source,
        })?;
        Ok(FileKeeping {
            owner: FileOwner {
                uid: metadata.uid(),
                gid: metadata.gid(),
            },
            mode: metadata.mode() & 0o7777,
        })
    }
}

impl FileKeeping {
    /// What a new private key keeps of the key it follows: owner, group and mode, less any bit
    /// that lets the group or others in (an unsafe mode used with --allow-unsafe-keys is not
    /// passed on).
    pub fn for_private_key(self) -> Self {
        FileKeeping {
            mode: self.mode & !0o077,
            ..self
        }
    }
}

/// One file to write with its owner and group (None: whoever writes it).
#[derive(Debug, Clone, Copy)]
pub struct OwnedFile<'a> {
    /// The file.
    pub file: NewFile<'a>,
    /// Its owner and group.
    pub owner: Option<FileOwner>,
}

/// Replaces the file at `path` with `contents` atomically, keeping its owner, group and
/// permission bits (a table or opendkim.conf that opendkim, running as its own user, must still
/// read). A new file gets mode 0644 and whoever writes as owner. A symbolic link is replaced by
/// a file.
pub fn replace_keeping_owner(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let kept = path
        .symlink_metadata()
        .ok()
        .map(|_| FileKeeping::of(path))
        .transpose()?;
    write_owned_all_or_nothing(
        &[OwnedFile {
            file: NewFile {
                path,
                contents,
                mode: kept.map_or(PUBLIC_FILE_MODE, |k| k.mode),
            },
            owner: kept.map(|k| k.owner),
        }],
        Existing::Replace,
    )
}

/// Checks, before anything is written, that a file written in place of (or beside) the one
/// at `path` can keep its owner and group.
pub fn check_can_keep_owner(path: &Path) -> Result<(), WriteError> {
    check_can_give(FileKeeping::of(path)?.owner, path)
}

/// Creates the directory `dir` (its parent must exist) with the owner, group and permission
/// bits of `like`, as rotate's retired/ beside opendkim's keys; an existing one is left as it is.
pub fn create_dir_like(dir: &Path, like: &Path) -> Result<(), WriteError> {
    if dir.is_dir() {
        return Ok(());
    }
    let kept = FileKeeping::of(like)?;
    check_can_give(kept.owner, dir)?;
    match std::fs::DirBuilder::new()
        .mode(kept.mode & 0o777)
        .create(dir)
    {
        // Made meanwhile by another caller (rotate retires the keys of one folder on several
        // threads), which gives it the owner and mode too.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        result => result.map_err(io_error(dir))?,
    }
    std::os::unix::fs::chown(dir, Some(kept.owner.uid), Some(kept.owner.gid))
        .and_then(|()| std::fs::set_permissions(dir, Permissions::from_mode(kept.mode)))
        .map_err(io_error(dir))
}

/// Checks that a file at `path` can be given `owner`: root can give any; another user only
/// itself and a group it is in (chown(2)). A file rotate writes in place of opendkim's must
/// stay opendkim's, or opendkim stops signing: better to stop before writing anything.
pub fn check_can_give(owner: FileOwner, path: &Path) -> Result<(), WriteError> {
    let me = rustix::process::geteuid().as_raw();
    if me == 0 {
        return Ok(());
    }
    let my_groups = || {
        let mut groups: Vec<u32> = rustix::process::getgroups()
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_default();
        groups.push(rustix::process::getegid().as_raw());
        groups
    };
    if owner.uid != me || !my_groups().contains(&owner.gid) {
        return Err(WriteError::CannotKeepOwner {
            path: path.to_owned(),
            uid: owner.uid,
            gid: owner.gid,
            me,
        });
    }
    Ok(())
}

/// Permission bits that let the group or others read or write a file.
const GROUP_OR_OTHER_READ_WRITE: u32 = 0o066;
/// Permission bits that let the group or others write into a directory.
const GROUP_OR_OTHER_WRITE: u32 = 0o022;
/// The sticky bit: in such a directory only an entry's owner may rename or remove it (`/tmp`).
const STICKY: u32 = 0o1000;

/// Why a private key file is not safe to sign with: another user could read it (and sign as
/// the domain) or replace it (and have us sign with their key, or leak ours through the record
/// we print). The messages say how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsafeKeyFile {
    /// The group or others may read or write the key.
    #[error(
        "{path}: {what} can be read or written by other users (mode {mode:04o}); \
         fix it with: chmod 600 {path}",
        path = path.display()
    )]
    OpenToOthers {
        /// What the file holds: "the private key", "the credentials".
        what: &'static str,
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key belongs to another user (not root), who can change its mode or contents.
    #[error(
        "{path}: {what} is owned by uid {owner}, not by this user (uid {me}) or root; \
         fix it with: chown {me} {path}",
        path = path.display()
    )]
    ForeignOwner {
        /// What the file holds.
        what: &'static str,
        /// The key file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The user we run as.
        me: u32,
    },
    /// A directory on the way to the key lets other users replace the key.
    #[error(
        "{path}: other users can replace {what}: the directory {directory} {why}; \
         fix it with: {fix}",
        path = path.display(),
        directory = directory.display()
    )]
    UnsafeDirectory {
        /// What the file holds.
        what: &'static str,
        /// The key file.
        path: PathBuf,
        /// The directory at fault.
        directory: PathBuf,
        /// What is wrong with it.
        why: String,
        /// The command that fixes it.
        fix: String,
    },
    /// Something other than a regular file (a FIFO, a device, a directory).
    #[error("{}: not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file was replaced between opening and checking it.
    #[error("{}: the file changed while it was being checked", path.display())]
    Replaced {
        /// The key file.
        path: PathBuf,
    },
    /// The file or a directory above it could not be examined.
    #[error("cannot check {}: {source}", path.display())]
    Io {
        /// The path being examined.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Checks that the secret file open as `file` (opened from `path`), a private key or a DNS
/// provider's credentials (`what` names it in the messages), is safe to use, as opendkim's
/// `RequireSafeKeys` checks a key (opendkim.conf(5); `dkimf_securefile` in opendkim.c):
///
/// - the key is a regular file, owned by the user we run as or by root (run as root, by
///   anyone: the mode bits and the directories are still checked);
/// - neither its group nor others may read or write it. opendkim lets the group read when no
///   other user is in that group; we refuse every group bit, because group membership changes
///   without the key's mode changing, and `chmod 600` is always the fix;
/// - no directory on the key's resolved path (symbolic links followed, as opendkim's
///   `realpath`) can be written by another user: not owned by another user (other than root),
///   not writable by group or others. Unlike opendkim, a directory with the sticky bit (`/tmp`)
///   is accepted, since there only an entry's owner may rename or remove it.
///
/// The mode and owner come from the open file (`fstat`), and the resolved path must still be
/// that file, so a file swapped after the check is not the one that is read.
pub fn check_secret_file(
    file: &File,
    path: &Path,
    what: &'static str,
) -> Result<(), UnsafeKeyFile> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| UnsafeKeyFile::Io { path, source }
    };
    let opened = file.metadata().map_err(io(path))?;
    if !opened.is_file() {
        return Err(UnsafeKeyFile::NotAFile {
            path: path.to_owned(),
        });
    }
    let me = rustix::process::geteuid().as_raw();
    let mode = opened.mode() & 0o7777;
    // Run as root, a key of any owner is accepted: root reads it anyway, and its owner (the
    // user opendkim runs as, on a mail host) is who must be able to read it.
    if me != 0 && opened.uid() != me && opened.uid() != 0 {
        return Err(UnsafeKeyFile::ForeignOwner {
            what,
            path: path.to_owned(),
            owner: opened.uid(),
            me,
        });
    }
    if mode & GROUP_OR_OTHER_READ_WRITE != 0 {
        return Err(UnsafeKeyFile::OpenToOthers {
            what,
            path: path.to_owned(),
            mode,
        });
    }
    let resolved = std::fs::canonicalize(path).map_err(io(path))?;
    let now = std::fs::metadata(&resolved).map_err(io(&resolved))?;
    if (now.dev(), now.ino()) != (opened.dev(), opened.ino()) {
        return Err(UnsafeKeyFile::Replaced {
            path: path.to_owned(),
        });
    }
    for directory in resolved.ancestors().skip(1) {
        let metadata = std::fs::metadata(directory).map_err(io(directory))?;
        if let Some((why, fix)) = unsafe_directory(directory, &metadata, me, opened.uid()) {
            return Err(UnsafeKeyFile::UnsafeDirectory {
                what,
                path: path.to_owned(),
                directory: directory.to_owned(),
                why,
                fix,
            });
        }
    }
    Ok(())
}

/// No private key file is this large (a 4096-bit RSA key in PEM is about 3.3 KB): reading stops
/// here, so a wrong path (a mailbox, a device) is refused without filling memory.
pub const MAX_PRIVATE_KEY_FILE: u64 = 64 * 1024;

/// Why a private key file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// It could not be opened or read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// It is larger than any private key.
    #[error(
        "{}: larger than {} KiB, so not a private key",
        path.display(),
        MAX_PRIVATE_KEY_FILE / 1024
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// It holds something else, as the caller's check of its contents says.
    #[error("{0}")]
    NotAKey(String),
    /// It is not safe and not allowed to be, or it could not be checked ([`UnsafeKeyFile::Io`]).
    #[error(transparent)]
    Unsafe(UnsafeKeyFile),
}

/// Reads the private key at `path` (at most [`MAX_PRIVATE_KEY_FILE`] bytes) from the file that
/// [`check_secret_file`] judges, and what is unsafe about it when `allow_unsafe` takes it anyway
/// (for the caller to warn of). Unless `allow_unsafe`, an unsafe file is refused before it is
/// read (a FIFO could make the read wait forever), but a mode or owner that lets others in only
/// after `not_a_key` has said what the file holds instead, if it plainly holds something else: a
/// key's record (SELECTOR.txt) has mode 0644 as it should, and chmod would be the wrong advice.
pub fn read_private_key(
    path: &Path,
    allow_unsafe: bool,
    not_a_key: impl FnOnce(&[u8]) -> Option<String>,
) -> Result<(Vec<u8>, Option<UnsafeKeyFile>), KeyFileError> {
    let read_error = |source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let unsafe_file = match check_secret_file(&file, path, "the private key") {
        Ok(()) => None,
        Err(
            problem @ (UnsafeKeyFile::OpenToOthers { .. } | UnsafeKeyFile::ForeignOwner { .. }),
        ) => Some(problem),
        Err(problem @ UnsafeKeyFile::Io { .. }) => return Err(KeyFileError::Unsafe(problem)),
        Err(problem) if !allow_unsafe => return Err(KeyFileError::Unsafe(problem)),
        Err(problem) => Some(problem),
    };
    let mut contents = Vec::new();
    (&file)
        .take(MAX_PRIVATE_KEY_FILE + 1)
        .read_to_end(&mut contents)
        .map_err(read_error)?;
    if contents.len() as u64 > MAX_PRIVATE_KEY_FILE {
        return Err(KeyFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    if let Some(what) = not_a_key(&contents) {
        return Err(KeyFileError::NotAKey(what));
    }
    match unsafe_file {
        Some(problem) if !allow_unsafe => Err(KeyFileError::Unsafe(problem)),
        problem => Ok((contents, problem)),
    }
}

/// What lets another user replace entries of `directory`, and the fix; None when nothing does.
/// A directory may belong to us or to root; run as root, also to the key's owner (`key_owner`),
/// who could replace the key anyway (opendkim's own key directory).
fn unsafe_directory(
    directory: &Path,
    metadata: &Metadata,
    me: u32,
    key_owner: u32,
) -> Option<(String, String)> {
    let mode = metadata.mode() & 0o7777;
    let owner = metadata.uid();
    if owner != me && owner != 0 && !(me == 0 && owner == key_owner) {
        let fix_owner = if me == 0 { key_owner } else { me };
        return Some((
            format!("is owned by uid {owner}"),
            format!("chown {fix_owner} {}", directory.display()),
        ));
    }
    if mode & GROUP_OR_OTHER_WRITE != 0 && mode & STICKY == 0 {
        return Some((
            format!("can be written by group or others (mode {mode:04o})"),
            format!("chmod go-w {}", directory.display()),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Opens `path` and checks it as a private key.
    fn check_private_key_file(path: &Path) -> Result<(), UnsafeKeyFile> {
        let file = File::open(path).map_err(|source| UnsafeKeyFile::Io {
            path: path.to_owned(),
            source,
        })?;
        check_secret_file(&file, path, "the private key")
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A private key and its record, as genkey writes them together.
    fn key_and_record<'a>(key: &'a Path, txt: &'a Path) -> [NewFile<'a>; 2] {
        [
            NewFile {
                path: key,
                contents: b"secret",
                mode: PRIVATE_FILE_MODE,
            },
            NewFile {
                path: txt,
                contents: b"record",
                mode: PUBLIC_FILE_MODE,
            },
        ]
    }

    #[test]
    fn writes_with_modes_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("s.private");
        let txt = dir.path().join("s.txt");
        let files = key_and_record(&key, &txt);
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
        let files = key_and_record(&key, &txt);
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
    fn a_missing_directory_is_named_without_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("missing/signed.eml");
        let error = write_file_with(&out, PRIVATE_FILE_MODE, Existing::Refuse, |f| {
            f.write_all(b"whole")
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot write {}: No such file or directory (os error 2)",
                out.display()
            )
        );
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

    #[test]
    fn a_staged_batch_is_invisible_until_placed_and_each_file_has_its_own_result() {
        let dir = tempfile::tempdir().unwrap();
        let taken = dir.path().join("taken.eml");
        let replaced = dir.path().join("replaced.eml");
        fs::write(&taken, "already here").unwrap();
        fs::write(&replaced, "old").unwrap();
        let stage_as = |name: &Path, existing, durability| {
            stage_file_with(name, PRIVATE_FILE_MODE, existing, durability, |f| {
                f.write_all(b"signed")
            })
        };
        let stage = |name: &Path, existing| stage_as(name, existing, Durability::Synced);
        // A new copy need not be synced; it is placed as atomically as the others.
        let staged = vec![
            stage_as(
                &dir.path().join("new.eml"),
                Existing::Refuse,
                Durability::Unsynced,
            )
            .unwrap(),
            stage(&replaced, Existing::Replace).unwrap(),
        ];
        // A file that appears between staging and placing is not replaced.
        let late = dir.path().join("late.eml");
        let mut staged = staged;
        staged.push(stage(&late, Existing::Refuse).unwrap());
        fs::write(&late, "arrived first").unwrap();
        assert!(matches!(
            stage(&taken, Existing::Refuse),
            Err(WriteError::Exists { .. })
        ));
        assert!(!dir.path().join("new.eml").exists());
        assert_eq!(fs::read(&replaced).unwrap(), b"old");

        let results = place_staged(staged);
        assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
        assert!(
            matches!(&results[2], Err(WriteError::Exists { path }) if *path == late),
            "{results:?}"
        );
        assert_eq!(fs::read(dir.path().join("new.eml")).unwrap(), b"signed");
        assert_eq!(mode(&dir.path().join("new.eml")), 0o600);
        assert_eq!(fs::read(&replaced).unwrap(), b"signed");
        assert_eq!(fs::read(&late).unwrap(), b"arrived first");
        // No temporary file is left, placed or not.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    fn key_with_mode(dir: &Path, mode: u32) -> PathBuf {
        let key = dir.join("k.private");
        let _ = fs::remove_file(&key);
        fs::write(&key, "key").unwrap();
        fs::set_permissions(&key, Permissions::from_mode(mode)).unwrap();
        key
    }

    #[test]
    fn private_keys_only_their_owner_can_read_are_safe() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o400, 0o700] {
            let key = key_with_mode(dir.path(), mode);
            check_private_key_file(&key).unwrap();
        }
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o666] {
            let key = key_with_mode(dir.path(), mode);
            let err = check_private_key_file(&key).unwrap_err();
            assert!(
                matches!(err, UnsafeKeyFile::OpenToOthers { mode: m, .. } if m == mode),
                "{mode:o}: {err}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: the private key can be read or written by other users (mode {mode:04o}); \
                     fix it with: chmod 600 {}",
                    key.display(),
                    key.display()
                )
            );
        }
    }

    #[test]
    fn a_directory_others_can_write_makes_the_key_unsafe() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        fs::create_dir(&keys).unwrap();
        let key = key_with_mode(&keys, 0o600);
        fs::set_permissions(&keys, Permissions::from_mode(0o777)).unwrap();
        let err = check_private_key_file(&key).unwrap_err();
        assert!(
            matches!(&err, UnsafeKeyFile::UnsafeDirectory { directory, .. } if directory.ends_with("keys")),
            "{err}"
        );
        assert!(err.to_string().contains("chmod go-w "), "{err}");
        // The sticky bit (as on /tmp) stops others from replacing our files.
        fs::set_permissions(&keys, Permissions::from_mode(0o1777)).unwrap();
        check_private_key_file(&key).unwrap();
    }

    /// Tests that give files away need root, as a mail host's cron job has it.
    fn running_as_root() -> bool {
        rustix::process::geteuid().is_root()
    }

    #[test]
    fn as_root_a_key_of_any_owner_is_accepted_and_its_bits_still_checked() {
        assert!(
            running_as_root(),
            "run the tests as root (as on a mail host)"
        );
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        fs::create_dir(&keys).unwrap();
        fs::set_permissions(&keys, Permissions::from_mode(0o700)).unwrap();
        let key = key_with_mode(&keys, 0o600);
        // opendkim's key in opendkim's directory, as `chown -R opendkim:opendkim` leaves them.
        for path in [&keys, &key] {
            std::os::unix::fs::chown(path, Some(4242), Some(4242)).unwrap();
        }
        check_private_key_file(&key).unwrap();
        fs::set_permissions(&key, Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            check_private_key_file(&key),
            Err(UnsafeKeyFile::OpenToOthers { .. })
        ));
        fs::set_permissions(&key, Permissions::from_mode(0o600)).unwrap();
        // A directory of a third user could have its entries replaced by that user.
        std::os::unix::fs::chown(&keys, Some(4343), None).unwrap();
        let err = check_private_key_file(&key).unwrap_err();
        assert!(
            err.to_string().contains("fix it with: chown 4242 "),
            "{err}"
        );
    }

    #[test]
    fn written_files_keep_the_owner_they_are_given() {
        assert!(
            running_as_root(),
            "run the tests as root (as on a mail host)"
        );
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("KeyTable");
        fs::write(&old, "old").unwrap();
        fs::set_permissions(&old, Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::chown(&old, Some(4242), Some(4343)).unwrap();
        replace_keeping_owner(&old, b"new").unwrap();
        let kept = FileKeeping::of(&old).unwrap();
        assert_eq!(
            (kept.owner.uid, kept.owner.gid, kept.mode),
            (4242, 4343, 0o640)
        );
        assert_eq!(fs::read(&old).unwrap(), b"new");
        let retired = dir.path().join("retired");
        create_dir_like(&retired, &old).unwrap();
        assert_eq!(FileKeeping::of(&retired).unwrap(), kept);
    }

    /// Two callers making the same folder at once (rotate retiring two keys of one folder on
    /// two threads) both succeed: the second finds it made, not an error.
    #[test]
    fn a_folder_made_at_once_by_two_callers_is_made_for_both() {
        let dir = tempfile::tempdir().unwrap();
        for attempt in 0..50 {
            let retired = dir.path().join(format!("retired-{attempt}"));
            let start = std::sync::Barrier::new(2);
            let results: Vec<Result<(), WriteError>> = thread::scope(|scope| {
                let makers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            create_dir_like(&retired, dir.path())
                        })
                    })
                    .collect();
                makers.into_iter().map(|m| m.join().unwrap()).collect()
            });
            for result in results {
                assert!(result.is_ok(), "attempt {attempt}: {result:?}");
            }
            assert!(retired.is_dir());
        }
    }

    #[test]
    fn a_symbolic_link_is_judged_by_the_file_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let key = key_with_mode(dir.path(), 0o644);
        let link = dir.path().join("link.private");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        assert!(matches!(
            check_private_key_file(&link),
            Err(UnsafeKeyFile::OpenToOthers { .. })
        ));
        assert!(matches!(
            check_private_key_file(dir.path()),
            Err(UnsafeKeyFile::NotAFile { .. })
        ));
    }
}

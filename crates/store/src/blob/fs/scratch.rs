//! The filesystem engine's own scratch space, and sweeping what crashed processes left in
//! it: each open store writes its temporary files in a directory of its own under
//! `ROOT/.tmp`, holding an exclusive lock on a `lock` file there for as long as it lives.
//! A directory whose lock can be taken belongs to no live process (a crash, a kill, a
//! store dropped), so everything in it is garbage, whatever its age. Multipart upload
//! directories (`ROOT/.uploads/ID`) that never got their key written (a crash while one
//! was created) are garbage once a minute old.

use super::{is_missing, sync_dir, BlobError, Result, UPLOAD_KEY_FILE};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use uuid::Uuid;

/// Name of the lock file in a process's temporary directory.
const LOCK_FILE: &str = "lock";

/// Age past which a multipart upload directory without its key file is taken as left by
/// a crash while it was being created.
const UNKEYED_UPLOAD_AGE: Duration = Duration::from_secs(60);

/// Age past which a loose temporary file (written by a version without per-process
/// directories) is taken as abandoned: a live write touches its file with every chunk.
const LOOSE_TMP_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// This store's temporary directory, locked while it lives and removed when dropped.
#[derive(Debug)]
pub(super) struct OwnTmp {
    dir: PathBuf,
    _lock: File,
}

impl OwnTmp {
    /// Create and lock a new directory under `tmp_root` (blocking).
    pub(super) fn create(tmp_root: &Path) -> Result<Self> {
        let dir = tmp_root.join(Uuid::new_v4().simple().to_string());
        std::fs::create_dir(&dir).map_err(BlobError::fs("create_dir", &dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create_new(&lock_path).map_err(BlobError::fs("create", &lock_path))?;
        lock.lock().map_err(BlobError::fs("lock", &lock_path))?;
        Ok(Self { dir, _lock: lock })
    }

    /// A new path for a temporary file of this store.
    pub(super) fn new_path(&self) -> PathBuf {
        self.dir.join(Uuid::new_v4().simple().to_string())
    }
}

impl Drop for OwnTmp {
    fn drop(&mut self) {
        // Best effort: a file still being written (another clone of the store) keeps it,
        // and the next sweep takes it once the lock is gone.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Bytes that sweeping would free (or freed, when `remove`): temporary directories of
/// processes that are gone, loose temporary files a day old, and multipart upload
/// directories without a key (blocking).
pub(super) fn sweep(root: &Path, tmp_root: &Path, uploads: &Path, remove: bool) -> Result<u64> {
    let mut freed = 0;
    for entry in read_dir(tmp_root)? {
        let path = entry.path();
        let kind = entry.file_type().map_err(BlobError::fs("stat", &path))?;
        if kind.is_dir() {
            if let Owner::Gone(lock) = owner(&path)? {
                freed += size_of(&path);
                if remove {
                    remove_dir(&path)?;
                }
                drop(lock);
            }
        } else if older_than(&path, LOOSE_TMP_AGE) {
            freed += size_of(&path);
            if remove {
                remove_file(&path)?;
            }
        }
    }
    for entry in read_dir(uploads)? {
        let path = entry.path();
        if !path.join(UPLOAD_KEY_FILE).exists() && older_than(&path, UNKEYED_UPLOAD_AGE) {
            freed += size_of(&path);
            if remove {
                remove_dir(&path)?;
            }
        }
    }
    if remove && freed > 0 {
        sync_dir(root)?;
    }
    Ok(freed)
}

/// Whether a temporary directory belongs to a live store.
enum Owner {
    /// A live store holds its lock.
    Live,
    /// Nobody does; the lock (if the directory has one) is held here until removal.
    Gone(Option<File>),
}

fn owner(dir: &Path) -> Result<Owner> {
    let lock_path = dir.join(LOCK_FILE);
    let lock = match File::open(&lock_path) {
        Ok(lock) => lock,
        // Being created right now, or left by a crash before its lock existed.
        Err(e) if is_missing(&e) => {
            return Ok(if older_than(dir, UNKEYED_UPLOAD_AGE) {
                Owner::Gone(None)
            } else {
                Owner::Live
            })
        }
        Err(e) => return Err(BlobError::fs("open", lock_path)(e)),
    };
    match lock.try_lock() {
        Ok(()) => Ok(Owner::Gone(Some(lock))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Owner::Live),
        Err(std::fs::TryLockError::Error(e)) => Err(BlobError::fs("lock", lock_path)(e)),
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(BlobError::fs("read_dir", dir)),
        Err(e) if is_missing(&e) => Ok(Vec::new()),
        Err(e) => Err(BlobError::fs("read_dir", dir)(e)),
    }
}

fn older_than(path: &Path, age: Duration) -> bool {
    let cutoff = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified < cutoff)
}

/// Bytes of the files under `path` (0 for what can not be read).
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

fn remove_dir(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(BlobError::fs("remove_dir_all", path)(e)),
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(BlobError::fs("remove", path)(e)),
    }
}

//! The filesystem engine: one file per blob under a root directory.
//!
//! Writes go to a temporary file under `ROOT/.tmp`, are fsynced, renamed over the key's path
//! (atomic), and the directory is fsynced. Multipart uploads live in `ROOT/.uploads/ID/`:
//! a `key` file, one `data` file the parts are written into at their offsets, and a part
//! journal (`parts`, see [`journal`]) where a part is recorded only once its bytes are
//! fdatasynced: storing a part costs two fdatasyncs and no directory fsync. Completion cuts
//! `data` to the parts' total and renames it into place, so every byte is written once, as
//! a plain append would. Parts are therefore stored in order (a part whose predecessor is
//! missing is refused); storing part `i` again clears the records of `i` and later first,
//! so no record ever names bytes that were overwritten. Bodies are written in batches
//! ([`write`]). Keys never start a segment with `.`, so these directories never meet a
//! blob.

mod journal;
mod scratch;
mod write;

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

use self::journal::StoredPart;
use self::write::write_body;
use super::{
    check_part_index, check_parts, check_range, part_too_large, BlobError, BlobKey, BlobMeta,
    BlobStore, ByteStream, MultipartMeta, PartReceipt, Result, Space, UploadId, MAX_PART_SIZE,
};

/// Directory under the root for files being written.
const TMP_DIR: &str = ".tmp";
/// Directory under the root for multipart uploads in progress.
const UPLOADS_DIR: &str = ".uploads";
/// Name, inside an upload's directory, of the file holding the upload's key.
const UPLOAD_KEY_FILE: &str = "key";
/// Name, inside an upload's directory, of the file the parts are written into.
const UPLOAD_DATA_FILE: &str = "data";
/// Size of the chunks a read streams out.
const READ_CHUNK: usize = 64 * 1024;
/// Blobs as files under a root directory; see the module docs for the on-disk layout.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    tmp: Arc<scratch::OwnTmp>,
}

impl FsBlobStore {
    /// Open (creating if needed) the store rooted at `root`; a relative root is taken from
    /// the current directory. Temporary files left by processes that are gone (a crash
    /// mid-write) are removed.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let root = if root.is_absolute() {
            root
        } else {
            std::env::current_dir()
                .map_err(BlobError::fs("current_dir", &root))?
                .join(root)
        };
        for dir in [root.join(TMP_DIR), root.join(UPLOADS_DIR)] {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(BlobError::fs("create_dir_all", &dir))?;
        }
        let opened = root.clone();
        let tmp = blocking(move || {
            let tmp_root = opened.join(TMP_DIR);
            scratch::sweep(&opened, &tmp_root, &opened.join(UPLOADS_DIR), true)?;
            scratch::OwnTmp::create(&tmp_root)
        })
        .await?;
        Ok(Self {
            root,
            tmp: Arc::new(tmp),
        })
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn new_tmp_path(&self) -> PathBuf {
        self.tmp.new_path()
    }
}

/// The directory of `upload` under `root`, after checking that it exists and is for
/// `key` (blocking).
fn upload_dir(root: &Path, key: &BlobKey, upload: &UploadId) -> Result<PathBuf> {
    let no_such_upload = || BlobError::NoSuchUpload {
        key: key.to_string(),
        upload_id: upload.to_string(),
    };
    let id = Uuid::try_parse(upload.as_str()).map_err(|_| no_such_upload())?;
    let dir = root.join(UPLOADS_DIR).join(id.simple().to_string());
    let key_file = dir.join(UPLOAD_KEY_FILE);
    match std::fs::read_to_string(&key_file) {
        Ok(stored) if stored == key.as_str() => Ok(dir),
        Ok(_) => Err(no_such_upload()),
        Err(e) if is_missing(&e) => Err(no_such_upload()),
        Err(e) => Err(BlobError::fs("read", key_file)(e)),
    }
}

/// A file that is removed when dropped unless [`TempFile::keep`] was called: a failed or
/// cancelled write leaves nothing behind.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the file may not exist yet, or may already have been renamed.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Fsync a directory, so that entries created, renamed or removed in it are durable.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(BlobError::fs("fsync directory", dir))
}

/// Create the directories between `root` and `dest`'s parent that are missing, each made
/// durable in its parent.
fn create_parents(root: &Path, dest: &Path) -> Result<()> {
    let Some(relative) = dest.parent().and_then(|p| p.strip_prefix(root).ok()) else {
        return Ok(());
    };
    let mut dir = root.to_path_buf();
    for component in relative.components() {
        let parent = dir.clone();
        dir.push(component);
        match std::fs::create_dir(&dir) {
            Ok(()) => sync_dir(&parent)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(BlobError::fs("create_dir", &dir)(e)),
        }
    }
    Ok(())
}

/// Move the fsynced file `tmp` to `dest` atomically and make the rename durable.
fn publish(root: &Path, tmp: &Path, dest: &Path) -> Result<()> {
    create_parents(root, dest)?;
    std::fs::rename(tmp, dest).map_err(BlobError::fs("rename", dest))?;
    sync_dir(dest.parent().unwrap_or(root))
}

/// The multipart uploads with a directory under `uploads` (blocking); a directory
/// without its key (a crash while it was created) is not an upload yet.
fn multipart_uploads(uploads: &Path) -> Result<Vec<MultipartMeta>> {
    let entries = std::fs::read_dir(uploads).map_err(BlobError::fs("read_dir", uploads))?;
    Ok(entries
        .flatten()
        .filter_map(|entry| {
            let key = std::fs::read_to_string(entry.path().join(UPLOAD_KEY_FILE)).ok()?;
            Some(MultipartMeta {
                key: BlobKey::new(key).ok()?,
                upload: UploadId::new(entry.file_name().to_str()?.to_owned()),
                started: entry.metadata().and_then(|m| m.modified()).ok()?,
            })
        })
        .collect())
}

/// Run blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlobError::fs("blocking task", PathBuf::new())(io::Error::other(e)))?
}

/// Open an upload's `data` file (creating it when `create`) with an exclusive lock, so two
/// writers (two replicas on a shared filesystem) never write one upload at once.
fn lock_data(path: &Path, upload_id: &str, create: bool) -> Result<File> {
    let data = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(BlobError::fs("open", path))?;
    match data.try_lock() {
        Ok(()) => Ok(data),
        Err(std::fs::TryLockError::WouldBlock) => Err(BlobError::InvalidParts {
            upload_id: upload_id.to_owned(),
            reason: "another writer is storing a part of this upload".to_owned(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(BlobError::fs("lock", path)(e)),
    }
}

/// Lock the upload's `data` file and make room for part `index`: clear the records of it
/// and every later part (before their bytes can be overwritten), cut the file to the end
/// of part `index - 1`, and return it and the journal with that offset. Part `index - 1`
/// must be stored.
fn open_data_at(dir: &Path, upload_id: &str, index: u32) -> Result<(File, File, u64)> {
    let data_path = dir.join(UPLOAD_DATA_FILE);
    let data = lock_data(&data_path, upload_id, true)?;
    let parts = journal::open(dir)?;
    let stored = journal::read(&parts, dir)?;
    let recorded = u32::try_from(stored.len()).unwrap_or(u32::MAX);
    let Some(before) = stored.get(..usize::try_from(index).unwrap_or(usize::MAX)) else {
        return Err(BlobError::InvalidParts {
            upload_id: upload_id.to_owned(),
            reason: format!(
                "part {index} before part {recorded}: the filesystem store takes parts in order"
            ),
        });
    };
    let offset = before.iter().map(|p| p.size).sum();
    journal::clear(&parts, dir, index, recorded)?;
    data.set_len(offset)
        .map_err(BlobError::fs("truncate", &data_path))?;
    Ok((data, parts, offset))
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn ping(&self) -> Result<()> {
        let tmp = self.root.join(TMP_DIR);
        let meta = tokio::fs::metadata(&tmp)
            .await
            .map_err(BlobError::fs("stat", &tmp))?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(BlobError::fs("stat", tmp)(io::Error::other(
                "not a directory",
            )))
        }
    }

    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64> {
        let tmp = TempFile::new(self.new_tmp_path());
        let path = tmp.path.clone();
        let file = blocking(move || File::create_new(&path).map_err(BlobError::fs("create", path)))
            .await?;
        let (file, len) = write_body(file, &tmp.path, body, 0, u64::MAX, || {
            BlobError::Body(io::Error::other("a blob cannot exceed 2^64 bytes"))
        })
        .await?;
        let (root, dest, tmp_path) = (self.root.clone(), self.path_of(key), tmp.path.clone());
        blocking(move || {
            file.sync_all().map_err(BlobError::fs("fsync", &tmp_path))?;
            publish(&root, &tmp_path, &dest)
        })
        .await?;
        tmp.keep();
        Ok(len)
    }

    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<ByteStream> {
        let path = self.path_of(key);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_missing(&e) => return Err(not_found(key)),
            Err(e) => return Err(BlobError::fs("open", path)(e)),
        };
        let meta = file
            .metadata()
            .await
            .map_err(BlobError::fs("stat", &path))?;
        if !meta.is_file() {
            return Err(not_found(key));
        }
        check_range(key, &range, meta.len())?;
        file.seek(io::SeekFrom::Start(range.start))
            .await
            .map_err(BlobError::fs("seek", &path))?;
        let reader = file.take(range.end - range.start);
        Ok(ReaderStream::with_capacity(reader, READ_CHUNK).boxed())
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta> {
        let path = self.path_of(key);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Ok(BlobMeta {
                key: key.clone(),
                len: meta.len(),
            }),
            Ok(_) => Err(not_found(key)),
            Err(e) if is_missing(&e) => Err(not_found(key)),
            Err(e) => Err(BlobError::fs("stat", path)(e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        let (root, path) = (self.root.clone(), self.path_of(key));
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(path.parent().unwrap_or(&root)),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(BlobError::fs("remove", path)(e)),
        })
        .await
    }

    fn list(&self, prefix: Option<&BlobKey>) -> BoxStream<'static, Result<BlobMeta>> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let start = match prefix {
            Some(prefix) => (self.path_of(prefix), format!("{prefix}/")),
            None => (self.root.clone(), String::new()),
        };
        tokio::task::spawn_blocking(move || {
            walk(start, |item| tx.blocking_send(item).is_ok());
        });
        stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed()
    }

    async fn create_multipart(&self, key: &BlobKey) -> Result<UploadId> {
        let id = Uuid::now_v7();
        let uploads = self.root.join(UPLOADS_DIR);
        let dir = uploads.join(id.simple().to_string());
        let key_text = key.to_string();
        blocking(move || {
            std::fs::create_dir(&dir).map_err(BlobError::fs("create_dir", &dir))?;
            let key_file = dir.join(UPLOAD_KEY_FILE);
            std::fs::write(&key_file, key_text.as_bytes())
                .and_then(|()| File::open(&key_file)?.sync_all())
                .map_err(BlobError::fs("write", &key_file))?;
            journal::create(&dir)?;
            sync_dir(&dir)?;
            sync_dir(&uploads)
        })
        .await?;
        Ok(UploadId::new(id.simple().to_string()))
    }

    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        part_index: u32,
        body: ByteStream,
    ) -> Result<PartReceipt> {
        check_part_index(upload, part_index)?;
        let (root, key_owned, upload_owned) = (self.root.clone(), key.clone(), upload.clone());
        let (dir, data, parts, offset) = blocking(move || {
            let dir = upload_dir(&root, &key_owned, &upload_owned)?;
            let (data, parts, offset) = open_data_at(&dir, upload_owned.as_str(), part_index)?;
            Ok((dir, data, parts, offset))
        })
        .await?;
        let data_path = dir.join(UPLOAD_DATA_FILE);
        let (data, size) = write_body(data, &data_path, body, offset, MAX_PART_SIZE, || {
            part_too_large(upload, part_index)
        })
        .await?;
        let part = StoredPart {
            index: part_index,
            etag: Uuid::new_v4().simple().to_string(),
            size,
        };
        let etag = part.etag.clone();
        blocking(move || {
            data.sync_data()
                .map_err(BlobError::fs("fsync", &data_path))?;
            journal::append(&parts, &dir, &part)?;
            // The lock on `data` is released here, once the record is durable.
            drop(data);
            Ok(())
        })
        .await?;
        Ok(PartReceipt {
            part_index,
            etag,
            size,
        })
    }

    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        parts: &[PartReceipt],
    ) -> Result<BlobMeta> {
        let len = check_parts(upload, parts)?;
        let meta = BlobMeta {
            key: key.clone(),
            len,
        };
        let (root, dest) = (self.root.clone(), self.path_of(key));
        let (key, upload) = (key.clone(), upload.clone());
        let upload_id = upload.to_string();
        let parts = parts.to_vec();
        blocking(move || {
            let dir = upload_dir(&root, &key, &upload)?;
            let data_path = dir.join(UPLOAD_DATA_FILE);
            let data = match lock_data(&data_path, &upload_id, false) {
                Ok(data) => data,
                // Completed already, by a process that stopped before removing the upload's
                // directory: the object is in place; never make one from missing bytes.
                Err(BlobError::Fs { source, .. }) if is_missing(&source) => {
                    let published = std::fs::metadata(&dest).is_ok_and(|m| m.len() == len);
                    if !published {
                        return Err(BlobError::InvalidParts {
                            upload_id,
                            reason: "no part of this upload is stored".to_owned(),
                        });
                    }
                    std::fs::remove_dir_all(&dir).map_err(BlobError::fs("remove_dir_all", &dir))?;
                    return sync_dir(dir.parent().unwrap_or(&root));
                }
                Err(e) => return Err(e),
            };
            let stored = journal::read(&journal::open(&dir)?, &dir)?;
            for part in &parts {
                let matches = stored.iter().any(|s| {
                    s.index == part.part_index && s.etag == part.etag && s.size == part.size
                });
                if !matches {
                    return Err(BlobError::InvalidParts {
                        upload_id,
                        reason: format!(
                            "part {} with etag {:?} and {} bytes is not stored",
                            part.part_index, part.etag, part.size
                        ),
                    });
                }
            }
            // Each part's fdatasync made its bytes and the file's length durable: only
            // bytes of a part stored again and not recorded can be left to cut.
            let stored_len = data
                .metadata()
                .map_err(BlobError::fs("stat", &data_path))?
                .len();
            if stored_len != len {
                data.set_len(len)
                    .and_then(|()| data.sync_data())
                    .map_err(BlobError::fs("truncate", &data_path))?;
            }
            publish(&root, &data_path, &dest)?;
            std::fs::remove_dir_all(&dir).map_err(BlobError::fs("remove_dir_all", &dir))?;
            sync_dir(dir.parent().unwrap_or(&root))
        })
        .await?;
        Ok(meta)
    }

    fn list_multipart(&self) -> BoxStream<'static, Result<MultipartMeta>> {
        let uploads = self.root.join(UPLOADS_DIR);
        stream::once(blocking(move || multipart_uploads(&uploads)))
            .map_ok(|found| stream::iter(found.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    async fn free_space(&self) -> Result<Option<Space>> {
        let root = self.root.clone();
        blocking(move || {
            let stat = rustix::fs::statvfs(&root)
                .map_err(|e| BlobError::fs("statvfs", &root)(io::Error::from(e)))?;
            Ok(Some(Space {
                available: stat.f_bavail.saturating_mul(stat.f_frsize),
                total: stat.f_blocks.saturating_mul(stat.f_frsize),
            }))
        })
        .await
    }

    async fn sweep_temporary(&self, remove: bool) -> Result<u64> {
        let root = self.root.clone();
        blocking(move || {
            scratch::sweep(&root, &root.join(TMP_DIR), &root.join(UPLOADS_DIR), remove)
        })
        .await
    }

    async fn abort_multipart(&self, key: &BlobKey, upload: &UploadId) -> Result<()> {
        let (root, key, upload) = (self.root.clone(), key.clone(), upload.clone());
        blocking(move || {
            let dir = match upload_dir(&root, &key, &upload) {
                Ok(dir) => dir,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            };
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => sync_dir(dir.parent().unwrap_or(&dir)),
                Err(e) if is_missing(&e) => Ok(()),
                Err(e) => Err(BlobError::fs("remove_dir_all", dir)(e)),
            }
        })
        .await
    }
}

/// Walk the directory tree from `start` (whose files have keys starting with `key_prefix`),
/// handing each blob to `emit` until it returns `false`. Names that are not valid key
/// segments (the engine's own `.tmp` and `.uploads`, foreign files) are skipped.
fn walk((start, key_prefix): (PathBuf, String), mut emit: impl FnMut(Result<BlobMeta>) -> bool) {
    let mut pending = vec![(start, key_prefix)];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => continue,
            Err(e) => {
                emit(Err(BlobError::fs("read_dir", dir)(e)));
                return;
            }
        };
        for entry in entries {
            let item = entry
                .and_then(|entry| Ok((entry.file_name(), entry.file_type()?, entry.path())))
                .map_err(BlobError::fs("read_dir", &dir));
            let (name, kind, path) = match item {
                Ok(item) => item,
                Err(e) => {
                    emit(Err(e));
                    return;
                }
            };
            let Some(key) = name
                .to_str()
                .and_then(|name| BlobKey::new(format!("{prefix}{name}")).ok())
            else {
                continue;
            };
            if kind.is_dir() {
                pending.push((path, format!("{key}/")));
            } else if kind.is_file() {
                let meta = std::fs::metadata(&path)
                    .map(|m| BlobMeta { key, len: m.len() })
                    .map_err(BlobError::fs("stat", path));
                if !emit(meta) {
                    return;
                }
            }
        }
    }
}

/// Whether a filesystem error means the path (or a directory on the way) does not exist.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn not_found(key: &BlobKey) -> BlobError {
    BlobError::NotFound {
        key: key.to_string(),
    }
}

//! A `recording` upload whose MP4 index can not be read — the camera's power was cut
//! while it wrote the file (no `moov`, an `mdat` size never written or running past the
//! end) — rebuilt at ingest with the media crate's recovery, from the codec configuration
//! of the same device's and view's recording stored nearest in time.
//!
//! The rebuilt file keeps the upload's bytes unchanged as its last bytes (its media data
//! is the whole original), so one stored object is both the playable recording and the
//! evidence: `GET /api/v1/uploads/{id}/original` answers those bytes. It is stored under
//! its own key (`…-recovered`) and its row carries its own SHA-256 and size (as the
//! ledger and the store's checks expect of every item); the upload's own object is then
//! a second copy, deleted as a duplicate is. A crash before the recording's row leaves
//! the rebuilt object to the sweep; filing again rebuilds the same bytes under the same
//! key and finds the row by their SHA-256.

use super::stored::download;
use super::writer::key;
use super::TusError;
use crate::state::AppState;
use crate::stream::reader::BlobReader;
use bytes::Bytes;
use dashvault_media::{recover_keeping_original, Mp4Index};
use dashvault_store::blob::ByteStream;
use dashvault_store::model::{Upload, View};
use futures_util::{stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Bytes read from the rebuilt file per chunk stored.
const CHUNK: usize = 1 << 20;

/// A recording rebuilt from an upload without an index.
pub struct Rebuilt {
    /// The rebuilt file, stored under [`Self::blob_key`] too.
    pub local: tempfile::TempPath,
    /// Its key in the store.
    pub blob_key: String,
    /// Its length.
    pub size: u64,
    /// Its SHA-256 (lower-case hex): the stored object's, as every item's is (the upload's
    /// own, of the original, stays its outcome's).
    pub sha256: String,
}

/// Rebuild `upload` (stored under `blob_key`, read as `view` of its device, started at
/// `start`) and store the result. `Err(Unprocessable)` says why it could not be.
pub async fn rebuild(
    state: &AppState,
    upload: &Upload,
    (view, start): (View, chrono::DateTime<chrono::Utc>),
    blob_key: &dashvault_store::blob::BlobKey,
) -> Result<Rebuilt, TusError> {
    let sibling = state
        .repo
        .nearest_recording(upload.user_id, upload.device_id, view, start)
        .await?
        .ok_or_else(|| {
            TusError::Unprocessable(format!(
                "no recording of this device's {} view is stored whose codec settings could rebuild it; upload one first",
                view.as_str()
            ))
        })?;
    let reference = BlobReader::new(
        state.blobs.clone(),
        key(&sibling.file.blob_key)?,
        sibling.file.size,
    );
    let (broken, _) = download(state, blob_key, upload.length).await?;
    let out = tempfile::NamedTempFile::new().map_err(TusError::internal)?;
    let (file, local) = out.into_parts();
    let broken_path = broken.to_path_buf();
    let rebuilt_path = local.to_path_buf();
    let (size, sha256, recovery) = tokio::task::spawn_blocking(move || {
        let index = Mp4Index::read(&reference)
            .map_err(|e| format!("its sibling {}: {e}", sibling.file.blob_key))?;
        let source = std::fs::File::open(&broken_path).map_err(|e| e.to_string())?;
        let recovery = recover_keeping_original(&source, &index).map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(file);
        let size = recovery
            .plan
            .write_to(&[source], &mut out)
            .map_err(|e| e.to_string())?;
        drop(out);
        let mut hasher = Sha256::new();
        let mut written = std::fs::File::open(&rebuilt_path).map_err(|e| e.to_string())?;
        std::io::copy(&mut written, &mut hasher).map_err(|e| e.to_string())?;
        Ok::<_, String>((size, hex::encode(hasher.finalize()), recovery))
    })
    .await
    .map_err(TusError::internal)?
    .map_err(|e| TusError::Unprocessable(format!("its index could not be rebuilt: {e}")))?;
    drop(broken);
    tracing::info!(
        upload = %upload.id,
        seconds = recovery.duration,
        samples = recovery.video_samples,
        warnings = ?recovery.warnings,
        "a recording without an index rebuilt from its sample data"
    );
    let rebuilt_key = format!("{}-recovered", upload.blob_key);
    let body = tokio::fs::File::open(&local)
        .await
        .map_err(TusError::internal)?;
    state.blobs.put(&key(&rebuilt_key)?, chunks(body)).await?;
    Ok(Rebuilt {
        local,
        blob_key: rebuilt_key,
        size,
        sha256,
    })
}

/// A local file as a stream of chunks; a read error ends it.
fn chunks(file: tokio::fs::File) -> ByteStream {
    stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
    .boxed()
}

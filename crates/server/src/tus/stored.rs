//! An upload's object in the blob store, read or let go of whole: copied to a local file
//! with its SHA-256 (the media crate reads files at random offsets), hashed in place, or
//! its multipart upload aborted. Used by writing, filing and rebuilding alike.

use super::TusError;
use crate::state::AppState;
use dashvault_store::blob::{BlobKey, UploadId};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Abort a multipart upload, logging a failure instead of failing (it may already be
/// completed or gone; the store's own expiry of stale multipart uploads is the backstop).
pub(super) async fn abort_multipart(state: &AppState, blob_key: &BlobKey, id: &str) {
    let upload_id = UploadId::new(id.to_owned());
    if let Err(err) = state.blobs.abort_multipart(blob_key, &upload_id).await {
        tracing::warn!(%err, %blob_key, "could not abort a multipart upload");
    }
}

/// Copy the blob to a local temporary file (the media crate reads files at random
/// offsets), computing its SHA-256 on the way.
pub(super) async fn download(
    state: &AppState,
    blob_key: &BlobKey,
    len: u64,
) -> Result<(tempfile::TempPath, String), TusError> {
    let temp = tempfile::NamedTempFile::new().map_err(TusError::internal)?;
    let (file, path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let mut body = state.blobs.get_range(blob_key, 0..len).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(TusError::internal)?;
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(TusError::internal)?;
    }
    out.flush().await.map_err(TusError::internal)?;
    Ok((path, hex::encode(hasher.finalize())))
}

/// The SHA-256 (hex) of a stored blob, streamed.
pub(super) async fn hash(
    state: &AppState,
    blob_key: &BlobKey,
    len: u64,
) -> Result<String, TusError> {
    let mut body = state.blobs.get_range(blob_key, 0..len).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.next().await {
        hasher.update(&chunk.map_err(TusError::internal)?);
    }
    Ok(hex::encode(hasher.finalize()))
}

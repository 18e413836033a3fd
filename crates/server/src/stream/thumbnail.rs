//! JPEG thumbnails of stored videos, made by the `thumbnail` job after an upload (or on
//! first request) from one keyframe (read with
//! ranged reads) and kept in the blob store under a key derived from the file and the
//! time, so each is made once whatever the replica.

use super::indexes::blob_key;
use super::reader::BlobReader;
use crate::error::ApiError;
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dashvault_media::thumbnail::{thumbnail_from, DEFAULT_WIDTH};
use dashvault_store::blob::BlobKey;
use dashvault_store::model::{Clip, Recording, RecordingKind, VideoFile, View};
use futures_util::{stream, StreamExt, TryStreamExt};
use std::sync::Arc;

/// How long a browser may keep a thumbnail: it never changes for a given key.
const MAX_AGE: &str = "private, max-age=86400";

/// The blob prefix thumbnails are kept under, as `{prefix}/{sha256}-{ms}.jpg`: named by
/// content, so deleting a file can find (and remove) its thumbnails.
pub const THUMBNAILS_PREFIX: &str = "thumbnails";

/// The blob a thumbnail of `file` at `ms` milliseconds is kept under.
pub fn cache_key(file: &VideoFile, ms: u64) -> Result<BlobKey, ApiError> {
    BlobKey::new(format!("{THUMBNAILS_PREFIX}/{}-{ms}.jpg", file.sha256))
        .map_err(|e| ApiError::Internal(format!("thumbnail key of {}: {e}", file.sha256)))
}

/// The JPEG answer: the thumbnail (320 px wide) of the first keyframe at or after `ms`
/// milliseconds into `file` (or of its first keyframe when none follows), from the store
/// when it was made before.
pub async fn respond(state: &AppState, file: &VideoFile, ms: u64) -> Result<Response, ApiError> {
    let jpeg = ensure(state, file, ms).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CACHE_CONTROL, HeaderValue::from_static(MAX_AGE)),
        ],
        jpeg,
    )
        .into_response())
}

/// The thumbnail of `file` at `ms`, made and kept in the store unless it was before (the
/// `thumbnail` job calls this right after an upload, so lists show it at once).
pub async fn ensure(state: &AppState, file: &VideoFile, ms: u64) -> Result<Bytes, ApiError> {
    let key = cache_key(file, ms)?;
    if let Some(jpeg) = cached(state, &key).await? {
        return Ok(jpeg);
    }
    let jpeg = make(state, file, ms).await?;
    let body = stream::iter([Ok(jpeg.clone())]).boxed();
    state.blobs.put(&key, body).await?;
    Ok(jpeg)
}

async fn cached(state: &AppState, key: &BlobKey) -> Result<Option<Bytes>, ApiError> {
    let meta = match state.blobs.head(key).await {
        Ok(meta) => meta,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let chunks: Vec<Bytes> = state
        .blobs
        .get_range(key, 0..meta.len)
        .await?
        .try_collect()
        .await
        .map_err(|e| ApiError::Unavailable(format!("reading a thumbnail: {e}")))?;
    Ok(Some(chunks.concat().into()))
}

async fn make(state: &AppState, file: &VideoFile, ms: u64) -> Result<Bytes, ApiError> {
    let index = state.videos.index(&state.blobs, file).await?;
    let reader = BlobReader::new(Arc::clone(&state.blobs), blob_key(file)?, file.size);
    let at = ms as f64 / 1000.0;
    let jpeg = tokio::task::spawn_blocking(move || {
        thumbnail_from(&reader, &index, at, DEFAULT_WIDTH)
            .or_else(|_| thumbnail_from(&reader, &index, 0.0, DEFAULT_WIDTH))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("thumbnail task failed: {e}")))?
    .map_err(|e| ApiError::Internal(format!("thumbnail of {}: {e}", file.blob_key)))?;
    Ok(jpeg.into())
}

/// Milliseconds into a clip's file of its first incident (0 without one).
pub fn clip_thumbnail_ms(clip: &Clip) -> u64 {
    clip.incidents
        .first()
        .map(|i| (i.at - clip.file.start).num_milliseconds().max(0) as u64)
        .unwrap_or(0)
}

/// The file a drive's thumbnail shows: its first road recording, else its first file.
pub fn drive_thumbnail_source(recordings: &[Recording]) -> Option<&Recording> {
    recordings.iter().min_by_key(|r| {
        (
            r.view != View::Road,
            r.kind != RecordingKind::Recording,
            r.file.start,
        )
    })
}

//! The tus requests: `OPTIONS` and `POST` on `/api/v1/uploads`, `HEAD`, `PATCH` and
//! `DELETE` on `/api/v1/uploads/{id}`.

use super::body::{Body, Hasher};
use super::finalise::{complete, discard};
use super::headers::{self, Checksum, Concat};
use super::metadata::{decode_pairs, UploadMetadata};
use super::writer::{append, best_effort_delete, commit, key, scratch_prefix};
use super::{Held, TusError, Uploader, TUS_CHECKSUMS, TUS_EXTENSIONS, TUS_VERSION, UPLOADS_PATH};
use crate::auth::secret;
use crate::capacity;
use crate::crash::{self, CrashPoint};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use dashvault_store::blob::ByteStream;
use dashvault_store::model::{NewDevice, Upload};
use futures_util::{stream, StreamExt, TryStreamExt};
use sha2::Digest;
use std::io;
use uuid::Uuid;

/// Serial of the pseudo-device that browser uploads belong to.
const WEB_UPLOAD_SERIAL: &str = "web-upload";

/// Expired uploads cleaned up per creation request.
const SWEEP_BATCH: u32 = 16;

/// The server's tus capabilities.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "uploads",
    responses((status = 204, description = "Capabilities in `Tus-Version`, `Tus-Extension`, \
        `Tus-Max-Size` and `Tus-Checksum-Algorithm`")))]
pub async fn options(State(state): State<AppState>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert(
        "tus-max-size",
        HeaderValue::from(state.uploads.config.max_size),
    );
    headers.insert(
        "tus-checksum-algorithm",
        HeaderValue::from_static(TUS_CHECKSUMS),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// Create an upload (tus creation, creation-with-upload and concatenation). Send
/// `Tus-Resumable: 1.0.0`, `Upload-Length` and `Upload-Metadata` (`kind`, `start`, …; see
/// the upload guide), or `Upload-Concat: partial` / `final;<url> …`. Authenticate with a
/// device token or a session.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads",
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream",
        description = "Optional first bytes of the file (creation-with-upload)"),
    responses(
        (status = 201, description = "Created; its URL is in `Location`"),
        (status = 204, description = "A final (concatenated) upload, filed"),
        (status = 400, description = "Missing or invalid headers or metadata", body = ErrorBody),
        (status = 401, description = "No valid device token or session", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "Larger than `Tus-Max-Size`", body = ErrorBody),
        (status = 422, description = "Not a playable video (final uploads)", body = ErrorBody),
        (status = 503, description = "The database or the blob store does not answer; retry after `Retry-After`", body = ErrorBody),
        (status = 507, description = "The owner's quota is used up, or the server's storage is full", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    uploader: Uploader,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, TusError> {
    headers::check_version(&headers)?;
    sweep_expired(&state).await;
    let concat = headers::concat(&headers)?;
    let metadata = headers::text(&headers, "upload-metadata")?
        .unwrap_or_default()
        .to_owned();
    let partial = concat == Some(Concat::Partial);
    let named_device = if partial {
        decode_pairs(&metadata).map_err(|e| TusError::bad_request("invalid_metadata", e))?;
        None
    } else {
        UploadMetadata::parse(&metadata)
            .map_err(|e| TusError::bad_request("invalid_metadata", e))?
            .device
    };
    let length = match &concat {
        Some(Concat::Final(ids)) => partials_length(&state, uploader.user_id, ids).await?,
        _ => headers::number(&headers, "upload-length")?.ok_or_else(|| {
            TusError::bad_request(
                "missing_upload_length",
                "Upload-Length is required (deferred lengths are not supported)",
            )
        })?,
    };
    // A final upload's bytes are its partial uploads', already counted in the quota.
    let new_bytes = match &concat {
        Some(Concat::Final(_)) => 0,
        _ => length,
    };
    check_size(&state, uploader.user_id, length, new_bytes).await?;
    let device_id = device_for(&state, &uploader, named_device).await?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let blob_key = if partial {
        format!("uploads/{}/whole", id.simple())
    } else {
        format!("media/{}/{}", uploader.user_id.simple(), id.simple())
    };
    let mut upload = Upload {
        id,
        user_id: uploader.user_id,
        device_id,
        length,
        offset: 0,
        metadata,
        blob_key,
        multipart_id: None,
        parts: Vec::new(),
        tail_key: None,
        tail_len: 0,
        partial,
        created_at: now,
        expires_at: now
            + chrono::Duration::from_std(state.uploads.config.expiry)
                .unwrap_or(chrono::Duration::days(1)),
        outcome: None,
        failure: None,
    };
    state.repo.create_upload(&upload).await?;
    holding(&state, id, async {
        if let Some(Concat::Final(ids)) = &concat {
            return concatenate(&state, &mut upload, ids).await;
        }
        let len = headers::number(&headers, "content-length")?.unwrap_or(0);
        if len > 0 || length == 0 {
            if len > 0 {
                check_content_type(&headers)?;
                capacity::ensure_room(&state, len).await?;
            }
            check_len(&upload, len)?;
            let checksum = headers::checksum(&headers)?;
            write(
                &state,
                &mut upload,
                body_stream(body, &state),
                len,
                checksum.as_ref(),
            )
            .await?;
        }
        Ok(())
    })
    .await?;
    let mut response = (StatusCode::CREATED, upload_headers(&upload)).into_response();
    let location = format!("{UPLOADS_PATH}/{id}");
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(&location).map_err(TusError::internal)?,
    );
    Ok(response)
}

/// An upload's offset, length and metadata.
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id")),
    responses(
        (status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Metadata`, `Upload-Expires`"),
        (status = 404, description = "No such upload of yours"),
        (status = 410, description = "Expired, or its file was refused"),
        (status = 412, description = "Not tus 1.0.0"),
    ),
    security(("session" = [])))]
pub async fn head(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, TusError> {
    headers::check_version(&headers)?;
    let upload = live_upload(&state, &uploader, &id).await?;
    let mut response = (StatusCode::OK, upload_headers(&upload)).into_response();
    let out = response.headers_mut();
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out.insert("upload-length", HeaderValue::from(upload.length));
    if !upload.metadata.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&upload.metadata) {
            out.insert("upload-metadata", value);
        }
    }
    if upload.partial {
        out.insert("upload-concat", HeaderValue::from_static("partial"));
    }
    Ok(response)
}

/// Append bytes at `Upload-Offset`; the last bytes file the upload (a recording of a
/// drive, a clip, a time-lapse or a sidecar) before the answer.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Stored; the new offset is in `Upload-Offset`"),
        (status = 400, description = "Missing or invalid headers", body = ErrorBody),
        (status = 404, description = "No such upload of yours", body = ErrorBody),
        (status = 409, description = "`Upload-Offset` is not the upload's offset", body = ErrorBody),
        (status = 410, description = "Expired, or its file was refused", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "The body goes past `Upload-Length`", body = ErrorBody),
        (status = 415, description = "Not `application/offset+octet-stream`", body = ErrorBody),
        (status = 422, description = "The completed file is not a playable video", body = ErrorBody),
        (status = 423, description = "Another request is writing this upload", body = ErrorBody),
        (status = 460, description = "Checksum mismatch; nothing appended", body = ErrorBody),
        (status = 503, description = "The database or the blob store does not answer; retry after `Retry-After`", body = ErrorBody),
        (status = 507, description = "The server's storage is full (or at its reserve); nothing appended", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, TusError> {
    headers::check_version(&headers)?;
    check_content_type(&headers)?;
    let sent = headers::number(&headers, "upload-offset")?.ok_or_else(|| {
        TusError::bad_request("missing_upload_offset", "Upload-Offset is required")
    })?;
    let len = headers::number(&headers, "content-length")?.ok_or(TusError::LengthRequired)?;
    let checksum = headers::checksum(&headers)?;
    let upload_id = live_upload(&state, &uploader, &id).await?.id;
    if let Err(full) = capacity::ensure_room(&state, len).await {
        drain(body).await;
        return Err(full.into());
    }
    let headers = holding(&state, upload_id, async {
        // Read again under the lock: a request that just finished may have moved it.
        let mut upload = live_upload(&state, &uploader, &id).await?;
        if sent != upload.offset {
            return Err(TusError::OffsetMismatch {
                sent,
                stored: upload.offset,
            });
        }
        check_len(&upload, len)?;
        write(
            &state,
            &mut upload,
            body_stream(body, &state),
            len,
            checksum.as_ref(),
        )
        .await?;
        Ok(upload_headers(&upload))
    })
    .await?;
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Run `work` holding upload `id` for writing (this process's guard and the
/// repository's lock, `423` if another request holds them), and release the lock before
/// answering, so that the client's next request finds it free.
async fn holding<T>(
    state: &AppState,
    id: Uuid,
    work: impl std::future::Future<Output = Result<T, TusError>>,
) -> Result<T, TusError> {
    let held = Held::try_hold(state, id).await?.ok_or(TusError::Busy)?;
    let result = work.await;
    held.release().await;
    result
}

/// Stop an upload and forget its bytes (tus termination). A file already filed stays.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id")),
    responses(
        (status = 204, description = "Gone"),
        (status = 404, description = "No such upload of yours", body = ErrorBody),
        (status = 423, description = "Another request is writing this upload", body = ErrorBody),
    ),
    security(("session" = [])))]
pub async fn terminate(
    State(state): State<AppState>,
    uploader: Uploader,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, TusError> {
    headers::check_version(&headers)?;
    let id = parse_id(&id)?;
    let upload = state
        .repo
        .upload(uploader.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    holding(&state, upload.id, discard(&state, &upload)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Append `len` bytes of `source`; when they complete the upload, file it and only then
/// record the final offset.
async fn write(
    state: &AppState,
    upload: &mut Upload,
    source: ByteStream,
    len: u64,
    checksum: Option<&Checksum>,
) -> Result<(), TusError> {
    let hashes = &state.uploads.hashes;
    let running = if upload.partial {
        None
    } else {
        hashes.take(upload.id, upload.offset)
    };
    let body = Body::new(source, checksum.map(|c| Hasher::new(c.algorithm)), running);
    let completes = upload.offset + len == upload.length;
    let (mut progress, sha256) = if completes && state.blobs.exists(&key(&upload.blob_key)?).await?
    {
        // A previous attempt assembled the object and stopped (a crash) before recording
        // the offset: the object is whole, so the resent bytes are not needed.
        tracing::info!(upload = %upload.id, "resuming the filing of an assembled upload");
        // Read the resent bytes anyway: answering before the body is read would break the
        // client's connection mid-request.
        let mut resent = body.take(len);
        while let Some(chunk) = resent.next().await {
            chunk.map_err(TusError::internal)?;
        }
        let mut progress = upload.progress();
        progress.offset = upload.length;
        progress.tail_key = None;
        progress.tail_len = 0;
        // The stored object is filed, not the resent bytes: it is hashed itself.
        (progress, None)
    } else {
        let progress = append(state, upload, &body, len, checksum).await?;
        let running = body.running().await;
        if completes {
            (progress, running.map(|r| hex::encode(r.finalize())))
        } else {
            if let Some(running) = running {
                hashes.keep(upload.id, upload.offset, running);
            }
            (progress, None)
        }
    };
    if completes {
        let filed = complete(state, upload, &progress, sha256).await?;
        // The multipart upload became the object; there is nothing left to abort.
        progress.multipart_id = None;
        progress.outcome = filed.as_ref().map(|f| f.outcome.clone());
        let tail = upload.tail_key.clone();
        commit(state, upload, progress).await?;
        crash::reached(CrashPoint::UploadCompleted);
        // What is left is scratch; the sweep deletes it if a crash comes first.
        if let Some(tail) = tail {
            best_effort_delete(state, &key(&tail)?).await;
        }
        if filed.is_some_and(|f| f.duplicate) {
            best_effort_delete(state, &key(&upload.blob_key)?).await;
        }
        crash::reached(CrashPoint::PartsDeleted);
    }
    Ok(())
}

/// Fill a final upload with its partial uploads' bytes, file it, and forget the partials.
async fn concatenate(state: &AppState, upload: &mut Upload, ids: &[Uuid]) -> Result<(), TusError> {
    let mut partials = Vec::with_capacity(ids.len());
    for id in ids {
        let partial = state
            .repo
            .upload(upload.user_id, *id)
            .await?
            .ok_or_else(|| {
                TusError::bad_request("invalid_concat", format!("no partial upload {id}"))
            })?;
        partials.push(partial);
    }
    let blobs = state.blobs.clone();
    let pieces = partials
        .iter()
        .map(|p| Ok::<_, TusError>((key(&p.blob_key)?, p.length)))
        .collect::<Result<Vec<_>, _>>()?;
    let source = stream::iter(pieces)
        .then(move |(k, len)| {
            let blobs = blobs.clone();
            async move { blobs.get_range(&k, 0..len).await.map_err(io::Error::other) }
        })
        .try_flatten()
        .boxed();
    let result = write(state, upload, source, upload.length, None).await;
    if let Err(err) = result {
        if !matches!(err, TusError::Unprocessable(_)) {
            discard(state, upload).await?;
        }
        return Err(err);
    }
    for partial in &partials {
        discard(state, partial).await?;
    }
    Ok(())
}

/// The summed length of complete partial uploads of `user_id`.
async fn partials_length(state: &AppState, user_id: Uuid, ids: &[Uuid]) -> Result<u64, TusError> {
    let mut total = 0u64;
    for id in ids {
        let partial = state.repo.upload(user_id, *id).await?;
        match partial {
            Some(p) if p.partial && p.offset == p.length => total += p.length,
            Some(_) => {
                return Err(TusError::bad_request(
                    "invalid_concat",
                    format!("upload {id} is not a complete partial upload"),
                ))
            }
            None => {
                return Err(TusError::bad_request(
                    "invalid_concat",
                    format!("no partial upload {id}"),
                ))
            }
        }
    }
    Ok(total)
}

/// The device an upload belongs to: the token's, a device of the user the metadata
/// names, or the user's "web upload" device (made on first use).
async fn device_for(
    state: &AppState,
    uploader: &Uploader,
    named: Option<Uuid>,
) -> Result<Uuid, TusError> {
    if let Some(device) = &uploader.device {
        if named.is_some_and(|id| id != device.id) {
            return Err(TusError::bad_request(
                "invalid_metadata",
                "device names another device than the device token's",
            ));
        }
        return Ok(device.id);
    }
    if let Some(id) = named {
        return match state.repo.device(uploader.user_id, id).await? {
            Some(device) => Ok(device.id),
            None => Err(TusError::bad_request(
                "invalid_metadata",
                "device is not one of your devices",
            )),
        };
    }
    let devices = state.repo.devices(uploader.user_id).await?;
    if let Some(web) = devices.iter().find(|d| d.serial == WEB_UPLOAD_SERIAL) {
        return Ok(web.id);
    }
    let device = NewDevice {
        id: Uuid::now_v7(),
        user_id: uploader.user_id,
        model: "Web upload".into(),
        serial: WEB_UPLOAD_SERIAL.into(),
        name: "Web upload".into(),
        has_cabin_camera: true,
        uploads_drives: true,
        // A token nobody is given: this device never authenticates.
        token_hash: secret::token_hash(&secret::new_token(secret::DEVICE_PREFIX)),
        created_at: state.clock.now(),
    };
    Ok(state.repo.create_device(&device).await?.id)
}

/// Refuse an upload above the maximum size (413), or one whose `new_bytes` (those not
/// counted yet) do not fit in the owner's quota (507).
async fn check_size(
    state: &AppState,
    user_id: Uuid,
    length: u64,
    new_bytes: u64,
) -> Result<(), TusError> {
    let config = &state.uploads.config;
    if length > config.max_size {
        return Err(TusError::TooLarge(format!(
            "Upload-Length {length} is above the maximum upload size of {} bytes",
            config.max_size
        )));
    }
    if let Some(quota) = config.user_quota {
        let used = state.repo.used_bytes(user_id).await?;
        if used.saturating_add(new_bytes) > quota {
            return Err(TusError::QuotaExceeded(format!(
                "this upload of {length} bytes does not fit in your quota: {used} of {quota} bytes are used"
            )));
        }
    }
    Ok(())
}

/// Refuse a body that would take the upload past its declared length (413).
fn check_len(upload: &Upload, len: u64) -> Result<(), TusError> {
    if upload.offset.saturating_add(len) > upload.length {
        return Err(TusError::TooLarge(format!(
            "the body of {len} bytes at offset {} goes past the declared Upload-Length {}",
            upload.offset, upload.length
        )));
    }
    Ok(())
}

fn check_content_type(headers: &HeaderMap) -> Result<(), TusError> {
    match headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes) {
        Some(b"application/offset+octet-stream") => Ok(()),
        _ => Err(TusError::WrongContentType),
    }
}

/// One of the user's uploads by its URL segment; `404` for another user's or a malformed
/// id, `410` once it expired unfinished.
async fn live_upload(state: &AppState, uploader: &Uploader, id: &str) -> Result<Upload, TusError> {
    let upload = owned_upload(state, uploader, id).await?;
    if let Some(reason) = &upload.failure {
        return Err(TusError::Refused(reason.clone()));
    }
    if upload.offset < upload.length && upload.expires_at <= state.clock.now() {
        return Err(TusError::Gone);
    }
    Ok(upload)
}

/// One of the user's uploads by its URL segment, in whatever state; `404` for another
/// user's or a malformed id.
pub(super) async fn owned_upload(
    state: &AppState,
    uploader: &Uploader,
    id: &str,
) -> Result<Upload, TusError> {
    Ok(state
        .repo
        .upload(uploader.user_id, parse_id(id)?)
        .await?
        .ok_or(ApiError::NotFound)?)
}

fn parse_id(id: &str) -> Result<Uuid, TusError> {
    Uuid::parse_str(id).map_err(|_| TusError::Api(ApiError::NotFound))
}

/// `Upload-Offset` and, while unfinished, `Upload-Expires`.
fn upload_headers(upload: &Upload) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("upload-offset", HeaderValue::from(upload.offset));
    if upload.offset < upload.length {
        if let Ok(value) = HeaderValue::from_str(&headers::http_date(upload.expires_at)) {
            headers.insert(HeaderName::from_static("upload-expires"), value);
        }
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(0));
    headers
}

/// The request body as a byte stream, counted in the `tus_received_bytes` metric.
/// Reads a refused request's body to its end, storing nothing, so that a client still
/// sending it reads the refusal rather than a connection reset under it (HTTP/1.1
/// clients without `Expect: 100-continue` send the whole body before reading).
async fn drain(body: axum::body::Body) {
    let mut chunks = body.into_data_stream();
    while let Some(Ok(_)) = chunks.next().await {}
}

fn body_stream(body: axum::body::Body, state: &AppState) -> ByteStream {
    let received = state.metrics.tus_received_bytes.clone();
    body.into_data_stream()
        .inspect_ok(move |chunk| {
            received.inc_by(chunk.len() as u64);
        })
        .map_err(io::Error::other)
        .boxed()
}

/// Clean away a few uploads that expired unfinished (and rows of finished ones); failures
/// are logged and left for the next sweep.
async fn sweep_expired(state: &AppState) {
    if let Err(err) = sweep_expired_batch(state).await {
        tracing::warn!(%err, "listing expired uploads failed");
    }
}

/// Clean away up to one batch of expired uploads (their parts, tail and row); the number
/// listed, so a caller can repeat until none is left. An upload another request is
/// writing right now is skipped.
pub async fn sweep_expired_batch(state: &AppState) -> dashvault_store::Result<usize> {
    let now: DateTime<Utc> = state.clock.now();
    let expired = state.repo.expired_uploads(now, SWEEP_BATCH).await?;
    let listed = expired.len();
    for upload in expired {
        let Some(held) = Held::try_hold(state, upload.id).await? else {
            continue;
        };
        if let Err(err) = discard(state, &upload).await {
            tracing::warn!(%err, upload = %upload.id, prefix = %scratch_prefix(&upload), "cleaning an expired upload failed");
        }
        held.release().await;
    }
    Ok(listed)
}

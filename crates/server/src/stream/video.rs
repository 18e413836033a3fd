//! A video planned by the media crate's cut, answered as HTTP: the whole file or one byte
//! range of it (`206`, `416`), `HEAD`, an exact `Content-Length`, an `ETag` with
//! `If-Range`, and the body streamed from ranged reads of the stored recordings — the
//! output file is never assembled, on disk or in memory.

use super::indexes::{blob_key, IndexCache};
use super::range::{self, Wanted};
use crate::error::ApiError;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dashvault_media::{CutPlan, Mp4Index, Slice};
use dashvault_store::blob::{BlobKey, ByteStream};
use dashvault_store::model::VideoFile;
use dashvault_store::BlobStore;
use futures_util::{future, stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::io;
use std::ops::Range;
use std::sync::Arc;

/// How much of the source files a planned video may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// The kept tracks' samples and whatever lies between them in the sources (fewest
    /// ranged reads).
    Full,
    /// Only the bytes of the kept video and audio samples: no telemetry (GPS) of any kind.
    SamplesOnly,
}

/// A video ready to be served: the plan of the output file and the stored blob of each
/// input file it reads.
#[derive(Debug)]
pub struct PlannedVideo {
    plan: CutPlan,
    sources: Vec<BlobKey>,
    etag: String,
}

impl PlannedVideo {
    /// Plans the window `[from, to]` (seconds from the start of the first file) of the
    /// consecutive stored videos `files`, reading their indexes through `indexes`.
    pub async fn cut(
        blobs: &Arc<dyn BlobStore>,
        indexes: &IndexCache,
        files: &[VideoFile],
        (from, to): (f64, f64),
        content: Content,
    ) -> Result<Self, ApiError> {
        let loaded =
            future::try_join_all(files.iter().map(|file| indexes.index(blobs, file))).await?;
        let owned: Vec<Mp4Index> = loaded.iter().map(|index| (**index).clone()).collect();
        let plan = match content {
            Content::Full => dashvault_media::cut(&owned, from, to),
            Content::SamplesOnly => dashvault_media::cut_samples_only(&owned, from, to),
        }
        .map_err(|e| match e {
            dashvault_media::Error::Request(message) => {
                ApiError::bad_request("invalid_window", message)
            }
            other => ApiError::Internal(format!("cutting stored videos: {other}")),
        })?;
        let sources = files.iter().map(blob_key).collect::<Result<_, _>>()?;
        let mut tag = Sha256::new();
        for file in files {
            tag.update(file.sha256.as_bytes());
            tag.update(b",");
        }
        tag.update(format!("{from}-{to}-{content:?}").as_bytes());
        let etag = format!("\"{}\"", hex::encode(&tag.finalize()[..16]));
        Ok(Self {
            plan,
            sources,
            etag,
        })
    }

    /// The answer to `method` with `headers` (`Range`, `If-Range`): the whole file
    /// (`200`) or one range (`206`), or `416` for a range it can not satisfy. With
    /// `attachment`, a `Content-Disposition` offers the file for download under that name.
    pub fn respond(
        &self,
        blobs: Arc<dyn BlobStore>,
        method: &Method,
        headers: &HeaderMap,
        attachment: Option<&str>,
    ) -> Response {
        let len = self.plan.len();
        let if_range_matches = headers
            .get(header::IF_RANGE)
            .is_none_or(|tag| tag.as_bytes() == self.etag.as_bytes());
        let range_header = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .filter(|_| if_range_matches);
        let wanted = range::parse(range_header, len);
        let mut response_headers = HeaderMap::new();
        response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
        response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            response_headers.insert(header::ETAG, etag);
        }
        if let Some(name) = attachment {
            let value = format!(
                "attachment; filename=\"{}\"",
                name.replace(['"', '\\'], "_")
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response_headers.insert(header::CONTENT_DISPOSITION, value);
            }
        }
        let (status, range) = match wanted {
            Wanted::Whole => (StatusCode::OK, 0..len),
            Wanted::Part(range) => {
                let content_range = format!(
                    "bytes {}-{}/{len}",
                    range.start,
                    range.end.saturating_sub(1)
                );
                if let Ok(value) = HeaderValue::from_str(&content_range) {
                    response_headers.insert(header::CONTENT_RANGE, value);
                }
                (StatusCode::PARTIAL_CONTENT, range)
            }
            Wanted::Unsatisfiable => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    response_headers.insert(header::CONTENT_RANGE, value);
                }
                response_headers.remove(header::CONTENT_TYPE);
                return (StatusCode::RANGE_NOT_SATISFIABLE, response_headers).into_response();
            }
        };
        response_headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(range.end - range.start),
        );
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from_stream(self.body(blobs, range))
        };
        (status, response_headers, body).into_response()
    }

    /// The plan: the output's made bytes and the ranges it takes from each input file.
    pub fn plan(&self) -> &CutPlan {
        &self.plan
    }

    /// Bytes `range` of the output: the planned header bytes as they are, and each source
    /// range as a ranged read of its blob, one after the other.
    pub fn body(&self, blobs: Arc<dyn BlobStore>, range: Range<u64>) -> ByteStream {
        let pieces: Vec<Piece> = self
            .plan
            .slices(range)
            .map(|slice| match slice {
                Slice::Bytes(bytes) => Piece::Bytes(Bytes::copy_from_slice(bytes)),
                Slice::Source { file, offset, len } => Piece::Blob {
                    key: self.sources.get(file).cloned(),
                    range: offset..offset + len,
                },
            })
            .collect();
        stream::iter(pieces)
            .then(move |piece| {
                let blobs = Arc::clone(&blobs);
                async move {
                    match piece {
                        Piece::Bytes(bytes) => Ok(stream::iter([Ok(bytes)]).boxed()),
                        Piece::Blob {
                            key: Some(key),
                            range,
                        } => blobs.get_range(&key, range).await.map_err(io::Error::other),
                        Piece::Blob { key: None, .. } => Err(io::Error::other(
                            "the plan reads an input file it was not given",
                        )),
                    }
                }
            })
            .try_flatten()
            .boxed()
    }
}

/// One owned piece of a response body.
enum Piece {
    Bytes(Bytes),
    Blob {
        key: Option<BlobKey>,
        range: Range<u64>,
    },
}

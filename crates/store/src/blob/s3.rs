//! The S3 engine: any S3-compatible store (AWS S3, Garage, MinIO, …) through `object_store`.
//!
//! A put sends a blob smaller than [`MIN_PART_SIZE`] in one request and a larger one as a
//! multipart upload of [`MIN_PART_SIZE`] parts, so memory stays at a few parts whatever the
//! blob's size; a failed put aborts its upload, so nothing becomes visible. The resumable
//! multipart API maps one to one onto S3's: its state is the S3 upload id and part ETags.

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig, WriteMultipart,
};

use super::{
    check_part_index, check_parts, check_range, part_too_large, BlobError, BlobKey, BlobMeta,
    BlobStore, ByteStream, PartReceipt, Result, UploadId, MAX_PART_SIZE, MIN_PART_SIZE,
};

/// Parts of one put sent at the same time (each holds [`MIN_PART_SIZE`] bytes in memory).
const PUT_CONCURRENCY: usize = 2;

/// Retries of a failed request (a store that does not answer is reported quickly, as a
/// `503` the client retries, rather than held for minutes).
const RETRIES: usize = 2;
/// Longest time spent retrying one request.
const RETRY_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest wait for a connection to the store.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Blobs as objects in one bucket of an S3-compatible store.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
}

impl S3BlobStore {
    /// Connect to `bucket`. Credentials and any setting not given here come from the
    /// standard `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, …). A custom `endpoint`
    /// gets path-style requests, and plain HTTP when it starts with `http://`.
    pub fn open(bucket: &str, endpoint: Option<&str>, region: Option<&str>) -> Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: RETRIES,
                retry_timeout: RETRY_TIMEOUT,
            })
            .with_client_options(ClientOptions::new().with_connect_timeout(CONNECT_TIMEOUT));
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = region {
            builder = builder.with_region(region);
        }
        let store = builder.build().map_err(BlobError::S3)?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    async fn put_small(&self, path: &Path, chunks: Vec<bytes::Bytes>) -> Result<()> {
        self.store
            .put(path, chunks.into_iter().collect::<PutPayload>())
            .await
            .map_err(BlobError::S3)?;
        Ok(())
    }

    /// Send `first` and the rest of `body` as a multipart upload, aborting it on error.
    async fn put_large(
        &self,
        path: &Path,
        first: Vec<bytes::Bytes>,
        mut body: ByteStream,
    ) -> Result<u64> {
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(BlobError::S3)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, chunk_size());
        let mut len = 0u64;
        for chunk in first {
            len += chunk.len() as u64;
            writer.put(chunk);
        }
        let sent: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(BlobError::Body)?;
                writer
                    .wait_for_capacity(PUT_CONCURRENCY)
                    .await
                    .map_err(BlobError::S3)?;
                len += chunk.len() as u64;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        match sent {
            Ok(()) => {
                writer.finish().await.map_err(BlobError::S3)?;
                Ok(len)
            }
            Err(e) => {
                // The upload was never completed, so nothing is visible either way; the
                // abort frees the parts already sent.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }
}

/// [`MIN_PART_SIZE`] as a buffer size.
fn chunk_size() -> usize {
    usize::try_from(MIN_PART_SIZE).unwrap_or(usize::MAX)
}

fn path_of(key: &BlobKey) -> Path {
    Path::from(key.as_str())
}

/// Classify an `object_store` error about `key`.
fn classify(key: &BlobKey, e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound {
            key: key.to_string(),
        },
        e => BlobError::S3(e),
    }
}

/// Classify an `object_store` error about a multipart upload (S3 answers 404 NoSuchUpload).
fn classify_upload(key: &BlobKey, upload: &UploadId, e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NoSuchUpload {
            key: key.to_string(),
            upload_id: upload.to_string(),
        },
        e => BlobError::S3(e),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn ping(&self) -> Result<()> {
        // Listing a prefix that holds nothing needs a reachable server, valid credentials
        // and an existing bucket, and costs one request.
        let probe = Path::from("dashvault-ping");
        match self.store.list(Some(&probe)).next().await {
            Some(Err(e)) => Err(BlobError::S3(e)),
            _ => Ok(()),
        }
    }

    async fn put(&self, key: &BlobKey, mut body: ByteStream) -> Result<u64> {
        let path = path_of(key);
        let mut first = Vec::new();
        let mut len = 0u64;
        while len < MIN_PART_SIZE {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(BlobError::Body)?;
                    len += chunk.len() as u64;
                    first.push(chunk);
                }
                None => {
                    self.put_small(&path, first).await?;
                    return Ok(len);
                }
            }
        }
        self.put_large(&path, first, body).await
    }

    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> Result<ByteStream> {
        if range.start >= range.end {
            // S3 cannot express an empty range; the blob's length decides.
            let meta = self.head(key).await?;
            check_range(key, &range, meta.len)?;
            return Ok(stream::empty().boxed());
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        match self.store.get_opts(&path_of(key), options).await {
            Ok(result) => {
                // `object_store` clips a range that runs past the end; that is an error here.
                check_range(key, &range, result.meta.size)?;
                Ok(result.into_stream().map_err(io::Error::other).boxed())
            }
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound {
                key: key.to_string(),
            }),
            Err(e) => {
                // S3 answers 416 to a range that starts past the end: tell that apart.
                let meta = self.head(key).await?;
                check_range(key, &range, meta.len)?;
                Err(BlobError::S3(e))
            }
        }
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta> {
        let meta = self
            .store
            .head(&path_of(key))
            .await
            .map_err(|e| classify(key, e))?;
        Ok(BlobMeta {
            key: key.clone(),
            len: meta.size,
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        match self.store.delete(&path_of(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError::S3(e)),
        }
    }

    fn list(&self, prefix: Option<&BlobKey>) -> BoxStream<'static, Result<BlobMeta>> {
        let prefix = prefix.map(path_of);
        self.store
            .list(prefix.as_ref())
            .filter_map(|item| async move {
                match item {
                    // Objects whose names are not blob keys were not written by dashvault.
                    Ok(meta) => BlobKey::new(meta.location.as_ref()).ok().map(|key| {
                        Ok(BlobMeta {
                            key,
                            len: meta.size,
                        })
                    }),
                    Err(e) => Some(Err(BlobError::S3(e))),
                }
            })
            .boxed()
    }

    async fn create_multipart(&self, key: &BlobKey) -> Result<UploadId> {
        let id = MultipartStore::create_multipart(&*self.store, &path_of(key))
            .await
            .map_err(BlobError::S3)?;
        Ok(UploadId::new(id))
    }

    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        part_index: u32,
        mut body: ByteStream,
    ) -> Result<PartReceipt> {
        check_part_index(upload, part_index)?;
        // S3 needs a part's length before its bytes: hold this one part (≤ MAX_PART_SIZE).
        let mut chunks = Vec::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobError::Body)?;
            size += chunk.len() as u64;
            if size > MAX_PART_SIZE {
                return Err(part_too_large(upload, part_index));
            }
            chunks.push(chunk);
        }
        let index = usize::try_from(part_index).map_err(|_| part_too_large(upload, part_index))?;
        let part = MultipartStore::put_part(
            &*self.store,
            &path_of(key),
            &upload.as_str().to_owned(),
            index,
            chunks.into_iter().collect(),
        )
        .await
        .map_err(|e| classify_upload(key, upload, e))?;
        Ok(PartReceipt {
            part_index,
            etag: part.content_id,
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
        let parts = parts
            .iter()
            .map(|part| PartId {
                content_id: part.etag.clone(),
            })
            .collect();
        MultipartStore::complete_multipart(
            &*self.store,
            &path_of(key),
            &upload.as_str().to_owned(),
            parts,
        )
        .await
        .map_err(|e| classify_upload(key, upload, e))?;
        Ok(BlobMeta {
            key: key.clone(),
            len,
        })
    }

    async fn abort_multipart(&self, key: &BlobKey, upload: &UploadId) -> Result<()> {
        match MultipartStore::abort_multipart(
            &*self.store,
            &path_of(key),
            &upload.as_str().to_owned(),
        )
        .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError::S3(e)),
        }
    }
}

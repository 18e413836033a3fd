//! `--blob-url` parsing: which engine, and where.

use std::path::PathBuf;

use super::{BlobError, Result};

/// Where blobs live, as parsed from a blob URL; [`open_blob_store`](super::open_blob_store)
/// turns it into an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobLocation {
    /// `file:///abs/path` or `file://relative/path` (relative to the current directory).
    Fs {
        /// The root directory, as written.
        root: PathBuf,
    },
    /// `s3://bucket?endpoint=http://host:port&region=us-east-1`.
    S3 {
        /// The bucket name.
        bucket: String,
        /// A custom endpoint (MinIO, Garage, …); `None` means AWS.
        endpoint: Option<String>,
        /// The region; `None` takes `AWS_REGION` or the engine's default.
        region: Option<String>,
    },
}

impl BlobLocation {
    /// Parse a blob URL. Query parameters other than `endpoint` and `region` are rejected,
    /// so a typo does not silently fall back to AWS.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: &str| BlobError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(invalid("the file:// URL names no directory"));
            }
            return Ok(Self::Fs {
                root: PathBuf::from(path),
            });
        }
        if !url.starts_with("s3://") {
            return Err(invalid(
                "expected file:///path or s3://bucket?endpoint=…&region=…",
            ));
        }
        let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| invalid("the s3:// URL names no bucket"))?
            .to_owned();
        if !matches!(parsed.path(), "" | "/") {
            return Err(invalid(
                "an s3:// URL names only a bucket, not a path in it",
            ));
        }
        let (mut endpoint, mut region) = (None, None);
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "endpoint" => endpoint = Some(value.into_owned()),
                "region" => region = Some(value.into_owned()),
                other => {
                    return Err(invalid(&format!(
                        "unknown parameter {other:?} (known: endpoint, region)"
                    )))
                }
            }
        }
        if let Some(endpoint) = &endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(invalid("the endpoint must start with http:// or https://"));
            }
        }
        Ok(Self::S3 {
            bucket,
            endpoint,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_file_urls() {
        assert_eq!(
            BlobLocation::parse("file:///var/lib/dashvault/blobs").ok(),
            Some(BlobLocation::Fs {
                root: "/var/lib/dashvault/blobs".into()
            })
        );
        assert_eq!(
            BlobLocation::parse("file://data/blobs").ok(),
            Some(BlobLocation::Fs {
                root: "data/blobs".into()
            })
        );
    }

    #[test]
    fn parses_s3_urls() {
        assert_eq!(
            BlobLocation::parse("s3://clips?endpoint=http://127.0.0.1:9000&region=garage").ok(),
            Some(BlobLocation::S3 {
                bucket: "clips".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: Some("garage".into()),
            })
        );
        assert_eq!(
            BlobLocation::parse("s3://clips").ok(),
            Some(BlobLocation::S3 {
                bucket: "clips".into(),
                endpoint: None,
                region: None
            })
        );
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "",
            "file://",
            "/var/blobs",
            "http://127.0.0.1:9000/clips",
            "s3://",
            "s3://clips/some/prefix",
            "s3://clips?endpont=http://x",
            "s3://clips?endpoint=127.0.0.1:9000",
        ] {
            assert!(
                matches!(BlobLocation::parse(url), Err(BlobError::InvalidUrl { .. })),
                "{url:?} was accepted"
            );
        }
    }
}

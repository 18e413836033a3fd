//! The tus request headers, parsed and checked: `Tus-Resumable`, `Upload-Length`,
//! `Upload-Offset`, `Upload-Checksum`, `Upload-Concat`, and `Upload-Expires` written.

use super::{TusError, TUS_VERSION};
use axum::http::HeaderMap;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Refuse a request without `Tus-Resumable: 1.0.0` (412).
pub fn check_version(headers: &HeaderMap) -> Result<(), TusError> {
    match headers.get("tus-resumable").map(|v| v.as_bytes()) {
        Some(v) if v == TUS_VERSION.as_bytes() => Ok(()),
        _ => Err(TusError::UnsupportedVersion),
    }
}

/// A header holding a non-negative decimal integer, if present.
pub fn number(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, TusError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            TusError::bad_request(
                "invalid_header",
                format!("{name} must be a non-negative integer"),
            )
        })
}

/// A header that must be a text value, if present.
pub fn text<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<Option<&'h str>, TusError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                TusError::bad_request("invalid_header", format!("{name} must be ASCII text"))
            })
        })
        .transpose()
}

/// A checksum algorithm of the checksum extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// `Upload-Checksum`: the digest the PATCH body must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Expected digest.
    pub digest: Vec<u8>,
}

/// Parse `Upload-Checksum: <algorithm> <base64 digest>`, if present.
pub fn checksum(headers: &HeaderMap) -> Result<Option<Checksum>, TusError> {
    let Some(value) = text(headers, "upload-checksum")? else {
        return Ok(None);
    };
    let bad =
        |why: &str| TusError::bad_request("invalid_checksum", format!("Upload-Checksum {why}"));
    let (name, encoded) = value
        .split_once(' ')
        .ok_or_else(|| bad("must be `<algorithm> <base64 digest>`"))?;
    let (algorithm, len) = match name {
        "sha1" => (Algorithm::Sha1, 20),
        "sha256" => (Algorithm::Sha256, 32),
        _ => return Err(bad("names an unsupported algorithm; use sha1 or sha256")),
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad("has a digest that is not base64"))?;
    if digest.len() != len {
        return Err(bad("has a digest of the wrong length"));
    }
    Ok(Some(Checksum { algorithm, digest }))
}

/// `Upload-Concat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concat {
    /// A part of a later final upload.
    Partial,
    /// The concatenation of these partial uploads, in order.
    Final(Vec<Uuid>),
}

/// Parse `Upload-Concat: partial` or `final;<url> <url> …`, if present. The URLs may be
/// absolute or paths; the upload id is their last segment.
pub fn concat(headers: &HeaderMap) -> Result<Option<Concat>, TusError> {
    let Some(value) = text(headers, "upload-concat")? else {
        return Ok(None);
    };
    let bad = || {
        TusError::bad_request(
            "invalid_concat",
            "Upload-Concat must be `partial` or `final;<upload URL> <upload URL> …`",
        )
    };
    if value == "partial" {
        return Ok(Some(Concat::Partial));
    }
    let urls = value.strip_prefix("final;").ok_or_else(bad)?;
    let ids = urls
        .split_ascii_whitespace()
        .map(|url| {
            url.trim_end_matches('/')
                .rsplit('/')
                .next()
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(bad)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(bad());
    }
    Ok(Some(Concat::Final(ids)))
}

/// A time as `Upload-Expires` writes it (RFC 7231 HTTP date).
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn numbers_must_be_plain_digits() {
        assert_eq!(
            number(&headers(&[("upload-offset", "42")]), "upload-offset").ok(),
            Some(Some(42))
        );
        assert_eq!(number(&headers(&[]), "upload-offset").ok(), Some(None));
        for bad in ["-1", "+1", "1.0", "", " 1", "99999999999999999999999"] {
            let map = headers(&[("upload-offset", bad)]);
            assert!(number(&map, "upload-offset").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checksums_name_a_known_algorithm_and_a_digest_of_its_length() {
        let sha1 = checksum(&headers(&[(
            "upload-checksum",
            "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        )]));
        assert!(matches!(
            sha1,
            Ok(Some(Checksum {
                algorithm: Algorithm::Sha1,
                ..
            }))
        ));
        for bad in [
            "md5 1B2M2Y8AsgTpgAmY7PhCfg==",
            "sha1",
            "sha1 !!!",
            "sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        ] {
            assert!(
                checksum(&headers(&[("upload-checksum", bad)])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn concat_takes_ids_from_urls() {
        let map = headers(&[(
            "upload-concat",
            "final;/api/v1/uploads/0190d8a4-6f4e-7c3a-8b5e-1a2b3c4d5e6f http://h/api/v1/uploads/0190d8a4-6f4e-7c3a-8b5e-1a2b3c4d5e70",
        )]);
        let Ok(Some(Concat::Final(ids))) = concat(&map) else {
            panic!("not parsed");
        };
        assert_eq!(ids.len(), 2);
        assert_eq!(
            concat(&headers(&[("upload-concat", "partial")])).ok(),
            Some(Some(Concat::Partial))
        );
        for bad in ["final;", "final;/api/v1/uploads/nope", "whole"] {
            assert!(
                concat(&headers(&[("upload-concat", bad)])).is_err(),
                "{bad}"
            );
        }
    }
}

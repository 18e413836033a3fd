//! Checked names of blobs and of multipart uploads.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{BlobError, Result};

/// Longest key accepted, in bytes (S3 allows 1024; leave room for a bucket prefix).
pub const MAX_KEY_LEN: usize = 512;

/// The name of a blob: `/`-separated segments of ASCII letters, digits, `-`, `_` and `.`,
/// no segment empty or starting with `.`, at most [`MAX_KEY_LEN`] bytes.
///
/// These rules make a key safe to use as a relative path under the filesystem engine's
/// root (no `..`, no absolute path, no hidden names that could meet the engine's own
/// staging directories) and as an S3 object name that needs no escaping.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    /// Check `key` against the key rules.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        match violation(&key) {
            None => Ok(Self(key)),
            Some(reason) => Err(BlobError::InvalidKey { key, reason }),
        }
    }

    /// The key as text, `/`-separated.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first key rule that `key` breaks, if any.
fn violation(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("it is empty");
    }
    if key.len() > MAX_KEY_LEN {
        return Some("it is longer than 512 bytes");
    }
    if key.starts_with('/') {
        return Some("it is absolute (starts with '/')");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Some("it has an empty segment ('//' or a trailing '/')");
        }
        if segment.starts_with('.') {
            return Some("a segment starts with '.' (such as '..')");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Some("only ASCII letters, digits, '-', '_', '.' and '/' are allowed");
        }
    }
    None
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = BlobError;

    fn try_from(key: String) -> Result<Self> {
        Self::new(key)
    }
}

impl TryFrom<&str> for BlobKey {
    type Error = BlobError;

    fn try_from(key: &str) -> Result<Self> {
        Self::new(key)
    }
}

impl std::str::FromStr for BlobKey {
    type Err = BlobError;

    fn from_str(key: &str) -> Result<Self> {
        Self::new(key)
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> Self {
        key.0
    }
}

/// The id of a multipart upload, as the engine issued it. Opaque: store it (for example in
/// the uploads table) and hand it back to any [`BlobStore`](super::BlobStore) opened on the
/// same URL to go on with the upload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadId(String);

impl UploadId {
    /// Wrap an id read back from storage; engines check it when it is used.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for key in ["a", "clips/2026/11/x.mp4", "u-1_2/d.3/seg.000.mp4", "a.b"] {
            assert_eq!(
                BlobKey::new(key).map(String::from).ok(),
                Some(key.to_owned())
            );
        }
    }

    #[test]
    fn rejects_keys_that_could_escape_or_clash() {
        let long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/etc/passwd",
            "..",
            "a/../b",
            "a/./b",
            ".tmp/x",
            "a//b",
            "a/",
            "a\\b",
            "a b",
            "é",
            "a\0b",
            &long,
        ] {
            let err = BlobKey::new(key).expect_err(key);
            assert!(err.is_invalid_input(), "{key:?}: {err}");
        }
    }
}

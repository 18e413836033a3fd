//! The upload queries that read the same on both engines (`$n` placeholders, which
//! SQLite takes too, and no times), run by each engine with its own pool.

/// Record why a completed upload was refused.
pub(crate) const FAIL_UPLOAD: &str =
    "UPDATE uploads SET failure = $1 WHERE id = $2 AND user_id = $3";

/// An upload of any owner.
pub(crate) const UPLOAD_BY_ID: &str = "SELECT * FROM uploads WHERE id = $1";

/// Whether an upload row names a multipart upload id.
pub(crate) const MULTIPART_IN_USE: &str =
    "SELECT EXISTS (SELECT 1 FROM uploads WHERE multipart_id = $1)";

/// Bytes of every stored file.
pub(crate) const STORED_BYTES: &str = "SELECT
        CAST((SELECT COALESCE(SUM(size), 0) FROM recordings) AS BIGINT)
      + CAST((SELECT COALESCE(SUM(size), 0) FROM clips) AS BIGINT)
      + CAST((SELECT COALESCE(SUM(size), 0) FROM sidecars) AS BIGINT)";

/// Record an upload's progress and outcome if its offset is still the expected one.
pub(crate) const RECORD_PROGRESS: &str = "UPDATE uploads SET upload_offset = $1,
         multipart_id = $2, parts = $3, tail_key = $4, tail_len = $5, sha256 = $6,
         item_kind = $7, item_id = $8
     WHERE id = $9 AND user_id = $10 AND upload_offset = $11";

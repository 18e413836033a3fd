//! The upload queue: one row per file to send, in the state database, so an upload
//! survives a crash or a reboot with the URL and offset it had reached.

use crate::state::{State, StateError};
use chrono::{DateTime, Utc};
use dashvault_domain::upload;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// What a queued file is, as the server's `kind` metadata names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One camera file of a drive.
    Recording,
    /// A clip (automatic or manual).
    Clip,
    /// A drive's time-lapse.
    Timelapse,
    /// A camera's telemetry sidecar (`.gps`, `.3gf`), kept unchanged.
    Sidecar,
}

impl Kind {
    /// The name the server and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => upload::kind::RECORDING,
            Self::Clip => upload::kind::CLIP,
            Self::Timelapse => upload::kind::TIMELAPSE,
            Self::Sidecar => upload::kind::SIDECAR,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Recording, Self::Clip, Self::Timelapse, Self::Sidecar]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// Place in line; lower goes first. The policy ([`super::Policy`]) decides by it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// An automatic (incident) clip: at once, any network.
    AutoClip = 0,
    /// A telemetry sidecar: with the first clip or recording of its time, any network.
    Sidecar = 1,
    /// A manual clip: WiFi, or cellular when allowed and within the budget.
    ManualClip = 2,
    /// A drive (time-lapse or recording): WiFi only, and only for models that upload drives.
    Drive = 3,
}

impl Priority {
    fn from_i64(value: i64) -> Option<Self> {
        [Self::AutoClip, Self::Sidecar, Self::ManualClip, Self::Drive]
            .into_iter()
            .find(|p| *p as i64 == value)
    }
}

/// Camera view of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Facing the road.
    Road,
    /// Facing the cabin.
    Cabin,
}

impl View {
    /// The name the server and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Road => upload::view::ROAD,
            Self::Cabin => upload::view::CABIN,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Road, Self::Cabin]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// Which clock an upload's times are on (the server's `clock` metadata).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// True UTC: the camera's clock corrected by its GPS time ([`crate::clock`]).
    Gps,
    /// The camera's clock, as it named the file.
    #[default]
    Camera,
}

impl Clock {
    /// The name the server and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gps => upload::clock::GPS,
            Self::Camera => upload::clock::CAMERA,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Gps, Self::Camera]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// How a clip came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipKind {
    /// Made by incident detection.
    Auto,
    /// Asked for by the user.
    Manual,
}

impl ClipKind {
    /// The name the server and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => upload::clip::AUTO,
            Self::Manual => upload::clip::MANUAL,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Auto, Self::Manual]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// An incident on a clip, as the server's `incidents` metadata has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `hard_brake`, `sharp_turn`, `sudden_stop`, `collision`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// 0..1.
    pub severity: f64,
}

/// A file to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUpload {
    /// Where the file is (phone storage, or the camera folder for cabin clips).
    pub path: PathBuf,
    /// What it is.
    pub kind: Kind,
    /// Its place in line.
    pub priority: Priority,
    /// Time of its first frame (or first reading, for a sidecar).
    pub start: DateTime<Utc>,
    /// Time of its end; a sidecar goes with the first clip or recording overlapping
    /// `start..end`.
    pub end: DateTime<Utc>,
    /// Camera view.
    pub view: View,
    /// For clips: automatic or manual.
    pub clip: Option<ClipKind>,
    /// For clips: the incidents in it.
    pub incidents: Vec<Incident>,
    /// SHA-256 of the whole file, lower-case hex ([`sha256_file`]).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The file name to show in the cloud.
    pub filename: String,
    /// The clock `start`, `end` and the incidents' times are on.
    pub clock: Clock,
    /// A recording rebuilt at import ([`crate::rebuild`]): the length of the camera's
    /// file, whose bytes end this one.
    pub original_size: Option<u64>,
}

/// Where a queued upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting (or under way: see `tus_url` and `offset`).
    Queued,
    /// Accepted by the server.
    Done,
    /// Refused by the server for good (see `last_error`).
    Failed,
    /// The file was deleted before it went up (loop deletion).
    Gone,
    /// Deleted by the user before it went up.
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Gone => "gone",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Done,
            Self::Failed,
            Self::Gone,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A row of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedUpload {
    /// The row's id.
    pub id: i64,
    /// What was queued.
    pub item: NewUpload,
    /// The upload's URL on the server, once created.
    pub tus_url: Option<Url>,
    /// Bytes the server acknowledged (as last heard).
    pub offset: u64,
    /// Where it stands.
    pub status: Status,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When the agent that last failed it means to try again (its backoff; shown by
    /// `agent status`, while a new agent process tries at once).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Counts and bytes of the queue, for `agent status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Uploads waiting.
    pub queued: u64,
    /// Bytes still to send of those.
    pub bytes_pending: u64,
    /// Uploads the server accepted.
    pub done: u64,
    /// Uploads the server refused for good.
    pub failed: u64,
}

/// The queue over the agent's state database.
#[derive(Debug, Clone)]
pub struct Queue {
    state: State,
}

const COLUMNS: &str = "id, path, sha256, size, filename, kind, priority, start_at, end_at, \
    view, clip_kind, incidents, tus_url, sent_offset, status, attempts, last_error, next_attempt_at, \
    clock, original_size";

impl Queue {
    /// The queue kept in `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    /// The state database it lives in.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Queue a file; queuing the same (path, SHA-256) again changes nothing and gives the
    /// same id.
    pub async fn enqueue(&self, item: &NewUpload) -> Result<i64, StateError> {
        let path = item.path.to_string_lossy();
        let incidents = (!item.incidents.is_empty())
            .then(|| serde_json::to_string(&item.incidents))
            .transpose()
            .map_err(|e| StateError::Database(sqlx::Error::Encode(Box::new(e))))?;
        sqlx::query(
            "INSERT INTO uploads (path, sha256, size, filename, kind, priority, start_at, end_at, \
             view, clip_kind, incidents, created_at, clock, original_size) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (path, sha256) DO NOTHING",
        )
        .bind(path.as_ref())
        .bind(&item.sha256)
        .bind(i64::try_from(item.size).unwrap_or(i64::MAX))
        .bind(&item.filename)
        .bind(item.kind.as_str())
        .bind(item.priority as i64)
        .bind(item.start)
        .bind(item.end)
        .bind(item.view.as_str())
        .bind(item.clip.map(ClipKind::as_str))
        .bind(incidents)
        .bind(Utc::now())
        .bind(item.clock.as_str())
        .bind(
            item.original_size
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        )
        .execute(self.state.pool())
        .await?;
        Ok(
            sqlx::query_scalar("SELECT id FROM uploads WHERE path = ? AND sha256 = ?")
                .bind(path.as_ref())
                .bind(&item.sha256)
                .fetch_one(self.state.pool())
                .await?,
        )
    }

    /// One row.
    pub async fn get(&self, id: i64) -> Result<Option<QueuedUpload>, StateError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM uploads WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.state.pool())
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// The uploads waiting, first in line first (priority, then oldest).
    pub async fn pending(&self) -> Result<Vec<QueuedUpload>, StateError> {
        self.select(
            "WHERE status = 'queued' ORDER BY priority, start_at, id",
            &[],
        )
        .await
    }

    /// Cancelled uploads the server may still hold bytes of (their URL is kept), for
    /// deletion sync to terminate.
    pub async fn cancelled_in_flight(&self) -> Result<Vec<QueuedUpload>, StateError> {
        self.select(
            "WHERE status = 'cancelled' AND tus_url IS NOT NULL ORDER BY id",
            &[],
        )
        .await
    }

    /// Queued or done clips, recordings and time-lapses overlapping `start..end` (the
    /// partners a sidecar goes up with).
    pub async fn media_overlapping(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<QueuedUpload>, StateError> {
        self.select(
            "WHERE kind <> 'sidecar' AND status IN ('queued', 'done') \
             AND start_at <= ? AND end_at >= ? ORDER BY priority, start_at, id",
            &[end, start],
        )
        .await
    }

    async fn select(
        &self,
        rest: &str,
        times: &[DateTime<Utc>],
    ) -> Result<Vec<QueuedUpload>, StateError> {
        let sql = format!("SELECT {COLUMNS} FROM uploads {rest}");
        let mut query = sqlx::query(&sql);
        for time in times {
            query = query.bind(*time);
        }
        query
            .fetch_all(self.state.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// Counts and bytes pending.
    pub async fn summary(&self) -> Result<Summary, StateError> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(status = 'queued'), 0), \
               COALESCE(SUM(CASE WHEN status = 'queued' THEN size - sent_offset ELSE 0 END), 0), \
               COALESCE(SUM(status = 'done'), 0), \
               COALESCE(SUM(status = 'failed'), 0) \
             FROM uploads",
        )
        .fetch_one(self.state.pool())
        .await?;
        let count = |i: usize| -> Result<u64, StateError> {
            Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
        };
        Ok(Summary {
            queued: count(0)?,
            bytes_pending: count(1)?,
            done: count(2)?,
            failed: count(3)?,
        })
    }

    /// Record the server's URL of upload `id` (a new upload starts at offset 0), or
    /// forget it (`None`) when the server lost it.
    pub async fn set_tus_url(&self, id: i64, url: Option<&Url>) -> Result<(), StateError> {
        sqlx::query("UPDATE uploads SET tus_url = ?, sent_offset = 0 WHERE id = ?")
            .bind(url.map(Url::as_str))
            .bind(id)
            .execute(self.state.pool())
            .await?;
        Ok(())
    }

    /// Record the offset the server acknowledged.
    pub async fn set_offset(&self, id: i64, offset: u64) -> Result<(), StateError> {
        sqlx::query("UPDATE uploads SET sent_offset = ? WHERE id = ?")
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .bind(id)
            .execute(self.state.pool())
            .await?;
        Ok(())
    }

    /// The server accepted upload `id`.
    pub async fn mark_done(&self, id: i64) -> Result<(), StateError> {
        sqlx::query(
            "UPDATE uploads SET status = 'done', sent_offset = size, uploaded_at = ?, \
             last_error = NULL, next_attempt_at = NULL WHERE id = ?",
        )
        .bind(Utc::now())
        .bind(id)
        .execute(self.state.pool())
        .await?;
        Ok(())
    }

    /// An attempt failed: count it and keep `error`; with `retry_at` (the backoff's end)
    /// it stays queued, without it the server refused it for good.
    pub async fn mark_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        let status = if retry_at.is_some() {
            Status::Queued
        } else {
            Status::Failed
        };
        sqlx::query(
            "UPDATE uploads SET status = ?, attempts = attempts + 1, last_error = ?, \
             next_attempt_at = ? WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .execute(self.state.pool())
        .await?;
        Ok(())
    }

    /// The file of upload `id` is gone (loop deletion took it before it went up).
    pub async fn mark_gone(&self, id: i64) -> Result<(), StateError> {
        self.set_status(id, Status::Gone).await
    }

    async fn set_status(&self, id: i64, status: Status) -> Result<(), StateError> {
        sqlx::query("UPDATE uploads SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id)
            .execute(self.state.pool())
            .await?;
        Ok(())
    }

    /// Stop uploading every file with this SHA-256 (the user deleted it); the rows of
    /// every status, so the caller can remove their files.
    pub async fn cancel_sha256(&self, sha256: &str) -> Result<Vec<QueuedUpload>, StateError> {
        sqlx::query(
            "UPDATE uploads SET status = 'cancelled' WHERE sha256 = ? AND status = 'queued'",
        )
        .bind(sha256)
        .execute(self.state.pool())
        .await?;
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE sha256 = ?");
        sqlx::query(&sql)
            .bind(sha256)
            .fetch_all(self.state.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<QueuedUpload, StateError> {
    let bad = |what: &str, value: String| {
        StateError::Database(sqlx::Error::Decode(
            format!("uploads.{what} holds {value:?}").into(),
        ))
    };
    let kind: String = row.try_get("kind")?;
    let priority: i64 = row.try_get("priority")?;
    let view: String = row.try_get("view")?;
    let clip: Option<String> = row.try_get("clip_kind")?;
    let incidents: Option<String> = row.try_get("incidents")?;
    let tus_url: Option<String> = row.try_get("tus_url")?;
    let status: String = row.try_get("status")?;
    let size: i64 = row.try_get("size")?;
    let offset: i64 = row.try_get("sent_offset")?;
    let attempts: i64 = row.try_get("attempts")?;
    let clock: String = row.try_get("clock")?;
    Ok(QueuedUpload {
        id: row.try_get("id")?,
        item: NewUpload {
            path: PathBuf::from(row.try_get::<String, _>("path")?),
            kind: Kind::parse(&kind).ok_or_else(|| bad("kind", kind.clone()))?,
            priority: Priority::from_i64(priority)
                .ok_or_else(|| bad("priority", priority.to_string()))?,
            start: row.try_get("start_at")?,
            end: row.try_get("end_at")?,
            view: View::parse(&view).ok_or_else(|| bad("view", view.clone()))?,
            clip: clip
                .map(|text| ClipKind::parse(&text).ok_or_else(|| bad("clip_kind", text)))
                .transpose()?,
            incidents: incidents
                .map(|text| serde_json::from_str(&text).map_err(|_| bad("incidents", text)))
                .transpose()?
                .unwrap_or_default(),
            sha256: row.try_get("sha256")?,
            size: u64::try_from(size).unwrap_or(0),
            filename: row.try_get("filename")?,
            clock: Clock::parse(&clock).ok_or_else(|| bad("clock", clock.clone()))?,
            original_size: row
                .try_get::<Option<i64>, _>("original_size")?
                .map(|n| u64::try_from(n).unwrap_or(0)),
        },
        tus_url: tus_url
            .map(|text| Url::parse(&text).map_err(|_| bad("tus_url", text)))
            .transpose()?,
        offset: u64::try_from(offset).unwrap_or(0),
        status: Status::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.try_get("last_error")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
    })
}

/// SHA-256 (lower-case hex) and size of the file at `path`, read in pieces, for
/// [`NewUpload::sha256`] and [`NewUpload::size`].
pub async fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((format!("{:x}", hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, priority: Priority, minute: u32) -> NewUpload {
        let start = DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(minute.into());
        NewUpload {
            path: PathBuf::from(path),
            kind: Kind::Clip,
            priority,
            start,
            end: start + chrono::Duration::seconds(40),
            view: View::Road,
            clip: Some(ClipKind::Auto),
            incidents: vec![Incident {
                kind: "hard_brake".into(),
                at: start,
                severity: 0.5,
            }],
            sha256: format!("{:0>64}", path.len()),
            size: 100,
            filename: "c.mp4".into(),
            clock: Clock::Camera,
            original_size: None,
        }
    }

    #[tokio::test]
    async fn enqueue_is_idempotent_and_pending_goes_by_priority() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(State::open(dir.path()).await.unwrap());
        let drive = queue
            .enqueue(&item("/d.mp4", Priority::Drive, 0))
            .await
            .unwrap();
        let manual = queue
            .enqueue(&item("/mm.mp4", Priority::ManualClip, 1))
            .await
            .unwrap();
        let auto = queue
            .enqueue(&item("/aaa.mp4", Priority::AutoClip, 2))
            .await
            .unwrap();
        assert_eq!(
            queue
                .enqueue(&item("/d.mp4", Priority::Drive, 0))
                .await
                .unwrap(),
            drive
        );
        let order: Vec<i64> = queue
            .pending()
            .await
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(order, [auto, manual, drive]);
        let row = queue.get(auto).await.unwrap().unwrap();
        assert_eq!(row.item, item("/aaa.mp4", Priority::AutoClip, 2));
        assert_eq!(row.status, Status::Queued);

        let url = Url::parse("http://h/api/v1/uploads/1").unwrap();
        queue.set_tus_url(auto, Some(&url)).await.unwrap();
        queue.set_offset(auto, 60).await.unwrap();
        let summary = queue.summary().await.unwrap();
        assert_eq!((summary.queued, summary.bytes_pending), (3, 240));
        queue.mark_done(auto).await.unwrap();
        queue.mark_failed(drive, "refused", None).await.unwrap();
        let summary = queue.summary().await.unwrap();
        assert_eq!(
            (
                summary.queued,
                summary.done,
                summary.failed,
                summary.bytes_pending
            ),
            (1, 1, 1, 100)
        );
    }

    #[tokio::test]
    async fn file_hash_is_hex_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        let (hash, size) = sha256_file(&path).await.unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

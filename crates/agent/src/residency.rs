//! The phone's records of what it holds (tables of `migrations/0002_residency.sql`):
//! drives, the recordings and sidecars imported from the camera, and the clips cut.
//! Times are stored as Unix milliseconds.

use crate::state::{State, StateError};
pub use crate::upload::Incident;
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::path::PathBuf;
use uuid::Uuid;

/// Longest gap between two recordings of one drive, in milliseconds: the shared
/// [`dashvault_domain::DRIVE_GAP`] (a longer pause, parked or ignition off, starts a new
/// drive).
pub const DRIVE_GAP_MS: i64 = dashvault_domain::DRIVE_GAP.as_millis() as i64;

/// Unix milliseconds of a time.
pub fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// The time of Unix milliseconds (the epoch for an out-of-range value).
pub fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// One drive.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    /// Local id.
    pub id: i64,
    /// Start of its first recording.
    pub start: DateTime<Utc>,
    /// End of its last recording.
    pub end: DateTime<Utc>,
    /// Incidents detected and clips cut for the recordings it has.
    pub processed: bool,
    /// Its time-lapse on the phone.
    pub timelapse_path: Option<PathBuf>,
    /// Bytes of that time-lapse.
    pub timelapse_size: u64,
    /// SHA-256 of that time-lapse.
    pub timelapse_sha256: Option<String>,
    /// The camera clock's offset from UTC its GPS time gave ([`crate::clock`]), in ms.
    pub clock_offset_ms: Option<i64>,
}

/// One road-view recording imported from the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Local id.
    pub id: i64,
    /// Where it is on the camera.
    pub camera_path: PathBuf,
    /// The drive it belongs to.
    pub drive_id: i64,
    /// Start time (from its name).
    pub start: DateTime<Utc>,
    /// Video duration, ms.
    pub duration_ms: i64,
    /// The camera marked it as an event.
    pub camera_event: bool,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Its copy on the phone, `None` once loop-deleted there.
    pub phone_path: Option<PathBuf>,
    /// Rebuilt at import because the camera left it without an index
    /// ([`crate::rebuild`]): the length of the camera's file, whose bytes end this one.
    pub original_size: Option<u64>,
}

/// One telemetry sidecar imported from the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Sidecar {
    /// Local id.
    pub id: i64,
    /// Where it is on the camera.
    pub camera_path: PathBuf,
    /// The drive of its recording.
    pub drive_id: Option<i64>,
    /// Start time of its recording.
    pub start: DateTime<Utc>,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Its copy on the phone, `None` once loop-deleted there.
    pub phone_path: Option<PathBuf>,
}

/// One clip made on the phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Its id (also its file name).
    pub id: Uuid,
    /// The drive it was cut from, if known.
    pub drive_id: Option<i64>,
    /// `auto` or `manual`.
    pub kind: String,
    /// `road` or `cabin`.
    pub view: String,
    /// Time of its first frame.
    pub start: DateTime<Utc>,
    /// Time its last frame ends.
    pub end: DateTime<Utc>,
    /// Incidents it shows (automatic clips).
    pub incidents: Vec<Incident>,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Where it is on the phone, `None` once deleted there.
    pub path: Option<PathBuf>,
}

/// The records, over the agent's state database.
#[derive(Debug, Clone)]
pub struct Residency {
    state: State,
}

fn path(value: Option<String>) -> Option<PathBuf> {
    value.map(PathBuf::from)
}

fn text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn drive_row(row: &sqlx::sqlite::SqliteRow) -> Drive {
    Drive {
        id: row.get("id"),
        start: time(row.get("start_ms")),
        end: time(row.get("end_ms")),
        processed: row.get::<i64, _>("processed") != 0,
        timelapse_path: path(row.get("timelapse_path")),
        timelapse_size: row.get::<i64, _>("timelapse_size") as u64,
        timelapse_sha256: row.get("timelapse_sha256"),
        clock_offset_ms: row.get("clock_offset_ms"),
    }
}

fn recording_row(row: &sqlx::sqlite::SqliteRow) -> Recording {
    Recording {
        id: row.get("id"),
        camera_path: PathBuf::from(row.get::<String, _>("camera_path")),
        drive_id: row.get("drive_id"),
        start: time(row.get("start_ms")),
        duration_ms: row.get("duration_ms"),
        camera_event: row.get::<i64, _>("camera_event") != 0,
        size: row.get::<i64, _>("size") as u64,
        sha256: row.get("sha256"),
        phone_path: path(row.get("phone_path")),
        original_size: row
            .get::<Option<i64>, _>("original_size")
            .map(|n| n.max(0) as u64),
    }
}

fn sidecar_row(row: &sqlx::sqlite::SqliteRow) -> Sidecar {
    Sidecar {
        id: row.get("id"),
        camera_path: PathBuf::from(row.get::<String, _>("camera_path")),
        drive_id: row.get("drive_id"),
        start: time(row.get("start_ms")),
        size: row.get::<i64, _>("size") as u64,
        sha256: row.get("sha256"),
        phone_path: path(row.get("phone_path")),
    }
}

fn clip_row(row: &sqlx::sqlite::SqliteRow) -> Result<Clip, StateError> {
    let id: String = row.get("id");
    let incidents: String = row.get("incidents");
    Ok(Clip {
        id: Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        drive_id: row.get("drive_id"),
        kind: row.get("kind"),
        view: row.get("view"),
        start: time(row.get("start_ms")),
        end: time(row.get("end_ms")),
        incidents: serde_json::from_str(&incidents)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        size: row.get::<i64, _>("size") as u64,
        sha256: row.get("sha256"),
        path: path(row.get("path")),
    })
}

impl Residency {
    /// The records kept in `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }

    /// The state database.
    pub fn state(&self) -> &State {
        &self.state
    }

    fn pool(&self) -> &sqlx::SqlitePool {
        self.state.pool()
    }

    /// True when this camera file was imported before (even if loop-deleted since).
    pub async fn is_imported(&self, camera_path: &std::path::Path) -> Result<bool, StateError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM recordings WHERE camera_path = ?1 \
             UNION ALL SELECT 1 FROM sidecars WHERE camera_path = ?1 LIMIT 1",
        )
        .bind(text(camera_path))
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// True when a recording started at `start` was imported.
    pub async fn has_recording_at(&self, start: DateTime<Utc>) -> Result<bool, StateError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM recordings WHERE start_ms = ? LIMIT 1")
                .bind(ms(start))
                .fetch_optional(self.pool())
                .await?;
        Ok(found.is_some())
    }

    /// True when a recording or sidecar of this start time and file name was imported,
    /// whatever camera path it came from (the card mounted elsewhere, the same camera over
    /// Wi-Fi): the same file, not to be imported twice.
    pub async fn has_same_file(
        &self,
        start: DateTime<Utc>,
        name: &std::ffi::OsStr,
    ) -> Result<bool, StateError> {
        let paths: Vec<String> = sqlx::query_scalar(
            "SELECT camera_path FROM recordings WHERE start_ms = ?1 \
             UNION ALL SELECT camera_path FROM sidecars WHERE start_ms = ?1",
        )
        .bind(ms(start))
        .fetch_all(self.pool())
        .await?;
        Ok(paths
            .iter()
            .any(|p| std::path::Path::new(p).file_name() == Some(name)))
    }

    /// Records an imported recording, in the drive it continues (extending it, and marking
    /// it to be processed again) or in a new one.
    pub async fn add_recording(&self, new: &Recording) -> Result<i64, StateError> {
        let start = ms(new.start);
        let end = start + new.duration_ms;
        let mut tx = self.pool().begin().await?;
        let drive: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM drives WHERE start_ms - ?3 <= ?2 AND end_ms + ?3 >= ?1 \
             ORDER BY ABS(end_ms - ?1) LIMIT 1",
        )
        .bind(start)
        .bind(end)
        .bind(DRIVE_GAP_MS)
        .fetch_optional(&mut *tx)
        .await?;
        let drive = match drive {
            Some(id) => {
                sqlx::query(
                    "UPDATE drives SET start_ms = MIN(start_ms, ?2), end_ms = MAX(end_ms, ?3), \
                     processed = 0 WHERE id = ?1",
                )
                .bind(id)
                .bind(start)
                .bind(end)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO drives (start_ms, end_ms) VALUES (?, ?) RETURNING id",
                )
                .bind(start)
                .bind(end)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let id = sqlx::query_scalar(
            "INSERT INTO recordings (camera_path, drive_id, start_ms, duration_ms, camera_event, \
             size, sha256, phone_path, imported_at_ms, original_size) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(text(&new.camera_path))
        .bind(drive)
        .bind(start)
        .bind(new.duration_ms)
        .bind(i64::from(new.camera_event))
        .bind(new.size as i64)
        .bind(&new.sha256)
        .bind(new.phone_path.as_deref().map(text))
        .bind(ms(Utc::now()))
        .bind(new.original_size.map(|n| n as i64))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records an imported sidecar, in the drive of the recording it belongs to.
    pub async fn add_sidecar(&self, new: &Sidecar) -> Result<i64, StateError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO sidecars (camera_path, drive_id, start_ms, size, sha256, phone_path) \
             VALUES (?1, (SELECT drive_id FROM recordings WHERE start_ms = ?2 LIMIT 1), ?2, ?3, ?4, ?5) \
             RETURNING id",
        )
        .bind(text(&new.camera_path))
        .bind(ms(new.start))
        .bind(new.size as i64)
        .bind(&new.sha256)
        .bind(new.phone_path.as_deref().map(text))
        .fetch_one(self.pool())
        .await?)
    }

    /// Every drive, oldest first.
    pub async fn drives(&self) -> Result<Vec<Drive>, StateError> {
        let rows = sqlx::query("SELECT * FROM drives ORDER BY start_ms, id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(drive_row).collect())
    }

    /// One drive.
    pub async fn drive(&self, id: i64) -> Result<Option<Drive>, StateError> {
        let row = sqlx::query("SELECT * FROM drives WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(drive_row))
    }

    /// Marks a drive processed, with its new time-lapse (if one was made).
    pub async fn set_processed(
        &self,
        id: i64,
        timelapse: Option<(&std::path::Path, &crate::phone::Written)>,
    ) -> Result<(), StateError> {
        sqlx::query(
            "UPDATE drives SET processed = 1, \
             timelapse_path = COALESCE(?2, timelapse_path), \
             timelapse_size = CASE WHEN ?2 IS NULL THEN timelapse_size ELSE ?3 END, \
             timelapse_sha256 = COALESCE(?4, timelapse_sha256) WHERE id = ?1",
        )
        .bind(id)
        .bind(timelapse.map(|(p, _)| text(p)))
        .bind(timelapse.map_or(0, |(_, w)| w.size as i64))
        .bind(timelapse.map(|(_, w)| w.sha256.clone()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Keeps the camera clock's offset from UTC that the drive's GPS time gave.
    pub async fn set_clock_offset(
        &self,
        id: i64,
        offset_ms: Option<i64>,
    ) -> Result<(), StateError> {
        sqlx::query("UPDATE drives SET clock_offset_ms = ? WHERE id = ?")
            .bind(offset_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets a drive's time-lapse (its file was deleted).
    pub async fn clear_timelapse(&self, id: i64) -> Result<(), StateError> {
        sqlx::query(
            "UPDATE drives SET timelapse_path = NULL, timelapse_size = 0, timelapse_sha256 = NULL \
             WHERE id = ?",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The recordings of a drive, in time order.
    pub async fn recordings(&self, drive: i64) -> Result<Vec<Recording>, StateError> {
        let rows = sqlx::query("SELECT * FROM recordings WHERE drive_id = ? ORDER BY start_ms, id")
            .bind(drive)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(recording_row).collect())
    }

    /// The sidecars of a drive, in time order.
    pub async fn sidecars(&self, drive: i64) -> Result<Vec<Sidecar>, StateError> {
        let rows = sqlx::query("SELECT * FROM sidecars WHERE drive_id = ? ORDER BY start_ms, id")
            .bind(drive)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(sidecar_row).collect())
    }

    /// Forgets the phone copy of a recording (deleted by the loop).
    pub async fn recording_removed(&self, id: i64) -> Result<(), StateError> {
        sqlx::query("UPDATE recordings SET phone_path = NULL WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets the phone copy of a sidecar (deleted by the loop).
    pub async fn sidecar_removed(&self, id: i64) -> Result<(), StateError> {
        sqlx::query("UPDATE sidecars SET phone_path = NULL WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a clip made on the phone.
    pub async fn add_clip(&self, clip: &Clip) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO clips (id, drive_id, kind, view, start_ms, end_ms, incidents, size, sha256, \
             path, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(clip.id.to_string())
        .bind(clip.drive_id)
        .bind(&clip.kind)
        .bind(&clip.view)
        .bind(ms(clip.start))
        .bind(ms(clip.end))
        .bind(serde_json::to_string(&clip.incidents).unwrap_or_else(|_| "[]".into()))
        .bind(clip.size as i64)
        .bind(&clip.sha256)
        .bind(clip.path.as_deref().map(text))
        .bind(ms(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The clips of a drive (`None`: every clip), in time order.
    pub async fn clips(&self, drive: Option<i64>) -> Result<Vec<Clip>, StateError> {
        let rows = sqlx::query(
            "SELECT * FROM clips WHERE ?1 IS NULL OR drive_id = ?1 ORDER BY start_ms, id",
        )
        .bind(drive)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(clip_row).collect()
    }

    /// Forgets the phone copy of a clip.
    pub async fn clip_removed(&self, id: Uuid) -> Result<(), StateError> {
        sqlx::query("UPDATE clips SET path = NULL WHERE id = ?")
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Bytes the phone storage holds: recordings, sidecars, clips and time-lapses.
    pub async fn phone_bytes(&self) -> Result<u64, StateError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT (SELECT COALESCE(SUM(size), 0) FROM recordings WHERE phone_path IS NOT NULL) \
             + (SELECT COALESCE(SUM(size), 0) FROM sidecars WHERE phone_path IS NOT NULL) \
             + (SELECT COALESCE(SUM(size), 0) FROM clips WHERE path IS NOT NULL) \
             + (SELECT COALESCE(SUM(timelapse_size), 0) FROM drives) \
             + (SELECT COALESCE(SUM(size), 0) FROM marked_files WHERE phone_path IS NOT NULL)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(total as u64)
    }
}

impl Residency {
    /// Removes every phone copy (file and record) of the file with this SHA-256 — a
    /// recording, a sidecar, a time-lapse or a clip; how many there were. A drive's
    /// time-lapse takes the drive's recordings and sidecars with it (the drive was deleted
    /// in the cloud; its clips are not, as there). The rows of recordings and sidecars
    /// stay (so the camera file is not imported again).
    pub async fn remove_sha256(&self, sha256: &str) -> std::io::Result<usize> {
        let db = |e: sqlx::Error| std::io::Error::other(e);
        let mut removed = 0;
        let drives: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM drives WHERE timelapse_sha256 = ?")
                .bind(sha256)
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        for drive in drives {
            let files: Vec<String> = sqlx::query_scalar(
                "SELECT sha256 FROM recordings WHERE drive_id = ?1 AND phone_path IS NOT NULL \
                 UNION SELECT sha256 FROM sidecars WHERE drive_id = ?1 AND phone_path IS NOT NULL",
            )
            .bind(drive)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            for file in files {
                removed += Box::pin(self.remove_sha256(&file)).await?;
            }
        }
        let tables = [
            ("recordings", "phone_path", "sha256", "id"),
            ("sidecars", "phone_path", "sha256", "id"),
            ("drives", "timelapse_path", "timelapse_sha256", "id"),
            ("clips", "path", "sha256", "id"),
        ];
        for (table, column, hash, key) in tables {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT CAST({key} AS TEXT), {column} FROM {table} \
                 WHERE {hash} = ? AND {column} IS NOT NULL"
            ))
            .bind(sha256)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            for (id, file) in rows {
                crate::phone::remove_file(std::path::Path::new(&file))?;
                let extra = if table == "drives" {
                    ", timelapse_size = 0"
                } else {
                    ""
                };
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = NULL{extra} WHERE CAST({key} AS TEXT) = ?"
                ))
                .bind(id)
                .execute(self.pool())
                .await
                .map_err(db)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl crate::sync::LocalFiles for Residency {
    async fn remove(&self, sha256: &str) -> std::io::Result<usize> {
        self.remove_sha256(sha256).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn recording(path: &str, minute: u32) -> Recording {
        Recording {
            id: 0,
            camera_path: PathBuf::from(path),
            drive_id: 0,
            start: Utc.with_ymd_and_hms(2026, 11, 20, 8, minute, 0).unwrap(),
            duration_ms: 60_000,
            camera_event: false,
            size: 10,
            sha256: "00".into(),
            phone_path: Some(PathBuf::from(path)),
            original_size: None,
        }
    }

    #[tokio::test]
    async fn recordings_within_two_minutes_make_one_drive() {
        let dir = tempfile::tempdir().unwrap();
        let residency = Residency::new(State::open(dir.path()).await.unwrap());
        // 08:00 and 08:01 touch; 08:05 starts 3 minutes after 08:02; 08:08 starts exactly
        // 2 minutes after 08:06, so it continues the second drive.
        for (path, minute) in [("a", 0), ("b", 1), ("c", 5), ("d", 8)] {
            residency
                .add_recording(&recording(path, minute))
                .await
                .unwrap();
        }
        let drives = residency.drives().await.unwrap();
        assert_eq!(drives.len(), 2, "{drives:?}");
        assert_eq!(residency.recordings(drives[0].id).await.unwrap().len(), 2);
        assert_eq!(residency.recordings(drives[1].id).await.unwrap().len(), 2);
        assert_eq!(
            drives[1].end,
            Utc.with_ymd_and_hms(2026, 11, 20, 8, 9, 0).unwrap()
        );
        assert!(residency
            .is_imported(std::path::Path::new("c"))
            .await
            .unwrap());
        assert!(!residency
            .is_imported(std::path::Path::new("z"))
            .await
            .unwrap());
        assert_eq!(residency.phone_bytes().await.unwrap(), 40);
    }

    #[tokio::test]
    async fn a_drive_deleted_in_the_cloud_leaves_the_phone_but_its_clips_stay() {
        let dir = tempfile::tempdir().unwrap();
        let residency = Residency::new(State::open(dir.path()).await.unwrap());
        let file = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").unwrap();
            path
        };
        for (name, minute) in [("a", 0), ("b", 1)] {
            let mut new = recording(name, minute);
            new.sha256 = format!("sha-{name}");
            new.phone_path = Some(file(name));
            residency.add_recording(&new).await.unwrap();
        }
        let timelapse = file("timelapse.mp4");
        let written = crate::phone::Written {
            size: 1,
            sha256: "sha-timelapse".into(),
        };
        residency
            .set_processed(1, Some((&timelapse, &written)))
            .await
            .unwrap();
        let clip_path = file("clip.mp4");
        residency
            .add_clip(&Clip {
                id: Uuid::now_v7(),
                drive_id: Some(1),
                kind: "auto".into(),
                view: "road".into(),
                start: time(0),
                end: time(40_000),
                incidents: Vec::new(),
                size: 1,
                sha256: "sha-clip".into(),
                path: Some(clip_path.clone()),
            })
            .await
            .unwrap();
        assert_eq!(residency.remove_sha256("sha-timelapse").await.unwrap(), 3);
        assert!(!timelapse.exists() && !dir.path().join("a").exists());
        assert!(clip_path.exists());
        assert_eq!(residency.phone_bytes().await.unwrap(), 1);
        assert_eq!(residency.remove_sha256("sha-timelapse").await.unwrap(), 0);
    }
}

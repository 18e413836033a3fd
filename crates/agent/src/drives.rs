//! Drives, once the camera has finished them: incidents detected on the drive's
//! telemetry, automatic clips cut around them, and the time-lapse made for the upload
//! policy.
//!
//! A drive is finished when a later drive has started, when its last recording ended
//! more than [`DRIVE_GAP_MS`] ago, or when the caller says everything present is final
//! (`agent run --once`). Telemetry comes from the sidecars of each recording (BlackVue
//! `.gps` / `.3gf`) or, without sidecars, from the recording itself (Novatek, Tesla,
//! BlackVue embedded), each file's times shifted to the drive's start. Automatic clips
//! are the windows of [`dashvault_detect::clip_windows`]: 40 s, from 25 s before an
//! incident to 15 s after it, overlapping ones merged.

use crate::cutting::{cut_window, timelapse, Made, Source};
use crate::error::AgentError;
use crate::marked::{make_clips, Window};
use crate::phone::Phone;
use crate::residency::{ms, Clip, Drive, Incident, Recording, Residency, Sidecar, DRIVE_GAP_MS};
use chrono::{DateTime, Duration, Utc};
use dashvault_detect::{ClipWindow, Detector, Trace};
use dashvault_media::telemetry::{clock_offset, read_telemetry, Telemetry};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What processing one drive made.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The drive.
    pub drive: Drive,
    /// Automatic clips cut now.
    pub clips: Vec<Clip>,
    /// Its time-lapse, when one was made.
    pub timelapse: Option<(PathBuf, Made)>,
    /// Its sidecars on the phone.
    pub sidecars: Vec<Sidecar>,
    /// The camera clock's offset from UTC that its GPS time gave ([`crate::clock`]).
    pub clock_offset: Option<Duration>,
}

/// Detects incidents and cuts clips for every finished drive not processed yet.
pub async fn process_finished(
    residency: &Residency,
    phone: &Phone,
    detector: &Detector,
    all_final: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Processed>, AgentError> {
    let drives = residency.drives().await?;
    let mut done = Vec::new();
    for (i, drive) in drives.iter().enumerate() {
        let finished = all_final || i + 1 < drives.len() || ms(drive.end) + DRIVE_GAP_MS < ms(now);
        if drive.processed || !finished {
            continue;
        }
        done.push(process(residency, phone, detector, drive).await?);
    }
    Ok(done)
}

async fn process(
    residency: &Residency,
    phone: &Phone,
    detector: &Detector,
    drive: &Drive,
) -> Result<Processed, AgentError> {
    let recordings: Vec<Recording> = residency
        .recordings(drive.id)
        .await?
        .into_iter()
        .filter(|r| r.phone_path.is_some())
        .collect();
    let sidecars: Vec<Sidecar> = residency
        .sidecars(drive.id)
        .await?
        .into_iter()
        .filter(|s| s.phone_path.is_some())
        .collect();
    let existing = residency.clips(Some(drive.id)).await?;
    let sources: Vec<Source> = recordings
        .iter()
        .filter_map(|r| r.phone_path.clone().map(|p| (p, r.start)))
        .collect();
    let (drive_start, recs, cars, det) = (
        drive.start,
        recordings.clone(),
        sidecars.clone(),
        detector.clone(),
    );
    let (windows, clock_offset) = tokio::task::spawn_blocking(move || {
        let telemetry = drive_telemetry(drive_start, &recs, &cars);
        let offset = clock_offset(drive_start, &telemetry);
        let windows = match det.detect(&Trace::from_telemetry(&telemetry)) {
            Ok(detection) => detection.clips,
            Err(e) => {
                tracing::warn!(drive_start = %drive_start, error = %e, "no incident detection for this drive");
                Vec::new()
            }
        };
        (windows, offset)
    })
    .await
    .map_err(|e| AgentError::Request(format!("detection stopped: {e}")))?;
    let mut windows: Vec<Window> = windows
        .iter()
        .map(|w| Window {
            from: at(drive.start, w.start),
            to: at(drive.start, w.end),
            incidents: incidents(drive.start, w),
        })
        .collect();
    let mut clips = make_clips(residency, phone, drive, &sources, &mut windows).await?;
    for window in windows {
        let (from, to) = (window.from, window.to);
        let overlaps = existing
            .iter()
            .chain(&clips)
            .any(|c| c.kind == "auto" && c.view == "road" && c.start < to && c.end > from);
        if overlaps || sources.is_empty() {
            continue;
        }
        let id = Uuid::now_v7();
        let out = phone.clip(id);
        let (srcs, path) = (sources.clone(), out.clone());
        let made = blocking(move || cut_window(&srcs, from, to, &path)).await?;
        let clip = Clip {
            id,
            drive_id: Some(drive.id),
            kind: "auto".into(),
            view: "road".into(),
            start: made.start,
            end: made.end,
            incidents: window.incidents,
            size: made.written.size,
            sha256: made.written.sha256,
            path: Some(out),
        };
        residency.add_clip(&clip).await?;
        tracing::info!(clip = %clip.id, start = %clip.start, incidents = ?clip.incidents.iter().map(|i| &i.kind).collect::<Vec<_>>(), "automatic clip cut");
        clips.push(clip);
    }
    let timelapse = if sources.is_empty() {
        None
    } else {
        let out = phone.timelapse(drive.id);
        let (srcs, path) = (sources.clone(), out.clone());
        Some((out, blocking(move || timelapse(&srcs, &path)).await?))
    };
    residency
        .set_clock_offset(drive.id, clock_offset.map(|o| o.num_milliseconds()))
        .await?;
    residency
        .set_processed(
            drive.id,
            timelapse.as_ref().map(|(p, m)| (p.as_path(), &m.written)),
        )
        .await?;
    let drive = residency
        .drive(drive.id)
        .await?
        .unwrap_or_else(|| drive.clone());
    Ok(Processed {
        drive,
        clips,
        timelapse,
        sidecars,
        clock_offset,
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AgentError> + Send + 'static,
) -> Result<T, AgentError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AgentError::Request(format!("cut stopped: {e}")))?
}

fn at(start: DateTime<Utc>, seconds: f64) -> DateTime<Utc> {
    start + Duration::milliseconds((seconds * 1000.0).round() as i64)
}

fn incidents(drive_start: DateTime<Utc>, window: &ClipWindow) -> Vec<Incident> {
    window
        .incidents
        .iter()
        .map(|e| Incident {
            kind: e.kind.as_str().to_owned(),
            at: at(drive_start, e.start),
            severity: e.severity.clamp(0.0, 1.0),
        })
        .collect()
}

/// The telemetry of a drive on one clock (seconds from `drive_start`): each recording's
/// sidecars, or its embedded telemetry when it has none. Unreadable files are logged and
/// skipped.
pub fn drive_telemetry(
    drive_start: DateTime<Utc>,
    recordings: &[Recording],
    sidecars: &[Sidecar],
) -> Telemetry {
    let mut all = Telemetry {
        start: Some(drive_start),
        ..Telemetry::default()
    };
    for recording in recordings {
        let own: Vec<&Path> = sidecars
            .iter()
            .filter(|s| s.start == recording.start)
            .filter_map(|s| s.phone_path.as_deref())
            .collect();
        let files = if own.is_empty() {
            recording.phone_path.as_deref().into_iter().collect()
        } else {
            own
        };
        for file in files {
            match read_telemetry(file) {
                Ok(t) => append(&mut all, &t, drive_start, recording.start),
                Err(e) => {
                    tracing::debug!(file = %file.display(), error = %e, "no telemetry read")
                }
            }
        }
    }
    let by_t = |a: &f64, b: &f64| a.total_cmp(b);
    all.accel.sort_by(|a, b| by_t(&a.t, &b.t));
    all.gyro.sort_by(|a, b| by_t(&a.t, &b.t));
    all.gps.sort_by(|a, b| by_t(&a.t, &b.t));
    all
}

/// Farthest a telemetry file's own start may be from its recording's name and still be
/// trusted: a camera whose clock is on local time names files hours away from the GPS's
/// UTC, and then the name (the video's clock) is what the telemetry must follow.
const MAX_CLOCK_SKEW_S: i64 = 120;

fn append(
    all: &mut Telemetry,
    part: &Telemetry,
    drive_start: DateTime<Utc>,
    file_start: DateTime<Utc>,
) {
    let origin = part
        .start
        .filter(|s| (*s - file_start).num_seconds().abs() <= MAX_CLOCK_SKEW_S)
        .unwrap_or(file_start);
    let shift = (origin - drive_start).num_milliseconds() as f64 / 1000.0;
    all.accel.extend(part.accel.iter().map(|s| {
        let mut s = *s;
        s.t += shift;
        s
    }));
    all.gyro.extend(part.gyro.iter().map(|s| {
        let mut s = *s;
        s.t += shift;
        s
    }));
    all.gps.extend(part.gps.iter().map(|f| {
        let mut f = *f;
        f.t += shift;
        f
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// BlackVue sidecars recorded by a real camera (testdata/media-samples).
    const SAMPLES: &str = "../../testdata/media-samples/acolomba__blackvuesync";

    #[test]
    fn sidecars_land_on_the_drive_clock() {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLES);
        let dir = tempfile::tempdir().unwrap();
        // A .gps log whose first stamp is 2019-03-21T09:46:15Z, a second after its
        // recording's start (the sample's own .gps has anonymised, checksum-broken lines).
        let rmc = "GPRMC,094615.000,A,4807.038,N,01131.000,E,022.4,084.4,210319,,,A";
        let checksum = rmc.bytes().fold(0u8, |a, b| a ^ b);
        let gps = dir.path().join("20190321_094614_N.gps");
        std::fs::write(&gps, format!("[1553161575000]${rmc}*{checksum:02X}\n")).unwrap();
        let drive_start = Utc.with_ymd_and_hms(2019, 3, 21, 9, 45, 14).unwrap();
        let minute = drive_start + Duration::minutes(1);
        let recording = Recording {
            id: 2,
            camera_path: PathBuf::from("Record/20190321_094614_NF.mp4"),
            drive_id: 1,
            start: minute,
            duration_ms: 60_000,
            camera_event: false,
            size: 0,
            sha256: String::new(),
            phone_path: None,
            original_size: None,
        };
        let sidecar = |path: PathBuf| Sidecar {
            id: 0,
            camera_path: path.clone(),
            drive_id: Some(1),
            start: minute,
            size: 0,
            sha256: String::new(),
            phone_path: Some(path),
        };
        let telemetry = drive_telemetry(
            drive_start,
            std::slice::from_ref(&recording),
            &[sidecar(samples.join("mock.3gf")), sidecar(gps.clone())],
        );
        // The real .3gf counts from its recording's start, one minute into the drive.
        assert_eq!(telemetry.accel.len(), 155);
        assert_eq!(telemetry.accel[0].t, 60.0);
        assert!((telemetry.accel[154].t - 76.87).abs() < 1e-9);
        // The .gps counts from its first stamp.
        assert_eq!(telemetry.gps.len(), 1, "{telemetry:?}");
        assert_eq!(telemetry.gps[0].t, 61.0);

        // Named on a local-time clock an hour ahead of the GPS: the name wins.
        let mut ahead = recording.clone();
        ahead.start = minute + Duration::hours(1);
        let mut gps_ahead = sidecar(gps);
        gps_ahead.start = ahead.start;
        let telemetry = drive_telemetry(ahead.start, &[ahead], &[gps_ahead]);
        assert_eq!(telemetry.gps[0].t, 0.0);
    }
}

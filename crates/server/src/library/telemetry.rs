//! Telemetry for display: route, speed and G-force of a clip or drive, read with the
//! media crate from the stored files themselves (ranged reads, no local copy) and from
//! the same device's sidecars (`.gps`, `.3gf`) covering the time, then downsampled for
//! a chart: at most two points a second and [`MAX_POINTS`] a series.

use crate::error::ApiError;
use crate::state::AppState;
use crate::stream::reader::BlobReader;
use chrono::{DateTime, Duration, Utc};
use dashvault_media::telemetry::{read_telemetry_from, Telemetry};
use dashvault_store::blob::BlobKey;
use dashvault_store::model::{Incident, VideoFile};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde::Serialize;
use std::path::Path;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most points of one series.
pub const MAX_POINTS: usize = 2000;
/// Shortest time between two kept points, seconds.
const MIN_STEP: f64 = 0.5;
/// Standard gravity, m/s² per g.
const G: f64 = 9.806_65;
/// Sidecars starting this long before a window may still cover its start.
const SIDECAR_LEAD: Duration = Duration::minutes(2);
/// Files read at once.
const PARALLEL_READS: usize = 4;

/// Route, speed and G-force over an item's time, `t` in seconds from its start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct TelemetrySeries {
    /// `[t, lat, lon]` per GPS fix (degrees, WGS 84).
    pub route: Vec<[f64; 3]>,
    /// `[t, m_per_s]` per fix with a speed.
    pub speed: Vec<[f64; 2]>,
    /// `[t, gx, gy, gz]` accelerometer readings in g, in the camera's axes.
    pub g: Vec<[f64; 4]>,
}

/// An incident marked on an item's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Marker {
    /// Incident type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Seconds from the item's start.
    pub t: f64,
    /// Severity, 0 to 1.
    pub severity: f64,
}

/// The markers of `incidents` on a timeline starting at `start`, in time order.
pub fn markers<'a>(
    start: DateTime<Utc>,
    incidents: impl IntoIterator<Item = &'a Incident>,
) -> Vec<Marker> {
    let mut markers: Vec<Marker> = incidents
        .into_iter()
        .map(|i| Marker {
            kind: i.kind.clone(),
            at: i.at,
            t: seconds(i.at - start),
            severity: i.severity,
        })
        .collect();
    markers.sort_by(|a, b| a.t.total_cmp(&b.t));
    markers
}

/// The telemetry of `files` (videos of the window, any order) of `device_id` over
/// `start..end`, completed from the device's sidecars for what the files lack,
/// downsampled for a chart.
pub async fn series(
    state: &AppState,
    user_id: Uuid,
    device_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    files: &[VideoFile],
) -> Result<TelemetrySeries, ApiError> {
    let raw = window(state, user_id, device_id, (start, end), files).await?;
    Ok(raw.relative_to(start, seconds(end - start)))
}

/// [`series`] with every reading kept (for evidence and exports), in time order.
pub async fn full_series(
    state: &AppState,
    user_id: Uuid,
    device_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    files: &[VideoFile],
) -> Result<TelemetrySeries, ApiError> {
    let raw = window(state, user_id, device_id, (start, end), files).await?;
    let (zero, span) = (epoch_seconds(start), seconds(end - start));
    Ok(TelemetrySeries {
        route: shift(raw.route, zero, span),
        speed: shift(raw.speed, zero, span),
        g: shift(raw.g, zero, span),
    })
}

/// The readings of `files` and, for what they lack, of the device's sidecars.
async fn window(
    state: &AppState,
    user_id: Uuid,
    device_id: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    files: &[VideoFile],
) -> Result<Absolute, ApiError> {
    let sources = files
        .iter()
        .map(|f| (f.blob_key.clone(), f.size, f.filename.clone(), f.start))
        .collect();
    let mut raw = read_all(state, sources).await?;
    if raw.route.is_empty() || raw.g.is_empty() {
        let sidecars = state
            .repo
            .sidecars_between(user_id, device_id, start - SIDECAR_LEAD, end)
            .await?;
        let sources = sidecars
            .into_iter()
            .map(|s| (s.blob_key, s.size, s.filename, s.start))
            .collect();
        let extra = read_all(state, sources).await?;
        if raw.route.is_empty() {
            raw.route = extra.route;
            raw.speed = extra.speed;
        }
        if raw.g.is_empty() {
            raw.g = extra.g;
        }
    }
    Ok(raw)
}

/// Points with absolute times (seconds since the Unix epoch, as `f64`).
#[derive(Debug, Default)]
struct Absolute {
    route: Vec<[f64; 3]>,
    speed: Vec<[f64; 2]>,
    g: Vec<[f64; 4]>,
}

impl Absolute {
    fn add(&mut self, telemetry: Telemetry, file_start: DateTime<Utc>) {
        let base = epoch_seconds(file_start);
        for fix in telemetry.gps {
            let t = fix.time.map_or(base + fix.t, epoch_seconds);
            self.route.push([t, fix.lat, fix.lon]);
            if let Some(speed) = fix.speed {
                self.speed.push([t, speed]);
            }
        }
        for a in telemetry.accel {
            self.g
                .push([base + a.t, a.v[0] / G, a.v[1] / G, a.v[2] / G]);
        }
    }

    fn relative_to(self, start: DateTime<Utc>, span: f64) -> TelemetrySeries {
        let zero = epoch_seconds(start);
        TelemetrySeries {
            route: downsample(shift(self.route, zero, span), span, |_| 0.0),
            speed: downsample(shift(self.speed, zero, span), span, |_| 0.0),
            // Keep the strongest reading of each step, so short peaks stay visible.
            g: downsample(shift(self.g, zero, span), span, |p| {
                (p[1] * p[1] + p[2] * p[2] + p[3] * p[3]).sqrt()
            }),
        }
    }
}

/// Read the telemetry of every source (blob key, size, file name, start time); a file
/// without telemetry (or in a format we do not read) adds nothing.
async fn read_all(
    state: &AppState,
    sources: Vec<(String, u64, Option<String>, DateTime<Utc>)>,
) -> Result<Absolute, ApiError> {
    let read: Vec<_> = stream::iter(sources)
        .map(|(key, size, filename, start)| async move {
            let key = BlobKey::new(key.clone())
                .map_err(|e| ApiError::Internal(format!("stored blob key {key}: {e}")))?;
            let reader = BlobReader::new(state.blobs.clone(), key.clone(), size);
            let telemetry = tokio::task::spawn_blocking(move || {
                read_telemetry_from(&reader, filename.as_deref().map(Path::new))
            })
            .await
            .map_err(|e| ApiError::Internal(format!("telemetry task failed: {e}")))?;
            Ok::<_, ApiError>(match telemetry {
                Ok(t) => Some((t, start)),
                Err(err) => {
                    tracing::debug!(%err, %key, "no telemetry read from a stored file");
                    None
                }
            })
        })
        .buffered(PARALLEL_READS)
        .try_collect()
        .await?;
    let mut all = Absolute::default();
    for (telemetry, start) in read.into_iter().flatten() {
        all.add(telemetry, start);
    }
    Ok(all)
}

/// Points made relative to `zero`, kept within `0..=span`, in time order.
fn shift<const N: usize>(mut points: Vec<[f64; N]>, zero: f64, span: f64) -> Vec<[f64; N]> {
    for p in &mut points {
        p[0] -= zero;
    }
    points.retain(|p| (0.0..=span).contains(&p[0]));
    points.sort_by(|a, b| a[0].total_cmp(&b[0]));
    points
}

/// At most one point per step (half a second, or longer so a series has at most
/// [`MAX_POINTS`]): in each step the point with the highest `weight` (the first on ties).
fn downsample<const N: usize>(
    points: Vec<[f64; N]>,
    span: f64,
    weight: impl Fn(&[f64; N]) -> f64,
) -> Vec<[f64; N]> {
    let step = (span / MAX_POINTS as f64).max(MIN_STEP);
    let mut out: Vec<[f64; N]> = Vec::new();
    let mut bucket = None;
    for p in points {
        let b = (p[0] / step).floor() as i64;
        if bucket == Some(b) {
            if let Some(last) = out.last_mut() {
                if weight(&p) > weight(last) {
                    *last = p;
                }
            }
        } else {
            bucket = Some(b);
            out.push(p);
        }
    }
    out.truncate(MAX_POINTS);
    out
}

fn epoch_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_two_points_a_second_and_the_peaks() {
        let points: Vec<[f64; 2]> = (0..600)
            .map(|i| [f64::from(i) / 10.0, f64::from(i % 7)])
            .collect();
        let kept = downsample(points, 60.0, |p| p[1]);
        assert_eq!(kept.len(), 120);
        assert!(
            kept.iter().all(|p| p[1] >= 4.0),
            "the largest value of each step is kept"
        );
        let long: Vec<[f64; 2]> = (0..20_000).map(|i| [f64::from(i), 0.0]).collect();
        assert_eq!(downsample(long, 20_000.0, |_| 0.0).len(), MAX_POINTS);
    }

    #[test]
    fn points_outside_the_window_are_dropped_and_times_made_relative() {
        let shifted = shift(
            vec![[105.0, 1.0], [99.0, 2.0], [101.0, 3.0], [200.0, 4.0]],
            100.0,
            10.0,
        );
        assert_eq!(shifted, vec![[1.0, 3.0], [5.0, 1.0]]);
    }
}

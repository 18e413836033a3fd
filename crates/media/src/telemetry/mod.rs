//! Telemetry as one time series, whatever camera format it came from.
//!
//! Every reader (GoPro GPMF, Novatek `freeGPS`, BlackVue `.gps` / `.3gf`, …) turns its
//! format into [`Telemetry`], so that detection, the server and the player never see a
//! vendor format. Units are SI and axes are the device's own, as the camera measured them.
//!
//! [`read_telemetry`] picks the reader from the file's content; each format also has a
//! lower-level reader working on bytes: [`gpmf`], [`novatek`], [`tesla`], [`blackvue`]
//! (with [`nmea`]), and [`mp4`] for the MP4 containers of all four.
//!
//! Not covered: the many other vendor layouts (other `freeGPS` variants, Nextbase and
//! Garmin subtitle tracks, …); such files give
//! [`Error::Unsupported`].

pub mod blackvue;
pub mod gpmf;
pub mod mp4;
pub mod nmea;
pub mod novatek;
pub mod tesla;

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::ReadAt;

/// Largest sidecar or bare GPMF file read into memory.
const MAX_SIDECAR: u64 = 64 << 20;

/// Reads the telemetry of a recording or sidecar file, choosing the reader from its
/// content: an MP4 (GoPro `gpmd` track, Novatek `freeGPS` blocks, BlackVue embedded logs,
/// Tesla SEI), a bare GPMF
/// stream, a BlackVue `.gps` NMEA log or a BlackVue `.3gf` accelerometer log.
pub fn read_telemetry(path: &Path) -> Result<Telemetry> {
    read_telemetry_from(&File::open(path)?, Some(path))
}

/// Same as [`read_telemetry`] on any positional source (a file, a buffer, ranged reads
/// of an object store); `name` (the original file name, if known) only helps to tell a
/// `.3gf` log by its extension.
pub fn read_telemetry_from<R: ReadAt + ?Sized>(src: &R, name: Option<&Path>) -> Result<Telemetry> {
    let len = src.size()?;
    let mut head = [0u8; 8];
    if len >= 8 {
        src.read_exact_at(&mut head, 0)?;
        if mp4::is_mp4_box_type(&head[4..8]) {
            return mp4::read_mp4(src);
        }
    }
    if len > MAX_SIDECAR {
        return Err(Error::Unsupported(format!(
            "{len} bytes is not an MP4 and too large for a telemetry sidecar (max {MAX_SIDECAR})"
        )));
    }
    let mut data = vec![0u8; len as usize];
    src.read_exact_at(&mut data, 0)?;
    let is_3gf = name
        .and_then(Path::extension)
        .is_some_and(|e| e.eq_ignore_ascii_case("3gf"));
    if data.starts_with(b"DEVC") {
        gpmf::parse_stream(&data)
    } else if data.starts_with(b"[") {
        blackvue::parse_gps(&data)
    } else if is_3gf || blackvue::looks_like_3gf(&data) {
        blackvue::parse_3gf(&data)
    } else {
        Err(Error::Unsupported(
            "not a telemetry format we read (MP4 from GoPro, Novatek, BlackVue or Tesla; GPMF; BlackVue .gps or .3gf)".into(),
        ))
    }
}

/// Everything a recording or sidecar says about motion and position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Telemetry {
    /// Wall-clock time of `t = 0`, when the source says it (GPS time, file name, …).
    pub start: Option<DateTime<Utc>>,
    /// GPS fixes in time order.
    pub gps: Vec<GpsFix>,
    /// Accelerometer samples in m/s², gravity included, device axes, in time order.
    pub accel: Vec<Vec3Sample>,
    /// Gyroscope samples in rad/s, device axes, in time order (empty when the camera has none).
    pub gyro: Vec<Vec3Sample>,
}

/// One three-axis reading at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vec3Sample {
    /// Seconds since the start of the recording (or sidecar) it came from.
    pub t: f64,
    /// x, y, z in the device's axes.
    pub v: [f64; 3],
}

/// One GPS fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    /// Seconds since the start of the recording (or sidecar) it came from.
    pub t: f64,
    /// Wall-clock time of the fix, when the source gives it.
    pub time: Option<DateTime<Utc>>,
    /// Latitude in degrees, WGS 84.
    pub lat: f64,
    /// Longitude in degrees, WGS 84.
    pub lon: f64,
    /// Ground speed in m/s, when known.
    pub speed: Option<f64>,
    /// Course over ground in degrees clockwise from true north, when known.
    pub heading: Option<f64>,
    /// Altitude in metres, when known.
    pub alt: Option<f64>,
}

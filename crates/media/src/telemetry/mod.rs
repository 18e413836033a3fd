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
mod clock;
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
pub use clock::clock_offset;

/// Largest sidecar or bare GPMF file read into memory.
const MAX_SIDECAR: u64 = 64 << 20;

/// Reads the telemetry of a recording or sidecar file, choosing the reader from its
/// content: an MP4 (GoPro `gpmd` track, Novatek `freeGPS` blocks, BlackVue embedded logs,
/// Tesla SEI), a bare GPMF
/// stream, a BlackVue `.gps` NMEA log or a BlackVue `.3gf` accelerometer log.
/// What could not be read is skipped; [`read_parsed`] also says how much.
pub fn read_telemetry(path: &Path) -> Result<Telemetry> {
    read_parsed(path).map(|p| p.telemetry)
}

/// Same as [`read_telemetry`] on any positional source (a file, a buffer, ranged reads
/// of an object store); `name` (the original file name, if known) only helps to tell a
/// `.gps` or `.3gf` log by its extension.
pub fn read_telemetry_from<R: ReadAt + ?Sized>(src: &R, name: Option<&Path>) -> Result<Telemetry> {
    read_parsed_from(src, name).map(|p| p.telemetry)
}

/// Like [`read_telemetry`], with the count of what was skipped, for callers that report
/// damaged files.
pub fn read_parsed(path: &Path) -> Result<Parsed> {
    read_parsed_from(&File::open(path)?, Some(path))
}

/// Like [`read_telemetry_from`], with the count of what was skipped.
///
/// A zero-length file is empty telemetry (cameras leave one when they stop before the
/// first record); a file that is none of the formats is [`Error::Unsupported`].
pub fn read_parsed_from<R: ReadAt + ?Sized>(src: &R, name: Option<&Path>) -> Result<Parsed> {
    let len = src.size()?;
    let mut head = [0u8; 8];
    if len >= 8 {
        src.read_exact_at(&mut head, 0)?;
        if mp4::is_mp4_box_type(&head[4..8]) {
            return mp4::read_mp4(src);
        }
    }
    if len == 0 {
        return Ok(Parsed::default());
    }
    if len > MAX_SIDECAR {
        return Err(Error::Unsupported(format!(
            "{len} bytes is not an MP4 and too large for a telemetry sidecar (max {MAX_SIDECAR})"
        )));
    }
    let mut data = vec![0u8; len as usize];
    src.read_exact_at(&mut data, 0)?;
    let extension = |ext: &str| {
        name.and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    if data.starts_with(b"DEVC") {
        Ok(gpmf::parse_stream(&data))
    } else if extension("gps") || blackvue::looks_like_gps(&data) {
        Ok(blackvue::parse_gps(&data))
    } else if extension("3gf") || blackvue::looks_like_3gf(&data) {
        Ok(blackvue::parse_3gf(&data))
    } else {
        Err(Error::Unsupported(
            "not a telemetry format we read (MP4 from GoPro, Novatek, BlackVue or Tesla; GPMF; BlackVue .gps or .3gf)".into(),
        ))
    }
}

/// Telemetry read from one file, and what the reader went past to read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Everything that could be read.
    pub telemetry: Telemetry,
    /// What could not.
    pub skipped: Skipped,
}

/// The pieces of a file a reader could not read and went past — a line of noise, a
/// damaged sentence, a partial record, a KLV item, a block — so that a caller can say
/// that a file was damaged rather than refuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// How many pieces were skipped.
    pub count: u64,
    /// Where the first one was and what was wrong with it.
    pub first: Option<String>,
}

impl Skipped {
    /// Counts one skipped piece; `problem` is kept if it is the first.
    pub(crate) fn add(&mut self, problem: impl std::fmt::Display) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(problem.to_string());
        }
    }

    /// Adds the pieces another reader skipped.
    pub(crate) fn merge(&mut self, other: Skipped) {
        self.count += other.count;
        if self.first.is_none() {
            self.first = other.first;
        }
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

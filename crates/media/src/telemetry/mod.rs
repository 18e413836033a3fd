//! Telemetry as one time series, whatever camera format it came from.
//!
//! Every reader (GoPro GPMF, Novatek `freeGPS`, BlackVue `.gps` / `.3gf`, …) turns its
//! format into [`Telemetry`], so that detection, the server and the player never see a
//! vendor format. Units are SI and axes are the device's own, as the camera measured them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

//! Incident detection from a dashcam's G-sensor: hard brakes, sudden stops, hard
//! acceleration, sharp turns, swerves and collisions, for a camera mounted in an unknown
//! orientation. It decides which moments of a drive become automatic clips.
//!
//! # Overview
//! - [`Trace`]: the input, accelerometer (m/s², gravity included) with optional gyroscope
//!   (rad/s) and GPS speed (m/s), in the device's own axes; from a CSV
//!   ([`Trace::from_csv`]) or the media crate's telemetry ([`Trace::from_telemetry`]).
//! - [`detect`] / [`Detector`]: validates the trace, resamples it onto a 50 Hz grid
//!   (split at gaps over a second), finds the vertical and the car's forward axis from
//!   the data alone ([`orientation`] says what it assumes), projects the acceleration on
//!   the car's axes, bounds it by the frame-free force of the accelerometer's magnitude
//!   (and, with a gyroscope, raises it to the force sustained beyond ordinary driving
//!   where the yaw rate says which way that force points), and finds [`Event`]s of each
//!   [`IncidentKind`] by their shape ([`manoeuvre`], [`collision`]) with [`Thresholds`]
//!   (published levels and physics, configurable per camera model).
//! - [`ClipWindow`]: 40 s around each event, overlapping windows merged
//!   ([`clip_windows`] says where the window sits and why).
//! - [`eval`]: the real labelled drives the detector is measured on, turned into what a
//!   dashcam at a random mount records (with and without the phone frame's tilt undone),
//!   and the leave-one-trip-out scoring.
//!
//! # Example
//! ```
//! use dashvault_detect::{Detector, Thresholds, Trace};
//!
//! let csv = "t,ax,ay,az\n0.00,0,0,9.81\n0.02,0,0,9.81\n0.04,0,0,9.81\n";
//! let trace = Trace::from_csv(csv.as_bytes())?;
//! let detection = Detector::new(Thresholds::default()).detect(&trace)?;
//! assert!(detection.events.is_empty() && detection.clips.is_empty());
//! # Ok::<(), dashvault_detect::DetectError>(())
//! ```

#![deny(missing_docs)]

mod clips;
pub mod collision;
mod detector;
mod error;
pub mod eval;
mod events;
mod force;
pub mod manoeuvre;
pub mod orientation;
mod signal;
mod thresholds;
mod trace;
mod vector;

pub use clips::{clip_windows, ClipWindow, CLIP_S, PRE_ROLL_S};
pub use detector::{detect, Detection, Detector};
pub use error::{DetectError, Result};
pub use events::{Event, IncidentKind};
pub use orientation::{ForwardSource, Orientation};
pub use thresholds::Thresholds;
pub use trace::{SpeedSample, Trace, G, MIN_IMU_HZ, MIN_SPEED_HZ};

//! Incident detection from a dashcam's G-sensor: hard brakes, sudden stops, hard
//! acceleration, sharp turns, swerves and collisions, for a camera mounted in an unknown
//! orientation.
//!
//! Input is a [`Trace`] (accelerometer with gravity, optional gyroscope and GPS speed, in
//! the device's own axes), from a CSV file or from the media crate's telemetry. The
//! detector finds the vertical and the car's forward axis from the data alone (see
//! [`orientation`] for what it assumes), projects the acceleration on the car's axes,
//! finds [`Event`]s with configurable [`Thresholds`], and turns them into 40 s
//! [`ClipWindow`]s. [`eval`] measures it on real labelled driving data.

#![deny(missing_docs)]

mod clips;
mod detector;
mod error;
pub mod eval;
mod events;
pub mod orientation;
mod signal;
mod thresholds;
mod trace;
mod vector;

pub use clips::{clip_windows, ClipWindow, CLIP_S, PRE_ROLL_S};
pub use detector::{detect, Detection, Detector};
pub use error::{DetectError, Result};
pub use events::{Event, EventKind};
pub use orientation::{ForwardSource, Orientation};
pub use thresholds::Thresholds;
pub use trace::{SpeedSample, Trace, G, MIN_IMU_HZ, MIN_SPEED_HZ};

//! A simulated dashcam: writes what a BlackVue writes on its SD card during a drive, so
//! the agent, the demo and the tests have real-looking recordings with incidents whose
//! true kind and time are known.
//!
//! # Brief overview
//!
//! * [`simulate_camera`] / [`simulate_camera_with`] — a drive of [`Options::minutes`]
//!   into `OUT/Record/`: per minute a road MP4 (`YYYYMMDD_HHMMSS_NF.mp4`, H.264 encoded
//!   in-process, plays in browsers), a cabin MP4 (`…_NI.mp4`) when asked, and the
//!   BlackVue sidecars `…_N.gps` (NMEA) and `…_N.3gf` (accelerometer); then
//!   `OUT/simulation.json`, the ground truth ([`Camera`]). With a capacity, the oldest
//!   recordings are deleted to make room (loop recording).
//! * The motion: a route integrated from speed and heading, launches, cruising, stops at
//!   lights and gentle curves, with the [`Incident`]s asked for ([`IncidentKind`]).
//! * The accelerometer: gravity, a random [`Mount`] (any yaw, a tilt), road vibration,
//!   bias and noise, at 10 Hz, 128 counts per g as BlackVue stores it. The `.3gf` format
//!   has no gyroscope; the detector finds every incident kind from the accelerometer and
//!   the GPS speed of the `.gps` log.
//!
//! * [`Mark`] — recordings the camera itself marks (`E` event, `M` manual) instead of `N`.
//! * [`serve`] — the camera folder over HTTP as a BlackVue or a Viofo/Novatek camera
//!   serves its card on Wi-Fi ([`Api`]), with byte ranges and a connection dropped once
//!   mid-file on request.
//!
//! # Example
//! ```no_run
//! use dashvault_simulate::{parse_incidents, simulate_camera, Options};
//!
//! let mut options = Options::new("/tmp/camera", 10);
//! options.incidents = parse_incidents("hard_brake@130,sharp_turn@340,collision@500")?;
//! let camera = simulate_camera(&options)?;
//! assert_eq!(camera.incidents.len(), 3);
//! # Ok::<(), dashvault_simulate::Error>(())
//! ```

#![deny(missing_docs)]

mod blackvue;
mod camera;
mod drive;
mod error;
mod folder;
mod imu;
mod incident;
mod mark;
mod mp4;
pub mod serve;
mod video;

pub use camera::{
    simulate_camera, simulate_camera_with, Camera, FileKind, IncidentTruth, Options, Progress,
    RecordedFile, TRUTH_FILE,
};
pub use error::{Error, Result};
pub use imu::Mount;
pub use incident::{parse_incidents, Incident, IncidentKind};
pub use mark::{Mark, MarkKind};
pub use serve::{Api, ServeOptions, Served};
pub use video::View;

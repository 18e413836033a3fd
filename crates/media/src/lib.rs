//! MP4 work for dashvault: index, cut, time-lapse, thumbnails and telemetry of dashcam
//! recordings, without re-encoding, safe on untrusted input.

#![deny(missing_docs)]

pub mod telemetry;

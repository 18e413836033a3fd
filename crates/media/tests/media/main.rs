//! Integration tests of the media crate on generated recordings (ffmpeg) and real samples.

mod fixtures;
mod samples;
mod telemetry;
mod thumbnail;

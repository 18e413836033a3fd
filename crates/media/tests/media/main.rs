//! Integration tests of the media crate on generated recordings (ffmpeg) and real samples.

mod browser;
mod cut;
mod fixtures;
mod messy;
mod recover;
mod robustness;
mod samples;
mod telemetry;
mod thumbnail;
mod timelapse;
mod vlc;

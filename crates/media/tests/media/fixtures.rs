//! Test recordings generated with ffmpeg, cached under `target/test-media/`.

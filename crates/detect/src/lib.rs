//! Incident detection from a dashcam's G-sensor: hard brakes, sudden stops, hard
//! acceleration, sharp turns, swerves and collisions, for a camera mounted in an unknown
//! orientation.

#![deny(missing_docs)]

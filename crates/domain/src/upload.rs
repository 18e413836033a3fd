//! The `Upload-Metadata` of a resumable (tus) upload: the keys the agent sends and the
//! server reads, and the values some of them take. What each key means and which are
//! required is the server's to check (its `tus::metadata`); the spelling is here.

/// The metadata keys.
pub mod key {
    /// What the file is: one of [`super::kind`].
    pub const KIND: &str = "kind";
    /// Time of the first frame, RFC 3339.
    pub const START: &str = "start";
    /// Camera view: one of [`super::view`].
    pub const VIEW: &str = "view";
    /// The device's id.
    pub const DEVICE: &str = "device";
    /// Lower-case hex SHA-256 of the whole file.
    pub const SHA256: &str = "sha256";
    /// The file's name as the client has it.
    pub const FILENAME: &str = "filename";
    /// Which clock `start` was read from: one of [`super::clock`].
    pub const CLOCK: &str = "clock";
    /// How a clip came about: one of [`super::clip`].
    pub const CLIP: &str = "clip";
    /// A clip's incidents, JSON `[{"type", "at", "severity"}]`.
    pub const INCIDENTS: &str = "incidents";
    /// A time-lapse's speed (wall-clock seconds per second played).
    pub const SPEED: &str = "speed";
    /// The wall-clock end of what a time-lapse shows, RFC 3339.
    pub const END: &str = "end";
    /// The length of the camera's file a rebuilt recording ends with.
    pub const ORIGINAL_SIZE: &str = "original_size";
}

/// The values of [`key::KIND`].
pub mod kind {
    /// One camera file of a drive.
    pub const RECORDING: &str = "recording";
    /// A clip (automatic or manual).
    pub const CLIP: &str = "clip";
    /// A drive's time-lapse.
    pub const TIMELAPSE: &str = "timelapse";
    /// A camera's telemetry file, kept unchanged.
    pub const SIDECAR: &str = "sidecar";
}

/// The values of [`key::VIEW`].
pub mod view {
    /// Facing the road (the default).
    pub const ROAD: &str = "road";
    /// Facing the cabin.
    pub const CABIN: &str = "cabin";
}

/// The values of [`key::CLOCK`].
pub mod clock {
    /// True UTC: the camera's clock corrected by its GPS time.
    pub const GPS: &str = "gps";
    /// The camera's clock read as local time in the device's time zone.
    pub const DEVICE: &str = "device";
    /// The camera's clock, as it named the file (the default).
    pub const CAMERA: &str = "camera";
}

/// The values of [`key::CLIP`].
pub mod clip {
    /// Made by incident detection.
    pub const AUTO: &str = "auto";
    /// Asked for by the user (the default).
    pub const MANUAL: &str = "manual";
}

//! The agent's one error type: what failed, on which file, and what to do about it.

use crate::state::StateError;
use std::path::PathBuf;

/// Something the agent could not do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A file or folder could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why (in the message, not as a `source`, so that it is printed once).
        error: std::io::Error,
    },
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A video could not be read or cut.
    #[error("{path}: {error}")]
    Media {
        /// The file (or the first file of a cut).
        path: PathBuf,
        /// Why (in the message, not as a `source`, so that it is printed once).
        error: dashvault_media::Error,
    },
    /// A camera on Wi-Fi could not be listed or a file of it fetched.
    #[error(transparent)]
    Camera(#[from] crate::camera::wifi::WifiError),
    /// The request can not be met as given (a clip outside every drive, …).
    #[error("{0}")]
    Request(String),
}

impl AgentError {
    /// True when a camera on Wi-Fi stopped answering (see [`crate::camera::wifi::WifiError::is_unreachable`]).
    pub fn is_camera_unreachable(&self) -> bool {
        matches!(self, AgentError::Camera(e) if e.is_unreachable())
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AgentError {
        let path = path.into();
        move |error| AgentError::Io { path, error }
    }
}

impl From<sqlx::Error> for AgentError {
    fn from(e: sqlx::Error) -> Self {
        AgentError::State(StateError::Database(e))
    }
}

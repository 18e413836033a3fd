//! The simulator's one error type.

/// Why a simulation could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The options ask for something the simulator cannot do; the message says what to change.
    #[error("{0}")]
    Options(String),
    /// Writing the camera folder failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The H.264 encoder failed or produced something unusable.
    #[error("H.264 encoder: {0}")]
    Encoder(String),
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    /// True when the options were refused (the caller can fix them), not a failure.
    pub fn is_options(&self) -> bool {
        matches!(self, Error::Options(_))
    }
}

/// Result with the simulator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The one error type of the crate: every way an input can be refused.

use std::path::PathBuf;

/// Why a trace, a threshold set or a labelled dataset was refused.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A time or a value is NaN or infinite.
    #[error("{stream} sample {index} (t = {t}) is not a finite number")]
    NonFinite {
        /// Which stream: `accel`, `gyro` or `speed`.
        stream: &'static str,
        /// Position of the sample in its stream.
        index: usize,
        /// Its time stamp as given (may itself be the non-finite value).
        t: f64,
    },
    /// A sample is older than the one before it.
    #[error("{stream} time goes backwards at sample {index}: {t} s after {prev} s")]
    TimeBackwards {
        /// Which stream.
        stream: &'static str,
        /// Position of the offending sample.
        index: usize,
        /// Time of the sample before it.
        prev: f64,
        /// Its own, smaller, time.
        t: f64,
    },
    /// A stream is sampled too slowly for detection.
    #[error(
        "{stream} is sampled at {rate_hz:.2} Hz (median step); at least {min_hz} Hz is needed"
    )]
    RateTooLow {
        /// Which stream.
        stream: &'static str,
        /// Its median rate.
        rate_hz: f64,
        /// The lowest rate accepted.
        min_hz: f64,
    },
    /// The accelerometer does not show gravity, so the vertical cannot be found.
    #[error(
        "accelerometer magnitude is {median:.2} (median); expected about 9.81 m/s² with gravity \
         included (is it in g, or is gravity removed?)"
    )]
    NoGravity {
        /// Median magnitude of the accelerometer samples.
        median: f64,
    },
    /// A parked span is not finite or ends before it starts.
    #[error("parked span [{start}, {end}] is not a span of time")]
    Parked {
        /// Its start as given.
        start: f64,
        /// Its end as given.
        end: f64,
    },
    /// A CSV input is malformed.
    #[error("CSV line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A threshold set is unusable.
    #[error("invalid thresholds: {0}")]
    Thresholds(String),
    /// A labelled trip folder is missing a file or is malformed.
    #[error("dataset {}: {message}", path.display())]
    Dataset {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Reading the input failed.
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with [`DetectError`].
pub type Result<T> = std::result::Result<T, DetectError>;

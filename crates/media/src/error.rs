//! The one error type of the media crate.

use std::io;

/// What went wrong while reading, cutting or writing a recording.
///
/// Messages name the box (as a path such as `moov/trak[1]/mdia/minf/stbl/stco`) and the
/// entry that is wrong, so that a bad upload can be explained to its owner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing bytes failed (including an unexpected end of input).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The input is not a well-formed MP4 file; `at` is the box path, `problem` what is wrong.
    #[error("{at}: {problem}")]
    Malformed {
        /// Where in the box tree the problem is, e.g. `moov/trak[0]/mdia/minf/stbl/stsz`.
        at: String,
        /// What is wrong, e.g. `entry 812 points past end of file`.
        problem: String,
    },
    /// The input is not an MP4 or QuickTime file at all; the text says what it looks like
    /// (`"a PNG image"`, `"text"`, …), from its first bytes.
    #[error("not an MP4/MOV file (it looks like {0})")]
    NotMp4(&'static str),
    /// The input is valid MP4 but uses something this crate does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The request itself is wrong (empty window, no files, bad speed…).
    #[error("invalid request: {0}")]
    Request(String),
    /// An error in one of several input files; `file` is its position in the list.
    #[error("file {file}: {source}")]
    InFile {
        /// Index of the file in the list given to the operation.
        file: usize,
        /// The error in that file.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Builds a [`Error::Malformed`] from a box path and a description.
    pub(crate) fn malformed(at: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Malformed {
            at: at.into(),
            problem: problem.into(),
        }
    }

    /// True when the input file is broken or unsupported (as opposed to an I/O failure or a
    /// bad request): the caller should reject the file rather than retry.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Error::Malformed { .. } | Error::NotMp4(_) | Error::Unsupported(_) => true,
            Error::Io(err) => err.kind() == io::ErrorKind::UnexpectedEof,
            Error::InFile { source, .. } => source.is_bad_input(),
            Error::Request(_) => false,
        }
    }

    /// Attaches the index of the input file this error came from.
    pub(crate) fn in_file(self, file: usize) -> Self {
        Error::InFile {
            file,
            source: Box::new(self),
        }
    }
}

/// Result with the media [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

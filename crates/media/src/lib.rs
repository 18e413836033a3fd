//! MP4 work for dashvault: index, cut, time-lapse, thumbnails and telemetry of dashcam
//! recordings, without re-encoding, safe on untrusted input.
//!
//! # Brief overview
//!
//! * [`ReadAt`] — positional reads from a file, a buffer or an object store.
//! * [`Mp4Index`] — the checked index of one file: [`Track`]s and their [`Sample`]s.
//!
//! ```no_run
//! use dashvault_media::Mp4Index;
//! let file = std::fs::File::open("drive.mp4")?;
//! let index = Mp4Index::read(&file)?;
//! println!("{} s, {} tracks", index.duration_seconds(), index.tracks.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod boxes;
mod cut;
mod error;
mod index;
mod nal;
mod plan;
mod source;
pub mod telemetry;
pub mod thumbnail;
mod timelapse;
mod writer;

pub use boxes::{BoxInfo, FourCc};
pub use cut::{cut, timeline};
pub use error::{Error, Result};
pub use index::{Mp4Index, Sample, Track, AUDIO, VIDEO};
pub use plan::{CutPlan, Part, Slice};
pub use source::{ReadAt, SeekReader};
pub use timelapse::{timelapse, Retime, TimelapseOptions};

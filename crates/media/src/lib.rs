//! MP4 work for dashvault: index, cut, time-lapse, thumbnails and telemetry of dashcam
//! recordings, without re-encoding, safe on untrusted input.
//!
//! # Brief overview
//!
//! * [`ReadAt`] — positional reads from a file, a buffer or an object store.
//! * [`Mp4Index`] — the checked index of one file: [`Track`]s and their [`Sample`]s, and
//!   lookup of boxes by path for the telemetry readers.
//! * [`cut()`] — a keyframe-aligned window of consecutive recordings as a [`CutPlan`]: the
//!   header of a progressive MP4 plus byte ranges of the sources, to stream with HTTP
//!   ranges ([`CutPlan::write_range`]) or write with kernel copies ([`CutPlan::write_to`]).
//! * [`timelapse()`] — every Nth keyframe, retimed, as a [`CutPlan`] too.
//! * [`recover()`] — the index of a recording cut off by a power loss, rebuilt from its
//!   sample data with a sibling recording's codec configuration, as a [`CutPlan`] too.
//! * [`telemetry`], [`thumbnail`] — GPS and G-sensor data, and keyframe pictures.
//!
//! ```no_run
//! use dashvault_media::{cut, Mp4Index};
//! let paths = ["0001.mp4", "0002.mp4", "0003.mp4"];
//! let files = paths.iter().map(std::fs::File::open).collect::<Result<Vec<_>, _>>()?;
//! let indexes = files.iter().map(Mp4Index::read).collect::<Result<Vec<_>, _>>()?;
//! // 0:30 to 2:30 of the drive, starting on the keyframe at or before 0:30.
//! let plan = cut(&indexes, 30.0, 150.0)?;
//! let mut out = std::fs::File::create("clip.mp4")?;
//! plan.write_to(&files, &mut out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod boxes;
mod cut;
mod error;
mod index;
mod nal;
mod plan;
mod recover;
mod sample_entry;
mod sniff;
mod source;
pub mod telemetry;
pub mod thumbnail;
mod timelapse;
mod writer;

pub use boxes::{BoxInfo, FourCc};
pub use cut::{cut, cut_samples_only, timeline};
pub use error::{Error, Result};
pub use index::{Mp4Index, Sample, Track, AUDIO, VIDEO};
pub use plan::{CutPlan, Part, Slice};
pub use recover::{recover, recover_keeping_original, AudioRecovery, Recovery};
pub use source::{ReadAt, SeekReader};
pub use timelapse::{timelapse, Retime, TimelapseOptions};

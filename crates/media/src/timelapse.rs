//! Keyframe time-lapse: every Nth keyframe of consecutive recordings, retimed, video only,
//! without re-encoding.

use crate::cut::origins;
use crate::error::{Error, Result};
use crate::index::Mp4Index;
use crate::plan::CutPlan;
use crate::writer::{self, Edit, OutSample, OutTrack, Ranges};

/// Ticks per second of time-lapse output.
const TIMESCALE: u32 = 90_000;

/// How kept keyframes are timed in the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retime {
    /// Each keyframe lasts its distance to the next kept one divided by this factor: the
    /// output lasts the input's duration divided by it.
    Speed(f64),
    /// Each keyframe lasts one frame at this rate (frames per second).
    FrameRate(f64),
}

/// What to keep and how to time it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelapseOptions {
    /// Keep one keyframe in this many (1 keeps them all).
    pub every: usize,
    /// Output timing.
    pub retime: Retime,
}

/// Plans a keyframe time-lapse of the consecutive recordings `files`.
pub fn timelapse(files: &[Mp4Index], options: TimelapseOptions) -> Result<CutPlan> {
    if files.is_empty() {
        return Err(Error::Request("no input file".into()));
    }
    if options.every == 0 {
        return Err(Error::Request("keep every 0th keyframe".into()));
    }
    let factor = match options.retime {
        Retime::Speed(f) | Retime::FrameRate(f) => f,
    };
    if !(factor.is_finite() && factor > 0.0) {
        return Err(Error::Request(format!(
            "speed or frame rate {factor} must be a positive number"
        )));
    }
    let (origins, total) = origins(files)?;
    let mut sources = vec![None; files.len()];
    let mut kept = Vec::new(); // (time on the joint timeline, file, sample)
    let mut seen = 0usize;
    for (i, f) in files.iter().enumerate() {
        let Some(v) = f.video() else { continue };
        sources[i] = Some(v);
        for s in v.samples.iter().filter(|s| s.is_sync) {
            if seen.is_multiple_of(options.every) {
                kept.push((origins[i] + v.seconds(v.pts(s)).max(0.0), i, *s));
            }
            seen += 1;
        }
    }
    if kept.is_empty() {
        return Err(Error::Unsupported("no keyframe in the recordings".into()));
    }
    let ts = f64::from(TIMESCALE);
    let mut samples = Vec::with_capacity(kept.len());
    let mut dts = 0u64;
    let first = kept[0].0;
    for (k, (_, file, s)) in kept.iter().enumerate() {
        let end = match options.retime {
            Retime::Speed(speed) => {
                let next = kept.get(k + 1).map_or(total, |n| n.0);
                ((next - first) / speed * ts).round() as u64
            }
            Retime::FrameRate(fps) => ((k + 1) as f64 / fps * ts).round() as u64,
        };
        let duration = end.saturating_sub(dts).max(1);
        samples.push(OutSample {
            file: *file,
            offset: s.offset,
            size: s.size,
            duration: u32::try_from(duration).unwrap_or(u32::MAX),
            cts_offset: 0,
            is_sync: true,
            entry: s.entry,
        });
        dts = dts.saturating_add(duration);
    }
    let track = OutTrack {
        sources,
        timescale: TIMESCALE,
        samples,
        edit: Edit {
            delay: 0.0,
            media_time: 0,
            duration: dts as f64 / ts,
        },
    };
    writer::build(files, &[track], Ranges::PerRun)
}

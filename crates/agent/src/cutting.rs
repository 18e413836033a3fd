//! Cutting a wall-clock window out of a camera's consecutive files into one MP4 on the
//! phone (no re-encoding, [`dashvault_media::cut`]), and a drive's time-lapse.
//!
//! The files are laid end to end as the media crate does; a camera's files of one drive
//! follow each other without a gap, so the window's offset from the first file's start
//! is also its offset on that joint timeline. The clip starts on the keyframe at or
//! before the window start; its reported start is that keyframe's time.

use crate::error::AgentError;
use crate::phone::{write_atomically, Written};
use chrono::{DateTime, Duration, Utc};
use dashvault_media::{cut, timeline, Mp4Index, Retime, TimelapseOptions};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Playback speed of a drive's time-lapse: 1, real time. The time-lapse keeps only the
/// keyframes (about one frame a second, a fraction of the bytes) and shows each until the
/// next, so it lasts as long as the drive: the server files it as the drive's video from
/// its `start` and its duration (upload metadata has no speed-up factor), and the cloud's
/// drive then spans the whole drive — its route, 2-minute segments and the incidents'
/// places on its timeline match the wall clock. A sped-up video would make a one-hour
/// drive a two-minute one in the cloud.
pub const TIMELAPSE_SPEED: f64 = 1.0;

/// A file made on the phone from camera files.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    /// Time of its first frame.
    pub start: DateTime<Utc>,
    /// Time its last frame ends.
    pub end: DateTime<Utc>,
    /// Its size and hash.
    pub written: Written,
}

/// One source file and its start time (from its name).
pub type Source = (PathBuf, DateTime<Utc>);

fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

fn media(path: &Path) -> impl FnOnce(dashvault_media::Error) -> AgentError + '_ {
    move |error| AgentError::Media {
        path: path.to_owned(),
        error,
    }
}

/// The sources a cut reads, open and indexed.
struct Opened {
    files: Vec<File>,
    indexes: Vec<Mp4Index>,
    /// Each one's start on the wall clock.
    walls: Vec<DateTime<Utc>>,
    /// The first one's path and start time.
    first_path: PathBuf,
    first: DateTime<Utc>,
}

/// Opens and indexes the sources that overlap `[from, to]` (all of them for `None`).
fn open(
    sources: &[Source],
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Opened, AgentError> {
    let (mut files, mut indexes, mut walls, mut first) = (Vec::new(), Vec::new(), Vec::new(), None);
    for (i, (path, start)) in sources.iter().enumerate() {
        if let Some((from, to)) = window {
            // A file ends at the latest where the next one starts: files that can not
            // touch the window are not even opened (a camera card holds thousands).
            let next = sources.get(i + 1).map(|(_, s)| *s);
            if *start >= to || next.is_some_and(|n| n <= from) {
                continue;
            }
        }
        let file = File::open(path).map_err(AgentError::io(path))?;
        let index = Mp4Index::read(&file).map_err(media(path))?;
        let end = *start + Duration::milliseconds((index.duration_seconds() * 1000.0) as i64);
        if let Some((from, to)) = window {
            if end <= from || *start >= to {
                continue;
            }
        }
        first.get_or_insert((path.clone(), *start));
        files.push(file);
        indexes.push(index);
        walls.push(*start);
    }
    let (first_path, first) = first
        .ok_or_else(|| AgentError::Request("no recording on the phone covers that time".into()))?;
    Ok(Opened {
        files,
        indexes,
        walls,
        first_path,
        first,
    })
}

impl Opened {
    /// Where wall-clock time `t` falls on the joint timeline of the files laid end to
    /// end: a time in a gap between files is where the next one starts, so a window over
    /// a gap holds only what was recorded, and nothing after the gap is shifted.
    fn joint(&self, t: DateTime<Utc>) -> f64 {
        self.walls
            .iter()
            .zip(&self.indexes)
            .map(|(wall, index)| seconds(t - *wall).clamp(0.0, index.duration_seconds()))
            .sum()
    }

    /// The wall-clock time of second `s` of the joint timeline whose files start at
    /// `starts` (the inverse of [`Self::joint`]).
    fn wall(&self, starts: &[f64], s: f64) -> DateTime<Utc> {
        let file = starts.iter().rposition(|&at| at <= s).unwrap_or(0);
        let (wall, at) = (self.walls[file], starts.get(file).copied().unwrap_or(0.0));
        wall + Duration::milliseconds(((s - at) * 1000.0).round() as i64)
    }
}

/// Cuts `[from, to]` out of `sources` (in time order) into `out`.
pub fn cut_window(
    sources: &[Source],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &Path,
) -> Result<Made, AgentError> {
    let opened = open(sources, Some((from, to)))?;
    let first_path = opened.first_path.as_path();
    let (from_s, to_s) = (opened.joint(from), opened.joint(to));
    let indexes = &opened.indexes;
    let plan = cut(indexes, from_s, to_s).map_err(media(first_path))?;
    let key = keyframe_at_or_before(indexes, from_s).map_err(media(first_path))?;
    let (starts, _) = timeline(indexes).map_err(media(first_path))?;
    let written = write_atomically(out, |w| {
        let mut w = w;
        plan.write_to(&opened.files, &mut w)
            .map(drop)
            .map_err(std::io::Error::other)
    })
    .map_err(AgentError::io(out))?;
    Ok(Made {
        start: opened.wall(&starts, key),
        end: opened.wall(&starts, key + plan.duration()),
        written,
    })
}

/// Makes the time-lapse of a whole drive into `out`.
pub fn timelapse(sources: &[Source], out: &Path) -> Result<Made, AgentError> {
    let Opened {
        files,
        indexes,
        first_path,
        first,
        ..
    } = open(sources, None)?;
    let first_path = first_path.as_path();
    let plan = dashvault_media::timelapse(
        &indexes,
        TimelapseOptions {
            every: 1,
            retime: Retime::Speed(TIMELAPSE_SPEED),
        },
    )
    .map_err(media(first_path))?;
    let (starts, total) = timeline(&indexes).map_err(media(first_path))?;
    let written = write_atomically(out, |w| {
        let mut w = w;
        plan.write_to(&files, &mut w)
            .map(drop)
            .map_err(std::io::Error::other)
    })
    .map_err(AgentError::io(out))?;
    // It covers its drive on the wall clock: to the end of the last recording (gaps
    // between recordings are left out of the picture, not out of the span).
    let last = starts.last().copied().unwrap_or(0.0);
    let last_start = sources.last().map_or(first, |s| s.1);
    Ok(Made {
        start: first,
        end: last_start + Duration::milliseconds(((total - last) * 1000.0) as i64),
        written,
    })
}

/// Time on the joint timeline of the keyframe a cut from `from` starts on.
fn keyframe_at_or_before(indexes: &[Mp4Index], from: f64) -> dashvault_media::Result<f64> {
    let (starts, _) = timeline(indexes)?;
    let file = starts.iter().rposition(|&s| s <= from).unwrap_or(0);
    let Some(video) = indexes[file].video() else {
        return Ok(starts[file]);
    };
    let origin = starts[file] - video.start_seconds();
    Ok(video
        .samples
        .iter()
        .filter(|s| s.is_sync)
        .map(|s| origin + video.seconds(video.pts(s)))
        .filter(|&t| t <= from + 1e-6)
        .fold(starts[file], f64::max))
}

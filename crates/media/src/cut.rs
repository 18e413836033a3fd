//! Cutting a time window out of consecutive recordings of one camera, without re-encoding.
//!
//! The files are laid end to end on one timeline (each starts where the previous video
//! ends). The output starts on the keyframe at or before the window start, ends at the
//! window end, and keeps the audio of every file at its own time, so that it stays in
//! sync across file boundaries whatever the small differences between audio and video
//! lengths in each file. Only the first video and audio tracks are kept; data tracks
//! (telemetry, timecode) are left out of the output.

use crate::error::{Error, Result};
use crate::index::{Mp4Index, Track};
use crate::plan::CutPlan;
use crate::writer::{self, Edit, OutSample, OutTrack, Ranges};

/// Where each file starts on the joint timeline, in seconds, and where the last one ends.
///
/// Each file lasts from its first to its last shown video frame, and the next file's
/// first frame follows its last one.
pub fn timeline(files: &[Mp4Index]) -> Result<(Vec<f64>, f64)> {
    let (origins, total) = origins(files)?;
    let starts = origins
        .iter()
        .zip(files)
        .map(|(o, f)| o + f.video().map_or(0.0, Track::start_seconds))
        .collect();
    Ok((starts, total))
}

/// For each file, the time on the joint timeline of its presentation time 0 (so that a
/// sample shown at `t` seconds in file `k` is shown at `origins[k] + t`), and the total.
pub(crate) fn origins(files: &[Mp4Index]) -> Result<(Vec<f64>, f64)> {
    let mut origins = Vec::with_capacity(files.len());
    let mut at = 0.0;
    for (i, f) in files.iter().enumerate() {
        let video = f
            .video()
            .ok_or_else(|| Error::Unsupported("no video track".into()).in_file(i))?;
        origins.push(at - video.start_seconds());
        at += video.end_seconds() - video.start_seconds();
    }
    Ok((origins, at))
}

/// Plans the MP4 of the window `[from, to]` (seconds from the start of the first file)
/// over the consecutive recordings `files`. A window running past the end is clamped.
/// Audio is kept when every file the window touches has an audio track.
pub fn cut(files: &[Mp4Index], from: f64, to: f64) -> Result<CutPlan> {
    cut_with(files, from, to, Ranges::PerFile)
}

/// Same as [`cut()`], but the output's `mdat` holds only the bytes of the kept video and
/// audio samples: nothing between them survives (telemetry samples such as GoPro `gpmd`,
/// Novatek `freeGPS` blocks), at the price of more source ranges. For a video that must
/// carry no location, e.g. a shared clip.
pub fn cut_samples_only(files: &[Mp4Index], from: f64, to: f64) -> Result<CutPlan> {
    cut_with(files, from, to, Ranges::PerRun)
}

fn cut_with(files: &[Mp4Index], from: f64, to: f64, ranges: Ranges) -> Result<CutPlan> {
    if files.is_empty() {
        return Err(Error::Request("no input file".into()));
    }
    if !(from.is_finite() && to.is_finite() && from >= 0.0 && from < to) {
        return Err(Error::Request(format!(
            "window {from} s to {to} s is empty or invalid"
        )));
    }
    let (origins, total) = origins(files)?;
    let (file_starts, _) = timeline(files)?;
    let to = to.min(total);
    if from >= to {
        return Err(Error::Request(format!(
            "window starts at {from} s, at or after the end of the recordings ({total:.3} s)"
        )));
    }
    let touched: Vec<usize> = (0..files.len())
        .filter(|&i| {
            let end = file_starts.get(i + 1).copied().unwrap_or(total);
            file_starts[i] < to && end > from
        })
        .collect();
    let (video, key_time) = video(files, &origins, &touched, from, to)?;
    let mut tracks = vec![video];
    if touched.iter().all(|&i| files[i].audio().is_some()) {
        tracks.extend(audio(files, &origins, &touched, key_time, to)?);
    }
    writer::build(files, &tracks, ranges)
}

/// The video track of the window: from the keyframe at or before `from` in the first
/// file touched to the last frame shown before `to`; also returns the keyframe's time.
fn video<'a>(
    files: &'a [Mp4Index],
    origins: &[f64],
    touched: &[usize],
    from: f64,
    to: f64,
) -> Result<(OutTrack<'a>, f64)> {
    let (Some(&first_file), Some(&last_file)) = (touched.first(), touched.last()) else {
        return Err(Error::Request("window touches no file".into()));
    };
    let video_of = |i: usize| {
        files[i]
            .video()
            .ok_or_else(|| Error::Unsupported("no video track".into()).in_file(i))
    };

    // Start keyframe: the last one at or before `from` in the first file touched.
    let v0 = video_of(first_file)?;
    let local = from - origins[first_file];
    let key = v0
        .samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_sync)
        .take_while(|(_, s)| v0.seconds(v0.pts(s)) <= local + 1e-6)
        .last()
        .or_else(|| v0.samples.iter().enumerate().find(|(_, s)| s.is_sync))
        .map(|(i, _)| i)
        .ok_or_else(|| {
            Error::Unsupported("video track has no keyframe".into()).in_file(first_file)
        })?;
    let key_time = origins[first_file] + v0.seconds(v0.pts(&v0.samples[key]));

    // Video: decode-order runs, ending after the last sample shown before `to`.
    let vts = v0.timescale;
    let mut picks = Vec::new(); // (file, sample index range)
    for &i in touched {
        let v = video_of(i)?;
        let begin = if i == first_file { key } else { 0 };
        let end = if i == last_file {
            let local_to = to - origins[i];
            v.samples
                .iter()
                .rposition(|s| v.seconds(v.pts(s)) < local_to - 1e-6)
                .map_or(begin, |p| p + 1)
                .max(begin + 1)
        } else {
            v.samples.len()
        };
        picks.push((i, begin..end));
    }
    let mut video = Vec::new();
    let mut sources = vec![None; files.len()];
    for (i, range) in &picks {
        let v = video_of(*i)?;
        sources[*i] = Some(v);
        for s in v.samples.get(range.clone()).unwrap_or_default() {
            let decode = origins[*i] + v.seconds(v.pts(s).saturating_sub(i64::from(s.cts_offset)));
            video.push((decode, *i, *s, v));
        }
    }
    let first_decode = video.first().map_or(key_time, |v| v.0);
    let mut video_samples = retime(&video, first_decode, vts);
    // Edit list media times cannot be negative: with negative composition offsets
    // (`ctts` version 1), shift every offset up and start the edit later by as much.
    let lowest = video_samples
        .iter()
        .map(|s| s.cts_offset)
        .min()
        .unwrap_or(0)
        .min(0);
    for s in &mut video_samples {
        s.cts_offset = s.cts_offset.saturating_sub(lowest);
    }
    let media_time = ((key_time - first_decode) * f64::from(vts)).round() - f64::from(lowest);
    let video_end = video
        .iter()
        .map(|(_, i, s, v)| origins[*i] + v.seconds(v.pts(s).saturating_add(i64::from(s.duration))))
        .fold(key_time, f64::max);
    let shown = to.min(video_end) - key_time;
    let track = OutTrack {
        sources,
        timescale: vts,
        samples: video_samples,
        edit: Edit {
            delay: 0.0,
            media_time: media_time.max(0.0) as u64,
            duration: shown,
        },
    };
    Ok((track, key_time))
}

/// The audio track of the window `[key_time, to]`, or `None` when it holds no sample.
fn audio<'a>(
    files: &'a [Mp4Index],
    origins: &[f64],
    touched: &[usize],
    key_time: f64,
    to: f64,
) -> Result<Option<OutTrack<'a>>> {
    let mut picked = Vec::new();
    let mut sources = vec![None; files.len()];
    let mut last_end = f64::NEG_INFINITY;
    for &i in touched {
        let Some(a) = files[i].audio() else { continue };
        sources[i] = Some(a);
        for s in &a.samples {
            let start = origins[i] + a.seconds(a.pts(s));
            let dur = a.seconds(i64::from(s.duration));
            // Skip what ends before the window, starts after it, or mostly repeats the
            // end of the previous file (encoder priming).
            if start + dur <= key_time || start >= to || start < last_end - dur / 2.0 {
                continue;
            }
            last_end = start + dur;
            picked.push((start, i, *s, a));
        }
    }
    let Some(&(first_start, ..)) = picked.first() else {
        return Ok(None);
    };
    let ts = picked[0].3.timescale;
    let samples = retime(&picked, first_start, ts);
    let (delay, media_time) = if first_start >= key_time {
        (first_start - key_time, 0)
    } else {
        (
            0.0,
            ((key_time - first_start) * f64::from(ts)).round() as u64,
        )
    };
    let end = picked
        .last()
        .map_or(key_time, |p| p.0 + p.3.seconds(i64::from(p.2.duration)));
    Ok(Some(OutTrack {
        sources,
        timescale: ts,
        samples,
        edit: Edit {
            delay,
            media_time,
            duration: (to.min(end) - key_time - delay).max(0.0),
        },
    }))
}

/// Gives samples output decode times from their times on the joint timeline (so that
/// no drift accumulates across files), in `timescale` ticks from `origin`.
fn retime(
    picked: &[(f64, usize, crate::Sample, &Track)],
    origin: f64,
    timescale: u32,
) -> Vec<OutSample> {
    let ts = f64::from(timescale);
    let ticks: Vec<u64> = picked
        .iter()
        .map(|(t, ..)| ((t - origin) * ts).round().max(0.0) as u64)
        .collect();
    let mut out: Vec<OutSample> = Vec::with_capacity(picked.len());
    let mut dts = 0u64;
    for (k, (_, file, s, track)) in picked.iter().enumerate() {
        let scale = |v: f64| v * ts / f64::from(track.timescale.max(1));
        let own = scale(f64::from(s.duration)).round() as u64;
        let next = ticks.get(k + 1).copied();
        let duration = next.map_or(own, |n| n.saturating_sub(dts)).max(1);
        out.push(OutSample {
            file: *file,
            offset: s.offset,
            size: s.size,
            duration: u32::try_from(duration).unwrap_or(u32::MAX),
            cts_offset: scale(f64::from(s.cts_offset)).round() as i32,
            is_sync: s.is_sync,
            entry: s.entry,
        });
        dts = dts.saturating_add(duration);
    }
    out
}

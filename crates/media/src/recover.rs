//! Recovery of a recording cut off by a power loss: its `moov` was never written (or its
//! `mdat` size was not), so nothing says where its samples are. The index is rebuilt
//! from the sample data itself — length-prefixed H.264/H.265 NAL units grouped into
//! access units — with the codec configuration, timescale and frame rate of a sibling
//! recording of the same camera and view, and written as a new progressive MP4 over
//! the broken file's bytes (which stay untouched).
//!
//! Written by hand: no Rust crate rebuilds an MP4 index from raw sample data (the
//! known tools, `untrunc` and `recover_mp4`, are C++ programs that decode the streams
//! with FFmpeg). This module needs no decoder: NAL unit headers and the first bits of
//! slice headers tell samples, keyframes and display order apart.
//!
//! Audio: chunks of audio lie between runs of video. Compressed audio (AAC) frames
//! carry no length, so they can not be told apart without decoding them; the recovered
//! file then has no audio, and [`Recovery::audio`] says why. Uncompressed audio (PCM,
//! as many dashcams write in QuickTime files) is cut into samples by its frame size.

mod codec;
mod order;
mod scan;

use codec::Codec;
use order::ParameterSets;
use scan::{media_data, Scanner};

use crate::error::{Error, Result};
use crate::index::{Mp4Index, Track};
use crate::nal::{annex_b, AvcConfig, Colour};
use crate::plan::CutPlan;
use crate::source::ReadAt;
use crate::thumbnail::decode_h264;
use crate::writer::{self, Edit, OutSample, OutTrack, Ranges};

/// Codecs of uncompressed audio whose samples are whole frames of fixed size.
const PCM: [[u8; 4]; 5] = [*b"sowt", *b"twos", *b"lpcm", *b"ipcm", *b"raw "];
/// Largest video sample accepted, as a multiple of the sibling's largest.
const SLICE_HEADROOM: u64 = 4;

/// A recovered recording: the plan of the new MP4 over the broken file (file 0 of the
/// plan's sources), and what was found.
#[derive(Debug)]
pub struct Recovery {
    /// The new file: a header written here, then ranges of the broken file.
    pub plan: CutPlan,
    /// Video samples recovered.
    pub video_samples: usize,
    /// Of which keyframes.
    pub keyframes: usize,
    /// Seconds of video recovered.
    pub duration: f64,
    /// What became of the audio.
    pub audio: AudioRecovery,
    /// Bytes of the media data that are in no recovered sample (audio not recovered,
    /// a sample cut off at the end, bytes that are neither).
    pub unused_bytes: u64,
    /// Signs that the reference is not of the same camera settings, so that the result
    /// may not decode (another sibling is the fix): the recording carries parameter sets
    /// the reference's configuration does not have, or (H.264) its first keyframe does
    /// not decode with that configuration.
    pub warnings: Vec<String>,
}

/// What became of the audio of a recovered recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioRecovery {
    /// The sibling has no audio track.
    None,
    /// Recovered as this many samples.
    Recovered(usize),
    /// Left out, for the reason given.
    Skipped(String),
}

/// Rebuilds the index of `broken` from its sample data with the video (and audio)
/// description of `reference`, a complete recording of the same camera and view.
pub fn recover<R: ReadAt + ?Sized>(broken: &R, reference: &Mp4Index) -> Result<Recovery> {
    rebuild(broken, reference, Ranges::PerFile)
}

/// As [`recover()`], but the new file's media data is the whole broken file, unchanged:
/// the file as the camera wrote it is the last [`ReadAt::size`] bytes of the output, so
/// one stored file is both the playable recording and the evidence.
pub fn recover_keeping_original<R: ReadAt + ?Sized>(
    broken: &R,
    reference: &Mp4Index,
) -> Result<Recovery> {
    rebuild(broken, reference, Ranges::Whole)
}

fn rebuild<R: ReadAt + ?Sized>(
    broken: &R,
    reference: &Mp4Index,
    ranges: Ranges,
) -> Result<Recovery> {
    let video = reference
        .video()
        .ok_or_else(|| Error::Request("the reference recording has no video track".into()))?;
    let codec = Codec::of(video.codec).ok_or_else(|| {
        Error::Unsupported(format!(
            "recovering {} video (only H.264 and H.265)",
            video.codec
        ))
    })?;
    let config = match codec {
        Codec::H264 => AvcConfig::parse(&video.config),
        Codec::H265 => AvcConfig::parse_hevc(&video.config),
    }
    .map_err(|p| Error::malformed("reference video configuration", p))?;
    let mut sets = ParameterSets::default();
    for set in &config.parameter_sets {
        sets.add(codec, set);
    }
    let largest = video.samples.iter().map(|s| u64::from(s.size)).max();
    let max_slice = largest.unwrap_or(1 << 20) * SLICE_HEADROOM;
    let data = media_data(broken)?;
    let scanned = Scanner::new(broken, data, codec, config.length_size, max_slice, sets)
        .run(data.start, data.complete)?;
    let mut warnings = Vec::new();
    if scanned
        .parameter_sets
        .iter()
        .any(|set| !config.parameter_sets.contains(set))
    {
        warnings.push(
            "the recording carries parameter sets (SPS/PPS) that the reference's configuration does not have".to_string(),
        );
    }
    let first_sync = scanned.units.iter().position(|u| u.sync).ok_or_else(|| {
        Error::malformed("mdat", "no keyframe found: nothing playable to recover")
    })?;
    let units = &scanned.units[first_sync..];
    if codec == Codec::H264 {
        let key = &units[0];
        let mut sample = vec![0u8; usize::try_from(key.size).unwrap_or(usize::MAX)];
        broken.read_exact_at(&mut sample, key.offset)?;
        let decoded = annex_b(&config.parameter_sets, config.length_size, &sample)
            .and_then(|stream| decode_h264(&stream, Colour::default()));
        if let Err(e) = decoded {
            warnings.push(format!(
                "the first keyframe does not decode with the reference's configuration ({e})"
            ));
        }
    }
    let frame = frame_duration(video);
    let pictures: Vec<_> = units.iter().map(|u| (u.idr, u.slice)).collect();
    let (offsets, delay) =
        order::composition(&pictures).unwrap_or_else(|| (vec![0; units.len()], 0));
    let samples = units
        .iter()
        .zip(&offsets)
        .map(|(u, &offset)| {
            Ok(OutSample {
                file: 0,
                offset: u.offset,
                size: u32::try_from(u.size).map_err(|_| {
                    Error::Unsupported(format!("a sample of {} bytes at {}", u.size, u.offset))
                })?,
                duration: frame,
                cts_offset: i32::try_from(offset * i64::from(frame)).unwrap_or(i32::MAX),
                is_sync: u.sync,
                entry: 0,
            })
        })
        .collect::<Result<Vec<OutSample>>>()?;
    let duration = video.seconds(samples.len() as i64 * i64::from(frame));
    let video_track = OutTrack {
        sources: vec![Some(video)],
        timescale: video.timescale,
        samples,
        edit: Edit {
            delay: 0.0,
            media_time: (delay * i64::from(frame)) as u64,
            duration,
        },
    };
    let video_end = units.last().map_or(data.start, |u| u.offset + u.size);
    let (audio_track, audio) = match reference.audio() {
        None => (None, AudioRecovery::None),
        Some(track) => match pcm_audio(track, &scanned.gaps, video_end, duration) {
            Ok(out) => {
                let n = out.samples.len();
                (Some(out), AudioRecovery::Recovered(n))
            }
            Err(reason) => (None, AudioRecovery::Skipped(reason)),
        },
    };
    let used: u64 = std::iter::once(&video_track)
        .chain(audio_track.as_ref())
        .flat_map(|t| &t.samples)
        .map(|s| u64::from(s.size))
        .sum();
    let video_samples = video_track.samples.len();
    let keyframes = video_track.samples.iter().filter(|s| s.is_sync).count();
    let tracks: Vec<OutTrack<'_>> = std::iter::once(video_track).chain(audio_track).collect();
    let plan = writer::build_over(&[broken.size()?], &tracks, ranges)?;
    Ok(Recovery {
        plan,
        video_samples,
        keyframes,
        duration,
        audio,
        unused_bytes: (data.end - data.start).saturating_sub(used),
        warnings,
    })
}

/// The sibling's frame duration in its ticks: the most common sample duration.
fn frame_duration(video: &Track) -> u32 {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for s in &video.samples {
        match counts.iter_mut().find(|(d, _)| *d == s.duration) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.duration, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(d, n)| (n, d))
        .map_or(1, |(d, _)| d.max(1))
}

/// The audio between the runs of video, when it is uncompressed: each gap before the
/// end of the recovered video becomes one sample of whole frames, up to the video's
/// duration. Compressed audio is refused with the reason.
fn pcm_audio<'a>(
    track: &'a Track,
    gaps: &[(u64, u64)],
    video_end: u64,
    video_seconds: f64,
) -> Result<OutTrack<'a>, String> {
    if !PCM.contains(&track.codec.0) {
        return Err(format!(
            "{} audio frames carry no length, so they can not be told apart from the bytes around them without decoding",
            track.codec
        ));
    }
    let first = track
        .samples
        .first()
        .ok_or("the reference audio track is empty")?;
    if first.duration == 0 || first.size % first.duration != 0 {
        return Err("the reference audio has no fixed frame size".into());
    }
    let frame = u64::from(first.size / first.duration);
    let limit = (video_seconds * f64::from(track.timescale)) as u64;
    let mut ticks = 0u64;
    let mut samples = Vec::new();
    for &(start, end) in gaps.iter().filter(|g| g.1 <= video_end) {
        let frames = ((end - start) / frame).min(limit.saturating_sub(ticks));
        if frames == 0 {
            continue;
        }
        samples.push(OutSample {
            file: 0,
            offset: start,
            size: (frames * frame) as u32,
            duration: frames as u32,
            cts_offset: 0,
            is_sync: true,
            entry: 0,
        });
        ticks += frames;
    }
    Ok(OutTrack {
        sources: vec![Some(track)],
        timescale: track.timescale,
        samples,
        edit: Edit {
            delay: 0.0,
            media_time: 0,
            duration: ticks as f64 / f64::from(track.timescale.max(1)),
        },
    })
}

//! Thumbnails: a JPEG of the first keyframe at or after a time, scaled to a width.
//!
//! Only that keyframe's bytes are read (through the [`Mp4Index`]); its length-prefixed
//! NAL units are turned into an Annex-B stream headed by the parameter sets of the
//! track's `avcC` / `hvcC`, so it decodes on its own.
//!
//! - H.264 is decoded in-process by OpenH264 (the `openh264` crate compiles Cisco's
//!   C++ source with the system C++ compiler at build time; nothing is downloaded or
//!   loaded at run time). What OpenH264 refuses
//!   (interlaced coding, 4:2:2, high bit depth) is handed to ffmpeg as below.
//! - H.265 has no well-kept pure-Rust or bundled decoder, so it falls back to `ffmpeg`
//!   found on `PATH`: the Annex-B keyframe (VPS/SPS/PPS + the frame, typically a few
//!   hundred KiB) is fed to `ffmpeg -f hevc -i pipe:0` on stdin and one PPM frame read
//!   back from stdout; ffmpeg never sees the file. Without ffmpeg this gives
//!   [`Error::Unsupported`] saying so.
//!
//! Colours follow the range and matrix the stream signals (H.264: the SPS VUI, read
//! here; H.265: ffmpeg reads them); when the matrix is not signalled, BT.709 for HD (720
//! lines and more) and BT.601 below. The decoded picture is turned as the track's
//! display matrix says (portrait phone
//! video), then scaled with an area-average (box) filter, aspect ratio kept,
//! and encoded by `jpeg-encoder` at quality 85.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

use crate::error::{Error, Result};
use crate::index::{Mp4Index, Sample, Track};
use crate::nal::{annex_b, h264_sps_colour, nal_units, AvcConfig, Colour};
use crate::source::ReadAt;

/// Default thumbnail width in pixels.
pub const DEFAULT_WIDTH: u32 = 320;
/// Largest thumbnail width accepted.
pub const MAX_WIDTH: u32 = 4096;
/// Largest keyframe read, in bytes.
const MAX_KEYFRAME: u32 = 64 << 20;
/// Largest decoded picture side accepted, in pixels.
const MAX_SIDE: usize = 8192;
/// Largest decoded picture accepted, in pixels (8K UHD): bounds the RGB buffers.
const MAX_PIXELS: usize = 7680 * 4320;
/// Pictures at least this high are HD: BT.709 colours unless told otherwise.
const HD_HEIGHT: usize = 720;
/// Longest an ffmpeg decode of one keyframe may take before it is killed.
const FFMPEG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// JPEG quality, 1–100.
const QUALITY: u8 = 85;

/// An RGB picture, 3 bytes a pixel, rows packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes, row after row.
    pub data: Vec<u8>,
}

/// Makes a JPEG thumbnail of the MP4 at `path`: the first keyframe at or after
/// `at_seconds`, `width` pixels wide.
pub fn thumbnail(path: &Path, at_seconds: f64, width: u32) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let index = Mp4Index::read(&file)?;
    thumbnail_from(&file, &index, at_seconds, width)
}

/// Same as [`thumbnail`] on an already indexed source.
pub fn thumbnail_from<R: ReadAt + ?Sized>(
    src: &R,
    index: &Mp4Index,
    at_seconds: f64,
    width: u32,
) -> Result<Vec<u8>> {
    if !(1..=MAX_WIDTH).contains(&width) {
        return Err(Error::Request(format!(
            "thumbnail width {width} is not within 1..={MAX_WIDTH}"
        )));
    }
    if !at_seconds.is_finite() || at_seconds < 0.0 {
        return Err(Error::Request(format!(
            "thumbnail time {at_seconds} is not a time in the file"
        )));
    }
    let mut picture = decode_keyframe_at(src, index, at_seconds)?;
    let turns = index.video().map_or(0, quarter_turns);
    if turns != 0 {
        picture = rotate(&picture, turns);
    }
    encode_jpeg(&scale(&picture, width as usize)?)
}

/// Quarter turns clockwise asked by the track's display matrix (`tkhd`), as phones write
/// for portrait video; any other matrix (mirror, shear) is shown unrotated.
fn quarter_turns(track: &Track) -> u8 {
    let m = &track.headers.tkhd.matrix;
    match (m.a.signum(), m.b.signum(), m.c.signum(), m.d.signum()) {
        (0, 1, -1, 0) => 1,
        (-1, 0, 0, -1) => 2,
        (0, -1, 1, 0) => 3,
        _ => 0,
    }
}

/// Turns a picture clockwise by `turns` quarter turns.
pub fn rotate(src: &Rgb, turns: u8) -> Rgb {
    let (w, h) = (src.width, src.height);
    let turns = turns % 4;
    if turns == 0 || src.data.len() < w * h * 3 {
        return src.clone();
    }
    let (dw, dh) = if turns == 2 { (w, h) } else { (h, w) };
    let mut data = vec![0u8; dw * dh * 3];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = match turns {
                1 => (h - 1 - y, x),
                2 => (w - 1 - x, h - 1 - y),
                _ => (y, w - 1 - x),
            };
            let from = (y * w + x) * 3;
            let to = (dy * dw + dx) * 3;
            data[to..to + 3].copy_from_slice(&src.data[from..from + 3]);
        }
    }
    Rgb {
        width: dw,
        height: dh,
        data,
    }
}

/// Decodes the first keyframe at or after `at_seconds` of the first video track.
pub fn decode_keyframe_at<R: ReadAt + ?Sized>(
    src: &R,
    index: &Mp4Index,
    at_seconds: f64,
) -> Result<Rgb> {
    let track = index
        .video()
        .ok_or_else(|| Error::Unsupported("no video track to make a thumbnail of".into()))?;
    let (n, sample) = keyframe_at(track, at_seconds)?;
    if sample.size > MAX_KEYFRAME {
        return Err(Error::malformed(
            format!("video track {} sample {n}", track.id),
            format!(
                "keyframe of {} bytes, more than the {MAX_KEYFRAME} accepted",
                sample.size
            ),
        ));
    }
    let mut data = vec![0u8; sample.size as usize];
    src.read_exact_at(&mut data, sample.offset)?;
    let at = || format!("video track {} keyframe {n}", track.id);
    match &track.codec.0 {
        b"avc1" | b"avc3" => {
            let config =
                AvcConfig::parse(&track.config).map_err(|p| Error::malformed(at() + " avcC", p))?;
            let stream = annex_b(&config.parameter_sets, config.length_size, &data)
                .map_err(|p| Error::malformed(at(), p))?;
            let sps = config.parameter_sets.iter().map(Vec::as_slice);
            let in_band = nal_units(&data, config.length_size).filter_map(|n| n.ok());
            let colour = sps
                .chain(in_band)
                .find_map(h264_sps_colour)
                .unwrap_or_default();
            decode_h264(&stream, colour).or_else(|openh264| {
                decode_with_ffmpeg(&stream, "h264").map_err(|ffmpeg| {
                    Error::malformed(at(), format!("{openh264}; ffmpeg fallback: {ffmpeg}"))
                })
            })
        }
        b"hvc1" | b"hev1" => {
            let config = AvcConfig::parse_hevc(&track.config)
                .map_err(|p| Error::malformed(at() + " hvcC", p))?;
            let stream = annex_b(&config.parameter_sets, config.length_size, &data)
                .map_err(|p| Error::malformed(at(), p))?;
            decode_with_ffmpeg(&stream, "hevc")
        }
        _ => Err(Error::Unsupported(format!(
            "thumbnails of {} video",
            track.codec
        ))),
    }
}

/// The first sync sample whose presentation time is at or after `at_seconds`.
fn keyframe_at(track: &Track, at_seconds: f64) -> Result<(usize, &Sample)> {
    let mut last = None;
    for (n, sample) in track.samples.iter().enumerate().filter(|(_, s)| s.is_sync) {
        let t = track.seconds(track.pts(sample));
        if t + 1e-6 >= at_seconds {
            return Ok((n, sample));
        }
        last = Some(t);
    }
    Err(Error::Request(match last {
        Some(t) => format!("no keyframe at or after {at_seconds} s (the last one is at {t:.3} s)"),
        None => "the video track has no keyframe".into(),
    }))
}

/// Decodes one H.264 Annex-B keyframe with OpenH264.
pub(crate) fn decode_h264(stream: &[u8], colour: Colour) -> Result<Rgb, String> {
    let mut decoder = Decoder::new().map_err(|e| format!("H.264 decoder: {e}"))?;
    if let Some(picture) = decoder
        .decode(stream)
        .map_err(|e| format!("H.264 decode: {e}"))?
    {
        return yuv_to_rgb(&picture, colour);
    }
    let frames = decoder
        .flush_remaining()
        .map_err(|e| format!("H.264 decode: {e}"))?;
    match frames.first() {
        Some(picture) => yuv_to_rgb(picture, colour),
        None => Err("H.264 decoder returned no picture for the keyframe".into()),
    }
}

/// Converts a decoded 4:2:0 picture to RGB with the stream's range and matrix; an
/// unsignalled matrix is taken as BT.709 for HD and BT.601 below, as players do.
fn yuv_to_rgb(picture: &impl YUVSource, colour: Colour) -> Result<Rgb, String> {
    let (width, height) = picture.dimensions();
    check_size(width, height)?;
    let matrix = match colour.matrix {
        Some(1) => BT709,
        Some(5 | 6) => BT601,
        _ if height >= HD_HEIGHT => BT709,
        _ => BT601,
    };
    let (ys, us, vs) = picture.strides();
    let (y, u, v) = (picture.y(), picture.u(), picture.v());
    let mut data = vec![0u8; width * height * 3];
    for row in 0..height {
        for col in 0..width {
            let luma = y.get(row * ys + col);
            let cb = u.get(row / 2 * us + col / 2);
            let cr = v.get(row / 2 * vs + col / 2);
            let (Some(&luma), Some(&cb), Some(&cr)) = (luma, cb, cr) else {
                return Err("decoded planes are smaller than the picture".into());
            };
            let px = to_rgb(matrix, colour.full_range, luma, cb, cr);
            let at = (row * width + col) * 3;
            data[at..at + 3].copy_from_slice(&px);
        }
    }
    Ok(Rgb {
        width,
        height,
        data,
    })
}

fn check_size(width: usize, height: usize) -> Result<(), String> {
    if width == 0
        || height == 0
        || width > MAX_SIDE
        || height > MAX_SIDE
        || width * height > MAX_PIXELS
    {
        return Err(format!(
            "decoded picture of {width}x{height} pixels is out of bounds"
        ));
    }
    Ok(())
}

/// YCbCr to RGB coefficients for full-range samples: (Cr→R, Cb→G, Cr→G, Cb→B).
type Matrix = (f32, f32, f32, f32);
/// BT.601 (standard definition).
const BT601: Matrix = (1.402, 0.344_136, 0.714_136, 1.772);
/// BT.709 (HD).
const BT709: Matrix = (1.5748, 0.187_324, 0.468_124, 1.8556);

/// Converts one YCbCr pixel to RGB; limited-range samples are stretched first.
fn to_rgb(m: Matrix, full_range: bool, y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (luma, scale) = if full_range {
        (f32::from(y), 1.0)
    } else {
        ((f32::from(y) - 16.0) * 255.0 / 219.0, 255.0 / 224.0)
    };
    let d = (f32::from(cb) - 128.0) * scale;
    let e = (f32::from(cr) - 128.0) * scale;
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        clamp(luma + m.0 * e),
        clamp(luma - m.1 * d - m.2 * e),
        clamp(luma + m.3 * d),
    ]
}

/// Decodes one Annex-B keyframe with `ffmpeg` (`format` is its demuxer name, e.g. `hevc`);
/// ffmpeg converts to RGB with the range and matrix the stream signals (BT.601 if none).
fn decode_with_ffmpeg(stream: &[u8], format: &str) -> Result<Rgb> {
    let mut child = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            format,
            "-i",
            "pipe:0",
        ])
        .args([
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "ppm",
            "pipe:1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Unsupported(format!(
                "decoding this {format} keyframe needs ffmpeg on PATH: {e}"
            ))
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(Error::Unsupported("could not open pipes to ffmpeg".into()));
    };
    let limit = (MAX_PIXELS * 3 + 64) as u64;
    let (out, err, timed_out) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || stdin.write_all(stream));
        let errors = scope.spawn(move || {
            let mut text = String::new();
            stderr
                .take(64 << 10)
                .read_to_string(&mut text)
                .map(|_| text)
        });
        let (done, finished) = std::sync::mpsc::channel();
        let reader = scope.spawn(move || {
            let mut out = Vec::new();
            let read = stdout.take(limit).read_to_end(&mut out);
            let _ = done.send(());
            read.map(|_| out)
        });
        // A hung ffmpeg is killed, which closes its pipes and ends the threads.
        let timed_out = finished.recv_timeout(FFMPEG_TIMEOUT).is_err();
        if timed_out {
            let _ = child.kill();
        }
        // A write error only means ffmpeg stopped reading; its stderr says why.
        let _ = writer.join();
        let err = errors.join().ok().and_then(|r| r.ok()).unwrap_or_default();
        let out = reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("reader thread panicked")));
        (out, err, timed_out)
    });
    let status = child.wait()?;
    if timed_out {
        return Err(Error::malformed(
            format!("{format} keyframe"),
            format!(
                "ffmpeg did not finish within {} s",
                FFMPEG_TIMEOUT.as_secs()
            ),
        ));
    }
    let out = out?;
    if !status.success() {
        return Err(Error::malformed(
            format!("{format} keyframe"),
            format!("ffmpeg failed ({status}): {}", err.trim()),
        ));
    }
    parse_ppm(&out).map_err(|p| Error::malformed("ffmpeg output", p))
}

/// Binary PPM (`P6 w h 255`), as ffmpeg writes it.
fn parse_ppm(data: &[u8]) -> Result<Rgb, String> {
    let mut fields = Vec::with_capacity(4);
    let mut pos = 0;
    while fields.len() < 4 {
        while data.get(pos).is_some_and(u8::is_ascii_whitespace) {
            pos += 1;
        }
        let start = pos;
        while data.get(pos).is_some_and(|b| !b.is_ascii_whitespace()) {
            pos += 1;
        }
        if start == pos {
            return Err(format!("PPM header ends after {} fields", fields.len()));
        }
        fields.push(std::str::from_utf8(&data[start..pos]).map_err(|_| "PPM header is not text")?);
    }
    pos += 1;
    let num = |s: &str| {
        s.parse::<usize>()
            .map_err(|_| format!("PPM header field {s:?}"))
    };
    if fields[0] != "P6" || num(fields[3])? != 255 {
        return Err(format!("not an 8-bit binary PPM: {fields:?}"));
    }
    let (width, height) = (num(fields[1])?, num(fields[2])?);
    check_size(width, height)?;
    let pixels = data
        .get(pos..pos + width * height * 3)
        .ok_or_else(|| format!("PPM of {width}x{height} is truncated"))?;
    Ok(Rgb {
        width,
        height,
        data: pixels.to_vec(),
    })
}

/// Scales to `width` pixels wide with an area-average filter, aspect ratio kept.
pub fn scale(src: &Rgb, width: usize) -> Result<Rgb> {
    if width == 0
        || src.width == 0
        || src.height == 0
        || src.data.len() < src.width * src.height * 3
    {
        return Err(Error::Request(format!(
            "cannot scale a {}x{} picture to width {width}",
            src.width, src.height
        )));
    }
    let height = ((src.height * width) as f64 / src.width as f64)
        .round()
        .max(1.0) as usize;
    if height > MAX_SIDE {
        return Err(Error::Request(format!(
            "a {}x{} picture scaled to width {width} would be {height} pixels high",
            src.width, src.height
        )));
    }
    let mut data = Vec::with_capacity(width * height * 3);
    for row in 0..height {
        let (y0, y1) = span(row, height, src.height);
        for col in 0..width {
            let (x0, x1) = span(col, width, src.width);
            let mut sum = [0u64; 3];
            for y in y0..y1 {
                let line = &src.data[(y * src.width + x0) * 3..(y * src.width + x1) * 3];
                for px in line.chunks_exact(3) {
                    sum[0] += u64::from(px[0]);
                    sum[1] += u64::from(px[1]);
                    sum[2] += u64::from(px[2]);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            data.extend(sum.iter().map(|s| ((s + n / 2) / n) as u8));
        }
    }
    Ok(Rgb {
        width,
        height,
        data,
    })
}

/// Source pixels `[start, end)` covered by output pixel `i` of `out` (never empty).
fn span(i: usize, out: usize, src: usize) -> (usize, usize) {
    let start = i * src / out;
    let end = ((i + 1) * src / out).max(start + 1).min(src);
    (start.min(src - 1), end)
}

/// Encodes an RGB picture as a baseline JPEG.
pub fn encode_jpeg(picture: &Rgb) -> Result<Vec<u8>> {
    let too_big = || {
        Error::Request(format!(
            "{}x{} is too large for JPEG",
            picture.width, picture.height
        ))
    };
    let w = u16::try_from(picture.width).map_err(|_| too_big())?;
    let h = u16::try_from(picture.height).map_err(|_| too_big())?;
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, QUALITY)
        .encode(&picture.data, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| Error::Request(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_averages_and_keeps_aspect() {
        let src = Rgb {
            width: 4,
            height: 2,
            data: [[0u8, 0, 0], [255, 255, 255]].repeat(4).concat(),
        };
        let out = scale(&src, 2).unwrap();
        assert_eq!((out.width, out.height), (2, 1));
        assert_eq!(out.data, [128; 6]);
        let thin = Rgb {
            width: 1,
            height: 9000,
            data: vec![0; 27_000],
        };
        assert!(scale(&thin, 4096).is_err(), "output height is bounded");
    }

    #[test]
    fn rotate_quarter_turns_clockwise() {
        // 2x1: red, green → turned once clockwise: 1x2, red on top.
        let src = Rgb {
            width: 2,
            height: 1,
            data: vec![255, 0, 0, 0, 255, 0],
        };
        let once = rotate(&src, 1);
        assert_eq!(
            (once.width, once.height, once.data.clone()),
            (1, 2, vec![255, 0, 0, 0, 255, 0])
        );
        let twice = rotate(&src, 2);
        assert_eq!(twice.data, vec![0, 255, 0, 255, 0, 0]);
        let thrice = rotate(&src, 3);
        assert_eq!(
            (thrice.width, thrice.height, thrice.data),
            (1, 2, vec![0, 255, 0, 255, 0, 0])
        );
        assert_eq!(rotate(&once, 3), src);
    }

    #[test]
    fn ppm_header_is_checked() {
        assert!(parse_ppm(b"P6 2 1 255\n\x01\x02").is_err());
        let ok = parse_ppm(b"P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06").unwrap();
        assert_eq!((ok.width, ok.height, ok.data.len()), (2, 1, 6));
    }
}

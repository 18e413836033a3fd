//! The picture: small synthetic frames encoded in-process with OpenH264.
//!
//! To stay fast, a view's video is made of [`GOPS`] distinct one-second groups of pictures,
//! each starting with an IDR frame, encoded once and reused: second `s` of a recording is
//! group `s % GOPS`. The road view shows lane markings scrolling towards the camera; the
//! cabin view a window with trees passing. Both carry a clock: a bar filling across the
//! second and a row of ten blocks with the second's last digit lit.

use openh264::encoder::{
    Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, QpRange, RateControlMode,
};
use openh264::formats::YUVBuffer;
use openh264::OpenH264API;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Frame width and height, pixels.
pub(crate) const WIDTH: usize = 320;
pub(crate) const HEIGHT: usize = 180;
/// Frames per second (one group of pictures per second).
pub(crate) const FPS: u32 = 12;
/// Distinct groups of pictures per view.
pub(crate) const GOPS: usize = 10;
/// Quantiser range: fixed quality, no rate control (which would skip frames).
const QP: (u8, u8) = (26, 30);

/// Which camera of the dashcam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Front camera, BlackVue suffix `F`.
    Road,
    /// Interior camera, BlackVue suffix `I`.
    Cabin,
}

/// A view's encoded groups of pictures.
pub(crate) struct Encoded {
    /// Sequence and picture parameter sets (NAL units without start codes).
    pub sps: Vec<u8>,
    pub pps: Vec<u8>,
    /// [`GOPS`] groups of [`FPS`] samples each, in MP4 form (4-byte length before each
    /// NAL unit), the first of each an IDR picture.
    pub gops: Vec<Vec<Vec<u8>>>,
}

/// Encodes the groups of pictures of a view.
pub(crate) fn encode(view: View) -> Result<Encoded> {
    let config = EncoderConfig::new()
        .max_frame_rate(FrameRate::from_hz(FPS as f32))
        .rate_control_mode(RateControlMode::Off)
        .skip_frames(false)
        .qp(QpRange::new(QP.0, QP.1))
        .intra_frame_period(IntraFramePeriod::from_num_frames(FPS))
        .num_threads(1);
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| Error::Encoder(e.to_string()))?;
    let mut buffer = YUVBuffer::new(WIDTH, HEIGHT);
    let (mut sps, mut pps) = (None, None);
    let mut gops = Vec::with_capacity(GOPS);
    for gop in 0..GOPS {
        let mut samples = Vec::with_capacity(FPS as usize);
        for frame in 0..FPS as usize {
            draw(view, gop, frame, &mut buffer);
            let stream = encoder
                .encode(&buffer)
                .map_err(|e| Error::Encoder(e.to_string()))?;
            let idr = stream.frame_type() == FrameType::IDR;
            if (frame == 0) != idr {
                return Err(Error::Encoder(format!(
                    "frame {frame} of group {gop} is {:?}, expected an IDR picture only at a group's start",
                    stream.frame_type()
                )));
            }
            let mut sample = Vec::new();
            for nal in split_annex_b(&stream.to_vec()) {
                match nal.first().map(|b| b & 0x1f) {
                    Some(7) => keep_first(&mut sps, nal)?,
                    Some(8) => keep_first(&mut pps, nal)?,
                    Some(_) => {
                        sample.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                    None => {}
                }
            }
            if sample.is_empty() {
                return Err(Error::Encoder(format!(
                    "no picture for frame {frame} of group {gop}"
                )));
            }
            samples.push(sample);
        }
        gops.push(samples);
    }
    match (sps, pps) {
        (Some(sps), Some(pps)) => Ok(Encoded { sps, pps, gops }),
        _ => Err(Error::Encoder("no SPS or PPS in the stream".into())),
    }
}

/// Keeps the first parameter set; a different one later would need a second description.
fn keep_first(slot: &mut Option<Vec<u8>>, nal: &[u8]) -> Result<()> {
    match slot {
        Some(first) if first.as_slice() != nal => Err(Error::Encoder(
            "parameter sets changed between groups of pictures".into(),
        )),
        Some(_) => Ok(()),
        None => {
            *slot = Some(nal.to_vec());
            Ok(())
        }
    }
}

/// NAL units of an Annex B byte stream (start codes `00 00 01` or `00 00 00 01`).
fn split_annex_b(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = starts.get(k + 1).map_or(stream.len(), |&next| next - 3);
            // A four-byte start code leaves a zero byte at the end of the unit before it.
            let mut unit = &stream[start..end];
            while let [rest @ .., 0] = unit {
                unit = rest;
            }
            unit
        })
        .collect()
}

/// A pixel colour in Y'CbCr (BT.601, limited range).
type Yuv = (u8, u8, u8);

const SKY: Yuv = (180, 150, 110);
const GRASS: Yuv = (100, 100, 100);
const ROAD: Yuv = (80, 128, 128);
const WHITE: Yuv = (235, 128, 128);
const DARK: Yuv = (40, 128, 128);
const DASH: Yuv = (70, 120, 135);
const TREE: Yuv = (90, 110, 100);
const LIT: Yuv = (150, 60, 190);
const SEAT: Yuv = (60, 118, 140);

/// Draws frame `frame` of group `gop` of a view into `buffer`.
fn draw(view: View, gop: usize, frame: usize, buffer: &mut YUVBuffer) {
    let phase = frame as f64 / f64::from(FPS);
    let (w, h) = (WIDTH, HEIGHT);
    let mut colours = vec![(0u8, 0u8, 0u8); w * h];
    for y in 0..h {
        for x in 0..w {
            colours[y * w + x] = match clock(x, y, gop, phase) {
                Some(c) => c,
                None => match view {
                    View::Road => road(x, y, phase),
                    View::Cabin => cabin(x, y, phase),
                },
            };
        }
    }
    let (luma, chroma) = (w * h, w * h / 4);
    let mut planes = vec![0u8; luma + 2 * chroma];
    for (i, c) in colours.iter().enumerate() {
        planes[i] = c.0;
    }
    for cy in 0..h / 2 {
        for cx in 0..w / 2 {
            let c = colours[2 * cy * w + 2 * cx];
            planes[luma + cy * w / 2 + cx] = c.1;
            planes[luma + chroma + cy * w / 2 + cx] = c.2;
        }
    }
    *buffer = YUVBuffer::from_vec(planes, w, h);
}

/// The clock strip along the bottom: a row of ten blocks (the second's last digit lit)
/// over a bar filling from left to right during the second.
fn clock(x: usize, y: usize, gop: usize, phase: f64) -> Option<Yuv> {
    let (w, h) = (WIDTH, HEIGHT);
    if y >= h - 6 {
        let filled = (x as f64) < (phase + 1.0 / f64::from(FPS)) * w as f64;
        return Some(if filled { WHITE } else { DARK });
    }
    if (h - 18..h - 8).contains(&y) {
        let block = x * GOPS / w;
        let edge = x % (w / GOPS) < 2;
        return Some(if edge {
            DARK
        } else if block == gop {
            LIT
        } else {
            ROAD
        });
    }
    None
}

/// Sky over grass, a road narrowing to the horizon, and lane dashes moving down.
fn road(x: usize, y: usize, phase: f64) -> Yuv {
    let horizon = HEIGHT as f64 * 0.4;
    let (xf, yf) = (x as f64, y as f64);
    if yf < horizon {
        return SKY;
    }
    let depth = yf - horizon + 1.0;
    let centre = WIDTH as f64 / 2.0;
    let half_road = depth * 1.6;
    let offset = (xf - centre).abs();
    if offset > half_road {
        return GRASS;
    }
    if offset > half_road - depth * 0.06 - 1.0 {
        return WHITE;
    }
    // Distance along the road grows as 1/depth; two dashes pass per second.
    let along = 60.0 / depth + 2.0 * phase;
    if offset < depth * 0.04 + 0.5 && along.fract() < 0.5 {
        return WHITE;
    }
    if offset < depth * 0.04 + 0.5 {
        return DASH;
    }
    ROAD
}

/// A dark interior with a side window where trees pass.
fn cabin(x: usize, y: usize, phase: f64) -> Yuv {
    let (xf, yf) = (x as f64, y as f64);
    let in_window = (20.0..140.0).contains(&xf) && (20.0..90.0).contains(&yf);
    if in_window {
        // Trees 40 px apart moving right by one spacing a second.
        let p = (xf - 40.0 * phase).rem_euclid(40.0);
        return if p < 12.0 && yf > 35.0 { TREE } else { SKY };
    }
    let seat = ((xf - 230.0) / 50.0).powi(2) + ((yf - 110.0) / 60.0).powi(2) < 1.0;
    if seat {
        return SEAT;
    }
    DARK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_units_split_on_three_and_four_byte_start_codes() {
        let stream = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4,
        ];
        let units = split_annex_b(&stream);
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
    }

    #[test]
    fn every_group_starts_with_an_idr_and_shares_parameter_sets() {
        let encoded = encode(View::Road).unwrap();
        assert_eq!(encoded.gops.len(), GOPS);
        assert_eq!(encoded.sps[0] & 0x1f, 7);
        assert_eq!(encoded.pps[0] & 0x1f, 8);
        for gop in &encoded.gops {
            assert_eq!(gop.len(), FPS as usize);
            assert_eq!(gop[0][4] & 0x1f, 5, "IDR slice first");
        }
    }
}

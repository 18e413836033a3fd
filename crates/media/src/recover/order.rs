//! Display order of recovered samples: the picture order count of each picture, read
//! from its first slice header with the fields of the parameter sets that header needs,
//! turned into composition offsets (B-frames are shown after the frames they refer to).

use std::collections::HashMap;

use super::codec::Codec;
use crate::nal::{h264_sps, unescape, Bits};

/// The parameter set fields needed to reach `pic_order_cnt_lsb` in a slice header.
#[derive(Debug, Default)]
pub(super) struct ParameterSets {
    /// By SPS id.
    sps: HashMap<u32, SpsFields>,
    /// By PPS id.
    pps: HashMap<u32, PpsFields>,
}

#[derive(Debug, Clone, Copy, Default)]
struct SpsFields {
    log2_max_frame_num: u32,
    poc_type: u32,
    log2_max_poc_lsb: u32,
    frame_mbs_only: bool,
    separate_colour_plane: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct PpsFields {
    sps: u32,
    output_flag: bool,
    extra_bits: u32,
}

/// What a slice header says (H.265: the first slice of a picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct SliceInfo {
    /// H.264 `frame_num`, with the number of its bits.
    pub frame_num: Option<(u32, u32)>,
    /// `pic_order_cnt_lsb`, with the number of its bits; `None` when the order is the
    /// decode order (H.264 POC types 1 and 2) or the picture is an H.265 IDR.
    pub poc_lsb: Option<(u32, u32)>,
}

impl ParameterSets {
    /// Adds a parameter set NAL unit (header included); others are ignored.
    pub fn add(&mut self, codec: Codec, nal: &[u8]) {
        let Some(kind) = codec.kind(nal) else { return };
        match (codec, kind) {
            (Codec::H264, 7) => {
                if let Some(s) = h264_sps(nal) {
                    self.sps.insert(
                        s.id,
                        SpsFields {
                            log2_max_frame_num: s.log2_max_frame_num,
                            poc_type: s.poc_type,
                            log2_max_poc_lsb: s.log2_max_poc_lsb,
                            frame_mbs_only: s.frame_mbs_only,
                            separate_colour_plane: s.separate_colour_plane,
                        },
                    );
                }
            }
            (Codec::H264, 8) | (Codec::H265, 34) => {
                if let Some((id, p)) = pps(codec, nal) {
                    self.pps.insert(id, p);
                }
            }
            (Codec::H265, 33) => {
                if let Some((id, s)) = h265_sps(nal) {
                    self.sps.insert(id, s);
                }
            }
            _ => {}
        }
    }

    /// Whether a slice header can be real: its PPS is known and its slice type valid.
    pub fn slice_is_plausible(&self, codec: Codec, nal: &[u8]) -> bool {
        let rbsp = unescape(nal.get(codec.header_len()..).unwrap_or_default());
        let mut b = Bits::new(&rbsp);
        let mut plausible = || -> Option<bool> {
            match codec {
                Codec::H264 => {
                    b.ue()?;
                    let slice_type = b.ue()?;
                    Some(slice_type <= 9 && self.pps.contains_key(&b.ue()?))
                }
                Codec::H265 => {
                    let kind = codec.kind(nal)?;
                    b.bit()?;
                    if (16..=23).contains(&kind) {
                        b.bit()?;
                    }
                    Some(self.pps.contains_key(&b.ue()?))
                }
            }
        };
        plausible().unwrap_or(false)
    }

    /// Reads a slice header up to its picture order count (H.265: only the first slice
    /// of a picture).
    pub fn slice(&self, codec: Codec, nal: &[u8]) -> Option<SliceInfo> {
        let kind = codec.kind(nal)?;
        let rbsp = unescape(nal.get(codec.header_len()..)?);
        let mut b = Bits::new(&rbsp);
        match codec {
            Codec::H264 => {
                b.ue()?;
                b.ue()?;
                let pps = self.pps.get(&b.ue()?)?;
                let sps = self.sps.get(&pps.sps)?;
                if sps.separate_colour_plane {
                    b.bits(2)?;
                }
                let frame_num = Some((b.bits(sps.log2_max_frame_num)?, sps.log2_max_frame_num));
                if !sps.frame_mbs_only && b.bit()? == 1 {
                    b.bit()?;
                }
                if kind == 5 {
                    b.ue()?;
                }
                let poc_lsb = if sps.poc_type == 0 {
                    Some((b.bits(sps.log2_max_poc_lsb)?, sps.log2_max_poc_lsb))
                } else {
                    None
                };
                Some(SliceInfo { frame_num, poc_lsb })
            }
            Codec::H265 => {
                if b.bit()? != 1 {
                    return None;
                }
                if (16..=23).contains(&kind) {
                    b.bit()?;
                }
                let pps = self.pps.get(&b.ue()?)?;
                let sps = self.sps.get(&pps.sps)?;
                b.bits(pps.extra_bits)?;
                b.ue()?;
                if pps.output_flag {
                    b.bit()?;
                }
                if sps.separate_colour_plane {
                    b.bits(2)?;
                }
                let poc_lsb = if codec.is_idr(kind) {
                    None
                } else {
                    Some((b.bits(sps.log2_max_poc_lsb)?, sps.log2_max_poc_lsb))
                };
                Some(SliceInfo {
                    frame_num: None,
                    poc_lsb,
                })
            }
        }
    }
}

/// `pps_id` and fields of a PPS (H.264 §7.3.2.2, H.265 §7.3.2.3.1).
fn pps(codec: Codec, nal: &[u8]) -> Option<(u32, PpsFields)> {
    let rbsp = unescape(nal.get(codec.header_len()..)?);
    let mut b = Bits::new(&rbsp);
    let id = b.ue()?;
    let sps = b.ue()?;
    let mut fields = PpsFields {
        sps,
        ..PpsFields::default()
    };
    if codec == Codec::H265 {
        b.bit()?; // dependent_slice_segments_enabled_flag: only later slices have it
        fields.output_flag = b.bit()? == 1;
        fields.extra_bits = b.bits(3)?;
    }
    Some((id, fields))
}

/// `sps_id` and POC fields of an H.265 SPS (§7.3.2.2.1, with `profile_tier_level`).
fn h265_sps(nal: &[u8]) -> Option<(u32, SpsFields)> {
    let rbsp = unescape(nal.get(2..)?);
    let mut b = Bits::new(&rbsp);
    b.bits(4)?;
    let sub_layers = b.bits(3)?;
    b.bit()?;
    b.bits(32)?;
    b.bits(32)?;
    b.bits(32)?;
    let mut present = Vec::new();
    for _ in 0..sub_layers {
        present.push((b.bit()? == 1, b.bit()? == 1));
    }
    if sub_layers > 0 {
        b.bits(2 * (8 - sub_layers))?;
    }
    for (profile, level) in present {
        if profile {
            b.bits(32)?;
            b.bits(32)?;
            b.bits(24)?;
        }
        if level {
            b.bits(8)?;
        }
    }
    let id = b.ue()?;
    let mut fields = SpsFields {
        frame_mbs_only: true,
        ..SpsFields::default()
    };
    if b.ue()? == 3 {
        fields.separate_colour_plane = b.bit()? == 1;
    }
    b.ue()?;
    b.ue()?;
    if b.bit()? == 1 {
        for _ in 0..4 {
            b.ue()?;
        }
    }
    b.ue()?;
    b.ue()?;
    fields.log2_max_poc_lsb = b.ue()?.checked_add(4).filter(|&n| n <= 16)?;
    Some((id, fields))
}

/// Composition offsets, in frames, of pictures in decode order, and the delay (frames)
/// to start the presentation with: each picture is shown at its rank by picture order
/// count among the pictures since the last IDR. `pictures` holds, per picture, whether
/// it is an IDR and its slice information; `None` if any picture could not be read, in
/// which case pictures are shown in decode order.
pub(super) fn composition(pictures: &[(bool, Option<SliceInfo>)]) -> Option<(Vec<i64>, i64)> {
    let mut pocs = Vec::with_capacity(pictures.len());
    let (mut prev_lsb, mut prev_msb) = (0i64, 0i64);
    for &(idr, info) in pictures {
        let info = info?;
        let poc = match info.poc_lsb {
            None if idr => 0,
            None => return None,
            Some((lsb, bits)) => {
                let (lsb, max) = (i64::from(lsb), 1i64 << bits);
                let msb = if idr {
                    0
                } else if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
                    prev_msb + max
                } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
                    prev_msb - max
                } else {
                    prev_msb
                };
                (prev_lsb, prev_msb) = (lsb, msb);
                msb + lsb
            }
        };
        if idr && info.poc_lsb.is_none() {
            (prev_lsb, prev_msb) = (0, 0);
        }
        pocs.push(poc);
    }
    let mut shown = vec![0i64; pictures.len()];
    let mut start = 0;
    while start < pictures.len() {
        let end = (start + 1..pictures.len())
            .find(|&i| pictures[i].0)
            .unwrap_or(pictures.len());
        let mut period: Vec<usize> = (start..end).collect();
        period.sort_by_key(|&i| (pocs[i], i));
        for (rank, &i) in period.iter().enumerate() {
            shown[i] = (start + rank) as i64;
        }
        start = end;
    }
    let offsets: Vec<i64> = shown.iter().zip(0..).map(|(&s, d)| s - d).collect();
    let delay = offsets.iter().map(|&o| -o).max().unwrap_or(0).max(0);
    Some((offsets.iter().map(|o| o + delay).collect(), delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poc(lsb: u32) -> Option<SliceInfo> {
        Some(SliceInfo {
            frame_num: None,
            poc_lsb: Some((lsb, 8)),
        })
    }

    #[test]
    fn b_frames_are_shown_after_their_references() {
        // Decode order I0 P6 B2 B4 | I0 P4 B2: display I B B P, twice.
        let pictures = [
            (true, poc(0)),
            (false, poc(6)),
            (false, poc(2)),
            (false, poc(4)),
            (true, poc(0)),
            (false, poc(4)),
            (false, poc(2)),
        ];
        let (offsets, delay) = composition(&pictures).unwrap();
        assert_eq!(delay, 1);
        // Shown at 0 3 1 2 | 4 6 5, decoded at 0..7, plus the delay of one frame.
        assert_eq!(offsets, [1, 3, 0, 0, 1, 2, 0]);
        assert!(composition(&[(true, poc(0)), (false, None)]).is_none());
    }

    #[test]
    fn order_count_wraps() {
        // 4-bit counts: 0, 6, 12, then 2 (= 18) after the wrap.
        let four = |lsb| {
            Some(SliceInfo {
                frame_num: None,
                poc_lsb: Some((lsb, 4)),
            })
        };
        let pictures = [
            (true, four(0)),
            (false, four(6)),
            (false, four(12)),
            (false, four(2)),
        ];
        let (offsets, _) = composition(&pictures).unwrap();
        assert_eq!(offsets, [0, 0, 0, 0]);
    }
}

//! H.264 / H.265 NAL-unit plumbing shared by thumbnails and SEI telemetry: codec
//! configuration records, length-prefixed samples, emulation prevention.

/// Parameter sets and NAL length size of an `avcC` or `hvcC` record.
pub(crate) struct AvcConfig {
    /// Bytes of the length before each NAL unit in a sample (1, 2 or 4).
    pub length_size: usize,
    /// SPS/PPS (and VPS for H.265), in record order.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// Bounds-checked reader over a configuration record.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("needs {n} more bytes, {} left", self.0.len()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn nal(&mut self) -> Result<Vec<u8>, String> {
        let len = self.u16()?;
        Ok(self.take(len)?.to_vec())
    }
}

impl AvcConfig {
    /// No record (`avc3` / `hev1` may carry every parameter set in band): 4-byte lengths.
    const IN_BAND: AvcConfig = AvcConfig {
        length_size: 4,
        parameter_sets: Vec::new(),
    };

    /// `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3).
    pub(crate) fn parse(record: &[u8]) -> Result<Self, String> {
        if record.is_empty() {
            return Ok(Self::IN_BAND);
        }
        let mut c = Cursor(record);
        let head = c.take(5).map_err(|e| format!("record too short: {e}"))?;
        if head[0] != 1 {
            return Err(format!("configuration version {} is not 1", head[0]));
        }
        let length_size = usize::from(head[4] & 3) + 1;
        let mut parameter_sets = Vec::new();
        for _ in 0..(c.u8()? & 0x1f) {
            parameter_sets.push(c.nal()?);
        }
        for _ in 0..c.u8()? {
            parameter_sets.push(c.nal()?);
        }
        Ok(AvcConfig {
            length_size,
            parameter_sets,
        })
    }

    /// `HEVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §8.3.3).
    pub(crate) fn parse_hevc(record: &[u8]) -> Result<Self, String> {
        if record.is_empty() {
            return Ok(Self::IN_BAND);
        }
        let mut c = Cursor(record);
        let head = c.take(23).map_err(|e| format!("record too short: {e}"))?;
        if head[0] != 1 {
            return Err(format!("configuration version {} is not 1", head[0]));
        }
        let length_size = usize::from(head[21] & 3) + 1;
        let mut parameter_sets = Vec::new();
        for _ in 0..head[22] {
            c.u8()?;
            for _ in 0..c.u16()? {
                parameter_sets.push(c.nal()?);
            }
        }
        Ok(AvcConfig {
            length_size,
            parameter_sets,
        })
    }
}

/// Annex-B stream: each parameter set, then each NAL unit of the length-prefixed sample.
pub(crate) fn annex_b(
    parameter_sets: &[Vec<u8>],
    length_size: usize,
    sample: &[u8],
) -> Result<Vec<u8>, String> {
    const START: [u8; 4] = [0, 0, 0, 1];
    let mut out = Vec::with_capacity(sample.len() + 256);
    for set in parameter_sets {
        out.extend_from_slice(&START);
        out.extend_from_slice(set);
    }
    for nal in nal_units(sample, length_size) {
        out.extend_from_slice(&START);
        out.extend_from_slice(nal?);
    }
    Ok(out)
}

/// The NAL units of a length-prefixed sample, in order; an error ends the walk.
pub(crate) fn nal_units(
    sample: &[u8],
    length_size: usize,
) -> impl Iterator<Item = Result<&[u8], String>> {
    let mut rest = sample;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || rest.is_empty() {
            return None;
        }
        let Some(prefix) = rest.get(..length_size) else {
            failed = true;
            return Some(Err(format!(
                "truncated NAL length ({} bytes left)",
                rest.len()
            )));
        };
        let len = prefix
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let Some(nal) = rest.get(length_size..length_size + len) else {
            failed = true;
            return Some(Err(format!(
                "NAL unit of {len} bytes overruns the sample ({} left)",
                rest.len() - length_size
            )));
        };
        rest = &rest[length_size + len..];
        Some(Ok(nal))
    })
}

/// Removes emulation-prevention bytes (`00 00 03` → `00 00`) from a NAL unit payload.
pub(crate) fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut zeros = 0;
    for &b in data {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// How an H.264 stream says its YCbCr samples map to colours (SPS VUI `video_signal_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Colour {
    /// Samples use the full 0–255 range rather than 16–235.
    pub full_range: bool,
    /// `matrix_coefficients` (1 = BT.709, 5/6 = BT.601), when the stream says it.
    pub matrix: Option<u8>,
}

/// MSB-first bit reader with Exp-Golomb codes, over an unescaped RBSP.
pub(crate) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    /// A reader at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    pub(crate) fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }

    pub(crate) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some((1u32 << zeros) - 1 + self.bits(zeros)?)
    }

    pub(crate) fn se(&mut self) -> Option<i64> {
        let v = i64::from(self.ue()?);
        Some(if v % 2 == 1 { (v + 1) / 2 } else { -v / 2 })
    }
}

/// What an H.264 SPS says that this crate uses: the colour signalling (thumbnails) and
/// the fields needed to read a slice header up to its picture order count (recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct H264Sps {
    /// `seq_parameter_set_id`.
    pub id: u32,
    /// `separate_colour_plane_flag` (4:4:4 coded as three planes).
    pub separate_colour_plane: bool,
    /// Bits of `frame_num` in slice headers.
    pub log2_max_frame_num: u32,
    /// `pic_order_cnt_type`: 0 (the order is in each slice), 1 or 2 (decode order).
    pub poc_type: u32,
    /// Bits of `pic_order_cnt_lsb` (with `poc_type` 0).
    pub log2_max_poc_lsb: u32,
    /// `frame_mbs_only_flag`: no field pictures.
    pub frame_mbs_only: bool,
    /// Colour signalling from the VUI.
    pub colour: Colour,
}

/// Reads the colour signalling of an H.264 SPS NAL unit (header byte included). `None`
/// when the SPS is cut short or malformed; the default (limited range, unknown matrix)
/// when it has no VUI.
pub(crate) fn h264_sps_colour(nal: &[u8]) -> Option<Colour> {
    h264_sps(nal).map(|sps| sps.colour)
}

/// Reads an H.264 SPS NAL unit (header byte included), walking the fields of
/// ISO/IEC 14496-10 §7.3.2.1.1 up to the VUI's colour description. `None` when it is
/// cut short or malformed.
pub(crate) fn h264_sps(nal: &[u8]) -> Option<H264Sps> {
    if nal.first()? & 0x1f != 7 {
        return None;
    }
    let rbsp = unescape(nal.get(1..)?);
    let mut b = Bits::new(&rbsp);
    let mut sps = H264Sps::default();
    let profile = b.bits(8)?;
    b.bits(16)?;
    sps.id = b.ue()?;
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        let chroma_format = b.ue()?;
        if chroma_format == 3 {
            sps.separate_colour_plane = b.bit()? == 1;
        }
        b.ue()?;
        b.ue()?;
        b.bit()?;
        if b.bit()? == 1 {
            for i in 0..if chroma_format == 3 { 12 } else { 8 } {
                if b.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + b.se()? + 256) % 256;
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    sps.log2_max_frame_num = b.ue()?.checked_add(4).filter(|&n| n <= 16)?;
    sps.poc_type = b.ue()?;
    match sps.poc_type {
        0 => {
            sps.log2_max_poc_lsb = b.ue()?.checked_add(4).filter(|&n| n <= 16)?;
        }
        1 => {
            b.bit()?;
            b.se()?;
            b.se()?;
            for _ in 0..b.ue()?.min(255) {
                b.se()?;
            }
        }
        _ => {}
    }
    b.ue()?;
    b.bit()?;
    b.ue()?;
    b.ue()?;
    sps.frame_mbs_only = b.bit()? == 1;
    if !sps.frame_mbs_only {
        b.bit()?;
    }
    b.bit()?;
    if b.bit()? == 1 {
        for _ in 0..4 {
            b.ue()?;
        }
    }
    if b.bit()? == 0 {
        return Some(sps);
    }
    if b.bit()? == 1 && b.bits(8)? == 255 {
        b.bits(32)?;
    }
    if b.bit()? == 1 {
        b.bit()?;
    }
    if b.bit()? == 0 {
        return Some(sps);
    }
    b.bits(3)?;
    sps.colour.full_range = b.bit()? == 1;
    if b.bit()? == 1 {
        b.bits(16)?;
        sps.colour.matrix = Some(b.bits(8)? as u8);
    }
    Some(sps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_rejects_overrunning_nal() {
        assert!(annex_b(&[], 4, &[0, 0, 0, 9, 1, 2]).is_err());
        assert!(annex_b(&[], 4, &[0, 0]).is_err());
        let out = annex_b(&[vec![0x67]], 4, &[0, 0, 0, 2, 0x65, 0x88]).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x67, 0, 0, 0, 1, 0x65, 0x88]);
    }

    #[test]
    fn bad_config_records_are_errors() {
        assert!(AvcConfig::parse(&[2]).is_err());
        assert!(AvcConfig::parse(&[1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 9, 0x67]).is_err());
        assert!(AvcConfig::parse_hevc(&[1; 10]).is_err());
    }

    /// Colour signalling of the SPS of shared samples; oracle: ffprobe's `color_range`
    /// and `color_space` (pc = full range; bt709 = 1, smpte170m = 6; unknown = none).
    #[test]
    fn sps_colour_of_real_samples() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/media-samples/");
        for (name, full_range, matrix) in [
            ("gopro__gpmf-parser/hero7.mp4", true, Some(1)),
            ("jcodec__jcodec/itunes.mov", true, Some(6)),
            ("Eyevinn__mp4ff/h264.mp4", false, None),
            ("Eyevinn__mp4ff/bbb_prog_10s.mp4", false, None),
        ] {
            let file = std::fs::File::open(format!("{dir}{name}"))
                .expect("media sample in testdata/media-samples");
            let index = crate::Mp4Index::read(&file).unwrap();
            let config = AvcConfig::parse(&index.video().unwrap().config).unwrap();
            let colour = config
                .parameter_sets
                .iter()
                .find_map(|s| h264_sps_colour(s));
            assert_eq!(colour, Some(Colour { full_range, matrix }), "{name}");
        }
        assert_eq!(h264_sps_colour(&[0x67, 0x64]), None, "truncated SPS");
        assert_eq!(h264_sps_colour(&[0x68, 0xff]), None, "not an SPS");
    }

    #[test]
    fn unescape_drops_emulation_prevention() {
        assert_eq!(
            unescape(&[0, 0, 3, 1, 0, 0, 3, 0, 3]),
            [0, 0, 1, 0, 0, 0, 3]
        );
    }
}

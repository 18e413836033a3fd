//! What the header of an H.264 or H.265 NAL unit says: whether it is one a camera
//! writes, its type, and where access units (samples) begin (ISO/IEC 14496-10 §7.4.1.2.3,
//! ISO/IEC 23008-2 §7.4.2.4.4).

use crate::boxes::FourCc;

/// The video codec of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    H264,
    H265,
}

impl Codec {
    /// The codec of a sample description (`avc1`/`avc3`, `hvc1`/`hev1`).
    pub fn of(codec: FourCc) -> Option<Codec> {
        match &codec.0 {
            b"avc1" | b"avc3" => Some(Codec::H264),
            b"hvc1" | b"hev1" => Some(Codec::H265),
            _ => None,
        }
    }

    /// Bytes of the NAL unit header.
    pub fn header_len(self) -> usize {
        match self {
            Codec::H264 => 1,
            Codec::H265 => 2,
        }
    }

    /// The type of the NAL unit starting with `nal`, when its header is one a camera
    /// writes (forbidden bit clear; a slice, SEI, parameter set, delimiter or end; for
    /// H.264 a `nal_ref_idc` its type allows, for H.265 layer 0).
    pub fn kind(self, nal: &[u8]) -> Option<u8> {
        let b0 = *nal.first()?;
        if b0 & 0x80 != 0 {
            return None;
        }
        match self {
            Codec::H264 => {
                let kind = b0 & 0x1f;
                let referenced = b0 & 0x60 != 0;
                let allowed = match kind {
                    1 => true,
                    5 | 7 | 8 => referenced,
                    6 | 9..=12 => !referenced,
                    _ => false,
                };
                allowed.then_some(kind)
            }
            Codec::H265 => {
                let b1 = *nal.get(1)?;
                let kind = (b0 >> 1) & 0x3f;
                let layer = ((b0 & 1) << 5) | (b1 >> 3);
                let temporal = b1 & 7;
                let known = matches!(kind, 0..=9 | 16..=21 | 32..=40);
                (known && layer == 0 && temporal > 0).then_some(kind)
            }
        }
    }

    /// A coded slice (video coding layer).
    pub fn is_vcl(self, kind: u8) -> bool {
        match self {
            Codec::H264 => matches!(kind, 1 | 5),
            Codec::H265 => kind < 32,
        }
    }

    /// A slice of a picture decoding can start at (IDR; for H.265 any IRAP).
    pub fn is_sync(self, kind: u8) -> bool {
        match self {
            Codec::H264 => kind == 5,
            Codec::H265 => (16..=21).contains(&kind),
        }
    }

    /// A slice of a picture that resets the picture order count (IDR).
    pub fn is_idr(self, kind: u8) -> bool {
        match self {
            Codec::H264 => kind == 5,
            Codec::H265 => matches!(kind, 19 | 20),
        }
    }

    /// A sequence or picture parameter set (or H.265 video parameter set).
    pub fn is_parameter_set(self, kind: u8) -> bool {
        match self {
            Codec::H264 => matches!(kind, 7 | 8),
            Codec::H265 => matches!(kind, 32..=34),
        }
    }

    /// A non-slice unit that, after a slice, opens the next access unit: a delimiter,
    /// a parameter set or a (prefix) SEI.
    pub fn opens_access_unit(self, kind: u8) -> bool {
        match self {
            Codec::H264 => matches!(kind, 6..=9),
            Codec::H265 => matches!(kind, 32..=35 | 39),
        }
    }

    /// True for the first slice of a picture: `first_mb_in_slice` is 0 (H.264), or
    /// `first_slice_segment_in_pic_flag` is set (H.265): the first bit after the header.
    pub fn is_first_slice(self, nal: &[u8]) -> bool {
        nal.get(self.header_len()).is_some_and(|b| b & 0x80 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_cameras_write() {
        let h264 = Codec::H264;
        assert_eq!(h264.kind(&[0x65]), Some(5), "IDR slice");
        assert_eq!(h264.kind(&[0x05]), None, "IDR never unreferenced");
        assert_eq!(h264.kind(&[0x06]), Some(6), "SEI");
        assert_eq!(h264.kind(&[0x26]), None, "SEI never referenced");
        assert_eq!(h264.kind(&[0xe5]), None, "forbidden bit");
        let h265 = Codec::H265;
        assert_eq!(h265.kind(&[0x26, 0x01]), Some(19), "IDR_W_RADL");
        assert_eq!(h265.kind(&[0x26, 0x00]), None, "temporal id 0");
        assert_eq!(h265.kind(&[0x27, 0x01]), None, "layer 1");
        assert_eq!(h265.kind(&[0x40, 0x01]), Some(32), "VPS");
        assert!(h265.is_first_slice(&[0x02, 0x01, 0x80]));
        assert!(!h264.is_first_slice(&[0x41, 0x7f]));
    }
}

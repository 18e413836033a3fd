//! Tesla dashcam clips (firmware 2025.44.25 or later, HW3+): one protobuf record per
//! video frame, carried in an H.264 SEI message just before the frame's slices.
//!
//! Framing, as in Tesla's public `sei_extractor.py` (github.com/teslamotors/dashcam): an
//! SEI NAL unit (type 6) holding a `user_data_unregistered` message (payload type 5)
//! whose payload starts with a run of `0x42` bytes then `0x69` ("BBB…i"), followed by a
//! `SeiMetadata` protobuf message (their `dashcam.proto`). Fields read here:
//! `vehicle_speed_mps` (4, float), `latitude_deg` / `longitude_deg` / `heading_deg`
//! (11–13, double) and `linear_acceleration_mps2_x/y/z` (14–16, double).
//!
//! The record's time is the presentation time of the frame it precedes. A fix is made
//! when the position is valid and not (0, 0); a run of frames at the same position (GPS
//! updates less often than frames) gives one fix, the first. The acceleration is passed
//! on as Tesla reports it, in m/s² in the vehicle's axes; whether it includes gravity is
//! not documented, and we have no real clip to check — the tests build clips from the
//! published schema. No wall-clock time is in the record, so `time` and `start` stay
//! unset.
//!
//! Written by hand: a protobuf runtime and code generation for five fields of one
//! message would cost more than the hundred lines below.

use crate::error::{Error, Result};
use crate::nal::unescape;
use crate::telemetry::{GpsFix, Telemetry, Vec3Sample};

/// What one Tesla SEI record says.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SeiRecord {
    /// Vehicle speed in m/s.
    pub speed: Option<f64>,
    /// Latitude in degrees.
    pub lat: Option<f64>,
    /// Longitude in degrees.
    pub lon: Option<f64>,
    /// Heading in degrees from north.
    pub heading: Option<f64>,
    /// Acceleration along the vehicle's x, y, z in m/s².
    pub accel: [Option<f64>; 3],
}

/// The protobuf bytes of a Tesla SEI NAL unit (header byte included), or `None` when the
/// NAL unit is not one.
pub fn sei_payload(nal: &[u8]) -> Option<Vec<u8>> {
    if nal.first().is_none_or(|h| h & 0x1f != 6) {
        return None;
    }
    let body = unescape(nal.get(1..)?);
    let mut pos = 0;
    let mut read_ff_coded = || {
        let mut value = 0usize;
        loop {
            let b = *body.get(pos)?;
            pos += 1;
            value += usize::from(b);
            if b != 0xff {
                return Some(value);
            }
        }
    };
    let kind = read_ff_coded()?;
    let size = read_ff_coded()?;
    if kind != 5 {
        return None;
    }
    let payload = body.get(pos..pos.checked_add(size)?)?;
    let run = payload.iter().take_while(|&&b| b == 0x42).count();
    if run == 0 || payload.get(run) != Some(&0x69) {
        return None;
    }
    Some(payload.get(run + 1..)?.to_vec())
}

/// Decodes a `SeiMetadata` protobuf message.
pub fn decode_record(proto: &[u8]) -> Result<SeiRecord> {
    let bad = |problem: String| Error::malformed("Tesla SEI", problem);
    let mut rec = SeiRecord::default();
    let mut pos = 0;
    while pos < proto.len() {
        let tag =
            varint(proto, &mut pos).ok_or_else(|| bad(format!("bad field tag at byte {pos}")))?;
        let (field, wire) = (tag >> 3, tag & 7);
        let fixed = |pos: &mut usize, n: usize| -> Result<u64> {
            let bytes = proto
                .get(*pos..*pos + n)
                .ok_or_else(|| bad(format!("field {field} truncated at byte {pos}")))?;
            *pos += n;
            Ok(bytes
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        };
        let value = match wire {
            0 => {
                varint(proto, &mut pos).ok_or_else(|| bad(format!("field {field}: bad varint")))?;
                continue;
            }
            1 => f64::from_bits(fixed(&mut pos, 8)?),
            2 => {
                let len = varint(proto, &mut pos)
                    .ok_or_else(|| bad(format!("field {field}: bad length")))?;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                pos = pos
                    .checked_add(len)
                    .filter(|&end| end <= proto.len())
                    .ok_or_else(|| bad(format!("field {field}: {len} bytes past the end")))?;
                continue;
            }
            5 => f64::from(f32::from_bits(fixed(&mut pos, 4)? as u32)),
            other => return Err(bad(format!("field {field}: unknown wire type {other}"))),
        };
        let value = value.is_finite().then_some(value);
        match field {
            4 => rec.speed = value,
            11 => rec.lat = value,
            12 => rec.lon = value,
            13 => rec.heading = value,
            14..=16 => rec.accel[(field - 14) as usize] = value,
            _ => {}
        }
    }
    Ok(rec)
}

fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Finds the Tesla record among the NAL units that precede the first slice of a video
/// sample, given the sample's first bytes (enough to hold those units).
pub(crate) fn record_in_sample_prefix(
    prefix: &[u8],
    length_size: usize,
) -> Result<Option<SeiRecord>> {
    let mut rest = prefix;
    while let (Some(len), Some(&header)) = (rest.get(..length_size), rest.get(length_size)) {
        let len = len
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        match header & 0x1f {
            1 | 5 => break,
            6 => {
                let nal = rest.get(length_size..length_size + len).ok_or_else(|| {
                    Error::malformed(
                        "Tesla SEI",
                        format!("SEI NAL unit of {len} bytes is larger than expected"),
                    )
                })?;
                if let Some(proto) = sei_payload(nal) {
                    return decode_record(&proto).map(Some);
                }
            }
            _ => {}
        }
        rest = rest.get(length_size + len..).unwrap_or_default();
    }
    Ok(None)
}

/// Adds the record of the frame shown at `t` seconds to `out`.
pub(crate) fn add_record(rec: &SeiRecord, t: f64, out: &mut Telemetry) {
    if let [Some(x), Some(y), Some(z)] = rec.accel {
        out.accel.push(Vec3Sample { t, v: [x, y, z] });
    }
    let (Some(lat), Some(lon)) = (rec.lat, rec.lon) else {
        return;
    };
    if lat.abs() > 90.0 || lon.abs() > 180.0 || (lat == 0.0 && lon == 0.0) {
        return;
    }
    if out.gps.last().is_some_and(|f| f.lat == lat && f.lon == lon) {
        return;
    }
    out.gps.push(GpsFix {
        t,
        time: None,
        lat,
        lon,
        speed: rec.speed,
        heading: rec.heading,
        alt: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_fields_and_skips_unknown_ones() {
        let mut proto = vec![0x08, 0x01, 0x25];
        proto.extend_from_slice(&12.5f32.to_le_bytes());
        proto.push(0x59);
        proto.extend_from_slice(&37.5f64.to_le_bytes());
        proto.extend_from_slice(&[0x1a, 0x02, 0xaa, 0xbb]);
        let rec = decode_record(&proto).unwrap();
        assert_eq!(
            (rec.speed, rec.lat, rec.lon),
            (Some(12.5), Some(37.5), None)
        );
        assert!(decode_record(&proto[..proto.len() - 1]).is_err());
        assert!(decode_record(&[0x5b]).is_err(), "wire type 3 is refused");
    }

    #[test]
    fn corrupted_records_never_panic() {
        let mut proto = vec![0x25, 0, 0, 0x48, 0x41, 0x59];
        proto.extend_from_slice(&37.5f64.to_le_bytes());
        let mut seed = 0x1234_5678_u32;
        for _ in 0..5000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut bad = proto.clone();
            let at = seed as usize % bad.len();
            bad[at] = (seed >> 8) as u8;
            let _ = decode_record(&bad);
            let _ = decode_record(&bad[..at]);
            let _ = sei_payload(&bad);
        }
    }

    #[test]
    fn finds_the_payload_behind_the_uuid() {
        // Payload of 20 bytes: "BBBBBBBBBBBBBBBi" then 08 00 00 01, escaped as 08 00 00 03 01.
        let mut nal = vec![0x06, 0x05, 20];
        nal.extend_from_slice(&[0x42; 15]);
        nal.push(0x69);
        nal.extend_from_slice(&[0x08, 0x00, 0x00, 0x03, 0x01]);
        nal.push(0x80);
        assert_eq!(sei_payload(&nal), Some(vec![0x08, 0x00, 0x00, 0x01]));
        nal[1] = 4;
        assert_eq!(sei_payload(&nal), None);
        assert_eq!(sei_payload(&[0x06, 0x05, 0xff]), None);
    }
}
